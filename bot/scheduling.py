"""The scheduler's core: what a schedule row decides when its time comes, with no Telegram.

`Scheduling.run(schedule_id)` is the one function behind a schedule's job and the catch-up at
start-up. It takes the row's latest occurrence at or before now and, in one transaction:
- an occurrence earlier than the row's last change is neither sent nor recorded (a leader who
  moves Friday 16:00 to 08:00 at 09:00 does not trigger a send);
- within the grace window (settings.schedule.grace_hours) it decides to send: the digest of the
  previous ISO week or calendar month; the reminder to the group plus a private nudge to each
  member who has not reported this week; a custom reminder's words to the group;
- later than that it records the group's (or the digest's) messages as missed, once.
Everything goes through the deliveries ledger, so running twice sends once.

Digests are decided for many units at once: on Monday morning a province's 5,000 digest jobs
fire together, and the first of them decides every unit whose digest falls due at that same
moment, from one pass over the week's reports (bot/digests.py `written_digests`); the other
jobs of that moment find themselves covered and return. The figures are read in one
transaction; then, a chunk of units at a time, who has not reported is read (a short
transaction), their texts are written and their charts drawn outside any transaction (nobody's
reply waits for them), and the chunk is decided in one short transaction that skips the units
another run decided meanwhile. A chunk's messages go out while the next is drawn, and no more
than a chunk's names, texts and charts are held at once.

Vietnam's public holidays skip reminders, custom reminders and nudges (nothing is recorded:
the day simply has none); the digest still goes. Nudges are never decided between 21:00 and
07:00: a reminder decided then sends its group message, and the daily run when the quiet hours
end (`catch_up(REMINDERS)`) decides the week's nudges if the reminder is still within grace and
the week is the same.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot import deliveries, reminders
from bot.config import WEEKDAYS, Settings
from bot.conversation import Conversations
from bot.counting import Basis, not_reported
from bot.deliveries import Outgoing
from bot.digests import DigestBatch, digest_recipients_by_unit, written_digests
from bot.periods import Period, key_of, month_of, week_of
from bot.reporting import ReportKind
from bot.services import Services
from storage import deliveries as ledger
from storage import groups, nudges, schedules, units
from storage.db import Tx
from storage.schedules import Every, NewSchedule, Schedule, ScheduleKind

log = logging.getLogger(__name__)

DIGEST, REMINDER, NUDGE, CUSTOM = "digest", "reminder", "nudge", "custom"
REMINDERS = frozenset({ScheduleKind.REMINDER})
DIGEST_CHUNK = 25  # units whose digests are written, drawn and decided together

RowsByUnit = dict[int, list[Schedule]]


class JobsSignal:
    """Tells the job adapter that units' schedule rows changed, with the rows as they are now,
    so that it replaces those units' jobs (the database stays the only record of them)."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[RowsByUnit], None]] = []

    def listen(self, listener: Callable[[RowsByUnit], None]) -> None:
        self._listeners.append(listener)

    def changed(self, rows: RowsByUnit) -> None:
        for listener in self._listeners:
            listener(rows)


# --- the standard rows ------------------------------------------------------------------------


def standard_rows(settings: Settings) -> list[NewSchedule]:
    """The digest and reminder every unit starts with (config.toml's [schedule])."""
    plan = settings.schedule
    return [
        NewSchedule(unit_id=0, kind=ScheduleKind.DIGEST, every=Every(plan.digest_every),
                    weekday=WEEKDAYS.index(plan.digest_weekday),
                    month_day=plan.digest_month_day, at=plan.digest_time),
        NewSchedule(unit_id=0, kind=ScheduleKind.REMINDER, every=Every.WEEK,
                    weekday=WEEKDAYS.index(plan.reminder_weekday), at=plan.reminder_time),
    ]


async def ensure_standard(tx: Tx, services: Services) -> RowsByUnit:
    """Gives every unit without them its digest and reminder rows. When some were missing,
    every unit's rows (their jobs are all rebuilt: it happens once per new unit); else empty."""
    added = await schedules.add_missing_standard(tx, standard_rows(services.settings),
                                                 services.now())
    if not added:
        return {}
    found: RowsByUnit = {}
    for row in await schedules.every_schedule(tx):
        found.setdefault(row.unit_id, []).append(row)
    return found


# --- when ------------------------------------------------------------------------------------


def latest_occurrence(schedule: Schedule, now: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The schedule's last time at or before `now`, in local time."""
    local = now.astimezone(zone)
    today = local.date()
    if schedule.every is Every.MONTH:
        day = today.replace(day=schedule.month_day or 1)
        moment = dt.datetime.combine(day, schedule.at, zone)
        if moment > local:
            earlier = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=day.day)
            moment = dt.datetime.combine(earlier, schedule.at, zone)
        return moment
    day = today - dt.timedelta(days=(today.weekday() - (schedule.weekday or 0)) % 7)
    moment = dt.datetime.combine(day, schedule.at, zone)
    if moment > local:
        moment = dt.datetime.combine(day - dt.timedelta(days=7), schedule.at, zone)
    return moment


def digest_period(every: Every, day: dt.date) -> Period:
    """What a digest sent on `day` covers: the previous ISO week, or the previous month."""
    if every is Every.MONTH:
        return month_of(day.replace(day=1) - dt.timedelta(days=1))
    return week_of(day - dt.timedelta(days=7))


def too_late(services: Services, kind: str, decided_at: dt.datetime) -> str | None:
    """Why a queued message must no longer go (the bot was down, or the sender behind): what
    the scheduler decided, once past the grace window; a private nudge, in the quiet hours.
    None: send it."""
    if kind == NUDGE and services.quiet_now():
        return "quiet hours"
    grace = dt.timedelta(hours=services.settings.schedule.grace_hours)
    if kind in (DIGEST, REMINDER, NUDGE, CUSTOM) and services.now() - decided_at > grace:
        return "past the grace window"
    return None


def custom_period(day: dt.date, schedule_id: int) -> str:
    return f"{day.isoformat()}#{schedule_id}"


async def _group_had(tx: Tx, kind: str, unit_id: int, period: str) -> bool:
    """Whether the unit's group got (or missed) it already, under any chat id: a group that
    became a supergroup keeps its unit but not its id."""
    return any(chat < 0 for chat in await ledger.decided_chats(tx, kind, unit_id, period))


@dataclass(frozen=True)
class _DigestsDue:
    """A digest row's occurrence has come: it is decided with every row due at that moment."""

    schedule: Schedule
    occurrence: dt.datetime
    late: bool

    @property
    def moment(self) -> tuple[Every, dt.datetime]:
        """The rows due together: same kind of period, same occurrence (hence same period)."""
        return self.schedule.every, self.occurrence


def chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


# --- the use case ----------------------------------------------------------------------------


class Scheduling:
    def __init__(self, services: Services, conversations: Conversations,
                 report_kind: ReportKind) -> None:
        self.services = services
        self.conversations = conversations
        self.report_kind = report_kind
        # The digest rows each run of a moment decided (or is deciding), by moment: the other
        # jobs of that moment wait for it and return.
        self._digest_runs: dict[tuple[Every, dt.datetime], asyncio.Future[frozenset[int]]] = {}

    @property
    def zone(self) -> ZoneInfo:
        return self.services.settings.zone

    async def every_row(self) -> list[Schedule]:
        """Every schedule row, after giving each unit its standard ones (at start-up)."""
        async with self.services.db.transaction() as tx:
            await ensure_standard(tx, self.services)
            return await schedules.every_schedule(tx)

    async def new_units(self) -> RowsByUnit:
        """The rows of units that had none (added since start-up, e.g. by the CLI)."""
        async with self.services.db.transaction() as tx:
            return await ensure_standard(tx, self.services)

    async def run(self, schedule_id: int) -> int:
        """Decides what the schedule's latest occurrence sends; how many messages were newly
        decided or recorded missed. Call `services.outbox.notify()` afterwards."""
        async with self.services.db.transaction() as tx:
            decided = await self._run(tx, schedule_id)
        if isinstance(decided, int):
            return decided
        return await self._digests(decided)

    async def catch_up(self, kinds: Collection[ScheduleKind] | None = None) -> int:
        """`run` for every enabled schedule (of these kinds): at start-up, what came due while
        the bot was down; when the quiet hours end, the nudges they held back. One unit's
        failure does not stop the others."""
        rows = [s for s in await self.every_row()
                if s.enabled and (kinds is None or s.kind in kinds)]
        total = 0
        for row in rows:
            try:
                total += await self.run(row.id)
            except Exception:
                log.exception("schedule %s (unit %s) could not run", row.id, row.unit_id)
        return total

    async def _run(self, tx: Tx, schedule_id: int) -> int | _DigestsDue:
        schedule = await schedules.get(tx, schedule_id)
        if schedule is None or not schedule.enabled:
            return 0
        if await units.get_unit(tx, schedule.unit_id) is None:
            return 0
        now = self.services.now()
        occurrence = latest_occurrence(schedule, now, self.zone)
        if occurrence < schedule.updated_at:
            return 0
        late = now - occurrence > dt.timedelta(hours=self.services.settings.schedule.grace_hours)
        day = occurrence.date()
        if schedule.kind is ScheduleKind.DIGEST:
            return _DigestsDue(schedule, occurrence, late)
        if reminders.is_holiday(day):
            log.info("schedule %s: %s is a public holiday, nothing to remind", schedule.id, day)
            return 0
        if schedule.kind is ScheduleKind.REMINDER:
            return await self._reminder(tx, schedule, day, late)
        return await self._custom(tx, schedule, day, late)

    async def _decide(self, tx: Tx, kind: str, unit_id: int, period: str,
                      items: list[Outgoing], late: bool) -> int:
        if not items:
            return 0
        decide = deliveries.record_missed if late else deliveries.queue
        return await decide(tx, self.services.now(), kind, unit_id, period, items)

    # --- digests, every unit due at one moment together --------------------------------------

    async def _digests(self, due: _DigestsDue) -> int:
        """Decides the digests of every row due at `due`'s moment, unless a run of that moment
        (this row's or another's) covers this row already. The rows a run covers are known
        once its first transaction has found them: the other jobs of the moment return then,
        rather than wait for every chart to be drawn."""
        running = self._digest_runs.get(due.moment)
        if running is not None and due.schedule.id in await asyncio.shield(running):
            return 0
        covered: set[int] = {due.schedule.id}
        found = asyncio.get_running_loop().create_future()
        # Only the latest moments are kept: an older one no job will run again.
        self._digest_runs = {m: f for m, f in self._digest_runs.items()
                             if m[1] > due.occurrence - dt.timedelta(days=2)}
        self._digest_runs[due.moment] = found
        try:
            return await self._decide_digests(due, covered, found)
        finally:
            # Set even when the run failed: the other jobs of the moment would fail the same
            # way; the next start-up's catch-up tries again.
            if not found.done():
                found.set_result(frozenset(covered))

    async def _decide_digests(self, due: _DigestsDue, covered: set[int],
                              found: asyncio.Future[frozenset[int]]) -> int:
        period = digest_period(due.schedule.every, due.occurrence.date())
        key = key_of(period)
        async with self.services.db.transaction() as tx:
            unit_ids = await self._due_units(tx, due, covered)
            found.set_result(frozenset(covered))
            unit_ids -= await ledger.decided_units(tx, DIGEST, key)
            if not unit_ids:
                return 0
            if due.late:
                return await self._missed_digests(tx, key, unit_ids)
            batch = await written_digests(tx, self.services, unit_ids, period,
                                          due.schedule.every)
        added = 0
        for chunk in chunks(batch.unit_ids, DIGEST_CHUNK):
            async with self.services.db.transaction() as tx:
                await batch.read(tx, chunk)  # who has not reported, for the leaders' texts
            drawn = {unit_id: items for unit_id in chunk
                     if (items := await self._drawn(batch, unit_id)) is not None}
            async with self.services.db.transaction() as tx:
                taken = await ledger.decided_units(tx, DIGEST, key, chunk)
                for unit_id, items in drawn.items():
                    if unit_id not in taken:
                        added += await self._decide(tx, DIGEST, unit_id, key, items, late=False)
            self.services.outbox.notify()  # this chunk goes out while the next is drawn
        return added

    @staticmethod
    async def _drawn(batch: DigestBatch, unit_id: int) -> list[Outgoing] | None:
        """The unit's messages with their charts; None, logged, if they cannot be made: one
        unit's failure must not cost the rest of the province its digests."""
        try:
            return await batch.written(unit_id).drawn()
        except Exception:
            log.exception("the digest of unit %s could not be written", unit_id)
            return None

    async def _due_units(self, tx: Tx, due: _DigestsDue, covered: set[int]) -> set[int]:
        """The units of the enabled digest rows whose latest occurrence is `due`'s (their ids
        added to `covered`); a row changed after it is not due (see `_run`)."""
        now, first = self.services.now(), due.schedule
        found: set[int] = set()
        for row in await schedules.every_schedule(tx):
            if (row.kind is ScheduleKind.DIGEST and row.enabled and row.every is first.every
                    and row.at == first.at and row.updated_at <= due.occurrence
                    and latest_occurrence(row, now, self.zone) == due.occurrence):
                covered.add(row.id)
                found.add(row.unit_id)
        return found

    async def _missed_digests(self, tx: Tx, key: str, unit_ids: set[int]) -> int:
        """Past the grace window: who each digest would have gone to, recorded missed (its
        figures and charts would be wasted)."""
        recipients = await digest_recipients_by_unit(tx, unit_ids)
        return sum([await self._decide(tx, DIGEST, unit_id, key, items, late=True)
                    for unit_id, items in sorted(recipients.items())])

    async def _reminder(self, tx: Tx, schedule: Schedule, day: dt.date, late: bool) -> int:
        week = week_of(day)
        key = key_of(week)
        unit_id = schedule.unit_id
        added = 0
        group = await groups.group_of_unit(tx, unit_id)
        if group is not None and not await _group_had(tx, REMINDER, unit_id, key):
            screen = await reminders.group_reminder(tx, self.services, unit_id, week, day)
            added += await self._decide(tx, REMINDER, unit_id, key, [Outgoing(group, screen)],
                                        late)
        today = self.services.today()
        if late or self.services.quiet_now() or today not in week or reminders.is_holiday(today):
            return added
        return added + await self._nudges(tx, unit_id, week, key)

    async def _nudges(self, tx: Tx, unit_id: int, week: Period, key: str) -> int:
        """One nudge a week to each member of the unit's subtree who has not reported, wants
        nudges and can be reached, unless another unit's reminder already nudged them."""
        missing = await not_reported(tx, self.services, unit_id, week, Basis.RECEIVED)
        nudged = await nudges.nudged_chats(tx, key)
        items = [
            Outgoing(person.telegram_user_id, reminders.nudge(self.services, person, week),
                     person_id=person.person_id)
            for person in await nudges.recipients(tx, missing)
            if person.telegram_user_id not in nudged
        ]
        return await self._decide(tx, NUDGE, unit_id, key, items, late=False)

    async def _custom(self, tx: Tx, schedule: Schedule, day: dt.date, late: bool) -> int:
        """A custom reminder goes to the unit's group only: its words are written for the
        group, and members already get their own nudge. No group, nothing to send."""
        group = await groups.group_of_unit(tx, schedule.unit_id)
        period = custom_period(day, schedule.id)
        if group is None or not schedule.text \
                or await _group_had(tx, CUSTOM, schedule.unit_id, period):
            return 0
        screen = reminders.custom(self.services, schedule.text)
        return await self._decide(tx, CUSTOM, schedule.unit_id, period,
                                  [Outgoing(group, screen)], late)
