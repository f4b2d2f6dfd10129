"""Random trouble from Telegram as a gate on the fake (``FakeTelegram.gates``): a seeded fraction
of the sends is answered, instead of being executed, with one of

- 429 "Too Many Requests" with ``retry_after`` 1–3 s (Telegram's flood control);
- 500 "Internal Server Error" or 502 "Bad Gateway" (Telegram's own trouble: the bot sees a
  NetworkError);
- a time-out in which the request never reached Telegram (``SimulatedTimeout(delivered=False)``).

Only sends are faulted (the methods ``TelegramLimits`` counts, optionally only into some
chats): "delivered exactly once" is about messages. getUpdates never passes gates, and the calls
that do not send (getMe, setMyCommands, answerCallbackQuery…) are left alone because a failure
there is a different story (start-up, a toast) with nothing to deliver.

Time-outs after which the message *did* arrive (``delivered=True``) are out of scope for
"exactly once": the Bot API gives no idempotency key and no way to ask whether a message went,
so a lost answer cannot be told from a lost request. A sender must then either try again
(twice, sometimes) or not (lost, sometimes); Lan Tỏa tries again, and only a crash mid-send is
kept 'uncertain' and never repeated.

Seeded: the same seed and the same sequence of calls give the same faults, so a failing run is
replayed by its seed (tests print it)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field

from .common import ApiError, Call, SimulatedTimeout
from .limits import SENDS

Fault = ApiError | SimulatedTimeout
KINDS = ("429", "500", "502", "timeout")


def _fault(kind: str, rng: random.Random) -> Fault:
    if kind == "429":
        seconds = rng.randint(1, 3)
        return ApiError(429, f"Too Many Requests: retry after {seconds}",
                        {"retry_after": seconds})
    if kind == "500":
        return ApiError(500, "Internal Server Error")
    if kind == "502":
        return ApiError(502, "Bad Gateway")
    return SimulatedTimeout(delivered=False)


@dataclass
class RandomFaults:
    """Answers about ``rate`` of the sends (into ``chats``, if given) with a fault, each kind
    as likely. ``counts`` tells how many of each kind were answered, ``calls`` how many sends
    were asked about."""

    rate: float = 0.2
    seed: int = 0
    chats: Collection[int] | None = None
    counts: Counter[str] = field(default_factory=Counter)
    calls: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def __call__(self, call: Call) -> Fault | None:
        if call.method.lower() not in SENDS:
            return None
        if self.chats is not None and call.chat_id not in self.chats:
            return None
        self.calls += 1
        if self._rng.random() >= self.rate:
            return None
        kind = self._rng.choice(KINDS)
        self.counts[kind] += 1
        return _fault(kind, self._rng)

    @property
    def faults(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        kinds = ", ".join(f"{k} {self.counts[k]}" for k in KINDS)
        return f"seed {self.seed}: {self.faults}/{self.calls} sends faulted ({kinds})"
