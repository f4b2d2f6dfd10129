"""Every text a user sees, looked up by key: Vietnamese first, English second.

Templates are HTML (Telegram's subset) with `{name}` placeholders; values are escaped when
filled in, unless they are `Markup` (already-rendered HTML from another template).
"""

from __future__ import annotations

import html
import tomllib
from collections.abc import Mapping
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


class Texts:
    """The catalogue as seen by one person, in their language."""

    def __init__(self, own: Mapping[str, str], fallback: Mapping[str, str], lang: str) -> None:
        self._own = own
        self._fallback = fallback
        self.lang = lang

    def __call__(self, key: str, **params: Any) -> Markup:
        template = self._own.get(key) or self._fallback[key]
        return Markup(template.format(**{k: _escape(v) for k, v in params.items()}))

    def has(self, key: str) -> bool:
        return key in self._own or key in self._fallback

    def plain(self, key: str, **params: Any) -> str:
        """For places that do not render HTML (button labels, command descriptions, the
        terminal): no escaping."""
        template = self._own.get(key) or self._fallback[key]
        return template.format(**params)


class Catalogue:
    def __init__(self, tables: Mapping[str, Mapping[str, str]]) -> None:
        self.tables = tables

    @classmethod
    def load(cls) -> Catalogue:
        folder = resources.files("bot") / "texts"
        return cls({
            lang: _flatten(tomllib.loads((folder / f"{lang}.toml").read_text(encoding="utf-8")))
            for lang in LANGUAGES
        })

    def texts(self, lang: str | None) -> Texts:
        chosen = lang if lang in self.tables else DEFAULT_LANGUAGE
        return Texts(self.tables[chosen], self.tables[DEFAULT_LANGUAGE], chosen)

    def all_values(self, key: str) -> set[str]:
        """The key's text in every language: a menu button may be pressed in either."""
        return {table[key] for table in self.tables.values() if key in table}
