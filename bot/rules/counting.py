"""The counting rules (PRODUCT.md, "Counting rules"), in one place for every figure: /stats,
/members, digests, reminders and exports all ask here.

- Digests and reminders count reports by when they were received (`Basis.RECEIVED`), so a late
  report is in some digest; /stats and exports count by the day the deed happened
  (`Basis.DONE`).
- Withdrawn reports never count; waiting (chờ ghi nhận) and needing-more (cần bổ sung) ones do,
  and are shown beside the acknowledged ones.
- "Chờ ghi nhận" is one thing everywhere (/review, the digests, /stats, the leaders' notices):
  a pending report, which a leader has to acknowledge (`Tally.waiting`, storage/counting.py
  WAITING). A report sent back for more (cần bổ sung) waits for its author and is shown apart.
- A report counts once in every total, however many took part; each co-participant is credited
  with it (in participation, and in their own figures). Its figures (the report, people helped,
  value) count in the reporting unit's subtree only; a co-participant named from another unit
  (bot/flows/reports.py partners_of: the parent's subtree) is credited where they report.
- A unit's figures include its whole subtree.
- Participation x/y: y is the people who report in the subtree and are not excused (miễn sinh
  hoạt). Someone reports where their member role is; a leader without one reports in the unit
  they lead (as bot/flows/reports.py decides), so such a leader counts in that unit's y; leaders
  who are members of a cell count there, once. Observers never count. x is those of the y who
  wrote a report of the subtree in the period or were named as co-participants in any report.
- A model counts in a year when it has started by then and was not stopped or completed in an
  earlier year; a model is new in a period when it was registered in it.
- Periods are local days (bot/rules/periods.py: ISO weeks in Asia/Ho_Chi_Minh).
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from bot.rules.periods import Period
from bot.runtime.config import Settings
from storage import counting, units
from storage import digests as digest_queries
from storage import models as model_queries
from storage.counting import Tally
from storage.db import Tx
from storage.entities import Unit
from storage.models import ModelInfo


class Basis(StrEnum):
    RECEIVED = "received"  # digests, reminders
    DONE = "done"  # /stats, exports


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)


@dataclass(frozen=True, slots=True)
class Participation:
    """x/y: `reported` of the `expected` people took part in a report of the period."""

    reported: int = 0
    expected: int = 0

    @property
    def share(self) -> float | None:
        """reported / expected, None when nobody is expected."""
        return self.reported / self.expected if self.expected else None


@dataclass(frozen=True, slots=True)
class UnitFigures:
    """A unit's period, its whole subtree included. Plain values (a province has 5,000)."""

    unit: Unit
    period: Period
    basis: Basis
    reports: Tally
    participation: Participation
    new_models: int = 0  # registered in the period

    @property
    def empty(self) -> bool:
        return self.reports.total == 0


class PersonFigures(_Frozen):
    """The reports a person wrote or was named in as a co-participant, each once."""

    person_id: int
    period: Period
    basis: Basis
    reports: Tally
    authored: int = 0

    @property
    def co_participated(self) -> int:
        return self.reports.total - self.authored


class ModelsRow(_Frozen):
    unit: Unit
    total: int
    by_field: dict[str, int]


class ModelsTable(_Frozen):
    """The models a unit's subtree runs in a year, per child unit's subtree and field.
    `own` are the models the unit itself owns (in no child)."""

    unit: Unit
    year: int
    total: int
    own: dict[str, int]
    rows: tuple[ModelsRow, ...]

    @property
    def own_total(self) -> int:
        return sum(self.own.values())

    @property
    def by_field(self) -> dict[str, int]:
        """The whole subtree's models per field: the unit's own and each child's."""
        whole = dict(self.own)
        for row in self.rows:
            for name, n in row.by_field.items():
                whole[name] = whole.get(name, 0) + n
        return whole


def within(settings: Settings, period: Period, basis: Basis) -> counting.Within:
    if basis is Basis.RECEIVED:
        return counting.bounds_received(*period.moments(settings.zone))
    return counting.bounds_done(period.first, period.last)


async def participants(tx: Tx, settings: Settings, unit_ids: list[int], period: Period,
                       basis: Basis) -> set[int]:
    """Who took part in the units' reports of the period: authors and co-participants."""
    return await counting.participants(tx, unit_ids, within(settings, period, basis))


async def _people(tx: Tx, settings: Settings, unit_id: int, period: Period,
                  basis: Basis) -> tuple[set[int], set[int]]:
    """Who is expected to report in the unit's subtree, and who took part in the period."""
    expected = (await counting.expected_by_root(tx, [unit_id])).get(unit_id, set())
    took_part = (await counting.participants_by_root(
        tx, [unit_id], within(settings, period, basis))).get(unit_id, set())
    return expected, took_part


async def participation(tx: Tx, settings: Settings, unit_id: int, period: Period,
                        basis: Basis) -> Participation:
    """x/y for the unit's subtree."""
    expected, took_part = await _people(tx, settings, unit_id, period, basis)
    return Participation(reported=len(expected & took_part), expected=len(expected))


async def not_reported(tx: Tx, settings: Settings, unit_id: int, period: Period,
                       basis: Basis) -> set[int]:
    """The person ids counted in y but not in x: who has not reported (shown only privately)."""
    expected, took_part = await _people(tx, settings, unit_id, period, basis)
    return expected - took_part


async def _figures(tx: Tx, settings: Settings, roots: list[Unit], period: Period,
                   basis: Basis) -> list[UnitFigures]:
    """Figures for several units at once: a handful of queries, however many units."""
    ids = [u.id for u in roots]
    bounds = within(settings, period, basis)
    tallies = await counting.tallies_by_root(tx, ids, bounds)
    took_part = await counting.participants_by_root(tx, ids, bounds)
    expected = await counting.expected_by_root(tx, ids)
    new = await counting.new_models_by_root(tx, ids, *period.moments(settings.zone))
    return [
        UnitFigures(
            unit=unit, period=period, basis=basis,
            reports=tallies.get(unit.id, Tally()),
            participation=Participation(
                reported=len(expected.get(unit.id, set()) & took_part.get(unit.id, set())),
                expected=len(expected.get(unit.id, set()))),
            new_models=new.get(unit.id, 0),
        )
        for unit in roots
    ]


async def unit_figures(tx: Tx, settings: Settings, unit_id: int, period: Period,
                       basis: Basis) -> UnitFigures:
    unit = await units.get_unit(tx, unit_id)
    if unit is None:
        raise LookupError(f"no unit {unit_id}")
    [figures] = await _figures(tx, settings, [unit], period, basis)
    return figures


async def child_figures(tx: Tx, settings: Settings, unit_id: int, period: Period,
                        basis: Basis) -> list[UnitFigures]:
    """The same for each direct child unit (each with its whole subtree), by name."""
    return await _figures(tx, settings, await units.children(tx, unit_id), period, basis)


async def roll_up(tx: Tx, settings: Settings, unit_id: int, period: Period,
                  basis: Basis) -> tuple[UnitFigures, list[UnitFigures]]:
    """unit_figures and child_figures together, in the queries of one of them."""
    unit = await units.get_unit(tx, unit_id)
    if unit is None:
        raise LookupError(f"no unit {unit_id}")
    whole, *children = await _figures(tx, settings, [unit, *await units.children(tx, unit_id)],
                                      period, basis)
    return whole, children


async def person_figures(tx: Tx, settings: Settings, person_id: int, period: Period,
                         basis: Basis) -> PersonFigures:
    tally, authored = await counting.tally_of_person(tx, person_id,
                                                     within(settings, period, basis))
    return PersonFigures(person_id=person_id, period=period, basis=basis, reports=tally,
                         authored=authored)


async def member_counts(tx: Tx, settings: Settings, unit_id: int, period: Period,
                        basis: Basis) -> dict[int, tuple[int, int]]:
    """Per person: the reports of the unit's subtree in the period they wrote or were named in
    as a co-participant (each once, as their own figures count), and how many they wrote."""
    return await counting.counts_by_person(tx, unit_id, within(settings, period, basis))


async def models_table(tx: Tx, unit_id: int, year: int) -> ModelsTable:
    """"Đảng bộ xã Tràng Định: 74 mô hình năm 2023", and how they spread over its children
    and fields."""
    unit = await units.get_unit(tx, unit_id)
    if unit is None:
        raise LookupError(f"no unit {unit_id}")
    children = await units.children(tx, unit_id)
    found = await counting.models_of_year_by_root(tx, [unit_id, *(c.id for c in children)],
                                                  year)
    whole = found.get(unit_id, {})
    rows = tuple(ModelsRow(unit=c, total=sum(found.get(c.id, {}).values()),
                           by_field=found.get(c.id, {})) for c in children)
    own = dict(whole)
    for row in rows:
        for name, n in row.by_field.items():
            own[name] -= n
    return ModelsTable(unit=unit, year=year, total=sum(whole.values()),
                       own={k: v for k, v in own.items() if v}, rows=rows)


async def models_of_year(tx: Tx, unit_id: int, year: int) -> list[ModelInfo]:
    """The models `models_table` counts for the unit in the year, each whole, the unit's
    subtree's unit by unit (as subtree_ids lists them), by name within a unit."""
    running = set(await counting.models_of_year(tx, unit_id, year))
    found = await model_queries.models_of_units(tx, await units.subtree_ids(tx, unit_id))
    return [model for model in found if model.id in running]


def _tally(sums: list[int], by_field: dict[str, int], models: int) -> Tally:
    """A Tally of sums in storage.counting.OWN_SUMS order."""
    total, acknowledged, pending, needs_more, people, households, value, model_reports = sums
    return Tally(total=total, acknowledged=acknowledged, pending=pending, needs_more=needs_more,
                 by_field=by_field, people_helped=people, households_helped=households,
                 value_vnd=value, model_reports=model_reports, models_with_reports=models)


@contextmanager
def collections_paused() -> Iterator[None]:
    """Python's cycle collector paused while a province's figures are counted: the tens of
    thousands of rows and sets they make would otherwise set off full collections, each
    walking every object of the bot (measured: a third of the time). The figures make no
    reference cycles; whatever others make meanwhile is collected once it resumes."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


class TreeFigures:
    """Every unit of a subtree (or of the whole tree) for one period, from a handful of queries
    that read the period's rows once, grouped by the unit they belong to: the figures are those
    of `unit_figures` for each unit, whatever their number.

    Sums are rolled up the tree once, deepest units first, each unit's into its parent's. People
    cannot be (x/y counts each person once per subtree): each person's own units are looked up
    instead, with the units above them (`chains`, computed once)."""

    def __init__(self, scope: list[Unit]) -> None:
        self.units = {u.id: u for u in scope}
        self.chains = {u.id: self._chain(u) for u in scope}
        self.children: dict[int, list[Unit]] = defaultdict(list)
        for unit in sorted(scope, key=lambda u: (u.name, u.id)):
            if unit.parent_id in self.units:
                self.children[unit.parent_id].append(unit)
        # Deepest first: a unit's figures are whole before they are added to its parent's.
        self.upward = sorted(self.units, key=lambda u: -len(self.chains[u]))
        self.figures: dict[int, UnitFigures] = {}
        self.new_models: dict[int, list[str]] = defaultdict(list)  # names, oldest first
        self._expected_own: dict[int, list[int]] = defaultdict(list)  # unit → its own y
        # person → the units they took part in and those above: the unit's `chains` tuple
        # itself when it is one unit (most people), not a set of their own for each of 35,000.
        self._took_part_in: dict[int, tuple[int, ...]] = {}

    def _chain(self, unit: Unit) -> tuple[int, ...]:
        """The unit and the units above it that are in scope, nearest first."""
        found = [unit.id]
        parent = unit.parent_id
        while parent in self.units and parent not in found:
            found.append(parent)
            parent = self.units[parent].parent_id
        return tuple(found)

    def above(self, unit_id: int) -> tuple[int, ...]:
        """Where a row of `unit_id` counts: the unit and each unit above it in scope."""
        return self.chains.get(unit_id, ())

    def subtree(self, unit_id: int) -> list[int]:
        found, i = [unit_id], 0
        while i < len(found):
            found += [c.id for c in self.children[found[i]]]
            i += 1
        return found

    def rolled_up(self, own: dict[int, list[int]]) -> dict[int, list[int]]:
        """Per unit, the element-wise sum of `own`'s vectors over its subtree (units with
        nothing left out)."""
        found = {unit_id: list(values) for unit_id, values in own.items()
                 if unit_id in self.units}
        for unit_id in self.upward:
            parent = self.units[unit_id].parent_id
            if unit_id not in found or parent not in self.units:
                continue
            if parent in found:
                found[parent] = [a + b for a, b in zip(found[parent], found[unit_id],
                                                       strict=True)]
            else:
                found[parent] = list(found[unit_id])
        return found

    def not_reported(self, unit_id: int) -> set[int]:
        """The people counted in the unit's y who took part in none of its subtree's reports."""
        return {person for member_of in self.subtree(unit_id)
                for person in self._expected_own.get(member_of, ())
                if unit_id not in self._took_part_in.get(person, ())}

    async def count(self, tx: Tx, settings: Settings, root: int | None, period: Period,
                    basis: Basis) -> None:
        bounds = within(settings, period, basis)
        own = await counting.sums_by_unit(tx, root, bounds)
        sums = self.rolled_up({u: s.sums for u, s in own.items()})
        fields, models = self._roll_up_fields_and_models(own)
        participation = self._participation(
            await counting.participants_by_unit(tx, root, bounds),
            await counting.expected_by_unit(tx, root))
        for unit_id, name in await counting.new_models_by_unit(
                tx, root, *period.moments(settings.zone)):
            for target in self.above(unit_id):
                self.new_models[target].append(name)
        nothing = Tally()  # shared by the units with no reports in their subtree
        for unit_id, unit in self.units.items():
            reported, expected = participation.get(unit_id, (0, 0))
            self.figures[unit_id] = UnitFigures(
                unit=unit, period=period, basis=basis,
                reports=(_tally(found, fields[unit_id], len(models[unit_id]))
                         if (found := sums.get(unit_id)) else nothing),
                participation=Participation(reported=reported, expected=expected),
                new_models=len(self.new_models.get(unit_id, ())))

    def _roll_up_fields_and_models(self, own: dict[int, counting.UnitSums]
                                   ) -> tuple[dict[int, dict[str, int]], dict[int, set[int]]]:
        fields = {u: dict(s.by_field) for u, s in own.items() if u in self.units}
        models = {u: set(s.models) for u, s in own.items() if u in self.units}
        for unit_id in self.upward:
            parent = self.units[unit_id].parent_id
            if unit_id not in fields or parent not in self.units:
                continue
            into = fields.setdefault(parent, {})
            for name, n in fields[unit_id].items():
                into[name] = into.get(name, 0) + n
            models.setdefault(parent, set()).update(models[unit_id])
        return fields, models

    def _participation(self, took_part: list[tuple[int, int]],
                       expected: list[tuple[int, int]]) -> dict[int, tuple[int, int]]:
        """Per unit: (x, y), each person once however many of the subtree's units they
        report in (`expected`: unit, person) or took part in (`took_part`: unit, person)."""
        for unit_id, person in took_part:
            if unit_id in self.units:
                chain, before = self.chains[unit_id], self._took_part_in.get(person)
                if before is None or before is chain:
                    self._took_part_in[person] = chain
                else:
                    self._took_part_in[person] = tuple({*before, *chain})
        home: dict[int, int] = {}  # person → the (first) unit they count in
        also: dict[int, list[int]] = defaultdict(list)  # … and any other (rare)
        for unit_id, person in expected:
            if unit_id in self.units:
                self._expected_own[unit_id].append(person)
                if person in home:
                    also[person].append(unit_id)
                else:
                    home[person] = unit_id
        expected_in = {u: y for u, [y] in self.rolled_up(
            {u: [len(people)] for u, people in self._expected_own.items()}).items()}
        for person, others in also.items():  # counted once per unit of theirs below: once
            units_in = [home[person], *others]
            for target in {a for u in units_in for a in self.chains[u]}:
                expected_in[target] -= sum(target in self.chains[u] for u in units_in) - 1
        reported: dict[int, int] = defaultdict(int)
        for person, took_part_in in self._took_part_in.items():
            if person in home:
                counted_in = {a for u in [home[person], *also.get(person, ())]
                              for a in self.chains[u]}
                for target in counted_in.intersection(took_part_in):
                    reported[target] += 1
        return {u: (reported.get(u, 0), y) for u, y in expected_in.items()}


async def tree_figures(tx: Tx, settings: Settings, root: int | None, period: Period,
                       basis: Basis) -> TreeFigures:
    """TreeFigures of `root`'s subtree, or of every unit (None)."""
    with collections_paused():
        found = TreeFigures(await digest_queries.units_in_scope(tx, root))
        await found.count(tx, settings, root, period, basis)
    return found


def ordered_fields(settings: Settings, by_field: dict[str, int]) -> list[tuple[str, int]]:
    """Most reports first; ties in config.toml's order, fields no longer configured last."""
    order = {name: i for i, name in enumerate(settings.report.fields)}
    return sorted(by_field.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order)), kv[0]))
