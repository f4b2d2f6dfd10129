"""📊 Thống kê: a member sees their own counts; leaders and observers see a unit's figures, one
line per unit below and the models table; periods switch in place; a forged press for a unit
out of reach is refused and logged."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.flows.stats import PERIODS, OwnStats, UnitStats
from bot.rules.periods import Period
from bot.runtime.demo_data import DEMO_MODELS, load_demo_data
from bot.ui import buttons
from bot.ui.buttons import LARGEST_ID
from bot.ui.catalogue import Catalogue
from bot.ui.formatting import percent, period_span
from storage import audit, units
from storage.entities import Role
from tests.harness import CATALOGUE, HANOI, Harness, Seen, Tree, started

MAI, BINH, HOA, SON, TUNG, HANH, STRANGER, ADMIN = 1001, 1002, 1003, 2001, 2002, 2003, 9999, 3001
D = dt.date
# The harness's today is Friday 27/11/2026.
THIS_WEEK, LAST_WEEK = D(2026, 11, 25), D(2026, 11, 18)
VI = CATALOGUE.texts("vi")
CELL, COMMUNE = "Chi bộ Thôn Bản Chặng", "Đảng bộ xã Tràng Định"


def _period(seen: Seen, period: str, first: str, last: str) -> bool:
    """The period shown (`period` the key of its name) and its first and last day."""
    return seen.shows("stats.period_line", period=VI.plain(f"period.{period}"),
                      dates=period_span(D(*reversed(_dmy(first))), D(*reversed(_dmy(last)))))


def _dmy(day: str) -> tuple[int, ...]:
    return tuple(int(part) for part in day.split("/"))


def _fields(*counts: tuple[str, int]) -> str:
    """Fields and their counts, as a figures line lists them."""
    return VI.plain("stats.joiner").join(VI.plain("stats.field_item", field=field, count=count)
                                         for field, count in counts)


def _own(seen: Seen, total: int, authored: int, together: int) -> bool:
    return seen.shows("stats.own_total", total=total, authored=authored, together=together)


def _unit(seen: Seen, total: int, reported: int, expected: int, percent: str) -> bool:
    return seen.shows("stats.unit_total", total=total, reported=reported, expected=expected,
                      percent=percent)


async def _this_month(bot: Harness, user_id: int, command: str = "/stats") -> Seen:
    """/stats (which opens on this week), then "Tháng này"."""
    await bot.say(user_id, command)
    return await bot.tap(user_id, "Tháng này")


async def _cell_with_reports(bot: Harness) -> Tree:
    """Mai, Bình and Hoa in Chi bộ Thôn Bản Chặng (Hoa in its Tổ đảng số 1), a few reports."""
    tree = await bot.tree()
    await bot.join(MAI, tree.cell, "Mai")
    await bot.join(BINH, tree.cell, "Bình")
    await bot.join(HOA, tree.group, "Hoa")
    await bot.stored_report(MAI, tree.cell, deed=THIS_WEEK, state="acknowledged", value=2_000_000,
                            households=2, helped=5)
    await bot.stored_report(BINH, tree.cell, deed=D(2026, 11, 3), field="Môi trường",
                            together=(MAI,))
    await bot.stored_report(MAI, tree.cell, deed=D(2026, 11, 20), state="withdrawn")
    await bot.stored_report(MAI, tree.cell, deed=D(2026, 10, 12), state="needs_more",
                            field="Kinh tế")
    return tree


async def test_a_member_sees_their_own_counts_for_the_month(bot: Harness) -> None:
    await _cell_with_reports(bot)
    seen = await _this_month(bot, MAI, "📊 Thống kê")
    assert seen.shows("stats.title_own", name="Mai")
    assert _period(seen, "this_month", "01/11/2026", "30/11/2026")
    # Her own report and Bình's with her; the withdrawn one never counts.
    assert _own(seen, 2, authored=1, together=1)
    assert seen.shows("stats.states", acknowledged=1, pending=1, needs_more=0)
    assert seen.shows("stats.fields", fields=_fields(("Xã hội", 1), ("Môi trường", 1)))
    assert seen.shows("stats.helped", whom="2 hộ, 5 người")
    assert seen.shows("stats.value", value="2.000.000 đ")
    assert bot.buttons(MAI) == ["Tuần này", "Tuần trước", "• Tháng này •", "Quý này",
                                "Năm nay", "Năm trước"], "a member has no unit to look at"


async def test_switching_periods_redraws_the_figures_in_place(bot: Harness) -> None:
    await _cell_with_reports(bot)
    await bot.say(MAI, "/stats")
    quarter = await bot.tap(MAI, "Quý này")
    assert quarter.methods() == ["editMessageText"]
    assert _period(quarter, "this_quarter", "01/10/2026", "31/12/2026")
    assert _own(quarter, 3, authored=2, together=1)
    assert quarter.shows("stats.states", acknowledged=1, pending=1, needs_more=1), \
        "a report needing more still counts"
    last_week = await bot.tap(MAI, "Tuần trước")
    assert _period(last_week, "last_week", "16/11/2026", "22/11/2026")
    assert last_week.shows("stats.own_empty")
    assert "• Tuần trước •" in bot.buttons(MAI)
    last_year = await bot.tap(MAI, "Năm trước")
    assert _period(last_year, "last_year", "01/01/2025", "31/12/2025")


async def test_nothing_yet_is_said_kindly(bot: Harness) -> None:
    tree = await bot.tree()
    await bot.join(MAI, tree.cell, "Mai")
    seen = await bot.say(MAI, "/stats")
    assert seen.shows("stats.own_empty") and not seen.shows("stats.own_total")


async def test_a_week_across_the_new_year_shows_both_years(bot: Harness) -> None:
    tree = await bot.tree()
    await bot.join(MAI, tree.cell, "Mai")
    bot.clock.moment = dt.datetime(2027, 1, 1, 0, 30, tzinfo=HANOI)
    await bot.stored_report(MAI, tree.cell, deed=D(2026, 12, 29))
    week = await bot.say(MAI, "/stats")
    assert _period(week, "this_week", "28/12/2026", "03/01/2027")
    assert _own(week, 1, authored=1, together=0)
    month = await bot.tap(MAI, "Tháng này")
    assert month.shows("stats.own_empty"), "December's deed is not January's"


async def test_a_cell_leader_sees_the_cells_figures_and_its_tổ(bot: Harness) -> None:
    tree = await _cell_with_reports(bot)
    await bot.appoint(SON, tree.cell, Role.LEADER, "Sơn")
    await bot.stored_report(HOA, tree.group, deed=THIS_WEEK, field="Kinh tế", together=(SON,))
    await bot.model(tree.cell, "Tiết kiệm theo gương Bác", field="Kinh tế", year=2026)
    seen = await _this_month(bot, SON)
    assert seen.shows("stats.title_unit", unit=CELL)
    # Mai, Bình, Hoa and Sơn (who reports in the cell he leads); all four took part.
    assert _unit(seen, 3, 4, 4, "100%")
    assert seen.shows("stats.states", acknowledged=1, pending=2, needs_more=0)
    assert seen.shows("stats.child_line", unit="Tổ đảng số 1", total=1, acknowledged=0,
                      reported=1, expected=1, percent="100%")
    assert seen.shows("stats.models_title", unit=CELL, total=1, year=2026)
    assert seen.shows("stats.new_models", count=1)
    labels = bot.buttons(SON)
    assert "▸ Tổ đảng số 1" in labels and "👤 Cá nhân" in labels
    assert not any(label.startswith("⬆") for label in labels), "the commune is not his"
    group = await bot.tap(SON, "▸ Tổ đảng số 1")
    assert group.shows("stats.title_unit", unit="Tổ đảng số 1")
    assert _unit(group, 1, 1, 1, "100%")
    assert "⬆ Chi bộ Thôn Bản Chặng" in bot.buttons(SON)
    mine = await bot.tap(SON, "👤 Cá nhân")
    assert mine.shows("stats.title_own", name="Sơn")
    assert _own(mine, 1, authored=0, together=1)
    back = await bot.tap(SON, "🏛 Số liệu đơn vị")
    assert _unit(back, 3, 4, 4, "100%")


async def test_excused_members_are_out_of_the_count(bot: Harness) -> None:
    tree = await _cell_with_reports(bot)
    await bot.appoint(SON, tree.cell, Role.LEADER, "Sơn")
    hoa = await bot.person_id(HOA)
    async with bot.db.transaction() as tx:
        await tx.run("UPDATE memberships SET excused = 1 WHERE person_id = ?", (hoa,))
    seen = await _this_month(bot, SON)
    assert _unit(seen, 2, 2, 3, "66,7%")


async def test_a_commune_leader_sees_each_cell_and_the_models_table(bot: Harness) -> None:
    tree = await _cell_with_reports(bot)
    await bot.appoint(TUNG, tree.commune, Role.LEADER, "Tùng")
    await bot.join(HANH, tree.sibling_cell, "Hạnh")
    await bot.stored_report(HANH, tree.sibling_cell, deed=THIS_WEEK, field="Văn hóa", value=500_000)
    await bot.model(tree.cell, "Dân vận khéo xây dựng nông thôn mới", field="Xã hội", year=2025)
    await bot.model(tree.group, "Ngày Chủ nhật xanh", field="Môi trường", year=2026)
    await bot.model(tree.sibling_cell, "Tiết kiệm theo gương Bác", field="Kinh tế", year=2026)
    await bot.model(tree.commune, "Đường làng sáng đẹp", field="Môi trường", year=2026)
    await bot.model(tree.sibling_cell, "Mô hình năm sau", field="Kinh tế", year=2027)
    seen = await _this_month(bot, TUNG, "📊 Thống kê")
    assert seen.shows("stats.title_unit", unit=COMMUNE)
    # Mai, Bình, Hoa, Hạnh and Tùng (reporting in the commune he leads).
    assert _unit(seen, 3, 3, 5, "60%")
    assert seen.shows("stats.value", value="2.500.000 đ")
    assert seen.shows("stats.child_line", unit=CELL, total=2, acknowledged=1, reported=2,
                      expected=3, percent="66,7%")
    assert seen.shows("stats.child_line", unit="Chi bộ Thôn Nà Pá", total=1, acknowledged=0,
                      reported=1, expected=1, percent="100%")
    assert seen.shows("stats.models_title", unit=COMMUNE, total=4, year=2026)
    assert seen.shows("stats.models_row", unit=CELL, total=2,
                      fields=_fields(("Xã hội", 1), ("Môi trường", 1)))
    assert seen.shows("stats.models_row", unit="Chi bộ Thôn Nà Pá", total=1,
                      fields=_fields(("Kinh tế", 1)))
    assert seen.shows("stats.models_own", unit=COMMUNE, total=1,
                      fields=_fields(("Môi trường", 1)))
    last_year = await bot.tap(TUNG, "Năm trước")
    assert last_year.shows("stats.models_title", unit=COMMUNE, total=1, year=2025)
    assert last_year.shows("stats.models_row_empty", unit="Chi bộ Thôn Nà Pá")
    assert last_year.shows("stats.child_empty", unit=CELL)
    cell = await bot.tap(TUNG, "▸ Chi bộ Thôn Bản Chặng")
    assert _period(cell, "last_year", "01/01/2025", "31/12/2025"), "the period is kept"
    assert "⬆ Đảng bộ xã Tràng Định" in bot.buttons(TUNG)
    assert "👤 Cá nhân" in bot.buttons(TUNG)


async def test_an_observer_reads_the_subtree_and_switches_to_her_own(bot: Harness) -> None:
    tree = await _cell_with_reports(bot)
    await bot.appoint(HANH, tree.commune, Role.OBSERVER, "Hạnh")
    seen = await bot.say(HANH, "/stats")
    assert seen.shows("stats.title_unit", unit=COMMUNE) and "Chi bộ Thôn Bản Chặng" in seen.text
    assert "👤 Cá nhân" not in bot.buttons(HANH), "an observer alone reports nothing"
    await bot.join(HANH, tree.sibling_cell, "Hạnh")
    await bot.say(HANH, "/stats")
    mine = await bot.tap(HANH, "👤 Cá nhân")
    assert mine.shows("stats.title_own", name="Hạnh")
    units = await bot.tap(HANH, "🏛 Số liệu đơn vị")
    assert units.shows("stats.title_unit", unit=COMMUNE)


async def test_someone_with_two_separate_units_picks_one(bot: Harness) -> None:
    tree = await _cell_with_reports(bot)
    await bot.appoint(HANH, tree.cell, Role.OBSERVER, "Hạnh")
    await bot.appoint(HANH, tree.other_commune, Role.OBSERVER, "Hạnh")
    seen = await bot.say(HANH, "/stats")
    assert seen.shows("stats.pick")
    assert bot.buttons(HANH) == ["Chi bộ Thôn Bản Chặng", "Đảng bộ phường Hoàng Văn Thụ"]
    await bot.tap(HANH, "Chi bộ Thôn Bản Chặng")
    cell = await bot.tap(HANH, "Tháng này")
    assert _unit(cell, 2, 2, 3, "66,7%")
    picker = await bot.tap(HANH, "🏛 Đơn vị khác")
    assert picker.shows("stats.pick")


async def _refusals(bot: Harness) -> list[dict]:
    async with bot.db.transaction() as tx:
        return await audit.entries(tx, "refused")


async def test_a_forged_press_for_a_sibling_or_parent_unit_is_refused_and_logged(
        bot: Harness) -> None:
    tree = await _cell_with_reports(bot)
    await bot.appoint(SON, tree.cell, Role.LEADER, "Sơn")
    await bot.say(SON, "/stats")
    message_id, _ = bot.button(SON, "Tháng này")
    for target in (tree.sibling_cell, tree.commune, tree.other_commune):
        refused = await bot.press_data(SON, message_id, f"st:u:m:{target}", check_button=False)
        assert refused.shows("access.denied"), target
        assert refused.methods() == [], "nothing of the other unit is shown"
    logged = await _refusals(bot)
    assert [(e["subject"], e["detail"]) for e in logged] == [
        ("stats_unit", f"unit:{tree.sibling_cell}"), ("stats_unit", f"unit:{tree.commune}"),
        ("stats_unit", f"unit:{tree.other_commune}")]
    allowed = await bot.press_data(SON, message_id, f"st:u:w:{tree.group}", check_button=False)
    assert allowed.shows("stats.title_unit", unit="Tổ đảng số 1")


async def test_a_member_cannot_forge_a_units_figures(bot: Harness) -> None:
    tree = await _cell_with_reports(bot)
    await bot.say(MAI, "/stats")
    message_id, _ = bot.button(MAI, "Tháng này")
    refused = await bot.press_data(MAI, message_id, f"st:u:m:{tree.cell}", check_button=False)
    assert refused.shows("access.denied")
    picker = await bot.press_data(MAI, message_id, "st:pick:m", check_button=False)
    assert picker.shows("access.denied") and picker.methods() == []
    assert len(await _refusals(bot)) == 2


async def test_a_stranger_is_refused(bot: Harness) -> None:
    tree = await _cell_with_reports(bot)
    bot.person(STRANGER, "Lạ")
    seen = await bot.say(STRANGER, "/stats")
    assert seen.shows("access.not_member")
    menu = await bot.say(STRANGER, "📊 Thống kê")
    assert menu.shows("access.not_member")
    message_id = bot.fake.last_message(STRANGER)["message_id"]
    for data in ("st:me:m", f"st:u:m:{tree.cell}", "st:pick:w"):
        refused = await bot.press_data(STRANGER, message_id, data, check_button=False)
        assert refused.shows("access.not_member"), data
    assert len(await _refusals(bot)) == 5


async def test_garbled_or_stale_data_gets_a_polite_note(bot: Harness) -> None:
    tree = await _cell_with_reports(bot)
    await bot.appoint(SON, tree.cell, Role.LEADER, "Sơn")
    await bot.say(SON, "/stats")
    message_id, _ = bot.button(SON, "Tháng này")
    for data in ("st:u:m:abc", "st:zz", "st:u:xx:1", "st:u:m:-1", "st:me:m:1", "st:u:m:1:2",
                 "st:u:m:" + "9" * 40, "st:pick:<b>"):
        seen = await bot.press_data(SON, message_id, data, check_button=False)
        assert seen.shows("stats.stale"), data
    gone = await bot.press_data(SON, message_id, "st:u:m:987654", check_button=False)
    assert gone.shows("stats.not_found")


async def test_a_removed_member_no_longer_sees_figures(bot: Harness) -> None:
    tree = await _cell_with_reports(bot)
    await bot.say(MAI, "/stats")
    mai = await bot.person_id(MAI)
    async with bot.db.transaction() as tx:
        await tx.run("UPDATE memberships SET status = 'removed' WHERE person_id = ?", (mai,))
    refused = await bot.tap(MAI, "Năm nay")
    assert refused.shows("access.not_member")
    assert refused.methods() == []
    stale_unit = await bot.press_data(MAI, bot.button(MAI, "Năm nay")[0], f"st:u:y:{tree.cell}",
                                      check_button=False)
    assert stale_unit.shows("access.not_member")


async def test_an_admin_sees_every_top_unit(tmp_path: Path) -> None:
    async with started(tmp_path, admins=[ADMIN]) as bot:
        bot.person(ADMIN, "Quản trị")
        nothing = await bot.say(ADMIN, "/stats")
        assert nothing.shows("stats.no_units")
        await _cell_with_reports(bot)
        seen = await _this_month(bot, ADMIN)
        assert seen.shows("stats.title_unit", unit="Đảng bộ tỉnh Lạng Sơn")
        assert _unit(seen, 2, 2, 3, "66,7%")


def test_period_codes_and_percentages() -> None:
    assert {buttons.read(f"st:me:{code}") for code in PERIODS} == {
        OwnStats(code) for code in PERIODS}
    assert all(len(UnitStats(code, LARGEST_ID).pack()) <= 64 for code in PERIODS)
    t = Catalogue.load().texts("vi")
    assert percent(0.265, t) == "26,5%" and percent(1, t) == "100%"
    assert percent(9 / 34, Catalogue.load().texts("en")) == "26.5%"
    assert Period(D(2026, 1, 1), D(2026, 1, 1))


async def test_a_cut_off_day_shifts_the_month_counted(tmp_path: Path) -> None:
    async with started(tmp_path, month_cutoff_day=15) as bot:
        await _cell_with_reports(bot)
        seen = await _this_month(bot, MAI, "📊 Thống kê")
    assert _period(seen, "this_month", "16/11/2026", "15/12/2026")
    # The 25/11 deed is in; Bình's of 03/11 (with her) belongs to the month before.
    assert _own(seen, 1, authored=1, together=0)


async def test_one_week_reads_the_same_on_members_digest_and_stats(bot: Harness) -> None:
    """One period formatter: the week of 23/11–29/11/2026 is written one way on every screen."""
    tree = await _cell_with_reports(bot)
    await bot.appoint(SON, tree.cell, Role.LEADER, "Sơn")
    members = await bot.say(SON, "/members")
    digest = await bot.say(SON, "/digest")
    await _this_month(bot, SON)
    message_id, _ = bot.button(SON, "Tuần này")
    stats = await bot.press_data(SON, message_id, f"st:u:w:{tree.cell}", check_button=False)
    assert stats.shows("stats.title_unit", unit=CELL)
    for seen in (members, digest, stats):
        assert "23/11–29/11/2026" in seen.text, seen.text


def test_a_period_is_written_one_way() -> None:
    assert period_span(D(2026, 11, 23), D(2026, 11, 29)) == "23/11–29/11/2026"
    assert period_span(D(2026, 11, 30), D(2026, 12, 6)) == "30/11–06/12/2026"
    assert period_span(D(2026, 12, 28), D(2027, 1, 3)) == "28/12/2026–03/01/2027"
    assert period_span(D(2026, 11, 27), D(2026, 11, 27)) == "27/11/2026"
    assert period_span(D(2026, 11, 23), D(2026, 11, 29), year=False) == "23/11–29/11"


async def test_stats_open_on_this_week_as_the_digests_do(bot: Harness) -> None:
    tree = await _cell_with_reports(bot)
    await bot.appoint(SON, tree.cell, Role.LEADER, "Sơn")
    await bot.appoint(HANH, tree.commune, Role.OBSERVER, "Hạnh")
    for user_id in (SON, HANH, MAI):
        seen = await bot.say(user_id, "/stats")
        assert _period(seen, "this_week", "23/11/2026", "29/11/2026"), user_id
        assert "• Tuần này •" in bot.buttons(user_id) and "Tháng này" in bot.buttons(user_id)


async def test_demo_models_begun_years_ago_are_not_new_this_week(bot: Harness) -> None:
    # A fresh install: `lantoa demo-data`, then the province's secretary opens /stats.
    async with bot.db.transaction() as tx:
        await load_demo_data(tx, bot.clock.now(), HANOI)
        province = await units.get_unit_by_code(tx, "LS")
    assert province is not None
    await bot.appoint(SON, province.id, Role.LEADER, "Sơn")
    seen = await bot.say(SON, "/stats")
    assert seen.shows("stats.title_unit", unit="Đảng bộ tỉnh Lạng Sơn")
    assert "stats.new_models" not in seen.keys, f"{len(DEMO_MODELS)} models begun 2021–2024"
    month = await bot.tap(SON, "Tháng này")
    assert "stats.new_models" not in month.keys


async def test_a_commune_wide_deed_counts_once_and_credits_the_other_cells_member(
    bot: Harness
) -> None:
    """Mai's cell reports the commune's Ngày Chủ nhật xanh naming Hạnh of the sibling cell:
    the sibling cell's secretary sees Hạnh took part (the deed is not theirs), the commune's
    leader sees the deed, its people helped and value once and each person once."""
    tree = await bot.tree()
    await bot.join(MAI, tree.cell, "Mai")
    await bot.join(HANH, tree.sibling_cell, "Hạnh")
    await bot.appoint(SON, tree.sibling_cell, Role.LEADER, "Sơn")
    await bot.appoint(TUNG, tree.commune, Role.LEADER, "Tùng")
    await bot.stored_report(MAI, tree.cell, deed=THIS_WEEK, field="Môi trường", helped=300,
                            value=3_000_000, together=(HANH,))
    sibling = await bot.say(SON, "/stats")
    # Hạnh and Sơn (reporting in the cell he leads) are its y; Hạnh took part.
    assert sibling.shows("stats.unit_only_along", reported=1, expected=2, percent="50%")
    commune = await bot.say(TUNG, "/stats")
    # Mai, Hạnh, Sơn and Tùng; Mai and Hạnh took part, in one deed.
    assert _unit(commune, 1, 2, 4, "50%")
    assert commune.shows("stats.helped", whom="300 người")
    assert "0 hộ" not in commune.text
    assert commune.shows("stats.value", value="3.000.000 đ")
    assert commune.shows("stats.child_line", unit=CELL, total=1, acknowledged=0, reported=1,
                         expected=1, percent="100%")
    assert commune.shows("stats.child_only_along", unit="Chi bộ Thôn Nà Pá", reported=1,
                         expected=2, percent="50%")
