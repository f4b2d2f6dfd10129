"""One PTB job per enabled schedule row, named `schedule:<id>`, built from the database at
start-up and replaced for a unit whenever its rows change (`core.schedules.jobs`): the database
is the only record of them, there is no job store to drift from it.

Besides: the catch-up at start-up (what came due while the bot was down), a daily run when
the quiet hours end (the nudges a late-evening reminder held back), and an hourly look for
units added meanwhile (the CLI adds units while the bot runs), which get their standard rows
and jobs.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from telegram.ext import Application, ContextTypes, JobQueue

from bot.scheduling import REMINDERS, RowsByUnit
from handlers.common import core_of, core_of_application
from storage.schedules import Every, Schedule

log = logging.getLogger(__name__)

MORNING_JOB = "schedule-morning"
NEW_UNITS_JOB = "schedule-new-units"
NEW_UNITS_EVERY = dt.timedelta(hours=1)
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class ScheduleJob:
    schedule_id: int
    unit_id: int


def job_name(schedule_id: int) -> str:
    return f"schedule:{schedule_id}"


def trigger(row: Schedule, zone: ZoneInfo) -> CronTrigger:
    """The row's times in the settings' zone: a weekday, or a day of the month."""
    if row.every is Every.MONTH:
        return CronTrigger(day=row.month_day or 1, hour=row.at.hour, minute=row.at.minute,
                           timezone=zone)
    return CronTrigger(day_of_week=DAY_NAMES[row.weekday or 0], hour=row.at.hour,
                       minute=row.at.minute, timezone=zone)


async def run_schedule(context: ContextTypes.DEFAULT_TYPE) -> None:
    """A schedule's time has come: the core decides, the paced sender sends."""
    job = context.job
    if job is None or not isinstance(job.data, ScheduleJob):
        return
    core = core_of(context)
    await core.scheduling.run(job.data.schedule_id)
    core.services.outbox.notify()


async def _morning(context: ContextTypes.DEFAULT_TYPE) -> None:
    core = core_of(context)
    await core.scheduling.catch_up(REMINDERS)
    core.services.outbox.notify()


async def _new_units(context: ContextTypes.DEFAULT_TYPE) -> None:
    rows = await core_of(context).scheduling.new_units()
    if rows:
        replace_jobs(context.application, rows)


def replace_jobs(application: Application, rows: RowsByUnit) -> None:
    """Drops these units' jobs and adds one per enabled row."""
    queue = application.job_queue
    if queue is None:
        return
    settings = core_of_application(application).services.settings
    for job in queue.jobs():
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
    """Decides what came due while the bot was down (or is due now); see bot/scheduling.py."""
    core = core_of_application(application)
    decided = await core.scheduling.catch_up()
    core.services.outbox.notify()
    return decided


async def install(application: Application) -> None:
    """Builds the jobs from the database and sends what is due (catch-up after a stop)."""
    core = core_of_application(application)
    settings = core.services.settings
    by_unit: RowsByUnit = {}
    for row in await core.scheduling.every_row():
        by_unit.setdefault(row.unit_id, []).append(row)
    queue = application.job_queue
    if queue is not None:
        replace_jobs(application, by_unit)
        core.schedules.jobs.listen(lambda rows: replace_jobs(application, rows))
        queue.run_daily(_morning, time=dt.time(settings.quiet_hours_end, tzinfo=settings.zone),
                        name=MORNING_JOB)
        queue.run_repeating(_new_units, interval=NEW_UNITS_EVERY, first=NEW_UNITS_EVERY,
                            name=NEW_UNITS_JOB)
    else:
        log.warning("no job queue: schedules run only at start-up")
    decided = await catch_up(application)
    log.info("schedules: %d jobs, %d messages decided at start-up",
             sum(len([r for r in rows if r.enabled]) for rows in by_unit.values()), decided)
