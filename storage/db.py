"""One SQLite connection shared by the bot, with one transaction per user action."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sized
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from storage.migrate import apply_migrations, schema_version

Params = tuple[Any, ...] | dict[str, Any]


class Tx:
    """The open transaction a storage function works in."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def one(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        async with self._conn.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def all(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        async with self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def run(self, sql: str, params: Params = ()) -> int:
        """Executes a write; returns the new row id for an INSERT, else the rows changed."""
        async with self._conn.execute(sql, params) as cursor:
            if sql.lstrip().upper().startswith("INSERT"):
                return cursor.lastrowid or 0
            return cursor.rowcount

    async def run_many(self, sql: str, rows: Iterable[Params]) -> None:
        await self._conn.executemany(sql, rows)


class Database:
    """Serialises access to the connection: SQLite has one writer anyway, and interleaving two
    handlers' statements on one connection would mix their transactions."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str) -> Database:
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
                "PRAGMA synchronous = FULL",
                "PRAGMA busy_timeout = 5000",
            ):
                await conn.execute(pragma)
            await apply_migrations(conn)
        except BaseException:
            # aiosqlite's worker thread would otherwise keep the process alive.
            await conn.close()
            raise
        return cls(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self._conn)
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            await self._conn.execute("COMMIT")

    async def schema_version(self) -> int:
        async with self._lock:
            return await schema_version(self._conn)

    async def close(self) -> None:
        await self._conn.close()


def placeholders(values: Sized) -> str:
    """"?, ?, ?" for an IN (...) list of these values."""
    return ", ".join("?" * len(values))
