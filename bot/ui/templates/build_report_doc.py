"""Writes report_doc.docx beside this file: the Word template of the official report on
Directive 05-CT/TW (bot/flows/report_doc.py fills it in with docxtpl), in the layout of party
documents of Hướng dẫn 36-HD/VPTW: A4, Times New Roman, margins top and bottom 20 mm, left
30 mm, right 15 mm; the header and the signature in tables without borders.

The committed .docx is what the bot reads; this script is how it was made, and
tests/test_report_doc.py checks that it still makes the same file. A province that wants
other words edits a copy of the .docx in Word and names it in config.toml
(`report.word_template`), without running this.

    python -m bot.ui.templates.build_report_doc
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT, WD_TAB_LEADER
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.styles.style import ParagraphStyle
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

NAME = "report_doc"  # the feature's, as in every layer
TARGET = Path(__file__).with_name(NAME + ".docx")
FONT = "Times New Roman"
PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)
TOP, BOTTOM, LEFT, RIGHT = Mm(20), Mm(20), Mm(30), Mm(15)
TEXT_WIDTH = Mm(165)  # 210 - 30 - 15
# Every zip entry gets this time, so that the same template makes the same bytes.
FIXED_TIME = (2026, 1, 1, 0, 0, 0)
FIXED_MOMENT = dt.datetime(*FIXED_TIME, tzinfo=dt.UTC)

# Paragraph styles of the template, so that a province restyles a kind of text at once (ASCII
# names: Word derives the styles' ids from them).
BODY, HEADING, CENTRE, TABLE, SMALL = ("LT Body", "LT Heading", "LT Centred", "LT Table",
                                       "LT Recipients")

NOBODY = "- Chưa có đảng viên trong danh sách theo dõi."  # when x/y would be 0/0

# The words that depend on the kind of unit and on the period, as Jinja `set` lines at the top
# of the document (docxtpl removes a paragraph that holds only a {%p ... %} tag). No braces or
# percent signs may stand inside such a tag: the tables are written as dict(...).
SETTINGS = (
    "{#p Các dòng “set” dưới đây đặt cách gọi theo loại đơn vị và theo kỳ báo cáo; sửa chữ "
    "trong ngoặc kép để đổi cách viết. Chúng không hiện trong báo cáo. #}",
    # Per kind of unit (bot/rules/levels.py, LEVELS): the abbreviation after "-BC/", on
    # whose behalf it is signed, and the signer's office.
    '{%p set K = dict(to_dang=["TĐ", "T/M TỔ ĐẢNG", "TỔ TRƯỞNG"], '
    'chi_bo=["CB", "T/M CHI BỘ", "BÍ THƯ"], dang_bo=["ĐU", "T/M ĐẢNG ỦY", "BÍ THƯ"], '
    'huyen=["HU", "T/M HUYỆN ỦY", "BÍ THƯ"], thanh_pho=["TU", "T/M THÀNH ỦY", "BÍ THƯ"], '
    'tinh=["TU", "T/M TỈNH ỦY", "BÍ THƯ"])[unit.level] %}',
    # A đảng bộ's documents are its committee's: Đảng bộ xã Tràng Định → Đảng ủy xã Tràng Định,
    # Đảng bộ tỉnh Lạng Sơn → Tỉnh ủy Lạng Sơn.
    *(f'{{%p set {name} = {unit}.name if {unit}.level in ["to_dang", "chi_bo"] else {unit}.name'
      '|replace("Đảng bộ tỉnh", "Tỉnh ủy", 1)|replace("Đảng bộ thành phố", "Thành ủy", 1)'
      '|replace("Đảng bộ huyện", "Huyện ủy", 1)|replace("Đảng bộ", "Đảng ủy", 1) %}'
      for name, unit in (("issuer", "unit"), ("receiver", "parent"))),
    '{%p set period_words = dict(week="tuần từ " ~ period.first ~ " đến " ~ period.last, '
    'month="tháng " ~ period.month ~ " năm " ~ period.year, '
    'quarter="quý " ~ period.quarter ~ " năm " ~ period.year, '
    'first_months=period.months ~ " tháng đầu năm " ~ period.year, '
    'last_months=period.months ~ " tháng cuối năm " ~ period.year, '
    'year="năm " ~ period.year, '
    'days="từ ngày " ~ period.first ~ " đến ngày " ~ period.last)[period.kind] %}',
    '{%p set STATUS = dict(registered="đăng ký", in_progress="đang thực hiện", '
    'completed="hoàn thành", stopped="dừng") %}',
    '{%p set MARK = dict(exemplary="tiêu biểu", to_spread="nhân rộng") %}',
)


@dataclass(frozen=True)
class Look:
    """A run's formatting beyond its paragraph style's."""

    size: float | None = None
    bold: bool = False
    italic: bool = False
    underline: bool = False


def _fonts(style: ParagraphStyle) -> None:
    """Times New Roman for every script, Vietnamese for the spelling checker."""
    properties = style.element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        properties.insert(0, fonts)
    for script in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(script), FONT)
    language = OxmlElement("w:lang")
    language.set(qn("w:val"), "vi-VN")
    properties.append(language)


def _style(doc: DocumentObject, name: str, size: float, *, align: WD_ALIGN_PARAGRAPH,
           indent: bool = False, bold: bool = False, before: float = 0,
           after: float = 0) -> ParagraphStyle:
    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    assert isinstance(style, ParagraphStyle)
    style.base_style = doc.styles["Normal"]
    style.quick_style = True
    style.font.size = Pt(size)
    style.font.bold = bold
    layout = style.paragraph_format
    layout.alignment = align
    layout.space_before, layout.space_after = Pt(before), Pt(after)
    layout.line_spacing = 1.0
    if indent:
        layout.first_line_indent = Mm(10)
    if bold:  # a heading: on the page of what it heads
        layout.keep_with_next = True
    return style


def _styles(doc: DocumentObject) -> None:
    normal = doc.styles["Normal"]
    assert isinstance(normal, ParagraphStyle)
    normal.font.name, normal.font.size = FONT, Pt(14)
    _fonts(normal)
    normal.paragraph_format.space_before = normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.0
    _style(doc, BODY, 14, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent=True, after=6)
    _style(doc, HEADING, 14, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent=True, bold=True,
           before=6, after=6)
    _style(doc, CENTRE, 14, align=WD_ALIGN_PARAGRAPH.CENTER)
    _style(doc, TABLE, 13, align=WD_ALIGN_PARAGRAPH.LEFT)
    _style(doc, SMALL, 12, align=WD_ALIGN_PARAGRAPH.LEFT)


def _page(doc: DocumentObject) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.top_margin, section.bottom_margin = TOP, BOTTOM
    section.left_margin, section.right_margin = LEFT, RIGHT
    section.header_distance = section.footer_distance = Mm(10)


def _line(target: DocumentObject | _Cell, text: str, style: str, look: Look = Look(),
          first: bool = False) -> Paragraph:
    """A paragraph of one run; `first` fills a table cell's paragraph, which is always there."""
    paragraph = target.paragraphs[0] if first else target.add_paragraph()
    paragraph.style = style
    if text:
        run = paragraph.add_run(text)
        if look.size is not None:
            run.font.size = Pt(look.size)
        run.font.bold = look.bold or None
        run.font.italic = look.italic or None
        run.font.underline = look.underline or None
    return paragraph


def _widths(table: Table, *millimetres: float) -> None:
    table.autofit = False
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid = table._tbl.tblGrid
    for column, width in zip(grid.findall(qn("w:gridCol")), millimetres, strict=True):
        column.set(qn("w:w"), str(Mm(width).twips))
    for row in table.rows:
        for cell, width in zip(row.cells, millimetres, strict=True):
            cell.width = Mm(width)


def _borders(table: Table, shown: bool) -> None:
    """Single lines around every cell, or none at all (whatever the table style says)."""
    properties = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        border = OxmlElement(f"w:{side}")
        border.set(qn("w:val"), "single" if shown else "nil")
        if shown:
            border.set(qn("w:sz"), "4")
            border.set(qn("w:space"), "0")
            border.set(qn("w:color"), "000000")
        borders.append(border)
    properties.append(borders)


def _layout_table(doc: DocumentObject, *millimetres: float) -> Table:
    """One row of columns without borders, kept on one page (a signature is never split from
    its title)."""
    table = doc.add_table(rows=1, cols=len(millimetres))
    _widths(table, *millimetres)
    _borders(table, shown=False)
    table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    return table


def _header(doc: DocumentObject) -> None:
    left, right = _layout_table(doc, 72, 93).rows[0].cells
    _line(left, "{% if parent %}{{ parent.name|upper }}{% endif %}", CENTRE, first=True)
    _line(left, "{{ issuer|upper }}", CENTRE, Look(bold=True))
    _line(left, "*", CENTRE)
    _line(left, "Số      -BC/{{ K[0] }}", CENTRE)
    _line(right, "ĐẢNG CỘNG SẢN VIỆT NAM", CENTRE, Look(size=15, bold=True, underline=True),
          first=True)
    _line(right, "", CENTRE)
    # The day and month stay dotted: the number and the date are given when it is signed.
    _line(right, "{{ place or '……' }}, ngày … tháng … năm {{ this_year }}", CENTRE,
          Look(italic=True))


def _title(doc: DocumentObject) -> None:
    _line(doc, "", CENTRE)
    _line(doc, "BÁO CÁO", CENTRE, Look(size=16, bold=True))
    _line(doc, "kết quả thực hiện Chỉ thị số 05-CT/TW của Bộ Chính trị về đẩy mạnh học tập và "
          "làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh {{ period_words }}", CENTRE,
          Look(bold=True))
    _line(doc, "-----", CENTRE)
    _line(doc, "", CENTRE)


@dataclass(frozen=True)
class Column:
    label: str
    width: float  # mm
    cell: str  # what each row shows, with the loop's item
    centred: bool = False  # numbers


def _grid(doc: DocumentObject, loop: str, *columns: Column) -> None:
    """A bordered table: a heading row (repeated on each page), then one row per item of
    `loop` (a Jinja for)."""
    table = doc.add_table(rows=4, cols=len(columns))
    _borders(table, shown=True)
    heading, start, item, end = table.rows
    heading._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for cell, column in zip(heading.cells, columns, strict=True):
        _line(cell, column.label, TABLE, Look(bold=True), first=True).alignment = (
            WD_ALIGN_PARAGRAPH.CENTER)
    _line(start.cells[0], "{%tr for " + loop + " %}", TABLE, first=True)
    for cell, column in zip(item.cells, columns, strict=True):
        paragraph = _line(cell, column.cell, TABLE, first=True)
        if column.centred:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _line(end.cells[0], "{%tr endfor %}", TABLE, first=True)
    _widths(table, *(column.width for column in columns))


def _dotted(doc: DocumentObject, keep: bool) -> None:
    """Two lines of dots to the right margin, to write on; `keep`: on the page of what
    follows."""
    for _ in range(2):
        paragraph = _line(doc, "\t", BODY)
        paragraph.paragraph_format.first_line_indent = Mm(0)
        paragraph.paragraph_format.keep_with_next = keep or None
        paragraph.paragraph_format.tab_stops.add_tab_stop(TEXT_WIDTH, WD_TAB_ALIGNMENT.RIGHT,
                                                          WD_TAB_LEADER.DOTS)


def _tag(doc: DocumentObject, tag: str) -> None:
    """A paragraph holding only a Jinja tag, which docxtpl removes with the paragraph."""
    _line(doc, "{%p " + tag + " %}", BODY)


def _only_if(doc: DocumentObject, condition: str, text: str, look: Look = Look()) -> None:
    _tag(doc, f"if {condition}")
    _line(doc, text, BODY, look)
    _tag(doc, "endif")


def _either(doc: DocumentObject, condition: str, then: str, otherwise: str) -> None:
    _tag(doc, f"if {condition}")
    _line(doc, then, BODY)
    _tag(doc, "else")
    _line(doc, otherwise, BODY)
    _tag(doc, "endif")


def _reports(doc: DocumentObject) -> None:
    _line(doc, "I. KẾT QUẢ THỰC HIỆN", HEADING)
    _line(doc, "Số liệu tính theo ngày thực hiện việc làm{% if period.kind != 'days' %}, từ "
          "ngày {{ period.first }} đến ngày {{ period.last }}{% endif %}{% if children %}, "
          "gồm cả các đơn vị trực thuộc{% endif %}.", BODY, Look(italic=True))
    _line(doc, "1. Việc làm theo Bác của đảng viên", HEADING)
    _either(doc, "reports.any",
            "- Tổng số việc làm theo Bác được báo cáo: {{ reports.total }}; trong đó đã ghi "
            "nhận {{ reports.acknowledged }}, chờ ghi nhận {{ reports.waiting }}, cần bổ sung "
            "{{ reports.needs_more }}.",
            "- Trong kỳ chưa có việc làm theo Bác nào được báo cáo.")
    _either(doc, "participation.any",
            "- Số đảng viên có việc làm được báo cáo (kể cả cùng tham gia): "
            "{{ participation.reported }}/{{ participation.expected }} đồng chí, đạt "
            "{{ participation.percent }}.",
            NOBODY)
    _tag(doc, "if reports.any")
    _line(doc, "- Việc làm theo lĩnh vực:", BODY)
    _grid(doc, "f in fields", Column("STT", 15, "{{ f.number }}", centred=True),
          Column("Lĩnh vực", 110, "{{ f.name }}"),
          Column("Số việc làm", 40, "{{ f.count }}", centred=True))
    _tag(doc, "endif")


def _helped(doc: DocumentObject) -> None:
    _line(doc, "2. Kết quả giúp đỡ nhân dân", HEADING)
    _either(doc, "helped.any",
            "- Đã giúp đỡ {{ helped.households }} hộ, {{ helped.people }} người.",
            "- Chưa có số liệu về số hộ, số người được giúp đỡ.")
    _either(doc, "value",
            "- Giá trị quy ra tiền: {{ value }}.",
            "- Chưa có số liệu về giá trị quy ra tiền.")


def _models(doc: DocumentObject) -> None:
    _line(doc, "3. Mô hình học tập và làm theo Bác", HEADING)
    _tag(doc, "if models.any")
    _line(doc, "- Năm {{ models.year }}, {{ issuer }} có {{ models.total }} mô hình học tập và "
          "làm theo Bác; theo lĩnh vực: {% for f in models.fields %}{{ f.name }} {{ f.count }}"
          "{% if not loop.last %}; {% endif %}{% endfor %}.", BODY)
    _only_if(doc, "models.units", "- Theo đơn vị: {% for u in models.units %}{{ u.name }} "
             "{{ u.total }}{% if not loop.last %}; {% endif %}{% endfor %}.")
    _only_if(doc, "reports.model_reports_any", "- Trong kỳ có {{ reports.model_reports }} việc "
             "làm gắn với {{ reports.models_with_reports }} mô hình.")
    _line(doc, "- Danh sách mô hình:", BODY)
    _grid(doc, "m in models.rows", Column("STT", 15, "{{ m.number }}", centred=True),
          Column("Tên mô hình", 52, "{{ m.name }}"), Column("Lĩnh vực", 28, "{{ m.field }}"),
          Column("Đơn vị", 30, "{{ m.owner }}"),
          Column("Năm {{ models.year }}", 22,
                 "{{ STATUS.get(m.status, '') }}{% if m.mark %}, {{ MARK[m.mark] }}{% endif %}"),
          Column("Việc làm trong kỳ", 18, "{{ m.reports }}", centred=True))
    _only_if(doc, "models.more", "(Còn {{ models.more }} mô hình khác không liệt kê ở đây.)",
             Look(italic=True))
    _tag(doc, "else")
    _line(doc, "- Chưa có mô hình nào thực hiện trong năm {{ models.year }}.", BODY)
    _tag(doc, "endif")


def _commitments_and_units(doc: DocumentObject) -> None:
    _line(doc, "4. Đăng ký cam kết năm {{ registration.year }}", HEADING)
    _either(doc, "registration.any",
            "- Có {{ registration.registered }}/{{ registration.expected }} đảng viên đã đăng ký "
            "bản cam kết tu dưỡng, rèn luyện, phấn đấu và nội dung học tập, làm theo Bác, đạt "
            "{{ registration.percent }}.",
            NOBODY)
    _tag(doc, "if children")
    _line(doc, "5. Kết quả của các đơn vị trực thuộc", HEADING)
    _grid(doc, "c in children", Column("STT", 15, "{{ c.number }}", centred=True),
          Column("Đơn vị", 60, "{{ c.name }}"),
          Column("Việc làm", 25, "{{ c.total }}", centred=True),
          Column("Đã ghi nhận", 25, "{{ c.acknowledged }}", centred=True),
          Column("Đảng viên tham gia", 40,
                 "{% if c.participation.any %}{{ c.participation.reported }}/"
                 "{{ c.participation.expected }} ({{ c.participation.percent }}){% endif %}",
                 centred=True))
    _tag(doc, "endif")


def _highlights(doc: DocumentObject) -> None:
    _line(doc, "II. VIỆC LÀM TIÊU BIỂU, ĐƯỢC NÊU GƯƠNG", HEADING)
    _tag(doc, "if highlights")
    _tag(doc, "for h in highlights")
    _line(doc, "{{ h.number }}. Đồng chí {{ h.member }}{% if h.partners|length > 1 %} cùng các "
          "đồng chí {{ h.partners|join(', ') }}{% elif h.partners %} cùng đồng chí "
          "{{ h.partners[0] }}{% endif %} ({{ h.unit }}), ngày {{ h.date }}, lĩnh vực "
          "{{ h.field }}: {{ h.content }}", BODY)
    _tag(doc, "endfor")
    _only_if(doc, "highlights_more", "Và {{ highlights_more }} việc làm khác được nêu gương.")
    _tag(doc, "else")
    _line(doc, "Trong kỳ chưa có việc làm được nêu gương.", BODY)
    _tag(doc, "endif")


def _assessment(doc: DocumentObject) -> None:
    _line(doc, "III. ĐÁNH GIÁ CHUNG VÀ PHƯƠNG HƯỚNG", HEADING)
    for heading in ("1. Ưu điểm", "2. Hạn chế, nguyên nhân"):
        _line(doc, heading, HEADING)
        _dotted(doc, keep=False)
    # The last part stays with the signature: a page is never the signature alone.
    _line(doc, "3. Phương hướng, nhiệm vụ thời gian tới", HEADING)
    _dotted(doc, keep=True)


def _signature(doc: DocumentObject) -> None:
    _line(doc, "", BODY).paragraph_format.keep_with_next = True
    left, right = _layout_table(doc, 80, 85).rows[0].cells
    _line(left, "Nơi nhận:", SMALL, Look(size=14, underline=True), first=True)
    _line(left, "{%p if parent %}", SMALL)
    _line(left, "- {{ receiver }},", SMALL)
    _line(left, "{%p endif %}", SMALL)
    _line(left, "- Lưu.", SMALL)
    _line(right, "{{ K[1] }}", CENTRE, Look(bold=True), first=True)
    _line(right, "{{ K[2] }}", CENTRE, Look(bold=True))
    for _ in range(4):
        _line(right, "", CENTRE)
    _line(right, "{{ signer }}", CENTRE, Look(bold=True))
    _line(doc, "", SMALL)  # Word ends a document with a paragraph, never a table


def build() -> DocumentObject:
    doc = Document()
    _styles(doc)
    _page(doc)
    for line in SETTINGS:
        _line(doc, line, BODY)
    _header(doc)
    _title(doc)
    _line(doc, "Thực hiện Chỉ thị số 05-CT/TW ngày 15/5/2016 của Bộ Chính trị về đẩy mạnh học "
          "tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh và Kết luận số 01-KL/TW "
          "ngày 18/5/2021 của Bộ Chính trị về tiếp tục thực hiện Chỉ thị số 05-CT/TW, "
          "{{ issuer }} báo cáo kết quả {{ period_words }} như sau:", BODY)
    _reports(doc)
    _helped(doc)
    _models(doc)
    _commitments_and_units(doc)
    _highlights(doc)
    _assessment(doc)
    _signature(doc)
    doc.core_properties.title = "Báo cáo kết quả thực hiện Chỉ thị số 05-CT/TW"
    doc.core_properties.author = "Lan Tỏa"
    doc.core_properties.created = doc.core_properties.modified = FIXED_MOMENT
    return doc


def template_bytes() -> bytes:
    """The template as a .docx, the same bytes every time: python-docx's parts, re-zipped with
    one fixed time."""
    doc = build()
    saved = io.BytesIO()
    doc.save(saved)
    fixed = io.BytesIO()
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(fixed, "w",
                                                           zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            target.writestr(zipfile.ZipInfo(entry.filename, FIXED_TIME), source.read(entry),
                            zipfile.ZIP_DEFLATED)
    return fixed.getvalue()


if __name__ == "__main__":
    TARGET.write_bytes(template_bytes())
    print(TARGET)
