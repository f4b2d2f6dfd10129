"""Telegram's flood limits as a booking calendar: every send into a chat first books the
earliest moment at which it keeps every limit (PRODUCT.md, "Telegram's limits"):

- about 30 messages a second in all; broadcasts (bulk) at most 25 of them, so that a reply to
  someone who is using the bot always finds room, however long the broadcast's backlog;
- about one message a second into one chat (a reply may come in a short burst of three);
- 20 messages a minute into one group (bulk: 18, leaving room for replies there too).

A booking is made just before the send, so bookings never pile up far ahead; any set of them
keeps every sliding window. Pure: no Telegram types. Time is injected (`RealTime`,
`VirtualTime` for tests, where waiting advances a virtual clock at once)."""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left, bisect_right, insort
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


OVERALL = Limit(30, 1.0)
BULK = Limit(25, 1.0)
PER_CHAT = Limit(1, 1.0)
BURST = Limit(3, 1.0)  # a reply in a private chat
PER_GROUP = Limit(20, 60.0)
BULK_PER_GROUP = Limit(18, 60.0)
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

    def fits(self, moment: float, count: int, limit: Limit) -> bool:
        """Whether `count` more at `moment` keep every window of `limit` that holds it. The
        fullest such window starts at a booking in (moment - window, moment] or at moment."""
        times, window = self.times, limit.window
        first = bisect_right(times, moment - window)
        last = bisect_right(times, moment)
        for start in (*times[first:last], moment):
            held = bisect_left(times, start + window) - bisect_left(times, start)
            if held + count > limit.count:
                return False
        return True

    def frees(self, after: float, window: float) -> list[float]:
        """Moments after `after` at which a booking leaves the windows: where room appears."""
        return [t + window for t in self.times[bisect_right(self.times, after - window):]]


class Pacer:
    """One for all sends of the bot."""

    def __init__(self, clock: PacingTime | None = None) -> None:
        self.time: PacingTime = clock or RealTime()
        self._all = _Calendar()
        self._bulk = _Calendar()
        self._chats: dict[int, _Calendar] = {}
        self._paused: dict[int | None, float] = {}
        self._forgotten_at = float("-inf")

    def reserve(self, chat_id: int, bulk: bool, now: float | None = None,
                count: int = 1, edit: bool = False) -> float:
        """Books `count` sends (an album counts its items) into the chat and returns the
        earliest moment they may go. A reply (`bulk` False) never waits behind broadcasts. An
        `edit` of a message in a private chat adds nothing there and counts only in all."""
        now = self.time.now() if now is None else now
        self._forget(now)
        chat = self._chats.setdefault(chat_id, _Calendar())
        checks: list[tuple[_Calendar, int, Limit]] = [(self._all, count, OVERALL)]
        if not (edit and chat_id > 0):
            checks.append((chat, 1, PER_CHAT if bulk or chat_id < 0 else BURST))
        if bulk:
            checks.append((self._bulk, count, BULK))
        if chat_id < 0:
            checks.append((chat, count, BULK_PER_GROUP if bulk else PER_GROUP))
        checks = [(c, min(n, limit.count), limit) for c, n, limit in checks]
        start = max(now, self._paused.get(None, now), self._paused.get(chat_id, now))
        moments = sorted({start, *(t for calendar, _, limit in checks
                                   for t in calendar.frees(start, limit.window) if t > start)})
        moment = next(m for m in moments
                      if all(c.fits(m, n, limit) for c, n, limit in checks))
        self._all.book(moment, count)
        if bulk:
            self._bulk.book(moment, count)
        if not (edit and chat_id > 0):
            chat.book(moment, 1 if chat_id > 0 else count)
        return moment

    def pause(self, chat_id: int | None, seconds: float, now: float | None = None) -> None:
        """Telegram said "retry after": nothing more into that chat (None: anywhere) until
        then."""
        now = self.time.now() if now is None else now
        self._paused[chat_id] = max(self._paused.get(chat_id, now), now + seconds)

    def paused_until(self, chat_id: int | None) -> float | None:
        return self._paused.get(chat_id)

    def _forget(self, now: float) -> None:
        if now - self._forgotten_at < _KEEP:
            return
        self._forgotten_at = now
        horizon = now - _KEEP
        for calendar in (self._all, self._bulk, *self._chats.values()):
            calendar.forget_before(horizon)
        self._chats = {k: c for k, c in self._chats.items() if c.times}
        self._paused = {k: t for k, t in self._paused.items() if t > now}
