"""/announce: a leader writes to the unit's members and group, sees the announcement exactly as
they will, confirms with the real number of recipients, and hears at the end how many got it.
Everything goes through the deliveries ledger; the audit log keeps who announced what."""

from __future__ import annotations

from pathlib import Path

from bot.flows.announcements import period_of
from storage import announcements, audit, deliveries, groups
from storage.deliveries import Delivery, Status
from storage.entities import Role
from tests.fakebot import FakeTelegram
from tests.harness import CATALOGUE, Harness, Seen, Tree, as_read, started

SON, MAI, BINH, HANH, LAN, TUAN, VY, NAM, STRANGER = (
    4001, 4002, 4003, 4004, 4005, 4006, 4007, 4008, 4009)
GROUP = -1004001
TEXT = "Họp chi bộ lúc 19:30 thứ Hai tại nhà văn hóa thôn. Đề nghị các đồng chí dự đầy đủ."
VI = CATALOGUE.texts("vi")
CELL = "Chi bộ Thôn Bản Chặng"



def _recipients(people: int | str, groups: int | str = 0) -> str:
    """"3 đồng chí và 1 nhóm", or "2/3 đồng chí" once sent, as the bot counts them."""
    said_people = VI("announce.count_people", people=people)
    said_groups = VI("announce.count_groups", groups=groups)
    if people and groups:
        return VI("announce.count_both", people=said_people, groups=said_groups)
    return said_groups if groups else said_people


def _asks_to_send(seen: Seen, people: int, groups: int) -> bool:
    """The preview asks to confirm, with the real number of recipients."""
    return seen.shows("announce.confirm", recipients=_recipients(people, groups))


def _announcement(text: str = TEXT, unit: str = CELL) -> str:
    """The announcement as its readers see it."""
    return as_read(VI("announce.message", unit=unit, text=text))



async def _cell(bot: Harness) -> Tree:
    """Sơn leads Chi bộ Thôn Bản Chặng (Mai, Bình, Hạnh are its members, its group is linked);
    Lan is a member of its Tổ đảng số 1; Tuấn leads the commune; Vy observes it."""
    tree = await bot.tree()
    await bot.appoint(SON, tree.cell, Role.LEADER, "Sơn")
    for user, name in ((MAI, "Mai"), (BINH, "Bình"), (HANH, "Hạnh")):
        await bot.join(user, tree.cell, name)
    await bot.join(LAN, tree.group, "Lan")
    await bot.appoint(TUAN, tree.commune, Role.LEADER, "Tuấn")
    await bot.appoint(VY, tree.commune, Role.OBSERVER, "Vy")
    bot.fake.add_group(GROUP, "Chi bộ Thôn Bản Chặng")
    async with bot.db.transaction() as tx:
        await groups.link(tx, tree.cell, GROUP)
    return tree


async def _ledger(bot: Harness, kind: str = "announcement") -> list[Delivery]:
    async with bot.db.transaction() as tx:
        return await deliveries.in_ledger(tx, kind)


async def _entries(bot: Harness, action: str) -> list[dict]:
    async with bot.db.transaction() as tx:
        return await audit.entries(tx, action)


async def _write(bot: Harness, user: int, text: str = TEXT, audience: str | None = None,
                 unit: str | None = None) -> Seen:
    """/announce, the unit if asked, the text, no photo, the audience if asked: the preview."""
    await bot.say(user, "/announce")
    if unit is not None:
        await bot.tap(user, unit)
    await bot.say(user, text)
    seen = await bot.tap(user, "Bỏ qua")
    if audience is not None:
        seen = await bot.tap(user, audience)
    return seen


async def test_a_leader_previews_confirms_and_the_members_and_group_are_queued(
        bot: Harness) -> None:
    tree = await _cell(bot)
    started_form = await bot.say(SON, "/announce")
    assert started_form.shows("form.announcement.text.prompt")
    await bot.say(SON, TEXT)
    audience = await bot.tap(SON, "Bỏ qua")
    assert audience.shows("form.announcement.whole_subtree.prompt")
    assert bot.buttons(SON)[:2] == ["Chỉ đảng viên của Chi bộ Thôn Bản Chặng",
                                    "Toàn bộ các đơn vị trực thuộc"]
    preview = await bot.tap(SON, "Chỉ đảng viên của Chi bộ Thôn Bản Chặng")
    assert preview.shows("announce.message", unit=CELL, text=TEXT)
    # Mai, Bình, Hạnh (Sơn, the author, is left out; Lan is in the tổ) and the cell's group.
    assert _asks_to_send(preview, 3, 1)
    assert bot.buttons(SON) == ["✅ Gửi", "✖ Hủy", "✏ Sửa lại"]
    assert await _ledger(bot) == []

    sending = await bot.tap(SON, "✅ Gửi")
    assert sending.shows("announce.sending", recipients=_recipients(3, 1))
    rows = await _ledger(bot)
    assert {r.chat_id for r in rows} == {MAI, BINH, HANH, GROUP}
    assert {r.period for r in rows} == {"a1"} and {r.unit_id for r in rows} == {tree.cell}
    assert [r.person_id is None for r in rows].count(True) == 1
    assert all(TEXT in r.text and "Chi bộ Thôn Bản Chặng" in r.text for r in rows)
    [entry] = await _entries(bot, "announce")
    assert entry["subject"] == "announcement:1"
    assert entry["detail"] == f"unit:{tree.cell} audience:unit people:3 groups:1"
    assert entry["actor"].startswith("person:")
    async with bot.db.transaction() as tx:
        stored = await announcements.get(tx, 1)
    assert stored is not None and stored.text == TEXT and not stored.whole_subtree
    await bot.deliveries_settled()
    for chat in (MAI, BINH, HANH, GROUP):
        assert bot.screen(chat) == _announcement()
    assert bot.screen(SON) == as_read(VI("announce.result", date="27/11/2026",
                                        recipients=_recipients("3/3", "1/1")))
    assert not bot.told(SON, "announce.result_people_missed")
    assert not bot.told(SON, "announce.result_groups_missed")


async def test_pressing_send_twice_sends_once(bot: Harness) -> None:
    await _cell(bot)
    await _write(bot, SON, audience="Chỉ đảng viên của Chi bộ Thôn Bản Chặng")
    message_id, data = bot.button(SON, "✅ Gửi")
    await bot.press_data(SON, message_id, data)
    again = await bot.press_data(SON, message_id, data, check_button=False)
    assert again.shows("announce.gone")
    assert len(await _ledger(bot)) == 4
    assert len(await _entries(bot, "announce")) == 1


async def test_the_whole_subtree_reaches_the_units_below_each_person_once(bot: Harness) -> None:
    tree = await _cell(bot)
    # Mai leads the tổ as well as being a member of the cell: she gets it once.
    await bot.appoint(MAI, tree.group, Role.LEADER, "Mai")
    preview = await _write(bot, SON, audience="Toàn bộ các đơn vị trực thuộc")
    assert preview.shows("announce.audience_line_tree", unit=CELL)
    assert _asks_to_send(preview, 4, 1)
    await bot.tap(SON, "✅ Gửi")
    rows = await _ledger(bot)
    assert sorted(r.chat_id for r in rows) == sorted([MAI, BINH, HANH, LAN, GROUP])
    [entry] = await _entries(bot, "announce")
    assert "audience:subtree people:4 groups:1" in entry["detail"]


async def test_who_is_left_out(bot: Harness) -> None:
    """Observers, someone who blocked the bot, a member without Telegram, removed members."""
    tree = await _cell(bot)
    await bot.appoint(NAM, tree.cell, Role.OBSERVER, "Nam")
    async with bot.db.transaction() as tx:
        await tx.run("UPDATE people SET unreachable = 1 WHERE telegram_user_id = ?", (BINH,))
        await tx.run("UPDATE memberships SET status = 'removed' WHERE person_id = "
                     "(SELECT id FROM people WHERE telegram_user_id = ?)", (HANH,))
        without_telegram = await tx.run(
            "INSERT INTO people (telegram_user_id, full_name, created_at) "
            "VALUES (NULL, 'Cụ Tư', '2026-01-01T00:00:00+00:00')")
        await tx.run("INSERT INTO memberships (person_id, unit_id, role, joined_at) VALUES "
                     "(?, ?, 'member', '2026-01-01T00:00:00+00:00')",
                     (without_telegram, tree.cell))
    preview = await _write(bot, SON, audience="Chỉ đảng viên của Chi bộ Thôn Bản Chặng")
    assert _asks_to_send(preview, 1, 1)
    await bot.tap(SON, "✅ Gửi")
    assert {r.chat_id for r in await _ledger(bot)} == {MAI, GROUP}


async def test_what_the_leader_typed_is_shown_as_typed(bot: Harness) -> None:
    await _cell(bot)
    typed = "<b>Khẩn</b> & <i>quan trọng</i> 🎉 — họp lúc 19h <script>"
    preview = await _write(bot, SON, text=typed,
                           audience="Chỉ đảng viên của Chi bộ Thôn Bản Chặng")
    assert typed in preview.text
    assert "&lt;b&gt;Khẩn&lt;/b&gt; &amp;" in preview.html
    await bot.tap(SON, "✅ Gửi")
    rows = await _ledger(bot)
    assert all("&lt;script&gt;" in r.text and "🎉" in r.text for r in rows)


async def test_a_photo_goes_with_it_and_a_second_one_is_refused(bot: Harness) -> None:
    await _cell(bot)
    await bot.say(SON, "/announce")
    await bot.say(SON, TEXT)
    await bot.send(SON, "photo", file_id="poster-1")
    await bot.photos_acknowledged(SON, 1)
    second = await bot.send(SON, "photo", file_id="poster-2")
    assert second.shows("form.announcement.photo.too_many_photos", max=1)
    await bot.tap(SON, "Xong")
    preview = await bot.tap(SON, "Chỉ đảng viên của Chi bộ Thôn Bản Chặng")
    [photo] = [c for c in preview.calls if c.method == "sendPhoto"]
    assert photo.params["photo"] == "poster-1"
    assert preview.methods().index("sendPhoto") < preview.methods().index("sendMessage")
    mark = len(bot.fake.calls)
    await bot.tap(SON, "✅ Gửi")
    assert {r.photo_id for r in await _ledger(bot)} == {"poster-1"}
    await bot.deliveries_settled()
    for chat in (MAI, GROUP):
        sent = [c for c in bot.fake.calls[mark:]
                if c.chat_id == chat and c.method in ("sendMessage", "sendPhoto")]
        assert [(c.method, c.params.get("photo")) for c in sent] == [("sendPhoto", "poster-1")], \
            "one message: the photo, the words under it"
        assert TEXT in bot.screen(chat)


async def test_bad_text_gets_a_clear_answer_and_loses_nothing(bot: Harness) -> None:
    await _cell(bot)
    await bot.say(SON, "/announce")
    assert (await bot.say(SON, "   ")).shows("form.problem.empty")
    too_long = await bot.say(SON, "Họp chi bộ. " * 834)
    assert too_long.shows("form.announcement.text.too_long", length="10.007", max="3.000")
    assert (await bot.say(SON, "🎉🎉🎉")).shows("form.announcement.text.no_letters")
    sticker = await bot.send(SON, "sticker")
    assert sticker.shows("form.problem.unexpected", step=VI("form.announcement.text.short"),
                         hint=VI("form.announcement.text.hint"))
    await bot.say(SON, "Họp chi bộ 🎉")
    voice = await bot.send(SON, "voice")
    assert voice.shows("form.problem.unexpected", step=VI("form.announcement.photo.short"),
                       hint=VI("form.announcement.photo.hint"))
    await bot.tap(SON, "Bỏ qua")
    preview = await bot.tap(SON, "Chỉ đảng viên của Chi bộ Thôn Bản Chặng")
    assert preview.shows("announce.message", unit=CELL, text="Họp chi bộ 🎉")
    typed = await bot.say(SON, "gửi đi")
    assert typed.shows("form.problem.use_buttons") and await _ledger(bot) == []


async def test_the_exact_limit_is_accepted(bot: Harness) -> None:
    await _cell(bot)
    preview = await _write(bot, SON, text="Họp" + "x" * 2997,
                           audience="Chỉ đảng viên của Chi bộ Thôn Bản Chặng")
    assert _asks_to_send(preview, 3, 1)


async def test_members_observers_and_strangers_are_refused_politely(bot: Harness) -> None:
    await _cell(bot)
    bot.person(STRANGER, "Khách")
    assert (await bot.say(MAI, "/announce")).shows("access.denied")
    assert (await bot.say(VY, "/announce")).shows("access.read_only",
                                                  unit="Đảng bộ xã Tràng Định")
    assert (await bot.say(STRANGER, "/announce")).shows("access.not_member")
    refused = [e["subject"] for e in await _entries(bot, "refused")]
    assert refused.count("announce") == 3


async def test_an_admin_the_bot_knows_no_person_for_cannot_sign_one(tmp_path: Path) -> None:
    async with started(tmp_path, admins=[STRANGER]) as bot:
        await _cell(bot)
        bot.person(STRANGER, "Quản trị")
        seen = await bot.say(STRANGER, "/announce")
        assert seen.shows("announce.not_allowed")
        assert await _ledger(bot) == []


async def test_forged_or_stale_confirmations_touch_nothing(bot: Harness) -> None:
    await _cell(bot)
    await _write(bot, SON, audience="Chỉ đảng viên của Chi bộ Thôn Bản Chặng")
    _, data = bot.button(SON, "✅ Gửi")
    mine = bot.fake.last_message(MAI)
    assert mine is not None
    # Mai presses Sơn's confirmation (his draft's id) from her own chat.
    forged = await bot.press_data(MAI, mine["message_id"], data, check_button=False)
    assert forged.shows("announce.gone")
    for garbled in ("an:go:", "an:go:abc", "an:zz:1", "an:go:99999999999999999999999"):
        seen = await bot.press_data(SON, bot.button(SON, "✅ Gửi")[0], garbled,
                                    check_button=False)
        assert seen.shows("announce.gone"), garbled
    assert await _ledger(bot) == []
    # Sơn's own confirmation still works.
    await bot.tap(SON, "✅ Gửi")
    assert len(await _ledger(bot)) == 4


async def test_a_leader_who_lost_the_role_before_confirming_is_refused(bot: Harness) -> None:
    tree = await _cell(bot)
    await _write(bot, SON, audience="Chỉ đảng viên của Chi bộ Thôn Bản Chặng")
    async with bot.db.transaction() as tx:
        # Sơn steps down to an ordinary member of the cell.
        await tx.run("UPDATE memberships SET role = 'member' WHERE role = 'leader' AND "
                     "person_id = (SELECT id FROM people WHERE telegram_user_id = ?)", (SON,))
    refused = await bot.tap(SON, "✅ Gửi")
    assert refused.shows("access.denied")
    assert await _ledger(bot) == []
    assert await _entries(bot, "announce") == []
    [logged] = [e for e in await _entries(bot, "refused") if e["subject"] == "announce"]
    assert logged["detail"] == f"unit:{tree.cell}"


async def test_a_leader_of_two_units_picks_one_and_a_unit_with_nobody_says_so(
        bot: Harness) -> None:
    tree = await _cell(bot)
    await bot.appoint(TUAN, tree.other_commune, Role.LEADER, "Tuấn")
    await bot.say(TUAN, "/announce")
    assert bot.buttons(TUAN)[:2] == ["Đảng bộ xã Tràng Định", "Đảng bộ phường Hoàng Văn Thụ"]
    # A unit not offered (a cell below: reached through the audience), forged into the
    # form's own button: refused.
    message_id, data = bot.button(TUAN, "Đảng bộ phường Hoàng Văn Thụ")
    forged = data.rsplit(":", 1)[0] + f":{tree.cell}"
    seen = await bot.press_data(TUAN, message_id, forged, check_button=False)
    assert seen.shows("form.problem.old_button")
    await bot.tap(TUAN, "Đảng bộ phường Hoàng Văn Thụ")
    await bot.say(TUAN, TEXT)
    nobody = await bot.tap(TUAN, "Bỏ qua")  # no unit below it: no audience step
    assert nobody.shows("announce.nobody", unit="Đảng bộ phường Hoàng Văn Thụ")
    assert "✅ Gửi" not in bot.buttons(TUAN)
    assert await _ledger(bot) == []
    # Tuấn changes the unit instead: the commune, with every unit below.
    await bot.tap(TUAN, "✏ Sửa lại")
    await bot.edit_on_summary(TUAN, "đơn vị")
    asked = await bot.tap(TUAN, "Đảng bộ xã Tràng Định")
    assert asked.shows("form.announcement.whole_subtree.prompt")
    preview = await bot.tap(TUAN, "Toàn bộ các đơn vị trực thuộc")
    assert _asks_to_send(preview, 5, 1)  # Sơn is a recipient this time
    await bot.tap(TUAN, "✅ Gửi")
    rows = await _ledger(bot)
    assert {r.chat_id for r in rows} == {SON, MAI, BINH, HANH, LAN, GROUP}
    assert {r.unit_id for r in rows} == {tree.commune}


async def test_cancel_sends_nothing(bot: Harness) -> None:
    await _cell(bot)
    await _write(bot, SON, audience="Chỉ đảng viên của Chi bộ Thôn Bản Chặng")
    cancelled = await bot.tap(SON, "✖ Hủy")
    assert cancelled.shows("form.announcement.cancelled")
    assert await _ledger(bot) == []
    anew = await bot.say(SON, "/announce")
    assert [c.keys & {"form.announcement.text.prompt", "form.announcement.resumed"}
            for c in anew.calls] == [{"form.announcement.text.prompt"}], "a new form, once"


async def test_the_draft_survives_a_restart(tmp_path: Path) -> None:
    async with started(tmp_path) as before:
        await _cell(before)
        await before.say(SON, "/announce")
        typed = await before.say(SON, TEXT)
    fresh = FakeTelegram()
    fresh.add_user(SON, "Sơn")
    fresh.continue_update_ids_from(typed.update_id + 1000)
    async with started(tmp_path, fresh) as after:
        resumed = await after.say(SON, "/announce")
        assert resumed.shows("form.announcement.resumed")
        await after.tap(SON, "Bỏ qua")
        preview = await after.tap(SON, "Chỉ đảng viên của Chi bộ Thôn Bản Chặng")
        assert TEXT in preview.text
        await after.tap(SON, "✅ Gửi")
        assert len(await _ledger(after)) == 4


async def test_the_author_hears_how_many_got_it(bot: Harness) -> None:
    await _cell(bot)
    await _write(bot, SON, audience="Chỉ đảng viên của Chi bộ Thôn Bản Chặng")
    bot.fake.block(BINH)
    await bot.tap(SON, "✅ Gửi")
    await bot.deliveries_settled()
    for user in (MAI, HANH, GROUP):
        assert bot.screen(user) == _announcement()
    statuses = {r.chat_id: r.status for r in await _ledger(bot)}
    assert statuses == {MAI: Status.SENT, BINH: Status.UNREACHABLE, HANH: Status.SENT,
                        GROUP: Status.SENT}
    [result] = await _ledger(bot, "announcement_result")
    assert result.chat_id == SON and result.period == period_of(1)
    expected = " ".join([
        VI("announce.result", date="27/11/2026", recipients=_recipients("2/3", "1/1")),
        VI("announce.result_people_missed", count=1)])
    assert bot.screen(SON) == as_read(expected)
    async with bot.db.transaction() as tx:
        stored = await announcements.get(tx, 1)
        assert stored is not None and stored.reported_at is not None
        # Told once: a late call changes nothing, nor one for something else.
        assert await bot.core.announcements.settled(tx, result.unit_id, result.period) == 0
        assert await bot.core.announcements.settled(tx, result.unit_id, "a99") == 0
        assert await bot.core.announcements.settled(tx, result.unit_id, "2026-W48") == 0
    # Bình blocked the bot: the next announcement leaves him out from the start.
    preview = await _write(bot, SON, audience="Chỉ đảng viên của Chi bộ Thôn Bản Chặng")
    assert _asks_to_send(preview, 2, 1)


async def test_the_author_is_told_only_once_everything_settled(bot: Harness) -> None:
    """Asked after each delivery settles: nothing while any is still on its way. (All in one
    transaction: the paced sender never sees these rows.)"""
    tree = await _cell(bot)
    async with bot.db.transaction() as tx:
        people = {r["telegram_user_id"]: r["id"] for r in await tx.all(
            "SELECT id, telegram_user_id FROM people")}
        made = await announcements.add(tx, announcements.NewAnnouncement(
            unit_id=tree.cell, author_id=people[SON], text=TEXT), bot.clock.now())
        period = period_of(made.id)
        await deliveries.queue(tx, [
            deliveries.NewDelivery(kind="announcement", unit_id=tree.cell, chat_id=chat,
                                   period=period, person_id=people[chat], status=status)
            for chat, status in ((MAI, Status.SENT), (BINH, Status.QUEUED))], bot.clock.now())
        [waiting] = [r for r in await deliveries.in_ledger(tx, "announcement")
                     if r.status is Status.QUEUED]
        assert await bot.core.announcements.settled(tx, tree.cell, period) == 0
        assert await deliveries.start_sending(tx, waiting.id)
        assert await bot.core.announcements.settled(tx, tree.cell, period) == 0
        await deliveries.settle(tx, waiting.id, Status.FAILED, bot.clock.now())
        assert await bot.core.announcements.settled(tx, tree.cell + 1, period) == 0
        assert await bot.core.announcements.settled(tx, tree.cell, period) == 1
        assert await bot.core.announcements.settled(tx, tree.cell, period) == 0
        [result] = await deliveries.in_ledger(tx, "announcement_result")
        # No group among the recipients: none is mentioned.
        assert result.text == " ".join([
            VI("announce.result", date="27/11/2026", recipients=_recipients("1/2")),
            VI("announce.result_people_missed", count=1)])
        assert bot.fake.key_source is not None
        said = bot.fake.key_source(result.text)
        assert not said & {"announce.count_both", "announce.count_groups",
                           "announce.result_groups_missed"}
        await tx.run("DELETE FROM deliveries WHERE period = ?", (period,))
