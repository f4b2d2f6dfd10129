"""The storage interface the rest of the code uses: a `Database` that hands out one transaction
per user action, and the `Tx` that storage functions run their SQL in.

Two backends implement it: SQLite (storage/sqlite.py, a file: the default) and PostgreSQL
(storage/postgres.py, a server several processes share). `Database.open` picks by the
location: a `postgresql://` or `postgres://` URL, or else a SQLite file. Storage functions
write one SQL for both: `?` placeholders, ISO text for times, 0/1 for flags.
"""

from __future__ import annotations

import asyncio
import re
from abc import ABC, abstractmethod
from collections import Counter, deque
from collections.abc import AsyncIterator, Iterable, Iterator, Sized
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from contextvars import ContextVar
from enum import IntEnum
from pathlib import Path
from typing import Any, Literal, Protocol

Params = tuple[Any, ...] | dict[str, Any]
Dialect = Literal["sqlite", "postgresql"]
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
URL_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
PASSWORD_PARAMETER = re.compile(r"([?&]password=)[^&]*", re.IGNORECASE)
# The table a write statement changes (INSERT, REPLACE, UPDATE, DELETE, with or without OR ...).
WRITTEN_TABLE = re.compile(
    r"\s*(?:(?:INSERT|REPLACE)(?:\s+OR\s+\w+)?\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)"
    r"\s+[\"`\[]?(\w+)", re.IGNORECASE)


class Turn(IntEnum):
    """Whose transaction goes first when several wait (`TurnLock`): a person waiting for an
    answer, then the paced sender (what is decided goes out while the rest is decided), then
    a decision under way, then the schedules' jobs just woken."""

    PEOPLE = 0
    SENDING = 1
    DECIDING = 2
    WAKING = 3  # a schedule's job just woken, looking at its row: a thousand wake at once


# The class of the current task's transactions (see `background`).
_TURN: ContextVar[Turn] = ContextVar("lantoa_turn", default=Turn.PEOPLE)


class Row(Protocol):
    """A result row, read by position, slice or column name, or unpacked; `dict(row)` gives
    the columns by name."""

    def __getitem__(self, key: Any) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...

    def keys(self) -> list[str]: ...


class DatabaseUnavailable(Exception):
    """The database server could not be reached, or was lost during a transaction (which is
    then rolled back): the same work may be tried again later. `reason` is the driver's own
    words, which never hold the password. (A SQLite file is never unavailable this way.)"""

    def __init__(self, location: str, reason: str) -> None:
        super().__init__(f"{location}: {reason}")
        self.location = location
        self.reason = reason


def is_postgres_url(location: Path | str) -> bool:
    return str(location).lower().startswith(POSTGRES_SCHEMES)


def without_password(location: Path | str) -> str:
    """The database's location as it may be printed or logged: a URL's password (between the
    user's name and the last `@`, or a `password=` parameter) as ***. Written for any text, not
    only a valid URL: a mistyped one is quoted back too, and a password with a raw `?` or `/`
    in it must not show either (the address then shown may be cut short, never the password)."""
    text = str(location)
    scheme = URL_LIKE.match(text)
    if scheme is None:
        return text
    rest = PASSWORD_PARAMETER.sub(r"\1***", text[scheme.end():])
    userinfo, at, address = rest.rpartition("@")
    user, has_password, _ = userinfo.partition(":")
    if at and has_password:
        rest = f"{user}:***@{address}"
    return scheme.group(0) + rest


@contextmanager
def background(turn: Turn = Turn.DECIDING) -> Iterator[None]:
    """Marks the transactions begun inside (in this task, and in tasks it starts meanwhile) as
    background work: what the scheduler decides, or (`Turn.SENDING`) what the paced sender
    takes and settles. Their turn at the database comes after every transaction answering a
    person that is waiting then, the sender's before the scheduler's (`TurnLock`): at a
    Friday's 16:00 the first reminders go while the thousand jobs still decide the rest."""
    token = _TURN.set(turn)
    try:
        yield
    finally:
        _TURN.reset(token)


class TurnLock:
    """The one writer's turn of a process (both backends): a transaction waits for the one
    before it to end. Waiting foreground transactions (people's updates) all go before any
    waiting background one (`background`), and the sender's before the scheduler's (`Turn`),
    first come first served within each; a background
    transaction that holds the turn finishes first. At Friday 16:00 a thousand reminder jobs
    each begin a transaction at once: behind one FIFO lock a member's /help waited for all of
    them (2.9–9.6 s measured), behind this one it waits for at most the one running.

    The turn is handed straight to the next waiter when released (none can slip in between),
    so that `held` with nobody waiting means nothing else is queued."""

    def __init__(self) -> None:
        self._held = False
        # Waiters by class (`Turn`), people's first.
        self._waiting: tuple[deque[asyncio.Future[None]], ...] = tuple(deque() for _ in Turn)
        self.background_turns = 0  # background turns taken so far (for tests and benches)

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        await self._acquire()
        try:
            yield
        finally:
            self._release()

    def waiting(self) -> tuple[int, int]:
        """How many foreground and background transactions wait for their turn."""
        return len(self._waiting[Turn.PEOPLE]), sum(map(len, self._waiting[Turn.SENDING:]))

    async def _acquire(self) -> None:
        turn = _TURN.get()
        if not self._held:
            self._held = True
        else:
            waiter = asyncio.get_running_loop().create_future()
            queue = self._waiting[turn]
            queue.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._release()  # handed the turn just as it was cancelled: pass it on
                else:
                    queue.remove(waiter)
                raise
        self.background_turns += turn is not Turn.PEOPLE

    def _release(self) -> None:
        for queue in self._waiting:
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    return
        self._held = False


class Tx(ABC):
    """The open transaction a storage function works in."""

    dialect: Dialect

    def __init__(self) -> None:
        self.written: set[str] = set()  # tables this transaction changed (see Database.version)

    def _wrote(self, sql: str) -> None:
        match = WRITTEN_TABLE.match(sql)
        if match:
            self.written.add(match.group(1).lower())

    async def one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.all(sql, params)
        return rows[0] if rows else None

    @abstractmethod
    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        """Rows of a query (or of a write with RETURNING)."""

    @abstractmethod
    async def run(self, sql: str, params: Params = ()) -> int:
        """Executes a write; returns the new row id for an INSERT, else the rows changed."""

    @abstractmethod
    def batches(self, sql: str, params: Params = (),
                size: int = 5_000) -> AsyncIterator[list[Row]]:
        """The rows of a query a batch at a time: a big result (a province's year of reports)
        is never all in memory as rows."""

    @abstractmethod
    async def run_many(self, sql: str, rows: Iterable[Params]) -> None: ...


class Database(ABC):
    """Hands out transactions, one at a time per process for writing (see each backend), people's
    before background work's (`turns`)."""

    def __init__(self) -> None:
        self._versions: Counter[str] = Counter()
        self.turns = TurnLock()

    @classmethod
    async def open(cls, location: Path | str, durable: bool = True) -> Database:
        """Opens and migrates the database at `location`. `durable=False` (tests only) skips
        waiting for the disk at each commit: a test's database need not survive a power cut."""
        # Imported here: each backend's module builds on this one.
        if is_postgres_url(location):
            from storage.postgres import PostgresDatabase
            return await PostgresDatabase.connect(str(location), durable)
        from storage.sqlite import SqliteDatabase
        return await SqliteDatabase.open(location, durable)

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        """One user action's transaction: committed when the block ends, rolled back if it
        raises."""

    @abstractmethod
    def reading(self) -> AbstractAsyncContextManager[Tx]:
        """A read-only transaction on a connection of its own, for a long read (a province's
        export): it sees the database as it was when it began, and the bot's writes go on
        meanwhile, never waiting for it."""

    def _committed(self, tx: Tx) -> None:
        self._versions.update(tx.written)

    def version(self, *tables: str) -> int:
        """Grows whenever a transaction of this process that changed one of `tables` commits
        (writes from other processes are not seen): something derived from those tables and
        remembered at one version is still right while the version stays the same."""
        return sum(self._versions[table] for table in tables)

    @abstractmethod
    async def schema_version(self) -> int: ...

    @abstractmethod
    async def close(self) -> None: ...


def placeholders(values: Sized) -> str:
    """"?, ?, ?" for an IN (...) list of these values."""
    return ", ".join("?" * len(values))
