"""The one paced sender of the deliveries ledger (storage/deliveries.py, bot/rules/deliveries.py).

It wakes when `services.outbox` is rung (and at start-up), takes queued rows oldest first and
sends several chats at once, each chat's rows strictly in order. Its transactions are background
work (storage/db.py): people's replies go before them. Per row: 'sending' is committed
when its turn has come, just before Telegram hears of it, so a crash then leaves 'sending',
which is never sent again ('uncertain' at the next start); a row still waiting its turn stays
'queued' and goes after the restart, or from the standby that took over. Then the picture with
the text as its caption when it fits in one (one call), else the picture and the text in parts
of at most 4,096 characters cut at line boundaries (the buttons on the last part), and the row
is settled:

- "retry after": that chat waits as long as Telegram says, and the part is sent again (parts
  already sent never are), however often: Telegram promises to take it then, and giving up
  would lose a message it would have taken;
- time-outs, network errors, Telegram's 5xx: up to eight more tries with waits doubling from
  2 s to at most a minute (about four minutes in all), then 'failed'. With a fifth of all calls
  failing (tests/test_faults.py) a part still fails for good only once in ~10^7, where four
  tries gave once in ~10^4: a lost message in one run of a thousand out of ten;
- blocked (403): the person is marked unreachable and nothing more is sent to them until they
  write to the bot again; a group that removed the bot is unreachable too;
- a group upgraded to a supergroup: the unit and the chat's rows follow it to the new id;
- anything else Telegram refuses: 'failed', with its reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from telegram import Update
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.rules.schedules import too_late
from bot.runtime.pacing import Pacer
from bot.runtime.services import Services
from bot.runtime.standby import LeaseLost
from bot.ui.screens import Button, Screen
from handlers.common import core_of_application
from handlers.pacing import BULK, Flight, NotTaken, PacedRateLimiter, retry_seconds
from handlers.screens import Part, parts_of, send_part
from storage import deliveries, groups, people
from storage.db import DatabaseUnavailable, Turn, background
from storage.deliveries import Delivery, Status

log = logging.getLogger(__name__)

KEY = "outbox"
LANES = 32  # chats sent to at once: 25 a second even when each call takes ~1 s
NETWORK_RETRIES = 8  # after the first try: time-outs, network errors, 5xx
BACKOFF = 2.0  # seconds before the first retry; doubles each time…
MAX_BACKOFF = 60.0  # … up to this
STOP_WAIT = 5.0  # seconds the rows being sent get to finish when the bot stops
# How often the ledger is looked at unrung: another bot's process on the same database may have
# queued rows this bot sends (a province leader's word to a member of this bot's cell).
PEER_LOOK_SECONDS = 5.0
# Runs before every other handler: a quick look whether the writer had blocked the bot.
REACHABLE_GROUP = -100


def screen_of(row: Delivery) -> Screen:
    """The screen a ledger row holds: its text and buttons, and its picture (a chart made
    here, or a photo's file id), the text its caption when it fits (a message sent once, never
    redrawn in place)."""
    buttons = tuple(tuple(Button(label, data) for label, data in r) for r in row.buttons)
    photos = (row.photo_id,) if row.photo is None and row.photo_id is not None else ()
    return Screen(row.text, buttons, photos=photos, image=row.photo, caption=True)


class Outbox:
    def __init__(self, application: Application, pacer: Pacer) -> None:
        self.application = application
        self.pacer = pacer
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._lanes: dict[int, asyncio.Task[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.unreachable: set[int] = set()

    @property
    def services(self) -> Services:
        return core_of_application(self.application).services

    @property
    def bot_id(self) -> int | None:
        """Whose ledger rows this sender sends (bot/rules/bots.py); None: every row."""
        bot = self.services.bot
        return None if bot is None else bot.bot_id

    def notify(self) -> None:
        if self._stopping:
            return
        self._idle.clear()
        self._wake.set()

    async def start(self) -> None:
        services = self.services
        async with services.db.transaction() as tx:
            caught = await deliveries.keys_of(tx, Status.SENDING, kind="announcement",
                                              bot_id=self.bot_id)
            abandoned = await deliveries.abandon_in_flight(tx, services.now(), self.bot_id)
            self.unreachable = await people.unreachable_users(tx)
            more = await self._announcements_settled(tx, caught)
        if abandoned:
            log.warning("%d deliveries were cut off mid-send; kept as uncertain", abandoned)
        services.outbox.listen(self.notify)
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox")
        self.notify()
        if more:
            self.notify()

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        lanes = list(set(self._lanes.values()))
        if lanes:
            _, late = await asyncio.wait(lanes, timeout=STOP_WAIT)
            for lane in late:
                lane.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self._idle.set()

    async def settled(self, timeout: float = 10.0) -> None:
        """Returns once nothing is queued or being sent and the sender is idle."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    if self._stopping or self._task is None:
                        raise RuntimeError("the sender is not running")
                    self.notify()
                    await self._idle.wait()
                    async with self.services.db.transaction() as tx:
                        if await deliveries.unsettled(tx, self.bot_id) == 0:
                            return
        except TimeoutError:
            async with self.services.db.transaction() as tx:
                left = [(r.id, r.kind, r.chat_id, r.status.value)
                        for r in await deliveries.in_ledger(tx) if not r.status.settled]
            raise AssertionError(f"deliveries not settled within {timeout}s: {left}") from None

    # ------------------------------------------------------------------ the loop

    async def _run(self) -> None:
        # Every transaction of the sender (and of the lanes started here, which inherit the
        # mark) is background work: a member's reply takes its turn at the database first.
        with background(Turn.SENDING):
            await self._drain()

    async def _drain(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), PEER_LOOK_SECONDS)
            self._wake.clear()
            if self._stopping:
                break
            try:
                async with self.services.db.transaction() as tx:
                    chats = await deliveries.waiting_chats(
                        tx, LANES - len(self._lanes), list(self._lanes), self.bot_id)
            except DatabaseUnavailable:  # said once by the database; looked at again soon
                await asyncio.sleep(1)
                self._wake.set()
                continue
            except Exception:
                log.exception("could not read the deliveries ledger")
                await asyncio.sleep(1)
                self._wake.set()
                continue
            for chat_id in chats:
                self._lanes[chat_id] = asyncio.create_task(self._lane(chat_id),
                                                           name=f"outbox-{chat_id}")
            if not self._lanes and not self._wake.is_set():
                self._idle.set()

    async def _lane(self, chat_id: int) -> None:
        me = asyncio.current_task()
        chats = {chat_id}
        try:
            while not self._stopping:
                async with self.services.db.transaction() as tx:  # one, not two, per row
                    row = await deliveries.next_of_chat(tx, chat_id, self.bot_id)
                    blocked = (row is not None and row.chat_id > 0
                               and await people.is_unreachable(tx, row.chat_id))
                if row is None:
                    break
                chat_id = await self._deliver(row, blocked)
                if chat_id not in chats:  # the group moved: its rows follow, in order
                    chats.add(chat_id)
                    self._lanes.setdefault(chat_id, me)  # type: ignore[arg-type]
        except Exception:
            log.exception("the sender of chat %s stopped", chat_id)
        finally:
            for chat in chats:
                if self._lanes.get(chat) is me:
                    del self._lanes[chat]
            if not self._stopping:
                self._wake.set()

    # ------------------------------------------------------------------ one row

    async def _deliver(self, row: Delivery, blocked: bool) -> int:
        """Sends one row and settles it (`blocked`: its person is marked unreachable); returns
        the chat it ended up in."""
        services = self.services
        if row.chat_id in self.unreachable:
            await self._unreachable(row.chat_id, "blocked the bot earlier")
            return row.chat_id
        stale = too_late(services.settings, services.now(), row.kind, row.decided_at)
        if stale is not None:
            await self._settle(row, Status.MISSED, stale)
            return row.chat_id
        if blocked:
            self.unreachable.add(row.chat_id)
            await self._unreachable(row.chat_id, "blocked the bot earlier")
            return row.chat_id
        flight = Flight(takeoff=lambda: self._take(row.id))
        try:
            return await self._send_row(row, flight)
        except NotTaken:
            return row.chat_id
        except (asyncio.CancelledError, LeaseLost):
            # Stopped while waiting its turn, nothing of it sent: it goes after the restart,
            # or from the process that took the lease over (still 'queued' before its first
            # call's turn; put back if a retry-after held its first part). Stopped later, it
            # may have reached Telegram: left 'sending', never sent again.
            if flight.taken and not flight.active and not flight.parts_sent:
                async with services.db.transaction() as tx:
                    await deliveries.requeue(tx, row.id)
            raise
        except Exception as error:
            log.exception("delivery %s failed unexpectedly", row.id)
            await self._settle(row, Status.FAILED, f"unexpected: {error!r}"[:500])
            return row.chat_id

    async def _take(self, delivery_id: int) -> bool:
        """queued → 'sending', committed as its first call goes (see `Flight`)."""
        async with self.services.db.transaction() as tx:
            return await deliveries.start_sending(tx, delivery_id)

    async def _send_row(self, row: Delivery, flight: Flight) -> int:
        chat_id = row.chat_id
        parts = parts_of(screen_of(row))
        if not parts:
            await self._settle(row, Status.FAILED, "nothing to send")
            return chat_id
        index = faults = 0
        while index < len(parts):
            try:
                await self._send(chat_id, parts[index], flight, row.kind)
                index += 1
                flight.parts_sent = index
                faults = 0
                continue
            except RetryAfter as error:  # the limiter paused the chat: the next try waits
                seconds = retry_seconds(error)
                self.pacer.pause(chat_id, seconds, self.pacer.time.now())
                log.warning("delivery %s: retry after %ss", row.id, seconds)
            except ChatMigrated as error:
                new_chat_id = int(error.new_chat_id)
                if not await self._migrate(row, chat_id, new_chat_id):
                    return new_chat_id
                chat_id = new_chat_id
            except Forbidden as error:
                await self._unreachable(chat_id, str(error)[:500], row)
                return chat_id
            except BadRequest as error:
                log.warning("delivery %s refused: %s", row.id, error)
                await self._settle(row, Status.FAILED, str(error)[:500])
                return chat_id
            except NetworkError as error:  # TimedOut, 5xx, connection trouble
                faults += 1
                log.warning("delivery %s: %s (try %d)", row.id, error, faults)
                if faults > NETWORK_RETRIES:
                    await self._settle(row, Status.FAILED, f"network: {error}"[:500])
                    return chat_id
                wait = min(MAX_BACKOFF, BACKOFF * 2 ** (faults - 1))
                await self.pacer.time.sleep_until(self.pacer.time.now() + wait)
        await self._settle(row, Status.SENT)
        return chat_id

    async def _send(self, chat_id: int, part: Part, flight: Flight, kind: str) -> None:
        await send_part(self.application.bot, chat_id, part,
                        rate_limit_args={**BULK, "flight": flight, "kind": kind})

    async def _settle(self, row: Delivery, status: Status, detail: str | None = None) -> None:
        services = self.services
        async with services.db.transaction() as tx:
            await deliveries.settle(tx, row.id, status, services.now(), detail)
            more = await self._announcements_settled(tx, {(row.kind, row.unit_id, row.period)})
        if more:
            services.outbox.notify()

    async def _unreachable(self, chat_id: int, reason: str, row: Delivery | None = None) -> None:
        """The chat blocked the bot: the row (if any) and all still queued for it will not
        arrive; a person is skipped from now on, until they write to the bot again."""
        services = self.services
        now = services.now()
        async with services.db.transaction() as tx:
            if chat_id > 0:
                await people.mark_unreachable(tx, chat_id)
                self.unreachable.add(chat_id)
            keys = await deliveries.keys_of(tx, Status.QUEUED, chat_id=chat_id,
                                            bot_id=self.bot_id)
            await deliveries.drop_chat(tx, chat_id, now, self.bot_id)
            if row is not None:
                keys.add((row.kind, row.unit_id, row.period))
                await deliveries.settle(tx, row.id, Status.UNREACHABLE, now, reason)
            more = await self._announcements_settled(tx, keys)
        log.info("chat %s is unreachable: %s", chat_id, reason)
        if more:
            services.outbox.notify()

    async def _migrate(self, row: Delivery, old_chat_id: int, new_chat_id: int) -> bool:
        """The group moved; returns whether the row goes on in the new chat."""
        services = self.services
        async with services.db.transaction() as tx:
            unit_id = await groups.move_group(tx, old_chat_id, new_chat_id)
            # Queued rows the new id already had are settled: an announcement may be complete.
            queued = await deliveries.keys_of(tx, Status.QUEUED, chat_id=old_chat_id)
            moved = await deliveries.move_chat(tx, old_chat_id, new_chat_id, row.id,
                                               services.now())
            more = await self._announcements_settled(tx, queued)
        if more:
            services.outbox.notify()
        log.info("group %s is now %s (unit %s)", old_chat_id, new_chat_id, unit_id)
        if not moved:
            await self._settle(row, Status.UNREACHABLE, f"moved to {new_chat_id}, already there")
        return moved

    async def _announcements_settled(self, tx: Any,
                                      keys: set[tuple[str, int, str]]) -> int:
        announcements = core_of_application(self.application).announcements
        return sum([await announcements.settled(tx, unit_id, period)
                    for kind, unit_id, period in sorted(keys) if kind == "announcement"])

    # ------------------------------------------------------------------ writing again

    async def wrote(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Someone who had blocked the bot writes to it: they can be reached again."""
        if not isinstance(update, Update) or update.effective_user is None:
            return
        user_id = update.effective_user.id
        if user_id not in self.unreachable:
            return
        self.unreachable.discard(user_id)
        async with self.services.db.transaction() as tx:
            await people.mark_reachable(tx, user_id)


def install(application: Application) -> None:
    """Called by the composition root once the Application is built (with a PacedRateLimiter)."""
    limiter = application.bot.rate_limiter
    pacer = limiter.pacer if isinstance(limiter, PacedRateLimiter) else Pacer()
    outbox = Outbox(application, pacer)
    application.bot_data[KEY] = outbox
    application.add_handler(TypeHandler(Update, outbox.wrote), group=REACHABLE_GROUP)


def outbox_of(application: Application) -> Outbox:
    return application.bot_data[KEY]


async def start(application: Application) -> None:
    """Starts draining the ledger (after Application.start)."""
    await outbox_of(application).start()


async def stop(application: Application) -> None:
    """Stops the sender (before Application.stop)."""
    await outbox_of(application).stop()


async def settled(application: Application, timeout: float = 10.0) -> None:
    """For tests: waits until every queued delivery is settled."""
    await outbox_of(application).settled(timeout)
