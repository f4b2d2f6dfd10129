"""🏅 Mô hình: leaders register their unit's models and keep their status year by year, a
higher level marks the best ones, members report under them, and everyone sees the counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import audit
from storage import models as store
from storage.entities import Role
from storage.models import ModelMark, ModelStatus, ModelYear, offered_in, status_in
from tests.harness import CATALOGUE, Harness, Seen, Tree, as_read, started
from tests.test_my_reports import _withdraw

SON, MAI, BINH, TUAN, HANH, LAN = 3001, 3002, 3003, 3004, 3005, 3006
COMMUNE = "Đảng bộ xã Tràng Định"
VI = CATALOGUE.texts("vi")
IN_PROGRESS, STOPPED = VI.plain("model.status.in_progress"), VI.plain("model.status.stopped")
EXEMPLARY = VI.plain("model.mark.exemplary")


def _answer(step: str, value: str) -> str:
    """A summary's line: the step's name and the answer (the form writes "name: answer")."""
    return f"{VI.plain(f'form.model.{step}.label')}: {value}"



def _standing(seen: Seen, year: int, status: str, mark: str | None = None) -> bool:
    """A model's status in a year (with the mark given it, if any), as a list or card says it."""
    if mark is None:
        return seen.shows("model.standing", year=year, status=status)
    return seen.shows("model.standing_marked", year=year, status=status, mark=mark)


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
    await bot.say(user_id, "Hướng dẫn bà con thôn Bản Chặng trồng cây ăn quả")
    if model is not None:
        seen = await bot.tap(user_id, "➕ Thêm chi tiết")
        assert seen.shows("form.report.model_id.prompt")
        await bot.tap(user_id, model)
        await bot.skip_details(user_id)
    sent = await bot.tap(user_id, "✅ Gửi ngay")
    assert sent.shows("report.received")


async def _models_offered(bot: Harness, user_id: int) -> list[str]:
    """The model buttons the report form offers (none: it skips the step)."""
    await bot.say(user_id, "/report")
    await bot.tap(user_id, "Hôm nay")
    await bot.tap(user_id, "Kinh tế")
    await bot.say(user_id, "Hướng dẫn bà con thôn Bản Chặng trồng cây ăn quả")
    seen = await bot.tap(user_id, "➕ Thêm chi tiết")
    offered = []
    if seen.shows("form.report.model_id.prompt"):
        offered = [b for b in bot.buttons(user_id) if b not in ("◀ Quay lại", "Bỏ qua", "✖ Hủy")]
    await bot.say(user_id, "/cancel")
    return offered


async def _forge(bot: Harness, user_id: int, data: str) -> Seen:
    message_id = bot.fake.messages(user_id)[-1]["message_id"]
    return await bot.press_data(user_id, message_id, data, check_button=False)


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
    assert empty.shows("model.empty_leader")
    first = await bot.tap(SON, "➕ Đăng ký mô hình")
    assert first.shows("form.model.name.prompt")
    sticker = await bot.send(SON, "sticker")
    assert sticker.shows("form.problem.unexpected", step=VI.plain("form.model.name.short"),
                         hint=VI.plain("form.model.name.hint"))
    short = await bot.say(SON, "Xanh")
    assert short.shows("form.model.name.too_short", length=4, min=5)
    emoji = await bot.say(SON, "🌳🌳🌳🌳🌳")
    assert emoji.shows("form.problem.no_letters")
    field = await bot.say(SON, "<b>Ngày Chủ nhật xanh</b> & 🌳 sạch đẹp")
    assert field.shows("form.model.field.prompt")
    unit = await bot.tap(SON, "Môi trường")
    assert unit.shows("form.model.owner_unit_id.prompt")
    assert "Chi bộ Thôn Bản Chặng" in bot.buttons(SON) and "Tổ đảng số 1" in bot.buttons(SON)
    org = await bot.tap(SON, "Chi bộ Thôn Bản Chặng")
    assert org.shows("form.model.mass_org.prompt")
    assert "Hội Cựu chiến binh" in bot.buttons(SON) and "Bỏ qua" in bot.buttons(SON)
    await bot.tap(SON, "Đoàn Thanh niên")
    year = await bot.say(SON, "Mỗi sáng Chủ nhật, đoàn viên cùng bà con dọn vệ sinh đường làng")
    assert year.shows("form.model.start_year.prompt")
    assert bot.buttons(SON)[:3] == ["Năm 2027", "Năm 2026", "Năm 2025"]
    typo = await bot.say(SON, "20244")
    assert typo.shows("form.model.start_year.pick_button")
    too_early = await bot.say(SON, "1999")
    assert too_early.shows("form.model.start_year.pick_button")
    summary = await bot.say(SON, "2024")
    assert summary.shows("form.model.summary_title")
    assert _answer("name", "<b>Ngày Chủ nhật xanh</b> & 🌳 sạch đẹp") in summary.text
    assert "&lt;b&gt;Ngày Chủ nhật xanh&lt;/b&gt; &amp; 🌳" in summary.html
    assert _answer("mass_org", VI.plain("model.mass_org.youth")) in summary.text
    assert _answer("start_year", VI.plain("model.year", year=2024)) in summary.text
    send = bot.button(SON, "✅ Gửi")
    done = await bot.tap(SON, "✅ Gửi")
    assert done.shows("model.registered", name="<b>Ngày Chủ nhật xanh</b> & 🌳 sạch đẹp",
                      unit="Chi bộ Thôn Bản Chặng", year=2024)
    again = await bot.press_data(SON, *send, check_button=False)
    assert again.shows("form.ended")
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
    assert summary.shows("form.model.summary_title")
    assert not summary.shows("form.model.description.label")
    assert not summary.shows("form.model.mass_org.label")
    refused = await bot.tap(SON, "✅ Gửi")
    assert refused.shows("model.duplicate_name", unit="Chi bộ Thôn Bản Chặng")
    assert refused.shows("form.model.name.prompt")
    renamed = await bot.say(SON, "Tiết kiệm theo gương Bác năm 2026")
    assert renamed.shows("form.model.summary_title")
    assert _answer("field", "Kinh tế") in renamed.text
    done = await bot.tap(SON, "✅ Gửi")
    assert done.shows("model.registered", name="Tiết kiệm theo gương Bác năm 2026",
                      unit="Chi bộ Thôn Bản Chặng", year=2026)
    # The same name in another unit is another model.
    await bot.say(SON, "/model")
    await _register(bot, SON, "Tiết kiệm theo gương Bác", "Kinh tế", unit="Tổ đảng số 1")
    assert (await bot.tap(SON, "✅ Gửi")).shows(
        "model.registered", name="Tiết kiệm theo gương Bác", unit="Tổ đảng số 1", year=2026)
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
    assert org.shows("form.model.mass_org.prompt")
    await bot.tap(HANH, "Hội Liên hiệp Phụ nữ")
    await bot.tap(HANH, "Bỏ qua")
    summary = await bot.say(HANH, "năm 2025")
    assert summary.shows("form.model.summary_title")
    assert "🏢" not in summary.text and not summary.shows("form.model.owner_unit_id.label")
    done = await bot.tap(HANH, "✅ Gửi")
    assert done.shows("model.registered", name="Thắp sáng đường quê", unit="Tổ đảng số 1",
                      year=2025)


async def test_members_and_observers_cannot_register(bot: Harness) -> None:
    tree = await _cell_with_people(bot)
    await bot.appoint(LAN, tree.commune, Role.OBSERVER, "Lan")
    listing = await bot.say(MAI, "/model")
    assert listing.shows("model.empty")
    assert "➕ Đăng ký mô hình" not in bot.buttons(MAI)
    assert (await _forge(bot, MAI, "md:add")).shows("access.denied")
    await bot.say(LAN, "/model")
    assert (await _forge(bot, LAN, "md:add")).shows("access.read_only", unit=COMMUNE)
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
    assert listing.shows("form.draft_kept")
    again = await bot.tap(SON, "➕ Đăng ký mô hình")
    assert again.shows("form.model.resumed") and again.shows("form.model.field.prompt")


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
    assert listing.shows("model.title", first=1, last=2, total=2)
    in_progress = VI("model.standing", year=2026, status=IN_PROGRESS)
    assert listing.shows("model.line", number=1, name="Dân vận khéo xây dựng nông thôn mới",
                         unit="Chi bộ Thôn Bản Chặng", field="Kinh tế", standing=in_progress,
                         reports=VI("model.reports", count=1, year=2026, total=2))
    assert listing.shows("model.line", number=2, name="Tiết kiệm theo gương Bác",
                         unit="Chi bộ Thôn Bản Chặng", field="Kinh tế", standing=in_progress,
                         reports=VI("model.reports", count=0, year=2026, total=0))
    assert bot.buttons(MAI) == ["1. Dân vận khéo xây dựng nông thôn mới",
                                "2. Tiết kiệm theo gương Bác"]
    card = await bot.tap(MAI, "1. Dân vận khéo")
    assert card.shows("model.card_reports", count=1, year=2026, total=2)


async def test_the_list_comes_a_page_at_a_time(bot: Harness) -> None:
    tree = await _cell_with_people(bot)
    for n in range(1, 11):
        await bot.model(tree.cell, f"Mô hình số {n:02d}")
    first = await bot.say(MAI, "/model")
    assert first.shows("model.title", first=1, last=8, total=10)
    second = await bot.tap(MAI, "Trang sau ▶")
    assert second.shows("model.title", first=9, last=10, total=10)
    assert "Mô hình số 10" in second.text
    assert second.methods() == ["editMessageText"]
    stale = await _forge(bot, MAI, "md:page:7")
    assert stale.toast is None
    assert bot.screen(MAI).startswith(as_read(VI("model.title", first=9, last=10, total=10)))


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
    assert card.shows("model.card_unit", unit="Đảng bộ xã Tràng Định")
    assert not card.shows("model.card_actions")
    assert bot.buttons(MAI) == ["📋 Danh sách mô hình"]
    own = await bot.tap(MAI, "📋 Danh sách")
    await bot.tap(MAI, "1. Tiết kiệm")
    assert bot.buttons(MAI) == ["📋 Danh sách mô hình"], own.text
    commune_model = await _model_id(bot, "Ngày thứ 7 đi cơ sở")
    assert (await _forge(bot, MAI, f"md:st:{commune_model}:2026:s")).shows("access.denied")
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
    assert card.shows("model.card_title", name="Tiết kiệm theo gương Bác")
    assert not card.shows("model.card_actions")
    model_id = await _model_id(bot, "Tiết kiệm theo gương Bác")
    assert (await _forge(bot, LAN, f"md:mk:{model_id}:2026:e")).shows("access.read_only",
                                                                      unit=COMMUNE)


async def test_a_stranger_is_told_how_to_join(bot: Harness) -> None:
    bot.person(HANH, "Hạnh")
    seen = await bot.say(HANH, "/model")
    assert seen.shows("access.not_member")


# --- status per year --------------------------------------------------------------------------


async def test_the_status_carries_over_the_years_and_decides_what_members_may_pick(
    bot: Harness,
) -> None:
    tree = await _cell_with_people(bot)
    await bot.model(tree.cell, "Dân vận khéo xây dựng nông thôn mới", year=2024)
    assert await _models_offered(bot, MAI) == ["Dân vận khéo xây dựng nông thôn mới"]
    card = await _card(bot, SON, "1. Dân vận")
    assert _standing(card, 2026, IN_PROGRESS) and _standing(card, 2025, IN_PROGRESS)
    assert card.shows("model.card_actions", year=2026)
    assert bot.buttons(SON)[:4] == ["📝 đăng ký", "• 🔄 đang thực hiện", "✅ hoàn thành", "⏹ dừng"]
    assert "⭐ Tiêu biểu" not in bot.buttons(SON)
    last_year = await bot.tap(SON, "📅 Năm 2025")
    assert last_year.shows("model.card_actions", year=2025)
    stopped = await bot.tap(SON, "⏹ dừng")
    assert stopped.shows("model.status_set", year=2025, status=STOPPED)
    assert _standing(stopped, 2026, STOPPED) and _standing(stopped, 2025, STOPPED)
    assert await _models_offered(bot, MAI) == []
    # Taken up again this year: offered again; 2025 stays stopped.
    await bot.tap(SON, "📅 Năm 2026")
    resumed = await bot.tap(SON, "🔄 đang thực hiện")
    assert _standing(resumed, 2026, IN_PROGRESS) and _standing(resumed, 2025, STOPPED)
    assert await _models_offered(bot, MAI) == ["Dân vận khéo xây dựng nông thôn mới"]
    model_id = await _model_id(bot, "Dân vận khéo xây dựng nông thôn mới")
    assert await _years(bot, model_id) == [
        ModelYear(year=2024, status=ModelStatus.IN_PROGRESS),
        ModelYear(year=2025, status=ModelStatus.STOPPED),
        ModelYear(year=2026, status=ModelStatus.IN_PROGRESS),
    ]
    # Only this year and last year can be changed.
    assert (await _forge(bot, SON, f"md:st:{model_id}:2024:c")).shows("model.year_closed")
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
    assert marked.shows("model.marked", year=2026, mark=EXEMPLARY)
    assert _standing(marked, 2026, IN_PROGRESS, EXEMPLARY)
    assert "✓ ⭐ Tiêu biểu" in bot.buttons(TUAN)
    model_id = await _model_id(bot, "Dân vận khéo xây dựng nông thôn mới")
    assert await _years(bot, model_id) == [
        ModelYear(year=2024, status=ModelStatus.IN_PROGRESS),
        ModelYear(year=2026, status=ModelStatus.IN_PROGRESS, mark=ModelMark.EXEMPLARY),
    ]
    # The mark shows in the cell's list too; a status change later keeps it.
    seen = await bot.say(MAI, "/model")
    assert _standing(seen, 2026, IN_PROGRESS, EXEMPLARY)
    await _card(bot, SON, "1. Dân vận")
    await bot.tap(SON, "✅ hoàn thành")
    assert (await _years(bot, model_id))[-1] == ModelYear(
        year=2026, status=ModelStatus.COMPLETED, mark=ModelMark.EXEMPLARY)
    # Pressed again, the mark comes off; "nhân rộng" for last year is a mark of its own.
    unmarked = await bot.tap(TUAN, "✓ ⭐ Tiêu biểu")
    assert unmarked.shows("model.unmarked", year=2026)
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
    assert (await _forge(bot, SON, f"md:mk:{model_id}:2026:e")).shows("access.denied")
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
        assert (await _forge(bot, HANH, data)).shows("access.denied"), data
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
    assert (await _forge(bot, SON, data)).shows("model.unknown")


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
        assert done.shows("model.registered", name="Lũy tre biên giới Việt Nam",
                          unit="Đảng bộ tỉnh Lạng Sơn", year=2022)
        async with bot.db.transaction() as tx:
            [entry] = await audit.entries(tx, "model_add")
        assert entry["actor"] == f"tg:{LAN}"
