"""Numbers, money and dates the way Vietnamese readers expect them: 20.000.000 đ, 27/11/2026."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from babel.numbers import format_decimal, format_percent

from bot.ui.catalogue import Texts

_LOCALES = {"vi": "vi_VN", "en": "en_US"}


def number(value: int, t: Texts) -> str:
    return format_decimal(value, locale=_LOCALES.get(t.lang, "vi_VN"))


def helped(households: int, people: int, t: Texts,
           count: Callable[[int], str] | None = None) -> str:
    """"3 hộ, 22 người", saying only what is not zero ("" when both are): how many were helped,
    the same words in /stats, digests and everywhere else. `count` writes a number (a digest of
    a province passes its cached one)."""
    write = count or (lambda value: number(value, t))
    return ", ".join(t.plain(f"format.{key}", count=write(value))
                     for key, value in (("households", households), ("people", people)) if value)


def percent(share: float, t: Texts) -> str:
    """26,5% (one decimal at most, in the reader's language)."""
    return format_percent(share, format="#,##0.#%", locale=_LOCALES.get(t.lang, "vi_VN"))


def money(amount: int, t: Texts) -> str:
    return t.plain("format.money", amount=number(amount, t))


def day(value: dt.date) -> str:
    return value.strftime("%d/%m/%Y")


def day_time(value: dt.datetime) -> str:
    """27/11/2026 07:30, in the zone `value` is in."""
    return value.strftime("%d/%m/%Y %H:%M")


def day_month(value: dt.date) -> str:
    return value.strftime("%d/%m")


def weekday_name(value: dt.date, t: Texts) -> str:
    return t.plain(f"weekday.{value.weekday()}")


def relative_day_label(value: dt.date, today: dt.date, t: Texts) -> str:
    """"Hôm nay 27/11", "Hôm qua 26/11", "Thứ Tư 25/11"."""
    offset = (today - value).days
    name = {0: t.plain("date.today"), 1: t.plain("date.yesterday")}.get(
        offset, weekday_name(value, t)
    )
    return f"{name} {day_month(value)}"


def preview(text: str, limit: int) -> str:
    """The text on one line, cut to `limit` characters with "…"."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def period_span(first: dt.date, last: dt.date, year: bool = True) -> str:
    """The one way every screen writes a period: "23/11–29/11/2026", "28/12/2026–03/01/2027"
    across years, "29/11/2026" for one day; without the year (chart labels) "23/11–29/11"."""
    if not year:
        return day_month(first) if first == last else f"{day_month(first)}–{day_month(last)}"
    if first == last:
        return day(first)
    if first.year != last.year:
        return f"{day(first)}–{day(last)}"
    return f"{day_month(first)}–{day(last)}"
