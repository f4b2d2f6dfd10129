"""Where a message could slip between deciding and sending: a group that changed its id after
the week's reminder, a queued nudge the bot only gets to at night or a week late, and the bot
stopping while a message waits its turn."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.rules import deliveries
from bot.rules.deliveries import Outgoing
from bot.ui.screens import Screen
from handlers import deliveries as outbox
from handlers.schedules import MORNING_JOB
from storage import deliveries as ledger
from storage.deliveries import NewDelivery, Status
from storage.schedules import ScheduleKind
from tests.harness import migrated_database, started
from tests.test_deliveries import MAI, _cell
from tests.test_schedules_due import FRIDAY_16, GROUP, at, cell_with_group, row_of, run_job
from tests.test_schedules_due import MAI as CELL_MEMBER
from tests.test_schedules_due import ledger as ledger_of

SUPERGROUP = -1009999999


async def test_an_upgraded_group_hears_the_weeks_reminder_once(tmp_path: Path) -> None:
    async with started(tmp_path) as bot:
        tree = await cell_with_group(bot)
        reminder = await row_of(bot, tree.cell, ScheduleKind.REMINDER)
        bot.clock.moment = FRIDAY_16
        await run_job(bot, reminder.id)
        await bot.deliveries_settled()
        bot.fake.add_group(SUPERGROUP, "Chi bộ Thôn Bản Chặng")
        async with bot.core.requests.begin(0) as req:
            await bot.core.groups.migrated(req, GROUP, SUPERGROUP)
        bot.clock.moment = at(2026, 11, 28, 7)  # the morning job runs the week's reminders again
        await bot.app.job_queue.get_jobs_by_name(MORNING_JOB)[0].run(bot.app)
        await bot.deliveries_settled()
        assert [d.chat_id for d in await ledger_of(bot, "reminder")] == [GROUP]
        assert bot.fake.messages(SUPERGROUP) == []


async def _queue_nudge(tmp_path: Path, unit_id: int, decided: object) -> None:
    db = await migrated_database(tmp_path / "lantoa.sqlite3")
    try:
        async with db.transaction() as tx:
            await ledger.queue(tx, [NewDelivery(kind="nudge", unit_id=unit_id,
                                                chat_id=CELL_MEMBER, period="2026-W48",
                                                text="Tuần này đồng chí có việc làm nào?")],
                               decided)
    finally:
        await db.close()


@pytest.mark.parametrize("back", [at(2026, 11, 27, 23), at(2026, 12, 1, 9)],
                         ids=["the same night", "a week late"])
async def test_a_nudge_left_queued_never_goes_at_night_or_late(tmp_path: Path,
                                                               back: object) -> None:
    async with started(tmp_path) as bot:
        tree = await cell_with_group(bot)
    await _queue_nudge(tmp_path, tree.cell, at(2026, 11, 27, 20, 55))
    async with started(tmp_path, fake=bot.fake, now=back) as again:
        await again.deliveries_settled()
        [nudge] = await ledger_of(again, "nudge")
        assert nudge.status is Status.MISSED
        assert not any("việc làm nào" in (m.get("text") or "")
                       for m in again.fake.messages(CELL_MEMBER))


async def test_a_message_waiting_its_turn_at_a_stop_goes_after_the_restart(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox, "STOP_WAIT", 0.05)
    async with started(tmp_path) as bot:
        cell = await _cell(bot)
        bot.pacing.hold()  # Telegram's "retry after 30" is then waited out in virtual time
        bot.fake.fail_next("sendMessage", status=429, retry_after=30, chat_id=MAI,
                           description="Too Many Requests: retry after 30")
        async with bot.db.transaction() as tx:
            await deliveries.queue(tx, bot.clock.now(), "announcement", cell, "a1",
                                   [Outgoing(MAI, Screen("Thông báo họp chi bộ"))])
        bot.core.services.outbox.notify()
        bot.pacing.advance(5)  # its turn comes (Mai's chat heard from the bot just now)
        await bot.fake.wait_for(lambda f: any(c.error for c in f.calls_to("sendMessage")))
        await outbox.stop(bot.app)
        async with bot.db.transaction() as tx:
            [row] = await ledger.in_ledger(tx)
        assert row.status is Status.QUEUED, "nothing of it reached Telegram"
    async with started(tmp_path, fake=bot.fake) as again:
        await again.deliveries_settled()
        async with again.db.transaction() as tx:
            [row] = await ledger.in_ledger(tx)
        assert row.status is Status.SENT
        assert [m.get("text") for m in again.fake.messages(MAI)].count("Thông báo họp chi bộ") == 1


async def test_a_chart_with_its_caption_waiting_its_turn_at_a_stop_goes_once_after_the_restart(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The one-part form of a digest (the chart, its text as caption): stopped before Telegram
    took it, it is still queued, picture and all, and goes whole once after the restart."""
    monkeypatch.setattr(outbox, "STOP_WAIT", 0.05)
    text = "📊 <b>TỔNG HỢP TUẦN 48</b>\n• 3 việc làm theo Bác"
    async with started(tmp_path) as bot:
        cell = await _cell(bot)
        bot.pacing.hold()
        bot.fake.fail_next("sendPhoto", status=429, retry_after=30, chat_id=MAI,
                           description="Too Many Requests: retry after 30")
        async with bot.db.transaction() as tx:
            await deliveries.queue(tx, bot.clock.now(), "digest", cell, "2026-W48",
                                   [Outgoing(MAI, Screen(text, image=b"\x89PNG chart"))])
        bot.core.services.outbox.notify()
        bot.pacing.advance(5)
        await bot.fake.wait_for(lambda f: any(c.error for c in f.calls_to("sendPhoto")))
        await outbox.stop(bot.app)
        async with bot.db.transaction() as tx:
            [row] = await ledger.in_ledger(tx)
        assert row.status is Status.QUEUED and row.photo == b"\x89PNG chart"
    mark = len(bot.fake.calls)
    async with started(tmp_path, fake=bot.fake) as again:
        await again.deliveries_settled()
        async with again.db.transaction() as tx:
            [row] = await ledger.in_ledger(tx)
        assert row.status is Status.SENT and row.photo is None
        taken = [c for c in again.fake.calls[mark:] if c.chat_id == MAI and not c.error]
        assert [(c.method, c.params.get("caption")) for c in taken] == [("sendPhoto", text)]
        assert taken[0].files["photo"] == b"\x89PNG chart"
