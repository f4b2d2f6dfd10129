"""The audit log: who did what, when."""

from __future__ import annotations

import datetime as dt

from storage.clock import to_db
from storage.db import Tx


async def record(
    tx: Tx, now: dt.datetime, actor: str, action: str, subject: str = "", detail: str = ""
) -> None:
    await tx.run(
        "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
        (to_db(now), actor, action, subject, detail),
    )


async def entries(tx: Tx, action: str) -> list[dict]:
    rows = await tx.all(
        "SELECT at, actor, action, subject, detail FROM audit_log WHERE action = ? ORDER BY id",
        (action,),
    )
    return [dict(r) for r in rows]
