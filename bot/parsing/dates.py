"""Read the day a deed was done, as members type it: "hôm qua", "t7", "25/11", "5/1/26".

The parser never reads a clock: the caller passes `today` (the local date in
Asia/Ho_Chi_Minh), so the same text always gives the same answer and tests need no mocking.
Problems come back as values, not exceptions, because each one gets its own reply to the user.
"""

from __future__ import annotations

import contextlib
import datetime
import enum
import re
from dataclasses import dataclass

from bot.parsing.text import fold


@dataclass(frozen=True)
class ParsedDate:
    value: datetime.date
    needs_confirmation: bool
    """True when inferred from a weekday name: "thứ 7" could mean last week's Saturday too,
    so the bot confirms ("Đồng chí muốn chọn Thứ Bảy 21/11/2026?") before saving."""


class DateProblem(enum.StrEnum):
    UNREADABLE = "unreadable"
    FUTURE = "future"
    TOO_OLD = "too_old"


# Days back from today. "mai" (tomorrow) is understood only so it can be refused as FUTURE
# instead of confusing the member with "unreadable".
_RELATIVE: dict[str, int] = {
    "nay": 0,
    "hom nay": 0,
    "qua": 1,
    "hom qua": 1,
    "kia": 2,
    "hom kia": 2,
    "mai": -1,
    "today": 0,
    "yesterday": 1,
    "day before yesterday": 2,
    "tomorrow": -1,
}

# Vietnamese counts weekdays from Sunday as the first: thứ 2 (second day) is Monday.
# Values are Python weekdays (Monday = 0).
_WEEKDAY_WORDS: dict[str, int] = {"hai": 0, "ba": 1, "tu": 2, "nam": 3, "sau": 4, "bay": 5}
_SUNDAY = 6
# "thu" is left out of the English short forms: it is how "thứ" arrives without diacritics.
_ENGLISH_WEEKDAYS: dict[str, int] = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4, "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}

_PREFIX = re.compile(r"^ngay\b\s*")
_WEEKDAY_NUMBER = re.compile(r"(?:thu|t)\s*([2-7])")
_WEEKDAY_WORD = re.compile(rf"thu\s*({'|'.join(_WEEKDAY_WORDS)})")
_SUNDAY_NAME = re.compile(r"chu\s*nhat|cn")
_ENGLISH_WEEKDAY = re.compile(
    rf"(?:on\s+)?(?P<last>last\s+)?(?P<name>{'|'.join(_ENGLISH_WEEKDAYS)})"
)
# "thứ 7 vừa rồi" is the plain weekday said more carefully; "thứ 7 tuần trước" is the one in
# the calendar week (Monday to Sunday) before this one, even when a later one has passed.
_VIETNAMESE_QUALIFIER = re.compile(
    r"(?P<name>.+?)\s*(?:(?P<previous>tuan\s*truoc|tuan\s*roi)|vua\s*(?:roi|qua))"
)
# Day first, as Vietnamese writes it; the same separator throughout ("25/11-2026" is a typo).
_NUMERIC = re.compile(
    r"(?P<day>[0-9]{1,2})\s*(?P<sep>[/.-])\s*(?P<month>[0-9]{1,2})"
    r"(?:\s*(?P=sep)\s*(?P<year>[0-9]{4}|[0-9]{2}))?"
)
_LEAP_YEAR = 2000  # any leap year: tells "29/2" (sometimes valid) from "31/2" (never)


# How far ahead a day-and-month may be before it reads as this year's date, not last year's.
_SOON_DAYS = 31

def parse_date(text: str, today: datetime.date, max_age_days: int) -> ParsedDate | DateProblem:
    """The day meant by `text`, or why it cannot be accepted.

    A date more than `max_age_days` before `today` is TOO_OLD, so a late report cannot be
    backdated indefinitely; a date after `today` is FUTURE because only done deeds count.
    """
    if max_age_days < 0:
        raise ValueError("max_age_days must not be negative")
    parsed = _read(_PREFIX.sub("", fold(text), count=1), today)
    if isinstance(parsed, DateProblem):
        return parsed
    if parsed.value > today:
        return DateProblem.FUTURE
    if (today - parsed.value).days > max_age_days:
        return DateProblem.TOO_OLD
    return parsed


def _read(folded: str, today: datetime.date) -> ParsedDate | DateProblem:
    if folded in _RELATIVE:
        return ParsedDate(today - datetime.timedelta(days=_RELATIVE[folded]), False)
    days_back = _weekday_days_back(folded, today.weekday())
    if days_back is not None:
        return ParsedDate(today - datetime.timedelta(days=days_back), True)
    match = _NUMERIC.fullmatch(folded)
    if match is None:
        return DateProblem.UNREADABLE
    day, month = int(match["day"]), int(match["month"])
    if match["year"] is not None:
        # Two digits mean this century: nobody reports deeds from the 1900s.
        year = int(match["year"]) + (2000 if len(match["year"]) == 2 else 0)
        try:
            return ParsedDate(datetime.date(year, month, day), False)
        except ValueError:
            return DateProblem.UNREADABLE
    return _without_year(day, month, today)


def _weekday_days_back(folded: str, today: int) -> int | None:
    """How many days ago the weekday named in `folded` was; None when none is named.

    A bare weekday is the most recent such day, today included: reports are about what was
    done. English "last saturday" is never today; "... tuần trước" lies in last week.
    """
    if match := _ENGLISH_WEEKDAY.fullmatch(folded):
        named = _ENGLISH_WEEKDAYS[match["name"]]
        return (today - named - 1) % 7 + 1 if match["last"] else (today - named) % 7
    previous_week = False
    if match := _VIETNAMESE_QUALIFIER.fullmatch(folded):
        folded, previous_week = match["name"], match["previous"] is not None
    weekday = _weekday(folded)
    if weekday is None:
        return None
    return today - weekday + 7 if previous_week else (today - weekday) % 7


def _weekday(folded: str) -> int | None:
    if match := _WEEKDAY_NUMBER.fullmatch(folded):
        return int(match[1]) - 2
    if match := _WEEKDAY_WORD.fullmatch(folded):
        return _WEEKDAY_WORDS[match[1]]
    if _SUNDAY_NAME.fullmatch(folded):
        return _SUNDAY
    return None


def _without_year(day: int, month: int, today: datetime.date) -> ParsedDate | DateProblem:
    """The latest such day not after today: "30/12" typed on 2 January means last December.

    A day that is only a few weeks ahead this year ("28/11" on 27/11) is a slip or a plan, not
    a deed from last year: FUTURE. Any date put in an earlier year is confirmed with the member
    before it is taken. Walks back more than one year only for 29/2, which then usually ends
    up TOO_OLD.
    """
    try:
        datetime.date(_LEAP_YEAR, month, day)
    except ValueError:
        return DateProblem.UNREADABLE
    with contextlib.suppress(ValueError):
        ahead = (datetime.date(today.year, month, day) - today).days
        if 0 < ahead <= _SOON_DAYS:
            return DateProblem.FUTURE
    # Eight years always contain a 29 February (leap years skip at most one in a century).
    for year in range(today.year, max(datetime.MINYEAR, today.year - 8) - 1, -1):
        try:
            candidate = datetime.date(year, month, day)
        except ValueError:
            continue
        if candidate <= today:
            return ParsedDate(candidate, needs_confirmation=year != today.year)
    return DateProblem.UNREADABLE


# --- whole dates and ranges of them (exports) ---------------------------------------------------

class RangeProblem(enum.StrEnum):
    UNREADABLE = "unreadable"  # not two dates, or with something else between them
    NO_SUCH_DAY = "no_such_day"  # 31/02/2026


def _day_pattern(name: str) -> str:
    """A day with its year (yyyy-mm-dd, or day first with one separator throughout) or without
    it (dd/mm); the groups named after `name`."""
    return (rf"(?:(?P<{name}_iso>[0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}})"
            rf"|(?P<{name}_day>[0-9]{{1,2}})(?P<{name}_sep>[/.-])(?P<{name}_month>[0-9]{{1,2}})"
            rf"(?:(?P={name}_sep)(?P<{name}_year>[0-9]{{4}}|[0-9]{{2}}))?)")


_WHOLE_DAY = re.compile(_day_pattern("a"))
# "01/01/2026 - 30/06/2026", "từ 1/1/2026 đến 30/6/2026", "2026-01-01 – 2026-06-30" (folded).
_RANGE = re.compile(
    rf"(?:tu\s*)?(?:ngay\s*)?{_day_pattern('a')}"
    r"\s*(?:-|–|—|~|->|→|\.{2,3}|…|den|toi|to|until)\s*"
    rf"(?:ngay\s*)?{_day_pattern('b')}")
# Spaces typed around a date's separators ("01 / 01 / 2026"); "-" also separates the two dates.
_SPACED = re.compile(r"\s*([/.])\s*")

Parts = tuple[int, int, int | None]  # day, month, year (None when not typed)


def _parts(match: re.Match[str], name: str) -> Parts:
    if iso := match[f"{name}_iso"]:
        year_, month_, day_ = (int(part) for part in iso.split("-"))
        return day_, month_, year_
    year_text = match[f"{name}_year"]
    # Two digits mean this century, as for a deed's date.
    year = None if year_text is None else int(year_text) + (2000 if len(year_text) == 2 else 0)
    return int(match[f"{name}_day"]), int(match[f"{name}_month"]), year


def parse_day(text: str) -> datetime.date | None:
    """A whole date, its year written: 30/06/2026, 30-6-2026, 30.06.26 or 2026-06-30."""
    match = _WHOLE_DAY.fullmatch(_SPACED.sub(r"\1", text.strip()))
    if match is None:
        return None
    day, month, year = _parts(match, "a")
    if year is None:
        return None
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def parse_range(text: str, today: datetime.date
                ) -> tuple[datetime.date, datetime.date] | RangeProblem:
    """The first and last day of a typed range, "01/01/2026 - 30/06/2026" (also with "đến",
    "den", "–"). A day typed without its year takes the other's, or this year's; a range
    that would then end before it starts ("15/12 - 15/01") begins in the year before. Whether
    the range is acceptable is bot/rules/periods.py's `chosen_period`."""
    match = _RANGE.fullmatch(_SPACED.sub(r"\1", fold(text)))
    if match is None:
        return RangeProblem.UNREADABLE
    (day_a, month_a, year_a), (day_b, month_b, year_b) = _parts(match, "a"), _parts(match, "b")
    first_year: int = year_a or year_b or today.year
    last_year: int = year_b or year_a or today.year
    try:
        first = datetime.date(first_year, month_a, day_a)
        last = datetime.date(last_year, month_b, day_b)
        if first > last and year_a is None:
            first = datetime.date(first_year - 1, month_a, day_a)
        elif first > last and year_b is None:
            last = datetime.date(last_year + 1, month_b, day_b)
    except ValueError:
        return RangeProblem.NO_SUCH_DAY
    return first, last
