"""Several bots on one database (bot/rules/bots.py): each token serves a subtree. Three bots on
the local fake, each with its own FakeTelegram (its own chats, calls and update ids, as
Telegram keeps them per bot): A serves the commune Tràng Định, B the ward Hoàng Văn Thụ, C the
province above both. Nothing goes out through the wrong bot; figures roll up across them."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.rules.access import Action, actor_for, permits, units_in_reach
from bot.rules.bots import BotIdentity
from bot.runtime import cli
from handlers import schedules as schedule_jobs
from handlers.deliveries import PEER_LOOK_SECONDS
from handlers.schedules import NEW_UNITS_JOB
from storage import bots, deliveries, groups, inbox, meta, units
from storage.db import Tx
from storage.entities import NewUnit, Role
from tests.fakebot import FakeTelegram
from tests.harness import HANOI, Harness, migrated_database, started

A_TOKEN, B_TOKEN, C_TOKEN = "1001:token-of-a", "1002:token-of-b", "1003:token-of-c"
A_ID, B_ID, C_ID = 1001, 1002, 1003
SON, MAI, BINH, TUAN, HANH = 5001, 5002, 5003, 5004, 5005
A_GROUP, B_GROUP = -1005001, -1005002
FRIDAY_16 = dt.datetime(2026, 11, 27, 16, 5, tzinfo=HANOI)
MONDAY_0730 = dt.datetime(2026, 11, 30, 7, 35, tzinfo=HANOI)


@dataclass(frozen=True)
class Country:
    """The tree: the province; under it the commune (bot A: cell_a) and the ward (bot B:
    cell_b)."""

    province: int
    commune: int
    ward: int
    cell_a: int
    cell_b: int


@dataclass
class Bots:
    a: Harness
    b: Harness
    c: Harness
    tree: Country

    @property
    def all(self) -> tuple[Harness, ...]:
        return self.a, self.b, self.c

    def at(self, moment: dt.datetime) -> None:
        for bot in self.all:
            bot.clock.moment = moment


async def _country(tmp_path: Path) -> Country:
    """The units, made before any bot starts (a bot's root must exist)."""
    db = await migrated_database(tmp_path / "lantoa.sqlite3")
    now = dt.datetime(2026, 11, 1, tzinfo=HANOI)

    async def add(tx: Tx, name: str, kind: str, parent: int | None, code: str | None = None) -> int:
        unit = await units.add_unit(tx, NewUnit(name=name, kind=kind, parent_id=parent,
                                                code=code), now)
        return unit.id

    try:
        async with db.transaction() as tx:
            province = await add(tx, "Đảng bộ tỉnh Lạng Sơn", "đảng bộ tỉnh", None, "LS")
            commune = await add(tx, "Đảng bộ xã Tràng Định", "đảng bộ xã", province, "LS-TD")
            ward = await add(tx, "Đảng bộ phường Hoàng Văn Thụ", "đảng bộ phường", province)
            cell_a = await add(tx, "Chi bộ Thôn Bản Chặng", "chi bộ", commune)
            cell_b = await add(tx, "Chi bộ Khối 1", "chi bộ", ward)
    finally:
        await db.close()
    return Country(province, commune, ward, cell_a, cell_b)


def _fake(bot_id: int, name: str) -> FakeTelegram:
    fake = FakeTelegram(bot_id=bot_id, bot_username=name)
    for user, first in ((SON, "Sơn"), (MAI, "Mai"), (BINH, "Bình"), (TUAN, "Tuấn"),
                        (HANH, "Hạnh")):
        fake.add_user(user, first)
    return fake


@asynccontextmanager
async def three_bots(tmp_path: Path, now: dt.datetime | None = None) -> AsyncIterator[Bots]:
    tree = await _country(tmp_path)
    moment = {"now": now} if now else {}
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(started(
            tmp_path, _fake(A_ID, "lantoa_a_bot"), token=A_TOKEN, root_unit="LS-TD", **moment))
        b = await stack.enter_async_context(started(
            tmp_path, _fake(B_ID, "lantoa_b_bot"), token=B_TOKEN, root_unit=str(tree.ward),
            **moment))
        c = await stack.enter_async_context(started(
            tmp_path, _fake(C_ID, "lantoa_c_bot"), token=C_TOKEN, root_unit="LS", **moment))
        yield Bots(a, b, c, tree)


async def _members(bots: Bots) -> None:
    """Sơn leads cell A, Mai and Bình are its members (through A); Tuấn is cell B's member
    (through B)."""
    tree = bots.tree
    await bots.a.appoint(SON, tree.cell_a, Role.LEADER, "Sơn")
    await bots.a.join(MAI, tree.cell_a, "Mai")
    await bots.a.join(BINH, tree.cell_a, "Bình")
    await bots.b.join(TUAN, tree.cell_b, "Tuấn")


def _chats(bot: Harness, mark: int = 0) -> set[int]:
    """Every chat the bot sent a message to (after its `mark`-th call)."""
    return _chats_of(bot.fake, mark)


def _chats_of(fake: FakeTelegram, mark: int) -> set[int]:
    return {c.chat_id for c in fake.calls[mark:] if c.method in ("sendMessage", "sendPhoto")
            and c.chat_id is not None and not c.error}


# --- the rule ---------------------------------------------------------------------------------


async def test_each_unit_belongs_to_the_bot_of_its_nearest_root(tmp_path: Path) -> None:
    async with three_bots(tmp_path) as bots:
        tree = bots.tree
        async with bots.a.db.transaction() as tx:
            owners = await bots_owners(tx, tree)
        assert owners == {tree.province: C_ID, tree.commune: A_ID, tree.cell_a: A_ID,
                          tree.ward: B_ID, tree.cell_b: B_ID}
        for bot, bot_id, root in ((bots.a, A_ID, tree.commune), (bots.b, B_ID, tree.ward),
                                  (bots.c, C_ID, tree.province)):
            assert bot.core.services.bot == BotIdentity(bot_id, root)


async def bots_owners(tx: Tx, tree: Country) -> dict[int, int]:
    return await bots.owners_of(tx, [tree.province, tree.commune, tree.cell_a, tree.ward,
                                     tree.cell_b])


async def test_a_bot_without_a_root_owns_what_no_rooted_bot_owns(tmp_path: Path) -> None:
    tree = await _country(tmp_path)
    async with started(tmp_path, _fake(A_ID, "lantoa_a_bot"), token=A_TOKEN,
                       root_unit="LS-TD") as a, \
            started(tmp_path, _fake(C_ID, "lantoa_c_bot"), token=C_TOKEN) as c:
        async with c.db.transaction() as tx:
            owners = await bots_owners(tx, tree)
        assert owners == {tree.province: C_ID, tree.commune: A_ID, tree.cell_a: A_ID,
                          tree.ward: C_ID, tree.cell_b: C_ID}
        assert a.core.services.bot == BotIdentity(A_ID, tree.commune)
        assert c.core.services.bot == BotIdentity(C_ID, None)


async def test_what_the_one_bot_of_before_left_is_taken_by_the_bots_it_belongs_to(
        tmp_path: Path) -> None:
    """Rows kept before migration 0011 have bot 0: the inbox's are the old bot's (the username
    meta remembers), the ledger's those of the bot that serves each row's unit."""
    tree = await _country(tmp_path)
    db = await migrated_database(tmp_path / "lantoa.sqlite3")
    now = dt.datetime(2026, 11, 27, 9, tzinfo=HANOI)
    try:
        async with db.transaction() as tx:
            await meta.put(tx, "bot_username", "lantoa_old_bot")
            await inbox.keep_new(tx, bots.NO_BOT, [(7, '{"update_id": 7}')], now)
            await deliveries.queue(tx, [
                deliveries.NewDelivery(kind="digest", unit_id=unit, chat_id=chat, period="w",
                                       text="Bản tin") for unit, chat in (
                    (tree.cell_a, A_GROUP), (tree.cell_b, B_GROUP))], now)
            await bots.register(tx, A_ID, tree.commune, "lantoa_a_bot", now)
            await bots.register(tx, C_ID, None, "lantoa_old_bot", now)
            left = await inbox.unhandled_ids(tx, bots.NO_BOT)
            taken = {bot_id: await inbox.unhandled_ids(tx, bot_id) for bot_id in (A_ID, C_ID)}
            ledger = {row.unit_id: row.bot_id for row in await deliveries.in_ledger(tx)}
    finally:
        await db.close()
    assert (left, taken) == ([], {A_ID: [], C_ID: [7]})
    assert ledger == {tree.cell_a: A_ID, tree.cell_b: C_ID}


# --- invites and members --------------------------------------------------------------------------


async def test_a_member_joins_through_the_bot_of_the_unit_and_the_other_bot_refuses(
        tmp_path: Path) -> None:
    async with three_bots(tmp_path) as bots:
        code = await bots.a.invite(bots.tree.cell_a)
        wrong = await bots.b.say(MAI, f"/start {code}")
        assert wrong.shows("join.other_bot", bot="lantoa_a_bot",
                           link=f"https://t.me/lantoa_a_bot?start={code}",
                           unit="Chi bộ Thôn Bản Chặng (Đảng bộ xã Tràng Định)")
        assert bots.b.buttons(MAI) == [], "no form was started"
        async with bots.a.db.transaction() as tx:
            assert await tx.one("SELECT 1 AS x FROM people WHERE telegram_user_id = ?",
                                (MAI,)) is None
        await bots.a.say(MAI, f"/start {code}")
        done = await bots.a.tap(MAI, "✅ Đúng")
        assert done.shows("join.done_member")
        # Through B she holds no role: hers is A's, and B says so.
        assert (await bots.b.say(MAI, "/report")).shows("access.other_bot", bot="lantoa_a_bot")
        assert (await bots.b.say(MAI, "/review")).shows("access.other_bot", bot="lantoa_a_bot")


async def test_the_link_an_admin_prints_names_the_bot_of_the_unit(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with three_bots(tmp_path) as bots:
        tree = bots.tree
        database = bots.a.core.services.settings.database
    monkeypatch.setenv("LANTOA_DATABASE", str(database))
    (tmp_path / "none.toml").write_text("")
    monkeypatch.setenv("LANTOA_CONFIG", str(tmp_path / "none.toml"))
    for unit, name in ((tree.cell_b, "lantoa_b_bot"), (tree.province, "lantoa_c_bot"),
                       (tree.cell_a, "lantoa_a_bot")):
        assert await asyncio.to_thread(cli.main, ["invite", "--unit", str(unit)]) == 0
        assert f"https://t.me/{name}?start=" in capsys.readouterr().out


async def test_a_member_below_a_and_an_observer_through_c_has_each_role_in_its_bot(
        tmp_path: Path) -> None:
    async with three_bots(tmp_path) as bots:
        tree = bots.tree
        await _members(bots)
        await bots.c.appoint(MAI, tree.province, Role.OBSERVER, "Mai")
        async with bots.a.db.transaction() as tx:
            seen_by = {bot_id: await actor_for(tx, (), MAI, bot.core.services.bot)
                       for bot_id, bot in ((A_ID, bots.a), (C_ID, bots.c), (B_ID, bots.b))}
        assert [(m.unit_id, m.role) for m in seen_by[A_ID].memberships] == [
            (tree.cell_a, Role.MEMBER)]
        assert [(m.unit_id, m.role) for m in seen_by[C_ID].memberships] == [
            (tree.province, Role.OBSERVER)]
        assert seen_by[B_ID].memberships == ()
        through_a = await bots.a.say(MAI, "/stats")
        assert through_a.shows("stats.title_own", name="Mai")
        through_c = await bots.c.say(MAI, "/stats")
        assert through_c.shows("stats.title_unit", unit="Đảng bộ tỉnh Lạng Sơn")
        assert "👤 Cá nhân" not in bots.c.buttons(MAI), "her own figures are A's"
        assert (await bots.c.say(MAI, "/report")).shows("access.observer_only")


async def test_an_admin_acts_through_a_bot_only_within_its_subtree(tmp_path: Path) -> None:
    async with three_bots(tmp_path) as bots:
        tree = bots.tree
        async with bots.a.db.transaction() as tx:
            through_a = await actor_for(tx, [SON], SON, bots.a.core.services.bot)
            through_c = await actor_for(tx, [SON], SON, bots.c.core.services.bot)
            assert await permits(tx, through_a, Action.SCHEDULE, tree.cell_a)
            assert not await permits(tx, through_a, Action.SCHEDULE, tree.cell_b)
            assert not await permits(tx, through_a, Action.SCHEDULE, tree.province)
            assert await permits(tx, through_c, Action.SCHEDULE, tree.cell_b)
            reach = {u.id for u in await units_in_reach(tx, through_a, Action.SCHEDULE)}
        assert reach == {tree.commune, tree.cell_a}


# --- figures over all subtrees ------------------------------------------------------------------


async def test_a_province_observer_on_c_reads_figures_rolled_up_over_a_and_b(
        tmp_path: Path) -> None:
    async with three_bots(tmp_path) as bots:
        tree = bots.tree
        await _members(bots)
        await bots.c.appoint(HANH, tree.province, Role.OBSERVER, "Hạnh")
        today = bots.a.clock.now().date()
        await bots.a.stored_report(MAI, tree.cell_a, deed=today)
        await bots.a.stored_report(BINH, tree.cell_a, deed=today, state="acknowledged")
        await bots.b.stored_report(TUAN, tree.cell_b, deed=today)
        seen = await bots.c.say(HANH, "/stats")
        # 3 reports of 3 of the 4 members (Sơn reported nothing), over both bots' subtrees.
        assert seen.shows("stats.unit_total", total=3, reported=3, expected=4,
                          percent="75%")
        assert "Đảng bộ xã Tràng Định" in seen.text and "Đảng bộ phường Hoàng Văn Thụ" in seen.text
        assert _chats(bots.a) & {HANH} == set() and _chats(bots.b) & {HANH} == set()


# --- groups -------------------------------------------------------------------------------------


async def test_a_group_linked_through_the_wrong_bot_is_refused_naming_the_right_one(
        tmp_path: Path) -> None:
    async with three_bots(tmp_path) as bots:
        await _members(bots)
        for bot in bots.all:
            bot.fake.add_group(A_GROUP, "Chi bộ Bản Chặng")
        mark = len(bots.b.fake.calls)
        wrong = await bots.b.after(bots.b.fake.send_text(SON, "/link", chat_id=A_GROUP), mark)
        assert wrong.shows("groups.other_bot", unit="Chi bộ Thôn Bản Chặng", bot="lantoa_a_bot")
        async with bots.b.db.transaction() as tx:
            assert await groups.unit_of_group(tx, A_GROUP) is None
        # C serves the province, above the cell: its leader's role is A's, so C says the same.
        mark = len(bots.c.fake.calls)
        above = await bots.c.after(bots.c.fake.send_text(SON, "/link", chat_id=A_GROUP), mark)
        assert above.shows("groups.other_bot", unit="Chi bộ Thôn Bản Chặng", bot="lantoa_a_bot")
        mark = len(bots.a.fake.calls)
        right = await bots.a.after(bots.a.fake.send_text(SON, "/link", chat_id=A_GROUP), mark)
        assert right.shows("groups.linked", unit="Chi bộ Thôn Bản Chặng")
        # B removed from the group (it was in it too) does not undo A's link.
        mark = len(bots.b.fake.calls)
        await bots.b.after(bots.b.fake.remove_bot_from_group(A_GROUP, SON), mark)
        async with bots.a.db.transaction() as tx:
            linked = await groups.unit_of_group(tx, A_GROUP)
        assert linked is not None and linked.id == bots.tree.cell_a


# --- schedules and deliveries -------------------------------------------------------------------


async def _groups_linked(bots: Bots) -> None:
    async with bots.a.db.transaction() as tx:
        await groups.link(tx, bots.tree.cell_a, A_GROUP)
        await groups.link(tx, bots.tree.cell_b, B_GROUP)
    for bot in bots.all:
        for chat, title in ((A_GROUP, "Chi bộ Bản Chặng"), (B_GROUP, "Chi bộ Khối 1")):
            bot.fake.add_group(chat, title)
        await bot.app.job_queue.get_jobs_by_name(NEW_UNITS_JOB)[0].run(bot.app)


async def _run_schedules(bots: Bots, moment: dt.datetime) -> None:
    bots.at(moment)
    for bot in bots.all:
        await schedule_jobs.catch_up(bot.app)
    for bot in bots.all:
        await bot.deliveries_settled()


async def test_reminders_and_digests_go_out_only_through_the_bot_of_their_unit(
        tmp_path: Path) -> None:
    async with three_bots(tmp_path) as bots:
        await _members(bots)
        await bots.c.appoint(HANH, bots.tree.province, Role.OBSERVER, "Hạnh")
        await _groups_linked(bots)
        marks = {bot.fake.bot_id: len(bot.fake.calls) for bot in bots.all}
        await _run_schedules(bots, FRIDAY_16)
        await _run_schedules(bots, MONDAY_0730)
        sent = {bot.fake.bot_id: _chats(bot, marks[bot.fake.bot_id]) for bot in bots.all}
        # Friday's reminder in each cell's group and the nudges of its members; Monday's digest
        # in each group and to the leaders: each through the bot of the cell.
        assert sent[A_ID] == {A_GROUP, SON, MAI, BINH}
        assert sent[B_ID] == {B_GROUP, TUAN}
        assert sent[C_ID] <= {HANH}, "the province's digest to its observer, through C"
        async with bots.a.db.transaction() as tx:
            ledger = await deliveries.in_ledger(tx)
        owners = {bots.tree.cell_a: A_ID, bots.tree.commune: A_ID, bots.tree.cell_b: B_ID,
                  bots.tree.ward: B_ID, bots.tree.province: C_ID}
        assert {row.kind for row in ledger} >= {"reminder", "nudge", "digest"}
        assert all(row.bot_id == owners[row.unit_id] for row in ledger), [
            (row.kind, row.unit_id, row.bot_id) for row in ledger]


async def test_a_province_announcement_reaches_cells_through_their_bots(
        tmp_path: Path) -> None:
    """Rows decided in C's process for people and groups of A's and B's cells (the province's
    announcement to its whole subtree) are A's and B's to send: their senders find them."""
    async with three_bots(tmp_path) as bots:
        await _members(bots)
        await _groups_linked(bots)
        marks = {bot.fake.bot_id: len(bot.fake.calls) for bot in bots.all}
        async with bots.c.db.transaction() as tx:
            await deliveries.queue(tx, [deliveries.NewDelivery(
                kind="announcement", unit_id=bots.tree.province, chat_id=chat, period="a1",
                text="Thông báo của Tỉnh ủy") for chat in (MAI, TUAN, A_GROUP, B_GROUP)],
                bots.c.clock.now())
        # Nobody rings A's and B's senders (C's process decided): they look on their own.
        for bot, chats in ((bots.a, {MAI, A_GROUP}), (bots.b, {TUAN, B_GROUP})):
            mark = marks[bot.fake.bot_id]
            await bot.fake.wait_for(lambda f, m=mark, c=chats: _chats_of(f, m) >= c,
                                    timeout=3 * PEER_LOOK_SECONDS)
        for bot in bots.all:
            await bot.deliveries_settled()
        sent = {bot.fake.bot_id: _chats(bot, marks[bot.fake.bot_id]) for bot in bots.all}
        assert sent == {A_ID: {MAI, A_GROUP}, B_ID: {TUAN, B_GROUP}, C_ID: set()}


# --- the inbox ------------------------------------------------------------------------------------


async def test_the_same_update_id_from_two_bots_is_two_updates(tmp_path: Path) -> None:
    async with three_bots(tmp_path) as bots:
        await _members(bots)
        for bot in (bots.a, bots.b):
            bot.fake.continue_update_ids_from(90_000)
        through_a = await bots.a.say(MAI, "/help")
        through_b = await bots.b.say(TUAN, "/help")
        assert through_a.update_id == through_b.update_id == 90_000
        assert through_a.shows("help.member") and through_b.shows("help.member")
        async with bots.a.db.transaction() as tx:
            rows = await tx.all("SELECT bot_id FROM inbox WHERE update_id = ? ORDER BY bot_id",
                                (90_000,))
        assert [int(r["bot_id"]) for r in rows] == [A_ID, B_ID]


# --- the command line -----------------------------------------------------------------------------


def test_an_unknown_root_unit_is_one_vietnamese_line_and_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANTOA_DATABASE", str(tmp_path / "lantoa.sqlite3"))
    (tmp_path / "none.toml").write_text("")
    monkeypatch.setenv("LANTOA_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("LANTOA_BOT_TOKEN", A_TOKEN)
    monkeypatch.setenv("LANTOA_BOT_API_URL", "http://127.0.0.1:9")  # never reached
    assert cli.main(["init"]) == 0
    capsys.readouterr()
    assert cli.main(["run", "--root-unit", "KHÔNG-CÓ"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ['lantoa: --root-unit / LANTOA_ROOT_UNIT: không có đơn vị với mã hoặc id '
                   '"KHÔNG-CÓ" (xem: lantoa unit list).']
    monkeypatch.setenv("LANTOA_ROOT_UNIT", "404")
    assert cli.main(["run"]) == 2
    assert '"404"' in capsys.readouterr().err
