"""Periods: ISO weeks across month and year ends, months, quarters, years; local-time bounds."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.rules.periods import (
    EARLIEST,
    Period,
    PeriodKind,
    PeriodProblem,
    chosen_period,
    period,
)
from tests.harness import HANOI

D = dt.date


@pytest.mark.parametrize(("kind", "today", "first", "last"), [
    (PeriodKind.THIS_WEEK, D(2026, 11, 27), D(2026, 11, 23), D(2026, 11, 29)),
    (PeriodKind.THIS_WEEK, D(2026, 11, 23), D(2026, 11, 23), D(2026, 11, 29)),
    (PeriodKind.THIS_WEEK, D(2026, 11, 29), D(2026, 11, 23), D(2026, 11, 29)),
    (PeriodKind.LAST_WEEK, D(2026, 11, 27), D(2026, 11, 16), D(2026, 11, 22)),
    # ISO week 1 of 2027 starts on Monday 04/01/2027; 01/01/2027 is in week 53 of 2026.
    (PeriodKind.THIS_WEEK, D(2027, 1, 1), D(2026, 12, 28), D(2027, 1, 3)),
    (PeriodKind.LAST_WEEK, D(2027, 1, 5), D(2026, 12, 28), D(2027, 1, 3)),
    (PeriodKind.THIS_MONTH, D(2028, 2, 10), D(2028, 2, 1), D(2028, 2, 29)),
    (PeriodKind.THIS_MONTH, D(2026, 12, 31), D(2026, 12, 1), D(2026, 12, 31)),
    (PeriodKind.THIS_QUARTER, D(2026, 11, 27), D(2026, 10, 1), D(2026, 12, 31)),
    (PeriodKind.THIS_QUARTER, D(2026, 2, 1), D(2026, 1, 1), D(2026, 3, 31)),
    (PeriodKind.THIS_YEAR, D(2026, 11, 27), D(2026, 1, 1), D(2026, 12, 31)),
    (PeriodKind.LAST_YEAR, D(2026, 1, 1), D(2025, 1, 1), D(2025, 12, 31)),
    (PeriodKind.LAST_MONTH, D(2026, 11, 27), D(2026, 10, 1), D(2026, 10, 31)),
    (PeriodKind.LAST_MONTH, D(2026, 1, 1), D(2025, 12, 1), D(2025, 12, 31)),
    (PeriodKind.LAST_MONTH, D(2028, 3, 31), D(2028, 2, 1), D(2028, 2, 29)),
    (PeriodKind.LAST_QUARTER, D(2026, 11, 27), D(2026, 7, 1), D(2026, 9, 30)),
    (PeriodKind.LAST_QUARTER, D(2026, 2, 1), D(2025, 10, 1), D(2025, 12, 31)),
    (PeriodKind.LAST_QUARTER, D(2026, 4, 1), D(2026, 1, 1), D(2026, 3, 31)),
    (PeriodKind.FIRST_HALF, D(2026, 11, 27), D(2026, 1, 1), D(2026, 6, 30)),
    (PeriodKind.FIRST_HALF, D(2026, 3, 2), D(2026, 1, 1), D(2026, 6, 30)),
])
def test_period_days(kind: PeriodKind, today: dt.date, first: dt.date, last: dt.date) -> None:
    assert period(kind, today) == Period(first, last)


def test_moments_are_local_midnights() -> None:
    start, end = Period(D(2026, 11, 23), D(2026, 11, 29)).moments(HANOI)
    # Midnight in Hà Nội is 17:00 UTC the day before.
    assert start.astimezone(dt.UTC) == dt.datetime(2026, 11, 22, 17, 0, tzinfo=dt.UTC)
    assert end.astimezone(dt.UTC) == dt.datetime(2026, 11, 29, 17, 0, tzinfo=dt.UTC)
    assert D(2026, 11, 29) in Period(D(2026, 11, 23), D(2026, 11, 29))


@pytest.mark.parametrize(("today", "cutoff", "first", "last"), [
    (D(2026, 11, 15), 15, D(2026, 10, 16), D(2026, 11, 15)),
    (D(2026, 11, 16), 15, D(2026, 11, 16), D(2026, 12, 15)),
    (D(2026, 12, 20), 15, D(2026, 12, 16), D(2027, 1, 15)),
    (D(2027, 1, 1), 15, D(2026, 12, 16), D(2027, 1, 15)),
    (D(2028, 3, 1), 28, D(2028, 2, 29), D(2028, 3, 28)),
    (D(2028, 2, 29), 28, D(2028, 2, 29), D(2028, 3, 28)),
    (D(2026, 11, 27), None, D(2026, 11, 1), D(2026, 11, 30)),
])
def test_a_cut_off_day_shifts_the_month(today: dt.date, cutoff: int | None, first: dt.date,
                                        last: dt.date) -> None:
    assert period(PeriodKind.THIS_MONTH, today, cutoff) == Period(first, last)
    # Every day belongs to exactly one reporting month: consecutive months meet.
    following = period(PeriodKind.THIS_MONTH, last + dt.timedelta(days=1), cutoff)
    assert following.first == last + dt.timedelta(days=1)


@pytest.mark.parametrize(("today", "cutoff", "first", "last"), [
    # Tháng 11 is 16/10–15/11: on 27/11 it is tháng 12 (16/11–15/12), and last month tháng 11.
    (D(2026, 11, 27), 15, D(2026, 10, 16), D(2026, 11, 15)),
    (D(2026, 11, 15), 15, D(2026, 9, 16), D(2026, 10, 15)),
    (D(2027, 1, 10), 15, D(2026, 11, 16), D(2026, 12, 15)),
    (D(2027, 1, 20), 15, D(2026, 12, 16), D(2027, 1, 15)),
    (D(2026, 11, 27), None, D(2026, 10, 1), D(2026, 10, 31)),
])
def test_last_month_follows_the_cut_off_day(today: dt.date, cutoff: int | None, first: dt.date,
                                           last: dt.date) -> None:
    last_month = period(PeriodKind.LAST_MONTH, today, cutoff)
    assert last_month == Period(first, last)
    # It ends the day before this month starts.
    this_month = period(PeriodKind.THIS_MONTH, today, cutoff)
    assert last_month.last + dt.timedelta(days=1) == this_month.first


@pytest.mark.parametrize(("first", "last", "expected"), [
    (D(2026, 1, 1), D(2026, 6, 30), Period(D(2026, 1, 1), D(2026, 6, 30))),
    (D(2025, 12, 15), D(2026, 1, 15), Period(D(2025, 12, 15), D(2026, 1, 15))),
    (D(2026, 11, 27), D(2026, 11, 27), Period(D(2026, 11, 27), D(2026, 11, 27))),
    # It may end after today (this year, to date), not start after it.
    (D(2026, 1, 1), D(2026, 12, 31), Period(D(2026, 1, 1), D(2026, 12, 31))),
    (D(2026, 11, 28), D(2026, 12, 31), PeriodProblem.NOT_STARTED),
    (D(2026, 6, 30), D(2026, 1, 1), PeriodProblem.END_BEFORE_START),
    # A whole term (nhiệm kỳ) of six calendar years is one range; a day more is not.
    (D(2020, 1, 1), D(2025, 12, 31), Period(D(2020, 1, 1), D(2025, 12, 31))),
    (D(2020, 1, 1), D(2026, 1, 1), PeriodProblem.TOO_LONG),
    (D(2020, 2, 29), D(2026, 2, 28), Period(D(2020, 2, 29), D(2026, 2, 28))),
    (D(2020, 2, 29), D(2026, 3, 1), PeriodProblem.TOO_LONG),
    (D(1900, 1, 1), D(1900, 12, 31), PeriodProblem.TOO_EARLY),
    (EARLIEST, D(2000, 12, 31), Period(EARLIEST, D(2000, 12, 31))),
])
def test_a_chosen_range_of_days(first: dt.date, last: dt.date,
                                expected: Period | PeriodProblem) -> None:
    assert chosen_period(first, last, D(2026, 11, 27)) == expected
