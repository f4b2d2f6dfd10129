"""Updates received and not yet handled (see the inbox table)."""

from __future__ import annotations

import datetime as dt

from storage.clock import to_db
from storage.db import Tx


async def keep(tx: Tx, updates: list[tuple[int, str]], now: dt.datetime) -> None:
    await tx.run_many(
        "INSERT OR IGNORE INTO inbox (update_id, body, received_at) VALUES (?, ?, ?)",
        [(update_id, body, to_db(now)) for update_id, body in updates],
    )


async def forget(tx: Tx, update_id: int) -> None:
    await tx.run("DELETE FROM inbox WHERE update_id = ?", (update_id,))


async def waiting(tx: Tx) -> list[tuple[int, str]]:
    rows = await tx.all("SELECT update_id, body FROM inbox ORDER BY received_at, update_id")
    return [(int(r["update_id"]), str(r["body"])) for r in rows]
