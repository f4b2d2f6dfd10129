"""A member's own reports: the list, one report in full, correcting and withdrawing."""

from __future__ import annotations

from bot.flows.menu import menu_for
from bot.flows.reports import ReportKind, answers_from_content, reporter_for
from bot.forms.conversations import Conversations, Refusal, texts_for
from bot.forms.engine import start_at_summary
from bot.forms.render import answer_lines
from bot.rules.access import Action, actor_for, check
from bot.runtime.services import Sender, Services
from bot.ui import formatting
from bot.ui.buttons import pack, verb_and_number
from bot.ui.catalogue import Texts
from bot.ui.screens import Button, Reply, Screen
from storage import people, reports, units
from storage.db import Tx
from storage.entities import Report, ReportState

PAGE_SIZE = 8
PREFIX = "my"
LINE_PREVIEW = 60
BUTTON_PREVIEW = 28



def _data(verb: str, arg: int) -> str:
    return pack(PREFIX, verb, arg)


def parse(data: str) -> tuple[str, int] | None:
    return verb_and_number(data, PREFIX)


class MyReports:
    def __init__(self, services: Services, conversations: Conversations,
                 kind: ReportKind) -> None:
        self.services = services
        self.conversations = conversations
        self.kind = kind

    async def listing(self, sender: Sender, page: int = 0) -> Reply:
        async with self.services.db.transaction() as tx:
            t = await texts_for(tx, self.services, sender.user_id)
            try:
                who = await reporter_for(tx, sender.user_id)
            except Refusal as refusal:
                return Reply((Screen(t(refusal.key)),))
            total = await reports.count_reports_of_person(tx, who.person.id)
            lines = await reports.reports_of_person(tx, who.person.id, PAGE_SIZE,
                                                    page * PAGE_SIZE)
            pending_draft = await self.conversations.has_draft(tx, sender.user_id)
            menu = await menu_for(tx, self.services, sender.user_id, t)
        if not lines:
            return Reply((Screen(t("my.empty"), menu=menu),))
        first = page * PAGE_SIZE + 1
        body = [t("my.title", first=first, last=first + len(lines) - 1, total=total)]
        keyboard = []
        for number, line in enumerate(lines, start=first):
            body.append(t("my.line", number=number, date=formatting.day(line.deed_date),
                          field=line.field, state=t(f"report.state.{line.state.value}"),
                          preview=formatting.preview(line.description, LINE_PREVIEW)))
            label = f"{number}. {formatting.day_month(line.deed_date)} · " + formatting.preview(
                line.description, BUTTON_PREVIEW)
            keyboard.append((Button(label, _data("open", line.id)),))
        paging = []
        if page > 0:
            paging.append(Button(t.plain("my.newer"), _data("page", page - 1)))
        if first + len(lines) - 1 < total:
            paging.append(Button(t.plain("my.older"), _data("page", page + 1)))
        if paging:
            keyboard.append(tuple(paging))
        if pending_draft is not None:
            body.append(t("form.draft_kept"))
        return Reply((Screen("\n".join(body), tuple(keyboard)),), replace=True)

    async def _own_report(self, tx: Tx, sender: Sender, report_id: int) -> Report | Reply:
        """The report if it is the sender's own, else the refusal (logged). Button data comes
        from the client, so a report id is checked against its owner every time."""
        report = await reports.get_report(tx, report_id)
        if report is None:
            t = await texts_for(tx, self.services, sender.user_id)
            return Reply(toast=t.plain("my.not_found"))
        actor = await actor_for(tx, self.services, sender.user_id)
        refusal = await check(tx, self.services, actor, Action.OWN_REPORT, report.unit_id,
                              report.person_id, pressed=True)
        return refusal or report

    async def _details(self, tx: Tx, sender: Sender, report: Report, t: Texts,
                       photos: bool = True) -> Screen:
        unit = await units.get_unit(tx, report.unit_id)
        if unit is None:
            raise Refusal("my.not_found")
        ctx = await self.kind.context_in(tx, self.services, unit, report.person_id)
        head = t("my.detail_title", date=formatting.day(report.content.deed_date),
                 state=t(f"report.state.{report.state.value}"))
        lines = [head, *answer_lines(self.kind.form, answers_from_content(report.content),
                                     ctx, t)]
        if report.entered_by != report.person_id:
            enterer = await people.get_person(tx, report.entered_by)
            if enterer is not None:
                lines.append(t("behalf.entered_by", name=enterer.full_name))
        if report.state is ReportState.NEEDS_MORE and report.leader_note:
            lines.append(t("my.leader_note", note=report.leader_note))
        buttons: list[tuple[Button, ...]] = []
        if report.state.editable_by_author:
            buttons.append((Button(t.plain("my.edit"), _data("edit", report.id)),
                            Button(t.plain("my.withdraw"), _data("withdraw", report.id))))
        buttons.append((Button(t.plain("my.back_to_list"), _data("page", 0)),))
        shown = tuple(p.file_id for p in report.content.photos) if photos else ()
        return Screen("\n".join(lines), tuple(buttons), photos=shown)

    async def act(self, sender: Sender, update_id: int, data: str) -> Reply:
        """Any press on a button of the list or of a report."""
        parsed = parse(data)
        if parsed is not None and parsed[0] == "page":
            return await self.listing(sender, parsed[1])
        async with self.services.db.transaction() as tx:
            t = await texts_for(tx, self.services, sender.user_id)
            if not parsed:
                return Reply(toast=t.plain("my.not_found"))
            report = await self._own_report(tx, sender, parsed[1])
            if isinstance(report, Reply):
                return report
            verb = parsed[0]
            if verb == "open":
                return Reply((await self._details(tx, sender, report, t),))
            if verb == "keep":
                kept = await self._details(tx, sender, report, t, photos=False)
                return Reply((kept,), replace=True)
            if not report.state.editable_by_author:
                current = await self._details(tx, sender, report, t, photos=False)
                return Reply((current,), replace=True,
                             toast=t.plain("report.no_longer_editable"))
            if verb == "edit":
                state = start_at_summary(answers_from_content(report.content), report.id)
                return await self.conversations.begin(tx, sender, update_id, "report", t,
                                                      state=state)
            if verb == "withdraw":
                confirm = (Button(t.plain("my.withdraw_yes"), _data("withdraw_yes", report.id)),
                           Button(t.plain("my.withdraw_no"), _data("keep", report.id)))
                return Reply((Screen(t("my.withdraw_confirm"), (confirm,)),), replace=True)
            if verb == "withdraw_yes":
                await reports.withdraw_report(tx, report.id, self.services.now())
                menu = await menu_for(tx, self.services, sender.user_id, t)
                return Reply((Screen(t("my.withdrawn"), menu=menu),), close=True)
            return Reply(toast=t.plain("my.not_found"))
