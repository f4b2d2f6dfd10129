"""What an export lists, row by row: a subtree's reports of a period with the names they carry,
its members, its models. The figures beside them are storage/counting.py's; the bounds and
the rule that withdrawn reports never count are its too (`Within`, COUNTED).

Rows are plain slotted values, not validated models: a province's year is 200,000 reports.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from storage.counting import COUNTED, REPORTING, RUNS_IN_YEAR, Within, in_scope, scope_of
from storage.db import Tx
from storage.reviews import ACKNOWLEDGED


@dataclass(frozen=True, slots=True)
class DeedRow:
    """One report. `entered_by` is the leader who entered it on the author's behalf (None: the
    author did); `acknowledged_by` the leader whose acknowledgment stands."""

    id: int
    deed_date: dt.date
    author: str
    unit_id: int
    field: str
    description: str
    model: str | None
    people_helped: int | None
    households_helped: int | None
    value_vnd: int | None
    place: str | None
    latitude: float | None
    longitude: float | None
    state: str
    private: bool
    entered_by: str | None
    acknowledged_by: str | None
    together: tuple[str, ...]  # the co-participants' names


@dataclass(frozen=True, slots=True)
class MemberRow:
    """Someone who reports in the subtree (bot/rules/counting.py's y, the excused too)."""

    person_id: int
    name: str
    unit_id: int
    excused: bool
    has_telegram: bool
    unreachable: bool  # blocked the bot
    committed: bool  # registered the year's commitment


@dataclass(frozen=True, slots=True)
class ModelRow:
    id: int
    name: str
    field: str
    owner_unit_id: int
    mass_org: str | None
    start_year: int


class _Names:
    """One string per name, however many rows carry it."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}

    def __call__(self, name: str | None) -> str | None:
        return None if name is None else self._seen.setdefault(name, name)


async def deeds(tx: Tx, root: int, within: Within) -> AsyncGenerator[list[DeedRow], None]:
    """The counted reports of `root`'s subtree within the bounds, by day, then as received: a
    batch at a time, so that a province's year is never all in memory."""
    condition, params = within
    scope, units_in, scope_params = scope_of(root)
    where = f"{COUNTED} AND {condition} AND {in_scope('r.unit_id', units_in)}"
    together: dict[int, list[str]] = defaultdict(list)
    name = _Names()
    async for rows in tx.batches(
            f"""{scope}
                SELECT r.id, pe.full_name FROM reports r
                JOIN report_participants p ON p.report_id = r.id
                JOIN people pe ON pe.id = p.person_id
                WHERE {where} ORDER BY r.id, pe.full_name, pe.id""",
            (*scope_params, *params)):
        for report_id, partner in rows:
            together[report_id].append(name(partner) or "")
    async for rows in tx.batches(
        f"""{scope}
            SELECT r.id, r.deed_date, a.full_name, r.unit_id, r.field, r.description, m.name,
                   r.people_helped, r.households_helped, r.value_vnd, r.place, r.latitude,
                   r.longitude, r.state, r.private,
                   CASE WHEN r.entered_by != r.person_id THEN e.full_name END,
                   CASE WHEN r.state = 'acknowledged' THEN
                       (SELECT k.full_name FROM report_reviews v JOIN people k ON k.id = v.person_id
                        WHERE v.report_id = r.id AND v.action = ?
                        ORDER BY v.id DESC LIMIT 1) END
            FROM reports r JOIN people a ON a.id = r.person_id
            JOIN people e ON e.id = r.entered_by
            LEFT JOIN models m ON m.id = r.model_id
            WHERE {where} ORDER BY r.deed_date, r.id""",
            (*scope_params, ACKNOWLEDGED, *params)):
        yield [DeedRow(row[0], dt.date.fromisoformat(row[1]), name(row[2]) or "", row[3],
                       name(row[4]) or "", row[5], name(row[6]), row[7], row[8], row[9],
                       row[10], row[11], row[12], row[13], bool(row[14]), name(row[15]),
                       name(row[16]), tuple(together.pop(row[0], ())))
               for row in rows]


async def members(tx: Tx, root: int, year: int) -> list[MemberRow]:
    """Everyone who reports in `root`'s subtree, by name, with whether they registered the
    year's commitment (wherever they were when they did, as storage/commitments.py counts)."""
    scope, units_in, scope_params = scope_of(root)
    rows = await tx.all(
        f"""{scope}
            SELECT e.person_id, p.full_name, e.unit_id, e.excused,
                   p.telegram_user_id IS NOT NULL, p.unreachable,
                   EXISTS (SELECT 1 FROM commitments c
                           WHERE c.person_id = e.person_id AND c.year = ?)
            FROM ({REPORTING}) e JOIN people p ON p.id = e.person_id
            WHERE {in_scope('e.unit_id', units_in)}
            ORDER BY p.full_name, p.id""",
        (*scope_params, year))
    return [MemberRow(row[0], row[1], row[2], bool(row[3]), bool(row[4]), bool(row[5]),
                      bool(row[6])) for row in rows]


async def models_of_year(tx: Tx, root: int, year: int) -> list[ModelRow]:
    """The models `root`'s subtree runs in `year` (those storage/counting.py counts), by
    name."""
    scope, units_in, scope_params = scope_of(root)
    rows = await tx.all(
        f"""{scope}
            SELECT m.id, m.name, m.field, m.owner_unit_id, m.mass_org, m.start_year
            FROM models m
            WHERE {in_scope('m.owner_unit_id', units_in)} AND {RUNS_IN_YEAR}
            ORDER BY m.name, m.id""",
        (*scope_params, year, year))
    return [ModelRow(*row) for row in rows]
