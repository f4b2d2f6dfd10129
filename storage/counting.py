"""The queries behind every figure. bot/counting.py says which to use when (the counting rules);
this module only knows how to ask. Withdrawn reports never count."""

from __future__ import annotations

import datetime as dt

from storage.clock import to_db
from storage.db import Tx

# A report is in a period either by when it was received (digests, reminders) or by the day
# the deed happened (/stats, exports): the two ways to bound it.
RECEIVED_WITHIN = "r.received_at >= ? AND r.received_at < ?"
DONE_WITHIN = "r.deed_date >= ? AND r.deed_date <= ?"


def bounds_received(start: dt.datetime, end: dt.datetime) -> tuple[str, tuple[str, str]]:
    return RECEIVED_WITHIN, (to_db(start), to_db(end))


def bounds_done(first: dt.date, last: dt.date) -> tuple[str, tuple[str, str]]:
    return DONE_WITHIN, (first.isoformat(), last.isoformat())


async def participants(tx: Tx, unit_ids: list[int],
                       within: tuple[str, tuple[str, str]]) -> set[int]:
    """People who reported in the units, or were named as co-participants, within the bounds."""
    if not unit_ids:
        return set()
    condition, params = within
    marks = ", ".join("?" for _ in unit_ids)
    rows = await tx.all(
        f"""SELECT r.person_id AS person_id FROM reports r
            WHERE r.unit_id IN ({marks}) AND r.state != 'withdrawn' AND {condition}
            UNION
            SELECT p.person_id FROM reports r JOIN report_participants p ON p.report_id = r.id
            WHERE r.unit_id IN ({marks}) AND r.state != 'withdrawn' AND {condition}""",
        (*unit_ids, *params, *unit_ids, *params),
    )
    return {int(r["person_id"]) for r in rows}
