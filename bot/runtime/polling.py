"""Long polling that loses nothing when the process dies.

PTB's Updater confirms a batch of updates to Telegram with its next getUpdates call, usually
while their handlers are still running; a crash then would lose a member's answer for good.
Here each update is written to the database inbox, as Telegram sent it, before it is
dispatched; it is marked handled when its handlers are done; what is left unhandled is
replayed at the next start, and an update Telegram sends again is recognised and skipped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import warnings
from typing import Any

from telegram import Update
from telegram.error import EndPointNotFound, InvalidToken, RetryAfter, TimedOut
from telegram.ext import Application
from telegram.warnings import PTBUserWarning

from bot.runtime.clock import Clock
from bot.runtime.standby import LeaseKeeper
from bot.runtime.update_order import PerChatUpdateProcessor
from storage import inbox
from storage.db import Database, DatabaseUnavailable

log = logging.getLogger(__name__)
# getUpdates is called raw on purpose: PTB's get_updates parses a whole batch at once, and one
# update it cannot read would then stop every other from being handled.
warnings.filterwarnings("ignore", message=r".*do_api_request\(\"getUpdates\"",
                        category=PTBUserWarning)
BACKOFF_SECONDS = (1, 2, 5, 10, 30)
# Only what some handler answers: fewer kinds of update, fewer surprises.
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
# An update whose replay was started this many times and never finished is a suspect: a crash
# with many updates in flight points at none of them, so it is replayed once more alone, before
# any other, and set aside (not replayed again) only if the process dies then too. Only starts
# count: an update waiting behind another through quick restarts is never suspected for them.
MAX_REPLAYS = 3
SOLO_REPLAY_WAIT = 30.0  # seconds a suspect may run alone before the others go on anyway
REMEMBER_HANDLED = dt.timedelta(days=2)
PRUNE_EVERY = dt.timedelta(hours=1)
EXTRA_READ_SECONDS = 10
# While the database server is away (storage/postgres.py says so once): how often to try again.
# Updates that could not be stored are not confirmed to Telegram, which sends them again.
DATABASE_RETRY_SECONDS = 1.0


class InboxPoller:
    def __init__(self, application: Application, db: Database, clock: Clock,
                 timeout: int, keeper: LeaseKeeper | None = None) -> None:
        self.application = application
        self.keeper = keeper
        self.db = db
        self.clock = clock
        self.timeout = timeout
        self.failure: BaseException | None = None
        self.failed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._interruptible = False
        self._offset = 0
        self._pruned_at: dt.datetime | None = None
        # Replayed updates not started yet; fresh ones are not counted (no extra transaction).
        self._replaying: set[int] = set()
        self._finished: dict[int, asyncio.Event] = {}  # suspects replayed alone
        processor = application.update_processor
        if isinstance(processor, PerChatUpdateProcessor):
            processor.on_start, processor.on_done = self.starting, self.handled

    async def starting(self, update: object) -> None:
        """Called by the update processor as an update's handlers start."""
        if isinstance(update, Update) and update.update_id in self._replaying:
            self._replaying.discard(update.update_id)
            async with self.db.transaction() as tx:
                await inbox.count_replay(tx, update.update_id)

    async def handled(self, update: object) -> None:
        """Called by the update processor when an update's handlers are done."""
        if isinstance(update, Update):
            # The lease lost meanwhile, its replies were refused: the process that holds the
            # lease now replays it at its start, unless it is marked handled here first.
            if self._acting():
                await self._mark_handled(update.update_id)
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
                    await inbox.mark_handled(tx, update_id, self.clock.now())
                return
            except DatabaseUnavailable:
                if self._stopping:
                    return
                await asyncio.sleep(DATABASE_RETRY_SECONDS)

    async def start(self) -> None:
        await self.application.bot.delete_webhook()  # getUpdates is refused while one is set
        async with self.db.transaction() as tx:
            dropped = await inbox.set_aside(tx, MAX_REPLAYS, self.clock.now())
            left = await inbox.take_unhandled(tx, MAX_REPLAYS, self.clock.now())
        if dropped:
            log.warning("set aside, not replayed again: update(s) %s, each started %d times "
                        "and never finished, the last time alone", dropped, MAX_REPLAYS + 1)
        if left:
            log.info("replaying %d update(s) not handled before the last stop", len(left))
        self._replaying = {update_id for update_id, _, _ in left}
        for update_id, body, attempts in left:
            if attempts >= MAX_REPLAYS:
                await self._replay_alone(update_id, json.loads(body))
        for update_id, body, attempts in left:
            if attempts < MAX_REPLAYS:
                await self._dispatch(update_id, json.loads(body))
        self._task = asyncio.create_task(self._poll(), name="lantoa-polling")

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

    async def stop(self) -> None:
        """Stops between batches (never inside a database write), then confirms to Telegram
        what was fetched, as PTB's Updater does."""
        self._stopping = True
        if self._task is None:
            return
        if self._interruptible:
            self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("polling had stopped with an error")
        self._task = None
        if self._offset and self.failure is None and self._acting():
            try:
                await self.application.bot.do_api_request(
                    "getUpdates", api_kwargs={"offset": self._offset, "timeout": 0})
            except Exception as error:  # the inbox still has them: at worst they come again
                log.warning("could not confirm the last updates: %s", error)

    async def _wait(self, work: Any) -> Any:
        """Awaits network I/O or a pause, which `stop` may interrupt."""
        self._interruptible = True
        try:
            return await work
        finally:
            self._interruptible = False

    def _acting(self) -> bool:
        """Whether the lease (if any) still lets this process call Telegram: PTB passes
        getUpdates by the rate limiter, whose guard refuses every other call."""
        return self.keeper is None or self.keeper.guard.valid()

    async def _poll(self) -> None:
        failures = 0
        while not self._stopping and self._acting():
            try:
                raw = await self._wait(self.application.bot.do_api_request(
                    "getUpdates",
                    api_kwargs={"offset": self._offset, "timeout": self.timeout,
                                "allowed_updates": ALLOWED_UPDATES},
                    read_timeout=self.timeout + EXTRA_READ_SECONDS,
                ))
                if raw:
                    await self._receive(raw)
                failures = 0
            except RetryAfter as error:
                await self._wait(asyncio.sleep(_seconds(error.retry_after)))
            except TimedOut:
                continue
            except DatabaseUnavailable:
                await self._wait(asyncio.sleep(DATABASE_RETRY_SECONDS))
            except (InvalidToken, EndPointNotFound):
                # getUpdates always exists: "not found" here means the token was revoked.
                self.failure = InvalidToken("the bot token was rejected while running")
                log.critical("Telegram no longer accepts the bot token; stopping")
                self.failed.set()
                return
            except Exception as error:
                # Never end silently: a bad update, the network, the database — try again.
                wait = BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS) - 1)]
                failures += 1
                log.warning("polling failed (%s); trying again in %ss", error, wait)
                await self._wait(asyncio.sleep(wait))

    async def _receive(self, raw: list[dict[str, Any]]) -> None:
        now = self.clock.now()
        bodies = [(int(item["update_id"]), json.dumps(item, ensure_ascii=False)) for item in raw]
        async with self.db.transaction() as tx:
            if self.keeper is not None and not await self.keeper.holds(tx):
                # Fetched just before the lease was lost: not kept, not confirmed. Telegram
                # hands them to the process that holds it now.
                return
            fresh = await inbox.keep_new(tx, bodies, now)
            if self._pruned_at is None or now - self._pruned_at > PRUNE_EVERY:
                await inbox.forget_handled_before(tx, now - REMEMBER_HANDLED)
                self._pruned_at = now
        self._offset = max(update_id for update_id, _ in bodies) + 1
        for item in raw:
            if int(item["update_id"]) in fresh:
                await self._dispatch(int(item["update_id"]), item)

    async def _dispatch(self, update_id: int, body: dict[str, Any]) -> bool:
        """Hands the update to PTB; False if it could not be read (then it is marked handled)."""
        try:
            update = Update.de_json(body, self.application.bot)
        except Exception:
            # One update this version cannot read must not hold up everyone else's.
            log.exception("skipping update %s that could not be read", update_id)
            async with self.db.transaction() as tx:
                await inbox.mark_handled(tx, update_id, self.clock.now())
            return False
        await self.application.update_queue.put(update)
        return True


def _seconds(value: object) -> float:
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]
