"""Digests: a unit's week or month in a few warm lines and a chart (PRODUCT.md, "Schedules").

The scheduler (bot/rules/schedules.py) asks `written_digests` for the messages of a past period of
every unit due (a province's on Monday morning, read in one pass): one to each unit's linked
group, and one to each of its leaders privately; `digest_outgoing` gives one unit's. `/digest`
shows a leader or an observer the current period's digest on demand, as the leaders read it.

What goes where:
- Everything counts the reports *received* in the period (`Basis.RECEIVED`), so a report told
  late is in the next digest rather than in none.
- The group reads the totals, the change against the period before, the fields, how many were
  helped and the value, the new models, one line per child unit that has reports, and a few
  examples: the reports a leader marked "⭐ Nêu gương" in the period, else the newest public
  reports with photos (never ranked by money). A group never sees a report marked "không công
  khai", and never a report's own words (they may name the people helped): an example is who
  did it, the field, the model and the day.
- The leaders read the same, with the examples' words, plus who has not reported, how many of
  the period's reports wait for acknowledgment (with a button into the review queue), and the
  child units with nothing.

Callback data (never trusted, re-authorised on every press):
  dg:u:<unit>     that unit's digest of the current period
  dg:pick:0       choose among the units in reach
The button into the review queue carries the review flow's own data (`rv:first:0`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from bot.flows import reviews as review
from bot.flows.reports import ReportKind
from bot.flows.stats import percent
from bot.forms.conversations import Conversations
from bot.rules import counting, deliveries
from bot.rules.access import Action, Actor, actor_for, check, permits, units_in_reach
from bot.rules.counting import Basis, UnitFigures
from bot.rules.deliveries import Outgoing
from bot.rules.periods import Period, key_of, month_of, week_of
from bot.rules.schedules import DIGEST, Due, digest_period, latest_occurrence
from bot.runtime.services import Sender, Services
from bot.ui import charts, formatting
from bot.ui.buttons import pack, verb_and_number
from bot.ui.catalogue import Markup, Texts
from bot.ui.screens import Button, Reply, Screen, rows
from storage import deliveries as ledger
from storage import digests as queries
from storage import groups, schedules, units
from storage.db import Tx
from storage.digests import Example
from storage.entities import Unit
from storage.schedules import Every, ScheduleKind

log = logging.getLogger(__name__)

PREFIX = "dg"
VERBS = frozenset({"u", "pick"})
BASIS = Basis.RECEIVED  # PRODUCT.md: digests count the reports received in the period
CHART_PERIODS = 8
DIGEST_CHUNK = 25  # units whose digests are written, drawn and decided together
EXAMPLES = 3  # examples in a digest
EXAMPLES_FETCHED = 10  # marked ones looked at, some of which may be private
NAMES = 40  # people named as not having reported, then "and N more"
MODELS = 5  # new models named, then "and N more"
PREVIEW = 120  # characters of a report's words in the leaders' digest
REVIEW_QUEUE = pack(review.PREFIX, "first", 0)


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


async def digest_every(tx: Tx, services: Services, unit_id: int) -> Every:
    """Weekly or monthly, as the unit's digest schedule says (config.toml's default else)."""
    for row in await schedules.of_unit(tx, unit_id):
        if row.kind is ScheduleKind.DIGEST:
            return row.every
    return Every(services.settings.schedule.digest_every)


async def gather(tx: Tx, services: Services, unit_id: int, period: Period, every: Every,
                 as_of: dt.datetime | None = None) -> Digest:
    """Everything the digest of `unit_id`'s `period` says; a LookupError for no such unit."""
    found = await gather_all(tx, services, unit_id, period, every, as_of, wanted={unit_id})
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


async def digest_figures(tx: Tx, services: Services, root: int | None, period: Period,
                         every: Every) -> DigestFigures:
    """The counts of the digests of `period` of every unit in `root`'s subtree (None: of every
    unit): the period's rows read once, the chart's periods once."""
    periods = chart_periods(period, every)
    zone = services.settings.zone
    bounds = [p.moments(zone)[0] for p in periods] + [period.moments(zone)[1]]
    with counting.collections_paused():
        tree = await counting.tree_figures(tx, services, root, period, BASIS)
        own = await queries.totals_per_window_by_unit(tx, root, bounds)
        return DigestFigures(tree, tuple(periods), tree.rolled_up(own))


async def gather_all(tx: Tx, services: Services, root: int | None, period: Period,
                     every: Every, as_of: dt.datetime | None = None,
                     wanted: Collection[int] | None = None) -> dict[int, Digest]:
    """The digests of `period` of every unit in `root`'s subtree (None: of every unit), or of
    the `wanted` ones, read in one pass: the period's rows once, the chart's periods once, and
    each unit's rows added into every unit above it (Monday's digests of a whole province)."""
    batch = await digest_batch(tx, services, root, period, every, as_of, wanted)
    await batch.read(tx, batch.unit_ids)
    return {unit_id: batch.digest(unit_id) for unit_id in batch.unit_ids}


async def digest_batch(tx: Tx, services: Services, root: int | None, period: Period,
                       every: Every, as_of: dt.datetime | None = None,
                       wanted: Collection[int] | None = None,
                       group_of: dict[int, int] | None = None,
                       leaders_of: dict[int, list[queries.Recipient]] | None = None
                       ) -> DigestBatch:
    """`gather_all`'s figures and examples, the names of who has not reported left to be read
    a chunk of units at a time (`DigestBatch.read`)."""
    with counting.collections_paused():
        figures = await digest_figures(tx, services, root, period, every)
        start, end = period.moments(services.settings.zone)
        highlights = _capped(await queries.highlighted_by_unit(tx, root, start, end),
                             figures.tree, EXAMPLES_FETCHED)
        with_photos = _capped(await queries.public_with_photos_by_unit(tx, root, start, end),
                              figures.tree, EXAMPLES)
    chosen = sorted(u for u in figures.tree.figures if wanted is None or u in wanted)
    return DigestBatch(services, figures, period, every, as_of, chosen,
                       (highlights, with_photos), group_of or {}, leaders_of or {})


# --- words ------------------------------------------------------------------------------------


class Writer:
    """A digest in one reader's language: the group's text, the leaders' text, the chart."""

    def __init__(self, services: Services, t: Texts) -> None:
        self.services = services
        self.t = t
        # Numbers written so far: a province's digests write the same small ones ~100,000 times.
        self._numbers: dict[int, str] = {}

    def _n(self, value: int) -> str:
        if value not in self._numbers:
            self._numbers[value] = formatting.number(value, self.t)
        return self._numbers[value]

    def title(self, d: Digest) -> Markup:
        t = self.t
        if d.every is Every.MONTH:
            return t("digest.title_month", month=d.period.first.strftime("%m/%Y"),
                     unit=d.unit.name)
        return t("digest.title_week", week=d.period.first.isocalendar().week,
                 dates=formatting.day_range(d.period.first, d.period.last), unit=d.unit.name)

    def _change(self, d: Digest) -> Markup:
        t = self.t
        previous = (t.plain("digest.previous_month") if d.every is Every.MONTH
                    else t.plain("digest.previous_week"))
        change = d.total - d.previous_total
        if change > 0:
            return t("digest.up", count=self._n(change), previous=previous)
        if change < 0:
            return t("digest.down", count=self._n(-change), previous=previous)
        return t("digest.same", previous=previous)

    def _total(self, d: Digest) -> list[Markup]:
        t = self.t
        if d.total == 0:
            empty = (t("digest.empty_month") if d.every is Every.MONTH
                     else t("digest.empty_week"))
            return [empty, t("digest.encourage")]
        share = d.figures.participation
        if share.expected:
            line = t("digest.total", total=self._n(d.total), reported=self._n(share.reported),
                     expected=self._n(share.expected), percent=percent(share.share or 0, t),
                     change=self._change(d))
        else:
            line = t("digest.total_plain", total=self._n(d.total), change=self._change(d))
        return [line]

    def _fields(self, d: Digest) -> list[Markup]:
        t = self.t
        items = [t.plain("digest.field_item", field=name, count=self._n(n))
                 for name, n in counting.ordered_fields(self.services, d.figures.reports.by_field)]
        return [t("digest.fields", fields=t.plain("digest.joiner").join(items))] if items else []

    def _helped(self, d: Digest) -> list[Markup]:
        t, tally = self.t, d.figures.reports
        whom = [*([t.plain("digest.households", count=self._n(tally.households_helped))]
                  if tally.households_helped else []),
                *([t.plain("digest.people", count=self._n(tally.people_helped))]
                  if tally.people_helped else [])]
        parts = [t.plain("digest.helped", whom=", ".join(whom))] if whom else []
        if tally.value_vnd:
            value = formatting.money(tally.value_vnd, t)
            parts.append(t.plain("digest.value", value=value) if whom
                         else t.plain("digest.value_alone", value=value))
        return [t("digest.line", text="; ".join(parts))] if parts else []

    def _models(self, d: Digest) -> list[Markup]:
        t = self.t
        if not d.new_models:
            return []
        names = ", ".join(t.plain("digest.model_name", name=n) for n in d.new_models[:MODELS])
        more = len(d.new_models) - MODELS
        if more > 0:
            names += t.plain("digest.more_models", count=self._n(more))
        return [t("digest.new_models", names=names)]

    def _children(self, d: Digest) -> list[Markup]:
        t = self.t
        lines = [self._child(c) for c in d.children if not c.empty]
        if d.children and d.own_total:
            lines.append(t("digest.own", unit=d.unit.name, total=self._n(d.own_total)))
        return [Markup(""), t("digest.children_title"), *lines] if lines else []

    def _child(self, child: UnitFigures) -> Markup:
        t, share = self.t, child.participation
        if share.expected:
            return t("digest.child", unit=child.unit.name, total=self._n(child.reports.total),
                     reported=self._n(share.reported), expected=self._n(share.expected))
        return t("digest.child_plain", unit=child.unit.name, total=self._n(child.reports.total))

    def _examples(self, d: Digest, public: bool) -> list[Markup]:
        t = self.t
        shown, marked = d.examples(public)
        if not shown:
            return []
        lines = [Markup(""), t("digest.highlights_title") if marked
                 else t("digest.photos_title")]
        for e in shown:
            lines.append(t(
                "digest.example", name=e.author, field=e.field,
                together=t("digest.together", count=self._n(e.partners)) if e.partners else "",
                model=t("digest.model_of", model=e.model) if e.model else "",
                date=formatting.day(e.deed_date)))
            if not public:
                lines.append(t("digest.words", text=formatting.preview(e.description, PREVIEW),
                               private=t("digest.private_mark") if e.private else ""))
        return lines

    def _body(self, d: Digest, public: bool) -> list[Markup]:
        head = [self.title(d)]
        if d.as_of is not None:
            moment = d.as_of.astimezone(self.services.settings.zone)
            head.append(self.t("digest.as_of", time=moment.strftime("%H:%M"),
                               day=formatting.day(moment.date())))
        return [*head, *self._total(d), *self._fields(d), *self._helped(d), *self._models(d),
                *self._children(d), *self._examples(d, public)]

    def group_text(self, d: Digest) -> str:
        return "\n".join(self._body(d, public=True))

    def private_text(self, d: Digest) -> str:
        t = self.t
        lines = [*self._body(d, public=False), Markup(""), t("digest.private_title")]
        waiting = d.figures.reports.waiting
        if waiting:
            lines.append(t("digest.waiting", count=self._n(waiting)))
        elif d.total:
            lines.append(t("digest.none_waiting"))
        share = d.figures.participation
        if d.not_reported:
            names = ", ".join(d.not_reported[:NAMES])
            more = len(d.not_reported) - NAMES
            if more > 0:
                names += t.plain("digest.more_people", count=self._n(more))
            lines.append(t("digest.not_reported", count=self._n(len(d.not_reported)),
                           names=names))
        elif share.expected:
            lines.append(t("digest.all_reported", count=self._n(share.expected)))
        quiet = d.quiet_children
        if quiet:
            lines.append(t("digest.quiet_units", units=", ".join(u.name for u in quiet)))
        return "\n".join(lines)

    def chart_labels(self, d: Digest) -> list[str]:
        t = self.t
        if d.every is Every.MONTH:
            return [t.plain("digest.chart_month", month=p.first.strftime("%m/%Y"))
                    for p in d.periods]
        return [t.plain("digest.chart_week", week=p.first.isocalendar().week,
                        dates=formatting.day_range(p.first, p.last, year=False))
                for p in d.periods]

    async def chart(self, d: Digest) -> bytes:
        return await charts.bar_chart_png(self.t.plain("digest.chart_title", unit=d.unit.name),
                                          self.chart_labels(d), list(d.series))

    def review_row(self) -> tuple[Button, ...]:
        return (Button(self.t.plain("digest.button_review"), REVIEW_QUEUE),)


# --- the scheduled digest ---------------------------------------------------------------------


async def digest_recipients_by_unit(tx: Tx, unit_ids: Collection[int]
                                    ) -> dict[int, list[Outgoing]]:
    """Who each unit's digest would go to, without its content (units with nobody left out):
    what a digest missed beyond the grace window is recorded for."""
    group_of = await queries.groups_by_unit(tx)
    leaders_of = await queries.leaders_by_unit(tx)
    found: dict[int, list[Outgoing]] = {}
    for unit_id in unit_ids:
        items = [Outgoing(group_of[unit_id], Screen(""))] if unit_id in group_of else []
        items += [Outgoing(leader.telegram_user_id, Screen(""), person_id=leader.person_id)
                  for leader in leaders_of.get(unit_id, [])]
        if items:
            found[unit_id] = items
    return found


@dataclass(frozen=True)
class WrittenDigest:
    """A digest's messages, written in the transaction that read its figures; their charts are
    drawn afterwards (`drawn`), so nobody waits on the database while they are."""

    digest: Digest
    messages: tuple[tuple[Outgoing, Writer], ...]

    async def drawn(self) -> list[Outgoing]:
        """Each message with the chart in its reader's language, drawn once per language."""
        charts_by_lang: dict[str, bytes] = {}
        found: list[Outgoing] = []
        for outgoing, writer in self.messages:
            if writer.t.lang not in charts_by_lang:
                charts_by_lang[writer.t.lang] = await writer.chart(self.digest)
            found.append(replace(outgoing, image=charts_by_lang[writer.t.lang]))
        return found


async def written_digest(tx: Tx, services: Services, unit_id: int, period: Period,
                         every: Every) -> WrittenDigest | None:
    """The unit's digest of `period` (a past ISO week or month): to its linked group, and to
    each of its leaders privately; None when it has nobody to go to."""
    group = await groups.group_of_unit(tx, unit_id)
    leaders = await queries.leaders(tx, unit_id)
    if group is None and not leaders:
        return None
    try:
        digest = await gather(tx, services, unit_id, period, every)
    except LookupError:
        log.warning("no digest for unit %s: it does not exist", unit_id)
        return None
    return _written(services, digest, group, leaders, {})


def _written(services: Services, digest: Digest, group: int | None,
             leaders: list[queries.Recipient], writers: dict[str | None, Writer]
             ) -> WrittenDigest:
    """The digest's message to its group and to each leader, in their languages."""
    def writer(lang: str | None) -> Writer:
        if lang not in writers:
            writers[lang] = Writer(services, services.texts(lang))
        return writers[lang]

    messages: list[tuple[Outgoing, Writer]] = []
    if group is not None:
        messages.append((Outgoing(group, Screen(writer(None).group_text(digest))), writer(None)))
    for leader in leaders:
        own = writer(leader.lang)
        screen = Screen(own.private_text(digest), (own.review_row(),))
        messages.append((Outgoing(leader.telegram_user_id, screen, person_id=leader.person_id),
                         own))
    return WrittenDigest(digest, tuple(messages))


class DigestBatch:
    """The digests of many units, read in one pass. Who has not reported is read a chunk of
    units at a time (`read`), and each unit's messages are written only when asked for
    (`written`), so that a province's names and 7,000 texts are never all held at once."""

    def __init__(self, services: Services, figures: DigestFigures, period: Period, every: Every,
                 as_of: dt.datetime | None, unit_ids: list[int],
                 examples: tuple[dict[int, list[Example]], dict[int, list[Example]]],
                 group_of: dict[int, int], leaders_of: dict[int, list[queries.Recipient]]
                 ) -> None:
        self.services = services
        self.figures = figures
        self.period, self.every, self.as_of = period, every, as_of
        self.unit_ids = unit_ids  # by id; for the scheduler, those with somebody to send to
        self.highlights, self.with_photos = examples
        self.group_of = group_of
        self.leaders_of = leaders_of
        self.writers: dict[str | None, Writer] = {}
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

    def written(self, unit_id: int) -> WrittenDigest:
        """The unit's digest to its group and leaders; `read` must have read its unit."""
        return _written(self.services, self.digest(unit_id), self.group_of.get(unit_id),
                        self.leaders_of.get(unit_id, []), self.writers)


async def written_digests(tx: Tx, services: Services, unit_ids: Collection[int],
                          period: Period, every: Every) -> DigestBatch:
    """`written_digest` of many units at once (Monday morning's, every unit of a province),
    from one pass over the period's rows; units with nobody to send to are left out. Read who
    has not reported before writing a unit's (`DigestBatch.read`)."""
    group_of = await queries.groups_by_unit(tx)
    leaders_of = await queries.leaders_by_unit(tx)
    wanted = {u for u in unit_ids if u in group_of or leaders_of.get(u)}
    return await digest_batch(tx, services, None, period, every, wanted=wanted,
                              group_of=group_of, leaders_of=leaders_of)


async def digest_outgoing(tx: Tx, services: Services, unit_id: int, period: Period,
                          every: Every) -> list[Outgoing]:
    """`written_digest` with its charts drawn: every message, ready to queue."""
    written = await written_digest(tx, services, unit_id, period, every)
    return await written.drawn() if written is not None else []


# --- the scheduled digests --------------------------------------------------------------------


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


class ScheduledDigests:
    """Decides the digests of every unit due at one moment together (see the module's
    docstring): on Monday morning a province's 5,000 digest jobs fire together, and the first of
    them decides every unit whose digest falls due at that same moment, from one pass over the
    week's reports (`written_digests`); the other jobs of that moment find themselves covered
    and return. The figures are read in one transaction; then, a chunk of units at a time, who
    has not reported is read (a short transaction), their texts are written and their charts
    drawn outside any transaction (nobody's reply waits for them), and the chunk is decided in
    one short transaction that skips the units another run decided meanwhile. A chunk's
    messages go out while the next is drawn, and no more than a chunk's names, texts and charts
    are held at once."""

    def __init__(self, services: Services) -> None:
        self.services = services
        # The digest rows each run of a moment decided (or is deciding), by moment: the other
        # jobs of that moment wait for it and return.
        self._digest_runs: dict[tuple[Every, dt.datetime], asyncio.Future[frozenset[int]]] = {}

    @property
    def zone(self) -> ZoneInfo:
        return self.services.settings.zone

    async def decide(self, due: Due) -> int:
        """Decides the digests of every row due at `due`'s moment, unless a run of that moment
        (this row's or another's) covers this row already. The rows a run covers are known
        once its first transaction has found them: the other jobs of the moment return then,
        rather than wait for every chart to be drawn."""
        running = self._digest_runs.get(due.moment)
        if running is not None and due.schedule.id in await asyncio.shield(running):
            return 0
        covered: set[int] = {due.schedule.id}
        found = asyncio.get_running_loop().create_future()
        # Only the latest moments are kept: an older one no job will run again.
        self._digest_runs = {m: f for m, f in self._digest_runs.items()
                             if m[1] > due.occurrence - dt.timedelta(days=2)}
        self._digest_runs[due.moment] = found
        try:
            return await self._decide_digests(due, covered, found)
        finally:
            # Set even when the run failed: the other jobs of the moment would fail the same
            # way; the next start-up's catch-up tries again.
            if not found.done():
                found.set_result(frozenset(covered))

    async def _decide_digests(self, due: Due, covered: set[int],
                              found: asyncio.Future[frozenset[int]]) -> int:
        period = digest_period(due.schedule.every, due.occurrence.date())
        key = key_of(period)
        async with self.services.db.transaction() as tx:
            unit_ids = await self._due_units(tx, due, covered)
            found.set_result(frozenset(covered))
            unit_ids -= await ledger.decided_units(tx, DIGEST, key)
            if not unit_ids:
                return 0
            if due.late:
                return await self._missed_digests(tx, key, unit_ids)
            batch = await written_digests(tx, self.services, unit_ids, period,
                                          due.schedule.every)
        added = 0
        for chunk in _chunks(batch.unit_ids, DIGEST_CHUNK):
            async with self.services.db.transaction() as tx:
                await batch.read(tx, chunk)  # who has not reported, for the leaders' texts
            drawn = {unit_id: items for unit_id in chunk
                     if (items := await self._drawn(batch, unit_id)) is not None}
            async with self.services.db.transaction() as tx:
                taken = await ledger.decided_units(tx, DIGEST, key, chunk)
                for unit_id, items in drawn.items():
                    if unit_id not in taken:
                        added += await deliveries.queue(tx, self.services.now(), DIGEST,
                                                        unit_id, key, items)
            self.services.outbox.notify()  # this chunk goes out while the next is drawn
        return added

    @staticmethod
    async def _drawn(batch: DigestBatch, unit_id: int) -> list[Outgoing] | None:
        """The unit's messages with their charts; None, logged, if they cannot be made: one
        unit's failure must not cost the rest of the province its digests."""
        try:
            return await batch.written(unit_id).drawn()
        except Exception:
            log.exception("the digest of unit %s could not be written", unit_id)
            return None

    async def _due_units(self, tx: Tx, due: Due, covered: set[int]) -> set[int]:
        """The units of the enabled digest rows whose latest occurrence is `due`'s (their ids
        added to `covered`); a row changed after it is not due (see `_run`)."""
        now, first = self.services.now(), due.schedule
        found: set[int] = set()
        for row in await schedules.every_schedule(tx):
            if (row.kind is ScheduleKind.DIGEST and row.enabled and row.every is first.every
                    and row.at == first.at and row.updated_at <= due.occurrence
                    and latest_occurrence(row, now, self.zone) == due.occurrence):
                covered.add(row.id)
                found.add(row.unit_id)
        return found

    async def _missed_digests(self, tx: Tx, key: str, unit_ids: set[int]) -> int:
        """Past the grace window: who each digest would have gone to, recorded missed (its
        figures and charts would be wasted)."""
        recipients = await digest_recipients_by_unit(tx, unit_ids)
        return sum([await deliveries.record_missed(tx, self.services.now(), DIGEST, unit_id, key,
                                                 items)
                    for unit_id, items in sorted(recipients.items())])


# --- /digest ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """What /digest answers: the reply, and the chart to show just before it."""

    reply: Reply
    image: bytes | None = None


@dataclass(frozen=True)
class _Prepared:
    reply: Reply
    digest: Digest | None = None
    writer: Writer | None = None


def parse(data: str) -> tuple[str, int] | None:
    """`dg:u:<unit>` or `dg:pick:0`; None for anything else."""
    return verb_and_number(data, PREFIX, VERBS)


class Digests:
    def __init__(self, services: Services, conversations: Conversations,
                 report_kind: ReportKind) -> None:
        self.services = services
        self.conversations = conversations
        self.report_kind = report_kind

    async def open(self, sender: Sender) -> Shown:
        """/digest: the current period's digest of the unit in reach, or a choice of units."""
        async with self.services.db.transaction() as tx:
            actor, t, tops = await self._viewer(tx, sender.user_id)
            if len(tops) == 1:
                prepared = await self._prepare(tx, actor, t, tops, tops[0].id, pressed=False)
            elif tops:
                prepared = _Prepared(self._picker(tops, t, pressed=False))
            else:
                home = actor.memberships[0].unit_id if actor.memberships else 0
                refusal = await check(tx, self.services, actor, Action.DIGEST, home)
                prepared = _Prepared(refusal or Reply((Screen(t("digest.no_units")),)))
        return await self._finish(prepared)

    async def act(self, sender: Sender, data: str) -> Shown:
        press = parse(data)
        async with self.services.db.transaction() as tx:
            actor, t, tops = await self._viewer(tx, sender.user_id)
            if press is None:
                log.warning("user %s sent unreadable digest data %r", sender.user_id, data)
                prepared = _Prepared(Reply(toast=t.plain("digest.stale")))
            elif press[0] == "u":
                prepared = await self._prepare(tx, actor, t, tops, press[1], pressed=True)
            elif tops:
                prepared = _Prepared(self._picker(tops, t, pressed=True))
            else:
                home = actor.memberships[0].unit_id if actor.memberships else 0
                refusal = await check(tx, self.services, actor, Action.DIGEST, home,
                                      pressed=True)
                prepared = _Prepared(refusal or Reply(toast=t.plain("digest.stale")))
        return await self._finish(prepared)

    async def _viewer(self, tx: Tx, user_id: int) -> tuple[Actor, Texts, list[Unit]]:
        """Who asks, in their language, and the highest units whose digest they may read."""
        actor = await actor_for(tx, self.services, user_id)
        t = self.services.texts(actor.person.lang if actor.person else None)
        reach = await units_in_reach(tx, actor, Action.DIGEST)
        ids = {u.id for u in reach}
        return actor, t, [u for u in reach if u.parent_id not in ids]

    def _picker(self, tops: list[Unit], t: Texts, pressed: bool) -> Reply:
        choices = [Button(u.name, pack(PREFIX, "u", u.id)) for u in tops]
        return Reply((Screen(t("digest.pick"), rows(choices, 1)),), replace=pressed)

    async def _prepare(self, tx: Tx, actor: Actor, t: Texts, tops: list[Unit], unit_id: int,
                       pressed: bool) -> _Prepared:
        unit = await units.get_unit(tx, unit_id)
        if unit is None:
            log.warning("user %s asked for the digest of unit %s, which does not exist",
                        actor.user_id, unit_id)
            return _Prepared(Reply(toast=t.plain("digest.not_found")) if pressed
                             else Reply((Screen(t("digest.not_found")),)))
        refusal = await check(tx, self.services, actor, Action.DIGEST, unit.id, pressed=pressed)
        if refusal is not None:
            return _Prepared(refusal)
        every = await digest_every(tx, self.services, unit.id)
        now = self.services.now()
        digest = await gather(tx, self.services, unit.id, current_period(self.services.today(),
                                                                         every), every, as_of=now)
        writer = Writer(self.services, t)
        keyboard: list[tuple[Button, ...]] = []
        if await permits(tx, actor, Action.REVIEW, unit.id):
            keyboard.append(writer.review_row())
        # Each unit below has its own digest, one press away.
        below = [Button(t.plain("digest.button_unit", unit=c.name), pack(PREFIX, "u", c.id))
                 for c in await units.children(tx, unit.id)]
        keyboard += rows(below, 2)
        if len(tops) > 1:
            keyboard.append((Button(t.plain("digest.button_other"), pack(PREFIX, "pick", 0)),))
        screen = Screen(writer.private_text(digest), tuple(keyboard))
        return _Prepared(Reply((screen,)), digest, writer)

    @staticmethod
    async def _finish(prepared: _Prepared) -> Shown:
        """The chart is drawn once the transaction is over."""
        if prepared.digest is None or prepared.writer is None:
            return Shown(prepared.reply)
        return Shown(prepared.reply, await prepared.writer.chart(prepared.digest))
