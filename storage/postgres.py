"""The PostgreSQL backend: a pool of connections to a server several processes share.

Within one process writes still go one transaction at a time, as on SQLite: every flow was
written for that, and PostgreSQL's row locks and constraints (storage/INVARIANTS.md) are what
keeps the rules when several processes write. Reads that take long (`reading()`) use a
connection of their own. The SQL is the storage functions' own: `?` placeholders become
psycopg's `%s` here, an INSERT into a table with an `id` returns it (SQLite's lastrowid), and
values come back as SQLite gives them (numbers as int or float, rows read by name or position).
The driver, and why: storage/POSTGRES.md.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import adapt, postgres
from psycopg.rows import RowMaker, no_result
from psycopg.types.numeric import Int8Dumper
from psycopg_pool import AsyncConnectionPool

from storage.db import WRITTEN_TABLE, Database, Params, Row, Tx
from storage.migrate import apply_postgres_migrations, postgres_schema_version

# A quoted literal or identifier (kept as written), a placeholder, or a percent sign.
_SQL_TOKENS = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|\?|%")
POOL_SIZE = 8
CONNECT_SECONDS = 10


class DatabaseUnavailable(Exception):
    """The server could not be reached or refused us; `reason` is libpq's own words, which
    never hold the password."""

    def __init__(self, location: str, reason: str) -> None:
        super().__init__(f"{location}: {reason}")
        self.location = location
        self.reason = reason


def without_password(url: str) -> str:
    """The URL as it may be printed or logged."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


@lru_cache(maxsize=4096)
def postgres_sql(sql: str) -> str:
    """SQLite's `?` placeholders as psycopg's `%s`; every literal `%` doubled (psycopg reads
    them even in quoted text); a `?` in quoted text left as written."""
    def token(match: re.Match[str]) -> str:
        text = match.group(0)
        return "%s" if text == "?" else text.replace("%", "%%")
    return _SQL_TOKENS.sub(token, sql)


class PgRow(tuple[Any, ...]):
    """A row read by position or by (case-insensitive) column name, as sqlite3.Row is."""

    _index: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key.lower()])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


def _rows_by_name(cursor: psycopg.AsyncCursor[Any]) -> RowMaker[PgRow]:
    description = cursor.description
    if description is None:
        return no_result
    index = {column.name.lower(): i for i, column in enumerate(description)}

    def make(values: Sequence[Any]) -> PgRow:
        row = PgRow(values)
        row._index = index
        return row
    return make


class _NumberLoader(adapt.Loader):
    """numeric (what sum() of BIGINT and avg() give) as SQLite gives it: an int when whole,
    else a float, never a Decimal the formatting code does not expect."""

    def load(self, data: adapt.Buffer) -> int | float:
        text = bytes(data)
        return float(text) if b"." in text or b"N" in text else int(text)


class _FlagDumper(adapt.Dumper):
    """True/False stored as SQLite stores them: 1/0 in a BIGINT column."""

    oid = postgres.types["int8"].oid

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


class PostgresTx(Tx):
    dialect = "postgresql"

    def __init__(self, conn: psycopg.AsyncConnection[PgRow], id_tables: frozenset[str]) -> None:
        super().__init__()
        self._conn = conn
        self._id_tables = id_tables

    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        if "RETURNING" in sql.upper():
            self._wrote(sql)
        cursor = await self._conn.execute(postgres_sql(sql), params)
        return list(await cursor.fetchall()) if cursor.description else []

    async def run(self, sql: str, params: Params = ()) -> int:
        written = WRITTEN_TABLE.match(sql)
        if sql.lstrip()[:6].upper() == "INSERT":
            self._wrote(sql)
            if written and written.group(1).lower() in self._id_tables:
                rows = await self.all(f"{sql.rstrip().rstrip(';')} RETURNING id", params)
                return int(rows[-1][0]) if rows else 0
        cursor = await self._conn.execute(postgres_sql(sql), params)
        if cursor.rowcount > 0:
            self._wrote(sql)
        return cursor.rowcount

    async def batches(self, sql: str, params: Params = (),
                      size: int = 5_000) -> AsyncIterator[list[Row]]:
        # A server-side cursor: the rows come `size` at a time, not all at once.
        async with self._conn.cursor(name="lantoa_batches") as cursor:
            await cursor.execute(postgres_sql(sql), params)
            while rows := await cursor.fetchmany(size):
                yield list(rows)

    async def run_many(self, sql: str, rows: Iterable[Params]) -> None:
        self._wrote(sql)
        async with self._conn.cursor() as cursor:
            await cursor.executemany(postgres_sql(sql), rows)


def _configure_types(conn: psycopg.AsyncConnection[Any]) -> None:
    conn.adapters.register_loader("numeric", _NumberLoader)
    conn.adapters.register_dumper(bool, _FlagDumper)
    # Every int as BIGINT, the columns' type: psycopg would send a small one as smallint, and
    # `SELECT ?` would then fix a query's column at smallint (a recursive CTE's, for one).
    conn.adapters.register_dumper(int, Int8Dumper)


async def _connect(url: str) -> psycopg.AsyncConnection[PgRow]:
    try:
        conn = await psycopg.AsyncConnection.connect(
            url, autocommit=True, row_factory=_rows_by_name, connect_timeout=CONNECT_SECONDS)
    except psycopg.Error as error:
        raise DatabaseUnavailable(without_password(url), str(error).strip()) from None
    _configure_types(conn)
    return conn


class PostgresDatabase(Database):
    def __init__(self, url: str, pool: AsyncConnectionPool[psycopg.AsyncConnection[PgRow]],
                 id_tables: frozenset[str]) -> None:
        super().__init__()
        self.location = without_password(url)
        self._pool = pool
        self._id_tables = id_tables
        self._lock = asyncio.Lock()

    @classmethod
    async def connect(cls, url: str, durable: bool = True) -> PostgresDatabase:
        conn = await _connect(url)
        try:
            await apply_postgres_migrations(conn)
            cursor = await conn.execute(
                "SELECT table_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND column_name = 'id'")
            id_tables = frozenset(row[0] for row in await cursor.fetchall())
        finally:
            await conn.close()
        pool = AsyncConnectionPool(
            url, min_size=1, max_size=POOL_SIZE, open=False, timeout=CONNECT_SECONDS,
            kwargs={"autocommit": True, "row_factory": _rows_by_name},
            configure=_configurer(durable),
            # A connection the server dropped (a restart) is replaced before it is lent.
            check=AsyncConnectionPool.check_connection)
        await pool.open(wait=True, timeout=CONNECT_SECONDS)
        return cls(url, pool, id_tables)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self._lock, self._pool.connection() as conn, conn.transaction():
            tx = PostgresTx(conn, self._id_tables)
            yield tx
        self._committed(tx)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Tx]:
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield PostgresTx(conn, self._id_tables)

    async def schema_version(self) -> int:
        async with self._pool.connection() as conn:
            return await postgres_schema_version(conn)

    async def close(self) -> None:
        await self._pool.close()


def _configurer(durable: bool) -> Callable[[psycopg.AsyncConnection[Any]], Any]:
    async def configure(conn: psycopg.AsyncConnection[Any]) -> None:
        _configure_types(conn)
        if not durable:
            await conn.execute("SET synchronous_commit = off")
    return configure
