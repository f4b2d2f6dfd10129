"""Upgrading a SQLite database that is in use (storage/migrations/sqlite/): every row and
reference kept, the schema the same as a new database's, and a migration that would break a
reference changes nothing. PostgreSQL's schema starts at version 10 and is compared with
SQLite's in tests/test_schema_dialects.py, so these run on SQLite only."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from storage.migrate import (
    FOREIGN_KEYS_OFF,
    MigrationError,
    apply_migrations,
    migration_scripts,
    needs_foreign_keys_off,
    schema_version,
    statements,
)
from storage.sqlite import SqliteDatabase

NOW = "2026-11-27T02:00:00+00:00"


async def _connect(path: Path) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    await conn.execute("PRAGMA foreign_keys = ON")
    return conn


async def _rows(conn: aiosqlite.Connection, sql: str) -> list[tuple]:
    async with conn.execute(sql) as cursor:
        return [tuple(row) for row in await cursor.fetchall()]


def _normalised(sql: str | None) -> str | None:
    return None if sql is None else re.sub(r"\s+", " ", sql).strip()


async def _schema(conn: aiosqlite.Connection) -> list[tuple]:
    rows = await _rows(conn, "SELECT type, name, tbl_name, sql FROM sqlite_master"
                             " ORDER BY type, name")
    return [(kind, name, table, _normalised(sql)) for kind, name, table, sql in rows]


# Rows each version brought, inserted right after its migration, so that a database "created
# at version k" holds what the bot could have written up to k. A version without an entry (an
# index-only migration, say) adds no rows.
ROWS_OF_VERSION: dict[int, str] = {
    1: f"""
        INSERT INTO units (id, name, kind, created_at) VALUES (1, 'Chi bộ Thôn Bản Chặng',
            'chi bộ', '{NOW}');
        INSERT INTO people (id, telegram_user_id, full_name, created_at)
            VALUES (7, 1001, 'Hoàng Thị Mai', '{NOW}'), (9, 1002, 'Nông Văn Bình', '{NOW}');
        INSERT INTO invites (id, code, unit_id, role, max_uses, expires_at, created_by,
            created_at) VALUES (3, 'k7Qm2xPa', 1, 'member', 5, '{NOW}', 9, '{NOW}');
        INSERT INTO memberships (person_id, unit_id, role, invite_id, joined_at)
            VALUES (7, 1, 'member', 3, '{NOW}'), (9, 1, 'leader', NULL, '{NOW}');
        INSERT INTO reports (id, person_id, unit_id, deed_date, field, description,
            entered_by, source_draft_id, received_at, updated_at)
            VALUES (5, 7, 1, '2026-11-21', 'Xã hội', 'Sửa mái nhà cho hộ bà Hoa', 7, 1,
            '{NOW}', '{NOW}');
        INSERT INTO report_participants (report_id, person_id) VALUES (5, 9);
        INSERT INTO report_reviews (report_id, person_id, action, at)
            VALUES (5, 9, 'acknowledged', '{NOW}');
    """,
    2: f"""
        INSERT INTO commitments (id, person_id, unit_id, year, pledge, actions, created_at,
            updated_at) VALUES (1, 7, 1, 2026, 'Tu dưỡng, rèn luyện theo gương Bác',
            'Giúp hộ nghèo', '{NOW}', '{NOW}');
    """,
    3: f"""
        INSERT INTO review_passes (id, person_id, started_at) VALUES (1, 9, '{NOW}');
        INSERT INTO review_seen (pass_id, report_id, content_hash, seen_at)
            VALUES (1, 5, 'c0ffee', '{NOW}');
    """,
    4: f"""
        INSERT INTO people (id, telegram_user_id, full_name, created_at)
            VALUES (11, NULL, 'Nông Văn Tư', '{NOW}');
    """,
    5: f"""
        INSERT INTO memberships (id, person_id, unit_id, role, status, joined_at)
            VALUES (30, 11, 1, 'member', 'active', '{NOW}');
        INSERT INTO join_decisions (membership_id, decision, decided_by, decider_name,
            decided_at) VALUES (30, 'approved', 9, 'Nông Văn Bình', '{NOW}');
    """,
    6: "INSERT INTO command_menus (telegram_user_id, signature) VALUES (1002, 'leader:vi');",
    7: f"""
        INSERT INTO schedules (id, unit_id, kind, weekday, at, updated_at)
            VALUES (1, 1, 'digest', 0, '07:30', '{NOW}');
        INSERT INTO announcements (id, unit_id, author_id, text, created_at)
            VALUES (1, 1, 9, 'Họp chi bộ tối thứ 6', '{NOW}');
        INSERT INTO deliveries (kind, unit_id, chat_id, period, person_id, status, text,
            photo, decided_at) VALUES ('announcement', 1, 1001, 'a1', 7, 'sent',
            'Họp chi bộ tối thứ 6', x'89504e47', '{NOW}');
    """,
    10: f"""
        INSERT INTO people (id, telegram_user_id, full_name, phone, telegram_username,
            created_at) VALUES (12, NULL, 'Lò Văn Pá', '0912345678', 'lovanpa', '{NOW}');
        INSERT INTO memberships (id, person_id, unit_id, role, joined_at)
            VALUES (31, 12, 1, 'member', '{NOW}');
        INSERT INTO invites (id, code, unit_id, role, max_uses, expires_at, created_at,
            person_id) VALUES (4, 'Pa7Kx2mQzR1t', 1, 'member', 1, '{NOW}', '{NOW}', 12);
        INSERT INTO member_imports (id, telegram_user_id, status, filename, rows, created_at,
            updated_at) VALUES (1, 1002, 'imported', 'ds.csv', '[]', '{NOW}', '{NOW}');
    """,
}


async def _database_at(path: Path, version: int) -> aiosqlite.Connection:
    """A database that lived through versions 1..`version`, with the rows of each."""
    conn = await _connect(path)
    for number, script in migration_scripts():
        if number > version:
            break
        assert await apply_migrations(conn, [(number, script)]) == number
        if number in ROWS_OF_VERSION:
            await conn.executescript(f"BEGIN;\n{ROWS_OF_VERSION[number]}\nCOMMIT;")
    return conn


async def _version_one_with_data(path: Path) -> aiosqlite.Connection:
    """A database as the first release left it, with a cell, two members and a report."""
    return await _database_at(path, 1)


async def _all_rows(conn: aiosqlite.Connection) -> dict[str, list[tuple]]:
    tables = await _rows(conn, "SELECT name FROM sqlite_master WHERE type = 'table'"
                               " AND name NOT LIKE 'sqlite_%' ORDER BY name")
    return {name: await _rows(conn, f"SELECT * FROM {name} ORDER BY rowid")
            for (name,) in tables}


EARLIER_VERSIONS = [number for number, _ in migration_scripts()][:-1]


@pytest.mark.parametrize("version", EARLIER_VERSIONS)
async def test_a_database_from_any_earlier_version_opens_as_a_fresh_one(
    tmp_path: Path, version: int
) -> None:
    """The bot's normal opening path (Database.open) brings a database created at `version`
    to the same schema as a new database's, keeping every row (columns added later may only
    follow the old ones)."""
    old = await _database_at(tmp_path / "old.sqlite3", version)
    try:
        before = await _all_rows(old)
    finally:
        await old.close()
    assert any(before.values()), "no rows to carry over"
    for path in (tmp_path / "old.sqlite3", tmp_path / "new.sqlite3"):
        await (await SqliteDatabase.open(path)).close()
    migrated = await _connect(tmp_path / "old.sqlite3")
    fresh = await _connect(tmp_path / "new.sqlite3")
    try:
        assert await _schema(migrated) == await _schema(fresh)
        assert await schema_version(migrated) == migration_scripts()[-1][0]
        after = await _all_rows(migrated)
        for table, rows in before.items():
            width = len(rows[0]) if rows else 0
            assert [row[:width] for row in after[table]] == rows, table
        assert await _rows(migrated, "PRAGMA integrity_check") == [("ok",)]
        assert await _rows(migrated, "PRAGMA foreign_key_check") == []
    finally:
        await migrated.close()
        await fresh.close()


async def test_an_old_database_keeps_its_rows_and_gets_the_new_schema(tmp_path: Path) -> None:
    conn = await _version_one_with_data(tmp_path / "old.sqlite3")
    tables = ("people", "memberships", "invites", "reports", "report_participants",
              "report_reviews", "units")
    before = {table: await _rows(conn, f"SELECT * FROM {table} ORDER BY rowid")
              for table in tables}
    try:
        latest = await apply_migrations(conn)
        assert latest == max(number for number, _ in migration_scripts())
        assert await schema_version(conn) == latest
        for table in tables:
            # Later migrations may add columns: the old ones keep their values.
            after = await _rows(conn, f"SELECT * FROM {table} ORDER BY rowid")
            assert [row[:len(before[table][0])] for row in after] == before[table], table
        assert await _rows(conn, "PRAGMA foreign_key_check") == []
        assert await _rows(conn, "PRAGMA integrity_check") == [("ok",)]
        assert await _rows(conn, "PRAGMA foreign_keys") == [(1,)]
        migrated = await _schema(conn)
        # Foreign keys still hold: a report for nobody is refused.
        with pytest.raises(sqlite3.IntegrityError):
            await conn.execute("INSERT INTO report_participants VALUES (5, 404)")
    finally:
        await conn.close()
    fresh = await _connect(tmp_path / "new.sqlite3")
    try:
        await apply_migrations(fresh)
        assert migrated == await _schema(fresh)
    finally:
        await fresh.close()


async def test_people_without_telegram_are_allowed_and_ids_stay_unique(tmp_path: Path) -> None:
    conn = await _version_one_with_data(tmp_path / "old.sqlite3")
    try:
        await apply_migrations(conn)
        await conn.execute("INSERT INTO people (telegram_user_id, full_name, created_at)"
                           f" VALUES (NULL, 'Nông Văn Tư', '{NOW}'), (NULL, 'Lý Thị Hạnh',"
                           f" '{NOW}')")
        assert await _rows(conn, "SELECT COUNT(*) FROM people"
                                 " WHERE telegram_user_id IS NULL") == [(2,)]
        with pytest.raises(sqlite3.IntegrityError):
            await conn.execute("INSERT INTO people (telegram_user_id, full_name, created_at)"
                               f" VALUES (1001, 'Mai again', '{NOW}')")
    finally:
        await conn.close()


async def test_a_rebuild_that_breaks_a_reference_changes_nothing(tmp_path: Path) -> None:
    conn = await _version_one_with_data(tmp_path / "old.sqlite3")
    broken = (2, f"{FOREIGN_KEYS_OFF}\nDELETE FROM people WHERE id = 9;\n"
                 "CREATE TABLE leftovers (id INTEGER);")
    try:
        with pytest.raises(MigrationError, match="migration 2"):
            await apply_migrations(conn, [broken])
        assert await schema_version(conn) == 1
        assert await _rows(conn, "SELECT id FROM people ORDER BY id") == [(7,), (9,)]
        assert await _rows(conn, "SELECT name FROM sqlite_master"
                                 " WHERE name = 'leftovers'") == []
        assert await _rows(conn, "PRAGMA foreign_keys") == [(1,)]
        assert not conn.in_transaction
    finally:
        await conn.close()


def test_only_a_first_line_marker_turns_foreign_keys_off() -> None:
    assert needs_foreign_keys_off(f"{FOREIGN_KEYS_OFF}\nCREATE TABLE x (id);")
    assert needs_foreign_keys_off(f"\n  {FOREIGN_KEYS_OFF.upper()}\nSELECT 1;")
    assert not needs_foreign_keys_off(f"-- people\n{FOREIGN_KEYS_OFF}\nSELECT 1;")
    assert not needs_foreign_keys_off("")
    rebuild = dict(migration_scripts())[4]
    assert needs_foreign_keys_off(rebuild)


def test_a_script_is_run_statement_by_statement() -> None:
    """Each migration runs inside the transaction that read the version (storage/migrate.py
    _apply), one statement at a time: a `;` in a string or a trigger's body does not split."""
    script = ("-- a comment; not a statement\nCREATE TABLE a (t TEXT DEFAULT ';');\n"
              "CREATE TRIGGER b AFTER INSERT ON a BEGIN DELETE FROM a; END;\nDROP TABLE c")
    assert [s.strip() for s in statements(script)] == [
        "-- a comment; not a statement\nCREATE TABLE a (t TEXT DEFAULT ';');",
        "CREATE TRIGGER b AFTER INSERT ON a BEGIN DELETE FROM a; END;", "DROP TABLE c"]
