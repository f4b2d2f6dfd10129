"""Small facts the bot keeps about itself."""

from __future__ import annotations

from storage.db import Tx


async def get(tx: Tx, key: str) -> str | None:
    row = await tx.one("SELECT value FROM meta WHERE key = ?", (key,))
    return str(row["value"]) if row else None


async def put(tx: Tx, key: str, value: str) -> None:
    await tx.run(
        "INSERT INTO meta (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
