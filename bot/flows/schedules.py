"""/schedule (leaders): a unit's digest, reminder, its leaders' daily review notice and custom
reminders, shown and changed with
buttons; custom reminders are added with a short form (words, weekday, time). Every press reads
the schedule row again and is checked against its real unit. After a change the unit's rows go
to `jobs` (a JobsSignal), once the change is committed, so that its jobs are rebuilt.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from typing import Annotated

from bot.forms.conversations import Conversations, Refusal
from bot.forms.engine import Choice, DraftState, FormContext, Problem
from bot.forms.render import FormView
from bot.forms.spec import Field, FieldType, Form
from bot.parsing.text import fold
from bot.rules.access import Action, Request
from bot.rules.schedules import JobsSignal, RowsByUnit, ensure_standard
from bot.runtime.config import Settings
from bot.ui import formatting
from bot.ui.buttons import Between, ButtonData, Id, Page
from bot.ui.catalogue import Markup, Texts
from bot.ui.paging import in_tree_order, page_of, turns
from bot.ui.screens import Button, Keyboard, Reply, Screen, rows
from storage import audit, drafts, groups, schedules, units
from storage.db import Tx
from storage.entities import Draft, Unit
from storage.schedules import Every, NewSchedule, Schedule, ScheduleKind

log = logging.getLogger(__name__)

FORM_NAME = "schedule_reminder"
TEXT_MIN, TEXT_MAX = 3, 500
MAX_CUSTOM = 10
UNITS_PAGE = 8
PREVIEW = 40
STALE = "schedule.stale"
# The hours offered as buttons; any minute can be typed when adding a custom reminder.
TIMES = tuple(dt.time(hour, minute) for hour in range(5, 22) for minute in (0, 30))[:-1]

REMINDER_FORM = Form(FORM_NAME, (
    Field("text", FieldType.LONG_TEXT, min=TEXT_MIN, max=TEXT_MAX),
    Field("weekday", FieldType.CHOICE, source="weekdays"),
    Field("at", FieldType.TEXT, max=20),
), summary=False)

_TIME = re.compile(r"(\d{1,2})\s*(?:(?::|h|g|\.|gio)\s*(\d{2})?\s*(?:p|phut)?)?")


def parse_time(text: str) -> dt.time | None:
    """"7:30", "07:30", "7h30", "7h", "7 giờ 30", "19" → the time; anything else None."""
    found = _TIME.fullmatch(fold(text))
    if found is None:
        return None
    hour, minute = int(found.group(1)), int(found.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


# --- the buttons ------------------------------------------------------------------------------


class SchedulePage(ButtonData, prefix="sc:pg", action=Action.SCHEDULE):
    """The units in reach, a page of them."""

    page: Page


class UnitSchedule(ButtonData, prefix="sc:v", action=Action.SCHEDULE):
    unit: Id


class AddReminder(ButtonData, prefix="sc:add", action=Action.SCHEDULE):
    """A custom reminder for the unit (the form `schedule_reminder`)."""

    unit: Id


class TurnOn(ButtonData, prefix="sc:on", action=Action.SCHEDULE):
    schedule: Id


class TurnOff(ButtonData, prefix="sc:off", action=Action.SCHEDULE):
    schedule: Id


class Weekly(ButtonData, prefix="sc:ew", action=Action.SCHEDULE):
    schedule: Id


class Monthly(ButtonData, prefix="sc:em", action=Action.SCHEDULE):
    schedule: Id


class DayPicker(ButtonData, prefix="sc:dp", action=Action.SCHEDULE):
    schedule: Id


class SetDay(ButtonData, prefix="sc:d", action=Action.SCHEDULE):
    schedule: Id
    day: Annotated[int, Between(0, 28)]  # a weekday 0–6, or a day of the month 1–28


class TimePicker(ButtonData, prefix="sc:tp", action=Action.SCHEDULE):
    schedule: Id


class SetTime(ButtonData, prefix="sc:t", action=Action.SCHEDULE):
    schedule: Id
    hhmm: Annotated[int, Between(0, 2359)]  # 730 for 07:30


class AskRemoveReminder(ButtonData, prefix="sc:rm", action=Action.SCHEDULE):
    schedule: Id


class RemoveReminder(ButtonData, prefix="sc:rmy", action=Action.SCHEDULE):
    schedule: Id


OnUnit = UnitSchedule | AddReminder
Change = TurnOn | TurnOff | Weekly | Monthly | SetDay | SetTime
OnRow = Change | DayPicker | TimePicker | AskRemoveReminder | RemoveReminder
Press = SchedulePage | OnUnit | OnRow
BUTTONS = (SchedulePage, UnitSchedule, AddReminder, TurnOn, TurnOff, Weekly, Monthly, DayPicker,
           SetDay, TimePicker, SetTime, AskRemoveReminder, RemoveReminder)


# --- how a schedule reads ---------------------------------------------------------------------


def _time(at: dt.time) -> str:
    return at.strftime("%H:%M")


def _weekday(t: Texts, number: int) -> str:
    return t.plain(f"weekday.{number}")


def when(t: Texts, row: Schedule) -> str:
    """"hằng tuần, Thứ Hai 07:30", "hằng tháng, ngày 1, 08:00", "Thứ Sáu 16:00", "hằng ngày
    19:00"."""
    if row.every is Every.DAY:
        return t.plain("schedule.daily", time=_time(row.at))
    if row.kind is ScheduleKind.DIGEST and row.every is Every.MONTH:
        return t.plain("schedule.monthly", day=row.month_day or 1, time=_time(row.at))
    if row.kind is ScheduleKind.DIGEST:
        return t.plain("schedule.weekly", day=_weekday(t, row.weekday or 0), time=_time(row.at))
    return t.plain("schedule.day_time", day=_weekday(t, row.weekday or 0), time=_time(row.at))


def _customs(rows_: list[Schedule]) -> list[Schedule]:
    return [r for r in rows_ if r.kind is ScheduleKind.CUSTOM]


def _standard(rows_: list[Schedule], kind: ScheduleKind) -> Schedule | None:
    return next((r for r in rows_ if r.kind is kind), None)


async def schedule_screen(req: Request, unit: Unit) -> Screen:
    """The unit's schedule and the buttons that change it."""
    t = req.t
    found = await schedules.of_unit(req.tx, unit.id)
    digest = _standard(found, ScheduleKind.DIGEST)
    reminder = _standard(found, ScheduleKind.REMINDER)
    review = _standard(found, ScheduleKind.REVIEW)
    customs = _customs(found)

    def state(row: Schedule) -> Markup:
        return Markup("") if row.enabled else t("schedule.off_mark")

    lines = [t("schedule.title", unit=unit.name)]
    if digest is not None:
        lines.append(t("schedule.digest_line", when=when(t, digest), off=state(digest)))
    if reminder is not None:
        lines.append(t("schedule.reminder_line", when=when(t, reminder), off=state(reminder)))
    if review is not None:
        lines.append(t("schedule.review_line", when=when(t, review), off=state(review)))
    if customs:
        lines.append(t("schedule.custom_title"))
        lines += [t("schedule.custom_line", number=n, when=when(t, row),
                    text=formatting.preview(row.text or "", PREVIEW * 2), off=state(row))
                  for n, row in enumerate(customs, start=1)]
    else:
        lines.append(t("schedule.custom_none"))
    if await groups.group_of_unit(req.tx, unit.id) is None:
        lines.append(t("schedule.no_group"))
    lines.append(t("schedule.explain"))
    keyboard: list[tuple[Button, ...]] = []
    if digest is not None:
        keyboard += _standard_buttons(t, digest)
    if reminder is not None:
        keyboard += _standard_buttons(t, reminder)
    if review is not None:
        keyboard += _review_buttons(t, review)
    for number, row in enumerate(customs, start=1):
        toggle = ("schedule.button.custom_off" if row.enabled else "schedule.button.custom_on")
        keyboard.append((Button(t.plain(toggle, number=number),
                                _toggle(row).pack()),
                         Button(t.plain("schedule.button.custom_remove", number=number),
                                AskRemoveReminder(row.id).pack())))
    if len(customs) < MAX_CUSTOM:
        keyboard.append((Button(t.plain("schedule.button.add"), AddReminder(unit.id).pack()),))
    if len(await req.reach(Action.SCHEDULE)) > 1:
        keyboard.append((Button(t.plain("schedule.button.units"), SchedulePage(0).pack()),))
    return Screen("\n".join(lines), tuple(keyboard))


def _standard_buttons(t: Texts, row: Schedule) -> Keyboard:
    digest = row.kind is ScheduleKind.DIGEST
    found: list[tuple[Button, ...]] = []
    if digest:
        def marked(key: str, every: Every) -> str:
            label = t.plain(key)
            return t.plain("schedule.chosen", label=label) if row.every is every else label
        found.append((Button(marked("schedule.button.weekly", Every.WEEK),
                             Weekly(row.id).pack()),
                      Button(marked("schedule.button.monthly", Every.MONTH),
                             Monthly(row.id).pack())))
    day, hour = (("schedule.button.digest_day", "schedule.button.digest_time") if digest
                 else ("schedule.button.reminder_day", "schedule.button.reminder_time"))
    found.append((Button(t.plain(day), DayPicker(row.id).pack()),
                  Button(t.plain(hour), TimePicker(row.id).pack())))
    if digest:
        toggle = "schedule.button.digest_off" if row.enabled else "schedule.button.digest_on"
    else:
        toggle = "schedule.button.reminder_off" if row.enabled else "schedule.button.reminder_on"
    found.append((Button(t.plain(toggle), _toggle(row).pack()),))
    return tuple(found)


def _review_buttons(t: Texts, row: Schedule) -> Keyboard:
    """The daily review notice has an hour and an on/off, no day."""
    toggle = "schedule.button.review_off" if row.enabled else "schedule.button.review_on"
    return ((Button(t.plain("schedule.button.review_time"), TimePicker(row.id).pack()),
             Button(t.plain(toggle), _toggle(row).pack())),)


async def _rows_of(tx: Tx, unit_id: int) -> RowsByUnit:
    return {unit_id: await schedules.of_unit(tx, unit_id)}


def _toggle(row: Schedule) -> TurnOn | TurnOff:
    return TurnOff(row.id) if row.enabled else TurnOn(row.id)


def _new(row: Schedule, **changes: object) -> NewSchedule:
    values = row.model_dump(exclude={"id", "updated_at"})
    values.update(changes)
    return NewSchedule(**values)


# --- the custom reminder form -----------------------------------------------------------------


class ScheduleReminderKind:
    """A custom reminder: its words (3–500 characters), a weekday, a time typed as people write
    it. The time is read when it is sent in; a time that cannot be read is asked again."""

    form = REMINDER_FORM

    def __init__(self) -> None:
        self.jobs = JobsSignal()

    async def context(self, req: Request, state: DraftState) -> FormContext:
        unit_id = state.extra.get("unit")
        if (not isinstance(unit_id, int) or await units.get_unit(req.tx, unit_id) is None
                or not await req.may(Action.SCHEDULE, unit_id)):
            raise Refusal("schedule.form_refused")
        days = tuple(Choice(str(n), n, _weekday(req.t, n)) for n in range(7))
        return FormContext(today=req.today, choices={"weekdays": days})

    async def submit(self, req: Request, draft: Draft, state: DraftState) -> Reply:
        t, tx = req.t, req.tx
        at = parse_time(str(state.answers.get("at", "")))
        if at is None:
            # The draft stays on the time step: the answer is asked again.
            answers = {k: v for k, v in state.answers.items() if k != "at"}
            again = state.model_copy(update={"answers": answers, "step": "at"})
            ctx = await self.context(req, again)
            view = FormView(self.form, again, ctx, t, draft.id)
            return Reply((view.problem(Problem("form.schedule_reminder.at.unreadable")),))
        unit_id = int(state.extra["unit"])
        await drafts.delete_draft(tx, draft.id)
        unit = await units.get_unit(tx, unit_id)
        assert unit is not None  # context() checked it
        if len(_customs(await schedules.of_unit(tx, unit_id))) >= MAX_CUSTOM:
            return Reply((Screen(t("schedule.too_many", max=MAX_CUSTOM)),))
        weekday, text = int(state.answers["weekday"]), str(state.answers["text"])
        row_id = await schedules.add(tx, NewSchedule(
            unit_id=unit_id, kind=ScheduleKind.CUSTOM, weekday=weekday, at=at, text=text),
            req.now)
        await audit.record(tx, req.now, req.actor.label, "schedule_added", f"schedule:{row_id}",
                           f"unit:{unit_id} weekday:{weekday} at:{_time(at)}")
        self.rebuild_jobs(req, await _rows_of(tx, unit_id))
        done = Screen(t("schedule.added", day=_weekday(t, weekday), time=_time(at)))
        return Reply((done, await schedule_screen(req, unit)))

    def rebuild_jobs(self, req: Request, rows_: RowsByUnit) -> None:
        """The units' jobs are rebuilt once their change is committed."""
        if rows_:
            req.after_commit(lambda: self.jobs.changed(rows_))


# --- the use case -----------------------------------------------------------------------------


class Schedules:
    def __init__(self, settings: Settings, conversations: Conversations) -> None:
        self.settings = settings
        self.conversations = conversations
        kind = conversations.kinds[FORM_NAME]
        assert isinstance(kind, ScheduleReminderKind)
        self.kind = kind
        self.jobs = kind.jobs  # where the job adapter listens for changed rows

    async def _standard(self, req: Request) -> None:
        """Units added since start-up (by the command line) get their standard rows first."""
        self.kind.rebuild_jobs(req, await ensure_standard(req.tx, self.settings, req.now))

    async def open(self, req: Request) -> Reply:
        """/schedule: the unit's schedule, or a choice of units first."""
        await self._standard(req)
        reach = await req.reach(Action.SCHEDULE)
        tops = await req.tops(Action.SCHEDULE)
        if len(tops) == 1:
            return Reply((await schedule_screen(req, tops[0]),))
        if reach:
            return Reply((self._picker(req.t, reach, 0),))
        refusal = await req.check(Action.SCHEDULE, 0)
        return refusal or Reply((Screen(req.t("schedule.no_units")),))

    async def press(self, req: Request, press: Press) -> Reply:
        await self._standard(req)
        t = req.t
        if isinstance(press, SchedulePage):
            reach = await req.reach(press.action)
            if not reach:
                refusal = await req.check(press.action, 0, pressed=True)
                return refusal or Reply(toast=t.plain(STALE))
            return Reply((self._picker(t, reach, press.page),), replace=True)
        if isinstance(press, OnUnit):
            return await self._on_unit(req, press)
        row = await schedules.get(req.tx, press.schedule)
        if row is None:
            log.warning("user %s pressed %s: no such schedule", req.user_id, press.pack())
            return Reply(toast=t.plain("schedule.gone"))
        refusal = await req.check(press.action, row.unit_id, pressed=True)
        if refusal is not None:
            return refusal
        unit = await units.get_unit(req.tx, row.unit_id)
        assert unit is not None  # a schedule row's unit exists (foreign key)
        return await self._on_row(req, unit, row, press)

    @staticmethod
    def _picker(t: Texts, reach: list[Unit], page: int) -> Screen:
        shown = page_of(in_tree_order(reach), page, UNITS_PAGE)
        keyboard: list[tuple[Button, ...]] = [(Button(u.name, UnitSchedule(u.id).pack()),)
                                              for u in shown.items]
        keyboard += turns(t, shown, lambda number: SchedulePage(number).pack())
        return Screen(t("schedule.pick_unit"), tuple(keyboard))

    async def _on_unit(self, req: Request, press: OnUnit) -> Reply:
        unit = await units.get_unit(req.tx, press.unit)
        if unit is None:
            return Reply(toast=req.t.plain("schedule.gone"))
        refusal = await req.check(press.action, unit.id, pressed=True)
        if refusal is not None:
            return refusal
        if isinstance(press, UnitSchedule):
            return Reply((await schedule_screen(req, unit),), replace=True)
        if len(_customs(await schedules.of_unit(req.tx, unit.id))) >= MAX_CUSTOM:
            return Reply(toast=req.t.plain("schedule.too_many", max=MAX_CUSTOM))
        return await self.conversations.begin(req, FORM_NAME, unit=unit.id)

    async def _on_row(self, req: Request, unit: Unit, row: Schedule, press: OnRow) -> Reply:
        t = req.t
        back = (Button(t.plain("button.back"), UnitSchedule(unit.id).pack()),)
        if isinstance(press, DayPicker):
            if row.every is Every.DAY:
                return Reply(toast=t.plain(STALE))
            return Reply((self._day_picker(t, unit, row, back),), replace=True)
        if isinstance(press, TimePicker):
            return Reply((self._time_picker(t, row, back),), replace=True)
        if isinstance(press, AskRemoveReminder | RemoveReminder):
            if row.kind is not ScheduleKind.CUSTOM:
                return Reply(toast=t.plain(STALE))
            return await self._remove(req, unit, row, press, back)
        changes = self._changes(row, press)
        if changes is None:
            return Reply(toast=t.plain(STALE))
        if any(getattr(row, name) != value for name, value in changes.items()):
            await schedules.replace(req.tx, row.id, _new(row, **changes), req.now)
            detail = " ".join(f"{name}:{_audit_value(value)}" for name, value in changes.items())
            await audit.record(req.tx, req.now, req.actor.label, "schedule_changed",
                               f"schedule:{row.id}", f"unit:{unit.id} {detail}")
            self.kind.rebuild_jobs(req, await _rows_of(req.tx, unit.id))
        screen = await schedule_screen(req, unit)
        return Reply((screen,), toast=t.plain("schedule.saved"), replace=True)

    async def _remove(self, req: Request, unit: Unit, row: Schedule,
                      press: AskRemoveReminder | RemoveReminder,
                      back: tuple[Button, ...]) -> Reply:
        t = req.t
        if isinstance(press, AskRemoveReminder):
            ask = t("schedule.remove_confirm", when=when(t, row),
                    text=formatting.preview(row.text or "", PREVIEW * 2))
            yes = Button(t.plain("schedule.button.remove_yes"), RemoveReminder(row.id).pack())
            return Reply((Screen(ask, ((yes, *back),)),), replace=True)
        await schedules.remove(req.tx, row.id)
        await audit.record(req.tx, req.now, req.actor.label, "schedule_removed",
                           f"schedule:{row.id}", f"unit:{unit.id}")
        self.kind.rebuild_jobs(req, await _rows_of(req.tx, unit.id))
        return Reply((await schedule_screen(req, unit),), toast=t.plain("schedule.removed"),
                     replace=True)

    @staticmethod
    def _changes(row: Schedule, press: Change) -> dict[str, object] | None:
        """What the press changes in the row; None when it makes no sense for this row
        (forged, or from an old screen)."""
        digest = row.kind is ScheduleKind.DIGEST
        if isinstance(press, TurnOn | TurnOff):
            return {"enabled": isinstance(press, TurnOn)}
        if isinstance(press, Weekly | Monthly):
            return {"every": Every.WEEK if isinstance(press, Weekly) else Every.MONTH} \
                if digest else None
        if isinstance(press, SetDay):
            if row.every is Every.DAY:
                return None
            if row.every is Every.MONTH:
                return {"month_day": press.day} if 1 <= press.day <= 28 else None
            return {"weekday": press.day} if press.day <= 6 else None
        hour, minute = divmod(press.hhmm, 100)
        if hour > 23 or minute > 59:
            return None
        return {"at": dt.time(hour, minute)}

    @staticmethod
    def _day_picker(t: Texts, unit: Unit, row: Schedule, back: tuple[Button, ...]) -> Screen:
        def mark(label: str, chosen: bool) -> str:
            return t.plain("schedule.chosen", label=label) if chosen else label

        if row.every is Every.MONTH:
            days = [Button(mark(str(n), n == row.month_day), SetDay(row.id, n).pack())
                    for n in range(1, 29)]
            keyboard = rows(days, 7)
            title = t("schedule.pick_month_day", unit=unit.name)
        else:
            days = [Button(mark(_weekday(t, n), n == row.weekday), SetDay(row.id, n).pack())
                    for n in range(7)]
            keyboard = rows(days, 3)
            key = ("schedule.pick_day_digest" if row.kind is ScheduleKind.DIGEST
                   else "schedule.pick_day_reminder")
            title = t(key, unit=unit.name)
        return Screen(title, (*keyboard, back))

    @staticmethod
    def _time_picker(t: Texts, row: Schedule, back: tuple[Button, ...]) -> Screen:
        def label(at: dt.time) -> str:
            return t.plain("schedule.chosen", label=_time(at)) if at == row.at else _time(at)

        times = [Button(label(at), SetTime(row.id, at.hour * 100 + at.minute).pack())
                 for at in TIMES]
        titles: dict[ScheduleKind, Callable[[], Markup]] = {
            ScheduleKind.DIGEST: lambda: t("schedule.pick_time_digest", now=_time(row.at)),
            ScheduleKind.REMINDER: lambda: t("schedule.pick_time_reminder", now=_time(row.at)),
            ScheduleKind.CUSTOM: lambda: t("schedule.pick_time_custom", now=_time(row.at)),
            ScheduleKind.REVIEW: lambda: t("schedule.pick_time_review", now=_time(row.at)),
        }
        return Screen(titles[row.kind](), (*rows(times, 4), back))


def _audit_value(value: object) -> str:
    if isinstance(value, dt.time):
        return _time(value)
    if isinstance(value, bool):
        return str(int(value))
    return str(value)
