"""Benchmark 4, broadcast pacing: the Friday 16:00 reminders of `--groups` units, each with its
group linked, and a private nudge to each of `--nudges` members, none of whom has reported.

The bot runs in-process (`build_application` + `running`, as tests/harness.py) on the real
clock (`RealTime`) against the in-process fake Bot API, which enforces Telegram's caps
(`TelegramLimits`: 429 beyond them). At 16:00 every unit's reminder job runs (the real
scheduling code), the deliveries ledger fills and handlers/deliveries.py drains it.

"Allowed" is the fastest any sender may go within Telegram's caps: every message keeps 30/s
overall, and a group receiving n messages needs (ceil(n/20) − 1) minutes for them at 20/min, so
the floor is max(N/30, the slowest group) seconds and the allowed rate is N over that floor.
Here each group gets one message, so the per-group cap never binds and allowed = 30/s.

    .venv/bin/python -m bench.broadcast [--nudges 5000] [--groups 1000] [--quick] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import io
import logging
import math
import os
import pstats
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.machine import load_average
from bot.runtime import pacing
from bot.runtime.app import build_application, running
from bot.runtime.clock import FixedClock
from bot.runtime.config import Settings
from bot.runtime.core import Core
from bot.runtime.pacing import RealTime
from bot.runtime.services import Services
from bot.ui.catalogue import Catalogue
from handlers import deliveries as outbox
from handlers.schedules import job_name
from storage import deliveries, groups, people, schedules, units
from storage.db import Database
from storage.deliveries import Status
from storage.entities import NewUnit, Role
from storage.schedules import ScheduleKind
from tests.fakebot import FakeRequest, FakeTelegram
from tests.fakebot.limits import TelegramLimits

TOKEN = "123456:BENCH-token"
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
# The bot starts a minute before the Friday reminders; the jobs then run "at" 16:00.
BEFORE = dt.datetime(2026, 11, 27, 15, 59, tzinfo=HANOI)
FRIDAY_16 = dt.datetime(2026, 11, 27, 16, 0, tzinfo=HANOI)
FIRST_MEMBER = 200_000
FIRST_GROUP = -1_002_000_000
OVERALL_PER_SECOND = 30
GROUP_PER_MINUTE = 20


@dataclass(frozen=True)
class Audience:
    units: list[int]
    members: list[int]
    groups: list[int]


async def build_database(path: Path, nudges: int, group_count: int) -> Audience:
    """`max(group_count, 1)` cells, the members spread over them round robin; a group linked to
    each of the first `group_count` cells."""
    db = await Database.open(path)
    now = BEFORE - dt.timedelta(days=30)
    try:
        async with db.transaction() as tx:
            cells = [(await units.add_unit(tx, NewUnit(name=f"Chi bộ {n + 1}", kind="chi bộ"),
                                           now)).id for n in range(max(group_count, 1))]
            members = list(range(FIRST_MEMBER, FIRST_MEMBER + nudges))
            for n, user_id in enumerate(members):
                person = await people.add_person(tx, user_id, f"Đảng viên {n + 1}", "vi", now)
                await people.add_membership(tx, person.id, cells[n % len(cells)], Role.MEMBER,
                                            None, now)
            chats = [FIRST_GROUP - n for n in range(group_count)]
            for cell, chat in zip(cells, chats, strict=False):
                await groups.link(tx, cell, chat)
    finally:
        await db.close()
    return Audience(cells, members, chats)


def fake_telegram(audience: Audience) -> tuple[FakeTelegram, TelegramLimits]:
    fake = FakeTelegram()
    fake.time_source = time.monotonic
    for user_id in audience.members:
        fake.add_user(user_id, f"Đảng viên {user_id}")
    for chat in audience.groups:
        fake.add_group(chat, f"Nhóm {chat}")
    limits = TelegramLimits()
    fake.gates.append(limits)
    return fake, limits


@dataclass
class Run:
    messages: int = 0  # ledger rows decided at 16:00
    decide_seconds: float = 0.0  # all jobs run, all rows in the ledger
    total_seconds: float = 0.0  # from the jobs' start until the ledger is settled
    send_window: float = 0.0  # first to last accepted send
    cpu_seconds: float = 0.0  # this process, over the whole run
    refused: int = 0  # 429 answers of the fake
    not_sent: int = 0  # ledger rows settled otherwise than 'sent'
    lost: int = 0  # chats that should have got a message and got none
    twice: int = 0  # chats that got the same kind of message more than once
    floor_seconds: float = 0.0


def floor_seconds(per_chat: Counter[int]) -> float:
    """The least time Telegram's caps allow for these messages (see the module's words)."""
    total = sum(per_chat.values())
    slowest_group = max((math.ceil(n / GROUP_PER_MINUTE) - 1) * 60.0
                        for chat, n in per_chat.items() if chat < 0) if any(
        chat < 0 for chat in per_chat) else 0.0
    return max(total / OVERALL_PER_SECOND, slowest_group)


async def broadcast(path: Path, audience: Audience, timeout: float) -> Run:
    fake, limits = fake_telegram(audience)
    settings = Settings(database=path, poll_timeout=1)
    db = await Database.open(path)
    clock = FixedClock(BEFORE)
    core = Core.build(Services(settings, db, Catalogue.load(), clock))
    app = build_application(core, TOKEN, request=FakeRequest(fake),
                            updates_request=FakeRequest(fake), pacing_time=RealTime())
    run = Run()
    try:
        async with running(app):
            async with db.transaction() as tx:
                reminders = [r.id for r in await schedules.every_schedule(tx)
                             if r.kind is ScheduleKind.REMINDER]
                already = len(await deliveries.in_ledger(tx))
            mark = len(fake.calls)
            clock.moment = FRIDAY_16
            assert app.job_queue is not None
            cpu, start = time.process_time(), time.monotonic()
            for schedule_id in reminders:  # each job at its time, as the job queue runs them
                [job] = app.job_queue.get_jobs_by_name(job_name(schedule_id))
                await job.run(app)
            run.decide_seconds = time.monotonic() - start
            await outbox.settled(app, timeout)
            run.total_seconds = time.monotonic() - start
            run.cpu_seconds = time.process_time() - cpu
            async with db.transaction() as tx:
                rows = (await deliveries.in_ledger(tx))[already:]
        tally(run, rows, fake, limits, mark, audience)
    finally:
        await db.close()
    return run


def tally(run: Run, rows: list, fake: FakeTelegram, limits: TelegramLimits, mark: int,
          audience: Audience) -> None:
    run.messages = len(rows)
    run.not_sent = sum(1 for r in rows if r.status is not Status.SENT)
    run.refused = len(limits.refused)
    sent = [c for c in fake.calls[mark:] if c.method == "sendMessage" and not c.error]
    moments = [c.at for c in sent if c.at is not None]
    run.send_window = max(moments) - min(moments) if moments else 0.0
    got = Counter((c.chat_id, kind_of(c.chat_id)) for c in sent)
    expected = [*audience.members, *audience.groups]
    run.lost = sum(1 for chat in expected if got[chat, kind_of(chat)] == 0)
    run.twice = sum(1 for n in got.values() if n > 1)
    run.floor_seconds = floor_seconds(Counter(r.chat_id for r in rows))


def kind_of(chat_id: int | None) -> str:
    """Each chat gets one kind here: members a nudge, groups the group reminder."""
    return "nudge" if chat_id is not None and chat_id > 0 else "reminder"


def print_run(run: Run, nudges: int, group_count: int) -> None:
    achieved = run.messages / run.total_seconds if run.total_seconds else 0.0
    allowed = run.messages / run.floor_seconds if run.floor_seconds else 0.0
    in_window = run.messages / run.send_window if run.send_window else 0.0
    # The pacer's own cap on broadcasts: BULK if it has one, else its overall limit.
    cap = getattr(pacing, "BULK", pacing.OVERALL)
    bulk = cap.count / cap.window
    rows = [
        ("nudges / group messages decided", f"{nudges} / {group_count} -> {run.messages} rows"),
        ("deciding (all reminder jobs)", f"{run.decide_seconds:.1f} s"),
        ("total, jobs start -> ledger settled", f"{run.total_seconds:.1f} s"),
        ("floor under Telegram's caps", f"{run.floor_seconds:.1f} s"),
        ("achieved rate (rows / total)", f"{achieved:.1f} /s"),
        ("rate within the send window", f"{in_window:.1f} /s (first to last send)"),
        ("allowed rate (rows / floor)", f"{allowed:.1f} /s"),
        ("achieved / allowed", f"{achieved / allowed:.1%}  (target >= 90 %)" if allowed else "-"),
        ("pacer's cap on broadcasts (bot/runtime/pacing.py)",
         f"{bulk:.1f} /s -> achieved is {achieved / bulk:.1%} of it"),
        ("CPU of this process", f"{run.cpu_seconds:.1f} s, "
                                f"{1000 * run.cpu_seconds / max(run.messages, 1):.2f} ms/message"),
        ("429 received", str(run.refused)),
        ("ledger rows not 'sent'", str(run.not_sent)),
        ("lost (chat without its message)", str(run.lost)),
        ("sent twice (same chat, same kind)", str(run.twice)),
    ]
    width = max(len(label) for label, _ in rows)
    print(f"\nBroadcast pacing (cores: {os.cpu_count()}, load: "
          f"{load_average()})")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        path = Path(folder) / "broadcast.sqlite3"
        audience = await build_database(path, args.nudges, args.groups)
        profiler = cProfile.Profile() if args.profile else None
        if profiler is not None:
            profiler.enable()
        run = await broadcast(path, audience, args.timeout)
        if profiler is not None:
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
            print(out.getvalue())
    print_run(run, args.nudges, args.groups)


def main() -> None:
    if "--live" in sys.argv:  # issue 17: end to end through the emulator (bench/busy.py)
        from bench import busy

        busy.main(["friday", *(a for a in sys.argv[1:] if a not in ("--live",))])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nudges", type=int, default=5000)
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="500 nudges, 100 groups")
    parser.add_argument("--profile", action="store_true", help="cProfile the run (slower)")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds to settle")
    parser.add_argument("--dir", default=None, help="where the database goes (a temp folder)")
    args = parser.parse_args()
    if args.quick:
        args.nudges, args.groups = 500, 100
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
