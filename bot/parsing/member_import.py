"""A list of members as an office types it: which column is which (Vietnamese or English
headers, with or without diacritics, in any case), and each row's name, unit, role, title,
Telegram username and phone number. The units named are found by the flow
(bot/flows/member_import.py); here a row only has to be well written.

Roles are written as people say them: "đảng viên" (or nothing) is a member; "bí thư",
"phó bí thư", "chi ủy viên", "đảng ủy viên", "tổ trưởng", "tổ phó" are leaders with that title,
"cấp ủy viên" a leader without one; "theo dõi" an observer. A role may go on with the unit
("Bí thư chi bộ"), and English words work too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.parsing.tables import Row, RowProblem, Table, TableError
from bot.parsing.text import fold, normalize
from storage.entities import Role

MAX_NAME = 100  # as the join form allows
HEADER_SEARCH = 10  # rows at the top that may be a title before the header


class Column(StrEnum):
    NAME = "name"
    UNIT = "unit"
    ROLE = "role"
    TITLE = "title"
    USERNAME = "username"
    PHONE = "phone"


# Folded headers (lower case, no diacritics, no punctuation) and the column each names.
HEADERS: dict[str, Column] = {
    **dict.fromkeys(("ho ten", "ho va ten", "ho ten day du", "ten dang vien", "full name",
                     "name"), Column.NAME),
    **dict.fromkeys(("ma don vi", "don vi", "ten don vi", "ma chi bo", "chi bo", "unit",
                     "unit code", "code"), Column.UNIT),
    **dict.fromkeys(("vai tro", "chuc vu", "role", "position"), Column.ROLE),
    **dict.fromkeys(("chuc danh", "title"), Column.TITLE),
    **dict.fromkeys(("telegram", "username", "ten telegram", "tai khoan telegram",
                     "telegram username"), Column.USERNAME),
    **dict.fromkeys(("so dien thoai", "dien thoai", "sdt", "so dt", "phone", "phone number",
                     "mobile"), Column.PHONE),
}
REQUIRED = (Column.NAME, Column.UNIT)

# Leader titles as members.py stores them.
TITLE_WORDS: dict[str, str] = {
    "bi thu": "bi_thu", "secretary": "bi_thu",
    "pho bi thu": "pho_bi_thu", "deputy secretary": "pho_bi_thu",
    "chi uy vien": "chi_uy_vien", "cell committee member": "chi_uy_vien",
    "dang uy vien": "dang_uy_vien", "committee member": "dang_uy_vien",
    "to truong": "to_truong", "group leader": "to_truong",
    "to pho": "to_pho", "deputy group leader": "to_pho",
}
ROLE_WORDS: dict[str, Role] = {
    **dict.fromkeys(("dang vien", "member", "thanh vien", "party member"), Role.MEMBER),
    **dict.fromkeys(("cap uy", "cap uy vien", "leader", "lanh dao"), Role.LEADER),
    **dict.fromkeys(TITLE_WORDS, Role.LEADER),
    **dict.fromkeys(("theo doi", "nguoi theo doi", "observer"), Role.OBSERVER),
}
# Longest first: "pho bi thu" is read before "bi thu" could be.
_ROLES_LONGEST_FIRST = sorted(ROLE_WORDS, key=len, reverse=True)
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{4,31}")
_LINK_PREFIX = re.compile(r"^(?:https?://)?(?:t\.me/|telegram\.me/)|^@", re.IGNORECASE)


@dataclass(frozen=True)
class Written:
    """One row as written, its unit not looked up yet."""

    line: int
    name: str
    unit: str
    role: Role
    title: str | None
    username: str | None
    phone: str | None


@dataclass(frozen=True)
class Sheet:
    rows: list[Written]
    problems: list[RowProblem]


def header_key(text: str) -> str:
    """"Họ và tên (*)" → "ho va ten"."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold(text)).split())


def _columns(row: Row) -> dict[Column, int] | RowProblem:
    found: dict[Column, int] = {}
    for place, text in enumerate(row.cells):
        column = HEADERS.get(header_key(text))
        if column is None:
            continue  # STT, ghi chú, ngày sinh…: not ours
        if column in found:
            return RowProblem(row.line, "member_import.problem.column_twice", {"column": text})
        found[column] = place
    return found


def read_sheet(table: Table) -> Sheet:
    """The rows below the header (the first row at the top naming the name and unit columns),
    each read or its problem said; TableError when no row is a header."""
    for index, row in enumerate(table.rows[:HEADER_SEARCH]):
        columns = _columns(row)
        if isinstance(columns, RowProblem):
            return Sheet([], [columns])
        if all(column in columns for column in REQUIRED):
            return _read_rows(table.rows[index + 1:], columns)
    first = ", ".join(cell for cell in table.rows[0].cells if cell)
    raise TableError("member_import.no_header", columns=first or "—")


def _read_rows(rows: tuple[Row, ...], columns: dict[Column, int]) -> Sheet:
    written: list[Written] = []
    problems: list[RowProblem] = []
    for row in rows:
        read = read_row(row, columns)
        if isinstance(read, RowProblem):
            problems.append(read)
        else:
            written.append(read)
    return Sheet(written, problems)


def read_row(row: Row, columns: dict[Column, int]) -> Written | RowProblem:
    def cell(column: Column) -> str:
        place = columns.get(column)
        return normalize(row.cells[place]) if place is not None and place < len(
            row.cells) else ""

    line, name = row.line, cell(Column.NAME)
    if not name:
        return RowProblem(line, "member_import.problem.no_name")
    if len(name) > MAX_NAME or not any(ch.isalpha() for ch in name):
        return RowProblem(line, "member_import.problem.bad_name", {"name": name, "max": MAX_NAME})
    unit = cell(Column.UNIT)
    if not unit:
        return RowProblem(line, "member_import.problem.no_unit", {"name": name})
    given = cell(Column.TITLE)
    # A title column that says "Bí thư" where the role is left empty makes a leader.
    role = read_role(cell(Column.ROLE) or (given if header_key(given) in TITLE_WORDS else ""))
    if role is None:
        return RowProblem(line, "member_import.problem.bad_role", {"role": cell(Column.ROLE)})
    username = read_username(cell(Column.USERNAME))
    if username is None:
        return RowProblem(line, "member_import.problem.bad_username",
                       {"username": cell(Column.USERNAME)})
    phone = read_phone(cell(Column.PHONE))
    if phone is None:
        return RowProblem(line, "member_import.problem.bad_phone", {"phone": cell(Column.PHONE)})
    kind, title = role
    return Written(line, name, unit, kind, TITLE_WORDS.get(header_key(given), given or title),
                   username or None, phone or None)


def read_role(text: str) -> tuple[Role, str | None] | None:
    """The role and leader title a cell says ("" is a member's), None when it says none.
    Words may follow the role: "Bí thư chi bộ", "Tổ trưởng tổ 1"."""
    words = header_key(text)
    if not words:
        return Role.MEMBER, None
    for said in _ROLES_LONGEST_FIRST:
        if words == said or words.startswith(f"{said} "):
            return ROLE_WORDS[said], TITLE_WORDS.get(said)
    return None


def read_username(text: str) -> str | None:
    """A Telegram username without its "@" or t.me link; "" when there is none, None when it
    cannot be one (5 to 32 letters, digits and underscores, a letter first)."""
    bare = _LINK_PREFIX.sub("", text.strip()).strip("/")
    if not bare:
        return ""
    return bare if _USERNAME.fullmatch(bare) else None


def read_phone(text: str) -> str | None:
    """A phone number's digits (with "+" when written so): "0912 345 678" → "0912345678";
    "" when there is none, None when it cannot be one (8 to 15 digits)."""
    if not text.strip():
        return ""
    if re.fullmatch(r"\+?[\d\s.()-]+", text.strip()) is None:
        return None
    digits = re.sub(r"\D", "", text)
    if not 8 <= len(digits) <= 15:
        return None
    return f"+{digits}" if text.strip().startswith("+") else digits


def name_key(name: str) -> str:
    """Whose name this is, for finding the same person again: case and spacing aside, but
    with the diacritics, which tell Hà from Hạ."""
    return normalize(name).casefold()
