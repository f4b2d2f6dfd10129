"""/schedule (leaders), the Telegram side of bot/flows/schedules.py; and one PTB job per
distinct time of the enabled schedule rows (a weekday, a day of the month or every day, at a
time: `At`), whose run decides every row due then (`Times`: the rows of each time, built from
the database at start-up and replaced for a unit whenever its rows change,
`core.schedules.jobs`): the database is the only record of them, there is no job store to drift
from it. A province's 15,000 rows are a few dozen jobs, not 15,000 (15 MB).

Start-up must not keep people waiting: a province has 10,000 rows and its catch-up may write
thousands of digests, so `install` leaves both to a task that runs once polling has started
(the first getUpdates goes out meanwhile).

Besides: the catch-up at start-up (what came due while the bot was down), a daily run when
the quiet hours end (what the evening held back: groups' reminders and digests, nudges, review
notices), and an hourly look for
units added meanwhile (the CLI adds units while the bot runs), which get their standard rows
and jobs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from telegram.ext import Application, BaseHandler, ContextTypes, JobQueue

from bot.flows import schedules
from bot.rules.schedules import RowsByUnit
from bot.ui.catalogue import Catalogue
from handlers.common import core_of, core_of_application, private_flow
from storage.db import DatabaseUnavailable
from storage.schedules import Every, Schedule

log = logging.getLogger(__name__)

MORNING_JOB = "schedule-morning"
NEW_UNITS_JOB = "schedule-new-units"
NEW_UNITS_EVERY = dt.timedelta(hours=1)
ROWS_AT_ONCE = 32  # rows of one time whose runs wait for their turn together (`run_rows`)
AGAIN_AFTER = dt.timedelta(minutes=1)  # a schedule whose time came while the database was away
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_INSTALLING = "lantoa:schedule-install"  # bot_data: the task building the jobs at start-up
_TIMES = "lantoa:schedule-times"  # bot_data: the `Times`


@dataclass(frozen=True, slots=True)
class At:
    """A distinct time of schedule rows: a weekday (`day_of_week`), a day of the month (`day`)
    or every day, at `at` in the settings' zone. One job runs every row due at it."""

    day_of_week: str | None
    day: int | None
    at: dt.time

    @staticmethod
    def of(row: Schedule) -> At:
        if row.every is Every.MONTH:
            return _at(None, row.month_day or 1, row.at)
        if row.every is Every.DAY:
            return _at(None, None, row.at)
        return _at(DAY_NAMES[row.weekday or 0], None, row.at)

    @property
    def name(self) -> str:
        day = self.day_of_week or (f"day-{self.day}" if self.day is not None else "daily")
        return f"schedule-at:{day}:{self.at:%H:%M}"

    def trigger(self, zone: ZoneInfo) -> CronTrigger:
        if self.day is not None:
            return CronTrigger(day=self.day, hour=self.at.hour, minute=self.at.minute,
                               timezone=zone)
        return CronTrigger(day_of_week=self.day_of_week, hour=self.at.hour,
                           minute=self.at.minute, timezone=zone)


@lru_cache(maxsize=1024)
def _at(day_of_week: str | None, day: int | None, at: dt.time) -> At:
    """One `At` per distinct time, shared by its rows' entries in `Times`."""
    return At(day_of_week, day, at)


@dataclass(frozen=True)
class Again:
    """A row whose time came while the database was away, run again a minute later."""

    schedule_id: int


@dataclass
class Times:
    """Which enabled rows are due at each time (the time's job runs them), and each unit's rows
    with their times (to take them out when the unit's rows change). A province's 15,000 rows
    are ints in sets here, not 15,000 jobs of their own (15 MB, and 5,000 job runs at once)."""

    rows: dict[At, set[int]] = field(default_factory=dict)
    of_unit: dict[int, dict[int, At]] = field(default_factory=dict)


def job_name(schedule_id: int) -> str:
    return f"schedule:{schedule_id}"


def _times(application: Application) -> Times:
    times = application.bot_data.get(_TIMES)
    if times is None:
        times = application.bot_data[_TIMES] = Times()
    assert isinstance(times, Times)
    return times


async def run_schedule(context: ContextTypes.DEFAULT_TYPE) -> None:
    """A time has come: every row due at it is decided, as if each had a job of its own (their
    transactions wait their turn together, after the replies: storage/db.py `Turn`)."""
    job = context.job
    if job is None:
        return
    if isinstance(job.data, At):
        ids = sorted(_times(context.application).rows.get(job.data, ()))
        await run_rows(context.application, ids)
    elif isinstance(job.data, Again):
        await run_rows(context.application, [job.data.schedule_id])


async def run_rows(application: Application, schedule_ids: list[int]) -> None:
    """Decides these rows' latest occurrences (what their time's job does), `ROWS_AT_ONCE` at
    a time: a province's 5,000 rows of Monday 07:30 waiting for their turn at once were 5,000
    tasks (9 MB) held while the first of them decided the province's digests, which the others
    then find decided."""
    waiting = iter(schedule_ids)

    async def one_after_another() -> None:
        for schedule_id in waiting:
            await _run_row(application, schedule_id)

    await asyncio.gather(*(one_after_another()
                           for _ in range(min(ROWS_AT_ONCE, len(schedule_ids)))))


async def _run_row(application: Application, schedule_id: int) -> None:
    """The core decides, the paced sender sends; one row's failure spares the others."""
    core = core_of_application(application)
    try:
        await core.scheduler.run(schedule_id)
    except DatabaseUnavailable:
        # The database server is away (storage/POSTGRES.md says so in the log): the same
        # occurrence is decided once it is back, late as any run woken late (nothing of the
        # failed run was kept, so nothing is decided twice).
        if application.job_queue is not None:
            application.job_queue.run_once(run_schedule, AGAIN_AFTER, data=Again(schedule_id),
                                           name=f"{job_name(schedule_id)}:again")
        return
    except Exception:
        log.exception("schedule %s could not run", schedule_id)
        return
    core.services.outbox.notify()


async def _morning(context: ContextTypes.DEFAULT_TYPE) -> None:
    core = core_of(context)
    await core.scheduler.catch_up()
    core.services.outbox.notify()


async def _new_units(context: ContextTypes.DEFAULT_TYPE) -> None:
    await installed(context.application)  # its fresh jobs must not be added twice
    rows = await core_of(context).scheduler.new_units()
    if rows:
        replace_jobs(context.application, rows)


def replace_jobs(application: Application, rows: RowsByUnit) -> None:
    """Takes these units' rows out of their times and puts their enabled rows in; a time with
    no row left loses its job, a new time gets one."""
    queue = application.job_queue
    if queue is None:
        return
    times = _times(application)
    left: set[At] = set()  # times that lost a row
    for unit_id, found in rows.items():
        for schedule_id, at in times.of_unit.pop(unit_id, {}).items():
            times.rows[at].discard(schedule_id)
            left.add(at)
        mine = {row.id: At.of(row) for row in found if row.enabled}
        if mine:
            times.of_unit[unit_id] = mine
        for schedule_id, at in mine.items():
            if at not in times.rows:
                times.rows[at] = set()
                _add_job(application, queue, at)
            times.rows[at].add(schedule_id)
    for at in left:
        if not times.rows.get(at, True):
            del times.rows[at]
            for job in queue.get_jobs_by_name(at.name):
                job.schedule_removal()


def _add_job(application: Application, queue: JobQueue, at: At) -> None:
    settings = core_of_application(application).services.settings
    # A job woken late (a busy loop) still runs within the grace window; runs piled up while
    # asleep run once.
    late = max(60, int(settings.schedule.grace_hours * 3600))
    queue.run_custom(run_schedule, job_kwargs={
        "trigger": at.trigger(settings.zone), "misfire_grace_time": late, "coalesce": True},
        data=at, name=at.name)


def schedule_jobs(queue: JobQueue) -> dict[str, dt.datetime | None]:
    """Each enabled row, by `job_name`, with its time's next run (for tests and logs)."""
    times = _times(queue.application)
    next_run = {job.data: job.next_t for job in queue.jobs() if isinstance(job.data, At)}
    return {job_name(schedule_id): next_run.get(at)
            for mine in times.of_unit.values() for schedule_id, at in mine.items()}


async def catch_up(application: Application) -> int:
    """Decides what came due while the bot was down (or is due now); see bot/rules/schedules.py."""
    core = core_of_application(application)
    decided = await core.scheduler.catch_up()
    core.services.outbox.notify()
    return decided


async def install(application: Application) -> None:
    """Builds the jobs from the database and sends what is due (catch-up after a stop), in a
    task of its own: polling starts meanwhile (`installed` awaits it)."""
    application.bot_data[_INSTALLING] = application.create_task(
        _install(application), name="schedule-install")


async def installed(application: Application) -> None:
    """Returns once the start-up's jobs are built and its catch-up decided."""
    task = application.bot_data.get(_INSTALLING)
    if task is not None:
        await task


async def _install(application: Application) -> None:
    # The rows (15,000 models in a province, 20 MB) are let go before the catch-up reads them.
    built = await _build_jobs(application)
    decided = await catch_up(application)
    log.info("schedules: %d rows in %d jobs, %d messages decided at start-up", built,
             len(_times(application).rows), decided)
    # What is alive now lives as long as the bot (PTB, the catalogue, a province's 15,000 rows):
    # kept out of the garbage collector's full passes, which walked all of it each time, holding
    # the event loop (replies too) 0.2-0.4 s a pass on a Monday; 0.04-0.08 s once frozen.
    gc.collect()
    gc.freeze()


async def _build_jobs(application: Application) -> int:
    """Every enabled row in its time, a job a time; how many rows."""
    core = core_of_application(application)
    settings = core.services.settings
    queue = application.job_queue
    # A unit whose rows change while they are read keeps its newer ones (replaced at once).
    changed: set[int] = set()
    if queue is not None:
        core.schedules.jobs.listen(lambda rows: changed.update(rows))
        core.schedules.jobs.listen(lambda rows: replace_jobs(application, rows))
    by_unit: RowsByUnit = {}
    for row in await core.scheduler.every_row():
        if row.unit_id not in changed:
            by_unit.setdefault(row.unit_id, []).append(row)
    if queue is None:
        log.warning("no job queue: schedules run only at start-up")
        return 0
    queue.run_daily(_morning, time=dt.time(settings.quiet_hours_end, tzinfo=settings.zone),
                    name=MORNING_JOB)
    queue.run_repeating(_new_units, interval=NEW_UNITS_EVERY, first=NEW_UNITS_EVERY,
                        name=NEW_UNITS_JOB)
    replace_jobs(application, by_unit)
    return sum(len(mine) for mine in _times(application).of_unit.values())


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return private_flow(catalogue, "schedule", schedules, lambda core: core.schedules,
                        menu=False)
