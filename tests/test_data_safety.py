"""Backups taken while the bot writes (`lantoa backup`, storage/backup.py). Migrating a database
of every earlier schema version is in test_migrations.py
(test_a_database_from_any_earlier_version_opens_as_a_fresh_one)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiosqlite
import pytest

from bot.runtime.cli import main
from storage.backup import backup_database
from tests.harness import CATALOGUE, Harness, started

MEMBERS = range(2001, 2009)
FORM_REPORTS_EACH = 2
STORED_REPORTS = 120

# A report with everything that belongs to it, as one comparable value.
REPORT_ROWS = {
    "reports": "SELECT * FROM reports WHERE id = ?",
    "photos": "SELECT * FROM report_photos WHERE report_id = ? ORDER BY position",
    "participants": "SELECT * FROM report_participants WHERE report_id = ? ORDER BY person_id",
}


async def _rows(conn: aiosqlite.Connection, sql: str, params: tuple = ()) -> list[tuple]:
    async with conn.execute(sql, params) as cursor:
        return [tuple(row) for row in await cursor.fetchall()]


async def _reports(path: Path) -> dict[int, dict[str, list[tuple]]]:
    """Every report of the database at `path` with its photos and participants."""
    conn = await aiosqlite.connect(str(path))
    try:
        ids = [row[0] for row in await _rows(conn, "SELECT id FROM reports ORDER BY id")]
        return {report_id: {part: await _rows(conn, sql, (report_id,))
                            for part, sql in REPORT_ROWS.items()} for report_id in ids}
    finally:
        await conn.close()


async def _fill_forms(bot: Harness, user_id: int) -> None:
    """A member sends reports through the form, some with an album of photos."""
    for n in range(FORM_REPORTS_EACH):
        await bot.report(user_id, f"Giúp hộ nghèo sửa nhà, lần {n + 1} của {user_id}",
                         photos=(user_id + n) % 3)


async def _store_reports(bot: Harness, cell: int) -> None:
    """Reports with photos and co-participants written straight into the bot's database, in
    between the form traffic: many small transactions."""
    for n in range(STORED_REPORTS):
        author, partner = MEMBERS[n % len(MEMBERS)], MEMBERS[(n + 1) % len(MEMBERS)]
        await bot.stored_report(author, cell, words=f"Việc làm tốt số {n}", photos=n % 4,
                                together=(partner,), helped=n)
        await asyncio.sleep(0)


async def test_a_backup_taken_while_reports_pour_in_is_a_consistent_moment(
    tmp_path: Path,
) -> None:
    async with started(tmp_path) as bot:
        cell = await bot.unit("Chi bộ Thôn Bản Chặng")
        for user_id in MEMBERS:
            await bot.join(user_id, cell, f"Đảng viên {user_id}")
        writers = asyncio.gather(_store_reports(bot, cell),
                                 *(_fill_forms(bot, user_id) for user_id in MEMBERS))
        copies: list[Path] = []
        while not writers.done():
            copy = tmp_path / f"backup-{len(copies)}.sqlite3"
            await backup_database(bot.core.services.settings.database, copy)
            copies.append(copy)
        await writers
        source = await _reports(bot.core.services.settings.database)

    assert len(source) == STORED_REPORTS + len(MEMBERS) * FORM_REPORTS_EACH
    counts = []
    for copy in copies:
        conn = await aiosqlite.connect(str(copy))
        try:
            assert await _rows(conn, "PRAGMA integrity_check") == [("ok",)], copy
            assert await _rows(conn, "PRAGMA foreign_key_check") == [], copy
        finally:
            await conn.close()
        saved = await _reports(copy)
        # Reports are committed in id order: a moment of the database holds the first n of
        # them, each exactly as it ended up (nothing changes a report here once sent).
        assert list(saved) == list(source)[:len(saved)], copy
        assert saved == {report_id: source[report_id] for report_id in saved}, copy
        counts.append(len(saved))
    print(f"{len(copies)} backups, reports in each: {counts}")
    assert any(0 < n < len(source) for n in counts), "no backup was taken during the writes"


async def _backup_beside_the_running_bot(tmp_path: Path, copy: Path) -> int:
    async with started(tmp_path) as bot:
        cell = await bot.unit("Chi bộ Thôn Bản Chặng")
        await bot.join(2001, cell, "Mai")
        await bot.stored_report(2001, cell, photos=2)
        # The command line is another program: its copy is taken beside the running bot.
        return await asyncio.to_thread(main, ["backup", str(copy)])


def test_lantoa_backup_copies_and_refuses_what_it_cannot_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database, copy = tmp_path / "lantoa.sqlite3", tmp_path / "nightly.sqlite3"
    monkeypatch.setenv("LANTOA_DATABASE", str(database))
    assert main(["backup", str(copy)]) == 2  # no database yet: none is created
    assert not database.exists() and not copy.exists()
    said = CATALOGUE.texts("vi").plain("cli.backup_no_database", setting="LANTOA_DATABASE",
                                       path=database)
    assert said in capsys.readouterr().err
    assert asyncio.run(_backup_beside_the_running_bot(tmp_path, copy)) == 0
    assert "1 báo cáo" in capsys.readouterr().out
    assert len(asyncio.run(_reports(copy))[1]["photos"]) == 2
    assert main(["backup", str(database)]) == 2
    assert main(["backup", str(tmp_path / "no-such-folder" / "x.sqlite3")]) == 2
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []
