"""Digests: a unit's week or month in a few warm lines and a chart (no chart when its eight
periods are all zero).

The scheduler (bot/rules/schedules.py) hands the digests due at one moment to
`ScheduledDigests`, which asks `written_digests` for the messages of a past period of every unit
due (a province's on Monday morning, read in one pass): one to each unit's linked group, and
one to each of its leaders privately; `digest_outgoing` gives one unit's. `/digest` shows a
leader or an observer the current period's digest on demand, as the leaders read it. What a
digest counts is bot/rules/digests.py's; here are its words and where they go:
- The group reads the totals, the change against the period before (a rise or the same, never
  a fall: that is for the leaders), the fields, how many were helped and the value, the new
  models, one line per child unit that has reports, and a few examples. A group never sees a
  report marked "không công khai", and never a report's own words (they may name the people
  helped): an example is who did it, the field, the model and the day.
- The leaders read the same, with the examples' words, plus who has not reported, how many of
  the period's reports wait for acknowledgment (with a button into the review queue), and the
  child units with nothing.
Each message is one call to Telegram where it can be (Telegram takes 30 a second in all): the
chart with the text as its caption when the text fits in one (1,024 characters), else the chart
then the text. A leader whose unit's group gets the chart reads the text alone, the chart one
press away (📊 Xem biểu đồ, drawn when pressed); a leader of a unit without a group gets it
with the text when the text fits under it, else the text with the same button.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Annotated
from zoneinfo import ZoneInfo

from bot.flows.reviews import FromStart
from bot.rules import counting, deliveries
from bot.rules.access import Action, Request
from bot.rules.counting import UnitFigures
from bot.rules.deliveries import Outgoing
from bot.rules.digests import (
    Digest,
    DigestBatch,
    current_period,
    digest_batch,
    digest_every,
    gather,
)
from bot.rules.periods import EARLIEST, Period, key_of, month_of, week_of
from bot.rules.schedules import DIGEST, Due, digest_period, latest_occurrence
from bot.runtime.config import Settings
from bot.runtime.services import Services
from bot.ui import charts, formatting
from bot.ui.buttons import Between, ButtonData, Id, codes
from bot.ui.catalogue import Catalogue, Markup, Texts
from bot.ui.formatting import percent
from bot.ui.screens import Button, Reply, Screen, fits_caption, rows
from storage import deliveries as ledger
from storage import digests as queries
from storage import groups, schedules, units
from storage.db import Tx
from storage.entities import Unit
from storage.schedules import Every, ScheduleKind

log = logging.getLogger(__name__)

DIGEST_CHUNK = 25  # units whose digests are written, drawn and decided together
NAMES = 40  # people named as not having reported, then "and N more"
MODELS = 5  # new models named, then "and N more"
PREVIEW = 120  # characters of a report's words in the leaders' digest
REVIEW_QUEUE = FromStart(0)
STALE = "digest.stale"


class UnitDigest(ButtonData, prefix="dg:u", action=Action.DIGEST):
    unit: Id


class PickDigest(ButtonData, prefix="dg:pick", action=Action.DIGEST):
    zero: Annotated[int, Between(0, 0)]


class DigestChart(ButtonData, prefix="dg:c", action=Action.DIGEST):
    """📊 Xem biểu đồ under a leader's digest: the chart of that unit's period (the one its
    group got), drawn when pressed. `day` is the period's first day (`date.toordinal`)."""

    unit: Id
    every: Annotated[str, codes(Every.WEEK.value, Every.MONTH.value)]
    day: Annotated[int, Between(EARLIEST.toordinal(), dt.date.max.toordinal())]


Press = UnitDigest | PickDigest | DigestChart
BUTTONS = (UnitDigest, PickDigest, DigestChart)


# --- words ------------------------------------------------------------------------------------


class Writer:
    """A digest in one reader's language: the group's text, the leaders' text, the chart."""

    def __init__(self, settings: Settings, t: Texts) -> None:
        self.settings = settings
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
                 dates=formatting.period_span(d.period.first, d.period.last), unit=d.unit.name)

    def _change(self, d: Digest, public: bool) -> Markup:
        """", tăng 2 so với tuần trước"; a fall only in the leaders' copy: the group reads
        what was done, not what was not."""
        t = self.t
        previous = (t.plain("digest.previous_month") if d.every is Every.MONTH
                    else t.plain("digest.previous_week"))
        change = d.total - d.previous_total
        if change > 0:
            return t("digest.up", count=self._n(change), previous=previous)
        if change < 0:
            return Markup("") if public else t("digest.down", count=self._n(-change),
                                                 previous=previous)
        return t("digest.same", previous=previous)

    def _total(self, d: Digest, public: bool) -> list[Markup]:
        t = self.t
        if d.total == 0:
            empty = (t("digest.empty_month") if d.every is Every.MONTH
                     else t("digest.empty_week"))
            return [empty, t("digest.encourage")]
        share = d.figures.participation
        if share.expected:
            line = t("digest.total", total=self._n(d.total), reported=self._n(share.reported),
                     expected=self._n(share.expected), percent=percent(share.share or 0, t),
                     change=self._change(d, public))
        else:
            line = t("digest.total_plain", total=self._n(d.total),
                     change=self._change(d, public))
        return [line]

    def _fields(self, d: Digest) -> list[Markup]:
        t = self.t
        items = [t.plain("digest.field_item", field=name, count=self._n(n))
                 for name, n in counting.ordered_fields(self.settings,
                                                          d.figures.reports.by_field)]
        return [t("digest.fields", fields=t.plain("digest.joiner").join(items))] if items else []

    def _helped(self, d: Digest) -> list[Markup]:
        t, tally = self.t, d.figures.reports
        whom = formatting.helped(tally.households_helped, tally.people_helped, t, self._n)
        parts = [t.plain("digest.helped", whom=whom)] if whom else []
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
            moment = d.as_of.astimezone(self.settings.zone)
            head.append(self.t("digest.as_of", time=moment.strftime("%H:%M"),
                               day=formatting.day(moment.date())))
        return [*head, *self._total(d, public), *self._fields(d), *self._helped(d),
                *self._models(d), *self._children(d), *self._examples(d, public)]

    def group_text(self, d: Digest) -> str:
        return "\n".join(self._body(d, public=True))

    def private_text(self, d: Digest) -> str:
        t = self.t
        lines = [*self._body(d, public=False), Markup(""), t("digest.private_title")]
        tally = d.figures.reports
        if tally.waiting:
            lines.append(t("digest.waiting", count=self._n(tally.waiting)))
        elif d.total and not tally.needs_more:
            lines.append(t("digest.none_waiting"))
        if tally.needs_more:
            lines.append(t("digest.sent_back", count=self._n(tally.needs_more)))
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
                        dates=formatting.period_span(p.first, p.last, year=False))
                for p in d.periods]

    async def chart(self, d: Digest) -> bytes:
        return await charts.bar_chart_png(self.t.plain("digest.chart_title", unit=d.unit.name),
                                          self.chart_labels(d), list(d.series))

    def review_row(self) -> tuple[Button, ...]:
        return (Button(self.t.plain("digest.button_review"), REVIEW_QUEUE.pack()),)

    def chart_row(self, d: Digest) -> tuple[Button, ...]:
        press = DigestChart(d.unit.id, d.every.value, d.period.first.toordinal())
        return (Button(self.t.plain("digest.button_chart"), press.pack()),)


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
    drawn afterwards (`drawn`), so nobody waits on the database while they are. Each message
    comes with the writer of its chart, or None when it goes without one."""

    digest: Digest
    messages: tuple[tuple[Outgoing, Writer | None], ...]

    async def drawn(self) -> list[Outgoing]:
        """Each message that has a chart with it in its reader's language, drawn once per
        language (none when it would show only zeros)."""
        if not self.digest.charted:
            return [outgoing for outgoing, _ in self.messages]
        charts_by_lang: dict[str, bytes] = {}
        found: list[Outgoing] = []
        for outgoing, writer in self.messages:
            if writer is None:
                found.append(outgoing)
                continue
            if writer.t.lang not in charts_by_lang:
                charts_by_lang[writer.t.lang] = await writer.chart(self.digest)
            chart = charts_by_lang[writer.t.lang]
            found.append(replace(outgoing, screen=replace(outgoing.screen, image=chart)))
        return found


def _written(catalogue: Catalogue, settings: Settings, digest: Digest, group: int | None,
             leaders: list[queries.Recipient], writers: dict[str | None, Writer]
             ) -> WrittenDigest:
    """The digest's message to its group and to each leader, in their languages. The chart
    goes to the group; a leader gets it too when there is no group and the text fits under it,
    else a button that draws it (one message each instead of two: see the module's
    docstring)."""
    def writer(lang: str | None) -> Writer:
        if lang not in writers:
            writers[lang] = Writer(settings, catalogue.texts(lang))
        return writers[lang]

    messages: list[tuple[Outgoing, Writer | None]] = []
    if group is not None:
        screen = Screen(writer(None).group_text(digest), caption=True)
        messages.append((Outgoing(group, screen), writer(None)))
    for leader in leaders:
        own = writer(leader.lang)
        text = own.private_text(digest)
        # Too long for a caption, the chart would be a message of its own: one press away.
        chart_pressed = digest.charted and (group is not None or not fits_caption(text))
        keyboard = (own.review_row(), *([own.chart_row(digest)] if chart_pressed else []))
        screen = Screen(text, keyboard, caption=True)
        messages.append((Outgoing(leader.telegram_user_id, screen, person_id=leader.person_id),
                         None if chart_pressed else own))
    return WrittenDigest(digest, tuple(messages))


async def written_digest(tx: Tx, services: Services, unit_id: int, period: Period,
                         every: Every) -> WrittenDigest | None:
    """The unit's digest of `period` (a past ISO week or month): to its linked group, and to
    each of its leaders privately; None when it has nobody to go to."""
    group = await groups.group_of_unit(tx, unit_id)
    leaders = await queries.leaders(tx, unit_id)
    if group is None and not leaders:
        return None
    try:
        digest = await gather(tx, services.settings, unit_id, period, every)
    except LookupError:
        log.warning("no digest for unit %s: it does not exist", unit_id)
        return None
    return _written(services.catalogue, services.settings, digest, group, leaders, {})


class WrittenBatch:
    """The digests of many units (a `DigestBatch`) with who each goes to: each unit's messages
    are written only when asked for (`written`), so that a province's 7,000 texts are never all
    held at once."""

    def __init__(self, services: Services, batch: DigestBatch, group_of: dict[int, int],
                 leaders_of: dict[int, list[queries.Recipient]]) -> None:
        self.services = services
        self.batch = batch
        self.group_of = group_of
        self.leaders_of = leaders_of
        self.writers: dict[str | None, Writer] = {}

    @property
    def unit_ids(self) -> list[int]:
        return self.batch.unit_ids

    async def read(self, tx: Tx, unit_ids: Collection[int]) -> None:
        await self.batch.read(tx, unit_ids)

    def written(self, unit_id: int) -> WrittenDigest:
        """The unit's digest to its group and leaders; `read` must have read its unit."""
        return _written(self.services.catalogue, self.services.settings,
                        self.batch.digest(unit_id), self.group_of.get(unit_id),
                        self.leaders_of.get(unit_id, []), self.writers)


async def written_digests(tx: Tx, services: Services, unit_ids: Collection[int],
                          period: Period, every: Every) -> WrittenBatch:
    """`written_digest` of many units at once (Monday morning's, every unit of a province),
    from one pass over the period's rows; units with nobody to send to are left out. Read who
    has not reported before writing a unit's (`WrittenBatch.read`)."""
    group_of = await queries.groups_by_unit(tx)
    leaders_of = await queries.leaders_by_unit(tx)
    wanted = {u for u in unit_ids if u in group_of or leaders_of.get(u)}
    batch = await digest_batch(tx, services.settings, None, period, every, wanted=wanted)
    return WrittenBatch(services, batch, group_of, leaders_of)


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
        if not due.late and self.services.quiet_now():
            return 0  # nothing unasked at night: the morning's run sends it, within the grace
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
    async def _drawn(batch: WrittenBatch, unit_id: int) -> list[Outgoing] | None:
        """The unit's messages with their charts; None, logged, if they cannot be made: one
        unit's failure must not cost the rest of the province its digests."""
        try:
            return await batch.written(unit_id).drawn()
        except Exception:
            log.exception("the digest of unit %s could not be written", unit_id)
            return None

    async def _due_units(self, tx: Tx, due: Due, covered: set[int]) -> set[int]:
        """The units of the enabled digest rows whose latest occurrence is `due`'s (their ids
        added to `covered`); a row changed after it is not due (see `Scheduler`)."""
        now, first = self.services.now(), due.schedule
        found: set[int] = set()
        for row in await schedules.of_kind(tx, ScheduleKind.DIGEST):
            if (row.enabled and row.every is first.every
                    and row.at == first.at and row.updated_at <= due.occurrence
                    and latest_occurrence(row, now, self.zone) == due.occurrence):
                covered.add(row.id)
                found.add(row.unit_id)
        return found

    async def _missed_digests(self, tx: Tx, key: str, unit_ids: set[int]) -> int:
        """Past the grace window: who each digest would have gone to, recorded missed (its
        figures and charts would be wasted)."""
        recipients = await digest_recipients_by_unit(tx, unit_ids)
        return sum([await deliveries.record_missed(tx, self.services.now(), DIGEST, unit_id,
                                                   key, items)
                    for unit_id, items in sorted(recipients.items())])


# --- /digest ----------------------------------------------------------------------------------


class Digests:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def open(self, req: Request) -> Reply:
        """/digest: the current period's digest of the unit in reach, or a choice of units."""
        tops = await req.tops(Action.DIGEST)
        if len(tops) == 1:
            return await self._digest(req, tops, tops[0].id, pressed=False)
        if tops:
            return self._picker(req.t, tops, pressed=False)
        home = req.actor.memberships[0].unit_id if req.actor.memberships else 0
        refusal = await req.check(Action.DIGEST, home)
        return refusal or Reply((Screen(req.t("digest.no_units")),))

    async def press(self, req: Request, press: Press) -> Reply:
        if isinstance(press, DigestChart):
            return await self._chart(req, press)
        tops = await req.tops(Action.DIGEST)
        if isinstance(press, UnitDigest):
            return await self._digest(req, tops, press.unit, pressed=True)
        if tops:
            return self._picker(req.t, tops, pressed=True)
        home = req.actor.memberships[0].unit_id if req.actor.memberships else 0
        refusal = await req.check(press.action, home, pressed=True)
        return refusal or Reply(toast=req.t.plain(STALE))

    @staticmethod
    def _picker(t: Texts, tops: list[Unit], pressed: bool) -> Reply:
        choices = [Button(u.name, UnitDigest(u.id).pack()) for u in tops]
        return Reply((Screen(t("digest.pick"), rows(choices, 1)),), replace=pressed)

    async def _digest(self, req: Request, tops: list[Unit], unit_id: int,
                      pressed: bool) -> Reply:
        t = req.t
        unit = await units.get_unit(req.tx, unit_id)
        if unit is None:
            log.warning("user %s asked for the digest of unit %s, which does not exist",
                        req.user_id, unit_id)
            return (Reply(toast=t.plain("digest.not_found")) if pressed
                    else Reply((Screen(t("digest.not_found")),)))
        refusal = await req.check(Action.DIGEST, unit.id, pressed=pressed)
        if refusal is not None:
            return refusal
        every = await digest_every(req.tx, self.settings, unit.id)
        digest = await gather(req.tx, self.settings, unit.id, current_period(req.today, every),
                              every, as_of=req.now)
        writer = Writer(self.settings, t)
        keyboard: list[tuple[Button, ...]] = []
        if await req.may(Action.REVIEW, unit.id):
            keyboard.append(writer.review_row())
        # Each unit below has its own digest, one press away.
        below = [Button(t.plain("digest.button_unit", unit=c.name), UnitDigest(c.id).pack())
                 for c in await units.children(req.tx, unit.id)]
        keyboard += rows(below, 2)
        if len(tops) > 1:
            keyboard.append((Button(t.plain("digest.button_other"), PickDigest(0).pack()),))
        screen = Screen(writer.private_text(digest), tuple(keyboard), caption=True)
        return Reply((screen,), picture=(lambda: writer.chart(digest)) if digest.charted
                     else None)

    async def _chart(self, req: Request, press: DigestChart) -> Reply:
        """📊 Xem biểu đồ: the chart of the unit's period, if the presser may read its digest
        now (the button may be forged, or old: a leader no longer)."""
        t = req.t
        unit = await units.get_unit(req.tx, press.unit)
        if unit is None:
            return Reply(toast=t.plain("digest.not_found"))
        refusal = await req.check(Action.DIGEST, unit.id, pressed=True)
        if refusal is not None:
            return refusal
        first = dt.date.fromordinal(press.day)
        if first > req.today:
            return Reply(toast=t.plain("digest.chart_future"))
        every = Every(press.every)
        period = month_of(first) if every is Every.MONTH else week_of(first)
        digest = await gather(req.tx, self.settings, unit.id, period, every)
        if not digest.charted:
            return Reply(toast=t.plain("digest.chart_empty"))
        writer = Writer(self.settings, t)
        return Reply(picture=lambda: writer.chart(digest))
