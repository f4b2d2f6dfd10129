"""One SQLite connection shared by the bot, with one transaction per user action."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sized
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from storage.migrate import apply_migrations, schema_version

Params = tuple[Any, ...] | dict[str, Any]
# The table a write statement changes (INSERT, REPLACE, UPDATE, DELETE, with or without OR ...).
_WRITTEN_TABLE = re.compile(
    r"\s*(?:(?:INSERT|REPLACE)(?:\s+OR\s+\w+)?\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)"
    r"\s+[\"`\[]?(\w+)", re.IGNORECASE)


class Tx:
    """The open transaction a storage function works in."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self.written: set[str] = set()  # tables this transaction changed (see Database.version)

    def _wrote(self, sql: str) -> None:
        match = _WRITTEN_TABLE.match(sql)
        if match:
            self.written.add(match.group(1).lower())

    # Each call below is one trip to aiosqlite's thread and back (a cursor opened, read and
    # closed from here would be three): a form step makes a few dozen of them.

    async def one(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        rows = await self.all(sql, params)
        return rows[0] if rows else None

    async def all(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        """Rows of a query (or of a write with RETURNING)."""
        if "RETURNING" in sql.upper():
            self._wrote(sql)
        return list(await self._conn.execute_fetchall(sql, params))

    async def run(self, sql: str, params: Params = ()) -> int:
        """Executes a write; returns the new row id for an INSERT, else the rows changed."""
        if sql.lstrip()[:6].upper() == "INSERT":
            self._wrote(sql)
            row = await self._conn.execute_insert(sql, params)
            return (row[0] if row else 0) or 0
        async with self._conn.execute(sql, params) as cursor:
            if cursor.rowcount > 0:
                self._wrote(sql)
            return cursor.rowcount

    async def batches(self, sql: str, params: Params = (),
                      size: int = 5_000) -> AsyncIterator[list[aiosqlite.Row]]:
        """The rows of a query a batch at a time: a big result (a province's year of reports)
        is never all in memory as rows."""
        async with self._conn.execute(sql, params) as cursor:
            while rows := list(await cursor.fetchmany(size)):
                yield rows

    async def run_many(self, sql: str, rows: Iterable[Params]) -> None:
        self._wrote(sql)
        await self._conn.executemany(sql, rows)


class Database:
    """Serialises access to the connection: SQLite has one writer anyway, and interleaving two
    handlers' statements on one connection would mix their transactions."""

    def __init__(self, conn: aiosqlite.Connection, path: Path | None = None) -> None:
        self._conn = conn
        self._path = path  # None: in memory
        self._lock = asyncio.Lock()
        self._versions: Counter[str] = Counter()

    @classmethod
    async def open(cls, path: Path | str, durable: bool = True) -> Database:
        """`durable=False` (tests only) skips the fsync of every commit: a test's database
        does not have to survive a power cut, and waiting for the disk was most of its time."""
        if str(path) != ":memory:":
            if Path(path).is_dir():
                # Said here: aiosqlite would fail inside its worker thread and leave it behind.
                raise IsADirectoryError(f"{path} is a folder, not a database file")
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        try:
            conn.row_factory = aiosqlite.Row
            for pragma in (
                "PRAGMA journal_mode = WAL",
                "PRAGMA foreign_keys = ON",
                # FULL: a power cut must not take back a report the member saw confirmed.
                "PRAGMA synchronous = FULL" if durable else "PRAGMA synchronous = OFF",
                "PRAGMA busy_timeout = 5000",
            ):
                await conn.execute(pragma)
            await apply_migrations(conn)
        except BaseException:
            # aiosqlite's worker thread would otherwise keep the process alive.
            await conn.close()
            raise
        return cls(conn, None if str(path) == ":memory:" else Path(path).resolve())

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                tx = Tx(self._conn)
                yield tx
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            await self._conn.execute("COMMIT")
            self._versions.update(tx.written)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Tx]:
        """A read-only transaction on a connection of its own, for a long read (a province's
        export): in WAL mode it reads the database as it was when it began, while the bot's
        own connection goes on writing, never waiting for it. A database in memory has one
        connection: its reads take the writers' turn."""
        if self._path is None:
            async with self.transaction() as tx:
                yield tx
            return
        conn = await aiosqlite.connect(f"{self._path.as_uri()}?mode=ro", uri=True,
                                       isolation_level=None)
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute("PRAGMA busy_timeout = 5000")
            await conn.execute("BEGIN")
            try:
                yield Tx(conn)
            finally:
                await conn.execute("ROLLBACK")  # it wrote nothing
        finally:
            await conn.close()

    def version(self, *tables: str) -> int:
        """Grows whenever a transaction of this process that changed one of `tables` commits
        (writes from other processes are not seen): something derived from those tables and
        remembered at one version is still right while the version stays the same."""
        return sum(self._versions[table] for table in tables)

    async def schema_version(self) -> int:
        async with self._lock:
            return await schema_version(self._conn)

    async def close(self) -> None:
        await self._conn.close()


def placeholders(values: Sized) -> str:
    """"?, ?, ?" for an IN (...) list of these values."""
    return ", ".join("?" * len(values))
