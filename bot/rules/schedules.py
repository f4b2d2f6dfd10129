"""What is due when, with no Telegram and no words: the times of a schedule row, the period a
digest covers, Vietnam's public holidays, the quiet hours, how late is too late; and the
scheduler, which runs a row when its time comes.

`Scheduler.run(schedule_id)` is the one function behind a schedule's job and the catch-up at
start-up. It takes the row's latest occurrence at or before now and, in one transaction:
- an occurrence earlier than the row's last change is neither sent nor recorded (a leader who
  moves Friday 16:00 to 08:00 at 09:00 does not trigger a send);
- a reminder, a custom reminder or a review notice on one of Vietnam's public holidays is
  skipped (nothing is
  recorded: the day simply has none); the digest still goes;
- otherwise the row's flow decides what it sends (bot/flows/reminders.py, bot/flows/digests.py),
  told whether the occurrence is still within the grace window (settings.schedule.grace_hours)
  or is to be recorded as missed;
- in the quiet hours a flow decides nothing within the grace window (groups and leaders get
  nothing unasked at night either): the end of the quiet hours runs every row again
  (`catch_up`), and what is still within the grace window goes then, the rest is recorded
  missed.
Everything goes through the deliveries ledger, so running twice sends once. The flows are
handed in (`Deciders`): rules import no flow. All of the scheduler's transactions are background
work (storage/db.py `background`): a member's reply never waits behind the thousand jobs of a
Friday 16:00, only behind the one transaction running when it came.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from bot.rules.bots import served, served_units, serves
from bot.rules.periods import Period, month_of, week_of
from bot.runtime.config import WEEKDAYS, Settings
from bot.runtime.services import Services
from storage import schedules, units
from storage.db import Turn, Tx, background
from storage.schedules import Every, NewSchedule, Schedule, ScheduleKind

log = logging.getLogger(__name__)

DIGEST, REMINDER, NUDGE, CUSTOM = "digest", "reminder", "nudge", "custom"
# A leader's daily "N báo cáo chờ ghi nhận", and the word that a report sent back for more came
# back corrected (bot/flows/reviews.py): private, so never in the quiet hours.
REVIEW_DAILY, RESUBMITTED = "review_daily", "resubmitted"
# Everything the scheduler decides, to groups and to people: none of it in the quiet hours.
UNASKED = frozenset({DIGEST, REMINDER, CUSTOM, NUDGE, REVIEW_DAILY, RESUBMITTED})

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
    """The digest, reminder and review notice every unit starts with (config.toml's
    [schedule])."""
    plan = settings.schedule
    return [
        NewSchedule(unit_id=0, kind=ScheduleKind.DIGEST, every=Every(plan.digest_every),
                    weekday=WEEKDAYS.index(plan.digest_weekday),
                    month_day=plan.digest_month_day, at=plan.digest_time),
        NewSchedule(unit_id=0, kind=ScheduleKind.REMINDER, every=Every.WEEK,
                    weekday=WEEKDAYS.index(plan.reminder_weekday), at=plan.reminder_time),
        NewSchedule(unit_id=0, kind=ScheduleKind.REVIEW, every=Every.DAY, at=plan.review_time),
    ]


async def ensure_standard(tx: Tx, settings: Settings, now: dt.datetime) -> RowsByUnit:
    """Gives every unit without them its digest and reminder rows. When some were missing,
    every unit's rows (their jobs are all rebuilt: it happens once per new unit); else empty."""
    added = await schedules.add_missing_standard(tx, standard_rows(settings), now)
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
    if schedule.every is Every.DAY:
        moment = dt.datetime.combine(today, schedule.at, zone)
        return moment if moment <= local else moment - dt.timedelta(days=1)
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


def too_late(settings: Settings, now: dt.datetime, kind: str,
             decided_at: dt.datetime) -> str | None:
    """Why a queued message must no longer go (the bot was down, or the sender behind): what
    the scheduler decided, in the quiet hours or once past the grace window. None: send it."""
    if kind in UNASKED and settings.quiet_at(now):
        return "quiet hours"
    grace = dt.timedelta(hours=settings.schedule.grace_hours)
    if kind in UNASKED and now - decided_at > grace:
        return "past the grace window"
    return None


def held_until(settings: Settings, moment: dt.datetime) -> dt.datetime:
    """When a private message due at `moment` may go: then, or at the end of the quiet hours
    it falls in (the morning after a late evening)."""
    if not settings.quiet_at(moment):
        return moment
    local = moment.astimezone(settings.zone)
    end = dt.datetime.combine(local.date(), dt.time(settings.quiet_hours_end), settings.zone)
    return end if end > local else end + dt.timedelta(days=1)


def custom_period(day: dt.date, schedule_id: int) -> str:
    return f"{day.isoformat()}#{schedule_id}"


@cache
def _vietnam() -> holidays.HolidayBase:
    return holidays.country_holidays("VN")


def is_holiday(day: dt.date) -> bool:
    """Tết, Quốc khánh and Vietnam's other public holidays (the `holidays` package)."""
    return day in _vietnam()


def _holidays_known(years: set[int]) -> bool:
    return _vietnam.cache_info().currsize > 0 and years <= _vietnam().years


def _learn_holidays(years: set[int]) -> None:
    for year in years:
        is_holiday(dt.date(year, 1, 1))


# --- running a row ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """A schedule row whose occurrence has come: `late` once past the grace window (what it
    sends is recorded as missed, never sent)."""

    schedule: Schedule
    occurrence: dt.datetime
    late: bool

    @property
    def day(self) -> dt.date:
        return self.occurrence.date()

    @property
    def moment(self) -> tuple[Every, dt.datetime]:
        """The digest rows due together: same kind of period, same occurrence."""
        return self.schedule.every, self.occurrence


@dataclass(frozen=True)
class Deciders:
    """What each kind of row sends, decided by its flow: reminders in the transaction that read
    the row; digests in their own, since a province's are decided together in chunks."""

    reminder: Callable[[Tx, Due], Awaitable[int]]
    custom: Callable[[Tx, Due], Awaitable[int]]
    digests: Callable[[Due], Awaitable[int]]
    # The leaders' daily notice of what waits for them, and the notices that reports sent back
    # for more came back corrected which the quiet hours held (bot/flows/reviews.py).
    review: Callable[[Tx, Due], Awaitable[int]]
    held: Callable[[Tx], Awaitable[int]]


class Scheduler:
    def __init__(self, services: Services, deciders: Deciders) -> None:
        self.services = services
        self.deciders = deciders
        self._learning = asyncio.Lock()  # one worker thread learns the holidays (below)

    @property
    def zone(self) -> ZoneInfo:
        return self.services.settings.zone

    async def every_row(self) -> list[Schedule]:
        """Every schedule row of the units this bot serves (bot/rules/bots.py), after giving
        each unit its standard ones (at start-up)."""
        with background():
            async with self.services.db.transaction() as tx:
                await ensure_standard(tx, self.services.settings, self.services.now())
                return await served(tx, self.services.bot, await schedules.every_schedule(tx))

    async def new_units(self) -> RowsByUnit:
        """The rows of units that had none (added since start-up, e.g. by the CLI), of those
        this bot serves."""
        with background():
            async with self.services.db.transaction() as tx:
                rows = await ensure_standard(tx, self.services.settings, self.services.now())
                mine = await served_units(tx, self.services.bot, rows)
        return {unit_id: found for unit_id, found in rows.items() if unit_id in mine}

    async def run(self, schedule_id: int) -> int:
        """Decides what the schedule's latest occurrence sends; how many messages were newly
        decided or recorded missed. Call `services.outbox.notify()` afterwards."""
        with background(Turn.WAKING):
            await self._holidays_learnt()
            return await self._run(schedule_id)

    async def _holidays_learnt(self) -> None:
        """Vietnam's holidays of this year and the last, worked out in a worker thread the
        first time: a quarter of a second of lunar calendar, which held the event loop (and
        every reply) at a Friday's first job."""
        today = self.services.today()
        years = {today.year, today.year - 1}
        async with self._learning:
            if not _holidays_known(years):
                await asyncio.to_thread(_learn_holidays, years)

    async def _run(self, schedule_id: int) -> int:
        async with self.services.db.transaction() as tx:
            due = await self._due(tx, schedule_id)
            if due is None:
                return 0
            if due.schedule.kind is ScheduleKind.REMINDER:
                return await self.deciders.reminder(tx, due)
            if due.schedule.kind is ScheduleKind.CUSTOM:
                return await self.deciders.custom(tx, due)
            if due.schedule.kind is ScheduleKind.REVIEW:
                return await self.deciders.review(tx, due)
        # A province's digests are decided by the first of its 5,000 jobs due together, in
        # chunks: each chunk goes before the other jobs' looks at their rows (which then find
        # them covered), not after all of them (the first digest left 24 s after 07:30).
        with background(Turn.DECIDING):
            return await self.deciders.digests(due)

    async def catch_up(self) -> int:
        """`run` for every enabled schedule: at start-up, what came due while
        the bot was down; when the quiet hours end, what they held back. Then the notices of
        reports sent back corrected that the quiet hours held (or a stop cut off). One unit's
        failure does not stop the others."""
        with background():
            return await self._catch_up()

    async def _catch_up(self) -> int:
        async with self.services.db.transaction() as tx:
            await ensure_standard(tx, self.services.settings, self.services.now())
            rows = await served(tx, self.services.bot, await schedules.enabled(tx))
        total = 0
        for schedule_id, unit_id in rows:
            try:
                total += await self.run(schedule_id)
            except Exception:
                log.exception("schedule %s (unit %s) could not run", schedule_id, unit_id)
        try:
            async with self.services.db.transaction() as tx:
                total += await self.deciders.held(tx)
        except Exception:
            log.exception("the notices held by the quiet hours could not be decided")
        return total

    async def _due(self, tx: Tx, schedule_id: int) -> Due | None:
        schedule = await schedules.get(tx, schedule_id)
        if schedule is None or not schedule.enabled:
            return None
        if await units.get_unit(tx, schedule.unit_id) is None:
            return None
        if not await serves(tx, self.services.bot, schedule.unit_id):
            return None  # another bot's since the job was made (a bot with a root below)
        now = self.services.now()
        occurrence = latest_occurrence(schedule, now, self.zone)
        if occurrence < schedule.updated_at:
            return None
        late = now - occurrence > dt.timedelta(hours=self.services.settings.schedule.grace_hours)
        if schedule.kind is not ScheduleKind.DIGEST and is_holiday(occurrence.date()):
            log.info("schedule %s: %s is a public holiday, nothing to remind", schedule.id,
                     occurrence.date())
            return None
        return Due(schedule, occurrence, late)
