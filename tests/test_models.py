"""🏅 Mô hình: leaders register their unit's models and keep their status year by year, a
higher level marks the best ones, members report under them, and everyone sees the counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import audit
from storage import models as store
from storage.entities import Role
from storage.models import ModelMark, ModelStatus, ModelYear, offered_in, status_in
from tests.harness import Harness, Seen, Tree, started
from tests.test_my_reports import _withdraw

SON, MAI, BINH, TUAN, HANH, LAN = 3001, 3002, 3003, 3004, 3005, 3006
DENIED = "Việc này không thuộc phạm vi phụ trách của đồng chí"


async def _cell_with_people(bot: Harness) -> Tree:
    """Sơn leads Chi bộ Thôn Bản Chặng, Mai and Bình are its members, Tuấn leads the commune."""
    tree = await bot.tree()
    await bot.appoint(SON, tree.cell, Role.LEADER, "Sơn")
    await bot.join(MAI, tree.cell, "Mai")
    await bot.join(BINH, tree.cell, "Bình")
    await bot.appoint(TUAN, tree.commune, Role.LEADER, "Tuấn")
    return tree


async def _register(bot: Harness, user_id: int, name: str, field: str, unit: str | None = None,
                    org: str | None = None, year: str = "Năm 2026") -> Seen:
    """From the 🏅 Mô hình list: ➕ Đăng ký mô hình, the form filled in (the unit picked if
    given, no organisation unless given, no description), a year button or a typed year.
    Returns the summary; the caller presses ✅ Gửi."""
    await bot.tap(user_id, "➕ Đăng ký mô hình")
    await bot.say(user_id, name)
    await bot.tap(user_id, field)
    if unit is not None:
        await bot.tap(user_id, unit)
    await bot.tap(user_id, org or "Bỏ qua")
    await bot.tap(user_id, "Bỏ qua")
    if year in bot.buttons(user_id):
        return await bot.tap(user_id, year)
    return await bot.say(user_id, year)


async def _card(bot: Harness, user_id: int, label: str) -> Seen:
    """/model, then one model's card."""
    await bot.say(user_id, "/model")
    return await bot.tap(user_id, label)


async def _report(bot: Harness, user_id: int, model: str | None, day: str = "Hôm qua") -> None:
    """A report of a deed on `day` (a button or a typed date), under `model` if given."""
    await bot.say(user_id, "/report")
    if day.startswith("Hôm"):
        await bot.tap(user_id, day)
    else:
        await bot.say(user_id, day)
        if "✅ Đúng" in bot.buttons(user_id):
            await bot.tap(user_id, "✅ Đúng")
    await bot.tap(user_id, "Kinh tế")
    seen = await bot.say(user_id, "Hướng dẫn bà con thôn Bản Chặng trồng cây ăn quả")
    if model is not None:
        assert "Việc này thuộc mô hình nào?" in seen.text
        await bot.tap(user_id, model)
    while "Gửi ảnh minh họa" not in bot.screen(user_id):
        await bot.tap(user_id, "Bỏ qua")
    await bot.tap(user_id, "Bỏ qua")
    await bot.tap(user_id, "🌐 Có, công khai")
    sent = await bot.tap(user_id, "✅ Gửi")
    assert "Đã nhận báo cáo" in sent.text


async def _models_offered(bot: Harness, user_id: int) -> list[str]:
    """The model buttons the report form offers (none: it skips the step)."""
    await bot.say(user_id, "/report")
    await bot.tap(user_id, "Hôm nay")
    await bot.tap(user_id, "Kinh tế")
    seen = await bot.say(user_id, "Hướng dẫn bà con thôn Bản Chặng trồng cây ăn quả")
    offered = []
    if "Việc này thuộc mô hình nào?" in seen.text:
        offered = [b for b in bot.buttons(user_id) if b not in ("◀ Quay lại", "Bỏ qua", "✖ Hủy")]
    await bot.say(user_id, "/cancel")
    return offered


async def _forge(bot: Harness, user_id: int, data: str) -> str | None:
    message_id = bot.fake.messages(user_id)[-1]["message_id"]
    seen = await bot.press_data(user_id, message_id, data, check_button=False)
    return seen.toast


async def _model_id(bot: Harness, name: str) -> int:
    async with bot.db.transaction() as tx:
        row = await tx.one("SELECT id FROM models WHERE name = ?", (name,))
    assert row is not None
    return int(row["id"])


async def _years(bot: Harness, model_id: int) -> list[ModelYear]:
    async with bot.db.transaction() as tx:
        return (await store.years_of(tx, [model_id]))[model_id]


# --- registering ------------------------------------------------------------------------------


async def test_a_leader_registers_a_model_through_the_form(bot: Harness) -> None:
    tree = await _cell_with_people(bot)
    empty = await bot.say(SON, "🏅 Mô hình")
    assert "Đơn vị chưa có mô hình" in empty.text
    first = await bot.tap(SON, "➕ Đăng ký mô hình")
    assert "Tên mô hình là gì?" in first.text
    sticker = await bot.send(SON, "sticker")
    assert "Đồng chí đang ở bước “tên” — đồng chí gõ tên mô hình" in sticker.text
    short = await bot.say(SON, "Xanh")
    assert "Tên mô hình hơi ngắn (4 ký tự)" in short.text
    emoji = await bot.say(SON, "🌳🌳🌳🌳🌳")
    assert "Câu trả lời cần có chữ hoặc số" in emoji.text
    field = await bot.say(SON, "<b>Ngày Chủ nhật xanh</b> & 🌳 sạch đẹp")
    assert "Mô hình thuộc lĩnh vực nào?" in field.text
    unit = await bot.tap(SON, "Môi trường")
    assert "Mô hình của đơn vị nào?" in unit.text
    assert "Chi bộ Thôn Bản Chặng" in bot.buttons(SON) and "Tổ đảng số 1" in bot.buttons(SON)
    org = await bot.tap(SON, "Chi bộ Thôn Bản Chặng")
    assert "Mô hình do tổ chức nào thực hiện?" in org.text
    assert "Hội Cựu chiến binh" in bot.buttons(SON) and "Bỏ qua" in bot.buttons(SON)
    await bot.tap(SON, "Đoàn Thanh niên")
    year = await bot.say(SON, "Mỗi sáng Chủ nhật, đoàn viên cùng bà con dọn vệ sinh đường làng")
    assert "Mô hình bắt đầu từ năm nào?" in year.text
    assert bot.buttons(SON)[:3] == ["Năm 2027", "Năm 2026", "Năm 2025"]
    typo = await bot.say(SON, "20244")
    assert "Năm này chưa hợp lệ" in typo.text
    too_early = await bot.say(SON, "1999")
    assert "Năm này chưa hợp lệ" in too_early.text
    summary = await bot.say(SON, "2024")
    assert "Đồng chí kiểm tra lại mô hình:" in summary.text
    assert "🏅 Tên mô hình: <b>Ngày Chủ nhật xanh</b> & 🌳 sạch đẹp" in summary.text
    assert "&lt;b&gt;Ngày Chủ nhật xanh&lt;/b&gt; &amp; 🌳" in summary.html
    assert "🤝 Tổ chức thực hiện: Đoàn Thanh niên" in summary.text
    assert "📅 Bắt đầu: Năm 2024" in summary.text
    send = bot.button(SON, "✅ Gửi")
    done = await bot.tap(SON, "✅ Gửi")
    assert "Đã đăng ký mô hình <b>Ngày Chủ nhật xanh</b> & 🌳 sạch đẹp của Chi bộ Thôn Bản Chặng"\
        in done.text
    again = await bot.press_data(SON, *send, check_button=False)
    assert again.toast == "Biểu mẫu này đã kết thúc."
    async with bot.db.transaction() as tx:
        rows = await tx.all("SELECT * FROM models")
        [entry] = await audit.entries(tx, "model_add")
    assert len(rows) == 1
    model = dict(rows[0])
    assert model["owner_unit_id"] == tree.cell and model["field"] == "Môi trường"
    assert model["mass_org"] == "youth" and model["start_year"] == 2024
    assert model["description"].startswith("Mỗi sáng Chủ nhật")
    # Begun before this year, it is already under way.
    assert await _years(bot, model["id"]) == [ModelYear(year=2024,
                                                        status=ModelStatus.IN_PROGRESS)]
    assert entry["actor"].startswith("person:") and entry["subject"] == f"model:{model['id']}"


async def test_the_same_name_twice_in_a_unit_asks_for_another_name(bot: Harness) -> None:
    tree = await _cell_with_people(bot)
    await bot.model(tree.cell, "Tiết kiệm theo gương Bác")
    await bot.say(SON, "/model")
    summary = await _register(bot, SON, "tiết kiệm  theo gương BÁC", "Kinh tế",
                              unit="Chi bộ Thôn Bản Chặng")
    assert "📄 Mô tả" not in summary.text and "🤝" not in summary.text
    refused = await bot.tap(SON, "✅ Gửi")
    assert "Chi bộ Thôn Bản Chặng đã có mô hình mang tên này" in refused.text
    assert "Tên mô hình là gì?" in refused.text
    renamed = await bot.say(SON, "Tiết kiệm theo gương Bác năm 2026")
    assert "Đồng chí kiểm tra lại mô hình:" in renamed.text
    assert "🏷 Lĩnh vực: Kinh tế" in renamed.text
    done = await bot.tap(SON, "✅ Gửi")
    assert "Đã đăng ký mô hình" in done.text
    # The same name in another unit is another model.
    await bot.say(SON, "/model")
    await _register(bot, SON, "Tiết kiệm theo gương Bác", "Kinh tế", unit="Tổ đảng số 1")
    assert "Đã đăng ký mô hình" in (await bot.tap(SON, "✅ Gửi")).text
    async with bot.db.transaction() as tx:
        rows = await tx.all("SELECT name, owner_unit_id FROM models ORDER BY id")
    assert [(r["name"], r["owner_unit_id"]) for r in rows] == [
        ("Tiết kiệm theo gương Bác", tree.cell),
        ("Tiết kiệm theo gương Bác năm 2026", tree.cell),
        ("Tiết kiệm theo gương Bác", tree.group),
    ]
    new = await _model_id(bot, "Tiết kiệm theo gương Bác năm 2026")
    assert await _years(bot, new) == [ModelYear(year=2026, status=ModelStatus.REGISTERED)]


async def test_a_leader_of_one_unit_is_not_asked_which_unit(bot: Harness) -> None:
    tree = await bot.tree()
    await bot.appoint(HANH, tree.group, Role.LEADER, "Hạnh")
    await bot.say(HANH, "/model")
    await bot.tap(HANH, "➕ Đăng ký mô hình")
    await bot.say(HANH, "Thắp sáng đường quê")
    org = await bot.tap(HANH, "Xã hội")
    assert "Mô hình do tổ chức nào thực hiện?" in org.text
    await bot.tap(HANH, "Hội Liên hiệp Phụ nữ")
    await bot.tap(HANH, "Bỏ qua")
    summary = await bot.say(HANH, "năm 2025")
    assert "🏢" not in summary.text
    done = await bot.tap(HANH, "✅ Gửi")
    assert "của Tổ đảng số 1, bắt đầu từ năm 2025" in done.text


async def test_members_and_observers_cannot_register(bot: Harness) -> None:
    tree = await _cell_with_people(bot)
    await bot.appoint(LAN, tree.commune, Role.OBSERVER, "Lan")
    listing = await bot.say(MAI, "/model")
    assert "Đơn vị của đồng chí chưa có mô hình" in listing.text
    assert "➕ Đăng ký mô hình" not in bot.buttons(MAI)
    assert await _forge(bot, MAI, "md:add") is not None
    await bot.say(LAN, "/model")
    assert await _forge(bot, LAN, "md:add") is not None
    async with bot.db.transaction() as tx:
        refused = await audit.entries(tx, "refused")
        assert await tx.one("SELECT id FROM drafts") is None
    assert [e["subject"] for e in refused] == ["model_add", "model_add"]


async def test_another_command_mid_form_keeps_the_draft(bot: Harness) -> None:
    await _cell_with_people(bot)
    await bot.say(SON, "/model")
    await bot.tap(SON, "➕ Đăng ký mô hình")
    await bot.say(SON, "Thắp sáng đường quê")
    listing = await bot.say(SON, "/model")
    assert "Biểu mẫu đồng chí đang làm dở vẫn được giữ" in listing.text
    again = await bot.tap(SON, "➕ Đăng ký mô hình")
    assert "tiếp tục từ bước này" in again.text and "Mô hình thuộc lĩnh vực nào?" in again.text


# --- the list and its counts ------------------------------------------------------------------


async def test_the_list_counts_reports_this_year_and_in_all(bot: Harness) -> None:
    tree = await _cell_with_people(bot)
    await bot.model(tree.cell, "Dân vận khéo xây dựng nông thôn mới", year=2024)
    await bot.model(tree.cell, "Tiết kiệm theo gương Bác", year=2025)
    await _report(bot, MAI, "Dân vận khéo xây dựng nông thôn mới")
    await _report(bot, BINH, "Dân vận khéo xây dựng nông thôn mới")
    await _report(bot, MAI, "Dân vận khéo xây dựng nông thôn mới", day="20/12/2025")
    await _report(bot, BINH, None)
    # Bình withdraws his report under the model: it no longer counts.
    await _withdraw(bot, BINH, "2. 26/11")
    listing = await bot.say(MAI, "🏅 Mô hình")
    assert "(1–2 trên tổng số 2)" in listing.text
    assert ("1. Dân vận khéo xây dựng nông thôn mới\n    Chi bộ Thôn Bản Chặng · Kinh tế\n"
            "    Năm 2026: 🔄 đang thực hiện · 📝 1 báo cáo năm 2026, tổng 2") in listing.text
    assert "Năm 2026: 🔄 đang thực hiện · 📝 0 báo cáo năm 2026, tổng 0" in listing.text
    assert bot.buttons(MAI) == ["1. Dân vận khéo xây dựng nông thôn mới",
                                "2. Tiết kiệm theo gương Bác"]
    card = await bot.tap(MAI, "1. Dân vận khéo")
    assert "📝 Báo cáo: 1 trong năm 2026, tổng 2" in card.text


async def test_the_list_comes_a_page_at_a_time(bot: Harness) -> None:
    tree = await _cell_with_people(bot)
    for n in range(1, 11):
        await bot.model(tree.cell, f"Mô hình số {n:02d}")
    first = await bot.say(MAI, "/model")
    assert "(1–8 trên tổng số 10)" in first.text
    second = await bot.tap(MAI, "Trang sau ▶")
    assert "(9–10 trên tổng số 10)" in second.text and "Mô hình số 10" in second.text
    assert second.methods() == ["editMessageText"]
    stale = await _forge(bot, MAI, "md:page:7")
    assert stale is None and "(9–10 trên tổng số 10)" in bot.screen(MAI)


async def test_a_member_sees_her_units_and_the_parents_models_read_only(bot: Harness) -> None:
    tree = await _cell_with_people(bot)
    await bot.model(tree.commune, "Ngày thứ 7 đi cơ sở")
    await bot.model(tree.province, "Lũy tre biên giới Việt Nam")
    await bot.model(tree.cell, "Tiết kiệm theo gương Bác")
    await bot.model(tree.sibling_cell, "Thắp sáng đường quê")
    await bot.model(tree.group, "Tổ đảng tự quản")
    listing = await bot.say(MAI, "/model")
    assert bot.buttons(MAI) == ["1. Tiết kiệm theo gương Bác", "2. Ngày thứ 7 đi cơ sở",
                                "3. Lũy tre biên giới Việt Nam"]
    assert "Đảng bộ xã Tràng Định" in listing.text
    card = await bot.tap(MAI, "2. Ngày thứ 7")
    assert "🏢 Đơn vị: Đảng bộ xã Tràng Định" in card.text
    assert "Cập nhật cho năm" not in card.text
    assert bot.buttons(MAI) == ["📋 Danh sách mô hình"]
    own = await bot.tap(MAI, "📋 Danh sách")
    await bot.tap(MAI, "1. Tiết kiệm")
    assert bot.buttons(MAI) == ["📋 Danh sách mô hình"], own.text
    commune_model = await _model_id(bot, "Ngày thứ 7 đi cơ sở")
    toast = await _forge(bot, MAI, f"md:st:{commune_model}:2026:s")
    assert toast is not None and toast.startswith(DENIED)
    assert await _years(bot, commune_model) == [ModelYear(year=2025,
                                                          status=ModelStatus.IN_PROGRESS)]
    # The leader sees the cell's tổ too; the sibling cell's models are nobody's here.
    await bot.say(SON, "/model")
    assert bot.buttons(SON)[:2] == ["1. Tiết kiệm theo gương Bác", "2. Tổ đảng tự quản"]
    assert "➕ Đăng ký mô hình" in bot.buttons(SON)
    assert all("Thắp sáng" not in b for b in bot.buttons(SON))


async def test_an_observer_reads_the_subtree(bot: Harness) -> None:
    tree = await _cell_with_people(bot)
    await bot.appoint(LAN, tree.commune, Role.OBSERVER, "Lan")
    await bot.model(tree.cell, "Tiết kiệm theo gương Bác")
    await bot.model(tree.province, "Lũy tre biên giới Việt Nam")
    await bot.say(LAN, "/model")
    assert bot.buttons(LAN) == ["1. Tiết kiệm theo gương Bác"]
    card = await bot.tap(LAN, "1. Tiết kiệm")
    assert "Cập nhật cho năm" not in card.text
    model_id = await _model_id(bot, "Tiết kiệm theo gương Bác")
    toast = await _forge(bot, LAN, f"md:mk:{model_id}:2026:e")
    assert toast is not None and toast.startswith(DENIED)


async def test_a_stranger_is_told_how_to_join(bot: Harness) -> None:
    bot.person(HANH, "Hạnh")
    seen = await bot.say(HANH, "/model")
    assert "xin đường link mời" in seen.text


# --- status per year --------------------------------------------------------------------------


async def test_the_status_carries_over_the_years_and_decides_what_members_may_pick(
    bot: Harness,
) -> None:
    tree = await _cell_with_people(bot)
    await bot.model(tree.cell, "Dân vận khéo xây dựng nông thôn mới", year=2024)
    assert await _models_offered(bot, MAI) == ["Dân vận khéo xây dựng nông thôn mới"]
    card = await _card(bot, SON, "1. Dân vận")
    assert "Năm 2026: 🔄 đang thực hiện" in card.text and "Năm 2025: 🔄 đang thực hiện" in card.text
    assert "Cập nhật cho năm 2026:" in card.text
    assert bot.buttons(SON)[:4] == ["📝 đăng ký", "• 🔄 đang thực hiện", "✅ hoàn thành", "⏹ dừng"]
    assert "⭐ Tiêu biểu" not in bot.buttons(SON)
    last_year = await bot.tap(SON, "📅 Năm 2025")
    assert "Cập nhật cho năm 2025:" in last_year.text
    stopped = await bot.tap(SON, "⏹ dừng")
    assert stopped.toast == "Đã cập nhật: năm 2025 — ⏹ dừng."
    assert "Năm 2026: ⏹ dừng" in stopped.text and "Năm 2025: ⏹ dừng" in stopped.text
    assert await _models_offered(bot, MAI) == []
    # Taken up again this year: offered again; 2025 stays stopped.
    await bot.tap(SON, "📅 Năm 2026")
    resumed = await bot.tap(SON, "🔄 đang thực hiện")
    assert "Năm 2026: 🔄 đang thực hiện" in resumed.text and "Năm 2025: ⏹ dừng" in resumed.text
    assert await _models_offered(bot, MAI) == ["Dân vận khéo xây dựng nông thôn mới"]
    model_id = await _model_id(bot, "Dân vận khéo xây dựng nông thôn mới")
    assert await _years(bot, model_id) == [
        ModelYear(year=2024, status=ModelStatus.IN_PROGRESS),
        ModelYear(year=2025, status=ModelStatus.STOPPED),
        ModelYear(year=2026, status=ModelStatus.IN_PROGRESS),
    ]
    # Only this year and last year can be changed.
    assert await _forge(bot, SON, f"md:st:{model_id}:2024:c") == (
        "Chỉ cập nhật được năm nay và năm trước, từ năm mô hình bắt đầu.")
    async with bot.db.transaction() as tx:
        changes = await audit.entries(tx, "model_status")
    assert [e["detail"] for e in changes] == ["2025 stopped", "2026 in_progress"]


async def test_a_model_completed_last_year_is_no_longer_offered(bot: Harness) -> None:
    tree = await _cell_with_people(bot)
    await bot.model(tree.cell, "Tiết kiệm theo gương Bác", year=2025)
    await bot.model(tree.commune, "Ngày thứ 7 đi cơ sở", year=2025)
    assert await _models_offered(bot, MAI) == ["Ngày thứ 7 đi cơ sở", "Tiết kiệm theo gương Bác"]
    cell_model = await _model_id(bot, "Tiết kiệm theo gương Bác")
    await bot.say(SON, "/model")
    await _forge(bot, SON, f"md:year:{cell_model}:2025")
    await bot.tap(SON, "✅ hoàn thành")
    assert await _models_offered(bot, MAI) == ["Ngày thứ 7 đi cơ sở"]
    # The commune's leader completes the commune's model this year: its deeds of the year
    # may still be attached to it.
    commune_model = await _model_id(bot, "Ngày thứ 7 đi cơ sở")
    await bot.say(TUAN, "/model")
    await _forge(bot, TUAN, f"md:open:{commune_model}")
    await bot.tap(TUAN, "✅ hoàn thành")
    assert await _models_offered(bot, MAI) == ["Ngày thứ 7 đi cơ sở"]


def _history(*rows: tuple[int, str]) -> list[ModelYear]:
    return [ModelYear(year=year, status=status) for year, status in rows]


@pytest.mark.parametrize(("history", "offered"), [
    (_history(), True),
    (_history((2024, "in_progress")), True),
    (_history((2024, "registered")), True),
    (_history((2026, "registered")), True),
    (_history((2024, "completed")), False),
    (_history((2024, "stopped")), False),
    (_history((2024, "stopped"), (2025, "in_progress")), True),
    (_history((2024, "in_progress"), (2025, "stopped")), False),
    (_history((2025, "in_progress"), (2026, "stopped")), False),
    (_history((2025, "in_progress"), (2026, "completed")), True),
    (_history((2025, "completed"), (2026, "completed")), True),
    (_history((2025, "in_progress"), (2027, "stopped")), True),
])
async def test_the_report_form_and_the_per_year_rule_agree(
    bot: Harness, history: list[ModelYear], offered: bool,
) -> None:
    cell = await bot.unit("Chi bộ Thôn Bản Chặng")
    async with bot.db.transaction() as tx:
        await tx.run("INSERT INTO models (id, name, field, owner_unit_id, start_year, created_at)"
                     " VALUES (1, 'Mô hình', 'Kinh tế', ?, 2024, '2024-01-01T00:00:00+00:00')",
                     (cell,))
        for row in history:
            await store.set_status(tx, 1, row.year, row.status)
        open_now = await store.models_open_to(tx, [cell], 2026)
    assert offered_in(history, 2024, 2026) is offered
    assert bool(open_now) is offered


def test_a_status_is_carried_from_the_latest_earlier_year_without_its_mark() -> None:
    history = [ModelYear(year=2023, status=ModelStatus.REGISTERED),
               ModelYear(year=2024, status=ModelStatus.IN_PROGRESS, mark=ModelMark.EXEMPLARY)]
    assert status_in(history, 2022) is None
    assert status_in(history, 2024) == history[1]
    assert status_in(history, 2026) == ModelYear(year=2026, status=ModelStatus.IN_PROGRESS)
    assert not offered_in(history, 2027, 2026), "not before its start year"


# --- marks by the level above -----------------------------------------------------------------


async def test_a_commune_leader_marks_a_cells_model_exemplary(bot: Harness) -> None:
    tree = await _cell_with_people(bot)
    await bot.model(tree.cell, "Dân vận khéo xây dựng nông thôn mới", year=2024)
    listing = await bot.say(TUAN, "/model")
    assert "Chi bộ Thôn Bản Chặng" in listing.text
    await bot.tap(TUAN, "1. Dân vận")
    assert "⭐ Tiêu biểu" in bot.buttons(TUAN) and "📣 Nhân rộng" in bot.buttons(TUAN)
    marked = await bot.tap(TUAN, "⭐ Tiêu biểu")
    assert marked.toast == "Đã đánh dấu năm 2026: ⭐ tiêu biểu."
    assert "Năm 2026: 🔄 đang thực hiện · ⭐ tiêu biểu" in marked.text
    assert "✓ ⭐ Tiêu biểu" in bot.buttons(TUAN)
    model_id = await _model_id(bot, "Dân vận khéo xây dựng nông thôn mới")
    assert await _years(bot, model_id) == [
        ModelYear(year=2024, status=ModelStatus.IN_PROGRESS),
        ModelYear(year=2026, status=ModelStatus.IN_PROGRESS, mark=ModelMark.EXEMPLARY),
    ]
    # The mark shows in the cell's list too; a status change later keeps it.
    seen = await bot.say(MAI, "/model")
    assert "Năm 2026: 🔄 đang thực hiện · ⭐ tiêu biểu" in seen.text
    await _card(bot, SON, "1. Dân vận")
    await bot.tap(SON, "✅ hoàn thành")
    assert (await _years(bot, model_id))[-1] == ModelYear(
        year=2026, status=ModelStatus.COMPLETED, mark=ModelMark.EXEMPLARY)
    # Pressed again, the mark comes off; "nhân rộng" for last year is a mark of its own.
    unmarked = await bot.tap(TUAN, "✓ ⭐ Tiêu biểu")
    assert unmarked.toast == "Đã bỏ đánh dấu năm 2026."
    await bot.tap(TUAN, "📅 Năm 2025")
    await bot.tap(TUAN, "📣 Nhân rộng")
    assert await _years(bot, model_id) == [
        ModelYear(year=2024, status=ModelStatus.IN_PROGRESS),
        ModelYear(year=2025, status=ModelStatus.IN_PROGRESS, mark=ModelMark.TO_SPREAD),
        ModelYear(year=2026, status=ModelStatus.COMPLETED),
    ]
    async with bot.db.transaction() as tx:
        marks = await audit.entries(tx, "model_mark")
    assert [e["detail"] for e in marks] == ["2026 exemplary", "2026 none", "2025 to_spread"]


async def test_a_cell_leader_cannot_mark_its_own_model(bot: Harness) -> None:
    tree = await _cell_with_people(bot)
    await bot.model(tree.cell, "Tiết kiệm theo gương Bác")
    await _card(bot, SON, "1. Tiết kiệm")
    assert "⭐ Tiêu biểu" not in bot.buttons(SON)
    model_id = await _model_id(bot, "Tiết kiệm theo gương Bác")
    toast = await _forge(bot, SON, f"md:mk:{model_id}:2026:e")
    assert toast is not None and toast.startswith(DENIED)
    assert all(y.mark is None for y in await _years(bot, model_id))
    async with bot.db.transaction() as tx:
        [entry] = await audit.entries(tx, "refused")
    assert entry["subject"] == "model_mark" and entry["detail"] == f"unit:{tree.cell}"


# --- forged and garbled presses ---------------------------------------------------------------


async def test_a_sibling_cells_forged_presses_are_refused_and_logged(bot: Harness) -> None:
    tree = await _cell_with_people(bot)
    await bot.appoint(HANH, tree.sibling_cell, Role.LEADER, "Hạnh")
    await bot.model(tree.cell, "Tiết kiệm theo gương Bác")
    model_id = await _model_id(bot, "Tiết kiệm theo gương Bác")
    await bot.say(HANH, "/model")
    assert bot.buttons(HANH) == ["➕ Đăng ký mô hình"]
    for data in (f"md:open:{model_id}", f"md:year:{model_id}:2025",
                 f"md:st:{model_id}:2026:s", f"md:mk:{model_id}:2026:e"):
        toast = await _forge(bot, HANH, data)
        assert toast is not None and toast.startswith(DENIED), data
    assert await _years(bot, model_id) == [ModelYear(year=2025,
                                                     status=ModelStatus.IN_PROGRESS)]
    async with bot.db.transaction() as tx:
        refused = await audit.entries(tx, "refused")
    assert [e["subject"] for e in refused] == ["model_list", "model_list", "model_status",
                                               "model_mark"]
    assert all(e["detail"] == f"unit:{tree.cell}" for e in refused)


@pytest.mark.parametrize("data", [
    "md:", "md:open", "md:open:abc", "md:open:999", "md:open:1:2", "md:st:1:2026",
    "md:st:1:2026:x", "md:mk:1:2026:z", "md:page:-1", "md:fly:1", "md:open:²",
])
async def test_garbled_data_gets_a_polite_toast(bot: Harness, data: str) -> None:
    tree = await _cell_with_people(bot)
    await bot.model(tree.cell, "Tiết kiệm theo gương Bác")
    await bot.say(SON, "/model")
    toast = await _forge(bot, SON, data)
    assert toast == "Không tìm thấy mô hình này; đồng chí mở lại 🏅 Mô hình nhé."


async def test_an_admin_registers_a_model_for_any_unit(tmp_path: Path) -> None:
    async with started(tmp_path, admins=[LAN]) as bot:
        tree = await bot.tree()
        bot.person(LAN, "Lan")
        await bot.model(tree.other_commune, "Ngày Chủ nhật xanh")
        listing = await bot.say(LAN, "/model")
        assert "Đảng bộ phường Hoàng Văn Thụ" in listing.text
        await _register(bot, LAN, "Lũy tre biên giới Việt Nam", "Quốc phòng – an ninh",
                        unit="Đảng bộ tỉnh Lạng Sơn", org="Hội Cựu chiến binh", year="2022")
        done = await bot.tap(LAN, "✅ Gửi")
        assert "của Đảng bộ tỉnh Lạng Sơn, bắt đầu từ năm 2022" in done.text
        async with bot.db.transaction() as tx:
            [entry] = await audit.entries(tx, "model_add")
        assert entry["actor"] == f"tg:{LAN}"
