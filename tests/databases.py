"""A test's database read from outside the bot, as it left it, on either backend: a SQLite file
or a PostgreSQL URL (tests.harness.BACKEND.location gives the test's). No migration, no pool:
a plain connection per call, so a test may read while the bot it checks is stopped, killed or
running in another process."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg

from storage.db import is_postgres_url
from storage.postgres import postgres_sql, rows_by_name


def rows(location: Path | str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The rows of `sql`, written as storage/ writes it (`?` placeholders); a write is
    committed (a test changing what a stopped bot left)."""
    return [tuple(row) for row in fetched(location, sql, params)]


def named_rows(location: Path | str, sql: str,
               params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """`rows`, each by column name."""
    return [dict(row) for row in fetched(location, sql, params)]


def fetched(location: Path | str, sql: str, params: tuple[Any, ...]) -> list[Any]:
    """Rows that are sequences and mappings both (sqlite3.Row, the backend's PgRow)."""
    if is_postgres_url(location):
        with psycopg.connect(str(location), row_factory=rows_by_name) as conn:
            cursor = conn.execute(postgres_sql(sql).encode(), params)
            return list(cursor.fetchall()) if cursor.description else []
    with closing(sqlite3.connect(location)) as conn, conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()


def value(location: Path | str, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """The one value `sql` reads."""
    [(found,)] = rows(location, sql, params)
    return found


def integrity(location: Path | str) -> list[str]:
    """["ok"], or what is damaged: SQLite's integrity_check; on PostgreSQL, amcheck's checks of
    every table's pages (verify_heapam) and of every index against its table (bt_index_check
    with heapallindexed: each row is in each index)."""
    if not is_postgres_url(location):
        return [str(row[0]) for row in rows(location, "PRAGMA integrity_check")]
    with psycopg.connect(str(location), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
        tables = conn.execute(
            "SELECT c.oid, c.relname, i.indexrelid FROM pg_class c"
            " LEFT JOIN pg_index i ON i.indrelid = c.oid"
            " WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace").fetchall()
        damaged = []
        for table, name in {(table, name) for table, name, _ in tables}:
            damaged += [f"{name}: {row[3]}" for row in conn.execute(
                "SELECT * FROM verify_heapam(%s)", (table,)).fetchall()]
        for _, _, index in tables:
            if index is not None:
                conn.execute("SELECT bt_index_check(%s, true)", (index,))
    return damaged or ["ok"]
