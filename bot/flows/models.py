"""/model (🏅 Mô hình): the models a person may see with their report counts, registering a
model through the form engine, its status per year, and a higher level's marks. Every press is
authorised again against the model's owner unit read from the database.
"""

from __future__ import annotations

import logging
from typing import Annotated

from bot.flows.reports import field_key
from bot.forms.conversations import Conversations, Refusal, move_draft
from bot.forms.engine import Choice, DraftState, FormContext
from bot.forms.render import FormView
from bot.forms.spec import Field, FieldType, Form
from bot.rules import counting
from bot.rules.access import RULES, Action, Relation, Request
from bot.rules.periods import year_of
from bot.runtime.config import Settings
from bot.ui import formatting
from bot.ui.buttons import Between, ButtonData, Id, Page, codes
from bot.ui.catalogue import Markup, Texts
from bot.ui.paging import page_of, turns
from bot.ui.screens import Button, Reply, Screen, rows
from storage import audit, drafts, units
from storage import models as store
from storage.db import Tx
from storage.entities import Draft, NewModel
from storage.models import ModelInfo, ModelMark, ModelStatus, ModelYear, status_in

log = logging.getLogger(__name__)

PAGE_SIZE = 8
BUTTON_CHARS = 40
STALE = "model.unknown"

# Mass organisations that carry models out: stored by key, named by the catalogue. Values
# stored as names (demo data, older rows) are shown as they are.
MASS_ORGS = {
    "front": "model.mass_org.front",
    "youth": "model.mass_org.youth",
    "women": "model.mass_org.women",
    "veterans": "model.mass_org.veterans",
    "farmers": "model.mass_org.farmers",
    "union": "model.mass_org.union",
}
STATUS_CODES = {"r": ModelStatus.REGISTERED, "p": ModelStatus.IN_PROGRESS,
                "c": ModelStatus.COMPLETED, "s": ModelStatus.STOPPED}
STATUS_TEXTS = {
    ModelStatus.REGISTERED: "model.status.registered",
    ModelStatus.IN_PROGRESS: "model.status.in_progress",
    ModelStatus.COMPLETED: "model.status.completed",
    ModelStatus.STOPPED: "model.status.stopped",
}
MARK_CODES: dict[str, ModelMark | None] = {"e": ModelMark.EXEMPLARY, "s": ModelMark.TO_SPREAD,
                                           "0": None}
MARK_TEXTS = {ModelMark.EXEMPLARY: "model.mark.exemplary",
              ModelMark.TO_SPREAD: "model.mark.to_spread"}

# Start years on offer: from this one to next year. A choice rather than a typed number, so
# that this year is one tap away and a typo such as 20266 is caught at once.
FIRST_YEAR = 2000

MODEL_FORM = Form("model", (
    Field("name", FieldType.TEXT, min=5, max=200),
    Field("field", FieldType.CHOICE, source="fields"),
    # Asked only of a leader who can register models in more than one unit.
    Field("owner_unit_id", FieldType.CHOICE, source="units"),
    Field("mass_org", FieldType.CHOICE, required=False, source="mass_orgs"),
    Field("description", FieldType.LONG_TEXT, required=False, min=10, max=2000),
    Field("start_year", FieldType.CHOICE, source="years"),
))


Year = Annotated[int, Between(FIRST_YEAR, 2100)]


class ModelsPage(ButtonData, prefix="md:page", action=Action.MODEL_LIST):
    page: Page


class AddModel(ButtonData, prefix="md:add", action=Action.MODEL_ADD):
    """➕ Đăng ký mô hình: the model form."""


class OpenModel(ButtonData, prefix="md:open", action=Action.MODEL_LIST):
    model: Id


class ModelInYear(ButtonData, prefix="md:year", action=Action.MODEL_LIST):
    model: Id
    year: Year


class SetStatus(ButtonData, prefix="md:st", action=Action.MODEL_STATUS):
    model: Id
    year: Year
    status: Annotated[str, codes(*STATUS_CODES)]


class SetMark(ButtonData, prefix="md:mk", action=Action.MODEL_MARK):
    model: Id
    year: Year
    mark: Annotated[str, codes(*MARK_CODES)]  # "0": none


OnModel = OpenModel | ModelInYear | SetStatus | SetMark
Press = ModelsPage | AddModel | OnModel
BUTTONS = (ModelsPage, AddModel, OpenModel, ModelInYear, SetStatus, SetMark)


def mass_org_label(value: str | None, t: Texts) -> str | None:
    if not value:
        return None
    key = MASS_ORGS.get(value)
    return t.plain(key) if key else value


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


async def visible_unit_ids(req: Request) -> list[int]:
    """The units whose models the requester may see (Action.MODEL_LIST): where they hold a
    role and below it, as the rule allows, then the units above where it allows that too."""
    found = [u.id for u in await req.reach(Action.MODEL_LIST)]
    rule = RULES[Action.MODEL_LIST]
    for membership in req.actor.memberships:
        if Relation.PARENT in rule.reach(membership.role):
            above = await units.ancestors(req.tx, membership.unit_id)
            found += [u.id for u in above if u.id not in found]
    return found


def year_choices(this_year: int, t: Texts) -> tuple[Choice, ...]:
    """Next year first, back to FIRST_YEAR; "Năm 2024", so that "2024" and "năm 2024" typed
    both find it."""
    return tuple(Choice(str(y), y, t.plain("model.year", year=y))
                 for y in range(this_year + 1, FIRST_YEAR - 1, -1))


class ModelKind:
    """The model form: who may fill it in, what it offers, and registering the model."""

    form: Form = MODEL_FORM

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def context(self, req: Request, state: DraftState) -> FormContext:
        reach = await req.reach(Action.MODEL_ADD)
        if not reach:
            raise Refusal("model.add_not_allowed")
        t = req.t
        fields = self.settings.report.fields
        return FormContext(
            today=req.today,
            choices={
                "fields": tuple(Choice(field_key(name), name, name) for name in fields),
                # One unit only: nothing to ask, the model is that unit's.
                "units": tuple(Choice(str(u.id), u.id, u.name) for u in reach)
                if len(reach) > 1 else (),
                "mass_orgs": tuple(Choice(key, key, t.plain(label))
                                   for key, label in MASS_ORGS.items()),
                "years": year_choices(req.today.year, t),
            },
        )

    async def submit(self, req: Request, draft: Draft, state: DraftState) -> Reply:
        t, tx = req.t, req.tx
        reach = await req.reach(Action.MODEL_ADD)
        answers = state.answers
        owner_id = answers.get("owner_unit_id") or (reach[0].id if len(reach) == 1 else 0)
        owner = next((u for u in reach if u.id == owner_id), None)
        if owner is None:
            await drafts.delete_draft(tx, draft.id)
            refusal = await req.check(Action.MODEL_ADD, int(owner_id))
            return refusal or Reply((Screen(t("model.add_not_allowed")),))
        ctx = await self.context(req, state)
        for name in ("field", "mass_org", "start_year"):
            value = answers.get(name)
            spec = self.form.field(name)
            if value is not None and value not in {c.value for c in ctx.choices_for(spec)}:
                return await self._back_to(req, draft, state, ctx, name, t("model.choice_gone"))
        if any(_same_name(answers["name"], n) for n in await store.names_in_unit(tx, owner.id)):
            return await self._back_to(req, draft, state, ctx, "name",
                                       t("model.duplicate_name", unit=owner.name))
        year = int(answers["start_year"])
        status = ModelStatus.REGISTERED if year >= req.today.year else ModelStatus.IN_PROGRESS
        await drafts.delete_draft(tx, draft.id)
        model = await store.add_model(tx, NewModel(
            name=answers["name"], field=answers["field"], owner_unit_id=owner.id,
            start_year=year, mass_org=answers.get("mass_org"),
            description=answers.get("description")), req.now, status)
        await audit.record(tx, req.now, req.actor.label, "model_add", f"model:{model.id}",
                           f"unit:{owner.id} {model.name}")
        buttons = ((Button(t.plain("model.open_new"), OpenModel(model.id).pack()),
                    Button(t.plain("model.to_list"), ModelsPage(0).pack())),)
        return Reply((Screen(t("model.registered", name=model.name, unit=owner.name,
                               year=year), buttons),))

    async def _back_to(self, req: Request, draft: Draft, state: DraftState, ctx: FormContext,
                       step: str, note: Markup) -> Reply:
        """Not registered: the draft goes back to the step to correct, answers kept."""
        moved = await move_draft(req, draft, state, step=step, from_summary=True)
        screen = FormView(self.form, moved, ctx, req.t, draft.id).current()
        return Reply((Screen(f"{note}\n\n{screen.text}", screen.buttons),))


class Models:
    def __init__(self, settings: Settings, conversations: Conversations) -> None:
        self.settings = settings
        self.conversations = conversations

    # --- reading --------------------------------------------------------------------------

    async def _figures(self, tx: Tx, models: list[ModelInfo],
                       year: int) -> tuple[dict[int, list[ModelYear]], dict[int, int],
                                           dict[int, int]]:
        ids = [m.id for m in models]
        within = counting.within(self.settings, year_of(year), counting.Basis.DONE)
        return (await store.years_of(tx, ids), await store.report_counts(tx, ids, within),
                await store.report_counts(tx, ids))

    @staticmethod
    def _standing(t: Texts, model: ModelInfo, standing: ModelYear | None, year: int) -> Markup:
        if standing is None:
            return t("model.not_started", year=year, start=model.start_year)
        status = t.plain(STATUS_TEXTS[standing.status])
        if standing.mark is not None:
            return t("model.standing_marked", year=year, status=status,
                     mark=t.plain(MARK_TEXTS[standing.mark]))
        return t("model.standing", year=year, status=status)

    async def open(self, req: Request, page: int = 0) -> Reply:
        t = req.t
        if not req.actor.known:
            return Reply((Screen(t("access.not_member")),))
        everything = await store.models_of_units(req.tx, await visible_unit_ids(req))
        can_add = bool(await req.reach(Action.MODEL_ADD))
        note = await self.conversations.kept_note(req)
        paged = page_of(everything, page, PAGE_SIZE)
        shown = paged.items
        year = req.today.year
        years, counts, totals = await self._figures(req.tx, list(shown), year)
        add = (Button(t.plain("model.add"), AddModel().pack()),)
        kept = [note] if note is not None else []
        if not everything:
            body = "\n".join([t("model.empty_leader" if can_add else "model.empty"), *kept])
            return Reply((Screen(body, (add,) if can_add else ()),), replace=True)
        first = paged.first + 1
        lines = [t("model.title", first=first, last=first + len(shown) - 1,
                   total=len(everything))]
        keyboard: list[tuple[Button, ...]] = []
        for number, model in enumerate(shown, start=first):
            standing = status_in(years[model.id], year)
            lines.append(t("model.line", number=number, name=model.name, unit=model.owner_name,
                           field=model.field,
                           standing=self._standing(t, model, standing, year),
                           reports=t("model.reports", count=counts[model.id], year=year,
                                     total=totals[model.id])))
            keyboard.append((Button(formatting.preview(f"{number}. {model.name}", BUTTON_CHARS),
                                    OpenModel(model.id).pack()),))
        keyboard += turns(t, paged, lambda number: ModelsPage(number).pack(),
                          ("model.previous", "model.next"))
        if can_add:
            keyboard.append(add)
        lines += kept
        return Reply((Screen("\n".join(lines), tuple(keyboard)),), replace=True)

    @staticmethod
    def _action_years(req: Request, model: ModelInfo) -> list[int]:
        """The years whose status and mark can be set: this one and the last, once begun."""
        this_year = req.today.year
        return [y for y in (this_year, this_year - 1) if y >= model.start_year]

    async def _card(self, req: Request, model: ModelInfo, year: int) -> Screen:
        t = req.t
        this_year = req.today.year
        years, counts, totals = await self._figures(req.tx, [model], year)
        history = years[model.id]
        lines = [t("model.card_title", name=model.name),
                 t("model.card_unit", unit=model.owner_name),
                 t("model.card_field", field=model.field)]
        org = mass_org_label(model.mass_org, t)
        if org:
            lines.append(t("model.card_mass_org", org=org))
        lines.append(t("model.card_start", year=model.start_year))
        if model.description:
            lines.append(t("model.card_description", description=model.description))
        action_years = self._action_years(req, model)
        for shown_year in sorted({*action_years, this_year, year}, reverse=True):
            lines.append(self._standing(t, model, status_in(history, shown_year), shown_year))
        lines.append(t("model.card_reports", count=counts[model.id], year=year,
                       total=totals[model.id]))
        keyboard: list[tuple[Button, ...]] = []
        may_set = await req.may(Action.MODEL_STATUS, model.owner_unit_id)
        may_mark = await req.may(Action.MODEL_MARK, model.owner_unit_id)
        if year in action_years and (may_set or may_mark):
            lines.append(t("model.card_actions", year=year))
            standing = status_in(history, year)
            if may_set:
                marks = [Button(("• " if standing and standing.status is status else "")
                                + t.plain(STATUS_TEXTS[status]),
                                SetStatus(model.id, year, code).pack())
                         for code, status in STATUS_CODES.items()]
                keyboard += rows(marks, 2)
            if may_mark and standing is not None:
                current = standing.mark
                keyboard.append(tuple(
                    Button(("✓ " if current is mark else "") + t.plain(label),
                           SetMark(model.id, year, "0" if current is mark else code).pack())
                    for code, mark, label in (("e", ModelMark.EXEMPLARY, "model.mark_exemplary"),
                                              ("s", ModelMark.TO_SPREAD, "model.mark_to_spread"))
                ))
            other = [y for y in action_years if y != year]
            if other:
                keyboard.append((Button(t.plain("model.other_year", year=other[0]),
                                        ModelInYear(model.id, other[0]).pack()),))
        keyboard.append((Button(t.plain("model.to_list"), ModelsPage(0).pack()),))
        return Screen("\n".join(lines), tuple(keyboard))

    # --- presses ----------------------------------------------------------------------------

    async def press(self, req: Request, press: Press) -> Reply:
        if isinstance(press, ModelsPage):
            return await self.open(req, press.page)
        if isinstance(press, AddModel):
            return await self._start_form(req)
        t = req.t
        model = await store.get_model(req.tx, press.model)
        if model is None:
            return Reply(toast=t.plain(STALE))
        # The press's own action first, so that a refusal is logged under it; seeing the
        # card it answers with needs MODEL_LIST as well.
        for needed in dict.fromkeys((press.action, Action.MODEL_LIST)):
            refusal = await req.check(needed, model.owner_unit_id, pressed=True)
            if refusal is not None:
                return refusal
        if isinstance(press, OpenModel):
            return Reply((await self._card(req, model, req.today.year),), replace=True)
        if press.year not in self._action_years(req, model):
            return Reply(toast=t.plain("model.year_closed"))
        if isinstance(press, ModelInYear):
            return Reply((await self._card(req, model, press.year),), replace=True)
        if isinstance(press, SetStatus):
            return await self._set_status(req, model, press.year, STATUS_CODES[press.status])
        return await self._set_mark(req, model, press.year, MARK_CODES[press.mark])

    async def _set_status(self, req: Request, model: ModelInfo, year: int,
                          status: ModelStatus) -> Reply:
        """Already authorised (Action.MODEL_STATUS on the model's owner unit)."""
        t = req.t
        history = (await store.years_of(req.tx, [model.id]))[model.id]
        own = next((y for y in history if y.year == year), None)
        if own is None or own.status is not status:
            await store.set_status(req.tx, model.id, year, status)
            await audit.record(req.tx, req.now, req.actor.label, "model_status",
                               f"model:{model.id}", f"{year} {status.value}")
        toast = t.plain("model.status_set", year=year, status=t.plain(STATUS_TEXTS[status]))
        return Reply((await self._card(req, model, year),), toast=toast, replace=True)

    async def _set_mark(self, req: Request, model: ModelInfo, year: int,
                        mark: ModelMark | None) -> Reply:
        """Already authorised (Action.MODEL_MARK on the model's owner unit)."""
        t = req.t
        history = (await store.years_of(req.tx, [model.id]))[model.id]
        standing = status_in(history, year)
        if standing is None:
            return Reply(toast=t.plain("model.year_closed"))
        if standing.mark is not mark:
            await store.set_mark(req.tx, model.id, year, standing.status, mark)
            await audit.record(req.tx, req.now, req.actor.label, "model_mark",
                               f"model:{model.id}", f"{year} {mark.value if mark else 'none'}")
        toast = (t.plain("model.marked", year=year, mark=t.plain(MARK_TEXTS[mark])) if mark
                 else t.plain("model.unmarked", year=year))
        return Reply((await self._card(req, model, year),), toast=toast, replace=True)

    # --- registering ------------------------------------------------------------------------

    async def _start_form(self, req: Request) -> Reply:
        if not await req.reach(Action.MODEL_ADD):
            somewhere = req.actor.memberships[0].unit_id if req.actor.memberships else 0
            refusal = await req.check(Action.MODEL_ADD, somewhere, pressed=True)
            return refusal or Reply(toast=req.t.plain("model.add_not_allowed"))
        return await self.conversations.begin(req, "model")
