"""The check-then-write rules of storage/INVARIANTS.md, each tried by two truly concurrent
attempts, on both backends: two connections to the same database in one process, and two OS
processes (the `race` fixture runs every test both ways). Exactly one attempt wins and the
database holds one row, one state. What each racer does is in tests/racing.py.

On SQLite every transaction begins IMMEDIATE, so the loser's transaction starts only when the
winner's has committed: the attempts start together (a barrier), not read together. There a
test fails when a rule's write stops being conditional (an unconditional claim lets both win).
On PostgreSQL (READ COMMITTED) the two transactions do run at once, statement by statement:
a rule kept by a row lock or an ON CONFLICT (the last leader, the imports, the standard
schedules) fails there without it."""

from __future__ import annotations

import ast
import asyncio
import datetime as dt
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.flows.reviews import fingerprint
from storage import drafts, invites, joins, member_import, people, reports, reviews
from storage.db import Database, Tx
from storage.entities import NewInvite, NewUnit, ReportContent, Role
from storage.units import add_unit
from tests import racing
from tests.harness import BACKEND
from tests.racing import AUTHOR, CORRECTED, DECISIONS, IMPORTED, NEW_GROUP, NOW

WORKTREE = Path(__file__).resolve().parent.parent

Race = Callable[[str, int], Awaitable[list[Any]]]


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


@pytest.fixture(params=["connections", "processes"])
def race(request: pytest.FixtureRequest, address: str, dbs: list[Database]) -> Race:
    """`race(name, subject)`: tests/racing.py's attempt `name` on `subject`, by two racers at
    once, each in a transaction of its own; what each returned, racer 0's first."""
    if request.param == "processes":
        return lambda name, subject: race_processes(address, name, subject)
    return lambda name, subject: race_connections(dbs[1:], name, subject)


async def race_connections(racers: list[Database], name: str, subject: int) -> list[Any]:
    gate = asyncio.Barrier(len(racers))

    async def one(i: int, db: Database) -> Any:
        await gate.wait()
        async with db.transaction() as tx:
            return await racing.ATTEMPTS[name](tx, subject, i)

    return list(await asyncio.gather(*(one(i, db) for i, db in enumerate(racers))))


async def race_processes(address: str, name: str, subject: int) -> list[Any]:
    """Two processes open the database, say they are ready, and are let go together."""
    racers = [await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.racing", address, name, str(subject), str(i),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=WORKTREE)
        for i in range(2)]
    for racer in racers:
        assert racer.stdout is not None
        assert await racer.stdout.readline() == b"ready\n"
    for racer in racers:
        assert racer.stdin is not None
        racer.stdin.write(b"go\n")
        await racer.stdin.drain()
    outputs = [await racer.communicate() for racer in racers]
    assert [racer.returncode for racer in racers] == [0, 0]
    return [ast.literal_eval(out.decode().strip()) for out, _ in outputs]


async def scalar(db: Database, sql: str, params: tuple = ()) -> Any:
    async with db.transaction() as tx:
        row = await tx.one(sql, params)
    assert row is not None
    return row[0]


async def unit_with_leaders(tx: Tx, leaders: int = 2) -> int:
    """A chi bộ with these leaders and one member (Telegram id AUTHOR)."""
    unit = await add_unit(tx, NewUnit(name="Chi bộ Thôn Bản Chặng", kind="chi bộ"), NOW)
    for n in range(leaders):
        person = await people.add_person(tx, 1000 + n, f"Bí thư {n}", "vi", NOW)
        await people.add_membership(tx, person.id, unit.id, Role.LEADER, None, NOW)
    member = await people.add_person(tx, AUTHOR, "Hoàng Thị Mai", "vi", NOW)
    await people.add_membership(tx, member.id, unit.id, Role.MEMBER, None, NOW)
    return unit.id


async def pending_report(tx: Tx) -> int:
    unit_id = await unit_with_leaders(tx)
    author = await people.person_by_telegram_id(tx, AUTHOR)
    assert author is not None
    return await reports.insert_report(
        tx, person_id=author.id, unit_id=unit_id, entered_by=author.id, source_draft_id=999_999,
        content=ReportContent(deed_date=NOW.date(), field="an_sinh", description="Giúp gạo"),
        now=NOW)


async def single_use_invite(tx: Tx) -> int:
    unit_id = (await add_unit(tx, NewUnit(name="Tổ 3", kind="tổ"), NOW)).id
    invite = await invites.add_invite(tx, NewInvite(
        code="k7Qm2xPa", unit_id=unit_id, role=Role.MEMBER, max_uses=1,
        expires_at=NOW + dt.timedelta(days=7)), NOW)
    return invite.id


async def test_single_use_invite_is_used_once(dbs: list[Database], race: Race) -> None:
    async with dbs[0].transaction() as tx:
        invite_id = await single_use_invite(tx)
    assert sorted(await race("use_invite", invite_id)) == [False, True]
    assert await scalar(dbs[0], "SELECT uses FROM invites WHERE id = ?", (invite_id,)) == 1


async def test_personal_invite_gives_the_person_one_account(dbs: list[Database],
                                                            race: Race) -> None:
    async with dbs[0].transaction() as tx:
        person = await people.add_person(tx, None, "Nông Văn Bình", "vi", NOW)
    won = await race("attach_telegram", person.id)
    assert sorted(won) == [False, True]
    assert await scalar(dbs[0], "SELECT telegram_user_id FROM people WHERE id = ?",
                        (person.id,)) == 5000 + won.index(True)


async def test_double_send_stores_one_report(dbs: list[Database], race: Race) -> None:
    """Two ✅ Gửi of one form: the first deletes the draft and stores the report; the second
    finds the draft gone."""
    async with dbs[0].transaction() as tx:
        await pending_report(tx)
        draft = await drafts.start_draft(tx, AUTHOR, "report", {}, 1, NOW)
    stored = await race("send_report", draft.id)
    assert stored.count(None) == 1
    assert await scalar(dbs[0], "SELECT COUNT(*) FROM reports WHERE source_draft_id = ?",
                        (draft.id,)) == 1


async def test_two_leaders_acknowledging_one_wins(dbs: list[Database], race: Race) -> None:
    async with dbs[0].transaction() as tx:
        report_id = await pending_report(tx)
    assert sorted(await race("acknowledge", report_id)) == [False, True]
    assert await scalar(dbs[0], "SELECT COUNT(*) FROM report_reviews WHERE report_id = ?",
                        (report_id,)) == 1
    assert await scalar(dbs[0], "SELECT state FROM reports WHERE id = ?",
                        (report_id,)) == "acknowledged"


async def test_acknowledge_and_withdraw_at_once_one_wins(dbs: list[Database],
                                                         race: Race) -> None:
    async with dbs[0].transaction() as tx:
        report_id = await pending_report(tx)
    won = await race("acknowledge_or_withdraw", report_id)
    assert sorted(won) == [False, True]
    state = "acknowledged" if won[0] else "withdrawn"
    assert await scalar(dbs[0], "SELECT state FROM reports WHERE id = ?", (report_id,)) == state


async def test_acknowledging_all_seen_never_acknowledges_a_correction_unseen(
        dbs: list[Database], race: Race) -> None:
    """A leader acknowledges every report of the pass as shown while its author corrects one:
    either the correction comes first (and that report is left for the leader to see) or
    the acknowledgement does (and the author is told it is no longer theirs to change)."""
    async with dbs[0].transaction() as tx:
        report_id = await pending_report(tx)
        leader = await people.person_by_telegram_id(tx, 1000)
        report = await reports.get_report(tx, report_id)
        assert leader is not None and report is not None
        pass_id = await reviews.start_pass(tx, leader.id, NOW)
        await reviews.mark_seen(tx, pass_id, report_id, fingerprint(report), NOW)
    acknowledged, corrected = await race("acknowledge_seen_or_correct", report_id)
    assert acknowledged != corrected
    async with dbs[0].transaction() as tx:
        now = await reports.get_report(tx, report_id)
    assert now is not None
    assert (now.state, now.content.description) == (
        ("acknowledged", report.content.description) if acknowledged else ("pending", CORRECTED))


async def test_last_two_leaders_stepping_down_leave_one(dbs: list[Database],
                                                        race: Race) -> None:
    async with dbs[0].transaction() as tx:
        unit_id = await unit_with_leaders(tx)
    assert sorted(await race("step_down", unit_id)) == [False, True]
    assert await scalar(dbs[0], "SELECT COUNT(*) FROM memberships WHERE unit_id = ?"
                        " AND role = 'leader' AND status = 'active'", (unit_id,)) == 1


async def test_join_request_is_decided_once(dbs: list[Database], race: Race) -> None:
    async with dbs[0].transaction() as tx:
        invite_id = await single_use_invite(tx)
        unit_id = (await invites.get_invite(tx, invite_id)).unit_id  # type: ignore[union-attr]
        person = await people.add_person(tx, 3000, "Lò Văn Sơn", "vi", NOW)
        request = await joins.request_membership(tx, person.id, unit_id, Role.MEMBER,
                                                 invite_id, NOW)
    won = await race("decide_join", request)
    assert sorted(won) == [False, True]
    async with dbs[0].transaction() as tx:
        verdict = await joins.verdict(tx, request)
    assert verdict is not None and verdict.decision is DECISIONS[won.index(True)]


async def test_member_import_confirmed_twice_imports_once(dbs: list[Database],
                                                          race: Race) -> None:
    async with dbs[0].transaction() as tx:
        session = await member_import.begin(tx, 1000, NOW)
        await member_import.previewed(tx, session.id, "dang_vien.csv", [{"row": 1}], NOW)
    assert sorted(await race("confirm_import", session.id)) == [False, True]


async def test_two_imports_of_one_file_create_each_person_once(dbs: list[Database],
                                                               race: Race) -> None:
    """Two leaders (or /import and the CLI) import the same list into one unit at once: the
    second finds the people the first created. The people's ids come from where a later
    ordinary insert takes its own, so adding someone afterwards still works."""
    async with dbs[0].transaction() as tx:
        unit_id = await unit_with_leaders(tx)
    assert await race("import_file", unit_id) == [len(IMPORTED)] * 2  # a link line each
    assert await scalar(dbs[0], "SELECT COUNT(*) FROM people WHERE telegram_user_id IS NULL"
                        ) == len(IMPORTED)
    async with dbs[0].transaction() as tx:
        later = await people.add_person(tx, 4000, "Vừa Văn Sử", "vi", NOW)
    assert await scalar(dbs[0], "SELECT COUNT(*) FROM people WHERE id = ?", (later.id,)) == 1


async def test_ledger_decides_a_message_once(dbs: list[Database], race: Race) -> None:
    async with dbs[0].transaction() as tx:
        unit_id = await unit_with_leaders(tx)
    assert sorted(await race("queue_digest", unit_id)) == [0, 1]
    assert await scalar(dbs[0], "SELECT COUNT(*) FROM deliveries") == 1


async def test_ledger_sends_a_message_once(dbs: list[Database], race: Race) -> None:
    async with dbs[0].transaction() as tx:
        await racing.queue_digest(tx, await unit_with_leaders(tx), 0)
    delivery_id = await scalar(dbs[0], "SELECT id FROM deliveries")
    assert sorted(await race("claim_delivery", delivery_id)) == [False, True]
    assert await scalar(dbs[0], "SELECT attempts FROM deliveries") == 1


async def test_inbox_keeps_an_update_once_and_hands_it_out_once(dbs: list[Database],
                                                                race: Race) -> None:
    fresh = await race("keep_updates", 0)
    assert sorted(fresh[0] + fresh[1]) == [101, 102]
    assert await scalar(dbs[0], "SELECT COUNT(*) FROM inbox") == 2


async def test_two_starts_add_each_standard_schedule_once(dbs: list[Database],
                                                          race: Race) -> None:
    async with dbs[0].transaction() as tx:
        unit_id = await unit_with_leaders(tx)
    assert sorted(await race("add_standard_schedules", 0)) == [0, 2]
    assert await scalar(dbs[0], "SELECT COUNT(*) FROM schedules WHERE unit_id = ?",
                        (unit_id,)) == 2


async def test_a_group_upgraded_to_a_supergroup_is_moved_once(dbs: list[Database],
                                                              race: Race) -> None:
    """The two service messages (old chat, new chat) arrive from two chats at once."""
    async with dbs[0].transaction() as tx:
        unit_id = await unit_with_leaders(tx)
        await tx.run("UPDATE units SET group_chat_id = -100 WHERE id = ?", (unit_id,))
    moved = await race("move_group", -100)
    assert moved.count(unit_id) == 1 and moved.count(None) == 1
    assert await scalar(dbs[0], "SELECT group_chat_id FROM units WHERE id = ?",
                        (unit_id,)) == NEW_GROUP
