"""✍ Cam kết: a member registers the year's commitment, corrects it, assesses it from 1/12;
leaders see who registered (x/y) and remind the rest; observers only look."""

from __future__ import annotations

from bot.forms.engine import list_items
from storage import audit
from storage.entities import Role
from tests.harness import Harness, Tree

MAI, BINH, HANH, TUAN, SON, LAN, NGA = 3001, 3002, 3003, 3004, 3005, 3006, 3007
PLEDGE = "Giữ gìn phẩm chất đạo đức, lối sống; gương mẫu thực hiện nhiệm vụ được giao."
ACTIONS = ("1. Tham gia ngày Chủ nhật xanh hằng tháng\n\n"
           "- Giúp đỡ hộ nghèo thôn Bản Chặng\n\n\n"
           "Đọc sách về Bác mỗi quý")
STORED_ACTIONS = ("Tham gia ngày Chủ nhật xanh hằng tháng\n"
                  "Giúp đỡ hộ nghèo thôn Bản Chặng\n"
                  "Đọc sách về Bác mỗi quý")


async def _register(bot: Harness, user_id: int, actions: str = ACTIONS,
                    pledge: str = PLEDGE) -> str:
    await bot.say(user_id, "/commit")
    await bot.say(user_id, pledge)
    await bot.say(user_id, actions)
    return (await bot.tap(user_id, "✅ Gửi")).text


async def _rows(bot: Harness) -> list[tuple]:
    async with bot.db.transaction() as tx:
        rows = await tx.all("SELECT c.year, p.telegram_user_id, c.unit_id, c.pledge, c.actions,"
                            " c.self_rating FROM commitments c JOIN people p"
                            " ON p.id = c.person_id ORDER BY c.id")
    return [tuple(r) for r in rows]


async def _log(bot: Harness, action: str) -> list[dict]:
    async with bot.db.transaction() as tx:
        return await audit.entries(tx, action)


async def _commitment_id(bot: Harness, user_id: int) -> int:
    async with bot.db.transaction() as tx:
        row = await tx.one("SELECT c.id FROM commitments c JOIN people p ON p.id = c.person_id"
                           " WHERE p.telegram_user_id = ?", (user_id,))
    assert row is not None
    return int(row["id"])


async def _cell(bot: Harness) -> Tree:
    """Chi bộ Thôn Bản Chặng: Mai, Bình, Tuấn (excused) and Hạnh in its tổ; Sơn leads it (and
    reports there, so he counts too); Lan observes the commune; Nga is a member of the
    neighbouring cell."""
    tree = await bot.tree()
    await bot.join(MAI, tree.cell, "Mai")
    await bot.join(BINH, tree.cell, "Bình")
    await bot.join(TUAN, tree.cell, "Tuấn")
    await bot.join(HANH, tree.group, "Hạnh")
    await bot.join(NGA, tree.sibling_cell, "Nga")
    await bot.appoint(SON, tree.cell, Role.LEADER, "Sơn")
    await bot.appoint(LAN, tree.commune, Role.OBSERVER, "Lan")
    async with bot.db.transaction() as tx:
        await tx.run("UPDATE memberships SET excused = 1 WHERE person_id ="
                     " (SELECT id FROM people WHERE telegram_user_id = ?)", (TUAN,))
    return tree


def test_actions_are_one_a_line_without_blank_lines_or_numbering() -> None:
    assert list_items(ACTIONS) == STORED_ACTIONS.split("\n")
    assert list_items("2 buổi mỗi tuần đi cơ sở\n• Trồng cây\n3.Ủng hộ 1.5 triệu\n") == [
        "2 buổi mỗi tuần đi cơ sở", "Trồng cây", "Ủng hộ 1.5 triệu"]
    assert list_items("1.5 triệu đồng cho quỹ vì người nghèo") == [
        "1.5 triệu đồng cho quỹ vì người nghèo"]


async def test_a_member_registers_her_commitment_despite_slips(bot: Harness) -> None:
    tree = await _cell(bot)
    opened = await bot.say(MAI, "✍ Cam kết")
    assert "Đồng chí chưa có bản cam kết năm 2026" in opened.text
    assert "Bước 1/2" in opened.text and "tu dưỡng, rèn luyện, phấn đấu" in opened.text
    short = await bot.say(MAI, "Sống tốt")
    assert "Bản cam kết hơi ngắn (8 ký tự)" in short.text
    sticker = await bot.send(MAI, "sticker")
    assert "Đồng chí đang ở bước “bản cam kết”" in sticker.text
    asked = await bot.say(MAI, PLEDGE)
    assert "mỗi việc một dòng" in asked.text and "Bước 2/2" in asked.text
    twelve = "\n".join(f"Việc làm số {n} trong năm" for n in range(1, 13))
    refused = await bot.say(MAI, twelve)
    assert "Đồng chí đăng ký 12 việc; mỗi năm đăng ký tối đa 10 việc" in refused.text
    assert "mỗi việc một dòng" in refused.text, "still at the step, answers kept"
    assert await _rows(bot) == []
    tiny = await bot.say(MAI, "Trồng cây xanh\nOK")
    assert "Việc thứ 2 hơi ngắn" in tiny.text
    summary = await bot.say(MAI, ACTIONS)
    assert "kiểm tra lại bản cam kết" in summary.text
    message_id, data = bot.button(MAI, "✅ Gửi")
    done = await bot.press_data(MAI, message_id, data)
    assert "Đã ghi nhận bản cam kết năm 2026" in done.text
    again = await bot.press_data(MAI, message_id, data, check_button=False)
    assert again.toast == "Biểu mẫu này đã kết thúc."
    assert await _rows(bot) == [(2026, MAI, tree.cell, PLEDGE, STORED_ACTIONS, None)]
    [created] = await _log(bot, "commit_create")
    assert created["detail"] == "year:2026" and created["actor"].startswith("person:")


async def test_she_sees_it_numbered_and_corrects_it(bot: Harness) -> None:
    await _cell(bot)
    await _register(bot, MAI, pledge="Cam kết <b>luôn</b> gương mẫu & tận tụy với dân")
    shown = await bot.say(MAI, "/commit")
    assert "Cam kết năm 2026 của đồng chí (đăng ký ngày 27/11/2026)" in shown.text
    assert "Cam kết <b>luôn</b> gương mẫu & tận tụy với dân" in shown.text, "shown as typed"
    assert "1. Tham gia ngày Chủ nhật xanh hằng tháng\n2. Giúp đỡ hộ nghèo" in shown.text
    assert "3. Đọc sách về Bác mỗi quý" in shown.text
    assert "Từ ngày 01/12/2026, đồng chí tự đánh giá" in shown.text
    assert bot.buttons(MAI) == ["✏ Sửa cam kết"]
    summary = await bot.tap(MAI, "✏ Sửa cam kết")
    assert "gương mẫu & tận tụy" in summary.text and "✅ Gửi" in bot.buttons(MAI)
    assert "1. Tham gia ngày Chủ nhật xanh hằng tháng\n2. Giúp đỡ" in summary.text
    await bot.tap(MAI, "✏ Sửa việc đăng ký")
    await bot.say(MAI, "Tham gia ngày Chủ nhật xanh\nVận động bà con hiến đất làm đường")
    done = await bot.tap(MAI, "✅ Gửi")
    assert "Đã cập nhật bản cam kết năm 2026" in done.text
    [row] = await _rows(bot)
    assert row[4] == "Tham gia ngày Chủ nhật xanh\nVận động bà con hiến đất làm đường"
    assert len(await _log(bot, "commit_edit")) == 1
    await bot.say(MAI, "/commit")
    await bot.tap(MAI, "✏ Sửa cam kết")
    await bot.tap(MAI, "✏ Sửa bản cam kết")
    await bot.say(MAI, "Luôn gương mẫu, giữ gìn phẩm chất đạo đức, lối sống.")
    await bot.tap(MAI, "✅ Gửi")
    [row] = await _rows(bot)
    assert row[3:5] == ("Luôn gương mẫu, giữ gìn phẩm chất đạo đức, lối sống.",
                        "Tham gia ngày Chủ nhật xanh\nVận động bà con hiến đất làm đường")
    cancelled = await bot.tap(MAI, "✏ Sửa cam kết")
    assert "✅ Gửi" in bot.buttons(MAI) and cancelled.text
    assert "bản cam kết vẫn giữ nguyên" in (await bot.tap(MAI, "✖ Hủy")).text


async def test_the_self_assessment_opens_on_the_first_of_december(bot: Harness) -> None:
    await _cell(bot)
    await _register(bot, MAI)
    commitment = await _commitment_id(bot, MAI)
    await bot.say(MAI, "/commit")
    assert "📝 Tự đánh giá" not in bot.buttons(MAI)
    message_id = bot.fake.last_message(MAI)["message_id"]
    forged = await bot.press_data(MAI, message_id, f"cm:assess:{commitment}",
                                  check_button=False)
    assert forged.toast == "Phần tự đánh giá mở từ ngày 01/12/2026."
    bot.clock.advance(days=4)
    await bot.say(MAI, "/commit")
    assert bot.buttons(MAI) == ["✏ Sửa cam kết", "📝 Tự đánh giá"]
    asked = await bot.tap(MAI, "📝 Tự đánh giá")
    assert "tự đánh giá mức độ thực hiện" in asked.text
    assert bot.buttons(MAI)[:4] == ["Hoàn thành xuất sắc nhiệm vụ", "Hoàn thành tốt nhiệm vụ",
                                    "Hoàn thành nhiệm vụ", "Không hoàn thành nhiệm vụ"]
    await bot.tap(MAI, "Hoàn thành tốt nhiệm vụ")
    assert "hơi ngắn" in (await bot.say(MAI, "Tốt")).text
    await bot.say(MAI, "Đã làm được cả ba việc đăng ký; còn chậm trong việc đọc sách.")
    done = await bot.tap(MAI, "✅ Gửi")
    assert "Đã ghi nhận phần tự đánh giá năm 2026 của đồng chí: Hoàn thành tốt nhiệm vụ" in (
        done.text)
    [row] = await _rows(bot)
    assert row[5] == "good"
    shown = await bot.say(MAI, "/commit")
    assert "📝 Tự đánh giá (ngày 01/12/2026): Hoàn thành tốt nhiệm vụ" in shown.text
    assert "còn chậm trong việc đọc sách" in shown.text
    assert bot.buttons(MAI) == ["✏ Sửa cam kết", "✏ Sửa tự đánh giá"]
    [assessed] = await _log(bot, "commit_assess")
    assert assessed["detail"] == "year:2026 rating:good"


async def test_a_leader_sees_who_registered_and_reminds_the_rest(bot: Harness) -> None:
    tree = await _cell(bot)
    await _register(bot, MAI)
    seen = await bot.say(SON, "/commit")
    assert "Chi bộ Thôn Bản Chặng: 1/4 đồng chí đã đăng ký cam kết năm 2026" in seen.text
    assert "Chưa đăng ký: Bình, Sơn" in seen.text, "Tuấn is excused, Mai registered"
    assert "Tổ đảng số 1: 0/1 đồng chí" in seen.text and "Chưa đăng ký: Hạnh" in seen.text
    assert "Tuấn" not in seen.text and "Nà Pá" not in seen.text
    assert "Đồng chí chưa có bản cam kết năm 2026" in seen.text, "his own form below"
    asked = await bot.tap(SON, "🔔 Nhắc các đồng chí chưa đăng ký")
    assert "Gửi lời nhắc đăng ký cam kết tới 2 đồng chí" in asked.text
    done = await bot.tap(SON, "✅ Gửi lời nhắc")
    assert "Đã gửi lời nhắc tới 2 đồng chí của Chi bộ Thôn Bản Chặng" in done.text
    for user_id, name in ((BINH, "Bình"), (HANH, "Hạnh")):
        notice = bot.screen(user_id)
        assert f"Kính gửi đồng chí {name}" in notice and "năm 2026" in notice
    assert "Kính gửi" not in bot.screen(TUAN) and "Kính gửi" not in bot.screen(MAI)
    assert "Kính gửi" not in bot.screen(NGA)
    [reminded] = await _log(bot, "commit_remind")
    assert reminded["subject"] == f"unit:{tree.cell}" and "sent:2" in reminded["detail"]
    opened = await bot.tap(BINH, "✍ Đăng ký cam kết")
    assert "Đồng chí chưa có bản cam kết năm 2026" in opened.text
    await bot.say(BINH, PLEDGE)
    await bot.say(BINH, ACTIONS)
    await bot.tap(BINH, "✅ Gửi")
    again = await bot.say(SON, "/commit")
    assert "Chi bộ Thôn Bản Chặng: 2/4 đồng chí" in again.text
    await bot.tap(SON, "🔔 Nhắc các đồng chí chưa đăng ký")
    soon = await bot.tap(SON, "✅ Gửi lời nhắc")
    assert "đã được nhắc lúc 09:00 ngày 27/11/2026" in soon.text
    assert len(await _log(bot, "commit_remind")) == 1


async def test_no_reminders_at_night_nor_to_members_without_telegram(bot: Harness) -> None:
    await _cell(bot)
    async with bot.db.transaction() as tx:
        await tx.run("UPDATE people SET unreachable = 1 WHERE telegram_user_id = ?", (HANH,))
    bot.clock.advance(hours=13)  # 22:00
    await bot.say(SON, "/commit")
    night = await bot.tap(SON, "🔔 Nhắc các đồng chí chưa đăng ký")
    assert "không nhắn tin cho các đồng chí từ 21 giờ tối đến 7 giờ sáng" in night.text
    bot.clock.advance(hours=10)  # 08:00 the next day
    asked = await bot.tap(SON, "🔔 Nhắc các đồng chí chưa đăng ký")
    assert "tới 2 đồng chí" in asked.text and "Không nhắn được qua Lan Tỏa: Hạnh" in asked.text
    done = await bot.tap(SON, "✅ Gửi lời nhắc")
    assert "Đã gửi lời nhắc tới 2 đồng chí" in done.text and "nhắc trực tiếp giúp: Hạnh" in (
        done.text)
    assert "Kính gửi" not in bot.screen(HANH)
    assert "Kính gửi đồng chí Mai" in bot.screen(MAI)


async def test_an_observer_sees_the_commune_without_the_button(bot: Harness) -> None:
    tree = await _cell(bot)
    await _register(bot, NGA)
    seen = await bot.say(LAN, "/commit")
    assert "Đảng bộ xã Tràng Định: 2/5 đồng chí đã đăng ký cam kết năm 2026" not in seen.text
    assert "Đảng bộ xã Tràng Định: 1/5 đồng chí đã đăng ký cam kết năm 2026" in seen.text
    assert "• Chi bộ Thôn Bản Chặng: 0/4" in seen.text
    assert "• Chi bộ Thôn Nà Pá: 1/1" in seen.text
    assert "Chưa đăng ký: Bình, Mai, Sơn" in seen.text
    assert bot.buttons(LAN) == []
    message_id = bot.fake.last_message(LAN)["message_id"]
    forged = await bot.press_data(LAN, message_id, f"cm:remind_yes:{tree.cell}",
                                  check_button=False)
    assert forged.toast and "thực hiện được" in forged.toast
    assert "Kính gửi" not in bot.screen(MAI)
    [refused] = await _log(bot, "refused")
    assert refused["subject"] == "commit_remind" and refused["actor"] == f"tg:{LAN}"


async def test_forged_presses_are_refused_and_logged(bot: Harness) -> None:
    tree = await _cell(bot)
    await _register(bot, MAI)
    mine = await _commitment_id(bot, MAI)
    await bot.say(BINH, "/commit")
    message_id = bot.fake.last_message(BINH)["message_id"]
    theirs = await bot.press_data(BINH, message_id, f"cm:edit:{mine}", check_button=False)
    assert theirs.toast and "thực hiện được" in theirs.toast
    await bot.say(SON, "/commit")
    leader_message = bot.fake.last_message(SON)["message_id"]
    elsewhere = await bot.press_data(SON, leader_message, f"cm:remind:{tree.sibling_cell}",
                                     check_button=False)
    assert elsewhere.toast and "thực hiện được" in elsewhere.toast
    assessed = await bot.press_data(SON, leader_message, f"cm:assess:{mine}",
                                    check_button=False)
    assert assessed.toast and "thực hiện được" in assessed.toast
    refused = await _log(bot, "refused")
    assert [r["subject"] for r in refused] == ["commit", "commit_remind", "commit"]
    for garbled in ("cm:edit:abc", "cm:zzz:1", "cm:edit:99999", "cm:", "cm:remind:-1"):
        seen = await bot.press_data(MAI, message_id, garbled, check_button=False)
        assert seen.toast in ("Không tìm thấy bản cam kết này.",
                              "Việc này không thuộc phạm vi phụ trách của đồng chí nên chưa thực "
                              "hiện được. Nếu cần, đồng chí liên hệ bí thư chi bộ nhé."), garbled
    stranger = await bot.say(bot.person(9999, "Khách"), "/commit")
    assert "xin đường link mời" in stranger.text
    assert await _rows(bot) == [(2026, MAI, tree.cell, PLEDGE, STORED_ACTIONS, None)]


async def test_a_new_year_asks_for_a_new_commitment(bot: Harness) -> None:
    await _cell(bot)
    await _register(bot, MAI)
    await bot.say(MAI, "/commit")
    old_message, old_edit = bot.button(MAI, "✏ Sửa cam kết")
    bot.clock.advance(days=35)  # 01/01/2027
    opened = await bot.say(MAI, "/commit")
    assert "Đồng chí chưa có bản cam kết năm 2027" in opened.text
    await bot.say(MAI, "/cancel")
    stale = await bot.press_data(MAI, old_message, old_edit)
    assert stale.toast == "Bản cam kết năm 2026 đã hết thời hạn chỉnh sửa."
    await _register(bot, MAI, pledge="Năm 2027 tiếp tục rèn luyện, gương mẫu trong công tác.")
    assert [row[0] for row in await _rows(bot)] == [2026, 2027]
