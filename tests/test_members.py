"""👥 Đảng viên: a leader sees who is in the unit and who reported this week, and manages them:
excuse, move to the tổ đảng, give or take a leader role, remove; nobody else can."""

from __future__ import annotations

from pathlib import Path

from storage import audit, people
from storage.entities import Role
from tests.harness import CATALOGUE, Harness, Seen, Tree, as_read, started

SON, MAI, BINH, HANH, LAN, TUAN, OBS, CHI = 3001, 3002, 3003, 3004, 3005, 3006, 3007, 3008
ADMIN = 3999
VI = CATALOGUE.texts("vi")
CELL = "Chi bộ Thôn Bản Chặng"
WEEK = "23/11–29/11/2026"



def _listed(seen: Seen, count: int, reported: int = 0, unit: str = CELL,
            week: str = WEEK) -> bool:
    """The list's header: the unit, how many comrades, how many reported this week."""
    return seen.shows("members.header", unit=unit, count=count, reported=reported, week=week)


async def _cell(bot: Harness) -> Tree:
    """Sơn leads the cell; Mai, Bình and Hạnh are its members."""
    tree = await bot.tree()
    await bot.appoint(SON, tree.cell, Role.LEADER, "Hoàng Văn Sơn")
    await bot.join(MAI, tree.cell, "Hoàng Thị Mai")
    await bot.join(BINH, tree.cell, "Nông Văn Bình")
    await bot.join(HANH, tree.cell, "Lý Thị Hạnh")
    return tree


async def _report_with(bot: Harness, user_id: int, together: str | None = None) -> None:
    """A report through the form, naming a co-participant if given."""
    await bot.begin_report(user_id, description="Cùng bà con sửa mái nhà dột cho một hộ nghèo")
    if together:
        await bot.tap(user_id, "➕ Thêm chi tiết")
        await bot.tap(user_id, f"☐ {together}")
        await bot.tap(user_id, "Xong")
        await bot.skip_details(user_id)
    assert (await bot.tap(user_id, "✅ Gửi ngay")).shows("report.received")


async def _rows(bot: Harness, user_id: int) -> list[tuple[int, str, str, str | None, int]]:
    """The person's memberships: (unit, role, status, title, excused)."""
    async with bot.db.transaction() as tx:
        found = await tx.all(
            "SELECT m.unit_id, m.role, m.status, m.title, m.excused FROM memberships m"
            " JOIN people p ON p.id = m.person_id WHERE p.telegram_user_id = ? ORDER BY m.id",
            (user_id,))
    return [tuple(r) for r in found]


async def _audit(bot: Harness, action: str) -> list[dict]:
    async with bot.db.transaction() as tx:
        return await audit.entries(tx, action)


async def _card(bot: Harness, leader: int, name: str) -> Seen:
    await bot.say(leader, "👥 Đảng viên")
    return await bot.tap(leader, name)


async def _to_dang(bot: Harness, leader: int) -> Seen:
    """👥 Đảng viên, then the list of the cell's Tổ đảng số 1."""
    await bot.say(leader, "👥 Đảng viên")
    await bot.tap(leader, "🏢 Đơn vị trực thuộc")
    return await bot.tap(leader, "Tổ đảng số 1")


async def test_the_list_marks_who_reported_this_week_including_co_participants(
        bot: Harness) -> None:
    await _cell(bot)
    await _report_with(bot, MAI, together="Nông Văn Bình")
    seen = await bot.say(SON, "👥 Đảng viên")
    assert _listed(seen, count=4, reported=2)
    lines = [line for line in seen.text.splitlines() if line[:2] in ("1.", "2.", "3.", "4.")]
    assert lines == ["1. ✅ Hoàng Thị Mai", "2. ▫️ Hoàng Văn Sơn — cấp ủy viên",
                     "3. ▫️ Lý Thị Hạnh", "4. ✅ Nông Văn Bình"]
    assert not seen.shows("members.note_excused") and not seen.shows("members.participation"), \
        "nobody excused, nothing said about it"
    assert bot.buttons(SON) == ["1. Hoàng Thị Mai", "2. Hoàng Văn Sơn", "3. Lý Thị Hạnh",
                                "4. Nông Văn Bình", "🏢 Đơn vị trực thuộc (1)"]
    card = await bot.tap(SON, "4. Nông Văn Bình")
    assert card.shows("members.card_title", name="Nông Văn Bình")
    assert card.shows("members.card_reported", week=WEEK)
    assert bot.buttons(SON) == ["🌙 Miễn sinh hoạt", "🔀 Chuyển đơn vị", "⭐ Giao vai trò cấp ủy",
                                "🗑 Xóa khỏi đơn vị", "📝 Báo cáo thay", "📋 Danh sách"]
    _, data = bot.button(SON, "📝 Báo cáo thay")
    assert data.startswith("ob:for:")
    # Next week the marks start again.
    bot.clock.advance(days=3)
    monday = await bot.say(SON, "/members")
    assert _listed(monday, count=4, reported=0, week="30/11–06/12/2026")


async def test_a_large_cell_is_shown_a_page_at_a_time(bot: Harness) -> None:
    tree = await _cell(bot)
    for n in range(20):
        await bot.join(4000 + n, tree.cell, f"Đảng viên {n + 1:02d}")
    first = await bot.say(SON, "/members")
    assert _listed(first, count=24) and first.shows("members.page", page=1, pages=3)
    assert "1. ▫️ Đảng viên 01" in first.text and "11." not in first.text
    assert "Trang sau ▶" in bot.buttons(SON) and "◀ Trang trước" not in bot.buttons(SON)
    await bot.tap(SON, "Trang sau ▶")
    last = await bot.tap(SON, "Trang sau ▶")
    assert last.shows("members.page", page=3, pages=3)
    assert "21. ▫️ Hoàng Thị Mai" in last.text and "24. ▫️ Nông Văn Bình" in last.text
    assert "Trang sau ▶" not in bot.buttons(SON)
    card = await bot.tap(SON, "24. Nông Văn Bình")
    assert card.shows("members.card_title", name="Nông Văn Bình")
    back = await bot.tap(SON, "📋 Danh sách")
    assert back.shows("members.page", page=3, pages=3), "back to the page the person is on"


async def test_excusing_takes_a_member_out_of_the_participation_count(bot: Harness) -> None:
    await _cell(bot)
    await _card(bot, SON, "3. Lý Thị Hạnh")
    excused = await bot.tap(SON, "🌙 Miễn sinh hoạt")
    assert excused.shows("members.excused", name="Lý Thị Hạnh")
    assert excused.shows("members.card_excused") and "Bỏ miễn sinh hoạt" in bot.buttons(SON)
    assert (await _rows(bot, HANH))[0][4] == 1
    listing = await bot.tap(SON, "📋 Danh sách")
    assert listing.shows("members.line", number=3, mark="▫️", name="Lý Thị Hạnh",
                         notes=VI("members.note_excused"))
    assert listing.shows("members.participation", done=0, total=3, excused=1)
    # The old button pressed again changes nothing.
    message_id, data = bot.button(SON, "3. Lý Thị Hạnh")
    await bot.tap(SON, "3. Lý Thị Hạnh")
    again = await bot.press_data(SON, message_id, data.replace(":o:", ":x:"),
                                 check_button=False)
    assert again.shows("members.already_excused", name="Lý Thị Hạnh")
    back = await bot.tap(SON, "Bỏ miễn sinh hoạt")
    assert back.shows("members.unexcused", name="Lý Thị Hạnh")
    assert (await _rows(bot, HANH))[0][4] == 0
    listing = await bot.tap(SON, "📋 Danh sách")
    assert not listing.shows("members.participation")
    assert [e["action"] for e in await _audit(bot, "members.excuse")] == ["members.excuse"]
    [entry] = await _audit(bot, "members.unexcuse")
    assert entry["subject"].startswith("person:") and entry["detail"].startswith("unit:")


async def test_a_member_moves_to_the_to_dang_and_is_told(bot: Harness) -> None:
    tree = await _cell(bot)
    await _card(bot, SON, "1. Hoàng Thị Mai")
    choose = await bot.tap(SON, "🔀 Chuyển đơn vị")
    assert choose.shows("members.choose_target", name="Hoàng Thị Mai", unit=CELL)
    assert bot.buttons(SON) == ["Tổ đảng số 1", "◀ Quay lại"]
    moved = await bot.tap(SON, "Tổ đảng số 1")
    assert moved.shows("members.moved", name="Hoàng Thị Mai", unit="Tổ đảng số 1")
    assert _listed(moved, count=3)
    assert await _rows(bot, MAI) == [(tree.cell, "member", "removed", None, 0),
                                     (tree.group, "member", "active", None, 0)]
    assert moved.shows("members.notice_moved", old=CELL, unit="Tổ đảng số 1")
    assert bot.fake.last_message(MAI)["text"] == as_read(VI("members.notice_moved", old=CELL,
                                                           unit="Tổ đảng số 1"))
    # The tổ's list, from the cell's.
    await bot.tap(SON, "🏢 Đơn vị trực thuộc (1)")
    group = await bot.tap(SON, "Tổ đảng số 1")
    assert _listed(group, count=1, unit="Tổ đảng số 1") and "1. ▫️ Hoàng Thị Mai" in group.text
    assert "◀ Chi bộ Thôn Bản Chặng" in bot.buttons(SON)
    [entry] = await _audit(bot, "members.move")
    assert entry["detail"] == f"unit:{tree.cell} to_unit:{tree.group}"
    # The old card's move button again: she is no longer there.
    stale = await bot.say(SON, "/members")
    assert "Hoàng Thị Mai" not in stale.text


async def test_giving_and_taking_the_leader_role(bot: Harness) -> None:
    tree = await _cell(bot)
    await _card(bot, SON, "4. Nông Văn Bình")
    titles = await bot.tap(SON, "⭐ Giao vai trò cấp ủy")
    assert titles.shows("members.choose_title", unit=CELL, name="Nông Văn Bình")
    assert bot.buttons(SON) == ["Bí thư", "Phó bí thư", "Chi ủy viên", "◀ Quay lại"]
    given = await bot.tap(SON, "Phó bí thư")
    assert given.shows("members.role_given", title="phó bí thư", name="Nông Văn Bình")
    assert given.shows("members.card_roles", roles="đảng viên, phó bí thư")
    assert "Thôi vai trò cấp ủy" in bot.buttons(SON)
    assert (tree.cell, "leader", "active", "pho_bi_thu", 0) in await _rows(bot, BINH)
    assert bot.fake.last_message(BINH)["text"] == as_read(VI("members.notice_role_given",
                                                            title="phó bí thư", unit=CELL))
    assert ["✅ Ghi nhận báo cáo", "👥 Đảng viên", "✉ Mời tham gia"] in \
        bot.fake.reply_keyboard(BINH)
    listing = await bot.say(SON, "/members")
    assert "4. ▫️ Nông Văn Bình — phó bí thư" in listing.text
    # The new phó bí thư can open the list too.
    assert _listed(await bot.say(BINH, "/members"), count=4)
    await bot.tap(SON, "4. Nông Văn Bình")
    taken = await bot.tap(SON, "Thôi vai trò cấp ủy")
    assert taken.shows("members.role_taken", name="Nông Văn Bình")
    assert "⭐ Giao vai trò cấp ủy" in bot.buttons(SON)
    assert (tree.cell, "leader", "removed", "pho_bi_thu", 0) in await _rows(bot, BINH)
    assert bot.fake.last_message(BINH)["text"] == as_read(VI("members.notice_role_taken",
                                                            unit=CELL))
    refused = await bot.say(BINH, "/members")
    assert refused.shows("members.leaders_only")
    assert [e["detail"] for e in await _audit(bot, "members.give_role")] == [
        f"unit:{tree.cell} title:pho_bi_thu"]
    assert len(await _audit(bot, "members.take_role")) == 1


async def test_a_to_dang_gets_a_to_truong(bot: Harness) -> None:
    tree = await _cell(bot)
    await bot.join(CHI, tree.group, "Vi Thị Chi")
    await _to_dang(bot, SON)
    await bot.tap(SON, "1. Vi Thị Chi")
    await bot.tap(SON, "⭐ Giao vai trò cấp ủy")
    assert bot.buttons(SON) == ["Tổ trưởng", "Tổ phó", "◀ Quay lại"]
    given = await bot.tap(SON, "Tổ trưởng")
    assert given.shows("members.card_roles", roles="đảng viên, tổ trưởng")


async def test_removing_asks_first_and_a_second_press_changes_nothing(bot: Harness) -> None:
    tree = await _cell(bot)
    await _card(bot, SON, "3. Lý Thị Hạnh")
    asked = await bot.tap(SON, "🗑 Xóa khỏi đơn vị")
    assert asked.shows("members.remove_confirm", name="Lý Thị Hạnh", unit=CELL)
    assert bot.buttons(SON) == ["✅ Xóa khỏi đơn vị", "◀ Không"]
    kept = await bot.tap(SON, "◀ Không")
    assert kept.shows("members.card_title", name="Lý Thị Hạnh")
    assert (await _rows(bot, HANH))[0][2] == "active"
    await bot.tap(SON, "🗑 Xóa khỏi đơn vị")
    message_id, data = bot.button(SON, "✅ Xóa khỏi đơn vị")
    removed = await bot.press_data(SON, message_id, data)
    assert removed.shows("members.removed", name="Lý Thị Hạnh", unit=CELL)
    assert _listed(removed, count=3)
    assert await _rows(bot, HANH) == [(tree.cell, "member", "removed", None, 0)]
    assert bot.fake.last_message(HANH)["text"] == as_read(VI("members.notice_removed", unit=CELL))
    twice = await bot.press_data(SON, message_id, data, check_button=False)
    assert twice.shows("members.gone")
    assert len(await _audit(bot, "members.remove")) == 1
    # Every other stale button of her card: told, nothing changes.
    for verb in ("o", "x", "mv", "r", "rm"):
        row_id = data.split(":")[2]
        stale = await bot.press_data(SON, message_id, f"mb:{verb}:{row_id}" +
                                     (":0" if verb == "mv" else ""), check_button=False)
        assert stale.shows("members.gone"), verb
    assert await _rows(bot, HANH) == [(tree.cell, "member", "removed", None, 0)]


async def test_the_last_leader_cannot_leave_but_one_of_two_can(bot: Harness) -> None:
    tree = await _cell(bot)
    own = await _card(bot, SON, "2. Hoàng Văn Sơn")
    assert own.shows("members.card_roles", roles="cấp ủy viên")
    assert bot.buttons(SON) == ["Thôi vai trò cấp ủy", "🚪 Rời khỏi đơn vị", "📋 Danh sách"]
    alone = await bot.tap(SON, "🚪 Rời khỏi đơn vị")
    assert alone.shows("members.last_leader", unit=CELL)
    alone = await bot.tap(SON, "Thôi vai trò cấp ủy")
    assert alone.shows("members.last_leader", unit=CELL)
    assert await _rows(bot, SON) == [(tree.cell, "leader", "active", None, 0)]
    # With a second leader, Sơn may step down.
    await bot.appoint(LAN, tree.cell, Role.LEADER, "Hà Thị Lan")
    await _card(bot, SON, "3. Hoàng Văn Sơn")
    await bot.tap(SON, "🚪 Rời khỏi đơn vị")
    left = await bot.tap(SON, "✅ Rời khỏi đơn vị")
    assert left.shows("members.left", unit=CELL)
    assert await _rows(bot, SON) == [(tree.cell, "leader", "removed", None, 0)]
    assert "👥 Đảng viên" not in str(bot.fake.reply_keyboard(SON))
    # Lan, now alone, cannot step down either.
    await _card(bot, LAN, "1. Hà Thị Lan")
    assert (await bot.tap(LAN, "Thôi vai trò cấp ủy")).shows("members.last_leader", unit=CELL)


async def test_a_commune_leader_manages_a_cell(bot: Harness) -> None:
    tree = await _cell(bot)
    await bot.appoint(TUAN, tree.commune, Role.LEADER, "Triệu Văn Tuấn")
    await bot.join(HANH + 100, tree.sibling_cell, "Lục Văn Hùng")
    first = await bot.say(TUAN, "/members")
    assert _listed(first, count=1, unit="Đảng bộ xã Tràng Định")
    assert "🏢 Đơn vị trực thuộc (2)" in bot.buttons(TUAN)
    await bot.tap(TUAN, "🏢 Đơn vị trực thuộc")
    assert bot.buttons(TUAN) == ["Chi bộ Thôn Bản Chặng", "Chi bộ Thôn Nà Pá", "📋 Danh sách"]
    cell = await bot.tap(TUAN, "Chi bộ Thôn Bản Chặng")
    assert _listed(cell, count=4)
    assert "◀ Đảng bộ xã Tràng Định" in bot.buttons(TUAN)
    # The commune's leader may take the cell's last leader's role; only Sơn himself may not.
    await bot.tap(TUAN, "2. Hoàng Văn Sơn")
    taken = await bot.tap(TUAN, "Thôi vai trò cấp ủy")
    assert taken.shows("members.role_taken", name="Hoàng Văn Sơn")
    await bot.tap(TUAN, "1. Hoàng Thị Mai")
    await bot.tap(TUAN, "⭐ Giao vai trò cấp ủy")
    await bot.tap(TUAN, "Bí thư")
    await bot.tap(TUAN, "🔀 Chuyển đơn vị")
    assert bot.buttons(TUAN) == ["Đảng bộ xã Tràng Định", "Chi bộ Thôn Nà Pá", "Tổ đảng số 1",
                                 "◀ Quay lại"]
    await bot.tap(TUAN, "Chi bộ Thôn Nà Pá")
    assert (tree.sibling_cell, "member", "active", None, 0) in await _rows(bot, MAI)
    assert (tree.cell, "leader", "active", "bi_thu", 0) in await _rows(bot, MAI)


async def test_a_sibling_cells_leader_forging_data_is_refused_and_logged(bot: Harness) -> None:
    tree = await _cell(bot)
    await bot.appoint(LAN, tree.sibling_cell, Role.LEADER, "Hà Thị Lan")
    await _card(bot, SON, "3. Lý Thị Hạnh")
    _, data = bot.button(SON, "🌙 Miễn sinh hoạt")
    row_id = int(data.split(":")[2])
    own = await bot.say(LAN, "/members")
    assert _listed(own, count=1, unit="Chi bộ Thôn Nà Pá")
    message_id = bot.fake.last_message(LAN)["message_id"]
    for forged in (f"mb:o:{row_id}", f"mb:x:{row_id}", f"mb:mv:{row_id}:0",
                   f"mb:mt:{row_id}:{tree.sibling_cell}", f"mb:r:{row_id}", f"mb:rt:{row_id}:0",
                   f"mb:rm:{row_id}", f"mb:ry:{row_id}", f"mb:l:{tree.cell}:0",
                   f"mb:c:{tree.commune}:0"):
        seen = await bot.press_data(LAN, message_id, forged, check_button=False)
        assert seen.shows("access.denied"), forged
        assert "Lý Thị Hạnh" not in seen.text
    assert await _rows(bot, HANH) == [(tree.cell, "member", "active", None, 0)]
    refusals = await _audit(bot, "refused")
    assert len(refusals) == 10
    assert refusals[1]["subject"] == "excuse" and refusals[1]["actor"] == f"tg:{LAN}"
    # Sơn cannot move his member into the sibling cell either: the target must be his too.
    seen = await bot.press_data(SON, message_id, f"mb:mt:{row_id}:{tree.sibling_cell}",
                                check_button=False)
    assert seen.shows("access.denied")
    assert await _rows(bot, HANH) == [(tree.cell, "member", "active", None, 0)]


async def test_members_and_observers_have_no_list(bot: Harness) -> None:
    tree = await _cell(bot)
    await bot.appoint(OBS, tree.commune, Role.OBSERVER, "Đỗ Thu Hà")
    for user_id in (MAI, OBS):
        seen = await bot.say(user_id, "/members")
        assert seen.shows("members.leaders_only")
    bot.person(9999, "Người lạ")
    stranger = await bot.say(9999, "/members")
    assert stranger.shows("access.not_member")
    assert len(await _audit(bot, "refused")) == 3
    # Their forged presses are refused too.
    await _card(bot, SON, "4. Nông Văn Bình")
    _, data = bot.button(SON, "🌙 Miễn sinh hoạt")
    message_id = bot.fake.last_message(MAI)["message_id"]
    seen = await bot.press_data(MAI, message_id, data, check_button=False)
    assert seen.shows("access.denied")
    assert (await _rows(bot, BINH))[0][4] == 0


async def test_moving_a_leader_who_is_not_a_member_there_changes_nothing(bot: Harness) -> None:
    tree = await _cell(bot)
    await bot.appoint(LAN, tree.cell, Role.LEADER, "Hà Thị Lan")
    await _card(bot, SON, "1. Hà Thị Lan")
    assert "🔀 Chuyển đơn vị" not in bot.buttons(SON)
    _, data = bot.button(SON, "Thôi vai trò cấp ủy")
    row_id = data.split(":")[2]
    message_id = bot.fake.last_message(SON)["message_id"]
    seen = await bot.press_data(SON, message_id, f"mb:mt:{row_id}:{tree.group}",
                                check_button=False)
    assert seen.shows("members.not_member_here", name="Hà Thị Lan", unit=CELL)
    assert await _rows(bot, LAN) == [(tree.cell, "leader", "active", None, 0)]


async def test_garbled_data_gets_a_polite_answer(bot: Harness) -> None:
    await _cell(bot)
    await _card(bot, SON, "4. Nông Văn Bình")
    _, data = bot.button(SON, "⭐ Giao vai trò cấp ủy")
    message_id = bot.fake.last_message(SON)["message_id"]
    binh = data.split(":")[2]
    for data in ("mb:", "mb:o", "mb:o:abc", "mb:o:1:2:3", "mb:zz:1", "mb:o:²",
                 "mb:o:99999999999999999999", "mb:o:424242", f"mb:rt:{binh}:99",
                 f"mb:mt:{binh}:424242", "mb:" + "x" * 60):
        seen = await bot.press_data(SON, message_id, data, check_button=False)
        assert seen.shows("members.not_found"), data


async def test_an_admin_opens_any_unit(tmp_path: Path) -> None:
    async with started(tmp_path, admins=[ADMIN]) as bot:
        tree = await _cell(bot)
        bot.person(ADMIN, "Quản trị")
        top = await bot.say(ADMIN, "/members")
        assert _listed(top, count=0, unit="Đảng bộ tỉnh Lạng Sơn")
        await bot.tap(ADMIN, "🏢 Đơn vị trực thuộc (2)")
        await bot.tap(ADMIN, "Đảng bộ xã Tràng Định")
        await bot.tap(ADMIN, "🏢 Đơn vị trực thuộc (2)")
        await bot.tap(ADMIN, "Chi bộ Thôn Bản Chặng")
        await bot.tap(ADMIN, "3. Lý Thị Hạnh")
        excused = await bot.tap(ADMIN, "🌙 Miễn sinh hoạt")
        assert excused.shows("members.excused", name="Lý Thị Hạnh")
        [entry] = await _audit(bot, "members.excuse")
        assert entry["actor"] == f"tg:{ADMIN}" and entry["detail"] == f"unit:{tree.cell}"


async def test_a_member_without_telegram_is_listed_excused_and_removed(bot: Harness) -> None:
    tree = await _cell(bot)
    async with bot.db.transaction() as tx:
        tu = await people.add_person(tx, None, "Nông Văn Tư", "vi", bot.clock.now())
        membership = await people.add_membership(tx, tu.id, tree.cell, Role.MEMBER, None,
                                                 bot.clock.now())
    listing = await bot.say(SON, "👥 Đảng viên")
    assert _listed(listing, count=5) and "Nông Văn Tư" in listing.text
    card = await bot.tap(SON, "5. Nông Văn Tư")
    assert card.shows("members.card_title", name="Nông Văn Tư")
    excused = await bot.tap(SON, "🌙 Miễn sinh hoạt")
    assert excused.shows("members.excused", name="Nông Văn Tư")
    await bot.tap(SON, "🗑 Xóa khỏi đơn vị")
    removed = await bot.tap(SON, "✅ Xóa khỏi đơn vị")
    assert removed.shows("members.removed", name="Nông Văn Tư", unit=CELL)
    async with bot.db.transaction() as tx:
        row = await tx.one("SELECT status, excused FROM memberships WHERE id = ?",
                           (membership.id,))
    assert (row["status"], row["excused"]) == ("removed", 1)
    # Approving "his join" with forged data changes nothing and breaks nothing.
    forged = await bot.press_data(SON, bot.fake.last_message(SON)["message_id"],
                                  f"jr:ok:{membership.id}", check_button=False)
    assert forged.toast and not forged.shows("error.generic")


async def test_a_to_dang_leader_appointed_by_invite_is_its_to_truong(bot: Harness) -> None:
    tree = await _cell(bot)
    await bot.appoint(CHI, tree.group, Role.LEADER, "Đàm Thị Chi")
    listing = await _to_dang(bot, SON)
    assert "Đàm Thị Chi — tổ trưởng" in listing.text
    cell = await bot.say(SON, "/members")
    assert "Hoàng Văn Sơn — cấp ủy viên" in cell.text


async def test_a_move_or_an_excuse_stays_written_above_the_screen(bot: Harness) -> None:
    """A pop-up fades; the message keeps what was done, above the card or the list."""
    await _cell(bot)
    await _card(bot, SON, "3. Lý Thị Hạnh")
    excused = await bot.tap(SON, "🌙 Miễn sinh hoạt")
    line = VI("members.done", what=VI.plain("members.excused", name="Lý Thị Hạnh"))
    assert excused.html.startswith(f"{line}\n\n"), excused.html
    assert excused.shows("members.card_excused")
    await _card(bot, SON, "1. Hoàng Thị Mai")
    await bot.tap(SON, "🔀 Chuyển đơn vị")
    moved = await bot.tap(SON, "Tổ đảng số 1")
    line = VI("members.done", what=VI.plain("members.moved", name="Hoàng Thị Mai",
                                            unit="Tổ đảng số 1"))
    assert moved.html.startswith(f"{line}\n\n") and _listed(moved, count=3), moved.html
    assert moved.text.startswith("✓ Đã chuyển đồng chí Hoàng Thị Mai sang Tổ đảng số 1.")
    card = await bot.tap(SON, next(b for b in bot.buttons(SON) if "Lý Thị Hạnh" in b))
    assert card.shows("members.card_excused") and "✓" not in card.text, "only after a change"
