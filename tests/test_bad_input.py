"""Wrong answers, odd messages and forged buttons: each gets a short Vietnamese answer, and the
draft and the database stay as they were."""

from __future__ import annotations

import pytest

from storage import drafts
from tests.harness import CATALOGUE, Harness

MAI, STRANGER = 1001, 1999
VI = CATALOGUE.texts("vi")


async def _step(bot: Harness, user_id: int) -> str:
    async with bot.db.transaction() as tx:
        draft = await drafts.draft_of(tx, user_id)
    return draft.state["step"] if draft else ""


async def _answers(bot: Harness, user_id: int) -> dict:
    async with bot.db.transaction() as tx:
        draft = await drafts.draft_of(tx, user_id)
    return dict(draft.state["answers"]) if draft else {}


async def _at(bot: Harness, step: str) -> None:
    """A member with a report under way at `step`."""
    cell = await bot.unit("Chi bộ Thôn Bản Chặng")
    await bot.model(cell, "Tiết kiệm theo gương Bác")
    await bot.join(MAI, cell, "Mai")
    await bot.join(1002, cell, "Bình")
    await bot.say(MAI, "/report")
    path = [("tap", "Hôm qua"), ("tap", "Kinh tế"),
            ("say", "Giúp hộ nghèo thôn Bản Chặng sửa chuồng trại"), ("tap", "➕ Thêm chi tiết"),
            *[("tap", "Bỏ qua")] * 7]
    for action, value in path:
        if await _step(bot, MAI) == step:
            return
        await (bot.tap(MAI, value) if action == "tap" else bot.say(MAI, value))
    assert await _step(bot, MAI) == step


NOT_A_NUMBER = ("form.problem.not_number", {})
NOT_MONEY = ("form.problem.not_money", {})
PICK_A_BUTTON = ("form.problem.pick_button", {})
UNREADABLE_DATE = ("form.problem.date_unreadable", {})
# What was typed at a step, and what the bot says to it: a catalogue key and its values.
WRONG_ANSWERS = [
    ("deed_date", "abc", UNREADABLE_DATE),
    ("deed_date", "30/12/2026", ("form.problem.date_future", {})),
    ("deed_date", "1/1/2020", ("form.problem.date_too_old", {"days": 365})),
    ("deed_date", "31/02/2026", UNREADABLE_DATE),
    ("field", "nông nghiệp", PICK_A_BUTTON),
    ("description", "ngắn", ("form.problem.too_short", {"length": 4, "min": 10})),
    ("description", "x" * 5000, ("form.problem.too_long", {"length": "5.000", "max": "2.000"})),
    ("description", "!!!!!!!!!!!!!!!!", ("form.problem.no_letters", {})),
    ("description", "   ", ("form.problem.empty", {})),
    ("model_id", "mô hình khác", PICK_A_BUTTON),
    ("people_helped", "-3", NOT_A_NUMBER),
    ("people_helped", "ba người", NOT_A_NUMBER),
    ("people_helped", "2.5", NOT_A_NUMBER),
    ("people_helped", "1000000", ("form.problem.out_of_range", {"min": 0, "max": "100.000"})),
    ("households_helped", "🏠🏠", NOT_A_NUMBER),
    ("value_vnd", "-20tr", NOT_MONEY),
    ("value_vnd", "nhiều tiền", NOT_MONEY),
    ("value_vnd", "5 con gà", NOT_MONEY),
    ("value_vnd", "500", ("form.problem.money_unclear", {"amount": 500})),
    ("place", "x", ("form.report.place.too_short", {})),
    ("photos", "đây là ảnh", ("form.problem.unexpected", {
        "step": VI("form.report.photos.short"), "hint": VI("form.hint.photos")})),
    ("public", "có lẽ", PICK_A_BUTTON),
]


@pytest.mark.parametrize(("step", "typed", "expected"), WRONG_ANSWERS)
async def test_a_wrong_answer_is_explained_and_the_draft_kept(
    bot: Harness, step: str, typed: str, expected: tuple[str, dict]
) -> None:
    await _at(bot, step)
    before = await _answers(bot, MAI)
    seen = await bot.say(MAI, typed)
    key, values = expected
    assert seen.shows(key, **values)
    assert seen.asks_again(f"form.report.{step}.prompt"), "the question comes again"
    assert seen.shows("form.progress")
    assert await _step(bot, MAI) == step
    assert await _answers(bot, MAI) == before


@pytest.mark.parametrize("kind", ["sticker", "voice", "contact"])
async def test_unexpected_messages_mid_form_name_the_step(bot: Harness, kind: str) -> None:
    await _at(bot, "value_vnd")
    details = {"phone": "0912345678", "first_name": "Bình"} if kind == "contact" else {}
    seen = await bot.send(MAI, kind, **details)
    assert seen.shows("form.problem.unexpected", step=VI("form.report.value_vnd.short"),
                      hint=VI("form.hint.money"))
    assert seen.shows("form.report.value_vnd.prompt") and seen.shows("form.skip_hint")
    assert "Bỏ qua" in bot.buttons(MAI)
    assert await _step(bot, MAI) == "value_vnd"


async def test_another_command_mid_form_keeps_the_draft(bot: Harness) -> None:
    await _at(bot, "value_vnd")
    unknown = await bot.say(MAI, "/foo")
    assert unknown.shows("form.problem.unexpected", step=VI("form.report.value_vnd.short"),
                         hint=VI("form.hint.money"))
    shown = await bot.say(MAI, "/help")
    assert shown.shows("help.member")
    assert shown.shows("form.report.draft_kept")
    resumed = await bot.say(MAI, "/report")
    assert resumed.shows("form.report.resumed") and resumed.shows("form.report.value_vnd.prompt")
    assert await _step(bot, MAI) == "value_vnd"
    taken = await bot.say(MAI, "250k")
    assert taken.shows("form.echo", label=VI("form.report.value_vnd.label"), typed="250k",
                       value="250.000 đ")
    assert taken.shows("form.report.place.prompt")


async def test_html_and_sql_looking_text_is_kept_verbatim_and_shown_escaped(
    bot: Harness
) -> None:
    await _at(bot, "description")
    hostile = "<b>Sửa</b> nhà'; DROP TABLE reports; -- & <script>"
    summary = await bot.say(MAI, hostile)
    answers = await _answers(bot, MAI)
    assert answers["description"] == hostile
    assert summary.shows("form.report.summary_title")
    # The fake rejects malformed HTML the way Telegram does, so arriving at all means escaped.
    assert f"{VI.plain('form.report.description.label')}: {hostile}" in bot.screen(MAI)
    assert "&lt;b&gt;Sửa&lt;/b&gt;" in summary.html
    await bot.tap(MAI, "✅ Gửi ngay")
    async with bot.db.transaction() as tx:
        row = await tx.one("SELECT description FROM reports")
    assert row["description"] == hostile


async def test_emoji_and_decomposed_vietnamese_are_stored_as_typed_in_nfc(bot: Harness) -> None:
    await _at(bot, "description")
    decomposed = "Giu\u0301p ba\u0300 con ho\u0323c chu\u031b\u0303 🌾🙏"
    await bot.say(MAI, decomposed)
    assert (await _answers(bot, MAI))["description"] == "Giúp bà con học chữ 🌾🙏"


async def test_a_forged_press_for_another_step_is_refused(bot: Harness) -> None:
    await _at(bot, "description")
    await bot.say(MAI, "Giúp hộ nghèo thôn Bản Chặng sửa chuồng trại")
    await bot.tap(MAI, "➕ Thêm chi tiết")
    message_id, _ = bot.button(MAI, "Bỏ qua")
    # A forged "skip" on the required date step of the same draft.
    forged = f"f:{(await _draft_id(bot))}:0:skip:"
    seen = await bot.press_data(MAI, message_id, forged, check_button=False)
    assert seen.shows("form.problem.old_button")
    assert await _step(bot, MAI) == "model_id"


async def _draft_id(bot: Harness) -> int:
    async with bot.db.transaction() as tx:
        draft = await drafts.draft_of(tx, MAI)
    assert draft is not None
    return draft.id


async def test_forged_choice_never_offered_is_refused(bot: Harness) -> None:
    await _at(bot, "model_id")
    message_id, _ = bot.button(MAI, "Tiết kiệm theo gương Bác")
    forged = f"f:{await _draft_id(bot)}:3:pick:999999"
    seen = await bot.press_data(MAI, message_id, forged, check_button=False)
    assert seen.shows("form.problem.old_button")
    assert await _step(bot, MAI) == "model_id"
    assert "model_id" not in await _answers(bot, MAI)


async def test_garbage_callback_data_gets_a_polite_note(bot: Harness) -> None:
    await _at(bot, "field")
    message_id, _ = bot.button(MAI, "Kinh tế")
    for data in ("x", "f:abc", "f:1:2:3:4:5", "my:open:abc", "lang:xx", "' OR 1=1 --"):
        seen = await bot.press_data(MAI, message_id, data, check_button=False)
        assert seen.toast, data
    assert await _step(bot, MAI) == "field"


async def test_a_button_from_an_old_finished_form(bot: Harness) -> None:
    await _at(bot, "field")
    message_id, old_data = bot.button(MAI, "Kinh tế")
    await bot.say(MAI, "/cancel")
    seen = await bot.press_data(MAI, message_id, old_data, check_button=False)
    assert seen.shows("form.ended")
    await bot.say(MAI, "/report")
    again = await bot.press_data(MAI, message_id, old_data, check_button=False)
    assert again.shows("form.ended"), "a new draft does not take old buttons"
    assert await _step(bot, MAI) == "deed_date"


@pytest.mark.parametrize("command", ["/report", "/my", "📝 Báo cáo việc làm theo Bác",
                                     "📋 Việc đã báo cáo", "xin chào", "/start"])
async def test_a_stranger_is_told_how_to_join(bot: Harness, command: str) -> None:
    bot.person(STRANGER, "Người", "Lạ")
    seen = await bot.say(STRANGER, command)
    assert seen.shows("access.not_member")
    async with bot.db.transaction() as tx:
        assert await drafts.draft_of(tx, STRANGER) is None


async def test_an_edited_message_is_not_taken_as_an_answer(bot: Harness) -> None:
    await _at(bot, "description")
    incoming = bot.fake.messages(MAI, include_incoming=True)[-1]
    update_id = bot.fake.send_raw({"edited_message": {**incoming, "text": "đã sửa",
                                                      "edit_date": incoming["date"] + 5}})
    mark = len(bot.fake.calls)
    seen = await bot.after(update_id, mark)
    assert seen.shows("fallback.edited")
    assert await _step(bot, MAI) == "description"


async def test_the_longest_description_full_of_markup_still_reaches_the_summary(
    bot: Harness
) -> None:
    await _at(bot, "description")
    longest = ("Bà con & đoàn viên <cùng> sửa đường " * 80)[:2000]
    summary = await bot.say(MAI, longest)
    assert "✅ Gửi ngay" in bot.buttons(MAI), "the summary arrived with its buttons"
    assert summary.shows("form.report.summary_title") and "…" in summary.text
    await bot.tap(MAI, "✅ Gửi ngay")
    async with bot.db.transaction() as tx:
        row = await tx.one("SELECT description FROM reports")
    assert row["description"] == longest.strip()
    await bot.say(MAI, "/my")
    opened = await bot.tap(MAI, "1. 26/11")
    assert longest.strip() in opened.text.replace("\n", " "), "shown whole in /my"


async def test_editing_an_old_message_into_a_command_does_nothing_to_the_form(
    bot: Harness
) -> None:
    await _at(bot, "description")
    incoming = bot.fake.messages(MAI, include_incoming=True)[-1]
    mark = len(bot.fake.calls)
    update_id = bot.fake.send_raw({"edited_message": {**incoming, "text": "/cancel",
                                                      "edit_date": incoming["date"] + 5}})
    seen = await bot.after(update_id, mark)
    assert seen.shows("fallback.edited")
    assert await _step(bot, MAI) == "description"


@pytest.mark.parametrize("data", ["f:²:0:pick:x", "f:1:²:pick:x", "my:open:²", "my:open:٣"])
async def test_forged_data_with_odd_digits_gets_a_polite_note(bot: Harness, data: str) -> None:
    await _at(bot, "field")
    message_id, _ = bot.button(MAI, "Kinh tế")
    seen = await bot.press_data(MAI, message_id, data, check_button=False)
    assert seen.toast and not seen.shows("error.generic")
    assert await _step(bot, MAI) == "field"
