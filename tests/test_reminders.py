"""Friday's reminder as the group reads it, the private nudges (only to those who have not
reported, want nudges and can be reached; one a week, whatever the number of units that
remind them), the nudge's button that opens the report form, and /settings."""

from __future__ import annotations

import datetime as dt

from bot.flows.reminders import is_holiday
from handlers import schedules as schedule_jobs
from storage import audit, settings
from storage.schedules import ScheduleKind
from tests.harness import CATALOGUE, Harness, as_read
from tests.test_schedules_due import (
    BINH,
    FRIDAY_16,
    GROUP,
    LAN,
    MAI,
    SON,
    at,
    cell_with_group,
    ledger,
    row_of,
    run_job,
)

STRANGER = 4099
VI = CATALOGUE.texts("vi")
WEEK, CELL = "23/11–29/11/2026", "Chi bộ Thôn Bản Chặng"



REMINDER = as_read(" ".join([
    VI("reminder.group", week=WEEK, unit=CELL, reports=2, reported=2, expected=4),
    VI("reminder.ask"), VI("reminder.how", bot="lantoa_test_bot")]))
NUDGES_ON = as_read(VI("settings.nudges", state=VI("settings.state_on")))
NUDGES_OFF = as_read(VI("settings.nudges", state=VI("settings.state_off")))


def _nudges(bot: Harness, user_id: int) -> int:
    """How many nudges the bot has sent this person."""
    return sum(bool({"reminder.nudge", "reminder.nudge_leader"} & call.keys)
               for call in bot.fake.calls
               if call.params.get("chat_id") == user_id and not call.error)


def group_texts(bot: Harness) -> list[str]:
    return [m.get("text", "") for m in bot.fake.messages(GROUP)]


async def friday_reminder(bot: Harness, cell: int) -> None:
    bot.clock.moment = FRIDAY_16
    await run_job(bot, (await row_of(bot, cell, ScheduleKind.REMINDER)).id)
    await bot.deliveries_settled()


async def test_the_group_hears_the_week_so_far_positively(bot: Harness) -> None:
    tree = await cell_with_group(bot)
    await bot.report(MAI, "Cùng tổ dọn vệ sinh đường làng, khơi thông cống rãnh")
    await bot.report(BINH, "Giúp hộ bà Hoa sửa lại mái bếp bị dột sau mưa lớn")
    await friday_reminder(bot, tree.cell)
    assert group_texts(bot) == [REMINDER]


async def test_a_week_with_nothing_yet_says_so_without_a_zero(bot: Harness) -> None:
    tree = await cell_with_group(bot)
    await friday_reminder(bot, tree.cell)
    [said] = group_texts(bot)
    assert said == as_read(" ".join([VI("reminder.group_none", week=WEEK, unit=CELL),
                                    VI("reminder.ask"), VI("reminder.how", bot="lantoa_test_bot")]))
    assert " 0 " not in said


async def test_nudges_go_only_to_who_has_not_reported_and_wants_them(bot: Harness) -> None:
    tree = await cell_with_group(bot)
    await bot.report(MAI, "Cùng tổ dọn vệ sinh đường làng, khơi thông cống rãnh")
    await bot.say(LAN, "/settings")
    await bot.tap(LAN, "🔕 Tắt nhắc nhở riêng")
    async with bot.db.transaction() as tx:  # Bình blocked the bot some time ago
        await tx.run("UPDATE people SET unreachable = 1 WHERE telegram_user_id = ?", (BINH,))
    await friday_reminder(bot, tree.cell)
    assert {d.chat_id for d in await ledger(bot, "nudge")} == {SON}
    # Sơn leads the cell and counts in its y (bot/rules/counting.py): he is nudged too, in
    # words for a leader who reports, not those that send a member to the cell.
    nudge = bot.fake.last_message(SON)
    assert nudge is not None
    assert nudge["text"] == as_read(VI("reminder.nudge_leader", name="Sơn", week=WEEK))
    assert "chi bộ cùng ghi nhận" not in nudge["text"]
    assert bot.buttons(SON) == ["📝 Báo cáo ngay", "🔕 Không nhắc nữa"]
    for user in (MAI, BINH, LAN):
        assert _nudges(bot, user) == 0


async def test_a_member_reads_the_members_words(bot: Harness) -> None:
    tree = await cell_with_group(bot)
    await friday_reminder(bot, tree.cell)
    nudge = bot.fake.last_message(MAI)
    assert nudge is not None
    assert nudge["text"] == as_read(VI("reminder.nudge", name="Mai", week=WEEK))


async def test_one_nudge_a_week_however_many_units_remind(bot: Harness) -> None:
    # The cell, the commune and the province all remind at Friday 16:00.
    tree = await cell_with_group(bot)
    for unit in (tree.cell, tree.commune, tree.province):
        await friday_reminder(bot, unit)
    await schedule_jobs.catch_up(bot.app)
    await bot.deliveries_settled()
    chats = [d.chat_id for d in await ledger(bot, "nudge")]
    assert sorted(chats) == sorted({SON, MAI, BINH, LAN})
    nudges_to_mai = [m for m in bot.fake.messages(MAI)
                     if m["text"] == as_read(VI("reminder.nudge", name="Mai", week=WEEK))]
    assert len(nudges_to_mai) == 1 and _nudges(bot, MAI) == 1


async def test_the_nudge_button_opens_the_report_form(bot: Harness) -> None:
    tree = await cell_with_group(bot)
    await friday_reminder(bot, tree.cell)
    seen = await bot.tap(MAI, "📝 Báo cáo ngay")
    assert seen.shows("form.report.deed_date.prompt")
    assert (await bot.tap(MAI, "Hôm nay")).shows("form.report.field.prompt")


async def test_the_nudge_can_turn_nudges_off(bot: Harness) -> None:
    tree = await cell_with_group(bot)
    await friday_reminder(bot, tree.cell)
    seen = await bot.tap(MAI, "🔕 Không nhắc nữa")
    assert seen.shows("settings.turned_off")
    assert NUDGES_OFF in seen.text
    async with bot.db.transaction() as tx:
        person = await tx.one("SELECT id FROM people WHERE telegram_user_id = ?", (MAI,))
        assert not await settings.nudges_enabled(tx, person["id"])
    # Next Friday Mai is left in peace; the others are nudged again.
    bot.clock.moment = at(2026, 12, 4, 16)
    await run_job(bot, (await row_of(bot, tree.cell, ScheduleKind.REMINDER)).id)
    week49 = {d.chat_id for d in await ledger(bot, "nudge") if d.period == "2026-W49"}
    assert week49 == {SON, BINH, LAN}


# --- /settings --------------------------------------------------------------------------------


async def test_settings_show_and_switch_nudges(bot: Harness) -> None:
    await cell_with_group(bot)
    seen = await bot.say(MAI, "/settings")
    assert seen.shows("settings.title") and NUDGES_ON in seen.text
    seen = await bot.tap(MAI, "🔕 Tắt nhắc nhở riêng")
    assert NUDGES_OFF in seen.text
    assert seen.methods() == ["editMessageText"]
    # A double press (the old screen's button, pressed again) changes nothing more.
    message_id = bot.fake.last_message(MAI)["message_id"]
    seen = await bot.press_data(MAI, message_id, "ns:off", check_button=False)
    assert seen.shows("settings.turned_off")
    assert NUDGES_OFF in bot.screen(MAI)
    seen = await bot.tap(MAI, "🔔 Bật nhắc nhở riêng")
    assert NUDGES_ON in seen.text
    async with bot.db.transaction() as tx:
        assert [e["action"] for e in await audit.entries(tx, "nudges_off")] == ["nudges_off"]
        assert len(await audit.entries(tx, "nudges_on")) == 1


async def test_a_stranger_is_told_to_join_first(bot: Harness) -> None:
    bot.person(STRANGER, "Khách")
    seen = await bot.say(STRANGER, "/settings")
    assert seen.shows("access.not_member")
    message_id = bot.fake.last_message(STRANGER)["message_id"]
    seen = await bot.press_data(STRANGER, message_id, "ns:off", check_button=False)
    assert seen.shows("access.not_member")


async def test_garbled_settings_and_nudge_data_get_a_polite_note(bot: Harness) -> None:
    await cell_with_group(bot)
    await bot.say(MAI, "/settings")
    message_id = bot.fake.last_message(MAI)["message_id"]
    for data in ("ns:maybe", "ns:", "nd:report:7", "nd:x"):
        seen = await bot.press_data(MAI, message_id, data, check_button=False)
        assert seen.shows("settings.stale"), data


# --- words and days -----------------------------------------------------------------------------


def test_vietnamese_public_holidays() -> None:
    assert is_holiday(dt.date(2027, 2, 5))  # Tết
    assert is_holiday(dt.date(2026, 9, 2))  # Quốc khánh
    assert not is_holiday(dt.date(2026, 11, 27))
