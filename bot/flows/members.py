"""/members (👥 Đảng viên): a unit's people, who reported this week; excuse, move, give or
take a leader role, remove.

A button on a person's card names a membership and is never trusted: every press reads the row
again and is checked, as the action its kind of button was declared with, against the row's
real unit and person.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Annotated

from bot.flows.behalf import ReportFor
from bot.flows.menu import menu_now
from bot.rules.access import Action, Request, refuse
from bot.rules.counting import Basis, participants
from bot.rules.levels import CHI_BO, TO_DANG, level_of
from bot.rules.periods import Period, week_of
from bot.runtime.config import Settings
from bot.ui.buttons import Between, ButtonData, Id, Page
from bot.ui.catalogue import Catalogue, Markup, Texts
from bot.ui.formatting import period_span
from bot.ui.paging import page_of, turns
from bot.ui.screens import Button, Reply, Screen, rows
from storage import audit, units
from storage import members as store
from storage.entities import Role, Unit
from storage.members import MembershipRow, UnitPerson

PAGE_SIZE = 10
UNITS_PAGE = 8
STALE = "members.not_found"

# Leader titles are stored as these codes; a title written some other way is shown as it is.
TITLES = {
    "bi_thu": "members.title.bi_thu",
    "pho_bi_thu": "members.title.pho_bi_thu",
    "chi_uy_vien": "members.title.chi_uy_vien",
    "dang_uy_vien": "members.title.dang_uy_vien",
    "to_truong": "members.title.to_truong",
    "to_pho": "members.title.to_pho",
}

log = logging.getLogger(__name__)


def titles_for(unit: Unit) -> tuple[str, ...]:
    """The titles a leader of this kind of unit may hold."""
    level = level_of(unit)
    if level == TO_DANG:
        return ("to_truong", "to_pho")
    if level == CHI_BO:
        return ("bi_thu", "pho_bi_thu", "chi_uy_vien")
    return ("bi_thu", "pho_bi_thu", "dang_uy_vien")


def leader_title(title: str | None, unit: Unit) -> str | None:
    """A leader's title, or what a leader of such a unit is when none was given (appointed by
    an invite): a tổ đảng's leader is its tổ trưởng."""
    return title or (titles_for(unit)[0] if level_of(unit) == TO_DANG else None)


def _contact_lines(t: Texts, person: UnitPerson) -> list[Markup]:
    """For someone not on Telegram yet: that they are not, and the phone number or username
    their unit's list gave (the bot cannot write to them: a leader can)."""
    if person.telegram_user_id is not None:
        return []
    reach = [person.phone, f"@{person.telegram_username}" if person.telegram_username else None]
    contact = " · ".join(way for way in reach if way)
    return [t("members.card_no_telegram"),
            *([t("members.card_contact", contact=contact)] if contact else [])]


def title_label(title: str | None, t: Texts) -> str:
    if title in TITLES:
        return t.plain(TITLES[title])
    return title or t.plain("members.title.none")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# Vietnamese alphabetical order: ă and â after a, đ after d…; tones only break ties.
_ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def _letters(text: str) -> tuple[int, ...]:
    bare = "".join(c for c in unicodedata.normalize("NFD", text.casefold()) if c not in _TONES)
    return tuple(_ALPHABET.find(c) if c in _ALPHABET else 100 + ord(c)
                 for c in unicodedata.normalize("NFC", bare))


def name_order(person: UnitPerson) -> tuple:
    """Alphabetical as Vietnamese readers expect (Đ after D, not after Z)."""
    return (_letters(person.full_name), person.full_name, person.person_id)


# --- the buttons ---------------------------------------------------------------------------


class TopUnits(ButtonData, prefix="mb:t", action=Action.MEMBERS):
    """The highest units in reach, a page of them."""

    page: Page


class UnitList(ButtonData, prefix="mb:l", action=Action.MEMBERS):
    unit: Id
    page: Page


class UnitsBelow(ButtonData, prefix="mb:c", action=Action.MEMBERS):
    unit: Id
    page: Page


class OpenCard(ButtonData, prefix="mb:o", action=Action.MEMBERS):
    membership: Id


class Excuse(ButtonData, prefix="mb:x", action=Action.EXCUSE):
    membership: Id


class Unexcuse(ButtonData, prefix="mb:ux", action=Action.EXCUSE):
    membership: Id


class MoveTargets(ButtonData, prefix="mb:mv", action=Action.MOVE):
    membership: Id
    page: Page


class MoveTo(ButtonData, prefix="mb:mt", action=Action.MOVE):
    membership: Id
    unit: Id


class Titles(ButtonData, prefix="mb:r", action=Action.SET_ROLE):
    membership: Id


class GiveRole(ButtonData, prefix="mb:rt", action=Action.SET_ROLE):
    membership: Id
    title: Annotated[int, Between(0, 9)]  # the position among `titles_for` the unit


class TakeRole(ButtonData, prefix="mb:re", action=Action.SET_ROLE):
    """Someone else's leader role taken away."""

    membership: Id


class StepDown(ButtonData, prefix="mb:sd", action=Action.REMOVE):
    """One's own leader role given up: leaving that role, as REMOVE allows one's own."""

    membership: Id


class AskRemove(ButtonData, prefix="mb:rm", action=Action.REMOVE):
    membership: Id


class Remove(ButtonData, prefix="mb:ry", action=Action.REMOVE):
    membership: Id


Browse = TopUnits | UnitList | UnitsBelow
OnCard = (OpenCard | Excuse | Unexcuse | MoveTargets | MoveTo | Titles | GiveRole | TakeRole
          | StepDown | AskRemove | Remove)
Press = Browse | OnCard
BUTTONS = (TopUnits, UnitList, UnitsBelow, OpenCard, Excuse, Unexcuse, MoveTargets, MoveTo,
           Titles, GiveRole, TakeRole, StepDown, AskRemove, Remove)


@dataclass
class Target:
    """A person's card being acted on: the pressed membership, re-read, and its unit."""

    row: MembershipRow
    unit: Unit
    person: UnitPerson
    self_: bool


class Members:
    def __init__(self, settings: Settings, catalogue: Catalogue) -> None:
        self.settings = settings
        self.catalogue = catalogue  # what other people are told, in their language

    # --- entry points -----------------------------------------------------------------------

    async def open(self, req: Request) -> Reply:
        """/members and 👥 Đảng viên: the unit's list, or a choice of units first."""
        tops = await req.tops(Action.MEMBERS)
        if not tops:
            return await self._refused(req)
        if len(tops) == 1:
            return Reply((await self._listing(req, tops[0], 0),))
        return Reply((self._top_picker(req.t, tops, 0),))

    async def press(self, req: Request, press: Press) -> Reply:
        """Any press on a button of the lists, a card, or a confirmation."""
        if isinstance(press, Browse):
            return await self._browse(req, press)
        return await self._on_card(req, press)

    # --- browsing units and lists -----------------------------------------------------------

    async def _browse(self, req: Request, press: Browse) -> Reply:
        t = req.t
        if isinstance(press, TopUnits):
            tops = await req.tops(press.action)
            if not tops:
                return await self._refused(req)
            return Reply((self._top_picker(t, tops, press.page),), replace=True)
        refusal = await req.check(press.action, press.unit, pressed=True)
        if refusal is not None:
            return refusal
        unit = await units.get_unit(req.tx, press.unit)
        if unit is None:
            return Reply(toast=t.plain(STALE))
        if isinstance(press, UnitList):
            return Reply((await self._listing(req, unit, press.page),), replace=True)
        below = await units.children(req.tx, unit.id)
        back = (Button(t.plain("members.back_to_list"), UnitList(unit.id, 0).pack()),)
        title = t("members.units_below_title", unit=unit.name)
        screen = self._unit_picker(t, title, below, press.page,
                                   lambda u: UnitList(u.id, 0).pack(),
                                   lambda p: UnitsBelow(unit.id, p).pack(), back)
        return Reply((screen,), replace=True)

    def _top_picker(self, t: Texts, tops: list[Unit], page: int) -> Screen:
        return self._unit_picker(t, t("members.choose_unit"), tops, page,
                                 lambda u: UnitList(u.id, 0).pack(),
                                 lambda p: TopUnits(p).pack(), ())

    @staticmethod
    def _unit_picker(t: Texts, title: str, choices: list[Unit], page: int,
                     pick: Callable[[Unit], str], turn: Callable[[int], str],
                     extra: tuple[Button, ...]) -> Screen:
        shown = page_of(choices, page, UNITS_PAGE)
        keyboard: list[tuple[Button, ...]] = [(Button(u.name, pick(u)),) for u in shown.items]
        keyboard += turns(t, shown, turn)
        if extra:
            keyboard.append(extra)
        return Screen(title, tuple(keyboard))

    async def _people(self, req: Request,
                      unit: Unit) -> tuple[list[UnitPerson], set[int], Period]:
        """The unit's people by name, who of them took part this week, and the week."""
        people = sorted(await store.people_of_unit(req.tx, unit.id), key=name_order)
        week = week_of(req.today)
        took_part = await participants(req.tx, self.settings, [unit.id], week, Basis.RECEIVED)
        return people, took_part, week

    async def _listing(self, req: Request, unit: Unit, page: int) -> Screen:
        t = req.t
        people, took_part, week = await self._people(req, unit)
        reported = [p for p in people if p.person_id in took_part]
        excused = [p for p in people if p.excused]
        lines: list[str] = [t("members.header", unit=unit.name, count=len(people),
                              reported=len(reported), week=_week(week))]
        if excused:
            lines.append(t("members.participation",
                           done=sum(1 for p in reported if not p.excused),
                           total=len(people) - len(excused), excused=len(excused)))
        shown = page_of(people, page, PAGE_SIZE)
        if not people:
            lines.append(t("members.empty"))
        elif shown.count > 1:
            lines.append(t("members.page", page=shown.number + 1, pages=shown.count))
        lines.append("")
        buttons = []
        for number, person in enumerate(shown.items, start=shown.first + 1):
            mark = "members.mark_reported" if person.person_id in took_part else \
                "members.mark_waiting"
            notes = []
            if person.leader:
                title = leader_title(person.title, unit)
                notes.append(t("members.note_title", title=title_label(title, t)))
            if person.excused:
                notes.append(t("members.note_excused"))
            lines.append(t("members.line", number=number, mark=t(mark), name=person.full_name,
                           notes=Markup("".join(notes))))
            buttons.append(Button(t.plain("members.person", number=number,
                                          name=person.full_name),
                                  OpenCard(person.membership_id).pack()))
        if people:
            lines += ["", t("members.legend")]
        keyboard = list(rows(buttons, 2))
        keyboard += turns(t, shown, lambda number: UnitList(unit.id, number).pack())
        navigation = []
        parent = await units.get_unit(req.tx, unit.parent_id) if unit.parent_id else None
        if parent is not None and await req.may(Action.MEMBERS, parent.id):
            navigation.append(Button(t.plain("members.up", unit=parent.name),
                                     UnitList(parent.id, 0).pack()))
        below = await units.children(req.tx, unit.id)
        if below:
            navigation.append(Button(t.plain("members.units_below", count=len(below)),
                                     UnitsBelow(unit.id, 0).pack()))
        if navigation:
            keyboard.append(tuple(navigation))
        return Screen("\n".join(lines), tuple(keyboard))

    # --- a person's card ----------------------------------------------------------------------

    @staticmethod
    async def _target(req: Request, row: MembershipRow, unit: Unit) -> Target | None:
        """The card's person as they are now; None once they no longer report there."""
        listed = next((p for p in await store.people_of_unit(req.tx, unit.id)
                       if p.person_id == row.person_id), None) if row.live else None
        if listed is None:
            return None
        return Target(row, unit, listed, req.actor.owns(row.person_id))

    async def _on_card(self, req: Request, press: OnCard) -> Reply:
        t = req.t
        row = await store.membership(req.tx, press.membership)
        unit = await units.get_unit(req.tx, row.unit_id) if row is not None else None
        if row is None or unit is None:
            return Reply(toast=t.plain(STALE))
        # Seeing a card concerns the unit; everything else the person on it too.
        person_id = None if isinstance(press, OpenCard) else row.person_id
        refusal = await req.check(press.action, row.unit_id, person_id, pressed=True)
        if refusal is None and isinstance(press, StepDown) and not req.actor.owns(row.person_id):
            # Only one's own role is stepped down from; someone else's is taken (TakeRole).
            refusal = await refuse(req, press.action, row.unit_id, row.person_id, pressed=True)
        if refusal is not None:
            return refusal
        if row.role is Role.OBSERVER:  # observers are appointed, not managed as members
            return Reply(toast=t.plain(STALE))
        target = await self._target(req, row, unit)
        if target is None:
            return await self._gone(req, unit)
        if isinstance(press, AskRemove | Remove) and await self._last_leader(req, target):
            return self._last_leader_reply(t, target)
        if isinstance(press, OpenCard):
            return Reply((await self._card(req, target),), replace=True)
        if isinstance(press, Excuse | Unexcuse):
            return await self._excuse(req, target, isinstance(press, Excuse))
        if isinstance(press, MoveTargets):
            return await self._targets(req, target, press.page)
        if isinstance(press, MoveTo):
            return await self._move(req, target, press)
        if isinstance(press, Titles):
            return self._titles(t, target)
        if isinstance(press, GiveRole):
            return await self._give_role(req, target, press.title)
        if isinstance(press, TakeRole | StepDown):
            return await self._take_role(req, target)
        if isinstance(press, AskRemove):
            return self._confirm_remove(t, target)
        return await self._remove(req, target)

    async def _gone(self, req: Request, unit: Unit) -> Reply:
        """A stale button: the person is no longer there. The list as it is now, if allowed."""
        toast = req.t.plain("members.gone")
        if not await req.may(Action.MEMBERS, unit.id):
            return Reply(toast=toast)
        return Reply((await self._listing(req, unit, 0),), replace=True, toast=toast)

    async def _card(self, req: Request, target: Target) -> Screen:
        t = req.t
        person = target.person
        unit, row = target.unit, target.row
        people, took_part, week = await self._people(req, unit)
        roles = [t.plain("members.role_member")] if person.member else []
        if person.leader:
            roles.append(title_label(leader_title(person.title, unit), t))
        key = "members.card_reported" if person.person_id in took_part else \
            "members.card_waiting"
        lines = [t("members.card_title", name=person.full_name),
                 t("members.card_unit", unit=unit.name),
                 t("members.card_roles", roles=", ".join(roles)),
                 t(key, week=_week(week))]
        if person.excused:
            lines.append(t("members.card_excused"))
        lines += _contact_lines(t, person)

        async def may(action: Action) -> bool:
            return await req.may(action, unit.id, person.person_id)

        keyboard: list[tuple[Button, ...]] = []
        if await may(Action.EXCUSE):
            keyboard.append((Button(t.plain("members.unexcuse"), Unexcuse(row.id).pack())
                             if person.excused else
                             Button(t.plain("members.excuse"), Excuse(row.id).pack()),))
        if person.member and await may(Action.MOVE) and await self._move_targets(req, unit):
            keyboard.append((Button(t.plain("members.move"), MoveTargets(row.id, 0).pack()),))
        take = StepDown(row.id) if target.self_ else TakeRole(row.id)
        if person.leader and await may(take.action):
            keyboard.append((Button(t.plain("members.take_role"), take.pack()),))
        elif not person.leader and await may(Action.SET_ROLE):
            keyboard.append((Button(t.plain("members.give_role"), Titles(row.id).pack()),))
        if await may(Action.REMOVE):
            label = "members.leave" if target.self_ else "members.remove"
            keyboard.append((Button(t.plain(label), AskRemove(row.id).pack()),))
        if not target.self_ and await may(Action.REPORT_ON_BEHALF):
            keyboard.append((Button(t.plain("members.on_behalf"),
                                    ReportFor(person.person_id).pack()),))
        place = next((i for i, p in enumerate(people) if p.person_id == person.person_id), 0)
        keyboard.append((Button(t.plain("members.back_to_list"),
                                UnitList(unit.id, place // PAGE_SIZE).pack()),))
        return Screen("\n".join(lines), tuple(keyboard))

    async def _after(self, req: Request, target: Target, toast: str,
                     notices: tuple[tuple[int, Screen], ...] = (), done: bool = True) -> Reply:
        """The card again after a change, or the list when the card's row is gone. What was
        done stays written above it: a pop-up fades, and a list without the person moved away
        would read as if they had vanished."""
        fresh = await store.membership(req.tx, target.row.id)
        again = await self._target(req, fresh, target.unit) if fresh is not None else None
        if again is not None:
            screen = await self._card(req, again)
        elif await req.may(Action.MEMBERS, target.unit.id):
            screen = await self._listing(req, target.unit, 0)
        else:
            return Reply(toast=toast, close=True, notices=notices)
        if done:
            screen = replace(screen, text=f"{req.t('members.done', what=toast)}\n\n{screen.text}")
        return Reply((screen,), replace=True, toast=toast, notices=notices)

    async def _excuse(self, req: Request, target: Target, excuse: bool) -> Reply:
        t, person = req.t, target.person
        changed = await store.set_excused(req.tx, person.person_id, target.unit.id, excuse)
        if not changed:
            key = "members.already_excused" if excuse else "members.already_active"
            return await self._after(req, target, t.plain(key, name=person.full_name), done=False)
        await self._audit(req, "excuse" if excuse else "unexcuse", target.row)
        key = "members.excused" if excuse else "members.unexcused"
        return await self._after(req, target, t.plain(key, name=person.full_name))

    # --- moving -------------------------------------------------------------------------------

    @staticmethod
    async def _move_targets(req: Request, unit: Unit) -> list[Unit]:
        return [u for u in await req.reach(Action.MOVE) if u.id != unit.id]

    async def _targets(self, req: Request, target: Target, page: int) -> Reply:
        t, person = req.t, target.person
        if not person.member:
            return Reply(toast=t.plain("members.not_member_here", name=person.full_name,
                                       unit=target.unit.name))
        choices = await self._move_targets(req, target.unit)
        if not choices:
            return Reply(toast=t.plain("members.no_targets"))
        row_id = target.row.id
        back = (Button(t.plain("members.back_to_card"), OpenCard(row_id).pack()),)
        screen = self._unit_picker(
            t, t("members.choose_target", name=person.full_name, unit=target.unit.name),
            choices, page, lambda u: MoveTo(row_id, u.id).pack(),
            lambda p: MoveTargets(row_id, p).pack(), back)
        return Reply((screen,), replace=True)

    async def _move(self, req: Request, target: Target, press: MoveTo) -> Reply:
        t, person = req.t, target.person
        destination = await units.get_unit(req.tx, press.unit)
        if destination is None:
            return Reply(toast=t.plain(STALE))
        refusal = await req.check(press.action, destination.id, person.person_id, pressed=True)
        if refusal is not None:
            return refusal
        if target.row.role is not Role.MEMBER:
            return Reply(toast=t.plain("members.not_member_here", name=person.full_name,
                                       unit=target.unit.name))
        if destination.id == target.unit.id:
            return Reply(toast=t.plain("members.already_there", name=person.full_name,
                                       unit=destination.name))
        await store.move_member(req.tx, target.row, destination.id, req.now)
        await self._audit(req, "move", target.row, f"to_unit:{destination.id}")
        notice = await self._notice(req, target, "members.notice_moved", old=target.unit.name,
                                    unit=destination.name)
        return await self._after(req, target,
                                 t.plain("members.moved", name=person.full_name,
                                         unit=destination.name), notice)

    # --- leader roles -------------------------------------------------------------------------

    @staticmethod
    def _titles(t: Texts, target: Target) -> Reply:
        person = target.person
        if person.leader:
            return Reply(toast=t.plain("members.already_leader", name=person.full_name))
        choices = [Button(_capital(title_label(code, t)), GiveRole(target.row.id, i).pack())
                   for i, code in enumerate(titles_for(target.unit))]
        keyboard = (*rows(choices, 2),
                    (Button(t.plain("members.back_to_card"), OpenCard(target.row.id).pack()),))
        text = t("members.choose_title", name=person.full_name, unit=target.unit.name)
        return Reply((Screen(text, keyboard),), replace=True)

    async def _give_role(self, req: Request, target: Target, position: int) -> Reply:
        t, person = req.t, target.person
        titles = titles_for(target.unit)
        if position >= len(titles):
            return Reply(toast=t.plain(STALE))
        if person.leader:
            return Reply(toast=t.plain("members.already_leader", name=person.full_name))
        title = titles[position]
        await store.add_leader(req.tx, person.person_id, target.unit.id, title, person.excused,
                               req.now)
        await self._audit(req, "give_role", target.row, f"title:{title}")
        notice = await self._notice(req, target, "members.notice_role_given",
                                    title=title_label(title, self._texts_of(person)),
                                    unit=target.unit.name)
        return await self._after(req, target,
                                 t.plain("members.role_given", name=person.full_name,
                                         title=title_label(title, t)), notice)

    @staticmethod
    async def _last_leader(req: Request, target: Target) -> bool:
        """Would the actor leave their own unit without a leader?"""
        return (target.self_ and target.person.leader
                and await store.leader_count(req.tx, target.unit.id) <= 1)

    @staticmethod
    def _last_leader_reply(t: Texts, target: Target) -> Reply:
        return Reply((Screen(t("members.last_leader", unit=target.unit.name)),),
                     toast=t.plain("members.last_leader_short"))

    async def _take_role(self, req: Request, target: Target) -> Reply:
        t, person = req.t, target.person
        held = [r for r in await store.live_rows(req.tx, person.person_id, target.unit.id)
                if r.role is Role.LEADER]
        if not held:
            return Reply(toast=t.plain("members.not_leader", name=person.full_name))
        if await self._last_leader(req, target):
            return self._last_leader_reply(t, target)
        await store.end_rows(req.tx, [r.id for r in held])
        await self._audit(req, "take_role", target.row, f"title:{held[0].title or ''}")
        if target.self_:
            return await self._own_change(req, target, "members.stepped_down")
        notice = await self._notice(req, target, "members.notice_role_taken",
                                    unit=target.unit.name)
        return await self._after(req, target,
                                 t.plain("members.role_taken", name=person.full_name), notice)

    # --- removing -----------------------------------------------------------------------------

    @staticmethod
    def _confirm_remove(t: Texts, target: Target) -> Reply:
        person = target.person
        if target.self_:
            text = t("members.leave_confirm", unit=target.unit.name)
            yes = t.plain("members.leave_yes")
        else:
            text = t("members.remove_confirm", name=person.full_name, unit=target.unit.name)
            yes = t.plain("members.remove_yes")
        keyboard = ((Button(yes, Remove(target.row.id).pack()),
                     Button(t.plain("members.remove_no"), OpenCard(target.row.id).pack())),)
        return Reply((Screen(text, keyboard),), replace=True)

    async def _remove(self, req: Request, target: Target) -> Reply:
        person = target.person
        held = await store.live_rows(req.tx, person.person_id, target.unit.id)
        await store.end_rows(req.tx, [r.id for r in held])
        await self._audit(req, "remove", target.row,
                          "roles:" + ",".join(r.role.value for r in held))
        if target.self_:
            return await self._own_change(req, target, "members.left")
        notice = await self._notice(req, target, "members.notice_removed", unit=target.unit.name)
        return await self._after(req, target,
                                 req.t.plain("members.removed", name=person.full_name,
                                             unit=target.unit.name), notice)

    @staticmethod
    async def _own_change(req: Request, target: Target, key: str) -> Reply:
        """The actor stepped down or left: say so under their new main menu."""
        menu = await menu_now(req)
        return Reply((Screen(req.t(key, unit=target.unit.name), menu=menu),), close=True)

    # --- shared -------------------------------------------------------------------------------

    def _texts_of(self, person: UnitPerson) -> Texts:
        return self.catalogue.texts(person.lang)

    async def _notice(self, req: Request, target: Target, key: str,
                      **params: str) -> tuple[tuple[int, Screen], ...]:
        """A word to the person a leader changed something for, under their new menu."""
        person = target.person
        if target.self_ or person.telegram_user_id is None:
            return ()
        theirs = self._texts_of(person)
        menu = await menu_now(req, person.telegram_user_id, theirs)
        return ((person.telegram_user_id, Screen(theirs(key, **params), menu=menu)),)

    @staticmethod
    async def _audit(req: Request, what: str, row: MembershipRow, detail: str = "") -> None:
        await audit.record(req.tx, req.now, req.actor.label, f"members.{what}",
                           f"person:{row.person_id}",
                           " ".join(p for p in (f"unit:{row.unit_id}", detail) if p))

    @staticmethod
    async def _refused(req: Request) -> Reply:
        """/members from someone who leads no unit: said politely, and logged."""
        await audit.record(req.tx, req.now, f"tg:{req.user_id}", "refused",
                           Action.MEMBERS.value, "")
        key = "members.leaders_only" if req.actor.known else "access.not_member"
        return Reply((Screen(req.t(key)),))


def _week(week: Period) -> str:
    return period_span(week.first, week.last)
