"""Joins: the memberships that come through invites, and those through multi-use invites that
wait for a leader's approval (approved or rejected once, by one leader)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from storage.clock import from_db, to_db
from storage.db import Tx, placeholders
from storage.entities import Entity, Person, Role


class Status(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    REMOVED = "removed"


class Decision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


class JoinRequest(Entity):
    """A membership seen as a request to join: who, where, in which role, and how it stands."""

    membership_id: int
    person_id: int
    telegram_user_id: int | None
    full_name: str
    lang: str
    unit_id: int
    role: Role
    status: Status


class Verdict(Entity):
    decision: Decision
    decided_by: int | None
    decider_name: str
    decided_at: dt.datetime


_REQUEST = """SELECT m.id AS membership_id, m.person_id, p.telegram_user_id, p.full_name,
                     p.lang, m.unit_id, m.role, m.status
              FROM memberships m JOIN people p ON p.id = m.person_id"""


async def request_membership(tx: Tx, person_id: int, unit_id: int, role: Role,
                             invite_id: int, now: dt.datetime) -> int:
    """A membership that waits for a leader's approval; its id."""
    return await tx.run(
        "INSERT INTO memberships (person_id, unit_id, role, invite_id, joined_at, status)"
        " VALUES (?, ?, ?, ?, ?, 'pending')",
        (person_id, unit_id, role.value, invite_id, to_db(now)),
    )


async def get_request(tx: Tx, membership_id: int) -> JoinRequest | None:
    row = await tx.one(f"{_REQUEST} WHERE m.id = ?", (membership_id,))
    return JoinRequest(**dict(row)) if row else None


async def live_memberships(tx: Tx, person_id: int) -> list[JoinRequest]:
    """The person's memberships, active or waiting for approval."""
    rows = await tx.all(f"{_REQUEST} WHERE m.person_id = ? AND m.status != 'removed'"
                        " ORDER BY m.id", (person_id,))
    return [JoinRequest(**dict(r)) for r in rows]


async def decide(tx: Tx, membership_id: int, decision: Decision, decided_by: int | None,
                 decider_name: str, now: dt.datetime) -> bool:
    """Approves or rejects a waiting membership; False when it no longer waits (another
    leader was first)."""
    status = Status.ACTIVE if decision is Decision.APPROVED else Status.REMOVED
    changed = await tx.run(
        "UPDATE memberships SET status = ? WHERE id = ? AND status = 'pending'",
        (status.value, membership_id),
    )
    if changed != 1:
        return False
    await tx.run(
        "INSERT INTO join_decisions (membership_id, decision, decided_by, decider_name,"
        " decided_at) VALUES (?, ?, ?, ?, ?)",
        (membership_id, decision.value, decided_by, decider_name, to_db(now)),
    )
    return True


async def verdict(tx: Tx, membership_id: int) -> Verdict | None:
    row = await tx.one(
        "SELECT decision, decided_by, decider_name, decided_at FROM join_decisions"
        " WHERE membership_id = ?", (membership_id,),
    )
    if row is None:
        return None
    values = dict(row)
    values["decided_at"] = from_db(values["decided_at"])
    return Verdict(**values)


async def leaders_of(tx: Tx, unit_id: int) -> list[Person]:
    """The unit's active leaders (not those of the units above or below)."""
    rows = await tx.all(
        """SELECT DISTINCT p.id, p.telegram_user_id, p.full_name, p.lang
           FROM memberships m JOIN people p ON p.id = m.person_id
           WHERE m.unit_id = ? AND m.role = 'leader' AND m.status = 'active'
             AND p.telegram_user_id IS NOT NULL
           ORDER BY p.id""",
        (unit_id,),
    )
    return [Person(**dict(r)) for r in rows]


async def pending_requests(tx: Tx, unit_ids: list[int]) -> list[JoinRequest]:
    """Joins into these units waiting for approval, oldest first."""
    if not unit_ids:
        return []
    marks = placeholders(unit_ids)
    rows = await tx.all(f"{_REQUEST} WHERE m.unit_id IN ({marks}) AND m.status = 'pending'"
                        " ORDER BY m.id", tuple(unit_ids))
    return [JoinRequest(**dict(r)) for r in rows]
