"""/schedule: a leader sees the unit's digest, reminder and custom reminders, changes them with
buttons and adds or removes custom reminders; every change is audited and the unit's jobs
follow at once; forged presses and bad answers get a clear word and change nothing."""

from __future__ import annotations

import datetime as dt

from bot.flows.schedules import SetTime, parse_time
from bot.ui import buttons
from handlers.schedules import job_name, schedule_jobs
from storage import audit, schedules
from storage.entities import Role
from storage.schedules import Every, ScheduleKind
from tests.harness import HANOI, Harness
from tests.test_schedules_due import (
    GROUP,
    MAI,
    SON,
    cell_with_group,
    leader_taps,
    ledger,
    row_of,
    run_job,
)

SIBLING_LEADER, COMMUNE_LEADER, STRANGER = 4011, 4012, 4099
DENIED = ("Việc này không thuộc phạm vi phụ trách của đồng chí nên chưa thực hiện được. "
          "Nếu cần, đồng chí liên hệ bí thư chi bộ nhé.")


def next_run(bot: Harness, schedule_id: int) -> dt.datetime:
    moment = schedule_jobs(bot.app.job_queue)[job_name(schedule_id)]
    assert moment is not None
    return moment.astimezone(HANOI)


async def test_a_leader_sees_the_default_schedule(bot: Harness) -> None:
    await cell_with_group(bot)
    seen = await bot.say(SON, "/schedule")
    assert seen.text.startswith("🗓 Lịch gửi tự động — Chi bộ Thôn Bản Chặng\n"
                                "📊 Tổng hợp: hằng tuần, Thứ Hai 07:30\n"
                                "🔔 Nhắc báo cáo: Thứ Sáu 16:00\n"
                                "📌 Lời nhắc của đơn vị: chưa có")
    assert "chưa gắn nhóm" not in seen.text
    assert bot.buttons(SON) == [
        "✓ 📊 Hằng tuần", "📊 Hằng tháng", "📅 Ngày tổng hợp", "🕗 Giờ tổng hợp",
        "⏸ Tắt tổng hợp", "📅 Ngày nhắc", "🕗 Giờ nhắc", "⏸ Tắt nhắc báo cáo",
        "➕ Thêm lời nhắc", "🏛 Đơn vị khác"]


async def test_the_digest_becomes_monthly_on_the_first_at_eight(bot: Harness) -> None:
    tree = await cell_with_group(bot)
    digest = await row_of(bot, tree.cell, ScheduleKind.DIGEST)
    assert next_run(bot, digest.id).strftime("%a %H:%M") == "Mon 07:30"
    seen = await leader_taps(bot, "📊 Hằng tháng")
    assert seen.toast == "Đã lưu lịch."
    assert "📊 Tổng hợp: hằng tháng, ngày 1, 07:30" in seen.text
    seen = await leader_taps(bot, "📅 Ngày tổng hợp", "5", "📅 Ngày tổng hợp", "1",
                             "🕗 Giờ tổng hợp", "08:00")
    assert "📊 Tổng hợp: hằng tháng, ngày 1, 08:00" in seen.text
    assert seen.methods() == ["editMessageText"]
    when = next_run(bot, digest.id)
    assert (when.day, when.hour, when.minute) == (1, 8, 0)
    changed = await row_of(bot, tree.cell, ScheduleKind.DIGEST)
    assert (changed.every, changed.month_day, changed.at) == (Every.MONTH, 1, dt.time(8))
    async with bot.db.transaction() as tx:
        details = [e["detail"] for e in await audit.entries(tx, "schedule_changed")]
    assert details == [f"unit:{tree.cell} every:month", f"unit:{tree.cell} month_day:5",
                       f"unit:{tree.cell} month_day:1", f"unit:{tree.cell} at:08:00"]


async def test_the_reminder_day_and_hour_and_turning_it_off(bot: Harness) -> None:
    tree = await cell_with_group(bot)
    reminder = await row_of(bot, tree.cell, ScheduleKind.REMINDER)
    seen = await leader_taps(bot, "📅 Ngày nhắc", "Thứ Năm", "🕗 Giờ nhắc", "17:30")
    assert "🔔 Nhắc báo cáo: Thứ Năm 17:30" in seen.text
    assert next_run(bot, reminder.id).strftime("%a %H:%M") == "Thu 17:30"
    seen = await bot.tap(SON, "⏸ Tắt nhắc báo cáo")
    assert "🔔 Nhắc báo cáo: Thứ Năm 17:30 (đang tắt)" in seen.text
    assert job_name(reminder.id) not in schedule_jobs(bot.app.job_queue)
    seen = await bot.tap(SON, "▶ Bật nhắc báo cáo")
    assert "(đang tắt)" not in seen.text
    assert next_run(bot, reminder.id).strftime("%a %H:%M") == "Thu 17:30"


async def test_a_custom_reminder_is_added_sent_and_removed(bot: Harness) -> None:
    tree = await cell_with_group(bot)
    seen = await leader_taps(bot, "➕ Thêm lời nhắc")
    assert "nội dung nhắc sẽ gửi vào nhóm" in seen.text
    await bot.say(SON, "Ngày thứ 7 đi cơ sở")
    await bot.tap(SON, "Thứ Bảy")
    seen = await bot.say(SON, "6h30")
    assert "Đã thêm lời nhắc: Thứ Bảy hằng tuần lúc 06:30." in seen.text
    assert "1. Thứ Bảy 06:30: Ngày thứ 7 đi cơ sở" in seen.text
    custom = await row_of(bot, tree.cell, ScheduleKind.CUSTOM)
    assert next_run(bot, custom.id).strftime("%a %H:%M") == "Sat 06:30"
    # Saturday 06:30: the group hears it.
    bot.clock.moment = dt.datetime(2026, 11, 28, 6, 30, tzinfo=HANOI)
    await run_job(bot, custom.id)
    await bot.deliveries_settled()
    assert [m["text"] for m in bot.fake.messages(GROUP)] == ["📌 Ngày thứ 7 đi cơ sở"]
    seen = await leader_taps(bot, "🗑 Xóa nhắc 1")
    assert "Xóa lời nhắc “Ngày thứ 7 đi cơ sở” (Thứ Bảy 06:30)?" in seen.text
    seen = await bot.tap(SON, "🗑 Xóa")
    assert seen.toast == "Đã xóa lời nhắc."
    assert "📌 Lời nhắc của đơn vị: chưa có" in seen.text
    assert job_name(custom.id) not in schedule_jobs(bot.app.job_queue)
    async with bot.db.transaction() as tx:
        assert await schedules.get(tx, custom.id) is None
        assert len(await audit.entries(tx, "schedule_added")) == 1
        assert [e["subject"] for e in await audit.entries(tx, "schedule_removed")] == [
            f"schedule:{custom.id}"]
    assert len(await ledger(bot, "custom")) == 1


async def test_bad_answers_in_the_custom_reminder_form(bot: Harness) -> None:
    tree = await cell_with_group(bot)
    await leader_taps(bot, "➕ Thêm lời nhắc")
    seen = await bot.say(SON, "   ")
    assert "Đồng chí chưa nhập gì." in seen.text
    seen = await bot.say(SON, "Họp " * 2500)
    assert "Nội dung nhắc dài quá (9999 ký tự)" in seen.text.replace(".", "")
    seen = await bot.say(SON, "ok")
    assert "Nội dung nhắc hơi ngắn" in seen.text
    seen = await bot.send(SON, "sticker")
    assert "Lan Tỏa chưa hiểu nội dung này" in seen.text
    await bot.say(SON, "<b>Họp chi bộ</b> & sinh hoạt chuyên đề")
    seen = await bot.send(SON, "sticker")
    assert "ngày nhắc" in seen.text
    await bot.tap(SON, "Thứ Bảy")
    for bad in ("25:99", "7:5", "sáng mai", "24h"):
        seen = await bot.say(SON, bad)
        assert "Lan Tỏa chưa đọc được giờ này" in seen.text, bad
    assert await row_of_custom(bot, tree.cell) is None
    seen = await bot.say(SON, "07:30")
    assert "Đã thêm lời nhắc: Thứ Bảy hằng tuần lúc 07:30." in seen.text
    assert "<b>Họp chi bộ</b> & sinh hoạt chuyên đề" in seen.text  # shown as typed…
    assert "&lt;b&gt;Họp chi bộ&lt;/b&gt; &amp; sinh hoạt" in seen.html  # …never as markup
    custom = await row_of_custom(bot, tree.cell)
    assert custom is not None and custom.text == "<b>Họp chi bộ</b> & sinh hoạt chuyên đề"


async def row_of_custom(bot: Harness, unit_id: int):
    async with bot.db.transaction() as tx:
        found = [r for r in await schedules.of_unit(tx, unit_id)
                 if r.kind is ScheduleKind.CUSTOM]
    return found[0] if found else None


async def test_others_may_not_change_a_units_schedule(bot: Harness) -> None:
    tree = await cell_with_group(bot)
    await bot.appoint(SIBLING_LEADER, tree.sibling_cell, Role.LEADER, "Hà")
    digest = await row_of(bot, tree.cell, ScheduleKind.DIGEST)
    # A member, and a stranger, are told politely.
    assert DENIED in (await bot.say(MAI, "/schedule")).text
    bot.person(STRANGER, "Khách")
    assert "xin đường link mời" in (await bot.say(STRANGER, "/schedule")).text
    # The neighbouring cell's leader forges presses for Bản Chặng's rows and unit.
    await bot.say(SIBLING_LEADER, "/schedule")
    message_id = bot.fake.last_message(SIBLING_LEADER)["message_id"]
    for data in (f"sc:off:{digest.id}", f"sc:em:{digest.id}", f"sc:t:{digest.id}:800",
                 f"sc:d:{digest.id}:3", f"sc:v:{tree.cell}", f"sc:add:{tree.cell}",
                 f"sc:dp:{digest.id}"):
        seen = await bot.press_data(SIBLING_LEADER, message_id, data, check_button=False)
        assert seen.toast == DENIED, data
    assert await row_of(bot, tree.cell, ScheduleKind.DIGEST) == digest
    async with bot.db.transaction() as tx:
        refused = await audit.entries(tx, "refused")
        assert len([e for e in refused if e["subject"] == "schedule"]) >= 7
        assert await audit.entries(tx, "schedule_changed") == []


async def test_a_commune_leader_sets_a_cells_schedule_from_the_unit_list(bot: Harness) -> None:
    tree = await cell_with_group(bot)
    await bot.appoint(COMMUNE_LEADER, tree.commune, Role.LEADER, "Tuấn")
    seen = await bot.say(COMMUNE_LEADER, "/schedule")
    assert "Đảng bộ xã Tràng Định" in seen.text
    await bot.tap(COMMUNE_LEADER, "🏛 Đơn vị khác")
    assert bot.buttons(COMMUNE_LEADER)[:3] == [
        "Đảng bộ xã Tràng Định", "Chi bộ Thôn Bản Chặng", "Tổ đảng số 1"]
    seen = await bot.tap(COMMUNE_LEADER, "Chi bộ Thôn Bản Chặng")
    assert "Lịch gửi tự động — Chi bộ Thôn Bản Chặng" in seen.text
    seen = await bot.tap(COMMUNE_LEADER, "⏸ Tắt tổng hợp")
    assert "📊 Tổng hợp: hằng tuần, Thứ Hai 07:30 (đang tắt)" in seen.text


async def test_garbled_and_stale_schedule_data(bot: Harness) -> None:
    tree = await cell_with_group(bot)
    reminder = await row_of(bot, tree.cell, ScheduleKind.REMINDER)
    await bot.say(SON, "/schedule")
    message_id = bot.fake.last_message(SON)["message_id"]
    stale = "Nút này đã cũ; đồng chí gõ /schedule để xem lịch hiện tại."
    for data in ("sc:", "sc:off", "sc:off:x", "sc:zz:1", f"sc:off:{reminder.id}:1",
                 f"sc:em:{reminder.id}", f"sc:d:{reminder.id}:9", f"sc:t:{reminder.id}:2599",
                 f"sc:rmy:{reminder.id}", "sc:off:99999999999999999999999"):
        seen = await bot.press_data(SON, message_id, data, check_button=False)
        assert seen.toast == stale, data
    seen = await bot.press_data(SON, message_id, "sc:off:987654", check_button=False)
    assert seen.toast == "Lịch này không còn; đồng chí gõ /schedule để xem lịch hiện tại."
    assert await row_of(bot, tree.cell, ScheduleKind.REMINDER) == reminder


def test_times_are_read_as_people_type_them() -> None:
    for typed, expected in (("7:30", dt.time(7, 30)), ("07:30", dt.time(7, 30)),
                            ("7h30", dt.time(7, 30)), ("7 giờ 30", dt.time(7, 30)),
                            ("18", dt.time(18)), ("6h", dt.time(6)), ("0:00", dt.time(0))):
        assert parse_time(typed) == expected, typed
    for typed in ("25:99", "24:00", "7:5", "7:60", "abc", "", "7:30:00", "-1"):
        assert parse_time(typed) is None, typed


def test_button_data_is_read_defensively() -> None:
    assert buttons.read("sc:t:12:730") == SetTime(12, 730)
    for data in ("sc:t:12", "sc:t:12:7:30", "xx:v:1", "sc:v:-1", "sc:v:1e3", "sc:v:",
                 "sc:t:12:2400", "sc:d:12:29"):
        assert buttons.read(data) is None, data
