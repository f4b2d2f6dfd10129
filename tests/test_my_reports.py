"""📋 Việc đã báo cáo: a member finds their reports, opens one, corrects or withdraws it."""

from __future__ import annotations

from storage import audit, reports
from storage.entities import ReportState
from tests.harness import CATALOGUE, Harness, Seen
from tests.test_reports import _answer

MAI, BINH = 1001, 1002
VI = CATALOGUE.texts("vi")
PENDING, ACKNOWLEDGED = VI("report.state.pending"), VI("report.state.acknowledged")



async def _cell(bot: Harness) -> None:
    cell = await bot.unit("Chi bộ Thôn Bản Chặng")
    await bot.join(MAI, cell, "Mai")
    await bot.join(BINH, cell, "Bình")


async def _open(bot: Harness, user_id: int, label: str = "1. 26/11") -> Seen:
    """The member opens one of their reports from 📋 Việc đã báo cáo (/my)."""
    await bot.say(user_id, "/my")
    return await bot.tap(user_id, label)


async def _mai_opens_her_report(bot: Harness, deed: str, photos: int = 0) -> Seen:
    """Mai, of Chi bộ Thôn Bản Chặng, reports `deed` and opens it from 📋 Việc đã báo cáo."""
    await _cell(bot)
    await bot.report(MAI, deed, photos=photos)
    return await _open(bot, MAI)


async def _withdraw(bot: Harness, user_id: int, label: str = "1. 26/11") -> None:
    """The member withdraws a report from 📋 Việc đã báo cáo, confirming when asked."""
    await _open(bot, user_id, label)
    await bot.tap(user_id, "↩ Rút lại")
    await bot.tap(user_id, "↩ Rút lại")


async def _correct_content(bot: Harness, user_id: int, description: str) -> Seen:
    """On an opened report: ✏ Sửa, then on its summary ✏ Sửa nội dung, new content,
    ✅ Gửi ngay."""
    await bot.tap(user_id, "✏ Sửa")
    await bot.edit_on_summary(user_id, "nội dung")
    summary = await bot.say(user_id, description)
    assert summary.shows("form.report.summary_title")
    return await bot.tap(user_id, "✅ Gửi ngay")


async def _set_state(bot: Harness, state: ReportState, note: str | None = None) -> int:
    async with bot.db.transaction() as tx:
        row = await tx.one("SELECT id FROM reports ORDER BY id DESC LIMIT 1")
        await tx.run("UPDATE reports SET state = ? WHERE id = ?", (state.value, row["id"]))
        # Until leaders review in the bot (next issue), a review is written as they will be.
        await tx.run("INSERT INTO report_reviews (report_id, person_id, action, note, at)"
                     " VALUES (?, 1, ?, ?, '2026-11-27T02:00:00+00:00')",
                     (row["id"], state.value, note))
    return int(row["id"])


async def test_the_list_shows_date_field_and_state(bot: Harness) -> None:
    await _cell(bot)
    empty = await bot.say(MAI, "📋 Việc đã báo cáo")
    assert empty.shows("my.empty")
    await bot.report(MAI, "Thăm hỏi gia đình chính sách thôn Bản Chặng")
    await bot.report(MAI, "Vận động bà con hiến đất làm đường liên thôn")
    await _set_state(bot, ReportState.ACKNOWLEDGED)
    listing = await bot.say(MAI, "/my")
    assert listing.shows("my.title", first=1, last=2, total=2)
    assert listing.shows("my.line", number=1, date="26/11/2026", field="Xã hội",
                         state=ACKNOWLEDGED,
                         preview="Vận động bà con hiến đất làm đường liên thôn")
    assert listing.shows("my.line", number=2, date="26/11/2026", field="Xã hội", state=PENDING,
                         preview="Thăm hỏi gia đình chính sách thôn Bản Chặng")
    assert bot.buttons(MAI)[0].startswith("1. 26/11 · Vận động bà con")


async def test_opening_a_report_shows_it_whole_with_photos(bot: Harness) -> None:
    opened = await _mai_opens_her_report(bot, "Tặng quà học sinh nghèo vượt khó thôn Bản Chặng",
                                         photos=2)
    assert opened.methods() == ["sendMediaGroup", "sendMessage"]
    assert opened.shows("my.detail_title", date="26/11/2026", state=PENDING)
    assert opened.shows("form.report.photos.label") and opened.shows("form.photo_count", count=2)
    assert bot.buttons(MAI) == ["✏ Sửa", "↩ Rút lại", "📋 Danh sách"]


async def test_correcting_a_report_reuses_the_form_prefilled(bot: Harness) -> None:
    await _mai_opens_her_report(bot, "Dọn vệ sinh đường làng cùng đoàn viên thanh niên")
    summary = await bot.tap(MAI, "✏ Sửa")
    assert "Dọn vệ sinh đường làng" in summary.text
    assert bot.buttons(MAI) == ["✅ Gửi ngay", "✏ Sửa", "➕ Thêm chi tiết", "✖ Hủy"]
    asked = await bot.edit_on_summary(MAI, "giá trị")
    assert asked.shows("form.report.value_vnd.prompt")
    again = await bot.say(MAI, "1tr5")
    assert again.shows("form.echo", label=VI("form.report.value_vnd.label"), typed="1tr5",
                       value="1.500.000 đ")
    assert again.shows("form.report.summary_title")
    done = await bot.tap(MAI, "✅ Gửi ngay")
    assert done.shows("report.corrected")
    async with bot.db.transaction() as tx:
        rows = await tx.all("SELECT value_vnd, state FROM reports")
    assert [tuple(r) for r in rows] == [(1_500_000, "pending")], "corrected, not duplicated"


async def test_a_report_needing_more_shows_the_note_and_returns_to_pending(bot: Harness) -> None:
    await _cell(bot)
    await bot.report(MAI, "Sửa mái nhà dột cho hộ bà Lăng Thị Hoa")
    await _set_state(bot, ReportState.NEEDS_MORE, "Ghi rõ số ngày công.")
    opened = await _open(bot, MAI)
    assert opened.shows("my.detail_title", date="26/11/2026",
                        state=VI("report.state.needs_more"))
    assert opened.shows("my.leader_note", note="Ghi rõ số ngày công.")
    await _correct_content(bot, MAI, "Sửa mái nhà dột cho hộ bà Lăng Thị Hoa, 3 ngày công")
    async with bot.db.transaction() as tx:
        report = await reports.get_report(tx, 1)
    assert report is not None and report.state is ReportState.PENDING


async def test_withdrawing_asks_first_then_the_report_stops_counting(bot: Harness) -> None:
    await _mai_opens_her_report(bot, "Hỗ trợ ngày công làm nhà văn hóa thôn")
    asked = await bot.tap(MAI, "↩ Rút lại")
    assert asked.shows("my.withdraw_confirm")
    kept = await bot.tap(MAI, "Không")
    assert kept.shows("my.detail_title", date="26/11/2026", state=PENDING)
    assert kept.methods() == ["editMessageText"], "shown in place, photos not sent again"
    await bot.tap(MAI, "↩ Rút lại")
    withdrawn = await bot.tap(MAI, "↩ Rút lại")
    assert withdrawn.shows("my.withdrawn")
    listing = await bot.say(MAI, "/my")
    assert listing.shows("my.line", number=1, date="26/11/2026", field="Xã hội",
                         state=VI("report.state.withdrawn"),
                         preview="Hỗ trợ ngày công làm nhà văn hóa thôn")
    opened = await bot.tap(MAI, "1. 26/11")
    assert "✏ Sửa" not in bot.buttons(MAI)
    assert opened.shows("my.detail_title", date="26/11/2026", state=VI("report.state.withdrawn"))


async def test_an_acknowledged_report_can_no_longer_be_changed(bot: Harness) -> None:
    await _mai_opens_her_report(bot, "Tham gia hiến máu tình nguyện tại xã")
    message_id, edit = bot.button(MAI, "✏ Sửa")
    await _set_state(bot, ReportState.ACKNOWLEDGED)
    seen = await bot.press_data(MAI, message_id, edit)
    assert seen.shows("report.no_longer_editable")
    async with bot.db.transaction() as tx:
        report = await reports.get_report(tx, 1)
    assert report is not None and report.state is ReportState.ACKNOWLEDGED


async def test_another_members_report_cannot_be_opened_with_forged_data(bot: Harness) -> None:
    await _cell(bot)
    await bot.report(BINH, "Giúp hộ nghèo thu hoạch lúa mùa")
    await bot.report(MAI, "Tuyên truyền phòng chống cháy rừng")
    await bot.say(MAI, "/my")
    message_id, _ = bot.button(MAI, "1. 26/11")
    for verb in ("open", "keep", "edit", "withdraw", "withdraw_yes"):
        seen = await bot.press_data(MAI, message_id, f"my:{verb}:1", check_button=False)
        assert seen.shows("access.denied"), verb
        assert "Giúp hộ nghèo" not in seen.text
    async with bot.db.transaction() as tx:
        report = await reports.get_report(tx, 1)
        refused = await audit.entries(tx, "refused")
    assert report is not None and report.state is ReportState.PENDING
    assert [e["subject"] for e in refused] == ["own_report"] * 5


async def test_many_reports_are_paged(bot: Harness) -> None:
    await _cell(bot)
    for n in range(10):
        await bot.report(MAI, f"Việc làm tốt số {n + 1} của đồng chí Mai")
    assert (await bot.say(MAI, "/my")).shows("my.title", first=1, last=8, total=10)
    older = await bot.tap(MAI, "Cũ hơn ▶")
    assert older.shows("my.title", first=9, last=10, total=10)
    assert "Việc làm tốt số 1 của" in older.text
    newer = await bot.tap(MAI, "◀ Mới hơn")
    assert newer.shows("my.title", first=1, last=8, total=10)


async def test_correcting_never_throws_away_a_report_in_progress(bot: Harness) -> None:
    await _mai_opens_her_report(bot, "Vận động bà con hiến đất làm đường liên thôn")
    await bot.begin_report(MAI, "Văn hóa")
    busy = await bot.tap(MAI, "✏ Sửa")
    assert busy.shows("form.report.busy")
    assert busy.shows("form.report.description.prompt"), "the report in progress is shown again"
    kept = await bot.say(MAI, "Tổ chức giao lưu văn nghệ mừng ngày hội đại đoàn kết")
    assert kept.shows("form.report.summary_title")
    assert _answer("field", "Văn hóa") in kept.text, "the report in progress, not the one sent"


async def test_cancelling_a_correction_says_the_report_is_unchanged(bot: Harness) -> None:
    await _mai_opens_her_report(bot, "Vận động bà con hiến đất làm đường liên thôn")
    await bot.tap(MAI, "✏ Sửa")
    await bot.edit_on_summary(MAI, "giá trị")
    listing = await bot.say(MAI, "/my")
    assert listing.shows("form.report.correction_draft_kept"), "named a correction, not a report"
    again = await bot.say(MAI, "/report")
    assert again.shows("form.report.correction_busy")
    cancelled = await bot.tap(MAI, "✖ Hủy")
    assert cancelled.shows("form.report.correction_cancelled")
    assert cancelled.text == VI.plain("form.report.correction_cancelled")
    async with bot.db.transaction() as tx:
        report = await reports.get_report(tx, 1)
    assert report is not None and report.content.description.startswith("Vận động")
