"""The queries only a digest needs: its recipients, reports per period for its chart, the models
new in the period, and the reports it holds up as examples. Counts themselves come from
storage/counting.py (through bot/counting.py); this module adds what those do not give.
Withdrawn reports never appear."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from storage.clock import to_db
from storage.db import Tx, placeholders
from storage.entities import Entity

# The unit's whole subtree, as `tree(id)`; its one parameter is the unit id.
_SUBTREE = """tree(id) AS (SELECT ? UNION ALL
                           SELECT u.id FROM units u JOIN tree ON u.parent_id = tree.id)"""


class Recipient(Entity):
    """Someone to send a digest to privately."""

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


async def totals_per_window(tx: Tx, unit_id: int,
                            windows: Sequence[tuple[dt.datetime, dt.datetime]]) -> list[int]:
    """Reports received in the unit's subtree within each [start, end) window, in one query."""
    if not windows:
        return []
    values = ", ".join("(?, ?, ?)" for _ in windows)
    params: list[object] = [unit_id]
    for i, (start, end) in enumerate(windows):
        params += [i, to_db(start), to_db(end)]
    params += [to_db(min(s for s, _ in windows)), to_db(max(e for _, e in windows))]
    rows = await tx.all(
        f"""WITH RECURSIVE {_SUBTREE},
                windows(idx, start, stop) AS (VALUES {values})
            SELECT w.idx AS idx, COUNT(*) AS n
            FROM reports r JOIN tree ON r.unit_id = tree.id
            JOIN windows w ON r.received_at >= w.start AND r.received_at < w.stop
            WHERE r.state != 'withdrawn' AND r.received_at >= ? AND r.received_at < ?
            GROUP BY w.idx""",
        tuple(params),
    )
    found = {int(r["idx"]): int(r["n"]) for r in rows}
    return [found.get(i, 0) for i in range(len(windows))]


async def new_model_names(tx: Tx, unit_id: int, start: dt.datetime, end: dt.datetime
                          ) -> list[str]:
    """Models registered in the unit's subtree within [start, end), oldest first."""
    rows = await tx.all(
        f"""WITH RECURSIVE {_SUBTREE}
            SELECT m.name FROM models m JOIN tree ON m.owner_unit_id = tree.id
            WHERE m.created_at >= ? AND m.created_at < ?
            ORDER BY m.created_at, m.id""",
        (unit_id, to_db(start), to_db(end)),
    )
    return [str(r["name"]) for r in rows]


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


async def highlighted(tx: Tx, unit_id: int, start: dt.datetime, end: dt.datetime,
                      limit: int) -> list[Example]:
    """Reports of the subtree a leader marked "⭐ Nêu gương" within [start, end) and did not
    unmark since, not withdrawn; in the order they were marked."""
    rows = await tx.all(
        f"""WITH RECURSIVE {_SUBTREE},
                latest AS (SELECT report_id, MAX(id) AS id FROM report_reviews
                           WHERE action IN ('highlight', 'unhighlight') GROUP BY report_id)
            SELECT e.* FROM latest l JOIN report_reviews v ON v.id = l.id
            JOIN ({_EXAMPLE}) e ON e.id = l.report_id
            JOIN reports r ON r.id = l.report_id JOIN tree ON r.unit_id = tree.id
            WHERE v.action = 'highlight' AND v.at >= ? AND v.at < ?
              AND r.state != 'withdrawn'
            ORDER BY v.id LIMIT ?""",
        (unit_id, to_db(start), to_db(end), limit),
    )
    return [_example(r) for r in rows]


async def recent_public_with_photos(tx: Tx, unit_id: int, start: dt.datetime,
                                    end: dt.datetime, limit: int) -> list[Example]:
    """The newest public reports of the subtree received within [start, end) that have photos,
    not withdrawn."""
    rows = await tx.all(
        f"""WITH RECURSIVE {_SUBTREE}
            SELECT e.* FROM ({_EXAMPLE}) e JOIN reports r ON r.id = e.id
            JOIN tree ON r.unit_id = tree.id
            WHERE r.private = 0 AND r.state != 'withdrawn' AND e.photos > 0
              AND r.received_at >= ? AND r.received_at < ?
            ORDER BY r.received_at DESC, r.id DESC LIMIT ?""",
        (unit_id, to_db(start), to_db(end), limit),
    )
    return [_example(r) for r in rows]


async def names(tx: Tx, person_ids: Sequence[int]) -> list[str]:
    """The people's full names, alphabetical."""
    if not person_ids:
        return []
    rows = await tx.all(
        f"SELECT full_name FROM people WHERE id IN ({placeholders(person_ids)})",
        tuple(person_ids),
    )
    return sorted(str(r["full_name"]) for r in rows)

