"""Which group chat belongs to which unit: units.group_chat_id, one group per unit and one unit
per group (the column is UNIQUE)."""

from __future__ import annotations

from storage import units
from storage.db import Tx
from storage.entities import Unit


async def unit_of_group(tx: Tx, chat_id: int) -> Unit | None:
    row = await tx.one("SELECT id FROM units WHERE group_chat_id = ?", (chat_id,))
    return await units.get_unit(tx, int(row["id"])) if row else None


async def group_of_unit(tx: Tx, unit_id: int) -> int | None:
    row = await tx.one("SELECT group_chat_id FROM units WHERE id = ?", (unit_id,))
    return None if row is None or row["group_chat_id"] is None else int(row["group_chat_id"])


async def link(tx: Tx, unit_id: int, chat_id: int) -> int | None:
    """Binds the group to the unit; returns the group the unit had before (its link moves
    here), if another. The group must not belong to another unit: the caller checks, and the
    UNIQUE column refuses it anyway."""
    before = await group_of_unit(tx, unit_id)
    await tx.run("UPDATE units SET group_chat_id = ? WHERE id = ?", (chat_id, unit_id))
    return before if before != chat_id else None


async def unlink(tx: Tx, chat_id: int) -> Unit | None:
    """Drops the group's link; returns the unit it belonged to, if any."""
    unit = await unit_of_group(tx, chat_id)
    if unit is not None:
        await tx.run("UPDATE units SET group_chat_id = NULL WHERE id = ?", (unit.id,))
    return unit


async def move_group(tx: Tx, old_chat_id: int, new_chat_id: int) -> int | None:
    """A group became a supergroup under a new id: its unit follows it. Returns the unit moved,
    None when there was nothing to move (already moved: both service messages, or a send that
    failed with ChatMigrated, may say it). If the new id is linked already (someone sent /link
    in the supergroup first), that link stands and the dead old id is dropped."""
    row = await tx.one("SELECT id FROM units WHERE group_chat_id = ?", (old_chat_id,))
    if row is None or old_chat_id == new_chat_id:
        return None
    unit_id = int(row["id"])
    # Each write is conditional on the old id still being there: the two service messages
    # come from two chats, which may be handled at once; the second then moves nothing.
    if await unit_of_group(tx, new_chat_id) is not None:
        await tx.run("UPDATE units SET group_chat_id = NULL WHERE id = ? AND group_chat_id = ?",
                     (unit_id, old_chat_id))
        return None
    moved = await tx.run("UPDATE units SET group_chat_id = ? WHERE id = ? AND group_chat_id = ?",
                         (new_chat_id, unit_id, old_chat_id))
    return unit_id if moved == 1 else None
