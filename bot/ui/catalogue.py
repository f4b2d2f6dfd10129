"""Every text a user sees, looked up by key: Vietnamese first, English second.

Templates are HTML (Telegram's subset) with `{name}` placeholders; values are escaped when
filled in, unless they are `Markup` (already-rendered HTML from another template).
"""

from __future__ import annotations

import html
import tomllib
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


class Markup(str):
    """Text that is already safe HTML."""


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat


def _escape(value: Any) -> str:
    if isinstance(value, Markup):
        return value
    return html.escape(str(value), quote=False)


@cache
def _load_language(lang: str) -> dict[str, str]:
    """One language's catalogue: `texts/<lang>/*.toml`, a file per part of the product so that
    a feature's words are found beside its name. A key defined twice is a mistake. Read once
    per process: the files do not change while it runs, and nothing changes the tables."""
    folder = resources.files("bot.ui") / "texts" / lang
    merged: dict[str, str] = {}
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

    def __init__(self, own: Mapping[str, str], fallback: Mapping[str, str], lang: str,
                 witness: Witness | None = None) -> None:
        self._own = own
        self._fallback = fallback
        self.lang = lang
        self._witness = witness

    def __call__(self, key: str, **params: Any) -> Markup:
        template = self._own.get(key) or self._fallback[key]
        text = Markup(template.format(**{k: _escape(v) for k, v in params.items()}))
        if self._witness is not None:
            self._witness(key, text)
        return text

    def has(self, key: str) -> bool:
        return key in self._own or key in self._fallback

    def plain(self, key: str, **params: Any) -> str:
        """For places that do not render HTML (button labels, command descriptions, the
        terminal): no escaping."""
        template = self._own.get(key) or self._fallback[key]
        text = template.format(**params)
        if self._witness is not None:
            self._witness(key, text)
        return text


class Catalogue:
    def __init__(self, tables: Mapping[str, Mapping[str, str]],
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
        return {table[key] for table in self.tables.values() if key in table}
