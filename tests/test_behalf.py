"""Báo cáo thay: a cell secretary enters the deeds of members who have no phone, and of members
who do (they are told), through the same report form; nobody else can."""

from __future__ import annotations

from pathlib import Path

from storage import audit, people
from storage.entities import Role
from tests.harness import CATALOGUE, Harness, Tree, as_read, started

SON, MAI, BINH, LAN, HANH, STRANGER, ADMIN = 3001, 3002, 3003, 3004, 3005, 3006, 3007
NEW = "➕ Thêm đồng chí chưa dùng Telegram"
VI = CATALOGUE.texts("vi")
CELL = "Chi bộ Thôn Bản Chặng"




async def _cell(bot: Harness) -> Tree:
    """Sơn leads Chi bộ Thôn Bản Chặng (Mai and Bình are members); Lan is a member of the
    sibling cell; Hạnh observes the commune."""
    tree = await bot.tree()
    await bot.appoint(SON, tree.cell, Role.LEADER, "Sơn")
    await bot.join(MAI, tree.cell, "Mai")
    await bot.join(BINH, tree.cell, "Bình")
    await bot.join(LAN, tree.sibling_cell, "Lan")
    await bot.appoint(HANH, tree.commune, Role.OBSERVER, "Hạnh")
    return tree


async def _reports(bot: Harness) -> list[dict]:
    async with bot.db.transaction() as tx:
        rows = await tx.all("SELECT person_id, unit_id, entered_by, description FROM reports"
                            " ORDER BY id")
    return [dict(r) for r in rows]


async def _fill_report(bot: Harness, user_id: int, text: str) -> None:
    """From the first step of a report form to the summary: date, field and text."""
    await bot.tap(user_id, "Hôm qua")
    await bot.tap(user_id, "Xã hội")
    summary = await bot.say(user_id, text)
    assert summary.shows("form.report.summary_title")


def _last_message_id(bot: Harness, user_id: int) -> int:
    last = bot.fake.last_message(user_id)
    assert last is not None
    return int(last["message_id"])


async def test_a_leader_reports_for_a_member_who_is_told(bot: Harness) -> None:
    tree = await _cell(bot)
    picker = await bot.say(SON, "/behalf")
    assert picker.shows("behalf.choose_member")
    assert bot.buttons(SON) == ["Bình", "Mai", NEW]

    first = await bot.tap(SON, "Mai")
    assert first.shows("behalf.report_header", name="Mai", unit=CELL)
    assert first.shows("form.report.deed_date.prompt")
    await bot.tap(SON, "Hôm qua")
    await bot.tap(SON, "Xã hội")
    await bot.say(SON, "Thăm hỏi, tặng quà gia đình chính sách thôn Bản Chặng")
    together = await bot.tap(SON, "➕ Thêm chi tiết")
    assert together.shows("form.report.participant_ids.prompt")
    # Mai is the author: she is not offered as her own co-participant; the leader is.
    assert "☐ Mai" not in bot.buttons(SON)
    assert {"☐ Bình", "☐ Sơn"} <= set(bot.buttons(SON))
    await bot.tap(SON, "☐ Bình")
    await bot.tap(SON, "Xong")
    await bot.skip_details(SON)
    sent = await bot.tap(SON, "✅ Gửi ngay")

    assert sent.shows("behalf.received", name="Mai")
    mai, son, binh = [await bot.person_id(u) for u in (MAI, SON, BINH)]
    assert await _reports(bot) == [{
        "person_id": mai, "unit_id": tree.cell, "entered_by": son,
        "description": "Thăm hỏi, tặng quà gia đình chính sách thôn Bản Chặng"}]
    async with bot.db.transaction() as tx:
        together_ids = await tx.all("SELECT person_id FROM report_participants")
        [logged] = await audit.entries(tx, "report_on_behalf")
    assert [r["person_id"] for r in together_ids] == [binh]
    assert logged["actor"] == f"person:{son}" and f"person:{mai}" in logged["detail"]

    assert bot.screen(MAI) == as_read(VI(
        "behalf.notice", leader="Sơn", date="26/11/2026",
        preview="Thăm hỏi, tặng quà gia đình chính sách thôn Bản Chặng"))

    # Mai finds it among her own reports, with who entered it.
    await bot.say(MAI, "/my")
    opened = await bot.tap(MAI, "1. 26/11")
    assert opened.shows("behalf.entered_by", name="Sơn")
    # Sơn's own list holds only what he reported himself.
    assert (await bot.say(SON, "/my")).shows("my.empty")


async def test_own_reports_do_not_name_who_entered_them(bot: Harness) -> None:
    await _cell(bot)
    await bot.say(MAI, "/report")
    await _fill_report(bot, MAI, "Dọn vệ sinh đường làng cùng đoàn thanh niên")
    await bot.tap(MAI, "✅ Gửi ngay")
    await bot.say(MAI, "/my")
    opened = await bot.tap(MAI, "1. 26/11")
    assert opened.shows("my.detail_title") and not opened.shows("behalf.entered_by")


async def test_a_member_without_a_phone_is_added_and_reported_for(bot: Harness) -> None:
    tree = await _cell(bot)
    await bot.say(SON, "/behalf")
    units = await bot.tap(SON, NEW)
    assert units.shows("behalf.choose_unit")
    assert bot.buttons(SON) == ["Chi bộ Thôn Bản Chặng", "Tổ đảng số 1"]
    asked = await bot.tap(SON, "Chi bộ Thôn Bản Chặng")
    assert asked.shows("behalf.new_member_header", unit=CELL)
    assert asked.shows("form.behalf_member.full_name.prompt")

    added = await bot.say(SON, "Nông Văn Tư")
    assert added.shows("behalf.member_added", name="Nông Văn Tư", unit=CELL)
    assert added.shows("behalf.report_header", name="Nông Văn Tư", unit=CELL)
    assert added.shows("form.report.deed_date.prompt")
    await _fill_report(bot, SON, "Phát quang đường vào thôn cùng bà con")
    sent = await bot.tap(SON, "✅ Gửi ngay")
    assert sent.shows("behalf.received", name="Nông Văn Tư")
    # Nobody else was written to: Tư has no Telegram.
    assert {c.params["chat_id"] for c in sent.calls} == {SON}

    son = await bot.person_id(SON)
    async with bot.db.transaction() as tx:
        tu = await tx.one("SELECT id, telegram_user_id FROM people WHERE full_name = ?",
                          ("Nông Văn Tư",))
        membership = await tx.one("SELECT unit_id, role, status, invite_id FROM memberships"
                                  " WHERE person_id = ?", (tu["id"],))
        [logged] = await audit.entries(tx, "add_member_without_telegram")
    assert tu["telegram_user_id"] is None
    assert dict(membership) == {"unit_id": tree.cell, "role": "member", "status": "active",
                                "invite_id": None}
    assert logged["actor"] == f"person:{son}" and logged["subject"] == f"person:{tu['id']}"
    [report] = await _reports(bot)
    assert (report["person_id"], report["entered_by"], report["unit_id"]) == (
        tu["id"], son, tree.cell)

    # Next time Tư is in the list, and Mai's own reporting is untouched by the NULLs.
    await bot.say(SON, "/behalf")
    assert "Nông Văn Tư" in bot.buttons(SON)
    await bot.say(MAI, "/report")
    await _fill_report(bot, MAI, "Vận động bà con hiến đất làm đường liên thôn")
    summary = bot.screen(MAI)
    assert "Nông Văn Tư" not in summary
    assert (await bot.tap(MAI, "✅ Gửi ngay")).shows("report.received")


async def test_two_members_without_telegram_in_a_cell_with_no_tổ(bot: Harness) -> None:
    cell = await bot.unit("Chi bộ Thôn Nà Pá")
    await bot.appoint(SON, cell, Role.LEADER, "Sơn")
    empty = await bot.say(SON, "/behalf")
    assert empty.shows("behalf.nobody_yet")
    for name in ("Lý Thị Hạnh", "Hoàng Văn Páo"):
        # One unit: no unit to choose, the name straight away.
        asked = await bot.tap(SON, NEW)
        assert asked.shows("behalf.new_member_header", unit="Chi bộ Thôn Nà Pá")
        await bot.say(SON, name)
        await bot.tap(SON, "✖ Hủy")  # the report can wait; the member stays
    async with bot.db.transaction() as tx:
        rows = await tx.all("SELECT full_name FROM people WHERE telegram_user_id IS NULL"
                            " ORDER BY id")
    assert [r["full_name"] for r in rows] == ["Lý Thị Hạnh", "Hoàng Văn Páo"]
    await bot.say(SON, "/behalf")
    assert bot.buttons(SON) == ["Hoàng Văn Páo", "Lý Thị Hạnh", NEW]


async def test_names_are_checked_and_shown_safely(bot: Harness) -> None:
    await _cell(bot)
    await bot.say(SON, "/behalf")
    await bot.tap(SON, NEW)
    await bot.tap(SON, "Tổ đảng số 1")
    assert (await bot.say(SON, "   ")).shows("form.problem.empty")
    assert (await bot.say(SON, "🌸🌸🌸")).shows("form.problem.no_letters")
    assert (await bot.say(SON, "T")).shows("form.behalf_member.full_name.too_short")
    assert (await bot.say(SON, "Nông " * 30)).shows("form.problem.too_long", length=149, max=100)
    sticker = await bot.send(SON, "sticker")
    assert sticker.shows("form.problem.unexpected", step=VI("form.behalf_member.full_name.short"),
                         hint=VI("form.hint.text"))
    added = await bot.say(SON, "<b>Nông</b> Văn Tư 🌾")
    assert "&lt;b&gt;Nông&lt;/b&gt; Văn Tư 🌾" in added.html
    async with bot.db.transaction() as tx:
        rows = await tx.all("SELECT full_name FROM people WHERE telegram_user_id IS NULL")
    assert [r["full_name"] for r in rows] == ["<b>Nông</b> Văn Tư 🌾"]


async def test_members_observers_and_strangers_cannot_report_for_others(bot: Harness) -> None:
    tree = await _cell(bot)
    bot.person(STRANGER, "Khách")
    for user_id in (MAI, HANH):
        refused = await bot.say(user_id, "/behalf")
        assert refused.shows("behalf.leaders_only")
    assert (await bot.say(STRANGER, "/behalf")).shows("access.not_member")
    # A member forging the button of a /members card gets nowhere either.
    binh = await bot.person_id(BINH)
    forged = await bot.press_data(MAI, _last_message_id(bot, MAI), f"ob:for:{binh}",
                                  check_button=False)
    assert forged.shows("behalf.leaders_only")
    forged_unit = await bot.press_data(HANH, _last_message_id(bot, HANH),
                                       f"ob:unit:{tree.cell}", check_button=False)
    assert forged_unit.shows("behalf.leaders_only")
    async with bot.db.transaction() as tx:
        refused_log = await audit.entries(tx, "refused")
        assert await tx.one("SELECT id FROM drafts WHERE form = 'report'") is None
    assert [e["actor"] for e in refused_log] == [
        f"tg:{MAI}", f"tg:{HANH}", f"tg:{STRANGER}", f"tg:{MAI}", f"tg:{HANH}"]
    assert {e["subject"] for e in refused_log} == {"report_on_behalf"}


async def test_forged_buttons_for_another_cell_are_refused_and_logged(bot: Harness) -> None:
    tree = await _cell(bot)
    await bot.say(SON, "/behalf")
    message = _last_message_id(bot, SON)
    lan = await bot.person_id(LAN)
    forged = await bot.press_data(SON, message, f"ob:for:{lan}", check_button=False)
    assert forged.shows("access.denied")
    forged_unit = await bot.press_data(SON, message, f"ob:unit:{tree.sibling_cell}",
                                       check_button=False)
    assert forged_unit.shows("access.denied")
    async with bot.db.transaction() as tx:
        logged = await audit.entries(tx, "refused")
        assert await tx.one("SELECT id FROM drafts") is None
    assert [e["detail"] for e in logged] == [f"unit:{tree.sibling_cell} person:{lan}",
                                             f"unit:{tree.sibling_cell}"]
    son = await bot.person_id(SON)
    for data in ("ob:for:abc", "ob:for", "ob:fly:1", "ob:for:99999", "ob:unit:99999",
                 f"ob:for:{son}", "ob:for:-1"):
        seen = await bot.press_data(SON, message, data, check_button=False)
        assert seen.toast, data
        assert seen.calls == [], data
    own = await bot.press_data(SON, message, f"ob:for:{son}", check_button=False)
    assert own.shows("behalf.self")
    async with bot.db.transaction() as tx:
        logged = await audit.entries(tx, "refused")
    assert logged[-1]["detail"] == f"unit:{tree.cell} person:{son}"


async def test_a_higher_leader_sees_every_cell_and_pages_through(bot: Harness) -> None:
    tree = await _cell(bot)
    await bot.appoint(ADMIN, tree.commune, Role.LEADER, "Thảo")
    async with bot.db.transaction() as tx:
        for n in range(10):
            person = await people.add_person(tx, None, f"Đảng viên {n:02d}", "vi",
                                             bot.clock.now())
            await people.add_membership(tx, person.id, tree.group, Role.MEMBER, None,
                                        bot.clock.now())
    first = await bot.say(ADMIN, "/behalf")
    assert first.shows("button.page", page=1, pages=2)
    # Unit by unit, by name: the cell's leader too, who may have a deed to be entered.
    assert bot.buttons(ADMIN)[:4] == ["Bình · Chi bộ Thôn Bản Chặng",
                                      "Mai · Chi bộ Thôn Bản Chặng",
                                      "Sơn · Chi bộ Thôn Bản Chặng", "Lan · Chi bộ Thôn Nà Pá"]
    assert bot.buttons(ADMIN)[-2:] == ["Trang sau ▶", NEW]
    second = await bot.tap(ADMIN, "Trang sau ▶")
    assert second.shows("button.page", page=2, pages=2)
    assert bot.buttons(ADMIN)[-3:] == ["Đảng viên 09 · Tổ đảng số 1", "◀ Trang trước", NEW]
    await bot.tap(ADMIN, "◀ Trang trước")
    started_form = await bot.tap(ADMIN, "Lan · Chi bộ Thôn Nà Pá")
    assert started_form.shows("behalf.report_header", name="Lan", unit="Chi bộ Thôn Nà Pá")


async def test_a_leader_whose_role_is_taken_away_cannot_send(bot: Harness) -> None:
    await _cell(bot)
    await bot.say(SON, "/behalf")
    await bot.tap(SON, "Mai")
    await _fill_report(bot, SON, "Hướng dẫn bà con trồng rừng theo mô hình mới")
    son = await bot.person_id(SON)
    async with bot.db.transaction() as tx:
        await tx.run("UPDATE memberships SET status = 'removed' WHERE person_id = ?", (son,))
    sent = await bot.tap(SON, "✅ Gửi ngay")
    assert sent.shows("behalf.no_longer_allowed", name="Mai")
    assert await _reports(bot) == []
    async with bot.db.transaction() as tx:
        assert await tx.one("SELECT id FROM drafts") is None
    assert not bot.told(MAI, "behalf.notice")


async def test_a_member_who_left_mid_form_is_not_reported_for(bot: Harness) -> None:
    await _cell(bot)
    await bot.say(SON, "/behalf")
    await bot.tap(SON, "Bình")
    await bot.tap(SON, "Hôm qua")
    binh = await bot.person_id(BINH)
    async with bot.db.transaction() as tx:
        await tx.run("UPDATE memberships SET status = 'removed' WHERE person_id = ?", (binh,))
    gone = await bot.tap(SON, "Xã hội")
    assert gone.shows("behalf.member_gone", name="Bình")
    assert await _reports(bot) == []


async def test_cancelling_keeps_nothing_and_own_drafts_are_not_lost(bot: Harness) -> None:
    await _cell(bot)
    await bot.say(SON, "/behalf")
    await bot.tap(SON, "Mai")
    await bot.tap(SON, "Hôm qua")
    cancelled = await bot.tap(SON, "✖ Hủy")
    assert cancelled.shows("form.report.cancelled")
    await bot.say(SON, "/behalf")
    await bot.tap(SON, NEW)
    await bot.tap(SON, "Chi bộ Thôn Bản Chặng")
    assert (await bot.say(SON, "/cancel")).shows("form.behalf_member.cancelled")
    async with bot.db.transaction() as tx:
        assert await tx.one("SELECT id FROM people WHERE telegram_user_id IS NULL") is None
        assert await tx.one("SELECT id FROM drafts") is None
    assert await _reports(bot) == []

    # Sơn's own report under way is not thrown away by a report for Mai.
    await bot.begin_report(SON, description="Tuyên truyền phòng chống cháy rừng ở thôn")
    await bot.say(SON, "/behalf")
    busy = await bot.tap(SON, "Mai")
    assert busy.shows("form.report.busy")
    assert not busy.shows("behalf.report_header")
    async with bot.db.transaction() as tx:
        draft = await tx.one("SELECT state FROM drafts")
    assert "Tuyên truyền phòng chống cháy rừng" in draft["state"]


async def test_an_admin_without_a_person_is_asked_to_join_first(tmp_path: Path) -> None:
    async with started(tmp_path, admins=[ADMIN]) as bot:
        await _cell(bot)
        bot.person(ADMIN, "Quản trị")
        asked = await bot.say(ADMIN, "/behalf")
        assert asked.shows("behalf.needs_person")
