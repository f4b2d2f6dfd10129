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
import datetime as dt
import time
from collections import Counter
from pathlib import Path

from bench.broadcast import floor_seconds
from bench.machine import load_average
from bot.rules.periods import Period
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
from tests.fakebot import FakeRequest, FakeTelegram
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
            await outbox.settled(app, SETTLE_SECONDS)
            settled = time.monotonic() - start
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
