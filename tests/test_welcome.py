"""/help and the main menu say what each role can do: members, leaders, observers, admins."""

from __future__ import annotations

from pathlib import Path

from storage.entities import Role
from tests.harness import Harness, started

MAI, SON, LAN, ADMIN = 3101, 3102, 3103, 3104
LEADER_ROW = ["✅ Ghi nhận báo cáo", "👥 Đảng viên", "✉ Mời tham gia"]


async def test_a_member_reads_the_members_help(bot: Harness) -> None:
    tree = await bot.tree()
    await bot.join(MAI, tree.cell, "Mai")
    seen = await bot.say(MAI, "/help")
    assert seen.shows("help.member") and not seen.shows("help.leader")
    assert LEADER_ROW not in (bot.fake.reply_keyboard(MAI) or [])


async def test_a_leader_reads_both_and_gets_the_leaders_row(bot: Harness) -> None:
    tree = await bot.tree()
    await bot.appoint(SON, tree.cell, Role.LEADER, "Sơn")
    seen = await bot.say(SON, "/help")
    assert seen.shows("help.member") and seen.shows("help.leader")
    assert (bot.fake.reply_keyboard(SON) or [])[-1] == LEADER_ROW


async def test_an_observer_reads_what_they_can_see(bot: Harness) -> None:
    tree = await bot.tree()
    await bot.appoint(LAN, tree.province, Role.OBSERVER, "Lan")
    seen = await bot.say(LAN, "/help")
    assert seen.shows("help.observer") and not seen.shows("help.member")
    assert "📝" not in seen.text
    assert bot.fake.reply_keyboard(LAN) == [["📊 Thống kê", "📤 Xuất dữ liệu"],
                                            ["🏅 Mô hình", "✍ Cam kết", "❓ Hướng dẫn"]]


async def test_an_admin_without_a_unit_is_welcomed_as_a_leader(tmp_path: Path) -> None:
    async with started(tmp_path, admins=[ADMIN]) as bot:
        bot.person(ADMIN, "Quản trị")
        hello = await bot.say(ADMIN, "/start")
        assert not hello.shows("access.not_member") and not hello.shows("help.stranger")
        seen = await bot.say(ADMIN, "/help")
        assert seen.shows("help.leader")
        assert (bot.fake.reply_keyboard(ADMIN) or [])[-1] == LEADER_ROW


async def test_a_button_the_bot_does_not_know_is_said_to_be_out_of_date(bot: Harness) -> None:
    """Data no flow declared is an old (or forged) button, not a form that ended; a press on a
    form that did end still says so."""
    tree = await bot.tree()
    await bot.join(MAI, tree.cell, "Mai")
    await bot.say(MAI, "/report")
    message_id, old_form_button = bot.button(MAI, "Hôm nay")
    for data in ("zz:1", "x", "' OR 1=1 --"):
        seen = await bot.press_data(MAI, message_id, data, check_button=False)
        assert seen.shows("fallback.old_button") and not seen.shows("form.ended"), data
    await bot.say(MAI, "/cancel")
    ended = await bot.press_data(MAI, message_id, old_form_button, check_button=False)
    assert ended.shows("form.ended")
