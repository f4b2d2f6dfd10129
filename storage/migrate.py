"""Numbered migrations, one folder per dialect: `migrations/sqlite/NNNN_name.sql`, tracked in
PRAGMA user_version, and `migrations/postgresql/NNNN_name.sql`, tracked in the table
schema_version. A number means the same schema in both (PostgreSQL's first script is 0010, the
whole schema of that version at once).

SQLite: each script runs in its own transaction with foreign keys on. A script that rebuilds a table
other tables refer to (SQLite's way to change a column's constraints,
https://www.sqlite.org/lang_altertable.html#otheralter) starts with the line
`-- migrate: foreign_keys off`: it then runs with foreign keys off, and every reference is
checked before it commits.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Awaitable, Callable, Iterable
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

import aiosqlite

# psycopg is imported when the database is PostgreSQL: 9 MB of a SQLite bot's memory.
if TYPE_CHECKING:
    import psycopg

FOREIGN_KEYS_OFF = "-- migrate: foreign_keys off"

Script = tuple[int, str]
Dialect = Literal["sqlite", "postgresql"]
# pg_advisory_xact_lock's key: two processes starting together on one PostgreSQL database
# migrate one after the other (the second then finds nothing left to do).
MIGRATION_LOCK = 0x1A_70A0


class MigrationError(Exception):
    """A migration would have left the database inconsistent; nothing of it was applied."""


def migration_scripts(dialect: Dialect = "sqlite") -> list[Script]:
    folder = resources.files("storage") / "migrations" / dialect
    scripts = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            scripts.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(scripts)


def needs_foreign_keys_off(script: str) -> bool:
    lines = script.lstrip().splitlines()
    return bool(lines) and lines[0].strip().lower() == FOREIGN_KEYS_OFF


async def _pragma(conn: aiosqlite.Connection, name: str) -> int:
    async with conn.execute(f"PRAGMA {name}") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def schema_version(conn: aiosqlite.Connection) -> int:
    return await _pragma(conn, "user_version")


async def apply_migrations(conn: aiosqlite.Connection,
                           scripts: Iterable[Script] | None = None) -> int:
    """Brings the schema up to date, each migration in its own transaction; returns the version.
    `scripts` (all of them by default) lets a test stop at an older version."""
    current = await schema_version(conn)
    for number, script in sorted(migration_scripts() if scripts is None else scripts):
        if number <= current:
            continue
        if needs_foreign_keys_off(script):
            await _apply_without_foreign_keys(conn, number, script)
        else:
            await _apply(conn, number, script)
        current = number
    return current


def statements(script: str) -> list[str]:
    """A script's statements one by one (sqlite3 runs a whole script only outside a
    transaction: it commits the open one first)."""
    found, start = [], 0
    for end, char in enumerate(script):
        if char == ";" and sqlite3.complete_statement(script[start:end + 1]):
            found.append(script[start:end + 1])
            start = end + 1
    if re.sub(r"--[^\n]*", "", script[start:]).strip():
        found.append(script[start:])  # the last statement, without its semicolon
    return found


async def _apply(conn: aiosqlite.Connection, number: int, script: str,
                 check: Callable[[], Awaitable[None]] | None = None) -> None:
    """One migration in a transaction that takes the write lock before it reads the version:
    of two processes opening a new database at once, the second waits for the first's
    migration and then skips it, rather than running it again over the result (a table
    rebuild would run twice). `check` runs last, before the commit."""
    await conn.execute("BEGIN IMMEDIATE")
    try:
        if await schema_version(conn) < number:
            for statement in statements(script):
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {number}")
            if check is not None:
                await check()
        await conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            await conn.execute("ROLLBACK")
        raise


async def _apply_without_foreign_keys(conn: aiosqlite.Connection, number: int,
                                      script: str) -> None:
    """The 12 steps of SQLite's table rebuild: foreign keys off outside the transaction (the
    pragma is a no-op inside one), the script, a foreign key check, commit, foreign keys back."""
    async def references_hold() -> None:
        async with conn.execute("PRAGMA foreign_key_check") as cursor:
            broken = [tuple(row) for row in await cursor.fetchall()]
        if broken:
            raise MigrationError(f"migration {number} leaves broken references: {broken[:5]}")

    enforced = await _pragma(conn, "foreign_keys")
    await conn.execute("PRAGMA foreign_keys = OFF")
    try:
        await _apply(conn, number, script, references_hold)
    finally:
        if enforced:
            await conn.execute("PRAGMA foreign_keys = ON")


async def postgres_schema_version(conn: psycopg.AsyncConnection[Any]) -> int:
    """0 for an empty database."""
    cursor = await conn.execute("SELECT to_regclass('schema_version') IS NOT NULL")
    exists = await cursor.fetchone()
    if not exists or not exists[0]:
        return 0
    cursor = await conn.execute("SELECT max(version) FROM schema_version")
    row = await cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else 0


async def apply_postgres_migrations(conn: psycopg.AsyncConnection[Any],
                                    scripts: Iterable[Script] | None = None) -> int:
    """PostgreSQL's migrations on a connection in autocommit mode, each in its own transaction
    (PostgreSQL's DDL is transactional: a failed script leaves nothing behind)."""
    for number, script in sorted(migration_scripts("postgresql") if scripts is None else scripts):
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            if number <= await postgres_schema_version(conn):
                continue
            await conn.execute(script.encode())  # bytes: a script's `%` is not a placeholder
            await conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (number,))
    return await postgres_schema_version(conn)
