"""Plain models crossing the storage boundary."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Entity(BaseModel):
    model_config = ConfigDict(frozen=True)

    def model_post_init(self, context: Any, /) -> None:
        """A model given every field (a row read: a province's 15,000 schedule rows, 5,000
        units) shares one set of their names rather than holding its own (728 of a schedule
        row's 1,120 bytes). Nothing adds to it: the model is frozen, and a copy copies it."""
        every = _EVERY_FIELD.get(type(self))
        if every is None:
            every = _EVERY_FIELD[type(self)] = set(type(self).model_fields)
        if self.__pydantic_fields_set__ == every:
            object.__setattr__(self, "__pydantic_fields_set__", every)


_EVERY_FIELD: dict[type[Entity], set[str]] = {}  # by model: the names of all its fields


class Role(StrEnum):
    MEMBER = "member"
    LEADER = "leader"
    OBSERVER = "observer"


class ReportState(StrEnum):
    PENDING = "pending"
    ACKNOWLEDGED = "acknowledged"
    NEEDS_MORE = "needs_more"
    WITHDRAWN = "withdrawn"

    @property
    def editable_by_author(self) -> bool:
        return self in (ReportState.PENDING, ReportState.NEEDS_MORE)


class Unit(Entity):
    id: int
    code: str | None
    name: str
    kind: str
    parent_id: int | None
    place_name: str | None = None
    no_locations: bool = False


class NewUnit(Entity):
    name: str
    kind: str
    parent_id: int | None = None
    code: str | None = None
    place_name: str | None = None
    no_locations: bool = False


class Person(Entity):
    id: int
    telegram_user_id: int | None  # None: a member without a phone, reported for by a leader
    full_name: str
    lang: str


class Membership(Entity):
    id: int
    person_id: int
    unit_id: int
    role: Role


class Invite(Entity):
    id: int
    code: str
    unit_id: int
    role: Role
    max_uses: int
    uses: int
    expires_at: dt.datetime
    revoked: bool
    person_id: int | None = None  # a personal invite: whoever opens it becomes this person


class NewInvite(Entity):
    code: str
    unit_id: int
    role: Role
    max_uses: int
    expires_at: dt.datetime
    person_id: int | None = None


class Model(Entity):
    """A mô hình học và làm theo Bác."""

    id: int
    name: str
    field: str
    owner_unit_id: int
    start_year: int


class NewModel(Entity):
    name: str
    field: str
    owner_unit_id: int
    start_year: int
    mass_org: str | None = None
    description: str | None = None


class Photo(Entity):
    file_id: str
    file_unique_id: str


class ReportContent(Entity):
    """What the member tells; everything a form can change."""

    deed_date: dt.date
    field: str
    description: str
    model_id: int | None = None
    participant_ids: tuple[int, ...] = ()
    people_helped: int | None = None
    households_helped: int | None = None
    value_vnd: int | None = None
    place: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    photos: tuple[Photo, ...] = ()
    private: bool = False


class Report(Entity):
    id: int
    person_id: int
    unit_id: int
    entered_by: int
    state: ReportState
    leader_note: str | None
    received_at: dt.datetime
    content: ReportContent


class ReportLine(Entity):
    """One row of a member's list of reports."""

    id: int
    deed_date: dt.date
    field: str
    description: str
    state: ReportState


class Draft(Entity):
    id: int
    telegram_user_id: int
    form: str
    state: dict = Field(default_factory=dict)
    recent_updates: tuple[int, ...] = ()
    created_at: dt.datetime
    updated_at: dt.datetime
