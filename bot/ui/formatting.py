"""Numbers, money and dates the way Vietnamese readers expect them: 20.000.000 đ, 27/11/2026."""

from __future__ import annotations

import datetime as dt

from babel.numbers import format_decimal, format_percent

from bot.ui.catalogue import Texts

_LOCALES = {"vi": "vi_VN", "en": "en_US"}


def number(value: int, t: Texts) -> str:
    return format_decimal(value, locale=_LOCALES.get(t.lang, "vi_VN"))


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


def day_range(first: dt.date, last: dt.date, year: bool = True) -> str:
    """"23–29/11/2026", "30/11–06/12/2026", "29/12/2025–04/01/2026"; without the year,
    "23–29/11" and "30/11–06/12"."""
    if year and first.year != last.year:
        return f"{day(first)}–{day(last)}"
    head = first.strftime("%d") if first.month == last.month else day_month(first)
    return f"{head}–{day(last) if year else day_month(last)}"
