"""The SQLite backend: one connection shared by the bot, one transaction per user action."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import cast

import aiosqlite

from storage.db import Database, Params, Row, Tx
from storage.migrate import apply_migrations, schema_version


class SqliteTx(Tx):
    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        super().__init__()
        self._conn = conn

    # Each call below is one trip to aiosqlite's thread and back (a cursor opened, read and
    # closed from here would be three): a form step makes a few dozen of them.

    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        if "RETURNING" in sql.upper():
            self._wrote(sql)
        return cast(list[Row], list(await self._conn.execute_fetchall(sql, params)))

    async def run(self, sql: str, params: Params = ()) -> int:
        if sql.lstrip()[:6].upper() == "INSERT":
            self._wrote(sql)
            row = await self._conn.execute_insert(sql, params)
            return (row[0] if row else 0) or 0
        async with self._conn.execute(sql, params) as cursor:
            if cursor.rowcount > 0:
                self._wrote(sql)
            return cursor.rowcount

    async def batches(self, sql: str, params: Params = (),
                      size: int = 5_000) -> AsyncIterator[list[Row]]:
        async with self._conn.execute(sql, params) as cursor:
            while rows := list(await cursor.fetchmany(size)):
                yield cast(list[Row], rows)

    async def run_many(self, sql: str, rows: Iterable[Params]) -> None:
        self._wrote(sql)
        await self._conn.executemany(sql, rows)


class SqliteDatabase(Database):
    """Serialises access to the connection: SQLite has one writer anyway, and interleaving two
    handlers' statements on one connection would mix their transactions. People's transactions
    take their turn before background work's (`TurnLock`)."""

    def __init__(self, conn: aiosqlite.Connection, path: Path | None = None) -> None:
        super().__init__()
        self._conn = conn
        self._path = path  # None: in memory

    @classmethod
    async def open(cls, location: Path | str, durable: bool = True) -> SqliteDatabase:
        path = str(location)
        if path != ":memory:":
            if Path(path).is_dir():
                # Said here: aiosqlite would fail inside its worker thread and leave it behind.
                raise IsADirectoryError(f"{path} is a folder, not a database file")
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
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
        return cls(conn, None if path == ":memory:" else Path(path).resolve())

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self.turns.turn():
            await self._begin()
            try:
                tx = SqliteTx(self._conn)
                yield tx
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            await self._conn.execute("COMMIT")
            self._committed(tx)

    async def _begin(self) -> None:
        """BEGIN IMMEDIATE, which may wait up to busy_timeout in aiosqlite's thread for another
        connection's write. A caller cancelled meanwhile (a renewal's time-out) must not leave
        it begun there: the connection would hold the file's write lock for good, and every
        write after it, this process's and any other's, would find the database locked."""
        begun = asyncio.ensure_future(self._conn.execute("BEGIN IMMEDIATE"))
        try:
            await asyncio.shield(begun)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await begun
                await self._conn.execute("ROLLBACK")
            raise

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Tx]:
        """In WAL mode a second connection reads the database as it was when it began. A
        database in memory has one connection: its reads take the writers' turn."""
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
                yield SqliteTx(conn)
            finally:
                await conn.execute("ROLLBACK")  # it wrote nothing
        finally:
            await conn.close()

    async def schema_version(self) -> int:
        async with self.turns.turn():
            return await schema_version(self._conn)

    async def close(self) -> None:
        await self._conn.close()
