"""The PostgreSQL server restarted, or stopped for a while, under a running bot (issue 14): the
bot is not restarted and goes on by itself. Members are mid-form when it happens; afterwards
each goes on from the step they were at and sends the report, every report confirmed before
is still there, and only a member whose answer was being stored at that very moment is told
to try again (error.generic: "… thử lại sau ít phút nhé"), and goes on when they do.
An answer sent while the server is away waits in Telegram (the bot stores an update before
confirming it) and is answered once the server is back. `lantoa run` outlives a longer
outage: away longer than its lease, it stops acting and takes the lease back once the server
is back, saying each once in its log. SQLite has no server: the
tests run on PostgreSQL only. How the backend copes: storage/POSTGRES.md."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
import pytest

from handlers.schedules import job_name
from storage import postgres
from storage.db import Database
from storage.schedules import ScheduleKind
from tests import databases
from tests.crash_members import prepare_database, prompt_of, visible
from tests.fakebot import FakeBotServer, FakeTelegram
from tests.harness import BACKEND, Harness, started
from tests.postgres import Cluster
from tests.test_end_to_end import TOKEN, bot_environment, bot_process
from tests.test_schedules_due import MAI as MAI_OF_THE_CELL
from tests.test_schedules_due import SON as LEADER
from tests.test_schedules_due import at, cell_with_group, row_of, run_job

MAI = 3100  # sends a whole report before the server goes away
# Each is that many moves into the report form when the server goes away (see MOVES).
MIDWAY = {3101: 1, 3102: 2, 3103: 3, 3104: 4}
# A member's moves through the form, and the answer each leads to.
MOVES = (("say", "/report", "form.report.deed_date.prompt"),
         ("tap", "Hôm nay", "form.report.field.prompt"),
         ("tap", "Kinh tế", "form.report.description.prompt"),
         ("say", "Sửa đường vào thôn cùng bà con, đồng chí {user}", "form.report.summary_title"),
         ("tap", "✅ Gửi ngay", "report.received"))
STOPPED_SECONDS = 3.0  # shorter than a transaction waits for the server (CONNECT_SECONDS)
# Longer than that: the bot goes on failing fast, and finds the server as soon as it is back.
LONG_OUTAGE_SECONDS = 12.0
HEAVY_OUTAGE_SECONDS = 30.0
BACK_WITHIN = 10.0  # seconds after the server is back by which the waiting answers come
TROUBLE = "error.generic"
STARTED_UP = "decided at start-up"  # handlers/schedules.py logs it once start-up is done


@pytest.fixture
def cluster(backend: str) -> Iterator[Cluster]:
    """The test's cluster, its server running again at the end whatever happened."""
    if backend != "postgresql" or BACKEND.cluster is None:
        pytest.skip("SQLite has no server to restart")
    yield BACKEND.cluster
    if not BACKEND.cluster.running:
        BACKEND.cluster.start_server()


def _move(bot: Harness, user_id: int, move: int) -> int:
    """Sends a member's move (without waiting for the answer); its update id."""
    how, what, _ = MOVES[move]
    if how == "say":
        return bot.fake.send_text(user_id, what.format(user=user_id))
    message_id, data = bot.button(user_id, what)
    return bot.fake.press(user_id, message_id, data)


async def _make_moves(bot: Harness, user_id: int, moves: range) -> None:
    for move in moves:
        mark = len(bot.fake.calls)
        seen = await bot.after(_move(bot, user_id, move), mark)
        assert seen.shows(MOVES[move][2]), (
            f"member {user_id}, move {move} ({MOVES[move][1]!r}): {bot.screen(user_id)!r}")


async def _members_midway(bot: Harness) -> None:
    """A cell; Mai's report sent; the others midway through theirs (MIDWAY)."""
    cell = await bot.unit("Chi bộ Thôn Nà Pá")
    for user_id in (MAI, *MIDWAY):
        await bot.join(user_id, cell, f"Đảng viên {user_id}")
    await _make_moves(bot, MAI, range(len(MOVES)))
    for user_id, done in MIDWAY.items():
        await _make_moves(bot, user_id, range(done))


async def _everyone_sends(bot: Harness) -> None:
    """Each member midway finishes the report from where they are; every report is stored,
    Mai's (confirmed before) too."""
    for user_id, done in MIDWAY.items():
        await _make_moves(bot, user_id, range(done, len(MOVES)))
    for user_id in (MAI, *MIDWAY):
        reports = await bot.reports_of(user_id)
        assert [r.content.description for r in reports] == [MOVES[3][1].format(user=user_id)]


async def test_a_restart_between_answers_costs_nothing(tmp_path: Path, cluster: Cluster) -> None:
    async with started(tmp_path) as bot:
        await _members_midway(bot)
        await asyncio.to_thread(cluster.restart)
        began = time.monotonic()
        await _everyone_sends(bot)
        print(f"\nafter the restart, four members' forms finished in "
              f"{time.monotonic() - began:.2f}s")
        assert not any(bot.told(user_id, TROUBLE) for user_id in (MAI, *MIDWAY))
        assert await _unhandled(bot.db) == 0


async def test_answers_sent_while_the_server_is_stopped_are_answered_when_it_is_back(
        tmp_path: Path, cluster: Cluster) -> None:
    async with started(tmp_path) as bot:
        await _members_midway(bot)
        await asyncio.to_thread(cluster.stop_server)
        mark = len(bot.fake.calls)
        sent = {user_id: _move(bot, user_id, done) for user_id, done in MIDWAY.items()}
        await asyncio.sleep(STOPPED_SECONDS)  # the outage itself, not a wait for the bot
        assert not [c for c in bot.fake.calls[mark:] if c.chat_id in MIDWAY and not c.error], (
            "nothing can be answered while the server is away")
        await asyncio.to_thread(cluster.start_server)
        back = time.monotonic()
        for user_id, update_id in sent.items():
            seen = await bot.after(update_id, mark)
            assert bot.said_last(user_id) >= {MOVES[MIDWAY[user_id]][2]}, (
                f"member {user_id}: {bot.screen(user_id)!r}; {seen.keys}")
        print(f"\nthe server stopped {STOPPED_SECONDS:.0f}s: the answers sent meanwhile came "
              f"{time.monotonic() - back:.2f}s after it was back")
        for user_id, done in MIDWAY.items():
            await _make_moves(bot, user_id, range(done + 1, len(MOVES)))
        assert not any(bot.told(user_id, TROUBLE) for user_id in MIDWAY)
        assert await _unhandled(bot.db) == 0


@asynccontextmanager
async def _drafts_locked(url: str) -> AsyncIterator[psycopg.AsyncConnection]:
    """Another session holds the drafts table: a form's answer being stored waits for it, in
    the middle of its transaction."""
    conn = await psycopg.AsyncConnection.connect(url)
    await conn.execute("LOCK TABLE drafts IN ACCESS EXCLUSIVE MODE")
    try:
        yield conn
    finally:
        await conn.close()


async def _waiting_for_a_lock(url: str, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not databases.value(url, "SELECT COUNT(*) FROM pg_locks WHERE NOT granted"):
            await asyncio.sleep(0.02)


@pytest.mark.parametrize("outage", ["restart", "stop"])
async def test_an_answer_being_stored_when_the_server_goes_is_asked_again(
        tmp_path: Path, cluster: Cluster, outage: str) -> None:
    """The description is being stored when the server restarts (or stops): that transaction
    is lost and rolled back; the member is asked to try again (with the server stopped, in
    the words the bot has without its database), does, and goes on (date and field, answered
    before, are still there)."""
    async with started(tmp_path) as bot:
        await _members_midway(bot)
        user_id = 3103  # at the description
        url = str(BACKEND.location(tmp_path / "lantoa.sqlite3"))
        mark = len(bot.fake.calls)
        async with _drafts_locked(url):
            update_id = _move(bot, user_id, 3)
            await _waiting_for_a_lock(url)
            await asyncio.to_thread(cluster.restart if outage == "restart" else cluster.stop_server)
        await bot.fake.wait_for(lambda _: bot.told(user_id, TROUBLE) > 0, timeout=BACK_WITHIN)
        assert "thử lại" in bot.screen(user_id)
        if outage == "stop":
            await asyncio.to_thread(cluster.start_server)
        await bot.after(update_id, mark)
        assert bot.said_last(user_id) >= {TROUBLE}
        await _make_moves(bot, user_id, range(3, len(MOVES)))
        [stored] = await bot.reports_of(user_id)
        assert stored.content.deed_date == bot.clock.now().date()
        assert stored.content.field == "Kinh tế"
        assert await _unhandled(bot.db) == 0


async def test_a_schedule_due_while_the_server_is_away_runs_once_it_is_back(
        tmp_path: Path, cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    """The leader's evening notice of the reports waiting comes due while the server is
    stopped: it is decided a minute later, the server back, and the leader gets it once."""
    monkeypatch.setattr(postgres, "SERVER_WAIT_SECONDS", 0.5)  # no need to wait ten here
    async with started(tmp_path) as bot:
        tree = await cell_with_group(bot)
        await bot.report(MAI_OF_THE_CELL, "Cùng tổ dọn vệ sinh đường làng, khơi thông cống rãnh")
        row = await row_of(bot, tree.cell, ScheduleKind.REVIEW)
        bot.clock.moment = at(2026, 11, 27, 19)
        await asyncio.to_thread(cluster.stop_server)
        await run_job(bot, row.id)
        [again] = bot.app.job_queue.get_jobs_by_name(f"{job_name(row.id)}:again")
        assert again.next_t is not None and again.next_t > dt.datetime.now(dt.UTC)
        await asyncio.to_thread(cluster.start_server)
        await again.run(bot.app)
        await bot.deliveries_settled()
        assert bot.told(LEADER, "review.notice_daily") == 1


async def _unhandled(db: Database) -> int:
    async with db.transaction() as tx:
        row = await tx.one("SELECT COUNT(*) FROM inbox WHERE handled_at IS NULL")
    assert row is not None
    return int(row[0])


# --------------------------------------------------------------------------- `lantoa run`

async def _outage(tmp_path: Path, cluster: Cluster, seconds: float) -> None:
    """`lantoa run` with a member at the date step; the server stops for `seconds`; the
    member picks the day meanwhile, and is answered once it is back."""
    fake = FakeTelegram()
    (mai,) = await prepare_database(tmp_path / "lantoa.sqlite3", 1, cells=1)
    fake.add_user(mai.user_id, "Mai")
    log = tmp_path / "bot.log"
    async with FakeBotServer(fake, TOKEN) as server:
        env = bot_environment(tmp_path, server.url)
        env["LANTOA_DATABASE"] = str(BACKEND.location(tmp_path / "lantoa.sqlite3"))
        async with bot_process(env, log) as process:
            fake.send_text(mai.user_id, "/report")
            await fake.wait_for(lambda f: _shows(f, mai.user_id, "deed_date"), timeout=20)
            # What start-up decides (schedules caught up) is done: the outage meets the bot
            # at rest, as it mostly would. (Start-up's own catch-up lost to an outage is
            # caught up at the next start.)
            await _log_says(log, STARTED_UP)
            await asyncio.to_thread(cluster.stop_server)
            [today] = [m for m in fake.messages(mai.user_id) if "Hôm nay" in str(m)][-1:]
            data = next(d for t, d in fake.inline_buttons(today) if t.startswith("Hôm nay"))
            fake.press(mai.user_id, today["message_id"], data)
            await asyncio.sleep(seconds)  # the outage itself, not a wait for the bot
            assert process.returncode is None, f"the bot stopped; log: {log.read_text()}"
            await asyncio.to_thread(cluster.start_server)
            back = time.monotonic()
            await fake.wait_for(lambda f: _shows(f, mai.user_id, "field"), timeout=BACK_WITHIN)
            print(f"\nthe server away {seconds:.0f}s: `lantoa run` answered "
                  f"{time.monotonic() - back:.2f}s after it was back")
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 20) == 0, "a clean stop at the end"
    said = log.read_text()
    # Away longer than the lease (lease_seconds, 10), the process stopped acting, as a standby
    # would take over then, and took the lease back once the server was back
    # (bot/runtime/standby.py); each pool (the bot's, the lease's) says at most once that the
    # server is away, and once that it is back.
    assert said.count("lost the lease") == 1 and said.count("took the lease") == 2, said
    assert said.count("cannot be reached") <= 2, said
    assert 1 <= said.count("connected to the database server again") <= 2, said
    assert "polling failed" not in said and "Traceback" not in said, said


async def _log_says(log: Path, words: str, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while words not in log.read_text():
            await asyncio.sleep(0.05)


def _shows(fake: FakeTelegram, user_id: int, step: str) -> bool:
    return prompt_of(step) in visible((fake.last_message(user_id) or {}).get("text") or "")


async def test_lantoa_run_outlives_the_server_away_for_a_while(
        tmp_path: Path, cluster: Cluster) -> None:
    await _outage(tmp_path, cluster, LONG_OUTAGE_SECONDS)


@pytest.mark.heavy
async def test_lantoa_run_outlives_the_server_away_for_half_a_minute(
        tmp_path: Path, cluster: Cluster) -> None:
    await _outage(tmp_path, cluster, HEAVY_OUTAGE_SECONDS)
