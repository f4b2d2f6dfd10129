"""A SQLite database moved into PostgreSQL (`lantoa move-to-postgres`), whole and checked.

The source is read in one read transaction (one moment of it, should a bot still write), the
target is written in one transaction: its migrations, the refusal of a target that holds
anything, every table, the sequences and the check. Anything that fails, the check included,
rolls it all back, so the target is left as it was and the move can simply be run again.

Tables go in an order that satisfies their foreign keys (a table after those it refers to), and
the units, which refer to themselves, parents before children: the keys stay checked on every
row as the bot's writes are, rather than switched off for the copy (PostgreSQL's are not
deferrable, and turning off their triggers needs a superuser). Rows go through COPY, a batch of
rows at a time, so that memory stays flat whatever the size. Ids are copied as they are; then
every identity column's sequence is set past the largest id and past SQLite's own AUTOINCREMENT
counter (drafts and review passes never reuse an id, even of a row deleted since: a report
knows the draft it came from by its id).

The check reads every table back from both sides in primary-key order, as Python values (int,
float, str, bytes, None: each driver's own conversion of the stored value), and hashes their
`repr`: equal values give equal hashes whatever each database's own text rendering of a float,
a NULL or bytes would be.
"""

from __future__ import annotations

import enum
import graphlib
import hashlib
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiosqlite

from storage.db import Database
from storage.migrate import MigrationError, apply_postgres_migrations, migration_scripts

# psycopg is imported when the database is PostgreSQL: 9 MB of a SQLite bot's memory.
if TYPE_CHECKING:
    import psycopg

    from storage.postgres import PgRow

BATCH = 5_000  # rows read, written or hashed at a time
PREFIX = 16  # hex digits of a checksum shown


class Refusal(enum.Enum):
    SOURCE_MISSING = "source_missing"
    SOURCE_NOT_OURS = "source_not_ours"
    SOURCE_NEWER = "source_newer"
    TARGET_NOT_EMPTY = "target_not_empty"
    TARGET_NEWER = "target_newer"


class MoveRefused(Exception):
    """Nothing was written to the target: `reason`, with `detail` (a table, a version, an
    error) to say which."""

    def __init__(self, reason: Refusal, detail: object = "") -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


class MoveFailed(Exception):
    """The move failed: the copy of `table` (PostgreSQL refused a row, say), or, with no table,
    the server (the connection lost); the target was rolled back."""

    def __init__(self, table: str | None, error: str) -> None:
        super().__init__(f"{table}: {error}")
        self.table = table
        self.error = error


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]  # the primary key's columns, in its order
    parent_column: str | None  # a column referring to the same table (units.parent_id)

    @property
    def has_id(self) -> bool:
        return self.key == ("id",)


@dataclass(frozen=True)
class Tally:
    """A table's rows as read back from one side: how many, and the hash of them in order."""

    rows: int
    checksum: str


@dataclass(frozen=True)
class TableCheck:
    table: str
    source: Tally
    target: Tally

    @property
    def matches(self) -> bool:
        return self.source == self.target


@dataclass(frozen=True)
class MoveResult:
    checks: list[TableCheck]

    @property
    def moved(self) -> bool:
        """Every table matched, and the move was committed (else it was rolled back)."""
        return all(check.matches for check in self.checks)


class _Mismatch(Exception):
    """Rolls the target back when the check finds a difference."""

    def __init__(self, checks: list[TableCheck]) -> None:
        super().__init__("the copy differs from the source")
        self.checks = checks


def latest_version() -> int:
    """The schema version this program's migrations make."""
    return max(number for number, _ in migration_scripts("sqlite"))


async def move_to_postgres(source: Path, url: str,
                           copying: Callable[[str], None] = lambda table: None) -> MoveResult:
    """Copies the SQLite database at `source` into the PostgreSQL database at `url`; `copying`
    is told each table as its copy starts. Raises MoveRefused (nothing written), MoveFailed
    (rolled back), or storage.postgres.DatabaseUnavailable."""
    import psycopg

    from storage.postgres import connect_directly

    older = await _source_version(source) < latest_version()
    conn = await connect_directly(url)
    try:
        async with conn.transaction():
            await _prepare_target(conn)
            if older:
                await _migrate(source)
            async with _snapshot(source) as reader:
                tables = await _tables(reader, conn)
                await _refuse_rows(conn, tables)
                for table in tables:
                    copying(table.name)
                    await _copy(reader, conn, table)
                await _set_sequences(reader, conn, tables)
                checks = [TableCheck(table.name, await _sqlite_tally(reader, table),
                                     await _postgres_tally(conn, table)) for table in tables]
            if not all(check.matches for check in checks):
                raise _Mismatch(checks)
        # The planner's statistics of the tables just filled: without them the first Monday's
        # figures took 10–40 times as long, until autovacuum came by (bench/README.md, 9).
        await conn.execute("ANALYZE")
    except _Mismatch as mismatch:
        return MoveResult(mismatch.checks)
    except psycopg.Error as error:
        raise MoveFailed(None, str(error).strip()) from None
    finally:
        await conn.close()
    return MoveResult(checks)


async def _source_version(source: Path) -> int:
    """The source's schema version, read without changing it; a missing file, a file that is
    not SQLite or not ours, or one newer than this program is refused."""
    if not source.is_file():
        raise MoveRefused(Refusal.SOURCE_MISSING, source)
    try:
        async with _read_only(source) as reader:
            version = int((await _all(reader, "PRAGMA user_version"))[0][0])
            found = await _all(reader, "SELECT 1 FROM sqlite_master WHERE name = 'reports'")
    except aiosqlite.DatabaseError as error:
        raise MoveRefused(Refusal.SOURCE_NOT_OURS, error) from None
    if version < 1 or not found:
        raise MoveRefused(Refusal.SOURCE_NOT_OURS, f"PRAGMA user_version = {version}")
    if version > latest_version():
        raise MoveRefused(Refusal.SOURCE_NEWER, version)
    return version


async def _migrate(source: Path) -> None:
    """An older source brought up to date, as the bot's start would."""
    try:
        await (await Database.open(source)).close()
    except MigrationError as error:
        raise MoveRefused(Refusal.SOURCE_NOT_OURS, error) from None


async def _prepare_target(conn: psycopg.AsyncConnection[PgRow]) -> None:
    """The target migrated (inside the move's transaction: a refusal undoes that too)."""
    version = await apply_postgres_migrations(conn)
    if version > latest_version():
        raise MoveRefused(Refusal.TARGET_NEWER, version)


async def _refuse_rows(conn: psycopg.AsyncConnection[PgRow], tables: list[Table]) -> None:
    for table in tables:
        cursor = await conn.execute(f"SELECT EXISTS (SELECT 1 FROM {table.name})")
        found = await cursor.fetchone()
        if found and found[0]:
            raise MoveRefused(Refusal.TARGET_NOT_EMPTY, table.name)


def _read_only(source: Path) -> aiosqlite.Connection:
    return aiosqlite.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True,
                             isolation_level=None)


@asynccontextmanager
async def _snapshot(source: Path) -> AsyncIterator[aiosqlite.Connection]:
    """The source read-only, in one read transaction from the first read to the last."""
    async with _read_only(source) as reader:
        await reader.execute("PRAGMA busy_timeout = 5000")
        await reader.execute("BEGIN")
        try:
            yield reader
        finally:
            await reader.execute("ROLLBACK")  # it wrote nothing


async def _all(reader: aiosqlite.Connection, sql: str,
               params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in await reader.execute_fetchall(sql, params)]


async def _tables(reader: aiosqlite.Connection,
                  conn: psycopg.AsyncConnection[PgRow]) -> list[Table]:
    """The source's tables, each after the tables it refers to; the target must have each with
    the same columns (the same migrations made both)."""
    columns: dict[str, list[tuple[int, str, int]]] = {}
    for table, position, column, key in await _all(
            reader, "SELECT m.name, c.cid, c.name, c.pk FROM sqlite_master m,"
                    " pragma_table_info(m.name) c"
                    " WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"):
        columns.setdefault(table, []).append((position, column, key))
    refers: dict[str, set[str]] = {name: set() for name in columns}
    parents: dict[str, str] = {}
    for table, parent, column in await _all(
            reader, "SELECT m.name, f.\"table\", f.\"from\" FROM sqlite_master m,"
                    " pragma_foreign_key_list(m.name) f WHERE m.type = 'table'"):
        if parent == table:
            parents[table] = column
        else:
            refers[table].add(parent)
    target = await _target_columns(conn)
    tables = []
    for name in graphlib.TopologicalSorter(refers).static_order():
        listed = sorted(columns[name])
        if target.get(name) != {column for _, column, _ in listed}:
            raise MoveRefused(Refusal.SOURCE_NOT_OURS, name)
        key = tuple(column for _, column, k in sorted(listed, key=lambda c: c[2]) if k)
        tables.append(Table(name, tuple(column for _, column, _ in listed), key,
                            parents.get(name)))
    return tables


async def _target_columns(conn: psycopg.AsyncConnection[PgRow]) -> dict[str, set[str]]:
    cursor = await conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema()")
    found: dict[str, set[str]] = {}
    for table, column in await cursor.fetchall():
        found.setdefault(table, set()).add(column)
    return found


def _column_list(table: Table) -> str:
    return ", ".join(f'"{column}"' for column in table.columns)


def _source_rows(table: Table) -> str:
    """The SELECT of the source's rows to copy: a table that refers to itself parents first
    (by depth in its tree; a row whose parent is missing comes last, for the target's foreign
    key to refuse by name)."""
    if table.parent_column is None:
        return f"SELECT {_column_list(table)} FROM {table.name}"
    parent, key = table.parent_column, table.key[0]
    listed = ", ".join(f'{table.name}."{column}"' for column in table.columns)
    return (f"WITH RECURSIVE tree(node, depth) AS ("
            f" SELECT \"{key}\", 0 FROM {table.name} WHERE \"{parent}\" IS NULL"
            f" UNION ALL SELECT child.\"{key}\", tree.depth + 1 FROM {table.name} child"
            f" JOIN tree ON child.\"{parent}\" = tree.node)"
            f" SELECT {listed} FROM {table.name}"
            f" LEFT JOIN tree ON tree.node = {table.name}.\"{key}\""
            f" ORDER BY tree.depth IS NULL, tree.depth, {table.name}.\"{key}\"")


async def _source_batches(reader: aiosqlite.Connection,
                          sql: str) -> AsyncIterator[list[tuple[Any, ...]]]:
    async with reader.execute(sql) as cursor:
        while batch := await cursor.fetchmany(BATCH):
            yield [tuple(row) for row in batch]


async def _copy(reader: aiosqlite.Connection, conn: psycopg.AsyncConnection[PgRow],
                table: Table) -> None:
    import psycopg

    try:
        async with conn.cursor() as cursor, cursor.copy(
                f"COPY {table.name} ({_column_list(table)}) FROM STDIN") as copy:
            async for batch in _source_batches(reader, _source_rows(table)):
                for row in batch:
                    await copy.write_row(row)
    except (psycopg.Error, sqlite3.Error) as error:
        raise MoveFailed(table.name, str(error).strip()) from None


async def _set_sequences(reader: aiosqlite.Connection, conn: psycopg.AsyncConnection[PgRow],
                         tables: list[Table]) -> None:
    """Each identity column's next value past the largest id, and past the ids SQLite's
    AUTOINCREMENT has handed out (sqlite_sequence, where a table has it)."""
    counters = dict(await _all(reader, "SELECT name, seq FROM sqlite_sequence")) if await _all(
        reader, "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'") else {}
    for table in tables:
        if not table.has_id:
            continue
        largest = (await _all(reader, f"SELECT max(id) FROM {table.name}"))[0][0] or 0
        following = max(largest, int(counters.get(table.name) or 0)) + 1
        await conn.execute(
            "SELECT setval(sequence, %s, false)"
            " FROM (SELECT pg_get_serial_sequence(%s, 'id') AS sequence) found"
            " WHERE sequence IS NOT NULL", (following, table.name))


def _in_key_order(table: Table) -> str:
    key = ", ".join(f'"{column}"' for column in table.key or table.columns)
    return f"SELECT {_column_list(table)} FROM {table.name} ORDER BY {key}"


class _Hasher:
    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.rows = 0

    def add(self, rows: Sequence[Sequence[Any]]) -> None:
        for row in rows:
            self._hash.update(repr(tuple(row)).encode() + b"\n")
        self.rows += len(rows)

    def tally(self) -> Tally:
        return Tally(self.rows, self._hash.hexdigest()[:PREFIX])


async def _sqlite_tally(reader: aiosqlite.Connection, table: Table) -> Tally:
    hasher = _Hasher()
    async for batch in _source_batches(reader, _in_key_order(table)):
        hasher.add(batch)
    return hasher.tally()


async def _postgres_tally(conn: psycopg.AsyncConnection[PgRow], table: Table) -> Tally:
    hasher = _Hasher()
    # A server-side cursor: the rows come a batch at a time, not all at once.
    async with conn.cursor(name=f"tally_{table.name}") as cursor:
        await cursor.execute(_in_key_order(table))
        while batch := await cursor.fetchmany(BATCH):
            hasher.add(batch)
    return hasher.tally()
