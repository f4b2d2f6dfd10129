"""Mô hình học và làm theo Bác (models), with a status per year."""

from __future__ import annotations

import datetime as dt

from storage.clock import to_db
from storage.db import Tx
from storage.entities import Model, NewModel


async def add_model(tx: Tx, model: NewModel, now: dt.datetime) -> Model:
    model_id = await tx.run(
        "INSERT INTO models (name, field, owner_unit_id, mass_org, description, start_year,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (model.name, model.field, model.owner_unit_id, model.mass_org, model.description,
         model.start_year, to_db(now)),
    )
    await tx.run(
        "INSERT INTO model_years (model_id, year, status) VALUES (?, ?, 'in_progress')",
        (model_id, model.start_year),
    )
    return Model(id=model_id, name=model.name, field=model.field,
                 owner_unit_id=model.owner_unit_id, start_year=model.start_year)


async def models_open_to(tx: Tx, unit_ids: list[int], year: int) -> list[Model]:
    """Models owned by any of the units that have started by `year` and are not stopped or
    completed before it: the ones a member can attach a report to."""
    if not unit_ids:
        return []
    marks = ", ".join("?" for _ in unit_ids)
    rows = await tx.all(
        f"""SELECT m.id, m.name, m.field, m.owner_unit_id, m.start_year FROM models m
            WHERE m.owner_unit_id IN ({marks}) AND m.start_year <= ?
              AND NOT EXISTS (SELECT 1 FROM model_years y WHERE y.model_id = m.id
                              AND y.year < ? AND y.status IN ('stopped', 'completed')
                              AND NOT EXISTS (SELECT 1 FROM model_years z
                                              WHERE z.model_id = m.id AND z.year > y.year))
            ORDER BY m.name""",
        (*unit_ids, year, year),
    )
    return [Model(**dict(r)) for r in rows]


async def model_named(tx: Tx, owner_unit_id: int, name: str) -> Model | None:
    row = await tx.one(
        "SELECT id, name, field, owner_unit_id, start_year FROM models"
        " WHERE owner_unit_id = ? AND name = ?",
        (owner_unit_id, name),
    )
    return Model(**dict(row)) if row else None
