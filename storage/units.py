"""The unit tree."""

from __future__ import annotations

import datetime as dt

from storage.clock import to_db
from storage.db import Tx
from storage.entities import NewUnit, Unit

_COLUMNS = "id, code, name, kind, parent_id, place_name, no_locations"


def _unit(row) -> Unit:
    return Unit(**dict(row))


async def add_unit(tx: Tx, unit: NewUnit, now: dt.datetime) -> Unit:
    unit_id = await tx.run(
        "INSERT INTO units (code, name, kind, parent_id, place_name, no_locations, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (unit.code, unit.name, unit.kind, unit.parent_id, unit.place_name,
         int(unit.no_locations), to_db(now)),
    )
    return Unit(id=unit_id, **unit.model_dump())


async def get_unit(tx: Tx, unit_id: int) -> Unit | None:
    row = await tx.one(f"SELECT {_COLUMNS} FROM units WHERE id = ?", (unit_id,))
    return _unit(row) if row else None


async def get_unit_by_code(tx: Tx, code: str) -> Unit | None:
    row = await tx.one(f"SELECT {_COLUMNS} FROM units WHERE code = ?", (code,))
    return _unit(row) if row else None


async def list_units(tx: Tx) -> list[Unit]:
    return [_unit(r) for r in await tx.all(f"SELECT {_COLUMNS} FROM units ORDER BY id")]


async def ancestors(tx: Tx, unit_id: int) -> list[Unit]:
    """The unit's parents, nearest first (the unit itself excluded)."""
    rows = await tx.all(
        f"""WITH RECURSIVE up(id, depth) AS (
                SELECT parent_id, 1 FROM units WHERE id = ?
                UNION ALL
                SELECT u.parent_id, up.depth + 1 FROM units u JOIN up ON u.id = up.id
            )
            SELECT {", ".join("u." + c.strip() for c in _COLUMNS.split(","))}
            FROM up JOIN units u ON u.id = up.id ORDER BY up.depth""",
        (unit_id,),
    )
    return [_unit(r) for r in rows]


async def set_no_locations(tx: Tx, unit_id: int, value: bool) -> None:
    """Border units keep map pins out of their reports."""
    await tx.run("UPDATE units SET no_locations = ? WHERE id = ?", (int(value), unit_id))


async def children(tx: Tx, unit_id: int | None) -> list[Unit]:
    """The units right below `unit_id`; with None, the units at the top of the tree."""
    rows = await tx.all(f"SELECT {_COLUMNS} FROM units WHERE parent_id IS NOT DISTINCT FROM ?"
                        " ORDER BY name, id", (unit_id,))
    return [_unit(r) for r in rows]


async def subtree_ids(tx: Tx, unit_id: int) -> list[int]:
    """The unit and every unit below it, at any depth."""
    rows = await tx.all(
        """WITH RECURSIVE down(id) AS (
               SELECT id FROM units WHERE id = ?
               UNION ALL
               SELECT u.id FROM units u JOIN down ON u.parent_id = down.id
           )
           SELECT id FROM down""",
        (unit_id,),
    )
    return [int(r["id"]) for r in rows]
