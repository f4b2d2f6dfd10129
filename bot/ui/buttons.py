"""Button data, declared once per kind of button: its prefix, its fields with their types and
bounds, and the permission (an `Action`) a press on it needs. Packing and reading come from the
declaration, as with aiogram's `CallbackData`:

    class OpenCard(ButtonData, prefix="mb:o", action=Action.MEMBERS):
        membership: Id

    OpenCard(membership=12).pack() == "mb:o:12"
    read("mb:o:12") == OpenCard(membership=12)

The data comes back from the client, so reading trusts nothing: data that matches no
declaration, has too few or too many fields, or a field out of its bounds reads as None, and
the caller refuses it (and writes it to the audit log). A declaration has no default action:
`action` is required, and a flow checks the press's own `action` against the record it names.
Telegram carries at most 64 bytes of it.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable
from dataclasses import Field, dataclass, fields
from typing import Annotated, Any, ClassVar, dataclass_transform

from bot.parsing.numbers import plain_number
from bot.rules.access import Action

LARGEST_ID = 2**63 - 1  # SQLite's INTEGER: a larger id would fail in the query, not just miss
LIMIT = 64  # bytes of callback data Telegram keeps
_TOKEN = re.compile(r"[0-9A-Za-z_.\-]*")


@dataclass(frozen=True)
class Between:
    """A whole number field, from `low` to `high`, written as `pack` writes it (no sign, no
    leading zeros)."""

    low: int
    high: int

    def read(self, text: str) -> int | None:
        value = plain_number(text)
        if value is None or str(value) != text:
            return None
        return value if self.low <= value <= self.high else None


@dataclass(frozen=True)
class OneOf:
    """A text field that is one of a few codes."""

    codes: tuple[str, ...]

    def read(self, text: str) -> str | None:
        return text if text in self.codes else None


@dataclass(frozen=True)
class Token:
    """A short text field of letters, digits and `_.-` (a choice's key, a fingerprint)."""

    longest: int
    pattern: re.Pattern[str] = _TOKEN

    def read(self, text: str) -> str | None:
        return text if len(text) <= self.longest and self.pattern.fullmatch(text) else None


Kind = Between | OneOf | Token
Id = Annotated[int, Between(0, LARGEST_ID)]  # a row's id (0: none)
Page = Annotated[int, Between(0, 9_999)]


def codes(*values: str) -> OneOf:
    return OneOf(values)


@dataclass_transform(frozen_default=True)
class ButtonData:
    """The base of every declaration (see the module's docstring)."""

    prefix: ClassVar[str]
    action: ClassVar[Action]
    _kinds: ClassVar[tuple[tuple[str, Kind], ...]]
    # Set on each declaration by the dataclass() in __init_subclass__; declared so that mypy
    # sees every declaration as the dataclass it is.
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    def __init_subclass__(cls, *, prefix: str, action: Action, **rest: Any) -> None:
        super().__init_subclass__(**rest)
        if not isinstance(action, Action):
            raise TypeError(f"{cls.__name__}: a button needs the Action it is checked as")
        if prefix in _DECLARED:
            raise TypeError(f"{cls.__name__}: prefix {prefix!r} is {_DECLARED[prefix].__name__}'s")
        dataclass(frozen=True)(cls)
        hints = typing.get_type_hints(cls, include_extras=True)
        cls.prefix, cls.action = prefix, action
        cls._kinds = tuple((f.name, _kind_of(cls, f.name, hints[f.name])) for f in fields(cls))
        _DECLARED[prefix] = cls

    def pack(self) -> str:
        data = ":".join([self.prefix, *(str(getattr(self, name)) for name, _ in self._kinds)])
        if len(data.encode()) > LIMIT:
            raise ValueError(f"{data!r} is longer than Telegram's {LIMIT} bytes")
        return data

    @classmethod
    def unpack(cls, parts: list[str]) -> ButtonData | None:
        """The press from the fields after the prefix; None when any is wrong."""
        if len(parts) != len(cls._kinds):
            return None
        values = {}
        for (name, kind), text in zip(cls._kinds, parts, strict=True):
            value = kind.read(text)
            if value is None:
                return None
            values[name] = value
        return cls(**values)


_DECLARED: dict[str, type[ButtonData]] = {}


def _kind_of(cls: type, name: str, hint: Any) -> Kind:
    found = [m for m in getattr(hint, "__metadata__", ()) if isinstance(m, Kind)]
    if len(found) != 1:
        raise TypeError(f"{cls.__name__}.{name}: say its bounds (Id, Page, Between, OneOf, Token)")
    return found[0]


def read(data: str) -> ButtonData | None:
    """The press `data` describes, or None for anything no declaration made."""
    parts = data.split(":")
    for size in (2, 1):  # prefixes have one or two parts ("lang", "mb:o")
        declared = _DECLARED.get(":".join(parts[:size]))
        if declared is not None and len(parts) >= size:
            return declared.unpack(parts[size:])
    return None


def declared() -> list[type[ButtonData]]:
    """Every kind of button the bot knows (once their flows are imported)."""
    return list(_DECLARED.values())


def families(kinds: Iterable[type[ButtonData]]) -> list[str]:
    """The first parts of these prefixes ("mb", "rv"): what a handler's pattern matches."""
    return sorted({kind.prefix.split(":")[0] for kind in kinds})
