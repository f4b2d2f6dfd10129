"""📄 The Word report: opened with python-docx and read figure by figure against what the
database holds (and against the counting module /stats uses); its layout (A4, margins, Times
New Roman, the header without borders, the signature); the words for each kind of unit and
period; a unit without reports, without a place name; markup, Jinja tags, emoji, control
characters and very long text printed as written; a province's own template; the committed
template still what its generator makes."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import docx
import pytest
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

from bot.flows.report_doc import (
    CONTENT_CHARS,
    MAX_MODEL_ROWS,
    file_name,
    period_wording,
    word_report,
)
from bot.rules import counting
from bot.rules.periods import Period, month_of, quarter_of, reporting_month_of, week_of, year_of
from bot.runtime.config import ConfigError, Settings, load_settings
from bot.ui.catalogue import Catalogue
from bot.ui.formatting import period_span
from bot.ui.screens import Document
from bot.ui.templates.build_report_doc import TARGET, template_bytes
from storage import commitments, members, models, people, reports, reviews, units
from storage.db import Database
from storage.entities import NewModel, NewUnit, ReportContent, ReportState, Role, Unit
from storage.models import ModelMark, ModelStatus
from tests.harness import HANOI, migrated_database
from tests.rendering import rendered_pages

D = dt.date
NOW = dt.datetime(2027, 2, 3, 9, 0, tzinfo=HANOI)
TODAY = NOW.date()
# Across a year's end: December and January.
PERIOD = Period(D(2026, 12, 1), D(2027, 1, 31))
VI = Catalogue.load().texts("vi")


# --- a world ---------------------------------------------------------------------------------


@dataclass
class World:
    db: Database
    settings: Settings
    province: int
    commune: int
    cell: int
    group: int
    sibling: int
    people: dict[str, int]
    drafts: int = 0

    async def unit(self, name: str, kind: str, parent: int | None,
                   place: str | None = None) -> int:
        async with self.db.transaction() as tx:
            made = await units.add_unit(tx, NewUnit(name=name, kind=kind, parent_id=parent,
                                                    place_name=place), NOW)
        return made.id

    async def member(self, name: str, unit_id: int, title: str | None = None,
                     excused: bool = False) -> int:
        async with self.db.transaction() as tx:
            person = await people.add_person(tx, None, name, "vi", NOW)
            await people.add_membership(tx, person.id, unit_id, Role.MEMBER, None, NOW)
            if title is not None:
                await members.add_leader(tx, person.id, unit_id, title, False, NOW)
            if excused:
                await members.set_excused(tx, person.id, unit_id, True)
        self.people[name] = person.id
        return person.id

    async def report(self, who: str, unit_id: int, deed: dt.date, *, field: str = "Xã hội",
                     words: str = "Việc làm tốt giúp bà con", state: ReportState | None = None,
                     together: tuple[str, ...] = (), households: int | None = None,
                     helped: int | None = None, value: int | None = None,
                     model: int | None = None, private: bool = False,
                     highlighted: bool = False) -> int:
        self.drafts += 1
        content = ReportContent(
            deed_date=deed, field=field, description=words,
            participant_ids=tuple(self.people[name] for name in together),
            households_helped=households, people_helped=helped, value_vnd=value,
            model_id=model, private=private)
        async with self.db.transaction() as tx:
            report_id = await reports.insert_report(
                tx, person_id=self.people[who], unit_id=unit_id, entered_by=self.people[who],
                content=content, source_draft_id=self.drafts, now=NOW)
            if state is not None:
                await reviews.change_state(tx, report_id, ReportState.PENDING, state, NOW)
            if highlighted:
                await reviews.add_review(tx, report_id, self.people["Mai"], reviews.HIGHLIGHT,
                                         None, NOW)
        return report_id

    async def model(self, name: str, owner: int, field: str, start: int,
                    status: ModelStatus = ModelStatus.IN_PROGRESS) -> int:
        async with self.db.transaction() as tx:
            made = await models.add_model(tx, NewModel(name=name, field=field,
                                                       owner_unit_id=owner, start_year=start),
                                          NOW, status)
        return made.id

    async def commit(self, who: str, unit_id: int, year: int) -> None:
        async with self.db.transaction() as tx:
            await commitments.save_commitment(
                tx, person_id=self.people[who], unit_id=unit_id, year=year,
                pledge="Gương mẫu học tập và làm theo Bác", actions="Giúp hộ nghèo", now=NOW)

    async def word(self, unit_id: int, period: Period = PERIOD,
                   settings: Settings | None = None) -> Document:
        return await word_report(self.db, settings or self.settings, unit_id, period, TODAY)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """Lạng Sơn's tree: a commune with Chi bộ Thôn Bản Chặng (and its Tổ đảng số 1) and
    Chi bộ Thôn Nà Pá; places named on the commune and the cell only."""
    db = await migrated_database(tmp_path / "lantoa.sqlite3")
    found = World(db, Settings(database=tmp_path / "lantoa.sqlite3"), 0, 0, 0, 0, 0, {})
    found.province = await found.unit("Đảng bộ tỉnh Lạng Sơn", "đảng bộ tỉnh", None)
    found.commune = await found.unit("Đảng bộ xã Tràng Định", "đảng bộ xã", found.province,
                                     place="Tràng Định")
    found.cell = await found.unit("Chi bộ Thôn Bản Chặng", "chi bộ", found.commune,
                                  place="Bản Chặng")
    found.group = await found.unit("Tổ đảng số 1", "tổ đảng", found.cell)
    found.sibling = await found.unit("Chi bộ Thôn Nà Pá", "chi bộ", found.commune)
    try:
        yield found
    finally:
        await db.close()


async def populated(world: World) -> None:
    """Members, models, commitments and reports in and around the period."""
    cell, group = world.cell, world.group
    await world.member("Hoàng Thị Mai", cell, title="bi_thu")
    world.people["Mai"] = world.people["Hoàng Thị Mai"]
    for name in ("Bình", "Dũng"):
        await world.member(name, cell)
    await world.member("Hạnh", cell, excused=True)  # miễn sinh hoạt: not in y
    await world.member("Hoa", group)
    await world.member("Tùng", world.sibling)
    green = await world.model("Ngày Chủ nhật xanh", cell, "Môi trường", 2025)
    await world.model("Tổ tự quản an ninh", group, "Quốc phòng – an ninh", 2027)
    stopped = await world.model("Mô hình đã dừng", cell, "Kinh tế", 2024)
    await world.model("Mô hình của Nà Pá", world.sibling, "Văn hóa", 2026)
    async with world.db.transaction() as tx:
        await models.set_status(tx, stopped, 2026, ModelStatus.STOPPED)
        await models.set_mark(tx, green, 2027, ModelStatus.IN_PROGRESS, ModelMark.EXEMPLARY)
    for name, year in (("Mai", 2027), ("Bình", 2027), ("Hoa", 2026), ("Tùng", 2027)):
        await world.commit(name, world.sibling if name == "Tùng" else cell, year)
    await world.report(
        "Mai", cell, D(2026, 12, 20), field="An sinh xã hội, giảm nghèo",
        words="Vận động bà con giúp hộ nghèo sửa nhà", state=ReportState.ACKNOWLEDGED,
        households=2, helped=5, value=20_000_000, model=green, highlighted=True)
    await world.report("Bình", cell, D(2027, 1, 5), field="Môi trường", together=("Mai", "Hoa"))
    await world.report("Hoa", group, D(2026, 12, 31), field="Kinh tế",
                       state=ReportState.NEEDS_MORE, value=1_500_000)
    await world.report("Bình", cell, D(2027, 1, 10), words="Báo cáo đã rút", value=99_000_000,
                       state=ReportState.WITHDRAWN, highlighted=True)
    await world.report("Mai", cell, D(2027, 1, 12), words="Việc riêng tư không công khai",
                       private=True, highlighted=True, households=1)
    await world.report("Bình", cell, D(2026, 11, 30), words="Trước kỳ báo cáo")
    await world.report("Mai", cell, D(2027, 2, 1), words="Sau kỳ báo cáo")
    await world.report("Tùng", world.sibling, D(2026, 12, 10), words="Việc của Nà Pá",
                       highlighted=True)


# --- reading the document --------------------------------------------------------------------


def opened(made: Document) -> DocxDocument:
    return docx.Document(io.BytesIO(made.data))


def paragraphs(doc: DocxDocument) -> list[Paragraph]:
    """Every paragraph in reading order, those in tables included."""
    return [Paragraph(p, doc) for p in doc.element.body.iter(qn("w:p"))]


def lines(doc: DocxDocument) -> list[str]:
    return [p.text for p in paragraphs(doc)]


def rows(table: Table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def table_headed(doc: DocxDocument, first: str, second: str) -> list[list[str]]:
    """The rows below the heading of the table whose first two columns are so headed."""
    found = [t for t in doc.tables if rows(t)[0][:2] == [first, second]]
    assert len(found) == 1, f"no single table headed {first}, {second}"
    return rows(found[0])[1:]


def line_after(doc: DocxDocument, heading: str) -> str:
    texts = lines(doc)
    return texts[texts.index(heading) + 1]


def effective(paragraph: Paragraph, run_value: object, attribute: str) -> object:
    """A run's font attribute as Word shows it: its own, else its paragraph style's chain."""
    if run_value is not None:
        return run_value
    style = paragraph.style
    while style is not None:
        value = getattr(style.font, attribute)
        if value is not None:
            return value
        style = style.base_style
    return None


# --- figures -------------------------------------------------------------------------------


async def test_the_figures_are_the_databases_for_the_whole_subtree(world: World) -> None:
    await populated(world)
    made = await world.word(world.cell)
    doc = opened(made)
    text = lines(doc)
    # In the period: Mai's ⭐ report, Bình's with Mai and Hoa, Hoa's in the tổ, Mai's private
    # one. Not: the withdrawn one, those before and after, Nà Pá's.
    assert ("- Tổng số việc làm theo Bác được báo cáo: 4; trong đó đã ghi nhận 1, chờ ghi nhận "
            "2, cần bổ sung 1.") in text
    # y: Mai, Bình, Dũng, Hoa (Hạnh is excused); x: Mai, Bình, Hoa (Hoa as co-participant too).
    assert ("- Số đảng viên có việc làm được báo cáo (kể cả cùng tham gia): 3/4 đồng chí, đạt "
            "75%.") in text
    # Most first, ties in config.toml's order, the fields without any last.
    assert table_headed(doc, "STT", "Lĩnh vực") == [
        ["1", "Kinh tế", "1"], ["2", "Xã hội", "1"], ["3", "An sinh xã hội, giảm nghèo", "1"],
        ["4", "Môi trường", "1"], ["5", "Văn hóa", "0"], ["6", "Quốc phòng – an ninh", "0"],
        ["7", "Xây dựng Đảng, hệ thống chính trị", "0"], ["8", "Khác", "0"]]
    assert "- Đã giúp đỡ 3 hộ, 5 người." in text
    assert "- Giá trị quy ra tiền: 21.500.000 đ." in text
    # The models of 2027 (the period's last year): the stopped one and Nà Pá's are not.
    assert ("- Năm 2027, Chi bộ Thôn Bản Chặng có 2 mô hình học tập và làm theo Bác; theo lĩnh "
            "vực: Quốc phòng – an ninh 1; Môi trường 1.") in text
    assert "- Theo đơn vị: Tổ đảng số 1 1." in text
    assert "- Trong kỳ có 1 việc làm gắn với 1 mô hình." in text
    assert table_headed(doc, "STT", "Tên mô hình") == [
        ["1", "Ngày Chủ nhật xanh", "Môi trường", "Chi bộ Thôn Bản Chặng",
         "đang thực hiện, tiêu biểu", "1"],
        ["2", "Tổ tự quản an ninh", "Quốc phòng – an ninh", "Tổ đảng số 1", "đang thực hiện",
         "0"]]
    assert ("- Có 2/4 đảng viên đã đăng ký bản cam kết tu dưỡng, rèn luyện, phấn đấu và nội "
            "dung học tập, làm theo Bác, đạt 50%.") in text
    assert table_headed(doc, "STT", "Đơn vị") == [["1", "Tổ đảng số 1", "1", "0", "1/1 (100%)"]]


async def test_the_figures_are_those_of_the_counting_module(world: World) -> None:
    await populated(world)
    for unit_id in (world.commune, world.cell, world.group, world.sibling):
        text = lines(opened(await world.word(unit_id)))
        async with world.db.transaction() as tx:
            whole, _ = await counting.roll_up(tx, world.settings, unit_id, PERIOD,
                                              counting.Basis.DONE)
        tally, share = whole.reports, whole.participation
        if tally.total:
            assert (f"- Tổng số việc làm theo Bác được báo cáo: {tally.total}; trong đó đã ghi "
                    f"nhận {tally.acknowledged}, chờ ghi nhận {tally.waiting}, cần bổ sung "
                    f"{tally.needs_more}.") in text
        assert any(f": {share.reported}/{share.expected} đồng chí" in line for line in text)
    commune = lines(opened(await world.word(world.commune)))
    # Nà Pá's report is the commune's too: 5 reports, and Tùng in x and y.
    assert any(line.startswith("- Tổng số việc làm theo Bác được báo cáo: 5;") for line in commune)
    assert any(": 4/5 đồng chí, đạt 80%." in line for line in commune)


async def test_highlights_are_public_starred_reports_of_the_period(world: World) -> None:
    await populated(world)
    unmarked = await world.report("Dũng", world.cell, D(2027, 1, 8), words="Đã bỏ nêu gương",
                                  highlighted=True)
    async with world.db.transaction() as tx:
        await reviews.add_review(tx, unmarked, world.people["Mai"], reviews.UNHIGHLIGHT, None,
                                 NOW)
    doc = opened(await world.word(world.cell))
    text = lines(doc)
    start = text.index("II. VIỆC LÀM TIÊU BIỂU, ĐƯỢC NÊU GƯƠNG")
    end = text.index("III. ĐÁNH GIÁ CHUNG VÀ PHƯƠNG HƯỚNG")
    # The private ⭐ report, the withdrawn one, the one unmarked since and Nà Pá's (another
    # cell) are not there.
    assert text[start + 1:end] == [
        "1. Đồng chí Hoàng Thị Mai (Chi bộ Thôn Bản Chặng), ngày 20/12/2026, lĩnh vực An sinh "
        "xã hội, giảm nghèo: Vận động bà con giúp hộ nghèo sửa nhà"]
    whole = "\n".join(lines(opened(await world.word(world.commune))))
    assert "Việc riêng tư không công khai" not in whole
    assert "Báo cáo đã rút" not in whole
    assert "1. Đồng chí Tùng (Chi bộ Thôn Nà Pá), ngày 10/12/2026, lĩnh vực Xã hội" in whole


async def test_co_participants_are_named_with_the_member(world: World) -> None:
    await populated(world)
    await world.report("Dũng", world.cell, D(2027, 1, 20), together=("Bình", "Hoa"),
                       words="Cùng làm đường bê tông", highlighted=True)
    await world.report("Bình", world.cell, D(2027, 1, 21), together=("Dũng",),
                       words="Cùng dọn vệ sinh", highlighted=True)
    text = lines(opened(await world.word(world.cell)))
    assert ("2. Đồng chí Dũng cùng các đồng chí Bình, Hoa (Chi bộ Thôn Bản Chặng), ngày "
            "20/01/2027, lĩnh vực Xã hội: Cùng làm đường bê tông") in text
    assert ("3. Đồng chí Bình cùng đồng chí Dũng (Chi bộ Thôn Bản Chặng), ngày 21/01/2027, "
            "lĩnh vực Xã hội: Cùng dọn vệ sinh") in text


# --- layout ---------------------------------------------------------------------------------


async def test_a4_with_the_guides_margins_in_times_new_roman(world: World) -> None:
    await populated(world)
    doc = opened(await world.word(world.cell))
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert 20 <= round(section.top_margin.mm, 1) <= 25
    assert 20 <= round(section.bottom_margin.mm, 1) <= 25
    assert 30 <= round(section.left_margin.mm, 1) <= 35
    assert 15 <= round(section.right_margin.mm, 1) <= 20
    fonts = doc.styles["Normal"].element.rPr.rFonts
    assert {fonts.get(qn(f"w:{script}")) for script in ("ascii", "hAnsi", "eastAsia", "cs")} == {
        "Times New Roman"}
    sizes = set()
    for paragraph in paragraphs(doc):
        for run in paragraph.runs:
            if run.text.strip():
                assert effective(paragraph, run.font.name, "name") == "Times New Roman"
                sizes.add(effective(paragraph, run.font.size, "size"))
    assert Pt(14) in sizes
    assert sizes <= {Pt(12), Pt(13), Pt(14), Pt(15), Pt(16)}, sizes


async def test_the_header_reads_as_a_party_document(world: World) -> None:
    await populated(world)
    doc = opened(await world.word(world.cell))
    header = doc.tables[0]
    borders = header._tbl.tblPr.find(qn("w:tblBorders"))
    assert {b.get(qn("w:val")) for b in borders} == {"nil"}, "the header has no borders"
    left, right = header.rows[0].cells
    assert [p.text for p in left.paragraphs] == [
        "ĐẢNG BỘ XÃ TRÀNG ĐỊNH", "CHI BỘ THÔN BẢN CHẶNG", "*", "Số      -BC/CB"]
    assert all(r.bold for r in left.paragraphs[1].runs)
    assert not any(r.bold for r in left.paragraphs[0].runs)
    title, _, place = right.paragraphs
    assert title.text == "ĐẢNG CỘNG SẢN VIỆT NAM"
    assert all(r.bold and r.underline for r in title.runs)
    # The day and month are left for the day it is signed; the year is this one.
    assert place.text == "Bản Chặng, ngày … tháng … năm 2027"
    assert all(r.italic for r in place.runs)
    text = lines(doc)
    assert "BÁO CÁO" in text
    assert ("kết quả thực hiện Chỉ thị số 05-CT/TW của Bộ Chính trị về đẩy mạnh học tập và làm "
            "theo tư tưởng, đạo đức, phong cách Hồ Chí Minh từ ngày 01/12/2026 đến ngày "
            "31/01/2027") in text
    assert not any("{{" in line or "{%" in line or "{#" in line for line in text)


async def test_the_signature_and_recipients(world: World) -> None:
    await populated(world)
    doc = opened(await world.word(world.cell))
    signature = doc.tables[-1]
    left, right = signature.rows[0].cells
    assert [p.text for p in left.paragraphs] == [
        "Nơi nhận:", "- Đảng ủy xã Tràng Định,", "- Lưu."]
    assert all(r.underline for r in left.paragraphs[0].runs)
    assert effective(left.paragraphs[1], left.paragraphs[1].runs[0].font.size, "size") == Pt(12)
    signed = [p.text for p in right.paragraphs if p.text]
    assert signed == ["T/M CHI BỘ", "BÍ THƯ", "Hoàng Thị Mai"]
    assert {b.get(qn("w:val")) for b in signature._tbl.tblPr.find(qn("w:tblBorders"))} == {"nil"}


async def test_each_kind_of_unit_signs_in_its_own_words(world: World) -> None:
    await populated(world)
    commune = opened(await world.word(world.commune))
    left, _ = commune.tables[0].rows[0].cells
    assert [p.text for p in left.paragraphs] == [
        "ĐẢNG BỘ TỈNH LẠNG SƠN", "ĐẢNG ỦY XÃ TRÀNG ĐỊNH", "*", "Số      -BC/ĐU"]
    signature = [p.text for cell in commune.tables[-1].rows[0].cells for p in cell.paragraphs
                 if p.text]
    # Nobody is the commune's bí thư: the name is left to be written.
    assert signature == ["Nơi nhận:", "- Tỉnh ủy Lạng Sơn,", "- Lưu.", "T/M ĐẢNG ỦY", "BÍ THƯ"]
    group = opened(await world.word(world.group))
    left, right = group.tables[0].rows[0].cells
    assert [p.text for p in left.paragraphs][3] == "Số      -BC/TĐ"
    assert [p.text for p in group.tables[-1].rows[0].cells[1].paragraphs if p.text] == [
        "T/M TỔ ĐẢNG", "TỔ TRƯỞNG"]
    # The tổ has no place of its own: its cell's.
    assert right.paragraphs[2].text == "Bản Chặng, ngày … tháng … năm 2027"


async def test_two_bi_thu_leave_the_name_to_be_written(world: World) -> None:
    await populated(world)
    await world.member("Bí thư thứ hai", world.cell, title="bi_thu")
    doc = opened(await world.word(world.cell))
    assert [p.text for p in doc.tables[-1].rows[0].cells[1].paragraphs if p.text] == [
        "T/M CHI BỘ", "BÍ THƯ"]


async def test_a_unit_without_any_place_name_leaves_dots(world: World) -> None:
    doc = opened(await world.word(world.province))
    left, right = doc.tables[0].rows[0].cells
    assert right.paragraphs[2].text == "……, ngày … tháng … năm 2027"
    # The top of the tree: no superior, and nobody to send it to but the archive.
    assert [p.text for p in left.paragraphs] == ["", "TỈNH ỦY LẠNG SƠN", "*", "Số      -BC/TU"]
    assert [p.text for p in doc.tables[-1].rows[0].cells[0].paragraphs] == ["Nơi nhận:",
                                                                            "- Lưu."]


async def test_a_unit_with_no_reports_still_reads_well(world: World) -> None:
    await populated(world)
    quiet = await world.unit("Chi bộ Thôn Khau Cải", "chi bộ", world.commune)
    await world.member("Lâm", quiet)
    doc = opened(await world.word(quiet))
    text = lines(doc)
    for expected in ("- Trong kỳ chưa có việc làm theo Bác nào được báo cáo.",
                     "- Số đảng viên có việc làm được báo cáo (kể cả cùng tham gia): 0/1 đồng "
                     "chí, đạt 0%.",
                     "- Chưa có số liệu về số hộ, số người được giúp đỡ.",
                     "- Chưa có số liệu về giá trị quy ra tiền.",
                     "- Chưa có mô hình nào thực hiện trong năm 2027.",
                     "- Có 0/1 đảng viên đã đăng ký bản cam kết tu dưỡng, rèn luyện, phấn đấu và "
                     "nội dung học tập, làm theo Bác, đạt 0%.",
                     "Trong kỳ chưa có việc làm được nêu gương."):
        assert expected in text
    assert "- Việc làm theo lĩnh vực:" not in text
    assert "5. Kết quả của các đơn vị trực thuộc" not in text
    assert [rows(t)[0][:2] for t in doc.tables][1:-1] == [], "no table but header and signature"
    empty = opened(await world.word(await world.unit("Chi bộ mới", "chi bộ", world.commune)))
    assert "- Chưa có đảng viên trong danh sách theo dõi." in lines(empty)


# --- text as written ---------------------------------------------------------------------------


async def test_markup_and_jinja_in_names_and_reports_are_printed_not_run(world: World) -> None:
    await populated(world)
    name = "Chi bộ <b>Thử</b> & {{ 7*7 }} {% if true %}X{% endif %} {#p bỏ #}"
    odd = await world.unit(name, "chi bộ", world.commune, place="<i>Nà</i> {{ place }}")
    await world.member("Mai {{ signer }}", odd)
    world.people["Mai"] = world.people["Mai {{ signer }}"]
    words = "<script>alert(1)</script> {{ reports.total }} {%p for x in y %} ]]> &amp;"
    await world.report("Mai", odd, D(2027, 1, 3), words=words, highlighted=True)
    made = await world.word(odd)
    doc = opened(made)
    text = lines(doc)
    left, right = doc.tables[0].rows[0].cells
    assert left.paragraphs[1].text == name.upper()
    assert right.paragraphs[2].text.startswith("<i>Nà</i> {{ place }}, ngày")
    assert (f"1. Đồng chí Mai {{{{ signer }}}} ({name}), ngày 03/01/2027, lĩnh vực Xã hội: "
            f"{words}") in text
    assert not any("49" in line for line in text)
    assert made.filename == (
        "BaoCao_05_Chi-bo-b-Thu-b-7-7-if-true-X-endif-p-bo_2026-12-01_2027-01-31.docx")


async def test_emoji_and_control_characters(world: World) -> None:
    await populated(world)
    words = "Trồng 🌳 cây\x07xanh\x0cđẹp\tlắm\nnhé 👍🏽 ‍👩‍👩‍👧"
    await world.report("Bình", world.cell, D(2027, 1, 4), words=words, highlighted=True)
    doc = opened(await world.word(world.cell))
    assert ("2. Đồng chí Bình (Chi bộ Thôn Bản Chặng), ngày 04/01/2027, lĩnh vực Xã hội: "
            "Trồng 🌳 câyxanh đẹp lắm nhé 👍🏽 ‍👩‍👩‍👧") in lines(doc)
    breaks = doc.element.body.findall(".//" + qn("w:br"))
    assert breaks == [], "no line or page break comes from a report's text"


async def test_very_long_content_is_shortened_and_long_lists_are_cut(world: World) -> None:
    await populated(world)
    long_words = "Giúp đỡ bà con " + "rất nhiều việc " * 200
    await world.report("Bình", world.cell, D(2027, 1, 6), words=long_words.strip(),
                       highlighted=True)
    for n in range(MAX_MODEL_ROWS + 1):
        await world.model(f"Mô hình số {n:03d}", world.group, "Khác", 2026)
    doc = opened(await world.word(world.cell))
    text = lines(doc)
    [line] = [t for t in text if t.startswith("2. Đồng chí Bình")]
    content = line.split("lĩnh vực Xã hội: ", 1)[1]
    assert len(content) == CONTENT_CHARS and content.endswith("…")
    models_rows = table_headed(doc, "STT", "Tên mô hình")
    assert len(models_rows) == MAX_MODEL_ROWS
    assert "(Còn 3 mô hình khác không liệt kê ở đây.)" in text
    long_name = Unit(id=7, code=None, name="Chi bộ " + "Thôn rất xa " * 30, kind="chi bộ",
                     parent_id=None)
    assert len(file_name(long_name, period_wording(PERIOD, None))) < 120


# --- periods ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("period", "cutoff", "words", "code"), [
    (week_of(D(2026, 11, 25)), None, "tuần từ 23/11/2026 đến 29/11/2026", "2026-W48"),
    (week_of(D(2026, 12, 31)), None, "tuần từ 28/12/2026 đến 03/01/2027", "2026-W53"),
    (month_of(D(2026, 11, 5)), None, "tháng 11 năm 2026", "2026-11"),
    (reporting_month_of(D(2026, 11, 5), 15), 15, "tháng 11 năm 2026", "2026-11"),
    (reporting_month_of(D(2026, 12, 20), 15), 15, "tháng 1 năm 2027", "2027-01"),
    (quarter_of(D(2026, 11, 5)), None, "quý IV năm 2026", "2026-Q4"),
    (Period(D(2026, 1, 1), D(2026, 6, 30)), None, "6 tháng đầu năm 2026", "2026-06T-dau"),
    (Period(D(2026, 7, 1), D(2026, 12, 31)), None, "6 tháng cuối năm 2026", "2026-06T-cuoi"),
    (year_of(2026), None, "năm 2026", "2026"),
    (PERIOD, None, "từ ngày 01/12/2026 đến ngày 31/01/2027", "2026-12-01_2027-01-31"),
])
async def test_the_period_is_worded_as_a_secretary_would(
        world: World, period: Period, cutoff: int | None, words: str, code: str) -> None:
    settings = world.settings.model_copy(update={"month_cutoff_day": cutoff})
    made = await world.word(world.cell, period, settings)
    title = ("kết quả thực hiện Chỉ thị số 05-CT/TW của Bộ Chính trị về đẩy mạnh học tập và làm "
             f"theo tư tưởng, đạo đức, phong cách Hồ Chí Minh {words}")
    assert title in lines(opened(made))
    assert made.filename == f"BaoCao_05_Chi-bo-Thon-Ban-Chang_{code}.docx"
    assert made.caption == VI("report_doc.caption", unit="Chi bộ Thôn Bản Chặng",
                              dates=period_span(period.first, period.last))


# --- the template ----------------------------------------------------------------------------


def test_the_committed_template_is_what_its_generator_makes() -> None:
    assert template_bytes() == TARGET.read_bytes(), (
        "run `python -m bot.ui.templates.build_report_doc` and commit report_doc.docx")


async def test_a_provinces_own_template_is_used(world: World, tmp_path: Path) -> None:
    await populated(world)
    own = docx.Document()
    own.add_paragraph("Tỉnh ta: {{ unit.name }} có {{ reports.total }} việc, {{ value }}.")
    path = tmp_path / "mau-tinh.docx"
    own.save(str(path))
    settings = world.settings.model_copy(update={"report": world.settings.report.model_copy(
        update={"word_template": path})})
    made = await world.word(world.cell, settings=settings)
    assert lines(opened(made)) == ["Tỉnh ta: Chi bộ Thôn Bản Chặng có 4 việc, 21.500.000 đ."]


@pytest.mark.parametrize("content", [b"not a word file", b"{{ reports.total "])
async def test_a_broken_template_is_named_in_vietnamese(world: World, tmp_path: Path,
                                                        content: bytes) -> None:
    path = tmp_path / "hong.docx"
    if content.startswith(b"{{"):
        broken = docx.Document()
        broken.add_paragraph(content.decode())
        broken.save(str(path))
    else:
        path.write_bytes(content)
    settings = world.settings.model_copy(update={"report": world.settings.report.model_copy(
        update={"word_template": path})})
    with pytest.raises(ConfigError) as caught:
        await world.word(world.cell, settings=settings)
    assert caught.value.key == "report_doc.template_broken"
    message = VI.plain(caught.value.key, **caught.value.params)
    assert message.startswith(f"report.word_template: tệp mẫu báo cáo Word {path} không điền")


def test_a_missing_template_stops_the_bot_at_start(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.toml").write_text('[report]\nword_template = "mau/khong-co.docx"\n',
                                          encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = VI.plain(caught.value.key, **caught.value.params)
    assert message == ("report.word_template: không mở được tệp mẫu báo cáo Word "
                       "mau/khong-co.docx. Đồng chí kiểm tra lại đường dẫn, hoặc bỏ thiết lập "
                       "này để dùng mẫu có sẵn.")
    (tmp_path / "mau").mkdir()
    (tmp_path / "mau" / "khong-co.docx").write_bytes(TARGET.read_bytes())
    assert load_settings().report.word_template == Path("mau/khong-co.docx")


async def test_an_unknown_unit_is_a_lookup_error(world: World) -> None:
    with pytest.raises(LookupError):
        await world.word(999_999)


async def test_libreoffice_renders_the_report_on_a4_pages(world: World, tmp_path: Path) -> None:
    """What the secretary opens: the draft converts and shows as pages (skipped, with what to
    install, where LibreOffice is not installed)."""
    await populated(world)
    made = await world.word(world.cell)
    path = tmp_path / made.filename
    path.write_bytes(made.data)
    pages = rendered_pages(path)
    assert 1 <= len(pages) <= 4
    assert all(page.stat().st_size > 2_000 for page in pages)  # a blank page is a few hundred
