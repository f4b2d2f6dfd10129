"""Runs any `Form`: applies one input to a draft's state and says what happened.

Pure: no clock, no database, no messenger. The caller supplies a `FormContext` (today, the
choices on offer) and persists the returned state.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from pydantic import Field as ModelField

from bot.forms.spec import Field, FieldType, Form
from bot.parsing.dates import DateProblem, parse_date
from bot.parsing.money import parse_money
from bot.parsing.numbers import parse_whole_number, plain_number
from bot.parsing.text import fold, normalize, normalize_multiline

SUMMARY = "summary"
MAX_MONEY = 1_000_000_000_000
SMALLEST_PLAUSIBLE_MONEY = 1_000
# Telegram allows about 100 buttons a message; a large cell's members come a page at a time.
CHOICES_PER_PAGE = 16
# Typed at an optional step, these mean "Bỏ qua" (folded: "không" and "khong" are one word).
SKIP_WORDS = frozenset({"bo qua", "boqua", "khong", "ko", "k", "khong co", "ko co", "-", "skip",
                        "no", "none"})
# Said to a yes-or-no question, these are its answer "no", not a skip.
NO_WORDS = frozenset({"khong", "ko", "k", "no"})


class DraftState(BaseModel):
    """Everything about a form in progress; stored as JSON in the draft."""

    step: str
    answers: dict[str, Any] = ModelField(default_factory=dict)
    pending: Any = None
    from_summary: bool = False
    retyping: bool = False
    page: int = 0
    target: int | None = None
    extra: dict[str, Any] = ModelField(default_factory=dict)
    # Photos taken but not acknowledged yet: the acknowledgement waits for the rest of the album
    # in memory, and a restart in between must not lose it (see Conversations.album_received).
    photos_unacknowledged: bool = False
    # Walking the detail steps (➕ Thêm chi tiết) rather than only the ones a report needs.
    details: bool = False
    # The summary shows the fields to pick one to correct (✏ Sửa) instead of the answers' buttons.
    picking: bool = False
    # Filled from something the person did not write (a forwarded message): the summary first
    # asks whether it is theirs to send.
    confirm_first: bool = False
    # Filled from the person's own message(s) rather than asked step by step (a report in one
    # message): shown as a card once the messages stop coming, and owed until then
    # (`photos_unacknowledged`), like an album's acknowledgement.
    from_message: bool = False
    # The person's message it was read from (an edit of it is read again).
    source_message: int | None = None


@dataclass(frozen=True)
class Choice:
    key: str  # short token carried in button data
    value: Any  # what is stored
    label: str  # what a typed answer is matched with
    # Shown beside the label, never matched: a choice from further afield (a member of another
    # unit, and theirs); a typed answer means one without a note first.
    note: str = ""


@dataclass(frozen=True)
class FormContext:
    today: dt.date
    choices: Mapping[str, tuple[Choice, ...]] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    allow_location: bool = True
    max_age_days: int = 365

    def choices_for(self, spec: Field) -> tuple[Choice, ...]:
        if spec.type is FieldType.YES_NO:
            return (Choice("1", True, "yes"), Choice("0", False, "no"))
        return tuple(self.choices.get(spec.source or "", ()))


@dataclass(frozen=True)
class TextInput:
    text: str


@dataclass(frozen=True)
class LocationInput:
    """A map pin; `name` when it is a named place (a venue) picked in the messenger."""

    latitude: float
    longitude: float
    name: str | None = None


@dataclass(frozen=True)
class PhotoInput:
    file_id: str
    file_unique_id: str


@dataclass(frozen=True)
class ButtonInput:
    step: str
    verb: str
    arg: str = ""


@dataclass(frozen=True)
class OtherInput:
    """A sticker, voice note, contact or anything else a form cannot take."""

    kind: str


Input = TextInput | LocationInput | PhotoInput | ButtonInput | OtherInput


class Event(StrEnum):
    MOVED = "moved"  # the step changed: show the new one
    STAYED = "stayed"  # same step, new look (a toggle, a date to confirm)
    PHOTO_ADDED = "photo_added"
    REJECTED = "rejected"  # see `problem`
    SUBMIT = "submit"
    CANCEL = "cancel"


@dataclass(frozen=True)
class Problem:
    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    state: DraftState
    event: Event
    problem: Problem | None = None


class Rejected(Exception):
    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.problem = Problem(key, params)


def collects(spec: Field) -> bool:
    """Answered a piece at a time (photos, ticked names) and finished with "Xong"."""
    return spec.type.multi_choice or spec.type is FieldType.PHOTOS


def applicable(form: Form, ctx: FormContext) -> list[Field]:
    """The fields this person will be asked, e.g. no model step when there is no model."""
    return [
        f for f in form.fields
        if not (f.source and not ctx.choices_for(f))
    ]


def asked(form: Form, state: DraftState, ctx: FormContext) -> list[Field]:
    """The fields this person is walked through: the details only once they asked for them."""
    return [f for f in applicable(form, ctx) if state.details or not f.detail]


def start(form: Form, ctx: FormContext, **extra: Any) -> DraftState:
    return DraftState(step=applicable(form, ctx)[0].name, extra=extra)


def start_at_summary(answers: dict[str, Any], target: int) -> DraftState:
    """A correction of an existing record: everything pre-filled, the summary first."""
    return DraftState(step=SUMMARY, answers=answers, target=target)


def answered(state: DraftState, name: str) -> bool:
    return state.answers.get(name) not in (None, [], "")


def missing_required(form: Form, state: DraftState, ctx: FormContext) -> Field | None:
    for spec in applicable(form, ctx):
        if spec.required and not answered(state, spec.name):
            return spec
    return None


def apply(form: Form, state: DraftState, ctx: FormContext, given: Input) -> Outcome:
    try:
        if isinstance(given, ButtonInput):
            return _press(form, state, ctx, given)
        photos = _photos_field(form, state, ctx)
        if isinstance(given, PhotoInput) and photos is not None:
            return _add_photo(photos, state, given)
        if state.step == SUMMARY:
            raise Rejected("form.problem.use_buttons")
        spec = form.field(state.step)
        if isinstance(given, PhotoInput | OtherInput):
            raise Rejected("form.problem.unexpected")
        return _answer_typed(form, spec, state, ctx, given)
    except Rejected as rejected:
        return Outcome(state, Event.REJECTED, rejected.problem)


def _press(form: Form, state: DraftState, ctx: FormContext, press: ButtonInput) -> Outcome:
    if press.step != state.step:
        raise Rejected("form.problem.old_button")
    if press.verb == "cancel":
        return Outcome(state, Event.CANCEL)
    if state.step == SUMMARY:
        return _press_on_summary(form, state, ctx, press)
    spec = form.field(state.step)
    if press.verb == "back":
        if state.pending is not None or state.retyping:
            return Outcome(state.model_copy(update={"pending": None, "retyping": False}),
                           Event.STAYED)
        return _go_back(form, state, ctx)
    if press.verb == "skip":
        return _skip(form, spec, state, ctx)
    if press.verb == "ok":
        return _confirm(form, spec, state, ctx)
    if press.verb == "retype" and spec.has_default:
        return Outcome(state.model_copy(update={"retyping": True}), Event.STAYED)
    if press.verb == "page":
        return _turn_page(spec, state, ctx, press.arg)
    if press.verb == "pick":
        return _pick(form, spec, state, ctx, press.arg)
    if press.verb == "tog" and spec.type.multi_choice:
        return _toggle(spec, state, ctx, press.arg)
    if press.verb == "clear" and collects(spec):
        answers = {k: v for k, v in state.answers.items() if k != spec.name}
        return Outcome(state.model_copy(update={"answers": answers}), Event.STAYED)
    if press.verb == "done" and collects(spec):
        if spec.required and not state.answers.get(spec.name):
            raise Rejected("form.problem.required")
        return _advance(form, state, ctx)
    raise Rejected("form.problem.old_button")


def _skip(form: Form, spec: Field, state: DraftState, ctx: FormContext) -> Outcome:
    if spec.required:
        raise Rejected("form.problem.required")
    if collects(spec) and state.answers.get(spec.name):
        # On a small screen "Bỏ qua" reads as "next": what was collected is kept.
        return _advance(form, state, ctx)
    answers = {k: v for k, v in state.answers.items() if k != spec.name}
    return _advance(form, state.model_copy(update={"answers": answers}), ctx)


def _press_on_summary(
    form: Form, state: DraftState, ctx: FormContext, press: ButtonInput
) -> Outcome:
    if state.confirm_first:
        if press.verb != "ok":
            raise Rejected("form.problem.old_button")
        return Outcome(state.model_copy(update={"confirm_first": False}), Event.STAYED)
    if press.verb == "send":
        missing = missing_required(form, state, ctx)
        if missing is not None:
            moved = state.model_copy(update={"step": missing.name, "from_summary": True})
            return Outcome(moved, Event.MOVED, Problem("form.problem.required"))
        return Outcome(state, Event.SUBMIT)
    if press.verb == "edit" and not press.arg:
        return Outcome(state.model_copy(update={"picking": True}), Event.STAYED)
    if press.verb == "edit":
        names = {f.name for f in applicable(form, ctx)}
        if press.arg not in names:
            raise Rejected("form.problem.old_button")
        return Outcome(state.model_copy(update={"step": press.arg, "from_summary": True,
                                                "page": 0, "picking": False}), Event.MOVED)
    if press.verb == "more":
        return _add_details(form, state, ctx)
    if press.verb == "back" and state.picking:
        return Outcome(state.model_copy(update={"picking": False}), Event.STAYED)
    raise Rejected("form.problem.old_button")


def unanswered_details(form: Form, state: DraftState, ctx: FormContext) -> list[Field]:
    return [f for f in applicable(form, ctx) if f.detail and not answered(state, f.name)]


def _add_details(form: Form, state: DraftState, ctx: FormContext) -> Outcome:
    """➕ Thêm chi tiết: the details not given yet, one after another, then the summary."""
    left = unanswered_details(form, state, ctx)
    if not left:
        return Outcome(state.model_copy(update={"picking": True}), Event.STAYED)
    update = {"step": left[0].name, "details": True, "from_summary": False, "picking": False,
              "page": 0}
    return Outcome(state.model_copy(update=update), Event.MOVED)


def _go_back(form: Form, state: DraftState, ctx: FormContext) -> Outcome:
    details = state.details and form.field(state.step).detail
    if state.from_summary:
        target: str | None = SUMMARY
    elif details:
        # The details were asked for from the summary: back from the first goes back there.
        earlier = [f.name for f in applicable(form, ctx) if f.detail]
        place = earlier.index(state.step) if state.step in earlier else 0
        target = earlier[place - 1] if place > 0 else SUMMARY
    else:
        target = _previous_step(form, ctx, state.step)
        if target is None:
            raise Rejected("form.problem.first_step")
    update = {"step": target, "from_summary": False, "pending": None, "retyping": False,
              "page": 0, "details": details and target != SUMMARY}
    return Outcome(state.model_copy(update=update), Event.MOVED)


def _advance(form: Form, state: DraftState, ctx: FormContext) -> Outcome:
    reset = {"pending": None, "retyping": False, "from_summary": False, "page": 0}
    if state.from_summary:
        # A summary filled from one message may still lack an answer: ask it before showing.
        missing = missing_required(form, state, ctx)
        if missing is not None and missing.name != state.step:
            update = {**reset, "step": missing.name, "from_summary": True}
            return Outcome(state.model_copy(update=update), Event.MOVED)
    target = None if state.from_summary else _next_step(form, state, ctx)
    if target is not None:
        return Outcome(state.model_copy(update={**reset, "step": target}), Event.MOVED)
    if not form.summary:
        return Outcome(state.model_copy(update=reset), Event.SUBMIT)
    return Outcome(state.model_copy(update={**reset, "step": SUMMARY}), Event.MOVED)


def _next_step(form: Form, state: DraftState, ctx: FormContext) -> str | None:
    """The next field asked after the current step, by the form's order, even when that step
    itself is no longer asked (the only other member left the cell mid-form). Details come
    only once asked for, and then only those not given yet (a one-message report may have
    given some)."""
    asked = {f.name for f in applicable(form, ctx)}
    if state.details:
        asked -= {f.name for f in applicable(form, ctx)
                  if f.detail and f.name != state.step and answered(state, f.name)}
    else:
        asked -= {f.name for f in form.fields if f.detail}
    names = [f.name for f in form.fields]
    after = names[names.index(state.step) + 1:] if state.step in names else []
    return next((name for name in after if name in asked), None)


def _previous_step(form: Form, ctx: FormContext, step: str) -> str | None:
    asked = {f.name for f in applicable(form, ctx)}
    names = [f.name for f in form.fields]
    before = names[:names.index(step)] if step in names else []
    return next((name for name in reversed(before) if name in asked), None)


def repair(form: Form, state: DraftState, ctx: FormContext) -> DraftState:
    """A draft saved by an older version of a form may stand on a step that no longer exists:
    it goes on from the first unanswered required step, or the summary."""
    if state.step == SUMMARY or state.step in {f.name for f in form.fields}:
        return state
    missing = missing_required(form, state, ctx)
    if missing is not None:
        step = missing.name
    else:
        step = SUMMARY if form.summary else applicable(form, ctx)[-1].name
    return state.model_copy(update={"step": step, "pending": None, "page": 0})


def _store(form: Form, state: DraftState, ctx: FormContext, name: str, value: Any) -> Outcome:
    answers = {**state.answers, name: value}
    return _advance(form, state.model_copy(update={"answers": answers}), ctx)


def _confirm(form: Form, spec: Field, state: DraftState, ctx: FormContext) -> Outcome:
    if state.pending is not None:
        return _store(form, state, ctx, spec.name, state.pending)
    default = usable_default(spec, ctx)
    if default is not None:
        return _store(form, state, ctx, spec.name, default)
    raise Rejected("form.problem.old_button")


def usable_default(spec: Field, ctx: FormContext) -> str | None:
    """The value to offer with "✅ Đúng", if it would be accepted (a Telegram name can be
    "🌸", which is nobody's full name)."""
    default = ctx.defaults.get(spec.name)
    if not spec.has_default or not default:
        return None
    try:
        return _check_text(spec, str(default))
    except Rejected:
        return None


def _pick(form: Form, spec: Field, state: DraftState, ctx: FormContext, key: str) -> Outcome:
    if spec.type is FieldType.DATE:
        try:
            picked = dt.datetime.strptime(key, "%Y%m%d").date()
        except ValueError:
            raise Rejected("form.problem.old_button") from None
        return _store(form, state, ctx, spec.name, _check_date(picked, ctx).isoformat())
    if not spec.type.single_choice:
        raise Rejected("form.problem.old_button")
    choice = _choice_by_key(spec, ctx, key)
    return _store(form, state, ctx, spec.name, choice.value)


def page_count(spec: Field, ctx: FormContext) -> int:
    return max(1, -(-len(ctx.choices_for(spec)) // CHOICES_PER_PAGE))


def _turn_page(spec: Field, state: DraftState, ctx: FormContext, arg: str) -> Outcome:
    page = plain_number(arg)
    if page is None or page >= page_count(spec, ctx):
        raise Rejected("form.problem.old_button")
    return Outcome(state.model_copy(update={"page": page}), Event.STAYED)


def _choice_by_key(spec: Field, ctx: FormContext, key: str) -> Choice:
    for choice in ctx.choices_for(spec):
        if choice.key == key:
            return choice
    # Button data comes from the client: a key we did not offer is refused, not trusted.
    raise Rejected("form.problem.old_button")


def _toggle(spec: Field, state: DraftState, ctx: FormContext, key: str) -> Outcome:
    choice = _choice_by_key(spec, ctx, key)
    chosen = list(state.answers.get(spec.name) or [])
    if choice.value in chosen:
        chosen.remove(choice.value)
    else:
        chosen.append(choice.value)
    answers = {**state.answers, spec.name: chosen}
    return Outcome(state.model_copy(update={"answers": answers}), Event.STAYED)


def _photos_field(form: Form, state: DraftState, ctx: FormContext) -> Field | None:
    """Where a photo sent now goes: the photos step, or, when the photos are a detail, the
    summary or any other detail step (a member sends them when they think of it)."""
    current = None if state.step == SUMMARY else form.field(state.step)
    if current is not None and current.type is FieldType.PHOTOS:
        return current
    if current is not None and not current.detail:
        return None
    return next((f for f in applicable(form, ctx)
                 if f.type is FieldType.PHOTOS and f.detail), None)


def _add_photo(spec: Field, state: DraftState, photo: PhotoInput) -> Outcome:
    photos = list(state.answers.get(spec.name) or [])
    if not any(p["file_unique_id"] == photo.file_unique_id for p in photos):
        limit = spec.max or 10
        if len(photos) >= limit:
            raise Rejected("form.problem.too_many_photos", max=limit)
        photos.append({"file_id": photo.file_id, "file_unique_id": photo.file_unique_id})
    # A photo sent again is acknowledged again: its sender did not see the first answer.
    answers = {**state.answers, spec.name: photos}
    return Outcome(state.model_copy(update={"answers": answers, "photos_unacknowledged": True}),
                   Event.PHOTO_ADDED)


def _answer_typed(
    form: Form, spec: Field, state: DraftState, ctx: FormContext, given: TextInput | LocationInput
) -> Outcome:
    if isinstance(given, LocationInput):
        if spec.type is not FieldType.PLACE:
            raise Rejected("form.problem.unexpected")
        named = {"text": _check_text(spec, given.name)} if given.name else {}
        if not ctx.allow_location:
            if not named:
                raise Rejected("form.problem.no_locations")
            return _store(form, state, ctx, spec.name, named)
        value = {**named, "latitude": given.latitude, "longitude": given.longitude}
        return _store(form, state, ctx, spec.name, value)
    text = given.text
    if not fold(text):
        raise Rejected("form.problem.empty")
    # "không" answers a yes-or-no question; anywhere else optional it means nothing to add.
    said = skip_word(text)
    if not spec.required and said in SKIP_WORDS and not (
            spec.type is FieldType.YES_NO and said in NO_WORDS):
        return _skip(form, spec, state, ctx)
    if spec.type.multi_choice:
        return _toggle(spec, state, ctx, _match_choice(spec, ctx, text).key)
    if spec.type.single_choice:
        return _store(form, state, ctx, spec.name, _match_choice(spec, ctx, text).value)
    if spec.type is FieldType.PHOTOS:
        raise Rejected("form.problem.unexpected")
    if spec.type is FieldType.DATE:
        return _answer_date(form, spec, state, ctx, text)
    return _store(form, state, ctx, spec.name, _parse_typed(spec, text))


def skip_word(text: str) -> str:
    """A typed answer as a skip word would be written: "Không ạ." and "bỏ qua!" are "khong"
    and "bo qua"."""
    words = fold(text).strip(" .!?,;…").split()
    while len(words) > 1 and words[-1] in ("a", "nhe", "nha"):
        words.pop()
    return " ".join(words) or fold(text)


def _parse_typed(spec: Field, text: str) -> Any:
    if spec.type is FieldType.INTEGER:
        number = parse_whole_number(text)
        if number is None:
            raise Rejected("form.problem.not_number")
        return _check_bounds(spec, number)
    if spec.type is FieldType.MONEY:
        amount = parse_money(text)
        if amount is None:
            raise Rejected("form.problem.not_money")
        if 0 < amount < SMALLEST_PLAUSIBLE_MONEY:
            # "500" almost always means 500 nghìn: ask rather than record 500 đ.
            raise Rejected("form.problem.money_unclear", amount=amount)
        return _check_bounds(spec, amount, upper=MAX_MONEY)
    if spec.type is FieldType.PLACE:
        return {"text": _check_text(spec, text)}
    return _check_text(spec, text)


_BULLET = re.compile(r"^(?:\d{1,2}[.)](?!\d)|[-–—•*+·●◦▪])\s*")


def list_items(text: str) -> list[str]:
    """A list typed one item a line: blank lines and the writer's own numbering go."""
    lines = (_BULLET.sub("", raw.strip()).strip() for raw in text.splitlines())
    return [line for line in lines if line]


def _check_items(spec: Field, items: tuple[int, int], text: str) -> str:
    found = list_items(normalize_multiline(text))
    if not any(ch.isalnum() for ch in "".join(found)):
        raise Rejected("form.problem.no_letters")
    fewest, most = items
    if len(found) > most:
        raise Rejected("form.problem.too_many_items", count=len(found), max=most)
    if len(found) < fewest:
        raise Rejected("form.problem.too_few_items", count=len(found), min=fewest)
    for number, item in enumerate(found, start=1):
        if len(item) < (spec.min or 1) or not any(ch.isalnum() for ch in item):
            raise Rejected("form.problem.item_too_short", number=number, min=spec.min or 1)
    if spec.max is not None and len(text) > spec.max:
        raise Rejected("form.problem.too_long", max=spec.max, length=len(text))
    return "\n".join(found)


def _check_text(spec: Field, text: str) -> str:
    if spec.items is not None:
        return _check_items(spec, spec.items, text)
    clean = normalize_multiline(text) if spec.type is FieldType.LONG_TEXT else normalize(text)
    if not any(ch.isalnum() for ch in clean):
        raise Rejected("form.problem.no_letters")
    if spec.min is not None and len(clean) < spec.min:
        raise Rejected("form.problem.too_short", min=spec.min, length=len(clean))
    if spec.max is not None and len(clean) > spec.max:
        raise Rejected("form.problem.too_long", max=spec.max, length=len(clean))
    return clean


def _check_bounds(spec: Field, number: int, upper: int | None = None) -> int:
    low = spec.min if spec.min is not None else 0
    high = spec.max if spec.max is not None else upper
    if number < low or (high is not None and number > high):
        raise Rejected("form.problem.out_of_range", min=low, max=high)
    return number


def _check_date(day: dt.date, ctx: FormContext) -> dt.date:
    if day > ctx.today:
        raise Rejected("form.problem.date_future")
    if (ctx.today - day).days > ctx.max_age_days:
        raise Rejected("form.problem.date_too_old", days=ctx.max_age_days)
    return day


def _answer_date(
    form: Form, spec: Field, state: DraftState, ctx: FormContext, text: str
) -> Outcome:
    parsed = parse_date(text, ctx.today, ctx.max_age_days)
    if isinstance(parsed, DateProblem):
        raise Rejected(f"form.problem.date_{parsed.value}", days=ctx.max_age_days)
    if parsed.needs_confirmation:
        pending = state.model_copy(update={"pending": parsed.value.isoformat()})
        return Outcome(pending, Event.STAYED)
    return _store(form, state, ctx, spec.name, parsed.value.isoformat())


def _match_choice(spec: Field, ctx: FormContext, text: str) -> Choice:
    """A typed answer to a choice: exact label, else the one label that contains it."""
    wanted = fold(text)
    choices = ctx.choices_for(spec)
    if spec.type is FieldType.YES_NO:
        if wanted in {"co", "c", "yes", "y", "dong y"}:
            return choices[0]
        if wanted in {"khong", "k", "ko", "no", "n"}:
            return choices[1]
        raise Rejected("form.problem.pick_button")
    exact = [c for c in choices if fold(c.label) == wanted]
    partial = [c for c in choices if wanted in fold(c.label)]
    near = [c for c in partial if not c.note]
    if exact or len(partial) == 1:
        return (exact or partial)[0]
    if len(near) == 1:
        return near[0]
    raise Rejected("form.problem.pick_button")
