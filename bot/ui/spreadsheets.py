"""Tables as an Excel workbook or a CSV file, the way a provincial office reads them: a title
row and a line under it, a frozen header row, columns as wide as what they hold, dates as real
dates shown dd/mm/yyyy, money as numbers shown 20.000.000 đ.

Excel's own thousands separator (`#,##0`) is drawn in the reader's regional setting, so the
same file shows 20,000,000 on an English Windows. The formats here write the separator as a
literal between digit groups instead; a literal is always drawn, so each format has sections
by size (Excel allows two conditions and a rest), and each cell gets the format for its size
(`_grouped`): one for amounts under a billion, one for larger ones.

Workbooks are written in openpyxl's write-only mode (rows streamed to a temporary file, not
held as cells), a sheet at a time, in a worker thread; a big sheet's rows come a batch at a
time (`Book.add`): a province's year is 200,000 rows, never all in memory.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, cast

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from bot.ui import formatting
from bot.ui.catalogue import Texts

DATE_FORMAT = "dd/mm/yyyy"
TITLE_ROWS = 2  # the title and the line under it; the header row follows
HEADER = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_BORDER = Border(bottom=Side(style="thin"))
HEADER_ALIGNMENT = Alignment(horizontal="center", vertical="center", wrap_text=True)
RIGHT = Alignment(horizontal="right")
CENTRE = Alignment(horizontal="center")
WIDEST = 60  # characters; longer texts are read in the cell itself
HEADER_LINE = 15  # points: a line of the header row
HEADER_WIDTH = 12  # characters a header line may take before it widens its column
# Characters a CSV cell must not start with: a spreadsheet would run it as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Kind(Enum):
    TEXT = "text"
    LONG_TEXT = "long_text"  # a report's words: a wide column
    FIGURE = "figure"  # a figure written as text (26,5%): aligned as numbers are
    KEY = "key"  # a row's number, a year: centred, never grouped
    DATE = "date"
    NUMBER = "number"
    MONEY = "money"


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind = Kind.TEXT


@dataclass(frozen=True)
class Indented:
    """A text shown indented by `level` steps (a unit below another)."""

    text: str
    level: int

    def __str__(self) -> str:
        return self.text


Value = str | int | dt.date | Indented | None
Rows = Sequence[Sequence[Value]]


@dataclass(frozen=True)
class Table:
    """One sheet: its name on the tab (at most 31 characters, Excel's limit), a title, the line
    under it, and the rows under the header (the first of them, when more are streamed: the
    columns are as wide as these need)."""

    name: str
    title: str
    subtitle: str
    columns: Sequence[Column]
    rows: Rows


@dataclass(frozen=True)
class Numbers:
    """How the reader's language writes numbers: the digit group separator, and what stands
    before and after an amount of money ("", " đ")."""

    group: str
    money_before: str
    money_after: str

    @classmethod
    def of(cls, t: Texts) -> Numbers:
        """As `t`'s language writes them (bot/ui/formatting.py)."""
        group = formatting.number(1000, t).strip("01")
        before, after = t.plain("format.money", amount="\x00").split("\x00")
        return cls(group, before, after)

    def grouped(self, value: int, money: bool) -> str:
        """The format of a cell holding `value`."""
        before, after = (self.money_before, self.money_after) if money else ("", "")

        def shown(groups: int) -> str:
            """Digits in `groups` groups of three, the separator between them a literal."""
            parts = ["#", *["###"] * (groups - 2), "##0"] if groups > 1 else ["0"]
            digits = f'"{self.group}"'.join(parts)
            return "".join([f'"{before}"' if before else "", digits,
                            f'"{after}"' if after else ""])

        if value < 10**9:
            return f"[>=1000000]{shown(3)};[>=1000]{shown(2)};{shown(1)}"
        return f"[>=1000000000000]{shown(5)};[>=1000000000]{shown(4)};{shown(3)}"

    def written(self, value: int, money: bool) -> str:
        """The value as the format shows it (for the column's width)."""
        digits = f"{value:,}".replace(",", self.group)
        return f"{self.money_before}{digits}{self.money_after}" if money else digits


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


class _Sheet:
    """Writes one table into a write-only worksheet."""

    def __init__(self, sheet: Worksheet, table: Table, numbers: Numbers) -> None:
        self.sheet = sheet
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


class Book:
    """An .xlsx file written a sheet at a time, in a worker thread (a province's year takes
    seconds, which the bot's other chats must not wait on)."""

    def __init__(self, numbers: Numbers) -> None:
        self.numbers = numbers
        self._book = Workbook(write_only=True)

    async def add(self, table: Table, more: AsyncIterator[Rows] | None = None) -> int:
        """The table as the next sheet, then the rows `more` yields, a batch at a time. How
        many rows it has."""
        # A write-only sheet takes a sheet's settings (widths, frozen rows, filter, printing):
        # openpyxl gives it them, its type stubs do not say so.
        sheet = _Sheet(cast(Worksheet, self._book.create_sheet(table.name[:31])), table,
                       self.numbers)
        await asyncio.to_thread(sheet.begin)
        count = len(table.rows)
        if more is not None:
            async for rows in more:
                await asyncio.to_thread(sheet.append, rows)
                count += len(rows)
        sheet.end(count)
        return count

    def _saved(self) -> bytes:
        out = io.BytesIO()
        self._book.save(out)
        return out.getvalue()

    async def save(self) -> bytes:
        return await asyncio.to_thread(self._saved)


def _csv_value(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    text = str(value)
    return f"'{text}" if isinstance(value, str | Indented) and text.startswith(
        FORMULA_START) else text


async def csv_file(table: Table, more: AsyncIterator[Rows] | None = None) -> bytes:
    """The table's header and rows, then those `more` yields, as CSV in UTF-8 with a byte
    order mark (without it Excel reads Vietnamese as Windows-1252); numbers plain, dates
    dd/mm/yyyy."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.header for c in table.columns])
    writer.writerows([_csv_value(v) for v in row] for row in table.rows)
    if more is not None:
        async for rows in more:
            writer.writerows([_csv_value(v) for v in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
