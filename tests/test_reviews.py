"""✅ Ghi nhận báo cáo (/review): a leader goes through the reports waiting, one at a time,
acknowledges them, asks for more, holds one up as an example, reopens one; the member hears
of it privately. Every press is checked again, whoever forges it and whenever it comes."""

from __future__ import annotations

from pathlib import Path

from bot.flows.reviews import fingerprint, name_or_unknown
from storage import audit, reports, reviews
from storage.entities import ReportState, Role
from tests.harness import CATALOGUE, Harness, Seen, Tree, as_read, started
from tests.test_my_reports import _correct_content, _open, _withdraw

MAI, BINH, SON, HANH, TUAN, LAN, OBSERVER, STRANGER = (
    1001, 1002, 2001, 2002, 2003, 2004, 2005, 9999)
SOCIAL = "An sinh xã hội, giảm nghèo"
ROOF = "Cùng 3 đồng chí trong tổ sửa mái nhà dột cho hộ bà Lăng Thị Hoa, hộ nghèo thôn Bản Chặng"
VI = CATALOGUE.texts("vi")
CELL = "Chi bộ Thôn Bản Chặng"
DAY = "26/11/2026"  # the deed's day of every report here (yesterday)



def _title(seen: Seen, position: int, total: int, name: str, field: str = "Xã hội") -> bool:
    """The queue's title on a report: where in the queue, whose, which field."""
    return seen.shows("review.title", position=position, total=total, name=name, date=DAY,
                      field=field)


def _says(seen: Seen, key: str) -> bool:
    """`key` is in a message (not only in the toast)."""
    return any(key in call.keys for call in seen.calls)


async def _cell(bot: Harness) -> Tree:
    """Chi bộ Thôn Bản Chặng: members Hoàng Thị Mai and Nông Văn Bình, bí thư Hoàng Văn Sơn."""
    tree = await bot.tree()
    await bot.join(MAI, tree.cell, "Hoàng Thị", "Mai")
    await bot.join(BINH, tree.cell, "Nông Văn", "Bình")
    await bot.appoint(SON, tree.cell, Role.LEADER, "Hoàng Văn", "Sơn")
    return tree


async def _four_waiting(bot: Harness) -> None:
    """Mai and Bình report two deeds each, in turn; Mai's roof (An sinh xã hội) is first."""
    await bot.report(MAI, ROOF, field=SOCIAL)
    await bot.report(BINH, "Giúp hộ nghèo thu hoạch lúa mùa ở thôn Bản Chặng")
    await bot.report(MAI, "Tuyên truyền phòng chống cháy rừng cho bà con")
    await bot.report(BINH, "Vận động bà con hiến đất làm đường liên thôn")


async def _son_reviews_mais_report(bot: Harness) -> Tree:
    """Mai reports the roof she mended; Sơn opens ✅ Ghi nhận báo cáo on it."""
    tree = await _cell(bot)
    await bot.report(MAI, ROOF)
    await bot.say(SON, "/review")
    return tree


async def _state(bot: Harness, report_id: int) -> ReportState:
    async with bot.db.transaction() as tx:
        report = await reports.get_report(tx, report_id)
    assert report is not None
    return report.state


async def _reviews(bot: Harness) -> list[tuple]:
    async with bot.db.transaction() as tx:
        rows = await tx.all("SELECT report_id, person_id, action, note FROM report_reviews"
                            " ORDER BY id")
    return [tuple(r) for r in rows]


async def _version(bot: Harness, report_id: int) -> str:
    async with bot.db.transaction() as tx:
        report = await reports.get_report(tx, report_id)
    assert report is not None
    return fingerprint(report)


def _toasts(bot: Harness, mark: int) -> list[str]:
    return [c.params.get("text") or "" for c in bot.fake.calls[mark:]
            if c.method == "answerCallbackQuery"]


async def test_the_queue_shows_one_report_at_a_time_oldest_first(bot: Harness) -> None:
    await _cell(bot)
    await _four_waiting(bot)
    first = await bot.say(SON, "/review")
    assert _title(first, 1, 4, "Hoàng Thị Mai", SOCIAL)
    assert f"{VI.plain('form.report.description.label')}: {ROOF}" in first.text
    assert not first.shows("form.report.deed_date.label"), "the date is in the title already"
    assert bot.buttons(SON) == ["✅ Ghi nhận", "↩ Đề nghị bổ sung", "⭐ Nêu gương", "Tiếp ▶",
                                "📋 Báo cáo đã ghi nhận gần đây"]
    second = await bot.tap(SON, "Tiếp ▶")
    assert _title(second, 2, 4, "Nông Văn Bình") and "thu hoạch lúa" in second.text
    assert second.methods() == ["editMessageText"], "shown in place"
    assert "✅ Ghi nhận tất cả 2 báo cáo vừa xem" in bot.buttons(SON)
    acknowledged = await bot.tap(SON, "✅ Ghi nhận")
    assert acknowledged.shows("review.acknowledged_toast", name="Nông Văn Bình")
    assert _title(acknowledged, 2, 3, "Hoàng Thị Mai") and "cháy rừng" in acknowledged.text
    assert bot.screen(BINH) == as_read(VI("review.notice_acknowledged", unit=CELL, date=DAY))
    assert await _state(bot, 2) is ReportState.ACKNOWLEDGED
    again = await bot.say(SON, "✅ Ghi nhận báo cáo")
    assert _title(again, 1, 3, "Hoàng Thị Mai", SOCIAL)
    async with bot.db.transaction() as tx:
        [entry] = await audit.entries(tx, "acknowledge")
    assert entry["subject"] == "report:2" and entry["actor"].startswith("person:")


async def test_the_end_of_the_queue_and_the_empty_queue(bot: Harness) -> None:
    await _cell(bot)
    empty = await bot.say(SON, "/review")
    assert empty.shows("review.empty")
    await bot.report(MAI, ROOF)
    await bot.report(BINH, "Giúp hộ nghèo thu hoạch lúa mùa ở thôn Bản Chặng")
    await bot.say(SON, "/review")
    await bot.tap(SON, "Tiếp ▶")
    end = await bot.tap(SON, "Tiếp ▶")
    assert end.shows("review.end", count=2)
    assert "✅ Ghi nhận tất cả 2 báo cáo vừa xem" in bot.buttons(SON)
    restart = await bot.tap(SON, "↺ Xem lại từ đầu")
    assert _title(restart, 1, 2, "Hoàng Thị Mai")


async def test_photos_are_shown_with_the_report(bot: Harness) -> None:
    await _cell(bot)
    await bot.report(MAI, "Tặng quà học sinh nghèo vượt khó thôn Bản Chặng", photos=2)
    shown = await bot.say(SON, "/review")
    assert shown.methods() == ["sendMediaGroup", "sendMessage"]
    assert shown.shows("form.report.photos.label") and shown.shows("form.photo_count", count=2)


async def test_asking_for_more_then_correcting_then_acknowledging(bot: Harness) -> None:
    await _cell(bot)
    await bot.report(MAI, ROOF, field=SOCIAL)
    await bot.say(SON, "/review")
    asked = await bot.tap(SON, "↩ Đề nghị bổ sung")
    assert asked.shows("review.ask_header", name="Hoàng Thị Mai", date=DAY)
    assert asked.shows("form.review_ask.note.prompt")
    sticker = await bot.send(SON, "sticker")
    assert sticker.shows("form.problem.unexpected", step=VI("form.review_ask.note.short"),
                         hint=VI("form.hint.long_text"))
    blank = await bot.say(SON, "   ")
    assert blank.shows("form.problem.empty")
    huge = await bot.say(SON, "Ghi rõ số ngày công " * 100)
    assert huge.shows("form.problem.too_long", length="1.999", max="1.000")
    assert await _state(bot, 1) is ReportState.PENDING, "nothing sent yet, the draft is kept"
    sent = await bot.say(SON, "<b>Ghi rõ</b> số ngày công & số hộ được giúp")
    assert sent.shows("review.asked", name="Hoàng Thị Mai")
    assert sent.shows("review.empty_after_ask") and not sent.shows("review.empty"), (
        "no thanks for acknowledging: the leader has just asked for more")
    assert sent.shows("review.sent_back", count=1)
    notice = bot.fake.last_message(MAI) or {}
    note = "<b>Ghi rõ</b> số ngày công & số hộ được giúp"  # shown as written, not as HTML
    assert notice["text"] == as_read(VI("review.notice_ask_more", unit=CELL, date=DAY, note=note))
    assert "<b>Ghi rõ</b>" in notice["text"]
    assert bot.buttons(MAI) == ["✏ Bổ sung ngay"]
    assert await _state(bot, 1) is ReportState.NEEDS_MORE
    [row] = await _reviews(bot)
    assert row[2:] == ("needs_more", "<b>Ghi rõ</b> số ngày công & số hộ được giúp")
    async with bot.db.transaction() as tx:
        [entry] = await audit.entries(tx, "needs_more")
    assert entry["subject"] == "report:1"

    summary = await bot.tap(MAI, "✏ Bổ sung ngay")
    assert ROOF in summary.text and "✅ Gửi ngay" in bot.buttons(MAI)
    await bot.edit_on_summary(MAI, "nội dung")
    await bot.say(MAI, ROOF + ", 3 ngày công, 1 hộ")
    corrected = await bot.tap(MAI, "✅ Gửi ngay")
    assert corrected.shows("report.corrected")
    assert await _state(bot, 1) is ReportState.PENDING
    await bot.deliveries_settled()  # the leader is told of the correction before he looks

    back = await bot.say(SON, "/review")
    assert _title(back, 1, 1, "Hoàng Thị Mai", SOCIAL) and "3 ngày công, 1 hộ" in back.text
    done = await bot.tap(SON, "✅ Ghi nhận")
    assert done.shows("review.empty")
    assert bot.screen(MAI) == as_read(VI("review.notice_acknowledged", unit=CELL, date=DAY))
    assert await _state(bot, 1) is ReportState.ACKNOWLEDGED

    # Acknowledged: the author can no longer change it, from /my or from the old notice.
    opened = await _open(bot, MAI)
    assert opened.shows("report.state.acknowledged") and "✏ Sửa" not in bot.buttons(MAI)
    message_id, data = next((m["message_id"], d) for m in bot.fake.messages(MAI)
                            for label, d in bot.fake.inline_buttons(m)
                            if label == "✏ Bổ sung ngay")
    old = await bot.press_data(MAI, message_id, data)
    assert old.shows("report.no_longer_editable")
    assert await _state(bot, 1) is ReportState.ACKNOWLEDGED


async def test_acknowledging_all_just_seen_takes_only_those(bot: Harness) -> None:
    await _cell(bot)
    await _four_waiting(bot)
    await bot.say(SON, "/review")
    assert "✅ Ghi nhận tất cả" not in " ".join(bot.buttons(SON)), "one seen is not several"
    await bot.tap(SON, "Tiếp ▶")
    await bot.tap(SON, "Tiếp ▶")
    # Meanwhile a new report arrives: not seen, so not acknowledged with the others.
    await bot.report(MAI, "Dọn vệ sinh đường làng cùng đoàn viên thanh niên")
    message_id, data = bot.button(SON, "✅ Ghi nhận tất cả 3 báo cáo vừa xem")
    done = await bot.press_data(SON, message_id, data)
    assert done.shows("review.acked_all", count=3)
    assert _title(done, 1, 2, "Nông Văn Bình") and "hiến đất" in done.text
    states = [await _state(bot, n) for n in range(1, 6)]
    assert states == [ReportState.ACKNOWLEDGED] * 3 + [ReportState.PENDING] * 2
    assert bot.screen(MAI) == as_read(VI("review.notice_acknowledged_many", unit=CELL, count=2))
    assert bot.screen(BINH) == as_read(VI("review.notice_acknowledged", unit=CELL, date=DAY))
    # The old button names a pass that is over once /review starts a new one.
    await bot.say(SON, "/review")
    stale = await bot.press_data(SON, message_id, data, check_button=False)
    assert stale.shows("review.ack_all_stale")
    assert [await _state(bot, n) for n in (4, 5)] == [ReportState.PENDING] * 2


async def test_what_was_seen_survives_a_restart(tmp_path: Path) -> None:
    async with started(tmp_path) as before:
        await _cell(before)
        await before.report(MAI, ROOF)
        await before.report(BINH, "Giúp hộ nghèo thu hoạch lúa mùa ở thôn Bản Chặng")
        await before.report(BINH, "Vận động bà con hiến đất làm đường liên thôn")
        await before.say(SON, "/review")
        await before.tap(SON, "Tiếp ▶")
        fake = before.fake
    async with started(tmp_path, fake) as after:
        done = await after.tap(SON, "✅ Ghi nhận tất cả 2 báo cáo vừa xem")
        assert done.shows("review.acked_all", count=2)
        assert [await _state(after, n) for n in (1, 2, 3)] == [
            ReportState.ACKNOWLEDGED, ReportState.ACKNOWLEDGED, ReportState.PENDING]


async def test_two_leaders_acknowledging_at_once_one_wins(bot: Harness) -> None:
    tree = await _cell(bot)
    await bot.appoint(HANH, tree.cell, Role.LEADER, "Lý Thị", "Hạnh")
    await bot.report(MAI, ROOF)
    await bot.say(SON, "/review")
    await bot.say(HANH, "/review")
    son_message, son_data = bot.button(SON, "✅ Ghi nhận")
    hanh_message, hanh_data = bot.button(HANH, "✅ Ghi nhận")
    mark = len(bot.fake.calls)
    first = bot.fake.press(SON, son_message, son_data)
    second = bot.fake.press(HANH, hanh_message, hanh_data)
    await bot.after(first, mark)
    await bot.after(second, mark)
    toasts = sorted(_toasts(bot, mark))
    assert len(toasts) == 2
    won = VI.plain("review.acknowledged_toast", name="Hoàng Thị Mai")
    assert toasts.count(won) == 1
    lost = {VI.plain("review.already_acknowledged", name=name)
            for name in ("Hoàng Văn Sơn", "Lý Thị Hạnh")}
    assert any(t in lost for t in toasts)
    assert [r[2] for r in await _reviews(bot)] == ["acknowledged"]
    assert bot.told(MAI, "review.notice_acknowledged") == 1
    # Pressing again later says who did it.
    again = await bot.press_data(SON, son_message, son_data, check_button=False)
    assert again.shows("review.already_acknowledged_by_you") or again.shows(
        "review.already_acknowledged", name="Lý Thị Hạnh")


async def test_a_leaders_own_report_goes_to_another_leader_of_the_cell(bot: Harness) -> None:
    tree = await _cell(bot)
    await bot.appoint(HANH, tree.cell, Role.LEADER, "Lý Thị", "Hạnh")
    await bot.report(SON, "Chủ trì họp chi bộ bàn việc làm đường liên thôn")
    own = await bot.say(SON, "/review")
    assert own.shows("review.empty") and own.shows("review.own_waiting", count=1)
    message_id, _ = bot.button(SON, "📋 Báo cáo đã ghi nhận gần đây")
    forged = await bot.press_data(SON, message_id, f"rv:ack:1:{await _version(bot, 1)}",
                                  check_button=False)
    assert forged.shows("review.own_report")
    async with bot.db.transaction() as tx:
        [refused] = await audit.entries(tx, "refused")
    assert refused["subject"] == "acknowledge"
    assert await _state(bot, 1) is ReportState.PENDING
    other = await bot.say(HANH, "/review")
    assert _title(other, 1, 1, "Hoàng Văn Sơn")
    await bot.tap(HANH, "✅ Ghi nhận")
    assert await _state(bot, 1) is ReportState.ACKNOWLEDGED


async def test_a_lone_leaders_report_goes_to_the_commune(bot: Harness) -> None:
    tree = await _cell(bot)
    await bot.appoint(TUAN, tree.commune, Role.LEADER, "Vi Văn", "Tuấn")
    await bot.report(SON, "Chủ trì họp chi bộ bàn việc làm đường liên thôn")
    seen = await bot.say(TUAN, "/review")
    assert _title(seen, 1, 1, "Hoàng Văn Sơn")
    assert seen.shows("review.unit", unit=CELL), "a commune leader sees which cell"
    await bot.tap(TUAN, "✅ Ghi nhận")
    assert await _state(bot, 1) is ReportState.ACKNOWLEDGED
    assert bot.screen(SON) == as_read(VI("review.notice_acknowledged", unit=CELL, date=DAY))


async def test_a_sibling_cells_leader_is_refused_and_the_attempt_logged(bot: Harness) -> None:
    tree = await _cell(bot)
    await bot.appoint(LAN, tree.sibling_cell, Role.LEADER, "Đinh Thị", "Lan")
    await bot.report(MAI, ROOF)
    nothing = await bot.say(LAN, "/review")
    assert nothing.shows("review.empty")
    message_id, _ = bot.button(LAN, "📋 Báo cáo đã ghi nhận gần đây")
    version = await _version(bot, 1)
    for data in (f"rv:ack:1:{version}", f"rv:ask:1:{version}", "rv:star:1", "rv:open:1",
                 "rv:reopen:1"):
        seen = await bot.press_data(LAN, message_id, data, check_button=False)
        assert seen.toast == VI.plain("access.denied"), data
        assert ROOF not in seen.text
    assert await _state(bot, 1) is ReportState.PENDING
    assert await _reviews(bot) == []
    async with bot.db.transaction() as tx:
        refused = await audit.entries(tx, "refused")
    assert [e["subject"] for e in refused] == ["acknowledge", "ask_more", "highlight", "review",
                                                "reopen"]
    assert all(e["detail"].startswith(f"unit:{tree.cell} person:") for e in refused)


async def test_observers_members_and_strangers_get_a_polite_refusal(bot: Harness) -> None:
    tree = await _cell(bot)
    await bot.appoint(OBSERVER, tree.commune, Role.OBSERVER, "Hà Thị", "Thu")
    await bot.report(MAI, ROOF)
    for user_id, key, params in ((OBSERVER, "access.read_only", {"unit": "Đảng bộ xã Tràng Định"}),
                                 (BINH, "access.denied", {})):
        seen = await bot.say(user_id, "/review")
        assert seen.text == as_read(VI(key, **params))
    bot.person(STRANGER, "Khách")
    stranger = await bot.say(STRANGER, "/review")
    assert stranger.shows("access.not_member")
    message_id = (bot.fake.last_message(OBSERVER) or {})["message_id"]
    forged = await bot.press_data(OBSERVER, message_id, f"rv:ack:1:{await _version(bot, 1)}",
                                  check_button=False)
    assert forged.toast == VI.plain("access.read_only", unit="Đảng bộ xã Tràng Định")
    assert await _state(bot, 1) is ReportState.PENDING
    async with bot.db.transaction() as tx:
        refused = await audit.entries(tx, "refused")
    assert refused[-1]["actor"] == f"tg:{OBSERVER}" and refused[-1]["subject"] == "acknowledge"
    assert refused[-1]["detail"].startswith(f"unit:{tree.cell} person:")


async def test_garbled_button_data_gets_a_polite_toast(bot: Harness) -> None:
    await _cell(bot)
    await bot.say(SON, "/review")
    message_id, _ = bot.button(SON, "📋 Báo cáo đã ghi nhận gần đây")
    for data in ("rv:ack:x", "rv:ack:1:NOTHEX!!", "rv:fly:1", "rv:", "rv:ack:²"):
        seen = await bot.press_data(SON, message_id, data, check_button=False)
        assert seen.shows("review.unknown_button"), data
    missing = await bot.press_data(SON, message_id, "rv:ack:999:0000abcd", check_button=False)
    assert missing.shows("review.not_found")


async def test_a_report_decided_with_no_record_of_who_says_so_without_a_name(
        bot: Harness) -> None:
    """A report acknowledged or sent back with no review row (data brought in from before the
    bot kept them): the leader is told what became of it, with no made-up name."""
    await _son_reviews_mais_report(bot)
    message_id, data = bot.button(SON, "✅ Ghi nhận")
    for state, key in (("acknowledged", "review.already_acknowledged_unnamed"),
                       ("needs_more", "review.already_asked_unnamed")):
        async with bot.db.transaction() as tx:
            await tx.run("UPDATE reports SET state = ? WHERE id = 1", (state,))
        seen = await bot.press_data(SON, message_id, data, check_button=False)
        assert seen.shows(key), state
        assert "?" not in (seen.toast or "")


def test_a_person_no_longer_found_is_named_by_the_catalogue() -> None:
    assert name_or_unknown(VI, None) == VI.plain("review.unknown_name") != "?"
    assert name_or_unknown(CATALOGUE.texts("en"), None) == "(name unknown)"


async def test_a_report_withdrawn_meanwhile_is_left_alone(bot: Harness) -> None:
    await _son_reviews_mais_report(bot)
    await _withdraw(bot, MAI)
    pressed = [bot.button(SON, label) for label in ("✅ Ghi nhận", "↩ Đề nghị bổ sung")]
    for message_id, data in pressed:
        seen = await bot.press_data(SON, message_id, data, check_button=False)
        assert seen.shows("review.withdrawn")
    assert await _state(bot, 1) is ReportState.WITHDRAWN
    assert await _reviews(bot) == []


async def test_a_report_withdrawn_while_the_note_is_written(bot: Harness) -> None:
    await _son_reviews_mais_report(bot)
    await bot.tap(SON, "↩ Đề nghị bổ sung")
    await _withdraw(bot, MAI)
    told = await bot.say(SON, "Ghi rõ số ngày công của các đồng chí")
    assert told.shows("review.withdrawn")
    assert await _state(bot, 1) is ReportState.WITHDRAWN
    assert await _reviews(bot) == []
    assert not bot.told(MAI, "review.notice_ask_more")


async def test_a_report_corrected_meanwhile_is_shown_again_first(bot: Harness) -> None:
    await _son_reviews_mais_report(bot)
    old_message, old_data = bot.button(SON, "✅ Ghi nhận")
    await _open(bot, MAI)
    await _correct_content(bot, MAI, "Sửa mái nhà dột cho hộ bà Lăng Thị Hoa, 3 ngày công")
    seen = await bot.press_data(SON, old_message, old_data)
    assert seen.shows("review.corrected_meanwhile")
    assert "3 ngày công" in seen.text
    assert await _state(bot, 1) is ReportState.PENDING
    await bot.tap(SON, "✅ Ghi nhận")
    assert await _state(bot, 1) is ReportState.ACKNOWLEDGED


async def test_highlighting_toggles_and_feeds_the_digest(bot: Harness) -> None:
    tree = await _son_reviews_mais_report(bot)
    on = await bot.tap(SON, "⭐ Nêu gương")
    assert on.shows("review.highlight_on")
    assert _says(on, "review.highlighted") and "☆ Bỏ nêu gương" in bot.buttons(SON)
    off = await bot.tap(SON, "☆ Bỏ nêu gương")
    assert off.shows("review.highlight_off") and not _says(off, "review.highlighted")
    await bot.tap(SON, "⭐ Nêu gương")
    await bot.tap(SON, "✅ Ghi nhận")
    async with bot.db.transaction() as tx:
        since = bot.clock.now().replace(hour=0)
        assert await reviews.highlighted_reports(tx, [tree.cell], since) == [1]
        assert await reviews.highlighted_reports(tx, [tree.sibling_cell], since) == []
    assert [r[2] for r in await _reviews(bot)] == ["highlight", "unhighlight", "highlight",
                                                    "acknowledged"]


async def test_reopening_an_acknowledged_report_with_a_reason(bot: Harness) -> None:
    await _son_reviews_mais_report(bot)
    await bot.tap(SON, "✅ Ghi nhận")
    listing = await bot.tap(SON, "📋 Báo cáo đã ghi nhận gần đây")
    assert listing.shows("review.recent_title")
    opened = await bot.tap(SON, "26/11 · Hoàng Thị Mai")
    assert opened.shows("review.acknowledged_by", name="Hoàng Văn Sơn", date="27/11/2026")
    message_id, reopen = bot.button(SON, "↺ Mở lại")
    asked = await bot.tap(SON, "↺ Mở lại")
    assert asked.shows("review.reopen_header", date=DAY, name="Hoàng Thị Mai")
    done = await bot.say(SON, "Bổ sung ảnh minh họa và số hộ được giúp")
    assert done.shows("review.reopened", name="Hoàng Thị Mai")
    assert bot.screen(MAI) == as_read(VI("review.notice_reopened", unit=CELL, date=DAY,
                                        note="Bổ sung ảnh minh họa và số hộ được giúp"))
    assert await _state(bot, 1) is ReportState.NEEDS_MORE
    assert (await _reviews(bot))[-1][2:] == ("reopen", "Bổ sung ảnh minh họa và số hộ được giúp")
    again = await bot.press_data(SON, message_id, reopen)
    assert again.shows("review.already_asked", name="Hoàng Văn Sơn")
    summary = await bot.tap(MAI, "✏ Bổ sung ngay")
    assert "✅ Gửi ngay" in bot.buttons(MAI) and ROOF in summary.text
    assert (await bot.tap(MAI, "✅ Gửi ngay")).shows("report.corrected")
    back = await bot.say(SON, "/review")
    assert _title(back, 1, 1, "Hoàng Thị Mai")


async def test_the_note_form_survives_a_restart(tmp_path: Path) -> None:
    async with started(tmp_path) as before:
        await _son_reviews_mais_report(before)
        await before.tap(SON, "↩ Đề nghị bổ sung")
        fake = before.fake
    async with started(tmp_path, fake) as after:
        sent = await after.say(SON, "Ghi rõ số ngày công của các đồng chí")
        assert sent.shows("review.asked", name="Hoàng Thị Mai")
        assert await _state(after, 1) is ReportState.NEEDS_MORE


async def test_cancelling_the_note_keeps_the_report_waiting(bot: Harness) -> None:
    await _son_reviews_mais_report(bot)
    await bot.tap(SON, "↩ Đề nghị bổ sung")
    cancelled = await bot.tap(SON, "✖ Hủy")
    assert cancelled.shows("form.review_ask.cancelled")
    assert await _state(bot, 1) is ReportState.PENDING


async def test_an_admin_outside_the_tree_is_told_to_join_first(tmp_path: Path) -> None:
    admin = 4242
    async with started(tmp_path, admins=[admin]) as bot:
        await _cell(bot)
        await bot.report(MAI, ROOF)
        bot.person(admin, "Quản trị")
        seen = await bot.say(admin, "/review")
        assert seen.shows("review.no_person")
        assert await _state(bot, 1) is ReportState.PENDING
