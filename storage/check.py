"""What `lantoa check` reads of a database, without changing it, and the counts `lantoa run`
prints when it starts.

The database is opened read-only and not migrated: a check of a file the bot has not opened
yet, or of one newer than this code, must leave it as it was. SQLite's own checks come first;
a file that fails `integrity_check` is not read further (its counts would be made up).
PostgreSQL has no such check of a whole database (the server checks its pages as it reads
them, and `pg_amcheck` is a server administrator's tool), so there the checks start with the
references. Both backends are read through the same `Tx`, the dialect deciding the few
queries of the catalogue that differ.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiosqlite

from storage.clock import from_db
from storage.db import Dialect, Tx, is_postgres_url
from storage.migrate import postgres_schema_version, schema_version
from storage.sqlite import SqliteTx

# Each foreign key of the current schema: the table, the table it points at, and the columns
# of each, in order.
FOREIGN_KEYS = """
    SELECT c.conrelid::regclass::text, c.confrelid::regclass::text,
           array_agg(a.attname::text ORDER BY k.n), array_agg(b.attname::text ORDER BY k.n)
    FROM pg_constraint c
    CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(mine, theirs, n)
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.mine
    JOIN pg_attribute b ON b.attrelid = c.confrelid AND b.attnum = k.theirs
    WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace
    GROUP BY c.oid, c.conrelid, c.confrelid"""


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
    dialect: Dialect = "sqlite"  # PostgreSQL's integrity is the server's: it has no such check

    @property
    def sound(self) -> bool:
        return self.integrity == ["ok"]


async def inspect(location: Path | str) -> Health:
    """Reads the database at `location` read-only: a SQLite file (which must exist: connecting
    would create it), or a PostgreSQL URL. sqlite3's DatabaseError when the file is no SQLite
    database at all; storage.postgres.DatabaseUnavailable when the server cannot be reached."""
    async with _read_only(location) as (tx, version):
        integrity = (["ok"] if tx.dialect == "postgresql" else
                     [str(row[0]) for row in await tx.all("PRAGMA integrity_check")])
        health = Health(version, integrity, dialect=tx.dialect)
        if not health.sound:
            return health
        tables = await _table_counts(tx)
        return Health(
            version, integrity, await _broken_references(tx), tables,
            await _loops(tx) if "units" in tables else [],
            await _stray_deliveries(tx) if "deliveries" in tables else 0,
            await _backlog(tx, "SELECT COUNT(*), MIN(decided_at) FROM deliveries"
                               " WHERE status IN ('queued', 'sending')")
            if "deliveries" in tables else NO_BACKLOG,
            await _backlog(tx, "SELECT COUNT(*), MIN(received_at) FROM inbox"
                               " WHERE handled_at IS NULL")
            if "inbox" in tables else NO_BACKLOG,
            tx.dialect,
        )


@asynccontextmanager
async def _read_only(location: Path | str) -> AsyncIterator[tuple[Tx, int]]:
    """A read-only transaction on a connection of its own, and the schema version, without
    migrating: the checks below then read either backend through the same `Tx`."""
    if is_postgres_url(location):
        from storage.postgres import PostgresTx, connect_directly  # see storage/migrate.py

        conn = await connect_directly(str(location))
        try:
            version = await postgres_schema_version(conn)
            async with conn.transaction():
                await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                yield PostgresTx(conn, frozenset()), version
        finally:
            await conn.close()
        return
    lite = await aiosqlite.connect(f"{Path(location).resolve().as_uri()}?mode=ro", uri=True)
    try:
        lite.row_factory = aiosqlite.Row
        yield SqliteTx(lite), await schema_version(lite)
    finally:
        await lite.close()


async def _table_counts(tx: Tx) -> dict[str, int]:
    listed = ("SELECT table_name FROM information_schema.tables"
              " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
              # The migrations' own bookkeeping: SQLite keeps it in a pragma, not a table.
              " AND table_name <> 'schema_version' ORDER BY table_name"
              if tx.dialect == "postgresql" else
              "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
              " ORDER BY name")
    counts: dict[str, int] = {}
    for (name,) in await tx.all(listed):
        # A table's name cannot be a parameter; these come from the catalogue, quoted.
        row = await tx.one(f"SELECT COUNT(*) FROM {_quoted(name)}")
        counts[str(name)] = int(row[0]) if row else 0
    return counts


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _broken_references(tx: Tx) -> list[BrokenReference]:
    found: Counter[tuple[str, str]] = Counter()
    if tx.dialect == "sqlite":
        # foreign_key_check finds them whether or not foreign keys were on when written.
        found.update((str(row[0]), str(row[2])) for row in await tx.all("PRAGMA foreign_key_check"))
    else:
        # PostgreSQL enforces every reference, but not while triggers are off (a restore or a
        # copy with session_replication_role = replica): each is looked for as SQLite does.
        for table, parent, columns, keys in await tx.all(FOREIGN_KEYS):
            matched = " AND ".join(f"p.{_quoted(key)} = c.{_quoted(column)}"
                                   for column, key in zip(columns, keys, strict=True))
            present = " AND ".join(f"c.{_quoted(column)} IS NOT NULL" for column in columns)
            row = await tx.one(f"SELECT COUNT(*) FROM {_quoted(table)} c WHERE {present}"
                               f" AND NOT EXISTS (SELECT 1 FROM {_quoted(parent)} p"
                               f" WHERE {matched})")
            found[(table, parent)] += int(row[0]) if row else 0
    return [BrokenReference(table, parent, rows)
            for (table, parent), rows in sorted(found.items()) if rows]


async def _loops(tx: Tx) -> list[int]:
    """Units among their own ancestors: every walk up the tree (the bot's recursive queries)
    would go round for ever. Found by walking up from each unit once, in Python: a walk in
    SQL cannot remember where it has been."""
    parent = {int(r[0]): None if r[1] is None else int(r[1])
              for r in await tx.all("SELECT id, parent_id FROM units")}
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


async def _stray_deliveries(tx: Tx) -> int:
    """Waiting deliveries whose chat is no unit's group and no person's: a group unlinked, or
    a person deleted, while they waited."""
    row = await tx.one(
        """SELECT COUNT(*) FROM deliveries
           WHERE status IN ('queued', 'sending')
             AND chat_id NOT IN (SELECT group_chat_id FROM units
                                 WHERE group_chat_id IS NOT NULL)
             AND chat_id NOT IN (SELECT telegram_user_id FROM people
                                 WHERE telegram_user_id IS NOT NULL)""")
    return int(row[0]) if row else 0


async def _backlog(tx: Tx, sql: str) -> Backlog:
    row = await tx.one(sql)
    count, oldest = row if row else (0, None)
    return Backlog(int(count), from_db(str(oldest)) if oldest is not None else None)
