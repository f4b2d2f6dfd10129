"""Updates received from Telegram (see the inbox table)."""

from __future__ import annotations

import datetime as dt

from storage.clock import from_db, to_db
from storage.db import Tx


async def keep_new(tx: Tx, updates: list[tuple[int, str]], now: dt.datetime) -> set[int]:
    """Stores the updates not seen before; returns their ids. The insert decides which are new
    (not a read before it): two connections keeping the same update store it once, and only
    one of them is told it is new. Inserted in the order of their ids: two processes keeping
    the same updates take their keys' locks in one order, where any other order could each
    hold one and wait for the other's (PostgreSQL's deadlock, found by the invariant test)."""
    if not updates:
        return set()
    updates = sorted(updates)
    rows = await tx.all(
        "INSERT INTO inbox (update_id, body, received_at) VALUES "
        + ", ".join("(?, ?, ?)" for _ in updates)
        + " ON CONFLICT (update_id) DO NOTHING RETURNING update_id",
        tuple(value for update_id, body in updates for value in (update_id, body, to_db(now))),
    )
    return {int(r["update_id"]) for r in rows}


async def mark_handled(tx: Tx, update_id: int, now: dt.datetime) -> None:
    await tx.run("UPDATE inbox SET handled_at = ? WHERE update_id = ?", (to_db(now), update_id))


async def set_aside(tx: Tx, max_replays: int, now: dt.datetime) -> list[int]:
    """Marks handled, without running them, the updates whose replay was started more than
    `max_replays` times without finishing (see `count_replay`), the last time alone: taken
    for the cause of those crashes. Their ids."""
    rows = await tx.all(
        "UPDATE inbox SET handled_at = ? WHERE handled_at IS NULL AND attempts > ?"
        " RETURNING update_id",
        (to_db(now), max_replays),
    )
    return sorted(int(r["update_id"]) for r in rows)


async def take_unhandled(tx: Tx, max_replays: int,
                         now: dt.datetime) -> list[tuple[int, str, int]]:
    """The updates to replay, oldest first, with their attempts so far, once those that failed
    too often are set aside (`set_aside`). Waiting costs no attempt: an update that never
    started, however many restarts it waited through, is replayed."""
    await set_aside(tx, max_replays, now)
    rows = await tx.all(
        "SELECT update_id, body, attempts FROM inbox WHERE handled_at IS NULL"
        " ORDER BY received_at, update_id"
    )
    return [(int(r["update_id"]), str(r["body"]), int(r["attempts"])) for r in rows]


async def count_replay(tx: Tx, update_id: int) -> None:
    """A replayed update's handlers are starting (the `attempts` column counts these)."""
    await tx.run("UPDATE inbox SET attempts = attempts + 1 WHERE update_id = ?", (update_id,))


async def forget_handled_before(tx: Tx, moment: dt.datetime) -> None:
    await tx.run("DELETE FROM inbox WHERE handled_at < ?", (to_db(moment),))


async def unhandled_ids(tx: Tx) -> list[int]:
    rows = await tx.all("SELECT update_id FROM inbox WHERE handled_at IS NULL ORDER BY update_id")
    return [int(r["update_id"]) for r in rows]


async def backlog(tx: Tx) -> int:
    """How many updates are kept and not handled yet."""
    row = await tx.one("SELECT COUNT(*) AS n FROM inbox WHERE handled_at IS NULL")
    return int(row["n"]) if row is not None else 0


async def last_handled(tx: Tx) -> tuple[int, dt.datetime] | None:
    """The update handled last, and when (None if none is remembered)."""
    row = await tx.one("SELECT update_id, handled_at FROM inbox WHERE handled_at IS NOT NULL "
                       "ORDER BY handled_at DESC, update_id DESC LIMIT 1")
    return None if row is None else (int(row["update_id"]), from_db(str(row["handled_at"])))
