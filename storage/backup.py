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

On PostgreSQL the copy is `pg_dump`'s (custom format, `.dump`, restored with `pg_restore`),
taken in a snapshot exported from a transaction of ours: the counts said after the backup are
read in that same moment, and the dump is that moment however the bots write meanwhile. It
is checked by reading it back whole (`pg_restore` into nothing), then renamed as above. The
password goes to pg_dump in its environment (PGPASSWORD), never on its command line, which
any user of the machine can read in the process list.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import aiosqlite

from storage.migrate import postgres_schema_version, schema_version

# psycopg is imported when the database is PostgreSQL: 9 MB of a SQLite bot's memory.
if TYPE_CHECKING:
    import psycopg

PARTIAL_SUFFIX = ".partial"
PREFIX, SUFFIX, DUMP_SUFFIX = "lantoa-", ".sqlite3", ".dump"
DEBIAN_PROGRAMS = Path("/usr/lib/postgresql")  # Debian's postgresql-client-NN: NN/bin/pg_dump
_MAJOR = re.compile(r"\)\s+(\d+)")  # "pg_dump (PostgreSQL) 15.14 (Debian …)"


class BackupCheckFailed(Exception):
    """The copy did not pass the checks (SQLite's, or pg_restore reading the dump back); the
    target was left as it was."""


class PgDumpUnusable(Exception):
    """No pg_dump here can back this server up: none is installed (`found` None), or the
    newest is of an older major version, which pg_dump refuses. `command` is what to run where
    a right one is, the password as ***."""

    def __init__(self, found: int | None, server: int, command: str) -> None:
        super().__init__(f"pg_dump {found} for a server of version {server}")
        self.found, self.server, self.command = found, server, command


@dataclass(frozen=True)
class BackupResult:
    path: Path
    schema_version: int
    reports: int
    size_bytes: int


def dated_target(folder: Path, day: dt.date, suffix: str = SUFFIX) -> Path:
    """The first free name for a backup of `day` in `folder`."""
    names = (folder / f"{PREFIX}{day.isoformat()}{'' if n == 1 else f'-{n}'}{suffix}"
             for n in itertools.count(1))
    return next(name for name in names if not name.exists())


async def backup_database(source: Path, target: Path) -> BackupResult:
    """Copies the database at `source` to `target` (replaced if it exists), checked.

    FileNotFoundError when there is no database at `source`: connecting would create an
    empty one and back that up.
    """
    if not source.is_file():
        raise FileNotFoundError(f"no database at {source}")
    partial = _partial(target)
    try:
        await _copy(source, partial)
        version, reports = await _check(partial)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupResult(target, version, reports, target.stat().st_size)


def _partial(target: Path) -> Path:
    """Where the copy is written until checked: beside the target, emptied first."""
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    partial.unlink(missing_ok=True)
    return partial


async def dump_postgres(url: str, target: Path, installed: Path = DEBIAN_PROGRAMS) -> BackupResult:
    """pg_dump of the database at `url` into `target` (replaced if it exists), checked.

    storage.postgres.DatabaseUnavailable when the server cannot be reached; PgDumpUnusable when
    no pg_dump here fits the server; BackupCheckFailed when pg_dump or the check fails.
    """
    from storage.postgres import connect_directly as connect

    address, password = split_password(url)
    conn = await connect(url)
    try:
        server = conn.info.server_version // 10_000
        newest = _newest(installed)
        if newest is None or newest[1] < server:
            command = _command(Path("pg_dump"), address, target, password is not None)
            raise PgDumpUnusable(newest and newest[1], server, command)
        programs = newest[0]
        partial = _partial(target)
        try:
            async with conn.transaction():
                version, reports, snapshot = await _moment(conn)
                await _dump(programs, address, password, partial, snapshot)
            await _run(programs / "pg_restore", ["--file", os.devnull, str(partial)], {})
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    finally:
        await conn.close()
    return BackupResult(target, version, reports, target.stat().st_size)


def split_password(url: str) -> tuple[str, str | None]:
    """The URL without its password (in the address or a `password=` parameter), and the
    password, percent-decoded as libpq reads it."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    password = next((value for key, value in query if key == "password"), None)
    netloc = parts.netloc
    if parts.password is not None:
        password = unquote(parts.password)
        userinfo, host = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}@{host}"
    kept = urlencode([(k, v) for k, v in query if k != "password"], safe="/")
    return urlunsplit(parts._replace(netloc=netloc, query=kept)), password


async def _moment(conn: psycopg.AsyncConnection[Any]) -> tuple[int, int, str]:
    """In the transaction just begun: the schema version and reports of this moment, and the
    snapshot that shows pg_dump the same moment."""
    await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    version = await postgres_schema_version(conn)
    cursor = await conn.execute("SELECT to_regclass('reports') IS NOT NULL")
    found = await cursor.fetchone()
    reports = 0
    if found and found[0]:
        cursor = await conn.execute("SELECT count(*) FROM reports")
        counted = await cursor.fetchone()
        reports = int(counted[0]) if counted else 0
    cursor = await conn.execute("SELECT pg_export_snapshot()")
    snapshot = await cursor.fetchone()
    assert snapshot is not None  # the function returns one row
    return version, reports, str(snapshot[0])


async def _dump(programs: Path, address: str, password: str | None, partial: Path,
                snapshot: str) -> None:
    env = {} if password is None else {"PGPASSWORD": password}
    await _run(programs / "pg_dump", ["--format=custom", f"--snapshot={snapshot}",
                                      f"--dbname={address}", f"--file={partial}"], env)


async def _run(program: Path, args: list[str], env: dict[str, str]) -> None:
    """Runs a PostgreSQL program; BackupCheckFailed with its own words when it fails."""
    process = await asyncio.create_subprocess_exec(
        str(program), *args, env={**os.environ, **env}, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, errors = await process.communicate()
    except BaseException:  # cancelled, Ctrl+C: the program must not go on writing
        process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        words = " ".join(errors.decode(errors="replace").split())
        raise BackupCheckFailed(f"{program.name}: {words}")


def _command(pg_dump: Path, address: str, target: Path, password: bool) -> str:
    """What to run by hand: the same dump, with PGPASSWORD=*** where a password is needed."""
    words = shlex.join([str(pg_dump), "--format=custom", f"--dbname={address}",
                        f"--file={target}"])
    return f"PGPASSWORD=*** {words}" if password else words


def _newest(installed: Path) -> tuple[Path, int] | None:
    """The bin folder of the newest pg_dump found (Debian's, then PATH's), and its major
    version: pg_dump backs up servers of its own version and older."""
    found = [path.parent for path in installed.glob("*/bin/pg_dump")]
    on_path = shutil.which("pg_dump")
    if on_path is not None:
        found.append(Path(on_path).parent)
    versions: list[tuple[int, Path]] = []
    for folder in found:
        try:
            said = subprocess.run([str(folder / "pg_dump"), "--version"], capture_output=True,
                                  text=True, check=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        major = _MAJOR.search(said)
        if major:
            versions.append((int(major.group(1)), folder))
    if not versions:
        return None
    version, folder = max(versions)
    return folder, version


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
