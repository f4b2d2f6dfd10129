"""Every text a user sees, looked up by key: Vietnamese first, English second.

Templates are HTML (Telegram's subset) with `{name}` placeholders; values are escaped when
filled in, unless they are `Markup` (already-rendered HTML from another template).

A text that counts something may be a table of plural forms instead of one string, its keys
CLDR's plural categories (`one`, `other`, …; `other` always there):

    photo_count = { one = "{count} photo", other = "{count} photos" }

The number passed as `count` picks the form by the language's plural rules (Babel's); a text
whose number has another name says which with `by`:

    expired = { by = "days", one = "… {days} day …", other = "… {days} days …" }

Vietnamese has no plural forms, so its texts stay plain strings.
"""

from __future__ import annotations

import html
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from babel import Locale

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
# CLDR's plural categories: the keys of a table of plural forms.
CATEGORIES = frozenset({"zero", "one", "two", "few", "many", "other"})
COUNT = "count"  # the parameter that picks a plural form, unless the table names another


class Said(Exception):
    """Something that went wrong, as it is said to a person: a catalogue key and what to fill
    it with (`t.plain(error.key, **error.params)`)."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class Markup(str):
    """Text that is already safe HTML."""


@dataclass(frozen=True)
class Plural:
    """A text's forms by plural category; the number passed as `by` picks one."""

    forms: Mapping[str, str]
    by: str = COUNT

    def pick(self, lang: str, params: Mapping[str, Any]) -> str:
        number = how_many(params.get(self.by))
        if number is None:
            raise TypeError(f"a plural text needs the number {self.by!r}, got "
                            f"{params.get(self.by)!r}")
        return self.forms.get(_plural_rule(lang)(number), self.forms["other"])


# A whole number as written for reading: "1.500", "1,500", "1 500"; the last of "33/34".
_WRITTEN = re.compile(r"\d+(?:[.,\u00a0\u202f ]\d{3})*")


def how_many(value: Any) -> int | float | None:
    """The count a parameter gives: a number, or a number already written for the reader
    (formatting.number's "1.500"; "33/34" of 34 counts 34)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return abs(value)
    written = _WRITTEN.findall(value) if isinstance(value, str) else []
    return int(re.sub(r"\D", "", written[-1])) if written else None


Template = str | Plural


@cache
def _plural_rule(lang: str) -> Callable[[float], str]:
    return Locale.parse(lang).plural_form


def is_plural_table(table: Mapping[str, Any]) -> bool:
    """Plural forms, as opposed to a section of keys."""
    names = set(table)
    return "other" in names and names <= CATEGORIES | {"by"} and all(
        isinstance(value, str) for value in table.values())


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Template]:
    flat: dict[str, Template] = {}
    for key, value in table.items():
        if isinstance(value, Mapping) and is_plural_table(value):
            forms = {k: v for k, v in value.items() if k != "by"}
            flat[f"{prefix}{key}"] = Plural(forms, value.get("by", COUNT))
        elif isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat


def forms_of(template: Template) -> tuple[str, ...]:
    """Every wording of a text: the one string, or each plural form."""
    return tuple(template.forms.values()) if isinstance(template, Plural) else (template,)


def _escape(value: Any) -> str:
    if isinstance(value, Markup):
        return value
    return html.escape(str(value), quote=False)


@cache
def _load_language(lang: str) -> dict[str, Template]:
    """One language's catalogue: `texts/<lang>/*.toml`, a file per part of the product so that
    a feature's words are found beside its name. A key defined twice is a mistake. Read once
    per process: the files do not change while it runs, and nothing changes the tables."""
    folder = resources.files("bot.ui") / "texts" / lang
    merged: dict[str, Template] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        table = _flatten(tomllib.loads(entry.read_text(encoding="utf-8")))
        twice = merged.keys() & table.keys()
        if twice:
            raise ValueError(f"texts/{lang}/{entry.name} repeats {sorted(twice)}")
        merged.update(table)
    return merged


# Told of every text written, with the key it came from: tests recognise an answer by its key.
Witness = Callable[[str, str], None]


class Texts:
    """The catalogue as seen by one person, in their language."""

    def __init__(self, own: Mapping[str, Template], fallback: Mapping[str, Template], lang: str,
                 witness: Witness | None = None) -> None:
        self._own = own
        self._fallback = fallback
        self.lang = lang
        self._witness = witness

    def _template(self, key: str, params: Mapping[str, Any]) -> str:
        """The key's text in this language (or, missing, in the default one), in the plural
        form its number asks for."""
        found, lang = self._own.get(key), self.lang
        if not found:
            found, lang = self._fallback[key], DEFAULT_LANGUAGE
        return found.pick(lang, params) if isinstance(found, Plural) else found

    def __call__(self, key: str, **params: Any) -> Markup:
        template = self._template(key, params)
        text = Markup(template.format(**{k: _escape(v) for k, v in params.items()}))
        if self._witness is not None:
            self._witness(key, text)
        return text

    def has(self, key: str) -> bool:
        return key in self._own or key in self._fallback

    def plain(self, key: str, **params: Any) -> str:
        """For places that do not render HTML (button labels, command descriptions, the
        terminal): no escaping."""
        text = self._template(key, params).format(**params)
        if self._witness is not None:
            self._witness(key, text)
        return text


class Catalogue:
    def __init__(self, tables: Mapping[str, Mapping[str, Template]],
                 witness: Witness | None = None) -> None:
        self.tables = tables
        self.witness = witness

    @classmethod
    def load(cls, witness: Witness | None = None) -> Catalogue:
        return cls({lang: _load_language(lang) for lang in LANGUAGES}, witness)

    def texts(self, lang: str | None) -> Texts:
        chosen = lang if lang is not None and lang in self.tables else DEFAULT_LANGUAGE
        return Texts(self.tables[chosen], self.tables[DEFAULT_LANGUAGE], chosen, self.witness)

    def all_values(self, key: str) -> set[str]:
        """The key's text in every language: a menu button may be pressed in either."""
        return {form for table in self.tables.values() if key in table
                for form in forms_of(table[key])}
