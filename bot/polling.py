"""Long polling that loses nothing when the process dies.

PTB's Updater confirms a batch of updates to Telegram with its next getUpdates call, usually
while their handlers are still running; a crash then would lose a member's answer for good.
Here each batch is written to the database inbox before it is dispatched, each update is
removed once handled, and whatever is left is replayed at the next start (forms recognise an
update they already applied).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import OrderedDict

from telegram import Update
from telegram.error import Conflict, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from bot.clock import Clock
from storage import inbox
from storage.db import Database

log = logging.getLogger(__name__)
BACKOFF_SECONDS = (1, 2, 5, 10, 30)
REMEMBERED = 10_000


class InboxPoller:
    def __init__(self, application: Application, db: Database, clock: Clock,
                 timeout: int) -> None:
        self.application = application
        self.db = db
        self.clock = clock
        self.timeout = timeout
        self._task: asyncio.Task[None] | None = None
        # After a restart Telegram sends again what the dead process fetched but never
        # confirmed, while the inbox replays the same updates: each is dispatched once.
        self._dispatched: OrderedDict[int, None] = OrderedDict()

    async def handled(self, update: object) -> None:
        """Called by the update processor when an update's handlers are done."""
        if isinstance(update, Update):
            async with self.db.transaction() as tx:
                await inbox.forget(tx, update.update_id)

    async def start(self) -> None:
        bot = self.application.bot
        await bot.delete_webhook()  # getUpdates is refused while a webhook is set
        async with self.db.transaction() as tx:
            left = await inbox.waiting(tx)
        for _, body in left:
            await self._dispatch(Update.de_json(json.loads(body), bot))
        if left:
            log.info("replaying %d update(s) not handled before the last stop", len(left))
        self._task = asyncio.create_task(self._poll(), name="lantoa-polling")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _poll(self) -> None:
        offset = 0
        failures = 0
        while True:
            try:
                updates = await self.application.bot.get_updates(
                    offset=offset, timeout=self.timeout, allowed_updates=Update.ALL_TYPES)
                failures = 0
            except RetryAfter as error:
                await asyncio.sleep(_seconds(error.retry_after))
                continue
            except TimedOut:
                continue
            except (NetworkError, Conflict) as error:
                wait = BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS) - 1)]
                failures += 1
                log.warning("getUpdates failed (%s); trying again in %ss", error, wait)
                await asyncio.sleep(wait)
                continue
            if not updates:
                continue
            await self._receive(updates)
            offset = updates[-1].update_id + 1

    async def _receive(self, updates: list[Update]) -> None:
        fresh = [u for u in updates if u.update_id not in self._dispatched]
        async with self.db.transaction() as tx:
            await inbox.keep(tx, [(u.update_id, json.dumps(u.to_dict())) for u in fresh],
                             self.clock.now())
        for update in fresh:
            await self._dispatch(update)

    async def _dispatch(self, update: Update) -> None:
        self._dispatched[update.update_id] = None
        while len(self._dispatched) > REMEMBERED:
            self._dispatched.popitem(last=False)
        await self.application.update_queue.put(update)


def _seconds(value: object) -> float:
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]
