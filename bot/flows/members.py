"""/members (👥 Đảng viên): a unit's people, who reported this week; excuse, move, give or
take a leader role, remove.

Button data names a membership (`mb:<verb>:<membership id>[:<arg>]`) and is never trusted:
every press reads the row again and asks `access.check` against its real unit and person.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from bot.flows import behalf as on_behalf
from bot.flows.menu import menu_for
from bot.flows.reports import ReportKind
from bot.forms.conversations import Conversations
from bot.rules import access
from bot.rules.access import Action, Actor
from bot.rules.counting import Basis, participants
from bot.rules.periods import Period, week_of
from bot.runtime.services import Sender, Services
from bot.ui.buttons import Press, pack, verb_and_numbers
from bot.ui.catalogue import Markup, Texts
from bot.ui.formatting import day_month
from bot.ui.paging import page_of, turns
from bot.ui.screens import Button, Reply, Screen, rows
from storage import audit, units
from storage import members as store
from storage.db import Tx
from storage.entities import Role, Unit
from storage.members import MembershipRow, UnitPerson

PREFIX = "mb"
PAGE_SIZE = 10
UNITS_PAGE = 8

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
    kind = unit.kind.casefold()
    if kind.startswith("tổ"):
        return ("to_truong", "to_pho")
    if kind.startswith("chi bộ"):
        return ("bi_thu", "pho_bi_thu", "chi_uy_vien")
    return ("bi_thu", "pho_bi_thu", "dang_uy_vien")


def leader_title(title: str | None, unit: Unit) -> str | None:
    """A leader's title, or what a leader of such a unit is when none was given (appointed by
    an invite): a tổ đảng's leader is its tổ trưởng."""
    return title or (titles_for(unit)[0] if unit.kind.casefold().startswith("tổ") else None)


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


def _data(verb: str, *args: int) -> str:
    return pack(PREFIX, verb, *args)


# What each verb on a person's card does, for the permission check.
VERB_ACTIONS = {
    "x": Action.EXCUSE, "ux": Action.EXCUSE,
    "mv": Action.MOVE, "mt": Action.MOVE,
    "r": Action.SET_ROLE, "rt": Action.SET_ROLE, "re": Action.SET_ROLE,
    "rm": Action.REMOVE, "ry": Action.REMOVE,
}
# How many numbers each verb carries.
ARITY = {"t": 1, "l": 2, "c": 2, "o": 1, "x": 1, "ux": 1, "mv": 2, "mt": 2, "r": 1, "rt": 2,
         "re": 1, "rm": 1, "ry": 1}


@dataclass
class Target:
    """A person's card being acted on: the pressed membership, re-read, and its unit."""

    row: MembershipRow
    unit: Unit
    person: UnitPerson
    self_: bool


class Members:
    def __init__(self, services: Services, conversations: Conversations,
                 report_kind: ReportKind) -> None:
        self.services = services
        self.conversations = conversations
        self.report_kind = report_kind

    # --- entry points -----------------------------------------------------------------------

    async def start(self, sender: Sender) -> Reply:
        """/members and 👥 Đảng viên: the unit's list, or a choice of units first."""
        async with self.services.db.transaction() as tx:
            actor = await access.actor_for(tx, self.services, sender.user_id)
            t = self._texts(actor)
            tops = await self._top_units(tx, actor)
            if not tops:
                return await self._refused(tx, actor, t)
            if len(tops) == 1:
                return Reply((await self._listing(tx, actor, t, tops[0], 0),))
            return Reply((self._top_picker(t, tops, 0),))

    async def act(self, sender: Sender, data: str) -> Reply:
        """Any press on a button of the lists, a card, or a confirmation."""
        async with self.services.db.transaction() as tx:
            actor = await access.actor_for(tx, self.services, sender.user_id)
            t = self._texts(actor)
            press = verb_and_numbers(data, PREFIX, ARITY)
            if press is None:
                log.warning("user %s sent members data %r", sender.user_id, data)
                return Reply(toast=t.plain("members.not_found"))
            if press.verb in ("t", "l", "c"):
                return await self._browse(tx, actor, t, press)
            return await self._on_card(tx, actor, t, press)

    # --- browsing units and lists -----------------------------------------------------------

    async def _browse(self, tx: Tx, actor: Actor, t: Texts, press: Press) -> Reply:
        if press.verb == "t":
            tops = await self._top_units(tx, actor)
            if not tops:
                return await self._refused(tx, actor, t)
            return Reply((self._top_picker(t, tops, press.args[0]),), replace=True)
        unit_id, page = press.args
        refusal = await access.check(tx, self.services, actor, Action.MEMBERS, unit_id,
                                     pressed=True)
        if refusal is not None:
            return refusal
        unit = await units.get_unit(tx, unit_id)
        if unit is None:
            return Reply(toast=t.plain("members.not_found"))
        if press.verb == "l":
            return Reply((await self._listing(tx, actor, t, unit, page),), replace=True)
        below = await units.children(tx, unit.id)
        back = (Button(t.plain("members.back_to_list"), _data("l", unit.id, 0)),)
        title = t("members.units_below_title", unit=unit.name)
        screen = self._unit_picker(t, title, below, page, lambda u: _data("l", u.id, 0),
                                   lambda p: _data("c", unit.id, p), back)
        return Reply((screen,), replace=True)

    async def _top_units(self, tx: Tx, actor: Actor) -> list[Unit]:
        """The highest units of the actor's reach: every other one is below one of them."""
        reach = await access.units_in_reach(tx, actor, Action.MEMBERS)
        ids = {u.id for u in reach}
        return [u for u in reach if u.parent_id not in ids]

    def _top_picker(self, t: Texts, tops: list[Unit], page: int) -> Screen:
        return self._unit_picker(t, t("members.choose_unit"), tops, page,
                                 lambda u: _data("l", u.id, 0), lambda p: _data("t", p), ())

    def _unit_picker(self, t: Texts, title: str, choices: list[Unit], page: int,
                     pick: Callable[[Unit], str], turn: Callable[[int], str],
                     extra: tuple[Button, ...]) -> Screen:
        shown = page_of(choices, page, UNITS_PAGE)
        keyboard = [(Button(u.name, pick(u)),) for u in shown.items]
        keyboard += turns(t, shown, turn)
        if extra:
            keyboard.append(extra)
        return Screen(title, tuple(keyboard))

    async def _people(self, tx: Tx, unit: Unit) -> tuple[list[UnitPerson], set[int], Period]:
        """The unit's people by name, who of them took part this week, and the week."""
        people = sorted(await store.people_of_unit(tx, unit.id), key=name_order)
        week = week_of(self.services.today())
        took_part = await participants(tx, self.services, [unit.id], week, Basis.RECEIVED)
        return people, took_part, week

    async def _listing(self, tx: Tx, actor: Actor, t: Texts, unit: Unit, page: int) -> Screen:
        people, took_part, week = await self._people(tx, unit)
        reported = [p for p in people if p.person_id in took_part]
        excused = [p for p in people if p.excused]
        lines = [t("members.header", unit=unit.name, count=len(people), reported=len(reported),
                   week=_week(week))]
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
                                  _data("o", person.membership_id)))
        if people:
            lines += ["", t("members.legend")]
        keyboard = list(rows(buttons, 2))
        keyboard += turns(t, shown, lambda number: _data("l", unit.id, number))
        navigation = []
        parent = await units.get_unit(tx, unit.parent_id) if unit.parent_id else None
        if parent is not None and await access.permits(tx, actor, Action.MEMBERS, parent.id):
            navigation.append(Button(t.plain("members.up", unit=parent.name),
                                     _data("l", parent.id, 0)))
        below = await units.children(tx, unit.id)
        if below:
            navigation.append(Button(t.plain("members.units_below", count=len(below)),
                                     _data("c", unit.id, 0)))
        if navigation:
            keyboard.append(tuple(navigation))
        return Screen("\n".join(lines), tuple(keyboard))

    # --- a person's card ----------------------------------------------------------------------

    async def _target(self, tx: Tx, actor: Actor, row: MembershipRow,
                      unit: Unit) -> Target | None:
        """The card's person as they are now; None once they no longer report there."""
        listed = next((p for p in await store.people_of_unit(tx, unit.id)
                       if p.person_id == row.person_id), None) if row.live else None
        if listed is None:
            return None
        own = actor.person is not None and actor.person.id == row.person_id
        return Target(row, unit, listed, own)

    async def _on_card(self, tx: Tx, actor: Actor, t: Texts, press: Press) -> Reply:
        row = await store.membership(tx, press.args[0])
        unit = await units.get_unit(tx, row.unit_id) if row is not None else None
        if row is None or unit is None:
            return Reply(toast=t.plain("members.not_found"))
        action = VERB_ACTIONS.get(press.verb, Action.MEMBERS)
        if press.verb == "re":
            action = _taking_role(actor.person is not None and actor.person.id == row.person_id)
        person_id = None if action is Action.MEMBERS else row.person_id
        refusal = await access.check(tx, self.services, actor, action, row.unit_id,
                                     person_id=person_id, pressed=True)
        if refusal is not None:
            return refusal
        if row.role is Role.OBSERVER:  # observers are appointed, not managed as members
            return Reply(toast=t.plain("members.not_found"))
        target = await self._target(tx, actor, row, unit)
        if target is None:
            return await self._gone(tx, actor, t, unit)
        if press.verb in ("rm", "ry") and await self._last_leader(tx, target):
            return self._last_leader_reply(t, target)
        handler = {
            "o": self._open, "x": self._excuse, "ux": self._excuse, "mv": self._targets,
            "mt": self._move, "r": self._titles, "rt": self._give_role, "re": self._take_role,
            "rm": self._confirm_remove, "ry": self._remove,
        }[press.verb]
        return await handler(tx, actor, t, target, press)

    async def _gone(self, tx: Tx, actor: Actor, t: Texts, unit: Unit) -> Reply:
        """A stale button: the person is no longer there. The list as it is now, if allowed."""
        toast = t.plain("members.gone")
        if not await access.permits(tx, actor, Action.MEMBERS, unit.id):
            return Reply(toast=toast)
        return Reply((await self._listing(tx, actor, t, unit, 0),), replace=True, toast=toast)

    async def _card(self, tx: Tx, actor: Actor, t: Texts, target: Target) -> Screen:
        person = target.person
        unit, row = target.unit, target.row
        people, took_part, week = await self._people(tx, unit)
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

        async def may(action: Action) -> bool:
            return await access.permits(tx, actor, action, unit.id, person.person_id)

        keyboard: list[tuple[Button, ...]] = []
        if await may(Action.EXCUSE):
            keyboard.append((Button(t.plain("members.unexcuse"), _data("ux", row.id))
                             if person.excused else
                             Button(t.plain("members.excuse"), _data("x", row.id)),))
        if person.member and await may(Action.MOVE) and await self._move_targets(tx, actor, unit):
            keyboard.append((Button(t.plain("members.move"), _data("mv", row.id, 0)),))
        if person.leader and await may(_taking_role(target.self_)):
            keyboard.append((Button(t.plain("members.take_role"), _data("re", row.id)),))
        elif not person.leader and await may(Action.SET_ROLE):
            keyboard.append((Button(t.plain("members.give_role"), _data("r", row.id)),))
        if await may(Action.REMOVE):
            label = "members.leave" if target.self_ else "members.remove"
            keyboard.append((Button(t.plain(label), _data("rm", row.id)),))
        if not target.self_ and await may(Action.REPORT_ON_BEHALF):
            keyboard.append((Button(t.plain("members.on_behalf"),
                                    on_behalf.data("for", person.person_id)),))
        place = next((i for i, p in enumerate(people) if p.person_id == person.person_id), 0)
        keyboard.append((Button(t.plain("members.back_to_list"),
                                _data("l", unit.id, place // PAGE_SIZE)),))
        return Screen("\n".join(lines), tuple(keyboard))

    async def _after(self, tx: Tx, actor: Actor, t: Texts, target: Target, toast: str,
                     notices: tuple[tuple[int, Screen], ...] = ()) -> Reply:
        """The card again after a change, or the list when the card's row is gone."""
        fresh = await store.membership(tx, target.row.id)
        again = await self._target(tx, actor, fresh, target.unit) if fresh is not None else None
        if again is not None:
            screen = await self._card(tx, actor, t, again)
        elif await access.permits(tx, actor, Action.MEMBERS, target.unit.id):
            screen = await self._listing(tx, actor, t, target.unit, 0)
        else:
            return Reply(toast=toast, close=True, notices=notices)
        return Reply((screen,), replace=True, toast=toast, notices=notices)

    async def _open(self, tx: Tx, actor: Actor, t: Texts, target: Target,
                    press: Press) -> Reply:
        return Reply((await self._card(tx, actor, t, target),), replace=True)

    async def _excuse(self, tx: Tx, actor: Actor, t: Texts, target: Target,
                      press: Press) -> Reply:
        person = target.person
        excuse = press.verb == "x"
        changed = await store.set_excused(tx, person.person_id, target.unit.id, excuse)
        if not changed:
            key = "members.already_excused" if excuse else "members.already_active"
            return await self._after(tx, actor, t, target, t.plain(key, name=person.full_name))
        await self._audit(tx, actor, "excuse" if excuse else "unexcuse", target.row)
        key = "members.excused" if excuse else "members.unexcused"
        return await self._after(tx, actor, t, target, t.plain(key, name=person.full_name))

    # --- moving -------------------------------------------------------------------------------

    async def _move_targets(self, tx: Tx, actor: Actor, unit: Unit) -> list[Unit]:
        return [u for u in await access.units_in_reach(tx, actor, Action.MOVE) if u.id != unit.id]

    async def _targets(self, tx: Tx, actor: Actor, t: Texts, target: Target,
                       press: Press) -> Reply:
        person = target.person
        if not person.member:
            return Reply(toast=t.plain("members.not_member_here", name=person.full_name,
                                       unit=target.unit.name))
        choices = await self._move_targets(tx, actor, target.unit)
        if not choices:
            return Reply(toast=t.plain("members.no_targets"))
        back = (Button(t.plain("members.back_to_card"), _data("o", target.row.id)),)
        row_id = target.row.id
        screen = self._unit_picker(
            t, t("members.choose_target", name=person.full_name, unit=target.unit.name),
            choices, press.args[1], lambda u: _data("mt", row_id, u.id),
            lambda p: _data("mv", row_id, p), back)
        return Reply((screen,), replace=True)

    async def _move(self, tx: Tx, actor: Actor, t: Texts, target: Target,
                    press: Press) -> Reply:
        person = target.person
        destination = await units.get_unit(tx, press.args[1])
        if destination is None:
            return Reply(toast=t.plain("members.not_found"))
        refusal = await access.check(tx, self.services, actor, Action.MOVE, destination.id,
                                     person_id=person.person_id, pressed=True)
        if refusal is not None:
            return refusal
        if target.row.role is not Role.MEMBER:
            return Reply(toast=t.plain("members.not_member_here", name=person.full_name,
                                       unit=target.unit.name))
        if destination.id == target.unit.id:
            return Reply(toast=t.plain("members.already_there", name=person.full_name,
                                       unit=destination.name))
        await store.move_member(tx, target.row, destination.id, self.services.now())
        await self._audit(tx, actor, "move", target.row, f"to_unit:{destination.id}")
        notice = await self._notice(tx, target, "members.notice_moved", old=target.unit.name,
                                    unit=destination.name)
        return await self._after(tx, actor, t, target,
                                 t.plain("members.moved", name=person.full_name,
                                         unit=destination.name), notice)

    # --- leader roles -------------------------------------------------------------------------

    async def _titles(self, tx: Tx, actor: Actor, t: Texts, target: Target,
                      press: Press) -> Reply:
        person = target.person
        if person.leader:
            return Reply(toast=t.plain("members.already_leader", name=person.full_name))
        choices = [Button(_capital(title_label(code, t)), _data("rt", target.row.id, i))
                   for i, code in enumerate(titles_for(target.unit))]
        keyboard = (*rows(choices, 2),
                    (Button(t.plain("members.back_to_card"), _data("o", target.row.id)),))
        text = t("members.choose_title", name=person.full_name, unit=target.unit.name)
        return Reply((Screen(text, keyboard),), replace=True)

    async def _give_role(self, tx: Tx, actor: Actor, t: Texts, target: Target,
                         press: Press) -> Reply:
        person = target.person
        titles = titles_for(target.unit)
        if press.args[1] >= len(titles):
            return Reply(toast=t.plain("members.not_found"))
        if person.leader:
            return Reply(toast=t.plain("members.already_leader", name=person.full_name))
        title = titles[press.args[1]]
        await store.add_leader(tx, person.person_id, target.unit.id, title, person.excused,
                               self.services.now())
        await self._audit(tx, actor, "give_role", target.row, f"title:{title}")
        notice = await self._notice(tx, target, "members.notice_role_given",
                                    title=title_label(title, self._person_texts(person)),
                                    unit=target.unit.name)
        return await self._after(tx, actor, t, target,
                                 t.plain("members.role_given", name=person.full_name,
                                         title=title_label(title, t)), notice)

    async def _last_leader(self, tx: Tx, target: Target) -> bool:
        """Would the actor leave their own unit without a leader?"""
        return (target.self_ and target.person.leader
                and await store.leader_count(tx, target.unit.id) <= 1)

    def _last_leader_reply(self, t: Texts, target: Target) -> Reply:
        return Reply((Screen(t("members.last_leader", unit=target.unit.name)),),
                     toast=t.plain("members.last_leader_short"))

    async def _take_role(self, tx: Tx, actor: Actor, t: Texts, target: Target,
                         press: Press) -> Reply:
        person = target.person
        held = [r for r in await store.live_rows(tx, person.person_id, target.unit.id)
                if r.role is Role.LEADER]
        if not held:
            return Reply(toast=t.plain("members.not_leader", name=person.full_name))
        if await self._last_leader(tx, target):
            return self._last_leader_reply(t, target)
        await store.end_rows(tx, [r.id for r in held])
        await self._audit(tx, actor, "take_role", target.row, f"title:{held[0].title or ''}")
        if target.self_:
            return await self._own_change(tx, actor, t, target, "members.stepped_down")
        notice = await self._notice(tx, target, "members.notice_role_taken",
                                    unit=target.unit.name)
        return await self._after(tx, actor, t, target,
                                 t.plain("members.role_taken", name=person.full_name), notice)

    # --- removing -----------------------------------------------------------------------------

    async def _confirm_remove(self, tx: Tx, actor: Actor, t: Texts, target: Target,
                              press: Press) -> Reply:
        person = target.person
        if target.self_:
            text = t("members.leave_confirm", unit=target.unit.name)
            yes = t.plain("members.leave_yes")
        else:
            text = t("members.remove_confirm", name=person.full_name, unit=target.unit.name)
            yes = t.plain("members.remove_yes")
        keyboard = ((Button(yes, _data("ry", target.row.id)),
                     Button(t.plain("members.remove_no"), _data("o", target.row.id))),)
        return Reply((Screen(text, keyboard),), replace=True)

    async def _remove(self, tx: Tx, actor: Actor, t: Texts, target: Target,
                      press: Press) -> Reply:
        person = target.person
        held = await store.live_rows(tx, person.person_id, target.unit.id)
        await store.end_rows(tx, [r.id for r in held])
        await self._audit(tx, actor, "remove", target.row,
                          "roles:" + ",".join(r.role.value for r in held))
        if target.self_:
            return await self._own_change(tx, actor, t, target, "members.left")
        notice = await self._notice(tx, target, "members.notice_removed", unit=target.unit.name)
        return await self._after(tx, actor, t, target,
                                 t.plain("members.removed", name=person.full_name,
                                         unit=target.unit.name), notice)

    async def _own_change(self, tx: Tx, actor: Actor, t: Texts, target: Target,
                          key: str) -> Reply:
        """The actor stepped down or left: say so under their new main menu."""
        menu = await menu_for(tx, self.services, actor.user_id, t)
        return Reply((Screen(t(key, unit=target.unit.name), menu=menu),), close=True)

    # --- shared -------------------------------------------------------------------------------

    def _texts(self, actor: Actor) -> Texts:
        return self.services.texts(actor.person.lang if actor.person else None)

    def _person_texts(self, person: UnitPerson) -> Texts:
        return self.services.texts(person.lang)

    async def _notice(self, tx: Tx, target: Target, key: str,
                      **params: str) -> tuple[tuple[int, Screen], ...]:
        """A word to the person a leader changed something for, under their new menu."""
        person = target.person
        if target.self_ or person.telegram_user_id is None:
            return ()
        theirs = self._person_texts(person)
        menu = await menu_for(tx, self.services, person.telegram_user_id, theirs)
        return ((person.telegram_user_id, Screen(theirs(key, **params), menu=menu)),)

    async def _audit(self, tx: Tx, actor: Actor, what: str, row: MembershipRow,
                     detail: str = "") -> None:
        who = f"person:{actor.person.id}" if actor.person else f"tg:{actor.user_id}"
        await audit.record(tx, self.services.now(), who, f"members.{what}",
                           f"person:{row.person_id}",
                           " ".join(p for p in (f"unit:{row.unit_id}", detail) if p))

    async def _refused(self, tx: Tx, actor: Actor, t: Texts) -> Reply:
        """/members from someone who leads no unit: said politely, and logged."""
        await audit.record(tx, self.services.now(), f"tg:{actor.user_id}", "refused",
                           Action.MEMBERS.value, "")
        key = "members.leaders_only" if actor.known else "access.not_member"
        return Reply((Screen(t(key)),))


def _taking_role(own: bool) -> Action:
    """Stepping down from one's own leader role is leaving that role: allowed as REMOVE is
    (OWN); taking someone else's is SET_ROLE."""
    return Action.REMOVE if own else Action.SET_ROLE


def _week(week: Period) -> str:
    return f"{day_month(week.first)}–{day_month(week.last)}"
