"""Whole numbers as people type them: "4", "4 người", "1.200 hộ"."""

from __future__ import annotations

import re

from bot.parsing.text import fold

_WHOLE = re.compile(r"(\d{1,3}(?:[.,]\d{3})+|\d+)(?:\s*[a-z]+(?:\s+[a-z]+)*)?")


def parse_whole_number(text: str) -> int | None:
    """The number, ignoring a trailing word such as a unit; None for anything else
    (negatives, fractions, several numbers, no number)."""
    match = _WHOLE.fullmatch(fold(text))
    if match is None:
        return None
    return int(re.sub(r"[.,]", "", match.group(1)))


def plain_number(text: str) -> int | None:
    """A number carried in button data: ASCII digits only ("²" is a digit to str.isdigit but
    not to int)."""
    return int(text) if text.isascii() and text.isdigit() else None
