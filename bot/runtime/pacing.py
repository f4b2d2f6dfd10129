"""Telegram's flood limits as a booking calendar: every send into a chat first books the
earliest moment at which it keeps every limit (PRODUCT.md, "Telegram's limits"):

- about 30 messages a second in all. Broadcasts (bulk) take only what replies leave: a broadcast
  books a moment at most `BULK_HORIZON` ahead, never further, so a reply to someone who is using
  the bot waits behind no more than that much of a broadcast, however long its backlog; when
  nobody writes, broadcasts have the whole rate;
- into one chat, a burst of three, then one a second (a token bucket, as Telegram counts; edits
  count too); broadcasts one a second;
- 20 messages a minute into one group (bulk: 18, leaving room for replies there too).

A booking is made just before the send, so bookings never pile up far ahead; any set of them
keeps every limit. Pure: no Telegram types. Time is injected (`RealTime`,
`VirtualTime` for tests, where waiting advances a virtual clock at once)."""

from __future__ import annotations

import asyncio
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


# Telegram counts a send when it arrives, and arrivals jitter by some tens of milliseconds
# against the moments booked here (the event loop wakes late, the HTTP client is busy): 30 in
# any 1.07 s arrive as at most 30 in any second.
OVERALL = Limit(30, 1.07)
# A broadcast leaves one send in every window to replies, so that someone writing to the bot
# while it goes out is answered at once.
BULK = Limit(OVERALL.count - 1, OVERALL.window)
PER_CHAT = Limit(1, 1.0)
CHAT_BUCKET = Bucket(3, 1.0)  # a reply in a private chat
PER_GROUP = Limit(20, 60.0)
BULK_PER_GROUP = Limit(18, 60.0)
BULK_HORIZON = 0.25  # seconds: how far ahead a broadcast may book the overall rate
# Moments computed by adding to a booking go this much later, so that whoever subtracts again
# (Telegram) finds the whole window or second between them, whatever the rounding.
_EPSILON = 2.0 ** -20  # a power of two: moments stay exact sums in tests
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
        overall = [(self._all, min(count, OVERALL.count), OVERALL)]
        if bulk:
            overall.append((self._all, min(count, BULK.count), BULK))
        moment = self._earliest([*overall, *self._chat_checks(chat, chat_id, bulk, count)],
                                in_chat)
        # A group's broadcast may book ahead as far as the group's own limits push it; into a
        # private chat it waits for the chat to be quiet now: booked ahead, it would take the
        # room the person's next reply needs while they are using the bot.
        ahead = now + BULK_HORIZON if chat_id > 0 else max(in_chat, now + BULK_HORIZON)
        if bulk and moment > ahead:
            return Booking(moment, booked=False)
        self._all.book(moment, count)
        chat.book(moment, 1 if chat_id > 0 else count)
        return Booking(moment)

    @staticmethod
    def _chat_checks(chat: _Calendar, chat_id: int, bulk: bool,
                     count: int) -> list[tuple[_Calendar, int, Limit | Bucket]]:
        checks: list[tuple[_Calendar, int, Limit | Bucket]] = [
            (chat, 1, CHAT_BUCKET if chat_id > 0 and not bulk else PER_CHAT)]
        if chat_id < 0:
            group = BULK_PER_GROUP if bulk else PER_GROUP
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

    def held_back(self, now: float) -> float:
        """How much longer a send due now waits because the sends before it went later than
        booked (the process was busy, or collecting garbage) and would now arrive closer
        together than booked: 0 when there is room among the sends really made."""
        sent, window = self._sent, OVERALL.window
        while sent and sent[0] <= now - window:
            sent.popleft()
        if len(sent) < OVERALL.count:
            return 0.0
        return sent[-OVERALL.count] + window + _EPSILON - now

    def sending(self, now: float, count: int = 1) -> None:
        """A send (of `count` messages) goes now, after its booked moment and `held_back`."""
        self._sent.extend([now] * count)

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
