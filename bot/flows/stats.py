"""/stats (📊 Thống kê): a member's own counts; a unit's figures, one line per child unit and
the models table for leaders and observers. Every figure comes from bot/rules/counting.py,
counted by the day the deed happened. Every press is authorised again; each button carries
the period shown (one of PERIODS' codes).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from bot.flows.reports import reporter_of
from bot.forms.conversations import Refusal
from bot.rules import counting
from bot.rules.access import Action, Request
from bot.rules.counting import Basis, ModelsTable, Participation, UnitFigures
from bot.rules.periods import Period, PeriodKind, period
from bot.runtime.config import Settings
from bot.ui import formatting
from bot.ui.buttons import ButtonData, Id, codes
from bot.ui.catalogue import Markup, Texts
from bot.ui.formatting import percent
from bot.ui.screens import Button, Keyboard, Reply, Screen, rows
from storage import units
from storage.counting import Tally
from storage.entities import Unit

log = logging.getLogger(__name__)

# Code in the button data → the period and its label.
PERIODS: dict[str, tuple[PeriodKind, str]] = {
    "w": (PeriodKind.THIS_WEEK, "period.this_week"),
    "lw": (PeriodKind.LAST_WEEK, "period.last_week"),
    "m": (PeriodKind.THIS_MONTH, "period.this_month"),
    "q": (PeriodKind.THIS_QUARTER, "period.this_quarter"),
    "y": (PeriodKind.THIS_YEAR, "period.this_year"),
    "ly": (PeriodKind.LAST_YEAR, "period.last_year"),
}
DEFAULT_PERIOD = "w"  # as the digests and reminders: the week is the rhythm
BASIS = Basis.DONE  # /stats counts by the day the deed happened
MAX_CHILD_BUTTONS = 30
STALE = "stats.stale"
Code = Annotated[str, codes(*PERIODS)]


class OwnStats(ButtonData, prefix="st:me", action=Action.STATS_OWN):
    period: Code


class UnitStats(ButtonData, prefix="st:u", action=Action.STATS_UNIT):
    period: Code
    unit: Id


class PickUnit(ButtonData, prefix="st:pick", action=Action.STATS_UNIT):
    period: Code


Press = OwnStats | UnitStats | PickUnit
BUTTONS = (OwnStats, UnitStats, PickUnit)


@dataclass(frozen=True)
class Viewer:
    """Who looks: the request, the unit they report in (None for an observer or an admin),
    and the highest units they may see figures of."""

    req: Request
    home: Unit | None
    tops: list[Unit]


class Stats:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    # --- entry and presses --------------------------------------------------------------------

    async def open(self, req: Request) -> Reply:
        """/stats and 📊 Thống kê: a unit's figures for whoever may see one (a picker when
        there are several), else the person's own counts."""
        viewer = await self._viewer(req)
        if len(viewer.tops) == 1:
            return await self._unit(viewer, DEFAULT_PERIOD, viewer.tops[0].id)
        if viewer.tops:
            return self._picker(viewer, DEFAULT_PERIOD)
        return await self._own(viewer, DEFAULT_PERIOD)

    async def press(self, req: Request, press: Press) -> Reply:
        viewer = await self._viewer(req)
        if isinstance(press, OwnStats):
            return await self._own(viewer, press.period, pressed=True)
        if isinstance(press, PickUnit):
            if len(viewer.tops) == 1:
                return await self._unit(viewer, press.period, viewer.tops[0].id, pressed=True)
            if viewer.tops:
                return self._picker(viewer, press.period)
            return await self._refuse(viewer, press.action, None)
        return await self._unit(viewer, press.period, press.unit, pressed=True)

    # --- who looks ----------------------------------------------------------------------------

    @staticmethod
    async def _viewer(req: Request) -> Viewer:
        try:
            home: Unit | None = (await reporter_of(req)).unit
        except Refusal:
            home = None
        return Viewer(req, home, await req.tops(Action.STATS_UNIT))

    @staticmethod
    async def _refuse(viewer: Viewer, action: Action, unit_id: int | None,
                      person_id: int | None = None, pressed: bool = True) -> Reply:
        """The polite refusal, logged. Someone with no unit at all is asked about unit 0,
        which names none."""
        refusal = await viewer.req.check(action, unit_id or 0, person_id, pressed=pressed)
        if refusal is None:  # allowed after all (an admin asking for nothing): nothing to show
            return Reply(toast=viewer.req.t.plain(STALE))
        return refusal

    # --- a member's own counts ----------------------------------------------------------------

    async def _own(self, viewer: Viewer, code: str, pressed: bool = False) -> Reply:
        req = viewer.req
        t, tx = req.t, req.tx
        person = req.actor.person
        if viewer.home is None or person is None:
            if req.actor.admin and not pressed:
                return Reply((Screen(t("stats.no_units")),))
            return await self._refuse(viewer, Action.STATS_OWN,
                                      viewer.home.id if viewer.home else None,
                                      person.id if person else None, pressed)
        refusal = await req.check(Action.STATS_OWN, viewer.home.id, person.id, pressed=pressed)
        if refusal is not None:
            return refusal
        when = self._period(req, code)
        figures = await counting.person_figures(tx, self.settings, person.id, when, BASIS)
        lines = [t("stats.title_own", name=person.full_name), self._period_line(t, code, when)]
        if figures.reports.total == 0:
            lines.append(t("stats.own_empty"))
        else:
            lines.append(t("stats.own_total", total=self._n(figures.reports.total, t),
                           authored=self._n(figures.authored, t),
                           together=self._n(figures.co_participated, t)))
            lines += self._tally_lines(figures.reports, t)
        keyboard = [*self._period_rows(t, code, lambda c: OwnStats(c).pack())]
        if viewer.tops:
            keyboard.append((Button(t.plain("stats.button.units"), PickUnit(code).pack()),))
        return Reply((Screen("\n".join(lines), tuple(keyboard)),), replace=pressed)

    # --- a unit's figures ---------------------------------------------------------------------

    async def _unit(self, viewer: Viewer, code: str, unit_id: int,
                    pressed: bool = False) -> Reply:
        req = viewer.req
        t, tx = req.t, req.tx
        unit = await units.get_unit(tx, unit_id)
        if unit is None:
            log.warning("user %s asked for the figures of unit %s, which does not exist",
                        req.user_id, unit_id)
            return Reply(toast=t.plain("stats.not_found"))
        refusal = await req.check(Action.STATS_UNIT, unit.id, pressed=pressed)
        if refusal is not None:
            return refusal
        when = self._period(req, code)
        figures, children = await counting.roll_up(tx, self.settings, unit.id, when, BASIS)
        lines: list[str] = [t("stats.title_unit", unit=unit.name),
                            self._period_line(t, code, when)]
        lines += self._unit_lines(figures, t)
        if children:
            lines += ["", t("stats.children_title")]
            lines += [self._child_line(child, t) for child in children]
            table = await counting.models_table(tx, unit.id, when.last.year)
            lines += ["", *self._models_lines(table, t)]
        keyboard = [*self._period_rows(t, code, lambda c: UnitStats(c, unit.id).pack())]
        drill = [Button(t.plain("stats.button.child", unit=c.unit.name),
                        UnitStats(code, c.unit.id).pack())
                 for c in children[:MAX_CHILD_BUTTONS]]
        keyboard += rows(drill, 2)
        others: list[Button] = []
        if unit.parent_id is not None and await req.may(Action.STATS_UNIT, unit.parent_id):
            parent = await units.get_unit(tx, unit.parent_id)
            if parent is not None:
                others.append(Button(t.plain("stats.button.up", unit=parent.name),
                                     UnitStats(code, parent.id).pack()))
        if len(viewer.tops) > 1:
            others.append(Button(t.plain("stats.button.other_unit"), PickUnit(code).pack()))
        if viewer.home is not None:
            others.append(Button(t.plain("stats.button.mine"), OwnStats(code).pack()))
        keyboard += rows(others, 2)
        return Reply((Screen("\n".join(lines), tuple(keyboard)),), replace=pressed)

    @staticmethod
    def _picker(viewer: Viewer, code: str) -> Reply:
        t = viewer.req.t
        choices = [Button(u.name, UnitStats(code, u.id).pack()) for u in viewer.tops]
        keyboard = list(rows(choices, 1))
        if viewer.home is not None:
            keyboard.append((Button(t.plain("stats.button.mine"), OwnStats(code).pack()),))
        return Reply((Screen(t("stats.pick"), tuple(keyboard)),), replace=True)

    # --- lines --------------------------------------------------------------------------------

    def _period(self, req: Request, code: str) -> Period:
        return period(PERIODS[code][0], req.today, self.settings.month_cutoff_day)

    @staticmethod
    def _period_line(t: Texts, code: str, when: Period) -> Markup:
        return t("stats.period_line", period=t.plain(PERIODS[code][1]),
                 dates=formatting.period_span(when.first, when.last))

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
            for name, n in counting.ordered_fields(self.settings, by_field))

    def _tally_lines(self, tally: Tally, t: Texts) -> list[Markup]:
        lines = [t("stats.states", acknowledged=self._n(tally.acknowledged, t),
                   pending=self._n(tally.waiting, t), needs_more=self._n(tally.needs_more, t)),
                 t("stats.fields", fields=self._fields(tally.by_field, t))]
        if tally.people_helped or tally.households_helped:
            lines.append(t("stats.helped", whom=formatting.helped(
                tally.households_helped, tally.people_helped, t)))
        if tally.value_vnd:
            lines.append(t("stats.value", value=formatting.money(tally.value_vnd, t)))
        return lines

    def _share(self, share: Participation, t: Texts) -> dict[str, str]:
        return {"reported": self._n(share.reported, t), "expected": self._n(share.expected, t),
                "percent": percent(share.share or 0, t)}

    def _unit_lines(self, figures: UnitFigures, t: Texts) -> list[Markup]:
        tally = figures.reports
        lines: list[Markup] = []
        if tally.total == 0 and figures.participation.reported:
            # Its members took part only in deeds another unit reported (named as co-participants).
            lines.append(t("stats.unit_only_along", **self._share(figures.participation, t)))
        elif tally.total == 0:
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
        if total == 0 and child.participation.reported:
            return t("stats.child_only_along", unit=child.unit.name,
                     **self._share(child.participation, t))
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
