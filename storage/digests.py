"""The queries only a digest needs: its recipients, reports per period for its chart, the models
new in the period, and the reports it holds up as examples. Counts themselves come from
storage/counting.py (through bot/rules/counting.py); this module adds what those do not give.
Withdrawn reports never appear."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from storage.clock import to_db
from storage.counting import in_scope, scope_of
from storage.db import Tx, placeholders
from storage.entities import Entity, Unit

NAMES_PER_QUERY = 5000  # ids in one IN (…): well within SQLite's limit on parameters


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone to send a digest to privately (plain values: a province has 10,000)."""

    person_id: int
    telegram_user_id: int
    full_name: str
    lang: str


class Example(Entity):
    """A report a digest mentions: who did it and what kind of work, never whom it helped."""

    id: int
    author: str
    deed_date: dt.date
    field: str
    description: str
    private: bool
    partners: int  # co-participants besides the author
    model: str | None = None
    photos: int = 0


async def leaders(tx: Tx, unit_id: int) -> list[Recipient]:
    """The unit's own active leaders who can be written to: with a Telegram account, and not
    known to have blocked the bot."""
    rows = await tx.all(
        """SELECT DISTINCT p.id AS person_id, p.telegram_user_id, p.full_name, p.lang
           FROM memberships m JOIN people p ON p.id = m.person_id
           WHERE m.unit_id = ? AND m.role = 'leader' AND m.status = 'active'
             AND p.telegram_user_id IS NOT NULL AND p.unreachable = 0
           ORDER BY p.id""",
        (unit_id,),
    )
    return [Recipient(**dict(r)) for r in rows]


_EXAMPLE = """SELECT x.id, p.full_name AS author, x.deed_date, x.field, x.description,
                     x.private, md.name AS model,
                     (SELECT COUNT(*) FROM report_participants rp
                      WHERE rp.report_id = x.id AND rp.person_id != x.person_id) AS partners,
                     (SELECT COUNT(*) FROM report_photos ph WHERE ph.report_id = x.id) AS photos
              FROM reports x JOIN people p ON p.id = x.person_id
              LEFT JOIN models md ON md.id = x.model_id"""


def _example(row) -> Example:
    values = dict(row)
    values["private"] = bool(values["private"])
    return Example(**values)


# --- every unit at once (see storage/counting.py, "every unit at once") ------------------------


async def units_in_scope(tx: Tx, root: int | None) -> list[Unit]:
    """Every unit (root None) or root's subtree, by id."""
    scope, units_in, params = scope_of(root)
    rows = await tx.all(f"""{scope} SELECT u.id, u.code, u.name, u.kind, u.parent_id,
                                   u.place_name, u.no_locations
                            FROM units u WHERE {in_scope('u.id', units_in)} ORDER BY u.id""",
                        params)
    return [Unit(**dict(r)) for r in rows]


async def totals_per_window_by_unit(tx: Tx, root: int | None,
                                    bounds: Sequence[dt.datetime]) -> dict[int, list[int]]:
    """Per unit: its own reports received in each window [bounds[i], bounds[i + 1]) (units with
    none left out), from one pass over the rows of the whole span."""
    scope, units_in, scope_params = scope_of(root)
    # The database counts the rows received before each inner bound; the windows are the
    # differences.
    before = ", ".join(f"COUNT(*) FILTER (WHERE r.received_at < ?) AS b{i}"
                       for i in range(1, len(bounds) - 1))
    counts = ["b1", *(f"b{i} - b{i - 1}" for i in range(2, len(bounds) - 1)),
              f"n - b{len(bounds) - 2}"] if len(bounds) > 2 else ["n"]
    rows = await tx.all(
        f"""{scope}
            SELECT unit, {", ".join(counts)} FROM (
                SELECT r.unit_id AS unit, {before}{"," if before else ""} COUNT(*) AS n
                FROM reports r
                WHERE r.state != 'withdrawn' AND r.received_at >= ? AND r.received_at < ?
                  AND {in_scope('r.unit_id', units_in)}
                GROUP BY r.unit_id) windows""",
        (*scope_params, *(to_db(b) for b in bounds[1:-1]), to_db(bounds[0]), to_db(bounds[-1])))
    return {row[0]: list(row[1:]) for row in rows}


def _of_unit(row) -> tuple[int, Example]:
    values = dict(row)
    return int(values.pop("unit")), _example(values)


async def highlighted_by_unit(tx: Tx, root: int | None, start: dt.datetime, end: dt.datetime
                              ) -> list[tuple[int, Example]]:
    """(unit, report): the reports a leader marked "⭐ Nêu gương" within [start, end) and did
    not unmark since, not withdrawn, of every unit in scope; in the order they were marked."""
    scope, units_in, params = scope_of(root)
    rows = await tx.all(
        f"""{scope}{"," if scope else "WITH"}
                latest AS (SELECT report_id, MAX(id) AS id FROM report_reviews
                           WHERE action IN ('highlight', 'unhighlight') GROUP BY report_id)
            SELECT r.unit_id AS unit, e.* FROM latest l JOIN report_reviews v ON v.id = l.id
            JOIN ({_EXAMPLE}) e ON e.id = l.report_id
            JOIN reports r ON r.id = l.report_id
            WHERE v.action = 'highlight' AND v.at >= ? AND v.at < ?
              AND r.state != 'withdrawn' AND {in_scope('r.unit_id', units_in)}
            ORDER BY v.id""",
        (*params, to_db(start), to_db(end)))
    return [_of_unit(r) for r in rows]


async def public_with_photos_by_unit(tx: Tx, root: int | None, start: dt.datetime,
                                     end: dt.datetime) -> list[tuple[int, Example]]:
    """(unit, report): the public reports with photos received within [start, end), not
    withdrawn, of every unit in scope; newest first."""
    scope, units_in, params = scope_of(root)
    rows = await tx.all(
        f"""{scope}
            SELECT r.unit_id AS unit, e.* FROM ({_EXAMPLE}) e JOIN reports r ON r.id = e.id
            WHERE r.private = 0 AND r.state != 'withdrawn' AND e.photos > 0
              AND r.received_at >= ? AND r.received_at < ?
              AND {in_scope('r.unit_id', units_in)}
            ORDER BY r.received_at DESC, r.id DESC""",
        (*params, to_db(start), to_db(end)))
    return [_of_unit(r) for r in rows]


async def leaders_by_unit(tx: Tx) -> dict[int, list[Recipient]]:
    """`leaders` of every unit at once."""
    rows = await tx.all(
        """SELECT DISTINCT m.unit_id AS unit, p.id AS person_id, p.telegram_user_id,
                  p.full_name, p.lang
           FROM memberships m JOIN people p ON p.id = m.person_id
           WHERE m.role = 'leader' AND m.status = 'active'
             AND p.telegram_user_id IS NOT NULL AND p.unreachable = 0
           ORDER BY m.unit_id, p.id""")
    found: dict[int, list[Recipient]] = {}
    for r in rows:
        found.setdefault(int(r["unit"]), []).append(Recipient(
            person_id=r["person_id"], telegram_user_id=r["telegram_user_id"],
            full_name=r["full_name"], lang=r["lang"]))
    return found


async def names_by_id(tx: Tx, person_ids: Collection[int]) -> dict[int, str]:
    """The people's full names."""
    ids = list(person_ids)
    found: dict[int, str] = {}
    for i in range(0, len(ids), NAMES_PER_QUERY):
        chunk = ids[i:i + NAMES_PER_QUERY]
        rows = await tx.all(
            f"SELECT id, full_name FROM people WHERE id IN ({placeholders(chunk)})",
            tuple(chunk))
        found.update((r["id"], r["full_name"]) for r in rows)
    return found


async def groups_by_unit(tx: Tx) -> dict[int, int]:
    """The linked group of every unit that has one."""
    rows = await tx.all("SELECT id, group_chat_id FROM units WHERE group_chat_id IS NOT NULL")
    return {int(r["id"]): int(r["group_chat_id"]) for r in rows}
