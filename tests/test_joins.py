"""Joining a cell through an invite link, and everyone else who writes /start."""

from __future__ import annotations

from storage import audit, people
from storage.entities import Role
from tests.harness import CATALOGUE, Harness, Seen

MAI, BINH, LAN, SON = 1001, 1002, 1003, 1004
MENU = [["📝 Báo cáo việc làm theo Bác"], ["📋 Việc đã báo cáo", "🏅 Mô hình"],
        ["📊 Thống kê", "✍ Cam kết", "❓ Hướng dẫn"]]
VI, EN = CATALOGUE.texts("vi"), CATALOGUE.texts("en")
CELL = "Chi bộ Thôn Bản Chặng (Đảng bộ xã Tràng Định)"  # as joining names it
# Whatever says a form is under way, or kept.
UNDER_WAY = {key for key in CATALOGUE.tables["vi"] if key.rsplit(".", 1)[-1] in (
    "busy", "resumed", "draft_kept", "correction_busy", "correction_resumed")}


def _says_in(seen: Seen, key: str, lang: str) -> bool:
    """The bot said `key`, in this language."""
    return seen.shows(key) and CATALOGUE.texts(lang)(key) in seen.html


async def _cell(bot: Harness) -> int:
    commune = await bot.unit("Đảng bộ xã Tràng Định", kind="đảng bộ xã")
    return await bot.unit("Chi bộ Thôn Bản Chặng", parent=commune)


async def _memberships(bot: Harness, user_id: int) -> list[tuple[str, int, str]]:
    async with bot.db.transaction() as tx:
        person = await people.person_by_telegram_id(tx, user_id)
        if person is None:
            return []
        return [(person.full_name, m.unit_id, m.role.value)
                for m in await people.active_memberships(tx, person.id)]


async def test_a_member_joins_with_the_name_telegram_gave(bot: Harness) -> None:
    cell = await _cell(bot)
    code = await bot.invite(cell)
    bot.person(MAI, "Mai", "Hoang")
    welcome = await bot.say(MAI, f"/start {code}")
    assert welcome.shows("join.welcome", unit=CELL)
    assert welcome.shows("form.join.full_name.confirm_default", value="Mai Hoang")
    assert bot.buttons(MAI) == ["✅ Đúng", "✏ Nhập lại họ tên", "✖ Hủy"]
    done = await bot.tap(MAI, "✅ Đúng")
    assert done.shows("join.done_member", name="Mai Hoang", unit=CELL)
    assert bot.fake.reply_keyboard(MAI) == MENU
    assert await _memberships(bot, MAI) == [("Mai Hoang", cell, "member")]
    async with bot.db.transaction() as tx:
        [entry] = await audit.entries(tx, "join")
    assert entry["subject"] == f"unit:{cell}"


async def test_a_member_corrects_their_name_before_joining(bot: Harness) -> None:
    cell = await _cell(bot)
    code = await bot.invite(cell)
    bot.person(MAI, "mai.hoang.88")
    await bot.say(MAI, f"/start {code}")
    asked = await bot.tap(MAI, "✏ Nhập lại họ tên")
    assert asked.shows("form.join.full_name.prompt")
    short = await bot.say(MAI, "M")
    assert short.shows("form.join.full_name.too_short")
    await bot.say(MAI, "  Hoàng   Thị Mai ")
    assert await _memberships(bot, MAI) == [("Hoàng Thị Mai", cell, "member")]


async def test_a_stranger_without_a_code_is_told_how_to_get_one(bot: Harness) -> None:
    bot.person(LAN, "Lan")
    seen = await bot.say(LAN, "/start")
    assert seen.shows("access.not_member") and seen.text == VI.plain("access.not_member")


async def test_unknown_expired_and_used_up_codes_each_say_so(bot: Harness) -> None:
    cell = await _cell(bot)
    bot.person(LAN, "Lan")
    unknown = await bot.say(LAN, "/start khongcoma")
    assert unknown.shows("join.invite_unknown")
    old = await bot.invite(cell, days=1)
    bot.clock.advance(days=2)
    expired = await bot.say(LAN, f"/start {old}")
    assert expired.shows("join.invite_expired")
    once = await bot.invite(cell)
    await bot.join_with(MAI, once, "Mai")
    used = await bot.say(LAN, f"/start {once}")
    assert used.shows("join.invite_used_up")
    assert await _memberships(bot, LAN) == []


async def test_two_people_on_one_single_use_link_only_the_first_joins(bot: Harness) -> None:
    cell = await _cell(bot)
    code = await bot.invite(cell)
    bot.person(MAI, "Mai")
    bot.person(BINH, "Bình")
    await bot.say(MAI, f"/start {code}")
    await bot.say(BINH, f"/start {code}")
    await bot.tap(MAI, "✅ Đúng")
    late = await bot.tap(BINH, "✅ Đúng")
    assert late.shows("join.invite_used_up")
    assert await _memberships(bot, BINH) == []


async def test_ones_own_used_link_opened_again_says_already_a_member(bot: Harness) -> None:
    """A bí thư who opens the single-use link he joined with is not told to ask the bí thư
    for a new one: being in the unit says more than the state of the link."""
    cell = await _cell(bot)
    leader_link = await bot.invite(cell, Role.LEADER)
    await bot.join_with(SON, leader_link, "Sơn")
    again = await bot.say(SON, f"/start {leader_link}")
    assert again.shows("join.already_member", unit=CELL) and not again.shows(
        "join.invite_used_up")
    member_link = await bot.invite(cell, days=1)
    await bot.join_with(MAI, member_link, "Mai")
    bot.clock.advance(days=2)
    expired = await bot.say(MAI, f"/start {member_link}")
    assert expired.shows("join.already_member", unit=CELL)
    assert await _memberships(bot, SON) == [("Sơn", cell, "leader")]


async def test_a_multi_use_invite_lets_several_ask_until_its_uses_run_out(bot: Harness) -> None:
    cell = await _cell(bot)
    code = await bot.invite(cell, uses=2)
    bot.person(MAI, "Mai")
    await bot.say(MAI, f"/start {code}")
    asked = await bot.tap(MAI, "✅ Đúng")
    assert asked.shows("invite.request.sent", name="Mai", unit=CELL)
    await bot.join_with(BINH, code, "Bình")
    bot.person(LAN, "Lan")
    third = await bot.say(LAN, f"/start {code}")
    assert third.shows("join.invite_used_up")
    # Shared links admit nobody by themselves: both wait for a leader (tests/test_invites.py).
    assert await _memberships(bot, BINH) == []
    async with bot.db.transaction() as tx:
        waiting = await tx.all("SELECT unit_id FROM memberships WHERE status = 'pending'")
    assert [r["unit_id"] for r in waiting] == [cell, cell]


async def test_opening_the_link_again_or_another_cells_link(bot: Harness) -> None:
    cell = await _cell(bot)
    other = await bot.unit("Chi bộ Khối 1")
    await bot.appoint(SON, cell, Role.LEADER, "Sơn")
    code = await bot.invite(cell, uses=5)
    await bot.join_with(MAI, code, "Mai")
    waiting = await bot.say(MAI, f"/start {code}")
    assert waiting.shows("invite.request.already_waiting", unit=CELL)
    await bot.tap(SON, "✅ Duyệt")
    again = await bot.say(MAI, f"/start {code}")
    assert again.shows("join.already_member", unit=CELL)
    elsewhere = await bot.say(MAI, f"/start {await bot.invite(other)}")
    assert elsewhere.shows("join.member_elsewhere", unit="Chi bộ Khối 1")
    observe = await bot.say(MAI, f"/start {await bot.invite(other, role=Role.OBSERVER)}")
    assert observe.shows("form.join.full_name.confirm_default", value="Mai"), \
        "the same person may also observe another unit"
    await bot.tap(MAI, "✅ Đúng")
    assert sorted(await _memberships(bot, MAI)) == [("Mai", cell, "member"),
                                                    ("Mai", other, "observer")]


async def test_an_observer_cannot_report(bot: Harness) -> None:
    province = await bot.unit("Đảng bộ tỉnh Lạng Sơn", kind="đảng bộ tỉnh")
    code = await bot.invite(province, role=Role.OBSERVER)
    await bot.join_with(LAN, code, "Lan")
    seen = await bot.say(LAN, "/report")
    assert seen.shows("access.observer_only")


async def test_a_returning_member_is_greeted_and_the_commands_are_in_vietnamese(
    bot: Harness
) -> None:
    cell = await _cell(bot)
    await bot.join(MAI, cell, "Mai")
    hello = await bot.say(MAI, "/start")
    assert hello.shows("start.greeting", name="Mai")
    commands = {c.params.get("language_code"): c.params["commands"]
                for c in bot.fake.calls_to("setMyCommands")}
    assert {"command": "report", "description": VI.plain("command.report")} in commands[None]
    assert set(commands) == {None, "en"}


async def test_english_only_for_whoever_chooses_it(bot: Harness) -> None:
    cell = await _cell(bot)
    await bot.join(MAI, cell, "Mai")
    await bot.join(BINH, cell, "Bình")
    await bot.say(MAI, "/lang")
    chosen = await bot.tap(MAI, "🇬🇧 English")
    assert _says_in(chosen, "lang.set", "en")
    english = await bot.say(MAI, "/report")
    assert _says_in(english, "form.report.deed_date.prompt", "en")
    assert bot.buttons(MAI)[0] == "Today 27/11"
    assert bot.fake.reply_keyboard(MAI) == [["📝 Report a good deed"],
                                            ["📋 My reports", "🏅 Models"],
                                            ["📊 Statistics", "✍ Commitment", "❓ Help"]]
    menu_in_english = await bot.say(MAI, "📋 My reports")
    assert _says_in(menu_in_english, "my.empty", "en") and "Việc" not in menu_in_english.text
    vietnamese = await bot.say(BINH, "/report")
    assert _says_in(vietnamese, "form.report.deed_date.prompt", "vi")


async def test_a_telegram_name_that_is_no_name_is_not_offered(bot: Harness) -> None:
    cell = await _cell(bot)
    code = await bot.invite(cell)
    bot.person(MAI, "🌸")
    asked = await bot.say(MAI, f"/start {code}")
    assert asked.shows("form.join.full_name.prompt")
    assert "✅ Đúng" not in bot.buttons(MAI)
    await bot.say(MAI, "Hoàng Thị Mai")
    assert await _memberships(bot, MAI) == [("Hoàng Thị Mai", cell, "member")]


async def test_a_draft_its_owner_may_no_longer_finish_does_not_block_a_new_invite(
    bot: Harness
) -> None:
    cell = await _cell(bot)
    await bot.join(MAI, cell, "Mai")
    await bot.begin_report(MAI, description="Giúp bà con thu hoạch lúa chạy bão")
    async with bot.db.transaction() as tx:  # removed from the cell (leaders do this later)
        await tx.run("UPDATE memberships SET status = 'removed'")
    other = await bot.unit("Chi bộ Khối 1")
    seen = await bot.say(MAI, f"/start {await bot.invite(other)}")
    assert seen.shows("form.join.full_name.confirm_default", value="Mai")
    assert not seen.keys & UNDER_WAY
