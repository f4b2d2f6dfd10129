"""Updates received from Telegram (see the inbox table), per bot: update ids are counted per bot,
so two bots on one database share numbers (migration 0011); each process reads only its own."""

from __future__ import annotations

import datetime as dt

from storage.clock import from_db, to_db
from storage.db import Tx


async def keep_new(tx: Tx, bot_id: int, updates: list[tuple[int, str]],
                   now: dt.datetime) -> set[int]:
    """Stores the updates not seen before; returns their ids. The insert decides which are new
    (not a read before it): two connections keeping the same update store it once, and only
    one of them is told it is new. Inserted in the order of their ids: two processes keeping
    the same updates take their keys' locks in one order, where any other order could each
    hold one and wait for the other's (PostgreSQL's deadlock, found by the invariant test)."""
    if not updates:
        return set()
    updates = sorted(updates)
    rows = await tx.all(
        "INSERT INTO inbox (bot_id, update_id, body, received_at) VALUES "
        + ", ".join("(?, ?, ?, ?)" for _ in updates)
        + " ON CONFLICT (bot_id, update_id) DO NOTHING RETURNING update_id",
        tuple(value for update_id, body in updates
              for value in (bot_id, update_id, body, to_db(now))),
    )
    return {int(r["update_id"]) for r in rows}


async def mark_handled(tx: Tx, bot_id: int, update_id: int, now: dt.datetime) -> None:
    await tx.run("UPDATE inbox SET handled_at = ? WHERE bot_id = ? AND update_id = ?",
                 (to_db(now), bot_id, update_id))


async def set_aside(tx: Tx, bot_id: int, starts: int, now: dt.datetime) -> list[int]:
    """Marks handled, without running them, the updates whose replay was started `starts`
    times without finishing (see `count_replay`), the last of them alone: taken for the cause
    of those crashes. Their ids."""
    rows = await tx.all(
        "UPDATE inbox SET handled_at = ? WHERE bot_id = ? AND handled_at IS NULL"
        " AND attempts >= ? RETURNING update_id",
        (to_db(now), bot_id, starts),
    )
    return sorted(int(r["update_id"]) for r in rows)


async def take_unhandled(tx: Tx, bot_id: int, set_aside_after: int,
                         now: dt.datetime) -> list[tuple[int, str, int]]:
    """The updates to replay, oldest first, with their attempts so far, once those that failed
    too often are set aside (`set_aside`). Waiting costs no attempt: an update that never
    started, however many restarts it waited through, is replayed."""
    await set_aside(tx, bot_id, set_aside_after, now)
    rows = await tx.all(
        "SELECT update_id, body, attempts FROM inbox WHERE bot_id = ? AND handled_at IS NULL"
        " ORDER BY received_at, update_id", (bot_id,)
    )
    return [(int(r["update_id"]), str(r["body"]), int(r["attempts"])) for r in rows]


async def count_replay(tx: Tx, bot_id: int, update_id: int) -> None:
    """A replayed update's handlers are starting (the `attempts` column counts these)."""
    await tx.run("UPDATE inbox SET attempts = attempts + 1 WHERE bot_id = ? AND update_id = ?",
                 (bot_id, update_id))


async def forget_handled_before(tx: Tx, moment: dt.datetime) -> None:
    await tx.run("DELETE FROM inbox WHERE handled_at < ?", (to_db(moment),))


async def unhandled_ids(tx: Tx, bot_id: int | None = None) -> list[int]:
    """The updates not handled yet (of one bot; of all when None)."""
    mine, params = ("", ()) if bot_id is None else (" AND bot_id = ?", (bot_id,))
    rows = await tx.all(f"SELECT update_id FROM inbox WHERE handled_at IS NULL{mine} "
                        "ORDER BY update_id", params)
    return [int(r["update_id"]) for r in rows]


async def backlog(tx: Tx, bot_id: int) -> int:
    """How many of the bot's updates are kept and not handled yet."""
    row = await tx.one("SELECT COUNT(*) AS n FROM inbox WHERE bot_id = ? AND handled_at IS NULL",
                       (bot_id,))
    return int(row["n"]) if row is not None else 0


async def last_handled(tx: Tx, bot_id: int) -> tuple[int, dt.datetime] | None:
    """The bot's update handled last, and when (None if none is remembered)."""
    row = await tx.one("SELECT update_id, handled_at FROM inbox WHERE bot_id = ? AND "
                       "handled_at IS NOT NULL ORDER BY handled_at DESC, update_id DESC LIMIT 1",
                       (bot_id,))
    return None if row is None else (int(row["update_id"]), from_db(str(row["handled_at"])))
