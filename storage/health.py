"""The trivial query /healthz asks: does the database answer at all."""

from __future__ import annotations

from storage.db import Tx


async def answers(tx: Tx) -> bool:
    row = await tx.one("SELECT 1 AS one")
    return row is not None and int(row["one"]) == 1
