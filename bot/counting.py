"""The counting rules (PRODUCT.md, "Counting rules"), in one place for every figure: /stats,
/members, digests, reminders and exports all ask here.

- Digests and reminders count reports by when they were received (`Basis.RECEIVED`), so a late
  report is in some digest; /stats and exports count by the day the deed happened
  (`Basis.DONE`).
- Withdrawn reports never count; waiting (chờ ghi nhận) and needing-more (cần bổ sung) ones do,
  and are shown beside the acknowledged ones.
- A report counts once in every total, however many took part; each co-participant is credited
  with it (in participation, and in their own figures).
- A unit's figures include its whole subtree.
- Participation x/y: y is the people who report in the subtree and are not excused (miễn sinh
  hoạt). Someone reports where their member role is; a leader without one reports in the unit
  they lead (as bot/reporting.py decides), so such a leader counts in that unit's y; leaders
  who are members of a cell count there, once. Observers never count. x is those of the y who
  wrote a report of the subtree in the period or were named as co-participants in one.
- A model counts in a year when it has started by then and was not stopped or completed in an
  earlier year; a model is new in a period when it was registered in it.
- Periods are local days (bot/periods.py: ISO weeks in Asia/Ho_Chi_Minh).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from bot.periods import Period
from bot.services import Services
from storage import counting, units
from storage.counting import Tally
from storage.db import Tx
from storage.entities import Unit


class Basis(StrEnum):
    RECEIVED = "received"  # digests, reminders
    DONE = "done"  # /stats, exports


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)


class Participation(_Frozen):
    """x/y: `reported` of the `expected` people took part in a report of the period."""

    reported: int = 0
    expected: int = 0

    @property
    def share(self) -> float | None:
        """reported / expected, None when nobody is expected."""
        return self.reported / self.expected if self.expected else None


class UnitFigures(_Frozen):
    """A unit's period, its whole subtree included."""

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


def within(services: Services, period: Period, basis: Basis) -> counting.Within:
    if basis is Basis.RECEIVED:
        return counting.bounds_received(*period.moments(services.settings.zone))
    return counting.bounds_done(period.first, period.last)


async def participants(tx: Tx, services: Services, unit_ids: list[int], period: Period,
                       basis: Basis) -> set[int]:
    """Who took part in the units' reports of the period: authors and co-participants."""
    return await counting.participants(tx, unit_ids, within(services, period, basis))


async def _people(tx: Tx, services: Services, unit_id: int, period: Period,
                  basis: Basis) -> tuple[set[int], set[int]]:
    """Who is expected to report in the unit's subtree, and who took part in the period."""
    expected = (await counting.expected_by_root(tx, [unit_id])).get(unit_id, set())
    took_part = (await counting.participants_by_root(
        tx, [unit_id], within(services, period, basis))).get(unit_id, set())
    return expected, took_part


async def participation(tx: Tx, services: Services, unit_id: int, period: Period,
                        basis: Basis) -> Participation:
    """x/y for the unit's subtree."""
    expected, took_part = await _people(tx, services, unit_id, period, basis)
    return Participation(reported=len(expected & took_part), expected=len(expected))


async def not_reported(tx: Tx, services: Services, unit_id: int, period: Period,
                       basis: Basis) -> set[int]:
    """The person ids counted in y but not in x: who has not reported (shown only privately)."""
    expected, took_part = await _people(tx, services, unit_id, period, basis)
    return expected - took_part


async def _figures(tx: Tx, services: Services, roots: list[Unit], period: Period,
                   basis: Basis) -> list[UnitFigures]:
    """Figures for several units at once: a handful of queries, however many units."""
    ids = [u.id for u in roots]
    bounds = within(services, period, basis)
    tallies = await counting.tallies_by_root(tx, ids, bounds)
    took_part = await counting.participants_by_root(tx, ids, bounds)
    expected = await counting.expected_by_root(tx, ids)
    new = await counting.new_models_by_root(tx, ids, *period.moments(services.settings.zone))
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


async def unit_figures(tx: Tx, services: Services, unit_id: int, period: Period,
                       basis: Basis) -> UnitFigures:
    unit = await units.get_unit(tx, unit_id)
    if unit is None:
        raise LookupError(f"no unit {unit_id}")
    [figures] = await _figures(tx, services, [unit], period, basis)
    return figures


async def child_figures(tx: Tx, services: Services, unit_id: int, period: Period,
                        basis: Basis) -> list[UnitFigures]:
    """The same for each direct child unit (each with its whole subtree), by name."""
    return await _figures(tx, services, await units.children(tx, unit_id), period, basis)


async def roll_up(tx: Tx, services: Services, unit_id: int, period: Period,
                  basis: Basis) -> tuple[UnitFigures, list[UnitFigures]]:
    """unit_figures and child_figures together, in the queries of one of them."""
    unit = await units.get_unit(tx, unit_id)
    if unit is None:
        raise LookupError(f"no unit {unit_id}")
    whole, *children = await _figures(tx, services, [unit, *await units.children(tx, unit_id)],
                                      period, basis)
    return whole, children


async def person_figures(tx: Tx, services: Services, person_id: int, period: Period,
                         basis: Basis) -> PersonFigures:
    tally, authored = await counting.tally_of_person(tx, person_id,
                                                     within(services, period, basis))
    return PersonFigures(person_id=person_id, period=period, basis=basis, reports=tally,
                         authored=authored)


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


def ordered_fields(services: Services, by_field: dict[str, int]) -> list[tuple[str, int]]:
    """Most reports first; ties in config.toml's order, fields no longer configured last."""
    order = {name: i for i, name in enumerate(services.settings.report.fields)}
    return sorted(by_field.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order)), kv[0]))
