"""One active process per bot: every `lantoa run` takes part. A process polls, sends,
schedules and runs the start-up recovery (inbox replay, `abandon_in_flight`, the schedules'
catch-up) only while it holds the bot's lease (storage/leases.py); meanwhile it waits as a
standby, looking every STANDBY_LOOK_SECONDS.

Once active it renews every lease_seconds / 3. Its right to act is a `LeaseGuard` on this
machine's clock, valid until the start of the last renewal that succeeded + lease_seconds −
MARGIN: the lease in the database ends later than that (it counts from the renewal's
statement), so the guard has lapsed before a standby can take over, whatever became of the
database or of this process. A process that could not renew in time (the database lost, or
the process hung or SIGSTOPped and resumed) stops acting at once: the guard refuses every Bot
API call (handlers/pacing.py), `lost` is set, and the caller tears the Application down and
waits as a standby again; it takes the lease back only once the other has let it go.

On SQLite there is no standby: the file is on one machine, and a second process is refused
(`StandbyRefused`) unless the holder is dead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from bot.ui.catalogue import Said
from storage import leases
from storage.db import Database, DatabaseUnavailable, TurnLock, Tx
from storage.leases import Holder, Lease

log = logging.getLogger(__name__)
STANDBY_LOOK_SECONDS = 1.0
# The guard lapses this long before the lease in the database does: room for a Bot API call
# already on its way, and for the two clocks' rates to differ a little.
MARGIN_SECONDS = 1.5
RETRY_AFTER_WINDOW = 3600.0  # `lantoa status` counts Telegram's 429s over the last hour


def monotonic() -> float:
    """A clock that also runs while the machine sleeps (a suspended VM, a laptop's lid):
    CLOCK_MONOTONIC stops then, and a guard on it would outlive the lease."""
    if hasattr(time, "CLOCK_BOOTTIME"):
        return time.clock_gettime(time.CLOCK_BOOTTIME)
    return time.monotonic()  # pragma: no cover - not Linux


class LeaseLost(Exception):
    """A Bot API call refused: this process no longer holds the bot's lease."""


class StandbyRefused(Said):
    """A second `lantoa run` on a SQLite file: the one line the CLI prints."""


class LeaseGuard:
    """Whether this process may act for the bot now (see the module's docstring)."""

    def __init__(self, clock: Callable[[], float] = monotonic) -> None:
        self._clock = clock
        self._until = float("-inf")

    def extend(self, renewal_began: float, seconds: float) -> None:
        self._until = renewal_began + seconds - MARGIN_SECONDS

    def revoke(self) -> None:
        self._until = float("-inf")

    def remaining(self) -> float:
        return self._until - self._clock()

    def valid(self) -> bool:
        return self.remaining() > 0

    def check(self) -> None:
        if not self.valid():
            raise LeaseLost("this process no longer holds the bot's lease")


class RetryAfters:
    """Telegram's 429s ("retry after") seen by this process over the last hour."""

    def __init__(self, clock: Callable[[], float] = monotonic) -> None:
        self._clock = clock
        self._seen: deque[float] = deque()

    def seen(self) -> None:
        self._seen.append(self._clock())

    def last_hour(self) -> int:
        cutoff = self._clock() - RETRY_AFTER_WINDOW
        while self._seen and self._seen[0] < cutoff:
            self._seen.popleft()
        return len(self._seen)


def this_process() -> Holder:
    """A new instance id at every start: a restarted container's process has the pid (1) and
    host name of the one before it, never its instance id."""
    return Holder(secrets.token_hex(8), socket.gethostname(), os.getpid())


def holder_is_dead(lease: Lease, me: Holder) -> bool:
    """The same-host shortcut: a holder on this host whose pid no longer runs is dead, and so
    is one whose pid is ours under another instance id (a restarted container's pid 1, or a
    recycled pid): it can be taken at once instead of after its lease runs out. A host name is
    taken to name one pid namespace (one machine, or one container: Docker gives each its own
    name); two containers given the same name must not run the same bot. A pid that runs but
    belongs to some other program is taken for alive: then we only wait for the expiry."""
    if lease.holder == me.instance or lease.host != me.host:
        return False
    if lease.pid == me.pid:
        return True
    try:
        os.kill(lease.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it runs, as another user
    return False


class LeaseKeeper:
    """Takes, renews and gives up the lease of one bot on a database connection of its own: a
    renewal never waits behind the bot's own writes (one write transaction at a time per
    `Database`). On SQLite the file has one writer whatever the connection, so there it waits
    its turn among the bot's transactions (`turns`, the bot's `Database.turns`), ahead of
    background work: left to SQLite's busy handler, it lost the race to a thousand Friday jobs'
    writes back to back, for longer than the lease."""

    def __init__(self, location: Path | str, bot_id: int, seconds: float,
                 me: Holder | None = None, turns: TurnLock | None = None) -> None:
        self.location = location
        self.bot_id = bot_id
        self.seconds = seconds
        self.me = me or this_process()
        self.guard = LeaseGuard()
        self.retry_afters = RetryAfters()
        self.lost = asyncio.Event()
        self.epoch: int | None = None
        self._db: Database | None = None
        self._renewing: asyncio.Task[None] | None = None
        self._turns = turns

    @property
    def on_sqlite(self) -> bool:
        return isinstance(self.location, Path)

    async def __aenter__(self) -> LeaseKeeper:
        self._db = await Database.open(self.location)
        if self._turns is not None and self.on_sqlite:
            self._db.turns = self._turns
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stand_down(release=True)
        try:
            async with self.db.transaction() as tx:
                await leases.gone(tx, self.me)
        except DatabaseUnavailable:
            pass
        await self.db.close()

    @property
    def db(self) -> Database:
        assert self._db is not None, "LeaseKeeper used outside `async with`"
        return self._db

    async def acquire(self, stop: asyncio.Event) -> bool:
        """Waits until the lease is ours (True), or `stop` is set (False). On SQLite, a live
        holder is a second process on the file: refused."""
        told = failing = False
        while not stop.is_set():
            began = monotonic()
            try:
                lease = await self._try_take()
            except Exception as error:  # the database away or busy: look again in a moment
                if not failing:  # said once, not every second while the server is away
                    log.warning("could not look at the lease: %r", error)
                failing, lease = True, None
            else:
                failing = False
                if lease is not None and lease.holder == self.me.instance:
                    if monotonic() - began < self.seconds / 3:
                        self._became_active(lease, began)
                        return True
                    # Taken, but the answer came late (the server was coming back): the guard
                    # counts from the question, so it would lapse at once. Ask again now.
                    continue
                if lease is not None and self.on_sqlite:
                    raise StandbyRefused("cli.standby.sqlite", host=lease.host, pid=lease.pid)
                if not told and lease is not None:
                    told = True
                    log.info("standby: bot %s is active in process %s on %s; waiting to "
                             "take over", self.bot_id, lease.pid, lease.host)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), STANDBY_LOOK_SECONDS)
        return False

    async def _try_take(self) -> Lease | None:
        """Ours, or the other holder's lease (None if the database could not be asked)."""
        async with self.db.transaction() as tx:
            held = await leases.current(tx, self.bot_id)
            dead = held.holder if held is not None and holder_is_dead(held, self.me) else None
            taken = await leases.take(tx, self.bot_id, self.me, self.seconds, dead)
            role = "active" if taken is not None else "standby"
            await leases.seen(tx, self.bot_id, self.me, role, self.retry_afters.last_hour())
            return taken or await leases.current(tx, self.bot_id)

    def _became_active(self, lease: Lease, began: float) -> None:
        self.guard.extend(began, self.seconds)
        self.epoch = lease.epoch
        self.lost.clear()
        log.info("active: took the lease of bot %s (epoch %s)", self.bot_id, lease.epoch)
        self._renewing = asyncio.create_task(self._renew(), name="lease-renewal")

    async def _renew(self) -> None:
        """Renews every lease_seconds / 3 until it cannot in time; then `lost`."""
        wait = self.seconds / 3
        while True:
            await asyncio.sleep(max(0.0, min(wait, self.guard.remaining())))
            if not self.guard.valid():
                break
            began = monotonic()
            try:
                async with asyncio.timeout(self.guard.remaining()):
                    renewed = await self._renewed()
            except Exception as error:  # the database away, slow, or refusing: try again soon
                log.warning("could not renew the lease: %r", error)
                wait = STANDBY_LOOK_SECONDS
                continue
            if not renewed:
                break
            self.guard.extend(began, self.seconds)
            wait = self.seconds / 3
        self.guard.revoke()
        log.warning("lost the lease of bot %s: no longer acting for it", self.bot_id)
        self.lost.set()

    async def _renewed(self) -> bool:
        async with self.db.transaction() as tx:
            lease = await leases.take(tx, self.bot_id, self.me, self.seconds)
            await leases.seen(tx, self.bot_id, self.me, "active" if lease else "standby",
                              self.retry_afters.last_hour())
        return lease is not None and lease.epoch == self.epoch

    async def holds(self, tx: Tx) -> bool:
        """Whether the lease is still ours, checked in the caller's transaction (a fence on
        what it writes: storage/leases.py `holds`)."""
        return self.guard.valid() and await leases.holds(tx, self.bot_id, self.me)

    async def stand_down(self, release: bool) -> None:
        """Stops acting (the Application is down): stops renewing and, on a clean stop, ends
        the lease at once so that a standby takes over without waiting for it to run out."""
        self.guard.revoke()
        if self._renewing is not None:
            self._renewing.cancel()
            await asyncio.gather(self._renewing, return_exceptions=True)
            self._renewing = None
        if release and self.epoch is not None:
            try:
                async with self.db.transaction() as tx:
                    await leases.release(tx, self.bot_id, self.me)
            except DatabaseUnavailable:
                pass
        self.epoch = None
