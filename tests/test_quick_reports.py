"""A report written in one message: the card the bot reads from it, and what ✅ Gửi stores.
Driven through the real Application against the fake Telegram, as a member on a phone would."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers import forms
from storage import drafts
from tests.fakebot import FakeTelegram
from tests.harness import CATALOGUE, Harness, Seen, migrated_database, started

MAI, HOA, BINH = 1001, 1002, 1003
VI = CATALOGUE.texts("vi")
CARD = "form.report.quick_summary_title"
ASKS_FIRST = "form.report.quick_confirm_first"


def line(step: str, value: str) -> str:
    """A card's line as the member reads it."""
    return f"{VI.plain(f'form.report.{step}.label')}: {value}"


async def cell_of_three(bot: Harness) -> int:
    cell = await bot.unit("Chi bộ Thôn Nà Lầm")
    await bot.model(cell, "Dân vận khéo")
    await bot.join(MAI, cell, "Hoàng Thị Mai")
    await bot.join(HOA, cell, "Nguyễn Thị Hoa")
    await bot.join(BINH, cell, "Lò Văn Bình")
    return cell


async def card_after(bot: Harness, user_id: int, update_id: int, mark: int) -> Seen:
    """What the bot showed since `mark`, once the card (which waits for the rest of the
    member's messages) has come."""
    def card_shown(fake: object) -> bool:
        return any(c.chat_id == user_id and (CARD in c.keys or ASKS_FIRST in c.keys)
                   for c in bot.fake.calls[mark:])

    await bot.fake.wait_for(card_shown)
    return await bot.after(update_id, mark)


async def write(bot: Harness, user_id: int, text: str) -> Seen:
    mark = len(bot.fake.calls)
    return await card_after(bot, user_id, bot.fake.send_text(user_id, text), mark)


def telegram_after_a_restart() -> FakeTelegram:
    """Telegram as the next process finds it: the same people, later update ids."""
    fake = FakeTelegram()
    for user_id, name in ((MAI, "Hoàng Thị Mai"), (HOA, "Nguyễn Thị Hoa"), (BINH, "Lò Văn Bình")):
        fake.add_user(user_id, name)
    fake.continue_update_ids_from(9000)
    return fake


async def test_a_typical_report_is_one_message_and_one_tap(bot: Harness) -> None:
    await cell_of_three(bot)
    card = await write(bot, MAI, "Hôm qua cùng đ/c Hoa giúp 5 hộ nghèo ở thôn Nà Lầm sửa "
                                 "nhà, hỗ trợ 2tr5")
    assert card.shows(CARD)
    for shown in (line("deed_date", "26/11/2026"), line("households_helped", "5"),
                  line("value_vnd", "2.500.000 đ"), line("place", "thôn Nà Lầm"),
                  line("participant_ids", "Nguyễn Thị Hoa")):
        assert shown in card.text, shown
    assert "people_helped.label" not in card.keys, "only what was read is on the card"
    assert await bot.reports_of(MAI) == [], "nothing is a report before ✅ Gửi"
    assert bot.buttons(MAI) == ["✅ Gửi", "✏ Sửa", "➕ Thêm chi tiết", "✖ Hủy"]

    sent = await bot.tap(MAI, "✅ Gửi")
    assert sent.shows("report.received")
    [report] = await bot.reports_of(MAI)
    content = report.content
    assert (content.households_helped, content.value_vnd, content.place) == (
        5, 2_500_000, "thôn Nà Lầm")
    assert content.field == "An sinh xã hội, giảm nghèo"
    assert content.description.startswith("Hôm qua cùng đ/c Hoa")
    assert len(content.participant_ids) == 1
    assert not content.private


async def test_without_a_date_the_card_says_today_and_asks_the_field_it_cannot_tell(
        bot: Harness) -> None:
    await cell_of_three(bot)
    card = await write(bot, MAI, "Viết bài giới thiệu gương người tốt việc tốt của thôn")
    assert line("deed_date", "27/11/2026") in card.text
    assert card.shows("form.report.field.prompt")
    assert "Văn hóa" in bot.buttons(MAI)
    summary = await bot.tap(MAI, "Văn hóa")
    assert summary.shows(CARD)
    assert line("field", "Văn hóa") in summary.text
    await bot.tap(MAI, "✅ Gửi")
    [report] = await bot.reports_of(MAI)
    assert report.content.field == "Văn hóa"


async def test_a_date_said_but_not_usable_is_asked_rather_than_guessed(bot: Harness) -> None:
    await cell_of_three(bot)
    card = await write(bot, MAI, "Ngày 30/02 dọn vệ sinh đường làng cùng bà con thôn")
    assert card.shows("form.report.deed_date.prompt")
    assert "deed_date.label" not in card.keys


async def test_what_is_not_a_deed_gets_the_menu_and_no_card(bot: Harness) -> None:
    await cell_of_three(bot)
    for text in ("Chào đồng chí", "cam on nhieu", "ok", "👍👍👍", "Vâng ạ"):
        seen = await bot.say(MAI, text)
        assert seen.shows("fallback.text"), text
    sticker = await bot.send(MAI, "sticker")
    assert sticker.shows("fallback.text")
    assert bot.told(MAI, CARD) == 0


async def test_a_voice_note_is_asked_to_be_typed(bot: Harness) -> None:
    await cell_of_three(bot)
    seen = await bot.send(MAI, "voice")
    assert seen.shows("quick_report.voice")


async def test_an_album_with_a_caption_makes_one_card_with_every_photo(bot: Harness) -> None:
    await cell_of_three(bot)
    mark = len(bot.fake.calls)
    first = bot.fake.send_photo(MAI, media_group_id="a1",
                                caption="Sáng nay trồng 50 cây xanh ở đường vào thôn")
    for _ in range(2):
        bot.fake.send_photo(MAI, media_group_id="a1")
    card = await card_after(bot, MAI, first, mark)
    await bot.app.update_queue.join()
    assert card.shows(CARD)
    assert line("photos", "3 ảnh") in card.text
    assert bot.told(MAI, CARD) == 1
    await bot.tap(MAI, "✅ Gửi")
    [report] = await bot.reports_of(MAI)
    assert len(report.content.photos) == 3
    assert report.content.field == "Môi trường"


async def test_a_caption_on_the_albums_second_photo_is_read(bot: Harness) -> None:
    await cell_of_three(bot)
    mark = len(bot.fake.calls)
    first = bot.fake.send_photo(MAI, media_group_id="a2")
    bot.fake.send_photo(MAI, media_group_id="a2", caption="Tuần tra an ninh trật tự thôn đêm qua")
    card = await card_after(bot, MAI, first, mark)
    await bot.app.update_queue.join()
    assert line("photos", "2 ảnh") in bot.screen(MAI)
    assert card.shows(CARD)
    assert bot.told(MAI, CARD) == 1


async def test_a_photo_alone_makes_a_card_that_asks_what_was_done(bot: Harness) -> None:
    await cell_of_three(bot)
    mark = len(bot.fake.calls)
    card = await card_after(bot, MAI, bot.fake.send_photo(MAI), mark)
    assert card.shows("form.report.description.prompt")
    short = await bot.say(MAI, "dọn")
    assert short.shows("form.problem.too_short", length=3, min=10)
    mark = len(bot.fake.calls)
    summary = await card_after(bot, MAI, bot.fake.send_text(
        MAI, "Hôm qua dọn rác ở bờ suối cùng đoàn thanh niên"), mark)
    assert line("photos", "1 ảnh") in summary.text
    assert line("deed_date", "26/11/2026") in summary.text, "what was done is read in full"
    assert line("field", "Môi trường") in summary.text
    assert "✅ Gửi" in bot.buttons(MAI)


async def test_text_then_photos_and_two_texts_a_moment_apart_make_one_card(
        bot: Harness) -> None:
    await cell_of_three(bot)
    mark = len(bot.fake.calls)
    first = bot.fake.send_text(MAI, "Hôm qua thăm hỏi 3 gia đình chính sách trong thôn")
    bot.fake.send_text(MAI, "tặng quà trị giá 1,5 triệu")
    bot.fake.send_photo(MAI)
    card = await card_after(bot, MAI, first, mark)
    await bot.app.update_queue.join()
    assert bot.told(MAI, CARD) == 1
    assert line("value_vnd", "1.500.000 đ") in card.text
    assert line("photos", "1 ảnh") in card.text


async def test_a_forwarded_article_asks_first(bot: Harness) -> None:
    await cell_of_three(bot)
    mark = len(bot.fake.calls)
    update = bot.fake.forward_from_channel(
        MAI, "Xã tổ chức ra quân dọn vệ sinh môi trường toàn xã vào Chủ nhật", "Báo Lạng Sơn")
    asked = await card_after(bot, MAI, update, mark)
    assert asked.shows(ASKS_FIRST)
    assert "✅ Gửi" not in bot.buttons(MAI)
    card = await bot.tap(MAI, "📝 Đúng, báo cáo việc này")
    assert card.shows(CARD)
    assert "✅ Gửi" in bot.buttons(MAI)


async def test_an_edit_of_the_message_reads_the_card_again(bot: Harness) -> None:
    await cell_of_three(bot)
    mark = len(bot.fake.calls)
    update = bot.fake.send_text(MAI, "Hôm qua ủng hộ quỹ khuyến học cho học sinh 500k")
    await card_after(bot, MAI, update, mark)
    message_id = max(m["message_id"] for m in bot.fake.messages(MAI, include_incoming=True)
                     if m["from"]["id"] == MAI)
    mark = len(bot.fake.calls)
    edited = await card_after(bot, MAI, bot.fake.edit_text(
        MAI, message_id, "Hôm qua ủng hộ quỹ khuyến học cho học sinh 700k"), mark)
    assert line("value_vnd", "700.000 đ") in edited.text
    await bot.tap(MAI, "✅ Gửi")
    [report] = await bot.reports_of(MAI)
    assert report.content.value_vnd == 700_000


async def test_send_twice_stores_one_report_and_cancel_stores_none(bot: Harness) -> None:
    await cell_of_three(bot)
    await write(bot, MAI, "Sáng thứ 7 dọn rác ở bờ suối đầu bản cùng đoàn viên")
    message_id, data = bot.button(MAI, "✅ Gửi")
    await bot.press_data(MAI, message_id, data)
    again = await bot.press_data(MAI, message_id, data, check_button=False)
    assert again.shows("form.already_sent")
    assert len(await bot.reports_of(MAI)) == 1

    await write(bot, MAI, "Chiều chủ nhật họp tổ tự quản an ninh của xóm")
    cancelled = await bot.tap(MAI, "✖ Hủy")
    assert cancelled.shows("form.report.cancelled")
    assert len(await bot.reports_of(MAI)) == 1


async def test_more_details_from_the_card_skips_what_was_read(bot: Harness) -> None:
    await cell_of_three(bot)
    await write(bot, MAI, "Hôm qua cùng đ/c Bình giúp 4 hộ nghèo gặt lúa ở bản Nà Lầm")
    asked = await bot.tap(MAI, "➕ Thêm chi tiết")
    assert asked.shows("form.report.model_id.prompt")
    seen_prompts: set[str] = set()
    seen = asked
    while not seen.shows(CARD):
        seen_prompts |= {k for k in seen.keys if k.endswith(".prompt")}
        seen = await bot.tap(MAI, "Bỏ qua")
    assert "form.report.participant_ids.prompt" not in seen_prompts
    assert "form.report.households_helped.prompt" not in seen_prompts
    assert "form.report.people_helped.prompt" in seen_prompts


async def test_html_looking_text_is_shown_escaped_and_stored_as_written(bot: Harness) -> None:
    await cell_of_three(bot)
    text = "<b>Dọn rác</b> đường thôn'; DROP TABLE reports; -- cùng bà con"
    card = await write(bot, MAI, text)
    assert "&lt;b&gt;Dọn rác&lt;/b&gt;" in card.html
    await bot.tap(MAI, "✅ Gửi")
    [report] = await bot.reports_of(MAI)
    assert report.content.description == text


async def test_too_long_or_emoji_only_is_answered_and_nothing_lost(bot: Harness) -> None:
    await cell_of_three(bot)
    long = await bot.say(MAI, "Dọn vệ sinh đường thôn. " * 170)
    assert long.shows("quick_report.too_long", length=len(("Dọn vệ sinh đường thôn. " * 170)
                                                          .strip()), max=2000)
    emoji = await bot.say(MAI, "🌳🌳🌳🌳🌳🌳🌳🌳🌳🌳🌳")
    assert emoji.shows("fallback.text")
    assert bot.told(MAI, CARD) == 0


async def test_a_card_pressed_after_the_member_was_removed_stores_nothing(
        bot: Harness) -> None:
    await cell_of_three(bot)
    await write(bot, MAI, "Hôm qua tuần tra bảo vệ rừng cùng dân quân xã")
    async with bot.db.transaction() as tx:
        await tx.run("UPDATE memberships SET status = 'removed' WHERE person_id = "
                     "(SELECT id FROM people WHERE telegram_user_id = ?)", (MAI,))
    pressed = await bot.tap(MAI, "✅ Gửi")
    assert pressed.shows("access.not_member")
    assert await bot.reports_of(MAI) == []


async def test_someone_who_does_not_report_gets_no_card(bot: Harness) -> None:
    bot.person(4242, "Khách")
    seen = await bot.say(4242, "Hôm qua tôi dọn vệ sinh đường làng cùng bà con")
    assert seen.shows("access.not_member")
    assert bot.told(4242, CARD) == 0


async def test_a_card_owed_when_the_process_died_is_shown_after_the_restart(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with started(tmp_path) as before:
        await cell_of_three(before)
        # The process dies within the card's wait: the job that would show it never runs.
        with monkeypatch.context() as patched:
            patched.setattr(forms, "_acknowledge_album_later", lambda *_: None)
            await before.say(MAI, "Hôm qua dọn vệ sinh đường vào thôn cùng đoàn viên")
        assert before.told(MAI, CARD) == 0
    async with started(tmp_path, telegram_after_a_restart()) as after:
        await after.fake.wait_for(lambda f: after.told(MAI, CARD) == 1)
        sent = await after.tap(MAI, "✅ Gửi")
        assert sent.shows("report.received")
        [report] = await after.reports_of(MAI)
        assert report.content.field == "Môi trường"


async def test_an_edit_after_a_choice_on_the_card_keeps_the_choice(bot: Harness) -> None:
    await cell_of_three(bot)
    mark = len(bot.fake.calls)
    update = bot.fake.send_text(MAI, "Hôm qua dọn rác ở bờ suối đầu bản cùng bà con")
    await card_after(bot, MAI, update, mark)
    await bot.edit_on_summary(MAI, "chế độ công khai")
    await bot.tap(MAI, "🔒 Không công khai")
    message_id = max(m["message_id"] for m in bot.fake.messages(MAI, include_incoming=True)
                     if m["from"]["id"] == MAI)
    mark = len(bot.fake.calls)
    edited = await card_after(bot, MAI, bot.fake.edit_text(
        MAI, message_id, "Hôm qua dọn rác ở bờ suối đầu bản cùng bà con, 2 xe rác"), mark)
    assert "2 xe rác" in edited.text
    await bot.tap(MAI, "✅ Gửi")
    [report] = await bot.reports_of(MAI)
    assert report.content.private, "the member's choice outlives the edit"
    assert report.content.description.endswith("2 xe rác")


async def test_the_message_delivered_again_makes_no_second_card(bot: Harness) -> None:
    await cell_of_three(bot)
    mark = len(bot.fake.calls)
    update = bot.fake.send_text(MAI, "Hôm qua dọn rác ở bờ suối đầu bản cùng bà con")
    await card_after(bot, MAI, update, mark)
    await bot.redeliver(update)
    await bot.app.update_queue.join()
    assert bot.told(MAI, CARD) == 1
    await bot.tap(MAI, "✅ Gửi")
    [report] = await bot.reports_of(MAI)
    assert report.content.description == "Hôm qua dọn rác ở bờ suối đầu bản cùng bà con"


async def test_photos_sent_to_the_card_are_kept_once(bot: Harness) -> None:
    await cell_of_three(bot)
    await write(bot, MAI, "Hôm qua dọn rác ở bờ suối đầu bản cùng bà con")
    mark = len(bot.fake.calls)
    first = bot.fake.send_photo(MAI, file_id="suoi-1")
    bot.fake.send_photo(MAI, file_id="suoi-1")
    card = await card_after(bot, MAI, first, mark)
    await bot.app.update_queue.join()
    assert line("photos", "1 ảnh") in card.text


async def test_the_report_button_while_a_card_is_open_goes_back_to_the_card(
        bot: Harness) -> None:
    await cell_of_three(bot)
    await write(bot, MAI, "Hôm qua dọn rác ở bờ suối đầu bản cùng bà con")
    again = await bot.say(MAI, "📝 Báo cáo việc làm theo Bác")
    assert again.shows("form.report.resumed")
    assert again.shows(CARD)
    assert "✅ Gửi" in bot.buttons(MAI)


async def test_a_correction_typed_on_the_card_is_answered_when_replayed_after_a_restart(
        tmp_path: Path) -> None:
    """The process dies after taking what was done, typed again on the card (✏ Sửa nội dung),
    and before marking that message handled: its replay shows the card as it now stands. (The
    card's own handling took any message it had seen as its own, owing the card: nothing was
    owed, and the member saw no answer; found by the crash-restart test.)"""
    async with started(tmp_path) as before:
        await cell_of_three(before)
        await write(before, MAI, "Hôm qua dọn vệ sinh đường vào thôn cùng đoàn viên")
        await before.edit_on_summary(MAI, "nội dung")
        corrected = await before.say(MAI, "Hôm qua dọn vệ sinh đường vào thôn Nà Lầm")
        assert corrected.shows(CARD)
    db = await migrated_database(tmp_path / "lantoa.sqlite3")
    async with db.transaction() as tx:
        await tx.run("UPDATE inbox SET handled_at = NULL WHERE update_id = ?",
                     (corrected.update_id,))
    await db.close()
    async with started(tmp_path, telegram_after_a_restart()) as after:
        await after.fake.wait_for(lambda f: after.told(MAI, CARD) == 1)
        assert line("description", "Hôm qua dọn vệ sinh đường vào thôn Nà Lầm") in after.screen(MAI)
        await after.tap(MAI, "✅ Gửi")
        [report] = await after.reports_of(MAI)
        assert report.content.description == "Hôm qua dọn vệ sinh đường vào thôn Nà Lầm"


async def test_a_correction_after_the_card_was_shown_but_not_noted_is_an_answer(
        bot: Harness) -> None:
    """The card was shown and the process died before noting it (still owed): the member,
    who saw it, corrects the place. What they type is the place, not more of the message
    (found by the crash-restart test: the place was added to what was done)."""
    await cell_of_three(bot)
    await write(bot, MAI, "Sáng thứ 7 dọn rác ở bờ suối đầu bản cùng đoàn viên")
    async with bot.db.transaction() as tx:
        draft = await drafts.draft_of(tx, MAI)
        assert draft is not None
        owed = {**draft.state, "photos_unacknowledged": True}
        await drafts.save_state(tx, draft.id, owed, draft.updated_at)
    await bot.edit_on_summary(MAI, "địa điểm")
    card = await bot.say(MAI, "bờ suối Nà Lầm")
    assert card.shows(CARD)
    assert line("place", "bờ suối Nà Lầm") in card.text
    await bot.tap(MAI, "✅ Gửi")
    [report] = await bot.reports_of(MAI)
    assert report.content.description == "Sáng thứ 7 dọn rác ở bờ suối đầu bản cùng đoàn viên"
    assert report.content.place == "bờ suối Nà Lầm"


async def test_a_one_message_report_names_a_member_of_the_sibling_cell(bot: Harness) -> None:
    """A commune-wide deed: the other cell's member is found by name, typed without the marks;
    a name the cell has itself means its own member."""
    tree = await bot.tree()
    await bot.join(MAI, tree.cell, "Hoàng Thị Mai")
    await bot.join(HOA, tree.cell, "Nguyễn Thị Hoa")
    await bot.join(BINH, tree.sibling_cell, "Lò Văn Bình")
    await bot.join(2001, tree.sibling_cell, "Lê Thị Hoa")
    card = await write(bot, MAI, "Hôm qua cùng đ/c Lo Van Binh và Hoa tổng vệ sinh đường thôn "
                                 "hưởng ứng phong trào xanh của cả xã")
    assert card.shows(CARD)
    assert line("participant_ids", "Lò Văn Bình (Chi bộ Thôn Nà Pá), Nguyễn Thị Hoa") in (
        card.text)
    sent = await bot.tap(MAI, "✅ Gửi")
    assert sent.shows("report.received")
    [report] = await bot.reports_of(MAI)
    assert set(report.content.participant_ids) == {await bot.person_id(BINH),
                                                   await bot.person_id(HOA)}
