"""Who may do what, and where.

`RULES` is the permissions table: for every action, the relations to its target in which each
role may take it. It is the spec too: tests/test_permissions.py builds its matrix from it.
Button data comes from the client, so every use case asks `check` again on every press.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import StrEnum

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
    ANNOUNCE = "announce"  # a message to a unit's members and group


OWN = frozenset({Relation.OWN})
BELOW = frozenset({Relation.SAME, Relation.CHILD})
ONLY_CHILD = frozenset({Relation.CHILD})
NOWHERE: frozenset[Relation] = frozenset()


@dataclass(frozen=True)
class Rule:
    """The relations in which each role may act. Admins may act anywhere unless `admin` is
    False; strangers never."""

    member: frozenset[Relation] = NOWHERE
    leader: frozenset[Relation] = NOWHERE
    observer: frozenset[Relation] = NOWHERE
    admin: bool = True

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
    Action.ANNOUNCE: Rule(leader=BELOW),
}


@dataclass(frozen=True)
class Actor:
    """Whoever pressed or typed: their person (None for a stranger), live roles, admin or not."""

    user_id: int
    person: Person | None
    memberships: tuple[Membership, ...] = field(default=())
    admin: bool = False

    def holds(self, role: Role) -> bool:
        return any(m.role is role for m in self.memberships)

    @property
    def known(self) -> bool:
        return self.admin or bool(self.memberships)

    @property
    def label(self) -> str:
        """Who acted, for the audit log (an admin may have no person)."""
        return f"person:{self.person.id}" if self.person else f"tg:{self.user_id}"


async def actor_for(tx: Tx, services: Services, user_id: int) -> Actor:
    person = await people.person_by_telegram_id(tx, user_id)
    held = tuple(await people.active_memberships(tx, person.id)) if person else ()
    return Actor(user_id, person, held, user_id in services.settings.admins)


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
    own = actor.person is not None and person_id == actor.person.id
    if actor.admin and rule.admin and not own:
        return True
    for membership in actor.memberships:
        reach = rule.reach(membership.role)
        if not reach:
            continue
        if own and Relation.OWN in reach:
            return True
        if not own and await relation(tx, membership.unit_id, unit_id) in reach:
            return True
    return False


async def check(tx: Tx, services: Services, actor: Actor, action: Action, unit_id: int,
                person_id: int | None = None, pressed: bool = False) -> Reply | None:
    """None when allowed; otherwise the polite refusal to show, with the attempt logged (a
    refused button press may be forged data)."""
    if await permits(tx, actor, action, unit_id, person_id):
        return None
    log.warning("user %s refused %s on unit %s", actor.user_id, action, unit_id)
    await audit.record(tx, services.now(), f"tg:{actor.user_id}", "refused", action.value,
                       f"unit:{unit_id}" + (f" person:{person_id}" if person_id else ""))
    t = await _texts(tx, services, actor)
    key = "access.denied" if actor.known else "access.not_member"
    if pressed:
        return Reply(toast=t.plain(key))
    return Reply((Screen(t(key)),))


async def _texts(tx: Tx, services: Services, actor: Actor) -> Texts:
    return services.texts(actor.person.lang if actor.person else None)


async def units_in_reach(tx: Tx, actor: Actor, action: Action) -> list[Unit]:
    """The units where `actor` may take `action`, each unit followed by the units below it
    (for pickers). Own-record actions reach no unit."""
    rule = RULES[action]
    if actor.admin and rule.admin:
        return await units.list_units(tx)
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
