"""Issue 14: a province's Monday end to end, from 07:30 to the last digest delivered, as a ratio
to the send floor (messages ÷ 30 per second); run by `bench.digests --monday` on each backend.

The bot is the real Application, in this process as in bench/broadcast.py (`build_application`
+ `running`: the job queue, the paced sender), on a copy of the province, against the
in-process fake Bot API with Telegram's caps (`TelegramLimits`: 429 beyond them) and 150 ms a
call. Its clock says Monday 07:29:50 while it starts (the start-up's catch-up and its sends are
left to settle first); then it says 07:30 and every digest job of that moment runs at once, as
the job queue fires them: the first decides the province (figures, texts, real charts drawn in
a worker thread, chunk by chunk) and the paced sender sends each chunk as it is decided. The
end is the last digest the fake carried out. The fake, the members' chats and the bot share
this process: its CPU time holds all three."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench import memtrace
from bench.broadcast import floor_seconds
from bench.machine import load_average, memory_mb, stop_process
from bot.rules.periods import Period, key_of
from bot.runtime.app import build_application, running
from bot.runtime.clock import FixedClock
from bot.runtime.config import Settings
from bot.runtime.core import Core
from bot.runtime.pacing import RealTime
from bot.runtime.services import Services
from bot.ui.catalogue import Catalogue
from handlers import deliveries as outbox
from handlers import schedules as jobs
from storage import deliveries, schedules
from storage.db import Database, Tx
from storage.deliveries import Status
from storage.schedules import Every, ScheduleKind
from tests.fakebot import FakeBotServer, FakeRequest, FakeTelegram
from tests.fakebot.limits import TelegramLimits

TOKEN = "123456:BENCH-token"
LATENCY = 0.15
SENDS_PER_SECOND = 30  # bench/broadcast.py's floor_seconds: 30/s, and 20/min into a group
SENDS = frozenset({"sendMessage", "sendPhoto", "sendMediaGroup"})
SETTLE_SECONDS = 3600.0


async def _audience(tx: Tx, fake: FakeTelegram) -> None:
    """Every member's private chat and every linked group, known to the fake."""
    for row in await tx.all("SELECT telegram_user_id FROM people"
                            " WHERE telegram_user_id IS NOT NULL"):
        fake.add_user(int(row["telegram_user_id"]), "Đảng viên")
    for row in await tx.all("SELECT group_chat_id FROM units WHERE group_chat_id IS NOT NULL"):
        fake.add_group(int(row["group_chat_id"]), "Nhóm")


async def monday(location: Path | str, week: Period) -> None:
    """The Monday after `week` on the database at `location` (a copy: it is written)."""
    settings = Settings(database=location, poll_timeout=1)
    at = dt.datetime.combine(week.last + dt.timedelta(days=1), settings.schedule.digest_time,
                             settings.zone)
    memtrace.moment("the start (imports, the bench's own)")
    db = await Database.open(location)
    clock = FixedClock(at - dt.timedelta(seconds=10))
    fake = FakeTelegram()
    fake.time_source = time.monotonic
    fake.latency = LATENCY
    limits = TelegramLimits()
    fake.gates.append(limits)
    core = Core.build(Services(settings, db, Catalogue.load(), clock))
    app = build_application(core, TOKEN, request=FakeRequest(fake),
                            updates_request=FakeRequest(fake), pacing_time=RealTime())
    try:
        async with db.transaction() as tx:
            await _audience(tx, fake)
            digest_rows = [r.id for r in await schedules.every_schedule(tx)
                           if r.kind is ScheduleKind.DIGEST and r.every is Every.WEEK
                           and r.enabled]
        async with running(app):
            began = time.monotonic()
            await jobs.installed(app)
            await outbox.settled(app, SETTLE_SECONDS)
            print(f"  start-up at 07:29:50 (jobs built, catch-up decided and sent): "
                  f"{time.monotonic() - began:.1f} s", flush=True)
            memtrace.moment("the end of the start-up (jobs built, catch-up sent)")
            async with db.transaction() as tx:
                already = {r.id for r in await deliveries.in_ledger(tx)}
            mark, refused = len(fake.calls), len(limits.refused)
            clock.moment = at
            cpu, start = time.process_time(), time.monotonic()
            assert app.job_queue is not None
            fired = [job for row in digest_rows
                     for job in app.job_queue.get_jobs_by_name(jobs.job_name(row))]
            await asyncio.gather(*(job.run(app) for job in fired))
            decided = time.monotonic() - start
            memtrace.moment("the end of the decision (every digest job returned)")
            await outbox.settled(app, SETTLE_SECONDS)
            settled = time.monotonic() - start
            memtrace.moment("the end of the sending (the ledger settled)")
            cpu = time.process_time() - cpu
            async with db.transaction() as tx:
                rows = [r for r in await deliveries.in_ledger(tx) if r.id not in already]
    finally:
        await db.close()
    sent = [c for c in fake.calls[mark:] if c.method in SENDS and not c.error]
    last = max(c.at for c in sent if c.at is not None) - start if sent else float("nan")
    # A digest is a chart and its text: two sends a ledger row, each under the caps.
    floor = floor_seconds(Counter(c.chat_id for c in sent if c.chat_id is not None))
    kinds = Counter(r.kind for r in rows)
    print(f"  digest jobs fired at 07:30: {len(fired):,}; all returned after {decided:.1f} s")
    print(f"  ledger rows decided: {len(rows):,} "
          f"({', '.join(f'{kind} {n:,}' for kind, n in kinds.items())});"
          f" not 'sent' {sum(r.status is not Status.SENT for r in rows)}")
    print(f"  sends carried out by the fake: {len(sent):,}; 429s {len(limits.refused) - refused}")
    print(f"  07:30 -> last digest delivered: {last:.1f} s; ledger settled {settled:.1f} s")
    print(f"  send floor (sends ÷ {SENDS_PER_SECOND}/s): {floor:.1f} s;"
          f" ratio {last / floor:.2f} × the floor")
    print(f"  CPU of this process (bot + fake) {cpu:.1f} s; load average "
          f"{load_average()}")


# --- the running bot: `lantoa run` in a process of its own ------------------------------------

FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
BEFORE = dt.timedelta(seconds=60)  # the process starts at 07:29: its start-up first
QUIET = 30.0  # seconds with nothing left to send and no digest added: the Monday is over
LOOK = 0.5  # seconds between looks at the process's memory
REPO = Path(__file__).resolve().parents[1]
DRAWER = "'s chart drawer (bot/ui/charts.py: a process of its own)"


async def _ledger(db: Database, after_id: int, period: str) -> tuple[int, int]:
    """(the period's digests decided since the start, not recorded missed; rows not settled)
    in the bot's database, read apart."""
    async with db.reading() as tx:
        row = await tx.one(
            "SELECT COALESCE(SUM(CASE WHEN kind = 'digest' AND period = ? AND status != 'missed'"
            " THEN 1 ELSE 0 END), 0) AS decided, COALESCE(SUM(CASE WHEN status IN ('queued',"
            " 'sending') THEN 1 ELSE 0 END), 0) AS unsettled FROM deliveries WHERE id > ?",
            (period, after_id))
    assert row is not None
    return int(row["decided"]), int(row["unsettled"])


async def running_bot(location: Path | str, week: Period) -> None:
    """`lantoa run` on the copy at `location`, started at Monday 07:29 by the
    clock libfaketime gives it, against the HTTP fake (in this process) with Telegram's caps
    and 150 ms a call, until every digest is sent; its peak RSS (VmHWM) through the start-up,
    the decision and the sending, from /proc. The bot's memory is its own: the fake is here."""
    settings = Settings(database=location)
    at = dt.datetime.combine(week.last + dt.timedelta(days=1), settings.schedule.digest_time,
                             settings.zone)
    fake = FakeTelegram()
    fake.time_source = time.monotonic
    fake.latency = LATENCY
    fake.gates.append(TelegramLimits())
    db = await Database.open(location)
    try:
        async with db.transaction() as tx:
            await _audience(tx, fake)
            last = await tx.one("SELECT COALESCE(MAX(id), 0) AS id FROM deliveries")
        assert last is not None
        await _run_bot(db, location, at, fake, int(last["id"]), key_of(week))
    finally:
        await db.close()


async def _run_bot(db: Database, location: Path | str, at: dt.datetime, fake: FakeTelegram,
                   start_id: int, period: str) -> None:
    started = (at - BEFORE).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    async with FakeBotServer(fake, TOKEN) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LANTOA_")} | {
            "LANTOA_BOT_TOKEN": TOKEN, "LANTOA_DATABASE": str(location),
            "LANTOA_BOT_API_URL": server.url, "LANTOA_CONFIG": str(REPO / "config.toml"),
            "PYTHONPATH": str(REPO), "TZ": "UTC", "LD_PRELOAD": FAKETIME,
            "FAKETIME": f"@{started}", "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            # The lease outlasts a loaded machine's stalls: the bot's memory is measured here,
            # not its standby (a lost lease stops the bot halfway through its Monday).
            "LANTOA_LEASE_SECONDS": "300"}
        log = Path(tempfile.gettempdir()) / f"lantoa-monday-{os.getpid()}.log"
        with log.open("wb") as sink:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=env, stdout=sink, stderr=sink, cwd=REPO)
        began = time.monotonic()
        peaks: dict[str, float] = {}
        try:
            await _watch(process.pid, db, start_id, period, began, peaks)
        finally:
            await stop_process(process)
    sent = [c for c in fake.calls if c.method in SENDS and not c.error]
    print(f"  the running bot (`lantoa run`, its own process, from 07:29): {len(sent):,} sends"
          f" in {time.monotonic() - began:.0f} s; log {log}")
    for phase, peak in peaks.items():
        print(f"  {'peak RSS of the running bot' + ('' if phase == DRAWER else ' ') + phase:<64}"
              f" {peak:7.1f} MB")
    print(f"  (target < 150 MB); load average {load_average()}")


def _children_peak(pid: int) -> float:
    """The largest peak RSS among the process's children now (the chart drawer)."""
    peak = 0.0
    for task in os.listdir(f"/proc/{pid}/task"):
        with (contextlib.suppress(OSError, ValueError),
              open(f"/proc/{pid}/task/{task}/children") as children):
            for child in children.read().split():
                peak = max(peak, memory_mb("VmHWM", int(child)))
    return peak


async def _watch(pid: int, db: Database, start_id: int, period: str, began: float,
                 peaks: dict[str, float]) -> None:
    """Follows the bot's VmHWM until its Monday is over: the week's digests decided, nothing
    left to send, and no digest added for QUIET seconds. Its peak by 07:30 (the start-up: jobs
    built, catch-up), by the last digest decided (sends going meanwhile), and by the end."""
    rows, changed, peak = 0, time.monotonic(), 0.0
    while True:
        await asyncio.sleep(LOOK)
        # The kernel's high-water mark is brought up to date lazily: it can read lower later.
        peak = max(peak, memory_mb("VmHWM", pid))
        drawer = max(peaks.get(DRAWER, 0.0), _children_peak(pid))
        if drawer:
            peaks[DRAWER] = drawer
        if time.monotonic() - began < BEFORE.total_seconds():
            peaks["by 07:30 (start-up: jobs built, catch-up)"] = peak
            continue
        decided, unsettled = await _ledger(db, start_id, period)
        if decided != rows:
            rows, changed = decided, time.monotonic()
            peaks["by the last digest decided"] = peak
        peaks["by the ledger settled (the whole Monday)"] = peak
        if rows and not unsettled and time.monotonic() - changed > QUIET:
            return
