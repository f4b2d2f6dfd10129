"""Whole numbers as people type them: "4", "4 người", "1.200 hộ"."""

from __future__ import annotations

import re

from bot.parsing.text import fold

_WHOLE = re.compile(r"(\d{1,3}(?:[.,]\d{3})+|\d+)(?:\s*[a-z]+(?:\s+[a-z]+)*)?")
# Far more digits than any count or id; also keeps int() below its 4,300-digit limit, past
# which it raises instead of answering.
_MAX_DIGITS = 24


def parse_whole_number(text: str) -> int | None:
    """The number, ignoring a trailing word such as a unit; None for anything else
    (negatives, fractions, several numbers, no number, a number longer than any count)."""
    match = _WHOLE.fullmatch(fold(text))
    if match is None:
        return None
    return _bounded_int(re.sub(r"[.,]", "", match.group(1)))


def plain_number(text: str) -> int | None:
    """A number carried in button data: ASCII digits only ("²" is a digit to str.isdigit but
    not to int)."""
    return _bounded_int(text) if text.isascii() and text.isdigit() else None


def _bounded_int(digits: str) -> int | None:
    significant = digits.lstrip("0") or "0"
    return int(significant) if len(significant) <= _MAX_DIGITS else None
