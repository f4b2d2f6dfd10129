"""📋 Việc đã báo cáo (/my): a member's own reports, one report in full, correcting and
withdrawing. Every press names a report by id and is checked against its author again."""

from __future__ import annotations

from dataclasses import replace

from bot.flows.menu import menu_now
from bot.flows.reports import ReportKind, answers_from_content, reporter_of
from bot.forms.conversations import Conversations, Refusal
from bot.forms.engine import start_at_summary
from bot.forms.render import answer_lines
from bot.rules.access import Action, Request
from bot.ui import formatting
from bot.ui.buttons import ButtonData, Id, Page
from bot.ui.screens import Button, Reply, Screen
from storage import people, reports, units
from storage.entities import Report, ReportState

PAGE_SIZE = 8
LINE_PREVIEW = 60
BUTTON_PREVIEW = 28
STALE = "my.not_found"


class ListPage(ButtonData, prefix="my:page", action=Action.OWN_REPORT):
    page: Page


class OpenReport(ButtonData, prefix="my:open", action=Action.OWN_REPORT):
    report: Id


class KeepReport(ButtonData, prefix="my:keep", action=Action.OWN_REPORT):
    """"Không rút": the report again, in place of the question."""

    report: Id


class CorrectReport(ButtonData, prefix="my:edit", action=Action.OWN_REPORT):
    report: Id


class AskWithdraw(ButtonData, prefix="my:withdraw", action=Action.OWN_REPORT):
    report: Id


class Withdraw(ButtonData, prefix="my:withdraw_yes", action=Action.OWN_REPORT):
    report: Id


OnReport = OpenReport | KeepReport | CorrectReport | AskWithdraw | Withdraw
Press = ListPage | OnReport
BUTTONS = (ListPage, OpenReport, KeepReport, CorrectReport, AskWithdraw, Withdraw)


class MyReports:
    def __init__(self, conversations: Conversations, kind: ReportKind) -> None:
        self.conversations = conversations
        self.kind = kind

    async def open(self, req: Request, page: int = 0) -> Reply:
        t = req.t
        try:
            who = await reporter_of(req)
        except Refusal as refusal:
            return Reply((Screen(t(refusal.key)),))
        total = await reports.count_reports_of_person(req.tx, who.person.id)
        lines = await reports.reports_of_person(req.tx, who.person.id, PAGE_SIZE,
                                                page * PAGE_SIZE)
        if not lines:
            return Reply((Screen(t("my.empty"), menu=await menu_now(req)),))
        first = page * PAGE_SIZE + 1
        body = [t("my.title", first=first, last=first + len(lines) - 1, total=total)]
        keyboard: list[tuple[Button, ...]] = []
        for number, line in enumerate(lines, start=first):
            body.append(t("my.line", number=number, date=formatting.day(line.deed_date),
                          field=line.field, state=t(f"report.state.{line.state.value}"),
                          preview=formatting.preview(line.description, LINE_PREVIEW)))
            label = f"{number}. {formatting.day_month(line.deed_date)} · " + formatting.preview(
                line.description, BUTTON_PREVIEW)
            keyboard.append((Button(label, OpenReport(line.id).pack()),))
        paging = []
        if page > 0:
            paging.append(Button(t.plain("my.newer"), ListPage(page - 1).pack()))
        if first + len(lines) - 1 < total:
            paging.append(Button(t.plain("my.older"), ListPage(page + 1).pack()))
        if paging:
            keyboard.append(tuple(paging))
        kept = await self.conversations.kept_note(req)
        if kept is not None:
            body.append(kept)
        return Reply((Screen("\n".join(body), tuple(keyboard)),), replace=True)

    async def _own_report(self, req: Request, press: OnReport) -> Report | Reply:
        """The report if it is the requester's own, else the refusal (logged). Button data
        comes from the client, so a report id is checked against its owner every time."""
        report = await reports.get_report(req.tx, press.report)
        if report is None:
            return Reply(toast=req.t.plain("my.not_found"))
        refusal = await req.check(press.action, report.unit_id, report.person_id, pressed=True)
        return refusal or report

    async def _details(self, req: Request, report: Report, photos: bool = True) -> Screen:
        t = req.t
        unit = await units.get_unit(req.tx, report.unit_id)
        if unit is None:
            raise Refusal("my.not_found")
        ctx = await self.kind.context_in(req, unit, report.person_id)
        head = t("my.detail_title", date=formatting.day(report.content.deed_date),
                 state=t(f"report.state.{report.state.value}"))
        lines = [head, *answer_lines(self.kind.form, answers_from_content(report.content),
                                     ctx, t)]
        if report.entered_by != report.person_id:
            enterer = await people.get_person(req.tx, report.entered_by)
            if enterer is not None:
                lines.append(t("behalf.entered_by", name=enterer.full_name))
        if report.state is ReportState.NEEDS_MORE and report.leader_note:
            lines.append(t("my.leader_note", note=report.leader_note))
        buttons: list[tuple[Button, ...]] = []
        if report.state.editable_by_author:
            buttons.append((Button(t.plain("my.edit"), CorrectReport(report.id).pack()),
                            Button(t.plain("my.withdraw"), AskWithdraw(report.id).pack())))
        buttons.append((Button(t.plain("my.back_to_list"), ListPage(0).pack()),))
        shown = tuple(p.file_id for p in report.content.photos) if photos else ()
        return Screen("\n".join(lines), tuple(buttons), photos=shown)

    async def _asked(self, req: Request, report: Report, reply: Reply) -> Reply:
        """The correction of a report sent back for more opens with what the leader asked
        (unless another form under way is shown instead)."""
        if report.state is not ReportState.NEEDS_MORE or not report.leader_note \
                or not reply.screens:
            return reply
        draft = await self.conversations.has_draft(req)
        if draft is None or draft.form != "report" or draft.state.get("target") != report.id:
            return reply
        first, *rest = reply.screens
        note = req.t("my.leader_note", note=report.leader_note)
        return replace(reply, screens=(replace(first, text=f"{note}\n\n{first.text}"), *rest))

    async def press(self, req: Request, press: Press) -> Reply:
        """Any press on a button of the list or of a report."""
        if isinstance(press, ListPage):
            return await self.open(req, press.page)
        report = await self._own_report(req, press)
        if isinstance(report, Reply):
            return report
        t = req.t
        if isinstance(press, OpenReport):
            return Reply((await self._details(req, report),))
        if isinstance(press, KeepReport):
            return Reply((await self._details(req, report, photos=False),), replace=True)
        if not report.state.editable_by_author:
            current = await self._details(req, report, photos=False)
            return Reply((current,), replace=True, toast=t.plain("report.no_longer_editable"))
        if isinstance(press, CorrectReport):
            state = start_at_summary(answers_from_content(report.content), report.id)
            return await self._asked(req, report,
                                     await self.conversations.begin(req, "report", state=state))
        if isinstance(press, AskWithdraw):
            confirm = (Button(t.plain("my.withdraw_yes"), Withdraw(report.id).pack()),
                       Button(t.plain("my.withdraw_no"), KeepReport(report.id).pack()))
            return Reply((Screen(t("my.withdraw_confirm"), (confirm,)),), replace=True)
        await reports.withdraw_report(req.tx, report.id, req.now)
        return Reply((Screen(t("my.withdrawn"), menu=await menu_now(req)),), close=True)
