"""The leader's queue (/review, "✅ Ghi nhận báo cáo"): the reports waiting, one at a time,
oldest first, to acknowledge (ghi nhận), to send back with a note (đề nghị bổ sung) or to
hold up as an example (⭐ Nêu gương); and the recently acknowledged ones, to reopen with a
reason.

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

from bot.flows import my_reports
from bot.flows.reports import ReportKind, answers_from_content
from bot.forms.conversations import Conversations, Refusal
from bot.forms.engine import DraftState, FormContext
from bot.forms.render import answer_lines
from bot.forms.spec import Field, FieldType, Form
from bot.rules.access import Action, Actor, actor_for, check, permits, units_in_reach
from bot.runtime.config import Settings
from bot.runtime.services import Sender, Services
from bot.ui import buttons as callback_data
from bot.ui import formatting
from bot.ui.buttons import pack
from bot.ui.catalogue import Markup, Texts
from bot.ui.screens import Button, Reply, Screen
from storage import audit, drafts, reports, reviews, units
from storage.db import Tx
from storage.entities import Draft, Person, Report, ReportState

PREFIX = "rv"
# The presses on one report, and what each asks to do to it.
REPORT_VERBS = {"ack": Action.ACKNOWLEDGE, "ask": Action.ASK_MORE, "star": Action.HIGHLIGHT,
                "open": Action.REVIEW, "reopen": Action.REOPEN}
VERBS = frozenset({*REPORT_VERBS, "next", "first", "all", "done"})
ACK_ALL_FROM = 2  # "Ghi nhận tất cả" once the leader has seen this many waiting reports
RECENT_DAYS = 30
RECENT_LIMIT = 10
BUTTON_PREVIEW = 24
_VERSION = re.compile(r"[0-9a-f]{8}")
Notices = tuple[tuple[int, Screen], ...]

NOTE_MAX = 1000
ASK_MORE_FORM = Form("review_ask", (Field("note", FieldType.LONG_TEXT, min=3, max=NOTE_MAX),),
                     summary=False)
REOPEN_FORM = Form("review_reopen", (Field("note", FieldType.LONG_TEXT, min=3, max=NOTE_MAX),),
                   summary=False)



def fingerprint(report: Report) -> str:
    """Eight hex digits that change whenever the report's content does."""
    return hashlib.blake2s(report.content.model_dump_json().encode(), digest_size=4).hexdigest()


def _data(verb: str, number: int, version: str = "") -> str:
    return pack(PREFIX, verb, number, *((version,) if version else ()))


@dataclass(frozen=True)
class Press:
    verb: str
    number: int  # a report id, a pass id, or 0
    version: str = ""  # the fingerprint of the content the leader saw


def parse(data: str) -> Press | None:
    """Button data as the client sent it: anything unexpected is None, never an error."""
    parts = data.split(":")
    if len(parts) not in (3, 4) or parts[0] != PREFIX or parts[1] not in VERBS:
        return None
    report_or_pass = callback_data.number(parts[2])
    version = parts[3] if len(parts) == 4 else ""
    if report_or_pass is None or (version and not _VERSION.fullmatch(version)):
        return None
    return Press(parts[1], report_or_pass, version)


@dataclass(frozen=True)
class Desk:
    """A leader at the queue: who they are, the units whose reports they review, their words."""

    actor: Actor
    person: Person
    unit_ids: tuple[int, ...]
    t: Texts


async def desk_for(tx: Tx, services: Services, user_id: int, pressed: bool = False,
                   target: tuple[Action, Report] | None = None) -> Desk | Reply:
    """The leader's desk, or the polite refusal for anyone who reviews nothing, logged against
    the report the press names (`target`) or else against the person's own unit."""
    actor = await actor_for(tx, services, user_id)
    t = services.texts(actor.person.lang if actor.person else None)
    reach = await units_in_reach(tx, actor, Action.REVIEW)
    if not reach:
        if target is not None:
            action, report = target
            refusal = await check(tx, services, actor, action, report.unit_id, report.person_id,
                                  pressed=pressed)
        else:
            home = actor.memberships[0].unit_id if actor.memberships else 0
            refusal = await check(tx, services, actor, Action.REVIEW, home, pressed=pressed)
        return refusal or Reply((Screen(t("access.denied")),))
    if actor.person is None:
        # An admin who is nobody in the tree: a review names its reviewer.
        return Reply(toast=t.plain("review.no_person")) if pressed else Reply(
            (Screen(t("review.no_person")),))
    return Desk(actor, actor.person, tuple(u.id for u in reach), t)


async def _state_problem(tx: Tx, report: Report, viewer: int | None) -> tuple[str, dict]:
    """What to tell a leader about a report no longer in the state they acted on."""
    if report.state is ReportState.ACKNOWLEDGED:
        by = await reviews.last_review(tx, report.id, (reviews.ACKNOWLEDGED,))
        if by is not None and by.person_id == viewer:
            return "review.already_acknowledged_by_you", {}
        return "review.already_acknowledged", {"name": by.reviewer_name if by else "?"}
    if report.state is ReportState.NEEDS_MORE:
        by = await reviews.last_review(tx, report.id, (reviews.NEEDS_MORE, reviews.REOPEN))
        return "review.already_asked", {"name": by.reviewer_name if by else "?"}
    if report.state is ReportState.WITHDRAWN:
        return "review.withdrawn", {}
    return "review.now_pending", {}


class QueueView:
    """The screens of the queue and of the acknowledged reports, as one leader sees them."""

    def __init__(self, services: Services, report_kind: ReportKind) -> None:
        self.services = services
        self.report_kind = report_kind

    async def _pass(self, tx: Tx, desk: Desk) -> int:
        current = await reviews.current_pass(tx, desk.person.id)
        if current is None:
            current = await reviews.start_pass(tx, desk.person.id, self.services.now())
        return current

    async def _body(self, tx: Tx, desk: Desk, report: Report) -> list[str]:
        """Everything about the report but the title: unit, details, who entered it."""
        t = desk.t
        unit = await units.get_unit(tx, report.unit_id)
        lines: list[str] = []
        if unit is None:
            return lines
        if len(desk.unit_ids) > 1:
            lines.append(t("review.unit", unit=unit.name))
        ctx = await self.report_kind.context_in(tx, self.services, unit, report.person_id)
        answers = answers_from_content(report.content)
        for shown_in_title in ("deed_date", "field"):
            answers.pop(shown_in_title, None)
        lines += answer_lines(self.report_kind.form, answers, ctx, t)
        if report.entered_by != report.person_id:
            enterer = await reviews.someone(tx, report.entered_by)
            lines.append(t("review.entered_by", name=enterer.full_name if enterer else "?"))
        if await reviews.is_highlighted(tx, report.id):
            lines.append(t("review.highlighted"))
        return lines

    async def name_of(self, tx: Tx, person_id: int) -> str:
        found = await reviews.someone(tx, person_id)
        return found.full_name if found else "?"

    def _action_row(self, t: Texts, report: Report) -> tuple[Button, ...]:
        return (Button(t.plain("review.acknowledge"), _data("ack", report.id, fingerprint(report))),
                Button(t.plain("review.ask_more"), _data("ask", report.id, fingerprint(report))))

    async def _star(self, tx: Tx, t: Texts, report: Report) -> Button:
        on = await reviews.is_highlighted(tx, report.id)
        label = t.plain("review.unhighlight") if on else t.plain("review.highlight")
        return Button(label, _data("star", report.id))

    async def _ack_all_row(self, tx: Tx, desk: Desk) -> list[tuple[Button, ...]]:
        pass_id = await self._pass(tx, desk)
        seen = len(await reviews.seen_pending(tx, pass_id))
        if seen < ACK_ALL_FROM:
            return []
        return [(Button(desk.t.plain("review.ack_all", count=seen), _data("all", pass_id)),)]

    async def report_screen(self, tx: Tx, desk: Desk, report: Report,
                            queue: Sequence[reviews.QueueEntry] | None = None,
                            note: str | None = None, photos: bool = True) -> Screen:
        """One waiting report, with its place in the queue; it counts as seen from now."""
        t = desk.t
        if queue is None:
            queue = await reviews.pending_queue(tx, desk.unit_ids, desk.person.id)
        ids = [entry.id for entry in queue]
        if report.id not in ids:
            return await self.detail_screen(tx, desk, report, note, photos)
        await reviews.mark_seen(tx, await self._pass(tx, desk), report.id, fingerprint(report),
                                self.services.now())
        title = t("review.title", position=ids.index(report.id) + 1, total=len(ids),
                  name=await self.name_of(tx, report.person_id),
                  date=formatting.day(report.content.deed_date), field=report.content.field)
        lines = [*([note] if note else []), title, *await self._body(tx, desk, report)]
        second = [await self._star(tx, t, report)]
        if len(ids) > 1:
            second.append(Button(t.plain("review.next"), _data("next", report.id)))
        buttons = [self._action_row(t, report), tuple(second),
                   *await self._ack_all_row(tx, desk),
                   (Button(t.plain("review.recent"), _data("done", 0)),)]
        shown = tuple(p.file_id for p in report.content.photos) if photos else ()
        return Screen("\n".join(lines), tuple(buttons), photos=shown)

    async def next_screen(self, tx: Tx, desk: Desk, after: Report | None,
                          note: str | None = None) -> Screen:
        """The first waiting report after `after` in queue order (from the start without
        one); the end of the queue, or the empty queue."""
        t = desk.t
        queue = await reviews.pending_queue(tx, desk.unit_ids, desk.person.id)
        recent = (Button(t.plain("review.recent"), _data("done", 0)),)
        head = [note] if note else []
        if not queue:
            return Screen("\n".join([*head, t("review.empty")]), (recent,))
        key = (after.received_at, after.id) if after is not None else None
        entry = next((e for e in queue if key is None or e.order > key), None)
        report = await reports.get_report(tx, entry.id) if entry is not None else None
        if report is not None:
            return await self.report_screen(tx, desk, report, queue, note)
        buttons = [*await self._ack_all_row(tx, desk),
                   (Button(t.plain("review.from_start"), _data("first", 0)),), recent]
        return Screen("\n".join([*head, t("review.end", count=len(queue))]), tuple(buttons))

    async def detail_screen(self, tx: Tx, desk: Desk, report: Report, note: str | None = None,
                            photos: bool = True) -> Screen:
        """A report that is not waiting (acknowledged, sent back): what it is and who decided."""
        t = desk.t
        title = t("review.detail_title", name=await self.name_of(tx, report.person_id),
                  date=formatting.day(report.content.deed_date), field=report.content.field,
                  state=t(f"report.state.{report.state.value}"))
        lines = [*([note] if note else []), title, *await self._body(tx, desk, report)]
        decided = await reviews.last_review(
            tx, report.id, (reviews.ACKNOWLEDGED, reviews.NEEDS_MORE, reviews.REOPEN))
        if decided is not None and report.state is not ReportState.PENDING:
            when = formatting.day(decided.at.astimezone(self.services.settings.zone).date())
            key = ("review.acknowledged_by" if decided.action == reviews.ACKNOWLEDGED
                   else "review.asked_by")
            lines.append(t(key, name=decided.reviewer_name, date=when))
            if decided.note and decided.action != reviews.ACKNOWLEDGED:
                lines.append(t("review.leader_note", note=decided.note))
        buttons: list[tuple[Button, ...]] = []
        first = []
        if report.state is ReportState.ACKNOWLEDGED:
            first.append(Button(t.plain("review.reopen"), _data("reopen", report.id)))
        if report.state is not ReportState.WITHDRAWN:
            first.append(await self._star(tx, t, report))
        if first:
            buttons.append(tuple(first))
        buttons.append((Button(t.plain("review.back_to_recent"), _data("done", 0)),
                        Button(t.plain("review.back_to_queue"), _data("first", 0))))
        shown = tuple(p.file_id for p in report.content.photos) if photos else ()
        return Screen("\n".join(lines), tuple(buttons), photos=shown)

    async def recent_screen(self, tx: Tx, desk: Desk) -> Screen:
        t = desk.t
        since = self.services.now() - dt.timedelta(days=RECENT_DAYS)
        found = await reviews.recent_acknowledged(tx, desk.unit_ids, desk.person.id, since,
                                                  RECENT_LIMIT)
        back = (Button(t.plain("review.back_to_queue"), _data("first", 0)),)
        if not found:
            return Screen(t("review.recent_empty", days=RECENT_DAYS), (back,))
        buttons = [
            (Button(f"{formatting.day_month(line.deed_date)} · {line.person_name} · "
                    + formatting.preview(line.description, BUTTON_PREVIEW),
                    _data("open", line.id)),)
            for line in found
        ]
        return Screen(t("review.recent_title", days=RECENT_DAYS), (*buttons, back))


def _reachable(person: reviews.Someone | None) -> int | None:
    """The Telegram chat of a person, if they have one."""
    if person is None or person.telegram_user_id is None or person.telegram_user_id <= 0:
        return None
    return person.telegram_user_id


async def _unit_name(tx: Tx, unit_id: int) -> str:
    """Who speaks to the member: the unit their report belongs to, named in full."""
    unit = await units.get_unit(tx, unit_id)
    return unit.name if unit else ""


async def thanks(tx: Tx, services: Services, done: Sequence[Report]) -> Notices:
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
        t = services.texts(member.lang)
        unit = await _unit_name(tx, theirs[0].unit_id)
        if len(theirs) == 1:
            text = t("review.notice_acknowledged", unit=unit,
                     date=formatting.day(theirs[0].content.deed_date))
        else:
            text = t("review.notice_acknowledged_many", unit=unit, count=len(theirs))
        notices.append((chat, Screen(text)))
    return tuple(notices)


async def acknowledge(tx: Tx, services: Services, desk: Desk, report: Report,
                      detail: str = "") -> bool:
    """Pending → acknowledged, recorded; False when someone else was quicker."""
    now = services.now()
    if not await reviews.change_state(tx, report.id, ReportState.PENDING,
                                      ReportState.ACKNOWLEDGED, now):
        return False
    await reviews.add_review(tx, report.id, desk.person.id, reviews.ACKNOWLEDGED, None, now)
    await audit.record(tx, now, f"person:{desk.person.id}", "acknowledge",
                       f"report:{report.id}", detail)
    return True


class Review:
    def __init__(self, services: Services, conversations: Conversations,
                 report_kind: ReportKind) -> None:
        self.services = services
        self.conversations = conversations
        self.report_kind = report_kind
        self.view = QueueView(services, report_kind)

    async def start(self, sender: Sender) -> Reply:
        """/review and the menu button: a new pass through the queue, from its oldest."""
        async with self.services.db.transaction() as tx:
            desk = await desk_for(tx, self.services, sender.user_id)
            if isinstance(desk, Reply):
                return desk
            await reviews.start_pass(tx, desk.person.id, self.services.now())
            return Reply((await self.view.next_screen(tx, desk, None),))

    async def act(self, sender: Sender, update_id: int, data: str) -> Reply:
        """Any press on a button of the queue."""
        press = parse(data)
        async with self.services.db.transaction() as tx:
            action = REPORT_VERBS.get(press.verb) if press else None
            report = await reports.get_report(tx, press.number) if press and action else None
            target = (action, report) if action and report else None
            desk = await desk_for(tx, self.services, sender.user_id, pressed=True, target=target)
            if isinstance(desk, Reply):
                return desk
            if press is None:
                return Reply(toast=desk.t.plain("review.unknown_button"))
            if press.verb == "first":
                return Reply((await self.view.next_screen(tx, desk, None),), close=True)
            if press.verb == "next":
                after = await reports.get_report(tx, press.number)
                return self._moved_on(after, await self.view.next_screen(tx, desk, after))
            if press.verb == "done":
                return Reply((await self.view.recent_screen(tx, desk),))
            if press.verb == "all":
                return await self._acknowledge_seen(tx, desk, press.number)
            return await self._on_report(tx, desk, press, report, sender, update_id)

    @staticmethod
    def _moved_on(before: Report | None, screen: Screen, toast: str | None = None,
                  notices: Notices = ()) -> Reply:
        """The next screen in place of the pressed one, unless photos of the report shown
        there would be left above a different report."""
        in_place = before is None or not before.content.photos
        return Reply((screen,), toast=toast, replace=in_place, close=True, notices=notices)

    async def _on_report(self, tx: Tx, desk: Desk, press: Press, report: Report | None,
                         sender: Sender, update_id: int) -> Reply:
        t = desk.t
        action = REPORT_VERBS[press.verb]
        if report is None:
            return Reply(toast=t.plain("review.not_found"))
        refusal = await check(tx, self.services, desk.actor, action, report.unit_id,
                              report.person_id, pressed=True)
        if refusal is not None:
            own = report.person_id == desk.person.id
            return Reply(toast=t.plain("review.own_report")) if own else refusal
        if press.verb == "star":
            return await self._toggle_highlight(tx, desk, report)
        if press.verb in ("open", "reopen") and report.state is not ReportState.ACKNOWLEDGED:
            key, params = await _state_problem(tx, report, desk.person.id)
            return Reply((await self.view.recent_screen(tx, desk),), toast=t.plain(key, **params))
        if press.verb == "open":
            return Reply((await self.view.detail_screen(tx, desk, report),))
        if press.verb == "reopen":
            return await self._begin_note(tx, desk, sender, update_id, REOPEN_FORM, report,
                                          "review.reopen_header")
        stale = await self._stale(tx, desk, report, press.version)
        if stale is not None:
            return stale
        if press.verb == "ask":
            return await self._begin_note(tx, desk, sender, update_id, ASK_MORE_FORM, report,
                                          "review.ask_header")
        await acknowledge(tx, self.services, desk, report)
        name = await self.view.name_of(tx, report.person_id)
        return self._moved_on(report, await self.view.next_screen(tx, desk, report),
                              toast=t.plain("review.acknowledged_toast", name=name),
                              notices=await thanks(tx, self.services, [report]))

    async def _stale(self, tx: Tx, desk: Desk, report: Report, version: str) -> Reply | None:
        """Why a press on a waiting report cannot be taken as it is, with what to see now."""
        if report.state is not ReportState.PENDING:
            key, params = await _state_problem(tx, report, desk.person.id)
            screen = await self.view.next_screen(tx, desk, report)
            return self._moved_on(report, screen, toast=desk.t.plain(key, **params))
        if version != fingerprint(report):
            screen = await self.view.report_screen(tx, desk, report)
            return Reply((screen,), toast=desk.t.plain("review.corrected_meanwhile"),
                         close=True)
        return None

    async def _toggle_highlight(self, tx: Tx, desk: Desk, report: Report) -> Reply:
        t = desk.t
        if report.state is ReportState.WITHDRAWN:
            return Reply(toast=t.plain("review.withdrawn"))
        now = self.services.now()
        on = not await reviews.is_highlighted(tx, report.id)
        action = reviews.HIGHLIGHT if on else reviews.UNHIGHLIGHT
        await reviews.add_review(tx, report.id, desk.person.id, action, None, now)
        await audit.record(tx, now, f"person:{desk.person.id}", action, f"report:{report.id}")
        if report.state is ReportState.PENDING:
            screen = await self.view.report_screen(tx, desk, report, photos=False)
        else:
            screen = await self.view.detail_screen(tx, desk, report, photos=False)
        toast = t.plain("review.highlight_on" if on else "review.highlight_off")
        return Reply((screen,), toast=toast, replace=True)

    async def _begin_note(self, tx: Tx, desk: Desk, sender: Sender, update_id: int,
                          form: Form, report: Report, header_key: str) -> Reply:
        """The one-question form for the note; it outlives a restart like any draft."""
        t = desk.t
        existing = await self.conversations.has_draft(tx, sender.user_id)
        busy = existing is not None and existing.form != form.name and bool(
            existing.state.get("answers"))
        state = DraftState(step="note", target=report.id, extra={"version": fingerprint(report)})
        try:
            reply = await self.conversations.begin(tx, sender, update_id, form.name, t,
                                                   state=state)
        except Refusal as refusal:
            return Reply(toast=t.plain(refusal.key, **refusal.params))
        if busy or not reply.screens:
            return reply
        step = reply.screens[0]
        header = t(header_key, name=await self.view.name_of(tx, report.person_id),
                   date=formatting.day(report.content.deed_date))
        return Reply((Screen(f"{header}\n\n{step.text}", step.buttons), *reply.screens[1:]))

    async def _acknowledge_seen(self, tx: Tx, desk: Desk, pass_id: int) -> Reply:
        """"Ghi nhận tất cả N báo cáo vừa xem": those shown in this pass, still waiting, and
        unchanged since shown; each one authorised again."""
        t = desk.t
        if pass_id != await reviews.current_pass(tx, desk.person.id):
            return Reply(toast=t.plain("review.ack_all_stale"))
        done: list[Report] = []
        changed = 0
        for report_id, version in await reviews.seen_pending(tx, pass_id):
            report = await reports.get_report(tx, report_id)
            if report is None or await check(tx, self.services, desk.actor, Action.ACKNOWLEDGE,
                                             report.unit_id, report.person_id, pressed=True):
                continue
            if fingerprint(report) != version:
                changed += 1
            elif await acknowledge(tx, self.services, desk, report, "all"):
                done.append(report)
        note = t("review.acked_all", count=len(done))
        if changed:
            note = Markup(f"{note}\n{t('review.acked_all_changed', count=changed)}")
        screen = await self.view.next_screen(tx, desk, None, note)
        return Reply((screen,), toast=t.plain("review.acked_all", count=len(done)), close=True,
                     notices=await thanks(tx, self.services, done))


class ReviewNoteKind:
    """"↩ Đề nghị bổ sung" (a waiting report) and "↺ Mở lại" (an acknowledged one): a note
    for the member, then the report goes back to them as "cần bổ sung"."""

    def __init__(self, settings: Settings, form: Form, action: Action, before: ReportState,
                 review_action: str, done_key: str, notice_key: str) -> None:
        self.form = form
        self.action = action
        self.before = before
        self.review_action = review_action
        self.done_key = done_key
        self.notice_key = notice_key
        self.report_kind = ReportKind(settings)

    @classmethod
    def ask_more(cls, settings: Settings) -> ReviewNoteKind:
        return cls(settings, ASK_MORE_FORM, Action.ASK_MORE, ReportState.PENDING,
                   reviews.NEEDS_MORE, "review.asked", "review.notice_ask_more")

    @classmethod
    def reopen(cls, settings: Settings) -> ReviewNoteKind:
        return cls(settings, REOPEN_FORM, Action.REOPEN, ReportState.ACKNOWLEDGED,
                   reviews.REOPEN, "review.reopened", "review.notice_reopened")

    async def _problem(self, tx: Tx, actor: Actor, report: Report | None,
                       state: DraftState) -> tuple[str, dict] | None:
        """Why the note can no longer go to this report, if it cannot."""
        if report is None:
            return "review.not_found", {}
        if not await permits(tx, actor, self.action, report.unit_id, report.person_id):
            return "review.no_longer_allowed", {}
        if report.state is not self.before:
            return await _state_problem(tx, report, actor.person.id if actor.person else None)
        version = state.extra.get("version")
        if self.before is ReportState.PENDING and version != fingerprint(report):
            return "review.corrected_meanwhile_note", {}
        return None

    async def context(self, tx: Tx, services: Services, user_id: int,
                      state: DraftState) -> FormContext:
        report = await reports.get_report(tx, state.target) if state.target else None
        problem = await self._problem(tx, await actor_for(tx, services, user_id), report, state)
        if problem is not None:
            raise Refusal(problem[0], **problem[1])
        return FormContext(today=services.today())

    async def submit(self, tx: Tx, services: Services, draft: Draft, state: DraftState,
                     t: Texts) -> Reply:
        await drafts.delete_draft(tx, draft.id)
        desk = await desk_for(tx, services, draft.telegram_user_id)
        report = await reports.get_report(tx, state.target) if state.target else None
        if isinstance(desk, Reply) or report is None:
            return desk if isinstance(desk, Reply) else Reply((Screen(t("review.not_found")),))
        refusal = await check(tx, services, desk.actor, self.action, report.unit_id,
                              report.person_id)
        if refusal is not None:
            return refusal
        problem = await self._problem(tx, desk.actor, report, state)
        now = services.now()
        if problem is not None or not await reviews.change_state(
                tx, report.id, self.before, ReportState.NEEDS_MORE, now):
            key, params = problem or await _state_problem(tx, report, desk.person.id)
            return Reply((Screen(t(key, **params)),))
        note = state.answers["note"]
        await reviews.add_review(tx, report.id, desk.person.id, self.review_action, note, now)
        await audit.record(tx, now, f"person:{desk.person.id}", self.review_action,
                           f"report:{report.id}", note)
        member = await reviews.someone(tx, report.person_id)
        notices = await self._notice(tx, services, report, member, note)
        name = member.full_name if member else "?"
        done = t(self.done_key if notices else "review.noted_unreachable", name=name)
        view = QueueView(services, self.report_kind)
        if self.before is ReportState.PENDING:
            screen = await view.next_screen(tx, desk, report, done)
        else:
            screen = Screen(done, ((Button(t.plain("review.back_to_recent"), _data("done", 0)),
                                    Button(t.plain("review.back_to_queue"), _data("first", 0))),))
        return Reply((screen,), notices=notices)

    async def _notice(self, tx: Tx, services: Services, report: Report,
                      member: reviews.Someone | None, note: str) -> Notices:
        """The member's message, in their language, with the button that opens the report
        for correction (bot/flows/my_reports.py)."""
        chat = _reachable(member)
        if chat is None or member is None:
            return ()
        t = services.texts(member.lang)
        text = t(self.notice_key, unit=await _unit_name(tx, report.unit_id),
                 date=formatting.day(report.content.deed_date), note=note)
        fix = Button(t.plain("review.fix_now"), pack(my_reports.PREFIX, "edit", report.id))
        return ((chat, Screen(text, ((fix,),))),)
