"""What `lantoa check` reads of a database, without changing it, and the counts `lantoa run`
prints when it starts.

The database is opened read-only and not migrated: a check of a file the bot has not opened
yet, or of one newer than this code, must leave it as it was. SQLite's own checks come first;
a file that fails `integrity_check` is not read further (its counts would be made up).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import aiosqlite

from storage.clock import from_db
from storage.db import Tx
from storage.migrate import schema_version


@dataclass(frozen=True)
class Overview:
    units: int
    members: int  # people with an active membership, in any role
    groups: int  # units with a linked group chat


async def overview(tx: Tx) -> Overview:
    row = await tx.one(
        """SELECT (SELECT COUNT(*) FROM units) AS units,
                  (SELECT COUNT(DISTINCT person_id) FROM memberships
                   WHERE status = 'active') AS members,
                  (SELECT COUNT(*) FROM units WHERE group_chat_id IS NOT NULL) AS groups""")
    assert row is not None  # a SELECT without FROM always gives its one row
    return Overview(int(row["units"]), int(row["members"]), int(row["groups"]))


@dataclass(frozen=True)
class BrokenReference:
    """Rows of `table` pointing at rows of `parent` that do not exist (foreign keys were off
    when they were written, or the file was edited by hand)."""

    table: str
    parent: str
    rows: int


@dataclass(frozen=True)
class Backlog:
    waiting: int
    oldest: dt.datetime | None


NO_BACKLOG = Backlog(0, None)


@dataclass(frozen=True)
class Health:
    schema_version: int
    integrity: list[str]  # ["ok"] for a sound file, else SQLite's findings
    broken: list[BrokenReference] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)  # rows per table
    loops: list[int] = field(default_factory=list)  # units that are their own ancestor
    # Deliveries still to send to a chat no unit has as its group and no person as theirs.
    stray_deliveries: int = 0
    deliveries: Backlog = NO_BACKLOG  # queued, or caught mid-send
    inbox: Backlog = NO_BACKLOG  # updates fetched from Telegram and not yet handled

    @property
    def sound(self) -> bool:
        return self.integrity == ["ok"]


async def inspect(path: Path) -> Health:
    """Reads `path` (which must exist: connecting would create it) read-only. sqlite3's
    DatabaseError when the file is no SQLite database at all."""
    conn = await aiosqlite.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        conn.row_factory = aiosqlite.Row
        integrity = [str(r[0]) for r in await conn.execute_fetchall("PRAGMA integrity_check")]
        health = Health(await schema_version(conn), integrity)
        if not health.sound:
            return health
        tables = await _table_counts(conn)
        return Health(
            health.schema_version, integrity, await _broken_references(conn), tables,
            await _loops(conn) if "units" in tables else [],
            await _stray_deliveries(conn) if "deliveries" in tables else 0,
            await _backlog(conn, "SELECT COUNT(*), MIN(decided_at) FROM deliveries"
                                 " WHERE status IN ('queued', 'sending')")
            if "deliveries" in tables else NO_BACKLOG,
            await _backlog(conn, "SELECT COUNT(*), MIN(received_at) FROM inbox"
                                 " WHERE handled_at IS NULL")
            if "inbox" in tables else NO_BACKLOG,
        )
    finally:
        await conn.close()


async def _table_counts(conn: aiosqlite.Connection) -> dict[str, int]:
    names = [str(r[0]) for r in await conn.execute_fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY name")]
    counts: dict[str, int] = {}
    for name in names:
        # A table's name cannot be a parameter; these come from sqlite_master, quoted.
        quoted = '"' + name.replace('"', '""') + '"'
        rows = list(await conn.execute_fetchall(f"SELECT COUNT(*) FROM {quoted}"))
        counts[name] = int(rows[0][0])
    return counts


async def _broken_references(conn: aiosqlite.Connection) -> list[BrokenReference]:
    # foreign_key_check finds them whether or not foreign keys were on when they were written.
    found: dict[tuple[str, str], int] = {}
    for row in await conn.execute_fetchall("PRAGMA foreign_key_check"):
        key = (str(row[0]), str(row[2]))
        found[key] = found.get(key, 0) + 1
    return [BrokenReference(table, parent, rows) for (table, parent), rows in sorted(found.items())]


async def _loops(conn: aiosqlite.Connection) -> list[int]:
    """Units among their own ancestors: every walk up the tree (the bot's recursive queries)
    would go round for ever. Found by walking up from each unit once, in Python: a walk in
    SQL cannot remember where it has been."""
    parent = {int(r[0]): None if r[1] is None else int(r[1])
              for r in await conn.execute_fetchall("SELECT id, parent_id FROM units")}
    in_loop: set[int] = set()
    done: set[int] = set()
    for start in parent:
        walk: dict[int, None] = {}  # the units of this walk, in order
        unit: int | None = start
        while unit is not None and unit not in done and unit not in walk:
            walk[unit] = None
            unit = parent.get(unit)
        if unit is not None and unit in walk:  # came back to this walk: a loop
            path = list(walk)
            in_loop.update(path[path.index(unit):])
        done.update(walk)
    return sorted(in_loop)


async def _stray_deliveries(conn: aiosqlite.Connection) -> int:
    """Waiting deliveries whose chat is no unit's group and no person's: a group unlinked, or
    a person deleted, while they waited."""
    rows = list(await conn.execute_fetchall(
        """SELECT COUNT(*) FROM deliveries
           WHERE status IN ('queued', 'sending')
             AND chat_id NOT IN (SELECT group_chat_id FROM units
                                 WHERE group_chat_id IS NOT NULL)
             AND chat_id NOT IN (SELECT telegram_user_id FROM people
                                 WHERE telegram_user_id IS NOT NULL)"""))
    return int(rows[0][0])


async def _backlog(conn: aiosqlite.Connection, sql: str) -> Backlog:
    rows = list(await conn.execute_fetchall(sql))
    count, oldest = rows[0]
    return Backlog(int(count), from_db(str(oldest)) if oldest is not None else None)
