"""The text catalogue: both languages complete and alike, every template valid Telegram HTML,
every key the code asks for present, values escaped, English falling back to Vietnamese."""

from __future__ import annotations

import ast
import re
import string
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.flows.command_menus import EVERY_COMMAND
from bot.flows.menu import ACTIONS
from bot.forms.spec import FieldType, Form
from bot.parsing.dates import DateProblem
from bot.rules.periods import PeriodKind
from bot.runtime.config import Settings
from bot.runtime.core import form_kinds
from bot.ui.catalogue import Catalogue, Markup, Plural, Template, forms_of
from storage.entities import ReportState, Role

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = Catalogue.load()
VI = CATALOGUE.tables["vi"]
EN = CATALOGUE.tables["en"]
FORMS: tuple[Form, ...] = tuple(
    kind.form for kind in form_kinds(Settings(), CATALOGUE).values())


def placeholders(template: Template) -> set[str]:
    """The names a text uses (in any of its plural forms)."""
    return {name for form in forms_of(template)
            for _, name, _, _ in string.Formatter().parse(form) if name is not None}


def numbers_for(template: Template, value: object) -> dict[str, object]:
    """The number a plural text is picked by, when it is one."""
    return {template.by: value} if isinstance(template, Plural) else {}


# --- both languages alike ---------------------------------------------------------------------


def test_same_keys_in_both_languages() -> None:
    assert sorted(VI.keys() - EN.keys()) == [], "missing in texts/en"
    assert sorted(EN.keys() - VI.keys()) == [], "missing in texts/vi"


@pytest.mark.parametrize("key", sorted(VI))
def test_same_placeholders(key: str) -> None:
    assert placeholders(EN.get(key, VI[key])) == placeholders(VI[key])
    # A plural form may leave its number out ("one photo"), never use a name the code does
    # not pass; the form for most numbers says everything.
    for template in (VI[key], EN[key]):
        if isinstance(template, Plural):
            assert template.by in placeholders(VI[key]) | {"count"}, key
            assert placeholders(template.forms["other"]) == placeholders(VI[key]), key


@pytest.mark.parametrize("action", ACTIONS)
def test_menu_labels_differ_between_languages(action: str) -> None:
    # Menu buttons come back as typed text, matched against every language.
    assert VI[f"menu.{action}"] != EN[f"menu.{action}"]


# --- Telegram HTML ----------------------------------------------------------------------------

ALLOWED_TAGS = {"b", "i", "u", "s", "code", "pre", "a"}
ALLOWED_ENTITIES = {"lt", "gt", "amp", "quot"}


class TelegramHtml(HTMLParser):
    """Collects what Telegram's HTML parse mode would refuse."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"tag <{tag}>")
        if attrs and not (tag == "a" and [name for name, _ in attrs] == ["href"]):
            self.errors.append(f"attributes on <{tag}>")
        self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.errors.append(f"self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")

    def handle_data(self, data: str) -> None:
        for char in "<>&":
            if char in data:
                self.errors.append(f"bare {char!r}")

    def handle_entityref(self, name: str) -> None:
        if name not in ALLOWED_ENTITIES:
            self.errors.append(f"entity &{name};")

    def handle_comment(self, data: str) -> None:
        self.errors.append("comment")

    def handle_decl(self, decl: str) -> None:
        self.errors.append("declaration")


def html_problems(text: str) -> list[str]:
    parser = TelegramHtml()
    parser.feed(text)
    parser.close()
    if parser.rawdata:  # left unparsed, e.g. a "<" that starts no tag at the end
        parser.errors.append(f"unparsed {parser.rawdata!r}")
    return parser.errors + [f"unclosed <{tag}>" for tag in parser.open]


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("<b>bold</b> and <i>italic</i>", True),
        ('<a href="https://t.me/x">link</a> &lt;x&gt; &amp; &#39;', True),
        ("<b>unclosed", False),
        ("<b><i>crossed</b></i>", False),
        ("<div>block</div>", False),
        ("<br/>", False),
        ("salt & pepper", False),
        ("1 < 2", False),
        ("&nbsp;", False),
    ],
)
def test_html_checker(text: str, ok: bool) -> None:
    assert (html_problems(text) == []) is ok


@pytest.mark.parametrize("lang", sorted(CATALOGUE.tables))
@pytest.mark.parametrize("key", sorted(VI))
def test_template_formats_to_telegram_html(lang: str, key: str) -> None:
    t = CATALOGUE.texts(lang)
    # Values with HTML's special characters: escaped, they must not break the markup.
    params = {name: "<x & y>" for name in placeholders(VI[key])}
    for number in (1, 2):
        template = CATALOGUE.tables[lang][key]
        text = t(key, **{**params, **numbers_for(template, number)})
        assert html_problems(text) == [], text


# --- every key the code uses exists -----------------------------------------------------------

SOURCES = sorted([*(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers").rglob("*.py")])
KEY = r"[a-z_]+(?:\.[a-z0-9_]+)+"
# t("…"), t.plain("…"), self.t("…"), Rejected("…"), Refusal("…"), UnitError("…"), InviteError("…")
KEY_CALL = re.compile(
    rf"""\b(?:t|plain|Rejected|Refusal|UnitError|InviteError|Problem)\(\s*["']({KEY})["']"""
)
SECTIONS = {key.split(".")[0] for key in VI}


def _literal_keys(tree: ast.AST) -> set[str]:
    """Whole string literals that look like a key of one of the catalogue's sections, e.g. a
    key returned by a function or picked by a conditional. Pieces of f-strings are left to the
    family tests below."""
    in_fstrings = {
        id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
        for part in node.values
    }
    return {
        node.value for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and id(node) not in in_fstrings
        and re.fullmatch(KEY, node.value) and node.value.split(".")[0] in SECTIONS
    }


def referenced_keys() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in SOURCES:
        source = path.read_text(encoding="utf-8")
        where = str(path.relative_to(ROOT))
        for key in [*KEY_CALL.findall(source), *_literal_keys(ast.parse(source))]:
            found.setdefault(key, where)
    return found


REFERENCED = referenced_keys()


def test_reference_scan_finds_keys() -> None:
    # Calls, returned literals, conditionals and exception arguments are all seen.
    for key in ("my.empty", "form.problem.too_short", "join.invite_unknown",
                "access.observer_only", "fallback.command", "cli.unit_code_taken",
                "cli.invite_bounds", "start.greeting", "form.nothing_to_cancel"):
        assert key in REFERENCED


@pytest.mark.parametrize(("key", "where"), sorted(REFERENCED.items()))
def test_referenced_key_exists(key: str, where: str) -> None:
    assert key in VI, f"{where} uses {key!r}, missing in texts/vi"
    assert key in EN, f"{where} uses {key!r}, missing in texts/en"


# --- key families built at run time -----------------------------------------------------------


def own_or_common(form: Form, field: str, part: str, common: str) -> str:
    own = f"form.{form.name}.{field}.{part}"
    return own if own in VI else common


def family_keys() -> list[tuple[str, set[str]]]:
    """(key, the parameters the code passes when it fills it in)."""
    keys: list[tuple[str, set[str]]] = []
    for form in FORMS:
        keys += [(f"form.{form.name}.expired", {"date", "days"}),
                 (f"form.{form.name}.cancelled", set())]
        if form.summary:
            keys.append((f"form.{form.name}.summary_title", set()))
        for field in form.fields:
            prefix = f"form.{form.name}.{field.name}"
            keys += [(f"{prefix}.label", set()), (f"{prefix}.short", set()),
                     (f"{prefix}.prompt", {"min", "max"})]
            keys.append((own_or_common(form, field.name, "hint", f"form.hint.{field.type}"),
                         set()))
            if field.has_default:
                keys += [(f"{prefix}.confirm_default", {"value"}),
                         (own_or_common(form, field.name, "retype", "form.common.retype"), set())]
            if field.type is FieldType.YES_NO:
                keys += [(own_or_common(form, field.name, answer, f"form.common.{answer}"), set())
                         for answer in ("yes", "no")]
    keys += [(f"form.hint.{kind}", set()) for kind in FieldType]
    keys += [(f"report.state.{state}", set()) for state in ReportState]
    keys += [(f"weekday.{day}", set()) for day in range(7)]
    keys += [(f"period.{kind}", set()) for kind in PeriodKind]
    keys += [(f"join.done_{role}", {"name", "unit"}) for role in Role]
    keys += [(f"command.{command}", set()) for command in EVERY_COMMAND]
    keys += [(f"menu.{action}", set()) for action in ACTIONS]
    keys += [(f"form.problem.date_{problem}", {"days"}) for problem in DateProblem]
    return keys


@pytest.mark.parametrize(("key", "given"), family_keys())
def test_family_key_exists_with_known_placeholders(key: str, given: set[str]) -> None:
    for lang, table in (("vi", VI), ("en", EN)):
        assert key in table, f"{key!r} missing in {lang}.toml"
        unknown = placeholders(table[key]) - given
        assert not unknown, f"{lang}.toml {key!r} uses {unknown}, the code passes only {given}"


# --- escaping and fallback --------------------------------------------------------------------


@pytest.mark.parametrize("lang", sorted(CATALOGUE.tables))
def test_values_are_escaped(lang: str) -> None:
    text = CATALOGUE.texts(lang)("join.welcome", unit="<b>x</b> & y")
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in text
    assert "<b>x</b>" not in text
    assert isinstance(text, Markup)


@pytest.mark.parametrize("lang", sorted(CATALOGUE.tables))
def test_markup_values_are_not_escaped(lang: str) -> None:
    text = CATALOGUE.texts(lang)("join.welcome", unit=Markup("<i>Chi bộ</i> &amp; tổ"))
    assert "<i>Chi bộ</i> &amp; tổ" in text


@pytest.mark.parametrize("lang", sorted(CATALOGUE.tables))
def test_plain_does_not_escape(lang: str) -> None:
    assert CATALOGUE.texts(lang).plain("cli.invite_code", code="<a&b>").endswith("<a&b>")


def test_english_falls_back_to_vietnamese_only_for_missing_keys() -> None:
    catalogue = Catalogue({
        "vi": {"greet": "Chào {name}", "bye": "Tạm biệt {name}"},
        "en": {"greet": "Hello {name}"},
    })
    en = catalogue.texts("en")
    assert en.lang == "en"
    assert en("greet", name="Mai") == "Hello Mai"
    assert en("bye", name="Mai") == "Tạm biệt Mai"
    assert en.plain("bye", name="Mai") == "Tạm biệt Mai"
    assert en.has("bye") and not en.has("missing")
    vi = catalogue.texts("vi")
    assert vi("greet", name="Mai") == "Chào Mai"
    with pytest.raises(KeyError):
        en("missing")


@pytest.mark.parametrize("lang", [None, "fr"])
def test_unknown_language_is_vietnamese(lang: str | None) -> None:
    t = CATALOGUE.texts(lang)
    assert t.lang == "vi"
    assert t("menu.report") == VI["menu.report"]


# --- plural forms -----------------------------------------------------------------------------

PLURALS = Catalogue({
    "vi": {"photos": "{count} ảnh", "late": "quá {days} ngày"},
    "en": {"photos": Plural({"one": "{count} photo", "other": "{count} photos"}),
           "late": Plural({"one": "{days} day late", "other": "{days} days late"}, by="days")},
})


@pytest.mark.parametrize(("count", "said"), [(0, "0 photos"), (1, "1 photo"), (2, "2 photos"),
                                              (21, "21 photos"), ("1", "1 photo"),
                                              ("1.500", "1.500 photos"), ("1/1", "1/1 photo"),
                                              ("0/2", "0/2 photos")])
def test_english_picks_the_plural_form_by_the_count(count: object, said: str) -> None:
    en = PLURALS.texts("en")
    assert en("photos", count=count) == said
    assert en.plain("photos", count=count) == said


def test_a_plural_text_may_be_picked_by_another_number() -> None:
    en = PLURALS.texts("en")
    assert en("late", days=1) == "1 day late"
    assert en("late", days=21) == "21 days late"
    assert PLURALS.texts("vi")("photos", count=1) == "1 ảnh"


def test_a_plural_text_without_its_number_is_a_mistake() -> None:
    with pytest.raises(TypeError):
        PLURALS.texts("en")("photos", count="nhiều")
    with pytest.raises(TypeError):
        PLURALS.texts("en")("late", count=1)


def test_plural_tables_in_toml_are_read_as_plural_forms() -> None:
    photo = EN["form.photo_count"]
    assert isinstance(photo, Plural) and set(photo.forms) == {"one", "other"}
    en = CATALOGUE.texts("en")
    assert [en("form.photo_count", count=n) for n in (0, 1, 2, 21)] == [
        "0 photos", "1 photo", "2 photos", "21 photos"]
    # Vietnamese has one form for every number.
    assert not any(isinstance(template, Plural) for template in VI.values())


@pytest.mark.parametrize("key", sorted(EN))
def test_no_english_text_leaves_the_plural_to_the_reader(key: str) -> None:
    assert all("(s)" not in form for form in forms_of(EN[key]))


# Parameters that are never a number of things (names, dates, words, ids, indexes, or a length
# bound the code sets, never 1).
NOT_COUNTS = {"unit", "name", "names", "date", "week", "dates", "month", "year", "time", "day",
              "field", "fields", "text", "words", "preview", "state", "role", "mark", "notes",
              "indent", "percent", "change", "previous", "value", "whom", "model", "models_list",
              "path", "version", "size", "code", "link", "expires", "cell", "number", "position",
              "step", "first", "last", "min", "max", "lat", "lon", "by", "recipients", "private",
              "together", "standing", "reports_line", "status", "key", "command", "label",
              "start", "end", "weekday", "when", "off", "hint", "period", "title", "what",
              "reason", "note", "place", "kind", "unit_name", "chart", "rating", "more_line"}
# A count of 1 followed by one of these reads wrong in English.
PLURAL_NOUNS = ("comrades", "reports", "deeds", "members", "units", "models", "groups",
                "households", "people", "photos", "links", "requests", "actions", "items",
                "days", "characters", "times", "reminders", "persons", "years", "weeks", "months",
                "deliveries", "updates", "problems", "rows", "values", "leaders", "observers",
                "messages", "files", "uses", "cells", "commitments", "pledges", "answers")
WRONG = re.compile(rf"\b1(?:/1)? (?:good |more |new |other )?(?:{'|'.join(PLURAL_NOUNS)})\b")


# Bounds the code may pass as 1 although they are named like limits: the form engine asks an
# item of a list for `spec.min or 1` characters, a list for at least `fewest` items.
BOUNDS_OF_ONE = {"form.problem.item_too_short": "min", "form.problem.too_few_items": "min"}


@pytest.mark.parametrize("key", sorted(EN))
def test_english_counts_of_one_read_as_one(key: str) -> None:
    template = EN[key]
    params: dict[str, object] = {
        name: 1 if name not in NOT_COUNTS or BOUNDS_OF_ONE.get(key) == name else f"<{name}>"
        for name in placeholders(template)}
    if isinstance(template, Plural):
        params[template.by] = 1
    text = CATALOGUE.texts("en").plain(key, **params)
    assert not WRONG.search(text), text
