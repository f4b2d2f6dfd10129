"""Which command menu each person's chat was last given."""

from __future__ import annotations

from storage.db import Tx


async def signature_of(tx: Tx, telegram_user_id: int) -> str | None:
    row = await tx.one("SELECT signature FROM command_menus WHERE telegram_user_id = ?",
                       (telegram_user_id,))
    return str(row["signature"]) if row else None


async def remember(tx: Tx, telegram_user_id: int, signature: str) -> None:
    await tx.run(
        "INSERT INTO command_menus (telegram_user_id, signature) VALUES (?, ?)"
        " ON CONFLICT (telegram_user_id) DO UPDATE SET signature = excluded.signature",
        (telegram_user_id, signature),
    )


async def people_needing_a_look(tx: Tx) -> list[int]:
    """Telegram ids of everyone holding a leader or observer role, or given a menu of their own
    before: the chats whose menu may differ from the default."""
    rows = await tx.all(
        """SELECT p.telegram_user_id AS id FROM people p JOIN memberships m ON m.person_id = p.id
           WHERE m.status = 'active' AND m.role IN ('leader', 'observer')
             AND p.telegram_user_id IS NOT NULL
           UNION SELECT telegram_user_id FROM command_menus"""
    )
    return [int(r["id"]) for r in rows]
