"""Read an amount of money the way Vietnamese members actually type it.

People write "20tr", "1tr5", "250k", "1,5 triệu", "1.500.000đ" or "2 triệu 500 nghìn", often
without diacritics. Returning None instead of guessing lets the bot ask again rather than
record a wrong figure, so anything outside the grammar below is rejected.

Grammar, over the folded text (see `bot.parsing.text.fold`; spaces are optional):

    amount   = term { term } [ tail ] [ currency ]  |  number [ currency ]
    term     = number unit              units strictly decreasing: tỷ > triệu > nghìn
    tail     = digits | "rưỡi"          only after a unit whose number was plain digits
    unit     = tỷ/tỉ/ty/ti/billion/bn | triệu/trieu/tr/million/m | nghìn/ngàn/nghin/ngan/k
    currency = đ/d | đồng/dong | vnđ/vnd

Terms are summed, so "2 triệu 500 nghìn" is 2_500_000. A tail is the decimal part of the unit
before it, as in speech: "1tr5" = "1tr50" = "1tr500" = 1.5 triệu, "2tr750" = 2.75 triệu,
"1 tỷ 2" = 1.2 tỷ, "2 triệu rưỡi" = 2.5 triệu.

Dots and commas inside a number, the ambiguous part. Vietnamese writes "1.500.000" and
"1,5"; phones set to English write "1,500,000" and "1.5". Both are accepted by one rule:

* Groups of exactly three digits after every separator, one separator character throughout,
  and a first group of one to three digits: thousands separators. "1.500.000", "1,500,000",
  "1.500" = 1500, and "1.500 triệu" = "1,500 triệu" = 1_500_000_000.
* Exactly one separator followed by anything other than three digits: a decimal point, either
  character. "1.5 triệu", "1,5 triệu", "1,25tr", "1.5000 triệu" = 1_500_000.
* Anything else is malformed: "1..5", "1.5.5", "1.500,5", "1500.000".

The result must be whole đồng ("1.5" with no unit is None) and at most `MAX_AMOUNT`.
"""

from __future__ import annotations

import re
from fractions import Fraction

from bot.parsing.text import fold

MAX_AMOUNT = 10**18
"""Anything larger is a typo or a joke, and could overflow a database integer column."""

# Far more digits than any real amount; also keeps int() away from its length limit.
_MAX_DIGITS = 24

_UNITS: dict[str, int] = {
    "ty": 10**9,
    "ti": 10**9,
    "trieu": 10**6,
    "tr": 10**6,
    "nghin": 10**3,
    "ngan": 10**3,
    "k": 10**3,
    # Phones set to English: "2m", "1.5 million", "2bn".
    "billion": 10**9,
    "bn": 10**9,
    "million": 10**6,
    "m": 10**6,
}
_HALF = "ruoi"
_CURRENCIES = frozenset({"vnd", "dong", "d"})

# Keywords are matched literally rather than as [a-z]+ so that glued forms ("250kđ",
# "1500000dong", "3ti") split; longer spellings come first so "trieu" is not read as "tr".
_WORDS = sorted([*_UNITS, _HALF, *_CURRENCIES], key=len, reverse=True)
_TOKEN = re.compile(
    rf"(?P<number>[0-9]+(?:[.,][0-9]+)*)|(?P<word>{'|'.join(_WORDS)})|(?P<space>\s+)|(?P<bad>.)"
)
_THOUSANDS = re.compile(r"[0-9]{1,3}(?:(?P<sep>[.,])[0-9]{3})(?:(?P=sep)[0-9]{3})*")
_DECIMAL = re.compile(r"[0-9]+[.,](?:[0-9]{1,2}|[0-9]{4,})")


def parse_money(text: str) -> int | None:
    """Amount in whole VND, or None when the text is not clearly an amount.

    None rather than an exception: the caller's only sensible reaction is to ask again.
    """
    tokens = _tokenize(fold(text))
    if tokens is None:
        return None
    if tokens and tokens[-1] in _CURRENCIES:
        tokens.pop()
    if not tokens:
        return None

    total = Fraction(0)
    scale: int | None = None  # unit of the previous term; later terms must use a smaller one
    tail_allowed = False
    index = 0
    while index < len(tokens):
        token = tokens[index]
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        is_last = following is None
        if following in _UNITS:
            number = _read_number(token)
            if number is None or (scale is not None and _UNITS[following] >= scale):
                return None
            scale = _UNITS[following]
            total += number * scale
            tail_allowed = token.isdigit()
            index += 2
        elif is_last and scale is None:
            number = _read_number(token)
            if number is None:
                return None
            total = number
            index += 1
        elif is_last and scale is not None and tail_allowed and _is_tail(token):
            fraction = Fraction(1, 2) if token == _HALF else Fraction(int(token), 10 ** len(token))
            total += fraction * scale
            index += 1
        else:
            return None

    if total.denominator != 1 or total > MAX_AMOUNT:
        return None
    return int(total)


def _tokenize(folded: str) -> list[str] | None:
    """Numbers and keywords with spaces dropped; None at the first character nobody expects."""
    tokens: list[str] = []
    for match in _TOKEN.finditer(folded):
        if match.lastgroup == "bad":
            return None
        if match.lastgroup != "space":
            tokens.append(match.group())
    return tokens


def _is_tail(token: str) -> bool:
    return token == _HALF or (token.isdigit() and len(token) <= _MAX_DIGITS)


def _read_number(token: str) -> Fraction | None:
    """Apply the separator rule from the module docstring to one numeric token."""
    if not token[:1].isdigit() or sum(ch.isdigit() for ch in token) > _MAX_DIGITS:
        return None
    if token.isdigit():
        return Fraction(int(token))
    if _THOUSANDS.fullmatch(token):
        return Fraction(int(token.replace(".", "").replace(",", "")))
    if _DECIMAL.fullmatch(token):
        return Fraction(token.replace(",", "."))
    return None
