"""📤 Xuất dữ liệu (/export), 📄 Báo cáo Word (/report_doc) and `lantoa export`: a unit and a
period picked by buttons or typed; every sheet of the workbook read back with openpyxl and
compared, cell by cell, with the database; the "Tổng hợp" figures with /stats'; the CSV read
back with csv; typed and forged input refused in words, and logged; every file in the audit
log."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from bot.rules.periods import LONGEST_YEARS
from bot.runtime.cli import main
from storage import audit, commitments, models, people, reports, reviews
from storage.db import Database
from storage.entities import ReportContent, Role
from storage.models import ModelMark, ModelStatus
from tests.harness import BACKEND, CATALOGUE, Harness, Seen, Tree, started

VI = CATALOGUE.texts("vi")
D = dt.date
# Telegram ids: the cell's leader, three members (Hoa in the cell's tổ), an excused member,
# the commune's observer, the sibling cell's leader, the other commune's observer, the
# sibling cell's member.
SON, MAI, BINH, HOA, KHA, LAN, TUNG, OANH, DUNG = 2001, 1001, 1002, 1003, 1004, 3001, 2002, 3002, \
    1005
CELL, GROUP, COMMUNE = "Chi bộ Thôn Bản Chặng", "Tổ đảng số 1", "Đảng bộ xã Tràng Định"
SIBLING = "Chi bộ Thôn Nà Pá"
# The period across a year's end that most tests export, and the words typed for it.
TYPED = "15/12/2025 - 15/01/2026"
FIRST, LAST = D(2025, 12, 15), D(2026, 1, 15)
XLSX, CSV = "📊 Excel (.xlsx)", "CSV — chỉ danh sách việc làm"
SHEETS = ["Tổng hợp", "Việc làm", "Mô hình", "Mô hình theo lĩnh vực", "Đảng viên"]
TITLE_ROWS = 3  # the title, the line under it, the header


@dataclass
class World:
    tree: Tree
    ids: dict[int, int]  # Telegram id → person id
    no_phone: int  # the person id of a member without Telegram
    reports: dict[str, int]
    models: dict[str, int]


async def _person_without_telegram(bot: Harness, unit: int, name: str) -> int:
    async with bot.db.transaction() as tx:
        person = await people.add_person(tx, None, name, "vi", bot.clock.now())
        await people.add_membership(tx, person.id, unit, Role.MEMBER, None, bot.clock.now())
    return person.id


async def _on_behalf(bot: Harness, leader: int, person_id: int, unit: int, deed: dt.date,
                     words: str) -> int:
    """A report a leader entered for a member without a phone (as /behalf stores it)."""
    entered_by = await bot.person_id(leader)
    async with bot.db.transaction() as tx:
        return await reports.insert_report(
            tx, person_id=person_id, unit_id=unit, entered_by=entered_by,
            content=ReportContent(deed_date=deed, field="Kinh tế", description=words,
                                  place="Nhà văn hóa thôn"),
            source_draft_id=90_000 + person_id, now=bot.clock.now())


async def _acknowledged_by(bot: Harness, report_id: int, leader: int) -> None:
    reviewer = await bot.person_id(leader)
    async with bot.db.transaction() as tx:
        await reviews.add_review(tx, report_id, reviewer, reviews.ACKNOWLEDGED, None,
                                 bot.clock.now())


async def world(bot: Harness) -> World:
    """The standard tree: Sơn leads the cell, Mai, Bình, Khả (excused) and Ông Lục (no phone)
    are its members, Hoa is in its tổ; Lan observes the commune; Tùng leads the sibling cell,
    where Dung reports; Oanh observes the other commune. Reports in and around 15/12/2025–
    15/01/2026 and in this quarter, of every kind an export must show rightly."""
    tree = await bot.tree()
    await bot.appoint(SON, tree.cell, Role.LEADER, "Sơn", "Hoàng Văn")
    for user, unit, first, last in ((MAI, tree.cell, "Mai", "Lăng Thị"),
                                    (BINH, tree.cell, "Bình", "Vi Văn"),
                                    (HOA, tree.group, "Hoa", "Nông Thị"),
                                    (KHA, tree.cell, "Khả", "Lương Văn"),
                                    (DUNG, tree.sibling_cell, "Dung", "Hà Thị")):
        await bot.join(user, unit, first, last)
    await bot.appoint(LAN, tree.commune, Role.OBSERVER, "Lan", "Triệu Thị")
    await bot.appoint(TUNG, tree.sibling_cell, Role.LEADER, "Tùng", "Đinh Văn")
    await bot.appoint(OANH, tree.other_commune, Role.OBSERVER, "Oanh", "Mã Thị")
    ids = {user: await bot.person_id(user) for user in (SON, MAI, BINH, HOA, KHA, LAN, TUNG,
                                                         OANH, DUNG)}
    no_phone = await _person_without_telegram(bot, tree.cell, "Lục Văn Ông")
    async with bot.db.transaction() as tx:
        await tx.run("UPDATE memberships SET excused = 1 WHERE person_id = ?", (ids[KHA],))
        await tx.run("UPDATE people SET unreachable = 1 WHERE id = ?", (ids[BINH],))
        await commitments.save_commitment(tx, person_id=ids[MAI], unit_id=tree.cell, year=2026,
                                          pledge="Gương mẫu", actions="Trồng cây",
                                          now=bot.clock.now())
    found = {
        "road": await bot.model(tree.cell, "Tuyến đường hoa", field="Môi trường", year=2025),
        "books": await bot.model(tree.group, "Tủ sách cộng đồng", field="Văn hóa", year=2026),
        "stopped": await bot.model(tree.group, "Hũ gạo tình thương", field="Xã hội",
                                   year=2024),
        "sibling": await bot.model(tree.sibling_cell, "Nhà đoàn kết", field="Xã hội",
                                   year=2026),
    }
    async with bot.db.transaction() as tx:
        await models.set_status(tx, found["stopped"], 2025, ModelStatus.STOPPED)
        await models.set_mark(tx, found["road"], 2026, ModelStatus.IN_PROGRESS,
                              ModelMark.EXEMPLARY)
    deeds = {
        "road": await bot.stored_report(
            MAI, tree.cell, deed=D(2025, 12, 20), field="Môi trường", state="acknowledged",
            words="Trồng 200 cây hoa dọc đường vào thôn", model=found["road"], value=20_000_000,
            households=2, helped=5),
        "together": await bot.stored_report(
            BINH, tree.cell, deed=D(2026, 1, 5), field="Môi trường", together=(MAI, HOA),
            words="=Dọn vệ sinh, khơi thông cống rãnh", value=1_500_000_000),
        "private": await bot.stored_report(
            HOA, tree.group, deed=D(2026, 1, 10), field="An sinh xã hội, giảm nghèo",
            state="needs_more", private=True,
            words="Giúp bà Lăng Thị Hoa (neo đơn) sửa mái nhà dột", helped=1, households=1),
        "withdrawn": await bot.stored_report(MAI, tree.cell, deed=D(2026, 1, 1),
                                             state="withdrawn", words="Đã rút: không tính"),
        "behalf": await _on_behalf(bot, SON, no_phone, tree.cell, D(2026, 1, 15),
                                   "Hiến 50 m² đất làm đường"),
        "before": await bot.stored_report(MAI, tree.cell, deed=D(2025, 12, 14),
                                          words="Ngày trước kỳ"),
        "after": await bot.stored_report(MAI, tree.cell, deed=D(2026, 1, 16),
                                         words="Ngày sau kỳ"),
        "sibling": await bot.stored_report(DUNG, tree.sibling_cell, deed=D(2026, 1, 2),
                                           words="Việc của chi bộ bên cạnh", value=300_000),
        # This quarter (01/10–31/12/2026), for the comparison with /stats.
        "quarter_1": await bot.stored_report(MAI, tree.cell, deed=D(2026, 10, 3),
                                             state="acknowledged", value=2_500_000, helped=3),
        "quarter_2": await bot.stored_report(HOA, tree.group, deed=D(2026, 11, 20),
                                             field="Kinh tế", together=(SON,), households=4),
        "quarter_3": await bot.stored_report(DUNG, tree.sibling_cell, deed=D(2026, 11, 2),
                                             state="needs_more"),
    }
    await _acknowledged_by(bot, deeds["road"], SON)
    await _acknowledged_by(bot, deeds["quarter_1"], SON)
    return World(tree, ids, no_phone, deeds, found)


# --- reading what the bot sent ------------------------------------------------------------------


def documents(bot: Harness, user_id: int) -> list[dict[str, Any]]:
    """The files the bot sent in the chat: their names, captions and bytes, oldest first."""
    return [{"name": m["document"].get("file_name"), "caption": m.get("caption", ""),
             "data": bot.fake.file_bytes(m["document"]["file_id"])}
            for m in bot.fake.messages(user_id) if "document" in m]


async def export_typed(bot: Harness, user_id: int, days: str = TYPED, file: str = XLSX,
                       unit: str | None = None) -> Seen:
    """/export, the unit (when given), ✏ Nhập khoảng ngày, the days typed, the file."""
    await bot.say(user_id, "/export")
    if unit is not None:
        await bot.tap(user_id, f"▸ {unit}")
    await bot.tap(user_id, "✏ Nhập khoảng ngày")
    await bot.say(user_id, days)
    return await bot.tap(user_id, file)


def sheet_rows(sheet: Worksheet) -> list[list[Any]]:
    return [list(row) for row in sheet.iter_rows(min_row=TITLE_ROWS + 1, values_only=True)]


def header(sheet: Worksheet) -> list[str]:
    return [c.value for c in sheet[TITLE_ROWS]]


def workbook_of(data: bytes) -> Any:
    return load_workbook(io.BytesIO(data))


async def exported(bot: Harness, user_id: int, **how: Any) -> Any:
    """The workbook a typed export sends (see export_typed)."""
    await export_typed(bot, user_id, **how)
    return workbook_of(documents(bot, user_id)[-1]["data"])


async def expected_deeds(bot: Harness, unit_ids: list[int], first: dt.date,
                         last: dt.date) -> list[list[Any]]:
    """The "Việc làm" rows the database holds, read here by hand: the reports of the units
    whose deed is in the days, never withdrawn, by day."""
    marks = ", ".join("?" * len(unit_ids))
    async with bot.db.transaction() as tx:
        rows = await tx.all(
            f"""SELECT r.id, r.deed_date, a.full_name AS author, u.name AS unit, r.field,
                       r.description, m.name AS model, r.people_helped, r.households_helped,
                       r.value_vnd, r.place, r.state, r.private, r.person_id, r.entered_by,
                       e.full_name AS enterer
                FROM reports r JOIN people a ON a.id = r.person_id
                JOIN units u ON u.id = r.unit_id JOIN people e ON e.id = r.entered_by
                LEFT JOIN models m ON m.id = r.model_id
                WHERE r.unit_id IN ({marks}) AND r.state != 'withdrawn'
                  AND r.deed_date BETWEEN ? AND ?
                ORDER BY r.deed_date, r.id""",
            (*unit_ids, first.isoformat(), last.isoformat()))
        found = []
        for number, r in enumerate(rows, start=1):
            partners = [p["full_name"] for p in await tx.all(
                """SELECT pe.full_name FROM report_participants p
                   JOIN people pe ON pe.id = p.person_id WHERE p.report_id = ?
                   ORDER BY pe.full_name""", (r["id"],))]
            acknowledged = await tx.one(
                """SELECT k.full_name FROM report_reviews v JOIN people k ON k.id = v.person_id
                   WHERE v.report_id = ? AND v.action = 'acknowledged'
                   ORDER BY v.id DESC LIMIT 1""", (r["id"],))
            found.append([
                number, dt.datetime.fromisoformat(r["deed_date"]), r["author"],
                ", ".join(partners) or None, r["unit"], r["field"], r["description"],
                r["model"], r["people_helped"], r["households_helped"], r["value_vnd"],
                r["place"], VI.plain(f"export.state.{r['state']}"),
                r["enterer"] if r["entered_by"] != r["person_id"]
                else VI.plain("export.self_reported"),
                acknowledged["full_name"] if acknowledged and r["state"] == "acknowledged"
                else None,
                VI.plain("export.yes") if r["private"] else None])
    return found


# --- the workbook, cell by cell ------------------------------------------------------------------


async def test_a_leader_exports_days_across_the_years_end(bot: Harness) -> None:
    w = await world(bot)
    await bot.say(SON, "/export")
    await bot.tap(SON, "✏ Nhập khoảng ngày")
    chosen = await bot.say(SON, TYPED)
    assert chosen.shows("export.period_days", dates="15/12/2025–15/01/2026")
    assert bot.buttons(SON) == [XLSX, CSV, "◀ Chọn kỳ khác"]
    making = await bot.tap(SON, XLSX)
    assert making.shows("export.making")
    [sent] = documents(bot, SON)
    assert sent["name"] == "LanToa_Chi-bo-Thon-Ban-Chang_2025-12-15_2026-01-15.xlsx"
    assert "15/12/2025" in sent["caption"] and "4 việc làm" in sent["caption"]
    book = workbook_of(sent["data"])
    assert book.sheetnames == SHEETS
    for sheet in book.worksheets:
        assert CELL in sheet["A1"].value, "the title names the unit"
        assert "15/12/2025" in sheet["A2"].value and "15/01/2026" in sheet["A2"].value
        assert sheet.freeze_panes == f"A{TITLE_ROWS + 1}", "the header stays in view"
    deeds = book["Việc làm"]
    assert sheet_rows(deeds) == await expected_deeds(bot, [w.tree.cell, w.tree.group], FIRST,
                                                     LAST)
    assert deeds.auto_filter.ref == f"A{TITLE_ROWS}:P{TITLE_ROWS + 4}", "a filter on each column"


async def test_the_deeds_sheet_keeps_what_leaders_need_and_nothing_else(bot: Harness) -> None:
    """Private reports with their words, co-participants, a report entered on behalf, who
    acknowledged; no withdrawn report, none outside the days or the subtree; real dates and
    money as numbers shown with dots; a report's words never a formula."""
    await world(bot)
    sheet = (await exported(bot, SON))["Việc làm"]
    rows = sheet_rows(sheet)
    words = [row[6] for row in rows]
    assert words == ["Trồng 200 cây hoa dọc đường vào thôn", "=Dọn vệ sinh, khơi thông cống rãnh",
                     "Giúp bà Lăng Thị Hoa (neo đơn) sửa mái nhà dột", "Hiến 50 m² đất làm đường"]
    road, together, private, behalf = rows
    assert road[13:15] == ["Tự báo cáo", "Sơn Hoàng Văn"], "self-reported, acknowledged by Sơn"
    assert together[3] == "Hoa Nông Thị, Mai Lăng Thị"
    assert private[15] == "Có" and private[12] == "Cần bổ sung" and private[4] == GROUP
    assert behalf[2] == "Lục Văn Ông" and behalf[13] == "Sơn Hoàng Văn"
    row = TITLE_ROWS + 1
    date, value, words_cell = sheet.cell(row, 2), sheet.cell(row, 11), sheet.cell(row + 1, 7)
    assert date.is_date and date.number_format == "dd/mm/yyyy"
    assert value.value == 20_000_000
    assert value.number_format == '[>=1000000]#"."###"."##0" đ";[>=1000]#"."##0" đ";0" đ"'
    big = sheet.cell(row + 1, 11)
    assert big.value == 1_500_000_000 and big.number_format.startswith("[>=1000000000000]")
    assert words_cell.data_type == "s", "text typed with '=' stays text"


async def test_the_summary_is_what_the_deeds_add_up_to(bot: Harness) -> None:
    await world(bot)
    book = await exported(bot, SON)
    deeds = sheet_rows(book["Việc làm"])
    summary = book["Tổng hợp"]
    fields = header(summary)[12:]
    rows = {row[0]: row for row in sheet_rows(summary)}
    assert list(rows) == [CELL, GROUP], "the unit, then each unit below it"
    assert summary.cell(TITLE_ROWS + 2, 1).alignment.indent == 1, "a unit below is indented"
    cell = rows[CELL]
    states = [row[12] for row in deeds]
    assert cell[1:5] == [len(deeds), states.count("Đã ghi nhận"), states.count("Chờ ghi nhận"),
                         states.count("Cần bổ sung")]
    # Mai, Bình, Hoa, Ông Lục and Sơn (who reports where he leads) count; Khả is excused.
    # All but Sơn took part.
    assert cell[5:8] == [4, 5, "80%"]
    assert cell[8:11] == [sum(r[9] or 0 for r in deeds), sum(r[8] or 0 for r in deeds),
                          sum(r[10] or 0 for r in deeds)]
    assert cell[12:] == [sum(r[5] == name for r in deeds) for name in fields]
    assert rows[GROUP][1:8] == [1, 0, 0, 1, 1, 1, "100%"]


async def test_the_summary_shows_what_stats_shows(bot: Harness) -> None:
    """The same unit and period in /stats and in the workbook: the same figures."""
    w = await world(bot)
    await bot.say(LAN, "/export")
    await bot.tap(LAN, "Quý này")
    await bot.tap(LAN, XLSX)
    book = workbook_of(documents(bot, LAN)[-1]["data"])
    rows = {row[0]: row for row in sheet_rows(book["Tổng hợp"])}
    await bot.say(LAN, "/stats")
    stats = await bot.tap(LAN, "Quý này")
    commune = rows[COMMUNE]
    total, acknowledged, waiting, needs_more, x, y, share = commune[1:8]
    assert total == 3
    assert stats.shows("stats.unit_total", total=total, reported=x, expected=y, percent=share)
    assert stats.shows("stats.states", acknowledged=acknowledged, pending=waiting,
                       needs_more=needs_more)
    assert stats.shows("stats.helped", whom=f"{commune[8]} hộ, {commune[9]} người")
    assert stats.shows("stats.value", value=f"{commune[10]:,} đ".replace(",", "."))
    for child in (CELL, SIBLING):
        row = rows[child]
        assert stats.shows("stats.child_line", unit=child, total=row[1], acknowledged=row[2],
                           reported=row[5], expected=row[6], percent=row[7])
    by_field = sheet_rows(book["Mô hình theo lĩnh vực"])
    assert by_field[-1][0] == "Tổng cộng"
    assert stats.shows("stats.models_title", unit=COMMUNE, total=by_field[-1][1], year=2026)
    assert len(sheet_rows(book["Mô hình"])) == by_field[-1][1]
    assert w.tree.commune != w.tree.cell


async def test_the_members_sheet(bot: Harness) -> None:
    await world(bot)
    book = await exported(bot, SON)
    deeds = sheet_rows(book["Việc làm"])
    members = {row[1]: row for row in sheet_rows(book["Đảng viên"])}
    assert set(members) == {"Mai Lăng Thị", "Bình Vi Văn", "Hoa Nông Thị", "Khả Lương Văn",
                            "Lục Văn Ông", "Sơn Hoàng Văn"}, "no observer, nobody from beside"
    for name, row in members.items():
        wrote = sum(r[2] == name for r in deeds)
        together = sum(name in (r[3] or "").split(", ") for r in deeds)
        assert row[3:6] == [wrote + together, wrote, together], name
    assert members["Mai Lăng Thị"][6] == "Đã đăng ký"
    assert members["Bình Vi Văn"][6] == "Chưa đăng ký"
    assert members["Khả Lương Văn"][7] == "Có"
    assert [members[n][8] for n in ("Mai Lăng Thị", "Bình Vi Văn", "Lục Văn Ông")] == [
        "Được", "Đã chặn bot", "Chưa dùng Telegram"]
    assert members["Hoa Nông Thị"][2] == GROUP
    assert header(book["Đảng viên"])[6] == "Cam kết năm 2026"


async def test_the_models_sheets(bot: Harness) -> None:
    """The models the subtree runs in the period's last year (2026): not one stopped in 2025,
    not the sibling cell's; their standing and their reports in the period."""
    await world(bot)
    book = await exported(bot, SON)
    models_ = sheet_rows(book["Mô hình"])
    assert [row[1:] for row in models_] == [
        ["Tủ sách cộng đồng", "Văn hóa", GROUP, None, 2026, "Đang thực hiện", None, 0],
        ["Tuyến đường hoa", "Môi trường", CELL, None, 2025, "Đang thực hiện", "Tiêu biểu", 1],
    ]
    assert header(book["Mô hình"])[6:8] == ["Tình trạng năm 2026", "Đánh giá năm 2026"]
    by_field = book["Mô hình theo lĩnh vực"]
    columns = header(by_field)
    rows = [dict(zip(columns, row, strict=True)) for row in sheet_rows(by_field)]
    assert [(r["Đơn vị"], r["Số mô hình"], r["Văn hóa"], r["Môi trường"]) for r in rows] == [
        (GROUP, 1, 1, 0), (f"Do {CELL} trực tiếp thực hiện", 1, 0, 1), ("Tổng cộng", 2, 1, 1)]


async def test_csv_on_request(bot: Harness) -> None:
    """The deeds as CSV, UTF-8 with a byte order mark: the same rows as the workbook's."""
    await world(bot)
    book = await exported(bot, SON)
    await export_typed(bot, SON, file=CSV)
    sent = documents(bot, SON)[-1]
    assert sent["name"] == "LanToa_Chi-bo-Thon-Ban-Chang_2025-12-15_2026-01-15.csv"
    assert sent["data"].startswith("\ufeff".encode())
    read = list(csv.reader(io.StringIO(sent["data"].decode("utf-8-sig"))))
    sheet = book["Việc làm"]
    assert read[0] == header(sheet)

    def written(value: Any) -> str:
        if isinstance(value, dt.datetime):
            return value.strftime("%d/%m/%Y")
        if isinstance(value, str) and value.startswith("="):
            return f"'{value}"  # a spreadsheet opening the CSV must not run it
        return "" if value is None else str(value)

    assert read[1:] == [[written(v) for v in row] for row in sheet_rows(sheet)]
    assert read[1][10] == "20000000", "numbers plain, for other programs to read"


async def test_every_export_is_in_the_audit_log(bot: Harness) -> None:
    w = await world(bot)
    await exported(bot, SON)
    await export_typed(bot, SON, file=CSV)
    async with bot.db.transaction() as tx:
        logged = await audit.entries(tx, "export")
    who = f"person:{w.ids[SON]}"
    assert [(e["actor"], e["subject"], e["detail"]) for e in logged] == [
        (who, f"unit:{w.tree.cell}", "xlsx 2025-12-15..2026-01-15"),
        (who, f"unit:{w.tree.cell}", "csv 2025-12-15..2026-01-15")]


# --- picking the unit and the period -------------------------------------------------------------


async def test_an_observer_picks_a_unit_below_from_the_menu(bot: Harness) -> None:
    w = await world(bot)
    for n in range(20):
        await bot.unit(f"Chi bộ Khu {n:02d}", parent=w.tree.commune)
    seen = await bot.say(LAN, "📤 Xuất dữ liệu")
    assert seen.shows("export.title", unit=COMMUNE)
    labels = bot.buttons(LAN)
    assert labels[:9] == ["Tuần trước", "Tháng này", "Tháng trước", "Quý này", "Quý trước",
                          "6 tháng đầu năm", "Năm nay", "Năm trước", "✏ Nhập khoảng ngày"]
    assert "Trang sau ▶" in labels and "▸ Chi bộ Thôn Nà Pá" not in labels
    await bot.tap(LAN, "Trang sau ▶")
    cell = await bot.tap(LAN, f"▸ {CELL}")
    assert cell.shows("export.title", unit=CELL)
    assert f"⬆ {COMMUNE}" in bot.buttons(LAN) and f"▸ {GROUP}" in bot.buttons(LAN)
    await bot.tap(LAN, "Tháng trước")
    await bot.tap(LAN, XLSX)
    assert documents(bot, LAN)[-1]["name"] == (
        "LanToa_Chi-bo-Thon-Ban-Chang_2026-10-01_2026-10-31.xlsx")


async def test_someone_with_several_units_chooses_one(bot: Harness) -> None:
    w = await world(bot)
    await bot.appoint(SON, w.tree.other_commune, Role.OBSERVER, "Sơn", "Hoàng Văn")
    seen = await bot.say(SON, "/export")
    assert seen.shows("export.pick_unit")
    assert sorted(bot.buttons(SON)) == [CELL, "Đảng bộ phường Hoàng Văn Thụ"]
    await bot.tap(SON, CELL)
    assert "🏛 Đơn vị khác" in bot.buttons(SON)


async def test_monthly_periods_follow_the_cut_off_day(tmp_path: Path) -> None:
    async with started(tmp_path, month_cutoff_day=15) as bot:
        await world(bot)
        await bot.say(SON, "/export")
        chosen = await bot.tap(SON, "Tháng trước")
        assert chosen.shows("export.period_named", period="Tháng trước",
                            dates="16/10–15/11/2026")
        back = await bot.tap(SON, "◀ Chọn kỳ khác")
        assert back.shows("export.title", unit=CELL) and back.methods() == ["editMessageText"]
        this_month = await bot.tap(SON, "Tháng này")
        assert this_month.shows("export.period_named", period="Tháng này",
                                dates="16/11–15/12/2026")


@pytest.mark.parametrize(("typed", "key"), [
    ("hôm qua", "form.export_period.days.unreadable"),
    ("🎉🎉🎉", "form.export_period.days.no_letters"),
    ("<b>01/01/2026</b> - 30/06/2026", "form.export_period.days.unreadable"),
    ("1" * 5000, "form.export_period.days.too_long"),
    ("30/06/2026 - 01/01/2026", "form.export_period.days.end_before_start"),
    ("01/01/2015 - 31/12/2025", "form.export_period.days.range_too_long"),
    ("31/02/2026 - 30/06/2026", "form.export_period.days.no_such_day"),
    ("01/12/2026 - 31/12/2026", "form.export_period.days.not_started"),
    ("01/01/1999 - 31/12/1999", "form.export_period.days.too_early"),
])
async def test_typed_days_that_cannot_be_exported(bot: Harness, typed: str, key: str) -> None:
    await world(bot)
    await bot.say(SON, "/export")
    await bot.tap(SON, "✏ Nhập khoảng ngày")
    seen = await bot.say(SON, typed)
    assert seen.shows(key) and seen.asks_again("form.export_period.days.prompt")
    if key.endswith("range_too_long"):
        assert seen.shows(key, years=LONGEST_YEARS)
    good = await bot.say(SON, "01/01/2026 đến 30/06/2026")
    assert good.shows("export.period_days", dates="01/01–30/06/2026")
    assert documents(bot, SON) == []


async def test_typing_the_days_can_be_cancelled(bot: Harness) -> None:
    await world(bot)
    await bot.say(SON, "/export")
    await bot.tap(SON, "✏ Nhập khoảng ngày")
    seen = await bot.tap(SON, "✖ Hủy")
    assert seen.shows("form.export_period.cancelled")
    after = await bot.say(SON, TYPED)
    assert not after.shows("export.period_days"), "no form waits for days any more"


# --- who may export what -----------------------------------------------------------------------


async def refused_and_logged(bot: Harness, user_id: int, seen: Seen, subject: str,
                             key: str = "access.denied") -> None:
    assert seen.shows(key)
    assert documents(bot, user_id) == []
    async with bot.db.transaction() as tx:
        refused = [e["subject"] for e in await audit.entries(tx, "refused")]
    assert subject in refused


async def test_a_member_is_refused_politely(bot: Harness) -> None:
    await world(bot)
    seen = await bot.say(MAI, "/export")
    await refused_and_logged(bot, MAI, seen, "export")
    seen = await bot.say(MAI, "/report_doc")
    await refused_and_logged(bot, MAI, seen, "export")


async def test_a_leader_of_another_unit_and_an_observer_beside_are_refused(
        bot: Harness) -> None:
    w = await world(bot)
    # Oanh observes another commune: not sent to a bí thư chi bộ.
    for user, key in ((TUNG, "access.denied"), (OANH, "access.denied_above_cell")):
        await bot.say(user, "/export")
        last = bot.fake.last_message(user)
        assert last is not None
        for data in (f"ex:m:xlsx:{w.tree.cell}:20251215:20260115", f"ex:u:s:{w.tree.cell}:0",
                     f"ex:k:s:{w.tree.cell}:q", f"ex:r:w:{w.tree.cell}"):
            seen = await bot.press_data(user, last["message_id"], data, check_button=False)
            await refused_and_logged(bot, user, seen, "export", key)
    async with bot.db.transaction() as tx:
        assert await audit.entries(tx, "export") == []


@pytest.mark.parametrize("data", [
    "ex:k:s:{cell}:zz",  # a period no button names
    "ex:m:xlsx:{cell}:20261399:20261231",  # no such day
    "ex:m:xlsx:{cell}:20270101:20271231",  # after today
    "ex:m:xlsx:{cell}:20000101:20261231",  # longer than a term
    "ex:m:xlsx:{cell}:20260630:20260101",  # ends before it starts
    "ex:m:pdf:{cell}:20260101:20260630",  # no such file
    "ex:u:s:{cell}:0:extra",
    "ex:u:s:99999999:0",  # no such unit
])
async def test_forged_buttons_are_refused(bot: Harness, data: str) -> None:
    w = await world(bot)
    await bot.say(SON, "/export")
    last = bot.fake.last_message(SON)
    assert last is not None
    seen = await bot.press_data(SON, last["message_id"], data.format(cell=w.tree.cell),
                                check_button=False)
    assert seen.toast in (VI.plain("export.stale"), VI.plain("export.not_found"))
    assert documents(bot, SON) == []
    async with bot.db.transaction() as tx:
        assert await audit.entries(tx, "export") == []
        if "99999999" not in data:
            refused = await audit.entries(tx, "refused")
            assert [e["subject"] for e in refused] == ["button"]


# --- the Word report ----------------------------------------------------------------------------


async def test_the_word_report_comes_from_the_same_picker(bot: Harness) -> None:
    """Needs bot/flows/report_doc.py's word_report (written apart)."""
    w = await world(bot)
    seen = await bot.say(SON, "/report_doc")
    assert seen.shows("export.title_word", unit=CELL)
    making = await bot.tap(SON, "Quý này")
    assert making.shows("export.making")
    [sent] = documents(bot, SON)
    assert sent["name"].endswith(".docx")
    async with bot.db.transaction() as tx:
        logged = await audit.entries(tx, "export")
    assert [(e["subject"], e["detail"]) for e in logged] == [
        (f"unit:{w.tree.cell}", "docx 2026-10-01..2026-12-31")]


# --- `lantoa export` ----------------------------------------------------------------------------


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The world's database, the bot stopped, a code on the cell, for the command line."""
    async def build() -> None:
        async with started(tmp_path) as bot:
            w = await world(bot)
            async with bot.db.transaction() as tx:
                await tx.run("UPDATE units SET code = 'BC' WHERE id = ?", (w.tree.cell,))

    asyncio.run(build())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LANTOA_DATABASE", str(BACKEND.location(tmp_path / "lantoa.sqlite3")))
    return tmp_path


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["export", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_line_exports_a_workbook_and_csv(
        database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = database / "bao-cao.xlsx"
    code, out, err = run_cli(capsys, "--unit", "BC", "--from", "15/12/2025", "--to",
                             "2026-01-15", "-o", str(out_file))
    assert (code, err) == (0, "")
    assert out.strip() == VI.plain("export.cli.done", path=out_file, unit=CELL,
                                   dates="15/12/2025–15/01/2026")
    book = load_workbook(out_file)
    assert book.sheetnames == SHEETS
    rows = sheet_rows(book["Việc làm"])
    assert len(rows) == 4 and rows[0][6] == "Trồng 200 cây hoa dọc đường vào thôn"
    csv_file = database / "viec-lam.CSV"
    code, _, err = run_cli(capsys, "--unit", "4", "--from", "15/12/2025", "--to", "15/01/2026",
                           "-o", str(csv_file))
    assert (code, err) == (0, "")
    assert len(list(csv.reader(io.StringIO(csv_file.read_text("utf-8-sig"))))) == 5
    with_audit = asyncio.run(_audit_of(BACKEND.location(database / "lantoa.sqlite3")))
    assert [(e["actor"], e["detail"]) for e in with_audit] == [
        ("cli", "xlsx 2025-12-15..2026-01-15"), ("cli", "csv 2025-12-15..2026-01-15")]


async def _audit_of(path: Path | str) -> list[dict]:
    db = await Database.open(path)
    try:
        async with db.transaction() as tx:
            return await audit.entries(tx, "export")
    finally:
        await db.close()


@pytest.mark.parametrize(("args", "key"), [
    (("--unit", "KHONGCO", "--from", "01/01/2026", "--to", "30/06/2026", "-o", "a.xlsx"),
     "export.cli.unit_unknown"),
    (("--unit", "BC", "--from", "31/02/2026", "--to", "30/06/2026", "-o", "a.xlsx"),
     "export.cli.bad_date"),
    (("--unit", "BC", "--from", "01/01/2026", "--to", "hôm nay", "-o", "a.xlsx"),
     "export.cli.bad_date"),
    (("--unit", "BC", "--from", "01/01/2026", "--to", "30/06/2026", "-o", "a.pdf"),
     "export.cli.suffix"),
    (("--unit", "BC", "--from", "30/06/2026", "--to", "01/01/2026", "-o", "a.xlsx"),
     "export.cli.end_before_start"),
    (("--unit", "BC", "--from", "01/01/2010", "--to", "31/12/2026", "-o", "a.xlsx"),
     "export.cli.too_long"),
    (("--unit", "BC", "--from", "01/01/2099", "--to", "31/12/2099", "-o", "a.xlsx"),
     "export.cli.not_started"),
])
def test_the_command_line_says_what_is_wrong_in_one_line(
        database: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
        key: str) -> None:
    code, out, err = run_cli(capsys, *args)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    first_words = VI.plain(key, unit="X", option="X", value="X", path="X",
                           years=LONGEST_YEARS).split("X")[0]
    assert first_words in err
    assert not (database / "a.xlsx").exists()


def test_the_command_line_writes_the_word_report(
        database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Needs bot/flows/report_doc.py's word_report (written apart)."""
    out_file = database / "bao-cao.docx"
    code, _, err = run_cli(capsys, "--unit", "BC", "--from", "01/10/2026", "--to",
                           "31/12/2026", "-o", str(out_file))
    assert (code, err) == (0, "")
    assert out_file.read_bytes()[:2] == b"PK", "a .docx is a zip"


# --- a big export ------------------------------------------------------------------------------


async def test_a_big_export_comes_in_batches_numbered_through(bot: Harness) -> None:
    """12,000 reports: read and written a batch at a time (never all in memory), yet one
    numbered list, whose count the caption gives."""
    w = await world(bot)
    mai = w.ids[MAI]
    async with bot.db.transaction() as tx:
        await tx.run_many(
            """INSERT INTO reports (person_id, unit_id, deed_date, field, description,
                                    entered_by, state, source_draft_id, received_at, updated_at)
               VALUES (?, ?, ?, 'Kinh tế', ?, ?, 'acknowledged', ?, '2026-11-27T00:00:00+00:00',
                       '2026-11-27T00:00:00+00:00')""",
            [(mai, w.tree.cell, (D(2024, 1, 1) + dt.timedelta(days=n % 700)).isoformat(),
              f"Việc số {n}", mai, 200_000 + n) for n in range(12_000)])
    await export_typed(bot, SON, days="01/01/2024 - 31/12/2025")
    sent = documents(bot, SON)[-1]
    assert "12.002 việc làm" in sent["caption"], "and Mai's two of December 2025"
    rows = sheet_rows(workbook_of(sent["data"])["Việc làm"])
    assert [row[0] for row in rows] == list(range(1, 12_003))
    assert [row[1] for row in rows] == sorted(row[1] for row in rows)


async def test_an_export_reads_beside_the_bot_never_holding_it_up(bot: Harness) -> None:
    """The export's read transaction is on a connection of its own: the bot writes meanwhile,
    and the export reads the database as it was when it began."""
    w = await world(bot)
    async with bot.db.reading() as tx:
        before = await tx.one("SELECT COUNT(*) AS n FROM reports")
        await asyncio.wait_for(bot.stored_report(MAI, w.tree.cell, words="Viết trong lúc đọc"),
                               timeout=5)
        during = await tx.one("SELECT COUNT(*) AS n FROM reports")
    assert before is not None and during is not None and before["n"] == during["n"]
    async with bot.db.transaction() as tx:
        after = await tx.one("SELECT COUNT(*) AS n FROM reports")
    assert after is not None and after["n"] == before["n"] + 1
