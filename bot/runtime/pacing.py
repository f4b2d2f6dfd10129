"""Telegram's flood limits as a booking calendar: every send into a chat first books the
earliest moment at which it keeps every limit (PRODUCT.md, "Telegram's limits"):

- about 30 messages a second in all, counted when they arrive. Broadcasts (bulk) go one at a
  time, evenly spread (below), and book a moment at most `BULK_HORIZON` ahead, never further,
  so a reply to someone who is using the bot waits behind no more than that (and one spacing);
  when nobody writes, broadcasts have the whole rate;
- into one chat, a burst of three, then one a second (a token bucket, as Telegram counts; edits
  count too). A broadcast or a tidying edit into a private chat goes only when the chat's
  bucket is full (nothing sent there for a while), so it never takes the burst the person's
  next replies need: a member going through a form at speed gets every answer at once, and
  the edits that take the answered questions' buttons off follow when they pause;
- 20 messages a minute into one group (bulk: 18, leaving room for replies there too).

Why the numbers. Telegram counts a send when it arrives, 50–125 ms after it left (round trips
of 100–250 ms, half of it before the message arrives): arrivals spread 75 ms against sends.
`JITTER` allows 90 ms: 15 ms more for the time between a send counted here and its bytes on the
way. At most 30 sends in any 1 + `JITTER` = 1.09 s (`OVERALL`) arrive at most 30 in any second,
however they bunch: what arrives within one second left within 1.09 s. That is the least
margin: it grows when the round trips of the bot's own sends spread more than 100–250 ms
(`Margin`), so a jittery network slows the bot down rather than draw 429s.
Broadcasts go one every 1.09 / 30 = 36.3 ms (`BULK`: a broadcast keeps that far from every
other send), 27.5 a second, 91.7 % of 30, from the first second. Sends evenly spaced at rate r,
their arrivals spread by J, put at most ceil(r x (1 + J)) into a second: ceil(27.5 x 1.075) =
ceil(29.6) = 30. Leaving one send in every window to replies, as before, would cost a thirtieth
(29 / 1.09 = 26.6 a second, under 90 % of 30): a reply takes the next free moment after the few
broadcast messages booked ahead instead (at most `BULK_HORIZON` + 36 ms later) and the
broadcast moves over by one. Broadcasts booked in bursts (29 at one moment, as before) left
over 0.1–0.4 s while the loop worked through them, and up to 49 arrived in one second (issue
17).

`held_back`: every send keeps `OVERALL` among the moments sends really went, and a broadcast
keeps its spacing from the send before it (less `_CATCH_UP`), so sends that went late because
the loop was busy do not all go at once to catch up. A chat's booking moves to the moment its
send really went (`sending`), so the chat's next send keeps its second from that one.

A booking is made just before the send, so bookings never pile up far ahead; any set of them
keeps every limit. Pure: no Telegram types. Time is injected (`RealTime`,
`VirtualTime` for tests, where waiting advances a virtual clock at once)."""

from __future__ import annotations

import asyncio
import math
import time
from bisect import bisect_left, bisect_right, insort
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Limit:
    """At most `count` sends in any `window` seconds."""

    count: int
    window: float


@dataclass(frozen=True)
class Bucket:
    """A burst of `burst`, then `rate` a second (Telegram's limit of one chat)."""

    burst: int
    rate: float


# How much the moments sends arrive at may spread against the moments they left (see above),
# until the round trips measured say (`Margin`).
JITTER = 0.09


@dataclass(frozen=True)
class Limits:
    """Telegram's limits, each with the margin for arrivals' spread (`limits_with`)."""

    overall: Limit
    bulk: Limit  # a broadcast keeps this far from every other send: the overall rate, spread
    per_chat: Limit
    chat_bucket: Bucket  # a reply in a private chat
    per_group: Limit
    bulk_per_group: Limit


def limits_with(margin: float) -> Limits:
    """A chat's limits keep the same margin: two sends a second apart may arrive closer."""
    second = 1.0 + margin
    return Limits(overall=Limit(30, second), bulk=Limit(1, second / 30),
                  per_chat=Limit(1, second), chat_bucket=Bucket(3, 1.0 / second),
                  per_group=Limit(20, 60.0 + margin), bulk_per_group=Limit(18, 60.0 + margin))


DEFAULT = limits_with(JITTER)
OVERALL, BULK, PER_GROUP = DEFAULT.overall, DEFAULT.bulk, DEFAULT.per_group


class Margin:
    """The margin learnt from the last `KEPT` round trips of sends: half their spread (the way
    there of a round trip that took longer may have taken all of the extra) and `SLACK` for
    the time between a send counted here and its bytes leaving (a busy loop's), held within
    [`LEAST`, `MOST`]. Never less than `JITTER`, so also while few are known: what round
    trips do not show (the bot stalled between counting a send and sending it) needs it.
    With 30 and 50 ms at least, a steady network's 150 ms round trips let sends go 30 in
    1.03-1.05 s, and the Friday broadcast drew an overall 429 on a quiet machine; with 90
    ms, none (the province's Monday drew one or two with 30, 50 and 90 ms alike: not the
    margin's). A jittery network gets the margin it needs, which no constant chosen in
    advance could promise (round trips of 100-250 ms: 100 ms; one overall 429 in three
    jittered runs of bench.busy with 10 ms less). Rounded up to 5 ms, so limits change
    seldom."""

    KEPT = 200
    SLACK, LEAST, MOST = 0.025, JITTER, 0.25

    def __init__(self) -> None:
        self._trips: deque[float] = deque(maxlen=self.KEPT)

    def seen(self, seconds: float) -> None:
        self._trips.append(seconds)

    def value(self) -> float:
        if not self._trips:
            return JITTER
        spread = (max(self._trips) - min(self._trips)) / 2 + self.SLACK
        return math.ceil(min(self.MOST, max(self.LEAST, spread)) * 200) / 200


BULK_HORIZON = 0.125  # seconds: how far ahead a broadcast may book (what a reply waits behind)
# Moments computed by adding to a booking go this much later, so that whoever subtracts again
# (Telegram) finds the whole window or second between them, whatever the rounding.
_EPSILON = 2.0 ** -20  # a power of two: moments stay exact sums in tests
# A broadcast that went late may follow the send before it this share of the spacing sooner
# (9 ms): the lag a busy loop caused shrinks again instead of staying for good, as fast as
# `OVERALL` among the sends really made lets it, never in a burst.
_CATCH_UP = 0.25
_KEEP = 61.0  # bookings older than this (seconds before now) no longer matter


class PacingTime(Protocol):
    def now(self) -> float: ...

    async def sleep_until(self, moment: float) -> None: ...


class RealTime:
    def now(self) -> float:
        return time.monotonic()

    async def sleep_until(self, moment: float) -> None:
        delay = moment - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


_SENDING_AT: ContextVar[float | None] = ContextVar("sending_at", default=None)


@contextmanager
def sending_at(moment: float) -> Iterator[None]:
    """Marks the send made inside the block as made at its booked moment (see `stamp`)."""
    token = _SENDING_AT.set(moment)
    try:
        yield
    finally:
        _SENDING_AT.reset(token)


class VirtualTime:
    """Time for tests: waiting moves the clock forward at once. Concurrent senders may wake
    later than booked on this shared clock, so `stamp()` tells the moment a send was booked
    for: what a fake Telegram should record."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._held = False
        self._sleepers: list[asyncio.Future[None]] = []

    def now(self) -> float:
        return self._now

    async def sleep_until(self, moment: float) -> None:
        while self._held and moment > self._now:
            sleeper = asyncio.get_running_loop().create_future()
            self._sleepers.append(sleeper)
            await sleeper
        self._now = max(self._now, moment)
        await asyncio.sleep(0)

    def hold(self) -> None:
        """From now on the clock only moves by `advance`: whoever must wait, waits."""
        self._held = True

    def advance(self, seconds: float) -> None:
        self._now += seconds
        self._wake()

    def release(self) -> None:
        """Waiting moves the clock at once again."""
        self._held = False
        self._wake()

    def _wake(self) -> None:
        sleepers, self._sleepers = self._sleepers, []
        for sleeper in sleepers:
            if not sleeper.done():
                sleeper.set_result(None)

    def stamp(self) -> float:
        booked = _SENDING_AT.get()
        return self._now if booked is None else booked


class _Calendar:
    """Booked moments, sorted."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def book(self, moment: float, count: int) -> None:
        for _ in range(count):
            insort(self.times, moment)

    def move(self, moment: float, to: float, count: int) -> None:
        """`count` bookings at `moment` (if still there) are at `to` instead."""
        for _ in range(count):
            at = bisect_left(self.times, moment)
            if at == len(self.times) or self.times[at] != moment:
                return
            del self.times[at]
            insort(self.times, to)

    def forget_before(self, moment: float) -> None:
        cut = bisect_left(self.times, moment)
        if cut:
            del self.times[:cut]

    def not_before(self, moment: float, count: int, limit: Limit | Bucket) -> float:
        """`moment` if `count` more fit there; else a later moment before which they cannot."""
        if isinstance(limit, Bucket):
            return self._bucket_not_before(moment, count, limit)
        if count == 1 and (not self.times or moment >= self.times[-1]):
            return self._after_all(moment, limit)
        return self._scan(moment, count, limit)

    def _after_all(self, moment: float, limit: Limit) -> float:
        """`not_before` for one send after every booking (most replies): the fullest window
        then starts `limit.count` bookings back, no need to look at every start."""
        if len(self.times) < limit.count:
            return moment
        end = self.times[-limit.count] + limit.window
        return end + _EPSILON if end > moment else moment

    def _scan(self, moment: float, count: int, limit: Limit) -> float:
        times, window = self.times, limit.window
        first = bisect_right(times, moment - window)
        last = bisect_right(times, moment)
        # The fullest window holding the moment starts at a booking in (moment - window,
        # moment] or at the moment. Every moment until the end of a full one is taken too:
        # the latest such start tells how far to skip.
        for start in (moment, *reversed(times[first:last])):
            if start + window <= moment:
                continue  # rounding let in a window that ends before the moment
            held = bisect_left(times, start + window) - bisect_left(times, start)
            if held + count > limit.count:
                return start + window + _EPSILON
        return moment

    def _bucket_not_before(self, moment: float, count: int, bucket: Bucket) -> float:
        if self._fits_bucket(moment, count, bucket):
            return moment
        n = len(self.times)
        refills = [t + (n - i + count - bucket.burst) / bucket.rate + _EPSILON
                   for i, t in enumerate(self.times)]
        later = [t for t in (*refills, *self.times) if t > moment]
        return min(later) if later else max(refills)

    def _fits_bucket(self, moment: float, count: int, bucket: Bucket) -> bool:
        """Whether `count` more at `moment` keep the bucket: any i-th to j-th booking (in time
        order) are at most `burst` + `rate` x (their distance in time) sends."""
        times = list(self.times)
        for _ in range(count):
            insort(times, moment)
        lowest = float("inf")
        for index, t in enumerate(times):
            level = index - bucket.rate * t
            if level - lowest > bucket.burst - 1 + _EPSILON:
                return False
            lowest = min(lowest, level)
        return True


@dataclass(frozen=True)
class Booking:
    """Where a send may go: `booked` False means none was made (a broadcast would have had to
    book further ahead than `BULK_HORIZON`); ask again at `moment - BULK_HORIZON`."""

    moment: float
    booked: bool = True


class Pacer:
    """One for all sends of the bot."""

    def __init__(self, clock: PacingTime | None = None) -> None:
        self.time: PacingTime = clock or RealTime()
        self._all = _Calendar()
        self._chats: dict[int, _Calendar] = {}
        self._paused: dict[int | None, float] = {}
        self._forgotten_at = float("-inf")
        self._sent: deque[float] = deque()  # when sends really went, latest last
        self._turns = float("-inf")  # the last moment a waiting broadcast was told (`_turn`)
        self.margin = Margin()
        self.limits, self._margin = DEFAULT, JITTER

    def round_trip(self, seconds: float) -> None:
        """A send's call took this long, there and back: the margin learns from it."""
        self.margin.seen(seconds)
        margin = self.margin.value()
        if margin != self._margin:
            self.limits, self._margin = limits_with(margin), margin

    def reserve(self, chat_id: int, bulk: bool, now: float | None = None,
                count: int = 1) -> float:
        """Books `count` sends (an album counts its items) into the chat and returns the
        earliest moment they may go; a broadcast's (`bulk`) books no further ahead than the
        horizon allows and is tried again until it is booked (for tests and simulations that
        call this directly: each try moves `now` to when the try would be made)."""
        now = self.time.now() if now is None else now
        while True:
            booking = self.book(chat_id, bulk, now, count)
            if booking.booked:
                return booking.moment
            now = booking.moment - BULK_HORIZON

    def book(self, chat_id: int, bulk: bool, now: float | None = None,
             count: int = 1) -> Booking:
        """A reply is always booked, at the earliest moment that keeps every limit. A
        broadcast is booked only if that moment is at most `BULK_HORIZON` after `now`, or, in
        a group, is as late as it is because of the group (so it takes no room a reply may
        want)."""
        now = self.time.now() if now is None else now
        self._forget(now)
        chat = self._chats.setdefault(chat_id, _Calendar())
        start = max(now, self._paused.get(None, now), self._paused.get(chat_id, now))
        in_chat = self._earliest(self._chat_checks(chat, chat_id, bulk, count), start)
        limits = self.limits
        overall = [(self._all, min(count, limits.overall.count), limits.overall)]
        if bulk:  # an album is one send: its items keep the overall limit
            overall.append((self._all, 1, limits.bulk))
        moment = self._earliest([*overall, *self._chat_checks(chat, chat_id, bulk, count)],
                                in_chat)
        # A group's broadcast may book ahead as far as the group's own limits push it; into a
        # private chat it waits for the chat to be quiet now: booked ahead, it would take the
        # room the person's next reply needs while they are using the bot.
        # (Subtracted, as whoever asks again at `moment - BULK_HORIZON` does: the same sum.)
        too_far = moment - BULK_HORIZON > now and (chat_id > 0 or moment > in_chat)
        if bulk and too_far:
            if in_chat - BULK_HORIZON <= now:  # only room among the other sends is missing
                moment = self._turn(moment)
            return Booking(moment, booked=False)
        self._all.book(moment, count)
        chat.book(moment, 1 if chat_id > 0 else count)
        return Booking(moment)

    def _turn(self, moment: float) -> float:
        """When a broadcast that found no room near enough is to ask again: waiting ones ask
        one spacing apart, in turn (as the room comes), not all at once at the next free
        moment, where one would get it and the rest ask again."""
        self._turns = max(moment, self._turns + self.limits.bulk.window)
        return self._turns

    def _chat_checks(self, chat: _Calendar, chat_id: int, bulk: bool,
                     count: int) -> list[tuple[_Calendar, int, Limit | Bucket]]:
        limits = self.limits
        if chat_id > 0:
            # A broadcast asks the room of a whole burst: the bucket full, it takes one.
            bucket = limits.chat_bucket
            return [(chat, bucket.burst if bulk else 1, bucket)]
        checks: list[tuple[_Calendar, int, Limit | Bucket]] = [(chat, 1, limits.per_chat)]
        group = limits.bulk_per_group if bulk else limits.per_group
        checks.append((chat, min(count, group.count), group))
        return checks

    @staticmethod
    def _earliest(checks: list[tuple[_Calendar, int, Limit | Bucket]], start: float) -> float:
        """The first moment from `start` that every check lets through: each says how far
        the moment must move at least, until none moves it."""
        moment = start
        while True:
            later = max(calendar.not_before(moment, count, limit)
                        for calendar, count, limit in checks)
            if later <= moment:
                return moment
            moment = later

    def held_back(self, now: float, bulk: bool = False) -> float:
        """How much longer a send due now waits because the sends before it went later than
        booked (the process was busy, or collecting garbage) and would now go closer together
        than booked: 0 when there is room among the sends really made. A broadcast also keeps
        its spacing from the last of them, so a stall is not caught up in a burst."""
        sent, overall = self._sent, self.limits.overall
        while sent and sent[0] <= now - overall.window:
            sent.popleft()
        waits = [0.0]
        if len(sent) >= overall.count:
            waits.append(sent[-overall.count] + overall.window + _EPSILON - now)
        if bulk and sent:
            waits.append(sent[-1] + self.limits.bulk.window * (1 - _CATCH_UP) - now)
        return max(waits)

    def sending(self, now: float, count: int = 1, chat_id: int | None = None,
                booked: float | None = None) -> None:
        """A send (of `count` messages) goes now, after its booked moment and `held_back`;
        given its chat and booked moment, the chat's booking moves to now: a send that went
        late (a busy loop) arrives late, and the chat's next one must keep its second from it."""
        self._sent.extend([now] * count)
        chat = self._chats.get(chat_id) if chat_id is not None else None
        if chat is not None and booked is not None and now > booked:
            chat.move(booked, now, 1 if chat_id is not None and chat_id > 0 else count)

    def pause(self, chat_id: int | None, seconds: float, now: float | None = None) -> None:
        """Telegram said "retry after": nothing more into that chat (None: anywhere) until
        then."""
        now = self.time.now() if now is None else now
        self._paused[chat_id] = max(self._paused.get(chat_id, now), now + seconds)

    def _forget(self, now: float) -> None:
        if now - self._forgotten_at < _KEEP:
            return
        self._forgotten_at = now
        horizon = now - _KEEP
        for calendar in (self._all, *self._chats.values()):
            calendar.forget_before(horizon)
        self._chats = {k: c for k, c in self._chats.items() if c.times}
        self._paused = {k: t for k, t in self._paused.items() if t > now}
