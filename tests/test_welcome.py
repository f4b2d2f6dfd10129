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
