"""Mô hình học và làm theo Bác (models), with a status per year.

A model runs over several years without being registered again: its status in a year without
a row of its own is the status of the latest earlier year that has one (`status_in`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import StrEnum

from storage.clock import to_db
from storage.db import Tx, placeholders
from storage.entities import Entity, Model, NewModel


class ModelStatus(StrEnum):
    REGISTERED = "registered"  # đăng ký
    IN_PROGRESS = "in_progress"  # đang thực hiện
    COMPLETED = "completed"  # hoàn thành
    STOPPED = "stopped"  # dừng

    @property
    def running(self) -> bool:
        return self in (ModelStatus.REGISTERED, ModelStatus.IN_PROGRESS)


class ModelMark(StrEnum):
    """A higher level's judgement of the model for one year."""

    EXEMPLARY = "exemplary"  # tiêu biểu
    TO_SPREAD = "to_spread"  # nhân rộng


class ModelInfo(Entity):
    """A model as its card shows it."""

    id: int
    name: str
    field: str
    owner_unit_id: int
    owner_name: str
    mass_org: str | None = None
    description: str | None = None
    start_year: int


class ModelYear(Entity):
    year: int
    status: ModelStatus
    mark: ModelMark | None = None


def status_in(years: Sequence[ModelYear], year: int) -> ModelYear | None:
    """The model's standing in `year`: its own row, else the status carried from the latest
    earlier year (without that year's mark, which was a judgement of that year only); None
    before its first row."""
    own = next((y for y in years if y.year == year), None)
    if own is not None:
        return own
    earlier = [y for y in years if y.year < year]
    if not earlier:
        return None
    latest = max(earlier, key=lambda y: y.year)
    return ModelYear(year=year, status=latest.status)


def offered_in(years: Sequence[ModelYear], start_year: int, year: int) -> bool:
    """May a member attach a report of `year` to the model? Yes while it runs (registered or
    in progress); a model completed this very year still takes the year's deeds, one stopped
    or completed in an earlier year does not. `models_open_to` says the same in SQL."""
    if start_year > year:
        return False
    standing = status_in(years, year)
    if standing is None:
        return True
    own = any(y.year == year for y in years)
    return standing.status.running or (own and standing.status is ModelStatus.COMPLETED)


async def add_model(tx: Tx, model: NewModel, now: dt.datetime,
                    status: ModelStatus = ModelStatus.IN_PROGRESS) -> Model:
    model_id = await tx.run(
        "INSERT INTO models (name, field, owner_unit_id, mass_org, description, start_year,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (model.name, model.field, model.owner_unit_id, model.mass_org, model.description,
         model.start_year, to_db(now)),
    )
    await tx.run(
        "INSERT INTO model_years (model_id, year, status) VALUES (?, ?, ?)",
        (model_id, model.start_year, status.value),
    )
    return Model(id=model_id, name=model.name, field=model.field,
                 owner_unit_id=model.owner_unit_id, start_year=model.start_year)


async def models_open_to(tx: Tx, unit_ids: list[int], year: int) -> list[Model]:
    """Models owned by any of the units that a member can attach a report of `year` to (the
    rule of `offered_in`): started by `year`, and running in it — registered or in progress,
    in that year's own row or carried from the latest earlier one — or completed that year."""
    if not unit_ids:
        return []
    marks = placeholders(unit_ids)
    rows = await tx.all(
        f"""SELECT m.id, m.name, m.field, m.owner_unit_id, m.start_year FROM models m
            WHERE m.owner_unit_id IN ({marks}) AND m.start_year <= ?
              AND COALESCE(
                    (SELECT CASE WHEN y.year = ? AND y.status = 'completed' THEN 'in_progress'
                                 ELSE y.status END
                     FROM model_years y WHERE y.model_id = m.id AND y.year <= ?
                     ORDER BY y.year DESC LIMIT 1),
                    'registered') IN ('registered', 'in_progress')
            ORDER BY m.name""",
        (*unit_ids, year, year, year),
    )
    return [Model(**dict(r)) for r in rows]


async def model_named(tx: Tx, owner_unit_id: int, name: str) -> Model | None:
    row = await tx.one(
        "SELECT id, name, field, owner_unit_id, start_year FROM models"
        " WHERE owner_unit_id = ? AND name = ?",
        (owner_unit_id, name),
    )
    return Model(**dict(row)) if row else None


async def names_in_unit(tx: Tx, owner_unit_id: int) -> list[str]:
    rows = await tx.all("SELECT name FROM models WHERE owner_unit_id = ?", (owner_unit_id,))
    return [str(r["name"]) for r in rows]


_INFO = """SELECT m.id, m.name, m.field, m.owner_unit_id, u.name AS owner_name, m.mass_org,
                  m.description, m.start_year
           FROM models m JOIN units u ON u.id = m.owner_unit_id"""


async def get_model(tx: Tx, model_id: int) -> ModelInfo | None:
    row = await tx.one(f"{_INFO} WHERE m.id = ?", (model_id,))
    return ModelInfo(**dict(row)) if row else None


async def models_of_units(tx: Tx, unit_ids: Sequence[int]) -> list[ModelInfo]:
    """The units' models, unit by unit in the order given, by name within a unit."""
    if not unit_ids:
        return []
    marks = placeholders(unit_ids)
    rows = await tx.all(f"{_INFO} WHERE m.owner_unit_id IN ({marks}) ORDER BY m.name, m.id",
                        tuple(unit_ids))
    order = {unit_id: i for i, unit_id in enumerate(unit_ids)}
    found = [ModelInfo(**dict(r)) for r in rows]
    return sorted(found, key=lambda m: order[m.owner_unit_id])


async def years_of(tx: Tx, model_ids: Sequence[int]) -> dict[int, list[ModelYear]]:
    """Each model's rows, oldest year first."""
    found: dict[int, list[ModelYear]] = {model_id: [] for model_id in model_ids}
    if not model_ids:
        return found
    marks = placeholders(model_ids)
    rows = await tx.all(
        f"SELECT model_id, year, status, mark FROM model_years WHERE model_id IN ({marks})"
        " ORDER BY year",
        tuple(model_ids),
    )
    for r in rows:
        found[int(r["model_id"])].append(ModelYear(year=r["year"], status=r["status"],
                                                   mark=r["mark"]))
    return found


async def set_status(tx: Tx, model_id: int, year: int, status: ModelStatus) -> None:
    """The year's own status; its mark, if any, stays."""
    await tx.run(
        "INSERT INTO model_years (model_id, year, status) VALUES (?, ?, ?)"
        " ON CONFLICT (model_id, year) DO UPDATE SET status = excluded.status",
        (model_id, year, status.value),
    )


async def set_mark(tx: Tx, model_id: int, year: int, carried: ModelStatus,
                   mark: ModelMark | None) -> None:
    """Marks (or unmarks) the year; a year without a row of its own gets one with the status
    it carried, so that nothing about the year changes but the mark."""
    await tx.run(
        "INSERT INTO model_years (model_id, year, status, mark) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (model_id, year) DO UPDATE SET mark = excluded.mark",
        (model_id, year, carried.value, mark.value if mark else None),
    )


async def report_counts(tx: Tx, model_ids: Sequence[int],
                        within: tuple[str, tuple[str, str]] | None = None) -> dict[int, int]:
    """Reports under each model, within the counting bounds given (storage.counting), or in
    all; withdrawn reports never count."""
    if not model_ids:
        return {}
    marks = placeholders(model_ids)
    condition, params = within if within is not None else ("1 = 1", ())
    rows = await tx.all(
        f"""SELECT r.model_id AS model_id, count(*) AS n FROM reports r
            WHERE r.model_id IN ({marks}) AND r.state != 'withdrawn' AND {condition}
            GROUP BY r.model_id""",
        (*model_ids, *params),
    )
    counts = {model_id: 0 for model_id in model_ids}
    counts.update({int(r["model_id"]): int(r["n"]) for r in rows})
    return counts
