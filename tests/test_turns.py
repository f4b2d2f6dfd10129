"""People's replies first: the database's turn (storage/db.py `TurnLock`) goes to every waiting
transaction that answers a person before any waiting background one (the scheduler's jobs, the
paced sender), so that a member's /help sent as a few hundred Friday reminder jobs fire does not
wait for them."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from handlers.schedules import run_rows
from storage import groups, schedules, units
from storage.db import Turn, TurnLock, background
from storage.entities import NewUnit
from storage.schedules import ScheduleKind
from tests.fakebot import Call
from tests.harness import Harness
from tests.test_schedules_due import FRIDAY_16, MAI, cell_with_group, ledger, new_units

CELLS = 300  # cells whose reminder jobs fire at 16:00 beside the standard tree's
FIRST_GROUP = -1_005_000_000


# --- the lock alone ---------------------------------------------------------------------------


async def _take(lock: TurnLock, name: str, order: list[str], hold: asyncio.Event | None = None,
                in_background: bool = False) -> None:
    if in_background:
        with background():
            await _take(lock, name, order, hold)
        return
    async with lock.turn():
        order.append(name)
        if hold is not None:
            await hold.wait()


async def _queued(lock: TurnLock, foreground: int, background_count: int) -> None:
    """Until that many of each class wait (each waiter queues on its first step)."""
    while lock.waiting() != (foreground, background_count):
        await asyncio.sleep(0)


async def test_foreground_waiters_overtake_background_ones_first_come_first_served() -> None:
    lock, order, hold = TurnLock(), [], asyncio.Event()
    first = asyncio.create_task(_take(lock, "b0", order, hold, in_background=True))
    await _queued(lock, 0, 0)
    tasks = [first]
    for name in ("b1", "f1", "b2", "f2", "f3"):
        tasks.append(asyncio.create_task(_take(lock, name, order,
                                               in_background=name.startswith("b"))))
        await asyncio.sleep(0)
    await _queued(lock, 3, 2)
    hold.set()  # the background transaction holding the turn finishes first
    await asyncio.gather(*tasks)
    assert order == ["b0", "f1", "f2", "f3", "b1", "b2"]
    assert lock.background_turns == 3
    assert lock.waiting() == (0, 0)


async def test_the_senders_waiters_go_before_the_schedulers() -> None:
    """At 16:00 the sender's first rows go out while the jobs still decide the rest; on Monday
    the province's digests, decided by the first job, go before the other jobs' looks."""
    lock, order, hold = TurnLock(), [], asyncio.Event()

    async def take(name: str, turn: Turn, held: asyncio.Event | None = None) -> None:
        with background(turn):
            await _take(lock, name, order, held)

    tasks = [asyncio.create_task(take("decide0", Turn.DECIDING, hold))]
    await _queued(lock, 0, 0)
    for name, turn in (("wake1", Turn.WAKING), ("decide1", Turn.DECIDING),
                       ("send1", Turn.SENDING), ("wake2", Turn.WAKING),
                       ("decide2", Turn.DECIDING), ("send2", Turn.SENDING)):
        tasks.append(asyncio.create_task(take(name, turn)))
        await asyncio.sleep(0)
    tasks.append(asyncio.create_task(_take(lock, "person", order)))
    await _queued(lock, 1, 6)
    hold.set()
    await asyncio.gather(*tasks)
    assert order == ["decide0", "person", "send1", "send2", "decide1", "decide2", "wake1",
                     "wake2"]


async def test_a_waiter_cancelled_does_not_wedge_the_turn() -> None:
    lock, order, hold = TurnLock(), [], asyncio.Event()
    holder = asyncio.create_task(_take(lock, "holder", order, hold))
    await asyncio.sleep(0)
    gone = asyncio.create_task(_take(lock, "gone", order))
    after = asyncio.create_task(_take(lock, "after", order, in_background=True))
    await _queued(lock, 1, 1)
    gone.cancel()
    hold.set()
    await asyncio.gather(holder, after)
    assert gone.cancelled()
    assert order == ["holder", "after"]
    assert lock.waiting() == (0, 0)
    async with asyncio.timeout(1):  # free again
        await _take(lock, "later", order)


async def test_a_waiter_cancelled_just_as_it_was_handed_the_turn_passes_it_on() -> None:
    lock, order = TurnLock(), []
    async with lock.turn():
        handed = asyncio.create_task(_take(lock, "handed", order))
        after = asyncio.create_task(_take(lock, "after", order))
        await _queued(lock, 2, 0)
    handed.cancel()  # handed the turn on release, cancelled before it could run
    await asyncio.gather(handed, after, return_exceptions=True)
    assert handed.cancelled()
    assert order == ["after"]
    assert lock.waiting() == (0, 0)


async def test_an_exception_inside_gives_the_turn_back() -> None:
    lock, order = TurnLock(), []
    with pytest.raises(ZeroDivisionError):
        async with lock.turn():
            raise ZeroDivisionError
    async with asyncio.timeout(1):
        await _take(lock, "next", order)
    assert order == ["next"]


async def test_the_mark_stays_with_its_task() -> None:
    """A background task's mark does not leak into work started by others meanwhile."""
    lock, order, hold = TurnLock(), [], asyncio.Event()
    holder = asyncio.create_task(_take(lock, "holder", order, hold, in_background=True))
    await asyncio.sleep(0)
    with background():
        job = asyncio.create_task(_take(lock, "job", order))  # started inside: background too
    reply = asyncio.create_task(_take(lock, "reply", order))
    await _queued(lock, 1, 1)
    hold.set()
    await asyncio.gather(holder, job, reply)
    assert order == ["holder", "reply", "job"]


# --- Friday 16:00 -----------------------------------------------------------------------------


async def _many_cells(bot: Harness, parent: int) -> None:
    """CELLS more cells, each with its group linked, their standard rows and jobs."""
    now = FRIDAY_16 - dt.timedelta(days=30)
    async with bot.db.transaction() as tx:
        for n in range(CELLS):
            cell = await units.add_unit(tx, NewUnit(name=f"Chi bộ {n + 1}", kind="chi bộ",
                                                    parent_id=parent), now)
            await groups.link(tx, cell.id, FIRST_GROUP - n)
    for n in range(CELLS):
        bot.fake.add_group(FIRST_GROUP - n, f"Chi bộ {n + 1}")
    await new_units(bot)


async def test_a_members_help_is_answered_before_the_friday_jobs_are_decided(
        bot: Harness) -> None:
    tree = await cell_with_group(bot)
    await _many_cells(bot, tree.commune)
    async with bot.db.transaction() as tx:
        reminders = [row.id for row in await schedules.every_schedule(tx)
                     if row.kind is ScheduleKind.REMINDER]
    turns = bot.db.turns
    decided: list[int] = []  # rows done, in order
    at_answer: list[int] = []  # how many were done when the answer reached Telegram

    async def fire(schedule_id: int) -> None:  # a row's part of Friday 16:00's job
        await run_rows(bot.app, [schedule_id])
        decided.append(1)

    def answered(call: Call) -> None:
        if call.method == "sendMessage" and call.chat_id == MAI and not at_answer:
            at_answer.append(len(decided))

    bot.fake.gates.append(answered)
    bot.clock.moment = FRIDAY_16
    before = turns.background_turns
    fired = asyncio.gather(*(fire(schedule_id) for schedule_id in reminders))
    while sum(turns.waiting()) < len(reminders) // 2:  # the jobs wait for their turn
        await asyncio.sleep(0)
    help_shown = await bot.say(MAI, "/help")
    await fired
    assert help_shown.shows("help.member")
    # The answer waited for the job running when /help came, not for the hundreds queued.
    assert at_answer and at_answer[0] < len(reminders) // 10
    assert turns.background_turns - before >= len(reminders) > CELLS  # each took its turn
    assert len([d for d in await ledger(bot, "reminder") if d.chat_id < 0]) > CELLS
