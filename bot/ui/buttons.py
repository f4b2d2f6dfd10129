"""Button data: `<prefix>:<verb>:<argument>:…`, at most 64 bytes. It comes back from the client,
so reading it trusts nothing: anything unexpected reads as None, never as an error."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import NamedTuple

from bot.parsing.numbers import plain_number

LARGEST_ID = 2**63 - 1  # SQLite's INTEGER: a larger id would fail in the query, not just miss


def pack(prefix: str, verb: str, *args: object) -> str:
    return ":".join((prefix, verb, *map(str, args)))


def number(text: str) -> int | None:
    """An id or a page number: ASCII digits that the database can hold."""
    value = plain_number(text)
    return value if value is not None and value <= LARGEST_ID else None


def verb_and_number(data: str, prefix: str,
                    verbs: Collection[str] | None = None) -> tuple[str, int] | None:
    """`<prefix>:<verb>:<number>`, the most common shape, with the verb among `verbs` if given."""
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != prefix or (verbs is not None and parts[1] not in verbs):
        return None
    value = number(parts[2])
    return None if value is None else (parts[1], value)


class Press(NamedTuple):
    verb: str
    args: tuple[int, ...]


def verb_and_numbers(data: str, prefix: str, arity: Mapping[str, int]) -> Press | None:
    """`<prefix>:<verb>:<number>:…`, the verb known to `arity` with as many numbers as it
    says."""
    parts = data.split(":")
    if parts[0] != prefix or len(parts) < 2 or arity.get(parts[1]) != len(parts) - 2:
        return None
    numbers = tuple(number(p) for p in parts[2:])
    if any(n is None for n in numbers):
        return None
    return Press(parts[1], tuple(n for n in numbers if n is not None))
