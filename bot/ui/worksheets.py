"""The worksheets of bot/ui/spreadsheets.py's workbooks, in openpyxl's write-only mode. Apart from
bot/ui/spreadsheets.py so that openpyxl (with numpy, 23 MB of a process's memory) is imported
when a workbook is first made, not with the bot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from bot.ui.spreadsheets import TITLE_ROWS, Column, Indented, Kind, Numbers, Rows, Table, Value

DATE_FORMAT = "dd/mm/yyyy"
WIDEST = 60  # characters; longer texts are read in the cell itself
HEADER_LINE = 15  # points: a line of the header row
HEADER_WIDTH = 12  # characters a header line may take before it widens its column

HEADER = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_BORDER = Border(bottom=Side(style="thin"))
HEADER_ALIGNMENT = Alignment(horizontal="center", vertical="center", wrap_text=True)
RIGHT = Alignment(horizontal="right")
CENTRE = Alignment(horizontal="center")


def new_book() -> Workbook:
    return Workbook(write_only=True)


def _lines(text: str, width: float) -> int:
    """How many lines a header takes, wrapped at words in a column `width` characters wide."""
    lines, used = 1, 0
    for word in text.split():
        if used and used + 1 + len(word) > width - 1:
            lines, used = lines + 1, len(word)
        else:
            used += len(word) + (1 if used else 0)
    return lines


def _clean(text: str) -> str:
    """What a worksheet can hold: no control characters but line breaks and tabs."""
    return text if text.isprintable() else ILLEGAL_CHARACTERS_RE.sub("", text)


class Sheet:
    """Writes one table into a write-only worksheet."""

    def __init__(self, book: Workbook, table: Table, numbers: Numbers) -> None:
        # A write-only sheet takes a sheet's settings (widths, frozen rows, filter, printing):
        # openpyxl gives it them, its type stubs do not say so.
        self.sheet = cast(Worksheet, book.create_sheet(table.name[:31]))
        self.table = table
        self.numbers = numbers
        self.formats: dict[tuple[bool, bool], str] = {}  # (money, a billion or more) → format

    def _cell(self, value: Any, **style: object) -> Cell:
        cell = WriteOnlyCell(self.sheet, value=value)
        for name, setting in style.items():
            setattr(cell, name, setting)
        return cell

    def _date(self, value: Value) -> object:
        return (self._cell(value, number_format=DATE_FORMAT, alignment=CENTRE)
                if value is not None else None)

    def _money(self, value: Value) -> object:
        return self._number(value, money=True)

    def _number(self, value: Value, money: bool = False) -> object:
        if not isinstance(value, int):
            return value
        big = value >= 10**9
        key = (money, big)
        if key not in self.formats:
            self.formats[key] = self.numbers.grouped(value, money)
        return self._cell(value, number_format=self.formats[key])

    def _figure(self, value: Value) -> object:
        return self._cell(value, alignment=RIGHT) if value is not None else None

    def _key(self, value: Value) -> object:
        return self._cell(value, alignment=CENTRE) if value is not None else None

    def _text(self, value: Value) -> object:
        if isinstance(value, Indented):
            return self._cell(_clean(value.text),
                              alignment=Alignment(horizontal="left", indent=value.level))
        if not isinstance(value, str):
            return value
        text = _clean(value)
        if text.startswith("=") or text in ERROR_CODES:
            cell = self._cell(text)
            cell.data_type = "s"  # words, never a formula someone typed into a report
            return cell
        return text

    def _converters(self) -> list[Callable[[Value], object]]:
        found: list[Callable[[Value], object]] = []
        for column in self.table.columns:
            if column.kind is Kind.DATE:
                found.append(self._date)
            elif column.kind is Kind.MONEY:
                found.append(self._money)
            elif column.kind is Kind.NUMBER:
                found.append(self._number)
            elif column.kind is Kind.FIGURE:
                found.append(self._figure)
            elif column.kind is Kind.KEY:
                found.append(self._key)
            else:
                found.append(self._text)
        return found

    def _width(self, index: int, column: Column) -> float:
        if column.kind is Kind.DATE:
            return 12
        values = (row[index] for row in self.table.rows)
        if column.kind in (Kind.NUMBER, Kind.MONEY):
            widest = max((len(self.numbers.written(v, column.kind is Kind.MONEY))
                          for v in values if isinstance(v, int)), default=0)
        else:
            widest = max((len(str(v)) + 2 * v.level if isinstance(v, Indented) else len(str(v))
                          for v in values if v is not None), default=0)
        # The header wraps at words, in lines of up to HEADER_WIDTH characters where it can.
        header = max([len(word) for word in column.header.split()]
                     + [min(len(column.header), HEADER_WIDTH)])
        return min(max(widest, header, 6) + 2, WIDEST)

    def begin(self) -> None:
        """Widths, title, header and the table's own rows."""
        table, sheet = self.table, self.sheet
        columns = table.columns
        for index, column in enumerate(columns):
            sheet.column_dimensions[get_column_letter(index + 1)].width = self._width(index,
                                                                                      column)
        header_row = TITLE_ROWS + 1
        sheet.row_dimensions[header_row].height = HEADER_LINE * max(
            _lines(c.header, sheet.column_dimensions[get_column_letter(i + 1)].width)
            for i, c in enumerate(columns))
        sheet.freeze_panes = f"A{header_row + 1}"
        sheet.print_title_rows = f"{header_row}:{header_row}"
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        sheet.append([self._cell(_clean(table.title), font=Font(bold=True, size=14))])
        sheet.append([self._cell(_clean(table.subtitle), font=Font(italic=True))])
        sheet.append([self._cell(c.header, font=HEADER, fill=HEADER_FILL, border=HEADER_BORDER,
                                 alignment=HEADER_ALIGNMENT) for c in columns])
        self.converters = self._converters()
        self.append(table.rows)

    def append(self, rows: Rows) -> None:
        for row in rows:
            self.sheet.append([convert(value) for convert, value in zip(self.converters, row,
                                                                         strict=True)])

    def end(self, count: int) -> None:
        """The filter over the header and the `count` rows (written when the sheet closes)."""
        header_row = TITLE_ROWS + 1
        last = get_column_letter(len(self.table.columns))
        self.sheet.auto_filter.ref = f"A{header_row}:{last}{header_row + count}"
