"""📄 Báo cáo Word (/report_doc, `lantoa export -o FILE.docx`): a draft of a unit's report on
Directive 05-CT/TW for a period, in the layout of party documents (Hướng dẫn 36-HD/VPTW),
from a template file a province can reword without code.

Every figure comes from bot/rules/counting.py, counted by the day the deed happened, as /stats
counts; this module only puts them, as plain strings and lists, into the context the template
(bot/ui/templates/report_doc.docx, or `report.word_template`) is filled in with. Every word of
the document is the template's; the values are escaped (docxtpl's autoescape), so a name or a
report that looks like markup or like a Jinja tag is printed as it is written.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from bot.flows.members import leader_title, titles_for
from bot.parsing.text import ascii_words
from bot.rules import counting
from bot.rules.counting import Basis, Participation
from bot.rules.levels import level_of
from bot.rules.periods import (
    Period,
    month_of,
    quarter_of,
    reporting_month_of,
    week_of,
    year_of,
)
from bot.runtime.config import WORD_TEMPLATE, ConfigError, Settings
from bot.ui import formatting
from bot.ui.catalogue import Catalogue, Texts
from bot.ui.screens import Document
from storage import commitments, members, units
from storage import models as model_queries
from storage import report_doc as queries
from storage.counting import Tally
from storage.db import Database, Tx
from storage.entities import Unit
from storage.models import status_in

log = logging.getLogger(__name__)

BASIS = Basis.DONE  # official reports count by the day the deed happened, as /stats does
PACKAGED = "templates/report_doc.docx"  # in bot/ui
LANGUAGE = "vi"  # the document is Vietnamese, whoever asks for it
CONTENT_CHARS = 300  # of a highlighted report's words
MAX_HIGHLIGHTS = 30
MAX_MODEL_ROWS = 200
NAME_CHARS = 60  # of the unit's name in the file name
ROMAN = ("I", "II", "III", "IV")
# Control characters (XML 1.0 allows none but tab and line breaks) and what is no character.
_UNPRINTABLE = re.compile("[\x00-\x08\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean(text: str) -> str:
    """Text from the database as one line the document can hold: tabs, line and page breaks
    become spaces (docxtpl would make them breaks), other control characters go."""
    return " ".join(_UNPRINTABLE.sub("", text).split())


@dataclass(frozen=True)
class Wording:
    """How the template words the period, and the period's part of the file name."""

    context: dict[str, Any]
    code: str


def period_wording(period: Period, cutoff: int | None) -> Wording:
    """"tuần từ 23/11/2026 đến 29/11/2026", "tháng 11 năm 2026", "quý IV năm 2026",
    "6 tháng đầu năm 2026", "năm 2026", else "từ ngày … đến ngày …": which of these the
    period is, with every part the template may ask for."""
    first, last = period.first, period.last
    kind, code = "days", f"{first.isoformat()}_{last.isoformat()}"
    months = last.month - first.month + 1
    whole_months = (first.day == 1 and last == month_of(last).last
                    and first.year == last.year)
    if period == week_of(first):
        iso = first.isocalendar()
        kind, code = "week", f"{iso.year}-W{iso.week:02d}"
    elif period in (month_of(first), reporting_month_of(last, cutoff)):
        kind, code = "month", f"{last.year}-{last.month:02d}"
    elif period == quarter_of(first):
        kind, code = "quarter", f"{first.year}-Q{(first.month - 1) // 3 + 1}"
    elif period == year_of(first.year):
        kind, code = "year", str(first.year)
    elif whole_months and first.month == 1:
        kind, code = "first_months", f"{first.year}-{months:02d}T-dau"
    elif whole_months and last.month == 12:
        kind, code = "last_months", f"{first.year}-{months:02d}T-cuoi"
    return Wording({"kind": kind, "first": formatting.day(first),
                    "last": formatting.day(last), "month": last.month,
                    "quarter": ROMAN[(first.month - 1) // 3], "months": months,
                    "year": last.year}, code)


def file_name(unit: Unit, wording: Wording) -> str:
    """BaoCao_05_Chi-bo-Thon-Ban-Chang_2026-11.docx: ASCII only, for any mail or file system."""
    slug = ascii_words(unit.name, NAME_CHARS)
    return f"BaoCao_05_{slug or f'don-vi-{unit.id}'}_{wording.code}.docx"


# --- the figures, as the template gets them ------------------------------------------------


@dataclass(frozen=True)
class Numbers:
    """Numbers and shares written for a Vietnamese reader: 1.234, 26,5%, 20.000.000 đ."""

    t: Texts

    def __call__(self, value: int) -> str:
        return formatting.number(value, self.t)

    def share(self, part: int, whole: int) -> str:
        return formatting.percent(part / whole if whole else 0, self.t)

    def participation(self, share: Participation) -> dict[str, Any]:
        return {"any": share.expected > 0, "reported": self(share.reported),
                "expected": self(share.expected),
                "percent": self.share(share.reported, share.expected)}


def _tally(n: Numbers, settings: Settings, tally: Tally) -> dict[str, Any]:
    every_field = {**dict.fromkeys(settings.report.fields, 0), **tally.by_field}
    fields = [{"number": i, "name": name, "count": n(count)} for i, (name, count) in
              enumerate(counting.ordered_fields(settings, every_field), start=1)]
    return {
        "reports": {"any": tally.total > 0, "total": n(tally.total),
                    "acknowledged": n(tally.acknowledged), "waiting": n(tally.waiting),
                    "needs_more": n(tally.needs_more),
                    "model_reports_any": tally.model_reports > 0,
                    "model_reports": n(tally.model_reports),
                    "models_with_reports": n(tally.models_with_reports)},
        "fields": fields,
        "helped": {"any": bool(tally.households_helped or tally.people_helped),
                   "households": n(tally.households_helped), "people": n(tally.people_helped)},
        "value": formatting.money(tally.value_vnd, n.t) if tally.value_vnd else "",
    }


async def _models(tx: Tx, settings: Settings, n: Numbers, unit: Unit, period: Period,
                  year: int) -> dict[str, Any]:
    table = await counting.models_table(tx, unit.id, year)
    running = await counting.models_of_year(tx, unit.id, year)
    running.sort(key=lambda m: (m.owner_unit_id != unit.id, m.owner_name, m.name, m.id))
    shown = running[:MAX_MODEL_ROWS]
    ids = [m.id for m in shown]
    years = await model_queries.years_of(tx, ids)
    counts = await model_queries.report_counts(tx, ids, counting.within(settings, period, BASIS))
    rows = []
    for number, model in enumerate(shown, start=1):
        standing = status_in(years[model.id], year)
        rows.append({"number": number, "name": clean(model.name), "field": clean(model.field),
                     "owner": clean(model.owner_name),
                     "status": standing.status.value if standing else "",
                     "mark": standing.mark.value if standing and standing.mark else "",
                     "reports": n(counts[model.id])})
    return {
        "any": table.total > 0, "year": year, "total": n(table.total),
        "fields": [{"name": clean(name), "count": n(count)}
                   for name, count in counting.ordered_fields(settings, table.by_field)],
        "units": [{"name": clean(row.unit.name), "total": n(row.total)} for row in table.rows],
        "rows": rows, "more": n(len(running) - len(shown)) if len(running) > len(shown) else "",
    }


async def _highlights(tx: Tx, settings: Settings, unit: Unit,
                      period: Period) -> tuple[list[dict[str, Any]], int]:
    found = await queries.highlights(tx, unit.id, counting.within(settings, period, BASIS))
    shown = [{"number": number, "unit": clean(h.unit_name), "member": clean(h.author),
              "partners": [clean(name) for name in h.partners],
              "date": formatting.day(h.deed_date), "field": clean(h.field),
              "content": formatting.preview(clean(h.description), CONTENT_CHARS)}
             for number, h in enumerate(found[:MAX_HIGHLIGHTS], start=1)]
    return shown, len(found) - len(shown)


async def _signer(tx: Tx, unit: Unit) -> str:
    """The head of the unit (its bí thư, a tổ đảng's tổ trưởng) when exactly one leader is;
    else nobody, and the name is written by hand."""
    head = titles_for(unit)[0]
    heads = [p.full_name for p in await members.people_of_unit(tx, unit.id)
             if p.leader and leader_title(p.title, unit) == head]
    return clean(heads[0]) if len(heads) == 1 else ""


def _unit(unit: Unit) -> dict[str, Any]:
    return {"name": clean(unit.name), "level": level_of(unit)}


async def _context(tx: Tx, settings: Settings, unit: Unit, period: Period, today: dt.date,
                   wording: Wording) -> dict[str, Any]:
    n = Numbers(Catalogue.load().texts(LANGUAGE))
    year = period.last.year
    above = await units.ancestors(tx, unit.id)
    place = next((u.place_name for u in [unit, *above] if u.place_name), "")
    whole, children = await counting.roll_up(tx, settings, unit.id, period, BASIS)
    registered = await commitments.registration(tx, await units.subtree_ids(tx, unit.id), year)
    highlights, more = await _highlights(tx, settings, unit, period)
    return {
        "unit": _unit(unit), "parent": _unit(above[0]) if above else None,
        "place": clean(place), "this_year": today.year, "period": wording.context,
        **_tally(n, settings, whole.reports),
        "participation": n.participation(whole.participation),
        "models": await _models(tx, settings, n, unit, period, year),
        "registration": {"any": registered.expected > 0, "year": year,
                        "registered": n(registered.registered),
                        "expected": n(registered.expected),
                        "percent": n.share(registered.registered, registered.expected)},
        "children": [{"number": i, "name": clean(c.unit.name), "total": n(c.reports.total),
                      "acknowledged": n(c.reports.acknowledged),
                      "participation": n.participation(c.participation)}
                     for i, c in enumerate(children, start=1)],
        "highlights": highlights, "highlights_more": n(more) if more else "",
        "signer": await _signer(tx, unit),
    }


# --- the template ---------------------------------------------------------------------------


def _template(settings: Settings) -> tuple[bytes, str]:
    """The template's bytes, and what to call it in an error."""
    own = settings.report.word_template
    if own is None:
        return resources.files("bot.ui").joinpath(PACKAGED).read_bytes(), PACKAGED
    try:
        return Path(own).read_bytes(), str(own)
    except OSError:
        raise ConfigError("report_doc.template_missing", setting=WORD_TEMPLATE,
                          path=own) from None


def _render(settings: Settings, context: dict[str, Any]) -> bytes:
    # Imported here, not with the bot: docxtpl with python-docx, lxml and jinja2 is 6 MB of
    # the running bot's memory, and most days no one asks for the Word report.
    from docxtpl import DocxTemplate

    source, name = _template(settings)
    try:
        template = DocxTemplate(io.BytesIO(source))
        template.render(context, autoescape=True)
        made = io.BytesIO()
        template.save(made)
    except Exception as error:  # anything a province's template file can do wrong
        log.exception("the Word template %s could not be filled in", name)
        raise ConfigError("report_doc.template_broken", setting=WORD_TEMPLATE, path=name,
                          error=error) from None
    return made.getvalue()


async def word_report(db: Database, settings: Settings, unit_id: int, period: Period,
                      today: dt.date) -> Document:
    """The unit's report for the period (its whole subtree, counted by the day deeds happened),
    dated `today`, in its own read transaction. A template that cannot be read or filled in
    raises ConfigError (catalogue key and parameters, naming `report.word_template`); a unit
    that does not exist, LookupError."""
    wording = period_wording(period, settings.month_cutoff_day)
    async with db.reading() as tx:  # a province's year reads a while: no writer waits
        unit = await units.get_unit(tx, unit_id)
        if unit is None:
            raise LookupError(f"no unit {unit_id}")
        context = await _context(tx, settings, unit, period, today, wording)
    # Filling in the template takes a while for a big unit: not on the bot's event loop.
    data = await asyncio.to_thread(_render, settings, context)
    t = Catalogue.load().texts(LANGUAGE)
    caption = t("report_doc.caption", unit=unit.name,
                dates=formatting.period_span(period.first, period.last))
    return Document(file_name(unit, wording), data, caption)
