"""What only the Word report asks for besides the figures (storage/counting.py): the reports
held up as examples, with who did them. Withdrawn and private reports never appear."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from storage.counting import COUNTED, Within, scope_of
from storage.db import Tx, placeholders
from storage.entities import Entity
from storage.reviews import HIGHLIGHT, UNHIGHLIGHT


class Highlight(Entity):
    """A public report marked "⭐ Nêu gương" and not unmarked since."""

    id: int
    unit_name: str
    author: str
    partners: tuple[str, ...] = ()  # co-participants besides the author, by name
    deed_date: dt.date
    field: str
    description: str


async def highlights(tx: Tx, root: int, within: Within) -> list[Highlight]:
    """The highlighted public reports of `root`'s subtree within the counting bounds (a
    report's `r`), oldest deed first."""
    condition, params = within
    scope, units_in, scope_params = scope_of(root)
    rows = await tx.all(
        f"""{scope},
                latest AS (SELECT report_id, MAX(id) AS id FROM report_reviews
                           WHERE action IN (?, ?) GROUP BY report_id)
            SELECT r.id, u.name AS unit_name, p.full_name AS author, r.deed_date, r.field,
                   r.description
            FROM latest l JOIN report_reviews v ON v.id = l.id
            JOIN reports r ON r.id = l.report_id
            JOIN people p ON p.id = r.person_id JOIN units u ON u.id = r.unit_id
            WHERE v.action = ? AND r.private = 0 AND {COUNTED} AND {condition}
              AND r.unit_id {units_in}
            ORDER BY r.deed_date, r.id""",
        (*scope_params, HIGHLIGHT, UNHIGHLIGHT, HIGHLIGHT, *params))
    partners = await _partners(tx, [int(r["id"]) for r in rows])
    return [Highlight(**dict(r), partners=tuple(partners[int(r["id"])])) for r in rows]


async def _partners(tx: Tx, report_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    if not report_ids:
        return found
    rows = await tx.all(
        f"""SELECT rp.report_id, p.full_name FROM report_participants rp
            JOIN reports r ON r.id = rp.report_id JOIN people p ON p.id = rp.person_id
            WHERE rp.report_id IN ({placeholders(report_ids)}) AND rp.person_id != r.person_id
            ORDER BY rp.report_id, p.full_name, p.id""",
        tuple(report_ids))
    for row in rows:
        found[int(row["report_id"])].append(str(row["full_name"]))
    return found
