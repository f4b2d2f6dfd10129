"""Each unit's schedule rows (migrations 0007, 0009): its digest, its reminder, its custom
reminders, and its leaders' daily notice of the reports waiting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import StrEnum
from typing import NamedTuple

from storage.clock import from_db, to_db
from storage.db import Tx
from storage.entities import Entity


class ScheduleKind(StrEnum):
    DIGEST = "digest"
    REMINDER = "reminder"
    CUSTOM = "custom"
    REVIEW = "review"  # a leader's daily notice of the reports waiting (bot/flows/reviews.py)


class Every(StrEnum):
    WEEK = "week"
    MONTH = "month"
    DAY = "day"


class NewSchedule(Entity):
    unit_id: int
    kind: ScheduleKind
    enabled: bool = True
    every: Every = Every.WEEK
    weekday: int | None = None  # 0 = Monday … 6 = Sunday, for Every.WEEK (none: every day)
    month_day: int | None = None  # 1–28, for Every.MONTH
    at: dt.time
    text: str | None = None  # a custom reminder's words


class Schedule(NewSchedule):
    id: int
    updated_at: dt.datetime  # added or last changed: earlier occurrences are not its own


_COLUMNS = ("unit_id", "kind", "enabled", "every", "weekday", "month_day", "at", "text")


def _schedule(row) -> Schedule:
    values = dict(row)
    values["at"] = dt.time.fromisoformat(values["at"])
    values["updated_at"] = from_db(values["updated_at"])
    return Schedule(**{k: values[k] for k in ("id", "updated_at", *_COLUMNS)})


def _values(item: NewSchedule) -> tuple:
    return (item.unit_id, item.kind.value, int(item.enabled), item.every.value, item.weekday,
            item.month_day, item.at.strftime("%H:%M"), item.text)


async def of_unit(tx: Tx, unit_id: int) -> list[Schedule]:
    """The digest, the reminder, the review notice, then custom reminders in the order they
    were added."""
    rows = await tx.all(
        """SELECT * FROM schedules WHERE unit_id = ?
           ORDER BY CASE kind WHEN 'digest' THEN 0 WHEN 'reminder' THEN 1 WHEN 'review' THEN 2
                    ELSE 3 END, id""",
        (unit_id,))
    return [_schedule(r) for r in rows]


async def every_schedule(tx: Tx) -> list[Schedule]:
    rows = await tx.all("SELECT * FROM schedules ORDER BY unit_id, id")
    return [_schedule(r) for r in rows]


class Enabled(NamedTuple):
    id: int
    unit_id: int


async def enabled(tx: Tx) -> list[Enabled]:
    """Every enabled row's id and unit, in the order of `every_schedule`: what the catch-up
    runs, without 15,000 models of a kilobyte each (a province's rows) held meanwhile."""
    rows = await tx.all("SELECT id, unit_id FROM schedules WHERE enabled = 1 ORDER BY unit_id, id")
    return [Enabled(int(r["id"]), int(r["unit_id"])) for r in rows]


async def of_kind(tx: Tx, kind: ScheduleKind) -> list[Schedule]:
    """Every row of one kind: a third of them all (each a model of a kilobyte or more)."""
    rows = await tx.all("SELECT * FROM schedules WHERE kind = ? ORDER BY unit_id, id",
                        (kind.value,))
    return [_schedule(r) for r in rows]


async def get(tx: Tx, schedule_id: int) -> Schedule | None:
    row = await tx.one("SELECT * FROM schedules WHERE id = ?", (schedule_id,))
    return _schedule(row) if row is not None else None


async def add(tx: Tx, item: NewSchedule, now: dt.datetime) -> int:
    return await tx.run(
        f"""INSERT INTO schedules ({", ".join(_COLUMNS)}, updated_at)
            VALUES ({", ".join("?" * (len(_COLUMNS) + 1))})""", (*_values(item), to_db(now)))


async def add_missing_standard(tx: Tx, defaults: Sequence[NewSchedule],
                               now: dt.datetime) -> int:
    """Gives every unit that lacks one a digest and a reminder row like `defaults` (their
    unit_id is ignored). Returns how many rows were added. Two processes starting at once
    (the bot and `lantoa init`, or a standby) add each row once: the NOT EXISTS reads before
    the other commits, the unique index `schedules_one_standard` then decides."""
    added = 0
    for item in defaults:
        values = _values(item)[1:]
        rows = await tx.all(
            f"""INSERT INTO schedules ({", ".join(_COLUMNS)}, updated_at)
                SELECT u.id, {", ".join("?" * (len(_COLUMNS) - 1))}, ?
                FROM units u WHERE NOT EXISTS (
                    SELECT 1 FROM schedules s WHERE s.unit_id = u.id AND s.kind = ?)
                ON CONFLICT DO NOTHING RETURNING id""",
            (*values, to_db(now), item.kind.value))
        added += len(rows)
    return added


async def replace(tx: Tx, schedule_id: int, item: NewSchedule, now: dt.datetime) -> bool:
    return await tx.run(
        f"""UPDATE schedules SET {", ".join(f"{c} = ?" for c in _COLUMNS)}, updated_at = ?
            WHERE id = ?""", (*_values(item), to_db(now), schedule_id)) == 1


async def remove(tx: Tx, schedule_id: int) -> bool:
    return await tx.run("DELETE FROM schedules WHERE id = ? AND kind = 'custom'",
                        (schedule_id,)) == 1
