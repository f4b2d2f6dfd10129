"""Reporting a deed (việc làm theo Bác): who may, what they can pick, and recording it."""

from __future__ import annotations

import datetime as dt
import hashlib
import textwrap
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.flows.joins import waiting_key
from bot.flows.menu import menu_now
from bot.forms.conversations import Conversations, Refusal
from bot.forms.engine import Choice, DraftState, FormContext
from bot.forms.spec import Field, FieldType, Form
from bot.rules.access import Action, Request, other_bot_key
from bot.runtime.config import ReportSettings, Settings
from bot.ui import formatting
from bot.ui.catalogue import Catalogue
from bot.ui.screens import Reply, Screen
from storage import audit, drafts, models, people, reports, units
from storage.db import Database, Tx
from storage.entities import (
    Draft,
    Membership,
    Person,
    Photo,
    Report,
    ReportContent,
    ReportState,
    Role,
    Unit,
)

# state.extra["for_person"]: the member a leader enters this report for (bot/flows/behalf.py).
FOR_PERSON = "for_person"
NOTICE_PREVIEW = 80
# What the list of the members a report may name is read from.
MEMBER_SOURCES = ("people", "memberships", "units")
# What a detail left unasked stands for: a report is public, as the form has always proposed;
# the summary says so.
UNASKED = {"public": True}

def report_form(settings: ReportSettings) -> Form:
    return Form("report", (
        Field("deed_date", FieldType.DATE),
        Field("field", FieldType.CHOICE, source="fields"),
        Field("description", FieldType.LONG_TEXT,
              min=settings.description_min, max=settings.description_max),
        Field("model_id", FieldType.REFERENCE, required=False, source="models", detail=True),
        Field("participant_ids", FieldType.MEMBERS, required=False, source="members",
              detail=True),
        Field("people_helped", FieldType.INTEGER, required=False, min=0, max=100_000,
              detail=True),
        Field("households_helped", FieldType.INTEGER, required=False, min=0, max=10_000,
              detail=True),
        Field("value_vnd", FieldType.MONEY, required=False, detail=True),
        Field("place", FieldType.PLACE, required=False, min=2, max=200, detail=True),
        Field("photos", FieldType.PHOTOS, required=False, max=settings.max_photos, detail=True),
        Field("public", FieldType.YES_NO, required=False, detail=True),  # see UNASKED
    ))


def field_key(name: str) -> str:
    """A field's button key: stable when config.toml reorders or extends the list, so a button
    still on a member's screen means the field it showed."""
    return hashlib.blake2s(name.encode(), digest_size=4).hexdigest()


@dataclass(frozen=True)
class Reporter:
    """Whose report it is and the unit it counts in; `entered_by` is the leader who enters it
    for them (None when they report themselves)."""

    person: Person
    unit: Unit
    entered_by: Person | None = None


async def reporter_of(req: Request) -> Reporter:
    """The requester and the unit they report in; a Refusal for anyone else."""
    person = req.actor.person
    if person is None:
        raise Refusal("access.not_member")
    elsewhere = await other_bot_key(req.tx, req.actor)
    if elsewhere is not None:
        key, params = elsewhere
        raise Refusal(key, **params)
    # Their roles as the bot they wrote to serves them (bot/rules/bots.py).
    return await home_of(req.tx, person, req.actor.memberships)


async def home_of(tx: Tx, person: Person,
                  held: Sequence[Membership] | None = None) -> Reporter:
    """The unit `person` reports in: where they are a member, else where they lead (among
    `held`, when given; else all their live roles)."""
    memberships = await people.active_memberships(tx, person.id) if held is None else held
    home = next((m for m in memberships if m.role is Role.MEMBER), None) or next(
        (m for m in memberships if m.role is Role.LEADER), None
    )
    if home is None and memberships:
        raise Refusal("access.observer_only")
    if home is None:
        raise Refusal(await waiting_key(tx, person.id) or "access.not_member")
    unit = await units.get_unit(tx, home.unit_id)
    if unit is None:
        raise Refusal("access.not_member")
    return Reporter(person, unit)


async def on_behalf_reporter(req: Request, person_id: Any) -> Reporter:
    """The member the requester, a leader, enters a report for, in the member's home unit; a
    Refusal when the member has left or the leader may no longer report for them."""
    person = await people.get_person(req.tx, person_id) if isinstance(person_id, int) else None
    if person is None:
        raise Refusal("behalf.not_found")
    leader = req.actor.person
    if leader is None:
        raise Refusal("behalf.needs_person")
    try:
        member = await home_of(req.tx, person)
    except Refusal:
        raise Refusal("behalf.member_gone", name=person.full_name) from None
    if person.id == leader.id or await req.check(Action.REPORT_ON_BEHALF, member.unit.id,
                                                 person.id) is not None:
        raise Refusal("behalf.no_longer_allowed", name=person.full_name)
    return Reporter(person, member.unit, entered_by=leader)


async def author_of(req: Request, state: DraftState) -> Reporter:
    """Whose report a draft is: its owner's, or the member's a leader reports for."""
    if FOR_PERSON in state.extra:
        return await on_behalf_reporter(req, state.extra[FOR_PERSON])
    return await reporter_of(req)


def content_from_answers(answers: dict[str, Any]) -> ReportContent:
    place = answers.get("place") or {}
    return ReportContent(
        deed_date=dt.date.fromisoformat(answers["deed_date"]),
        field=answers["field"],
        description=answers["description"],
        model_id=answers.get("model_id"),
        participant_ids=tuple(answers.get("participant_ids") or ()),
        people_helped=answers.get("people_helped"),
        households_helped=answers.get("households_helped"),
        value_vnd=answers.get("value_vnd"),
        place=place.get("text"),
        latitude=place.get("latitude"),
        longitude=place.get("longitude"),
        photos=tuple(Photo(**p) for p in answers.get("photos") or ()),
        private=not answers.get("public", UNASKED["public"]),
    )


def answers_from_content(content: ReportContent) -> dict[str, Any]:
    """The inverse of content_from_answers: a stored report as a pre-filled form."""
    place: dict[str, Any] | None = None
    if content.place:
        place = {"text": content.place}
    elif content.latitude is not None and content.longitude is not None:
        place = {"latitude": content.latitude, "longitude": content.longitude}
    answers = {
        "deed_date": content.deed_date.isoformat(),
        "field": content.field,
        "description": content.description,
        "model_id": content.model_id,
        "participant_ids": list(content.participant_ids),
        "people_helped": content.people_helped,
        "households_helped": content.households_helped,
        "value_vnd": content.value_vnd,
        "place": place,
        "photos": [p.model_dump() for p in content.photos],
        "public": not content.private,
    }
    return {k: v for k, v in answers.items() if v not in (None, [])}


async def partners_of(tx: Tx, unit: Unit) -> tuple[Choice, ...]:
    """Whom a report of the unit may name as co-participants: its own members first, then the
    others of its parent's subtree, each with their unit (a commune-wide deed is reported once,
    by one cell, naming the people of the others). A unit at the top, or right under it, names
    within its own subtree: the top's is a whole province."""
    parent = await units.get_unit(tx, unit.parent_id) if unit.parent_id is not None else None
    wider = parent.id if parent is not None and parent.parent_id is not None else unit.id
    own = await people.reporting_members(tx, unit.id)
    mine = {p.id for p in own}
    return (*(Choice(str(p.id), p.id, p.full_name) for p in own),
            *(Choice(str(p.id), p.id, p.full_name, note=unit_name)
              for p, unit_name in await people.reporting_members_within(tx, wider)
              if p.id not in mine))


class ReportKind:
    def __init__(self, settings: Settings, catalogue: Catalogue,
                 db: Database | None = None) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self.db = db  # only for its versions (see `_members_of`); none: nothing is kept
        # Told when a report sent back for more is sent again (bot/flows/reviews.py).
        self.resubmitted: Callable[[Request, Report], Awaitable[None]] | None = None
        self.form: Form = report_form(settings.report)
        # unit id -> (Database.version of MEMBER_SOURCES, the members its reports may name as
        # choices): every step of a report form offers them (or needs to know there are some),
        # and reading a whole commune from the database on each would cost more than the step.
        self._members: dict[int, tuple[int, tuple[Choice, ...]]] = {}

    async def context(self, req: Request, state: DraftState) -> FormContext:
        who = await author_of(req, state)
        return await self.context_in(req, who.unit, who.person.id)

    async def context_in(self, req: Request, unit: Unit, person_id: int) -> FormContext:
        """What a report of `person_id` in `unit` can refer to: the choices a form offers,
        and the names a stored report is shown with, whoever looks at it."""
        tx, today = req.tx, req.today
        above = [u.id for u in await units.ancestors(tx, unit.id)]
        open_models = await models.models_open_to(tx, [unit.id, *above], today.year)
        others = tuple(c for c in await self._members_of(tx, unit)
                       if c.value != person_id)
        fields = self.settings.report.fields
        return FormContext(
            today=today,
            choices={
                "fields": tuple(Choice(field_key(name), name, name) for name in fields),
                "models": tuple(Choice(str(m.id), m.id, m.name) for m in open_models),
                "members": others,
            },
            defaults=UNASKED,
            allow_location=not unit.no_locations,
            max_age_days=self.settings.report.max_age_days,
        )

    async def _members_of(self, tx: Tx, unit: Unit) -> tuple[Choice, ...]:
        """The members a report of the unit may name, as choices (`partners_of`); read again
        once a person, a role or a unit changed (in this process: another one's changes show
        after a restart)."""
        version = self.db.version(*MEMBER_SOURCES) if self.db else -1
        # This very transaction changing them (a join) is not in the version until it commits.
        cached = self.db is not None and not tx.written.intersection(MEMBER_SOURCES)
        known = self._members.get(unit.id)
        if cached and known is not None and known[0] == version:
            return known[1]
        members = await partners_of(tx, unit)
        if cached and self.db is not None and self.db.version(*MEMBER_SOURCES) == version:
            self._members[unit.id] = (version, members)
        return members

    async def submit(self, req: Request, draft: Draft, state: DraftState) -> Reply:
        t, tx = req.t, req.tx
        who = await author_of(req, state)
        if not await drafts.delete_draft(tx, draft.id):
            return Reply(toast=t.plain("form.already_sent"))
        content = content_from_answers(state.answers)
        menu = await menu_now(req)
        if state.target is None:
            enterer = who.entered_by or who.person
            report_id = await reports.insert_report(
                tx, person_id=who.person.id, unit_id=who.unit.id, entered_by=enterer.id,
                content=content, source_draft_id=draft.id, now=req.now)
            if who.entered_by is not None:
                receipt = Screen(t("behalf.received", name=who.person.full_name), menu=menu)
                return await self._received_on_behalf(req, who, report_id, content, receipt)
            return Reply((Screen(t("report.received"), menu=menu),))
        existing = await reports.get_report(tx, state.target)
        if existing is None or existing.person_id != who.person.id or not (
            await reports.replace_content(tx, existing.id, content, req.now)
        ):
            return Reply((Screen(t("report.no_longer_editable"), menu=menu),))
        if existing.state is ReportState.NEEDS_MORE and self.resubmitted is not None:
            await self.resubmitted(req, existing)
        return Reply((Screen(t("report.corrected"), menu=menu),))

    async def _received_on_behalf(self, req: Request, who: Reporter, report_id: int,
                                  content: ReportContent, receipt: Screen) -> Reply:
        """The leader's receipt, the audit log, and a word to the member if they use
        Telegram."""
        leader = who.entered_by
        assert leader is not None
        await audit.record(req.tx, req.now, f"person:{leader.id}", "report_on_behalf",
                           f"report:{report_id}", f"person:{who.person.id} unit:{who.unit.id}")
        if who.person.telegram_user_id is None:
            return Reply((receipt,))
        tm = self.catalogue.texts(who.person.lang)
        preview = textwrap.shorten(content.description, NOTICE_PREVIEW, placeholder="…")
        notice = Screen(tm("behalf.notice", leader=leader.full_name,
                           date=formatting.day(content.deed_date), preview=preview))
        return Reply((receipt,), notices=((who.person.telegram_user_id, notice),))


class Reports:
    """/report and 📝 Báo cáo việc làm theo Bác: the report form, for whoever reports
    somewhere."""

    def __init__(self, conversations: Conversations) -> None:
        self.conversations = conversations

    async def start(self, req: Request) -> Reply:
        try:
            await reporter_of(req)
        except Refusal as refusal:
            return Reply((Screen(req.t(refusal.key, **refusal.params)),))
        return await self.conversations.begin(req, "report")
