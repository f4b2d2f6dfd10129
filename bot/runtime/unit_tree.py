"""Setting up the unit tree: adding units one by one or from a CSV file, and listing it."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.parsing.text import normalize
from storage import units
from storage.db import Tx
from storage.entities import NewUnit, Unit

CSV_COLUMNS = ("code", "name", "kind", "parent_code")


class UnitError(Exception):
    """A unit cannot be added: a catalogue key and what to fill it with, for the admin."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class ImportResult:
    added: int
    skipped: int


async def add_unit(tx: Tx, unit: NewUnit, now: dt.datetime) -> Unit:
    if not normalize(unit.name) or not normalize(unit.kind):
        raise UnitError("cli.unit_name_kind_required")
    if unit.parent_id is not None and await units.get_unit(tx, unit.parent_id) is None:
        raise UnitError("cli.unit_parent_unknown")
    # An empty code or place means none: "" would be stored and, for the code, taken once.
    code = normalize(unit.code or "") or None
    place = normalize(unit.place_name or "") or None
    if code and await units.get_unit_by_code(tx, code) is not None:
        raise UnitError("cli.unit_code_taken")
    clean = unit.model_copy(update={"name": normalize(unit.name), "kind": normalize(unit.kind),
                                    "code": code, "place_name": place})
    return await units.add_unit(tx, clean, now)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or set(CSV_COLUMNS) - set(reader.fieldnames):
            raise UnitError("cli.import_columns")
        rows = [{k: normalize(row.get(k) or "") for k in CSV_COLUMNS} for row in reader]
    # Spreadsheets save blank lines as ",,,"; they are not units without a code.
    return [row for row in rows if any(row.values())]


async def import_units(tx: Tx, rows: list[dict[str, str]], now: dt.datetime) -> ImportResult:
    """Adds the rows' units, parents before children whatever the order of the file; codes
    already in the database are left as they are, so a file can be imported again after
    adding lines to it."""
    codes = [row["code"] for row in rows]
    if any(not code for code in codes) or len(set(codes)) != len(codes):
        raise UnitError("cli.import_codes")
    pending = {row["code"]: row for row in rows}
    added = skipped = 0
    while pending:
        progressed = False
        for code, row in list(pending.items()):
            if await units.get_unit_by_code(tx, code) is not None:
                skipped += 1
            else:
                parent = await units.get_unit_by_code(tx, row["parent_code"]) if row[
                    "parent_code"] else None
                if row["parent_code"] and parent is None:
                    continue
                await add_unit(tx, NewUnit(code=code, name=row["name"], kind=row["kind"],
                                           parent_id=parent.id if parent else None), now)
                added += 1
            del pending[code]
            progressed = True
        if not progressed:
            orphans = ", ".join(f"{code} ({row['parent_code']})" for code, row in pending.items())
            raise UnitError("cli.import_parent_missing", rows=orphans)
    return ImportResult(added, skipped)


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
