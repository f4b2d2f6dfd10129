"""/commit (✍ Cam kết): the year's commitment, the self-assessment from 1/12, and for leaders
and observers who in their units has registered (x/y), with a reminder for the rest.

Button data: `cm:<verb>:<number>`. `form` opens the commitment (from a reminder), `edit` and
`assess` name a commitment, `remind`, `remind_yes` and `remind_no` a unit. Nothing in it is
trusted: every press is checked again against the commitment's owner or the unit's place."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from bot.flows.menu import menu_for
from bot.flows.reports import Reporter, ReportKind, reporter_for
from bot.forms.conversations import Conversations, Refusal, texts_for
from bot.forms.engine import Choice, DraftState, FormContext, list_items, start_at_summary
from bot.forms.spec import Field, FieldType, Form
from bot.rules.access import Action, Actor, actor_for, check, units_in_reach
from bot.runtime.services import Sender, Services
from bot.ui import formatting
from bot.ui.buttons import pack, verb_and_number
from bot.ui.catalogue import Texts
from bot.ui.screens import Button, Reply, Screen
from storage import audit, drafts, units
from storage import commitments as store
from storage.commitments import Commitment, Rating, Unregistered
from storage.db import Tx
from storage.entities import Draft, Unit

PREFIX = "cm"
# A second reminder to the same people so soon would nag: they were just told.
REMIND_AGAIN_AFTER = dt.timedelta(hours=12)
NAMES_PER_UNIT = 30
RATING_KEYS = {
    Rating.EXCELLENT: "commitments.rating.excellent",
    Rating.GOOD: "commitments.rating.good",
    Rating.DONE: "commitments.rating.done",
    Rating.NOT_DONE: "commitments.rating.not_done",
}
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



def _data(verb: str, arg: int = 0) -> str:
    return pack(PREFIX, verb, arg)


def parse(data: str) -> tuple[str, int] | None:
    return verb_and_number(data, PREFIX)


def assessment_opens(year: int) -> dt.date:
    return dt.date(year, 12, 1)


def _local_day(services: Services, moment: dt.datetime) -> dt.date:
    return moment.astimezone(services.settings.zone).date()


async def _own_commitment(tx: Tx, services: Services, actor: Actor,
                          commitment_id: int | None) -> Commitment:
    """The commitment if it is the actor's own; a Refusal (logged) otherwise. Button data and
    drafts come from the client, so the owner is read from the database every time."""
    commitment = await store.get_commitment(tx, commitment_id) if commitment_id else None
    if commitment is None:
        raise Refusal("commitments.not_found")
    denied = await check(tx, services, actor, Action.COMMIT, commitment.unit_id,
                         commitment.person_id, pressed=True)
    if denied is not None:
        raise Refusal("access.denied" if actor.known else "access.not_member")
    return commitment


def _editable(services: Services, commitment: Commitment) -> bool:
    return commitment.year == services.today().year


class CommitmentKind:
    """The commitment form: a new one for this year, or (target set) a correction."""

    form = COMMITMENT_FORM

    async def context(self, tx: Tx, services: Services, user_id: int,
                      state: DraftState) -> FormContext:
        who = await reporter_for(tx, user_id)
        if state.target is not None:
            actor = await actor_for(tx, services, user_id)
            commitment = await _own_commitment(tx, services, actor, state.target)
            if not _editable(services, commitment):
                raise Refusal("commitments.not_editable", year=commitment.year)
        elif await check(tx, services, await actor_for(tx, services, user_id), Action.COMMIT,
                         who.unit.id, who.person.id) is not None:
            raise Refusal("access.denied")
        return FormContext(today=services.today())

    async def submit(self, tx: Tx, services: Services, draft: Draft, state: DraftState,
                     t: Texts) -> Reply:
        who = await reporter_for(tx, draft.telegram_user_id)
        await drafts.delete_draft(tx, draft.id)
        pledge = state.answers["pledge"]
        # One action a line; a correction sent unchanged still carries the numbers it was shown.
        actions = "\n".join(list_items(state.answers["actions"]))
        now = services.now()
        menu = await menu_for(tx, services, draft.telegram_user_id, t)
        year = services.today().year
        actor = f"person:{who.person.id}"
        if state.target is None:
            commitment_id, new = await store.save_commitment(
                tx, person_id=who.person.id, unit_id=who.unit.id, year=year, pledge=pledge,
                actions=actions, now=now)
            await audit.record(tx, now, actor, "commit_create" if new else "commit_edit",
                               f"commitment:{commitment_id}", f"year:{year}")
            return Reply((Screen(t("commitments.registered", year=year), menu=menu),))
        existing = await store.get_commitment(tx, state.target)
        if existing is None or existing.person_id != who.person.id or existing.year != year:
            return Reply((Screen(t("commitments.not_editable", year=year), menu=menu),))
        await store.update_commitment(tx, existing.id, pledge, actions, now)
        await audit.record(tx, now, actor, "commit_edit", f"commitment:{existing.id}",
                           f"year:{existing.year}")
        return Reply((Screen(t("commitments.corrected", year=existing.year), menu=menu),))



class AssessmentKind:
    """The self-assessment of a commitment (target), from 1/12 of its year."""

    form = ASSESSMENT_FORM

    async def context(self, tx: Tx, services: Services, user_id: int,
                      state: DraftState) -> FormContext:
        await reporter_for(tx, user_id)
        actor = await actor_for(tx, services, user_id)
        commitment = await _own_commitment(tx, services, actor, state.target)
        opens = assessment_opens(commitment.year)
        if services.today() < opens:
            raise Refusal("commitments.assessment_not_open", date=formatting.day(opens))
        t = await texts_for(tx, services, user_id)
        ratings = tuple(Choice(r.value, r.value, t.plain(key)) for r, key in RATING_KEYS.items())
        return FormContext(today=services.today(), choices={"ratings": ratings})

    async def submit(self, tx: Tx, services: Services, draft: Draft, state: DraftState,
                     t: Texts) -> Reply:
        who = await reporter_for(tx, draft.telegram_user_id)
        await drafts.delete_draft(tx, draft.id)
        menu = await menu_for(tx, services, draft.telegram_user_id, t)
        commitment = await store.get_commitment(tx, state.target or 0)
        if commitment is None or commitment.person_id != who.person.id:
            return Reply((Screen(t("commitments.not_found"), menu=menu),))
        rating = Rating(state.answers["rating"])
        now = services.now()
        await store.assess(tx, commitment.id, rating, state.answers["text"], now)
        await audit.record(tx, now, f"person:{who.person.id}", "commit_assess",
                           f"commitment:{commitment.id}",
                           f"year:{commitment.year} rating:{rating.value}")
        return Reply((Screen(t("commitments.assessed", year=commitment.year,
                               rating=t.plain(RATING_KEYS[rating])), menu=menu),))


def _answers(commitment: Commitment) -> dict[str, Any]:
    """The commitment as a pre-filled form; the actions numbered as everywhere else (the
    numbers go again when it is saved)."""
    numbered = [f"{n}. {action}" for n, action in enumerate(list_items(commitment.actions), 1)]
    return {"pledge": commitment.pledge, "actions": "\n".join(numbered)}


def _roots(reach: list[Unit]) -> list[Unit]:
    """The highest units of a reach (each reach unit is followed by those below it)."""
    ids = {u.id for u in reach}
    return [u for u in reach if u.parent_id not in ids]


class Commitments:
    def __init__(self, services: Services, conversations: Conversations,
                 report_kind: ReportKind) -> None:
        self.services = services
        self.conversations = conversations
        self.report_kind = report_kind

    # --- /commit ---------------------------------------------------------------------------

    async def show(self, sender: Sender, update_id: int) -> Reply:
        """The person's commitment for this year (or its form), and below it the units they
        lead or observe."""
        async with self.services.db.transaction() as tx:
            return await self._show(tx, sender, update_id)

    async def _show(self, tx: Tx, sender: Sender, update_id: int) -> Reply:
        t = await texts_for(tx, self.services, sender.user_id)
        actor = await actor_for(tx, self.services, sender.user_id)
        year = self.services.today().year
        overview = await self._overview(tx, actor, t, year)
        try:
            who: Reporter | None = await reporter_for(tx, sender.user_id)
        except Refusal as refusal:
            if overview is None:
                return Reply((Screen(t(refusal.key)),))
            who = None
        if who is None:
            return Reply(overview)
        denied = await check(tx, self.services, actor, Action.COMMIT, who.unit.id,
                             who.person.id)
        if denied is not None:
            return denied
        commitment = await store.commitment_of(tx, who.person.id, year)
        if commitment is not None:
            own = self._own_screen(commitment, t)
            return Reply((own, *(overview or ())))
        begun = await self.conversations.begin(tx, sender, update_id, "commitment", t)
        if not begun.screens:
            return Reply((*(overview or ()), *begun.screens))
        step, *rest = begun.screens
        intro = t("commitments.intro", year=year)
        first = Screen(f"{intro}\n\n{step.text}", step.buttons)
        return Reply((*(overview or ()), first, *rest))

    def _own_screen(self, commitment: Commitment, t: Texts) -> Screen:
        services = self.services
        lines = [t("commitments.own_title", year=commitment.year,
                   date=formatting.day(_local_day(services, commitment.created_at)))]
        if commitment.updated_at != commitment.created_at and (
            commitment.assessed_at is None or commitment.updated_at != commitment.assessed_at
        ):
            lines.append(t("commitments.own_updated",
                           date=formatting.day(_local_day(services, commitment.updated_at))))
        lines += ["", t("commitments.pledge_heading"), t("commitments.text",
                                                         text=commitment.pledge),
                  "", t("commitments.actions_heading")]
        lines += [t("commitments.action_line", number=number, text=action)
                  for number, action in enumerate(list_items(commitment.actions), start=1)]
        buttons: list[Button] = []
        if _editable(services, commitment):
            buttons.append(Button(t.plain("commitments.edit"), _data("edit", commitment.id)))
        opens = assessment_opens(commitment.year)
        if commitment.self_rating is not None and commitment.assessed_at is not None:
            lines += ["", t("commitments.assessment_heading",
                            date=formatting.day(_local_day(services, commitment.assessed_at)),
                            rating=t.plain(RATING_KEYS[commitment.self_rating])),
                      t("commitments.text", text=commitment.self_assessment or "")]
            buttons.append(Button(t.plain("commitments.reassess"),
                                  _data("assess", commitment.id)))
        elif services.today() >= opens:
            buttons.append(Button(t.plain("commitments.assess"), _data("assess", commitment.id)))
        else:
            lines += ["", t("commitments.assessment_later", date=formatting.day(opens))]
        return Screen("\n".join(lines), ((*buttons,),) if buttons else ())

    # --- the units seen from above -----------------------------------------------------------

    async def _tree(self, tx: Tx, root: Unit, depth: int = 0) -> list[tuple[Unit, int]]:
        found = [(root, depth)]
        for child in await units.children(tx, root.id):
            found += await self._tree(tx, child, depth + 1)
        return found

    async def _overview(self, tx: Tx, actor: Actor, t: Texts,
                        year: int) -> tuple[Screen, ...] | None:
        """x/y per unit in reach and, under each unit, its own members not yet registered;
        a reminder button per unit the actor leads. None for someone who sees no unit."""
        reach = await units_in_reach(tx, actor, Action.COMMIT_OVERVIEW)
        if not reach:
            return None
        lines = [t("commitments.overview_title", year=year)]
        for root in _roots(reach):
            for unit, depth in await self._tree(tx, root):
                lines += await self._unit_lines(tx, unit, depth, t, year)
        buttons = []
        remindable = _roots(await units_in_reach(tx, actor, Action.COMMIT_REMIND))
        for root in remindable:
            if await self._recipients(tx, actor, root.id, year):
                label = t.plain("commitments.remind_button")
                if len(remindable) > 1:
                    label = t.plain("commitments.remind_button_in", unit=root.name)
                buttons.append((Button(label, _data("remind", root.id)),))
        return (Screen("\n".join(lines), tuple(buttons)),)

    async def _unit_lines(self, tx: Tx, unit: Unit, depth: int, t: Texts,
                          year: int) -> list[str]:
        count = await store.registration(tx, await units.subtree_ids(tx, unit.id), year)
        if count.expected == 0 and depth > 0:
            return []
        indent = "    " * max(depth - 1, 0)
        key = "commitments.overview_root" if depth == 0 else "commitments.overview_unit"
        lines = [t(key, indent=indent, unit=unit.name, registered=count.registered,
                   expected=count.expected, year=year)]
        missing = [p.full_name for p in await store.unregistered(tx, [unit.id], year)]
        if len(missing) > NAMES_PER_UNIT:
            lines.append(t("commitments.overview_missing_more", indent=indent,
                           names=", ".join(missing[:NAMES_PER_UNIT]),
                           more=len(missing) - NAMES_PER_UNIT))
        elif missing:
            lines.append(t("commitments.overview_missing", indent=indent,
                           names=", ".join(missing)))
        return lines

    # --- reminders ---------------------------------------------------------------------------

    async def _recipients(self, tx: Tx, actor: Actor, unit_id: int,
                          year: int) -> list[Unregistered]:
        """Who in the unit's subtree has not registered, the leader reminding excepted."""
        me = actor.person.id if actor.person else None
        found = await store.unregistered(tx, await units.subtree_ids(tx, unit_id), year)
        return [p for p in found if p.person_id != me]

    def _quiet_screen(self, t: Texts) -> Screen:
        settings = self.services.settings
        return Screen(t("commitments.remind_quiet", start=settings.quiet_hours_start,
                        end=settings.quiet_hours_end))

    async def _remind(self, tx: Tx, actor: Actor, t: Texts, verb: str, unit_id: int) -> Reply:
        denied = await check(tx, self.services, actor, Action.COMMIT_REMIND, unit_id,
                             pressed=True)
        unit = await units.get_unit(tx, unit_id)
        if denied is not None or unit is None:
            return denied or Reply(toast=t.plain("commitments.not_found"))
        if verb == "remind_no":
            return Reply((Screen(t("commitments.remind_cancelled")),), replace=True)
        if self.services.quiet_now():
            return Reply((self._quiet_screen(t),), replace=verb == "remind_yes")
        year = self.services.today().year
        everyone = await self._recipients(tx, actor, unit_id, year)
        reachable = [p for p in everyone if p.telegram_user_id is not None and p.reachable]
        unreachable = [p.full_name for p in everyone if p not in reachable]
        if verb == "remind":
            return Reply((self._confirmation(t, unit, reachable, unreachable),))
        last = await store.last_reminder(tx, unit_id, year)
        if last is not None and self.services.now() - last < REMIND_AGAIN_AFTER:
            local = last.astimezone(self.services.settings.zone)
            return Reply((Screen(t("commitments.remind_recently", time=local.strftime("%H:%M"),
                                   date=formatting.day(local.date()))),), replace=True)
        notices = [(p.telegram_user_id, self._reminder(p, year)) for p in reachable
                   if p.telegram_user_id is not None]
        who = f"person:{actor.person.id}" if actor.person else f"tg:{actor.user_id}"
        await audit.record(tx, self.services.now(), who, "commit_remind", f"unit:{unit_id}",
                           f"year:{year} sent:{len(notices)} skipped:{len(unreachable)}")
        text = t("commitments.reminded", count=len(notices), unit=unit.name)
        if unreachable:
            text = t("commitments.reminded_some", count=len(notices), unit=unit.name,
                     names=", ".join(unreachable))
        return Reply((Screen(text),), replace=True, notices=tuple(notices))

    def _confirmation(self, t: Texts, unit: Unit, reachable: list[Unregistered],
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
            buttons = ((Button(t.plain("commitments.remind_yes"), _data("remind_yes", unit.id)),
                        Button(t.plain("commitments.remind_no"), _data("remind_no", unit.id))),)
        return Screen("\n".join(lines), buttons)

    def _reminder(self, person: Unregistered, year: int) -> Screen:
        """The private nudge, in the member's own language."""
        t = self.services.texts(person.lang)
        return Screen(t("commitments.remind_notice", name=person.full_name, year=year),
                      ((Button(t.plain("commitments.remind_open"), _data("form")),),))

    # --- presses -----------------------------------------------------------------------------

    async def act(self, sender: Sender, update_id: int, data: str) -> Reply:
        parsed = parse(data)
        async with self.services.db.transaction() as tx:
            t = await texts_for(tx, self.services, sender.user_id)
            if parsed is None:
                return Reply(toast=t.plain("commitments.not_found"))
            verb, number = parsed
            actor = await actor_for(tx, self.services, sender.user_id)
            if verb in ("remind", "remind_yes", "remind_no"):
                return await self._remind(tx, actor, t, verb, number)
            if verb == "form":
                return await self._show(tx, sender, update_id)
            if verb not in ("edit", "assess"):
                return Reply(toast=t.plain("commitments.not_found"))
            try:
                commitment = await _own_commitment(tx, self.services, actor, number)
                await reporter_for(tx, sender.user_id)
            except Refusal as refusal:
                return Reply(toast=t.plain(refusal.key))
            if verb == "edit":
                return await self._edit(tx, sender, update_id, commitment, t)
            return await self._assess(tx, sender, update_id, commitment, t)

    async def _edit(self, tx: Tx, sender: Sender, update_id: int, commitment: Commitment,
                    t: Texts) -> Reply:
        if not _editable(self.services, commitment):
            return Reply(toast=t.plain("commitments.not_editable", year=commitment.year))
        state = start_at_summary(_answers(commitment), commitment.id)
        return await self.conversations.begin(tx, sender, update_id, "commitment", t,
                                              state=state)

    async def _assess(self, tx: Tx, sender: Sender, update_id: int, commitment: Commitment,
                      t: Texts) -> Reply:
        opens = assessment_opens(commitment.year)
        if self.services.today() < opens:
            log.warning("user %s pressed self-assessment before %s", sender.user_id, opens)
            return Reply(toast=t.plain("commitments.assessment_not_open",
                                       date=formatting.day(opens)))
        if commitment.self_rating is not None:
            answers = {"rating": commitment.self_rating.value,
                       "text": commitment.self_assessment or ""}
            state = start_at_summary(answers, commitment.id)
        else:
            state = DraftState(step=ASSESSMENT_FORM.fields[0].name, target=commitment.id)
        return await self.conversations.begin(tx, sender, update_id, "self_assessment", t,
                                              state=state)
