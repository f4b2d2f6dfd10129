"""/schedule (leaders), the Telegram side of bot/flows/schedules.py; and one PTB job per
enabled schedule row, named `schedule:<id>`, built from the database at start-up and replaced
for a unit whenever its rows change (`core.schedules.jobs`): the database is the only record
of them, there is no job store to drift from it.

Start-up must not keep people waiting: a province has 10,000 rows and its catch-up may write
thousands of digests, so `install` leaves both to a task that runs once polling has started,
building the jobs a few hundred units at a time between looks at the event loop (the first
getUpdates goes out meanwhile), then catching up. Jobs due at the same moment share one trigger.

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
from dataclasses import dataclass
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
AGAIN_AFTER = dt.timedelta(minutes=1)  # a schedule whose time came while the database was away
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
INSTALL_CHUNK = 50  # units whose jobs are built between two looks at the event loop
_INSTALLING = "lantoa:schedule-install"  # bot_data: the task building the jobs at start-up


@dataclass(frozen=True)
class ScheduleJob:
    schedule_id: int
    unit_id: int


def job_name(schedule_id: int) -> str:
    return f"schedule:{schedule_id}"


def trigger(row: Schedule, zone: ZoneInfo) -> CronTrigger:
    """The row's times in the settings' zone: a weekday, a day of the month, or every day."""
    if row.every is Every.MONTH:
        return _trigger(None, row.month_day or 1, row.at, zone)
    if row.every is Every.DAY:
        return _trigger(None, None, row.at, zone)
    return _trigger(DAY_NAMES[row.weekday or 0], None, row.at, zone)


@lru_cache(maxsize=1024)
def _trigger(day_of_week: str | None, day: int | None, at: dt.time,
             zone: ZoneInfo) -> CronTrigger:
    """One trigger per distinct time (compiling one costs more than adding the job): a trigger
    holds no state of its own, so every job at that time can share it."""
    if day is not None:
        return CronTrigger(day=day, hour=at.hour, minute=at.minute, timezone=zone)
    return CronTrigger(day_of_week=day_of_week, hour=at.hour, minute=at.minute, timezone=zone)


async def run_schedule(context: ContextTypes.DEFAULT_TYPE) -> None:
    """A schedule's time has come: the core decides, the paced sender sends."""
    job = context.job
    if job is None or not isinstance(job.data, ScheduleJob):
        return
    core = core_of(context)
    try:
        await core.scheduler.run(job.data.schedule_id)
    except DatabaseUnavailable:
        # The database server is away (storage/POSTGRES.md says so in the log): the same
        # occurrence is decided once it is back, late as any run woken late (nothing of the
        # failed run was kept, so nothing is decided twice).
        if context.job_queue is not None:
            context.job_queue.run_once(run_schedule, AGAIN_AFTER, data=job.data,
                                       name=f"{job_name(job.data.schedule_id)}:again")
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


def replace_jobs(application: Application, rows: RowsByUnit, fresh: bool = False) -> None:
    """Drops these units' jobs and adds one per enabled row (`fresh`: they have none yet)."""
    queue = application.job_queue
    if queue is None:
        return
    settings = core_of_application(application).services.settings
    for job in () if fresh else queue.jobs():
        if isinstance(job.data, ScheduleJob) and job.data.unit_id in rows:
            job.schedule_removal()
    # A job woken late (a busy loop) still runs within the grace window; runs piled up while
    # asleep run once.
    late = max(60, int(settings.schedule.grace_hours * 3600))
    for unit_id, found in rows.items():
        for row in found:
            if row.enabled:
                queue.run_custom(run_schedule, job_kwargs={
                    "trigger": trigger(row, settings.zone), "misfire_grace_time": late,
                    "coalesce": True}, data=ScheduleJob(row.id, unit_id), name=job_name(row.id))


def schedule_jobs(queue: JobQueue) -> dict[str, dt.datetime | None]:
    """The schedule jobs by name with their next run (for tests and logs)."""
    return {job.name or "": job.next_t for job in queue.jobs()
            if isinstance(job.data, ScheduleJob)}


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
    log.info("schedules: %d jobs, %d messages decided at start-up", built, decided)
    # What is alive now lives as long as the bot (PTB, the catalogue, a province's 10,000 jobs):
    # kept out of the garbage collector's full passes, which walked all of it each time, holding
    # the event loop (replies too) 0.2-0.4 s a pass on a Monday; 0.04-0.08 s once frozen.
    gc.collect()
    gc.freeze()


async def _build_jobs(application: Application) -> int:
    """Every enabled row's job; how many."""
    core = core_of_application(application)
    settings = core.services.settings
    by_unit: RowsByUnit = {}
    for row in await core.scheduler.every_row():
        by_unit.setdefault(row.unit_id, []).append(row)
    queue = application.job_queue
    if queue is not None:
        # A unit whose rows change while the jobs are being built keeps its newer jobs.
        changed: set[int] = set()
        core.schedules.jobs.listen(lambda rows: changed.update(rows))
        core.schedules.jobs.listen(lambda rows: replace_jobs(application, rows))
        queue.run_daily(_morning, time=dt.time(settings.quiet_hours_end, tzinfo=settings.zone),
                        name=MORNING_JOB)
        queue.run_repeating(_new_units, interval=NEW_UNITS_EVERY, first=NEW_UNITS_EVERY,
                            name=NEW_UNITS_JOB)
        units = list(by_unit.items())
        for i in range(0, len(units), INSTALL_CHUNK):
            replace_jobs(application, {u: rows for u, rows in units[i:i + INSTALL_CHUNK]
                                       if u not in changed}, fresh=True)
            await asyncio.sleep(0)
    else:
        log.warning("no job queue: schedules run only at start-up")
    return sum(len([r for r in rows if r.enabled]) for rows in by_unit.values())


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return private_flow(catalogue, "schedule", schedules, lambda core: core.schedules,
                        menu=False)
