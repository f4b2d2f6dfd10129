"""Prometheus metrics (GET /metrics when `metrics = true`), in a registry of the process's own:
never the library's global one, so that two bots in one test process count apart."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from time import perf_counter
from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

T = TypeVar("T")
# A reply is expected within a second or two; slower means a busy database or Telegram's limits.
ANSWER_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
# A cell's digests take milliseconds, a province's a minute or more.
DIGEST_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0)
REPLY = "reply"  # the kind of a message that answers someone (not from the ledger)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates_handled = Counter(
            "lantoa_updates_handled", "Updates whose handlers are done.", registry=r)
        self.answer_seconds = Histogram(
            "lantoa_answer_seconds", "From an update's arrival to its handlers done.",
            buckets=ANSWER_BUCKETS, registry=r)
        self.messages_sent = Counter(
            "lantoa_messages_sent", "Messages Telegram took, by kind: the ledger's for "
            "deliveries (digest, reminder, nudge…), 'reply' for the rest.", ["kind"], registry=r)
        self.retry_after = Counter(
            "lantoa_retry_after", "Answers 429 (retry after) from Telegram.", registry=r)
        self.ledger_backlog = Gauge(
            "lantoa_ledger_backlog", "Deliveries queued or being sent.", registry=r)
        self.digest_run_seconds = Histogram(
            "lantoa_digest_run_seconds", "Deciding one schedule's digests.",
            buckets=DIGEST_BUCKETS, registry=r)

    def handled(self, seconds: float | None) -> None:
        """An update is done; `seconds` since it came, unknown for one replayed at start."""
        self.updates_handled.inc()
        if seconds is not None:
            self.answer_seconds.observe(seconds)

    def sent(self, kind: str | None) -> None:
        self.messages_sent.labels(kind or REPLY).inc()

    def timed_digests(self, run: Callable[[T], Awaitable[int]]) -> Callable[[T], Awaitable[int]]:
        async def timed(due: T) -> int:
            began = perf_counter()
            try:
                return await run(due)
            finally:
                self.digest_run_seconds.observe(perf_counter() - began)
        return timed

    def exposition(self, backlog: int | None) -> bytes:
        """The text a scrape gets, with the ledger's backlog just read (None: it could not be
        read, the last value stands)."""
        if backlog is not None:
            self.ledger_backlog.set(backlog)
        return generate_latest(self.registry)
