"""Dates as typed, relative to a fixed `today`, including month and year boundaries."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from bot.parsing.dates import (
    DateProblem,
    ParsedDate,
    RangeProblem,
    parse_date,
    parse_day,
    parse_range,
)

FRIDAY = date(2026, 11, 27)
MAX_AGE = 400


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def exact(value: date) -> ParsedDate:
    return ParsedDate(value, needs_confirmation=False)


def weekday(value: date) -> ParsedDate:
    return ParsedDate(value, needs_confirmation=True)


def last_year(value: date) -> ParsedDate:
    """A day and month put in an earlier year: the member is asked to confirm it."""
    return ParsedDate(value, needs_confirmation=True)


# today = Friday 2026-11-27
FRIDAY_CASES = [
    # Relative days.
    ("hôm nay", exact(FRIDAY)),
    ("hom nay", exact(FRIDAY)),
    ("nay", exact(FRIDAY)),
    ("Hôm Nay", exact(FRIDAY)),
    ("ngày hôm nay", exact(FRIDAY)),
    ("hôm qua", exact(date(2026, 11, 26))),
    ("hom qua", exact(date(2026, 11, 26))),
    ("HOM QUA", exact(date(2026, 11, 26))),
    ("  hôm   qua ", exact(date(2026, 11, 26))),
    (nfd("Hôm qua"), exact(date(2026, 11, 26))),
    ("qua", exact(date(2026, 11, 26))),
    ("ngay hom qua", exact(date(2026, 11, 26))),
    ("hôm kia", exact(date(2026, 11, 25))),
    ("kia", exact(date(2026, 11, 25))),
    ("mai", DateProblem.FUTURE),
    ("ngày mai", DateProblem.FUTURE),
    # Weekdays by number: thứ 2 is Monday.
    ("thứ 2", weekday(date(2026, 11, 23))),
    ("thứ 3", weekday(date(2026, 11, 24))),
    ("thứ 4", weekday(date(2026, 11, 25))),
    ("thứ 5", weekday(date(2026, 11, 26))),
    ("thứ 6", weekday(FRIDAY)),
    ("thứ 7", weekday(date(2026, 11, 21))),
    ("thu 7", weekday(date(2026, 11, 21))),
    ("Thứ7", weekday(date(2026, 11, 21))),
    (nfd("thứ 7"), weekday(date(2026, 11, 21))),
    ("ngày thứ 7", weekday(date(2026, 11, 21))),
    ("t2", weekday(date(2026, 11, 23))),
    ("t6", weekday(FRIDAY)),
    ("T7", weekday(date(2026, 11, 21))),
    ("t 7", weekday(date(2026, 11, 21))),
    # Weekdays by name.
    ("thứ hai", weekday(date(2026, 11, 23))),
    ("thứ ba", weekday(date(2026, 11, 24))),
    ("thứ tư", weekday(date(2026, 11, 25))),
    ("thứ năm", weekday(date(2026, 11, 26))),
    ("thứ sáu", weekday(FRIDAY)),
    ("thứ bảy", weekday(date(2026, 11, 21))),
    ("thứ bẩy", weekday(date(2026, 11, 21))),
    ("thu bay", weekday(date(2026, 11, 21))),
    ("THU HAI", weekday(date(2026, 11, 23))),
    ("chủ nhật", weekday(date(2026, 11, 22))),
    ("chu nhat", weekday(date(2026, 11, 22))),
    ("Chủ Nhật", weekday(date(2026, 11, 22))),
    (nfd("chủ nhật"), weekday(date(2026, 11, 22))),
    ("cn", weekday(date(2026, 11, 22))),
    ("CN", weekday(date(2026, 11, 22))),
    # Weekdays with a word about which week: "vừa rồi" is the plain weekday, "tuần trước"
    # the one in the calendar week (Monday to Sunday) before this one.
    ("thứ 6 vừa rồi", weekday(FRIDAY)),
    ("chu nhat vua qua", weekday(date(2026, 11, 22))),
    ("thứ bảy tuần trước", weekday(date(2026, 11, 21))),
    ("thu 2 tuan truoc", weekday(date(2026, 11, 16))),
    ("thứ 6 tuần trước", weekday(date(2026, 11, 20))),
    ("chủ nhật tuần rồi", weekday(date(2026, 11, 22))),
    # English, for phones and members who write it.
    ("today", exact(FRIDAY)),
    ("Yesterday", exact(date(2026, 11, 26))),
    ("day before yesterday", exact(date(2026, 11, 25))),
    ("tomorrow", DateProblem.FUTURE),
    ("saturday", weekday(date(2026, 11, 21))),
    ("Sat", weekday(date(2026, 11, 21))),
    ("on saturday", weekday(date(2026, 11, 21))),
    ("last saturday", weekday(date(2026, 11, 21))),
    ("friday", weekday(FRIDAY)),
    ("on Fri", weekday(FRIDAY)),
    ("last friday", weekday(date(2026, 11, 20))),  # "last" is never today
    ("Sunday", weekday(date(2026, 11, 22))),
    ("mon", weekday(date(2026, 11, 23))),
    ("last Thursday", weekday(date(2026, 11, 26))),
    # Day and month: this year unless that is still ahead.
    ("25/11", exact(date(2026, 11, 25))),
    ("25-11", exact(date(2026, 11, 25))),
    ("25.11", exact(date(2026, 11, 25))),
    ("25 / 11", exact(date(2026, 11, 25))),
    ("ngày 25/11", exact(date(2026, 11, 25))),
    ("27/11", exact(FRIDAY)),
    ("28/11", DateProblem.FUTURE),  # tomorrow this year, not a deed from last year
    ("26/12", DateProblem.FUTURE),
    ("28/12", DateProblem.FUTURE),  # 31 days ahead: still "soon"
    ("29/12", last_year(date(2025, 12, 29))),
    ("1/1", exact(date(2026, 1, 1))),
    ("05/01", exact(date(2026, 1, 5))),
    ("31/12", last_year(date(2025, 12, 31))),
    # Full dates.
    ("25/11/2026", exact(date(2026, 11, 25))),
    ("25-11-2026", exact(date(2026, 11, 25))),
    ("25.11.2026", exact(date(2026, 11, 25))),
    ("5/1/2026", exact(date(2026, 1, 5))),
    ("05/01/2026", exact(date(2026, 1, 5))),
    ("25/11/26", exact(date(2026, 11, 25))),
    ("Ngày 25/11/2026", exact(date(2026, 11, 25))),
    ("27/11/2026", exact(FRIDAY)),
    ("28/02/2026", exact(date(2026, 2, 28))),
    ("29/2/2024", DateProblem.TOO_OLD),
    # After today.
    ("28/11/2026", DateProblem.FUTURE),
    ("1/1/2027", DateProblem.FUTURE),
    ("28/11/26", DateProblem.FUTURE),
    # Too old for MAX_AGE = 400 days (2025-10-23 is exactly 400 days back).
    ("23/10/2025", exact(date(2025, 10, 23))),
    ("22/10/2025", DateProblem.TOO_OLD),
    ("1/1/2020", DateProblem.TOO_OLD),
    ("25/11/1990", DateProblem.TOO_OLD),
    # Not a date.
    ("31/02/2026", DateProblem.UNREADABLE),
    ("29/2/2026", DateProblem.UNREADABLE),
    ("32/1", DateProblem.UNREADABLE),
    ("0/5", DateProblem.UNREADABLE),
    ("5/0", DateProblem.UNREADABLE),
    ("5/13", DateProblem.UNREADABLE),
    ("31/4", DateProblem.UNREADABLE),
    ("25/11/0000", DateProblem.UNREADABLE),
    ("25/11/202", DateProblem.UNREADABLE),
    ("25/11-2026", DateProblem.UNREADABLE),
    ("25/11/2026/1", DateProblem.UNREADABLE),
    ("abc", DateProblem.UNREADABLE),
    ("", DateProblem.UNREADABLE),
    ("   ", DateProblem.UNREADABLE),
    ("ngày", DateProblem.UNREADABLE),
    ("2026", DateProblem.UNREADABLE),
    ("25", DateProblem.UNREADABLE),
    ("11/2026", DateProblem.UNREADABLE),
    ("thứ 8", DateProblem.UNREADABLE),
    ("thứ 1", DateProblem.UNREADABLE),
    ("t1", DateProblem.UNREADABLE),
    ("thứ", DateProblem.UNREADABLE),
    ("hôm", DateProblem.UNREADABLE),
    ("hôm qua nữa", DateProblem.UNREADABLE),
    ("ngayhom qua", DateProblem.UNREADABLE),
    ("last", DateProblem.UNREADABLE),
    ("on", DateProblem.UNREADABLE),
    ("next saturday", DateProblem.UNREADABLE),
    ("saturdays", DateProblem.UNREADABLE),
    ("thứ 7 tuần sau", DateProblem.UNREADABLE),
    ("tuần trước", DateProblem.UNREADABLE),
]


@pytest.mark.parametrize(("text", "expected"), FRIDAY_CASES)
def test_friday(text: str, expected: ParsedDate | DateProblem) -> None:
    assert parse_date(text, FRIDAY, MAX_AGE) == expected


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        # Year boundary: a day-month still ahead this year means last year.
        ("30/12", date(2026, 1, 2), last_year(date(2025, 12, 30))),
        ("2/1", date(2026, 1, 2), exact(date(2026, 1, 2))),
        ("3/1", date(2026, 1, 2), DateProblem.FUTURE),
        ("hôm qua", date(2026, 1, 1), exact(date(2025, 12, 31))),
        ("hôm kia", date(2026, 1, 1), exact(date(2025, 12, 30))),
        ("thứ 7", date(2026, 1, 2), weekday(date(2025, 12, 27))),
        ("31/12/25", date(2026, 1, 2), exact(date(2025, 12, 31))),
        # Month boundary, including a leap day.
        ("hôm qua", date(2026, 3, 1), exact(date(2026, 2, 28))),
        ("hôm qua", date(2024, 3, 1), exact(date(2024, 2, 29))),
        ("hôm kia", date(2026, 12, 1), exact(date(2026, 11, 29))),
        ("chủ nhật", date(2026, 12, 1), weekday(date(2026, 11, 29))),
        ("29/2", date(2024, 3, 1), exact(date(2024, 2, 29))),
        ("29/2", date(2025, 1, 10), last_year(date(2024, 2, 29))),
        ("29/2", date(2024, 2, 28), DateProblem.FUTURE),  # tomorrow
        # A weekday name on that very weekday means today, otherwise the last one.
        ("thứ 7", date(2026, 11, 28), weekday(date(2026, 11, 28))),
        ("t7", date(2026, 11, 29), weekday(date(2026, 11, 28))),
        ("chủ nhật", date(2026, 11, 29), weekday(date(2026, 11, 29))),
        ("cn", date(2026, 11, 28), weekday(date(2026, 11, 22))),
        ("thứ 2", date(2026, 11, 30), weekday(date(2026, 11, 30))),
        ("thứ 2", date(2026, 11, 29), weekday(date(2026, 11, 23))),
    ],
)
def test_other_days(text: str, today: date, expected: ParsedDate | DateProblem) -> None:
    assert parse_date(text, today, MAX_AGE) == expected


@pytest.mark.parametrize(
    ("text", "max_age_days", "expected"),
    [
        ("hôm nay", 0, exact(FRIDAY)),
        ("hôm qua", 0, DateProblem.TOO_OLD),
        ("hôm qua", 1, exact(date(2026, 11, 26))),
        ("thứ 2", 4, weekday(date(2026, 11, 23))),
        ("thứ 2", 3, DateProblem.TOO_OLD),
        ("20/11", 7, exact(date(2026, 11, 20))),
        ("19/11", 7, DateProblem.TOO_OLD),
        ("20/11", 6, DateProblem.TOO_OLD),
        ("28/11/2026", 0, DateProblem.FUTURE),
    ],
)
def test_max_age(text: str, max_age_days: int, expected: ParsedDate | DateProblem) -> None:
    assert parse_date(text, FRIDAY, max_age_days) == expected


def test_negative_max_age_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_date("hôm nay", FRIDAY, -1)


def test_problems_are_strings_for_logs_and_callbacks() -> None:
    assert [str(problem) for problem in DateProblem] == ["unreadable", "future", "too_old"]


# --- ranges of days and whole dates (exports) ---------------------------------------------------

D = date


@pytest.mark.parametrize(("text", "expected"), [
    ("01/01/2026 - 30/06/2026", (D(2026, 1, 1), D(2026, 6, 30))),
    ("1/1/2026-30/6/2026", (D(2026, 1, 1), D(2026, 6, 30))),
    ("01/01/2026 – 30/06/2026", (D(2026, 1, 1), D(2026, 6, 30))),
    ("01/01/2026 — 30/06/2026", (D(2026, 1, 1), D(2026, 6, 30))),
    ("từ 01/01/2026 đến 30/06/2026", (D(2026, 1, 1), D(2026, 6, 30))),
    ("Từ ngày 01/01/2026 đến ngày 30/06/2026", (D(2026, 1, 1), D(2026, 6, 30))),
    (nfd("từ 01/01/2026 đến 30/06/2026"), (D(2026, 1, 1), D(2026, 6, 30))),
    ("tu 01/01/2026 den 30/06/2026", (D(2026, 1, 1), D(2026, 6, 30))),
    ("01-01-2026 - 30-06-2026", (D(2026, 1, 1), D(2026, 6, 30))),
    ("01-01-2026-30-06-2026", (D(2026, 1, 1), D(2026, 6, 30))),
    ("01.01.2026 .. 30.06.2026", (D(2026, 1, 1), D(2026, 6, 30))),
    ("2026-01-01 - 2026-06-30", (D(2026, 1, 1), D(2026, 6, 30))),
    ("01 / 01 / 2026 - 30 / 06 / 2026", (D(2026, 1, 1), D(2026, 6, 30))),
    ("1/1/26 - 30/6/26", (D(2026, 1, 1), D(2026, 6, 30))),
    # Across a year's end, and days typed without their year.
    ("15/12/2025 - 15/01/2026", (D(2025, 12, 15), D(2026, 1, 15))),
    ("01/10 - 31/12", (D(2026, 10, 1), D(2026, 12, 31))),
    ("01/10 - 31/12/2025", (D(2025, 10, 1), D(2025, 12, 31))),
    ("15/12 - 15/01/2026", (D(2025, 12, 15), D(2026, 1, 15))),
    ("15/12/2025 - 15/01", (D(2025, 12, 15), D(2026, 1, 15))),
    ("15/12 - 15/01", (D(2025, 12, 15), D(2026, 1, 15))),
    # Read as typed; whether the range can be exported is bot/rules/periods.py's.
    ("30/06/2026 - 01/01/2026", (D(2026, 6, 30), D(2026, 1, 1))),
    ("31/02/2026 - 30/06/2026", RangeProblem.NO_SUCH_DAY),
    ("01/13/2026 - 30/06/2026", RangeProblem.NO_SUCH_DAY),
    ("", RangeProblem.UNREADABLE),
    ("năm nay", RangeProblem.UNREADABLE),
    ("01/01/2026", RangeProblem.UNREADABLE),
    ("01/01/2026 và 30/06/2026", RangeProblem.UNREADABLE),
    ("01/01/2026 - 30/06/2026 - 31/12/2026", RangeProblem.UNREADABLE),
    ("📅 01/01/2026 - 30/06/2026", RangeProblem.UNREADABLE),
    ("<b>01/01/2026</b> - 30/06/2026", RangeProblem.UNREADABLE),
    ("9" * 5000, RangeProblem.UNREADABLE),
])
def test_a_typed_range(text: str, expected: object) -> None:
    assert parse_range(text, FRIDAY) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("30/06/2026", D(2026, 6, 30)),
    ("1/7/2026", D(2026, 7, 1)),
    ("30-06-2026", D(2026, 6, 30)),
    ("30.06.26", D(2026, 6, 30)),
    ("2026-06-30", D(2026, 6, 30)),
    (" 2026-6-3 ", D(2026, 6, 3)),
    ("30/06", None),
    ("31/06/2026", None),
    ("2026/06/30", None),
    ("hôm qua", None),
    ("", None),
])
def test_a_whole_date(text: str, expected: date | None) -> None:
    assert parse_day(text) == expected
