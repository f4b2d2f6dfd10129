"""The digest's numbers against a count written here, in plain Python, from the raw rows the test
inserted (never through bot/rules/counting.py or storage/counting.py).

The data (seeded random): a province with two communes, three cells and a tổ; members, leaders
(one also a member of his cell, one leading a commune without a member role), excused members,
an observer, a removed member, a member without Telegram; ten weeks of reports from 17/11/2025
to 25/01/2026, so that 2026-W01 (29/12/2025–04/01/2026) crosses a month and a year, with
co-participants, every state, reports received late at night in Hà Nội (the day before in UTC)
and reports told weeks after the deed; models registered along the way; ⭐ marks and unmarks.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import string
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.flows.digests import Writer, digest_outgoing
from bot.rules.digests import Digest, gather
from bot.rules.periods import Period, month_of, week_of
from bot.runtime.clock import FixedClock
from bot.runtime.config import DEFAULT_FIELDS, Settings
from bot.runtime.services import Services
from bot.ui.catalogue import Catalogue, Texts
from bot.ui.formatting import percent
from storage import groups, models, people, reports, reviews, units
from storage.entities import NewModel, NewUnit, ReportContent, Role
from storage.schedules import Every
from tests.harness import HANOI, migrated_database

D = dt.date
FIRST_WEEK = week_of(D(2025, 11, 17))
WEEKS = [week_of(FIRST_WEEK.first + dt.timedelta(weeks=n)) for n in range(10)]
CROSSING = week_of(D(2026, 1, 1))  # 2026-W01: 29/12/2025–04/01/2026
MONTHS = [month_of(D(2025, 12, 1)), month_of(D(2026, 1, 1))]
STATES = ("pending", "acknowledged", "needs_more", "withdrawn")
SURNAMES = ("Hoàng", "Nông", "Lý", "Lăng", "Vi", "Đàm", "Triệu", "Ma")
GIVEN = ("Thị Mai", "Văn Bình", "Thị Hoa", "Văn Sơn", "Thị Hạnh", "Văn Tùng", "Thị Lan",
         "Văn Đức", "Thị Ánh", "Văn Cường")


@dataclass
class Row:
    id: int
    person: int
    unit: int
    deed: dt.date
    received: dt.datetime
    field: str
    state: str
    partners: set[int]
    people: int | None
    households: int | None
    value: int | None


@dataclass
class Seat:
    membership: int
    person: int
    unit: int
    role: str
    excused: bool = False
    status: str = "active"


@dataclass
class Mark:
    report: int
    action: str
    at: dt.datetime


@dataclass
class World:
    services: Services
    parent: dict[int, int | None]
    names: dict[str, int]
    unit_names: dict[int, str]
    person_names: dict[int, str]
    telegram: dict[int, int | None]
    unreachable: set[int]
    seats: list[Seat]
    rows: list[Row]
    models: list[tuple[int, str, dt.datetime]]  # owner unit, name, registered at
    marks: list[Mark] = field(default_factory=list)

    # --- the independent count ----------------------------------------------------------------

    def subtree(self, root: int) -> set[int]:
        found = {root}
        while more := {u for u, p in self.parent.items() if p in found} - found:
            found |= more
        return found

    def children(self, root: int) -> list[int]:
        return sorted((u for u, p in self.parent.items() if p == root),
                      key=lambda u: self.unit_names[u])

    def home(self, person: int) -> Seat | None:
        """Where someone reports: their member seat, else their first leader seat."""
        live = sorted((s for s in self.seats if s.person == person and s.status == "active"),
                      key=lambda s: s.membership)
        return next((s for s in live if s.role == "member"), None) or next(
            (s for s in live if s.role == "leader"), None)

    def expected(self, root: int) -> set[int]:
        inside = self.subtree(root)
        return {p for p in {s.person for s in self.seats}
                if (h := self.home(p)) is not None and h.unit in inside and not h.excused}

    def counted(self, root: int, when: Period) -> list[Row]:
        inside = self.subtree(root)
        return [r for r in self.rows if r.unit in inside and r.state != "withdrawn"
                and r.received.astimezone(HANOI).date() in when]

    def took_part(self, root: int, when: Period) -> set[int]:
        rows = self.counted(root, when)
        return {r.person for r in rows} | {p for r in rows for p in r.partners}

    def highlighted(self, root: int, when: Period) -> list[int]:
        inside = self.subtree(root)
        latest: dict[int, int] = {}
        for i, mark in enumerate(self.marks):
            latest[mark.report] = i
        state = {r.id: r for r in self.rows}
        chosen = [i for report, i in latest.items()
                  if self.marks[i].action == "highlight"
                  and self.marks[i].at.astimezone(HANOI).date() in when
                  and state[report].unit in inside and state[report].state != "withdrawn"]
        return [self.marks[i].report for i in sorted(chosen)]


def _received(rng: random.Random, deed: dt.date) -> dt.datetime:
    """Mostly within three days, some weeks late; some just before or after midnight."""
    late = rng.random() < 0.12
    day = deed + dt.timedelta(days=rng.randrange(14, 36) if late else rng.choice((0, 0, 1, 3)))
    hour, minute = rng.choice(((9, 0), (23, 45), (0, 15), (6, 59), (17, 0), (7, 0)))
    return dt.datetime.combine(day, dt.time(hour, minute), HANOI)


async def _build(services: Services) -> World:
    rng = random.Random(20260101)
    db = services.db
    now = dt.datetime(2025, 11, 1, tzinfo=HANOI)
    parent: dict[int, int | None] = {}
    names: dict[str, int] = {}
    unit_names: dict[int, str] = {}
    person_names: dict[int, str] = {}
    telegram: dict[int, int | None] = {}
    seats: list[Seat] = []
    rows: list[Row] = []
    made_models: list[tuple[int, str, dt.datetime]] = []
    async with db.transaction() as tx:
        for key, name, up in (
                ("province", "Đảng bộ tỉnh Lạng Sơn", None),
                ("commune", "Đảng bộ xã Tràng Định", "province"),
                ("cell", "Chi bộ Thôn Bản Chặng", "commune"),
                ("group", "Tổ đảng số 1", "cell"),
                ("sibling", "Chi bộ Thôn Nà Pá", "commune"),
                ("other", "Đảng bộ phường Hoàng Văn Thụ", "province"),
                ("far_cell", "Chi bộ Khối 5", "other")):
            made = await units.add_unit(tx, NewUnit(name=name, kind="x",
                                                    parent_id=names.get(up or "")), now)
            names[key], unit_names[made.id] = made.id, name
            parent[made.id] = names.get(up or "")
            await groups.link(tx, made.id, -1000 - made.id)

        async def seat(unit: str, role: str, person: int | None = None, *,
                       phone: bool = True, excused: bool = False, status: str = "active") -> int:
            if person is None:
                n = len(person_names)
                full = f"{SURNAMES[n % len(SURNAMES)]} {GIVEN[n % len(GIVEN)]} {n}"
                tg = 7000 + n if phone else None
                person = (await people.add_person(tx, tg, full, rng.choice(("vi", "vi", "en")),
                                                  now)).id
                person_names[person], telegram[person] = full, tg
            membership = await people.add_membership(tx, person, names[unit], Role(role), None,
                                                      now)
            await tx.run("UPDATE memberships SET excused = ?, status = ? WHERE id = ?",
                         (int(excused), status, membership.id))
            seats.append(Seat(membership.id, person, names[unit], role, excused, status))
            return person

        members: dict[str, list[int]] = {}
        for unit, count in (("cell", 7), ("group", 3), ("sibling", 5), ("far_cell", 4)):
            members[unit] = [await seat(unit, "member") for _ in range(count)]
        members["cell"].append(await seat("cell", "member", phone=False))
        await seat("cell", "member", excused=True)  # excused: out of y, reports or not
        members["sibling"].append(await seat("sibling", "member", excused=True))
        await seat("sibling", "member", status="removed")
        await seat("cell", "leader", person=members["cell"][0])
        commune_leader = await seat("commune", "leader")
        await seat("sibling", "leader", person=commune_leader)
        blocked = await seat("cell", "leader")  # leads the cell, blocked the bot
        await seat("far_cell", "leader")
        await seat("province", "observer")
        unreachable = {blocked}
        await tx.run("UPDATE people SET unreachable = 1 WHERE id = ?", (blocked,))

        for unit, created in (("cell", dt.datetime(2025, 11, 20, 8, tzinfo=HANOI)),
                              ("group", dt.datetime(2025, 12, 31, 23, 30, tzinfo=HANOI)),
                              ("commune", dt.datetime(2026, 1, 4, 23, 59, tzinfo=HANOI)),
                              ("far_cell", dt.datetime(2026, 1, 5, 0, 0, tzinfo=HANOI)),
                              ("sibling", dt.datetime(2025, 12, 28, 23, 0, tzinfo=HANOI))):
            name = f"Mô hình {unit} {created:%d/%m}"
            await models.add_model(tx, NewModel(name=name, field="Kinh tế",
                                                owner_unit_id=names[unit], start_year=2025),
                                   created)
            made_models.append((names[unit], name, created))

        reporters = {unit: list(ids) for unit, ids in members.items()}
        reporters["commune"] = [commune_leader]
        span = (WEEKS[-1].last - WEEKS[0].first).days + 1
        for n in range(170):
            unit = rng.choice(list(reporters))
            author = rng.choice(reporters[unit])
            deed = WEEKS[0].first + dt.timedelta(days=rng.randrange(span))
            others = [p for p in reporters[unit] if p != author]
            if unit != "commune" and rng.random() < 0.2:
                others.append(commune_leader)
            together = set(rng.sample(others, min(len(others), rng.choice((0, 0, 1, 2, 3)))))
            received = _received(rng, deed)
            content = ReportContent(
                deed_date=deed, field=rng.choice(DEFAULT_FIELDS), description=f"việc {n}",
                participant_ids=tuple(sorted(together)),
                people_helped=rng.choice((None, 0, 3, 12)),
                households_helped=rng.choice((None, 1, 2)),
                value_vnd=rng.choice((None, 250_000, 2_000_000)),
                private=rng.random() < 0.2)
            report_id = await reports.insert_report(
                tx, person_id=author, unit_id=names[unit], entered_by=author, content=content,
                source_draft_id=n + 1, now=received)
            state = rng.choice(STATES)
            await tx.run("UPDATE reports SET state = ? WHERE id = ?", (state, report_id))
            rows.append(Row(report_id, author, names[unit], deed, received, content.field,
                            state, together, content.people_helped, content.households_helped,
                            content.value_vnd))

        marks: list[Mark] = []
        for row in rng.sample(rows, 30):
            when = row.received + dt.timedelta(hours=rng.choice((1, 20, 30, 200)))
            marks.append(Mark(row.id, "highlight", when))
            if rng.random() < 0.3:
                marks.append(Mark(row.id, "unhighlight", when + dt.timedelta(hours=2)))
        marks.sort(key=lambda m: m.at)
        for mark in marks:
            await reviews.add_review(tx, mark.report, commune_leader, mark.action, None,
                                     mark.at)
    return World(services, parent, names, unit_names, person_names, telegram, unreachable,
                 seats, rows, made_models, marks)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    settings = Settings(database=tmp_path / "digests.sqlite3")
    db = await migrated_database(settings.database)
    services = Services(settings, db, Catalogue.load(),
                        FixedClock(dt.datetime(2026, 2, 2, 7, 30, tzinfo=HANOI)))
    try:
        yield await _build(services)
    finally:
        await db.close()


def _up_to_the_rest(t: Texts, key: str, **known: object) -> str:
    """What `key` says with the values known, up to the first value not given."""
    template = Catalogue.load().tables[t.lang][key]
    rest = {name: "\x00" for _, name, _, _ in string.Formatter().parse(template)
            if name and name not in known}
    return t(key, **known, **rest).split("\x00")[0]


def _fixed_words(t: Texts, key: str) -> str:
    """The longest stretch of `key`'s words between its values: found only where it is said."""
    template = Catalogue.load().tables[t.lang][key]
    return max(re.split(r"\{[^}]*\}", template), key=len)


def _earlier(when: Period, every: Every) -> Period:
    day = when.first - dt.timedelta(days=1)
    return month_of(day) if every is Every.MONTH else week_of(day)


def _check(world: World, digest: Digest, root: int, when: Period, every: Every) -> None:
    """Every number of the digest against the count from the rows."""
    where = (world.unit_names[root], when)
    rows = world.counted(root, when)
    expected = world.expected(root)
    took_part = world.took_part(root, when)
    tally = digest.figures.reports
    assert tally.total == len(rows), where
    by_field: dict[str, int] = {}
    for r in rows:
        by_field[r.field] = by_field.get(r.field, 0) + 1
    assert tally.by_field == by_field, where
    assert tally.households_helped == sum(r.households or 0 for r in rows), where
    assert tally.people_helped == sum(r.people or 0 for r in rows), where
    assert tally.value_vnd == sum(r.value or 0 for r in rows), where
    assert tally.waiting == sum(r.state == "pending" for r in rows), where
    assert tally.needs_more == sum(r.state == "needs_more" for r in rows), where
    assert digest.figures.participation.expected == len(expected), where
    assert digest.figures.participation.reported == len(expected & took_part), where
    assert digest.not_reported == tuple(sorted(world.person_names[p]
                                               for p in expected - took_part)), where
    # The chart: eight periods ending with this one; the one before gives the change.
    periods = [when]
    while len(periods) < 8:
        periods.append(_earlier(periods[-1], every))
    periods.reverse()
    assert digest.periods == tuple(periods), where
    assert digest.series == tuple(len(world.counted(root, p)) for p in periods), where
    assert digest.previous_total == len(world.counted(root, periods[-2])), where
    # One line per child unit's whole subtree; the quiet ones; the unit's own reports.
    children = world.children(root)
    assert [c.unit.id for c in digest.children] == children, where
    for child in digest.children:
        assert child.reports.total == len(world.counted(child.unit.id, when)), where
        assert child.participation.reported == len(
            world.expected(child.unit.id) & world.took_part(child.unit.id, when)), where
        assert child.participation.expected == len(world.expected(child.unit.id)), where
    assert [u.id for u in digest.quiet_children] == [
        c for c in children if not world.counted(c, when)], where
    assert digest.own_total == sum(r.unit == root for r in rows), where
    inside = world.subtree(root)
    assert list(digest.new_models) == [
        name for unit, name, created in sorted(world.models, key=lambda m: m[2])
        if unit in inside and created.astimezone(HANOI).date() in when], where
    assert [e.id for e in digest.highlights] == world.highlighted(root, when)[:10], where

    # And the words say these numbers.
    writer = Writer(world.services.settings, world.services.texts("vi"))
    t = writer.t
    group, private = writer.group_text(digest), writer.private_text(digest)
    change = len(rows) - digest.previous_total
    previous = t.plain("digest.previous_month" if every is Every.MONTH
                       else "digest.previous_week")
    said = (t("digest.up", count=change, previous=previous) if change > 0
            else t("digest.down", count=-change, previous=previous) if change < 0
            else t("digest.same", previous=previous))
    # The group reads a rise or "the same", never a fall: that is in the leaders' copy only.
    heard = said if change >= 0 else ""
    if rows and expected:
        share = percent(len(expected & took_part) / len(expected), writer.t)
        line = dict(total=len(rows), reported=len(expected & took_part),
                    expected=len(expected), percent=share)
        assert t("digest.total", **line, change=heard) in group, where
        assert t("digest.total", **line, change=said) in private, where
    elif rows:
        assert t("digest.total_plain", total=len(rows), change=heard) in group, where
        assert t("digest.total_plain", total=len(rows), change=said) in private, where
    else:
        empty = "digest.empty_month" if every is Every.MONTH else "digest.empty_week"
        assert t(empty) in group, where
    for child in children:
        counted = world.counted(child, when)
        name = world.unit_names[child]
        if counted and world.expected(child):
            assert t("digest.child", unit=name, total=len(counted),
                     reported=len(world.expected(child) & world.took_part(child, when)),
                     expected=len(world.expected(child))) in group, where
        elif counted:
            assert t("digest.child_plain", unit=name, total=len(counted)) in group, where
        else:
            assert f"{name}:" not in group and name in private, where
    waiting = sum(r.state == "pending" for r in rows)
    if waiting:
        assert t("digest.waiting", count=waiting) in private, where
    sent_back = sum(r.state == "needs_more" for r in rows)
    if sent_back:
        assert t("digest.sent_back", count=sent_back) in private, where
    missing = expected - took_part
    if missing:
        assert _up_to_the_rest(t, "digest.not_reported", count=len(missing)) in private, where
    for key in ("digest.private_title", "digest.not_reported", "digest.waiting",
                "digest.sent_back", "digest.none_waiting", "digest.all_reported"):
        assert _fixed_words(t, key) not in group, (key, where)
    assert not re.search(r"việc \d", group), "a report's words never go to a group"


async def test_the_dataset_covers_every_case(world: World) -> None:
    assert {r.state for r in world.rows} == set(STATES)
    live = [r for r in world.rows if r.state != "withdrawn"]
    assert any(r.partners for r in live)
    assert any(r.received.astimezone(dt.UTC).date() != r.received.astimezone(HANOI).date()
               for r in live), "some received when UTC is still the day before"
    assert any((r.received.astimezone(HANOI).date() - r.deed).days >= 14 for r in live)
    assert any(r.received.astimezone(HANOI).date() in CROSSING for r in live)
    crossing = [r.received.astimezone(HANOI).date() for r in world.counted(
        world.names["province"], CROSSING)]
    assert {d.year for d in crossing} == {2025, 2026}, "the week spans both years"
    assert any(s.excused for s in world.seats)
    assert any(m.action == "unhighlight" for m in world.marks)


async def test_every_weekly_and_monthly_digest_matches_the_rows(world: World) -> None:
    services = world.services
    seen: list[Digest] = []
    async with services.db.transaction() as tx:
        for root in world.parent:
            for every, periods in ((Every.WEEK, WEEKS), (Every.MONTH, MONTHS)):
                for when in periods:
                    digest = await gather(tx, services.settings, root, when, every)
                    _check(world, digest, root, when, every)
                    seen.append(digest)
    # The comparisons covered each case at least once.
    assert any(d.highlights for d in seen) and any(d.new_models for d in seen)
    assert any(d.quiet_children for d in seen) and any(d.own_total for d in seen)
    assert any(d.not_reported for d in seen) and any(d.total == 0 for d in seen)
    changes = {(d.total > d.previous_total) - (d.total < d.previous_total) for d in seen}
    assert changes == {-1, 0, 1}


async def test_the_week_across_the_new_year_goes_to_each_group_and_reachable_leader(
        world: World) -> None:
    services = world.services
    async with services.db.transaction() as tx:
        for root in world.parent:
            items = await digest_outgoing(tx, services, root, CROSSING, Every.WEEK)
            leaders = {s.person for s in world.seats
                       if s.unit == root and s.role == "leader" and s.status == "active"
                       and world.telegram[s.person] is not None
                       and s.person not in world.unreachable}
            assert sorted(i.chat_id for i in items) == sorted(
                [-1000 - root, *(world.telegram[p] for p in leaders)])
            assert {i.person_id for i in items if i.chat_id > 0} == leaders
            group = next(i for i in items if i.chat_id < 0).screen.text
            t = services.texts("vi")
            assert t("digest.title_week", week=1, dates="29/12/2025–04/01/2026",
                     unit=world.unit_names[root]) in group
            rows = world.counted(root, CROSSING)
            # The group gets the chart; its leaders the words, the chart one press away.
            assert all(i.screen.image and i.screen.image.startswith(b"\x89PNG")
                       for i in items if i.chat_id < 0)
            assert all(i.screen.image is None and i.screen.buttons[-1][0].data.startswith("dg:c:")
                       for i in items if i.chat_id > 0)
            if rows:
                assert _up_to_the_rest(t, "digest.total", total=len(rows)) in group \
                    or _up_to_the_rest(t, "digest.total_plain", total=len(rows)) in group
            else:
                assert t("digest.empty_week") in group
