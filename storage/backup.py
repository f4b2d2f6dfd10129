"""A copy of the database taken while the bot runs (`lantoa backup`, nightly at the province).

SQLite's online backup API copies the pages under one read transaction, so the copy is the
database as it was at one moment, between two of the bot's transactions: a report is in it
whole, with its photos and participants, or not at all. In WAL mode that read does not hold
up the bot's writes. The whole database is copied in one step because a copy made in
several steps starts over whenever another connection writes in between, and the bot may
write all the time.

The copy is written next to the target and checked before it takes the target's name, so a
failed or interrupted night leaves the previous backup in place, never half a file: the
half-written copy is removed on any failure (only a killed process leaves one, which the next
backup to the same target removes first).

Into a folder, each backup gets a file of its own named by the day: lantoa-2026-12-07.sqlite3,
then lantoa-2026-12-07-2.sqlite3 for a second one that day (before an upgrade, say), so that
a nightly job keeps every night's copy and the folder lists them in order.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from storage.migrate import schema_version

PARTIAL_SUFFIX = ".partial"
PREFIX, SUFFIX = "lantoa-", ".sqlite3"


class BackupCheckFailed(Exception):
    """The copy did not pass SQLite's checks; the target was left as it was."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    schema_version: int
    reports: int
    size_bytes: int


def dated_target(folder: Path, day: dt.date) -> Path:
    """The first free name for a backup of `day` in `folder`."""
    names = (folder / f"{PREFIX}{day.isoformat()}{'' if n == 1 else f'-{n}'}{SUFFIX}"
             for n in itertools.count(1))
    return next(name for name in names if not name.exists())


async def backup_database(source: Path, target: Path) -> BackupResult:
    """Copies the database at `source` to `target` (replaced if it exists), checked.

    FileNotFoundError when there is no database at `source`: connecting would create an
    empty one and back that up.
    """
    if not source.is_file():
        raise FileNotFoundError(f"no database at {source}")
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    partial.unlink(missing_ok=True)
    try:
        await _copy(source, partial)
        version, reports = await _check(partial)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupResult(target, version, reports, target.stat().st_size)


async def _copy(source: Path, target: Path) -> None:
    origin = await aiosqlite.connect(str(source))
    try:
        # The bot may hold the write lock for a moment; the read waits rather than fails.
        await origin.execute("PRAGMA busy_timeout = 5000")
        copy = await aiosqlite.connect(str(target))
        try:
            await origin.backup(copy)  # pages=0: everything in one step, one snapshot
            # One self-contained file, whatever the bot's journal mode.
            await copy.execute("PRAGMA journal_mode = DELETE")
        finally:
            await copy.close()
    finally:
        await origin.close()


async def _rows(conn: aiosqlite.Connection, sql: str) -> list[tuple[object, ...]]:
    async with conn.execute(sql) as cursor:
        return [tuple(row) for row in await cursor.fetchall()]


async def _check(path: Path) -> tuple[int, int]:
    """Schema version and report count of a copy that passes integrity and reference checks."""
    conn = await aiosqlite.connect(str(path))
    try:
        integrity = await _rows(conn, "PRAGMA integrity_check")
        if integrity != [("ok",)]:
            raise BackupCheckFailed(f"integrity_check: {integrity[:5]}")
        broken = await _rows(conn, "PRAGMA foreign_key_check")
        if broken:
            raise BackupCheckFailed(f"foreign_key_check: {broken[:5]}")
        has_reports = await _rows(conn, "SELECT 1 FROM sqlite_master WHERE name = 'reports'")
        counted = await _rows(conn, "SELECT COUNT(*) FROM reports") if has_reports else [(0,)]
        return await schema_version(conn), int(str(counted[0][0]))
    finally:
        await conn.close()
