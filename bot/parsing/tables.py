"""Tables as offices save them: an Excel workbook (.xlsx, its first sheet) or a CSV file, read
into rows of text cells numbered as the file numbers them (the first line is 1), blank rows
left out.

A CSV may be separated by commas, semicolons (Excel in Vietnamese and most European locales)
or tabs, start with a byte-order mark, and be UTF-8, UTF-16 (Excel's "Unicode Text") or
Windows-1258 (what Excel on a Vietnamese Windows saves as "CSV"). Windows-1258 writes the
tone marks as separate characters, so the text is brought to NFC like everything typed; the
reader says it guessed that encoding, for names are then worth a look. An old Excel file
(.xls) is not read: the answer says to save it as .xlsx or CSV.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from xml.etree.ElementTree import ParseError

from bot.ui.catalogue import Said

# What a file starts with, for files whose name says nothing or says something else.
_ZIP = b"PK\x03\x04"  # .xlsx (and .ods, .docx: read as a workbook, they fail as one)
_OLE = b"\xd0\xcf\x11\xe0"  # .xls, .doc: Microsoft's old binary formats
_PICTURES = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"RIFF", b"%PDF", b"\x1a\x45\xdf\xa3")
SEPARATORS = (",", ";", "\t")
# What openpyxl raises on a damaged workbook, or a zip that is no workbook (its own
# InvalidFileException is an OSError; broken XML a ParseError).
_DAMAGED = (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, ParseError)
WINDOWS_VIETNAMESE = "cp1258"


class TableError(Said):
    """The file cannot be read as a table: a catalogue key and what to fill it with."""


@dataclass(frozen=True)
class RowProblem:
    """What is wrong with one row of an imported table (or with the whole file, on its
    header's line): the file's own line (the header is line 1), a catalogue key and what to
    fill it with."""

    line: int
    key: str
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    line: int  # the file's own line (CSV) or row (workbook) number, counting from 1
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    rows: tuple[Row, ...]
    # Set when the text was not UTF-8 and was read as this encoding instead.
    guessed_encoding: str | None = None


def read_table(data: bytes, filename: str, max_rows: int | None = None) -> Table:
    """The file's non-blank rows. `max_rows`: more rows than this (the header included) is
    an error, found without reading the rest of the file."""
    name = filename.casefold()
    if not data.strip():
        raise TableError("table.empty")
    if name.endswith(".xls") or data.startswith(_OLE):
        raise TableError("table.old_excel")
    if data.startswith(_PICTURES):
        raise TableError("table.not_a_table")
    if data.startswith(_ZIP) or name.endswith((".xlsx", ".xlsm")):
        rows = _limited(_workbook_rows(data), max_rows)
        return Table(tuple(rows))
    text, guessed = _decoded(data)
    return Table(tuple(_limited(csv_rows(text), max_rows)), guessed)


def _limited(rows: Iterable[Row], max_rows: int | None) -> list[Row]:
    found: list[Row] = []
    for row in rows:
        if max_rows is not None and len(found) == max_rows:
            raise TableError("table.too_many_rows", limit=max_rows - 1)
        found.append(row)
    if not found:
        raise TableError("table.empty")
    return found


def _decoded(data: bytes) -> tuple[str, str | None]:
    """The text, and the encoding guessed when it was not UTF-8 (nor marked as UTF-16)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _nfc(data.decode("utf-16")), None
    if b"\x00" in data:
        raise TableError("table.not_a_table")  # binary, whatever its name says
    try:
        return _nfc(data.decode("utf-8-sig")), None
    except UnicodeDecodeError:
        pass
    try:
        return _nfc(data.decode(WINDOWS_VIETNAMESE)), WINDOWS_VIETNAMESE
    except UnicodeDecodeError:
        raise TableError("table.encoding") from None


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def separator_of(text: str) -> str:
    """The separator of a CSV text: the commonest of comma, semicolon and tab on its first
    non-blank line (the header, whose names hold none of them), a comma if none is there."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {mark: first.count(mark) for mark in SEPARATORS}
    best = max(SEPARATORS, key=lambda mark: counts[mark])
    return best if counts[best] else ","


def csv_rows(text: str) -> Iterator[Row]:
    """The non-blank records of a CSV text, each with the line it starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator_of(text))
    try:
        while True:
            line = reader.line_num + 1  # where this record starts (it may span lines)
            try:
                record = next(reader)
            except StopIteration:
                return
            cells = tuple(cell.strip() for cell in record)
            if any(cells):
                yield Row(line, cells)
    except csv.Error as error:
        raise TableError("table.bad_csv", line=reader.line_num, error=str(error)) from None


def _workbook_rows(data: bytes) -> Iterator[Row]:
    import openpyxl  # here, not with the bot: see bot/ui/spreadsheets.py

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            if not book.worksheets:
                raise TableError("table.empty")
            sheet = book.worksheets[0]
            rows = sheet.iter_rows(min_row=1, values_only=True)
            for number, values in enumerate(rows, start=1):
                cells = tuple(cell_text(value) for value in values)
                if any(cells):
                    yield Row(number, cells)
        finally:
            book.close()
    except _DAMAGED as error:
        raise TableError("table.bad_workbook", error=str(error) or type(error).__name__) from None


def cell_text(value: object) -> str:
    """A workbook cell as text: a whole number without ".0" (a phone number Excel took for a
    number), a date as dd/mm/yyyy."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value).strip()
