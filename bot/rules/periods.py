"""Reporting periods in local time: ISO weeks (Monday–Sunday), months, quarters, half years,
years, and the ranges of days someone chooses for an export (`chosen_period`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo


class PeriodKind(StrEnum):
    THIS_WEEK = "this_week"
    LAST_WEEK = "last_week"
    THIS_MONTH = "this_month"
    LAST_MONTH = "last_month"
    THIS_QUARTER = "this_quarter"
    LAST_QUARTER = "last_quarter"
    FIRST_HALF = "first_half"  # 6 tháng đầu năm: January to June of this year
    THIS_YEAR = "this_year"
    LAST_YEAR = "last_year"


@dataclass(frozen=True)
class Period:
    """Local days `first` to `last`, both included."""

    first: dt.date
    last: dt.date

    def moments(self, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """The same days as aware instants [start, end): for timestamps such as received_at."""
        start = dt.datetime.combine(self.first, dt.time(), zone)
        end = dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), zone)
        return start, end

    def __contains__(self, day: dt.date) -> bool:
        return self.first <= day <= self.last


def week_of(day: dt.date) -> Period:
    monday = day - dt.timedelta(days=day.weekday())
    return Period(monday, monday + dt.timedelta(days=6))


def month_of(day: dt.date) -> Period:
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return Period(first, following - dt.timedelta(days=1))


def _shifted(month: Period, cutoff: int) -> Period:
    """The month that ends on its `cutoff` day and starts the day after the previous one's."""
    previous = month_of(month.first - dt.timedelta(days=1))
    return Period(previous.first.replace(day=cutoff) + dt.timedelta(days=1),
                  month.first.replace(day=cutoff))


def reporting_month_of(day: dt.date, cutoff: int | None = None) -> Period:
    """The reporting month holding `day`: the calendar month, or with a cut-off day (e.g. 15)
    the days after the previous month's cut-off up to this month's (16/10–15/11 is tháng 11)."""
    if cutoff is None:
        return month_of(day)
    month = month_of(day if day.day <= cutoff else month_of(day).last + dt.timedelta(days=1))
    return _shifted(month, cutoff)


def quarter_of(day: dt.date) -> Period:
    first_month = 3 * ((day.month - 1) // 3) + 1
    first = dt.date(day.year, first_month, 1)
    return Period(first, month_of(dt.date(day.year, first_month + 2, 1)).last)


def year_of(year: int) -> Period:
    return Period(dt.date(year, 1, 1), dt.date(year, 12, 31))


def period(kind: PeriodKind, today: dt.date, month_cutoff: int | None = None) -> Period:
    match kind:
        case PeriodKind.THIS_WEEK:
            return week_of(today)
        case PeriodKind.LAST_WEEK:
            return week_of(today - dt.timedelta(days=7))
        case PeriodKind.THIS_MONTH:
            return reporting_month_of(today, month_cutoff)
        case PeriodKind.LAST_MONTH:
            this_month = reporting_month_of(today, month_cutoff)
            return reporting_month_of(this_month.first - dt.timedelta(days=1), month_cutoff)
        case PeriodKind.THIS_QUARTER:
            return quarter_of(today)
        case PeriodKind.LAST_QUARTER:
            return quarter_of(quarter_of(today).first - dt.timedelta(days=1))
        case PeriodKind.FIRST_HALF:
            return Period(dt.date(today.year, 1, 1), dt.date(today.year, 6, 30))
        case PeriodKind.THIS_YEAR:
            return year_of(today.year)
        case PeriodKind.LAST_YEAR:
            return year_of(today.year - 1)


class PeriodProblem(StrEnum):
    """Why a range of days someone chose cannot be exported."""

    END_BEFORE_START = "end_before_start"
    NOT_STARTED = "not_started"  # begins after today: nothing can have happened in it
    TOO_EARLY = "too_early"  # before EARLIEST
    TOO_LONG = "too_long"  # more than LONGEST_YEARS


EARLIEST = dt.date(2000, 1, 1)  # long before any report (Directive 05-CT/TW is of 2016)
# A party congress's term (nhiệm kỳ) is five years, and one that starts mid-year spans six
# calendar years: the longest range anyone has a reason to export at once.
LONGEST_YEARS = 6


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28) + dt.timedelta(days=1)


def chosen_period(first: dt.date, last: dt.date, today: dt.date) -> Period | PeriodProblem:
    """The days from `first` to `last` as a period to export, if they make one."""
    if last < first:
        return PeriodProblem.END_BEFORE_START
    if first < EARLIEST:
        return PeriodProblem.TOO_EARLY
    if first > today:
        return PeriodProblem.NOT_STARTED
    if last >= _years_after(first, LONGEST_YEARS):
        return PeriodProblem.TOO_LONG
    return Period(first, last)


def key_of(period: Period) -> str:
    """The period as the deliveries ledger names it: '2026-W47' (ISO week), '2026-11' (calendar
    month), else '2026-10-16..2026-11-15'."""
    if period == week_of(period.first):
        iso = period.first.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if period == month_of(period.first):
        return period.first.strftime("%Y-%m")
    return f"{period.first.isoformat()}..{period.last.isoformat()}"
