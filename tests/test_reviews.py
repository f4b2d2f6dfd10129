"""✅ Ghi nhận báo cáo (/review): a leader goes through the reports waiting, one at a time,
acknowledges them, asks for more, holds one up as an example, reopens one; the member hears
of it privately. Every press is checked again, whoever forges it and whenever it comes."""

from __future__ import annotations

from pathlib import Path

from bot.flows.reviews import fingerprint
from storage import audit, reports, reviews
from storage.entities import ReportState, Role
from tests.harness import Harness, Tree, started
from tests.test_my_reports import _correct_content, _open, _withdraw

MAI, BINH, SON, HANH, TUAN, LAN, OBSERVER, STRANGER = (
    1001, 1002, 2001, 2002, 2003, 2004, 2005, 9999)
SOCIAL = "An sinh xã hội, giảm nghèo"
ROOF = "Cùng 3 đồng chí trong tổ sửa mái nhà dột cho hộ bà Lăng Thị Hoa, hộ nghèo thôn Bản Chặng"
DENIED = ("Việc này không thuộc phạm vi phụ trách của đồng chí nên chưa thực hiện được. "
          "Nếu cần, đồng chí liên hệ bí thư chi bộ nhé.")


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
    assert ("Báo cáo chờ ghi nhận (1/4) — Hoàng Thị Mai, 26/11/2026, "
            "An sinh xã hội, giảm nghèo") in first.text
    assert f"📝 Nội dung: {ROOF}" in first.text
    assert "📅 Ngày" not in first.text, "the date is in the title already"
    assert bot.buttons(SON) == ["✅ Ghi nhận", "↩ Đề nghị bổ sung", "⭐ Nêu gương", "Tiếp ▶",
                                "📋 Báo cáo đã ghi nhận gần đây"]
    second = await bot.tap(SON, "Tiếp ▶")
    assert "(2/4) — Nông Văn Bình" in second.text and "thu hoạch lúa" in second.text
    assert second.methods() == ["editMessageText"], "shown in place"
    assert "✅ Ghi nhận tất cả 2 báo cáo vừa xem" in bot.buttons(SON)
    acknowledged = await bot.tap(SON, "✅ Ghi nhận")
    assert acknowledged.toast == "✅ Đã ghi nhận báo cáo của đồng chí Nông Văn Bình."
    assert "(2/3) — Hoàng Thị Mai" in acknowledged.text and "cháy rừng" in acknowledged.text
    assert bot.screen(BINH) == ("✅ Chi bộ Thôn Bản Chặng đã ghi nhận báo cáo ngày 26/11/2026"
                                " của đồng chí. Cảm ơn đồng chí!")
    assert await _state(bot, 2) is ReportState.ACKNOWLEDGED
    again = await bot.say(SON, "✅ Ghi nhận báo cáo")
    assert "(1/3) — Hoàng Thị Mai" in again.text
    async with bot.db.transaction() as tx:
        [entry] = await audit.entries(tx, "acknowledge")
    assert entry["subject"] == "report:2" and entry["actor"].startswith("person:")


async def test_the_end_of_the_queue_and_the_empty_queue(bot: Harness) -> None:
    await _cell(bot)
    empty = await bot.say(SON, "/review")
    assert "Không có báo cáo nào chờ ghi nhận" in empty.text
    await bot.report(MAI, ROOF)
    await bot.report(BINH, "Giúp hộ nghèo thu hoạch lúa mùa ở thôn Bản Chặng")
    await bot.say(SON, "/review")
    await bot.tap(SON, "Tiếp ▶")
    end = await bot.tap(SON, "Tiếp ▶")
    assert "còn 2 báo cáo chờ ghi nhận" in end.text
    assert "✅ Ghi nhận tất cả 2 báo cáo vừa xem" in bot.buttons(SON)
    restart = await bot.tap(SON, "↺ Xem lại từ đầu")
    assert "(1/2) — Hoàng Thị Mai" in restart.text


async def test_photos_are_shown_with_the_report(bot: Harness) -> None:
    await _cell(bot)
    await bot.report(MAI, "Tặng quà học sinh nghèo vượt khó thôn Bản Chặng", photos=2)
    shown = await bot.say(SON, "/review")
    assert shown.methods() == ["sendMediaGroup", "sendMessage"]
    assert "📷 Ảnh: 2 ảnh" in shown.text


async def test_asking_for_more_then_correcting_then_acknowledging(bot: Harness) -> None:
    await _cell(bot)
    await bot.report(MAI, ROOF, field=SOCIAL)
    await bot.say(SON, "/review")
    asked = await bot.tap(SON, "↩ Đề nghị bổ sung")
    assert "Đề nghị đồng chí Hoàng Thị Mai bổ sung báo cáo ngày 26/11/2026." in asked.text
    assert "Đồng chí ghi rõ cần bổ sung gì" in asked.text
    sticker = await bot.send(SON, "sticker")
    assert ("Lan Tỏa chưa hiểu nội dung này. Đồng chí đang ở bước “nội dung đề nghị bổ sung”"
            in sticker.text)
    blank = await bot.say(SON, "   ")
    assert "Đồng chí chưa nhập gì." in blank.text
    huge = await bot.say(SON, "Ghi rõ số ngày công " * 100)
    assert "Nội dung dài quá" in huge.text and "tối đa 1.000 ký tự" in huge.text
    assert await _state(bot, 1) is ReportState.PENDING, "nothing sent yet, the draft is kept"
    sent = await bot.say(SON, "<b>Ghi rõ</b> số ngày công & số hộ được giúp")
    assert "Đã gửi đề nghị bổ sung tới đồng chí Hoàng Thị Mai." in sent.text
    assert "Không có báo cáo nào chờ ghi nhận" in sent.text
    notice = bot.fake.last_message(MAI) or {}
    escaped = ("Chi bộ Thôn Bản Chặng đề nghị đồng chí bổ sung báo cáo ngày 26/11/2026:"
               " “<b>Ghi rõ</b> số ngày công & số hộ được giúp” Cảm ơn đồng chí!")
    assert notice["text"] == escaped
    assert bot.buttons(MAI) == ["✏ Bổ sung ngay"]
    assert await _state(bot, 1) is ReportState.NEEDS_MORE
    [row] = await _reviews(bot)
    assert row[2:] == ("needs_more", "<b>Ghi rõ</b> số ngày công & số hộ được giúp")
    async with bot.db.transaction() as tx:
        [entry] = await audit.entries(tx, "needs_more")
    assert entry["subject"] == "report:1"

    summary = await bot.tap(MAI, "✏ Bổ sung ngay")
    assert ROOF in summary.text and "✅ Gửi" in bot.buttons(MAI)
    await bot.tap(MAI, "✏ Sửa nội dung")
    await bot.say(MAI, ROOF + ", 3 ngày công, 1 hộ")
    corrected = await bot.tap(MAI, "✅ Gửi")
    assert "Đã cập nhật báo cáo" in corrected.text
    assert await _state(bot, 1) is ReportState.PENDING

    back = await bot.say(SON, "/review")
    assert "(1/1) — Hoàng Thị Mai" in back.text and "3 ngày công, 1 hộ" in back.text
    done = await bot.tap(SON, "✅ Ghi nhận")
    assert "Không có báo cáo nào chờ ghi nhận" in done.text
    assert "Cảm ơn đồng chí!" in bot.screen(MAI)
    assert await _state(bot, 1) is ReportState.ACKNOWLEDGED

    # Acknowledged: the author can no longer change it, from /my or from the old notice.
    opened = await _open(bot, MAI)
    assert "✅ đã ghi nhận" in opened.text and "✏ Sửa" not in bot.buttons(MAI)
    message_id, data = next((m["message_id"], d) for m in bot.fake.messages(MAI)
                            for label, d in bot.fake.inline_buttons(m)
                            if label == "✏ Bổ sung ngay")
    old = await bot.press_data(MAI, message_id, data)
    assert old.toast == "Báo cáo này đã được chi bộ ghi nhận hoặc đã rút, nên không sửa được nữa."
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
    assert done.toast == "✅ Đã ghi nhận 3 báo cáo."
    assert "(1/2) — Nông Văn Bình" in done.text and "hiến đất" in done.text
    states = [await _state(bot, n) for n in range(1, 6)]
    assert states == [ReportState.ACKNOWLEDGED] * 3 + [ReportState.PENDING] * 2
    assert bot.screen(MAI) == ("✅ Chi bộ Thôn Bản Chặng đã ghi nhận 2 báo cáo của đồng chí."
                               " Cảm ơn đồng chí!")
    assert "báo cáo ngày 26/11/2026" in bot.screen(BINH)
    # The old button names a pass that is over once /review starts a new one.
    await bot.say(SON, "/review")
    stale = await bot.press_data(SON, message_id, data, check_button=False)
    assert stale.toast == "Danh sách này đã cũ. Đồng chí bấm ✅ Ghi nhận báo cáo để xem lại từ đầu."
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
        assert done.toast == "✅ Đã ghi nhận 2 báo cáo."
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
    won = "✅ Đã ghi nhận báo cáo của đồng chí Hoàng Thị Mai."
    assert toasts.count(won) == 1
    assert any(t.startswith("Báo cáo này đã được đồng chí") and t.endswith("ghi nhận rồi.")
               for t in toasts)
    assert [r[2] for r in await _reviews(bot)] == ["acknowledged"]
    thanks = [m for m in bot.fake.messages(MAI) if "Chi bộ Thôn Bản Chặng đã ghi nhận" in m["text"]]
    assert len(thanks) == 1
    # Pressing again later says who did it.
    again = await bot.press_data(SON, son_message, son_data, check_button=False)
    assert again.toast in ("Đồng chí đã ghi nhận báo cáo này rồi.",
                           "Báo cáo này đã được đồng chí Lý Thị Hạnh ghi nhận rồi.")


async def test_a_leaders_own_report_goes_to_another_leader_of_the_cell(bot: Harness) -> None:
    tree = await _cell(bot)
    await bot.appoint(HANH, tree.cell, Role.LEADER, "Lý Thị", "Hạnh")
    await bot.report(SON, "Chủ trì họp chi bộ bàn việc làm đường liên thôn")
    own = await bot.say(SON, "/review")
    assert "Không có báo cáo nào chờ ghi nhận" in own.text
    message_id, _ = bot.button(SON, "📋 Báo cáo đã ghi nhận gần đây")
    forged = await bot.press_data(SON, message_id, f"rv:ack:1:{await _version(bot, 1)}",
                                  check_button=False)
    assert forged.toast == ("Báo cáo của chính đồng chí sẽ do đồng chí khác trong cấp ủy hoặc"
                            " cấp ủy cấp trên ghi nhận, nên đồng chí chưa thực hiện được việc này.")
    async with bot.db.transaction() as tx:
        [refused] = await audit.entries(tx, "refused")
    assert refused["subject"] == "acknowledge"
    assert await _state(bot, 1) is ReportState.PENDING
    other = await bot.say(HANH, "/review")
    assert "(1/1) — Hoàng Văn Sơn" in other.text
    await bot.tap(HANH, "✅ Ghi nhận")
    assert await _state(bot, 1) is ReportState.ACKNOWLEDGED


async def test_a_lone_leaders_report_goes_to_the_commune(bot: Harness) -> None:
    tree = await _cell(bot)
    await bot.appoint(TUAN, tree.commune, Role.LEADER, "Vi Văn", "Tuấn")
    await bot.report(SON, "Chủ trì họp chi bộ bàn việc làm đường liên thôn")
    seen = await bot.say(TUAN, "/review")
    assert "(1/1) — Hoàng Văn Sơn" in seen.text
    assert "🏠 Chi bộ Thôn Bản Chặng" in seen.text, "a commune leader sees which cell"
    await bot.tap(TUAN, "✅ Ghi nhận")
    assert await _state(bot, 1) is ReportState.ACKNOWLEDGED
    assert "Cảm ơn đồng chí!" in bot.screen(SON)


async def test_a_sibling_cells_leader_is_refused_and_the_attempt_logged(bot: Harness) -> None:
    tree = await _cell(bot)
    await bot.appoint(LAN, tree.sibling_cell, Role.LEADER, "Đinh Thị", "Lan")
    await bot.report(MAI, ROOF)
    nothing = await bot.say(LAN, "/review")
    assert "Không có báo cáo nào chờ ghi nhận" in nothing.text
    message_id, _ = bot.button(LAN, "📋 Báo cáo đã ghi nhận gần đây")
    version = await _version(bot, 1)
    for data in (f"rv:ack:1:{version}", f"rv:ask:1:{version}", "rv:star:1", "rv:open:1",
                 "rv:reopen:1"):
        seen = await bot.press_data(LAN, message_id, data, check_button=False)
        assert seen.toast == DENIED
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
    for user_id in (OBSERVER, BINH):
        seen = await bot.say(user_id, "/review")
        assert seen.text == DENIED
    bot.person(STRANGER, "Khách")
    stranger = await bot.say(STRANGER, "/review")
    assert "xin đường link mời" in stranger.text
    message_id = (bot.fake.last_message(OBSERVER) or {})["message_id"]
    forged = await bot.press_data(OBSERVER, message_id, f"rv:ack:1:{await _version(bot, 1)}",
                                  check_button=False)
    assert forged.toast == DENIED
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
        assert seen.toast == "Nút này đã cũ. Đồng chí bấm ✅ Ghi nhận báo cáo để xem lại."
    missing = await bot.press_data(SON, message_id, "rv:ack:999:0000abcd", check_button=False)
    assert missing.toast == "Không tìm thấy báo cáo này."


async def test_a_report_withdrawn_meanwhile_is_left_alone(bot: Harness) -> None:
    await _son_reviews_mais_report(bot)
    await _withdraw(bot, MAI)
    pressed = [bot.button(SON, label) for label in ("✅ Ghi nhận", "↩ Đề nghị bổ sung")]
    for message_id, data in pressed:
        seen = await bot.press_data(SON, message_id, data, check_button=False)
        assert seen.toast == "Đồng chí đảng viên đã rút báo cáo này, không cần ghi nhận nữa."
    assert await _state(bot, 1) is ReportState.WITHDRAWN
    assert await _reviews(bot) == []


async def test_a_report_withdrawn_while_the_note_is_written(bot: Harness) -> None:
    await _son_reviews_mais_report(bot)
    await bot.tap(SON, "↩ Đề nghị bổ sung")
    await _withdraw(bot, MAI)
    told = await bot.say(SON, "Ghi rõ số ngày công của các đồng chí")
    assert "Đồng chí đảng viên đã rút báo cáo này" in told.text
    assert await _state(bot, 1) is ReportState.WITHDRAWN
    assert await _reviews(bot) == []
    assert "Chi bộ Thôn Bản Chặng đề nghị" not in bot.screen(MAI)


async def test_a_report_corrected_meanwhile_is_shown_again_first(bot: Harness) -> None:
    await _son_reviews_mais_report(bot)
    old_message, old_data = bot.button(SON, "✅ Ghi nhận")
    await _open(bot, MAI)
    await _correct_content(bot, MAI, "Sửa mái nhà dột cho hộ bà Lăng Thị Hoa, 3 ngày công")
    seen = await bot.press_data(SON, old_message, old_data)
    assert seen.toast == "Báo cáo vừa được sửa lại; đồng chí xem bản mới bên dưới rồi ghi nhận nhé."
    assert "3 ngày công" in seen.text
    assert await _state(bot, 1) is ReportState.PENDING
    await bot.tap(SON, "✅ Ghi nhận")
    assert await _state(bot, 1) is ReportState.ACKNOWLEDGED


async def test_highlighting_toggles_and_feeds_the_digest(bot: Harness) -> None:
    tree = await _son_reviews_mais_report(bot)
    on = await bot.tap(SON, "⭐ Nêu gương")
    assert on.toast == "⭐ Đã nêu gương báo cáo này."
    assert "⭐ Đã nêu gương" in on.text and "☆ Bỏ nêu gương" in bot.buttons(SON)
    off = await bot.tap(SON, "☆ Bỏ nêu gương")
    assert off.toast == "Đã bỏ nêu gương báo cáo này."
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
    assert "Báo cáo đã ghi nhận gần đây" in listing.text
    opened = await bot.tap(SON, "26/11 · Hoàng Thị Mai")
    assert "✅ Đồng chí Hoàng Văn Sơn ghi nhận ngày 27/11/2026." in opened.text
    message_id, reopen = bot.button(SON, "↺ Mở lại")
    asked = await bot.tap(SON, "↺ Mở lại")
    assert "Mở lại báo cáo ngày 26/11/2026 của đồng chí Hoàng Thị Mai." in asked.text
    done = await bot.say(SON, "Bổ sung ảnh minh họa và số hộ được giúp")
    assert "Đã mở lại báo cáo và gửi lý do tới đồng chí Hoàng Thị Mai." in done.text
    assert bot.screen(MAI) == ("Chi bộ Thôn Bản Chặng đề nghị đồng chí bổ sung thêm cho báo cáo"
                               " ngày 26/11/2026: “Bổ sung ảnh minh họa và số hộ được giúp”"
                               " Cảm ơn đồng chí!")
    assert await _state(bot, 1) is ReportState.NEEDS_MORE
    assert (await _reviews(bot))[-1][2:] == ("reopen", "Bổ sung ảnh minh họa và số hộ được giúp")
    again = await bot.press_data(SON, message_id, reopen)
    assert again.toast == "Báo cáo này đang chờ bổ sung theo đề nghị của đồng chí Hoàng Văn Sơn."
    summary = await bot.tap(MAI, "✏ Bổ sung ngay")
    assert "✅ Gửi" in bot.buttons(MAI) and ROOF in summary.text
    await bot.tap(MAI, "✅ Gửi")
    back = await bot.say(SON, "/review")
    assert "(1/1) — Hoàng Thị Mai" in back.text


async def test_the_note_form_survives_a_restart(tmp_path: Path) -> None:
    async with started(tmp_path) as before:
        await _son_reviews_mais_report(before)
        await before.tap(SON, "↩ Đề nghị bổ sung")
        fake = before.fake
    async with started(tmp_path, fake) as after:
        sent = await after.say(SON, "Ghi rõ số ngày công của các đồng chí")
        assert "Đã gửi đề nghị bổ sung tới đồng chí Hoàng Thị Mai." in sent.text
        assert await _state(after, 1) is ReportState.NEEDS_MORE


async def test_cancelling_the_note_keeps_the_report_waiting(bot: Harness) -> None:
    await _son_reviews_mais_report(bot)
    await bot.tap(SON, "↩ Đề nghị bổ sung")
    cancelled = await bot.tap(SON, "✖ Hủy")
    assert "Đã hủy; báo cáo vẫn chờ ghi nhận." in cancelled.text
    assert await _state(bot, 1) is ReportState.PENDING


async def test_an_admin_outside_the_tree_is_told_to_join_first(tmp_path: Path) -> None:
    admin = 4242
    async with started(tmp_path, admins=[admin]) as bot:
        await _cell(bot)
        await bot.report(MAI, ROOF)
        bot.person(admin, "Quản trị")
        seen = await bot.say(admin, "/review")
        assert "đồng chí quản trị tham gia một đơn vị" in seen.text
        assert await _state(bot, 1) is ReportState.PENDING
