"""Fuzzing every reader of what people type or what comes back on a button.

Each property runs twice: a short, derandomised CI run (`CI` settings), and a `heavy` run
(`pytest -m heavy tests/test_fuzz_parsers.py tests/test_fuzz_updates.py`). Counts: 11
properties here, 40 examples each in CI (440) and `HEAVY_EXAMPLES` = 1,000 each in the heavy
run (11,000), plus test_fuzz_updates.py's 25 (CI) and 1,000 (heavy) sequences of updates:
12,000 heavy examples in all. Every property prints how many examples it ran (`pytest -s`).
A failure prints the falsifying example; with `derandomize=True` the same run finds it again.

Properties:
- no reader raises on any text (unicode, emoji, HTML/SQL-looking, huge, stray whitespace, digits
  with separators, Vietnamese with and without diacritics); they answer their documented
  "invalid" value (None, a DateProblem) instead;
- a report sent as one message is read with every value within its bounds or empty;
- values typed the way members type them read back to the same value (money, dates, whole
  numbers, times);
- the form engine, for every form and every field type, answers any input with either a
  rejection whose explanation exists in the catalogue (and renders, in both languages) or a
  new state whose answers are valid for the form (`draft_errors`, also used by
  test_fuzz_updates.py);
- button data readers take any string of at most 64 bytes.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.flows import schedules
from bot.forms import engine
from bot.forms.buttons import FormStep, to_input
from bot.forms.engine import (
    MAX_MONEY,
    SMALLEST_PLAUSIBLE_MONEY,
    SUMMARY,
    ButtonInput,
    Choice,
    DraftState,
    Event,
    FormContext,
    Input,
    LocationInput,
    OtherInput,
    PhotoInput,
    TextInput,
)
from bot.forms.render import FormView
from bot.forms.spec import Field, FieldType, Form
from bot.parsing.dates import DateProblem, ParsedDate, parse_date
from bot.parsing.money import MAX_AMOUNT, parse_money
from bot.parsing.numbers import parse_whole_number, plain_number
from bot.parsing.quick_reports import (
    MAX_HOUSEHOLDS,
    MAX_PEOPLE,
    MAX_VALUE_VND,
    MIN_VALUE_VND,
    PLACE_CHARS,
    looks_like_report,
    read_quick_report,
)
from bot.parsing.text import fold, normalize, normalize_multiline
from bot.runtime.config import Settings
from bot.runtime.core import form_kinds
from bot.ui import buttons as ui_buttons
from bot.ui.buttons import LARGEST_ID
from bot.ui.catalogue import Catalogue

CI_EXAMPLES = 40
HEAVY_EXAMPLES = 1000
CI = settings(max_examples=CI_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
HEAVY = settings(CI, max_examples=HEAVY_EXAMPLES)
PROFILES = [pytest.param(CI, id="ci"),
            pytest.param(HEAVY, id="heavy", marks=pytest.mark.heavy)]

CATALOGUE = Catalogue.load()
TEXTS = [CATALOGUE.texts("vi"), CATALOGUE.texts("en")]
TODAY = dt.date(2026, 11, 27)


def run(profile: settings, body: Callable[..., None], *strategies: Any) -> int:
    """Runs `body` as a hypothesis property under `profile`; returns the examples run."""
    count = 0

    def counted(args: tuple[Any, ...]) -> None:
        nonlocal count
        count += 1
        body(*args)

    given(st.tuples(*strategies))(profile(counted))()
    print(f"{body.__name__}: {count} examples")
    return count


# --- what people type -------------------------------------------------------------------------

VIETNAMESE = ("aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợ"
              "úùủũụứừửữựýỳỷỹỵ")
WORDS = ["hôm", "qua", "nay", "kia", "mai", "thứ", "bảy", "hai", "ba", "tư", "năm", "sáu", "chủ",
         "nhật", "cn", "t7", "ngày", "tr", "triệu", "trieu", "tỷ", "tỉ", "nghìn", "ngàn", "k",
         "rưỡi", "đồng", "đ", "vnđ", "vnd", "người", "hộ", "giờ", "phút", "h", "p", "có",
         "không", "ko", "ok", "/report", "/cancel", "❤️", "🇻🇳", "<b>", "</b>", "&amp;",
         "'; DROP TABLE reports;--", "\" OR 1=1 --", "%s", "{}", "{0}", "\u200b", "\u202e",
         "\ufeff", "\x00", "１２", "١٢", "²", "𝟗", "Ⅻ", "½"]
SEPARATED_DIGITS = st.from_regex(r"[-+]?[0-9]{1,4}([.,' \u00a0/:-]{1,2}[0-9]{1,4}){0,4}",
                                 fullmatch=True)


def _phrase(parts: list[str], gaps: list[str]) -> str:
    return "".join(p + g for p, g in zip(parts, gaps, strict=False))


def _variant(text: str, how: int) -> str:
    """The same words as another phone would send them: NFD, upper case, no diacritics."""
    return [text, unicodedata.normalize("NFD", text), text.upper(), fold(text), text.title()][how]


PHRASES = st.builds(
    _variant,
    st.builds(_phrase, st.lists(st.sampled_from(WORDS) | SEPARATED_DIGITS, max_size=6),
              st.lists(st.sampled_from(["", " ", "  ", "\t", "\n", ",", "."]), max_size=6)),
    st.integers(0, 4))
HUGE = st.builds(lambda piece, times: piece * times, st.text(min_size=1, max_size=8),
                 st.integers(1000, 20_000))
TYPED = st.one_of(
    st.text(),
    st.text(alphabet=VIETNAMESE + VIETNAMESE.upper() + "0123456789 .,/-:\n"),
    PHRASES,
    SEPARATED_DIGITS,
    HUGE,
    st.text(alphabet=st.characters(categories=["Zs", "Cc", "Cf", "Mn"])),
)


# --- the parsers ------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_money_never_raises_and_stays_in_range(profile: settings) -> None:
    def money_in_range(text: str) -> None:
        amount = parse_money(text)
        assert amount is None or (isinstance(amount, int) and 0 <= amount <= MAX_AMOUNT)
    run(profile, money_in_range, TYPED)


def _grouped(amount: int, separator: str) -> str:
    return f"{amount:,}".replace(",", separator)


CURRENCY = st.sampled_from(["", "đ", " đ", "d", " đồng", "dong", " vnđ", "VND", " Đ"])
# (amount, as typed): the spellings members use, each of which must read back exactly.
MONEY_AS_TYPED = st.one_of(
    st.integers(0, MAX_AMOUNT).flatmap(lambda n: st.tuples(st.just(n), st.sampled_from(
        [str(n), _grouped(n, "."), _grouped(n, ",")]))),
    st.integers(1, 999_999).map(lambda n: (n * 1000, f"{n}k")),
    st.integers(1, 999_999).map(lambda n: (n * 1000, f"{n} nghìn")),
    st.tuples(st.integers(1, 9999), st.integers(0, 999)).map(
        lambda p: (p[0] * 10**6 + p[1] * 1000, f"{p[0]}tr{p[1]:03d}")),
    st.tuples(st.integers(1, 9999), st.integers(1, 999)).map(
        lambda p: (p[0] * 10**6 + p[1] * 1000, f"{p[0]} triệu {p[1]} nghìn")),
    st.tuples(st.integers(1, 999), st.integers(1, 9)).map(
        lambda p: (p[0] * 10**6 + p[1] * 10**5, f"{p[0]},{p[1]} triệu")),
    st.integers(1, 999).map(lambda n: (n * 10**9 + 5 * 10**8, f"{n} tỷ rưỡi")),
)


@pytest.mark.parametrize("profile", PROFILES)
def test_money_typed_as_members_type_it_reads_back(profile: settings) -> None:
    def money_round_trip(typed: tuple[int, str], currency: str, how: int) -> None:
        amount, text = typed
        assert parse_money(_variant(text + currency, how)) == amount
    run(profile, money_round_trip, MONEY_AS_TYPED, CURRENCY, st.integers(0, 4))


DAYS = st.dates(dt.date(2001, 1, 1), dt.date(2098, 12, 31))
AGES = st.integers(0, 3000)


@pytest.mark.parametrize("profile", PROFILES)
def test_dates_never_raise_and_stay_within_the_window(profile: settings) -> None:
    def date_in_window(text: str, today: dt.date, max_age: int) -> None:
        parsed = parse_date(text, today, max_age)
        if isinstance(parsed, ParsedDate):
            assert 0 <= (today - parsed.value).days <= max_age
        else:
            assert isinstance(parsed, DateProblem)
    run(profile, date_in_window, TYPED, DAYS, AGES)


@pytest.mark.parametrize("profile", PROFILES)
def test_dates_typed_in_full_read_back(profile: settings) -> None:
    def date_round_trip(today: dt.date, back: int, pattern: str, how: int) -> None:
        day = today - dt.timedelta(days=back)
        text = _variant(day.strftime(pattern).replace("{d}", str(day.day))
                        .replace("{m}", str(day.month)), how)
        assert parse_date(text, today, 400) == ParsedDate(day, False), text
    patterns = st.sampled_from(["%d/%m/%Y", "{d}/{m}/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d / %m / %y",
                                "ngày %d/%m/%Y", "Ngày {d}-{m}-%y"])
    run(profile, date_round_trip, DAYS, st.integers(0, 400), patterns, st.integers(0, 4))


@pytest.mark.parametrize("profile", PROFILES)
def test_whole_numbers_never_raise_and_read_back(profile: settings) -> None:
    def number_round_trip(text: str, value: int, unit: str, grouped: bool) -> None:
        found = parse_whole_number(text)
        assert found is None or (isinstance(found, int) and found >= 0)
        typed = (_grouped(value, ".") if grouped else str(value)) + unit
        assert parse_whole_number(typed) == value, typed
    run(profile, number_round_trip, TYPED, st.integers(0, 10**12),
        st.sampled_from(["", " người", "người", " hộ", " ho", " HỘ GIA ĐÌNH"]), st.booleans())


@pytest.mark.parametrize("profile", PROFILES)
def test_times_never_raise_and_read_back(profile: settings) -> None:
    def time_round_trip(text: str, hour: int, minute: int, pattern: str) -> None:
        found = schedules.parse_time(text)
        assert found is None or isinstance(found, dt.time)
        typed = pattern.format(h=hour, m=minute)
        assert schedules.parse_time(typed) == dt.time(hour, minute), typed
    patterns = st.sampled_from(["{h}:{m:02d}", "{h:02d}:{m:02d}", "{h}h{m:02d}", "{h} giờ {m:02d}",
                                "{h}g{m:02d}p", "{h}.{m:02d}", "{h} GIO {m:02d} PHUT"])
    run(profile, time_round_trip, TYPED, st.integers(0, 23), st.integers(0, 59), patterns)


@pytest.mark.parametrize("profile", PROFILES)
def test_text_views_are_stable(profile: settings) -> None:
    def stable(text: str) -> None:
        stored, key, long = normalize(text), fold(text), normalize_multiline(text)
        assert normalize(stored) == stored
        assert normalize_multiline(long) == long
        assert fold(key) == key
        assert fold(stored) == key
        assert not any(unicodedata.combining(ch) for ch in unicodedata.normalize("NFD", key))
    run(profile, stable, TYPED)


REPORT_WORDS = ["hôm qua", "thứ 7", "25/11", "ngày 31", "yesterday", "last saturday", "2tr5",
                "500k", "1.500.000đ", "2m", "donated 2m", "giúp", "tặng quà", "cho", "5 hộ",
                "30 người", "tham gia", "ở", "tại", "o", "tai", "thôn", "Nà Lầm", "cùng", "đ/c",
                "với", "Hoa", "Bình", "và", ",", "Dân vận khéo", "mô hình", "vệ sinh", "tuần tra"]
REPORTS = st.one_of(TYPED, st.lists(st.sampled_from(REPORT_WORDS) | TYPED, max_size=12).map(
    lambda parts: " ".join(parts)))
QUICK_KEYWORDS = {"Môi trường": ["vệ sinh", "trồng cây"], "Quốc phòng – an ninh": ["tuần tra"],
                  "An sinh xã hội, giảm nghèo": ["hộ nghèo", "tặng quà"], "Khác": []}
QUICK_MODELS = [(10, "Dân vận khéo"), (11, "Mô hình Con đường tự quản"), (12, "")]
QUICK_MEMBERS = [(1, "Nguyễn Thị Hoa"), (2, "Lò Văn Bình"), (3, "Hoàng Thị Hoa"), (4, "")]


@pytest.mark.parametrize("profile", PROFILES)
def test_quick_reports_never_raise_and_stay_within_bounds(profile: settings) -> None:
    """Whatever a member sends as one message, every value read is within its bounds."""
    def within_bounds(text: str, today: dt.date, max_age: int, previous: str | None) -> None:
        looks_like_report(text, 10)
        reading = read_quick_report(text, today=today, max_age_days=max_age,
                                    keywords=QUICK_KEYWORDS, models=QUICK_MODELS,
                                    members=QUICK_MEMBERS, previous_field=previous)
        assert reading.description == normalize_multiline(text)
        if reading.deed_date is not None:
            assert 0 <= (today - reading.deed_date).days <= max(0, max_age)
            assert not reading.date_doubtful
        assert reading.value_vnd is None or MIN_VALUE_VND <= reading.value_vnd <= MAX_VALUE_VND
        assert reading.people_helped is None or 0 <= reading.people_helped <= MAX_PEOPLE
        assert reading.households_helped is None or (
            0 <= reading.households_helped <= MAX_HOUSEHOLDS)
        assert reading.place is None or (
            PLACE_CHARS[0] <= len(reading.place) <= PLACE_CHARS[1]
            and reading.place in reading.description)
        assert reading.model_id in {None, *(model for model, _ in QUICK_MODELS)}
        assert set(reading.participant_ids) <= {1, 2, 3, 4}
        assert len(set(reading.participant_ids)) == len(reading.participant_ids)
        assert reading.field is None or reading.field in QUICK_KEYWORDS
    run(profile, within_bounds, REPORTS, DAYS, st.integers(-5, 3000),
        st.none() | st.sampled_from(sorted(QUICK_KEYWORDS)))


# --- button data ------------------------------------------------------------------------------

PREFIXES = sorted({kind.prefix for kind in ui_buttons.declared()} | {
    kind.prefix.split(":")[0] for kind in ui_buttons.declared()})
PART = st.one_of(st.integers(-5, 2**70).map(str), st.text(max_size=6),
                 st.sampled_from(["", "s", "0", "00", "²", "١", str(LARGEST_ID),
                                  str(LARGEST_ID + 1), "1e3", " 1", "0x1"]))
CALLBACK_DATA = st.one_of(
    st.text(max_size=64),
    st.builds(lambda prefix, parts: ":".join([prefix, *parts]), st.sampled_from(PREFIXES),
              st.lists(PART, max_size=6)),
).filter(lambda data: len(data.encode("utf-8")) <= 64)


@pytest.mark.parametrize("profile", PROFILES)
def test_button_data_is_read_by_its_declaration_or_not_at_all(profile: settings) -> None:
    """Whatever comes back from a client: nothing raises, and whatever is read packs back to
    exactly the data it was read from, every number within its declared bounds."""
    forms = [kind.form for kind in form_kinds(Settings(), CATALOGUE).values()]

    def read_anything(data: str) -> None:
        plain_number(data)
        press = ui_buttons.read(data)
        if press is None:
            return
        assert press.pack() == data
        if isinstance(press, FormStep):
            assert 0 <= press.draft <= LARGEST_ID
            for form in forms:
                to_input(form, press)
    run(profile, read_anything, CALLBACK_DATA)


# --- the form engine: every form, every field type ----------------------------------------------

FORMS: dict[str, Form] = {name: kind.form
                          for name, kind in form_kinds(Settings(), CATALOGUE).items()}
LABELS = st.text(alphabet=VIETNAMESE + VIETNAMESE.upper() + " 0123456789", min_size=1,
                 max_size=20).filter(lambda label: fold(label).strip() != "")


def _choices(labels: list[str], numeric: bool) -> tuple[Choice, ...]:
    return tuple(Choice(str(i), i if numeric else label, label)
                 for i, label in enumerate(dict.fromkeys(labels)))


@st.composite
def contexts(draw: st.DrawFn, form: Form) -> FormContext:
    """The choices a person might be offered: sometimes none (the step is then skipped), a
    page or more of them, with labels that may contain each other."""
    sources = {f.source for f in form.fields if f.source}
    choices = {source: _choices(draw(st.lists(LABELS, max_size=20)), draw(st.booleans()))
               for source in sorted(sources)}
    if all(f.source and not choices.get(f.source) for f in form.fields):
        first = next(f.source for f in form.fields if f.source)
        choices[first] = _choices(["Kinh tế"], False)
    defaults = {f.name: draw(TYPED) for f in form.fields if f.has_default}
    return FormContext(today=TODAY, choices=choices, defaults=defaults,
                       allow_location=draw(st.booleans()), max_age_days=draw(st.integers(0, 400)))


VERBS = ["back", "skip", "ok", "retype", "page", "pick", "tog", "clear", "done", "send", "edit",
         "cancel", "", "x"]


def _inputs(form: Form, ctx: FormContext, step: str) -> st.SearchStrategy[Input]:
    keys = [c.key for f in form.fields for c in ctx.choices_for(f)]
    args = st.one_of(st.sampled_from([*keys, *(f.name for f in form.fields), "", "0", "99"]),
                     st.dates(TODAY - dt.timedelta(days=500), TODAY + dt.timedelta(days=30))
                     .map(lambda d: d.strftime("%Y%m%d")), st.text(max_size=10))
    steps = st.sampled_from([step, SUMMARY, *(f.name for f in form.fields)])
    coordinates = st.floats(-90, 90, allow_nan=False)
    return st.one_of(
        st.builds(TextInput, TYPED),
        st.builds(ButtonInput, steps, st.sampled_from(VERBS), args),
        st.builds(LocationInput, coordinates, coordinates, st.none() | TYPED),
        st.builds(PhotoInput, st.text(max_size=5), st.sampled_from(["a", "b", "c", "d", "e", "f"])),
        st.builds(OtherInput, st.sampled_from(["sticker", "voice", "command", "contact", "other"])),
    )


@st.composite
def form_situations(draw: st.DrawFn) -> tuple[Form, FormContext, DraftState, list[Input]]:
    """A form, its context, a state that got there through valid answers, and inputs."""
    form = FORMS[draw(st.sampled_from(sorted(FORMS)))]
    ctx = draw(contexts(form))
    state = engine.start(form, ctx)
    asked = [f.name for f in engine.applicable(form, ctx)]
    step = draw(st.sampled_from([*asked, SUMMARY] if form.summary else asked))
    state = state.model_copy(update={"step": step})
    inputs = draw(st.lists(_inputs(form, ctx, step), min_size=1, max_size=8))
    return form, ctx, state, inputs


def _value_error(spec: Field, value: Any, ctx: FormContext) -> str | None:
    """Why a stored answer is not one the form could have accepted, or None."""
    kind = spec.type
    low = spec.min if spec.min is not None else 0
    if kind is FieldType.DATE:
        day = dt.date.fromisoformat(value)
        return None if 0 <= (ctx.today - day).days <= ctx.max_age_days else "date out of window"
    if kind is FieldType.MONEY:
        ok = isinstance(value, int) and low <= value <= (spec.max or MAX_MONEY) and not (
            0 < value < SMALLEST_PLAUSIBLE_MONEY)
        return None if ok else "money out of range"
    if kind is FieldType.INTEGER:
        ok = isinstance(value, int) and low <= value <= (spec.max or value)
        return None if ok else "number out of range"
    if kind in (FieldType.TEXT, FieldType.LONG_TEXT):
        return _text_error(spec, value)
    if kind is FieldType.YES_NO:
        return None if isinstance(value, bool) else "not yes/no"
    if kind.single_choice:
        return None if value in {c.value for c in ctx.choices_for(spec)} else "not a choice"
    if kind.multi_choice:
        offered = {c.value for c in ctx.choices_for(spec)}
        ok = isinstance(value, list) and len(set(value)) == len(value) and set(value) <= offered
        return None if ok else "not choices"
    if kind is FieldType.PHOTOS:
        ids = [p["file_unique_id"] for p in value]
        return None if len(set(ids)) == len(ids) <= (spec.max or 10) else "photos"
    if kind is FieldType.PLACE:
        return _place_error(spec, value)
    return f"unknown type {kind}"


def _text_error(spec: Field, value: Any) -> str | None:
    if not isinstance(value, str) or not any(ch.isalnum() for ch in value):
        return "text without letters"
    if spec.items is None and not (spec.min or 0) <= len(value) <= (spec.max or len(value)):
        return "text length"
    if spec.items is not None and not spec.items[0] <= len(value.splitlines()) <= spec.items[1]:
        return "item count"
    return None


def _place_error(spec: Field, value: Any) -> str | None:
    if not isinstance(value, dict) or not value:
        return "place"
    if "text" in value and _text_error(spec, value["text"]) is not None:
        return "place name"
    pin = [value.get("latitude"), value.get("longitude")]
    if pin != [None, None] and not all(isinstance(v, float) and math.isfinite(v) for v in pin):
        return "place pin"
    return None


def draft_errors(form: Form, state: DraftState, ctx: FormContext) -> list[str]:
    """What is wrong with a draft's state for its form: a step that does not exist (the engine
    repairs those on load, so they count as valid only if repair finds a step) or answers no
    input could have produced."""
    errors = []
    repaired = engine.repair(form, state, ctx)
    if repaired.step != SUMMARY and repaired.step not in {f.name for f in form.fields}:
        errors.append(f"step {state.step!r} does not exist")
    if not form.summary and repaired.step == SUMMARY:
        errors.append("a summary in a form without one")
    if state.pending is not None:
        try:
            dt.date.fromisoformat(state.pending)
        except (TypeError, ValueError):
            errors.append(f"pending {state.pending!r} is not a date")
    for name, value in state.answers.items():
        try:
            spec = form.field(name)
        except KeyError:
            errors.append(f"answer to no field: {name}")
            continue
        try:
            problem = _value_error(spec, value, ctx)
        except (TypeError, ValueError, KeyError) as error:
            problem = f"unreadable: {error!r}"
        if problem is not None:
            errors.append(f"{name}={value!r}: {problem}")
    return errors


def _explained(form: Form, state: DraftState, ctx: FormContext, given_input: Input,
               outcome: engine.Outcome) -> None:
    """A rejection comes with a text from the catalogue that renders in every language: as a
    message for what was typed or sent, as the button's note for a press (see
    Conversations._rejection)."""
    problem = outcome.problem
    assert problem is not None
    for t in TEXTS:
        assert t.has(problem.key), problem.key
        if isinstance(given_input, ButtonInput):
            assert t.plain(problem.key, **problem.params).strip()
        else:
            assert FormView(form, state, ctx, t, draft_id=1).problem(problem).text.strip()


@pytest.mark.parametrize("profile", PROFILES)
def test_the_form_engine_explains_or_keeps_valid_answers(profile: settings) -> None:
    def every_input_handled(situation: tuple[Form, FormContext, DraftState, list[Input]]) -> None:
        form, ctx, state, inputs = situation
        for given_input in inputs:
            outcome = engine.apply(form, state, ctx, given_input)
            if outcome.event is Event.REJECTED:
                _explained(form, state, ctx, given_input, outcome)
            elif outcome.event in (Event.CANCEL, Event.SUBMIT):
                assert draft_errors(form, outcome.state, ctx) == []
                return
            state = outcome.state
            assert draft_errors(form, state, ctx) == [], (given_input, state)
            for t in TEXTS:  # the next screen draws, whatever the answers
                FormView(form, state, ctx, t, draft_id=1).current()
    run(profile, every_input_handled, form_situations())


@pytest.mark.parametrize("profile", PROFILES)
def test_valid_typed_answers_are_stored_as_typed(profile: settings) -> None:
    """The report form takes a money amount, a number and a date typed as members type them,
    and stores exactly the value meant."""
    form = FORMS["report"]
    ctx = FormContext(today=TODAY, max_age_days=365)

    def stored(step: str, typed: str) -> Any:
        outcome = engine.apply(form, DraftState(step=step), ctx, TextInput(typed))
        assert outcome.event is Event.MOVED, (step, typed, outcome.problem)
        return outcome.state.answers[step]

    def typed_answers_kept(typed: tuple[int, str], helped: int, back: int) -> None:
        amount, text = typed
        if SMALLEST_PLAUSIBLE_MONEY <= amount <= MAX_MONEY:
            assert stored("value_vnd", text) == amount
        assert stored("people_helped", f"{helped} người") == helped
        day = TODAY - dt.timedelta(days=back)
        assert stored("deed_date", day.strftime("%d/%m/%Y")) == day.isoformat()
    run(profile, typed_answers_kept, MONEY_AS_TYPED, st.integers(0, 100_000),
        st.integers(0, 365))


# --- what the fuzzing found -------------------------------------------------------------------


def test_a_stray_accent_after_a_space_does_not_spoil_the_answer() -> None:
    """Found by test_text_views_are_stable: fold("0\\r\\u0300") was "0 ", so a lone combining
    mark after a space (a Telex slip) made "hôm qua ́" unreadable. Fixed in bot/parsing/text.py."""
    assert fold("0\r\u0300") == "0"
    assert parse_date("hôm qua \u0301", TODAY, 365) == ParsedDate(TODAY - dt.timedelta(days=1),
                                                                   False)


def test_a_number_too_long_for_int_is_not_a_number() -> None:
    """Found by test_whole_numbers_never_raise_and_read_back (heavy): 4,301 digits made int()
    raise ValueError (Python's limit on converting long digit strings) instead of answering
    None, and the form engine let it through. Telegram's 4,096 characters a message keep it
    from members today, but not from other callers. Fixed in bot/parsing/numbers.py."""
    assert parse_whole_number("0" * 4301) == 0
    assert parse_whole_number("9" * 4301) is None
    assert parse_whole_number("9" * 5000 + " người") is None
    assert plain_number("1" * 4400) is None
    outcome = engine.apply(FORMS["report"], DraftState(step="people_helped"),
                           FormContext(today=TODAY), TextInput("7" * 4301))
    assert outcome.problem is not None and outcome.problem.key == "form.problem.not_number"
