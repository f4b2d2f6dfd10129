"""Who may do what, and where; and who is asking.

`RULES` is the permissions table: for every action, the relations to its target in which each
role may take it. tests/test_access.py checks `permits` against it case by case, and against a
short table of expectations written by hand; tests/test_permissions.py runs every command and
every kind of button through the bot. Button data comes from the client, so every use case asks
again on every press (`Request.check`), with the action the button was declared with
(bot/ui/buttons.py).

A `Request` is one update being handled: who asks, read once from the database (their person,
live roles, language and texts), the moment, and the one transaction everything the update
does happens in (`Requests.begin`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import StrEnum

from bot.rules.bots import BotIdentity, in_subtree, owner_username, served
from bot.rules.levels import at_cell
from bot.runtime.clock import local_today
from bot.runtime.services import Services
from bot.ui.catalogue import Texts
from bot.ui.screens import Reply, Screen
from storage import audit, people, units
from storage.db import Tx
from storage.entities import Membership, Person, Role, Unit

log = logging.getLogger(__name__)


class Relation(StrEnum):
    """Where a target is, seen from the unit in which someone holds a role."""

    OWN = "own"  # the person's own record: their report, their membership
    SAME = "same"  # in that unit
    CHILD = "child"  # anywhere below it (a tổ đảng of the chi bộ, a chi bộ of the đảng bộ)
    SIBLING = "sibling"  # beside it, or anywhere neither above nor below
    PARENT = "parent"  # above it


class Action(StrEnum):
    REVIEW = "review"  # see a unit's reports waiting for acknowledgment
    ACKNOWLEDGE = "acknowledge"
    ASK_MORE = "ask_more"
    HIGHLIGHT = "highlight"  # ⭐ Nêu gương
    REOPEN = "reopen"  # an acknowledged report back to its author, with a reason
    INVITE_MEMBER = "invite_member"
    INVITE_LEADER = "invite_leader"  # leader and observer invites
    REVOKE_INVITE = "revoke_invite"
    IMPORT_MEMBERS = "import_members"  # a list of members from a file, with their roles
    APPROVE_JOIN = "approve_join"
    MEMBERS = "members"
    EXCUSE = "excuse"
    REMOVE = "remove"
    MOVE = "move"
    SET_ROLE = "set_role"
    REPORT_ON_BEHALF = "report_on_behalf"
    LINK_GROUP = "link_group"
    MODEL_LIST = "model_list"
    MODEL_ADD = "model_add"
    MODEL_STATUS = "model_status"
    MODEL_MARK = "model_mark"  # tiêu biểu, nhân rộng: a higher level's judgement
    COMMIT = "commit"
    COMMIT_OVERVIEW = "commit_overview"
    COMMIT_REMIND = "commit_remind"
    OWN_REPORT = "own_report"  # open, correct or withdraw one's own report (📋)
    STATS_OWN = "stats_own"
    STATS_UNIT = "stats_unit"
    SCHEDULE = "schedule"  # see and change a unit's digest, reminder and custom reminders
    DIGEST = "digest"  # a unit's digest of the current period, on demand
    EXPORT = "export"  # a unit's spreadsheet or Word report of a period, its whole subtree
    ANNOUNCE = "announce"  # a message to a unit's members and group
    REPORT = "report"  # report one's own deed (the report form)
    ANSWER_FORM = "answer_form"  # a step of one's own form (its draft is found by who presses)
    CHOOSE_LANGUAGE = "choose_language"
    NUDGE_SETTINGS = "nudge_settings"  # one's own private nudges, on or off


OWN = frozenset({Relation.OWN})
BELOW = frozenset({Relation.SAME, Relation.CHILD})
ONLY_CHILD = frozenset({Relation.CHILD})
NOWHERE: frozenset[Relation] = frozenset()


@dataclass(frozen=True)
class Rule:
    """The relations in which each role may act. Admins may act anywhere unless `admin` is
    False. `stranger`: where someone with no role anywhere may act (only on their own record:
    their form while joining, their language)."""

    member: frozenset[Relation] = NOWHERE
    leader: frozenset[Relation] = NOWHERE
    observer: frozenset[Relation] = NOWHERE
    admin: bool = True
    stranger: frozenset[Relation] = NOWHERE

    def reach(self, role: Role) -> frozenset[Relation]:
        return {Role.MEMBER: self.member, Role.LEADER: self.leader,
                Role.OBSERVER: self.observer}[role]


RULES: dict[Action, Rule] = {
    Action.REVIEW: Rule(leader=BELOW),
    # Never OWN: a leader's own report is acknowledged by another leader or the level above.
    Action.ACKNOWLEDGE: Rule(leader=BELOW),
    Action.ASK_MORE: Rule(leader=BELOW),
    Action.HIGHLIGHT: Rule(leader=BELOW),
    Action.REOPEN: Rule(leader=BELOW),
    Action.INVITE_MEMBER: Rule(leader=BELOW),
    # Leaders and observers are invited into the units below, never beside oneself.
    Action.INVITE_LEADER: Rule(leader=ONLY_CHILD),
    Action.REVOKE_INVITE: Rule(leader=BELOW),
    # Roles included, as SET_ROLE gives them: a file is what /members does, a row at a time.
    Action.IMPORT_MEMBERS: Rule(leader=BELOW),
    Action.APPROVE_JOIN: Rule(leader=BELOW),
    Action.MEMBERS: Rule(leader=BELOW),
    Action.EXCUSE: Rule(leader=BELOW),
    # A leader may step down, unless they are the unit's last leader (checked by the use case).
    Action.REMOVE: Rule(leader=BELOW | OWN),
    Action.MOVE: Rule(leader=BELOW),
    Action.SET_ROLE: Rule(leader=BELOW),
    Action.REPORT_ON_BEHALF: Rule(leader=BELOW),
    Action.LINK_GROUP: Rule(leader=BELOW),
    # Members report under their unit's models and those of the units above.
    Action.MODEL_LIST: Rule(member=frozenset({Relation.SAME, Relation.PARENT}),
                            leader=BELOW | {Relation.PARENT}, observer=BELOW),
    Action.MODEL_ADD: Rule(leader=BELOW),
    Action.MODEL_STATUS: Rule(leader=BELOW),
    Action.MODEL_MARK: Rule(leader=ONLY_CHILD),
    Action.COMMIT: Rule(member=OWN, leader=OWN, admin=False),
    Action.COMMIT_OVERVIEW: Rule(leader=BELOW, observer=BELOW),
    Action.COMMIT_REMIND: Rule(leader=BELOW),
    Action.OWN_REPORT: Rule(member=OWN, leader=OWN, admin=False),
    Action.STATS_OWN: Rule(member=OWN, leader=OWN, admin=False),
    Action.STATS_UNIT: Rule(leader=BELOW, observer=BELOW),
    Action.SCHEDULE: Rule(leader=BELOW),
    Action.DIGEST: Rule(leader=BELOW, observer=BELOW),
    Action.EXPORT: Rule(leader=BELOW, observer=BELOW),
    Action.ANNOUNCE: Rule(leader=BELOW),
    # A leader reports in the unit they lead when they are a member nowhere.
    Action.REPORT: Rule(member=OWN, leader=OWN, admin=False),
    Action.ANSWER_FORM: Rule(member=OWN, leader=OWN, observer=OWN, stranger=OWN, admin=False),
    Action.CHOOSE_LANGUAGE: Rule(member=OWN, leader=OWN, observer=OWN, stranger=OWN,
                                 admin=False),
    Action.NUDGE_SETTINGS: Rule(member=OWN, leader=OWN, observer=OWN, admin=False),
}


@dataclass(frozen=True)
class Actor:
    """Whoever pressed or typed: their person (None for a stranger), live roles, admin or not,
    as seen by `bot`, the bot they wrote to (bot/rules/bots.py): only the roles held in units it
    serves, and an admin only within its subtree. No bot: the whole tree."""

    user_id: int
    person: Person | None
    memberships: tuple[Membership, ...] = field(default=())
    admin: bool = False
    bot: BotIdentity | None = None

    def holds(self, role: Role) -> bool:
        return any(m.role is role for m in self.memberships)

    @property
    def known(self) -> bool:
        return self.admin or bool(self.memberships)

    @property
    def label(self) -> str:
        """Who acted, for the audit log (an admin may have no person)."""
        return f"person:{self.person.id}" if self.person else f"tg:{self.user_id}"

    @property
    def lang(self) -> str | None:
        return self.person.lang if self.person else None

    def owns(self, person_id: int | None) -> bool:
        return self.person is not None and person_id == self.person.id


async def actor_for(tx: Tx, admins: Collection[int], user_id: int,
                    bot: BotIdentity | None = None) -> Actor:
    """Whoever this Telegram user is now, as the database says, seen by `bot` (their roles in
    the units it serves; see `Actor`)."""
    person = await people.person_by_telegram_id(tx, user_id)
    held = await people.active_memberships(tx, person.id) if person else []
    return Actor(user_id, person, tuple(await served(tx, bot, held)), user_id in admins, bot)


async def relation(tx: Tx, role_unit_id: int, target_unit_id: int) -> Relation:
    if role_unit_id == target_unit_id:
        return Relation.SAME
    if target_unit_id in await units.subtree_ids(tx, role_unit_id):
        return Relation.CHILD
    if any(u.id == target_unit_id for u in await units.ancestors(tx, role_unit_id)):
        return Relation.PARENT
    return Relation.SIBLING


async def permits(tx: Tx, actor: Actor, action: Action, unit_id: int,
                  person_id: int | None = None) -> bool:
    """May `actor` take `action` on a target in `unit_id` (belonging to `person_id`, if the
    target is someone's record)?"""
    rule = RULES[action]
    own = actor.owns(person_id)
    if actor.admin and rule.admin and not own and await in_subtree(tx, actor.bot, unit_id):
        return True
    if not actor.memberships:
        return own and Relation.OWN in rule.stranger
    for membership in actor.memberships:
        reach = rule.reach(membership.role)
        if not reach:
            continue
        if own and Relation.OWN in reach:
            return True
        if not own and await relation(tx, membership.unit_id, unit_id) in reach:
            return True
    return False


async def refuse(req: Request, action: Action, unit_id: int, person_id: int | None = None,
                 pressed: bool = False) -> Reply:
    """The polite refusal to show, with the attempt logged (a refused button press may be
    forged data)."""
    actor = req.actor
    log.warning("user %s refused %s on unit %s", actor.user_id, action, unit_id)
    await audit.record(req.tx, req.now, f"tg:{actor.user_id}", "refused", action.value,
                       f"unit:{unit_id}" + (f" person:{person_id}" if person_id else ""))
    key, params = await refusal_key(req.tx, actor, unit_id)
    if pressed:
        return Reply(toast=req.t.plain(key, **params))
    return Reply((Screen(req.t(key, **params)),))


async def refusal_key(tx: Tx, actor: Actor, unit_id: int) -> tuple[str, dict[str, str]]:
    """What a refusal says: to a stranger, how to join; to an observer of the unit (or of
    anywhere, when the command was refused before a unit was named: unit 0), that they follow
    it and may read but not act; to anyone else, that it is not theirs, sending to the bí thư
    chi bộ only those whose roles are all at a cell or below (not a commune's people)."""
    if not actor.known:
        return await other_bot_key(tx, actor) or ("access.not_member", {})
    held = [(m, await units.get_unit(tx, m.unit_id)) for m in actor.memberships]
    for membership, unit in held:
        if membership.role is Role.OBSERVER and unit is not None and (
                unit_id == 0 or await relation(tx, unit.id, unit_id) in BELOW):
            return "access.read_only", {"unit": unit.name}
    in_cells = bool(held) and all(unit is not None and at_cell(unit) for _, unit in held)
    return ("access.denied" if in_cells else "access.denied_above_cell"), {}


async def other_bot_key(tx: Tx, actor: Actor) -> tuple[str, dict[str, str]] | None:
    """Someone whose roles are all in units other bots serve (bot/rules/bots.py), writing to
    this one: the line naming the bot to write to. None for anyone else."""
    if actor.bot is None or actor.person is None or actor.memberships:
        return None
    held = await people.active_memberships(tx, actor.person.id)
    username = await owner_username(tx, held[0].unit_id) if held else None
    return ("access.other_bot", {"bot": username}) if username else None


async def unreadable(req: Request, data: str, key: str) -> Reply:
    """A button whose data no declaration made, or with a field out of its bounds: old, or
    forged. Refused with `key`'s note, and logged."""
    log.warning("user %s pressed unreadable data %r", req.user_id, data)
    await audit.record(req.tx, req.now, f"tg:{req.user_id}", "refused", "button", data[:64])
    return Reply(toast=req.t.plain(key))


def highest(reach: list[Unit]) -> list[Unit]:
    """The highest units of a reach: every other one is below one of them."""
    ids = {u.id for u in reach}
    return [u for u in reach if u.parent_id not in ids]


async def units_in_reach(tx: Tx, actor: Actor, action: Action) -> list[Unit]:
    """The units where `actor` may take `action`, each unit followed by the units below it
    (for pickers). Own-record actions reach no unit."""
    rule = RULES[action]
    if actor.admin and rule.admin:
        every = await units.list_units(tx)
        if actor.bot is None or actor.bot.root_unit_id is None:
            return every
        below = set(await units.subtree_ids(tx, actor.bot.root_unit_id))
        return [unit for unit in every if unit.id in below]
    found: dict[int, Unit] = {}
    for membership in actor.memberships:
        reach = rule.reach(membership.role)
        ids: list[int] = []
        if Relation.SAME in reach:
            ids.append(membership.unit_id)
        if Relation.CHILD in reach:
            ids += (await units.subtree_ids(tx, membership.unit_id))[1:]
        for unit_id in ids:
            unit = found.get(unit_id) or await units.get_unit(tx, unit_id)
            if unit is not None:
                found[unit_id] = unit
    return list(found.values())


@dataclass
class Request:
    """One update being handled (see the module's docstring). `name` is what the messenger
    calls the person; `after_commit` runs once the transaction has committed (a unit's jobs
    rebuilt, the sender woken)."""

    tx: Tx
    actor: Actor
    t: Texts
    now: dt.datetime
    today: dt.date
    update_id: int = 0
    name: str = ""
    admins: Collection[int] = ()
    _after: list[Callable[[], None]] = field(default_factory=list)
    bot: BotIdentity | None = None

    @property
    def user_id(self) -> int:
        return self.actor.user_id

    async def actor_of(self, user_id: int) -> Actor:
        """Someone as they are now in this transaction: the requester after a change of their
        roles, or another person a notice goes to."""
        return await actor_for(self.tx, self.admins, user_id, self.bot)

    def after_commit(self, run: Callable[[], None]) -> None:
        self._after.append(run)

    async def may(self, action: Action, unit_id: int, person_id: int | None = None) -> bool:
        return await permits(self.tx, self.actor, action, unit_id, person_id)

    async def check(self, action: Action, unit_id: int, person_id: int | None = None,
                    pressed: bool = False) -> Reply | None:
        """None when allowed; otherwise the refusal, logged (see `refuse`)."""
        if await self.may(action, unit_id, person_id):
            return None
        return await refuse(self, action, unit_id, person_id, pressed)

    async def reach(self, action: Action) -> list[Unit]:
        return await units_in_reach(self.tx, self.actor, action)

    async def tops(self, action: Action) -> list[Unit]:
        return highest(await self.reach(action))


class Requests:
    """Opens the request of each update (and of a job done for one person)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @asynccontextmanager
    async def begin(self, user_id: int, name: str = "",
                    update_id: int = 0) -> AsyncIterator[Request]:
        services = self.services
        async with services.db.transaction() as tx:
            actor = await actor_for(tx, services.settings.admins, user_id, services.bot)
            now = services.now()
            req = Request(tx, actor, services.texts(actor.lang), now,
                          local_today(services.clock, services.settings.zone), update_id, name,
                          services.settings.admins, bot=services.bot)
            yield req
        for run in req._after:
            run()
