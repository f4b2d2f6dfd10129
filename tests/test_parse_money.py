"""Amounts as typed on phones, with and without diacritics, and what must be refused."""

from __future__ import annotations

import unicodedata

import pytest

from bot.parsing.money import MAX_AMOUNT, parse_money


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


ACCEPTED = [
    # Units, with and without diacritics, spaces and case.
    ("20 triệu", 20_000_000),
    ("20tr", 20_000_000),
    ("20 trieu", 20_000_000),
    ("20 TRIỆU", 20_000_000),
    ("20TR", 20_000_000),
    ("  20   tr  ", 20_000_000),
    (nfd("20 triệu"), 20_000_000),
    ("250k", 250_000),
    ("250 K", 250_000),
    ("250 nghìn", 250_000),
    ("250 ngàn", 250_000),
    ("250 nghin", 250_000),
    ("250 ngan", 250_000),
    ("3 tỷ", 3_000_000_000),
    ("3 tỉ", 3_000_000_000),
    ("3 ty", 3_000_000_000),
    ("3ti", 3_000_000_000),
    # English units, from phones set to English.
    ("2m", 2_000_000),
    ("2 million", 2_000_000),
    ("1.5 million", 1_500_000),
    ("1,5 million", 1_500_000),
    ("1.5m", 1_500_000),
    ("2 M", 2_000_000),
    ("2 billion", 2_000_000_000),
    ("2bn", 2_000_000_000),
    ("1 billion 200 million", 1_200_000_000),
    ("2m500k", 2_500_000),
    ("500k VND", 500_000),
    # Digits after a unit are its decimal part.
    ("1tr5", 1_500_000),
    ("1tr50", 1_500_000),
    ("1tr500", 1_500_000),
    ("2tr750", 2_750_000),
    ("1tr05", 1_050_000),
    ("1 tr 5", 1_500_000),
    ("1 tỷ 2", 1_200_000_000),
    ("1k5", 1_500),
    ("2 triệu rưỡi", 2_500_000),
    ("2tr ruoi", 2_500_000),
    # Several terms are summed, largest unit first.
    ("2 triệu 500 nghìn", 2_500_000),
    ("2 trieu 500 nghin", 2_500_000),
    ("1 tỷ 200 triệu", 1_200_000_000),
    ("1 tỷ 2 triệu", 1_002_000_000),
    ("1tr5k", 1_005_000),
    ("2 triệu 500 nghìn đồng", 2_500_000),
    # Decimal points, either character.
    ("1,5 triệu", 1_500_000),
    ("1.5 triệu", 1_500_000),
    ("1,25tr", 1_250_000),
    ("0.5tr", 500_000),
    ("1.50 triệu", 1_500_000),
    ("1.5000 triệu", 1_500_000),
    ("2.5k", 2_500),
    # Thousands separators: groups of exactly three digits.
    ("1.500.000", 1_500_000),
    ("1,500,000", 1_500_000),
    ("1.500", 1_500),
    ("1,500", 1_500),
    ("12.500", 12_500),
    ("1.500 triệu", 1_500_000_000),
    ("1,500 triệu", 1_500_000_000),
    ("1.500 nghìn", 1_500_000),
    # Plain numbers and currency words.
    ("1500000", 1_500_000),
    ("1500000đ", 1_500_000),
    ("1.500.000 đ", 1_500_000),
    ("1500000 đồng", 1_500_000),
    ("1500000 dong", 1_500_000),
    ("1500000dong", 1_500_000),
    ("1500000d", 1_500_000),
    ("1500000 vnd", 1_500_000),
    ("1500000 VNĐ", 1_500_000),
    ("250kđ", 250_000),
    ("20tr đồng", 20_000_000),
    (nfd("1.500.000 đồng"), 1_500_000),
    ("0", 0),
    ("0đ", 0),
    ("500", 500),
    ("007", 7),
    # The upper bound is inclusive.
    ("1000000000000000000", MAX_AMOUNT),
    ("1000000000 tỷ", MAX_AMOUNT),
]

REJECTED = [
    # Not amounts.
    "",
    "   ",
    "abc",
    "tr",
    "đ",
    "đồng",
    "rưỡi",
    "5 con gà",
    "20 triệu abc",
    "khoảng 20 triệu",
    "🙂",
    "20tr 🙂",
    "20%",
    "1e9",
    # Negative.
    "-5",
    "-20tr",
    "âm 5 triệu",
    "−5",
    # Malformed numbers.
    "1..5",
    "1.5.5",
    "1.500,5",
    "1,500.000",
    "1500.000",
    "1.500.00",
    "1.",
    ".5",
    "20 triệu.",
    # Not whole đồng.
    "1.5",
    "1,25",
    "1.0001k",
    # Malformed sequences of terms.
    "500 nghìn 2 triệu",
    "5k 5k",
    "20 tr tr",
    "20 triệu 5 6",
    "500 200",
    "1.5tr5",
    "1.500tr5",
    "1tr5 rưỡi",
    "đ 500",
    "500 đ đ",
    "500 đ k",
    "1tr5.5",
    "2 mm",
    "2 millions",
    "2 tr 500m",  # units must get smaller
    "m",
    "bn 5",
    # Absurdly large.
    "1000000000000000001",
    "1000000001 tỷ",
    "9" * 30,
    "9" * 5000,
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_accepted(text: str, expected: int) -> None:
    assert parse_money(text) == expected


@pytest.mark.parametrize("text", REJECTED)
def test_rejected(text: str) -> None:
    assert parse_money(text) is None
