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
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import adapt, postgres
from psycopg.cursor import BaseCursor
from psycopg.rows import RowMaker, no_result
from psycopg.types.numeric import Int8Dumper
from psycopg_pool import AsyncConnectionPool, PoolClosed, PoolTimeout

from storage.db import (
    WRITTEN_TABLE,
    Database,
    DatabaseUnavailable,
    Params,
    Row,
    Tx,
    without_password,
)
from storage.migrate import apply_postgres_migrations, postgres_schema_version

# A quoted literal or identifier (kept as written), a placeholder, or a percent sign.
_SQL_TOKENS = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|\?|%")
POOL_SIZE = 8
CONNECT_SECONDS = 10
# How long a transaction waits for a connection, the server gone (a restart): a short stop is
# only a delay; after that the pool is put away (PostgresDatabase).
SERVER_WAIT_SECONDS = 10.0
__all__ = ["DatabaseUnavailable", "PostgresDatabase", "without_password"]

log = logging.getLogger(__name__)
# The pool warns at every failed attempt to reconnect, many a minute while the server is down:
# PostgresDatabase says once that it is unreachable, and once that it is back.
logging.getLogger("psycopg.pool").setLevel(logging.ERROR)


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


def rows_by_name(cursor: BaseCursor[Any, Any]) -> RowMaker[PgRow]:
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


def _reason(error: psycopg.Error) -> str:
    """libpq's words on one line (it writes a hint on a second)."""
    return " ".join(str(error).split())


async def connect_directly(url: str) -> psycopg.AsyncConnection[PgRow]:
    """A connection of its own, outside the pool, with the backend's rows and values (for
    migrating, for moving a database in with COPY)."""
    try:
        conn = await psycopg.AsyncConnection.connect(
            url, autocommit=True, row_factory=rows_by_name, connect_timeout=CONNECT_SECONDS)
    except psycopg.Error as error:
        raise DatabaseUnavailable(without_password(url), _reason(error)) from None
    _configure_types(conn)
    return conn


Connection = psycopg.AsyncConnection[PgRow]
Pool = AsyncConnectionPool[Connection]


def _lost(error: psycopg.OperationalError, conn: Connection | None) -> bool:
    """Whether the failure is the server's absence (not a query's own, e.g. a deadlock): no
    connection to be had, or the connection broke."""
    return isinstance(error, PoolTimeout | PoolClosed) or (conn is not None and conn.broken)


class PostgresDatabase(Database):
    """A server restarted or stopped for a while costs the transactions that were running then
    (rolled back; `DatabaseUnavailable`), never the bot: a connection the server dropped is
    replaced before it is lent (the pool's check), a transaction whose BEGIN found its
    connection broken is begun again on another, and a transaction waits up to
    SERVER_WAIT_SECONDS for the server to come back. After that the pool is put away (it would
    go on retrying at longer and longer intervals); each transaction then tries one connection
    of its own, failing at once while the server is away, and the first that gets through
    opens a new pool: the bot goes on as soon as the server is back. storage/POSTGRES.md."""

    def __init__(self, url: str, pool: Pool, id_tables: frozenset[str], durable: bool) -> None:
        super().__init__()
        self.location = without_password(url)
        self._url = url
        self._pool: Pool | None = pool
        self._id_tables = id_tables
        self._durable = durable
        self._reopening = asyncio.Lock()
        self._lost_at: float | None = None  # time.monotonic() when the server was lost
        self._told_away = False  # the log says it cannot be reached (said once)

    @classmethod
    async def connect(cls, url: str, durable: bool = True) -> PostgresDatabase:
        conn = await connect_directly(url)
        try:
            await apply_postgres_migrations(conn)
            cursor = await conn.execute(
                "SELECT table_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND column_name = 'id'")
            id_tables = frozenset(row[0] for row in await cursor.fetchall())
        finally:
            await conn.close()
        return cls(url, await _open_pool(url, durable), id_tables, durable)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self.turns.turn(), self._session() as conn:
            tx = PostgresTx(conn, self._id_tables)
            yield tx
        self._committed(tx)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Tx]:
        async with self._session() as conn:
            await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield PostgresTx(conn, self._id_tables)

    async def schema_version(self) -> int:
        async with self._session() as conn:
            return await postgres_schema_version(conn)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[Connection]:
        """A connection of the pool, in a transaction committed when the block ends. Lost
        before anything was sent on it (BEGIN failed), it is begun once more on another;
        lost later, the transaction is rolled back and `DatabaseUnavailable` raised."""
        for attempt in (1, 2):
            pool, conn, begun = await self._live_pool(), None, False
            try:
                async with (pool.connection(timeout=SERVER_WAIT_SECONDS) as conn,
                            conn.transaction()):
                    begun = True
                    yield conn
                return
            except psycopg.OperationalError as error:
                if not _lost(error, conn):
                    raise
                if attempt == 1 and not begun and not isinstance(error, PoolTimeout):
                    continue
                await self._put_away(pool)
                raise DatabaseUnavailable(self.location, _reason(error)) from error

    async def _live_pool(self) -> Pool:
        """The pool, or a new one once the server can be reached again (raises
        `DatabaseUnavailable` at once while it cannot: one connection tried, no waiting)."""
        if self._pool is not None:
            return self._pool
        async with self._reopening:
            if self._pool is None:
                try:
                    await (await connect_directly(self._url)).close()
                    self._pool = await _open_pool(self._url, self._durable)
                except DatabaseUnavailable as error:
                    if not self._told_away:
                        self._told_away = True
                        log.warning("the database server cannot be reached (%s); the bot "
                                    "keeps running and goes on when it is back", error)
                    raise
                away = time.monotonic() - (self._lost_at or time.monotonic())
                log.log(logging.WARNING if self._told_away else logging.INFO,
                        "connected to the database server again, %.1f s after losing it", away)
                self._lost_at, self._told_away = None, False
            return self._pool

    async def _put_away(self, pool: Pool) -> None:
        """The server is gone (or was, for this pool's connections): the next transaction
        opens a new pool once it can connect."""
        if self._pool is pool:
            self._pool = None
            self._lost_at = self._lost_at or time.monotonic()
            await pool.close(timeout=1)


async def _open_pool(url: str, durable: bool) -> Pool:
    pool: Pool = AsyncConnectionPool(
        url, min_size=1, max_size=POOL_SIZE, open=False, timeout=CONNECT_SECONDS,
        kwargs={"autocommit": True, "row_factory": rows_by_name},
        configure=_configurer(durable),
        # A connection the server dropped (a restart) is replaced before it is lent.
        check=AsyncConnectionPool.check_connection)
    try:
        await pool.open(wait=True, timeout=CONNECT_SECONDS)
    except psycopg.OperationalError as error:
        await pool.close(timeout=0)
        raise DatabaseUnavailable(without_password(url), _reason(error)) from error
    return pool


def _configurer(durable: bool) -> Callable[[psycopg.AsyncConnection[Any]], Any]:
    async def configure(conn: psycopg.AsyncConnection[Any]) -> None:
        _configure_types(conn)
        if not durable:
            await conn.execute("SET synchronous_commit = off")
    return configure
