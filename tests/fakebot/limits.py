"""Telegram's flood limits as a gate on the fake (``FakeTelegram.gates``): a send beyond them is
answered 429 with ``retry_after``, as Telegram does, and is not executed.

- more than ``per_second`` sends (30) in any second, all chats together;
- in one chat, more than one a second after a burst of three (a bucket of 3 refilled at 1/s);
- more than ``group_per_minute`` (20) sends into one group in any minute.

A refused send does not count against the limits. Benchmarks and fault tests add this gate;
ordinary tests run without it (the bot's own pacer is tested against `most_in_window`)."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from .common import ApiError, Call

# Methods that put a message into a chat (or change one): what Telegram's limits count.
SENDS = frozenset({
    "sendmessage", "sendphoto", "sendmediagroup", "senddocument", "sendlocation", "sendvenue",
    "editmessagetext", "editmessagecaption", "editmessagereplymarkup",
})


@dataclass
class TelegramLimits:
    per_second: int = 30
    chat_burst: int = 3
    chat_rate: float = 1.0  # sends a second into one chat after the burst
    group_per_minute: int = 20
    clock: Callable[[], float] = time.monotonic
    refused: list[Call] = field(default_factory=list)
    accepted: int = 0
    _recent: deque[float] = field(default_factory=deque)
    _group_recent: dict[int, deque[float]] = field(default_factory=dict)
    # chat id -> (tokens left, when last refilled)
    _buckets: dict[int, tuple[float, float]] = field(default_factory=dict)

    def __call__(self, call: Call) -> ApiError | None:
        if call.method.lower() not in SENDS or call.chat_id is None:
            return None
        now, chat = self.clock(), call.chat_id
        _forget_before(self._recent, now - 1.0)
        waits = [0.0]
        if len(self._recent) >= self.per_second:
            waits.append(self._recent[0] + 1.0 - now)
        tokens, since = self._buckets.get(chat, (float(self.chat_burst), now))
        tokens = min(float(self.chat_burst), tokens + (now - since) * self.chat_rate)
        if tokens < 1.0:
            waits.append((1.0 - tokens) / self.chat_rate)
        group = self._group_recent.setdefault(chat, deque()) if chat < 0 else None
        if group is not None:
            _forget_before(group, now - 60.0)
            if len(group) >= self.group_per_minute:
                waits.append(group[0] + 60.0 - now)
        if max(waits) > 0:
            self.refused.append(call)
            retry_after = max(1, math.ceil(max(waits)))
            return ApiError(429, f"Too Many Requests: retry after {retry_after}",
                            {"retry_after": retry_after})
        self._recent.append(now)
        self._buckets[chat] = (tokens - 1.0, now)
        if group is not None:
            group.append(now)
        self.accepted += 1
        return None


def _forget_before(moments: deque[float], moment: float) -> None:
    while moments and moments[0] <= moment:
        moments.popleft()
