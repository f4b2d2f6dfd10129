"""Backups taken while the bot writes (`lantoa backup`, storage/backup.py): SQLite's copy, or
pg_dump's on PostgreSQL, each read back (a dump restored with pg_restore into a new database).
Migrating a database of every earlier schema version is in test_migrations.py
(test_a_database_from_any_earlier_version_opens_as_a_fresh_one)."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bot.runtime.cli import main
from storage.backup import backup_database, dump_postgres
from storage.check import inspect
from storage.db import Database
from tests.harness import BACKEND, CATALOGUE, Harness, started

MEMBERS = range(2001, 2009)
FORM_REPORTS_EACH = 2
STORED_REPORTS = 120
BACKUP_EVERY = 15  # stored reports

# A report with everything that belongs to it, as one comparable value.
REPORT_ROWS = {
    "reports": "SELECT * FROM reports WHERE id = ?",
    "photos": "SELECT * FROM report_photos WHERE report_id = ? ORDER BY position",
    "participants": "SELECT * FROM report_participants WHERE report_id = ? ORDER BY person_id",
}


async def _reports(location: Path | str) -> dict[int, dict[str, list[tuple[Any, ...]]]]:
    """Every report of the database at `location` with its photos and participants."""
    db = await Database.open(location)
    try:
        async with db.reading() as tx:
            ids = [row[0] for row in await tx.all("SELECT id FROM reports ORDER BY id")]
            return {report_id: {part: [tuple(row) for row in await tx.all(sql, (report_id,))]
                                for part, sql in REPORT_ROWS.items()} for report_id in ids}
    finally:
        await db.close()


async def _backup(source: Path | str, copy: Path) -> None:
    if isinstance(source, str):
        await dump_postgres(source, copy)
    else:
        await backup_database(source, copy)


async def _readable(copy: Path) -> Path | str:
    """Where a backup is read: the SQLite copy itself, or the dump restored into a new empty
    database of the test's cluster (dropped with the test's others)."""
    cluster = BACKEND.cluster
    if cluster is None:
        return copy
    url = BACKEND.urls[copy] = cluster.url(cluster.create_database())
    await asyncio.to_thread(subprocess.run, [
        str(cluster.bin_dir / "pg_restore"), "--exit-on-error", "--no-owner", f"--dbname={url}",
        str(copy)], check=True)
    return url


async def _fill_forms(bot: Harness, user_id: int, more: asyncio.Event) -> None:
    """A member sends reports through the form, some with an album of photos; `more` is set
    after each."""
    for n in range(FORM_REPORTS_EACH):
        await bot.report(user_id, f"Giúp hộ nghèo sửa nhà, lần {n + 1} của {user_id}",
                         photos=(user_id + n) % 3)
        more.set()


async def _store_reports(bot: Harness, cell: int, more: asyncio.Event) -> None:
    """Reports with photos and co-participants written straight into the bot's database, in
    between the form traffic: many small transactions. `more` is set every BACKUP_EVERY."""
    for n in range(STORED_REPORTS):
        author, partner = MEMBERS[n % len(MEMBERS)], MEMBERS[(n + 1) % len(MEMBERS)]
        await bot.stored_report(author, cell, words=f"Việc làm tốt số {n}", photos=n % 4,
                                together=(partner,), helped=n)
        if n % BACKUP_EVERY == BACKUP_EVERY - 1:
            more.set()
        await asyncio.sleep(0)


async def test_a_backup_taken_while_reports_pour_in_is_a_consistent_moment(
    tmp_path: Path,
) -> None:
    async with started(tmp_path) as bot:
        cell = await bot.unit("Chi bộ Thôn Bản Chặng")
        for user_id in MEMBERS:
            await bot.join(user_id, cell, f"Đảng viên {user_id}")
        more = asyncio.Event()
        writers = asyncio.gather(_store_reports(bot, cell, more),
                                 *(_fill_forms(bot, user_id, more) for user_id in MEMBERS))
        copies: list[Path] = []
        while not writers.done():
            # A backup each time more reports are in: moments spread over the writes, and a
            # bounded number of them (each dump is restored below to be read).
            await asyncio.wait([writers, asyncio.ensure_future(more.wait())],
                               return_when=asyncio.FIRST_COMPLETED)
            more.clear()
            copy = tmp_path / f"backup-{len(copies)}.copy"
            await _backup(bot.core.services.settings.database, copy)
            copies.append(copy)
        await writers
        source = await _reports(bot.core.services.settings.database)

    assert len(source) == STORED_REPORTS + len(MEMBERS) * FORM_REPORTS_EACH
    counts = []
    for copy in copies:
        location = await _readable(copy)
        health = await inspect(location)
        assert health.sound and health.broken == [], copy
        saved = await _reports(location)
        # Reports are committed in id order: a moment of the database holds the first n of
        # them, each exactly as it ended up (nothing changes a report here once sent).
        assert list(saved) == list(source)[:len(saved)], copy
        assert saved == {report_id: source[report_id] for report_id in saved}, copy
        counts.append(len(saved))
    print(f"{len(copies)} backups, reports in each: {counts}")
    assert any(0 < n < len(source) for n in counts), "no backup was taken during the writes"


async def _backup_beside_the_running_bot(tmp_path: Path, copy: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> int:
    async with started(tmp_path) as bot:
        cell = await bot.unit("Chi bộ Thôn Bản Chặng")
        await bot.join(2001, cell, "Mai")
        await bot.stored_report(2001, cell, photos=2)
        monkeypatch.setenv("LANTOA_DATABASE", str(bot.core.services.settings.database))
        # The command line is another program: its copy is taken beside the running bot.
        return await asyncio.to_thread(main, ["backup", str(copy)])


def test_lantoa_backup_copies_and_refuses_what_it_cannot_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    backend: str
) -> None:
    database, copy = tmp_path / "lantoa.sqlite3", tmp_path / "nightly.backup"
    if backend == "sqlite":  # a server's missing database: test_cli.py
        monkeypatch.setenv("LANTOA_DATABASE", str(database))
        assert main(["backup", str(copy)]) == 2  # no database yet: none is created
        assert not database.exists() and not copy.exists()
        said = CATALOGUE.texts("vi").plain("cli.backup_no_database", setting="LANTOA_DATABASE",
                                           path=database)
        assert said in capsys.readouterr().err
    assert asyncio.run(_backup_beside_the_running_bot(tmp_path, copy, monkeypatch)) == 0
    assert "1 báo cáo" in capsys.readouterr().out
    assert len(asyncio.run(_reports(asyncio.run(_readable(copy))))[1]["photos"]) == 2
    if backend == "sqlite":
        monkeypatch.setenv("LANTOA_DATABASE", str(database))
        assert main(["backup", str(database)]) == 2
    assert main(["backup", str(tmp_path / "no-such-folder" / "x.backup")]) == 2
    assert "no-such-folder" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []
