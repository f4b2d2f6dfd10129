"""Report on behalf (/behalf): a leader enters a report for a member without a phone.

First a member picker: the people who report in the units where the leader may report for
others, a page at a time, and "➕ Đồng chí chưa dùng Telegram", which asks the name of a member
with no Telegram account and adds them to a unit. Then the ordinary report form with
`for_person` set; bot/flows/reports.py records it as the member's, entered by the leader.
Every press is authorised again, like everything else; "📝 Báo cáo thay" on a /members card is
this flow's `ReportFor` too.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from bot.flows.reports import FOR_PERSON, home_of
from bot.forms.conversations import Conversations, Refusal
from bot.forms.engine import DraftState, FormContext
from bot.forms.spec import Field, FieldType, Form
from bot.rules.access import Action, Request
from bot.ui.buttons import ButtonData, Id, Page
from bot.ui.catalogue import DEFAULT_LANGUAGE, Texts
from bot.ui.paging import page_of, turns
from bot.ui.screens import Button, Keyboard, Reply, Screen
from storage import audit, drafts, people, units
from storage.entities import Draft, Person, Role, Unit

PAGE_SIZE = 10
NEW_MEMBER = "behalf_member"
UNIT = "unit_id"
STALE = "behalf.old_button"

NEW_MEMBER_FORM = Form(
    NEW_MEMBER,
    (Field("full_name", FieldType.TEXT, min=2, max=100),),
    summary=False,
)

log = logging.getLogger(__name__)
BeginReport = Callable[[Request, int], Awaitable[Reply]]


class MemberPage(ButtonData, prefix="ob:page", action=Action.REPORT_ON_BEHALF):
    page: Page


class ReportFor(ButtonData, prefix="ob:for", action=Action.REPORT_ON_BEHALF):
    person: Id


class NewMemberUnits(ButtonData, prefix="ob:new", action=Action.REPORT_ON_BEHALF):
    """➕ someone without Telegram: the units to add them to, a page of them."""

    page: Page


class NewMemberIn(ButtonData, prefix="ob:unit", action=Action.REPORT_ON_BEHALF):
    unit: Id


Press = MemberPage | ReportFor | NewMemberUnits | NewMemberIn
BUTTONS = (MemberPage, ReportFor, NewMemberUnits, NewMemberIn)


@dataclass(frozen=True)
class Candidate:
    person: Person
    unit: Unit  # where they report


class NewMemberKind:
    """The name of a member without Telegram, added to the unit in `state.extra["unit_id"]`;
    then straight on to the report for them."""

    form = NEW_MEMBER_FORM

    def __init__(self) -> None:
        # Set by Behalf, which has the conversations to start the report with.
        self.begin_report: BeginReport | None = None

    @staticmethod
    async def _target(req: Request, state: DraftState) -> tuple[Person, Unit]:
        unit_id = state.extra.get(UNIT)
        unit = await units.get_unit(req.tx, unit_id) if isinstance(unit_id, int) else None
        if req.actor.person is None:
            raise Refusal("behalf.needs_person")
        if unit is None or not await req.may(Action.REPORT_ON_BEHALF, unit.id):
            raise Refusal("behalf.unit_not_allowed")
        return req.actor.person, unit

    async def context(self, req: Request, state: DraftState) -> FormContext:
        await self._target(req, state)
        return FormContext(today=req.today)

    async def submit(self, req: Request, draft: Draft, state: DraftState) -> Reply:
        leader, unit = await self._target(req, state)
        await drafts.delete_draft(req.tx, draft.id)
        name = state.answers["full_name"]
        person = await people.add_person(req.tx, None, name, DEFAULT_LANGUAGE, req.now)
        await people.add_membership(req.tx, person.id, unit.id, Role.MEMBER, None, req.now)
        await audit.record(req.tx, req.now, f"person:{leader.id}", "add_member_without_telegram",
                           f"person:{person.id}", f"unit:{unit.id}")
        added = Screen(req.t("behalf.member_added", name=name, unit=unit.name))
        if self.begin_report is None:
            return Reply((added,))
        report = await self.begin_report(req, person.id)
        return Reply((added, *report.screens))


class Behalf:
    def __init__(self, conversations: Conversations) -> None:
        self.conversations = conversations
        kind = conversations.kinds.get(NEW_MEMBER)
        if isinstance(kind, NewMemberKind):
            kind.begin_report = self.begin_report

    # --- who may ----------------------------------------------------------------------------

    @staticmethod
    async def _refusal(req: Request) -> str | None:
        """Why the requester cannot report for anyone at all, if they cannot (logged)."""
        actor = req.actor
        if actor.admin and actor.person is None:
            return "behalf.needs_person"
        if await req.reach(Action.REPORT_ON_BEHALF):
            return None
        log.warning("user %s refused %s", actor.user_id, Action.REPORT_ON_BEHALF)
        await audit.record(req.tx, req.now, f"tg:{actor.user_id}", "refused",
                           Action.REPORT_ON_BEHALF.value, "behalf")
        return "behalf.leaders_only" if actor.known else "access.not_member"

    @staticmethod
    async def _candidates(req: Request) -> list[Candidate]:
        """Everyone the requester may report for, unit by unit, by name; not themselves."""
        found: dict[int, Candidate] = {}
        for unit in await req.reach(Action.REPORT_ON_BEHALF):
            for person in await people.reporting_members(req.tx, unit.id):
                if person.id in found or req.actor.owns(person.id):
                    continue
                try:
                    home = await home_of(req.tx, person)
                except Refusal:
                    continue
                if await req.may(Action.REPORT_ON_BEHALF, home.unit.id, person.id):
                    found[person.id] = Candidate(person, home.unit)
        return list(found.values())

    # --- screens ----------------------------------------------------------------------------

    @staticmethod
    def _paged(items: list[Button], page: int, turn: Callable[[int], str],
               t: Texts) -> tuple[Keyboard, str]:
        """One page of buttons, one a row, with ◀ ▶; and "Trang 2/3" when there are pages."""
        shown = page_of(items, page, PAGE_SIZE)
        keyboard: list[tuple[Button, ...]] = [(b,) for b in shown.items]
        keyboard += turns(t, shown, turn)
        where = (t.plain("button.page", page=shown.number + 1, pages=shown.count)
                 if shown.count > 1 else "")
        return tuple(keyboard), where

    async def _picker(self, req: Request, page: int) -> Screen:
        t = req.t
        candidates = await self._candidates(req)
        several_units = len({c.unit.id for c in candidates}) > 1
        people_buttons = [
            Button(f"{c.person.full_name} · {c.unit.name}" if several_units
                   else c.person.full_name, ReportFor(c.person.id).pack())
            for c in candidates
        ]
        keyboard, where = self._paged(people_buttons, page, lambda n: MemberPage(n).pack(), t)
        add = (Button(t.plain("behalf.new_member"), NewMemberUnits(0).pack()),)
        text: str = t("behalf.choose_member") if candidates else t("behalf.nobody_yet")
        if where:
            text = f"{text} ({where})"
        return Screen(text, (*keyboard, add))

    @staticmethod
    async def _headed(req: Request, reply: Reply, form: str, extra: dict[str, Any],
                      header: str) -> Reply:
        """The form's first screen under a line saying whom or where it is for, when the form
        started (and not another one under way)."""
        draft = await drafts.draft_of(req.tx, req.user_id)
        if draft is None or not reply.screens or draft.form != form or (
            DraftState.model_validate(draft.state).extra != extra
        ):
            return reply
        first = reply.screens[0]
        return replace(reply, screens=(Screen(f"{header}\n\n{first.text}", first.buttons),
                                       *reply.screens[1:]))

    async def begin_report(self, req: Request, person_id: int) -> Reply:
        """The report form for `person_id`, entered by the requester (already authorised)."""
        t = req.t
        try:
            reply = await self.conversations.begin(req, "report", for_person=person_id)
            person = await people.get_person(req.tx, person_id)
            if person is None:
                return reply
            home = await home_of(req.tx, person)
        except Refusal as refusal:
            return Reply((Screen(t(refusal.key, **refusal.params)),))
        header = t("behalf.report_header", name=person.full_name, unit=home.unit.name)
        return await self._headed(req, reply, "report", {FOR_PERSON: person_id}, header)

    async def _begin_new_member(self, req: Request, unit: Unit) -> Reply:
        try:
            reply = await self.conversations.begin(req, NEW_MEMBER, unit_id=unit.id)
        except Refusal as refusal:
            return Reply((Screen(req.t(refusal.key, **refusal.params)),))
        header = req.t("behalf.new_member_header", unit=unit.name)
        return await self._headed(req, reply, NEW_MEMBER, {UNIT: unit.id}, header)

    # --- use cases --------------------------------------------------------------------------

    async def open(self, req: Request) -> Reply:
        """/behalf: the member picker."""
        refusal = await self._refusal(req)
        if refusal is not None:
            return Reply((Screen(req.t(refusal)),))
        return Reply((await self._picker(req, 0),))

    async def press(self, req: Request, press: Press) -> Reply:
        """Any press on a button of the picker (or a /members card's "📝 Báo cáo thay")."""
        refusal = await self._refusal(req)
        if refusal is not None:
            return Reply(toast=req.t.plain(refusal))
        if isinstance(press, MemberPage):
            return Reply((await self._picker(req, press.page),), replace=True)
        if isinstance(press, ReportFor):
            return await self._report_for(req, press)
        if isinstance(press, NewMemberUnits):
            return await self._new_member(req, press.page)
        return await self._new_member_in(req, press)

    async def _report_for(self, req: Request, press: ReportFor) -> Reply:
        t = req.t
        person = await people.get_person(req.tx, press.person)
        try:
            home = await home_of(req.tx, person) if person is not None else None
        except Refusal:
            home = None
        if person is None or home is None:
            log.warning("user %s asked to report for person %s, not found", req.user_id,
                        press.person)
            return Reply(toast=t.plain("behalf.not_found"))
        refusal = await req.check(press.action, home.unit.id, person.id, pressed=True)
        if refusal is not None:
            return Reply(toast=t.plain("behalf.self")) if req.actor.owns(person.id) else refusal
        return await self.begin_report(req, person.id)

    async def _new_member(self, req: Request, page: int) -> Reply:
        """➕: the units to add someone to, or straight to the name when there is one."""
        reach = await req.reach(Action.REPORT_ON_BEHALF)
        if len(reach) == 1:
            return await self._begin_new_member(req, reach[0])
        choices = [Button(unit.name, NewMemberIn(unit.id).pack()) for unit in reach]
        keyboard, where = self._paged(choices, page, lambda n: NewMemberUnits(n).pack(), req.t)
        text: str = req.t("behalf.choose_unit")
        if where:
            text = f"{text} ({where})"
        return Reply((Screen(text, keyboard),), replace=True)

    async def _new_member_in(self, req: Request, press: NewMemberIn) -> Reply:
        unit = await units.get_unit(req.tx, press.unit)
        if unit is None:
            return Reply(toast=req.t.plain(STALE))
        refusal = await req.check(press.action, unit.id, pressed=True)
        if refusal is not None:
            return refusal
        return await self._begin_new_member(req, unit)
