"""A standby that takes over (issue 15): the lease (storage/leases.py, bot/runtime/standby.py)
on both backends; then real `lantoa run` processes on one PostgreSQL database against the
HTTP fake of the Bot API: exactly one answers, and the other takes over within 15 s when the
active one is killed, hangs, loses its database or stops; a second process on a SQLite file is
refused; `lantoa status` says who is active."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from bot.runtime.standby import (
    MARGIN_SECONDS,
    LeaseGuard,
    LeaseKeeper,
    LeaseLost,
    holder_is_dead,
    this_process,
)
from handlers.pacing import PACED
from storage import groups, leases, schedules, units
from storage.db import Database, background
from storage.entities import NewUnit
from storage.leases import Holder
from storage.schedules import Every, NewSchedule, ScheduleKind
from tests import databases
from tests.crash_members import Board, T, members_of, prepare_database
from tests.fakebot import FakeBotServer, FakeTelegram
from tests.fakebot.faults import RandomFaults
from tests.harness import BACKEND, migrated_database
from tests.postgres import ROLE
from tests.test_crash_restart import (
    DOWNTIME,
    FINISH_DEADLINE,
    LEAVING_DRAFTS,
    LIFETIME,
    MEMBERS,
    Owed,
    Run,
    _cards_owed,
    _check_database,
    _check_owed_cards_shown,
    _summary,
)
from tests.test_end_to_end import LANTOA, MAI, TOKEN, bot_environment, bot_process
from tests.test_faults import RATE as FAULT_RATE

BOT = 123456


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await migrated_database(tmp_path / "lantoa.sqlite3")
    yield database
    await database.close()


def _holder(name: str, host: str = "other-host", pid: int = 4242) -> Holder:
    return Holder(name, host, pid)


async def _take(db: Database, me: Holder, seconds: float = 10,
                dead: str | None = None) -> leases.Lease | None:
    async with db.transaction() as tx:
        return await leases.take(tx, BOT, me, seconds, dead)


async def test_a_lease_is_taken_renewed_and_refused_to_another(db: Database) -> None:
    one, two = _holder("one"), _holder("two")
    first = await _take(db, one)
    assert first is not None and first.holder == "one" and first.epoch == 1
    assert await _take(db, two) is None, "refused while the other holds it"
    renewed = await _take(db, one)
    assert renewed is not None
    assert (renewed.epoch, renewed.since) == (first.epoch, first.since), "a renewal"
    assert renewed.expires_at >= first.expires_at
    async with db.transaction() as tx:
        held = await leases.current(tx, BOT)
        assert held is not None and held.holder == "one"
        assert await leases.database_now(tx) < held.expires_at


async def test_an_expired_lease_is_taken_over_with_a_new_epoch(db: Database) -> None:
    one, two = _holder("one"), _holder("two")
    await _take(db, one, seconds=-1)  # as if it had run out a second ago
    taken = await _take(db, two)
    assert taken is not None and taken.holder == "two" and taken.epoch == 2
    assert await _take(db, one) is None, "the old holder does not take it back"
    async with db.transaction() as tx:
        assert await leases.release(tx, BOT, two)
        assert not await leases.release(tx, BOT, one), "only the holder releases"
    again = await _take(db, one)
    assert again is not None and again.epoch == 3, "a released lease is taken at once"


async def test_our_own_lapsed_lease_taken_again_is_a_new_epoch(db: Database) -> None:
    """A holder whose lease ran out (it hung) and that nobody took meanwhile gets it back, but
    as a new epoch: its keeper sees the change and stops acting rather than going on."""
    one = _holder("one")
    await _take(db, one, seconds=-1)
    again = await _take(db, one)
    assert again is not None and again.epoch == 2


async def test_a_holder_named_dead_is_taken_at_once(db: Database) -> None:
    one, two = _holder("one"), _holder("two")
    await _take(db, one)
    assert await _take(db, two, dead="someone-else") is None, "only the holder named"
    taken = await _take(db, two, dead="one")
    assert taken is not None and taken.holder == "two" and taken.epoch == 2


async def test_two_takers_at_once_one_wins(db: Database, tmp_path: Path) -> None:
    other = await Database.open(BACKEND.location(tmp_path / "lantoa.sqlite3"))
    try:
        results = await asyncio.gather(*(_take(on, _holder(name))
                                         for on, name in ((db, "one"), (other, "two"))))
    finally:
        await other.close()
    assert sum(r is not None for r in results) == 1, results


async def test_a_transaction_timed_out_waiting_for_sqlites_lock_leaves_none_open(
        tmp_path: Path, backend: str) -> None:
    """A lease renewal times out while another connection writes (seen at a Friday's 16:00):
    its BEGIN IMMEDIATE, still waiting in aiosqlite's thread, must not begin there afterwards
    and keep the file's write lock for good ("database is locked" for everyone after)."""
    if backend != "sqlite":
        pytest.skip("SQLite's one writer; PostgreSQL has row locks")
    path = tmp_path / "lantoa.sqlite3"
    await (await migrated_database(path)).close()
    keeper, bot = await Database.open(path), await Database.open(path)
    try:
        writing, done = asyncio.Event(), asyncio.Event()

        async def write() -> None:
            async with bot.transaction() as tx:
                await tx.run("UPDATE units SET name = name")
                writing.set()
                await done.wait()

        writer = asyncio.create_task(write())
        await writing.wait()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2), keeper.transaction() as tx:
                await leases.current(tx, 1)
        done.set()
        await writer
        async with asyncio.timeout(10):
            async with bot.transaction() as tx:  # the file's lock is free again
                await tx.run("UPDATE units SET name = name")
            async with keeper.transaction() as tx:  # and the timed-out one began nothing
                assert await leases.current(tx, 1) is None
    finally:
        await keeper.close()
        await bot.close()


async def test_on_sqlite_the_renewal_takes_its_turn_among_the_bots_writes(
        tmp_path: Path, backend: str) -> None:
    """A thousand jobs' transactions back to back (a Friday's 16:00) keep SQLite's write lock
    all but a moment at a time: the keeper's connection, left to SQLite's busy handler, lost
    that race for longer than the lease. Its turn among the bot's transactions comes at the
    next one's end (whose turn it is, not how long anything took, is what keeps it)."""
    if backend != "sqlite":
        pytest.skip("SQLite's one writer; PostgreSQL has row locks")
    path = tmp_path / "lantoa.sqlite3"
    bot = await migrated_database(path)
    try:
        async with LeaseKeeper(path, 1, 3.0, turns=bot.turns) as keeper:
            assert await keeper.acquire(asyncio.Event())
            renewals: set[float] = set()
            with background():
                while len(renewals) < 4:  # the take and three renewals (one a second)
                    async with bot.transaction() as tx:
                        await tx.run("UPDATE units SET name = name")
                        await asyncio.sleep(0.01)  # a job's work, the lock held meanwhile
                        lease = await leases.current(tx, 1)
                    assert lease is not None and not keeper.lost.is_set()
                    renewals.add(lease.renewed_at)
    finally:
        await bot.close()


def test_the_same_host_shortcut_knows_the_dead() -> None:
    me = this_process()
    lease = leases.Lease(BOT, "old", me.host, 0, 1, 0.0, 0.0, 1e12)
    dead_pid = _a_finished_pid()
    assert holder_is_dead(replace(lease, pid=dead_pid), me)
    assert holder_is_dead(replace(lease, pid=me.pid), me), (
        "our own pid under another instance: a restarted container's pid 1")
    assert not holder_is_dead(replace(lease, pid=os.getppid()), me), "alive"
    assert not holder_is_dead(replace(lease, host="another", pid=dead_pid), me), (
        "another host's pids are not ours to judge")
    assert not holder_is_dead(replace(lease, holder=me.instance, pid=me.pid), me), "ours"


def _a_finished_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_the_guard_lapses_before_the_lease() -> None:
    now = [100.0]
    guard = LeaseGuard(lambda: now[0])
    with pytest.raises(LeaseLost):
        guard.check()
    guard.extend(100.0, 10)
    guard.check()
    now[0] = 100.0 + 10 - MARGIN_SECONDS - 0.01
    guard.check()
    now[0] += 0.02
    assert not guard.valid()
    with pytest.raises(LeaseLost):
        guard.check()


async def test_status_before_any_bot_ran(tmp_path: Path, backend: str) -> None:
    env = bot_environment(tmp_path, "http://127.0.0.1:9")
    if backend == "sqlite":
        (tmp_path / "lantoa.sqlite3").touch()
    lines = (await _lantoa_status(env)).splitlines()
    # The inbox and the ledger are told per bot: with none, there is nothing more to say.
    assert lines == [T.plain("cli.status.no_bots")]


async def test_a_keeper_waits_as_standby_and_takes_over_once_released(tmp_path: Path,
                                                                       backend: str) -> None:
    location = BACKEND.location(tmp_path / "lantoa.sqlite3")
    stop = asyncio.Event()
    async with LeaseKeeper(location, BOT, 10, _holder("one", pid=1)) as first, \
            LeaseKeeper(location, BOT, 10, _holder("two", pid=2)) as second:
        assert await first.acquire(stop)
        assert first.guard.valid()
        if backend == "sqlite":
            return  # the second is refused: test_a_second_run_on_sqlite_is_refused
        waiting = asyncio.create_task(second.acquire(stop))
        await asyncio.sleep(1.5)
        assert not waiting.done(), "the second waits while the first holds the lease"
        async with second.db.reading() as tx:
            roles = {p.instance: p.role for p in await leases.processes(tx, BOT)}
        assert roles == {"one": "active", "two": "standby"}
        await first.stand_down(release=True)
        assert not first.guard.valid()
        assert await asyncio.wait_for(waiting, 5)
        assert second.epoch == 2


# --------------------------------------------------------------------------- real processes

TAKEOVER_SECONDS = 15.0  # the promise, after a kill, a hang or a lost database


class Proxy:
    """A TCP port in front of the test cluster's Unix socket, which the test can cut: the
    database lost to one process (a network partition), not to the other."""

    def __init__(self, socket_path: Path) -> None:
        self.socket_path = socket_path
        self.cut = False
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def __aenter__(self) -> Proxy:
        self._server = await asyncio.start_server(self._link, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        self.sever()

    def sever(self) -> None:
        """Every connection through the proxy is closed, and new ones too from now on."""
        self.cut = True
        for writer in list(self._links):
            writer.transport.abort()

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut:
            writer.transport.abort()
            return
        server_reader, server_writer = await asyncio.open_unix_connection(str(self.socket_path))
        self._links |= {writer, server_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.transport.abort()
                self._links.discard(sink)
        await asyncio.gather(pipe(reader, server_writer), pipe(server_reader, writer))


@dataclass
class Bot:
    """One `lantoa run` process, with an HTTP fake of its own in front of the shared
    FakeTelegram: the calls it made are those its server saw."""

    name: str
    server: FakeBotServer
    env: dict[str, str]
    process: asyncio.subprocess.Process | None = None

    def sent(self) -> int:
        """Bot API requests that put something into a chat, made through this one."""
        return sum(path.rsplit("/", 1)[-1] in PACED for _, path in self.server.requests)

    def requests(self) -> int:
        return len(self.server.requests)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid


async def _eventually(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Seconds until `check()` holds (looked at every 0.1 s, e.g. a database read)."""
    began = time.monotonic()
    while not check():
        if time.monotonic() - began > timeout:
            raise AssertionError(f"not within {timeout}s: {what}")
        await asyncio.sleep(0.1)
    return time.monotonic() - began


def _roles(database: str) -> dict[int, str]:
    return dict(databases.rows(database, "SELECT pid, role FROM processes"))


def _holder_pid(database: str) -> int | None:
    rows = databases.rows(database, "SELECT pid FROM leases WHERE expires_at > "
                          "EXTRACT(EPOCH FROM clock_timestamp())")
    return int(rows[0][0]) if rows else None


class Scene:
    """One FakeTelegram, a member who asks for /help, and the bots on one database."""

    def __init__(self, tmp_path: Path, fake: FakeTelegram, database: str) -> None:
        self.tmp_path, self.fake, self.database = tmp_path, fake, database
        self.log = tmp_path / "bots.log"
        self._stack = AsyncExitStack()

    async def bot(self, name: str, database: str | None = None) -> Bot:
        server = await self._stack.enter_async_context(FakeBotServer(self.fake, TOKEN))
        env = bot_environment(self.tmp_path, server.url)
        env["LANTOA_DATABASE"] = database or self.database
        return Bot(name, server, env)

    async def start(self, bot: Bot) -> Bot:
        bot.process = await self._stack.enter_async_context(bot_process(bot.env, self.log))
        return bot

    async def ask(self, timeout: float = TAKEOVER_SECONDS) -> float:
        """/help from the member; seconds until it is answered."""
        before = len(self.fake.messages(MAI))
        began = time.monotonic()
        self.fake.send_text(MAI, "/help")
        await self.fake.wait_for(lambda f: len(f.messages(MAI)) > before, timeout=timeout)
        return time.monotonic() - began

    async def active_and_standby(self, active: Bot, standby: Bot) -> None:
        await _eventually(lambda: _holder_pid(self.database) == active.pid
                          and _roles(self.database).get(standby.pid) == "standby",
                          TAKEOVER_SECONDS, f"{active.name} active, {standby.name} standby")

    async def __aenter__(self) -> Scene:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()


@asynccontextmanager
async def _scene(tmp_path: Path, backend: str) -> AsyncIterator[Scene]:
    if backend != "postgresql":
        pytest.skip("a standby needs PostgreSQL; SQLite refuses a second process "
                    "(test_a_second_run_on_sqlite_is_refused)")
    fake = FakeTelegram()
    fake.add_user(MAI, "Mai", "Hoàng Thị")
    database = str(BACKEND.location(tmp_path / "lantoa.sqlite3"))
    async with Scene(tmp_path, fake, database) as scene:
        yield scene


async def _pair(scene: Scene) -> tuple[Bot, Bot]:
    """The first started is active (it answers), the second waits as standby."""
    first = await scene.start(await scene.bot("first"))
    await scene.ask()
    second = await scene.start(await scene.bot("second"))
    await scene.active_and_standby(first, second)
    return first, second


async def test_one_answers_and_the_standby_takes_over_after_a_kill(tmp_path: Path,
                                                                  backend: str) -> None:
    async with _scene(tmp_path, backend) as scene:
        first, second = await _pair(scene)
        sent = second.sent()
        await scene.ask()
        assert second.sent() == sent and second.requests() == 0, (
            "the standby never called Telegram")
        status = await _lantoa_status(first.env)
        assert f"tiến trình {first.pid}" in status and "Dự phòng: máy" in status, status
        assert f"tiến trình {second.pid}, thấy lần cuối" in status, status
        assert f"(@{scene.fake.bot_username}):" in status, "the bot named by its username"
        assert first.process is not None
        first.process.send_signal(signal.SIGKILL)
        await first.process.wait()
        took = await scene.ask()
        assert took < TAKEOVER_SECONDS
        assert second.sent() > sent, "the standby answered"
        assert _holder_pid(scene.database) == second.pid
        status = await _lantoa_status(first.env)
        silent = f"Không còn tín hiệu: máy {socket.gethostname()}, tiến trình {first.pid}"
        assert silent in status, f"the killed one is not called a standby: {status}"


async def _lantoa_status(env: dict[str, str]) -> str:
    process = await asyncio.create_subprocess_exec(
        str(LANTOA), "status", env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_a_hung_active_is_replaced_and_stays_standby_when_it_resumes(
        tmp_path: Path, backend: str) -> None:
    """SIGSTOP: the pid still runs, so the standby waits for the lease to run out; the old
    one, resumed, finds its guard lapsed, calls Telegram no more and waits as a standby."""
    async with _scene(tmp_path, backend) as scene:
        first, second = await _pair(scene)
        assert first.process is not None
        first.process.send_signal(signal.SIGSTOP)
        try:
            took = await scene.ask()
        finally:
            calls_of_the_hung = first.requests()
            first.process.send_signal(signal.SIGCONT)
        assert took < TAKEOVER_SECONDS
        assert _holder_pid(scene.database) == second.pid
        await _eventually(lambda: _roles(scene.database).get(first.pid) == "standby",
                          TAKEOVER_SECONDS, "the resumed process waits as a standby")
        await scene.ask()
        assert first.requests() == calls_of_the_hung, (
            "the resumed process called Telegram again: "
            f"{first.server.requests[calls_of_the_hung:]}")
        assert _holder_pid(scene.database) == second.pid
        assert first.process.returncode is None


async def test_an_active_that_loses_its_database_is_replaced(tmp_path: Path, backend: str,
                                                            request: pytest.FixtureRequest
                                                            ) -> None:
    """The active process reaches the database through a proxy the test cuts: its renewals
    fail, it stops calling Telegram before its lease runs out, and the standby (on the
    database's own socket) takes over. With the database back, the old one stays standby."""
    async with _scene(tmp_path, backend) as scene:
        cluster = request.getfixturevalue("postgres_cluster")
        name = urlsplit(scene.database).path.lstrip("/")
        async with Proxy(cluster.folder / f".s.PGSQL.{cluster.port}") as proxy:
            through = f"postgresql://{ROLE}@127.0.0.1:{proxy.port}/{name}"
            first = await scene.start(await scene.bot("first", through))
            await scene.ask()
            second = await scene.start(await scene.bot("second"))
            await scene.active_and_standby(first, second)
            proxy.sever()
            cut_at = time.monotonic()
            took = await scene.ask(timeout=TAKEOVER_SECONDS + 5)
            assert time.monotonic() - cut_at < TAKEOVER_SECONDS, took
            assert _holder_pid(scene.database) == second.pid
            calls = first.requests()
            await scene.ask()
            assert first.requests() == calls, (
                f"cut off, it called Telegram: {first.server.requests[calls:]}")
            proxy.cut = False  # the database is back for it
            await _eventually(lambda: _roles(scene.database).get(first.pid) == "standby",
                              TAKEOVER_SECONDS, "the old one, reconnected, is a standby")
            await scene.ask()
            assert first.requests() == calls
            assert _holder_pid(scene.database) == second.pid


async def test_a_stopped_active_hands_over_at_once(tmp_path: Path, backend: str) -> None:
    """SIGTERM: the active one stops cleanly and ends its lease; the standby does not wait
    for it to run out."""
    async with _scene(tmp_path, backend) as scene:
        first, second = await _pair(scene)
        assert first.process is not None
        first.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(first.process.wait(), 20) == 0
        after_exit = await _eventually(lambda: _holder_pid(scene.database) == second.pid,
                                       TAKEOVER_SECONDS, "the standby took over")
        assert after_exit < 3, f"{after_exit:.1f}s after the clean stop: not at once"
        await scene.ask(timeout=5)


async def test_two_started_at_once_one_is_active(tmp_path: Path, backend: str) -> None:
    async with _scene(tmp_path, backend) as scene:
        bots = [await scene.bot("one"), await scene.bot("two")]
        await asyncio.gather(*(scene.start(bot) for bot in bots))
        await scene.ask()
        await _eventually(lambda: sorted(_roles(scene.database).values())
                          == ["active", "standby"], TAKEOVER_SECONDS, "one active, one standby")
        await scene.ask()
        assert len(scene.fake.messages(MAI)) == 2, "each /help answered once"
        talking = [bot.name for bot in bots if bot.requests()]
        assert len(talking) == 1, f"both called Telegram: {talking}"


async def test_a_second_run_on_sqlite_is_refused(tmp_path: Path, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("on PostgreSQL the second process is a standby (the tests above)")
    fake = FakeTelegram()
    fake.add_user(MAI, "Mai", "Hoàng Thị")
    async with Scene(tmp_path, fake, str(tmp_path / "lantoa.sqlite3")) as scene:
        first = await scene.start(await scene.bot("first"))
        await scene.ask()
        second = await scene.bot("second")
        status = await _lantoa_status(second.env)
        assert T.plain("cli.status.active", host=socket.gethostname(), pid=first.pid,
                       since="", renewed="", ago="").split(",")[:2] == \
            status.splitlines()[1].split(",")[:2], status
        refused = await asyncio.create_subprocess_exec(
            str(LANTOA), "run", env=second.env, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        _out, err = await asyncio.wait_for(refused.communicate(), 30)
        assert refused.returncode == 2
        line = err.decode().strip().splitlines()[-1]
        assert line == "lantoa: " + T.plain("cli.standby.sqlite", pid=first.pid,
                                            host=socket.gethostname()), line
        assert second.requests() == 0
        assert first.process is not None
        first.process.send_signal(signal.SIGKILL)
        await first.process.wait()
        (ends,) = databases.rows(scene.database, "SELECT expires_at FROM leases")[0]
        await scene.start(second)
        await scene.ask()
        (since,) = databases.rows(scene.database, "SELECT since FROM leases")[0]
        assert since < ends, "its holder dead on this host, the file is taken at once, " \
            "not once the dead one's lease has run out"


# --------------------------------------------------------------------------- the count

GROUPS = 30  # units with a group of their own, each owed a digest when the run begins
KILLS = 10


def _quiet_hours_off(env: dict[str, str]) -> None:
    """Digests go out whatever the hour the test runs at."""
    env["LANTOA_QUIET_HOURS_START"] = env["LANTOA_QUIET_HOURS_END"] = "0"


async def _add_groups(database: str, fake: FakeTelegram) -> list[int]:
    """GROUPS cells without members, each linked to a group of the fake; every unit's weekly
    digest fell due ten minutes ago (its schedule made the day before), so each start catches
    up the digests not decided yet while the members fill their forms."""
    chats = []
    due = dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")) - dt.timedelta(minutes=10)
    digest = NewSchedule(unit_id=0, kind=ScheduleKind.DIGEST, every=Every.WEEK,
                         weekday=due.weekday(), at=due.time().replace(second=0, microsecond=0))
    db = await Database.open(database)
    try:
        async with db.transaction() as tx:
            commune = await units.add_unit(tx, NewUnit(name="Đảng bộ xã Đề Thám",
                                                       kind="đảng bộ xã"), dt.datetime.now(dt.UTC))
            for n in range(GROUPS):
                cell = await units.add_unit(tx, NewUnit(name=f"Chi bộ khối {n + 1}",
                                                        kind="chi bộ", parent_id=commune.id),
                                            dt.datetime.now(dt.UTC))
                chat = -1009000 - n
                fake.add_group(chat, f"Chi bộ khối {n + 1}")
                await groups.link(tx, cell.id, chat)
                chats.append(chat)
            await schedules.add_missing_standard(tx, [digest], due - dt.timedelta(days=1))
    finally:
        await db.close()
    return chats


def _check_digests(database: str, fake: FakeTelegram, chats: list[int]) -> str:
    """Each group's digest decided once, settled sent (or uncertain: cut off mid-send, never
    sent again), and nothing shown twice in a group. What became of them, in words."""
    rows = databases.rows(database, "SELECT chat_id, status FROM deliveries WHERE kind = ?",
                          ("digest",))
    statuses = {int(chat): status for chat, status in rows if int(chat) in chats}
    assert len([chat for chat, _ in rows if int(chat) in chats]) == len(chats), rows
    assert set(statuses.values()) <= {"sent", "uncertain"}, statuses
    arrived = set()
    for chat in chats:
        shown = Counter((c.method, c.params.get("text") or c.params.get("caption"))
                        for c in fake.calls if c.chat_id == chat and not c.error)
        twice = [what for what, n in shown.items() if n > 1]
        assert not twice, f"group {chat} was shown twice: {twice}"
        if statuses[chat] == "sent":
            assert shown, f"group {chat}'s digest is 'sent' but never arrived"
        if shown:
            arrived.add(chat)
    sent = sum(s == "sent" for s in statuses.values())
    uncertain_arrived = sum(statuses[chat] == "uncertain" for chat in arrived)
    # A row is 'sending' only from the moment its call goes: a kill can leave a digest that
    # never arrived uncertain only within that moment, not while it waits its turn (then all
    # thirty could be lost, as three seeds in eleven once were).
    lost = len(chats) - sent - uncertain_arrived
    assert lost <= KILLS, f"{lost} digests never arrived, called uncertain"
    return (f"digests: {sent} sent, {len(chats) - sent} uncertain ({uncertain_arrived} of them "
            f"had arrived)")


class Pair:
    """Two `lantoa run` on one database: SIGKILL the active one, the other takes over, and
    the killed one is started again as the new standby."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.processes: list[asyncio.subprocess.Process] = []

    async def start(self) -> None:
        with self.log.open("ab") as sink:
            self.processes.append(await asyncio.create_subprocess_exec(
                str(LANTOA), "run", env=self.env, stdout=sink, stderr=sink))

    async def kill_active(self, database: str) -> None:
        await _eventually(lambda: _holder_pid(database) in {p.pid for p in self.processes},
                          TAKEOVER_SECONDS, "a process holds the lease")
        active = next(p for p in self.processes if p.pid == _holder_pid(database))
        assert active.returncode is None, f"the bot stopped on its own; log: {self.log}"
        active.send_signal(signal.SIGKILL)
        await active.wait()
        self.processes.remove(active)

    async def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        codes = [await asyncio.wait_for(p.wait(), 30) for p in self.processes]
        assert codes == [0] * len(codes), f"clean stops at the end: {codes}"

    def kill_all(self) -> None:
        for process in self.processes:
            if process.returncode is None:
                process.kill()


async def _crash_with_a_standby(tmp_path: Path, seed: int, faults: bool = False) -> str:
    """`faults`: a fifth of the sends into the groups fail too (429, 5xx, lost on the way:
    tests/test_faults.py's faults), so that digests are retried across the failovers."""
    rng = random.Random(seed)
    fake = FakeTelegram()
    database = str(BACKEND.location(tmp_path / "lantoa.sqlite3"))
    joined = await prepare_database(tmp_path / "lantoa.sqlite3", MEMBERS)
    chats = await _add_groups(database, fake)
    if faults:
        fake.gates.append(RandomFaults(rate=FAULT_RATE, seed=seed, chats=set(chats)))
    crew = members_of(fake, Board(fake), joined, seed)
    leaving = set(rng.sample(range(len(crew)), round(len(crew) * LEAVING_DRAFTS)))
    kills_done, owed = asyncio.Event(), []
    by_user = {m.user_id: m for m in crew}
    began = time.monotonic()
    async with FakeBotServer(fake, TOKEN) as server:
        env = bot_environment(tmp_path, server.url)
        env["LANTOA_DATABASE"] = database
        _quiet_hours_off(env)
        pair = Pair(env, tmp_path / "bots.log")
        try:
            await pair.start()
            await pair.start()
            async with asyncio.TaskGroup() as members:
                runs = [members.create_task(m.run(kills_done, n in leaving))
                        for n, m in enumerate(crew)]
                for _ in range(KILLS):
                    await asyncio.sleep(rng.uniform(*LIFETIME))
                    calls = len(fake.calls)
                    await pair.kill_active(database)
                    owed += [Owed(by_user[user], len(by_user[user].filed), calls,
                                  by_user[user].card_began) for user in _cards_owed(database)]
                    await asyncio.sleep(rng.uniform(*DOWNTIME))
                    await pair.start()  # the new standby
                kills_done.set()
                await asyncio.wait_for(asyncio.gather(*runs), FINISH_DEADLINE)
                await asyncio.gather(*(m.resumes() for m in crew if m.stopped_at is not None))
            await _eventually(lambda: not databases.rows(
                database, "SELECT 1 FROM deliveries WHERE status IN ('queued', 'sending')"),
                60, "the digests are all settled")
            await pair.stop()
        finally:
            pair.kill_all()
    _check_database(database, crew)
    _check_owed_cards_shown(owed)
    digests = _check_digests(database, fake, chats)
    summary = _summary(Run(seed, KILLS), crew, owed, time.monotonic() - began)
    return f"{summary}; with a standby; {digests}"


@pytest.mark.heavy  # every CI run has it through faults (below)
@pytest.mark.parametrize("seed", [20261207])
async def test_killing_the_active_during_forms_and_a_digest_run(
        tmp_path: Path, seed: int, backend: str) -> None:
    """The issue's count: 50 members' forms and a digest run for 30 groups, the active
    process SIGKILLed 10 times at seeded moments with a standby taking over each time and the
    killed one started again as the new standby: every report a member saw confirmed is
    stored once, nothing twice, no digest decided or shown twice (tests/test_crash_restart.py
    has the checks)."""
    if backend != "postgresql":
        pytest.skip("a standby needs PostgreSQL (test_crash_restart.py is SQLite's)")
    print(await _crash_with_a_standby(tmp_path, seed))


@pytest.mark.parametrize("seed", [20261208])
async def test_killing_the_active_while_sends_fail(tmp_path: Path, seed: int,
                                                   backend: str) -> None:
    """The same through Telegram's faults: every group's digest still arrives at most once,
    and all but those cut off mid-send arrive."""
    if backend != "postgresql":
        pytest.skip("a standby needs PostgreSQL (test_faults.py is SQLite's)")
    print(await _crash_with_a_standby(tmp_path, seed, faults=True))


@pytest.mark.heavy
@pytest.mark.parametrize("seed", range(1, 11))
async def test_killing_the_active_heavy(tmp_path: Path, seed: int, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("a standby needs PostgreSQL")
    print(await _crash_with_a_standby(tmp_path, seed))
