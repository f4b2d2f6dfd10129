"""📤 Xuất dữ liệu (/export) and 📄 Báo cáo Word (/report_doc): a unit of one's reach (the unit
itself or one below it) and a period, picked by buttons or typed as two dates; then the file,
made once the update's transaction is over, in a read transaction of its own: a workbook
(or, on request, the reports as CSV) or the Word report of bot/flows/report_doc.py. One
picker serves both; what it makes is in every button (`Made`). `lantoa export` makes the same
files from the command line (`export_to_file`).

The workbook's sheets, every figure from bot/rules/counting.py, by the day the deed happened,
withdrawn reports never:
- Tổng hợp: the unit and each unit below it (its whole subtree in each line, as /stats
  shows it), reports by state, participation x/y, people and households helped, value, and
  reports per field;
- Việc làm: every report of the subtree, private ones with their words (an export is for
  leaders and observers, never for a group);
- Mô hình: the models the subtree runs in the period's last year, their standing that year
  and their reports in the period; Mô hình theo lĩnh vực: the same per unit below × field
  (/stats' models table);
- Đảng viên: everyone who reports in the subtree, their reports (written or taken part in),
  the year's commitment, excused or not, reachable on Telegram or not.
Every file made is written to the audit log: who, what, which unit, which days.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from bot.flows.models import mass_org_label
from bot.flows.report_doc import word_report
from bot.forms.conversations import Conversations, Refusal
from bot.forms.engine import DraftState, FormContext, Problem
from bot.forms.render import FormView
from bot.forms.spec import Field, FieldType, Form
from bot.parsing.dates import RangeProblem, parse_day, parse_range
from bot.parsing.text import ascii_words, fold
from bot.rules import counting
from bot.rules.access import Action, Request, unreadable
from bot.rules.counting import Basis, ModelsTable, TreeFigures, UnitFigures
from bot.rules.periods import (
    LONGEST_YEARS,
    Period,
    PeriodKind,
    PeriodProblem,
    chosen_period,
    period,
)
from bot.runtime.config import Settings
from bot.ui import formatting
from bot.ui.buttons import Between, ButtonData, Id, Page, codes
from bot.ui.catalogue import Markup, Said, Texts
from bot.ui.paging import in_tree_order, page_of, turns
from bot.ui.screens import Button, Document, Keyboard, Reply, Screen, rows
from bot.ui.spreadsheets import (
    Book,
    Column,
    Indented,
    Kind,
    Numbers,
    Rows,
    Table,
    Value,
    csv_file,
)
from storage import audit, drafts, units
from storage import exports as queries
from storage import models as model_queries
from storage.db import Database, Tx
from storage.entities import Draft, Unit
from storage.exports import DeedRow, MemberRow, ModelRow
from storage.models import ModelMark, ModelStatus

log = logging.getLogger(__name__)

BASIS = Basis.DONE  # exports count by the day the deed happened, as /stats does
FORM_NAME = "export_period"
STALE = "export.stale"
CHILDREN_PAGE = 16
NAME_IN_FILE = 60  # characters of the unit's name in a file's name


class Made(StrEnum):
    """What a picker makes."""

    SHEETS = "s"  # /export: a workbook, or the reports as CSV
    WORD = "w"  # /report_doc


class Format(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"
    DOCX = "docx"


# Code in the button data → the period.
PERIODS: dict[str, PeriodKind] = {
    "lw": PeriodKind.LAST_WEEK, "m": PeriodKind.THIS_MONTH, "lm": PeriodKind.LAST_MONTH,
    "q": PeriodKind.THIS_QUARTER, "lq": PeriodKind.LAST_QUARTER, "h": PeriodKind.FIRST_HALF,
    "y": PeriodKind.THIS_YEAR, "ly": PeriodKind.LAST_YEAR,
}
# Words a spreadsheet shows for states and standings: the bot's own, without their emoji (a
# printer or LibreOffice without an emoji font draws an empty box).
STATES = {"pending": "export.state.pending", "acknowledged": "export.state.acknowledged",
          "needs_more": "export.state.needs_more"}
STATUSES = {ModelStatus.REGISTERED: "export.status.registered",
            ModelStatus.IN_PROGRESS: "export.status.in_progress",
            ModelStatus.COMPLETED: "export.status.completed",
            ModelStatus.STOPPED: "export.status.stopped"}
MARKS = {ModelMark.EXEMPLARY: "export.mark.exemplary", ModelMark.TO_SPREAD: "export.mark.to_spread"}
MadeCode = Annotated[str, codes(*Made)]
Day = Annotated[int, Between(10000101, 99991231)]  # yyyymmdd, checked as a date when read


class UnitExport(ButtonData, prefix="ex:u", action=Action.EXPORT):
    """The unit's periods, and a page of the units below it to pick instead."""

    made: MadeCode
    unit: Id
    page: Page


class OtherUnits(ButtonData, prefix="ex:o", action=Action.EXPORT):
    made: MadeCode


class PickPeriod(ButtonData, prefix="ex:k", action=Action.EXPORT):
    made: MadeCode
    unit: Id
    period: Annotated[str, codes(*PERIODS)]


class TypeDays(ButtonData, prefix="ex:r", action=Action.EXPORT):
    made: MadeCode
    unit: Id


class MakeFile(ButtonData, prefix="ex:m", action=Action.EXPORT):
    format: Annotated[str, codes(Format.XLSX, Format.CSV)]
    unit: Id
    first: Day
    last: Day


Press = UnitExport | OtherUnits | PickPeriod | TypeDays | MakeFile
BUTTONS = (UnitExport, OtherUnits, PickPeriod, TypeDays, MakeFile)


def _day_data(day: dt.date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def _day_read(value: int) -> dt.date | None:
    try:
        return dt.date(value // 10_000, value // 100 % 100, value % 100)
    except ValueError:
        return None


# --- the typed period ---------------------------------------------------------------------------

PERIOD_FORM = Form(FORM_NAME, (Field("days", FieldType.TEXT, max=100),), summary=False)
PROBLEMS: dict[RangeProblem | PeriodProblem, str] = {
    RangeProblem.UNREADABLE: "form.export_period.days.unreadable",
    RangeProblem.NO_SUCH_DAY: "form.export_period.days.no_such_day",
    PeriodProblem.END_BEFORE_START: "form.export_period.days.end_before_start",
    PeriodProblem.NOT_STARTED: "form.export_period.days.not_started",
    PeriodProblem.TOO_EARLY: "form.export_period.days.too_early",
    PeriodProblem.TOO_LONG: "form.export_period.days.range_too_long",
}


def typed_period(text: str, today: dt.date) -> Period | RangeProblem | PeriodProblem:
    read = parse_range(text, today)
    return read if isinstance(read, RangeProblem) else chosen_period(*read, today)


Chosen = Callable[[Request, Made, int, Period], Awaitable[Reply]]


class ExportPeriodKind:
    """The days of an export, typed: "01/01/2026 - 30/06/2026". Read when sent in; a range that
    cannot be read or exported is asked again with the reason."""

    form = PERIOD_FORM

    def __init__(self) -> None:
        self.chosen: Chosen | None = None  # the picker's next step (Exports sets it)

    async def context(self, req: Request, state: DraftState) -> FormContext:
        unit_id, made = state.extra.get("unit"), state.extra.get("made")
        if (not isinstance(unit_id, int) or made not in set(Made)
                or await units.get_unit(req.tx, unit_id) is None
                or not await req.may(Action.EXPORT, unit_id)):
            raise Refusal("export.form_refused")
        return FormContext(today=req.today)

    async def submit(self, req: Request, draft: Draft, state: DraftState) -> Reply:
        found = typed_period(str(state.answers.get("days", "")), req.today)
        if not isinstance(found, Period):
            # The draft stays on its step: the days are asked again, with the reason.
            again = state.model_copy(update={"answers": {}, "step": "days"})
            view = FormView(self.form, again, await self.context(req, again), req.t, draft.id)
            return Reply((view.problem(Problem(PROBLEMS[found], {"years": LONGEST_YEARS})),))
        await drafts.delete_draft(req.tx, draft.id)
        assert self.chosen is not None, "Exports sets the next step when it is built"
        return await self.chosen(req, Made(state.extra["made"]), int(state.extra["unit"]), found)


# --- the picker ---------------------------------------------------------------------------------


class Exports:
    """The picker of /export and /report_doc, and the file it ends with."""

    def __init__(self, settings: Settings, db: Database, conversations: Conversations) -> None:
        self.settings = settings
        self.db = db
        self.conversations = conversations
        kind = conversations.kinds[FORM_NAME]
        assert isinstance(kind, ExportPeriodKind)
        kind.chosen = self.chosen

    async def open(self, req: Request) -> Reply:
        """/export (📤 Xuất dữ liệu)."""
        return await self._open(req, Made.SHEETS)

    async def open_word_report(self, req: Request) -> Reply:
        """/report_doc."""
        return await self._open(req, Made.WORD)

    async def _open(self, req: Request, made: Made) -> Reply:
        tops = await req.tops(Action.EXPORT)
        if len(tops) == 1:
            return await self._unit(req, made, tops[0].id, 0, tops, pressed=False)
        if tops:
            return self._picker(req.t, made, tops, pressed=False)
        return await self._none_in_reach(req, pressed=False)

    async def press(self, req: Request, press: Press) -> Reply:
        if isinstance(press, OtherUnits):
            tops = await req.tops(Action.EXPORT)
            if tops:
                return self._picker(req.t, Made(press.made), tops, pressed=True)
            return await self._none_in_reach(req, pressed=True)
        unit = await self._allowed(req, press.unit)
        if isinstance(unit, Reply):
            return unit
        if isinstance(press, MakeFile):
            return await self._make(req, unit, press)
        made = Made(press.made)
        if isinstance(press, UnitExport):
            return await self._unit(req, made, unit.id, press.page,
                                    await req.tops(Action.EXPORT), pressed=True)
        if isinstance(press, TypeDays):
            return await self.conversations.begin(req, FORM_NAME, made=made.value, unit=unit.id)
        kind = PERIODS[press.period]
        chosen = period(kind, req.today, self.settings.month_cutoff_day)
        return await self._chosen(req, made, unit, chosen, f"period.{kind.value}")

    @staticmethod
    async def _none_in_reach(req: Request, pressed: bool) -> Reply:
        """Someone with no unit to export (a member): refused, and logged, as asking about
        their own unit. An admin of a tree without units is told there is none."""
        home = req.actor.memberships[0].unit_id if req.actor.memberships else 0
        refusal = await req.check(Action.EXPORT, home, pressed=pressed)
        if refusal is not None:
            return refusal
        return (Reply(toast=req.t.plain("export.no_units")) if pressed
                else Reply((Screen(req.t("export.no_units")),)))

    async def _allowed(self, req: Request, unit_id: int) -> Unit | Reply:
        """The unit a press names, if it exists and is the presser's to export."""
        unit = await units.get_unit(req.tx, unit_id)
        if unit is None:
            log.warning("user %s asked to export unit %s, which does not exist", req.user_id,
                        unit_id)
            return Reply(toast=req.t.plain("export.not_found"))
        return await req.check(Action.EXPORT, unit.id, pressed=True) or unit

    @staticmethod
    def _picker(t: Texts, made: Made, tops: list[Unit], pressed: bool) -> Reply:
        choices = [Button(u.name, UnitExport(made.value, u.id, 0).pack()) for u in tops]
        key = "export.pick_unit" if made is Made.SHEETS else "export.pick_unit_word"
        return Reply((Screen(t(key), rows(choices, 1)),), replace=pressed)

    async def _unit(self, req: Request, made: Made, unit_id: int, page: int, tops: list[Unit],
                    pressed: bool) -> Reply:
        """The unit's periods to pick, and the units below it (a page at a time) and above it
        (when in reach) to pick instead."""
        t, tx = req.t, req.tx
        unit = await units.get_unit(tx, unit_id)
        assert unit is not None, "the unit was found a moment ago"
        code = made.value
        keyboard = list(rows([Button(t.plain(f"period.{kind.value}"),
                                     PickPeriod(code, unit.id, c).pack())
                              for c, kind in PERIODS.items()], 3))
        keyboard.append((Button(t.plain("export.button.typed"), TypeDays(code, unit.id).pack()),))
        below = page_of(await units.children(tx, unit.id), page, CHILDREN_PAGE)
        keyboard += rows([Button(t.plain("export.button.child", unit=c.name),
                                 UnitExport(code, c.id, 0).pack()) for c in below.items], 2)
        keyboard += turns(t, below, lambda n: UnitExport(code, unit.id, n).pack())
        others: list[Button] = []
        if unit.parent_id is not None and await req.may(Action.EXPORT, unit.parent_id):
            parent = await units.get_unit(tx, unit.parent_id)
            if parent is not None:
                others.append(Button(t.plain("export.button.up", unit=parent.name),
                                     UnitExport(code, parent.id, 0).pack()))
        if len(tops) > 1:
            others.append(Button(t.plain("export.button.other_unit"), OtherUnits(code).pack()))
        keyboard += rows(others, 2)
        title = "export.title" if made is Made.SHEETS else "export.title_word"
        lines = [t(title, unit=unit.name), t("export.pick_period")]
        if below.items:
            lines.append(t("export.pick_below"))
        return Reply((Screen("\n".join(lines), tuple(keyboard)),), replace=pressed)

    async def chosen(self, req: Request, made: Made, unit_id: int, days: Period) -> Reply:
        """The next step once the days are typed (the form's context has just checked the
        unit: it exists and is the person's to export)."""
        unit = await units.get_unit(req.tx, unit_id)
        assert unit is not None, "checked by the form's context in this transaction"
        return await self._chosen(req, made, unit, days, None, pressed=False)

    async def _chosen(self, req: Request, made: Made, unit: Unit, days: Period,
                      label: str | None, pressed: bool = True) -> Reply:
        """The Word report is made at once; a spreadsheet asks its format first."""
        if made is Made.WORD:
            return await self._making(req, unit, days, Format.DOCX, pressed)
        t = req.t
        first, last = _day_data(days.first), _day_data(days.last)
        keyboard: Keyboard = (
            (Button(t.plain("export.button.xlsx"),
                    MakeFile(Format.XLSX.value, unit.id, first, last).pack()),),
            (Button(t.plain("export.button.csv"),
                    MakeFile(Format.CSV.value, unit.id, first, last).pack()),),
            (Button(t.plain("export.button.back"),
                    UnitExport(made.value, unit.id, 0).pack()),),
        )
        text = "\n".join([t("export.title", unit=unit.name), _period_line(t, days, label),
                          t("export.pick_format")])
        return Reply((Screen(text, keyboard),), replace=pressed)

    async def _make(self, req: Request, unit: Unit, press: MakeFile) -> Reply:
        first, last = _day_read(press.first), _day_read(press.last)
        days = chosen_period(first, last, req.today) if first and last else None
        if not isinstance(days, Period):
            return await self._forged(req, press)
        return await self._making(req, unit, days, Format(press.format), pressed=True)

    @staticmethod
    async def _forged(req: Request, press: MakeFile) -> Reply:
        """Days no button of the bot carries: refused, and logged as forged data is."""
        return await unreadable(req, press.pack(), STALE)

    async def _making(self, req: Request, unit: Unit, days: Period, what: Format,
                      pressed: bool) -> Reply:
        """"⏳ Đang tạo báo cáo…" now; the file once the update's transaction is over. The
        audit log has it: who, what, which unit, which days."""
        await audit.record(req.tx, req.now, req.actor.label, "export", f"unit:{unit.id}",
                           _detail(days, what))
        t, today, settings, db = req.t, req.today, self.settings, self.db
        return Reply((Screen(t("export.making")),), replace=pressed,
                     document=lambda: made_file(db, settings, t, unit, days, what, today))


def _period_line(t: Texts, days: Period, label: str | None) -> Markup:
    dates = formatting.period_span(days.first, days.last)
    if label is None:
        return t("export.period_days", dates=dates)
    return t("export.period_named", period=t.plain(label), dates=dates)


def _detail(days: Period, what: Format) -> str:
    return f"{what.value} {days.first.isoformat()}..{days.last.isoformat()}"


# --- what the file holds ------------------------------------------------------------------------


@dataclass(frozen=True)
class Gathered:
    """What a workbook of the unit's period shows but its reports (which come a batch at a
    time, `Sheets.deed_rows`), read in the same transaction."""

    unit: Unit
    days: Period
    tree: TreeFigures  # the figures of the unit and of each unit below it
    models_table: ModelsTable
    models: list[ModelRow]
    standings: dict[int, model_queries.ModelYear | None]  # in the period's last year
    model_reports: dict[int, int]
    members: list[MemberRow]
    member_reports: dict[int, tuple[int, int]]  # person → (written or taken part in, written)

    @property
    def year(self) -> int:
        """The year models and commitments are of: the period's last (as /stats counts)."""
        return self.days.last.year


async def gather(tx: Tx, settings: Settings, unit: Unit, days: Period) -> Gathered:
    within = counting.within(settings, days, BASIS)
    year = days.last.year
    models = await queries.models_of_year(tx, unit.id, year)
    ids = [m.id for m in models]
    years = await model_queries.years_of(tx, ids)
    return Gathered(
        unit=unit, days=days,
        tree=await counting.tree_figures(tx, settings, unit.id, days, BASIS),
        models_table=await counting.models_table(tx, unit.id, year),
        models=models,
        standings={m: model_queries.status_in(years[m], year) for m in ids},
        model_reports=await model_queries.report_counts(tx, ids, within),
        members=await queries.members(tx, unit.id, year),
        member_reports=await counting.member_counts(tx, settings, unit.id, days, BASIS))


def _columns(t: Texts, *names: tuple[str, Kind]) -> list[Column]:
    return [Column(t.plain(f"export.column.{name}"), kind) for name, kind in names]


class Sheets:
    """The workbook's tables (and the CSV's), in the reader's language."""

    def __init__(self, settings: Settings, t: Texts, found: Gathered, today: dt.date) -> None:
        self.settings = settings
        self.t = t
        self.found = found
        self.today = today
        self.units = found.tree.units
        order = in_tree_order(list(self.units.values()))
        self.position = {u.id: i for i, u in enumerate(order)}
        self.order = order
        self.deed_count = 0  # the reports `deed_rows` has given so far

    def _name(self, unit_id: int) -> str:
        unit = self.units.get(unit_id)
        return unit.name if unit is not None else ""

    def _table(self, sheet: str, columns: list[Column], rows: Sequence[Sequence[Value]],
               **title: object) -> Table:
        t, days = self.t, self.found.days
        return Table(
            name=t.plain(f"export.sheet.{sheet}"),
            title=t.plain(f"export.heading.{sheet}", unit=self.found.unit.name, **title),
            subtitle=t.plain("export.subtitle", first=formatting.day(days.first),
                             last=formatting.day(days.last), today=formatting.day(self.today)),
            columns=columns, rows=rows)

    def _fields(self) -> list[str]:
        """The fields of config.toml, then any no longer configured that the rows name."""
        seen = set(self.found.tree.figures[self.found.unit.id].reports.by_field)
        seen |= {m.field for m in self.found.models}
        configured = list(self.settings.report.fields)
        return configured + sorted(seen - set(configured))

    def summary(self) -> Table:
        """Tổng hợp: the unit and each unit below it, each with its whole subtree."""
        t, fields = self.t, self._fields()
        columns = [Column(t.plain("export.column.unit")), *_columns(
            t, ("reports", Kind.NUMBER), ("acknowledged", Kind.NUMBER),
            ("waiting", Kind.NUMBER), ("needs_more", Kind.NUMBER),
            ("took_part", Kind.NUMBER), ("expected", Kind.NUMBER), ("share", Kind.FIGURE),
            ("households", Kind.NUMBER), ("people", Kind.NUMBER), ("value", Kind.MONEY),
            ("new_models", Kind.NUMBER)),
            *[Column(name, Kind.NUMBER) for name in fields]]
        rows = [self._summary_row(self.found.tree.figures[u.id], fields) for u in self.order]
        return self._table("summary", columns, rows)

    def _summary_row(self, figures: UnitFigures, fields: list[str]) -> list[Value]:
        tally, share = figures.reports, figures.participation
        depth = len(self.found.tree.above(figures.unit.id)) - 1
        return [Indented(figures.unit.name, depth), tally.total, tally.acknowledged,
                tally.waiting, tally.needs_more, share.reported, share.expected,
                formatting.percent(share.share, self.t) if share.share is not None else None,
                tally.households_helped, tally.people_helped, tally.value_vnd,
                figures.new_models, *[tally.by_field.get(name, 0) for name in fields]]

    def deeds(self, rows: Rows) -> Table:
        """Việc làm: every report, with who did it, who entered it and who acknowledged it
        (`rows`: the first of them, from `deed_rows`)."""
        columns = _columns(
            self.t,
            ("number", Kind.NUMBER), ("date", Kind.DATE), ("member", Kind.TEXT),
            ("together", Kind.TEXT), ("unit", Kind.TEXT), ("field", Kind.TEXT),
            ("description", Kind.LONG_TEXT), ("model", Kind.TEXT), ("people", Kind.NUMBER),
            ("households", Kind.NUMBER), ("value", Kind.MONEY), ("place", Kind.TEXT),
            ("state", Kind.TEXT), ("entered_by", Kind.TEXT), ("acknowledged_by", Kind.TEXT),
            ("private", Kind.KEY))
        return self._table("deeds", columns, rows)

    async def deed_rows(self, batches: AsyncIterator[list[DeedRow]]
                        ) -> AsyncIterator[list[list[Value]]]:
        """The rows of `deeds`, numbered, a batch at a time."""
        t = self.t
        states = {state: t.plain(key) for state, key in STATES.items()}
        self_reported, yes = t.plain("export.self_reported"), t.plain("export.yes")
        async for batch in batches:
            yield [[number, r.deed_date, r.author, ", ".join(r.together) or None,
                    self._name(r.unit_id), r.field, r.description, r.model, r.people_helped,
                    r.households_helped, r.value_vnd, _place(r), states.get(r.state, r.state),
                    r.entered_by or self_reported, r.acknowledged_by, yes if r.private else None]
                   for number, r in enumerate(batch, start=self.deed_count + 1)]
            self.deed_count += len(batch)

    def models(self) -> Table:
        """Mô hình: each model the subtree runs in the year, its standing and its reports."""
        t, found = self.t, self.found
        columns = _columns(
            t, ("number", Kind.KEY), ("model_name", Kind.TEXT), ("field", Kind.TEXT),
            ("owner", Kind.TEXT), ("mass_org", Kind.TEXT), ("start_year", Kind.KEY))
        columns += [Column(t.plain("export.column.status", year=found.year)),
                    Column(t.plain("export.column.mark", year=found.year)),
                    Column(t.plain("export.column.model_reports"), Kind.NUMBER)]
        rows: list[list[Value]] = []
        by_name = sorted(found.models, key=lambda m: (fold(m.name), m.name, m.id))
        for number, model in enumerate(by_name, start=1):
            standing = found.standings.get(model.id)
            status = t.plain(STATUSES[standing.status]) if standing else None
            mark = t.plain(MARKS[standing.mark]) if standing and standing.mark else None
            rows.append([number, model.name, model.field, self._name(model.owner_unit_id),
                         mass_org_label(model.mass_org, t), model.start_year, status, mark,
                         found.model_reports.get(model.id, 0)])
        return self._table("models", columns, rows, year=found.year)

    def models_by_field(self) -> Table:
        """Mô hình theo lĩnh vực: /stats' models table, per unit below and field."""
        t, table, fields = self.t, self.found.models_table, self._fields()
        columns = [Column(t.plain("export.column.unit")),
                   Column(t.plain("export.column.models_total"), Kind.NUMBER),
                   *[Column(name, Kind.NUMBER) for name in fields]]
        whole = dict(table.own)
        rows: list[list[Value]] = []
        for row in table.rows:
            rows.append([row.unit.name, row.total,
                         *[row.by_field.get(name, 0) for name in fields]])
            for name, n in row.by_field.items():
                whole[name] = whole.get(name, 0) + n
        if table.own or not table.rows:
            rows.append([t.plain("export.models_own", unit=table.unit.name), table.own_total,
                         *[table.own.get(name, 0) for name in fields]])
        rows.append([t.plain("export.total"), table.total,
                     *[whole.get(name, 0) for name in fields]])
        return self._table("models_by_field", columns, rows, year=table.year)

    def members(self) -> Table:
        """Đảng viên: each of them, unit by unit, with their reports and their commitment."""
        t, found = self.t, self.found
        columns = _columns(
            t, ("number", Kind.KEY), ("name", Kind.TEXT), ("unit", Kind.TEXT),
            ("member_reports", Kind.NUMBER), ("authored", Kind.NUMBER),
            ("co_participated", Kind.NUMBER))
        columns += [Column(t.plain("export.column.commitment", year=found.year), Kind.KEY),
                    *_columns(t, ("excused", Kind.KEY), ("reachable", Kind.TEXT))]
        yes = t.plain("export.yes")
        people = sorted(found.members, key=lambda m: (self.position.get(m.unit_id, 0),
                                                      fold(m.name), m.name, m.person_id))
        rows: list[list[Value]] = []
        for number, member in enumerate(people, start=1):
            total, authored = found.member_reports.get(member.person_id, (0, 0))
            rows.append([number, member.name, self._name(member.unit_id), total, authored,
                         total - authored,
                         t.plain("export.committed" if member.committed
                                 else "export.not_committed"),
                         yes if member.excused else None, t.plain(_reach(member))])
        return self._table("members", columns, rows)

    async def workbook(self, deeds: AsyncIterator[list[list[Value]]]) -> bytes:
        """The five sheets; the reports' rows as `deeds` yields them."""
        book = Book(Numbers.of(self.t))
        await book.add(self.summary())
        await book.add(self.deeds(await anext(deeds, [])), deeds)
        for table in (self.models(), self.models_by_field(), self.members()):
            await book.add(table)
        return await book.save()

    async def csv(self, deeds: AsyncIterator[list[list[Value]]]) -> bytes:
        return await csv_file(self.deeds(await anext(deeds, [])), deeds)


def _place(deed: DeedRow) -> str | None:
    if deed.place:
        return deed.place
    if deed.latitude is not None and deed.longitude is not None:
        return f"{deed.latitude:.5f}, {deed.longitude:.5f}"
    return None


def _reach(member: MemberRow) -> str:
    if not member.has_telegram:
        return "export.reach.no_telegram"
    return "export.reach.blocked" if member.unreachable else "export.reach.yes"


def file_name(unit: Unit, days: Period, what: Format) -> str:
    """LanToa_Chi-bo-Thon-Ban-Chang_2026-10-01_2026-12-31.xlsx: readable, and plain ASCII."""
    name = ascii_words(unit.name, NAME_IN_FILE) or str(unit.id)
    return f"LanToa_{name}_{days.first.isoformat()}_{days.last.isoformat()}.{what.value}"


async def made_file(db: Database, settings: Settings, t: Texts, unit: Unit, days: Period,
                    what: Format, today: dt.date) -> Document:
    """The file, from a read transaction of its own (on a connection of its own: a province's
    year takes seconds to read, which the bot's writers must not wait on); the workbook or CSV
    written in a worker thread, for the same reason."""
    if what is Format.DOCX:
        return await word_report(db, settings, unit.id, days, today)
    async with db.reading() as tx:
        sheets = Sheets(settings, t, await gather(tx, settings, unit, days), today)
        # Closed with the transaction even when writing fails: the cursor must not outlive it.
        async with aclosing(queries.deeds(tx, unit.id,
                                          counting.within(settings, days, BASIS))) as read:
            deeds = sheets.deed_rows(read)
            data = await (sheets.csv(deeds) if what is Format.CSV else sheets.workbook(deeds))
    caption = t("export.caption", unit=unit.name,
                dates=formatting.period_span(days.first, days.last),
                count=formatting.number(sheets.deed_count, t))
    return Document(file_name(unit, days, what), data, caption)


# --- the command line ---------------------------------------------------------------------------


class ExportError(Said):
    """`lantoa export` cannot make the file; `key` says why (one line, exit code 2)."""


CLI_PROBLEMS = {
    PeriodProblem.END_BEFORE_START: "export.cli.end_before_start",
    PeriodProblem.NOT_STARTED: "export.cli.not_started",
    PeriodProblem.TOO_EARLY: "export.cli.too_early",
    PeriodProblem.TOO_LONG: "export.cli.too_long",
}


async def _unit_named(tx: Tx, given: str) -> Unit:
    """The unit with this code, else (a number) with this id: units added without a code
    are known by their id alone (`lantoa unit list`)."""
    unit = await units.get_unit_by_code(tx, given)
    if unit is None and given.isdigit() and len(given) < 19:
        unit = await units.get_unit(tx, int(given))
    if unit is None:
        raise ExportError("export.cli.unit_unknown", unit=given)
    return unit


def _days(first_text: str, last_text: str, today: dt.date) -> Period:
    first, last = parse_day(first_text), parse_day(last_text)
    if first is None or last is None:
        option, given = ("--from", first_text) if first is None else ("--to", last_text)
        raise ExportError("export.cli.bad_date", option=option, value=given)
    days = chosen_period(first, last, today)
    if not isinstance(days, Period):
        raise ExportError(CLI_PROBLEMS[days], years=LONGEST_YEARS)
    return days


async def export_to_file(db: Database, settings: Settings, t: Texts, unit_given: str,
                         first_text: str, last_text: str, path: Path, now: dt.datetime) -> str:
    """`lantoa export --unit CODE --from DATE --to DATE -o FILE`: the file its suffix names
    (.xlsx, .csv, .docx), written to the audit log as the command line's; the line to print."""
    what = next((f for f in Format if path.suffix.lower() == f".{f.value}"), None)
    if what is None:
        raise ExportError("export.cli.suffix", path=path)
    today = now.astimezone(settings.zone).date()
    days = _days(first_text, last_text, today)
    async with db.transaction() as tx:
        unit = await _unit_named(tx, unit_given)
        await audit.record(tx, now, "cli", "export", f"unit:{unit.id}", _detail(days, what))
    made = await made_file(db, settings, t, unit, days, what, today)
    path.write_bytes(made.data)
    return t.plain("export.cli.done", path=path, unit=unit.name,
                   dates=formatting.period_span(days.first, days.last))
