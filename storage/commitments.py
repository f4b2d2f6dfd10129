"""Yearly commitments (bản cam kết, đăng ký làm theo Bác), their self-assessment, and who in a
unit's subtree has registered one."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from storage.clock import from_db, to_db
from storage.counting import EXPECTED
from storage.db import Tx, placeholders
from storage.entities import Entity


class Rating(StrEnum):
    EXCELLENT = "excellent"  # Hoàn thành xuất sắc nhiệm vụ
    GOOD = "good"  # Hoàn thành tốt nhiệm vụ
    DONE = "done"  # Hoàn thành nhiệm vụ
    NOT_DONE = "not_done"  # Không hoàn thành nhiệm vụ


class Commitment(Entity):
    id: int
    person_id: int
    unit_id: int
    year: int
    pledge: str
    actions: str  # one action a line
    self_rating: Rating | None = None
    self_assessment: str | None = None
    created_at: dt.datetime
    updated_at: dt.datetime
    assessed_at: dt.datetime | None = None


class Unregistered(Entity):
    """A member (not excused) of a unit's subtree without a commitment for the year."""

    person_id: int
    full_name: str
    unit_id: int  # the unit they are a member of
    telegram_user_id: int | None  # None: nobody to message (a member without Telegram)
    lang: str
    reachable: bool


class Registration(Entity):
    """x/y: of `expected` members of the subtree (not excused), `registered` have one."""

    registered: int
    expected: int


_COLUMNS = ("id, person_id, unit_id, year, pledge, actions, self_rating, self_assessment,"
            " created_at, updated_at, assessed_at")


def _commitment(row) -> Commitment:
    values = dict(row)
    for name in ("created_at", "updated_at", "assessed_at"):
        if values[name] is not None:
            values[name] = from_db(values[name])
    return Commitment(**values)


async def get_commitment(tx: Tx, commitment_id: int) -> Commitment | None:
    row = await tx.one(f"SELECT {_COLUMNS} FROM commitments WHERE id = ?", (commitment_id,))
    return _commitment(row) if row else None


async def commitment_of(tx: Tx, person_id: int, year: int) -> Commitment | None:
    row = await tx.one(f"SELECT {_COLUMNS} FROM commitments WHERE person_id = ? AND year = ?",
                       (person_id, year))
    return _commitment(row) if row else None


async def save_commitment(tx: Tx, *, person_id: int, unit_id: int, year: int, pledge: str,
                          actions: str, now: dt.datetime) -> tuple[int, bool]:
    """Registers the year's commitment, or replaces its text if there is one (a second press
    of "Gửi" never makes two). The id, and whether it was new."""
    existing = await commitment_of(tx, person_id, year)
    if existing is not None:
        await update_commitment(tx, existing.id, pledge, actions, now)
        return existing.id, False
    commitment_id = await tx.run(
        "INSERT INTO commitments (person_id, unit_id, year, pledge, actions, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (person_id, unit_id, year, pledge, actions, to_db(now), to_db(now)),
    )
    return commitment_id, True


async def update_commitment(tx: Tx, commitment_id: int, pledge: str, actions: str,
                            now: dt.datetime) -> None:
    await tx.run(
        "UPDATE commitments SET pledge = ?, actions = ?, updated_at = ? WHERE id = ?",
        (pledge, actions, to_db(now), commitment_id),
    )


async def assess(tx: Tx, commitment_id: int, rating: Rating, text: str,
                 now: dt.datetime) -> None:
    await tx.run(
        "UPDATE commitments SET self_rating = ?, self_assessment = ?, assessed_at = ?,"
        " updated_at = ? WHERE id = ?",
        (rating.value, text, to_db(now), to_db(now), commitment_id),
    )


def _expected_members(unit_ids: list[int]) -> tuple[str, tuple[int, ...]]:
    """The people counted in x/y, as every figure counts them (storage/counting.py)."""
    marks = placeholders(unit_ids)
    sql = f"""SELECT DISTINCT e.person_id, e.unit_id FROM ({EXPECTED}) e
              WHERE e.unit_id IN ({marks})"""
    return sql, tuple(unit_ids)


async def registration(tx: Tx, unit_ids: list[int], year: int) -> Registration:
    """x/y over a subtree (`unit_ids` = the unit and every unit below it). Whoever registered
    counts, even if they registered while in another unit."""
    if not unit_ids:
        return Registration(registered=0, expected=0)
    expected, params = _expected_members(unit_ids)
    row = await tx.one(
        f"""SELECT COUNT(DISTINCT e.person_id) AS expected,
                   COUNT(DISTINCT c.person_id) AS registered
            FROM ({expected}) e
            LEFT JOIN commitments c ON c.person_id = e.person_id AND c.year = ?""",
        (*params, year),
    )
    if row is None:
        return Registration(registered=0, expected=0)
    return Registration(registered=int(row["registered"]), expected=int(row["expected"]))


async def unregistered(tx: Tx, unit_ids: list[int], year: int) -> list[Unregistered]:
    """The members of the units (not excused) who have no commitment for the year, by name."""
    if not unit_ids:
        return []
    expected, params = _expected_members(unit_ids)
    rows = await tx.all(
        f"""SELECT e.person_id, p.full_name, e.unit_id, p.telegram_user_id, p.lang,
                   p.unreachable = 0 AS reachable
            FROM ({expected}) e JOIN people p ON p.id = e.person_id
            WHERE NOT EXISTS (SELECT 1 FROM commitments c
                              WHERE c.person_id = e.person_id AND c.year = ?)
            ORDER BY p.full_name, p.id""",
        (*params, year),
    )
    return [Unregistered(**dict(r)) for r in rows]


async def last_reminder(tx: Tx, unit_id: int, year: int) -> dt.datetime | None:
    """When the unit's unregistered members were last reminded for the year (audit log)."""
    row = await tx.one(
        "SELECT at FROM audit_log WHERE action = 'commit_remind' AND subject = ?"
        " AND detail LIKE ? ORDER BY id DESC LIMIT 1",
        (f"unit:{unit_id}", f"year:{year} %"),
    )
    return from_db(row["at"]) if row else None
