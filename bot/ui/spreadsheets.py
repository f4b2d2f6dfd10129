"""Tables as an Excel workbook or a CSV file, the way a provincial office reads them: a title
row and a line under it, a frozen header row, columns as wide as what they hold, dates as real
dates shown dd/mm/yyyy, money as numbers shown 20.000.000 đ.

Excel's own thousands separator (`#,##0`) is drawn in the reader's regional setting, so the
same file shows 20,000,000 on an English Windows. The formats here write the separator as a
literal between digit groups instead; a literal is always drawn, so each format has sections
by size (Excel allows two conditions and a rest), and each cell gets the format for its size
(`_grouped`): one for amounts under a billion, one for larger ones.

Workbooks are written (bot/ui/worksheets.py) in openpyxl's write-only mode (rows streamed to a
temporary file, not held as cells), a sheet at a time, in a worker thread; a big sheet's rows
come a batch at a time (`Book.add`): a province's year is 200,000 rows, never all in memory.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from bot.ui import formatting
from bot.ui.catalogue import Texts

if TYPE_CHECKING:
    from openpyxl import Workbook

TITLE_ROWS = 2  # the title and the line under it; the header row follows
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


class Book:
    """An .xlsx file written a sheet at a time, in a worker thread (a province's year takes
    seconds, which the bot's other chats must not wait on)."""

    def __init__(self, numbers: Numbers) -> None:
        self.numbers = numbers
        self._book: Workbook | None = None

    async def add(self, table: Table, more: AsyncIterator[Rows] | None = None) -> int:
        """The table as the next sheet, then the rows `more` yields, a batch at a time. How
        many rows it has."""
        # openpyxl (and numpy with it) is 23 MB of the running bot's memory: imported with the
        # first workbook, not with the bot.
        from bot.ui.worksheets import Sheet, new_book

        if self._book is None:
            self._book = new_book()
        sheet = Sheet(self._book, table, self.numbers)
        await asyncio.to_thread(sheet.begin)
        count = len(table.rows)
        if more is not None:
            async for rows in more:
                await asyncio.to_thread(sheet.append, rows)
                count += len(rows)
        sheet.end(count)
        return count

    def _saved(self) -> bytes:
        from bot.ui.worksheets import new_book

        out = io.BytesIO()
        (self._book or new_book()).save(out)
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
