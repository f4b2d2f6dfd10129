"""Report on behalf (/behalf): a leader enters a report for a member without a phone.

First a member picker: the people who report in the units where the leader may report for
others, a page at a time, and "➕ Đồng chí chưa dùng Telegram", which asks the name of a member
with no Telegram account and adds them to a unit. Then the ordinary report form with
`for_person` set; bot/flows/reports.py records it as the member's, entered by the leader.
Button data: `ob:<verb>:<number>`, authorised again on every press like everything else:
`ob:page:<page>` (picker), `ob:for:<person id>` (also on a /members card), `ob:new:<page>`
(add someone: the units to choose from), `ob:unit:<unit id>` (add someone there).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from bot.flows.reports import FOR_PERSON, ReportKind, home_of
from bot.forms.conversations import Conversations, Refusal, texts_for
from bot.forms.engine import DraftState, FormContext
from bot.forms.spec import Field, FieldType, Form
from bot.rules.access import Action, Actor, actor_for, check, permits, units_in_reach
from bot.runtime.services import Sender, Services
from bot.ui.buttons import pack, verb_and_number
from bot.ui.catalogue import DEFAULT_LANGUAGE, Texts
from bot.ui.paging import page_of, turns
from bot.ui.screens import Button, Keyboard, Reply, Screen
from storage import audit, drafts, people, units
from storage.db import Tx
from storage.entities import Draft, Person, Role, Unit

PREFIX = "ob"
PAGE_SIZE = 10
NEW_MEMBER = "behalf_member"
UNIT = "unit_id"

NEW_MEMBER_FORM = Form(
    NEW_MEMBER,
    (Field("full_name", FieldType.TEXT, min=2, max=100),),
    summary=False,
)

log = logging.getLogger(__name__)
BeginReport = Callable[[Tx, Sender, int, int, Texts], Awaitable[Reply]]


def data(verb: str, arg: int = 0) -> str:
    return pack(PREFIX, verb, arg)


def parse(raw: str) -> tuple[str, int] | None:
    return verb_and_number(raw, PREFIX)


@dataclass(frozen=True)
class Candidate:
    person: Person
    unit: Unit  # where they report


class NewMemberKind:
    """The name of a member without Telegram, added to the unit in `state.extra["unit_id"]`;
    then straight on to the report for them."""

    form = NEW_MEMBER_FORM

    def __init__(self) -> None:
        # Set by OnBehalf, which has the conversations to start the report with.
        self.begin_report: BeginReport | None = None

    @staticmethod
    async def _target(tx: Tx, services: Services, user_id: int,
                      state: DraftState) -> tuple[Person, Unit]:
        actor = await actor_for(tx, services, user_id)
        unit_id = state.extra.get(UNIT)
        unit = await units.get_unit(tx, unit_id) if isinstance(unit_id, int) else None
        if actor.person is None:
            raise Refusal("behalf.needs_person")
        if unit is None or not await permits(tx, actor, Action.REPORT_ON_BEHALF, unit.id):
            raise Refusal("behalf.unit_not_allowed")
        return actor.person, unit

    async def context(self, tx: Tx, services: Services, user_id: int,
                      state: DraftState) -> FormContext:
        await self._target(tx, services, user_id, state)
        return FormContext(today=services.today())

    async def submit(self, tx: Tx, services: Services, draft: Draft, state: DraftState,
                     t: Texts) -> Reply:
        leader, unit = await self._target(tx, services, draft.telegram_user_id, state)
        await drafts.delete_draft(tx, draft.id)
        now = services.now()
        name = state.answers["full_name"]
        person = await people.add_person(tx, None, name, DEFAULT_LANGUAGE, now)
        await people.add_membership(tx, person.id, unit.id, Role.MEMBER, None, now)
        await audit.record(tx, now, f"person:{leader.id}", "add_member_without_telegram",
                           f"person:{person.id}", f"unit:{unit.id}")
        added = Screen(t("behalf.member_added", name=name, unit=unit.name))
        if self.begin_report is None:
            return Reply((added,))
        update_id = draft.recent_updates[-1] if draft.recent_updates else 0
        report = await self.begin_report(tx, Sender(draft.telegram_user_id, ""), update_id,
                                         person.id, t)
        return Reply((added, *report.screens))


class OnBehalf:
    def __init__(self, services: Services, conversations: Conversations,
                 report_kind: ReportKind) -> None:
        self.services = services
        self.conversations = conversations
        self.report_kind = report_kind
        kind = conversations.kinds.get(NEW_MEMBER)
        if isinstance(kind, NewMemberKind):
            kind.begin_report = self.begin_report

    # --- who may ----------------------------------------------------------------------------

    async def _refusal(self, tx: Tx, actor: Actor) -> str | None:
        """Why `actor` cannot report for anyone at all, if they cannot (logged)."""
        if actor.admin and actor.person is None:
            return "behalf.needs_person"
        if await units_in_reach(tx, actor, Action.REPORT_ON_BEHALF):
            return None
        log.warning("user %s refused %s", actor.user_id, Action.REPORT_ON_BEHALF)
        await audit.record(tx, self.services.now(), f"tg:{actor.user_id}", "refused",
                           Action.REPORT_ON_BEHALF.value, "behalf")
        return "behalf.leaders_only" if actor.known else "access.not_member"

    async def _candidates(self, tx: Tx, actor: Actor) -> list[Candidate]:
        """Everyone the actor may report for, unit by unit, by name; not the actor."""
        found: dict[int, Candidate] = {}
        me = actor.person.id if actor.person else None
        for unit in await units_in_reach(tx, actor, Action.REPORT_ON_BEHALF):
            for person in await people.reporting_members(tx, unit.id):
                if person.id in found or person.id == me:
                    continue
                try:
                    home = await home_of(tx, person)
                except Refusal:
                    continue
                if await permits(tx, actor, Action.REPORT_ON_BEHALF, home.unit.id, person.id):
                    found[person.id] = Candidate(person, home.unit)
        return list(found.values())

    # --- screens ----------------------------------------------------------------------------

    @staticmethod
    def _paged(items: list[Button], page: int, verb: str, t: Texts) -> tuple[Keyboard, str]:
        """One page of buttons, one a row, with ◀ ▶; and "Trang 2/3" when there are pages."""
        shown = page_of(items, page, PAGE_SIZE)
        keyboard: list[tuple[Button, ...]] = [(b,) for b in shown.items]
        keyboard += turns(t, shown, lambda number: data(verb, number))
        where = (t.plain("button.page", page=shown.number + 1, pages=shown.count)
                 if shown.count > 1 else "")
        return tuple(keyboard), where

    async def _picker(self, tx: Tx, actor: Actor, t: Texts, page: int) -> Screen:
        candidates = await self._candidates(tx, actor)
        several_units = len({c.unit.id for c in candidates}) > 1
        people_buttons = [
            Button(f"{c.person.full_name} · {c.unit.name}" if several_units
                   else c.person.full_name, data("for", c.person.id))
            for c in candidates
        ]
        keyboard, where = self._paged(people_buttons, page, "page", t)
        add = (Button(t.plain("behalf.new_member"), data("new")),)
        text = t("behalf.choose_member") if candidates else t("behalf.nobody_yet")
        if where:
            text = f"{text} ({where})"
        return Screen(text, (*keyboard, add))

    async def _headed(self, tx: Tx, sender: Sender, reply: Reply, form: str,
                      extra: dict[str, Any], header: str) -> Reply:
        """The form's first screen under a line saying whom or where it is for, when the form
        started (and not another one under way)."""
        draft = await drafts.draft_of(tx, sender.user_id)
        if draft is None or not reply.screens or draft.form != form or (
            DraftState.model_validate(draft.state).extra != extra
        ):
            return reply
        first = reply.screens[0]
        return replace(reply, screens=(Screen(f"{header}\n\n{first.text}", first.buttons),
                                       *reply.screens[1:]))

    async def begin_report(self, tx: Tx, sender: Sender, update_id: int, person_id: int,
                           t: Texts) -> Reply:
        """The report form for `person_id`, entered by the sender (already authorised)."""
        try:
            reply = await self.conversations.begin(tx, sender, update_id, "report", t,
                                                   for_person=person_id)
            person = await people.get_person(tx, person_id)
            if person is None:
                return reply
            home = await home_of(tx, person)
        except Refusal as refusal:
            return Reply((Screen(t(refusal.key, **refusal.params)),))
        header = t("behalf.report_header", name=person.full_name, unit=home.unit.name)
        return await self._headed(tx, sender, reply, "report", {FOR_PERSON: person_id}, header)

    async def _begin_new_member(self, tx: Tx, sender: Sender, update_id: int, unit: Unit,
                                t: Texts) -> Reply:
        try:
            reply = await self.conversations.begin(tx, sender, update_id, NEW_MEMBER, t,
                                                   unit_id=unit.id)
        except Refusal as refusal:
            return Reply((Screen(t(refusal.key, **refusal.params)),))
        header = t("behalf.new_member_header", unit=unit.name)
        return await self._headed(tx, sender, reply, NEW_MEMBER, {UNIT: unit.id}, header)

    # --- use cases --------------------------------------------------------------------------

    async def start(self, sender: Sender) -> Reply:
        """/behalf: the member picker."""
        async with self.services.db.transaction() as tx:
            t = await texts_for(tx, self.services, sender.user_id)
            actor = await actor_for(tx, self.services, sender.user_id)
            refusal = await self._refusal(tx, actor)
            if refusal is not None:
                return Reply((Screen(t(refusal)),))
            return Reply((await self._picker(tx, actor, t, 0),))

    async def act(self, sender: Sender, update_id: int, raw: str) -> Reply:
        """Any press on a button of the picker (or a /members card's "📝 Báo cáo thay")."""
        parsed = parse(raw)
        async with self.services.db.transaction() as tx:
            t = await texts_for(tx, self.services, sender.user_id)
            if parsed is None:
                return Reply(toast=t.plain("behalf.old_button"))
            verb, number = parsed
            actor = await actor_for(tx, self.services, sender.user_id)
            refusal = await self._refusal(tx, actor)
            if refusal is not None:
                return Reply(toast=t.plain(refusal))
            if verb == "page":
                return Reply((await self._picker(tx, actor, t, number),), replace=True)
            if verb == "for":
                return await self._report_for(tx, sender, update_id, actor, number, t)
            if verb == "new":
                return await self._new_member(tx, sender, update_id, actor, number, t)
            if verb == "unit":
                return await self._new_member_in(tx, sender, update_id, actor, number, t)
            return Reply(toast=t.plain("behalf.old_button"))

    async def _report_for(self, tx: Tx, sender: Sender, update_id: int, actor: Actor,
                          person_id: int, t: Texts) -> Reply:
        person = await people.get_person(tx, person_id)
        try:
            home = await home_of(tx, person) if person is not None else None
        except Refusal:
            home = None
        if person is None or home is None:
            log.warning("user %s asked to report for person %s, not found", sender.user_id,
                        person_id)
            return Reply(toast=t.plain("behalf.not_found"))
        refusal = await check(tx, self.services, actor, Action.REPORT_ON_BEHALF, home.unit.id,
                              person.id, pressed=True)
        if refusal is not None:
            own = actor.person is not None and person.id == actor.person.id
            return Reply(toast=t.plain("behalf.self")) if own else refusal
        return await self.begin_report(tx, sender, update_id, person.id, t)

    async def _new_member(self, tx: Tx, sender: Sender, update_id: int, actor: Actor,
                          page: int, t: Texts) -> Reply:
        """➕: the units to add someone to, or straight to the name when there is one."""
        reach = await units_in_reach(tx, actor, Action.REPORT_ON_BEHALF)
        if len(reach) == 1:
            return await self._begin_new_member(tx, sender, update_id, reach[0], t)
        choices = [Button(unit.name, data("unit", unit.id)) for unit in reach]
        keyboard, where = self._paged(choices, page, "new", t)
        text = t("behalf.choose_unit")
        if where:
            text = f"{text} ({where})"
        return Reply((Screen(text, keyboard),), replace=True)

    async def _new_member_in(self, tx: Tx, sender: Sender, update_id: int, actor: Actor,
                             unit_id: int, t: Texts) -> Reply:
        unit = await units.get_unit(tx, unit_id)
        if unit is None:
            return Reply(toast=t.plain("behalf.old_button"))
        refusal = await check(tx, self.services, actor, Action.REPORT_ON_BEHALF, unit.id,
                              pressed=True)
        if refusal is not None:
            return refusal
        return await self._begin_new_member(tx, sender, update_id, unit, t)
