"""The words of what the scheduler sends besides digests: the reminder to a unit's group, the
private nudge to a member who has not reported this week, a custom reminder; and which days
are Vietnam's public holidays (no reminder, no nudge)."""

from __future__ import annotations

import datetime as dt
from functools import cache

import holidays

from bot import formatting
from bot.catalogue import Markup, Texts
from bot.counting import Basis, unit_figures
from bot.nudge_settings import NUDGE_REPORT, TURN_OFF
from bot.periods import Period
from bot.screens import Button, Screen
from bot.services import Services
from storage import meta
from storage.db import Tx
from storage.nudges import Recipient

SUNDAY = 6


@cache
def _vietnam() -> holidays.HolidayBase:
    return holidays.country_holidays("VN")


def is_holiday(day: dt.date) -> bool:
    """Tết, Quốc khánh and Vietnam's other public holidays (the `holidays` package)."""
    return day in _vietnam()


def week_span(week: Period) -> str:
    """23–29/11; 30/11–06/12 across months; 28/12/2026–03/01/2027 across years."""
    first, last = week.first, week.last
    if first.year != last.year:
        return f"{formatting.day(first)}–{formatting.day(last)}"
    if first.month != last.month:
        return f"{formatting.day_month(first)}–{formatting.day_month(last)}"
    return f"{first.day:02d}–{formatting.day_month(last)}"


async def bot_username(tx: Tx, services: Services) -> str | None:
    return await meta.get(tx, "bot_username") or services.settings.bot_username


async def group_reminder(tx: Tx, services: Services, unit_id: int, week: Period,
                         day: dt.date) -> Screen:
    """"📌 Tuần này (23–29/11), Chi bộ … đã có 12 việc làm theo Bác của 9/34 đồng chí. Đề nghị
    …". Positive: a week with nothing yet says so without a zero. Groups read Vietnamese."""
    t = services.texts(None)
    figures = await unit_figures(tx, services, unit_id, week, Basis.RECEIVED)
    span, name = week_span(week), figures.unit.name
    share = figures.participation
    if figures.reports.total == 0:
        head = t("reminder.group_none", week=span, unit=name)
    elif share.expected:
        head = t("reminder.group", week=span, unit=name,
                 reports=formatting.number(figures.reports.total, t),
                 reported=formatting.number(share.reported, t),
                 expected=formatting.number(share.expected, t))
    else:
        head = t("reminder.group_reports", week=span, unit=name,
                 reports=formatting.number(figures.reports.total, t))
    ask = t("reminder.ask_today" if day.weekday() == SUNDAY else "reminder.ask")
    username = await bot_username(tx, services)
    how = t("reminder.how", bot=username) if username else t("reminder.how_private")
    return Screen(Markup(f"{head} {ask} {how}"))


def nudge(services: Services, person: Recipient, week: Period) -> Screen:
    """One warm line to a member who has not reported this week, in their language, with a
    button that opens the report form and one that turns nudges off."""
    t = services.texts(person.lang)
    buttons = ((Button(t.plain("reminder.nudge_report"), NUDGE_REPORT),
                Button(t.plain("reminder.nudge_off"), TURN_OFF)),)
    return Screen(t("reminder.nudge", name=person.full_name, week=week_span(week)), buttons)


def custom(services: Services, text: str) -> Screen:
    t: Texts = services.texts(None)
    return Screen(t("reminder.custom", text=text))
