"""Faults from Telegram: while a fifth of the sends is answered 429, 500/502 or times out (the
request lost on the way: tests/fakebot/faults.py), a Monday digest run and an announcement still
put every message into its chat exactly once, the ledger says sent, and the database is whole
afterwards (tests/databases.py: SQLite's integrity_check, PostgreSQL's amcheck).

The oracle, per chat: the sends Telegram took (no error) are exactly the parts of the chat's
ledger rows (a picture with its text as caption when it fits, else the picture, then the
text in parts), each once. Seeded; the seed is in the
test id and in every failure message (replay: `pytest tests/test_faults.py -k 'seed-7'`)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection
from dataclasses import astuple
from pathlib import Path

import pytest

from bot.ui.screens import fits_caption, split_text
from handlers.schedules import NEW_UNITS_JOB, run_rows
from storage import deliveries, groups, people, schedules
from storage.deliveries import Delivery, Status
from storage.entities import Role
from storage.schedules import ScheduleKind
from tests import databases
from tests.fakebot import FakeTelegram
from tests.fakebot.faults import RandomFaults
from tests.fakebot.limits import TelegramLimits
from tests.harness import BACKEND, CATALOGUE, HANOI, Harness, Tree, started
from tests.test_announcements import _write

SEEDS = (7, 8, 9)
HEAVY_SEEDS = tuple(range(100, 110))
RATE = 0.2
MONDAY_0730 = dt.datetime(2026, 11, 30, 7, 30, tzinfo=HANOI)
FIRST_EXTRA = 900_000  # Telegram ids of the members added without the join form
# One leader per unit of the standard tree, members in the cells and the tổ.
PROVINCE_LEADER, COMMUNE_LEADER, OTHER_LEADER, CELL_LEADER, SIBLING_LEADER, GROUP_LEADER = (
    7001, 7002, 7003, 7004, 7005, 7006)
MAI, BINH, HANH, VY = 7101, 7102, 7103, 7104
TEXT = "Họp chi bộ lúc 19:30 thứ Hai tại nhà văn hóa thôn. Đề nghị các đồng chí dự đầy đủ."
SUBTREE = "Toàn bộ các đơn vị trực thuộc"


def _group_of(unit_id: int) -> int:
    return -1_007_000_000 - unit_id


def _extra_users(unit_id: int, count: int) -> list[int]:
    return [FIRST_EXTRA + unit_id * 10_000 + n for n in range(count)]


async def _add_people(bot: Harness, unit_id: int, count: int, role: Role) -> None:
    """People who joined earlier (written as the join form would): many, quickly."""
    async with bot.db.transaction() as tx:
        for n, user_id in enumerate(_extra_users(unit_id, count)):
            bot.fake.add_user(user_id, f"Đảng viên {n}")
            person = await people.add_person(tx, user_id, f"Nguyễn Văn {n}", "vi",
                                             bot.clock.now())
            await people.add_membership(tx, person.id, unit_id, role, None, bot.clock.now())


async def _province(bot: Harness, extra: int, role: Role = Role.MEMBER) -> Tree:
    """The standard tree with a leader in every unit, members in both cells and the tổ (`extra`
    more people with `role` in the cell), a group linked to every unit below the province,
    three reports in week 48, and every unit's schedule and jobs."""
    tree = await bot.tree()
    leaders = ((PROVINCE_LEADER, tree.province), (COMMUNE_LEADER, tree.commune),
               (OTHER_LEADER, tree.other_commune), (CELL_LEADER, tree.cell),
               (SIBLING_LEADER, tree.sibling_cell), (GROUP_LEADER, tree.group))
    for user_id, unit_id in leaders:
        await bot.appoint(user_id, unit_id, Role.LEADER, f"Bí thư {user_id}")
    for user_id, unit_id in ((MAI, tree.cell), (BINH, tree.cell), (HANH, tree.sibling_cell),
                             (VY, tree.group)):
        await bot.join(user_id, unit_id, f"Đảng viên {user_id}")
    await _add_people(bot, tree.cell, extra, role)
    for unit_id in (tree.commune, tree.other_commune, tree.cell, tree.sibling_cell, tree.group):
        bot.fake.add_group(_group_of(unit_id), f"Nhóm {unit_id}")
        async with bot.db.transaction() as tx:
            await groups.link(tx, unit_id, _group_of(unit_id))
    for user_id, unit_id in ((MAI, tree.cell), (HANH, tree.sibling_cell), (VY, tree.group)):
        await bot.stored_report(user_id, unit_id, state="acknowledged")
    await bot.app.job_queue.get_jobs_by_name(NEW_UNITS_JOB)[0].run(bot.app)
    return tree


def _with_faults(fake: FakeTelegram, bot: Harness, seed: int,
                 chats: set[int] | None = None) -> tuple[RandomFaults, TelegramLimits]:
    """From now on a fifth of the sends fail; Telegram's own limits are kept too (on the
    bot's virtual pacing clock), so a send the pacer let through too early would show."""
    faults = RandomFaults(rate=RATE, seed=seed, chats=chats)
    limits = TelegramLimits(clock=bot.pacing.stamp)
    fake.gates += [faults, limits]
    return faults, limits


def _expected_sends(rows: list[Delivery], uncharted: Collection[int] = ()
                    ) -> dict[int, Counter[tuple[str, str | None]]]:
    """Per chat, what its settled rows put there: a picture — a digest's chart (unless its
    unit is `uncharted`: nothing in eight weeks; to a leader only when the unit has no group),
    or a photo — with the text as caption when it fits, else the picture, then the text in
    parts."""
    grouped = {r.unit_id for r in rows if r.kind == "digest" and r.chat_id < 0}
    expected: dict[int, Counter[tuple[str, str | None]]] = {}
    for row in rows:
        sends = expected.setdefault(row.chat_id, Counter())
        charted = (row.kind == "digest" and row.unit_id not in uncharted
                   and (row.chat_id < 0 or row.unit_id not in grouped))
        if (charted or row.photo_id is not None) and fits_caption(row.text):
            sends["sendPhoto", row.text] += 1
            continue
        if charted or row.photo_id is not None:
            sends["sendPhoto", None] += 1
        for part in split_text(row.text):
            sends["sendMessage", part] += 1
    return expected


def _sends_taken(fake: FakeTelegram, mark: int,
                 chats: set[int]) -> dict[int, Counter[tuple[str, str | None]]]:
    """Per chat, the sends Telegram took (answered without error) since `mark`."""
    taken: dict[int, Counter[tuple[str, str | None]]] = {}
    for call in fake.calls[mark:]:
        if call.error or call.chat_id not in chats:
            continue
        if call.method == "sendMessage":
            taken.setdefault(call.chat_id, Counter())["sendMessage", call.params["text"]] += 1
        elif call.method == "sendPhoto":
            taken.setdefault(call.chat_id, Counter())["sendPhoto", call.params.get("caption")] += 1
    return taken


async def _assert_each_delivered_once(bot: Harness, mark: int, kinds: set[str],
                                      faults: RandomFaults, limits: TelegramLimits,
                                      uncharted: Collection[int] = ()) -> None:
    async with bot.db.transaction() as tx:
        rows = [r for r in await deliveries.in_ledger(tx) if r.kind in kinds]
        unsent = [(r.id, r.kind, r.chat_id, r.status.value, await deliveries.detail_of(tx, r.id))
                  for r in rows if r.status is not Status.SENT]
    where = faults.summary()
    assert rows, where
    assert faults.faults > 0, f"no fault happened: {where}"
    assert unsent == [], where
    expected = _expected_sends(rows, uncharted)
    taken = _sends_taken(bot.fake, mark, set(expected))
    for chat_id, sends in expected.items():
        assert taken.get(chat_id) == sends, f"chat {chat_id}, {where}"
    assert limits.refused == [], f"sent beyond Telegram's limits: {where}"
    print(where)


async def _run_digests(bot: Harness, tree: Tree) -> None:
    """Monday 07:30: every unit's digest job runs, as at its time."""
    bot.clock.moment = MONDAY_0730
    async with bot.db.transaction() as tx:
        rows = [r for r in await schedules.every_schedule(tx)
                if r.kind is ScheduleKind.DIGEST and r.unit_id in astuple(tree)]
    for row in rows:
        await run_rows(bot.app, [row.id])


async def _digest_run(tmp_path: Path, seed: int, extra: int) -> None:
    fake = FakeTelegram()
    async with started(tmp_path, fake=fake) as bot:
        # Every leader gets the digest privately: extra leaders are extra recipients.
        tree = await _province(bot, extra, Role.LEADER)
        mark = len(fake.calls)
        faults, limits = _with_faults(fake, bot, seed)
        await _run_digests(bot, tree)
        await bot.deliveries_settled(timeout=120)
        # The other commune has had no report: its digests go as words alone.
        await _assert_each_delivered_once(bot, mark, {"digest"}, faults, limits,
                                          uncharted={tree.other_commune})
        async with bot.db.transaction() as tx:
            leaders = {r.chat_id for r in await deliveries.in_ledger(tx, "digest")
                       if r.person_id is not None}
        assert leaders == {PROVINCE_LEADER, COMMUNE_LEADER, OTHER_LEADER, CELL_LEADER,
                           SIBLING_LEADER, GROUP_LEADER, *_extra_users(tree.cell, extra)}
    assert databases.integrity(BACKEND.location(tmp_path / "lantoa.sqlite3")) == ["ok"]


async def _announcement(tmp_path: Path, seed: int, extra: int) -> None:
    fake = FakeTelegram()
    async with started(tmp_path, fake=fake) as bot:
        tree = await _province(bot, extra)
        await _write(bot, COMMUNE_LEADER, audience=SUBTREE)
        # The author's own chat is spared: the form's answers are replies, not the broadcast.
        recipients = {u for u in fake.users if u != COMMUNE_LEADER} | {
            _group_of(u) for u in (tree.commune, tree.cell, tree.sibling_cell, tree.group)}
        mark = len(fake.calls)
        faults, limits = _with_faults(fake, bot, seed, chats=recipients)
        await bot.tap(COMMUNE_LEADER, "✅ Gửi")
        await bot.deliveries_settled(timeout=120)
        await _assert_each_delivered_once(bot, mark, {"announcement", "announcement_result"},
                                          faults, limits)
        people_reached = 4 + 3 + extra  # the cells' and the tổ's members, the leaders below
        vi = CATALOGUE.texts("vi")
        reached = vi.plain(
            "announce.count_both",
            people=vi.plain("announce.count_people", people=f"{people_reached}/{people_reached}"),
            groups=vi.plain("announce.count_groups", groups="4/4"))
        assert bot.screen(COMMUNE_LEADER) == vi.plain("announce.result", date="27/11/2026",
                                                      recipients=reached)
    assert databases.integrity(BACKEND.location(tmp_path / "lantoa.sqlite3")) == ["ok"]


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed-{s}")
async def test_a_digest_run_through_faults_delivers_each_message_once(
        tmp_path: Path, seed: int) -> None:
    await _digest_run(tmp_path, seed, extra=0)


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed-{s}")
async def test_an_announcement_through_faults_reaches_each_chat_once(
        tmp_path: Path, seed: int) -> None:
    await _announcement(tmp_path, seed, extra=20)


@pytest.mark.heavy
@pytest.mark.parametrize("seed", HEAVY_SEEDS, ids=lambda s: f"seed-{s}")
async def test_many_digests_and_announcements_through_faults(tmp_path: Path, seed: int) -> None:
    await _digest_run(tmp_path / "digest", seed, extra=300)
    await _announcement(tmp_path / "announcement", seed, extra=300)
