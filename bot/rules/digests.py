"""What a digest says, in no language yet: a unit's figures for a period, counting the reports
*received* in it (`Basis.RECEIVED`, so a report told late is in the next digest rather than in
none), the change against the period before, the chart's periods, the new models, the units
below, who has not reported, and a few examples: the reports a leader marked "⭐ Nêu gương" in
the period, else the newest public reports with photos (never ranked by money). A province's
digests are read in one pass (`DigestBatch`). The words are bot/flows/digests.py's.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from bot.rules import counting
from bot.rules.counting import Basis, UnitFigures
from bot.rules.periods import Period, month_of, week_of
from bot.runtime.config import Settings
from storage import digests as queries
from storage import schedules
from storage.db import Tx
from storage.digests import Example
from storage.entities import Unit
from storage.schedules import Every, ScheduleKind

BASIS = Basis.RECEIVED
CHART_PERIODS = 8
EXAMPLES = 3  # examples in a digest
EXAMPLES_FETCHED = 10  # marked ones looked at, some of which may be private


@dataclass(frozen=True)
class Digest:
    """A unit's period, everything its digest says, in no language yet."""

    unit: Unit
    period: Period
    every: Every
    figures: UnitFigures
    children: tuple[UnitFigures, ...]
    periods: tuple[Period, ...]  # the chart's, oldest first, ending with `period`
    series: tuple[int, ...]  # reports received in each of `periods`
    new_models: tuple[str, ...]
    highlights: tuple[Example, ...]  # marked ⭐ in the period, private ones included
    with_photos: tuple[Example, ...]  # the newest public reports with photos
    not_reported: tuple[str, ...]  # names
    as_of: dt.datetime | None = None  # the period is not over: figures so far

    @property
    def total(self) -> int:
        return self.figures.reports.total

    @property
    def previous_total(self) -> int:
        return self.series[-2] if len(self.series) > 1 else 0

    @property
    def charted(self) -> bool:
        """Whether the chart would show anything: eight bars of nothing are left out."""
        return any(self.series)

    @property
    def own_total(self) -> int:
        """Reports of the unit itself, in none of its child units."""
        return self.total - sum(c.reports.total for c in self.children)

    @property
    def quiet_children(self) -> list[Unit]:
        return [c.unit for c in self.children if c.empty]

    def examples(self, public: bool) -> tuple[tuple[Example, ...], bool]:
        """The examples to show and whether they are highlights (else reports with photos)."""
        marked = tuple(e for e in self.highlights if not (public and e.private))
        if marked:
            return marked[:EXAMPLES], True
        return self.with_photos[:EXAMPLES], False


def earlier(period: Period, every: Every) -> Period:
    """The period just before: the week or the calendar month."""
    day = period.first - dt.timedelta(days=1)
    return month_of(day) if every is Every.MONTH else week_of(day)


def chart_periods(period: Period, every: Every, count: int = CHART_PERIODS) -> list[Period]:
    """`count` periods ending with `period`, oldest first."""
    found = [period]
    while len(found) < count:
        found.append(earlier(found[-1], every))
    return found[::-1]


def current_period(today: dt.date, every: Every) -> Period:
    return month_of(today) if every is Every.MONTH else week_of(today)


async def digest_every(tx: Tx, settings: Settings, unit_id: int) -> Every:
    """Weekly or monthly, as the unit's digest schedule says (config.toml's default else)."""
    for row in await schedules.of_unit(tx, unit_id):
        if row.kind is ScheduleKind.DIGEST:
            return row.every
    return Every(settings.schedule.digest_every)


async def gather(tx: Tx, settings: Settings, unit_id: int, period: Period, every: Every,
                 as_of: dt.datetime | None = None) -> Digest:
    """Everything the digest of `unit_id`'s `period` says; a LookupError for no such unit."""
    found = await gather_all(tx, settings, unit_id, period, every, as_of, wanted={unit_id})
    if unit_id not in found:
        raise LookupError(f"no unit {unit_id}")
    return found[unit_id]


def _capped(rows: list[tuple[int, Example]], tree: counting.TreeFigures,
            cap: int) -> dict[int, list[Example]]:
    """Each unit's first `cap` of the rows (in their order) from its whole subtree."""
    found: dict[int, list[Example]] = defaultdict(list)
    for unit_id, example in rows:
        for target in tree.above(unit_id):
            if len(found[target]) < cap:
                found[target].append(example)
    return found


@dataclass(frozen=True)
class DigestFigures:
    """Every unit's counts in a digest: the tree's figures (totals, x/y, fields, helped, value,
    new models, roll-ups included) and each unit's chart series."""

    tree: counting.TreeFigures
    periods: tuple[Period, ...]  # the chart's, oldest first
    series: dict[int, list[int]]  # reports received in each of `periods`; none: left out

    def series_of(self, unit_id: int) -> tuple[int, ...]:
        return tuple(self.series.get(unit_id) or [0] * len(self.periods))


async def digest_figures(tx: Tx, settings: Settings, root: int | None, period: Period,
                         every: Every) -> DigestFigures:
    """The counts of the digests of `period` of every unit in `root`'s subtree (None: of every
    unit): the period's rows read once, the chart's periods once."""
    periods = chart_periods(period, every)
    zone = settings.zone
    bounds = [p.moments(zone)[0] for p in periods] + [period.moments(zone)[1]]
    with counting.collections_paused():
        tree = await counting.tree_figures(tx, settings, root, period, BASIS)
        own = await queries.totals_per_window_by_unit(tx, root, bounds)
        return DigestFigures(tree, tuple(periods), tree.rolled_up(own))


async def gather_all(tx: Tx, settings: Settings, root: int | None, period: Period,
                     every: Every, as_of: dt.datetime | None = None,
                     wanted: Collection[int] | None = None) -> dict[int, Digest]:
    """The digests of `period` of every unit in `root`'s subtree (None: of every unit), or of
    the `wanted` ones, read in one pass: the period's rows once, the chart's periods once, and
    each unit's rows added into every unit above it (Monday's digests of a whole province)."""
    batch = await digest_batch(tx, settings, root, period, every, as_of, wanted)
    await batch.read(tx, batch.unit_ids)
    return {unit_id: batch.digest(unit_id) for unit_id in batch.unit_ids}


async def digest_batch(tx: Tx, settings: Settings, root: int | None, period: Period,
                       every: Every, as_of: dt.datetime | None = None,
                       wanted: Collection[int] | None = None) -> DigestBatch:
    """`gather_all`'s figures and examples, the names of who has not reported left to be read
    a chunk of units at a time (`DigestBatch.read`)."""
    with counting.collections_paused():
        figures = await digest_figures(tx, settings, root, period, every)
        start, end = period.moments(settings.zone)
        highlights = _capped(await queries.highlighted_by_unit(tx, root, start, end),
                             figures.tree, EXAMPLES_FETCHED)
        with_photos = _capped(await queries.public_with_photos_by_unit(tx, root, start, end),
                              figures.tree, EXAMPLES)
    chosen = sorted(u for u in figures.tree.figures if wanted is None or u in wanted)
    return DigestBatch(figures, period, every, as_of, chosen, (highlights, with_photos))


class DigestBatch:
    """The digests of many units, read in one pass. Who has not reported is read a chunk of
    units at a time (`read`), so that a province's names are never all held at once."""

    def __init__(self, figures: DigestFigures, period: Period, every: Every,
                 as_of: dt.datetime | None, unit_ids: list[int],
                 examples: tuple[dict[int, list[Example]], dict[int, list[Example]]]) -> None:
        self.figures = figures
        self.period, self.every, self.as_of = period, every, as_of
        self.unit_ids = unit_ids  # by id; for the scheduler, those with somebody to send to
        self.highlights, self.with_photos = examples
        self._not_reported: dict[int, tuple[str, ...]] = {}

    async def read(self, tx: Tx, unit_ids: Collection[int]) -> None:
        """Reads who has not reported in these units (the previous ones are forgotten)."""
        tree = self.figures.tree
        missing = {unit_id: tree.not_reported(unit_id) for unit_id in unit_ids}
        names = await queries.names_by_id(tx, set().union(*missing.values()))
        self._not_reported = {unit_id: tuple(sorted(names[p] for p in people))
                              for unit_id, people in missing.items()}

    def digest(self, unit_id: int) -> Digest:
        """The unit's digest; `read` must have read its unit."""
        tree = self.figures.tree
        return Digest(
            unit=tree.units[unit_id], period=self.period, every=self.every,
            figures=tree.figures[unit_id],
            children=tuple(tree.figures[c.id] for c in tree.children[unit_id]),
            periods=self.figures.periods, series=self.figures.series_of(unit_id),
            new_models=tuple(tree.new_models.get(unit_id, ())),
            highlights=tuple(self.highlights.get(unit_id, ())),
            with_photos=tuple(self.with_photos.get(unit_id, ())),
            not_reported=self._not_reported[unit_id], as_of=self.as_of)
