"""Periods: ISO weeks across month and year ends, months, quarters, years; local-time bounds."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.rules.periods import Period, PeriodKind, period
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
