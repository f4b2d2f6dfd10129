"""`lantoa move-to-postgres`: a bot's SQLite database into an empty PostgreSQL database, every
row of every table as it was, ids and sequences included, checked and printed table by table;
a target that holds anything, a source that is not ours and a wrong address are refused with one
line; a failure leaves the target as it was; and a bot stopped on SQLite goes on on PostgreSQL
where it stopped.

These tests run once, not once per backend: the source is SQLite and the target PostgreSQL by
nature. So the harness is used through its module (tests/conftest.py parametrizes the modules
that import `started` itself)."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import aiosqlite
import psycopg
import pytest

from bot.runtime.cli import main
from bot.ui.catalogue import Catalogue
from storage import deliveries as ledger
from storage import inbox, schedules
from storage import move as move_module
from storage.deliveries import NewDelivery, Status
from storage.entities import Role
from storage.migrate import apply_migrations, apply_postgres_migrations, migration_scripts
from storage.move import Tally
from tests import harness
from tests.fakebot import FakeTelegram
from tests.postgres import Cluster
from tests.test_cli import Result
from tests.test_inbox import _message

T = Catalogue.load().texts("vi")
MAI, BINH, LAN = 1001, 1002, 1003
# What COPY's text format must escape, and what a checksum must not confuse.
AWKWARD = ("Tab\there, line\nbreak\r\n, back\\slash, \\N, \"quotes\", 'single', <b>html</b>, "
           "emoji 🌾🇻🇳, chữ Việt có dấu, 100%")
NUDGE = "Đồng chí nhớ báo cáo việc làm tuần này."
DESCRIPTION = "Sửa đường liên thôn cùng bà con Bản Chặng"
PASSWORD = "s3cr3t-Pw"


def _move(capsys: pytest.CaptureFixture[str], source: Path, url: str) -> Result:
    capsys.readouterr()
    code = main(["move-to-postgres", "--from", str(source), "--to", url])
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


async def _moved(capsys: pytest.CaptureFixture[str], source: Path, url: str) -> Result:
    """The command run as an admin runs it (its own event loop: in a thread of its own)."""
    return await asyncio.to_thread(_move, capsys, source, url)


def _sqlite_tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows as Python reads them, in an order that does not depend on either
    database's own (NULLs, floats and text sort differently in each)."""
    with sqlite3.connect(path) as conn:
        names = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%'")]
        return {name: _rows(conn.execute(f"SELECT * FROM {name}")) for name in names}


def _postgres_tables(url: str, names: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(url) as conn:
        return {name: _rows(conn.execute(f"SELECT * FROM {name}")) for name in names}


def _rows(cursor: sqlite3.Cursor | psycopg.Cursor[Any]) -> list[tuple[Any, ...]]:
    """Rows by column name (the two schemas may order columns differently), sorted."""
    assert cursor.description is not None
    names = [column[0] for column in cursor.description]
    return sorted((tuple(sorted(zip(names, row, strict=True))) for row in cursor.fetchall()),
                  key=repr)


def _postgres(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return [tuple(row) for row in conn.execute(sql, params).fetchall()]


async def _province(folder: Path) -> Path:
    """A bot run on SQLite and stopped: a unit tree (one unit whose parent has a larger id),
    members, reports with photos, co-participants, coordinates and awkward text, a delivery
    with an image, and a draft sent and deleted (SQLite's AUTOINCREMENT counter past it)."""
    async with harness.started(folder) as bot:
        tree = await bot.tree()
        await bot.join(MAI, tree.cell, "Mai")
        await bot.join(BINH, tree.cell, "Bình", "Lương Văn")
        await bot.appoint(LAN, tree.cell, Role.LEADER, "Lan")
        await bot.report(MAI, "Trồng 200 cây keo trên đồi thôn")
        await bot.stored_report(BINH, tree.cell, words=AWKWARD, together=(MAI,), photos=2,
                                value=20_000_000, households=3, helped=12)
        latest = await bot.unit("Tổ đảng số 2", kind="tổ đảng", parent=tree.cell)
        async with bot.db.transaction() as tx:
            await tx.run("UPDATE reports SET latitude = ?, longitude = ?, place = ?"
                         " WHERE description = ?", (21.853_708_1, 106.761_519, None, AWKWARD))
            # The cell moved under the tổ added last: a child whose id is smaller.
            await tx.run("UPDATE units SET parent_id = ? WHERE id = ?", (latest, tree.group))
            await ledger.queue(tx, [NewDelivery(
                kind="digest", unit_id=tree.cell, chat_id=LAN, period="2026-W47",
                text=AWKWARD, photo=bytes(range(256)) + b"\x00\\N", status=Status.SENT)],
                bot.clock.now())
    return folder / "lantoa.sqlite3"


async def test_every_table_arrives_whole_with_its_ids_and_the_check_says_so(
        tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    source = await _province(tmp_path)
    before = _sqlite_tables(source)
    result = await _moved(capsys, source, postgres_url)
    assert (result.code, result.err) == (0, ""), result
    after = _postgres_tables(postgres_url, list(before))
    for table, rows in before.items():
        assert after[table] == rows, table
    assert before["reports"] and before["report_photos"] and before["deliveries"]
    lines = result.lines
    header = lines.index(next(line for line in lines if line.startswith(T.plain(
        "cli.move.column_table"))))
    listed = {line.split()[0]: line for line in lines[header + 1:header + 1 + len(before)]}
    assert sorted(listed) == sorted(before)
    for table, line in listed.items():
        assert line.endswith("✓") and f" {len(before[table])} " in line, line
    assert lines[-1].startswith(f"Đã chuyển {len(before)} bảng")
    # Analysed, so the first digests after the move are planned as well as later ones.
    assert _postgres(postgres_url, "SELECT count(*) FROM pg_stat_user_tables"
                     " WHERE last_analyze IS NULL AND relname IN ('reports', 'memberships')",
                     ()) == [(0,)]


async def test_each_new_row_after_the_move_takes_the_next_id(
        tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    source = await _province(tmp_path)
    with sqlite3.connect(source) as conn:
        identities = [row[0] for row in conn.execute(
            "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c"
            " WHERE c.name = 'id' AND c.pk = 1")]
        largest = {table: conn.execute(f"SELECT max(id) FROM {table}").fetchone()[0] or 0
                   for table in identities}
        counters = dict(conn.execute("SELECT name, seq FROM sqlite_sequence").fetchall())
    assert counters["drafts"] > largest["drafts"], "a sent draft was deleted"
    assert (await _moved(capsys, source, postgres_url)).code == 0
    for table in identities:
        wanted = max(largest[table], counters.get(table, 0)) + 1
        assert _postgres(postgres_url, "SELECT nextval(pg_get_serial_sequence(%s, 'id'))",
                         (table,)) == [(wanted,)], table
    added = _postgres(postgres_url, "INSERT INTO units (name, kind, created_at)"
                      " VALUES ('Chi bộ mới', 'chi bộ', '2026-12-07') RETURNING id")
    assert added == [(largest["units"] + 2,)]  # the nextval above took one


async def test_a_bot_stopped_on_sqlite_goes_on_on_postgresql_where_it_stopped(
        tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    async with harness.started(tmp_path / "sqlite") as before:
        tree = await before.tree()
        await before.join(MAI, tree.cell, "Mai")
        await before.report(MAI, "Trồng 200 cây keo trên đồi thôn")
        await before.begin_report(MAI, field="Môi trường", day="Hôm qua")  # asked what she did
        async with before.db.transaction() as tx:
            # Her answer fetched but not handled when the bot stopped, and a nudge queued.
            await inbox.keep_new(tx, before.bot_id, [(5000, _message(5000, DESCRIPTION))],
                                 before.clock.now())
            await ledger.queue(tx, [NewDelivery(kind="nudge", unit_id=tree.cell, chat_id=MAI,
                                                period="2026-W48", text=NUDGE)],
                               before.clock.now())
            timetable = await schedules.every_schedule(tx)
    assert timetable, "the bot gives every unit its schedules"
    assert (await _moved(capsys, tmp_path / "sqlite" / "lantoa.sqlite3", postgres_url)).code == 0
    fresh = FakeTelegram()
    fresh.add_user(MAI, "Mai")
    fresh.continue_update_ids_from(6000)
    async with harness.started(tmp_path / "postgresql", fresh, database=postgres_url) as after:
        await after.fake.wait_for(lambda f: any(
            "form.report.summary_title" in c.keys for c in f.calls if c.chat_id == MAI))
        await after.app.update_queue.join()
        await after.tap(MAI, "✅ Gửi ngay")
        await after.deliveries_settled()
        stored = await after.reports_of(MAI)
        async with after.db.transaction() as tx:
            assert await inbox.unhandled_ids(tx) == []
            kept = {row.id: row for row in await schedules.every_schedule(tx)}
            nudges = [row.status for row in await ledger.in_ledger(tx, "nudge")]
        await after.say(MAI, "/report")  # a new draft: its id follows the sent ones
    assert [(r.id, r.content.description, r.content.field) for r in stored] == [
        (2, DESCRIPTION, "Môi trường"), (1, "Trồng 200 cây keo trên đồi thôn", "Xã hội")]
    assert stored[0].content.deed_date == dt.date(2026, 11, 26)
    assert [m["text"] for m in fresh.messages(MAI)].count(NUDGE) == 1
    assert nudges == [Status.SENT]
    assert [kept.get(row.id) for row in timetable] == timetable  # (new units get theirs now)
    assert NUDGE not in [m.get("text") for m in before.fake.messages(MAI)]
    sources = _postgres(postgres_url, "SELECT source_draft_id FROM reports ORDER BY id")
    open_draft = _postgres(postgres_url, "SELECT id FROM drafts")
    assert len(open_draft) == 1 and open_draft[0][0] > max(s[0] for s in sources)


async def test_a_target_that_holds_anything_is_refused_and_kept_as_it_was(
        tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    source = await _province(tmp_path)
    assert (await _moved(capsys, source, postgres_url)).code == 0
    with sqlite3.connect(source) as conn:
        conn.execute("DELETE FROM audit_log")
    names = list(_sqlite_tables(source))
    kept = _postgres_tables(postgres_url, names)
    again = await _moved(capsys, source, postgres_url)
    assert again.failed_with_one_line(), again
    assert "đã có dữ liệu (bảng units)" in again.err
    assert _postgres_tables(postgres_url, names) == kept


async def test_a_target_of_a_newer_version_is_refused(
        tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    source = await _province(tmp_path)
    async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as conn:
        await apply_postgres_migrations(conn)
        await conn.execute("INSERT INTO schema_version VALUES (99)")
    refused = await _moved(capsys, source, postgres_url)
    assert refused.failed_with_one_line(), refused
    assert "phiên bản cấu trúc 99" in refused.err
    assert _postgres(postgres_url, "SELECT count(*) FROM units") == [(0,)]


@pytest.fixture
def sources(tmp_path: Path) -> dict[str, Path]:
    """Files that are not a Lan Tỏa database."""
    text = tmp_path / "notes.sqlite3"
    text.write_text("không phải cơ sở dữ liệu\n" * 100)
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE reports (id INTEGER PRIMARY KEY)")
    newer = tmp_path / "newer.sqlite3"
    with sqlite3.connect(newer) as conn:
        conn.execute("CREATE TABLE reports (id INTEGER PRIMARY KEY)")
        conn.execute("PRAGMA user_version = 99")
    return {"missing": tmp_path / "nowhere.sqlite3", "text": text, "empty": empty,
            "other": other, "folder": tmp_path, "newer": newer}


@pytest.mark.parametrize("kind", ["missing", "text", "empty", "other", "folder", "newer"])
async def test_a_source_that_is_not_a_lan_toa_database_is_refused(
        sources: dict[str, Path], kind: str, postgres_url: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    refused = await _moved(capsys, sources[kind], postgres_url)
    assert refused.failed_with_one_line(), refused
    assert refused.err.startswith("lantoa: --from:"), refused.err
    assert _postgres(postgres_url, "SELECT to_regclass('units')") == [(None,)], "untouched"
    assert kind == "missing" or sources[kind].exists()
    assert kind != "newer" or "phiên bản cấu trúc 99" in refused.err


async def test_an_older_source_is_migrated_then_moved(
        tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(source) as conn:
        await apply_migrations(conn, migration_scripts()[:-1])
        await conn.execute("INSERT INTO units (name, kind, created_at)"
                           " VALUES ('Chi bộ cũ', 'chi bộ', '2025-01-01T00:00:00+00:00')")
        await conn.commit()
    assert (await _moved(capsys, source, postgres_url)).code == 0
    assert _postgres(postgres_url, "SELECT name FROM units") == [("Chi bộ cũ",)]


def _urls(cluster: Cluster) -> list[str]:
    folder = str(cluster.folder)
    return [
        f"postgresql://lantoa:{PASSWORD}@/no_such_database?host={folder}&port={cluster.port}",
        f"postgresql://lantoa:{PASSWORD}@127.0.0.1:1/lantoa",
        f"postgres://lantoa:{PASSWORD}@localhost:port/lantoa",
        f"postgresql://lantoa:{PASSWORD}@/lantoa?host={folder}&nonsense=1",
        f"postgresq://lantoa:{PASSWORD}@localhost/lantoa",
    ]


async def test_a_wrong_address_is_one_line_that_never_shows_the_password(
        tmp_path: Path, postgres_cluster: Cluster, capsys: pytest.CaptureFixture[str]) -> None:
    source = await _province(tmp_path)
    for url in _urls(postgres_cluster):
        refused = await _moved(capsys, source, url)
        assert refused.failed_with_one_line(), (url, refused)
        assert refused.err.startswith("lantoa: --to:"), refused.err
        assert PASSWORD not in refused.err and "***" in refused.err, refused.err


async def test_a_row_the_target_refuses_leaves_it_as_it_was(
        tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    source = await _province(tmp_path)
    with sqlite3.connect(source) as conn:  # PostgreSQL's text cannot hold a NUL
        conn.execute("UPDATE reports SET description = ? WHERE id = 1", ("nul \x00 here",))
    failed = await _moved(capsys, source, postgres_url)
    assert failed.code == 2 and failed.err.count("\n") == 1 and "Traceback" not in failed.err
    assert "bảng reports" in failed.err and "được giữ nguyên" in failed.err
    assert _postgres(postgres_url, "SELECT to_regclass('units')") == [(None,)], (
        "not even the schema is left behind")


async def test_a_difference_found_by_the_check_is_shown_and_rolled_back(
        tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    source = await _province(tmp_path)
    tally = move_module._postgres_tally

    async def one_row_lost(conn: Any, table: move_module.Table) -> Tally:
        found = await tally(conn, table)
        return Tally(found.rows - 1, "0" * 16) if table.name == "reports" else found
    monkeypatch.setattr(move_module, "_postgres_tally", one_row_lost)
    result = await _moved(capsys, source, postgres_url)
    assert result.code == 2 and result.err.count("\n") == 1
    line = next(line for line in result.lines if line.startswith("reports "))
    assert line.endswith("✗") and "2 → 1" in line and "→ 0000000000000000" in line
    assert all(line.endswith("✓") for line in result.lines
               if line.startswith(("units ", "people ")))
    assert _postgres(postgres_url, "SELECT to_regclass('units')") == [(None,)]


def test_the_check_reads_values_not_renderings() -> None:
    """Equal values hash alike, and values that print alike in one database's text do not."""
    def tally(rows: list[tuple[Any, ...]]) -> Tally:
        hasher = move_module._Hasher()
        hasher.add(rows)
        return hasher.tally()
    assert tally([(1, 0.1, "a", b"\x00", None)]) == tally([(1, 0.1, "a", b"\x00", None)])
    for one, other in [((1,), (1.0,)), ((None,), ("",)), (("1",), (1,)), ((b"a",), ("a",)),
                       ((0.1,), (0.1000000000000001,)), (("\\N",), (None,))]:
        assert tally([one]) != tally([other]), (one, other)


async def test_a_connection_lost_mid_move_leaves_the_target_as_it_was(
        tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    source = await _province(tmp_path)
    copy = move_module._copy

    async def cut_at_reports(reader: Any, conn: Any, table: move_module.Table) -> None:
        if table.name == "reports":  # the server ends the session, as a restart would
            await conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        await copy(reader, conn, table)
    monkeypatch.setattr(move_module, "_copy", cut_at_reports)
    failed = await _moved(capsys, source, postgres_url)
    assert failed.code == 2 and failed.err.count("\n") == 1 and "Traceback" not in failed.err
    assert "máy chủ PostgreSQL báo lỗi" in failed.err and "được giữ nguyên" in failed.err
    assert _postgres(postgres_url, "SELECT to_regclass('units')") == [(None,)]
