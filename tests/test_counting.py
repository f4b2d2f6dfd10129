"""The counting rules against a generated tree of reports: every figure bot/rules/counting.py
gives is compared with a count written here, in plain Python, from the rows the test inserted.

The data: a province with two communes, cells and a tổ; members, leaders (one who is also a
member of his cell, one who only leads the commune), an observer, excused, removed and pending
members; six weeks of reports from 07/12/2026 to 17/01/2027 (a week that crosses both a month
and a year), with co-participants, every state, reports received late at night in Hà Nội (the
previous day in UTC) and one received six weeks after the deed.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.rules import counting
from bot.rules.counting import Basis
from bot.rules.periods import Period, PeriodKind, month_of, period, week_of, year_of
from bot.runtime.clock import FixedClock
from bot.runtime.config import DEFAULT_FIELDS, Settings
from bot.runtime.services import Services
from bot.ui.catalogue import Catalogue
from storage import models, people, reports, units
from storage.db import Database
from storage.entities import NewModel, NewUnit, ReportContent, Role
from tests.harness import HANOI, migrated_database

D = dt.date
FIRST_DAY, LAST_DAY = D(2026, 12, 7), D(2027, 1, 17)
STATES = ("pending", "acknowledged", "needs_more", "withdrawn")


@dataclass
class Row:
    """A report as the test inserted it."""

    id: int
    person: int
    unit: int
    deed: dt.date
    received: dt.datetime
    field: str
    state: str
    model: int | None
    participants: set[int]
    people: int | None
    households: int | None
    value: int | None


@dataclass
class Seat:
    """A membership as the test inserted it."""

    person: int
    unit: int
    role: str
    excused: bool = False
    status: str = "active"


@dataclass
class ModelRow:
    id: int
    unit: int
    field: str
    start_year: int
    created: dt.datetime
    statuses: dict[int, str] = field(default_factory=dict)


@dataclass
class World:
    services: Services
    parent: dict[int, int | None]
    names: dict[str, int]
    seats: list[Seat]
    rows: list[Row]
    models: list[ModelRow]

    def subtree(self, root: int) -> set[int]:
        found = {root}
        changed = True
        while changed:
            more = {u for u, p in self.parent.items() if p in found} - found
            changed = bool(more)
            found |= more
        return found

    def home(self, person: int) -> Seat | None:
        """Where a person reports: the member seat, or else the first leader seat."""
        live = [s for s in self.seats if s.person == person and s.status == "active"]
        return next((s for s in live if s.role == "member"), None) or next(
            (s for s in live if s.role == "leader"), None)

    def counted(self, rows: list[Row], when: Period, basis: Basis) -> list[Row]:
        def day(row: Row) -> dt.date:
            return row.deed if basis is Basis.DONE else row.received.astimezone(HANOI).date()
        return [r for r in rows if r.state != "withdrawn" and day(r) in when]


def _received(rng: random.Random, deed: dt.date) -> dt.datetime:
    """Mostly within three days; some just before midnight or just after it in Hà Nội."""
    day = deed + dt.timedelta(days=rng.choice((0, 0, 1, 2, 3)))
    hour, minute = rng.choice(((9, 0), (23, 45), (0, 15), (6, 59), (17, 0), (7, 0)))
    return dt.datetime.combine(day, dt.time(hour, minute), HANOI)


async def _build(db: Database, services: Services) -> World:
    rng = random.Random(20261207)
    now = services.now()
    parent: dict[int, int | None] = {}
    names: dict[str, int] = {}
    seats: list[Seat] = []
    rows: list[Row] = []
    made: list[ModelRow] = []
    async with db.transaction() as tx:
        async def unit(name: str, up: str | None) -> None:
            made_unit = await units.add_unit(
                tx, NewUnit(name=name, kind="x", parent_id=names.get(up or "")), now)
            names[name] = made_unit.id
            parent[made_unit.id] = names.get(up or "")

        for name, up in (("province", None), ("commune", "province"), ("cell", "commune"),
                         ("group", "cell"), ("sibling", "commune"), ("other", "province"),
                         ("far_cell", "other")):
            await unit(name, up)

        person_ids: list[int] = []

        async def seat(unit_name: str, role: str, person: int | None = None,
                       excused: bool = False, status: str = "active") -> int:
            if person is None:
                person = (await people.add_person(tx, 5000 + len(person_ids), f"P{len(person_ids)}",
                                                  "vi", now)).id
                person_ids.append(person)
            membership = await people.add_membership(tx, person, names[unit_name], Role(role),
                                                      None, now)
            await tx.run("UPDATE memberships SET excused = ?, status = ? WHERE id = ?",
                         (int(excused), status, membership.id))
            seats.append(Seat(person, names[unit_name], role, excused, status))
            return person

        members: dict[str, list[int]] = {}
        for unit_name, count in (("cell", 6), ("group", 3), ("sibling", 5), ("far_cell", 4)):
            members[unit_name] = [await seat(unit_name, "member") for _ in range(count)]
        # Excused members still may report; they are out of y, so out of x too.
        await tx.run("UPDATE memberships SET excused = 1 WHERE person_id IN (?, ?)",
                     (members["cell"][5], members["sibling"][4]))
        for s in seats:
            if s.person in (members["cell"][5], members["sibling"][4]):
                s.excused = True
        # The cell's secretary is one of its members; the commune's leader holds no member role
        # (he reports in the commune); an observer and a removed and a pending member never count.
        await seat("cell", "leader", person=members["cell"][0])
        commune_leader = await seat("commune", "leader")
        await seat("sibling", "leader", person=commune_leader)
        await seat("province", "observer")
        await seat("sibling", "member", status="removed")
        await seat("far_cell", "member", status="pending")

        for unit_name, field_name, start, statuses, created in (
            ("cell", "Kinh tế", 2025, {2026: "completed"}, dt.datetime(2026, 3, 1, tzinfo=HANOI)),
            ("cell", "Môi trường", 2026, {}, dt.datetime(2026, 12, 9, 8, tzinfo=HANOI)),
            ("group", "Môi trường", 2027, {}, dt.datetime(2027, 1, 4, 0, 30, tzinfo=HANOI)),
            ("sibling", "Xã hội", 2024, {2025: "stopped", 2026: "in_progress"},
             dt.datetime(2024, 5, 1, tzinfo=HANOI)),
            ("commune", "Văn hóa", 2026, {2026: "stopped"},
             dt.datetime(2026, 12, 31, 23, 30, tzinfo=HANOI)),
            ("far_cell", "Kinh tế", 2026, {}, dt.datetime(2027, 1, 10, tzinfo=HANOI)),
        ):
            model = await models.add_model(tx, NewModel(
                name=f"M{len(made)}", field=field_name, owner_unit_id=names[unit_name],
                start_year=start), created)
            for year, status in statuses.items():
                await tx.run("INSERT INTO model_years (model_id, year, status) VALUES (?, ?, ?)"
                             " ON CONFLICT (model_id, year) DO UPDATE SET status = excluded.status",
                             (model.id, year, status))
            made.append(ModelRow(model.id, names[unit_name], field_name, start, created,
                                 statuses))

        reporters = {name: list(ids) for name, ids in members.items()}
        reporters["commune"] = [commune_leader]
        model_of = {names["cell"]: [made[0].id, made[1].id], names["group"]: [made[2].id],
                    names["sibling"]: [made[3].id], names["commune"]: [made[4].id],
                    names["far_cell"]: [made[5].id]}
        days = (LAST_DAY - FIRST_DAY).days + 1
        for n in range(110):
            unit_name = rng.choice(list(reporters))
            unit_id = names[unit_name]
            author = rng.choice(reporters[unit_name])
            deed = FIRST_DAY + dt.timedelta(days=rng.randrange(days))
            others = [p for p in reporters[unit_name] if p != author]
            if unit_name != "commune" and rng.random() < 0.2:
                others.append(commune_leader)  # the commune's leader joins a cell's work
            if unit_name == "cell" and n % 5 == 0:
                others += members["sibling"][:2]  # a commune-wide deed, reported by one cell
            together = set(rng.sample(others, rng.choice((0, 0, 1, 2)))) if others else set()
            content = ReportContent(
                deed_date=deed, field=rng.choice(DEFAULT_FIELDS), description=f"việc {n}",
                model_id=rng.choice([None, None, *model_of.get(unit_id, [])]),
                participant_ids=tuple(sorted(together)),
                people_helped=rng.choice((None, 0, 3, 12)),
                households_helped=rng.choice((None, 1, 2)),
                value_vnd=rng.choice((None, 250_000, 2_000_000)))
            received = _received(rng, deed)
            if n == 0:  # told six weeks late: in the deed's week by deed, in January by receipt
                content = content.model_copy(update={"deed_date": D(2026, 12, 8)})
                received = dt.datetime(2027, 1, 15, 10, tzinfo=HANOI)
            report_id = await reports.insert_report(
                tx, person_id=author, unit_id=unit_id, entered_by=author, content=content,
                source_draft_id=n + 1, now=received)
            state = "pending" if n == 0 else rng.choice(STATES)
            await tx.run("UPDATE reports SET state = ? WHERE id = ?", (state, report_id))
            rows.append(Row(report_id, author, unit_id, content.deed_date, received,
                            content.field, state, content.model_id, together,
                            content.people_helped, content.households_helped, content.value_vnd))
    return World(services, parent, names, seats, rows, made)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    settings = Settings(database=tmp_path / "count.sqlite3")
    db = await migrated_database(settings.database)
    services = Services(settings, db, Catalogue.load(),
                        FixedClock(dt.datetime(2027, 1, 20, 9, tzinfo=HANOI)))
    try:
        yield await _build(db, services)
    finally:
        await db.close()


def _periods() -> list[Period]:
    weeks = [week_of(FIRST_DAY + dt.timedelta(weeks=n)) for n in range(6)]
    return [*weeks, month_of(D(2026, 12, 1)), month_of(D(2027, 1, 1)),
            period(PeriodKind.THIS_QUARTER, D(2027, 1, 20)), year_of(2026), year_of(2027)]


def expected_tally(rows: list[Row]) -> counting.Tally:
    by_field: dict[str, int] = {}
    for r in rows:
        by_field[r.field] = by_field.get(r.field, 0) + 1
    return counting.Tally(
        total=len(rows),
        acknowledged=sum(r.state == "acknowledged" for r in rows),
        pending=sum(r.state == "pending" for r in rows),
        needs_more=sum(r.state == "needs_more" for r in rows),
        by_field=by_field,
        people_helped=sum(r.people or 0 for r in rows),
        households_helped=sum(r.households or 0 for r in rows),
        value_vnd=sum(r.value or 0 for r in rows),
        model_reports=sum(r.model is not None for r in rows),
        models_with_reports=len({r.model for r in rows if r.model is not None}),
    )


def test_the_data_has_what_the_rules_are_about() -> None:
    """The premise: without these the comparisons below would prove less."""
    crossing = week_of(D(2027, 1, 1))
    assert crossing.first.year == 2026 and crossing.first.month == 12


async def test_the_dataset_covers_every_case(world: World) -> None:
    states = {r.state for r in world.rows}
    assert states == set(STATES)
    assert any(r.participants for r in world.rows if r.state != "withdrawn")
    sibling = world.subtree(world.names["sibling"])
    assert any(r.unit == world.names["cell"] and r.state != "withdrawn"
               and any((home := world.home(p)) is not None and home.unit in sibling
                       for p in r.participants)
               for r in world.rows), "a cell's report names members of its sibling cell"
    assert any(r.received.astimezone(dt.UTC).date() != r.received.astimezone(HANOI).date()
               for r in world.rows), "some reports received when UTC is still the day before"
    assert any((r.received.astimezone(HANOI).date() - r.deed).days > 30 for r in world.rows)
    assert any(r.deed in week_of(D(2027, 1, 1)) for r in world.rows)


async def test_unit_figures_match_a_count_from_the_rows(world: World) -> None:
    services = world.services
    settings = services.settings
    async with services.db.transaction() as tx:
        for root in world.parent:
            inside = world.subtree(root)
            expected_people = {
                s.person for s in world.seats
                if (home := world.home(s.person)) is s and home.unit in inside and not s.excused}
            for when in _periods():
                for basis in Basis:
                    rows = world.counted([r for r in world.rows if r.unit in inside], when, basis)
                    # A co-participant counts where they report, whichever unit's report it is.
                    named = {p for r in world.counted(world.rows, when, basis)
                             for p in r.participants}
                    took_part = {r.person for r in rows} | named
                    got = await counting.unit_figures(tx, settings, root, when, basis)
                    where = (root, when, basis)
                    assert got.reports == expected_tally(rows), where
                    assert got.participation.expected == len(expected_people), where
                    assert got.participation.reported == len(expected_people & took_part), where
                    new = sum(m.unit in inside and m.created.astimezone(HANOI).date() in when
                              for m in world.models)
                    assert got.new_models == new, where
                    assert await counting.participation(tx, settings, root, when, basis) == (
                        got.participation)
                    assert await counting.not_reported(tx, settings, root, when, basis) == (
                        expected_people - took_part)


async def test_child_figures_are_each_childs_whole_subtree(world: World) -> None:
    services = world.services
    settings = services.settings
    async with services.db.transaction() as tx:
        for root in (world.names["province"], world.names["commune"], world.names["cell"]):
            children = sorted((u for u, p in world.parent.items() if p == root))
            for when in _periods():
                got = await counting.child_figures(tx, settings, root, when, Basis.DONE)
                assert sorted(f.unit.id for f in got) == children
                for figures in got:
                    alone = await counting.unit_figures(tx, settings, figures.unit.id, when,
                                                        Basis.DONE)
                    assert figures == alone
                whole, rolled = await counting.roll_up(tx, settings, root, when, Basis.DONE)
                assert rolled == got
                assert whole == await counting.unit_figures(tx, settings, root, when,
                                                            Basis.DONE)


async def test_own_figures_count_each_report_once_for_author_and_co_participants(
        world: World) -> None:
    services = world.services
    settings = services.settings
    everyone = {s.person for s in world.seats}
    async with services.db.transaction() as tx:
        for person in everyone:
            for when in _periods():
                for basis in Basis:
                    mine = [r for r in world.rows if r.person == person or person in r.participants]
                    rows = world.counted(mine, when, basis)
                    got = await counting.person_figures(tx, settings, person, when, basis)
                    assert got.reports == expected_tally(rows), (person, when, basis)
                    assert got.authored == sum(r.person == person for r in rows)
                    assert got.co_participated == sum(r.person != person for r in rows)


async def test_the_models_table_counts_the_models_running_in_the_year(world: World) -> None:
    def running(m: ModelRow, year: int) -> bool:
        before = [y for y in m.statuses if y < year]
        last = m.statuses[max(before)] if before else "in_progress"
        return m.start_year <= year and last not in ("stopped", "completed")

    async with world.services.db.transaction() as tx:
        for root in world.parent:
            for year in (2024, 2025, 2026, 2027):
                table = await counting.models_table(tx, root, year)
                inside = world.subtree(root)
                assert table.total == sum(running(m, year) and m.unit in inside
                                          for m in world.models), (root, year)
                for row in table.rows:
                    below = world.subtree(row.unit.id)
                    wanted: dict[str, int] = {}
                    for m in world.models:
                        if running(m, year) and m.unit in below:
                            wanted[m.field] = wanted.get(m.field, 0) + 1
                    assert row.by_field == wanted
                assert table.own_total == sum(running(m, year) and m.unit == root
                                              for m in world.models)
                assert table.total == table.own_total + sum(r.total for r in table.rows)


async def test_the_hand_counted_cases(world: World) -> None:
    """The rules spelled out on a new cell, as a reader would check them: a late report, a
    withdrawn one, one done together, an excused member."""
    services = world.services
    settings = services.settings
    now = services.now()
    async with services.db.transaction() as tx:
        cell = (await units.add_unit(tx, NewUnit(name="Nà Pá", kind="chi bộ"), now)).id
        mai, binh, hoa = [(await people.add_person(tx, 7000 + n, name, "vi", now)).id
                          for n, name in enumerate(("Mai", "Bình", "Hoa"))]
        for person in (mai, binh, hoa):
            await people.add_membership(tx, person, cell, Role.MEMBER, None, now)
        await tx.run("UPDATE memberships SET excused = 1 WHERE person_id = ?", (hoa,))

        async def report(n: int, deed: dt.date, received: dt.datetime, state: str,
                         together: tuple[int, ...] = ()) -> None:
            content = ReportContent(deed_date=deed, field="Xã hội", description="việc làm",
                                    participant_ids=together, value_vnd=1_000_000)
            report_id = await reports.insert_report(
                tx, person_id=mai, unit_id=cell, entered_by=mai, content=content,
                source_draft_id=9000 + n, now=received)
            await tx.run("UPDATE reports SET state = ? WHERE id = ?", (state, report_id))

        # Done on Thursday 31/12/2026, told on Friday 15/01/2027.
        await report(1, D(2026, 12, 31), dt.datetime(2027, 1, 15, 10, tzinfo=HANOI), "pending")
        # Done together with Bình (and the excused Hoa) on Monday 04/01, received at once.
        await report(2, D(2027, 1, 4), dt.datetime(2027, 1, 4, 20, tzinfo=HANOI),
                     "acknowledged", (binh, hoa))
        await report(3, D(2027, 1, 4), dt.datetime(2027, 1, 4, 21, tzinfo=HANOI), "withdrawn")
        # Sunday 03/01 at 23:45 in Hà Nội: still the week of 28/12–03/01.
        await report(4, D(2027, 1, 3), dt.datetime(2027, 1, 3, 23, 45, tzinfo=HANOI),
                     "needs_more")

        async def figures(when: Period, basis: Basis) -> counting.UnitFigures:
            return await counting.unit_figures(tx, settings, cell, when, basis)

        crossing = week_of(D(2027, 1, 1))  # 28/12/2026–03/01/2027
        by_deed = await figures(crossing, Basis.DONE)
        assert (by_deed.reports.total, by_deed.reports.pending, by_deed.reports.needs_more) == (
            2, 1, 1)
        assert (by_deed.participation.reported, by_deed.participation.expected) == (1, 2)
        by_receipt = await figures(crossing, Basis.RECEIVED)
        assert by_receipt.reports.total == 1 and by_receipt.reports.needs_more == 1
        following = await figures(week_of(D(2027, 1, 4)), Basis.DONE)
        assert following.reports.total == 1, "the withdrawn report never counts"
        assert following.reports.acknowledged == 1 and following.reports.value_vnd == 1_000_000
        assert (following.participation.reported, following.participation.expected) == (2, 2)
        late = await figures(week_of(D(2027, 1, 15)), Basis.RECEIVED)
        assert late.reports.total == 1 and late.reports.pending == 1
        december = await figures(month_of(D(2026, 12, 1)), Basis.DONE)
        assert december.reports.total == 1
        binh_january = await counting.person_figures(tx, settings, binh,
                                                     month_of(D(2027, 1, 1)), Basis.DONE)
        assert (binh_january.reports.total, binh_january.authored) == (1, 0)
        assert binh_january.co_participated == 1
        assert await counting.not_reported(tx, settings, cell, crossing, Basis.DONE) == {binh}


async def test_a_commune_wide_deed_counts_once_and_credits_each_cell(world: World) -> None:
    """Mai of one cell reports the commune's Ngày Chủ nhật xanh naming Đức of the sibling cell,
    and Đức reports his own deed naming Mai: each cell's x has its own member, the commune's
    each once; the first deed's figures count in Mai's cell and the commune, once."""
    services = world.services
    settings = services.settings
    now = services.now()
    week = week_of(D(2027, 1, 4))
    async with services.db.transaction() as tx:
        commune = (await units.add_unit(tx, NewUnit(name="Xã Tân Tiến", kind="đảng bộ xã",
                                                    parent_id=world.names["province"]), now)).id
        cells = [(await units.add_unit(tx, NewUnit(name=name, kind="chi bộ", parent_id=commune),
                                       now)).id for name in ("Bản Chặng", "Nà Pá")]
        mai, duc = [(await people.add_person(tx, 7100 + n, name, "vi", now)).id
                    for n, name in enumerate(("Mai", "Đức"))]
        for person, cell in ((mai, cells[0]), (duc, cells[1])):
            await people.add_membership(tx, person, cell, Role.MEMBER, None, now)
        for n, (author, cell, partner, helped) in enumerate(((mai, cells[0], duc, 40),
                                                             (duc, cells[1], mai, 3))):
            content = ReportContent(deed_date=D(2027, 1, 4 + n), field="Môi trường",
                                    description="Ngày Chủ nhật xanh", participant_ids=(partner,),
                                    people_helped=helped, value_vnd=5_000_000)
            await reports.insert_report(tx, person_id=author, unit_id=cell, entered_by=author,
                                        content=content, source_draft_id=9100 + n,
                                        now=dt.datetime(2027, 1, 4 + n, 20, tzinfo=HANOI))
        whole = await counting.unit_figures(tx, settings, commune, week, Basis.DONE)
        first, second = await counting.child_figures(tx, settings, commune, week, Basis.DONE)
        tree = await counting.tree_figures(tx, settings, commune, week, Basis.DONE)
        alone = await counting.tree_figures(tx, settings, cells[1], week, Basis.DONE)
        counts = await counting.member_counts(tx, settings, cells[1], week, Basis.DONE)
        took_part = await counting.participants(tx, settings, [cells[1]], week, Basis.DONE)
        missing = await counting.not_reported(tx, settings, cells[1], week, Basis.DONE)
    assert (whole.reports.total, whole.reports.people_helped, whole.reports.value_vnd) == (
        2, 43, 10_000_000), "each deed once, however many cells took part"
    assert (whole.participation.reported, whole.participation.expected) == (2, 2)
    assert (first.reports.total, first.reports.people_helped) == (1, 40)
    assert (second.reports.total, second.reports.people_helped) == (1, 3)
    assert (first.participation.reported, second.participation.reported) == (1, 1)
    assert [tree.figures[u] for u in (commune, *cells)] == [whole, first, second]
    assert alone.figures[cells[1]] == second, "the cell alone credits its member too"
    assert counts[duc] == (2, 1) and took_part == {duc} and missing == set()
