"""✉ Mời tham gia (/invite): leaders make invite links for their units, revoke them, and
approve or reject those who join through a link shared with many people."""

from __future__ import annotations

import re
from pathlib import Path

from storage import audit, invites, joins, people
from storage.entities import Role
from tests.harness import CATALOGUE, Harness, Seen, Tree, as_read, started

SON, HANH, TUAN, NGA = 3001, 3002, 3003, 3004  # leaders: cell, cell, commune, sibling cell
MAI, BINH, LAN, KHOA = 3101, 3102, 3103, 3104  # people being invited
ADMIN = 3900
LINK = re.compile(r"https://t\.me/lantoa_test_bot\?start=([A-Za-z0-9_-]{12})")
LEADER_ROW = ["✅ Ghi nhận báo cáo", "👥 Đảng viên", "✉ Mời tham gia"]
VI = CATALOGUE.texts("vi")
MEMBER = VI("invite.role.member")
CELL = "Chi bộ Thôn Bản Chặng (Đảng bộ xã Tràng Định)"  # a unit as invites name it
IN_A_WEEK = "04/12/2026"



async def _join_with(bot: Harness, user_id: int, code: str, first_name: str) -> Seen:
    """Harness.join_with, returning what confirming the name brought."""
    bot.person(user_id, first_name)
    await bot.say(user_id, f"/start {code}")
    return await bot.tap(user_id, "✅ Đúng")



async def _leaders(bot: Harness) -> Tree:
    tree = await bot.tree()
    await bot.appoint(SON, tree.cell, Role.LEADER, "Hoàng Văn Sơn")
    await bot.appoint(TUAN, tree.commune, Role.LEADER, "Nông Văn Tuấn")
    await bot.appoint(NGA, tree.sibling_cell, Role.LEADER, "Lý Thị Nga")
    return tree


async def _make(bot: Harness, leader: int, unit: str | None, kind: str,
                uses: str = "👤 Một người") -> str:
    """/invite → unit (if asked) → kind → for whom; the code in the link to forward."""
    await bot.say(leader, "/invite")
    if unit is not None:
        await bot.tap(leader, unit)
    await bot.tap(leader, kind)
    made = await bot.tap(leader, uses)
    found = LINK.search(made.text)
    assert found, made.text
    return found.group(1)


async def _live(bot: Harness, user_id: int) -> list[tuple[int, str, str]]:
    """The person's memberships that are not removed: (unit, role, status)."""
    async with bot.db.transaction() as tx:
        person = await people.person_by_telegram_id(tx, user_id)
        if person is None:
            return []
        return [(m.unit_id, m.role.value, m.status.value)
                for m in await joins.live_memberships(tx, person.id)]


def _notice(bot: Harness, user_id: int, name: str, label: str) -> tuple[int, str]:
    """The button with this label on the newest join notice naming `name`."""
    for message in reversed(bot.fake.messages(user_id)):
        if name in (message.get("text") or ""):
            for text, data in bot.fake.inline_buttons(message):
                if text == label:
                    return message["message_id"], data
    raise AssertionError(f"no notice about {name} with {label!r} for {user_id}")


async def _press_notice(bot: Harness, user_id: int, name: str, label: str) -> Seen:
    message_id, data = _notice(bot, user_id, name, label)
    return await bot.press_data(user_id, message_id, data, check_button=False)


async def _audit(bot: Harness, action: str) -> list[dict]:
    async with bot.db.transaction() as tx:
        return await audit.entries(tx, action)


# --- making invites -----------------------------------------------------------------------


async def test_a_leader_makes_a_member_invite_and_a_new_person_joins_with_it(
    bot: Harness
) -> None:
    tree = await _leaders(bot)
    asked = await bot.say(SON, "✉ Mời tham gia")
    assert asked.shows("invite.pick_unit")
    assert bot.buttons(SON) == ["Chi bộ Thôn Bản Chặng", "↳ Tổ đảng số 1"]
    kinds = await bot.tap(SON, "Chi bộ Thôn Bản Chặng")
    assert kinds.shows("invite.pick_kind", unit=CELL)
    # A leader invites members into the own cell; leaders only below it.
    assert bot.buttons(SON) == ["👤 Đảng viên", "◀ Quay lại"]
    whom = await bot.tap(SON, "👤 Đảng viên")
    assert whom.shows("invite.pick_uses")
    assert bot.buttons(SON) == ["👤 Một người", "👥 Nhiều người", "◀ Quay lại"]
    made = await bot.tap(SON, "👤 Một người")
    assert made.shows("invite.made_one", role=MEMBER, unit=CELL, date=IN_A_WEEK)
    forward = bot.screen(SON)
    code = LINK.search(forward)
    assert code is not None
    assert made.shows("invite.forward", unit=CELL, link=code.group(0))

    joined = await _join_with(bot, MAI, code.group(1), "Hoàng Thị Mai")
    assert joined.shows("join.done_member", name="Hoàng Thị Mai", unit=CELL)
    assert await _live(bot, MAI) == [(tree.cell, "member", "active")]
    [entry] = await _audit(bot, "create_invite")
    assert entry["subject"] == f"unit:{tree.cell}" and "role:member uses:1" in entry["detail"]


async def test_the_link_is_the_bots_start_link_with_an_unguessable_code(bot: Harness) -> None:
    await _leaders(bot)
    first = await _make(bot, SON, "Chi bộ Thôn Bản Chặng", "👤 Đảng viên")
    second = await _make(bot, SON, "Chi bộ Thôn Bản Chặng", "👤 Đảng viên")
    async with bot.db.transaction() as tx:
        stored = [r["code"] for r in await tx.all("SELECT code FROM invites ORDER BY id")]
    assert stored[-2:] == [first, second] and first != second
    assert bot.screen(SON) == as_read(VI("invite.forward", unit=CELL,
                                        link=f"https://t.me/lantoa_test_bot?start={second}"))


async def test_a_configured_username_is_used_in_the_link(tmp_path: Path) -> None:
    async with started(tmp_path, bot_username="@lantoa_langson_bot") as bot:
        await _leaders(bot)
        await bot.say(SON, "/invite")
        await bot.tap(SON, "Chi bộ Thôn Bản Chặng")
        await bot.tap(SON, "👤 Đảng viên")
        made = await bot.tap(SON, "👤 Một người")
        assert re.search(r"https://t\.me/lantoa_langson_bot\?start=[A-Za-z0-9_-]{12}",
                         made.text)


async def test_a_to_dang_invite(bot: Harness) -> None:
    tree = await _leaders(bot)
    await bot.say(SON, "/invite")
    await bot.tap(SON, "↳ Tổ đảng số 1")
    assert bot.buttons(SON) == ["👤 Đảng viên", "🎖 Cấp ủy (bí thư, chi ủy viên, tổ trưởng)",
                                "👁 Theo dõi (chỉ xem)", "◀ Quay lại"]
    await bot.tap(SON, "👤 Đảng viên")
    made = await bot.tap(SON, "👤 Một người")
    assert made.shows("invite.made_one", role=MEMBER, unit="Tổ đảng số 1 (Chi bộ Thôn Bản Chặng)",
                      date=IN_A_WEEK)
    code = LINK.search(made.text)
    assert code is not None
    await bot.join_with(MAI, code.group(1), "Mai")
    assert await _live(bot, MAI) == [(tree.group, "member", "active")]


async def test_a_cell_leader_invites_the_leader_of_its_to_dang(bot: Harness) -> None:
    tree = await _leaders(bot)
    code = await _make(bot, SON, "↳ Tổ đảng số 1", "🎖 Cấp ủy")
    joined = await _join_with(bot, KHOA, code, "Khoa")
    assert joined.shows("join.done_leader", name="Khoa",
                         unit="Tổ đảng số 1 (Chi bộ Thôn Bản Chặng)")
    assert await _live(bot, KHOA) == [(tree.group, "leader", "active")]
    assert bot.fake.reply_keyboard(KHOA)[-1] == LEADER_ROW


async def test_a_commune_leader_invites_a_leader_and_an_observer_for_a_cell(
    bot: Harness
) -> None:
    tree = await _leaders(bot)
    await bot.say(TUAN, "/invite")
    assert bot.buttons(TUAN)[:3] == ["Đảng bộ xã Tràng Định", "↳ Chi bộ Thôn Bản Chặng",
                                     "↳ Tổ đảng số 1"]
    code = await _make(bot, TUAN, "↳ Chi bộ Thôn Nà Pá", "🎖 Cấp ủy")
    await bot.join_with(KHOA, code, "Khoa")
    assert await _live(bot, KHOA) == [(tree.sibling_cell, "leader", "active")]
    observer = await _make(bot, TUAN, "↳ Chi bộ Thôn Bản Chặng", "👁 Theo dõi")
    joined = await _join_with(bot, LAN, observer, "Lan")
    assert joined.shows("join.done_observer", name="Lan", unit=CELL)
    # Leaders and observers are invited below oneself, never into one's own unit.
    await bot.say(TUAN, "/invite")
    await bot.tap(TUAN, "Đảng bộ xã Tràng Định")
    assert bot.buttons(TUAN) == ["👤 Đảng viên", "◀ Quay lại"]


async def test_a_leader_of_one_unit_skips_the_unit_question(bot: Harness) -> None:
    tree = await bot.tree()
    await bot.appoint(SON, tree.group, Role.LEADER, "Sơn")  # tổ trưởng: nothing below
    asked = await bot.say(SON, "/invite")
    assert asked.shows("invite.pick_kind", unit="Tổ đảng số 1 (Chi bộ Thôn Bản Chặng)")
    assert bot.buttons(SON) == ["👤 Đảng viên"]


async def test_many_units_come_in_pages(bot: Harness) -> None:
    tree = await _leaders(bot)
    for number in range(1, 11):
        await bot.unit(f"Tổ đảng số {number + 1}", kind="tổ đảng", parent=tree.cell)
    await bot.say(SON, "/invite")
    first = bot.buttons(SON)
    assert len(first) == 9 and first[-1] == "Trang sau ▶"
    await bot.tap(SON, "Trang sau ▶")
    second = bot.buttons(SON)
    assert second[-1] == "◀ Trang trước" and "↳ Tổ đảng số 9" in second


# --- who may not ----------------------------------------------------------------------------


async def test_members_observers_and_strangers_cannot_invite(bot: Harness) -> None:
    tree = await _leaders(bot)
    await bot.join(MAI, tree.cell, "Mai")
    await bot.appoint(LAN, tree.commune, Role.OBSERVER, "Lan")
    for user_id in (MAI, LAN):
        refused = await bot.say(user_id, "/invite")
        assert refused.shows("invite.not_leader")
        assert not bot.buttons(user_id)
    bot.person(KHOA, "Khoa")
    stranger = await bot.say(KHOA, "/invite")
    assert stranger.shows("access.not_member")
    assert len(await _audit(bot, "refused")) == 3
    async with bot.db.transaction() as tx:
        assert (await tx.one("SELECT count(*) AS n FROM invites WHERE created_by IS NOT NULL"))[
            "n"] == 0


async def test_a_forged_unit_outside_ones_subtree_is_refused(bot: Harness) -> None:
    tree = await _leaders(bot)
    await bot.say(SON, "/invite")
    message_id, _ = bot.button(SON, "Chi bộ Thôn Bản Chặng")
    before = len(await _audit(bot, "refused"))
    for data in (f"iv:mm:{tree.sibling_cell}:1", f"iv:mm:{tree.commune}:n",
                 f"iv:ml:{tree.cell}:1", f"iv:unit:{tree.other_commune}",
                 f"iv:ko:{tree.province}"):
        seen = await bot.press_data(SON, message_id, data, check_button=False)
        assert seen.shows("access.denied"), data
        assert LINK.search(seen.text) is None
    assert len(await _audit(bot, "refused")) == before + 5
    for data in ("iv:mm:x:1", "iv:mz:1:1", "iv:mm:1:9", "iv:unit", "iv:", "iv:⚡:1",
                 "iv:units:-1", "iv:units:²", f"iv:unit:{10**6}",
                 f"iv:rv:{10**30}", f"iv:mm:{2**63}:1", "iv:make:1:m:1"):
        garbled = await bot.press_data(SON, message_id, data, check_button=False)
        assert garbled.shows("invite.not_found"), data
    async with bot.db.transaction() as tx:
        assert (await tx.one("SELECT count(*) AS n FROM invites WHERE created_by IS NOT NULL"))[
            "n"] == 0


async def test_an_admin_invites_anywhere(tmp_path: Path) -> None:
    async with started(tmp_path, admins=[ADMIN]) as bot:
        tree = await bot.tree()
        bot.person(ADMIN, "Quản trị")
        await bot.say(ADMIN, "/invite")
        assert bot.buttons(ADMIN)[0] == "Đảng bộ tỉnh Lạng Sơn"
        code = await _make(bot, ADMIN, "Đảng bộ tỉnh Lạng Sơn", "🎖 Cấp ủy")
        await bot.join_with(SON, code, "Sơn")
        assert await _live(bot, SON) == [(tree.province, "leader", "active")]


# --- the list and revoking ------------------------------------------------------------------


async def test_revoke_then_the_link_says_revoked(bot: Harness) -> None:
    await _leaders(bot)
    code = await _make(bot, SON, "Chi bộ Thôn Bản Chặng", "👤 Đảng viên", "👥 Nhiều người")
    listing = await bot.say(SON, "/invite")
    assert listing.shows("invite.line", number=1, unit="Chi bộ Thôn Bản Chặng", role=MEMBER,
                         used=0, limit=100, date=IN_A_WEEK)
    confirm = await bot.tap(SON, "🗑 Thu hồi 1")
    assert confirm.shows("invite.revoke_confirm", role=MEMBER, unit=CELL, used=0, limit=100,
                         date=IN_A_WEEK)
    message_id, data = bot.button(SON, "✅ Thu hồi")
    assert bot.button(SON, "◀ Giữ lại")[0] == message_id
    done = await bot.tap(SON, "✅ Thu hồi")
    assert done.toast == VI.plain("invite.revoked_toast")
    assert done.shows("invite.revoked", role=MEMBER, unit=CELL)
    twice = await bot.press_data(SON, message_id, data, check_button=False)
    assert twice.shows("invite.already_revoked_toast")
    [entry] = await _audit(bot, "revoke_invite")
    assert entry["actor"].startswith("person:")

    bot.person(MAI, "Mai")
    opened = await bot.say(MAI, f"/start {code}")
    assert opened.shows("join.invite_revoked")
    assert await _live(bot, MAI) == []
    again = await bot.say(SON, "/invite")
    assert not again.shows("invite.live_title") and not again.shows("invite.line")


async def test_keeping_an_invite_and_an_expired_one(bot: Harness) -> None:
    await _leaders(bot)
    await _make(bot, SON, "Chi bộ Thôn Bản Chặng", "👤 Đảng viên")
    await bot.say(SON, "/invite")
    message_id, data = bot.button(SON, "🗑 Thu hồi 1")
    await bot.tap(SON, "🗑 Thu hồi 1")
    kept = await bot.tap(SON, "◀ Giữ lại")
    assert kept.shows("invite.line", number=1, unit="Chi bộ Thôn Bản Chặng", role=MEMBER,
                      used=0, limit=1, date=IN_A_WEEK)
    bot.clock.advance(days=8)
    expired = await bot.press_data(SON, message_id, data, check_button=False)
    assert expired.shows("invite.already_expired_toast")
    assert expired.shows("invite.already_expired", role=MEMBER, unit=CELL, date=IN_A_WEEK)
    listing = await bot.say(SON, "/invite")
    assert not listing.shows("invite.line")
    assert await _audit(bot, "revoke_invite") == []


async def test_the_list_shows_only_invites_in_reach(bot: Harness) -> None:
    await _leaders(bot)
    await _make(bot, NGA, None, "👤 Đảng viên")
    await _make(bot, SON, "↳ Tổ đảng số 1", "👤 Đảng viên")
    son = await bot.say(SON, "/invite")
    assert son.shows("invite.line", number=1, unit="Tổ đảng số 1", role=MEMBER, used=0, limit=1,
                     date=IN_A_WEEK)
    assert "Nà Pá" not in son.text
    tuan = await bot.say(TUAN, "/invite")
    assert tuan.shows("invite.line", number=2, unit="Chi bộ Thôn Nà Pá", role=MEMBER, used=0,
                      limit=1, date=IN_A_WEEK)
    assert tuan.shows("invite.line", number=1, unit="Tổ đảng số 1", role=MEMBER, used=0,
                      limit=1, date=IN_A_WEEK)


async def test_a_forged_press_on_a_sibling_units_invite_is_refused(bot: Harness) -> None:
    await _leaders(bot)
    await _make(bot, NGA, None, "👤 Đảng viên")
    async with bot.db.transaction() as tx:
        invite_id = (await tx.one("SELECT id FROM invites ORDER BY id DESC LIMIT 1"))["id"]
    await bot.say(SON, "/invite")
    message_id, _ = bot.button(SON, "Chi bộ Thôn Bản Chặng")
    for verb in ("rv", "rvy"):
        seen = await bot.press_data(SON, message_id, f"iv:{verb}:{invite_id}",
                                    check_button=False)
        assert seen.shows("access.denied"), verb
    unknown = await bot.press_data(SON, message_id, "iv:rvy:987654", check_button=False)
    assert unknown.shows("invite.not_found")
    async with bot.db.transaction() as tx:
        invite = await invites.get_invite(tx, invite_id)
    assert invite is not None and not invite.revoked
    refused = await _audit(bot, "refused")
    assert [e["subject"] for e in refused[-2:]] == ["revoke_invite", "revoke_invite"]


# --- joins through shared links wait for approval -------------------------------------------


async def test_two_join_through_a_shared_link_one_approved_one_rejected(bot: Harness) -> None:
    tree = await _leaders(bot)
    await bot.appoint(HANH, tree.cell, Role.LEADER, "Lý Thị Hạnh")
    await bot.say(SON, "/invite")
    await bot.tap(SON, "Chi bộ Thôn Bản Chặng")
    await bot.tap(SON, "👤 Đảng viên")
    made = await bot.tap(SON, "👥 Nhiều người")
    assert made.shows("invite.made_many", role=MEMBER, unit=CELL, limit=100, date=IN_A_WEEK)
    code = LINK.search(made.text)
    assert code is not None

    mai = await _join_with(bot, MAI, code.group(1), "Hoàng Thị Mai")
    assert mai.shows("invite.request.sent", name="Hoàng Thị Mai", unit=CELL)
    assert bot.fake.reply_keyboard(MAI) is None, "no member menu while waiting"
    await bot.join_with(BINH, code.group(1), "Nông Văn Bình")
    assert await _live(bot, MAI) == [(tree.cell, "member", "pending")]
    assert await _live(bot, BINH) == [(tree.cell, "member", "pending")]
    notice = VI("invite.request.notice", name="Hoàng Thị Mai", unit=CELL, role=MEMBER)
    assert {c.params["chat_id"] for c in mai.calls if notice in c.params.get("text", "")
            and "invite.request.notice" in c.keys} == {SON, HANH}
    for leader in (SON, HANH):
        assert "Hoàng Thị Mai" in bot.fake.messages(leader)[-2]["text"]
        assert bot.buttons(leader) == ["✅ Duyệt", "✖ Từ chối"]
    assert not bot.told(TUAN, "invite.request.notice"), "the cell has leaders of its own"

    stale = _notice(bot, SON, "Hoàng Thị Mai", "✅ Duyệt")
    stale_binh = _notice(bot, SON, "Nông Văn Bình", "✅ Duyệt")
    approved = await _press_notice(bot, SON, "Hoàng Thị Mai", "✅ Duyệt")
    assert approved.toast == VI.plain("invite.request.approved_toast")
    assert approved.shows("invite.request.approved", name="Hoàng Thị Mai", unit=CELL, role=MEMBER)
    assert approved.shows("invite.request.approved_you")
    assert bot.told(MAI, "invite.request.approved_you")
    assert bot.fake.reply_keyboard(MAI)[0] == ["📝 Báo cáo việc làm theo Bác"]
    assert await _live(bot, MAI) == [(tree.cell, "member", "active")]

    rejected = await _press_notice(bot, SON, "Nông Văn Bình", "✖ Từ chối")
    assert rejected.toast == VI.plain("invite.request.rejected_toast")
    assert rejected.shows("invite.request.rejected_you", unit=CELL)
    assert bot.told(BINH, "invite.request.rejected_you")
    assert await _live(bot, BINH) == []

    twice = await bot.press_data(SON, *stale, check_button=False)
    assert twice.shows("invite.request.already_approved_by_you", name="Hoàng Thị Mai")
    assert "Hoàng Văn Sơn" not in twice.text, "Sơn pressed it: not named to himself"
    rejected_twice = await bot.press_data(SON, *stale_binh, check_button=False)
    assert rejected_twice.shows("invite.request.already_rejected_by_you", name="Nông Văn Bình")
    other = await _press_notice(bot, HANH, "Hoàng Thị Mai", "✖ Từ chối")
    assert other.shows("invite.request.already_approved", name="Hoàng Thị Mai",
                       by="Hoàng Văn Sơn")
    late = await _press_notice(bot, HANH, "Nông Văn Bình", "✅ Duyệt")
    assert late.shows("invite.request.already_rejected", name="Nông Văn Bình", by="Hoàng Văn Sơn")
    assert await _live(bot, MAI) == [(tree.cell, "member", "active")]
    assert await _live(bot, BINH) == []
    assert [e["subject"] for e in await _audit(bot, "approve_join")] == ["membership:" + str(
        (await _membership_ids(bot, MAI))[0])]
    assert len(await _audit(bot, "reject_join")) == 1

    listing = await bot.say(SON, "/invite")
    assert listing.shows("invite.line", number=1, unit="Chi bộ Thôn Bản Chặng", role=MEMBER,
                         used=2, limit=100, date=IN_A_WEEK)


async def _membership_ids(bot: Harness, user_id: int) -> list[int]:
    async with bot.db.transaction() as tx:
        person = await people.person_by_telegram_id(tx, user_id)
        assert person is not None
        rows = await tx.all("SELECT id FROM memberships WHERE person_id = ?", (person.id,))
    return [r["id"] for r in rows]


async def test_a_join_into_a_unit_without_leaders_goes_to_the_level_above(bot: Harness) -> None:
    tree = await bot.tree()
    await bot.appoint(TUAN, tree.commune, Role.LEADER, "Nông Văn Tuấn")
    await bot.say(TUAN, "/invite")
    await bot.tap(TUAN, "↳ Chi bộ Thôn Nà Pá")
    await bot.tap(TUAN, "👤 Đảng viên")
    made = await bot.tap(TUAN, "👥 Nhiều người")
    code = LINK.search(made.text)
    assert code is not None
    joined = await _join_with(bot, MAI, code.group(1), "Mai")
    assert joined.shows("invite.request.notice", name="Mai",
                        unit="Chi bộ Thôn Nà Pá (Đảng bộ xã Tràng Định)", role=MEMBER)
    assert bot.told(TUAN, "invite.request.notice")
    await bot.tap(TUAN, "✅ Duyệt")
    assert await _live(bot, MAI) == [(tree.sibling_cell, "member", "active")]


async def test_a_shared_leader_invite_makes_nobody_a_leader_until_approved(
    bot: Harness
) -> None:
    tree = await _leaders(bot)
    code = await _make(bot, TUAN, "↳ Chi bộ Thôn Bản Chặng", "🎖 Cấp ủy", "👥 Nhiều người")
    await bot.join_with(KHOA, code, "Khoa")
    assert await _live(bot, KHOA) == [(tree.cell, "leader", "pending")]
    refused = await bot.say(KHOA, "/invite")
    assert refused.shows("invite.request.waiting")
    await _press_notice(bot, SON, "Khoa", "✅ Duyệt")
    assert await _live(bot, KHOA) == [(tree.cell, "leader", "active")]
    assert bot.fake.reply_keyboard(KHOA)[-1] == LEADER_ROW


async def test_opening_a_shared_link_again_while_waiting(bot: Harness) -> None:
    tree = await _leaders(bot)
    code = await _make(bot, SON, "Chi bộ Thôn Bản Chặng", "👤 Đảng viên", "👥 Nhiều người")
    await bot.join_with(MAI, code, "Mai")
    again = await bot.say(MAI, f"/start {code}")
    assert again.shows("invite.request.already_waiting", unit=CELL)
    other = await _make(bot, NGA, None, "👤 Đảng viên")
    elsewhere = await bot.say(MAI, f"/start {other}")
    assert elsewhere.shows("invite.request.already_waiting", unit=CELL)
    assert await _live(bot, MAI) == [(tree.cell, "member", "pending")]


async def test_the_invite_screen_lists_joins_waiting(bot: Harness) -> None:
    await _leaders(bot)
    code = await _make(bot, SON, "Chi bộ Thôn Bản Chặng", "👤 Đảng viên", "👥 Nhiều người")
    await bot.join_with(MAI, code, "Mai")
    seen = await bot.say(TUAN, "/invite")  # the commune's leader may approve too
    assert seen.shows("invite.request.notice", name="Mai", unit=CELL, role=MEMBER)
    approved = await _press_notice(bot, TUAN, "Mai", "✅ Duyệt")
    assert approved.shows("invite.request.approved_you")
    assert bot.told(MAI, "invite.request.approved_you")


async def test_a_forged_approval_of_a_sibling_units_join_is_refused(bot: Harness) -> None:
    tree = await _leaders(bot)
    code = await _make(bot, NGA, None, "👤 Đảng viên", "👥 Nhiều người")
    await bot.join_with(MAI, code, "Mai")
    [membership_id] = await _membership_ids(bot, MAI)
    await bot.say(SON, "/invite")
    message_id, _ = bot.button(SON, "Chi bộ Thôn Bản Chặng")
    for verb in ("ok", "no"):
        seen = await bot.press_data(SON, message_id, f"jr:{verb}:{membership_id}",
                                    check_button=False)
        assert seen.shows("access.denied"), verb
    for data in ("jr:ok:x", "jr:maybe:1", "jr:ok:424242", "jr:", f"jr:no:{10**40}"):
        garbled = await bot.press_data(SON, message_id, data, check_button=False)
        assert garbled.shows("invite.request.not_found"), data
    assert await _live(bot, MAI) == [(tree.sibling_cell, "member", "pending")]
    refused = await _audit(bot, "refused")
    # Each forged approval under its action; each garbled press as data nothing declared.
    assert [e["subject"] for e in refused[-6:]] == ["approve_join"] * 2 + ["button"] * 4


async def test_someone_waiting_is_told_so_when_they_write(bot: Harness) -> None:
    await _leaders(bot)
    code = await _make(bot, SON, "Chi bộ Thôn Bản Chặng", "👤 Đảng viên", "👥 Nhiều người")
    await bot.join_with(MAI, code, "Mai")
    for text in ("/report", "xin chào", "/start", "/my"):
        seen = await bot.say(MAI, text)
        assert seen.shows("invite.request.waiting"), text
        assert not seen.shows("access.not_member")


async def test_nobody_approves_their_own_join(bot: Harness) -> None:
    tree = await bot.tree()
    await bot.appoint(SON, tree.cell, Role.LEADER, "Sơn")
    await bot.appoint(TUAN, tree.commune, Role.LEADER, "Tuấn")
    # Sơn leads the cell and asks to join its tổ as a leader too, through a shared link.
    await bot.join_with(SON, await bot.invite(tree.group, Role.LEADER, uses=5), "Sơn")
    async with bot.db.transaction() as tx:
        row = await tx.one("SELECT id FROM memberships WHERE status = 'pending'")
    own = await bot.press_data(SON, bot.fake.last_message(SON)["message_id"],
                               f"jr:ok:{row['id']}", check_button=False)
    assert own.shows("access.denied")
    approved = await bot.press_data(TUAN, bot.fake.last_message(TUAN)["message_id"],
                                    f"jr:ok:{row['id']}", check_button=False)
    assert approved.toast == VI.plain("invite.request.approved_toast")
    async with bot.db.transaction() as tx:
        [refused] = await audit.entries(tx, "refused")
        status = await tx.one("SELECT status FROM memberships WHERE id = ?", (row["id"],))
    assert refused["subject"] == "approve_join" and status["status"] == "active"
