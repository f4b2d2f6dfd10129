"""A unit's people as its leaders manage them: who reports there, excused or not, their
leader titles; excusing, moving, giving and ending roles, removing. Rows are never deleted:
a removed or moved membership keeps its history with status 'removed'."""

from __future__ import annotations

import datetime as dt

from storage.clock import to_db
from storage.db import Tx
from storage.entities import Entity, Role


class MembershipRow(Entity):
    """One membership, whatever its status."""

    id: int
    person_id: int
    unit_id: int
    role: Role
    title: str | None
    excused: bool
    status: str

    @property
    def live(self) -> bool:
        return self.status == "active"


class UnitPerson(Entity):
    """Someone who reports in a unit: a member of it, one of its leaders, or both.
    `membership_id` is the row that lists them there (the member row when there is one)."""

    membership_id: int
    person_id: int
    telegram_user_id: int | None  # None: a member without Telegram
    full_name: str
    lang: str
    member: bool
    leader: bool
    title: str | None
    excused: bool
    # How to reach someone not on Telegram yet, as an imported list gave it.
    phone: str | None = None
    telegram_username: str | None = None


_ROW = "id, person_id, unit_id, role, title, excused, status"


async def membership(tx: Tx, membership_id: int) -> MembershipRow | None:
    row = await tx.one(f"SELECT {_ROW} FROM memberships WHERE id = ?", (membership_id,))
    return MembershipRow(**dict(row)) if row else None


async def live_rows(tx: Tx, person_id: int, unit_id: int) -> list[MembershipRow]:
    """The person's active member and leader rows in the unit."""
    rows = await tx.all(
        f"""SELECT {_ROW} FROM memberships
            WHERE person_id = ? AND unit_id = ? AND status = 'active'
              AND role IN ('member', 'leader') ORDER BY id""",
        (person_id, unit_id),
    )
    return [MembershipRow(**dict(r)) for r in rows]


async def people_of_unit(tx: Tx, unit_id: int) -> list[UnitPerson]:
    """Everyone who reports in the unit, one entry per person (the caller sorts them)."""
    rows = await tx.all(
        """SELECT m.id, m.person_id, m.role, m.title, m.excused,
                  p.telegram_user_id, p.full_name, p.lang, p.phone, p.telegram_username
           FROM memberships m JOIN people p ON p.id = m.person_id
           WHERE m.unit_id = ? AND m.status = 'active' AND m.role IN ('member', 'leader')
           ORDER BY m.person_id, m.role = 'leader', m.id""",
        (unit_id,),
    )
    found: dict[int, UnitPerson] = {}
    for row in rows:
        person_id = int(row["person_id"])
        seen = found.get(person_id)
        is_leader = row["role"] == Role.LEADER.value
        if seen is None:
            found[person_id] = UnitPerson(
                membership_id=row["id"], person_id=person_id,
                telegram_user_id=row["telegram_user_id"], full_name=row["full_name"],
                lang=row["lang"], member=not is_leader, leader=is_leader,
                title=row["title"] if is_leader else None, excused=bool(row["excused"]),
                phone=row["phone"], telegram_username=row["telegram_username"])
        elif is_leader:
            found[person_id] = seen.model_copy(update={"leader": True, "title": row["title"]})
    return list(found.values())


async def leader_count(tx: Tx, unit_id: int) -> int:
    """The unit's active leaders, counted for a step-down: their rows are taken for this
    transaction first (a write that changes nothing), so that two leaders stepping down at
    once on a database with several writers are counted one after the other, and the second
    sees that the first has gone (storage/INVARIANTS.md)."""
    await tx.run("UPDATE memberships SET status = status"
                 " WHERE unit_id = ? AND role = 'leader' AND status = 'active'", (unit_id,))
    row = await tx.one(
        "SELECT COUNT(*) AS n FROM memberships"
        " WHERE unit_id = ? AND role = 'leader' AND status = 'active'",
        (unit_id,),
    )
    return int(row["n"]) if row else 0


async def set_excused(tx: Tx, person_id: int, unit_id: int, excused: bool) -> int:
    """Marks every live row of the person in the unit; the number of rows changed."""
    return await tx.run(
        """UPDATE memberships SET excused = ?
           WHERE person_id = ? AND unit_id = ? AND status = 'active'
             AND role IN ('member', 'leader') AND excused != ?""",
        (int(excused), person_id, unit_id, int(excused)),
    )


async def end_rows(tx: Tx, membership_ids: list[int]) -> None:
    """Live rows become 'removed' (the history stays)."""
    await tx.run_many(
        "UPDATE memberships SET status = 'removed' WHERE id = ? AND status = 'active'",
        [(i,) for i in membership_ids])


async def add_leader(tx: Tx, person_id: int, unit_id: int, title: str, excused: bool,
                     now: dt.datetime) -> int:
    return await tx.run(
        "INSERT INTO memberships (person_id, unit_id, role, title, excused, joined_at)"
        " VALUES (?, ?, 'leader', ?, ?, ?)",
        (person_id, unit_id, title, int(excused), to_db(now)),
    )


async def move_member(tx: Tx, row: MembershipRow, unit_id: int, now: dt.datetime) -> int:
    """The member row ends in its unit and starts in `unit_id` (excused or not as before);
    the new row's id."""
    await end_rows(tx, [row.id])
    return await tx.run(
        "INSERT INTO memberships (person_id, unit_id, role, title, excused, joined_at)"
        " VALUES (?, ?, 'member', NULL, ?, ?)",
        (row.person_id, unit_id, int(row.excused), to_db(now)),
    )
