"""The pacer books every send so that Telegram's limits hold (as the fake Telegram counts them),
a reply to someone using the bot waits behind no more than a moment of a broadcast, and a
broadcast alone has the whole rate."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from collections import defaultdict
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.runtime.pacing import (
    _CATCH_UP,
    BULK,
    BULK_HORIZON,
    JITTER,
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

ONE_WAY = (0.05, 0.125)  # seconds a send takes to reach Telegram: half of a 100-250 ms call
LANES = 32  # chats the sender serves at once


@dataclass(frozen=True)
class Sent:
    booked: float
    left: float  # when it went (after its booked moment and `held_back`)
    arrived: float  # when Telegram counted it
    chat: int
    bulk: bool


class Simulation:
    """A broadcast sender with LANES lanes, one call in flight per lane, and people writing to
    the bot now and then, each step in the order the limiter (handlers/pacing.py) takes it:
    book (a broadcast again later while there is no room near enough), wait for the moment,
    wait while `held_back`, go. A call takes a seeded random time in ONE_WAY to arrive, as long
    again to come back. While the loop is stalled (`stall`: from, to) nothing happens: whatever
    was due meanwhile happens at its end."""

    def __init__(self, seed: int = 7, stall: tuple[float, float] = (0.0, 0.0),
                 one_way: tuple[float, float] = ONE_WAY) -> None:
        self.pacer = Pacer(VirtualTime())
        self.one_way = one_way
        self.random = random.Random(seed)
        self.stall = stall
        self.sent: list[Sent] = []
        self.reply_waits: list[float] = []  # from writing to the reply leaving

    def run(self, backlog: list[int], replies: list[tuple[float, int]]) -> None:
        work = list(reversed(backlog))
        # (moment, order, what, chat, since, booked): "lane" takes the next chat of the
        # backlog; "due" goes now or is held back (a reply to someone who wrote `since`, or a
        # broadcast: None); "write" is someone writing to the bot.
        events: list[tuple[float, int, str, int, float | None, float]] = [
            (0.0, lane, "lane", 0, None, 0.0) for lane in range(LANES)]
        events += [(at, LANES + n, "write", chat, at, 0.0)
                   for n, (at, chat) in enumerate(replies)]
        heapq.heapify(events)
        order = itertools.count(len(events))
        while events:
            at, _, what, chat, since, booked = heapq.heappop(events)
            now = self.stall[1] if self.stall[0] <= at < self.stall[1] else at
            if what == "write":
                moment = self.pacer.reserve(chat, False, now)
                heapq.heappush(events, (moment, next(order), "due", chat, since, moment))
            elif what == "lane" and work:
                booking = self.pacer.book(work[-1], True, now)
                if not booking.booked:  # no room near enough: the lane asks again later
                    heapq.heappush(events, (booking.moment - BULK_HORIZON, next(order), "lane",
                                            0, None, 0.0))
                    continue
                assert booking.moment >= now
                heapq.heappush(events, (booking.moment, next(order), "due", work.pop(), None,
                                        booking.moment))
            elif what == "due":
                bulk = since is None
                late = self.pacer.held_back(now, bulk)
                if late > 0:
                    heapq.heappush(events, (now + late, next(order), "due", chat, since, booked))
                    continue
                self.pacer.sending(now)
                way = self.random.uniform(*self.one_way)
                self.pacer.round_trip(2 * way)  # (learnt a round trip early: no matter)
                self.sent.append(Sent(booked, now, now + way, chat, bulk))
                if since is None:
                    heapq.heappush(events, (now + 2 * way, next(order), "lane", 0, None, 0.0))
                else:
                    self.reply_waits.append(now - since)

    def rate(self) -> float:
        """Sends a second from the start (when the whole backlog was there) to the last."""
        return len(self.sent) / max(s.left for s in self.sent)

    def check_limits(self) -> None:
        """Telegram's limits hold where it counts, at arrival; the pacer's own rules for one
        chat (stricter than Telegram's bursts into a chat) in its bookings."""
        assert most_in_window([s.arrived for s in self.sent], 1.0) <= 30
        refused = telegram_refuses(self.sent)
        assert not refused, refused[:5]
        by_chat: dict[int, list[tuple[float, bool]]] = defaultdict(list)
        for send in self.sent:
            by_chat[send.chat].append((send.booked, send.bulk))
        for chat, sends in by_chat.items():
            moments = [m for m, _ in sends]
            if chat < 0:
                assert most_in_window(moments, 60.0) <= 20, chat
                assert most_in_window(moments, 1.0) <= 1, chat
            else:
                assert most_in_window(moments, 1.0) <= 3, chat
                broadcast = [m for m, bulk in sends if bulk]
                assert most_in_window(broadcast, 1.0) <= 1, chat


def telegram_refuses(sent: list[Sent]) -> list[tuple[float, int]]:
    """The sends the fake Telegram (tests/fakebot/limits.py) would answer with 429."""
    clock = [0.0]
    limits = TelegramLimits(clock=lambda: clock[0])
    refused = []
    for send in sorted(sent, key=lambda s: s.arrived):
        clock[0] = send.arrived
        if limits(Call("sendMessage", {"chat_id": send.chat})) is not None:
            refused.append((send.arrived, send.chat))
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


def friday(seed: int, stall: tuple[float, float] = (0.0, 0.0)) -> Simulation:
    """3,300 broadcast messages, each to a chat of its own (300 groups), queued at 0, and
    someone asking the bot something every half second meanwhile."""
    simulation = Simulation(seed, stall)
    rng = simulation.random
    backlog = [*range(100_000, 103_000), *range(-1000, -1300, -1)]
    rng.shuffle(backlog)
    people = list(range(9000, 9400))
    simulation.run(backlog, [(0.5 * n + rng.uniform(0, 0.5), rng.choice(people))
                             for n in range(240)])
    assert len(simulation.sent) == 3540
    return simulation


@pytest.mark.parametrize("seed", range(10))
def test_jittered_arrivals_keep_thirty_a_second_at_the_whole_rate(seed: int) -> None:
    simulation = friday(seed)
    simulation.check_limits()
    # From the first second: at least 90 % of 30 a second, replies included.
    assert simulation.rate() >= 27
    # Spread through each second, not in bursts (29 went within 0.1 s before): about three
    # broadcast messages leave in 0.1 s, the way there spreads them over 0.175 s, a reply
    # may come between.
    assert most_in_window([s.arrived for s in simulation.sent], 0.1) <= 6
    # A reply takes the next free moment after the broadcast's few booked ahead.
    assert max(simulation.reply_waits) <= BULK_HORIZON + 2 * BULK.window


def test_a_stalled_loop_does_not_catch_up_in_a_burst() -> None:
    simulation = friday(3, stall=(40.0, 40.3))
    simulation.check_limits()
    assert simulation.rate() >= 27
    left = sorted(s.left for s in simulation.sent if s.bulk)
    after = [moment for moment in left if 40.3 <= moment < 40.4]
    # The eight due in the stall did not all go at its end: they catch up a little faster
    # than the spacing (`_CATCH_UP`), no more.
    assert 1 <= len(after) <= 4, after
    gaps = [b - a for a, b in itertools.pairwise(left)]
    # (the spacing as learnt from the round trips: 100-250 ms give a margin of 90-100 ms)
    assert min(gaps) >= (1 + 0.09) / 30 * (1 - _CATCH_UP) - 1e-9


def test_a_broadcast_alone_has_the_whole_rate() -> None:
    simulation = Simulation()
    simulation.run(list(range(1000, 3500)), [])
    simulation.check_limits()
    last = max(s.left for s in simulation.sent)
    # 2,500 messages at 30 a second, less the margin for jitter on the way to Telegram.
    assert 2500 / 30 <= last <= 2500 * BULK.window + 1
    assert simulation.rate() >= 0.9 * 30


def test_on_a_steady_network_the_margin_stays_at_its_least() -> None:
    simulation = Simulation(one_way=(0.075, 0.080))  # round trips of 150-160 ms
    simulation.run(list(range(1000, 3500)), [])
    simulation.check_limits()
    assert simulation.pacer.limits.overall.window == pytest.approx(1 + JITTER)
    assert simulation.rate() >= 27.4


def test_the_margin_grows_when_round_trips_spread_and_keeps_limits_at_arrival() -> None:
    simulation = Simulation(one_way=(0.075, 0.080))
    simulation.run(list(range(1000, 2000)), [])
    simulation.one_way = (0.05, 0.2)  # the network turns jittery: 100-400 ms round trips
    simulation.run(list(range(2000, 3000)), [])
    assert simulation.pacer.limits.overall.window == pytest.approx(1.175)
    later = [s for s in simulation.sent if s.chat >= 2000 and s.left > 40]
    assert not telegram_refuses(later)


def test_waiting_broadcasts_ask_again_in_turn() -> None:
    pacer = Pacer(VirtualTime())
    bookings = [pacer.book(1000 + n, True, 0.0) for n in range(10)]
    booked = [b.moment for b in bookings if b.booked]
    assert booked == pytest.approx([n * BULK.window for n in range(len(booked))], abs=1e-3)
    assert booked[-1] <= BULK_HORIZON
    # Those that found no room near enough ask again one spacing apart, not all at once.
    turns = [b.moment for b in bookings if not b.booked]
    assert turns == pytest.approx([(len(booked) + n) * BULK.window for n in range(len(turns))],
                                  abs=1e-3)


def test_replies_are_not_kept_waiting_behind_a_long_broadcast() -> None:
    simulation = Simulation()
    broadcast = list(range(1000, 6000))  # 180 seconds of sending
    people = list(range(9000, 9100))
    replies = [(0.5 + i * 1.7, people[i % len(people)]) for i in range(100)]
    simulation.run(broadcast, replies)
    simulation.check_limits()
    # A reply waits behind no more than the few broadcast messages booked ahead.
    assert max(simulation.reply_waits) <= BULK_HORIZON + 2 * BULK.window
    replied = [s.left for s in simulation.sent if not s.bulk]
    assert max(replied) < 175  # long before the broadcast ends


def test_when_everyone_writes_at_once_the_broadcast_takes_only_what_is_left() -> None:
    simulation = Simulation()
    broadcast = list(range(1000, 3000))
    people = list(range(9000, 9300))
    replies = [(5 + i / 30, chat) for i, chat in enumerate(people)]  # ten seconds' worth
    simulation.run(broadcast, replies)
    simulation.check_limits()
    # The replies queue among themselves (27.5 a second is all there is), but behind no
    # more than the broadcast's horizon.
    waits = simulation.reply_waits
    assert max(waits) <= 300 / 30 * 0.1 + BULK_HORIZON + 2 * BULK.window
    during = [s.left for s in simulation.sent if s.bulk and 6.5 < s.left < 14]
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
    # (and a broadcast keeps its spacing from the reply)
    assert pacer.reserve(-100, True, 1.0) == pytest.approx(5.0 + BULK.window, abs=1e-3)


def test_an_album_counts_its_photos() -> None:
    pacer = Pacer(VirtualTime())
    for _ in range(2):
        pacer.reserve(-100, False, 0.0, count=10)
    # 20 in the last minute: the group's next message waits for the first album to age.
    assert pacer.reserve(-100, False, 2.0) == pytest.approx(PER_GROUP.window, abs=1e-3)


def test_one_chat_gets_one_broadcast_message_a_second() -> None:
    pacer = Pacer(VirtualTime())
    moments = [pacer.reserve(7, True, 0.0) for _ in range(5)]
    # (a second and the margin for the way there: sent a second apart, two may arrive closer)
    second = 1 + JITTER
    assert moments == pytest.approx([0.0, second, 2 * second, 3 * second, 4 * second], abs=1e-3)
    # A reply may come in a short burst even so.
    replies = [pacer.reserve(8, False, 0.0) for _ in range(4)]
    assert replies == pytest.approx([0.0, 0.0, 0.0, second], abs=1e-3)


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


def form_at_speed(seed: int, steps: int = 13) -> tuple[list[float], list[Sent]]:
    """A member answering a form's questions as fast as they come (a second to read each),
    every answer followed by the bot's next question and an edit tidying the one answered
    (a broadcast's priority), each try of the edit as the limiter makes it. Returns how long
    each answer waited to leave, and every send into the chat."""
    pacer, rng, chat = Pacer(VirtualTime()), random.Random(seed), 4242
    waits: list[float] = []
    sent: list[Sent] = []
    events: list[tuple[float, int, str]] = [(0.0, 0, "answer")]
    order = itertools.count(1)
    while events:
        now, _, what = heapq.heappop(events)
        way = rng.uniform(*ONE_WAY)
        if what == "answer":
            moment = pacer.reserve(chat, False, now)
            waits.append(moment - now)
            sent.append(Sent(moment, moment, moment + way, chat, False))
            pacer.sending(moment, 1, chat, moment)
            if len(waits) < steps:  # the member reads the question, answers a second later
                heapq.heappush(events, (moment + 2 * way + 1.0, next(order), "answer"))
            heapq.heappush(events, (moment, next(order), "tidy"))
        else:
            booking = pacer.book(chat, True, now)
            if booking.booked:
                sent.append(Sent(booking.moment, booking.moment, booking.moment + way, chat,
                                 True))
                pacer.sending(booking.moment, 1, chat, booking.moment)
            else:
                heapq.heappush(events, (booking.moment - BULK_HORIZON, next(order), "tidy"))
    return waits, sent


@pytest.mark.parametrize("seed", range(10))
def test_a_member_going_through_a_form_at_speed_gets_every_answer_at_once(seed: int) -> None:
    waits, sent = form_at_speed(seed)
    # Each answer leaves at once: the tidying edits take none of the burst the answers need
    # (each step two sends into one chat, at Telegram's one a second, waited up to 2 s).
    assert max(waits) == 0.0
    assert len([s for s in sent if s.bulk]) == 13  # every question tidied in the end
    assert not telegram_refuses(sent)  # with the way there jittered, as Telegram counts


def test_a_send_that_went_late_keeps_the_chats_second_from_when_it_went() -> None:
    pacer = Pacer(VirtualTime())
    first = pacer.reserve(-100, False, 0.0)
    pacer.sending(0.3, 1, -100, first)  # the busy loop let it go 0.3 s late: it arrives late
    assert pacer.reserve(-100, False, 0.5) == pytest.approx(0.3 + 1 + JITTER, abs=1e-3)
