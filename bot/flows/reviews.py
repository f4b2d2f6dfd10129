"""The leader's queue (/review, "✅ Ghi nhận báo cáo"): the reports waiting, one at a time,
oldest first, to acknowledge (ghi nhận), to send back with a note (đề nghị bổ sung) or to
hold up as an example (⭐ Nêu gương); and the recently acknowledged ones, to reopen with a
reason. What waits is the counting rules' one definition (a pending report); those sent back
wait for their authors and are only counted.

The leaders hear of the queue on their own (`ReviewNotices`, through the deliveries ledger):
the one who asked for more is told when the member sends the report again, and each leader gets
at most one notice a day, at the hour the unit sets in /schedule, when something waits. Both
are private: none in the quiet hours, held to the morning; none to a leader who left.

Every press is authorised again against the report's real unit and author. A report can change
between the moment it is shown and the press (another leader acknowledged it, its author
withdrew or corrected it): the state change is conditional and the button carries a
fingerprint of the content shown, so nothing is decided on a version the leader did not see.
"Ghi nhận tất cả … vừa xem" acknowledges the reports recorded as shown to this leader in this
pass (storage/reviews.py), never a list carried in the button.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from bot.flows.my_reports import CorrectReport
from bot.flows.reports import ReportKind, answers_from_content
from bot.flows.settings import REVIEW_NOTICES_OFF
from bot.forms.conversations import Conversations, Refusal
from bot.forms.engine import DraftState, FormContext
from bot.forms.render import answer_lines
from bot.forms.spec import Field, FieldType, Form
from bot.rules import deliveries
from bot.rules.access import Action, Request, actor_for, permits, units_in_reach
from bot.rules.deliveries import Outgoing
from bot.rules.schedules import RESUBMITTED, REVIEW_DAILY, Due, held_until
from bot.runtime.config import Settings
from bot.runtime.services import Services
from bot.ui import formatting
from bot.ui.buttons import Between, ButtonData, Id, Token
from bot.ui.catalogue import Catalogue, Markup, Texts
from bot.ui.screens import Button, Reply, Screen
from storage import audit, drafts, reports, reviews, units
from storage import deliveries as ledger
from storage.db import Tx
from storage.entities import Draft, Person, Report, ReportState

ACK_ALL_FROM = 2  # "Ghi nhận tất cả" once the leader has seen this many waiting reports
RECENT_DAYS = 30
RECENT_LIMIT = 10
BUTTON_PREVIEW = 24
STALE = "review.unknown_button"
Notices = tuple[tuple[int, Screen], ...]

NOTE_MAX = 1000
ASK_MORE_FORM = Form("review_ask", (Field("note", FieldType.LONG_TEXT, min=3, max=NOTE_MAX),),
                     summary=False)
REOPEN_FORM = Form("review_reopen", (Field("note", FieldType.LONG_TEXT, min=3, max=NOTE_MAX),),
                   summary=False)

Version = Annotated[str, Token(8, re.compile(r"[0-9a-f]{8}"))]  # see `fingerprint`
Zero = Annotated[int, Between(0, 0)]


class Acknowledge(ButtonData, prefix="rv:ack", action=Action.ACKNOWLEDGE):
    report: Id
    version: Version


class AskMore(ButtonData, prefix="rv:ask", action=Action.ASK_MORE):
    report: Id
    version: Version


class Highlight(ButtonData, prefix="rv:star", action=Action.HIGHLIGHT):
    report: Id


class OpenDecided(ButtonData, prefix="rv:open", action=Action.REVIEW):
    """A recently acknowledged report, in full."""

    report: Id


class Reopen(ButtonData, prefix="rv:reopen", action=Action.REOPEN):
    report: Id


class NextReport(ButtonData, prefix="rv:next", action=Action.REVIEW):
    """The waiting report after this one."""

    report: Id


class FromStart(ButtonData, prefix="rv:first", action=Action.REVIEW):
    zero: Zero


class Recent(ButtonData, prefix="rv:done", action=Action.REVIEW):
    """The reports acknowledged lately."""

    zero: Zero


class AcknowledgeSeen(ButtonData, prefix="rv:all", action=Action.ACKNOWLEDGE):
    """"Ghi nhận tất cả … vừa xem": those shown in this pass (kept by the bot, not here)."""

    pass_id: Id


OnReport = Acknowledge | AskMore | Highlight | OpenDecided | Reopen
Press = OnReport | NextReport | FromStart | Recent | AcknowledgeSeen
BUTTONS = (Acknowledge, AskMore, Highlight, OpenDecided, Reopen, NextReport, FromStart, Recent,
           AcknowledgeSeen)


def fingerprint(report: Report) -> str:
    """Eight hex digits that change whenever the report's content does."""
    return hashlib.blake2s(report.content.model_dump_json().encode(), digest_size=4).hexdigest()


def _back_row(t: Texts) -> tuple[Button, ...]:
    return (Button(t.plain("review.back_to_recent"), Recent(0).pack()),
            Button(t.plain("review.back_to_queue"), FromStart(0).pack()))


@dataclass(frozen=True)
class Desk:
    """A leader at the queue: their request, their person, the units whose reports they
    review."""

    req: Request
    person: Person
    unit_ids: tuple[int, ...]

    @property
    def t(self) -> Texts:
        return self.req.t


async def desk_for(req: Request, pressed: bool = False,
                   target: tuple[Action, Report] | None = None) -> Desk | Reply:
    """The leader's desk, or the polite refusal for anyone who reviews nothing, logged against
    the report the press names (`target`) or else against the person's own unit."""
    actor, t = req.actor, req.t
    reach = await req.reach(Action.REVIEW)
    if not reach:
        if target is not None:
            action, report = target
            refusal = await req.check(action, report.unit_id, report.person_id, pressed=pressed)
        else:
            home = actor.memberships[0].unit_id if actor.memberships else 0
            refusal = await req.check(Action.REVIEW, home, pressed=pressed)
        return refusal or Reply((Screen(t("access.denied")),))
    if actor.person is None:
        # An admin who is nobody in the tree: a review names its reviewer.
        return Reply(toast=t.plain("review.no_person")) if pressed else Reply(
            (Screen(t("review.no_person")),))
    return Desk(req, actor.person, tuple(u.id for u in reach))


async def _state_problem(tx: Tx, report: Report, viewer: int | None) -> tuple[str, dict]:
    """What to tell a leader about a report no longer in the state they acted on."""
    if report.state is ReportState.ACKNOWLEDGED:
        by = await reviews.last_review(tx, report.id, (reviews.ACKNOWLEDGED,))
        if by is None:
            return "review.already_acknowledged_unnamed", {}
        if by.person_id == viewer:
            return "review.already_acknowledged_by_you", {}
        return "review.already_acknowledged", {"name": by.reviewer_name}
    if report.state is ReportState.NEEDS_MORE:
        by = await reviews.last_review(tx, report.id, (reviews.NEEDS_MORE, reviews.REOPEN))
        if by is None:
            return "review.already_asked_unnamed", {}
        return "review.already_asked", {"name": by.reviewer_name}
    if report.state is ReportState.WITHDRAWN:
        return "review.withdrawn", {}
    return "review.now_pending", {}


class QueueView:
    """The screens of the queue and of the acknowledged reports, as one leader sees them."""

    def __init__(self, settings: Settings, report_kind: ReportKind) -> None:
        self.settings = settings
        self.report_kind = report_kind

    @staticmethod
    async def _pass(desk: Desk) -> int:
        tx = desk.req.tx
        current = await reviews.current_pass(tx, desk.person.id)
        if current is None:
            current = await reviews.start_pass(tx, desk.person.id, desk.req.now)
        return current

    async def _body(self, desk: Desk, report: Report) -> list[str]:
        """Everything about the report but the title: unit, details, who entered it."""
        t, tx = desk.t, desk.req.tx
        unit = await units.get_unit(tx, report.unit_id)
        lines: list[str] = []
        if unit is None:
            return lines
        if len(desk.unit_ids) > 1:
            lines.append(t("review.unit", unit=unit.name))
        ctx = await self.report_kind.context_in(desk.req, unit, report.person_id)
        answers = answers_from_content(report.content)
        for shown_in_title in ("deed_date", "field"):
            answers.pop(shown_in_title, None)
        lines += answer_lines(self.report_kind.form, answers, ctx, t)
        if report.entered_by != report.person_id:
            enterer = await reviews.someone(tx, report.entered_by)
            lines.append(t("review.entered_by", name=name_or_unknown(t, enterer)))
        if await reviews.is_highlighted(tx, report.id):
            lines.append(t("review.highlighted"))
        return lines

    @staticmethod
    async def name_of(tx: Tx, t: Texts, person_id: int) -> str:
        return name_or_unknown(t, await reviews.someone(tx, person_id))

    @staticmethod
    def _action_row(t: Texts, report: Report) -> tuple[Button, ...]:
        version = fingerprint(report)
        return (Button(t.plain("review.acknowledge"), Acknowledge(report.id, version).pack()),
                Button(t.plain("review.ask_more"), AskMore(report.id, version).pack()))

    @staticmethod
    async def _star(tx: Tx, t: Texts, report: Report) -> Button:
        on = await reviews.is_highlighted(tx, report.id)
        label = t.plain("review.unhighlight") if on else t.plain("review.highlight")
        return Button(label, Highlight(report.id).pack())

    async def _ack_all_row(self, desk: Desk) -> list[tuple[Button, ...]]:
        pass_id = await self._pass(desk)
        seen = len(await reviews.seen_pending(desk.req.tx, pass_id))
        if seen < ACK_ALL_FROM:
            return []
        return [(Button(desk.t.plain("review.ack_all", count=seen),
                        AcknowledgeSeen(pass_id).pack()),)]

    async def report_screen(self, desk: Desk, report: Report,
                            queue: Sequence[reviews.QueueEntry] | None = None,
                            note: str | None = None, photos: bool = True) -> Screen:
        """One waiting report, with its place in the queue; it counts as seen from now."""
        t, tx = desk.t, desk.req.tx
        if queue is None:
            queue = await reviews.pending_queue(tx, desk.unit_ids, desk.person.id)
        ids = [entry.id for entry in queue]
        if report.id not in ids:
            return await self.detail_screen(desk, report, note, photos)
        await reviews.mark_seen(tx, await self._pass(desk), report.id, fingerprint(report),
                                desk.req.now)
        title = t("review.title", position=ids.index(report.id) + 1, total=len(ids),
                  name=await self.name_of(tx, t, report.person_id),
                  date=formatting.day(report.content.deed_date), field=report.content.field)
        lines = [*([note] if note else []), title, *await self._body(desk, report)]
        second = [await self._star(tx, t, report)]
        if len(ids) > 1:
            second.append(Button(t.plain("review.next"), NextReport(report.id).pack()))
        buttons = [self._action_row(t, report), tuple(second),
                   *await self._ack_all_row(desk),
                   (Button(t.plain("review.recent"), Recent(0).pack()),)]
        shown = tuple(p.file_id for p in report.content.photos) if photos else ()
        return Screen("\n".join(lines), tuple(buttons), photos=shown)

    async def next_screen(self, desk: Desk, after: Report | None,
                          note: str | None = None, empty: str = "review.empty") -> Screen:
        """The first waiting report after `after` in queue order (from the start without
        one); the end of the queue, or the empty queue (said as `empty`: thanks for
        acknowledging, unless the leader has just asked for more)."""
        t, tx = desk.t, desk.req.tx
        queue = await reviews.pending_queue(tx, desk.unit_ids, desk.person.id)
        recent = (Button(t.plain("review.recent"), Recent(0).pack()),)
        head = [note] if note else []
        if not queue:
            return Screen("\n".join([*head, t(empty), *await self._elsewhere(desk)]),
                          (recent,))
        key = (after.received_at, after.id) if after is not None else None
        entry = next((e for e in queue if key is None or e.order > key), None)
        report = await reports.get_report(tx, entry.id) if entry is not None else None
        if report is not None:
            return await self.report_screen(desk, report, queue, note)
        buttons = [*await self._ack_all_row(desk),
                   (Button(t.plain("review.from_start"), FromStart(0).pack()),), recent]
        lines = [*head, t("review.end", count=len(queue)), *await self._elsewhere(desk)]
        return Screen("\n".join(lines), tuple(buttons))

    @staticmethod
    async def _elsewhere(desk: Desk) -> list[Markup]:
        """The units' reports the queue leaves out, so that the queue and these add up to the
        digest's figures: the leader's own waiting (another leader acknowledges them), and
        those sent back for more (waiting for their authors)."""
        tx, t = desk.req.tx, desk.t
        own = await reviews.own_waiting_count(tx, desk.unit_ids, desk.person.id)
        sent_back = await reviews.sent_back_count(tx, desk.unit_ids)
        return [*([t("review.own_waiting", count=own)] if own else []),
                *([t("review.sent_back", count=sent_back)] if sent_back else [])]

    async def detail_screen(self, desk: Desk, report: Report, note: str | None = None,
                            photos: bool = True) -> Screen:
        """A report that is not waiting (acknowledged, sent back): what it is and who decided."""
        t, tx = desk.t, desk.req.tx
        title = t("review.detail_title", name=await self.name_of(tx, t, report.person_id),
                  date=formatting.day(report.content.deed_date), field=report.content.field,
                  state=t(f"report.state.{report.state.value}"))
        lines = [*([note] if note else []), title, *await self._body(desk, report)]
        decided = await reviews.last_review(
            tx, report.id, (reviews.ACKNOWLEDGED, reviews.NEEDS_MORE, reviews.REOPEN))
        if decided is not None and report.state is not ReportState.PENDING:
            when = formatting.day(decided.at.astimezone(self.settings.zone).date())
            key = ("review.acknowledged_by" if decided.action == reviews.ACKNOWLEDGED
                   else "review.asked_by")
            lines.append(t(key, name=decided.reviewer_name, date=when))
            if decided.note and decided.action != reviews.ACKNOWLEDGED:
                lines.append(t("review.leader_note", note=decided.note))
        buttons: list[tuple[Button, ...]] = []
        first = []
        if report.state is ReportState.ACKNOWLEDGED:
            first.append(Button(t.plain("review.reopen"), Reopen(report.id).pack()))
        if report.state is not ReportState.WITHDRAWN:
            first.append(await self._star(tx, t, report))
        if first:
            buttons.append(tuple(first))
        buttons.append(_back_row(t))
        shown = tuple(p.file_id for p in report.content.photos) if photos else ()
        return Screen("\n".join(lines), tuple(buttons), photos=shown)

    @staticmethod
    async def recent_screen(desk: Desk) -> Screen:
        t = desk.t
        since = desk.req.now - dt.timedelta(days=RECENT_DAYS)
        found = await reviews.recent_acknowledged(desk.req.tx, desk.unit_ids, desk.person.id,
                                                  since, RECENT_LIMIT)
        back = (Button(t.plain("review.back_to_queue"), FromStart(0).pack()),)
        if not found:
            return Screen(t("review.recent_empty", days=RECENT_DAYS), (back,))
        buttons = [
            (Button(f"{formatting.day_month(line.deed_date)} · {line.person_name} · "
                    + formatting.preview(line.description, BUTTON_PREVIEW),
                    OpenDecided(line.id).pack()),)
            for line in found
        ]
        return Screen(t("review.recent_title", days=RECENT_DAYS), (*buttons, back))


def name_or_unknown(t: Texts, person: reviews.Someone | None) -> str:
    """A person's name as a text shows it; a person no longer found is "(không rõ tên)"."""
    return person.full_name if person is not None else t.plain("review.unknown_name")


def _reachable(person: reviews.Someone | None) -> int | None:
    """The Telegram chat of a person, if they have one."""
    if person is None or person.telegram_user_id is None or person.telegram_user_id <= 0:
        return None
    return person.telegram_user_id


async def _unit_name(tx: Tx, unit_id: int) -> str:
    """Who speaks to the member: the unit their report belongs to, named in full."""
    unit = await units.get_unit(tx, unit_id)
    return unit.name if unit else ""


async def thanks(tx: Tx, catalogue: Catalogue, done: Sequence[Report]) -> Notices:
    """One short thank-you per member whose reports were just acknowledged."""
    by_person: dict[int, list[Report]] = {}
    for report in done:
        by_person.setdefault(report.person_id, []).append(report)
    notices = []
    for person_id, theirs in by_person.items():
        member = await reviews.someone(tx, person_id)
        chat = _reachable(member)
        if chat is None or member is None:
            continue
        t = catalogue.texts(member.lang)
        unit = await _unit_name(tx, theirs[0].unit_id)
        if len(theirs) == 1:
            text = t("review.notice_acknowledged", unit=unit,
                     date=formatting.day(theirs[0].content.deed_date))
        else:
            text = t("review.notice_acknowledged_many", unit=unit, count=len(theirs))
        notices.append((chat, Screen(text)))
    return tuple(notices)


async def acknowledge(desk: Desk, report: Report, detail: str = "") -> bool:
    """Pending → acknowledged, recorded; False when someone else was quicker."""
    tx, now = desk.req.tx, desk.req.now
    if not await reviews.change_state(tx, report.id, ReportState.PENDING,
                                      ReportState.ACKNOWLEDGED, now):
        return False
    await reviews.add_review(tx, report.id, desk.person.id, reviews.ACKNOWLEDGED, None, now)
    await audit.record(tx, now, f"person:{desk.person.id}", "acknowledge",
                       f"report:{report.id}", detail)
    return True


class Reviews:
    def __init__(self, catalogue: Catalogue, conversations: Conversations,
                 view: QueueView) -> None:
        self.catalogue = catalogue
        self.conversations = conversations
        self.view = view

    async def open(self, req: Request) -> Reply:
        """/review and the menu button: a new pass through the queue, from its oldest."""
        desk = await desk_for(req)
        if isinstance(desk, Reply):
            return desk
        await reviews.start_pass(req.tx, desk.person.id, req.now)
        return Reply((await self.view.next_screen(desk, None),))

    async def press(self, req: Request, press: Press) -> Reply:
        """Any press on a button of the queue."""
        report = None
        if isinstance(press, OnReport):
            report = await reports.get_report(req.tx, press.report)
        target = (press.action, report) if report is not None else None
        desk = await desk_for(req, pressed=True, target=target)
        if isinstance(desk, Reply):
            return desk
        if isinstance(press, FromStart):
            return Reply((await self.view.next_screen(desk, None),), close=True)
        if isinstance(press, NextReport):
            after = await reports.get_report(req.tx, press.report)
            return self._moved_on(after, await self.view.next_screen(desk, after))
        if isinstance(press, Recent):
            return Reply((await self.view.recent_screen(desk),))
        if isinstance(press, AcknowledgeSeen):
            return await self._acknowledge_seen(desk, press.pass_id)
        return await self._on_report(desk, press, report)

    @staticmethod
    def _moved_on(before: Report | None, screen: Screen, toast: str | None = None,
                  notices: Notices = ()) -> Reply:
        """The next screen in place of the pressed one, unless photos of the report shown
        there would be left above a different report."""
        in_place = before is None or not before.content.photos
        return Reply((screen,), toast=toast, replace=in_place, close=True, notices=notices)

    async def _on_report(self, desk: Desk, press: OnReport, report: Report | None) -> Reply:
        req, t = desk.req, desk.t
        if report is None:
            return Reply(toast=t.plain("review.not_found"))
        refusal = await req.check(press.action, report.unit_id, report.person_id, pressed=True)
        if refusal is not None:
            own = report.person_id == desk.person.id
            return Reply(toast=t.plain("review.own_report")) if own else refusal
        if isinstance(press, Highlight):
            return await self._toggle_highlight(desk, report)
        if isinstance(press, OpenDecided | Reopen) and (
                report.state is not ReportState.ACKNOWLEDGED):
            key, params = await _state_problem(req.tx, report, desk.person.id)
            return Reply((await self.view.recent_screen(desk),), toast=t.plain(key, **params))
        if isinstance(press, OpenDecided):
            return Reply((await self.view.detail_screen(desk, report),))
        if isinstance(press, Reopen):
            return await self._begin_note(desk, REOPEN_FORM, report, "review.reopen_header")
        stale = await self._stale(desk, report, press.version)
        if stale is not None:
            return stale
        if isinstance(press, AskMore):
            return await self._begin_note(desk, ASK_MORE_FORM, report, "review.ask_header")
        await acknowledge(desk, report)
        name = await self.view.name_of(req.tx, t, report.person_id)
        return self._moved_on(report, await self.view.next_screen(desk, report),
                              toast=t.plain("review.acknowledged_toast", name=name),
                              notices=await thanks(req.tx, self.catalogue, [report]))

    async def _stale(self, desk: Desk, report: Report, version: str) -> Reply | None:
        """Why a press on a waiting report cannot be taken as it is, with what to see now."""
        if report.state is not ReportState.PENDING:
            key, params = await _state_problem(desk.req.tx, report, desk.person.id)
            screen = await self.view.next_screen(desk, report)
            return self._moved_on(report, screen, toast=desk.t.plain(key, **params))
        if version != fingerprint(report):
            screen = await self.view.report_screen(desk, report)
            return Reply((screen,), toast=desk.t.plain("review.corrected_meanwhile"),
                         close=True)
        return None

    async def _toggle_highlight(self, desk: Desk, report: Report) -> Reply:
        req, t = desk.req, desk.t
        if report.state is ReportState.WITHDRAWN:
            return Reply(toast=t.plain("review.withdrawn"))
        on = not await reviews.is_highlighted(req.tx, report.id)
        action = reviews.HIGHLIGHT if on else reviews.UNHIGHLIGHT
        await reviews.add_review(req.tx, report.id, desk.person.id, action, None, req.now)
        await audit.record(req.tx, req.now, f"person:{desk.person.id}", action,
                           f"report:{report.id}")
        if report.state is ReportState.PENDING:
            screen = await self.view.report_screen(desk, report, photos=False)
        else:
            screen = await self.view.detail_screen(desk, report, photos=False)
        toast = t.plain("review.highlight_on" if on else "review.highlight_off")
        return Reply((screen,), toast=toast, replace=True)

    async def _begin_note(self, desk: Desk, form: Form, report: Report,
                          header_key: str) -> Reply:
        """The one-question form for the note; it outlives a restart like any draft."""
        req, t = desk.req, desk.t
        existing = await self.conversations.has_draft(req)
        busy = existing is not None and existing.form != form.name and bool(
            existing.state.get("answers"))
        state = DraftState(step="note", target=report.id, extra={"version": fingerprint(report)})
        try:
            reply = await self.conversations.begin(req, form.name, state=state)
        except Refusal as refusal:
            return Reply(toast=t.plain(refusal.key, **refusal.params))
        if busy or not reply.screens:
            return reply
        step = reply.screens[0]
        header = t(header_key, name=await self.view.name_of(req.tx, t, report.person_id),
                   date=formatting.day(report.content.deed_date))
        return Reply((Screen(f"{header}\n\n{step.text}", step.buttons), *reply.screens[1:]))

    async def _acknowledge_seen(self, desk: Desk, pass_id: int) -> Reply:
        """"Ghi nhận tất cả N báo cáo vừa xem": those shown in this pass, still waiting, and
        unchanged since shown; each one authorised again."""
        req, t = desk.req, desk.t
        if pass_id != await reviews.current_pass(req.tx, desk.person.id):
            return Reply(toast=t.plain("review.ack_all_stale"))
        done: list[Report] = []
        changed = 0
        for report_id, version in await reviews.take_seen_pending(req.tx, pass_id):
            report = await reports.get_report(req.tx, report_id)
            if report is None or await req.check(Action.ACKNOWLEDGE, report.unit_id,
                                                 report.person_id, pressed=True):
                continue
            if fingerprint(report) != version:
                changed += 1
            elif await acknowledge(desk, report, "all"):
                done.append(report)
        note = t("review.acked_all", count=len(done))
        if changed:
            note = Markup(f"{note}\n{t('review.acked_all_changed', count=changed)}")
        screen = await self.view.next_screen(desk, None, note)
        return Reply((screen,), toast=t.plain("review.acked_all", count=len(done)), close=True,
                     notices=await thanks(req.tx, self.catalogue, done))


class ReviewNoteKind:
    """"↩ Đề nghị bổ sung" (a waiting report) and "↺ Mở lại" (an acknowledged one): a note
    for the member, then the report goes back to them as "cần bổ sung"."""

    def __init__(self, catalogue: Catalogue, view: QueueView, form: Form, action: Action,
                 before: ReportState, review_action: str, done_key: str,
                 notice_key: str) -> None:
        self.catalogue = catalogue
        self.view = view
        self.form = form
        self.action = action
        self.before = before
        self.review_action = review_action
        self.done_key = done_key
        self.notice_key = notice_key

    @classmethod
    def ask_more(cls, catalogue: Catalogue, view: QueueView) -> ReviewNoteKind:
        return cls(catalogue, view, ASK_MORE_FORM, Action.ASK_MORE, ReportState.PENDING,
                   reviews.NEEDS_MORE, "review.asked", "review.notice_ask_more")

    @classmethod
    def reopen(cls, catalogue: Catalogue, view: QueueView) -> ReviewNoteKind:
        return cls(catalogue, view, REOPEN_FORM, Action.REOPEN, ReportState.ACKNOWLEDGED,
                   reviews.REOPEN, "review.reopened", "review.notice_reopened")

    async def _problem(self, req: Request, report: Report | None,
                       state: DraftState) -> tuple[str, dict] | None:
        """Why the note can no longer go to this report, if it cannot."""
        if report is None:
            return "review.not_found", {}
        if not await req.may(self.action, report.unit_id, report.person_id):
            return "review.no_longer_allowed", {}
        if report.state is not self.before:
            person = req.actor.person
            return await _state_problem(req.tx, report, person.id if person else None)
        version = state.extra.get("version")
        if self.before is ReportState.PENDING and version != fingerprint(report):
            return "review.corrected_meanwhile_note", {}
        return None

    async def context(self, req: Request, state: DraftState) -> FormContext:
        report = await reports.get_report(req.tx, state.target) if state.target else None
        problem = await self._problem(req, report, state)
        if problem is not None:
            raise Refusal(problem[0], **problem[1])
        return FormContext(today=req.today)

    async def submit(self, req: Request, draft: Draft, state: DraftState) -> Reply:
        t, tx = req.t, req.tx
        await drafts.delete_draft(tx, draft.id)
        desk = await desk_for(req)
        report = await reports.get_report(tx, state.target) if state.target else None
        if isinstance(desk, Reply) or report is None:
            return desk if isinstance(desk, Reply) else Reply((Screen(t("review.not_found")),))
        refusal = await req.check(self.action, report.unit_id, report.person_id)
        if refusal is not None:
            return refusal
        problem = await self._problem(req, report, state)
        if problem is not None or not await reviews.change_state(
                tx, report.id, self.before, ReportState.NEEDS_MORE, req.now):
            key, params = problem or await _state_problem(tx, report, desk.person.id)
            return Reply((Screen(t(key, **params)),))
        note = state.answers["note"]
        await reviews.add_review(tx, report.id, desk.person.id, self.review_action, note,
                                 req.now)
        await audit.record(tx, req.now, f"person:{desk.person.id}", self.review_action,
                           f"report:{report.id}", note)
        member = await reviews.someone(tx, report.person_id)
        notices = await self._notice(tx, report, member, note)
        name = name_or_unknown(t, member)
        done = t(self.done_key if notices else "review.noted_unreachable", name=name)
        if self.before is ReportState.PENDING:
            screen = await self.view.next_screen(desk, report, done, "review.empty_after_ask")
        else:
            screen = Screen(done, (_back_row(t),))
        return Reply((screen,), notices=notices)

    async def _notice(self, tx: Tx, report: Report, member: reviews.Someone | None,
                      note: str) -> Notices:
        """The member's message, in their language, with the button that opens the report
        for correction (bot/flows/my_reports.py)."""
        chat = _reachable(member)
        if chat is None or member is None:
            return ()
        t = self.catalogue.texts(member.lang)
        text = t(self.notice_key, unit=await _unit_name(tx, report.unit_id),
                 date=formatting.day(report.content.deed_date), note=note)
        fix = Button(t.plain("review.fix_now"), CorrectReport(report.id).pack())
        return ((chat, Screen(text, ((fix,),))),)


class ReviewNotices:
    """What the leaders are told of the queue without asking (see the module's docstring).
    Everything is decided into the deliveries ledger, exactly once: a report sent again, once
    per "đề nghị bổ sung" (period `r<review id>`); the daily notice, once per leader and day
    (its period the day), whichever of their units decides it first."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @property
    def settings(self) -> Settings:
        return self.services.settings

    async def resubmitted(self, req: Request, report: Report) -> None:
        """The author sent `report` again after "↩ Đề nghị bổ sung": the leader who asked is
        told now, or, in the quiet hours, by the morning's run (`held`)."""
        if self.settings.quiet_at(req.now):
            return
        if await self._tell_asker(req.tx, report.id, req.now):
            req.after_commit(self.services.outbox.notify)

    async def held(self, tx: Tx) -> int:
        """The notices of reports sent again that the quiet hours held back (or a stop cut
        off), within the grace window; run when the quiet hours end and at start-up."""
        now = self.services.now()
        if self.settings.quiet_at(now):
            return 0
        since = now - dt.timedelta(hours=self.settings.schedule.grace_hours)
        return sum([await self._tell_asker(tx, report_id, now)
                    for report_id in await reviews.resubmitted_since(tx, since)])

    async def _tell_asker(self, tx: Tx, report_id: int, now: dt.datetime) -> int:
        report = await reports.get_report(tx, report_id)
        if report is None or report.state is not ReportState.PENDING:
            return 0
        asked = await reviews.last_review(
            tx, report.id, (reviews.ACKNOWLEDGED, reviews.NEEDS_MORE, reviews.REOPEN))
        if asked is None or asked.action == reviews.ACKNOWLEDGED:
            return 0
        leader = await reviews.someone(tx, asked.person_id)
        chat = _reachable(leader)
        if chat is None or leader is None:
            return 0
        actor = await actor_for(tx, self.settings.admins, chat)
        if not await permits(tx, actor, Action.ACKNOWLEDGE, report.unit_id, report.person_id):
            return 0  # they left the unit, or no longer lead it
        t = self.services.texts(leader.lang)
        member = await reviews.someone(tx, report.person_id)
        text = t("review.notice_resubmitted", name=name_or_unknown(t, member),
                 date=formatting.day(report.content.deed_date))
        screen = Screen(text, ((Button(t.plain("review.open_queue"), FromStart(0).pack()),),))
        return await deliveries.queue(tx, now, RESUBMITTED, report.unit_id, f"r{asked.id}",
                                      [Outgoing(chat, screen, person_id=leader.id)])

    async def daily(self, tx: Tx, due: Due) -> int:
        """The unit's leaders' daily notice: to each who wants it and has reports waiting in
        their queue (all their units', as /review shows them), unless one of their units told
        them today already. An hour in the quiet hours waits for the morning; a day gone by is
        not made up for (the next one comes)."""
        now = self.services.now()
        goes = held_until(self.settings, due.occurrence)
        if due.late or self.settings.quiet_at(now) or goes.date() != self.services.today():
            return 0
        period = goes.date().isoformat()
        told = await ledger.chats_given(tx, REVIEW_DAILY, period)
        items = []
        for leader in await reviews.notice_leaders(tx, due.schedule.unit_id):
            chat = _reachable(leader)
            if chat is None or chat in told:
                continue
            actor = await actor_for(tx, self.settings.admins, chat)
            reach = [u.id for u in await units_in_reach(tx, actor, Action.REVIEW)]
            waiting = len(await reviews.pending_queue(tx, reach, leader.id))
            if waiting:
                own = await reviews.own_waiting_count(tx, reach, leader.id)
                items.append(Outgoing(chat, self._daily_screen(leader, waiting, own),
                                      person_id=leader.id))
        return await deliveries.queue(tx, now, REVIEW_DAILY, due.schedule.unit_id, period,
                                      items)

    def _daily_screen(self, leader: reviews.Someone, waiting: int, own: int) -> Screen:
        """What waits for the leader, and, so that it adds up to the digest's figure, how
        many of the waiting reports are their own (another leader acknowledges those)."""
        t = self.services.texts(leader.lang)
        buttons = ((Button(t.plain("review.open_queue"), FromStart(0).pack()),
                    Button(t.plain("review.notices_off"), REVIEW_NOTICES_OFF.pack())),)
        lines = [t("review.notice_daily", count=formatting.number(waiting, t))]
        if own:
            lines.append(t("review.own_waiting", count=formatting.number(own, t)))
        return Screen("\n".join(lines), buttons)
