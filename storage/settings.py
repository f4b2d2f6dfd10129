"""A person's own settings (/settings): private nudges on or off."""

from __future__ import annotations

from storage.db import Tx


async def nudges_enabled(tx: Tx, person_id: int) -> bool:
    row = await tx.one("SELECT nudges_enabled FROM people WHERE id = ?", (person_id,))
    return bool(row["nudges_enabled"]) if row is not None else False


async def set_nudges(tx: Tx, person_id: int, enabled: bool) -> bool:
    """True when the setting changed."""
    return await tx.run("UPDATE people SET nudges_enabled = ? WHERE id = ? AND nudges_enabled != ?",
                        (int(enabled), person_id, int(enabled))) == 1
