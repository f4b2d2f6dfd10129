"""/stats (📊 Thống kê): a member's own counts; a unit's figures, one line per child unit and
the models table for leaders and observers. Every figure comes from bot/rules/counting.py,
counted by the day the deed happened.

Callback data (never trusted, re-authorised on every press):
  st:me:<period>          own counts
  st:u:<period>:<unit>    a unit's figures
  st:pick:<period>        choose among the units in reach
<period> is one of PERIODS' codes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from babel.numbers import format_percent

from bot.flows.reports import ReportKind, reporter_for
from bot.forms.conversations import Conversations, Refusal
from bot.rules import counting
from bot.rules.access import Action, Actor, actor_for, check, permits, units_in_reach
from bot.rules.counting import Basis, ModelsTable, Participation, UnitFigures
from bot.rules.periods import Period, PeriodKind, period
from bot.runtime.services import Sender, Services
from bot.ui import formatting
from bot.ui.buttons import number, pack
from bot.ui.catalogue import Markup, Texts
from bot.ui.screens import Button, Keyboard, Reply, Screen, rows
from storage import units
from storage.counting import Tally
from storage.db import Tx
from storage.entities import Unit

log = logging.getLogger(__name__)

PREFIX = "st"
# Code in the button data → the period and its label.
PERIODS: dict[str, tuple[PeriodKind, str]] = {
    "w": (PeriodKind.THIS_WEEK, "stats.period.this_week"),
    "lw": (PeriodKind.LAST_WEEK, "stats.period.last_week"),
    "m": (PeriodKind.THIS_MONTH, "stats.period.this_month"),
    "q": (PeriodKind.THIS_QUARTER, "stats.period.this_quarter"),
    "y": (PeriodKind.THIS_YEAR, "stats.period.this_year"),
    "ly": (PeriodKind.LAST_YEAR, "stats.period.last_year"),
}
DEFAULT_PERIOD = "m"
BASIS = Basis.DONE  # PRODUCT.md: /stats counts by the day the deed happened
MAX_CHILD_BUTTONS = 30
_PERCENT = {"vi": "vi_VN", "en": "en_US"}


@dataclass(frozen=True)
class Press:
    view: str  # "me", "u" or "pick"
    period: str
    unit_id: int | None = None


def parse(data: str) -> Press | None:
    """The press, or None for anything garbled or unknown."""
    parts = data.split(":")
    if len(parts) < 3 or parts[0] != PREFIX or parts[2] not in PERIODS:
        return None
    if parts[1] in ("me", "pick") and len(parts) == 3:
        return Press(parts[1], parts[2])
    unit_id = number(parts[3]) if parts[1] == "u" and len(parts) == 4 else None
    if unit_id is None:
        return None
    return Press("u", parts[2], unit_id)


def _data(view: str, code: str, unit_id: int | None = None) -> str:
    return pack(PREFIX, view, code, *(() if unit_id is None else (unit_id,)))


def percent(share: float, t: Texts) -> str:
    """26,5% (one decimal at most, in the reader's language)."""
    return format_percent(share, format="#,##0.#%", locale=_PERCENT.get(t.lang, "vi_VN"))


@dataclass(frozen=True)
class Viewer:
    """Who looks: the actor, the unit they report in (None for an observer or an admin), and
    the highest units they may see figures of."""

    actor: Actor
    home: Unit | None
    tops: list[Unit]


class Stats:
    def __init__(self, services: Services, conversations: Conversations,
                 report_kind: ReportKind) -> None:
        self.services = services
        self.conversations = conversations
        self.report_kind = report_kind

    # --- entry and presses --------------------------------------------------------------------

    async def open(self, sender: Sender) -> Reply:
        """/stats and 📊 Thống kê: a unit's figures for whoever may see one (a picker when
        there are several), else the person's own counts."""
        async with self.services.db.transaction() as tx:
            viewer = await self._viewer(tx, sender.user_id)
            t = self._texts(viewer)
            if len(viewer.tops) == 1:
                return await self._unit(tx, viewer, t, DEFAULT_PERIOD, viewer.tops[0].id)
            if viewer.tops:
                return self._picker(viewer, t, DEFAULT_PERIOD)
            return await self._own(tx, viewer, t, DEFAULT_PERIOD)

    async def act(self, sender: Sender, data: str) -> Reply:
        press = parse(data)
        async with self.services.db.transaction() as tx:
            viewer = await self._viewer(tx, sender.user_id)
            t = self._texts(viewer)
            if press is None:
                log.warning("user %s sent unreadable stats data %r", sender.user_id, data)
                return Reply(toast=t.plain("stats.stale"))
            if press.view == "me":
                return await self._own(tx, viewer, t, press.period, pressed=True)
            if press.view == "pick":
                if len(viewer.tops) == 1:
                    return await self._unit(tx, viewer, t, press.period, viewer.tops[0].id,
                                            pressed=True)
                if viewer.tops:
                    return self._picker(viewer, t, press.period)
                return await self._refuse(tx, viewer, Action.STATS_UNIT, None)
            assert press.unit_id is not None
            return await self._unit(tx, viewer, t, press.period, press.unit_id, pressed=True)

    # --- who looks ----------------------------------------------------------------------------

    async def _viewer(self, tx: Tx, user_id: int) -> Viewer:
        actor = await actor_for(tx, self.services, user_id)
        try:
            home: Unit | None = (await reporter_for(tx, user_id)).unit
        except Refusal:
            home = None
        reach = await units_in_reach(tx, actor, Action.STATS_UNIT)
        ids = {u.id for u in reach}
        tops = [u for u in reach if u.parent_id not in ids]
        return Viewer(actor, home, tops)

    def _texts(self, viewer: Viewer) -> Texts:
        person = viewer.actor.person
        return self.services.texts(person.lang if person else None)

    async def _refuse(self, tx: Tx, viewer: Viewer, action: Action, unit_id: int | None,
                      person_id: int | None = None, pressed: bool = True) -> Reply:
        """The polite refusal, logged. Someone with no unit at all is asked about unit 0,
        which names none."""
        refusal = await check(tx, self.services, viewer.actor, action, unit_id or 0,
                              person_id, pressed=pressed)
        if refusal is None:  # allowed after all (an admin asking for nothing): nothing to show
            return Reply(toast=self._texts(viewer).plain("stats.stale"))
        return refusal

    # --- a member's own counts ----------------------------------------------------------------

    async def _own(self, tx: Tx, viewer: Viewer, t: Texts, code: str,
                   pressed: bool = False) -> Reply:
        person = viewer.actor.person
        if viewer.home is None or person is None:
            if viewer.actor.admin and not pressed:
                return Reply((Screen(t("stats.no_units")),))
            return await self._refuse(tx, viewer, Action.STATS_OWN,
                                      viewer.home.id if viewer.home else None,
                                      person.id if person else None, pressed)
        refusal = await check(tx, self.services, viewer.actor, Action.STATS_OWN, viewer.home.id,
                              person.id, pressed=pressed)
        if refusal is not None:
            return refusal
        when = self._period(code)
        figures = await counting.person_figures(tx, self.services, person.id, when, BASIS)
        lines = [t("stats.title_own", name=person.full_name), self._period_line(t, code, when)]
        if figures.reports.total == 0:
            lines.append(t("stats.own_empty"))
        else:
            lines.append(t("stats.own_total", total=self._n(figures.reports.total, t),
                           authored=self._n(figures.authored, t),
                           together=self._n(figures.co_participated, t)))
            lines += self._tally_lines(figures.reports, t)
        keyboard = [*self._period_rows(t, code, lambda c: _data("me", c))]
        if viewer.tops:
            keyboard.append((Button(t.plain("stats.button.units"), _data("pick", code)),))
        return Reply((Screen("\n".join(lines), tuple(keyboard)),), replace=pressed)

    # --- a unit's figures ---------------------------------------------------------------------

    async def _unit(self, tx: Tx, viewer: Viewer, t: Texts, code: str, unit_id: int,
                    pressed: bool = False) -> Reply:
        unit = await units.get_unit(tx, unit_id)
        if unit is None:
            log.warning("user %s asked for the figures of unit %s, which does not exist",
                        viewer.actor.user_id, unit_id)
            return Reply(toast=t.plain("stats.not_found"))
        refusal = await check(tx, self.services, viewer.actor, Action.STATS_UNIT, unit.id,
                              pressed=pressed)
        if refusal is not None:
            return refusal
        when = self._period(code)
        figures, children = await counting.roll_up(tx, self.services, unit.id, when, BASIS)
        lines = [t("stats.title_unit", unit=unit.name), self._period_line(t, code, when)]
        lines += self._unit_lines(figures, t)
        if children:
            lines += ["", t("stats.children_title")]
            lines += [self._child_line(child, t) for child in children]
            table = await counting.models_table(tx, unit.id, when.last.year)
            lines += ["", *self._models_lines(table, t)]
        keyboard = [*self._period_rows(t, code, lambda c: _data("u", c, unit.id))]
        drill = [Button(t.plain("stats.button.child", unit=c.unit.name), _data("u", code,
                                                                              c.unit.id))
                 for c in children[:MAX_CHILD_BUTTONS]]
        keyboard += rows(drill, 2)
        others: list[Button] = []
        if unit.parent_id is not None and await permits(tx, viewer.actor, Action.STATS_UNIT,
                                                        unit.parent_id):
            parent = await units.get_unit(tx, unit.parent_id)
            if parent is not None:
                others.append(Button(t.plain("stats.button.up", unit=parent.name),
                                     _data("u", code, parent.id)))
        if len(viewer.tops) > 1:
            others.append(Button(t.plain("stats.button.other_unit"), _data("pick", code)))
        if viewer.home is not None:
            others.append(Button(t.plain("stats.button.mine"), _data("me", code)))
        keyboard += rows(others, 2)
        return Reply((Screen("\n".join(lines), tuple(keyboard)),), replace=pressed)

    def _picker(self, viewer: Viewer, t: Texts, code: str) -> Reply:
        choices = [Button(u.name, _data("u", code, u.id)) for u in viewer.tops]
        keyboard = list(rows(choices, 1))
        if viewer.home is not None:
            keyboard.append((Button(t.plain("stats.button.mine"), _data("me", code)),))
        return Reply((Screen(t("stats.pick"), tuple(keyboard)),), replace=True)

    # --- lines --------------------------------------------------------------------------------

    def _period(self, code: str) -> Period:
        return period(PERIODS[code][0], self.services.today(),
                      self.services.settings.month_cutoff_day)

    @staticmethod
    def _period_line(t: Texts, code: str, when: Period) -> Markup:
        return t("stats.period_line", period=t.plain(PERIODS[code][1]),
                 first=formatting.day(when.first), last=formatting.day(when.last))

    @staticmethod
    def _period_rows(t: Texts, current: str, data: Callable[[str], str]) -> Keyboard:
        buttons = [
            Button(t.plain("stats.period.chosen", label=t.plain(key)) if c == current
                   else t.plain(key), data(c))
            for c, (_, key) in PERIODS.items()
        ]
        return rows(buttons, 3)

    @staticmethod
    def _n(value: int, t: Texts) -> str:
        return formatting.number(value, t)

    def _fields(self, by_field: dict[str, int], t: Texts) -> str:
        return t.plain("stats.joiner").join(
            t.plain("stats.field_item", field=name, count=self._n(n, t))
            for name, n in counting.ordered_fields(self.services, by_field))

    def _tally_lines(self, tally: Tally, t: Texts) -> list[Markup]:
        lines = [t("stats.states", acknowledged=self._n(tally.acknowledged, t),
                   pending=self._n(tally.pending, t), needs_more=self._n(tally.needs_more, t)),
                 t("stats.fields", fields=self._fields(tally.by_field, t))]
        if tally.people_helped or tally.households_helped:
            lines.append(t("stats.helped", households=self._n(tally.households_helped, t),
                           people=self._n(tally.people_helped, t)))
        if tally.value_vnd:
            lines.append(t("stats.value", value=formatting.money(tally.value_vnd, t)))
        return lines

    def _share(self, share: Participation, t: Texts) -> dict[str, str]:
        return {"reported": self._n(share.reported, t), "expected": self._n(share.expected, t),
                "percent": percent(share.share or 0, t)}

    def _unit_lines(self, figures: UnitFigures, t: Texts) -> list[Markup]:
        tally = figures.reports
        lines: list[Markup] = []
        if tally.total == 0:
            lines.append(t("stats.unit_empty"))
        elif figures.participation.expected:
            lines.append(t("stats.unit_total", total=self._n(tally.total, t),
                           **self._share(figures.participation, t)))
        else:
            lines.append(t("stats.unit_total_plain", total=self._n(tally.total, t)))
        if tally.total:
            lines += self._tally_lines(tally, t)
        if tally.model_reports:
            lines.append(t("stats.model_reports", reports=self._n(tally.model_reports, t),
                           models=self._n(tally.models_with_reports, t)))
        if figures.new_models:
            lines.append(t("stats.new_models", count=self._n(figures.new_models, t)))
        return lines

    def _child_line(self, child: UnitFigures, t: Texts) -> Markup:
        total = child.reports.total
        if total == 0:
            return t("stats.child_empty", unit=child.unit.name)
        if child.participation.expected:
            return t("stats.child_line", unit=child.unit.name, total=self._n(total, t),
                     acknowledged=self._n(child.reports.acknowledged, t),
                     **self._share(child.participation, t))
        return t("stats.child_line_plain", unit=child.unit.name, total=self._n(total, t),
                 acknowledged=self._n(child.reports.acknowledged, t))

    def _models_lines(self, table: ModelsTable, t: Texts) -> list[Markup]:
        if table.total == 0:
            return [t("stats.models_none", year=table.year)]
        lines = [t("stats.models_title", unit=table.unit.name, total=self._n(table.total, t),
                   year=table.year)]
        for row in table.rows:
            if row.total:
                lines.append(t("stats.models_row", unit=row.unit.name,
                               total=self._n(row.total, t), fields=self._fields(row.by_field, t)))
            else:
                lines.append(t("stats.models_row_empty", unit=row.unit.name))
        if table.own:
            lines.append(t("stats.models_own", unit=table.unit.name,
                           total=self._n(table.own_total, t), fields=self._fields(table.own, t)))
        return lines
