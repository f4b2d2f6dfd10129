"""One schema, two dialects: a fresh SQLite database and a fresh PostgreSQL database, each
migrated as `Database.open` migrates it, hold the same tables, columns (same order, types that
correspond, nullability, defaults), primary keys, unique constraints, foreign keys, CHECK
constraints and indexes (partial ones with the same condition).

The two catalogues write a condition differently (`role IN ('member', …)` against
`(role = ANY (ARRAY['member'::text, …]))`), so a CHECK or an index's WHERE is compared by what
it decides, not by its words: each dialect evaluates its own expression for every combination
of the values either expression names (and each number's neighbours, NULL, and a value neither
names), and the answers must agree."""

from __future__ import annotations

import asyncio
import itertools
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import psycopg
import pytest

from storage import db as storage_db
from storage.migrate import migration_scripts

# SQLite's declared type → PostgreSQL's, text always compared byte by byte (COLLATE "C").
TYPES = {"INTEGER": "bigint", "TEXT": 'text COLLATE "C"', "REAL": "double precision",
         "BLOB": "bytea"}
ON_DELETE = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL",
             "d": "SET DEFAULT"}
IGNORED = {"sqlite_sequence", "schema_version"}  # each dialect's own bookkeeping
# The first PostgreSQL migration holds the whole schema of this SQLite version.
FIRST_POSTGRES = 10
_STRING = re.compile(r"'((?:[^']|'')*)'")
_NUMBER = re.compile(r"(?<![\w'])-?\d+(?![\w'])")


@dataclass
class Table:
    # (name, type, not null, default, made up by the database when not given)
    columns: list[tuple[str, str, bool, str | None, bool]] = field(default_factory=list)
    primary_key: tuple[str, ...] = ()
    unique: set[tuple[str, ...]] = field(default_factory=set)
    # (columns, referenced table, referenced columns, ON DELETE, ON UPDATE)
    foreign_keys: set[tuple[tuple[str, ...], str, tuple[str, ...], str, str]] = field(
        default_factory=set)
    checks: dict[tuple[str, ...], list[str]] = field(default_factory=dict)  # by columns named
    # name → (columns, unique, WHERE of a partial index or None)
    indexes: dict[str, tuple[tuple[str, ...], bool, str | None]] = field(default_factory=dict)

    def column_types(self) -> dict[str, str]:
        return {name: kind for name, kind, *_ in self.columns}

    def structure(self) -> dict[str, Any]:
        """Everything but the expressions, which are compared by evaluating them."""
        return {"columns": self.columns, "primary key": self.primary_key,
                "unique": self.unique, "foreign keys": self.foreign_keys,
                "checks on": sorted(self.checks),
                "indexes": {name: (columns, unique, where is not None)
                            for name, (columns, unique, where) in self.indexes.items()}}


def _default(text: str | None) -> str | None:
    """A default as written, without PostgreSQL's casts (`'vi'::text` is SQLite's `'vi'`)."""
    if text is None:
        return None
    return re.sub(r"::[a-z ]+$", "", text.strip()).strip("()")


def _without_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


def _parenthesised(sql: str, start: int) -> str:
    """The text inside the parentheses that open at `start`."""
    depth = 0
    for i in range(start, len(sql)):
        depth += {"(": 1, ")": -1}.get(sql[i], 0)
        if depth == 0:
            return sql[start + 1:i]
    raise ValueError(f"unbalanced parentheses in {sql!r}")


def _named(expression: str, columns: list[str]) -> tuple[str, ...]:
    """The columns an expression names (outside its quoted strings and PostgreSQL's casts),
    in the table's order."""
    words = set(re.findall(r"\w+", re.sub(r"::\w+", "", _STRING.sub("", expression))))
    return tuple(column for column in columns if column in words)


# --- SQLite ----------------------------------------------------------------------------------

def sqlite_schema(path: Path) -> dict[str, Table]:
    conn = sqlite3.connect(path)
    try:
        return {name: _sqlite_table(conn, name, sql) for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name")
            if name not in IGNORED}
    finally:
        conn.close()


def _sqlite_table(conn: sqlite3.Connection, name: str, sql: str) -> Table:
    table = Table()
    info = conn.execute(f"PRAGMA table_info({name})").fetchall()
    keys = [column for *_, column in sorted((pk, column) for _, column, _, _, _, pk in info
                                           if pk)]
    table.primary_key = tuple(keys)
    rowid = len(keys) == 1 and keys[0] == "id" and _type_of(info, "id") == "INTEGER"
    for _, column, kind, not_null, default, _ in info:
        # A primary key is never NULL in PostgreSQL; SQLite lets a non-INTEGER one be, an old
        # quirk of its own that no statement here relies on.
        table.columns.append((column, TYPES.get(kind, kind), bool(not_null) or column in keys,
                              _default(default), rowid and column == "id"))
    for _, index, unique, origin, partial in conn.execute(f"PRAGMA index_list({name})"):
        columns = tuple(row[2] for row in conn.execute(f"PRAGMA index_info({index})"))
        if origin == "u":
            table.unique.add(columns)
        elif origin == "c":
            (index_sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?",
                                        (index,)).fetchone()
            where = re.search(r"\bWHERE\b(.*)$", _without_comments(index_sql), re.S | re.I)
            table.indexes[index] = (columns, bool(unique),
                                    where.group(1).strip().rstrip(";") if partial and where
                                    else None)
    by_id: dict[int, list[tuple]] = {}
    for row in conn.execute(f"PRAGMA foreign_key_list({name})"):
        by_id.setdefault(row[0], []).append(row)
    for rows in by_id.values():
        rows.sort(key=lambda row: row[1])
        table.foreign_keys.add((tuple(row[3] for row in rows), rows[0][2],
                                tuple(row[4] for row in rows), rows[0][6], rows[0][5]))
    body = _without_comments(sql)
    names = [column for _, column, *_ in info]
    for check in re.finditer(r"\bCHECK\s*\(", body, re.I):
        expression = _parenthesised(body, check.end() - 1)
        table.checks.setdefault(_named(expression, names), []).append(expression)
    return table


def _type_of(info: list[tuple], column: str) -> str:
    return next(kind for _, name, kind, *_ in info if name == column)


def sqlite_decides(path: Path, expressions: list[str], row: dict[str, Any]) -> list[Any]:
    conn = sqlite3.connect(path)
    try:
        values = ", ".join(f"? AS {column}" for column in row)
        return [None if answer is None else bool(answer) for (answer,) in (
            conn.execute(f"SELECT {expression} FROM (SELECT {values})",
                         tuple(row.values())).fetchone() for expression in expressions)]
    finally:
        conn.close()


# --- PostgreSQL ------------------------------------------------------------------------------

COLUMNS = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod)
       || CASE WHEN c.collname = 'C' THEN ' COLLATE "C"' ELSE '' END,
       a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity <> ''
FROM pg_attribute a
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_collation c ON c.oid = a.attcollation
WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""
# Columns of a key or an index, in the key's order.
KEY_COLUMNS = """
SELECT array_agg(a.attname ORDER BY k.ord)
FROM unnest(%s::smallint[]) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = %s::regclass AND a.attnum = k.attnum
"""
CONSTRAINTS = """
SELECT contype, conkey, confrelid::regclass::text, confkey, confdeltype, confupdtype,
       confrelid, pg_get_constraintdef(oid), conindid
FROM pg_constraint WHERE conrelid = %s::regclass ORDER BY conname
"""
INDEXES = """
SELECT c.relname, i.indkey::smallint[], i.indisunique, pg_get_expr(i.indpred, i.indrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = %s::regclass AND NOT EXISTS (
    SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid)
"""


def postgres_schema(url: str) -> dict[str, Table]:
    with psycopg.connect(url) as conn:
        names = [name for (name,) in conn.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r'"
            " AND relnamespace = current_schema()::regnamespace ORDER BY relname")
            if name not in IGNORED]
        return {name: _postgres_table(conn, name) for name in names}


def _key(conn: psycopg.Connection, table: str, attnums: list[int]) -> tuple[str, ...]:
    row = conn.execute(KEY_COLUMNS, (attnums, table)).fetchone()
    return tuple(row[0]) if row and row[0] else ()


def _postgres_table(conn: psycopg.Connection, name: str) -> Table:
    table = Table(columns=[(column, kind, not_null, _default(default), identity)
                           for column, kind, not_null, default, identity
                           in conn.execute(COLUMNS, (name,))])
    names = [column for column, *_ in table.columns]
    for kind, keys, target, target_keys, on_delete, on_update, _, definition, _ in (
            conn.execute(CONSTRAINTS, (name,)).fetchall()):
        columns = _key(conn, name, keys)
        if kind == "p":
            table.primary_key = columns
        elif kind == "u":
            table.unique.add(columns)
        elif kind == "f":
            table.foreign_keys.add((columns, target, _key(conn, target, target_keys),
                                    ON_DELETE[on_delete], ON_DELETE[on_update]))
        elif kind == "c":
            expression = re.sub(r"^CHECK\s*", "", definition)
            table.checks.setdefault(_named(expression, names), []).append(expression)
    for index, keys, unique, where in conn.execute(INDEXES, (name,)).fetchall():
        table.indexes[index] = (_key(conn, name, keys), unique, where)
    return table


def postgres_decides(url: str, expressions: list[str], row: dict[str, Any],
                     types: dict[str, str]) -> list[Any]:
    values = ", ".join(f"%s::{types[column].split()[0]} AS {column}" for column in row)
    with psycopg.connect(url) as conn:
        return [conn.execute(f"SELECT {expression.replace('%', '%%')} FROM (SELECT {values}) t",
                             tuple(row.values())).fetchone()[0]  # type: ignore[index]
                for expression in expressions]


# --- comparing what conditions decide ----------------------------------------------------------

def candidates(kind: str, expressions: list[str]) -> list[Any]:
    """Values worth trying in a column of this type: those the expressions name, each number's
    neighbours, NULL, and one nobody names."""
    text = " ".join(expressions)
    if kind.startswith("text"):
        return [None, "not named anywhere", *sorted({s.replace("''", "'")
                                                     for s in _STRING.findall(text)})]
    numbers = {int(n) for n in _NUMBER.findall(_STRING.sub("", text))}
    return [None, -987_654, *sorted({m for n in numbers for m in (n - 1, n, n + 1)})]


def rows_to_try(columns: tuple[str, ...], types: dict[str, str],
                expressions: list[str]) -> list[dict[str, Any]]:
    choices = [candidates(types[column], expressions) for column in columns]
    return [dict(zip(columns, values, strict=True)) for values in itertools.product(*choices)]


def disagreements(sqlite_path: Path, url: str, columns: tuple[str, ...],
                  ours: list[str], theirs: list[str], types: dict[str, str]) -> list[str]:
    """The rows on which SQLite's expressions (all of them together) and PostgreSQL's decide
    differently: a CHECK or a WHERE holds for a row when all its parts are true."""
    found = []
    for row in rows_to_try(columns, types, ours + theirs):
        lite = sqlite_decides(sqlite_path, ours, row)
        post = postgres_decides(url, theirs, row, types)
        if _all_hold(lite) != _all_hold(post):
            found.append(f"{row}: SQLite {ours} → {lite}, PostgreSQL {theirs} → {post}")
    return found


def _all_hold(answers: list[Any]) -> tuple[bool, bool]:
    """(no part false: a CHECK passes; every part true: a partial index holds the row)."""
    return all(answer is not False for answer in answers), all(answers)


@pytest.fixture
async def both(tmp_path: Path, postgres_url: str) -> tuple[Path, str]:
    """A fresh SQLite file and a fresh PostgreSQL database, each migrated by Database.open."""
    path = tmp_path / "lantoa.sqlite3"
    for location in (path, postgres_url):
        await (await storage_db.Database.open(location, durable=False)).close()
    return path, postgres_url


async def test_both_dialects_make_the_same_tables_keys_and_indexes(
        both: tuple[Path, str]) -> None:
    path, url = both
    lite, post = sqlite_schema(path), postgres_schema(url)
    assert sorted(lite) == sorted(post)
    assert len(lite) > 20
    for name in lite:
        assert lite[name].structure() == post[name].structure(), name


async def test_both_dialects_check_the_same_values(both: tuple[Path, str]) -> None:
    path, url = both
    lite, post = sqlite_schema(path), postgres_schema(url)
    checked = 0
    for name, table in lite.items():
        assert sorted(table.checks) == sorted(post[name].checks), name
        for columns, expressions in table.checks.items():
            assert not disagreements(path, url, columns, expressions, post[name].checks[columns],
                                     table.column_types()), f"{name}: CHECK on {columns}"
            checked += 1
    assert checked >= 15  # every role, state, status, kind and range rule of the schema


async def test_partial_indexes_hold_the_same_rows(both: tuple[Path, str]) -> None:
    path, url = both
    lite, post = sqlite_schema(path), postgres_schema(url)
    partial = 0
    for name, table in lite.items():
        for index, (_, _, where) in table.indexes.items():
            if where is None:
                continue
            theirs = post[name].indexes[index][2]
            assert theirs is not None, f"{index} is partial only on SQLite"
            columns = _named(where + " " + theirs, [column for column, *_ in table.columns])
            assert not disagreements(path, url, columns, [where], [theirs],
                                     table.column_types()), index
            partial += 1
    assert partial >= 5


def test_every_sqlite_migration_from_the_first_postgres_one_has_a_postgres_twin() -> None:
    sqlite_numbers = [number for number, _ in migration_scripts("sqlite")]
    postgres_numbers = [number for number, _ in migration_scripts("postgresql")]
    assert postgres_numbers[0] == FIRST_POSTGRES
    assert postgres_numbers == [n for n in sqlite_numbers if n >= FIRST_POSTGRES]


@pytest.fixture(params=["sqlite", "postgresql"])
def empty(request: pytest.FixtureRequest,
          tmp_path: Path) -> tuple[Literal["sqlite", "postgresql"], Path | str]:
    """(dialect, location) of an empty database: not a file yet, or an empty PostgreSQL one."""
    if request.param == "postgresql":
        return request.param, request.getfixturevalue("postgres_url")
    return request.param, tmp_path / "lantoa.sqlite3"


async def test_two_processes_starting_at_once_migrate_once(
        empty: tuple[Literal["sqlite", "postgresql"], Path | str]) -> None:
    """Two bots started together on one empty database: one migrates, the other waits and
    finds nothing left to do; both end at the latest version."""
    dialect, location = empty
    opened = await asyncio.gather(*(storage_db.Database.open(location, durable=False)
                                    for _ in range(2)))
    latest = migration_scripts(dialect)[-1][0]
    try:
        assert [await db.schema_version() for db in opened] == [latest, latest]
        if dialect == "postgresql":
            with psycopg.connect(str(location)) as conn:
                applied = [n for (n,) in conn.execute(
                    "SELECT version FROM schema_version ORDER BY version")]
            assert applied == [number for number, _ in migration_scripts("postgresql")]
    finally:
        for db in opened:
            await db.close()
