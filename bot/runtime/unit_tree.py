"""Setting up the unit tree: adding units one by one or from a CSV file, and listing it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.parsing.tables import RowProblem, csv_rows
from bot.parsing.text import fold, normalize
from bot.ui.catalogue import Said
from storage import units
from storage.db import Tx
from storage.entities import NewUnit, Unit

CSV_COLUMNS = ("code", "name", "kind", "parent_code")
NAME_MAX = 150  # a unit's name, kind or place, in characters: they go into buttons and titles


class UnitError(Said):
    """A unit cannot be added: a catalogue key and what to fill it with, for the admin."""


class ImportRefused(Exception):
    """Nothing was imported; every row that is wrong, and why."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(f"{len(problems)} rows")
        self.problems = problems


@dataclass(frozen=True)
class UnitRow:
    """A unit to import, and the line of the file it was read from (0: not from a file)."""

    code: str
    name: str
    kind: str
    parent_code: str
    line: int = 0


@dataclass(frozen=True)
class ImportResult:
    added: int
    skipped: int


async def add_unit(tx: Tx, unit: NewUnit, now: dt.datetime,
                   allow_duplicate: bool = False) -> Unit:
    """Adds the unit, tidied. Refuses a name its parent already has, compared without case or
    diacritics ("chi bo ban chang" is "Chi bộ Bản Chặng" typed on a keyboard without Telex),
    unless `allow_duplicate`: two cells may really share a name, but far more often the same
    cell is being added twice."""
    name, kind = normalize(unit.name), normalize(unit.kind)
    if not name or not kind:
        raise UnitError("cli.unit_name_kind_required")
    # An empty code or place means none: "" would be stored and, for the code, taken once.
    code = normalize(unit.code or "") or None
    place = normalize(unit.place_name or "") or None
    if max(len(name), len(kind), len(place or "")) > NAME_MAX:
        raise UnitError("cli.unit_too_long", max=NAME_MAX)
    if unit.parent_id is not None and await units.get_unit(tx, unit.parent_id) is None:
        raise UnitError("cli.unit_parent_unknown", id=unit.parent_id)
    if code and await units.get_unit_by_code(tx, code) is not None:
        raise UnitError("cli.unit_code_taken", code=code)
    if not allow_duplicate:
        twin = next((u for u in await units.children(tx, unit.parent_id)
                     if fold(u.name) == fold(name)), None)
        if twin is not None:
            raise UnitError("cli.unit_name_taken", name=twin.name, id=twin.id)
    clean = unit.model_copy(update={"name": name, "kind": kind, "code": code,
                                    "place_name": place})
    return await units.add_unit(tx, clean, now)


def read_csv(path: Path) -> list[UnitRow]:
    """The file's units. UnitError when it cannot be read as a whole (not UTF-8, columns
    missing); ImportRefused listing the rows with too few or too many values. Rows are read
    as every imported table is (bot/parsing/tables.py: blank lines skipped, `,` `;` or tab,
    each row with the line it starts on)."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnitError("cli.import_not_utf8", line=data[:error.start].count(b"\n") + 1) from None
    found = csv_rows(text)
    header_row = next(found, None)
    header = [normalize(name).lower() for name in header_row.cells] if header_row else []
    missing = [name for name in CSV_COLUMNS if name not in header]
    if missing:
        raise UnitError("cli.import_columns", missing=", ".join(missing))
    rows: list[UnitRow] = []
    problems: list[RowProblem] = []
    for row in found:
        if len(row.cells) != len(header):
            problems.append(RowProblem(row.line, "cli.import_row_width", {
                "found": len(row.cells), "wanted": len(header)}))
            continue
        cells = dict(zip(header, (normalize(value) for value in row.cells), strict=True))
        rows.append(UnitRow(cells["code"], cells["name"], cells["kind"], cells["parent_code"],
                            row.line))
    if problems:
        raise ImportRefused(problems)
    return rows


def _row_problems(rows: list[UnitRow]) -> list[RowProblem]:
    """What is wrong with rows taken one by one, and codes repeated in the file."""
    problems: list[RowProblem] = []
    first_line: dict[str, int] = {}
    for row in rows:
        for column, value in (("code", row.code), ("name", row.name), ("kind", row.kind)):
            if not value:
                problems.append(RowProblem(row.line, "cli.import_empty", {"column": column}))
        if row.code in first_line:
            problems.append(RowProblem(row.line, "cli.import_code_repeated", {
                "code": row.code, "first": first_line[row.code]}))
        elif row.code:
            first_line[row.code] = row.line
        if row.code and row.code == row.parent_code:
            problems.append(RowProblem(row.line, "cli.import_own_parent", {"code": row.code}))
    return problems


async def import_units(tx: Tx, rows: list[UnitRow], now: dt.datetime,
                       allow_duplicate: bool = False) -> ImportResult:
    """Adds the rows' units, parents before children whatever the order of the file; codes
    already in the database are left as they are, so a file can be imported again after
    adding lines to it. ImportRefused, with every row that is wrong, adds nothing (the
    caller's transaction is rolled back)."""
    problems = _row_problems(rows)
    wrong = {problem.line for problem in problems}
    # The other rows are added all the same (and rolled back): what else is wrong is told too.
    pending = {row.code: row for row in rows if row.line not in wrong}
    failed = {row.code for row in rows if row.line in wrong} - set(pending)
    added = skipped = 0
    progressed = True
    while pending and progressed:
        progressed = False
        for code, row in list(pending.items()):
            if await units.get_unit_by_code(tx, code) is not None:
                skipped += 1
            elif row.parent_code in pending:
                continue  # its parent first
            elif row.parent_code in failed:
                failed.add(code)  # its parent's row says what is wrong
            else:
                problem = await _add_row(tx, row, now, allow_duplicate)
                if problem is None:
                    added += 1
                else:
                    problems.append(problem)
                    failed.add(code)
            del pending[code]
            progressed = True
    problems += [RowProblem(row.line, "cli.import_parent_loop", {"code": row.parent_code})
                 for row in pending.values()]
    if problems:
        raise ImportRefused(sorted(problems, key=lambda problem: problem.line))
    return ImportResult(added, skipped)


async def _add_row(tx: Tx, row: UnitRow, now: dt.datetime,
                   allow_duplicate: bool) -> RowProblem | None:
    """Adds the row's unit, or says why it cannot be added."""
    parent = await units.get_unit_by_code(tx, row.parent_code) if row.parent_code else None
    if row.parent_code and parent is None:
        return RowProblem(row.line, "cli.import_parent_unknown", {"code": row.parent_code})
    try:
        await add_unit(tx, NewUnit(code=row.code, name=row.name, kind=row.kind,
                                   parent_id=parent.id if parent else None), now,
                       allow_duplicate)
    except UnitError as error:
        return RowProblem(row.line, error.key, error.params)
    return None


def tree_lines(all_units: Iterable[Unit]) -> list[str]:
    """The tree, indented, each unit with its id (what `--parent` and `--unit` take)."""
    children: dict[int | None, list[Unit]] = {}
    for unit in all_units:
        children.setdefault(unit.parent_id, []).append(unit)
    lines: list[str] = []

    def walk(parent: int | None, depth: int) -> None:
        for unit in children.get(parent, []):
            code = f" [{unit.code}]" if unit.code else ""
            lines.append(f"{'  ' * depth}{unit.id:>4}  {unit.name} ({unit.kind}){code}")
            walk(unit.id, depth + 1)

    walk(None, 0)
    return lines
