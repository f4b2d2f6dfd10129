"""What the scheduler sends besides digests, and its words: Friday's reminder to a unit's
group (held to the end of the quiet hours, like everything the scheduler sends), the private
nudge to each member who has not reported this week (one a week, whatever the number of units
that remind; not in the quiet hours; not on a public holiday), and a leader's custom reminder
to the group."""

from __future__ import annotations

import datetime as dt

from bot.flows.invites import bot_username
from bot.flows.settings import TURN_OFF, ReportNow
from bot.rules import deliveries
from bot.rules.counting import Basis, not_reported, unit_figures
from bot.rules.deliveries import Outgoing
from bot.rules.periods import Period, key_of, week_of
from bot.rules.schedules import CUSTOM, NUDGE, REMINDER, Due, custom_period, is_holiday
from bot.runtime.services import Services
from bot.ui import formatting
from bot.ui.catalogue import Markup, Texts
from bot.ui.screens import Button, Screen
from storage import groups, reminders
from storage.db import Tx
from storage.reminders import Recipient

SUNDAY = 6


async def group_reminder(tx: Tx, services: Services, unit_id: int, week: Period,
                         day: dt.date) -> Screen:
    """"📌 Tuần này (23/11–29/11/2026), Chi bộ … đã có 12 việc làm theo Bác của 9/34 đồng
    chí. Đề nghị …". Positive: a week with nothing yet says so without a zero. Groups read
    Vietnamese."""
    t = services.texts(None)
    figures = await unit_figures(tx, services.settings, unit_id, week, Basis.RECEIVED)
    span, name = formatting.period_span(week.first, week.last), figures.unit.name
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
    username = await bot_username(tx, services.settings, unit_id)
    how = t("reminder.how", bot=username) if username else t("reminder.how_private")
    return Screen(Markup(f"{head} {ask} {how}"))


def nudge(services: Services, person: Recipient, week: Period) -> Screen:
    """One warm line to someone who has not reported this week, in their language, with a
    button that opens the report form and one that turns nudges off. A leader reports too (they
    count in their unit's y, bot/rules/counting.py), and is asked as one who sets the example,
    not as a member told to report to the cell."""
    t = services.texts(person.lang)
    buttons = ((Button(t.plain("reminder.nudge_report"), ReportNow().pack()),
                Button(t.plain("reminder.nudge_off"), TURN_OFF.pack())),)
    key = "reminder.nudge_leader" if person.leads else "reminder.nudge"
    week_dates = formatting.period_span(week.first, week.last)
    return Screen(t(key, name=person.full_name, week=week_dates), buttons)


def custom_reminder(services: Services, text: str) -> Screen:
    t: Texts = services.texts(None)
    return Screen(t("reminder.custom", text=text))


class Reminders:
    """Decides a reminder row's messages into the deliveries ledger (see bot/rules/schedules.py
    for when)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def _decide(self, tx: Tx, kind: str, unit_id: int, period: str,
                      items: list[Outgoing], late: bool) -> int:
        return await deliveries.decide(tx, self.services.now(), kind, unit_id, period, items,
                                       late)

    async def reminder(self, tx: Tx, due: Due) -> int:
        """Friday's reminder to the group, and the week's nudges (not when late, in the quiet
        hours, on a holiday, or once the week is over)."""
        schedule, day, late = due.schedule, due.day, due.late
        week = week_of(day)
        key = key_of(week)
        unit_id = schedule.unit_id
        added = 0
        today = self.services.today()
        group = await groups.group_of_unit(tx, unit_id)
        if group is not None and not await deliveries.group_had(tx, REMINDER, unit_id, key) \
                and (late or not self.services.quiet_now()):
            # In the quiet hours the group waits for the morning's run, which sends it within
            # the grace window (records it missed after), unless the week it asks about is over.
            screen = await group_reminder(tx, self.services, unit_id, week, day)
            added += await self._decide(tx, REMINDER, unit_id, key, [Outgoing(group, screen)],
                                        late or today not in week)
        if late or self.services.quiet_now() or today not in week or is_holiday(today):
            return added
        return added + await self._nudges(tx, unit_id, week, key)

    async def _nudges(self, tx: Tx, unit_id: int, week: Period, key: str) -> int:
        """One nudge a week to each member of the unit's subtree who has not reported, wants
        nudges and can be reached, unless another unit's reminder already nudged them."""
        missing = await not_reported(tx, self.services.settings, unit_id, week, Basis.RECEIVED)
        nudged = await reminders.nudged_chats(tx, key)
        items = [
            Outgoing(person.telegram_user_id, nudge(self.services, person, week),
                     person_id=person.person_id)
            for person in await reminders.recipients(tx, missing)
            if person.telegram_user_id not in nudged
        ]
        return await self._decide(tx, NUDGE, unit_id, key, items, late=False)

    async def custom(self, tx: Tx, due: Due) -> int:
        """A custom reminder goes to the unit's group only: its words are written for the
        group, and members already get their own nudge. No group, nothing to send."""
        schedule, day, late = due.schedule, due.day, due.late
        group = await groups.group_of_unit(tx, schedule.unit_id)
        period = custom_period(day, schedule.id)
        if group is None or not schedule.text or (not late and self.services.quiet_now()) \
                or await deliveries.group_had(tx, CUSTOM, schedule.unit_id, period):
            return 0  # in the quiet hours: the morning's run sends it, within the grace window
        screen = custom_reminder(self.services, schedule.text)
        return await self._decide(tx, CUSTOM, schedule.unit_id, period,
                                  [Outgoing(group, screen)], late)
