"""The check-then-write rules of storage/INVARIANTS.md, each tried by two truly concurrent
attempts: two connections to the same database in one process, and, for two of them, two OS
processes. Exactly one attempt wins and the database holds one row, one state.

On SQLite every transaction begins IMMEDIATE, so the loser's transaction starts only when the
winner's has committed: the attempts start together (a barrier), not read together. Here a
test fails when a rule's write stops being conditional (an unconditional claim lets both win);
a rule kept by a lock or an ON CONFLICT (the last leader, the standard schedules) holds on
SQLite even without it, and is for the PostgreSQL backend to pass. The database comes from the
`address` fixture, which that backend will give a URL."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.flows.member_import import ImportRow, import_rows
from storage import (
    deliveries,
    drafts,
    groups,
    invites,
    joins,
    member_import,
    people,
    reports,
    reviews,
    schedules,
)
from storage import members as memberships
from storage.db import Database, Tx
from storage.entities import NewInvite, NewUnit, ReportContent, ReportState, Role
from storage.inbox import keep_new
from storage.joins import Decision
from storage.schedules import NewSchedule, ScheduleKind
from storage.units import add_unit
from tests.harness import BACKEND

NOW = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)
WORKTREE = Path(__file__).resolve().parent.parent

Attempt = Callable[[Tx, int], Awaitable[Any]]


@pytest.fixture
def address(tmp_path: Path) -> str:
    """The database every connection and process of a test opens: a SQLite file, or the URL
    of a PostgreSQL database of the test's own (the `backend` the test runs on)."""
    return str(BACKEND.location(tmp_path / "lantoa.sqlite3"))


@pytest.fixture
async def dbs(address: str) -> AsyncIterator[list[Database]]:
    """Three connections to the database: the first sets the scene, the other two race."""
    opened = [await Database.open(address, durable=False) for _ in range(3)]
    yield opened
    for db in opened:
        await db.close()


async def race(dbs: list[Database], attempt: Attempt) -> list[Any]:
    """`attempt(tx, i)` on connections 1 and 2 at once, each in a transaction of its own."""
    racers = dbs[1:]
    gate = asyncio.Barrier(len(racers))

    async def one(i: int, db: Database) -> Any:
        await gate.wait()
        async with db.transaction() as tx:
            return await attempt(tx, i)

    return list(await asyncio.gather(*(one(i, db) for i, db in enumerate(racers))))


async def scalar(db: Database, sql: str, params: tuple = ()) -> Any:
    async with db.transaction() as tx:
        row = await tx.one(sql, params)
    assert row is not None
    return row[0]


async def unit_with_leaders(tx: Tx, leaders: int = 2) -> tuple[int, list[int]]:
    """A chi bộ with these leaders (their membership ids) and one member."""
    unit = await add_unit(tx, NewUnit(name="Chi bộ Thôn Bản Chặng", kind="chi bộ"), NOW)
    rows = []
    for n in range(leaders):
        person = await people.add_person(tx, 1000 + n, f"Bí thư {n}", "vi", NOW)
        rows.append((await people.add_membership(tx, person.id, unit.id, Role.LEADER, None,
                                                 NOW)).id)
    member = await people.add_person(tx, 2000, "Hoàng Thị Mai", "vi", NOW)
    await people.add_membership(tx, member.id, unit.id, Role.MEMBER, None, NOW)
    return unit.id, rows


async def pending_report(tx: Tx) -> int:
    unit_id, _ = await unit_with_leaders(tx)
    author = await people.person_by_telegram_id(tx, 2000)
    assert author is not None
    return await reports.insert_report(
        tx, person_id=author.id, unit_id=unit_id, entered_by=author.id, source_draft_id=999_999,
        content=ReportContent(deed_date=NOW.date(), field="an_sinh", description="Giúp gạo"),
        now=NOW)


async def single_use_invite(tx: Tx, person_id: int | None = None) -> int:
    unit_id = (await add_unit(tx, NewUnit(name="Tổ 3", kind="tổ"), NOW)).id
    invite = await invites.add_invite(tx, NewInvite(
        code=f"k7Qm2xPa{person_id or ''}", unit_id=unit_id, role=Role.MEMBER, max_uses=1,
        expires_at=NOW + dt.timedelta(days=7), person_id=person_id), NOW)
    return invite.id


# --- two connections -------------------------------------------------------------------------

async def test_single_use_invite_is_used_once(dbs: list[Database]) -> None:
    async with dbs[0].transaction() as tx:
        invite_id = await single_use_invite(tx)
    won = await race(dbs, lambda tx, i: invites.use_invite(tx, invite_id, NOW))
    assert sorted(won) == [False, True]
    assert await scalar(dbs[0], "SELECT uses FROM invites WHERE id = ?", (invite_id,)) == 1


async def test_personal_invite_gives_the_person_one_account(dbs: list[Database]) -> None:
    async with dbs[0].transaction() as tx:
        person = await people.add_person(tx, None, "Nông Văn Bình", "vi", NOW)
    won = await race(dbs, lambda tx, i: people.attach_telegram(tx, person.id, 5000 + i))
    assert sorted(won) == [False, True]
    winner = 5000 + won.index(True)
    assert await scalar(dbs[0], "SELECT telegram_user_id FROM people WHERE id = ?",
                        (person.id,)) == winner


async def test_double_send_stores_one_report(dbs: list[Database]) -> None:
    """Two ✅ Gửi of one form: the first deletes the draft and stores the report; the second
    finds the draft gone (what bot/flows/reports.py submit does)."""
    async with dbs[0].transaction() as tx:
        report_id = await pending_report(tx)
        author = await reports.get_report(tx, report_id)
        draft = await drafts.start_draft(tx, 2000, "report", {}, 1, NOW)

    async def send(tx: Tx, i: int) -> int | None:
        if not await drafts.delete_draft(tx, draft.id):
            return None
        assert author is not None
        return await reports.insert_report(
            tx, person_id=author.person_id, unit_id=author.unit_id, entered_by=author.person_id,
            source_draft_id=draft.id, content=ReportContent(
                deed_date=NOW.date(), field="an_sinh", description=f"Sửa đường {i}"), now=NOW)

    stored = await race(dbs, send)
    assert stored.count(None) == 1
    assert await scalar(dbs[0], "SELECT COUNT(*) FROM reports WHERE source_draft_id = ?",
                        (draft.id,)) == 1


async def test_two_leaders_acknowledging_one_wins(dbs: list[Database]) -> None:
    async with dbs[0].transaction() as tx:
        report_id = await pending_report(tx)

    async def acknowledge(tx: Tx, i: int) -> bool:
        if not await reviews.change_state(tx, report_id, ReportState.PENDING,
                                          ReportState.ACKNOWLEDGED, NOW):
            return False
        await reviews.add_review(tx, report_id, 1 + i, "acknowledged", None, NOW)
        return True

    assert sorted(await race(dbs, acknowledge)) == [False, True]
    assert await scalar(dbs[0], "SELECT COUNT(*) FROM report_reviews WHERE report_id = ?",
                        (report_id,)) == 1


async def test_acknowledge_and_withdraw_at_once_one_wins(dbs: list[Database]) -> None:
    async with dbs[0].transaction() as tx:
        report_id = await pending_report(tx)

    async def act(tx: Tx, i: int) -> bool:
        if i == 0:
            return await reviews.change_state(tx, report_id, ReportState.PENDING,
                                              ReportState.ACKNOWLEDGED, NOW)
        return await reports.withdraw_report(tx, report_id, NOW)

    won = await race(dbs, act)
    assert sorted(won) == [False, True]
    state = "acknowledged" if won[0] else "withdrawn"
    assert await scalar(dbs[0], "SELECT state FROM reports WHERE id = ?", (report_id,)) == state


async def test_last_two_leaders_stepping_down_leave_one(dbs: list[Database]) -> None:
    """What bot/flows/members.py _take_role does for a leader stepping down."""
    async with dbs[0].transaction() as tx:
        unit_id, rows = await unit_with_leaders(tx)

    async def step_down(tx: Tx, i: int) -> bool:
        if await memberships.leader_count(tx, unit_id) <= 1:
            return False
        await memberships.end_rows(tx, [rows[i]])
        return True

    assert sorted(await race(dbs, step_down)) == [False, True]
    assert await scalar(dbs[0], "SELECT COUNT(*) FROM memberships WHERE unit_id = ?"
                        " AND role = 'leader' AND status = 'active'", (unit_id,)) == 1


async def test_join_request_is_decided_once(dbs: list[Database]) -> None:
    async with dbs[0].transaction() as tx:
        invite_id = await single_use_invite(tx)
        unit_id = (await invites.get_invite(tx, invite_id)).unit_id  # type: ignore[union-attr]
        person = await people.add_person(tx, 3000, "Lò Văn Sơn", "vi", NOW)
        request = await joins.request_membership(tx, person.id, unit_id, Role.MEMBER,
                                                 invite_id, NOW)
    decisions = (Decision.APPROVED, Decision.REJECTED)
    won = await race(dbs, lambda tx, i: joins.decide(tx, request, decisions[i], None,
                                                      f"Bí thư {i}", NOW))
    assert sorted(won) == [False, True]
    async with dbs[0].transaction() as tx:
        verdict = await joins.verdict(tx, request)
    assert verdict is not None and verdict.decision is decisions[won.index(True)]


async def test_member_import_confirmed_twice_imports_once(dbs: list[Database]) -> None:
    async with dbs[0].transaction() as tx:
        session = await member_import.begin(tx, 1000, NOW)
        await member_import.previewed(tx, session.id, "dang_vien.csv", [{"row": 1}], NOW)
    won = await race(dbs, lambda tx, i: member_import.imported(tx, session.id, NOW))
    assert sorted(won) == [False, True]


async def test_two_imports_of_one_file_create_each_person_once(dbs: list[Database]) -> None:
    """Two leaders (or /import and the CLI) import the same list into one unit at once: the
    second finds the people the first created. The people's ids come from where a later
    ordinary insert takes its own, so adding someone afterwards still works."""
    async with dbs[0].transaction() as tx:
        unit_id, _ = await unit_with_leaders(tx)
    rows = [ImportRow(line=n, name=name, unit_id=unit_id, role=Role.MEMBER)
            for n, name in enumerate(("Lò Văn Pá", "Quàng Thị Xuân", "Hà Văn Thắng"), 2)]
    await race(dbs, lambda tx, i: import_rows(tx, rows, NOW, 7, None))
    assert await scalar(dbs[0], "SELECT COUNT(*) FROM people WHERE telegram_user_id IS NULL"
                        ) == len(rows)
    async with dbs[0].transaction() as tx:
        later = await people.add_person(tx, 4000, "Vừa Văn Sử", "vi", NOW)
    assert await scalar(dbs[0], "SELECT COUNT(*) FROM people WHERE id = ?", (later.id,)) == 1


async def test_ledger_decides_a_message_once_and_sends_it_once(dbs: list[Database]) -> None:
    async with dbs[0].transaction() as tx:
        unit_id, _ = await unit_with_leaders(tx)
    item = deliveries.NewDelivery(kind="digest", unit_id=unit_id, chat_id=-100, period="2026-W49",
                                  text="Bản tin tuần")
    added = await race(dbs, lambda tx, i: deliveries.queue(tx, [item], NOW))
    assert sorted(len(ids) for ids in added) == [0, 1]
    delivery_id = next(ids[0] for ids in added if ids)
    claimed = await race(dbs, lambda tx, i: deliveries.start_sending(tx, delivery_id))
    assert sorted(claimed) == [False, True]
    assert await scalar(dbs[0], "SELECT attempts FROM deliveries") == 1


async def test_inbox_keeps_an_update_once_and_hands_it_out_once(dbs: list[Database]) -> None:
    updates = [(101, '{"update_id": 101}'), (102, '{"update_id": 102}')]
    fresh = await race(dbs, lambda tx, i: keep_new(tx, updates[i:] + updates[:i], NOW))
    assert fresh[0] | fresh[1] == {101, 102} and not fresh[0] & fresh[1]
    assert await scalar(dbs[0], "SELECT COUNT(*) FROM inbox") == 2


async def test_two_starts_add_each_standard_schedule_once(dbs: list[Database]) -> None:
    async with dbs[0].transaction() as tx:
        unit_id, _ = await unit_with_leaders(tx)
    standard = [NewSchedule(unit_id=0, kind=ScheduleKind.DIGEST, weekday=0, at=dt.time(7, 30)),
                NewSchedule(unit_id=0, kind=ScheduleKind.REMINDER, weekday=4, at=dt.time(16))]
    added = await race(dbs, lambda tx, i: schedules.add_missing_standard(tx, standard, NOW))
    assert sorted(added) == [0, 2]
    assert await scalar(dbs[0], "SELECT COUNT(*) FROM schedules WHERE unit_id = ?",
                        (unit_id,)) == 2


async def test_a_group_upgraded_to_a_supergroup_is_moved_once(dbs: list[Database]) -> None:
    """The two service messages (old chat, new chat) arrive from two chats at once."""
    async with dbs[0].transaction() as tx:
        unit_id, _ = await unit_with_leaders(tx)
        await groups.link(tx, unit_id, -100)
    moved = await race(dbs, lambda tx, i: groups.move_group(tx, -100, -1001234))
    assert moved.count(unit_id) == 1 and moved.count(None) == 1
    assert await scalar(dbs[0], "SELECT group_chat_id FROM units WHERE id = ?",
                        (unit_id,)) == -1001234


# --- two processes ---------------------------------------------------------------------------

RACER = """
import asyncio, datetime as dt, sys
from storage import invites, reviews
from storage.db import Database
from storage.entities import ReportState

async def main(address, what, ident):
    db = await Database.open(address, durable=False)
    print("ready", flush=True)
    sys.stdin.readline()
    now = dt.datetime.fromisoformat(sys.argv[4])
    async with db.transaction() as tx:
        if what == "invite":
            won = await invites.use_invite(tx, ident, now)
        else:
            won = await reviews.change_state(tx, ident, ReportState.PENDING,
                                             ReportState.ACKNOWLEDGED, now)
    await db.close()
    print("won" if won else "lost", flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


async def race_processes(address: str, what: str, ident: int) -> list[str]:
    """Two processes open the database, say they are ready, and are let go together."""
    racers = [await asyncio.create_subprocess_exec(
        sys.executable, "-c", RACER, address, what, str(ident), NOW.isoformat(),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=WORKTREE)
        for _ in range(2)]
    for racer in racers:
        assert racer.stdout is not None
        assert await racer.stdout.readline() == b"ready\n"
    for racer in racers:
        assert racer.stdin is not None
        racer.stdin.write(b"go\n")
        await racer.stdin.drain()
    outputs = [await racer.communicate() for racer in racers]
    assert [racer.returncode for racer in racers] == [0, 0]
    return sorted(out.decode().strip() for out, _ in outputs)


async def test_two_processes_use_a_single_use_invite_once(address: str,
                                                          dbs: list[Database]) -> None:
    async with dbs[0].transaction() as tx:
        invite_id = await single_use_invite(tx)
    assert await race_processes(address, "invite", invite_id) == ["lost", "won"]
    assert await scalar(dbs[0], "SELECT uses FROM invites WHERE id = ?", (invite_id,)) == 1


async def test_two_processes_acknowledge_a_report_once(address: str,
                                                       dbs: list[Database]) -> None:
    async with dbs[0].transaction() as tx:
        report_id = await pending_report(tx)
    assert await race_processes(address, "acknowledge", report_id) == ["lost", "won"]
    assert await scalar(dbs[0], "SELECT state FROM reports WHERE id = ?",
                        (report_id,)) == "acknowledged"
