"""The time, from one place, so tests can say what day it is."""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """An aware datetime."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FixedClock:
    """A clock that moves only when told to."""

    def __init__(self, moment: dt.datetime) -> None:
        self.moment = moment

    def now(self) -> dt.datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += dt.timedelta(**delta)


class MovableClock:
    """The time as it goes by, from a moment it was moved to (`lantoa try` shows next
    Monday's digest without waiting for it)."""

    def __init__(self) -> None:
        self.shift = dt.timedelta()

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.shift

    def move_to(self, moment: dt.datetime) -> None:
        self.shift = moment - dt.datetime.now(dt.UTC)


def local_today(clock: Clock, zone: ZoneInfo) -> dt.date:
    return clock.now().astimezone(zone).date()
