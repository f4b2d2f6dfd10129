"""Where every update enters, whichever way it came (long polling or the webhook): stored in
the database inbox, as Telegram sent it, before it is dispatched; marked handled when its
handlers are done; what is left unhandled is replayed at the next start, and an update
Telegram sends again is recognised and skipped. A source confirms an update to Telegram (the
next getUpdates' offset, the webhook's answer 200) only once `accept` has returned."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.runtime.clock import Clock
from bot.runtime.health import Health
from bot.runtime.metrics import Metrics
from bot.runtime.standby import LeaseKeeper, LeaseLost
from bot.runtime.update_order import PerChatUpdateProcessor
from storage import inbox
from storage.bots import NO_BOT
from storage.db import Database, DatabaseUnavailable

log = logging.getLogger(__name__)
# Only what some handler answers: fewer kinds of update, fewer surprises.
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
# An update whose replay was started this many times and never finished is a suspect: a crash
# with many updates in flight points at none of them, so it is replayed alone, before any other,
# and set aside (not replayed again) only if the process dies SOLO_REPLAYS times then too. One
# death alone is not enough: a process killed from outside (an OOM kill, a restart, the standby
# taking over) while a start-up replays suspects one after another lands on one of them, and a
# member's press was lost that way (the crash-restart test on PostgreSQL, whose start-up takes
# long enough for kills to land there). Only starts count: an update waiting behind another
# through quick restarts is never suspected for them.
MAX_REPLAYS = 3
SOLO_REPLAYS = 2
SET_ASIDE_AFTER = MAX_REPLAYS + SOLO_REPLAYS  # replay starts that never finished
SOLO_REPLAY_WAIT = 30.0  # seconds a suspect may run alone before the others go on anyway
REMEMBER_HANDLED = dt.timedelta(days=2)
PRUNE_EVERY = dt.timedelta(hours=1)
# While the database server is away (storage/postgres.py says so once): how often to try again.
# Updates that could not be stored are not confirmed to Telegram, which sends them again.
DATABASE_RETRY_SECONDS = 1.0


class Intake:
    def __init__(self, application: Application, db: Database, clock: Clock, metrics: Metrics,
                 health: Health, bot_id: int = NO_BOT, keeper: LeaseKeeper | None = None) -> None:
        self.application = application
        self.bot_id = bot_id  # whose updates these are: ids are counted per bot
        self.keeper = keeper  # the lease this process acts under (none in tests)
        self.db = db
        self.clock = clock
        self.metrics = metrics
        self.health = health
        self.stopping = False
        self._pruned_at: dt.datetime | None = None
        # Replayed updates not started yet; fresh ones are not counted (no extra transaction).
        self._replaying: set[int] = set()
        self._finished: dict[int, asyncio.Event] = {}  # suspects replayed alone
        self._received: dict[int, float] = {}  # update id -> when it came (answer latency)
        processor = application.update_processor
        if isinstance(processor, PerChatUpdateProcessor):
            processor.on_start, processor.on_done = self.starting, self.handled

    async def starting(self, update: object) -> None:
        """Called by the update processor as an update's handlers start."""
        if isinstance(update, Update) and update.update_id in self._replaying:
            self._replaying.discard(update.update_id)
            async with self.db.transaction() as tx:
                await inbox.count_replay(tx, self.bot_id, update.update_id)

    async def handled(self, update: object) -> None:
        """Called by the update processor when an update's handlers are done."""
        if isinstance(update, Update):
            # The lease lost meanwhile, its replies were refused: the process that holds the
            # lease now replays it at its start, unless it is marked handled here first.
            if self.acting():
                await self._mark_handled(update.update_id)
            received = self._received.pop(update.update_id, None)
            self.metrics.handled(None if received is None else time.monotonic() - received)
            self.health.handled(self.clock.now())
            if (finished := self._finished.pop(update.update_id, None)) is not None:
                finished.set()

    async def _mark_handled(self, update_id: int) -> None:
        """An update done while the database server is away is marked once it is back: the
        member's next update waits behind it meanwhile (it could not be answered anyway), and
        is not told of a failure it did not have. A stop first leaves it unmarked: the next
        start replays it, as after a crash."""
        while True:
            try:
                async with self.db.transaction() as tx:
                    await inbox.mark_handled(tx, self.bot_id, update_id, self.clock.now())
                return
            except DatabaseUnavailable:
                if self.stopping:
                    return
                await asyncio.sleep(DATABASE_RETRY_SECONDS)

    async def replay(self) -> None:
        """At start: what the last process accepted and did not finish."""
        async with self.db.transaction() as tx:
            dropped = await inbox.set_aside(tx, self.bot_id, SET_ASIDE_AFTER, self.clock.now())
            left = await inbox.take_unhandled(tx, self.bot_id, SET_ASIDE_AFTER, self.clock.now())
        if dropped:
            log.warning("set aside, not replayed again: update(s) %s, each started %d times "
                        "and never finished, the last %d times alone", dropped, SET_ASIDE_AFTER,
                        SOLO_REPLAYS)
        if left:
            log.info("replaying %d update(s) not handled before the last stop", len(left))
        self._replaying = {update_id for update_id, _, _ in left}
        for update_id, body, attempts in left:
            if attempts >= MAX_REPLAYS:
                await self._replay_alone(update_id, json.loads(body))
        for update_id, body, attempts in left:
            if attempts < MAX_REPLAYS:
                await self._dispatch(update_id, json.loads(body))

    async def _replay_alone(self, update_id: int, body: dict[str, Any]) -> None:
        """A suspect runs with nothing else in flight, so that a crash now is its own."""
        log.warning("replaying update %s alone: it was started %d times and never finished",
                    update_id, MAX_REPLAYS)
        finished = self._finished[update_id] = asyncio.Event()
        if not await self._dispatch(update_id, body):
            self._finished.pop(update_id, None)
            return
        try:
            await asyncio.wait_for(finished.wait(), SOLO_REPLAY_WAIT)
        except TimeoutError:
            self._finished.pop(update_id, None)
            log.warning("update %s still running after %ss; the others go on", update_id,
                        SOLO_REPLAY_WAIT)

    async def accept(self, raw: list[dict[str, Any]]) -> None:
        """Stores the updates (each `update_id` an int) and dispatches those not seen before.
        Returns once they are stored: the source may then confirm them to Telegram. Raises
        `DatabaseUnavailable` when they could not be stored, `LeaseLost` when this process may
        no longer keep them (then they must not be confirmed)."""
        now, came = self.clock.now(), time.monotonic()
        bodies = [(int(item["update_id"]), json.dumps(item, ensure_ascii=False)) for item in raw]
        async with self.db.transaction() as tx:
            if self.keeper is not None and not await self.keeper.holds(tx):
                # Fetched or posted just as the lease was lost: not kept, not confirmed.
                # Telegram hands them to the process that holds it now.
                raise LeaseLost("updates came after the lease was lost")
            fresh = await inbox.keep_new(tx, self.bot_id, bodies, now)
            if self._pruned_at is None or now - self._pruned_at > PRUNE_EVERY:
                await inbox.forget_handled_before(tx, now - REMEMBER_HANDLED)
                self._pruned_at = now
        for item in raw:
            update_id = int(item["update_id"])
            if update_id in fresh:
                self._received[update_id] = came
                await self._dispatch(update_id, item)

    def acting(self) -> bool:
        """Whether the lease (if any) still lets this process act for the bot: PTB passes
        getUpdates by the rate limiter, whose guard refuses every other call."""
        return self.keeper is None or self.keeper.guard.valid()

    async def _dispatch(self, update_id: int, body: dict[str, Any]) -> bool:
        """Hands the update to PTB; False if it could not be read (then it is marked handled)."""
        try:
            update = Update.de_json(body, self.application.bot)
        except Exception:
            # One update this version cannot read must not hold up everyone else's.
            log.exception("skipping update %s that could not be read", update_id)
            self._received.pop(update_id, None)
            async with self.db.transaction() as tx:
                await inbox.mark_handled(tx, self.bot_id, update_id, self.clock.now())
            return False
        await self.application.update_queue.put(update)
        return True
