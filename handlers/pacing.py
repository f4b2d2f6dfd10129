"""Every Bot API call that puts something into a chat waits for its booked moment in the one
`Pacer` (bot/runtime/pacing.py). Broadcasts pass `rate_limit_args=BULK` and take only the room
replies leave; everything else is a reply to someone using the bot and goes ahead of them. A
reply that Telegram still refuses with "retry after" waits that long and is tried again (a few
times); a broadcast's is the sender's to handle (handlers/deliveries.py), so the limiter only
slows that chat and passes it on.

While a process may act for the bot only under its lease (bot/runtime/standby.py), the
limiter, which sees every Bot API call, refuses each one once the lease's guard has lapsed:
a process that lost its lease (hung, or cut off from the database) sends nothing more, not
even getUpdates. Each "retry after" is counted for `lantoa status`."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.runtime.bot_api import ONE_MESSAGE
from bot.runtime.metrics import Metrics
from bot.runtime.pacing import BULK_HORIZON, Pacer, sending_at
from bot.runtime.standby import LeaseGuard, RetryAfters

log = logging.getLogger(__name__)

# rate_limit_args of a broadcast send (digests, reminders, nudges, announcements) and of an edit
# that tidies a chat; the sender adds the ledger's "kind", which the metrics count sent messages
# by. Their answer is never read: PTB gets True for a single message, and builds no Message.
BULK: dict[str, Any] = {"bulk": True}
# Calls that show something in a chat: each counts towards Telegram's limits.
PACED = frozenset({
    "sendMessage", "sendPhoto", "sendMediaGroup", "sendDocument", "sendVideo", "sendAudio",
    "sendAnimation", "sendVoice", "sendVideoNote", "sendSticker", "sendLocation", "sendVenue",
    "sendContact", "sendPoll", "sendDice", "copyMessage", "copyMessages", "forwardMessage",
    "forwardMessages", "editMessageText", "editMessageCaption", "editMessageMedia",
    "editMessageReplyMarkup",
})
REPLY_RETRIES = 3
# A broadcast's takeoff (its row marked 'sending') is this long before its moment, so that the
# commit (a few ms; it may wait behind other transactions) is mostly done by then and the
# message leaves on time. Less than the spacing of broadcasts (36 ms): a process killed then
# leaves at most one row 'sending' that never went.
TAKEOFF_LEAD = 0.02

Callback = Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]]


@dataclass
class Flight:
    """Whether a broadcast's call is with Telegram at this moment: stopped then, nobody can
    know whether the message arrived. `takeoff`, if given, is awaited once, when the first
    call's turn has come (`TAKEOFF_LEAD` before its moment): False means the message is no
    longer this process's to send (`NotTaken` is raised). The ledger marks its row 'sending'
    there, not before the wait: a process killed while a digest waited its turn left it
    'sending', and the next start could only call it uncertain and never send it."""

    active: bool = False
    parts_sent: int = 0  # of the message's parts, those Telegram took
    takeoff: Callable[[], Awaitable[bool]] | None = None
    taken: bool = False  # the takeoff said yes: the row is this process's 'sending'


class NotTaken(Exception):
    """The flight's `takeoff` said no: another process sends it, or it is settled."""


def retry_seconds(error: RetryAfter) -> float:
    value = error._retry_after  # the int form of `retry_after` is deprecated
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def _chat_of(data: dict[str, Any]) -> int | None:
    chat_id = data.get("chat_id")
    if isinstance(chat_id, bool):
        return None
    if isinstance(chat_id, int):
        return chat_id
    if isinstance(chat_id, str):
        try:
            return int(chat_id)
        except ValueError:
            return -1  # @channelusername: a channel, paced like a group
    return None


async def _booked(pacer: Pacer, chat_id: int, bulk: bool, count: int) -> float:
    """The moment booked for the send; a broadcast waits until there is room near enough."""
    while True:
        booking = pacer.book(chat_id, bulk, pacer.time.now(), count)
        if booking.booked:
            return booking.moment
        await pacer.time.sleep_until(booking.moment - BULK_HORIZON)


class PacedRateLimiter(BaseRateLimiter[dict[str, Any]]):
    def __init__(self, pacer: Pacer, metrics: Metrics, guard: LeaseGuard | None = None,
                 retry_afters: RetryAfters | None = None) -> None:
        self.pacer = pacer
        self.metrics = metrics
        self.guard = guard
        self.retry_afters = retry_afters or RetryAfters()

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if self.guard is not None:
            self.guard.check()
        chat_id = _chat_of(data) if endpoint in PACED else None
        if chat_id is None:
            try:
                return await callback(*args, **kwargs)
            except RetryAfter:
                self._told_to_wait()
                raise
        bulk = bool(rate_limit_args and rate_limit_args.get("bulk"))
        media = data.get("media")
        count = len(media) if endpoint == "sendMediaGroup" and isinstance(media, list) else 1
        pacer = self.pacer
        for attempt in range(REPLY_RETRIES + 1):
            moment = await _booked(pacer, chat_id, bulk, count)
            flight = rate_limit_args.get("flight") if rate_limit_args else None
            if not isinstance(flight, Flight):
                flight = Flight()
            takeoff, flight.takeoff = flight.takeoff, None
            if takeoff is not None:
                await pacer.time.sleep_until(moment - TAKEOFF_LEAD)
                if self.guard is not None:  # the wait for its turn may have outlived the lease
                    self.guard.check()
                if not await takeoff():
                    raise NotTaken()
                flight.taken = True
            await pacer.time.sleep_until(moment)
            # Held back and counted at one moment, after the takeoff's commit (which may have
            # waited), so sends are spaced as they really leave.
            while (late := pacer.held_back(pacer.time.now(), bulk)) > 0:
                await pacer.time.sleep_until(pacer.time.now() + late)
            if self.guard is not None:
                self.guard.check()
            went = pacer.time.now()
            pacer.sending(went, count, chat_id, moment)
            flight.active = True
            try:
                with sending_at(moment):
                    result = await callback(*args, **kwargs)
            except RetryAfter as error:
                pacer.round_trip(pacer.time.now() - went)
                flight.active = False
                self._told_to_wait()
                pacer.pause(chat_id, retry_seconds(error), pacer.time.now())
                if bulk or attempt == REPLY_RETRIES:
                    raise
                log.warning("%s into %s: %s; trying again", endpoint, chat_id, error)
            except Exception:
                flight.active = False  # answered (an error), or given up on
                raise
            else:
                pacer.round_trip(pacer.time.now() - went)
                flight.active = False
                self.metrics.sent(rate_limit_args.get("kind") if rate_limit_args else None)
                return True if bulk and endpoint in ONE_MESSAGE else result
        raise AssertionError("unreachable")  # pragma: no cover

    def _told_to_wait(self) -> None:
        """A 429: for /metrics and for `lantoa status`."""
        self.metrics.retry_after.inc()
        self.retry_afters.seen()
