"""/schedule (leaders): a unit's digest, reminder and custom reminders, shown and changed with
buttons; custom reminders are added with a short form (words, weekday, time).

Callback data (never trusted: every press reads the schedule row again and asks
`access.check(Action.SCHEDULE)` against its real unit):
  sc:pg:<page>              the units in reach, a page of them
  sc:v:<unit>               a unit's schedule
  sc:on:<id> / sc:off:<id>  turn a schedule row on or off
  sc:ew:<id> / sc:em:<id>   the digest weekly or monthly
  sc:dp:<id>                choose the day: sc:d:<id>:<weekday 0–6 | day of month 1–28>
  sc:tp:<id>                choose the time: sc:t:<id>:<hhmm, e.g. 730>
  sc:add:<unit>             add a custom reminder (the form `schedule_reminder`)
  sc:rm:<id>                remove a custom reminder? sc:rmy:<id> yes
After a change the unit's rows go to `jobs` (a JobsSignal) so that its jobs are rebuilt.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable

from bot.flows.groups import in_tree_order
from bot.flows.reports import ReportKind
from bot.forms.conversations import Conversations, Refusal, texts_for
from bot.forms.engine import Choice, DraftState, FormContext, Problem
from bot.forms.render import FormView
from bot.forms.spec import Field, FieldType, Form
from bot.parsing.text import fold
from bot.rules.access import Action, Actor, actor_for, check, permits, units_in_reach
from bot.rules.schedules import JobsSignal, RowsByUnit, ensure_standard
from bot.runtime.services import Sender, Services
from bot.ui import formatting
from bot.ui.buttons import Press, pack, verb_and_numbers
from bot.ui.catalogue import Markup, Texts
from bot.ui.paging import page_of, turns
from bot.ui.screens import Button, Keyboard, Reply, Screen, rows
from storage import audit, drafts, groups, schedules, units
from storage.db import Tx
from storage.entities import Draft, Unit
from storage.schedules import Every, NewSchedule, Schedule, ScheduleKind

log = logging.getLogger(__name__)

PREFIX = "sc"
FORM_NAME = "schedule_reminder"
TEXT_MIN, TEXT_MAX = 3, 500
MAX_CUSTOM = 10
UNITS_PAGE = 8
PREVIEW = 40
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


# --- button data ------------------------------------------------------------------------------

ARITY = {"pg": 1, "v": 1, "on": 1, "off": 1, "ew": 1, "em": 1, "dp": 1, "d": 2, "tp": 1,
         "t": 2, "add": 1, "rm": 1, "rmy": 1}


def parse(data: str) -> Press | None:
    """The press, or None for anything garbled or unknown."""
    return verb_and_numbers(data, PREFIX, ARITY)


def _data(verb: str, *args: int) -> str:
    return pack(PREFIX, verb, *args)


# --- how a schedule reads ---------------------------------------------------------------------


def _time(at: dt.time) -> str:
    return at.strftime("%H:%M")


def _weekday(t: Texts, number: int) -> str:
    return t.plain(f"weekday.{number}")


def when(t: Texts, row: Schedule) -> str:
    """"hằng tuần, Thứ Hai 07:30", "hằng tháng, ngày 1, 08:00", "Thứ Sáu 16:00"."""
    if row.kind is ScheduleKind.DIGEST and row.every is Every.MONTH:
        return t.plain("schedule.monthly", day=row.month_day or 1, time=_time(row.at))
    if row.kind is ScheduleKind.DIGEST:
        return t.plain("schedule.weekly", day=_weekday(t, row.weekday or 0), time=_time(row.at))
    return t.plain("schedule.day_time", day=_weekday(t, row.weekday or 0), time=_time(row.at))


def _customs(rows_: list[Schedule]) -> list[Schedule]:
    return [r for r in rows_ if r.kind is ScheduleKind.CUSTOM]


def _standard(rows_: list[Schedule], kind: ScheduleKind) -> Schedule | None:
    return next((r for r in rows_ if r.kind is kind), None)


async def schedule_screen(tx: Tx, services: Services, actor: Actor, unit: Unit,
                          t: Texts) -> Screen:
    """The unit's schedule and the buttons that change it."""
    found = await schedules.of_unit(tx, unit.id)
    digest = _standard(found, ScheduleKind.DIGEST)
    reminder = _standard(found, ScheduleKind.REMINDER)
    customs = _customs(found)

    def state(row: Schedule) -> Markup:
        return Markup("") if row.enabled else t("schedule.off_mark")

    lines = [t("schedule.title", unit=unit.name)]
    if digest is not None:
        lines.append(t("schedule.digest_line", when=when(t, digest), off=state(digest)))
    if reminder is not None:
        lines.append(t("schedule.reminder_line", when=when(t, reminder), off=state(reminder)))
    if customs:
        lines.append(t("schedule.custom_title"))
        lines += [t("schedule.custom_line", number=n, when=when(t, row),
                    text=formatting.preview(row.text or "", PREVIEW * 2), off=state(row))
                  for n, row in enumerate(customs, start=1)]
    else:
        lines.append(t("schedule.custom_none"))
    if await groups.group_of_unit(tx, unit.id) is None:
        lines.append(t("schedule.no_group"))
    lines.append(t("schedule.explain"))
    keyboard: list[tuple[Button, ...]] = []
    if digest is not None:
        keyboard += _standard_buttons(t, digest)
    if reminder is not None:
        keyboard += _standard_buttons(t, reminder)
    for number, row in enumerate(customs, start=1):
        toggle = ("schedule.button.custom_off" if row.enabled else "schedule.button.custom_on")
        keyboard.append((Button(t.plain(toggle, number=number),
                                _data("off" if row.enabled else "on", row.id)),
                         Button(t.plain("schedule.button.custom_remove", number=number),
                                _data("rm", row.id))))
    if len(customs) < MAX_CUSTOM:
        keyboard.append((Button(t.plain("schedule.button.add"), _data("add", unit.id)),))
    if len(await units_in_reach(tx, actor, Action.SCHEDULE)) > 1:
        keyboard.append((Button(t.plain("schedule.button.units"), _data("pg", 0)),))
    return Screen("\n".join(lines), tuple(keyboard))


def _standard_buttons(t: Texts, row: Schedule) -> Keyboard:
    digest = row.kind is ScheduleKind.DIGEST
    found: list[tuple[Button, ...]] = []
    if digest:
        def marked(key: str, every: Every) -> str:
            label = t.plain(key)
            return t.plain("schedule.chosen", label=label) if row.every is every else label
        found.append((Button(marked("schedule.button.weekly", Every.WEEK), _data("ew", row.id)),
                      Button(marked("schedule.button.monthly", Every.MONTH),
                             _data("em", row.id))))
    day, hour = (("schedule.button.digest_day", "schedule.button.digest_time") if digest
                 else ("schedule.button.reminder_day", "schedule.button.reminder_time"))
    found.append((Button(t.plain(day), _data("dp", row.id)),
                  Button(t.plain(hour), _data("tp", row.id))))
    if digest:
        toggle = "schedule.button.digest_off" if row.enabled else "schedule.button.digest_on"
    else:
        toggle = "schedule.button.reminder_off" if row.enabled else "schedule.button.reminder_on"
    found.append((Button(t.plain(toggle), _data("off" if row.enabled else "on", row.id)),))
    return tuple(found)


async def _rows_of(tx: Tx, unit_id: int) -> RowsByUnit:
    return {unit_id: await schedules.of_unit(tx, unit_id)}


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

    async def context(self, tx: Tx, services: Services, user_id: int,
                      state: DraftState) -> FormContext:
        unit_id = state.extra.get("unit")
        actor = await actor_for(tx, services, user_id)
        if (not isinstance(unit_id, int) or await units.get_unit(tx, unit_id) is None
                or not await permits(tx, actor, Action.SCHEDULE, unit_id)):
            raise Refusal("schedule.form_refused")
        t = await texts_for(tx, services, user_id)
        days = tuple(Choice(str(n), n, _weekday(t, n)) for n in range(7))
        return FormContext(today=services.today(), choices={"weekdays": days})

    async def submit(self, tx: Tx, services: Services, draft: Draft, state: DraftState,
                     t: Texts) -> Reply:
        at = parse_time(str(state.answers.get("at", "")))
        if at is None:
            # The draft stays on the time step: the answer is asked again.
            answers = {k: v for k, v in state.answers.items() if k != "at"}
            again = state.model_copy(update={"answers": answers, "step": "at"})
            ctx = await self.context(tx, services, draft.telegram_user_id, again)
            view = FormView(self.form, again, ctx, t, draft.id)
            return Reply((view.problem(Problem("form.schedule_reminder.at.unreadable")),))
        unit_id = int(state.extra["unit"])
        actor = await actor_for(tx, services, draft.telegram_user_id)
        await drafts.delete_draft(tx, draft.id)
        unit = await units.get_unit(tx, unit_id)
        assert unit is not None  # context() checked it
        if len(_customs(await schedules.of_unit(tx, unit_id))) >= MAX_CUSTOM:
            return Reply((Screen(t("schedule.too_many", max=MAX_CUSTOM)),))
        weekday, text = int(state.answers["weekday"]), str(state.answers["text"])
        row_id = await schedules.add(tx, NewSchedule(
            unit_id=unit_id, kind=ScheduleKind.CUSTOM, weekday=weekday, at=at, text=text),
            services.now())
        await audit.record(tx, services.now(), actor.label, "schedule_added",
                           f"schedule:{row_id}",
                           f"unit:{unit_id} weekday:{weekday} at:{_time(at)}")
        self.jobs.changed(await _rows_of(tx, unit_id))
        done = Screen(t("schedule.added", day=_weekday(t, weekday), time=_time(at)))
        return Reply((done, await schedule_screen(tx, services, actor, unit, t)))


# --- the use case -----------------------------------------------------------------------------


class Schedules:
    def __init__(self, services: Services, conversations: Conversations,
                 report_kind: ReportKind) -> None:
        self.services = services
        self.conversations = conversations
        self.report_kind = report_kind
        kind = conversations.kinds[FORM_NAME]
        assert isinstance(kind, ScheduleReminderKind)
        self.jobs = kind.jobs

    async def open(self, sender: Sender) -> Reply:
        """/schedule: the unit's schedule, or a choice of units first."""
        async with self.services.db.transaction() as tx:
            added = await ensure_standard(tx, self.services)
            reply = await self._open(tx, sender)
        if added:
            self.jobs.changed(added)
        return reply

    async def act(self, sender: Sender, update_id: int, data: str) -> Reply:
        async with self.services.db.transaction() as tx:
            added = await ensure_standard(tx, self.services)
            reply, changed = await self._act(tx, sender, update_id, data)
        if added or changed:
            self.jobs.changed({**added, **(changed or {})})
        return reply

    # --- entry --------------------------------------------------------------------------------

    async def _open(self, tx: Tx, sender: Sender) -> Reply:
        actor = await actor_for(tx, self.services, sender.user_id)
        t = self._texts(actor)
        reach = await units_in_reach(tx, actor, Action.SCHEDULE)
        ids = {u.id for u in reach}
        tops = [u for u in reach if u.parent_id not in ids]
        if len(tops) == 1:
            return Reply((await schedule_screen(tx, self.services, actor, tops[0], t),))
        if reach:
            return Reply((self._picker(t, reach, 0),))
        refusal = await check(tx, self.services, actor, Action.SCHEDULE, 0)
        return refusal or Reply((Screen(t("schedule.no_units")),))

    def _picker(self, t: Texts, reach: list[Unit], page: int) -> Screen:
        shown = page_of(in_tree_order(reach), page, UNITS_PAGE)
        keyboard: list[tuple[Button, ...]] = [(Button(u.name, _data("v", u.id)),)
                                              for u in shown.items]
        keyboard += turns(t, shown, lambda number: _data("pg", number))
        return Screen(t("schedule.pick_unit"), tuple(keyboard))

    def _texts(self, actor: Actor) -> Texts:
        return self.services.texts(actor.person.lang if actor.person else None)

    # --- presses ------------------------------------------------------------------------------

    async def _act(self, tx: Tx, sender: Sender, update_id: int,
                   data: str) -> tuple[Reply, RowsByUnit | None]:
        actor = await actor_for(tx, self.services, sender.user_id)
        t = self._texts(actor)
        press = parse(data)
        if press is None:
            log.warning("user %s sent schedule data %r", sender.user_id, data)
            return Reply(toast=t.plain("schedule.stale")), None
        if press.verb == "pg":
            reach = await units_in_reach(tx, actor, Action.SCHEDULE)
            if not reach:
                return await self._refused(tx, actor, 0), None
            return Reply((self._picker(t, reach, press.args[0]),), replace=True), None
        if press.verb in ("v", "add"):
            return await self._on_unit(tx, actor, t, sender, update_id, press), None
        row = await schedules.get(tx, press.args[0])
        if row is None:
            log.warning("user %s pressed %r: no such schedule", sender.user_id, data)
            return Reply(toast=t.plain("schedule.gone")), None
        refusal = await check(tx, self.services, actor, Action.SCHEDULE, row.unit_id,
                              pressed=True)
        if refusal is not None:
            return refusal, None
        unit = await units.get_unit(tx, row.unit_id)
        assert unit is not None  # a schedule row's unit exists (foreign key)
        return await self._on_row(tx, actor, t, unit, row, press)

    async def _refused(self, tx: Tx, actor: Actor, unit_id: int) -> Reply:
        refusal = await check(tx, self.services, actor, Action.SCHEDULE, unit_id, pressed=True)
        return refusal or Reply(toast=self._texts(actor).plain("schedule.stale"))

    async def _on_unit(self, tx: Tx, actor: Actor, t: Texts, sender: Sender, update_id: int,
                       press: Press) -> Reply:
        unit = await units.get_unit(tx, press.args[0])
        if unit is None:
            return Reply(toast=t.plain("schedule.gone"))
        refusal = await check(tx, self.services, actor, Action.SCHEDULE, unit.id, pressed=True)
        if refusal is not None:
            return refusal
        if press.verb == "v":
            screen = await schedule_screen(tx, self.services, actor, unit, t)
            return Reply((screen,), replace=True)
        if len(_customs(await schedules.of_unit(tx, unit.id))) >= MAX_CUSTOM:
            return Reply(toast=t.plain("schedule.too_many", max=MAX_CUSTOM))
        return await self.conversations.begin(tx, sender, update_id, FORM_NAME, t,
                                              unit=unit.id)

    async def _on_row(self, tx: Tx, actor: Actor, t: Texts, unit: Unit, row: Schedule,
                      press: Press) -> tuple[Reply, RowsByUnit | None]:
        back = (Button(t.plain("button.back"), _data("v", unit.id)),)
        if press.verb == "dp":
            return Reply((self._day_picker(t, unit, row, back),), replace=True), None
        if press.verb == "tp":
            return Reply((self._time_picker(t, row, back),), replace=True), None
        if press.verb == "rm" and row.kind is ScheduleKind.CUSTOM:
            ask = t("schedule.remove_confirm", when=when(t, row),
                    text=formatting.preview(row.text or "", PREVIEW * 2))
            yes = Button(t.plain("schedule.button.remove_yes"), _data("rmy", row.id))
            return Reply((Screen(ask, ((yes, *back),)),), replace=True), None
        if press.verb == "rmy" and row.kind is ScheduleKind.CUSTOM:
            await schedules.remove(tx, row.id)
            await audit.record(tx, self.services.now(), actor.label, "schedule_removed",
                               f"schedule:{row.id}", f"unit:{unit.id}")
            screen = await schedule_screen(tx, self.services, actor, unit, t)
            return (Reply((screen,), toast=t.plain("schedule.removed"), replace=True),
                    await _rows_of(tx, unit.id))
        changes = self._changes(row, press)
        if changes is None:
            return Reply(toast=t.plain("schedule.stale")), None
        changed = None
        if any(getattr(row, name) != value for name, value in changes.items()):
            await schedules.replace(tx, row.id, _new(row, **changes), self.services.now())
            detail = " ".join(f"{name}:{_audit_value(value)}" for name, value in changes.items())
            await audit.record(tx, self.services.now(), actor.label, "schedule_changed",
                               f"schedule:{row.id}", f"unit:{unit.id} {detail}")
            changed = await _rows_of(tx, unit.id)
        screen = await schedule_screen(tx, self.services, actor, unit, t)
        return Reply((screen,), toast=t.plain("schedule.saved"), replace=True), changed

    @staticmethod
    def _changes(row: Schedule, press: Press) -> dict[str, object] | None:
        """What the press changes in the row; None when it makes no sense for this row
        (forged, or from an old screen)."""
        digest = row.kind is ScheduleKind.DIGEST
        if press.verb in ("on", "off"):
            return {"enabled": press.verb == "on"}
        if press.verb in ("ew", "em") and digest:
            return {"every": Every.WEEK if press.verb == "ew" else Every.MONTH}
        if press.verb == "d":
            value = press.args[1]
            if row.every is Every.MONTH:
                return {"month_day": value} if 1 <= value <= 28 else None
            return {"weekday": value} if value <= 6 else None
        if press.verb == "t":
            hour, minute = divmod(press.args[1], 100)
            if hour > 23 or minute > 59:
                return None
            return {"at": dt.time(hour, minute)}
        return None

    def _day_picker(self, t: Texts, unit: Unit, row: Schedule,
                    back: tuple[Button, ...]) -> Screen:
        def mark(label: str, chosen: bool) -> str:
            return t.plain("schedule.chosen", label=label) if chosen else label

        if row.every is Every.MONTH:
            days = [Button(mark(str(n), n == row.month_day), _data("d", row.id, n))
                    for n in range(1, 29)]
            keyboard = rows(days, 7)
            title = t("schedule.pick_month_day", unit=unit.name)
        else:
            days = [Button(mark(_weekday(t, n), n == row.weekday), _data("d", row.id, n))
                    for n in range(7)]
            keyboard = rows(days, 3)
            key = ("schedule.pick_day_digest" if row.kind is ScheduleKind.DIGEST
                   else "schedule.pick_day_reminder")
            title = t(key, unit=unit.name)
        return Screen(title, (*keyboard, back))

    def _time_picker(self, t: Texts, row: Schedule, back: tuple[Button, ...]) -> Screen:
        def label(at: dt.time) -> str:
            return t.plain("schedule.chosen", label=_time(at)) if at == row.at else _time(at)

        times = [Button(label(at), _data("t", row.id, at.hour * 100 + at.minute))
                 for at in TIMES]
        titles: dict[ScheduleKind, Callable[[], Markup]] = {
            ScheduleKind.DIGEST: lambda: t("schedule.pick_time_digest", now=_time(row.at)),
            ScheduleKind.REMINDER: lambda: t("schedule.pick_time_reminder", now=_time(row.at)),
            ScheduleKind.CUSTOM: lambda: t("schedule.pick_time_custom", now=_time(row.at)),
        }
        return Screen(titles[row.kind](), (*rows(times, 4), back))


def _audit_value(value: object) -> str:
    if isinstance(value, dt.time):
        return _time(value)
    if isinstance(value, bool):
        return str(int(value))
    return str(value)
