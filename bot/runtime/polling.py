"""Long polling that loses nothing when the process dies.

PTB's Updater confirms a batch of updates to Telegram with its next getUpdates call, usually
while their handlers are still running; a crash then would lose a member's answer for good.
Here each batch goes through the `Intake` (bot/runtime/intake.py: stored in the inbox before
it is dispatched, replayed at the next start if unhandled) before the next getUpdates confirms
it.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from typing import Any

from telegram.error import EndPointNotFound, InvalidToken, RetryAfter, TimedOut
from telegram.warnings import PTBUserWarning

from bot.runtime.intake import ALLOWED_UPDATES, DATABASE_RETRY_SECONDS, Intake
from bot.runtime.standby import LeaseLost
from storage.db import DatabaseUnavailable

log = logging.getLogger(__name__)
# getUpdates is called raw on purpose: PTB's get_updates parses a whole batch at once, and one
# update it cannot read would then stop every other from being handled.
warnings.filterwarnings("ignore", message=r".*do_api_request\(\"getUpdates\"",
                        category=PTBUserWarning)
BACKOFF_SECONDS = (1, 2, 5, 10, 30)
EXTRA_READ_SECONDS = 10


class InboxPoller:
    def __init__(self, intake: Intake, timeout: int) -> None:
        self.intake = intake
        self.application = intake.application
        self.timeout = timeout
        self.failure: BaseException | None = None
        self.failed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._interruptible = False
        self._offset = 0

    async def start(self) -> None:
        await self.application.bot.delete_webhook()  # getUpdates is refused while one is set
        await self.intake.replay()
        self._task = asyncio.create_task(self._poll(), name="lantoa-polling")

    async def stop(self) -> None:
        """Stops between batches (never inside a database write), then confirms to Telegram
        what was fetched, as PTB's Updater does."""
        self._stopping = self.intake.stopping = True
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
        if self._offset and self.failure is None and self.intake.acting():
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

    async def _poll(self) -> None:
        failures = 0
        while not self._stopping and self.intake.acting():
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
            except LeaseLost:
                return  # the process tears the bot down (bot/runtime/app.py)
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
        await self.intake.accept(raw)
        self._offset = max(int(item["update_id"]) for item in raw) + 1


def _seconds(value: object) -> float:
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]
