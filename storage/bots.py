"""The bots that run on this database, each serving a subtree of units (migration 0011).

Which bot owns a unit is decided here in SQL, for many units at once: the bot whose root is the
nearest ancestor-or-self of the unit; where no rooted bot's root is above it, the bot without a
root. Two bots registered with the same root (a token replaced by a new bot): the one seen last.
bot/rules/bots.py is the rule's one door for the core.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from storage import meta
from storage.clock import from_db, to_db
from storage.db import Tx, placeholders
from storage.entities import Entity

CHUNK = 500  # units in one IN (...) list
NO_BOT = 0  # what owns everything while no bot has registered (and the rows kept before 0011)


class BotRow(Entity):
    bot_id: int
    root_unit_id: int | None
    username: str | None
    seen_at: dt.datetime


def _bot(row) -> BotRow:
    return BotRow(bot_id=int(row["bot_id"]),
                  root_unit_id=None if row["root_unit_id"] is None else int(row["root_unit_id"]),
                  username=row["username"], seen_at=from_db(row["seen_at"]))


async def register(tx: Tx, bot_id: int, root_unit_id: int | None, username: str | None,
                   now: dt.datetime) -> None:
    """A bot starting: its root and username as they are now. The first time a bot runs on a
    database kept from before several bots (migration 0011), it takes what the one bot of then
    left behind: the inbox's unhandled updates if it is that bot (the username remembered in
    meta; any bot when none is), and the ledger's queued rows of the units it serves."""
    first = await tx.one("SELECT 1 AS x FROM bots WHERE bot_id = ?", (bot_id,)) is None
    await tx.run(
        "INSERT INTO bots (bot_id, root_unit_id, username, seen_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (bot_id) DO UPDATE SET root_unit_id = excluded.root_unit_id,"
        " username = excluded.username, seen_at = excluded.seen_at",
        (bot_id, root_unit_id, username, to_db(now)))
    if not first:
        return
    before = await meta.get(tx, "bot_username")
    if before is None or before == username:
        await tx.run("UPDATE inbox SET bot_id = ? WHERE bot_id = ?", (bot_id, NO_BOT))
    waiting = await tx.all("SELECT DISTINCT unit_id FROM deliveries WHERE bot_id = ?",
                           (NO_BOT,))
    owners = await owners_of(tx, [int(r["unit_id"]) for r in waiting])
    mine = [unit_id for unit_id, owner in owners.items() if owner == bot_id]
    if mine:
        await tx.run(f"UPDATE deliveries SET bot_id = ? WHERE bot_id = ? "
                     f"AND unit_id IN ({placeholders(mine)})", (bot_id, NO_BOT, *mine))


async def every_bot(tx: Tx) -> list[BotRow]:
    rows = await tx.all("SELECT * FROM bots ORDER BY bot_id")
    return [_bot(r) for r in rows]


async def get(tx: Tx, bot_id: int) -> BotRow | None:
    row = await tx.one("SELECT * FROM bots WHERE bot_id = ?", (bot_id,))
    return _bot(row) if row is not None else None


def _unrooted(bots: list[BotRow]) -> int:
    rootless = [b for b in bots if b.root_unit_id is None]
    return max(rootless, key=lambda b: b.seen_at).bot_id if rootless else NO_BOT


async def owners_of(tx: Tx, unit_ids: Collection[int]) -> dict[int, int]:
    """The bot that owns each of these units (NO_BOT while none has registered, or when only
    rooted bots have and none of their roots is above the unit)."""
    wanted = sorted(set(unit_ids))
    if not wanted:
        return {}
    bots = await every_bot(tx)
    default = _unrooted(bots)
    found = {unit_id: default for unit_id in wanted}
    if all(b.root_unit_id is None for b in bots):
        return found
    rows = []
    for start in range(0, len(wanted), CHUNK):
        some = wanted[start:start + CHUNK]
        rows += await tx.all(
            f"""WITH RECURSIVE up(start, id, depth) AS (
                    SELECT id, id, 0 FROM units WHERE id IN ({placeholders(some)})
                    UNION ALL
                    SELECT up.start, u.parent_id, up.depth + 1 FROM up
                    JOIN units u ON u.id = up.id WHERE u.parent_id IS NOT NULL
                )
                SELECT up.start, b.bot_id FROM up JOIN bots b ON b.root_unit_id = up.id
                ORDER BY up.start, up.depth DESC, b.seen_at, b.bot_id""",
            tuple(some))
    for row in rows:  # nearest root last, the bot seen last last: it wins
        found[int(row["start"])] = int(row["bot_id"])
    return found


async def owner_of(tx: Tx, unit_id: int) -> int:
    return (await owners_of(tx, [unit_id]))[unit_id]


async def username_of(tx: Tx, bot_id: int) -> str | None:
    row = await tx.one("SELECT username FROM bots WHERE bot_id = ?", (bot_id,))
    return None if row is None or row["username"] is None else str(row["username"])
