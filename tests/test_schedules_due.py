"""The scheduler: one job per schedule row, rebuilt from the database; each digest, reminder and
custom reminder decided exactly once per unit and period, even across restarts; what came due
while the bot was down goes out within the grace window and is recorded missed after it; a
change of time never sends the occurrence it moved away from; holidays skip reminders but not
the digest."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.flows import digests as digest_flow
from bot.rules.deliveries import Outgoing
from bot.rules.periods import Period
from bot.ui.screens import Screen
from handlers import schedules as schedule_jobs
from handlers.schedules import MORNING_JOB, NEW_UNITS_JOB, job_name
from storage import deliveries, groups, schedules
from storage.deliveries import Delivery, Status
from storage.entities import Role
from storage.schedules import Every, NewSchedule, Schedule, ScheduleKind
from tests.harness import CATALOGUE, HANOI, Harness, Seen, Tree, started

SON, MAI, BINH, LAN = 4001, 4002, 4003, 4004
GROUP = -1004001
OTHER_GROUP = -1004002  # the sibling cell's


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=HANOI)


FRIDAY_16 = at(2026, 11, 27, 16)
MONDAY_0730 = at(2026, 11, 30, 7, 30)


async def new_units(bot: Harness) -> None:
    """The hourly job that gives units added since start-up their rows and jobs."""
    await bot.app.job_queue.get_jobs_by_name(NEW_UNITS_JOB)[0].run(bot.app)


async def cell_with_group(bot: Harness) -> Tree:
    """Chi bộ Thôn Bản Chặng: leader Sơn, members Mai, Bình, Lan, its group linked; every unit
    has its standard schedule and jobs (as the hourly job gives them)."""
    tree = await bot.tree()
    await bot.appoint(SON, tree.cell, Role.LEADER, "Sơn")
    for user, name in ((MAI, "Mai"), (BINH, "Bình"), (LAN, "Lan")):
        await bot.join(user, tree.cell, name)
    bot.fake.add_group(GROUP, "Chi bộ Thôn Bản Chặng")
    async with bot.db.transaction() as tx:
        await groups.link(tx, tree.cell, GROUP)
    await new_units(bot)
    return tree


async def leader_taps(bot: Harness, *labels: str) -> Seen:
    """Sơn, the cell's leader, opens /schedule and taps these buttons in turn."""
    seen = await bot.say(SON, "/schedule")
    for label in labels:
        seen = await bot.tap(SON, label)
    return seen


async def row_of(bot: Harness, unit_id: int, kind: ScheduleKind) -> Schedule:
    async with bot.db.transaction() as tx:
        return next(r for r in await schedules.of_unit(tx, unit_id) if r.kind is kind)


async def run_job(bot: Harness, schedule_id: int) -> None:
    """The schedule's part of its time's PTB job runs now (as at its time)."""
    await schedule_jobs.run_rows(bot.app, [schedule_id])


async def ledger(bot: Harness, kind: str) -> list[Delivery]:
    async with bot.db.transaction() as tx:
        return await deliveries.in_ledger(tx, kind)


async def only_in_group(bot: Harness, kind: str) -> list[Delivery]:
    return [d for d in await ledger(bot, kind) if d.chat_id == GROUP]


@dataclass
class Written:
    """A digest as the scheduler is handed it, its messages ready."""

    messages: list[Outgoing]

    async def drawn(self) -> list[Outgoing]:
        return self.messages


@dataclass
class Batch:
    """The digests of the units due at one moment, as the scheduler is handed them."""

    found: dict[int, Written]

    @property
    def unit_ids(self) -> list[int]:
        return sorted(self.found)

    async def read(self, tx, unit_ids) -> None:
        pass

    def written(self, unit_id: int) -> Written:
        return self.found[unit_id]


@pytest.fixture
def digests(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, Period, Every]]:
    """The digest's own content is another module's; here, what period it was asked for, for
    the units with a group (the others have nobody to send to here)."""
    asked: list[tuple[int, Period, Every]] = []

    async def written_digests(tx, services, unit_ids, period, every):
        found: dict[int, Written] = {}
        text = f"digest {period.first:%d/%m}–{period.last:%d/%m}"
        for unit_id in sorted(unit_ids):
            group = await groups.group_of_unit(tx, unit_id)
            if group is not None:
                asked.append((unit_id, period, every))
                found[unit_id] = Written([Outgoing(group, Screen(text))])
        return Batch(found)

    monkeypatch.setattr(digest_flow, "written_digests", written_digests)
    return asked


# --- jobs --------------------------------------------------------------------------------------


async def test_every_enabled_row_has_one_job_named_after_it(bot: Harness) -> None:
    tree = await cell_with_group(bot)
    digest = await row_of(bot, tree.cell, ScheduleKind.DIGEST)
    reminder = await row_of(bot, tree.cell, ScheduleKind.REMINDER)
    jobs = schedule_jobs.schedule_jobs(bot.app.job_queue)
    assert len(jobs) == 18  # six units, a digest, a reminder and a review notice each
    digest_next = jobs[job_name(digest.id)]
    reminder_next = jobs[job_name(reminder.id)]
    assert digest_next is not None and reminder_next is not None
    assert digest_next.astimezone(HANOI).strftime("%a %H:%M") == "Mon 07:30"
    assert reminder_next.astimezone(HANOI).strftime("%a %H:%M") == "Fri 16:00"


def time_jobs(bot: Harness) -> list[str]:
    return sorted(job.name or "" for job in bot.app.job_queue.jobs()
                  if isinstance(job.data, schedule_jobs.At))


async def test_the_rows_due_at_one_time_share_its_job_which_runs_them_all(
        bot: Harness) -> None:
    """Six units' 18 rows are three jobs; a leader who moves the cell's reminder gets a job for
    the new time, run for that reminder alone; moved back, that job goes."""
    tree = await cell_with_group(bot)
    bot.fake.add_group(OTHER_GROUP, "Chi bộ 2")
    async with bot.db.transaction() as tx:
        await groups.link(tx, tree.sibling_cell, OTHER_GROUP)
    assert time_jobs(bot) == ["schedule-at:daily:19:00", "schedule-at:fri:16:00",
                              "schedule-at:mon:07:30"]
    await leader_taps(bot, "🕗 Giờ nhắc", "10:30")
    assert time_jobs(bot) == ["schedule-at:daily:19:00", "schedule-at:fri:10:30",
                              "schedule-at:fri:16:00", "schedule-at:mon:07:30"]
    bot.clock.moment = at(2026, 11, 27, 10, 30)
    [job] = bot.app.job_queue.get_jobs_by_name("schedule-at:fri:10:30")
    await job.run(bot.app)
    await bot.deliveries_settled()
    assert [d.chat_id for d in await ledger(bot, "reminder") if d.chat_id < 0] == [GROUP]
    bot.clock.moment = FRIDAY_16
    [job] = bot.app.job_queue.get_jobs_by_name("schedule-at:fri:16:00")
    await job.run(bot.app)
    await bot.deliveries_settled()
    assert sorted(d.chat_id for d in await ledger(bot, "reminder") if d.chat_id < 0) == sorted(
        [GROUP, OTHER_GROUP]), "the sibling cell's reminder, by the 16:00 job"
    await leader_taps(bot, "🕗 Giờ nhắc", "16:00")
    assert "schedule-at:fri:10:30" not in time_jobs(bot)


async def test_jobs_are_rebuilt_from_the_database_after_a_restart(tmp_path: Path) -> None:
    async with started(tmp_path) as bot:
        tree = await cell_with_group(bot)
        await leader_taps(bot, "⏸ Tắt tổng hợp", "🕗 Giờ nhắc", "10:30")
    async with started(tmp_path) as bot:
        await schedule_jobs.installed(bot.app)  # built once polling has started
        digest = await row_of(bot, tree.cell, ScheduleKind.DIGEST)
        reminder = await row_of(bot, tree.cell, ScheduleKind.REMINDER)
        jobs = schedule_jobs.schedule_jobs(bot.app.job_queue)
        assert job_name(digest.id) not in jobs  # turned off: no job
        reminder_next = jobs[job_name(reminder.id)]
        assert reminder_next is not None
        assert reminder_next.astimezone(HANOI).strftime("%a %H:%M") == "Fri 10:30"


# --- the reminder, exactly once -----------------------------------------------------------------


async def test_the_friday_reminder_runs_twice_and_is_decided_once(bot: Harness) -> None:
    tree = await cell_with_group(bot)
    reminder = await row_of(bot, tree.cell, ScheduleKind.REMINDER)
    bot.clock.moment = FRIDAY_16
    await run_job(bot, reminder.id)
    await run_job(bot, reminder.id)
    await schedule_jobs.catch_up(bot.app)
    [sent] = await only_in_group(bot, "reminder")
    assert sent.period == "2026-W48" and sent.status is not Status.MISSED
    assert sent.unit_id == tree.cell
    nudged = [d.chat_id for d in await ledger(bot, "nudge")]
    assert sorted(nudged) == sorted(set(nudged))  # one nudge each


async def test_a_restart_within_the_grace_window_sends_once_after_it(tmp_path: Path) -> None:
    async with started(tmp_path) as bot:
        tree = await cell_with_group(bot)
    # Down from before Friday 16:00 until Saturday 10:00: the reminder goes out when it is back.
    async with started(tmp_path) as bot:
        bot.clock.moment = at(2026, 11, 28, 10)
        await schedule_jobs.catch_up(bot.app)  # what install() does at start-up
        await schedule_jobs.catch_up(bot.app)
        [sent] = await only_in_group(bot, "reminder")
        assert sent.status is not Status.MISSED and sent.unit_id == tree.cell
        assert {d.chat_id for d in await ledger(bot, "nudge")} == {SON, MAI, BINH, LAN}
    async with started(tmp_path) as bot:
        bot.clock.moment = at(2026, 11, 28, 11)
        await schedule_jobs.catch_up(bot.app)
        assert len(await only_in_group(bot, "reminder")) == 1


async def test_a_restart_30_hours_late_records_the_reminder_missed(tmp_path: Path) -> None:
    async with started(tmp_path) as bot:
        tree = await cell_with_group(bot)
    async with started(tmp_path) as bot:
        bot.clock.moment = FRIDAY_16 + dt.timedelta(hours=30)
        await schedule_jobs.catch_up(bot.app)
        await schedule_jobs.catch_up(bot.app)
        [missed] = await only_in_group(bot, "reminder")
        assert missed.status is Status.MISSED and missed.unit_id == tree.cell
        assert await ledger(bot, "nudge") == []
        assert bot.fake.messages(GROUP) == []


async def test_moving_the_reminder_earlier_does_not_send_the_time_it_left(bot: Harness) -> None:
    # At 09:00 the leader moves Friday 16:00 to 08:00: 08:00 has passed, but was not asked for.
    tree = await cell_with_group(bot)
    await leader_taps(bot, "🕗 Giờ nhắc", "08:00")
    reminder = await row_of(bot, tree.cell, ScheduleKind.REMINDER)
    assert reminder.at == dt.time(8, 0)
    await run_job(bot, reminder.id)
    await schedule_jobs.catch_up(bot.app)
    bot.clock.moment = FRIDAY_16
    await schedule_jobs.catch_up(bot.app)
    assert await only_in_group(bot, "reminder") == []
    # The units above remind their own members at 16:00; the cell sent nothing of its own.
    assert [d for d in await ledger(bot, "nudge") if d.unit_id == tree.cell] == []
    # The next Friday 08:00 is the new time.
    bot.clock.moment = at(2026, 12, 4, 8)
    await run_job(bot, reminder.id)
    [sent] = await only_in_group(bot, "reminder")
    assert sent.period == "2026-W49"


async def test_a_schedule_turned_off_sends_nothing(bot: Harness) -> None:
    tree = await cell_with_group(bot)
    await leader_taps(bot, "⏸ Tắt nhắc báo cáo")
    bot.clock.moment = FRIDAY_16
    await schedule_jobs.catch_up(bot.app)
    reminder = await row_of(bot, tree.cell, ScheduleKind.REMINDER)
    assert not reminder.enabled
    assert job_name(reminder.id) not in schedule_jobs.schedule_jobs(bot.app.job_queue)
    assert await only_in_group(bot, "reminder") == []


# --- the digest ---------------------------------------------------------------------------------


async def test_the_monday_digest_covers_the_previous_iso_week(
        bot: Harness, digests: list[tuple[int, Period, Every]]) -> None:
    tree = await cell_with_group(bot)
    digest = await row_of(bot, tree.cell, ScheduleKind.DIGEST)
    bot.clock.moment = MONDAY_0730
    await run_job(bot, digest.id)
    await run_job(bot, digest.id)
    assert digests == [(tree.cell, Period(dt.date(2026, 11, 23), dt.date(2026, 11, 29)),
                        Every.WEEK)]
    [sent] = await ledger(bot, "digest")
    assert (sent.period, sent.chat_id, sent.text) == ("2026-W48", GROUP, "digest 23/11–29/11")


async def test_a_monthly_digest_covers_the_previous_month(
        bot: Harness, digests: list[tuple[int, Period, Every]]) -> None:
    tree = await cell_with_group(bot)
    await leader_taps(bot, "📊 Hằng tháng")
    digest = await row_of(bot, tree.cell, ScheduleKind.DIGEST)
    bot.clock.moment = at(2026, 12, 1, 7, 30)
    await run_job(bot, digest.id)
    assert digests == [(tree.cell, Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
                        Every.MONTH)]
    [sent] = await ledger(bot, "digest")
    assert sent.period == "2026-11"


async def test_a_digest_missed_beyond_the_grace_window_is_recorded_missed(
        tmp_path: Path, digests: list[tuple[int, Period, Every]]) -> None:
    async with started(tmp_path) as bot:
        await cell_with_group(bot)
    async with started(tmp_path) as bot:
        bot.clock.moment = at(2026, 12, 2, 9)  # Wednesday: Monday's digest is 49 hours old
        await schedule_jobs.catch_up(bot.app)
        missed = await ledger(bot, "digest")
        assert {m.chat_id for m in missed} == {GROUP, SON}, "the group and the leader"
        assert all(m.status is Status.MISSED and m.period == "2026-W48" for m in missed)
        assert digests == [], "a missed digest is recorded, not written"
        await schedule_jobs.catch_up(bot.app)
        assert len(await ledger(bot, "digest")) == 2


# --- holidays -----------------------------------------------------------------------------------


async def test_tet_skips_the_reminder_and_the_nudges_but_not_the_digest(
        bot: Harness, digests: list[tuple[int, Period, Every]]) -> None:
    tree = await cell_with_group(bot)
    reminder = await row_of(bot, tree.cell, ScheduleKind.REMINDER)
    digest = await row_of(bot, tree.cell, ScheduleKind.DIGEST)
    bot.clock.moment = at(2027, 2, 5, 16)  # Friday, Lunar New Year's Eve
    await run_job(bot, reminder.id)
    await schedule_jobs.catch_up(bot.app)
    assert await ledger(bot, "reminder") == []
    assert await ledger(bot, "nudge") == []
    bot.clock.moment = at(2027, 2, 8, 7, 30)  # Monday, the third day of Tết
    await run_job(bot, digest.id)
    [sent] = [d for d in await ledger(bot, "digest") if d.period == "2027-W05"]
    assert sent.status is not Status.MISSED


async def test_national_day_skips_a_custom_reminder(bot: Harness) -> None:
    tree = await cell_with_group(bot)
    async with bot.db.transaction() as tx:
        custom = await schedules.add(tx, NewSchedule(
            unit_id=tree.cell, kind=ScheduleKind.CUSTOM, weekday=3, at=dt.time(7),
            text="Chào cờ Quốc khánh"), bot.clock.now())
    bot.clock.moment = at(2027, 9, 2, 7)  # Thursday, Quốc khánh
    await schedule_jobs.catch_up(bot.app)
    assert await ledger(bot, "custom") == []
    bot.clock.moment = at(2027, 9, 9, 7)  # the Thursday after
    await schedule_jobs.catch_up(bot.app)
    [sent] = await ledger(bot, "custom")
    assert (sent.period, sent.chat_id, sent.text) == (
        f"2027-09-09#{custom}", GROUP, CATALOGUE.texts("vi")("reminder.custom",
                                                              text="Chào cờ Quốc khánh"))


# --- quiet hours ------------------------------------------------------------------------------


async def morning(bot: Harness) -> None:
    """The daily run at the end of the quiet hours."""
    await bot.app.job_queue.get_jobs_by_name(MORNING_JOB)[0].run(bot.app)
    await bot.deliveries_settled()


async def test_a_reminder_caught_up_at_night_waits_for_seven(tmp_path: Path) -> None:
    # Down over Friday 16:00, back at 22:00: neither the group nor anybody hears it at night;
    # at 07:00 (15 hours late, within the 24 hours' grace) the group and the nudges go.
    async with started(tmp_path) as bot:
        await cell_with_group(bot)
    async with started(tmp_path) as bot:
        bot.fake.add_group(GROUP, "Chi bộ Thôn Bản Chặng")
        bot.clock.moment = at(2026, 11, 27, 22)
        await schedule_jobs.catch_up(bot.app)
        await bot.deliveries_settled()
        assert await ledger(bot, "reminder") == [] and await ledger(bot, "nudge") == []
        assert bot.fake.messages(GROUP) == []
        bot.clock.moment = at(2026, 11, 28, 6, 59)
        await morning(bot)
        assert await ledger(bot, "reminder") == [] and await ledger(bot, "nudge") == []
        bot.clock.moment = at(2026, 11, 28, 7)
        await morning(bot)
        assert {d.chat_id for d in await ledger(bot, "nudge")} == {SON, MAI, BINH, LAN}
        [sent] = await only_in_group(bot, "reminder")
        assert sent.status is Status.SENT and len(bot.fake.messages(GROUP)) == 1


async def test_a_reminder_whose_grace_ends_at_night_is_dropped(tmp_path: Path) -> None:
    # With 8 hours' grace, Friday 16:00 is too late by Saturday 07:00: recorded missed.
    async with started(tmp_path, schedule={"grace_hours": 8}) as bot:
        await cell_with_group(bot)
    async with started(tmp_path, schedule={"grace_hours": 8}) as bot:
        bot.clock.moment = at(2026, 11, 27, 22)
        await schedule_jobs.catch_up(bot.app)
        assert await ledger(bot, "reminder") == []
        bot.clock.moment = at(2026, 11, 28, 7)
        await morning(bot)
        [missed] = await only_in_group(bot, "reminder")
        assert missed.status is Status.MISSED and bot.fake.messages(GROUP) == []


async def test_a_digest_caught_up_at_night_waits_for_seven(
        tmp_path: Path, digests: list[tuple[int, Period, Every]]) -> None:
    async with started(tmp_path) as bot:
        await cell_with_group(bot)
    async with started(tmp_path) as bot:
        bot.fake.add_group(GROUP, "Chi bộ Thôn Bản Chặng")
        bot.clock.moment = at(2026, 11, 30, 23)  # Monday 07:30 missed, back at 23:00
        await schedule_jobs.catch_up(bot.app)
        await bot.deliveries_settled()
        assert await ledger(bot, "digest") == [] and bot.fake.messages(GROUP) == []
        bot.clock.moment = at(2026, 12, 1, 7)
        await morning(bot)
        assert [m["text"] for m in bot.fake.messages(GROUP)] == ["digest 23/11–29/11"]


async def test_a_group_message_decided_by_day_is_not_sent_at_night(bot: Harness) -> None:
    # Decided at 16:00, but the bot stopped before sending it and came back at 22:00.
    tree = await cell_with_group(bot)
    bot.clock.moment = at(2026, 11, 27, 16)
    async with bot.db.transaction() as tx:
        await deliveries.queue(tx, [deliveries.NewDelivery(
            kind="reminder", unit_id=tree.cell, chat_id=GROUP, period="2026-W48",
            text="nhắc")], bot.clock.now())
    bot.clock.moment = at(2026, 11, 27, 22)
    await bot.deliveries_settled()
    [held] = await only_in_group(bot, "reminder")
    assert held.status is Status.MISSED and bot.fake.messages(GROUP) == []


async def test_held_back_nudges_do_not_spill_into_the_next_week(tmp_path: Path) -> None:
    async with started(tmp_path) as bot:
        tree = await cell_with_group(bot)
        await leader_taps(bot, "📅 Ngày nhắc", "Chủ nhật", "🕗 Giờ nhắc", "21:00")
        reminder = await row_of(bot, tree.cell, ScheduleKind.REMINDER)
        bot.clock.moment = at(2026, 11, 29, 21)  # Sunday 21:00, quiet already
        await run_job(bot, reminder.id)
        assert await ledger(bot, "reminder") == []
        bot.clock.moment = at(2026, 11, 30, 7)  # Monday: a new week
        await morning(bot)
        assert await ledger(bot, "nudge") == []
        [missed] = await only_in_group(bot, "reminder")  # "this week" would be last week
        assert missed.status is Status.MISSED and bot.fake.messages(GROUP) == []
