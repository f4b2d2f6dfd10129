"""✍ Cam kết: a member registers the year's commitment, corrects it, assesses it from 1/12;
leaders see who registered (x/y) and remind the rest; observers only look."""

from __future__ import annotations

from bot.flows.commitments import PLEDGE_MIN
from bot.forms.engine import list_items
from storage import audit
from storage.entities import Role
from tests.harness import CATALOGUE, Harness, Seen, Tree, as_read

MAI, BINH, HANH, TUAN, SON, LAN, NGA = 3001, 3002, 3003, 3004, 3005, 3006, 3007
PLEDGE = "Giữ gìn phẩm chất đạo đức, lối sống; gương mẫu thực hiện nhiệm vụ được giao."
ACTIONS = ("1. Tham gia ngày Chủ nhật xanh hằng tháng\n\n"
           "- Giúp đỡ hộ nghèo thôn Bản Chặng\n\n\n"
           "Đọc sách về Bác mỗi quý")
STORED_ACTIONS = ("Tham gia ngày Chủ nhật xanh hằng tháng\n"
                  "Giúp đỡ hộ nghèo thôn Bản Chặng\n"
                  "Đọc sách về Bác mỗi quý")
VI = CATALOGUE.texts("vi")
CELL = "Chi bộ Thôn Bản Chặng"




def _reminded(bot: Harness, user_id: int, name: str) -> bool:
    """The person's newest message is the reminder to register, addressed to them."""
    return bot.screen(user_id) == as_read(VI("commitments.remind_notice", name=name, year=2026))


def _registered(seen: Seen, unit: str, registered: int, expected: int, top: bool = True) -> bool:
    """The overview's x/y line of a unit (the unit at the top, or one below it)."""
    return seen.shows("commitments.overview_root" if top else "commitments.overview_unit",
                      indent="", unit=unit, registered=registered, expected=expected, year=2026)


async def _register(bot: Harness, user_id: int, actions: str = ACTIONS,
                    pledge: str = PLEDGE) -> Seen:
    await bot.say(user_id, "/commit")
    await bot.say(user_id, pledge)
    await bot.say(user_id, actions)
    return await bot.tap(user_id, "✅ Gửi")


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
    assert opened.shows("commitments.intro", year=2026)
    assert opened.shows("form.progress", step=1, total=2)
    assert opened.shows("form.commitment.pledge.prompt")
    short = await bot.say(MAI, "Sống tốt")
    assert short.shows("form.commitment.pledge.too_short", length=8, min=PLEDGE_MIN)
    sticker = await bot.send(MAI, "sticker")
    assert sticker.shows("form.problem.unexpected", step=VI("form.commitment.pledge.short"),
                         hint=VI("form.commitment.pledge.hint"))
    asked = await bot.say(MAI, PLEDGE)
    assert asked.shows("form.commitment.actions.prompt")
    assert asked.shows("form.progress", step=2, total=2)
    twelve = "\n".join(f"Việc làm số {n} trong năm" for n in range(1, 13))
    refused = await bot.say(MAI, twelve)
    assert refused.shows("form.commitment.actions.too_many_items", count=12, max=10)
    assert refused.asks_again("form.commitment.actions.prompt"), "still at the step"
    assert refused.shows("form.progress", step=2, total=2)
    assert await _rows(bot) == []
    tiny = await bot.say(MAI, "Trồng cây xanh\nOK")
    assert tiny.shows("form.commitment.actions.item_too_short", number=2)
    summary = await bot.say(MAI, ACTIONS)
    assert summary.shows("form.commitment.summary_title")
    message_id, data = bot.button(MAI, "✅ Gửi")
    done = await bot.press_data(MAI, message_id, data)
    assert done.shows("commitments.registered", year=2026)
    again = await bot.press_data(MAI, message_id, data, check_button=False)
    assert again.shows("form.ended")
    assert await _rows(bot) == [(2026, MAI, tree.cell, PLEDGE, STORED_ACTIONS, None)]
    [created] = await _log(bot, "commit_create")
    assert created["detail"] == "year:2026" and created["actor"].startswith("person:")


async def test_help_mid_commitment_speaks_of_the_form_not_of_a_report(bot: Harness) -> None:
    await _cell(bot)
    await bot.say(MAI, "✍ Cam kết")
    await bot.say(MAI, PLEDGE)
    shown = await bot.say(MAI, "/help")
    assert shown.shows("form.draft_kept") and not shown.shows("form.report.draft_kept")
    assert "báo cáo" not in VI("form.draft_kept").lower(), "a commitment is not called a report"
    going_on = await bot.say(MAI, ACTIONS)
    assert going_on.shows("form.commitment.summary_title"), "the pledge was kept"


async def test_she_sees_it_numbered_and_corrects_it(bot: Harness) -> None:
    await _cell(bot)
    await _register(bot, MAI, pledge="Cam kết <b>luôn</b> gương mẫu & tận tụy với dân")
    shown = await bot.say(MAI, "/commit")
    assert shown.shows("commitments.own_title", year=2026, date="27/11/2026")
    assert "Cam kết <b>luôn</b> gương mẫu & tận tụy với dân" in shown.text, "shown as typed"
    assert "1. Tham gia ngày Chủ nhật xanh hằng tháng\n2. Giúp đỡ hộ nghèo" in shown.text
    assert "3. Đọc sách về Bác mỗi quý" in shown.text
    assert shown.shows("commitments.assessment_later", date="01/12/2026")
    assert bot.buttons(MAI) == ["✏ Sửa cam kết"]
    summary = await bot.tap(MAI, "✏ Sửa cam kết")
    assert "gương mẫu & tận tụy" in summary.text
    assert bot.buttons(MAI) == ["✅ Gửi", "✏ Sửa", "✖ Hủy"], "no details to add"
    assert "1. Tham gia ngày Chủ nhật xanh hằng tháng\n2. Giúp đỡ" in summary.text
    picker = await bot.tap(MAI, "✏ Sửa")
    assert picker.shows("form.pick_field")
    assert bot.buttons(MAI) == ["✏ Sửa bản cam kết", "✏ Sửa việc đăng ký", "◀ Quay lại"]
    await bot.tap(MAI, "✏ Sửa việc đăng ký")
    corrected = await bot.say(MAI,
                              "Tham gia ngày Chủ nhật xanh\nVận động bà con hiến đất làm đường")
    assert corrected.shows("form.commitment.summary_title")
    done = await bot.tap(MAI, "✅ Gửi")
    assert done.shows("commitments.corrected", year=2026)
    [row] = await _rows(bot)
    assert row[4] == "Tham gia ngày Chủ nhật xanh\nVận động bà con hiến đất làm đường"
    assert len(await _log(bot, "commit_edit")) == 1
    await bot.say(MAI, "/commit")
    await bot.tap(MAI, "✏ Sửa cam kết")
    await bot.edit_on_summary(MAI, "bản cam kết")
    await bot.say(MAI, "Luôn gương mẫu, giữ gìn phẩm chất đạo đức, lối sống.")
    await bot.tap(MAI, "✅ Gửi")
    [row] = await _rows(bot)
    assert row[3:5] == ("Luôn gương mẫu, giữ gìn phẩm chất đạo đức, lối sống.",
                        "Tham gia ngày Chủ nhật xanh\nVận động bà con hiến đất làm đường")
    cancelled = await bot.tap(MAI, "✏ Sửa cam kết")
    assert "✅ Gửi" in bot.buttons(MAI) and cancelled.text
    assert (await bot.tap(MAI, "✖ Hủy")).shows("form.commitment.correction_cancelled")


async def test_the_self_assessment_opens_on_the_first_of_december(bot: Harness) -> None:
    await _cell(bot)
    await _register(bot, MAI)
    commitment = await _commitment_id(bot, MAI)
    await bot.say(MAI, "/commit")
    assert "📝 Tự đánh giá" not in bot.buttons(MAI)
    message_id = bot.fake.last_message(MAI)["message_id"]
    forged = await bot.press_data(MAI, message_id, f"cm:assess:{commitment}",
                                  check_button=False)
    assert forged.shows("commitments.assessment_not_open", date="01/12/2026")
    bot.clock.advance(days=4)
    await bot.say(MAI, "/commit")
    assert bot.buttons(MAI) == ["✏ Sửa cam kết", "📝 Tự đánh giá"]
    asked = await bot.tap(MAI, "📝 Tự đánh giá")
    assert asked.shows("form.self_assessment.rating.prompt")
    assert bot.buttons(MAI)[:4] == ["Hoàn thành xuất sắc nhiệm vụ", "Hoàn thành tốt nhiệm vụ",
                                    "Hoàn thành nhiệm vụ", "Không hoàn thành nhiệm vụ"]
    await bot.tap(MAI, "Hoàn thành tốt nhiệm vụ")
    assert (await bot.say(MAI, "Tốt")).shows("form.self_assessment.text.too_short", length=3,
                                             min=PLEDGE_MIN)
    await bot.say(MAI, "Đã làm được cả ba việc đăng ký; còn chậm trong việc đọc sách.")
    done = await bot.tap(MAI, "✅ Gửi")
    good = VI("commitments.rating.good")
    assert done.shows("commitments.assessed", year=2026, rating=good)
    [row] = await _rows(bot)
    assert row[5] == "good"
    shown = await bot.say(MAI, "/commit")
    assert shown.shows("commitments.assessment_heading", date="01/12/2026", rating=good)
    assert "còn chậm trong việc đọc sách" in shown.text
    assert bot.buttons(MAI) == ["✏ Sửa cam kết", "✏ Sửa tự đánh giá"]
    [assessed] = await _log(bot, "commit_assess")
    assert assessed["detail"] == "year:2026 rating:good"


async def test_a_leader_sees_who_registered_and_reminds_the_rest(bot: Harness) -> None:
    tree = await _cell(bot)
    await _register(bot, MAI)
    seen = await bot.say(SON, "/commit")
    assert _registered(seen, CELL, 1, 4)
    assert seen.shows("commitments.overview_missing", indent="", names="Bình, Sơn"), \
        "Tuấn is excused, Mai registered"
    assert _registered(seen, "Tổ đảng số 1", 0, 1, top=False)
    assert seen.shows("commitments.overview_missing", indent="", names="Hạnh")
    assert "Tuấn" not in seen.text and "Nà Pá" not in seen.text
    assert seen.shows("commitments.intro", year=2026), "his own form below"
    asked = await bot.tap(SON, "🔔 Nhắc các đồng chí chưa đăng ký")
    assert asked.shows("commitments.remind_confirm", count=2, unit=CELL)
    done = await bot.tap(SON, "✅ Gửi lời nhắc")
    assert done.shows("commitments.reminded", count=2, unit=CELL)
    for user_id, name in ((BINH, "Bình"), (HANH, "Hạnh")):
        assert _reminded(bot, user_id, name)
    for user_id in (TUAN, MAI, NGA):
        assert not bot.told(user_id, "commitments.remind_notice")
    [reminded] = await _log(bot, "commit_remind")
    assert reminded["subject"] == f"unit:{tree.cell}" and "sent:2" in reminded["detail"]
    opened = await bot.tap(BINH, "✍ Đăng ký cam kết")
    assert opened.shows("commitments.intro", year=2026)
    await bot.say(BINH, PLEDGE)
    await bot.say(BINH, ACTIONS)
    await bot.tap(BINH, "✅ Gửi")
    again = await bot.say(SON, "/commit")
    assert _registered(again, CELL, 2, 4)
    await bot.tap(SON, "🔔 Nhắc các đồng chí chưa đăng ký")
    soon = await bot.tap(SON, "✅ Gửi lời nhắc")
    assert soon.shows("commitments.remind_recently", time="09:00", date="27/11/2026")
    assert len(await _log(bot, "commit_remind")) == 1


async def test_no_reminders_at_night_nor_to_members_without_telegram(bot: Harness) -> None:
    await _cell(bot)
    async with bot.db.transaction() as tx:
        await tx.run("UPDATE people SET unreachable = 1 WHERE telegram_user_id = ?", (HANH,))
    bot.clock.advance(hours=13)  # 22:00
    await bot.say(SON, "/commit")
    night = await bot.tap(SON, "🔔 Nhắc các đồng chí chưa đăng ký")
    assert night.shows("commitments.remind_quiet", start=21, end=7)
    bot.clock.advance(hours=10)  # 08:00 the next day
    asked = await bot.tap(SON, "🔔 Nhắc các đồng chí chưa đăng ký")
    assert asked.shows("commitments.remind_confirm", count=2, unit=CELL)
    assert asked.shows("commitments.remind_unreachable", names="Hạnh")
    done = await bot.tap(SON, "✅ Gửi lời nhắc")
    assert done.shows("commitments.reminded_some", count=2, unit=CELL, names="Hạnh")
    assert not bot.told(HANH, "commitments.remind_notice")
    assert bot.screen(MAI) == as_read(VI("commitments.remind_notice", name="Mai", year=2026))


async def test_an_observer_sees_the_commune_without_the_button(bot: Harness) -> None:
    tree = await _cell(bot)
    await _register(bot, NGA)
    seen = await bot.say(LAN, "/commit")
    assert not _registered(seen, "Đảng bộ xã Tràng Định", 2, 5)
    assert _registered(seen, "Đảng bộ xã Tràng Định", 1, 5)
    assert _registered(seen, CELL, 0, 4, top=False)
    assert _registered(seen, "Chi bộ Thôn Nà Pá", 1, 1, top=False)
    assert seen.shows("commitments.overview_missing", indent="", names="Bình, Mai, Sơn")
    assert bot.buttons(LAN) == []
    message_id = bot.fake.last_message(LAN)["message_id"]
    forged = await bot.press_data(LAN, message_id, f"cm:remind_yes:{tree.cell}",
                                  check_button=False)
    assert forged.shows("access.read_only", unit="Đảng bộ xã Tràng Định")
    assert not bot.told(MAI, "commitments.remind_notice")
    [refused] = await _log(bot, "refused")
    assert refused["subject"] == "commit_remind" and refused["actor"] == f"tg:{LAN}"


async def test_forged_presses_are_refused_and_logged(bot: Harness) -> None:
    tree = await _cell(bot)
    await _register(bot, MAI)
    mine = await _commitment_id(bot, MAI)
    await bot.say(BINH, "/commit")
    message_id = bot.fake.last_message(BINH)["message_id"]
    theirs = await bot.press_data(BINH, message_id, f"cm:edit:{mine}", check_button=False)
    assert theirs.shows("access.denied")
    await bot.say(SON, "/commit")
    leader_message = bot.fake.last_message(SON)["message_id"]
    elsewhere = await bot.press_data(SON, leader_message, f"cm:remind:{tree.sibling_cell}",
                                     check_button=False)
    assert elsewhere.shows("access.denied")
    assessed = await bot.press_data(SON, leader_message, f"cm:assess:{mine}",
                                    check_button=False)
    assert assessed.shows("access.denied")
    refused = await _log(bot, "refused")
    assert [r["subject"] for r in refused] == ["commit", "commit_remind", "commit"]
    for garbled in ("cm:edit:abc", "cm:zzz:1", "cm:edit:99999", "cm:", "cm:remind:-1"):
        seen = await bot.press_data(MAI, message_id, garbled, check_button=False)
        assert seen.shows("commitments.not_found") or seen.shows("access.denied"), garbled
    stranger = await bot.say(bot.person(9999, "Khách"), "/commit")
    assert stranger.shows("access.not_member")
    assert await _rows(bot) == [(2026, MAI, tree.cell, PLEDGE, STORED_ACTIONS, None)]


async def test_a_new_year_asks_for_a_new_commitment(bot: Harness) -> None:
    await _cell(bot)
    await _register(bot, MAI)
    await bot.say(MAI, "/commit")
    old_message, old_edit = bot.button(MAI, "✏ Sửa cam kết")
    bot.clock.advance(days=35)  # 01/01/2027
    opened = await bot.say(MAI, "/commit")
    assert opened.shows("commitments.intro", year=2027)
    await bot.say(MAI, "/cancel")
    stale = await bot.press_data(MAI, old_message, old_edit)
    assert stale.shows("commitments.not_editable", year=2026)
    await _register(bot, MAI, pledge="Năm 2027 tiếp tục rèn luyện, gương mẫu trong công tác.")
    assert [row[0] for row in await _rows(bot)] == [2026, 2027]
