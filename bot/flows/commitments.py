"""/commit (✍ Cam kết): the year's commitment, the self-assessment from 1/12, and for leaders
and observers who in their units has registered (x/y), with a reminder for the rest. Nothing in
a button is trusted: every press is checked again against the commitment's owner or the unit's
place."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any

from bot.flows.menu import menu_now
from bot.flows.reports import reporter_of
from bot.forms.conversations import Conversations, Refusal
from bot.forms.engine import Choice, DraftState, FormContext, list_items, start_at_summary
from bot.forms.spec import Field, FieldType, Form
from bot.rules.access import Action, Request, refusal_key
from bot.runtime.config import Settings
from bot.ui import formatting
from bot.ui.buttons import Between, ButtonData, Id
from bot.ui.catalogue import Catalogue, Texts
from bot.ui.screens import Button, Reply, Screen
from storage import audit, drafts, units
from storage import commitments as store
from storage.commitments import Commitment, Rating, Unregistered
from storage.entities import Draft, Unit

# A second reminder to the same people so soon would nag: they were just told.
REMIND_AGAIN_AFTER = dt.timedelta(hours=12)
NAMES_PER_UNIT = 30
RATING_KEYS = {
    Rating.EXCELLENT: "commitments.rating.excellent",
    Rating.GOOD: "commitments.rating.good",
    Rating.DONE: "commitments.rating.done",
    Rating.NOT_DONE: "commitments.rating.not_done",
}
STALE = "commitments.not_found"
log = logging.getLogger(__name__)

PLEDGE_MIN = 20
ACTION_MIN = 5
MAX_ACTIONS = 10

COMMITMENT_FORM = Form("commitment", (
    # Bản cam kết tu dưỡng, rèn luyện, phấn đấu
    Field("pledge", FieldType.LONG_TEXT, min=PLEDGE_MIN, max=3000),
    # Đăng ký nội dung học tập và làm theo Bác: one concrete action a line
    Field("actions", FieldType.LONG_TEXT, min=ACTION_MIN, max=3000, items=(1, MAX_ACTIONS)),
))

ASSESSMENT_FORM = Form("self_assessment", (
    Field("rating", FieldType.CHOICE, source="ratings"),
    Field("text", FieldType.LONG_TEXT, min=PLEDGE_MIN, max=3000),
))


class OpenCommitment(ButtonData, prefix="cm:form", action=Action.COMMIT):
    """Under a reminder to register: one's own commitment, or its form."""

    zero: Annotated[int, Between(0, 0)]


class CorrectCommitment(ButtonData, prefix="cm:edit", action=Action.COMMIT):
    commitment: Id


class AssessCommitment(ButtonData, prefix="cm:assess", action=Action.COMMIT):
    commitment: Id


class AskRemind(ButtonData, prefix="cm:remind", action=Action.COMMIT_REMIND):
    unit: Id


class Remind(ButtonData, prefix="cm:remind_yes", action=Action.COMMIT_REMIND):
    unit: Id


class DontRemind(ButtonData, prefix="cm:remind_no", action=Action.COMMIT_REMIND):
    unit: Id


Reminding = AskRemind | Remind | DontRemind
Press = OpenCommitment | CorrectCommitment | AssessCommitment | Reminding
BUTTONS = (OpenCommitment, CorrectCommitment, AssessCommitment, AskRemind, Remind, DontRemind)


def assessment_opens(year: int) -> dt.date:
    return dt.date(year, 12, 1)


def _local_day(settings: Settings, moment: dt.datetime) -> dt.date:
    return moment.astimezone(settings.zone).date()


async def _own_commitment(req: Request, commitment_id: int | None) -> Commitment:
    """The commitment if it is the requester's own; a Refusal (logged) otherwise. Button data
    and drafts come from the client, so the owner is read from the database every time."""
    commitment = await store.get_commitment(req.tx, commitment_id) if commitment_id else None
    if commitment is None:
        raise Refusal("commitments.not_found")
    denied = await req.check(Action.COMMIT, commitment.unit_id, commitment.person_id,
                             pressed=True)
    if denied is not None:
        key, params = await refusal_key(req.tx, req.actor, commitment.unit_id)
        raise Refusal(key, **params)
    return commitment


def _editable(req: Request, commitment: Commitment) -> bool:
    return commitment.year == req.today.year


class CommitmentKind:
    """The commitment form: a new one for this year, or (target set) a correction."""

    form = COMMITMENT_FORM

    async def context(self, req: Request, state: DraftState) -> FormContext:
        who = await reporter_of(req)
        if state.target is not None:
            commitment = await _own_commitment(req, state.target)
            if not _editable(req, commitment):
                raise Refusal("commitments.not_editable", year=commitment.year)
        elif await req.check(Action.COMMIT, who.unit.id, who.person.id) is not None:
            key, params = await refusal_key(req.tx, req.actor, who.unit.id)
            raise Refusal(key, **params)
        return FormContext(today=req.today)

    async def submit(self, req: Request, draft: Draft, state: DraftState) -> Reply:
        t, tx = req.t, req.tx
        who = await reporter_of(req)
        await drafts.delete_draft(tx, draft.id)
        pledge = state.answers["pledge"]
        # One action a line; a correction sent unchanged still carries the numbers it was shown.
        actions = "\n".join(list_items(state.answers["actions"]))
        menu = await menu_now(req)
        year = req.today.year
        actor = f"person:{who.person.id}"
        if state.target is None:
            commitment_id, new = await store.save_commitment(
                tx, person_id=who.person.id, unit_id=who.unit.id, year=year, pledge=pledge,
                actions=actions, now=req.now)
            await audit.record(tx, req.now, actor, "commit_create" if new else "commit_edit",
                               f"commitment:{commitment_id}", f"year:{year}")
            return Reply((Screen(t("commitments.registered", year=year), menu=menu),))
        existing = await store.get_commitment(tx, state.target)
        if existing is None or existing.person_id != who.person.id or existing.year != year:
            return Reply((Screen(t("commitments.not_editable", year=year), menu=menu),))
        await store.update_commitment(tx, existing.id, pledge, actions, req.now)
        await audit.record(tx, req.now, actor, "commit_edit", f"commitment:{existing.id}",
                           f"year:{existing.year}")
        return Reply((Screen(t("commitments.corrected", year=existing.year), menu=menu),))


class AssessmentKind:
    """The self-assessment of a commitment (target), from 1/12 of its year."""

    form = ASSESSMENT_FORM

    async def context(self, req: Request, state: DraftState) -> FormContext:
        await reporter_of(req)
        commitment = await _own_commitment(req, state.target)
        opens = assessment_opens(commitment.year)
        if req.today < opens:
            raise Refusal("commitments.assessment_not_open", date=formatting.day(opens))
        ratings = tuple(Choice(r.value, r.value, req.t.plain(key))
                        for r, key in RATING_KEYS.items())
        return FormContext(today=req.today, choices={"ratings": ratings})

    async def submit(self, req: Request, draft: Draft, state: DraftState) -> Reply:
        t, tx = req.t, req.tx
        who = await reporter_of(req)
        await drafts.delete_draft(tx, draft.id)
        menu = await menu_now(req)
        commitment = await store.get_commitment(tx, state.target or 0)
        if commitment is None or commitment.person_id != who.person.id:
            return Reply((Screen(t("commitments.not_found"), menu=menu),))
        rating = Rating(state.answers["rating"])
        await store.assess(tx, commitment.id, rating, state.answers["text"], req.now)
        await audit.record(tx, req.now, f"person:{who.person.id}", "commit_assess",
                           f"commitment:{commitment.id}",
                           f"year:{commitment.year} rating:{rating.value}")
        return Reply((Screen(t("commitments.assessed", year=commitment.year,
                               rating=t.plain(RATING_KEYS[rating])), menu=menu),))


def _answers(commitment: Commitment) -> dict[str, Any]:
    """The commitment as a pre-filled form; the actions numbered as everywhere else (the
    numbers go again when it is saved)."""
    numbered = [f"{n}. {action}" for n, action in enumerate(list_items(commitment.actions), 1)]
    return {"pledge": commitment.pledge, "actions": "\n".join(numbered)}


class Commitments:
    def __init__(self, settings: Settings, catalogue: Catalogue,
                 conversations: Conversations) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self.conversations = conversations

    # --- /commit ---------------------------------------------------------------------------

    async def open(self, req: Request) -> Reply:
        """The person's commitment for this year (or its form), and below it the units they
        lead or observe."""
        t = req.t
        year = req.today.year
        overview = await self._overview(req, year)
        try:
            who = await reporter_of(req)
        except Refusal as refusal:
            if overview is None:
                return Reply((Screen(t(refusal.key)),))
            return Reply(overview)
        denied = await req.check(Action.COMMIT, who.unit.id, who.person.id)
        if denied is not None:
            return denied
        commitment = await store.commitment_of(req.tx, who.person.id, year)
        if commitment is not None:
            return Reply((self._own_screen(req, commitment), *(overview or ())))
        begun = await self.conversations.begin(req, "commitment")
        if not begun.screens:
            return Reply((*(overview or ()), *begun.screens))
        step, *rest = begun.screens
        intro = t("commitments.intro", year=year)
        first = Screen(f"{intro}\n\n{step.text}", step.buttons)
        return Reply((*(overview or ()), first, *rest))

    def _own_screen(self, req: Request, commitment: Commitment) -> Screen:
        t, settings = req.t, self.settings
        lines: list[str] = [
            t("commitments.own_title", year=commitment.year,
              date=formatting.day(_local_day(settings, commitment.created_at)))]
        if commitment.updated_at != commitment.created_at and (
            commitment.assessed_at is None or commitment.updated_at != commitment.assessed_at
        ):
            lines.append(t("commitments.own_updated",
                           date=formatting.day(_local_day(settings, commitment.updated_at))))
        lines += ["", t("commitments.pledge_heading"), t("commitments.text",
                                                         text=commitment.pledge),
                  "", t("commitments.actions_heading")]
        lines += [t("commitments.action_line", number=number, text=action)
                  for number, action in enumerate(list_items(commitment.actions), start=1)]
        buttons: list[Button] = []
        if _editable(req, commitment):
            buttons.append(Button(t.plain("commitments.edit"),
                                  CorrectCommitment(commitment.id).pack()))
        opens = assessment_opens(commitment.year)
        assess = AssessCommitment(commitment.id).pack()
        if commitment.self_rating is not None and commitment.assessed_at is not None:
            lines += ["", t("commitments.assessment_heading",
                            date=formatting.day(_local_day(settings, commitment.assessed_at)),
                            rating=t.plain(RATING_KEYS[commitment.self_rating])),
                      t("commitments.text", text=commitment.self_assessment or "")]
            buttons.append(Button(t.plain("commitments.reassess"), assess))
        elif req.today >= opens:
            buttons.append(Button(t.plain("commitments.assess"), assess))
        else:
            lines += ["", t("commitments.assessment_later", date=formatting.day(opens))]
        return Screen("\n".join(lines), ((*buttons,),) if buttons else ())

    # --- the units seen from above -----------------------------------------------------------

    async def _tree(self, req: Request, root: Unit, depth: int = 0) -> list[tuple[Unit, int]]:
        found = [(root, depth)]
        for child in await units.children(req.tx, root.id):
            found += await self._tree(req, child, depth + 1)
        return found

    async def _overview(self, req: Request, year: int) -> tuple[Screen, ...] | None:
        """x/y per unit in reach and, under each unit, its own members not yet registered;
        a reminder button per unit the requester leads. None for someone who sees no unit."""
        t = req.t
        roots = await req.tops(Action.COMMIT_OVERVIEW)
        if not roots:
            return None
        lines: list[str] = [t("commitments.overview_title", year=year)]
        for root in roots:
            for unit, depth in await self._tree(req, root):
                lines += await self._unit_lines(req, unit, depth, year)
        buttons = []
        remindable = await req.tops(Action.COMMIT_REMIND)
        for root in remindable:
            if await self._recipients(req, root.id, year):
                label = t.plain("commitments.remind_button")
                if len(remindable) > 1:
                    label = t.plain("commitments.remind_button_in", unit=root.name)
                buttons.append((Button(label, AskRemind(root.id).pack()),))
        return (Screen("\n".join(lines), tuple(buttons)),)

    @staticmethod
    async def _unit_lines(req: Request, unit: Unit, depth: int, year: int) -> list[str]:
        t = req.t
        count = await store.registration(req.tx, await units.subtree_ids(req.tx, unit.id), year)
        if count.expected == 0 and depth > 0:
            return []
        indent = "    " * max(depth - 1, 0)
        key = "commitments.overview_root" if depth == 0 else "commitments.overview_unit"
        lines: list[str] = [t(key, indent=indent, unit=unit.name, registered=count.registered,
                              expected=count.expected, year=year)]
        missing = [p.full_name for p in await store.unregistered(req.tx, [unit.id], year)]
        if len(missing) > NAMES_PER_UNIT:
            lines.append(t("commitments.overview_missing_more", indent=indent,
                           names=", ".join(missing[:NAMES_PER_UNIT]),
                           more=len(missing) - NAMES_PER_UNIT))
        elif missing:
            lines.append(t("commitments.overview_missing", indent=indent,
                           names=", ".join(missing)))
        return lines

    # --- reminders ---------------------------------------------------------------------------

    @staticmethod
    async def _recipients(req: Request, unit_id: int, year: int) -> list[Unregistered]:
        """Who in the unit's subtree has not registered, the leader reminding excepted."""
        found = await store.unregistered(req.tx, await units.subtree_ids(req.tx, unit_id), year)
        return [p for p in found if not req.actor.owns(p.person_id)]

    async def _remind(self, req: Request, press: Reminding) -> Reply:
        t = req.t
        denied = await req.check(press.action, press.unit, pressed=True)
        unit = await units.get_unit(req.tx, press.unit)
        if denied is not None or unit is None:
            return denied or Reply(toast=t.plain(STALE))
        if isinstance(press, DontRemind):
            return Reply((Screen(t("commitments.remind_cancelled")),), replace=True)
        if self.settings.quiet_at(req.now):
            quiet = Screen(t("commitments.remind_quiet", start=self.settings.quiet_hours_start,
                             end=self.settings.quiet_hours_end))
            return Reply((quiet,), replace=isinstance(press, Remind))
        year = req.today.year
        everyone = await self._recipients(req, unit.id, year)
        reachable = [p for p in everyone if p.telegram_user_id is not None and p.reachable]
        unreachable = [p.full_name for p in everyone if p not in reachable]
        if isinstance(press, AskRemind):
            return Reply((self._confirmation(t, unit, reachable, unreachable),))
        last = await store.last_reminder(req.tx, unit.id, year)
        if last is not None and req.now - last < REMIND_AGAIN_AFTER:
            local = last.astimezone(self.settings.zone)
            return Reply((Screen(t("commitments.remind_recently", time=local.strftime("%H:%M"),
                                   date=formatting.day(local.date()))),), replace=True)
        notices = [(p.telegram_user_id, self._reminder(p, year)) for p in reachable
                   if p.telegram_user_id is not None]
        await audit.record(req.tx, req.now, req.actor.label, "commit_remind", f"unit:{unit.id}",
                           f"year:{year} sent:{len(notices)} skipped:{len(unreachable)}")
        text = t("commitments.reminded", count=len(notices), unit=unit.name)
        if unreachable:
            text = t("commitments.reminded_some", count=len(notices), unit=unit.name,
                     names=", ".join(unreachable))
        return Reply((Screen(text),), replace=True, notices=tuple(notices))

    @staticmethod
    def _confirmation(t: Texts, unit: Unit, reachable: list[Unregistered],
                      unreachable: list[str]) -> Screen:
        lines = []
        if reachable:
            lines.append(t("commitments.remind_confirm", count=len(reachable), unit=unit.name))
        else:
            lines.append(t("commitments.remind_nobody", unit=unit.name))
        if unreachable:
            lines.append(t("commitments.remind_unreachable", names=", ".join(unreachable)))
        buttons: tuple[tuple[Button, ...], ...] = ()
        if reachable:
            buttons = ((Button(t.plain("commitments.remind_yes"), Remind(unit.id).pack()),
                        Button(t.plain("commitments.remind_no"), DontRemind(unit.id).pack())),)
        return Screen("\n".join(lines), buttons)

    def _reminder(self, person: Unregistered, year: int) -> Screen:
        """The private nudge, in the member's own language."""
        t = self.catalogue.texts(person.lang)
        return Screen(t("commitments.remind_notice", name=person.full_name, year=year),
                      ((Button(t.plain("commitments.remind_open"), OpenCommitment(0).pack()),),))

    # --- presses -----------------------------------------------------------------------------

    async def press(self, req: Request, press: Press) -> Reply:
        if isinstance(press, AskRemind | Remind | DontRemind):
            return await self._remind(req, press)
        if isinstance(press, OpenCommitment):
            return await self.open(req)
        try:
            commitment = await _own_commitment(req, press.commitment)
            await reporter_of(req)
        except Refusal as refusal:
            return Reply(toast=req.t.plain(refusal.key))
        if isinstance(press, CorrectCommitment):
            return await self._edit(req, commitment)
        return await self._assess(req, commitment)

    async def _edit(self, req: Request, commitment: Commitment) -> Reply:
        if not _editable(req, commitment):
            return Reply(toast=req.t.plain("commitments.not_editable", year=commitment.year))
        state = start_at_summary(_answers(commitment), commitment.id)
        return await self.conversations.begin(req, "commitment", state=state)

    async def _assess(self, req: Request, commitment: Commitment) -> Reply:
        opens = assessment_opens(commitment.year)
        if req.today < opens:
            log.warning("user %s pressed self-assessment before %s", req.user_id, opens)
            return Reply(toast=req.t.plain("commitments.assessment_not_open",
                                           date=formatting.day(opens)))
        if commitment.self_rating is not None:
            answers = {"rating": commitment.self_rating.value,
                       "text": commitment.self_assessment or ""}
            state = start_at_summary(answers, commitment.id)
        else:
            state = DraftState(step=ASSESSMENT_FORM.fields[0].name, target=commitment.id)
        return await self.conversations.begin(req, "self_assessment", state=state)
