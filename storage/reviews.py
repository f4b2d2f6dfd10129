"""Leaders' reviews of reports: the queue, the state changes they make, their review rows, and
which reports each leader was shown in their current pass through the queue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from storage.clock import from_db, to_db
from storage.counting import SENT_BACK, WAITING
from storage.db import Tx, placeholders
from storage.entities import Entity, ReportState

# Review rows' actions. A report's "⭐ Nêu gương" is on while its latest highlight row says so.
ACKNOWLEDGED = "acknowledged"
NEEDS_MORE = "needs_more"
REOPEN = "reopen"
HIGHLIGHT = "highlight"
UNHIGHLIGHT = "unhighlight"


class QueueEntry(Entity):
    """A report waiting for acknowledgment, in queue order (oldest received first)."""

    id: int
    received_at: dt.datetime

    @property
    def order(self) -> tuple[dt.datetime, int]:
        return (self.received_at, self.id)


class ReviewEntry(Entity):
    id: int
    report_id: int
    person_id: int
    reviewer_name: str
    action: str
    note: str | None
    at: dt.datetime


class Someone(Entity):
    """A person as a notice needs them; `telegram_user_id` is None for someone without one."""

    id: int
    telegram_user_id: int | None
    full_name: str
    lang: str


class AcknowledgedLine(Entity):
    id: int
    person_name: str
    deed_date: dt.date
    description: str
    acknowledged_at: dt.datetime


def _marks(values: Sequence[object]) -> str:
    return placeholders(values) or "NULL"


async def pending_queue(tx: Tx, unit_ids: Sequence[int],
                        exclude_person_id: int | None) -> list[QueueEntry]:
    """The reports waiting in these units, oldest first; never `exclude_person_id`'s own (a
    leader's own report is acknowledged by someone else: `own_waiting_count`)."""
    rows = await tx.all(
        "SELECT id, received_at FROM reports WHERE state = ?"
        f" AND unit_id IN ({_marks(unit_ids)}) AND person_id IS DISTINCT FROM ?"
        " ORDER BY received_at, id",
        (WAITING, *unit_ids, exclude_person_id),
    )
    return [QueueEntry(id=r["id"], received_at=from_db(r["received_at"])) for r in rows]


async def own_waiting_count(tx: Tx, unit_ids: Sequence[int], person_id: int) -> int:
    """How many of the reports waiting in these units are `person_id`'s own: counted as
    waiting everywhere (digest, /stats), left out of their own queue (`pending_queue`)."""
    row = await tx.one(
        "SELECT COUNT(*) AS n FROM reports WHERE state = ?"
        f" AND unit_id IN ({_marks(unit_ids)}) AND person_id = ?",
        (WAITING, *unit_ids, person_id),
    )
    return int(row["n"]) if row else 0


async def sent_back_count(tx: Tx, unit_ids: Sequence[int]) -> int:
    """How many reports of these units were sent back for more (cần bổ sung) and wait for
    their authors (a leader's own among them, as the digest counts them)."""
    row = await tx.one(
        "SELECT COUNT(*) AS n FROM reports WHERE state = ?"
        f" AND unit_id IN ({_marks(unit_ids)})",
        (SENT_BACK, *unit_ids),
    )
    return int(row["n"]) if row else 0


async def change_state(tx: Tx, report_id: int, before: ReportState, after: ReportState,
                       now: dt.datetime) -> bool:
    """Moves the report from `before` to `after`; False when it was no longer `before` (another
    leader was quicker, or its author withdrew it)."""
    changed = await tx.run(
        "UPDATE reports SET state = ?, updated_at = ? WHERE id = ? AND state = ?",
        (after.value, to_db(now), report_id, before.value),
    )
    return changed == 1


async def add_review(tx: Tx, report_id: int, person_id: int, action: str, note: str | None,
                     now: dt.datetime) -> int:
    return await tx.run(
        "INSERT INTO report_reviews (report_id, person_id, action, note, at)"
        " VALUES (?, ?, ?, ?, ?)",
        (report_id, person_id, action, note, to_db(now)),
    )


async def last_review(tx: Tx, report_id: int, actions: Sequence[str]) -> ReviewEntry | None:
    """The latest of the report's reviews with one of these actions, and who made it."""
    row = await tx.one(
        f"SELECT r.id, r.report_id, r.person_id, p.full_name AS reviewer_name, r.action,"
        f" r.note, r.at"
        f" FROM report_reviews r JOIN people p ON p.id = r.person_id"
        f" WHERE r.report_id = ? AND r.action IN ({_marks(actions)})"
        " ORDER BY r.id DESC LIMIT 1",
        (report_id, *actions),
    )
    if row is None:
        return None
    return ReviewEntry(**{**dict(row), "at": from_db(row["at"])})


async def is_highlighted(tx: Tx, report_id: int) -> bool:
    latest = await last_review(tx, report_id, (HIGHLIGHT, UNHIGHLIGHT))
    return latest is not None and latest.action == HIGHLIGHT


async def highlighted_reports(tx: Tx, unit_ids: Sequence[int], since: dt.datetime) -> list[int]:
    """Reports in these units marked "⭐ Nêu gương" (and still marked, not withdrawn) since
    `since`, oldest mark first: the highlights of a digest."""
    rows = await tx.all(
        f"""WITH latest AS (
                SELECT report_id, MAX(id) AS id FROM report_reviews
                WHERE action IN (?, ?) GROUP BY report_id)
            SELECT l.report_id FROM latest l
            JOIN report_reviews r ON r.id = l.id JOIN reports x ON x.id = l.report_id
            WHERE r.action = ? AND r.at >= ? AND x.state != 'withdrawn'
              AND x.unit_id IN ({_marks(unit_ids)})
            ORDER BY r.id""",
        (HIGHLIGHT, UNHIGHLIGHT, HIGHLIGHT, to_db(since), *unit_ids),
    )
    return [int(r["report_id"]) for r in rows]


async def recent_acknowledged(tx: Tx, unit_ids: Sequence[int], exclude_person_id: int | None,
                              since: dt.datetime, limit: int) -> list[AcknowledgedLine]:
    """Reports of these units acknowledged since `since` and still acknowledged, newest
    acknowledgment first."""
    rows = await tx.all(
        f"""SELECT x.id, p.full_name AS person_name, x.deed_date, x.description,
                   MAX(r.at) AS acknowledged_at
            FROM reports x JOIN people p ON p.id = x.person_id
            JOIN report_reviews r ON r.report_id = x.id AND r.action = ?
            WHERE x.state = 'acknowledged' AND x.unit_id IN ({_marks(unit_ids)})
              AND x.person_id IS DISTINCT FROM ?
            GROUP BY x.id, p.full_name HAVING MAX(r.at) >= ?
            ORDER BY acknowledged_at DESC, x.id DESC LIMIT ?""",
        (ACKNOWLEDGED, *unit_ids, exclude_person_id, to_db(since), limit),
    )
    return [AcknowledgedLine(**{**dict(r), "acknowledged_at": from_db(r["acknowledged_at"])})
            for r in rows]


async def someone(tx: Tx, person_id: int) -> Someone | None:
    row = await tx.one(
        "SELECT id, telegram_user_id, full_name, lang FROM people WHERE id = ?", (person_id,)
    )
    return Someone(**dict(row)) if row else None


async def resubmitted_since(tx: Tx, since: dt.datetime) -> list[int]:
    """Reports sent back for more and sent again by their authors since `since`, not yet
    decided on again: waiting, their latest decision an "đề nghị bổ sung" or a reopening."""
    rows = await tx.all(
        """SELECT x.id FROM reports x
           WHERE x.state = ? AND x.updated_at >= ?
             AND (SELECT r.action FROM report_reviews r
                  WHERE r.report_id = x.id AND r.action IN (?, ?, ?)
                  ORDER BY r.id DESC LIMIT 1) IN (?, ?)
           ORDER BY x.updated_at, x.id""",
        (WAITING, to_db(since), ACKNOWLEDGED, NEEDS_MORE, REOPEN, NEEDS_MORE, REOPEN),
    )
    return [int(r["id"]) for r in rows]


async def notice_leaders(tx: Tx, unit_id: int) -> list[Someone]:
    """The unit's own leaders who want the daily notice of what waits for them and can get it:
    on Telegram, not marked unreachable. By id."""
    rows = await tx.all(
        """SELECT DISTINCT p.id, p.telegram_user_id, p.full_name, p.lang
           FROM memberships m JOIN people p ON p.id = m.person_id
           WHERE m.unit_id = ? AND m.role = 'leader' AND m.status = 'active'
             AND p.telegram_user_id IS NOT NULL AND p.review_notices_enabled = 1
             AND p.unreachable = 0
           ORDER BY p.id""",
        (unit_id,),
    )
    return [Someone(**dict(r)) for r in rows]


# --- passes: what a leader was shown ------------------------------------------------------------


async def start_pass(tx: Tx, person_id: int, now: dt.datetime) -> int:
    """A new pass through the queue; the leader's earlier passes are forgotten."""
    await tx.run(
        "DELETE FROM review_seen WHERE pass_id IN"
        " (SELECT id FROM review_passes WHERE person_id = ?)",
        (person_id,),
    )
    await tx.run("DELETE FROM review_passes WHERE person_id = ?", (person_id,))
    return await tx.run(
        "INSERT INTO review_passes (person_id, started_at) VALUES (?, ?)",
        (person_id, to_db(now)),
    )


async def current_pass(tx: Tx, person_id: int) -> int | None:
    row = await tx.one(
        "SELECT id FROM review_passes WHERE person_id = ? ORDER BY id DESC LIMIT 1", (person_id,)
    )
    return int(row["id"]) if row else None


async def mark_seen(tx: Tx, pass_id: int, report_id: int, content_hash: str,
                    now: dt.datetime) -> None:
    await tx.run(
        "INSERT INTO review_seen (pass_id, report_id, content_hash, seen_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (pass_id, report_id) DO UPDATE SET content_hash = excluded.content_hash,"
        " seen_at = excluded.seen_at",
        (pass_id, report_id, content_hash, to_db(now)),
    )


async def take_seen_pending(tx: Tx, pass_id: int) -> list[tuple[int, str]]:
    """`seen_pending`, for acknowledging them all: the reports' rows are taken for this
    transaction first (a write that changes nothing). On a database with several writers an
    author's correction at the same moment is then either read here (its fingerprint
    differs: not acknowledged unseen) or waits, and finds the report acknowledged
    (storage/INVARIANTS.md)."""
    await tx.run("UPDATE reports SET state = state WHERE state = ? AND id IN"
                 " (SELECT report_id FROM review_seen WHERE pass_id = ?)", (WAITING, pass_id))
    return await seen_pending(tx, pass_id)


async def seen_pending(tx: Tx, pass_id: int) -> list[tuple[int, str]]:
    """(report id, fingerprint of the content shown) of the reports shown in the pass that
    still wait for acknowledgment, in the order they were shown."""
    rows = await tx.all(
        "SELECT s.report_id, s.content_hash FROM review_seen s"
        " JOIN reports x ON x.id = s.report_id"
        " WHERE s.pass_id = ? AND x.state = ? ORDER BY s.seen_at, s.report_id",
        (pass_id, WAITING),
    )
    return [(int(r["report_id"]), str(r["content_hash"])) for r in rows]
