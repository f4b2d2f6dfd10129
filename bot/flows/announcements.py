"""/announce: a leader's message to a unit's members, privately, and to its linked group.

The leader fills in a form (drafts survive restarts): the unit when they lead several, the
text, an optional photo, and for a unit with units below it the audience (its own members or
the whole subtree). The form ends on a preview, exactly as members will see it, and a
confirmation naming the real number of recipients. Sending writes the announcement, an audit
entry and one ledger row per recipient in one transaction; the paced sender delivers them and
calls `settled`, which tells the author how many got it once the last one settled. The
confirmation's buttons name the leader's own draft, and the unit is authorised again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.forms.conversations import Conversations, Refusal, move_draft
from bot.forms.engine import SUMMARY, Choice, DraftState, FormContext, missing_required
from bot.forms.render import FormView
from bot.forms.spec import Field, FieldType, Form
from bot.parsing.numbers import plain_number
from bot.rules.access import Action, Request, highest
from bot.rules.deliveries import Outgoing, queue
from bot.runtime.services import Services
from bot.ui import formatting
from bot.ui.buttons import ButtonData, Id
from bot.ui.catalogue import Markup, Texts
from bot.ui.screens import Button, Reply, Screen
from storage import announcements as store
from storage import audit, drafts, people, units
from storage.announcements import NewAnnouncement, Recipient
from storage.db import Tx
from storage.entities import Draft, Unit

log = logging.getLogger(__name__)

KIND = "announcement"  # the form's name, and the ledger's kind for the members' messages
RESULT_KIND = "announcement_result"  # the delivery count, to the author
# With a photo, a text that fits in a caption (1,024 characters) goes under it in one message;
# a longer one follows the photo as a message of its own.
MAX_TEXT = 3000
STALE = "announce.gone"

ANNOUNCEMENT_FORM = Form("announcement", (
    # Asked only of someone who leads more than one unit (none of them below another).
    Field("unit_id", FieldType.CHOICE, source="units"),
    Field("text", FieldType.LONG_TEXT, min=1, max=MAX_TEXT),
    Field("photo", FieldType.PHOTOS, required=False, max=1),
    # Asked only when the unit has units below it.
    Field("whole_subtree", FieldType.CHOICE, source="audiences"),
), summary=False)


class SendAnnouncement(ButtonData, prefix="an:go", action=Action.ANNOUNCE):
    draft: Id


class CancelAnnouncement(ButtonData, prefix="an:no", action=Action.ANSWER_FORM):
    """One's own draft dropped, whatever one leads now."""

    draft: Id


class EditAnnouncement(ButtonData, prefix="an:ed", action=Action.ANNOUNCE):
    """Back to the answers, to change one."""

    draft: Id


Press = SendAnnouncement | CancelAnnouncement | EditAnnouncement
BUTTONS = (SendAnnouncement, CancelAnnouncement, EditAnnouncement)


def period_of(announcement_id: int) -> str:
    """The ledger's period for an announcement's deliveries."""
    return f"a{announcement_id}"


def announcement_of(period: str) -> int | None:
    return plain_number(period[1:]) if period.startswith("a") else None


def _chosen(reach: list[Unit], state: DraftState) -> Unit | None:
    """The unit the draft announces to: the one named (picked among the highest, or any in
    reach), or the only highest one there is. The units below the highest are reached
    through the audience "Toàn bộ các đơn vị trực thuộc"."""
    tops = highest(reach)
    wanted = state.answers.get("unit_id")
    if wanted is None:
        return tops[0] if len(tops) == 1 else None
    return next((u for u in reach if u.id == wanted), None)


def _audiences(t: Texts, unit: Unit) -> tuple[Choice, ...]:
    return (Choice("u", False, t.plain("announce.audience_unit", unit=unit.name)),
            Choice("t", True, t.plain("announce.audience_tree")))


class AnnouncementKind:
    """The announcement form: who may fill it in, what it offers, and the preview at its end
    (sending waits for the confirmation's own button)."""

    form: Form = ANNOUNCEMENT_FORM

    async def context(self, req: Request, state: DraftState) -> FormContext:
        reach = await req.reach(Action.ANNOUNCE)
        if req.actor.person is None or not reach:
            raise Refusal("announce.not_allowed")
        # Units in reach include everything below them: a unit has children iff it is a
        # parent of another unit in reach.
        parents = {u.parent_id for u in reach}
        tops = highest(reach)
        unit = _chosen(reach, state)
        if unit is None:  # not picked yet: the step counts if any unit could ask it
            unit = next((u for u in tops if u.id in parents), None)
        return FormContext(
            today=req.today,
            choices={
                "units": tuple(Choice(str(u.id), u.id, u.name) for u in tops)
                if len(tops) > 1 else (),
                "audiences": _audiences(req.t, unit) if unit and unit.id in parents else (),
            },
        )

    async def submit(self, req: Request, draft: Draft, state: DraftState) -> Reply:
        """The last answer is in: the preview and the confirmation (the draft is kept, at the
        summary, with the unit it is for even when there was nothing to pick)."""
        t = req.t
        ctx = await self.context(req, state)
        missing = missing_required(self.form, state, ctx)
        if missing is not None:  # the unit changed to one that asks who hears it
            moved = await move_draft(req, draft, state, step=missing.name, from_summary=True)
            return Reply((FormView(self.form, moved, ctx, t, draft.id).current(),))
        plan = await _plan(req, state)
        answers = {**state.answers, "unit_id": plan.unit.id} if plan else state.answers
        await move_draft(req, draft, state, step=SUMMARY, answers=answers)
        refusal = await req.check(Action.ANNOUNCE, plan.unit.id if plan else 0)
        if refusal is not None or plan is None:
            return refusal or Reply((Screen(t("announce.not_allowed")),))
        if plan.nobody:
            return Reply((_nobody(t, plan, draft.id),))
        return Reply((plan.message(t), _confirmation(t, plan, draft.id)))


@dataclass(frozen=True)
class Plan:
    """An announcement ready to go: what, from whom, where, and to whom."""

    author_id: int
    unit: Unit
    whole_subtree: bool
    text: str
    photo_id: str | None
    people: list[Recipient]
    groups: list[int]

    @property
    def nobody(self) -> bool:
        return not self.people and not self.groups

    def message(self, t: Texts) -> Screen:
        """The announcement as its recipients see it, in their language."""
        return Screen(t("announce.message", unit=self.unit.name, text=self.text),
                      photos=(self.photo_id,) if self.photo_id else (), caption=True)


async def _plan(req: Request, state: DraftState) -> Plan | None:
    """The announcement the draft describes, with its recipients as of now; None when its unit
    is out of the author's reach."""
    reach = await req.reach(Action.ANNOUNCE)
    unit = _chosen(reach, state)
    author = req.actor.person
    if unit is None or author is None:
        return None
    below = any(u.parent_id == unit.id for u in reach)
    whole = bool(state.answers.get("whole_subtree")) and below
    unit_ids = await units.subtree_ids(req.tx, unit.id) if whole else [unit.id]
    photos: list[dict[str, Any]] = state.answers.get("photo") or []
    return Plan(
        author_id=author.id, unit=unit, whole_subtree=whole,
        text=state.answers.get("text") or "",
        photo_id=photos[0]["file_id"] if photos else None,
        people=await store.recipients(req.tx, unit_ids, author.id),
        groups=await store.group_chats(req.tx, unit_ids),
    )


def _count(t: Texts, people: int, groups: int, people_sent: int | None = None,
           groups_sent: int | None = None) -> Markup:
    """"34 đồng chí và 1 nhóm", or "33/34 đồng chí và 1/1 nhóm" once sent."""
    def shown(done: int | None, total: int) -> str:
        whole = formatting.number(total, t)
        return whole if done is None else f"{formatting.number(done, t)}/{whole}"

    said_people = t("announce.count_people", people=shown(people_sent, people))
    said_groups = t("announce.count_groups", groups=shown(groups_sent, groups))
    if people and groups:
        return t("announce.count_both", people=said_people, groups=said_groups)
    return said_groups if groups else said_people


def _buttons(t: Texts, draft_id: int, send: bool) -> tuple[tuple[Button, ...], ...]:
    cancel = Button(t.plain("button.cancel"), CancelAnnouncement(draft_id).pack())
    edit = (Button(t.plain("announce.edit"), EditAnnouncement(draft_id).pack()),)
    if send:
        return ((Button(t.plain("button.send"), SendAnnouncement(draft_id).pack()), cancel),
                edit)
    return ((*edit, cancel),)


def _audience_line(t: Texts, plan: Plan) -> Markup:
    key = "announce.audience_line_tree" if plan.whole_subtree else "announce.audience_line_unit"
    return t(key, unit=plan.unit.name)


def _confirmation(t: Texts, plan: Plan, draft_id: int) -> Screen:
    text = "\n".join([t("announce.preview_above"), _audience_line(t, plan),
                      t("announce.confirm", recipients=_count(t, len(plan.people),
                                                               len(plan.groups)))])
    return Screen(text, _buttons(t, draft_id, send=True))


def _nobody(t: Texts, plan: Plan, draft_id: int) -> Screen:
    text = "\n".join([_audience_line(t, plan), t("announce.nobody", unit=plan.unit.name)])
    return Screen(text, _buttons(t, draft_id, send=False))


class Announcements:
    def __init__(self, services: Services, conversations: Conversations) -> None:
        self.services = services  # the sender to wake, and the words of the outcome, later
        self.conversations = conversations
        self.kind = AnnouncementKind()

    # --- /announce ----------------------------------------------------------------------------

    async def open(self, req: Request) -> Reply:
        t = req.t
        if not await req.reach(Action.ANNOUNCE):
            somewhere = req.actor.memberships[0].unit_id if req.actor.memberships else 0
            refusal = await req.check(Action.ANNOUNCE, somewhere)
            return refusal or Reply((Screen(t("announce.not_allowed")),))
        if req.actor.person is None:  # an admin the bot knows no person for: who would sign?
            return Reply((Screen(t("announce.not_allowed")),))
        return await self.conversations.begin(req, KIND)

    # --- the confirmation's buttons -----------------------------------------------------------

    async def press(self, req: Request, press: Press) -> Reply:
        t = req.t
        draft = await self.conversations.has_draft(req)
        state = DraftState.model_validate(draft.state) if draft else None
        if draft is None or state is None or draft.id != press.draft or draft.form != KIND \
                or state.step != SUMMARY:
            # Sent already, cancelled, or someone else's draft: nothing of theirs is read.
            return Reply(toast=t.plain(STALE))
        if isinstance(press, CancelAnnouncement):
            await drafts.delete_draft(req.tx, draft.id)
            return Reply((Screen(t("form.announcement.cancelled")),), replace=True)
        try:
            ctx = await self.kind.context(req, state)
        except Refusal as refusal:  # no longer leads anywhere: the draft goes
            await drafts.delete_draft(req.tx, draft.id)
            unit_id = state.answers.get("unit_id") or 0
            denied = await req.check(press.action, unit_id, pressed=True)
            return denied or Reply((Screen(t(refusal.key)),), replace=True)
        if isinstance(press, EditAnnouncement):
            return Reply((FormView(self.kind.form, state, ctx, t, draft.id).summary(),),
                         replace=True)
        return await self._send(req, draft, state)

    async def _send(self, req: Request, draft: Draft, state: DraftState) -> Reply:
        t, tx = req.t, req.tx
        plan = await _plan(req, state)
        refusal = await req.check(Action.ANNOUNCE,
                                  plan.unit.id if plan else state.answers.get("unit_id") or 0,
                                  pressed=True)
        if refusal is not None or plan is None:
            return refusal or Reply(toast=t.plain(STALE))
        if plan.nobody:
            return Reply((_nobody(t, plan, draft.id),), replace=True)
        announcement = await store.add(tx, NewAnnouncement(
            unit_id=plan.unit.id, author_id=plan.author_id, text=plan.text,
            photo_id=plan.photo_id, whole_subtree=plan.whole_subtree), req.now)
        period = period_of(announcement.id)
        group_texts = self.services.texts(None)
        outgoing = [Outgoing(p.telegram_user_id, plan.message(self.services.texts(p.lang)),
                             person_id=p.person_id) for p in plan.people]
        outgoing += [Outgoing(chat, plan.message(group_texts)) for chat in plan.groups]
        await queue(tx, req.now, KIND, plan.unit.id, period, outgoing)
        audience = "subtree" if plan.whole_subtree else "unit"
        await audit.record(tx, req.now, req.actor.label, "announce",
                           f"announcement:{announcement.id}",
                           f"unit:{plan.unit.id} audience:{audience} people:{len(plan.people)} "
                           f"groups:{len(plan.groups)}")
        await drafts.delete_draft(tx, draft.id)
        req.after_commit(self.services.outbox.notify)
        text = t("announce.sending", recipients=_count(t, len(plan.people), len(plan.groups)))
        return Reply((Screen(text),), replace=True)

    # --- the outcome, once the sender is done -------------------------------------------------

    async def settled(self, tx: Tx, unit_id: int, period: str) -> int:
        """Called by the sender after it settled an 'announcement' delivery of this unit and
        period: once all are settled, queues the delivery count to the author. Returns how many
        rows it queued."""
        announcement_id = announcement_of(period)
        announcement = await store.get(tx, announcement_id) if announcement_id else None
        if announcement is None or announcement.unit_id != unit_id \
                or announcement.reported_at is not None:
            return 0
        outcome = await store.outcome(tx, unit_id, period)
        if outcome.waiting:
            return 0
        now = self.services.now()
        if not await store.mark_reported(tx, announcement.id, now):
            return 0
        author = await people.get_person(tx, announcement.author_id)
        if author is None or author.telegram_user_id is None:
            return 0
        t = self.services.texts(author.lang)
        local = announcement.created_at.astimezone(self.services.settings.zone).date()
        lines = [t("announce.result", date=formatting.day(local),
                   recipients=_count(t, outcome.people, outcome.groups, outcome.people_sent,
                                     outcome.groups_sent))]
        if outcome.people_sent < outcome.people:
            lines.append(t("announce.result_people_missed",
                           count=formatting.number(outcome.people - outcome.people_sent, t)))
        if outcome.groups_sent < outcome.groups:
            lines.append(t("announce.result_groups_missed",
                           count=formatting.number(outcome.groups - outcome.groups_sent, t)))
        result = Outgoing(author.telegram_user_id, Screen(" ".join(lines)), person_id=author.id)
        return await queue(tx, now, RESULT_KIND, unit_id, period, [result])
