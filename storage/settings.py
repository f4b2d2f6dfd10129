"""A person's own settings (/settings): private nudges on or off, and, for a leader, the daily
notice of the reports waiting for acknowledgment."""

from __future__ import annotations

from enum import StrEnum

from storage.db import Tx


class Switch(StrEnum):
    """A person's on/off settings, by their column in `people`."""

    NUDGES = "nudges_enabled"
    REVIEW_NOTICES = "review_notices_enabled"


async def enabled(tx: Tx, person_id: int, switch: Switch) -> bool:
    row = await tx.one(f"SELECT {switch.value} AS on_ FROM people WHERE id = ?", (person_id,))
    return bool(row["on_"]) if row is not None else False


async def set_enabled(tx: Tx, person_id: int, switch: Switch, on: bool) -> bool:
    """True when the setting changed."""
    column = switch.value
    return await tx.run(f"UPDATE people SET {column} = ? WHERE id = ? AND {column} != ?",
                        (int(on), person_id, int(on))) == 1


async def nudges_enabled(tx: Tx, person_id: int) -> bool:
    return await enabled(tx, person_id, Switch.NUDGES)


async def set_nudges(tx: Tx, person_id: int, on: bool) -> bool:
    """True when the setting changed."""
    return await set_enabled(tx, person_id, Switch.NUDGES, on)
