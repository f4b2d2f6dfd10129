"""A member reports what they did, step by step, the way it happens on a phone."""

from __future__ import annotations

import datetime as dt
import json

from storage.entities import ReportState, Role
from tests.harness import CATALOGUE, Harness, Seen, as_read
from tests.test_joins import MENU

MAI, BINH, SON = 1001, 1002, 1003
VI = CATALOGUE.texts("vi")


def _answer(step: str, value: str) -> str:
    """A summary's line: the step's name and the answer (the form writes "name: answer")."""
    return f"{VI.plain(f'form.report.{step}.label')}: {value}"


async def _cell_with_three(bot: Harness) -> int:
    cell = await bot.unit("Chi bộ Thôn Bản Chặng")
    await bot.model(cell, "Dân vận khéo xây dựng nông thôn mới")
    await bot.model(cell, "Tiết kiệm theo gương Bác")
    await bot.join(MAI, cell, "Mai", "Hoang")
    await bot.join(BINH, cell, "Bình", "Nông Văn")
    await bot.join(SON, cell, "Sơn", "Hoàng Văn")
    return cell


async def test_a_full_report_from_menu_to_confirmation(bot: Harness) -> None:
    await _cell_with_three(bot)
    first = await bot.say(MAI, "📝 Báo cáo việc làm theo Bác")
    assert first.shows("form.report.deed_date.prompt")
    assert bot.buttons(MAI)[:3] == ["Hôm nay 27/11", "Hôm qua 26/11", "Thứ Tư 25/11"]

    asked = await bot.say(MAI, "thu 7")
    assert asked.shows("form.date_confirm", weekday="Thứ Bảy", date="21/11/2026")
    field = await bot.tap(MAI, "✅ Đúng")
    assert field.shows("form.answered", label=VI("form.report.deed_date.label"),
                       value="21/11/2026")
    assert field.shows("form.report.field.prompt")
    assert "An sinh xã hội, giảm nghèo" in bot.buttons(MAI)

    await bot.tap(MAI, "An sinh xã hội, giảm nghèo")
    short = await bot.say(MAI, "sua nha cho ho ba Hoa"[:8])
    assert short.shows("form.problem.too_short", length=7, min=10)
    assert short.shows("form.report.description.prompt", min=10), "the question comes again"
    summary = await bot.say(MAI,
                            "Cùng 2 đồng chí sửa mái nhà dột cho hộ bà Lăng Thị Hoa, hộ nghèo")
    assert summary.shows("form.report.summary_title")
    assert bot.buttons(MAI) == ["✅ Gửi ngay", "✏ Sửa", "➕ Thêm chi tiết", "✖ Hủy"]
    model = await bot.tap(MAI, "➕ Thêm chi tiết")
    assert model.shows("form.report.model_id.prompt") and model.shows("form.skip_hint")
    assert model.shows("form.progress", step=4, total=11)

    asked_model, _ = bot.button(MAI, "Dân vận khéo xây dựng nông thôn mới")
    together = await bot.tap(MAI, "Dân vận khéo xây dựng nông thôn mới")
    assert together.shows("form.answered", label=VI("form.report.model_id.label"),
                          value="Dân vận khéo xây dựng nông thôn mới")
    assert bot.message(MAI, asked_model)["text"] == as_read(VI(
        "form.answered", label=VI("form.report.model_id.label"),
        value="Dân vận khéo xây dựng nông thôn mới"))
    assert bot.buttons_on(MAI, asked_model) == [], "the answer stays, its buttons gone"
    assert together.shows("form.report.participant_ids.prompt")
    assert bot.buttons(MAI)[:2] == ["☐ Bình Nông Văn", "☐ Sơn Hoàng Văn"]
    await bot.tap(MAI, "☐ Bình Nông Văn")
    assert "☑ Bình Nông Văn" in bot.buttons(MAI)
    await bot.say(MAI, "son")  # typing a name without diacritics picks that member
    assert "☑ Sơn Hoàng Văn" in bot.buttons(MAI)
    helped = await bot.tap(MAI, "Xong")
    assert helped.shows("form.answered", label=VI("form.report.participant_ids.label"),
                        value="Bình Nông Văn, Sơn Hoàng Văn")
    assert helped.shows("form.report.people_helped.prompt")
    asked_people, _ = bot.button(MAI, "Bỏ qua")
    households = await bot.say(MAI, "4 người")
    assert households.shows("form.echo", label=VI("form.report.people_helped.label"),
                            typed="4 người", value="4")
    assert households.shows("form.report.households_helped.prompt")
    assert bot.buttons_on(MAI, asked_people) == [], "only the latest question keeps buttons"
    value = await bot.say(MAI, "1")
    assert not value.shows("form.echo"), "nothing to say back: it was read as typed"
    place = await bot.say(MAI, "2tr")
    assert place.shows("form.echo", label=VI("form.report.value_vnd.label"), typed="2tr",
                       value="2.000.000 đ")
    assert place.shows("form.report.place.prompt")
    photos = await bot.say(MAI, "thôn Bản Chặng")
    assert photos.shows("form.report.photos.prompt")

    bot.fake.send_photo(MAI, media_group_id="album-1")
    bot.fake.send_photo(MAI, media_group_id="album-1")
    await bot.photos_acknowledged(MAI, 2)
    acknowledgements = [c for c in bot.fake.calls if c.params.get("chat_id") == MAI
                        and "form.photos_received" in c.keys]
    assert len(acknowledgements) == 1, "an album is acknowledged once"

    public = await bot.tap(MAI, "Xong")
    assert public.shows("form.report.public.prompt")
    summary = await bot.tap(MAI, "🌐 Có, công khai")
    assert summary.shows("form.report.summary_title")
    for expected in (_answer("deed_date", "21/11/2026"),
                     _answer("field", "An sinh xã hội, giảm nghèo"),
                     _answer("model_id", "Dân vận khéo xây dựng nông thôn mới"),
                     _answer("participant_ids", "Bình Nông Văn, Sơn Hoàng Văn"),
                     _answer("people_helped", "4"), _answer("households_helped", "1"),
                     _answer("value_vnd", "2.000.000 đ"), _answer("place", "thôn Bản Chặng"),
                     _answer("photos", VI.plain("form.photo_count", count=2)),
                     _answer("public", VI.plain("form.report.public.yes"))):
        assert expected in summary.text
    assert bot.buttons(MAI) == ["✅ Gửi", "✏ Sửa", "✖ Hủy"], "no detail left to add"
    picker = await bot.tap(MAI, "✏ Sửa")
    assert picker.shows("form.pick_field")
    assert "✏ Sửa nội dung" in bot.buttons(MAI) and "✅ Gửi" not in bot.buttons(MAI)
    again = await bot.tap(MAI, "◀ Quay lại")
    assert again.shows("form.report.summary_title") and not again.shows("form.pick_field")

    done = await bot.tap(MAI, "✅ Gửi")
    assert done.shows("report.received")
    assert bot.fake.reply_keyboard(MAI) == MENU

    [stored] = await bot.reports_of(MAI)
    content = stored.content
    assert stored.state is ReportState.PENDING
    assert content.deed_date == dt.date(2026, 11, 21)
    assert content.description.startswith("Cùng 2 đồng chí sửa mái nhà dột")
    assert (content.people_helped, content.households_helped, content.value_vnd) == (
        4, 1, 2_000_000)
    assert content.place == "thôn Bản Chặng" and not content.private
    assert len(content.participant_ids) == 2 and len(content.photos) == 2


async def _to_summary(bot: Harness, user_id: int) -> Seen:
    """The shortest honest path: date, field and text lead straight to the summary."""
    seen = await bot.begin_report(
        user_id, "Kinh tế", "Hướng dẫn bà con thôn Bản Chặng trồng hồi đúng kỹ thuật",
        day="Hôm qua")
    assert seen.shows("form.report.summary_title")
    return seen


async def test_a_report_can_be_sent_right_after_its_content(bot: Harness) -> None:
    await _cell_with_three(bot)
    asked = await bot.begin_report(MAI, "Kinh tế")
    assert asked.shows("form.report.description.prompt", min=10)
    assert asked.shows("form.progress", step=3, total=3), "only three steps are needed"
    summary = await bot.say(MAI, "Hướng dẫn bà con thôn Bản Chặng trồng hồi đúng kỹ thuật")
    assert summary.shows("form.report.summary_title")
    assert not summary.shows("form.report.model_id.prompt")
    assert _answer("field", "Kinh tế") in summary.text
    assert _answer("public", VI.plain("form.report.public.yes")) in summary.text, \
        "unasked, the report is introduced in the group: the summary says so"
    assert bot.buttons(MAI) == ["✅ Gửi ngay", "✏ Sửa", "➕ Thêm chi tiết", "✖ Hủy"]
    done = await bot.tap(MAI, "✅ Gửi ngay")
    assert done.shows("report.received")
    [stored] = await bot.reports_of(MAI)
    content = stored.content
    assert content.deed_date == dt.date(2026, 11, 27) and content.field == "Kinh tế"
    assert not content.private, "unasked, a report is public"
    assert content.model_id is None and content.participant_ids == ()
    assert (content.people_helped, content.value_vnd, content.photos) == (None, None, ())


async def test_more_details_walks_only_the_details_not_given(bot: Harness) -> None:
    await _cell_with_three(bot)
    await _to_summary(bot, MAI)
    await bot.tap(MAI, "✏ Sửa")
    asked = await bot.tap(MAI, "✏ Sửa giá trị")
    assert asked.shows("form.report.value_vnd.prompt")
    summary = await bot.say(MAI, "500k")
    assert summary.shows("form.echo", label=VI("form.report.value_vnd.label"), typed="500k",
                         value="500.000 đ")
    assert summary.shows("form.report.summary_title"), "an edit goes back to the summary"
    assert _answer("value_vnd", "500.000 đ") in summary.text
    await bot.tap(MAI, "✏ Sửa")
    await bot.tap(MAI, "✏ Sửa mô hình")
    await bot.tap(MAI, "Tiết kiệm theo gương Bác")

    asked = [(await bot.tap(MAI, "➕ Thêm chi tiết")).keys]
    while "form.report.summary_title" not in asked[-1]:
        asked.append((await bot.tap(MAI, "Bỏ qua")).keys)
    prompts = [key for keys in asked for key in sorted(keys) if key.endswith(".prompt")]
    assert prompts == [f"form.report.{step}.prompt" for step in (
        "participant_ids", "people_helped", "households_helped", "place", "photos", "public")]
    assert all("form.answer_skipped" in keys for keys in asked[1:]), "each skip stays in sight"
    [summary_keys] = [keys for keys in asked if "form.report.summary_title" in keys]
    assert "form.report.model_id.label" in summary_keys
    await bot.tap(MAI, "✅ Gửi ngay")
    [stored] = await bot.reports_of(MAI)
    assert stored.content.value_vnd == 500_000 and stored.content.model_id is not None


async def test_an_optional_step_is_skipped_by_typing_so(bot: Harness) -> None:
    await bot.member_of_new_cell(MAI)
    await bot.begin_report(MAI, description="Dọn vệ sinh đường làng cùng bà con")
    asked = await bot.tap(MAI, "➕ Thêm chi tiết")
    assert asked.shows("form.report.people_helped.prompt") and asked.shows("form.skip_hint")
    households = await bot.say(MAI, "bo qua")
    assert households.shows("form.report.households_helped.prompt")
    assert not households.shows("form.echo") and not households.shows("form.problem.not_number")
    for word in ("không", "-"):
        await bot.say(MAI, word)
    public = await bot.say(MAI, "Bỏ qua")  # the place
    assert public.shows("form.report.photos.prompt")
    public = await bot.say(MAI, "ko")
    assert public.shows("form.report.public.prompt") and not public.shows("form.skip_hint")
    summary = await bot.say(MAI, "không")
    assert summary.shows("form.report.summary_title"), "at a yes-or-no step it is an answer"
    assert _answer("public", VI.plain("form.report.public.no")) in summary.text
    for step in ("people_helped", "households_helped", "value_vnd", "place", "photos"):
        assert not summary.shows(f"form.report.{step}.label")
    await bot.tap(MAI, "✅ Gửi")
    [stored] = await bot.reports_of(MAI)
    assert stored.content.private and stored.content.people_helped is None


async def test_steps_without_choices_are_skipped_for_a_member_alone(bot: Harness) -> None:
    await bot.member_of_new_cell(MAI)
    await bot.begin_report(MAI, description="Dọn vệ sinh đường làng cùng bà con")
    details = await bot.tap(MAI, "➕ Thêm chi tiết")
    assert details.shows("form.report.people_helped.prompt"), \
        "no model step, no co-participant step"
    assert details.shows("form.progress", step=4, total=9)


async def test_pressing_send_twice_or_a_redelivered_update_records_once(bot: Harness) -> None:
    await _cell_with_three(bot)
    await _to_summary(bot, MAI)
    message_id, data = bot.button(MAI, "✅ Gửi ngay")
    first = await bot.press_data(MAI, message_id, data)
    again = await bot.press_data(MAI, message_id, data, check_button=False)
    assert again.shows("form.already_sent")
    await bot.redeliver(first.update_id)
    assert len(await bot.reports_of(MAI)) == 1


async def test_back_keeps_answers_and_summary_edit_returns_to_summary(bot: Harness) -> None:
    await _cell_with_three(bot)
    await bot.say(MAI, "/report")
    await bot.tap(MAI, "Hôm nay")
    await bot.tap(MAI, "Văn hóa")
    back = await bot.tap(MAI, "◀ Quay lại")
    assert back.shows("form.report.field.prompt")
    await bot.tap(MAI, "Môi trường")
    await bot.say(MAI, "Trồng 50 cây xanh ở nhà văn hóa thôn Bản Chặng")
    picker = await bot.tap(MAI, "✏ Sửa")
    assert picker.shows("form.pick_field")
    asked = await bot.tap(MAI, "✏ Sửa nội dung")
    assert asked.shows("form.report.description.prompt", min=10)
    summary = await bot.say(MAI, "Trồng 60 cây xanh ở nhà văn hóa thôn Bản Chặng")
    assert _answer("description", "Trồng 60 cây xanh") in summary.text
    assert _answer("field", "Môi trường") in summary.text
    await bot.tap(MAI, "✏ Sửa")
    await bot.tap(MAI, "✏ Sửa chế độ công khai")
    summary = await bot.tap(MAI, "🔒 Không công khai")
    assert summary.shows("form.report.summary_title") and not summary.shows(
        "form.report.people_helped.prompt"), "back to the summary, not on to the next detail"
    assert _answer("public", VI.plain("form.report.public.no")) in summary.text
    assert _answer("description", "Trồng 60 cây xanh") in summary.text
    assert "➕ Thêm chi tiết" in bot.buttons(MAI)
    await bot.tap(MAI, "✅ Gửi ngay")
    [stored] = await bot.reports_of(MAI)
    assert stored.content.private and stored.content.field == "Môi trường"
    assert stored.content.description.startswith("Trồng 60 cây xanh")


async def test_cancel_at_any_step_leaves_nothing(bot: Harness) -> None:
    await _cell_with_three(bot)
    await bot.say(MAI, "/report")
    await bot.tap(MAI, "Hôm nay")
    cancelled = await bot.tap(MAI, "✖ Hủy")
    assert cancelled.shows("form.report.cancelled")
    await bot.say(MAI, "/report")
    await bot.tap(MAI, "Hôm nay")
    typed = await bot.say(MAI, "/cancel")
    assert typed.shows("form.report.cancelled")
    assert await bot.reports_of(MAI) == []
    nothing = await bot.say(MAI, "/cancel")
    assert nothing.shows("form.nothing_to_cancel")


async def _at_place_step(bot: Harness, user_id: int, **unit: object) -> Seen:
    await bot.member_of_new_cell(user_id, name=f"Chi bộ {user_id}", **unit)
    await bot.begin_report(user_id, "Môi trường", "Thu gom rác thải nhựa dọc bờ sông Kỳ Cùng")
    await bot.tap(user_id, "➕ Thêm chi tiết")
    for _ in range(3):
        seen = await bot.tap(user_id, "Bỏ qua")
    assert seen.shows("form.report.place.prompt")
    return seen


async def _at_photos_step(bot: Harness, user_id: int) -> None:
    await _at_place_step(bot, user_id)
    seen = await bot.tap(user_id, "Bỏ qua")
    assert seen.shows("form.report.photos.prompt", max=5)


async def test_location_is_taken_unless_the_unit_has_no_locations(bot: Harness) -> None:
    asked = await _at_place_step(bot, MAI, no_locations=True)
    assert not asked.shows("form.place_location_hint"), "no hint to send a map pin"
    assert "📎" not in bot.screen(MAI), "no hint to send a map pin"
    refused = await bot.send(MAI, "location", latitude=22.8, longitude=106.5)
    assert refused.shows("form.problem.no_locations")

    asked = await _at_place_step(bot, BINH)
    assert asked.shows("form.place_location_hint")
    taken = await bot.send(BINH, "location", latitude=21.85, longitude=106.76)
    assert taken.shows("form.report.photos.prompt")
    await bot.tap(BINH, "Bỏ qua")
    summary = await bot.tap(BINH, "🔒 Không công khai")
    place = _answer("place", VI("form.place_pin", lat="21.85000", lon="106.76000"))
    assert place in summary.text and place.count("📍") == 1, "one pin: the label's"


async def test_more_photos_than_allowed_are_refused_politely(bot: Harness) -> None:
    await _at_photos_step(bot, MAI)
    for _ in range(5):
        bot.fake.send_photo(MAI, media_group_id="big")
    sixth = await bot.send(MAI, "photo", media_group_id="big")
    assert sixth.shows("form.problem.too_many_photos", max=5)
    await bot.photos_acknowledged(MAI, 5)


async def test_a_named_place_picked_on_the_map_is_taken_as_the_place(bot: Harness) -> None:
    await _at_place_step(bot, MAI)
    taken = await bot.send(MAI, "venue", latitude=21.85, longitude=106.76,
                           title="Nhà văn hóa thôn Bản Chặng", address="xã Tràng Định")
    assert taken.shows("form.report.photos.prompt")
    await _at_place_step(bot, BINH, no_locations=True)
    border = await bot.send(BINH, "venue", latitude=22.8, longitude=106.5,
                            title="Đồn Biên phòng Tri Phương", address="Tràng Định")
    assert border.shows("form.report.photos.prompt"), "a border unit keeps the name, not the pin"
    async with bot.db.transaction() as tx:
        rows = await tx.all("SELECT telegram_user_id, state FROM drafts ORDER BY id")
    places = [json.loads(r["state"])["answers"]["place"] for r in rows]
    assert places == [
        {"text": "Nhà văn hóa thôn Bản Chặng, xã Tràng Định", "latitude": 21.85,
         "longitude": 106.76},
        {"text": "Đồn Biên phòng Tri Phương, Tràng Định"},
    ]


async def test_a_moving_live_location_does_not_flood_the_chat(bot: Harness) -> None:
    await _at_place_step(bot, MAI)
    shared = await bot.send(MAI, "location", latitude=21.85, longitude=106.76)
    assert shared.shows("form.report.photos.prompt")
    pin = bot.fake.messages(MAI, include_incoming=True)[-2]["message_id"]
    for step in range(3):
        mark = len(bot.fake.calls)
        update_id = bot.fake.move_live_location(MAI, pin, 21.85 + step / 1000, 106.76)
        moved = await bot.after(update_id, mark)
        assert moved.calls == []


async def test_an_album_sent_at_the_wrong_step_gets_one_answer(bot: Harness) -> None:
    await bot.member_of_new_cell(MAI)
    await bot.begin_report(MAI)
    mark = len(bot.fake.calls)
    ids = [bot.fake.send_photo(MAI, media_group_id="early") for _ in range(4)]
    await bot.fake.wait_update_consumed(ids[-1])
    await bot.app.update_queue.join()
    answers = [c for c in bot.fake.calls[mark:] if c.method == "sendMessage"]
    assert len(answers) == 1
    assert "form.problem.unexpected" in answers[0].keys
    assert VI("form.problem.unexpected", step=VI("form.report.description.short"),
              hint=VI("form.hint.long_text")) in answers[0].params["text"]


async def test_a_large_cell_picks_co_participants_a_page_at_a_time(bot: Harness) -> None:
    cell = await bot.member_of_new_cell(MAI)
    for n in range(20):
        await bot.join(2000 + n, cell, f"Đảng viên {n + 1:02d}")
    await bot.begin_report(MAI, description="Cả chi bộ ra quân làm đường giao thông nông thôn")
    await bot.tap(MAI, "➕ Thêm chi tiết")
    first = bot.buttons(MAI)
    assert first[:2] == ["☐ Đảng viên 01", "☐ Đảng viên 02"]
    assert "Trang 1/2" in first and "Trang sau ▶" in first and len(first) < 25
    await bot.tap(MAI, "☐ Đảng viên 03")
    await bot.tap(MAI, "Trang sau ▶")
    second = bot.buttons(MAI)
    assert "☐ Đảng viên 20" in second and "◀ Trang trước" in second
    await bot.tap(MAI, "☐ Đảng viên 20")
    await bot.say(MAI, "dang vien 17")  # typing a name finds it on any page
    await bot.tap(MAI, "Xong")
    async with bot.db.transaction() as tx:
        draft = await tx.one("SELECT state FROM drafts WHERE telegram_user_id = ?", (MAI,))
    chosen = json.loads(draft["state"])["answers"]["participant_ids"]
    assert len(chosen) == 3


async def test_a_day_put_in_last_year_is_confirmed_and_tomorrow_is_refused(
    bot: Harness
) -> None:
    await bot.member_of_new_cell(MAI)
    await bot.say(MAI, "/report")
    tomorrow = await bot.say(MAI, "28/11")
    assert tomorrow.shows("form.problem.date_future")
    asked = await bot.say(MAI, "31/12")
    assert asked.shows("form.date_confirm", weekday="Thứ Tư", date="31/12/2025")
    assert bot.buttons(MAI) == ["✅ Đúng", "◀ Quay lại", "✖ Hủy"]
    assert (await bot.tap(MAI, "◀ Quay lại")).shows("form.report.deed_date.prompt")
    await bot.say(MAI, "31/12")
    field = await bot.tap(MAI, "✅ Đúng")
    assert field.shows("form.report.field.prompt")


async def test_photos_sent_by_mistake_can_be_removed(bot: Harness) -> None:
    await _at_photos_step(bot, MAI)
    bot.fake.send_photo(MAI)
    await bot.photos_acknowledged(MAI, 1)
    assert bot.buttons(MAI) == ["Xong", "🗑 Xóa ảnh đã gửi", "◀ Quay lại", "✖ Hủy"]
    await bot.tap(MAI, "🗑 Xóa ảnh đã gửi")
    assert bot.buttons(MAI) == ["Xong", "◀ Quay lại", "Bỏ qua", "✖ Hủy"]
    await bot.tap(MAI, "Bỏ qua")
    summary = await bot.tap(MAI, "🌐 Có, công khai")
    assert summary.shows("form.report.summary_title")
    assert not summary.shows("form.report.photos.label") and "📷" not in bot.screen(MAI)


async def _commune_of_two_cells(bot: Harness) -> tuple[int, int]:
    """Mai and Bình in one cell, Đức in its sibling cell, Thu in another commune; the person
    ids of Đức and Thu."""
    tree = await bot.tree()
    await bot.join(MAI, tree.cell, "Mai", "Hoàng Thị")
    await bot.join(BINH, tree.cell, "Bình", "Nông Văn")
    await bot.join(SON, tree.sibling_cell, "Lò Văn Đức")
    await bot.join(2001, tree.other_commune, "Hà Thị Thu")
    return await bot.person_id(SON), await bot.person_id(2001)


async def test_a_commune_wide_deed_names_people_of_the_other_cells(bot: Harness) -> None:
    duc, _ = await _commune_of_two_cells(bot)
    await bot.begin_report(MAI, description="Ngày Chủ nhật xanh: cả xã tổng vệ sinh đường làng")
    asked = await bot.tap(MAI, "➕ Thêm chi tiết")
    assert asked.shows("form.report.participant_ids.prompt")
    # Her own cell first, then the commune's other cells, each name with its unit.
    assert bot.buttons(MAI)[:2] == ["☐ Bình Nông Văn", "☐ Lò Văn Đức (Chi bộ Thôn Nà Pá)"]
    assert not any("Thu" in label for label in bot.buttons(MAI)), "another commune's member"
    outside = await bot.say(MAI, "ha thi thu")
    assert outside.shows("form.problem.pick_button")
    await bot.say(MAI, "lo van duc")  # typed without the marks, as phones often do
    assert "☑ Lò Văn Đức (Chi bộ Thôn Nà Pá)" in bot.buttons(MAI)
    await bot.tap(MAI, "Xong")
    await bot.skip_details(MAI)
    assert _answer("participant_ids", "Lò Văn Đức (Chi bộ Thôn Nà Pá)") in bot.screen(MAI)
    done = await bot.tap(MAI, "✅ Gửi")
    assert done.shows("report.received")
    [stored] = await bot.reports_of(MAI)
    assert stored.content.participant_ids == (duc,)


async def test_a_unit_right_under_the_top_names_only_within_its_own_subtree(
    bot: Harness
) -> None:
    """A commune's parent is the province: naming the whole province is not offered."""
    tree = await bot.tree()
    await bot.appoint(MAI, tree.commune, Role.LEADER, "Mai")
    await bot.join(BINH, tree.cell, "Bình")
    await bot.join(SON, tree.other_commune, "Sơn")
    await bot.begin_report(MAI, description="Ngày Chủ nhật xanh: cả xã tổng vệ sinh đường làng")
    await bot.tap(MAI, "➕ Thêm chi tiết")
    labels = bot.buttons(MAI)
    assert "☐ Bình (Chi bộ Thôn Bản Chặng)" in labels
    assert not any("Sơn" in label for label in labels)
