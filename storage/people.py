"""People and their memberships (roles per unit)."""

from __future__ import annotations

import datetime as dt

from storage.clock import to_db
from storage.db import Tx
from storage.entities import Membership, Person, Role

_PERSON = "id, telegram_user_id, full_name, lang"
_PERSON_OF_P = ", ".join("p." + c.strip() for c in _PERSON.split(","))


async def person_by_telegram_id(tx: Tx, telegram_user_id: int) -> Person | None:
    """The person with this Telegram account; people without one (NULL) never match."""
    row = await tx.one(
        f"SELECT {_PERSON} FROM people WHERE telegram_user_id = ?", (telegram_user_id,)
    )
    return Person(**dict(row)) if row else None


async def get_person(tx: Tx, person_id: int) -> Person | None:
    row = await tx.one(f"SELECT {_PERSON} FROM people WHERE id = ?", (person_id,))
    return Person(**dict(row)) if row else None


async def add_person(
    tx: Tx, telegram_user_id: int | None, full_name: str, lang: str, now: dt.datetime
) -> Person:
    """A new person; `telegram_user_id` None for a member without a phone, whose reports a
    leader enters."""
    person_id = await tx.run(
        "INSERT INTO people (telegram_user_id, full_name, lang, created_at) VALUES (?, ?, ?, ?)",
        (telegram_user_id, full_name, lang, to_db(now)),
    )
    return Person(id=person_id, telegram_user_id=telegram_user_id, full_name=full_name, lang=lang)


async def attach_telegram(tx: Tx, person_id: int, telegram_user_id: int) -> bool:
    """The person (imported without Telegram) opened their personal invite: this account is
    theirs from now on. False when they have one already."""
    return await tx.run("UPDATE people SET telegram_user_id = ? WHERE id = ?"
                        " AND telegram_user_id IS NULL", (telegram_user_id, person_id)) == 1


async def rename_person(tx: Tx, person_id: int, full_name: str) -> None:
    await tx.run("UPDATE people SET full_name = ? WHERE id = ?", (full_name, person_id))


async def set_language(tx: Tx, person_id: int, lang: str) -> None:
    await tx.run("UPDATE people SET lang = ? WHERE id = ?", (lang, person_id))


async def add_membership(
    tx: Tx, person_id: int, unit_id: int, role: Role, invite_id: int | None, now: dt.datetime
) -> Membership:
    membership_id = await tx.run(
        "INSERT INTO memberships (person_id, unit_id, role, invite_id, joined_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (person_id, unit_id, role.value, invite_id, to_db(now)),
    )
    return Membership(id=membership_id, person_id=person_id, unit_id=unit_id, role=role)


async def active_memberships(tx: Tx, person_id: int) -> list[Membership]:
    rows = await tx.all(
        "SELECT id, person_id, unit_id, role FROM memberships"
        " WHERE person_id = ? AND status = 'active' ORDER BY id",
        (person_id,),
    )
    return [Membership(**dict(r)) for r in rows]


async def reporting_members(tx: Tx, unit_id: int) -> list[Person]:
    """Everyone who reports in the unit (members and its leaders), by name."""
    rows = await tx.all(
        f"""SELECT DISTINCT {_PERSON_OF_P}
            FROM memberships m JOIN people p ON p.id = m.person_id
            WHERE m.unit_id = ? AND m.status = 'active' AND m.role IN ('member', 'leader')
            ORDER BY p.full_name""",
        (unit_id,),
    )
    return [Person(**dict(r)) for r in rows]


async def reporting_members_within(tx: Tx, root_id: int) -> list[tuple[Person, str]]:
    """Everyone who reports in `root_id`'s subtree (members and leaders), by name, each once,
    with the unit they report in (the first by name when several)."""
    rows = await tx.all(
        f"""WITH RECURSIVE sub(id) AS (SELECT ? UNION ALL
                                     SELECT u.id FROM units u JOIN sub ON u.parent_id = sub.id)
            SELECT DISTINCT {_PERSON_OF_P},
                   u.name AS unit_name
            FROM memberships m JOIN people p ON p.id = m.person_id
            JOIN units u ON u.id = m.unit_id
            WHERE m.unit_id IN (SELECT id FROM sub) AND m.status = 'active'
              AND m.role IN ('member', 'leader')
            ORDER BY p.full_name, p.id, u.name""",
        (root_id,),
    )
    found: dict[int, tuple[Person, str]] = {}
    for r in rows:
        person = Person(**{c.strip(): r[c.strip()] for c in _PERSON.split(",")})
        found.setdefault(person.id, (person, str(r["unit_name"])))
    return list(found.values())


async def mark_unreachable(tx: Tx, telegram_user_id: int) -> int:
    """The person blocked the bot: nothing unasked is sent to them until they write again."""
    return await tx.run("UPDATE people SET unreachable = 1 WHERE telegram_user_id = ?",
                        (telegram_user_id,))


async def mark_reachable(tx: Tx, telegram_user_id: int) -> int:
    """The person wrote to the bot again. Returns 1 if they had been unreachable."""
    return await tx.run("UPDATE people SET unreachable = 0 "
                        "WHERE telegram_user_id = ? AND unreachable = 1", (telegram_user_id,))


async def is_unreachable(tx: Tx, telegram_user_id: int) -> bool:
    row = await tx.one("SELECT unreachable FROM people WHERE telegram_user_id = ?",
                       (telegram_user_id,))
    return row is not None and bool(row["unreachable"])


async def unreachable_users(tx: Tx) -> set[int]:
    """Telegram ids of everyone who blocked the bot."""
    rows = await tx.all("SELECT telegram_user_id FROM people "
                        "WHERE unreachable = 1 AND telegram_user_id IS NOT NULL")
    return {int(r["telegram_user_id"]) for r in rows}
