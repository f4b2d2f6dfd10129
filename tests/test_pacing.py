"""The pacer books every send so that Telegram's limits hold (as the fake Telegram counts them),
a reply to someone using the bot waits behind no more than a moment of a broadcast, and a
broadcast alone has the whole rate."""

from __future__ import annotations

import asyncio
import heapq
import random
from collections import defaultdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.runtime.pacing import (
    BULK,
    BULK_HORIZON,
    OVERALL,
    PER_GROUP,
    Pacer,
    VirtualTime,
    _Calendar,
    sending_at,
)
from tests.fakebot import Call
from tests.fakebot.limits import TelegramLimits
from tests.harness import most_in_window

LATENCY = 0.15  # seconds one call to Telegram takes
LANES = 32  # chats the sender serves at once


class Simulation:
    """A broadcast sender with LANES lanes, one call in flight per lane, and people writing to
    the bot now and then: each reservation is made at the moment its sender is ready."""

    def __init__(self, seed: int = 7) -> None:
        self.pacer = Pacer(VirtualTime())
        self.random = random.Random(seed)
        self.sent: list[tuple[float, int, bool]] = []  # (moment, chat, bulk)
        self.reply_waits: list[float] = []

    def run(self, backlog: list[int], replies: list[tuple[float, int]]) -> None:
        work = list(reversed(backlog))
        ready = [(0.0, lane) for lane in range(LANES)]
        events = [(at, 1, chat) for at, chat in replies]
        heapq.heapify(ready)
        heapq.heapify(events)
        while work or events:
            lane_at = ready[0][0] if work else float("inf")
            if events and events[0][0] <= lane_at:
                at, _, chat = heapq.heappop(events)
                moment = self.pacer.reserve(chat, False, at)
                self.reply_waits.append(moment - at)
                self.sent.append((moment, chat, False))
                continue
            at, lane = heapq.heappop(ready)
            booking = self.pacer.book(work[-1], True, at)
            if not booking.booked:  # no room near enough: the lane asks again later
                heapq.heappush(ready, (booking.moment - BULK_HORIZON, lane))
                continue
            assert booking.moment >= at
            self.sent.append((booking.moment, work.pop(), True))
            heapq.heappush(ready, (booking.moment + LATENCY, lane))

    def check_limits(self) -> None:
        everything = [m for m, _, _ in self.sent]
        assert most_in_window(everything, 1.0) <= 30
        refused = telegram_refuses(self.sent)
        assert not refused, refused[:5]
        by_chat: dict[int, list[tuple[float, bool]]] = defaultdict(list)
        for moment, chat, bulk in self.sent:
            by_chat[chat].append((moment, bulk))
        for chat, sends in by_chat.items():
            moments = [m for m, _ in sends]
            if chat < 0:
                assert most_in_window(moments, 60.0) <= 20, chat
                assert most_in_window(moments, 1.0) <= 1, chat
            else:
                assert most_in_window(moments, 1.0) <= 3, chat
                broadcast = [m for m, bulk in sends if bulk]
                assert most_in_window(broadcast, 1.0) <= 1, chat


def telegram_refuses(sent: list[tuple[float, int, bool]]) -> list[tuple[float, int]]:
    """The sends the fake Telegram (tests/fakebot/limits.py) would answer with 429, had they
    arrived at the moments booked."""
    clock = [0.0]
    limits = TelegramLimits(clock=lambda: clock[0])
    refused = []
    for moment, chat, _ in sorted(sent):
        clock[0] = moment
        if limits(Call("sendMessage", {"chat_id": chat})) is not None:
            refused.append((moment, chat))
    return refused


def test_thousands_of_sends_keep_every_window() -> None:
    simulation = Simulation()
    rng = simulation.random
    people = list(range(1000, 1800))
    groups = list(range(-100, -110, -1))
    backlog = [rng.choice(people) for _ in range(3000)] + [rng.choice(groups)
                                                         for _ in range(300)]
    rng.shuffle(backlog)
    replies = sorted((rng.uniform(0, 150), rng.choice(people + groups)) for _ in range(600))
    simulation.run(backlog, replies)
    simulation.check_limits()
    assert len(simulation.sent) == 3900


def test_a_broadcast_alone_has_the_whole_rate() -> None:
    simulation = Simulation()
    simulation.run(list(range(1000, 3500)), [])
    simulation.check_limits()
    last = max(m for m, _, _ in simulation.sent)
    # 2,500 messages at 30 a second, less the margin for jitter on the way to Telegram and the
    # send in every window kept for replies.
    assert 2500 / 30 <= last <= 2500 / BULK.count * BULK.window + 1
    assert 2500 / last >= 0.9 * 30


def test_replies_are_not_kept_waiting_behind_a_long_broadcast() -> None:
    simulation = Simulation()
    broadcast = list(range(1000, 6000))  # 200 seconds of sending
    people = list(range(9000, 9100))
    replies = [(0.5 + i * 1.7, people[i % len(people)]) for i in range(100)]
    simulation.run(broadcast, replies)
    simulation.check_limits()
    # A broadcast leaves a send in every window to replies.
    assert max(simulation.reply_waits) == 0
    replied = [m for m, chat, bulk in simulation.sent if not bulk]
    assert max(replied) < 175  # long before the broadcast ends


def test_when_everyone_writes_at_once_the_broadcast_takes_only_what_is_left() -> None:
    simulation = Simulation()
    broadcast = list(range(1000, 3000))
    people = list(range(9000, 9300))
    replies = [(5 + i / 30, chat) for i, chat in enumerate(people)]  # ten seconds' worth
    simulation.run(broadcast, replies)
    simulation.check_limits()
    # The replies queue among themselves (30 a second is all there is), but behind no more
    # than the broadcast's horizon and the one window it had filled before they came.
    waits = simulation.reply_waits
    assert max(waits) <= 10 * OVERALL.window + BULK_HORIZON
    during = [m for m, _, bulk in simulation.sent if bulk and 6.5 < m < 14]
    assert len(during) <= 8, during


def test_sends_that_went_late_hold_back_those_due_after_them() -> None:
    pacer = Pacer(VirtualTime())
    booked = [pacer.reserve(1000 + n, False, 0.0) for n in range(60)]
    assert booked[30] == pytest.approx(OVERALL.window, abs=1e-3)
    for _ in range(30):  # the first thirty went a tenth of a second late, all at once
        pacer.sending(0.1)
    assert pacer.held_back(0.5) == pytest.approx(OVERALL.window - 0.4, abs=1e-3)
    assert pacer.held_back(booked[30]) == pytest.approx(0.1, abs=1e-3)
    assert pacer.held_back(0.1 + OVERALL.window + 0.01) == 0.0


def test_a_reply_in_a_group_finds_room_beside_its_digest() -> None:
    pacer = Pacer(VirtualTime())
    for now in range(0, 60, 3):  # the group's share of a long broadcast
        pacer.reserve(-100, True, float(now))
    assert pacer.reserve(-100, False, 31.5) == 31.5
    assert pacer.reserve(-100, True, 32.5) >= 60.0  # while the next digest message waits


def test_a_pause_slows_only_its_chat() -> None:
    pacer = Pacer(VirtualTime())
    assert pacer.reserve(1, True, 0.0) == 0.0
    pacer.pause(1, 30, 0.5)
    assert pacer.reserve(1, True, 1.0) == 30.5
    assert pacer.reserve(1, False, 2.0) == 30.5  # replies too: Telegram said so
    assert pacer.reserve(2, True, 2.0) == 2.0
    assert pacer.reserve(-100, False, 2.0) == 2.0


def test_a_pause_of_everything_holds_every_chat() -> None:
    pacer = Pacer(VirtualTime())
    pacer.pause(None, 5, 0.0)
    assert pacer.reserve(1, False, 1.0) == 5.0
    assert pacer.reserve(-100, True, 1.0) == 5.0


def test_an_album_counts_its_photos() -> None:
    pacer = Pacer(VirtualTime())
    for _ in range(2):
        pacer.reserve(-100, False, 0.0, count=10)
    # 20 in the last minute: the group's next message waits for the first album to age.
    assert pacer.reserve(-100, False, 2.0) == pytest.approx(60.0, abs=1e-3)


def test_one_chat_gets_one_broadcast_message_a_second() -> None:
    pacer = Pacer(VirtualTime())
    moments = [pacer.reserve(7, True, 0.0) for _ in range(5)]
    assert moments == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0], abs=1e-3)
    # A reply may come in a short burst even so.
    replies = [pacer.reserve(8, False, 0.0) for _ in range(4)]
    assert replies == pytest.approx([0.0, 0.0, 0.0, 1.0], abs=1e-3)


async def test_virtual_time_waits_without_waiting() -> None:
    clock = VirtualTime()
    await clock.sleep_until(3600.0)
    assert clock.now() == 3600.0
    with sending_at(1.5):
        assert clock.stamp() == 1.5
    assert clock.stamp() == 3600.0


async def test_virtual_time_can_be_held_and_moved_by_hand() -> None:
    clock = VirtualTime()
    clock.hold()
    sleeper = asyncio.create_task(clock.sleep_until(2.0))
    await asyncio.sleep(0)
    clock.advance(1.0)
    await asyncio.sleep(0)
    assert not sleeper.done()
    clock.advance(1.0)
    await sleeper
    assert clock.now() == 2.0


@given(gaps=st.lists(st.floats(0, 0.2), max_size=80), after=st.floats(0, 2),
       limit=st.sampled_from([OVERALL, PER_GROUP]))
def test_a_booking_after_all_others_takes_the_short_way_to_the_same_moment(
        gaps: list[float], after: float, limit: object) -> None:
    calendar = _Calendar()
    moment = 0.0
    for gap in gaps:
        moment += gap
        calendar.book(moment, 1)
    asked = moment + after
    assert calendar._after_all(asked, limit) == calendar._scan(asked, 1, limit)  # type: ignore[arg-type]
