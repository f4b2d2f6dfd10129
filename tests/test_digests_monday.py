"""The whole way of a digest, as people see it: on Monday at 07:30 in Hà Nội the cell's job runs,
the group receives the chart with last week's figures under it (one message), each leader the
private version with a button to the review queue and one that shows the chart; the same job
again, or a restart, sends nothing more; and a member using the bot meanwhile is answered while
the chart is drawn."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from bot.flows import digests as digest_flow
from bot.flows.digests import digest_outgoing
from bot.rules.periods import Period
from bot.ui import charts
from handlers.schedules import NEW_UNITS_JOB, At, installed, run_rows
from storage import deliveries as ledger
from storage import groups, schedules
from storage.entities import Role
from storage.schedules import Every, ScheduleKind
from tests.harness import CATALOGUE, HANOI, Harness, Seen, Tree, as_read, started

SON, MAI, BINH, LAN = 6001, 6002, 6003, 6004
GROUP = -1006001
MONDAY_0730 = dt.datetime(2026, 11, 30, 7, 30, tzinfo=HANOI)
WEEK_48 = Period(dt.date(2026, 11, 23), dt.date(2026, 11, 29))
VI = CATALOGUE.texts("vi")



def title(unit: str) -> str:
    """Week 48's digest title of the unit, as its readers see it."""
    return as_read(VI("digest.title_week", week=48, dates="23/11–29/11/2026", unit=unit))


def said_to(bot: Harness, chat: int) -> frozenset[str]:
    """The catalogue keys of everything the bot has sent into a chat."""
    return frozenset().union(*(call.keys for call in bot.fake.calls
                               if call.params.get("chat_id") == chat and not call.error))


async def cell_with_a_week(bot: Harness) -> Tree:
    """Leader Sơn, members Mai, Bình and Lan; Mai and Bình report during week 48."""
    tree = await bot.tree()
    await bot.appoint(SON, tree.cell, Role.LEADER, "Sơn", "Hoàng Văn")
    for user, name in ((MAI, "Mai"), (BINH, "Bình"), (LAN, "Lan")):
        await bot.join(user, tree.cell, name)
    bot.fake.add_group(GROUP, "Chi bộ Thôn Bản Chặng")
    async with bot.db.transaction() as tx:
        await groups.link(tx, tree.cell, GROUP)
    await bot.report(MAI, "Sửa mái nhà dột cho một hộ nghèo trong thôn", photos=1)
    await bot.report(BINH, "Dọn vệ sinh đường làng cùng đoàn thanh niên", field="Môi trường")
    await bot.app.job_queue.get_jobs_by_name(NEW_UNITS_JOB)[0].run(bot.app)
    return tree


async def run_digest(bot: Harness, unit_id: int) -> None:
    async with bot.db.transaction() as tx:
        row = next(r for r in await schedules.of_unit(tx, unit_id)
                   if r.kind is ScheduleKind.DIGEST)
    await run_rows(bot.app, [row.id])
    await bot.deliveries_settled()


def group_messages(bot: Harness) -> list[dict]:
    return [m for m in bot.fake.messages(GROUP) if m.get("from", {}).get("is_bot")]


def words(message: dict) -> str:
    """A message's text, or a photo's caption."""
    return message.get("text") or message.get("caption") or ""


async def test_monday_morning_the_group_and_the_leader_get_last_weeks_digest(
        bot: Harness) -> None:
    tree = await cell_with_a_week(bot)
    bot.clock.moment = MONDAY_0730
    await run_digest(bot, tree.cell)

    [digest] = group_messages(bot)
    assert "photo" in digest, "the chart, the words under it"
    body = digest["caption"]
    assert body.startswith(title("Chi bộ Thôn Bản Chặng"))
    up = VI("digest.up", count=2, previous=VI.plain("digest.previous_week"))
    assert as_read(VI("digest.total", total=2, reported=2, expected=4, percent="50%",
                     change=up)) in body
    assert "Lan" not in body, "the group never hears who is missing"
    assert not said_to(bot, GROUP) & {"digest.not_reported", "digest.private_title"}

    private = [m for m in bot.fake.messages(SON)
               if words(m).startswith(title("Chi bộ Thôn Bản Chặng"))]
    assert len(private) == 1
    assert "photo" not in private[0], "the group has the chart: the leader's is a press away"
    assert "digest.not_reported" in said_to(bot, SON)
    assert "Lan" in private[0]["text"], "the leader learns who has not reported"
    assert ("✅ Ghi nhận báo cáo", "rv:first:0") in bot.fake.inline_buttons(private[0])
    members = [user for user in (MAI, BINH, LAN) if "digest.title_week" in said_to(bot, user)]
    assert members == [], "members read the digest in the group"
    chart = await bot.tap(SON, "📊 Xem biểu đồ")
    assert chart.methods() == ["sendPhoto"]
    [drawn] = [m for m in bot.fake.messages(SON) if "photo" in m]
    assert bot.fake.file_bytes(drawn["photo"][-1]["file_id"]) == bot.fake.file_bytes(
        digest["photo"][-1]["file_id"]), "the chart the group got"


async def test_the_digest_goes_out_once_however_often_its_job_runs(tmp_path: Path) -> None:
    async with started(tmp_path) as bot:
        tree = await cell_with_a_week(bot)
        bot.clock.moment = MONDAY_0730
        await run_digest(bot, tree.cell)
        await run_digest(bot, tree.cell)
        sent = len(group_messages(bot))
    # Restarted five minutes later, the catch-up finds the week's digest already in the ledger.
    async with started(tmp_path, fake=bot.fake,
                       now=MONDAY_0730 + dt.timedelta(minutes=5)) as again:
        await installed(again.app)
        await again.deliveries_settled()
        assert len(group_messages(again)) == sent == 1


async def test_a_digest_due_while_the_bot_was_down_goes_out_when_it_starts(
        tmp_path: Path) -> None:
    async with started(tmp_path) as bot:
        await cell_with_a_week(bot)
    async with started(tmp_path, fake=bot.fake,
                       now=MONDAY_0730 + dt.timedelta(hours=3)) as late:
        await installed(late.app)  # the catch-up runs once polling has started
        await late.deliveries_settled()
        [digest] = group_messages(late)
        assert digest["caption"].startswith(title("Chi bộ Thôn Bản Chặng"))


async def test_a_member_is_answered_while_the_digest_chart_is_drawn(
        bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = await cell_with_a_week(bot)
    bot.clock.moment = MONDAY_0730
    answers: list[Seen] = []
    draw = charts.bar_chart_png

    async def drawing_slowly(title: str, labels: list[str], values: list[int]) -> bytes:
        # Mai asks for help just as the chart is being drawn: her answer needs the database.
        answers.append(await asyncio.wait_for(bot.say(MAI, "/help"), timeout=5))
        return await draw(title, labels, values)

    monkeypatch.setattr(charts, "bar_chart_png", drawing_slowly)
    await run_digest(bot, tree.cell)
    assert answers and all(a.shows("help.member") for a in answers)
    assert len(group_messages(bot)) == 1


COMMUNE_GROUP, HUNG = -1006002, 6005


async def test_one_job_decides_every_digest_due_that_morning_and_the_others_none(
        bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """Monday's jobs all fire at 07:30: the first decides every unit's digest in one pass (here
    in chunks of one unit, as a province's are in chunks), each reads as its own unit's
    digest, and the other jobs of that moment, run together, decide nothing more."""
    monkeypatch.setattr(digest_flow, "DIGEST_CHUNK", 1)
    passes: list[set[int]] = []
    read = digest_flow.written_digests

    async def reading(tx, services, unit_ids, period, every):
        passes.append(set(unit_ids))
        return await read(tx, services, unit_ids, period, every)

    monkeypatch.setattr(digest_flow, "written_digests", reading)
    tree = await cell_with_a_week(bot)
    await bot.appoint(HUNG, tree.commune, Role.LEADER, "Hùng")
    bot.fake.add_group(COMMUNE_GROUP, "Đảng bộ xã Tràng Định")
    async with bot.db.transaction() as tx:
        await groups.link(tx, tree.commune, COMMUNE_GROUP)
        rows = [r for r in await schedules.every_schedule(tx) if r.kind is ScheduleKind.DIGEST]
    bot.clock.moment = MONDAY_0730
    assert len(rows) == 6
    [job] = bot.app.job_queue.get_jobs_by_name(At.of(rows[0]).name)  # Monday 07:30's
    await run_rows(bot.app, [r.id for r in reversed(rows)])  # the tổ's first
    await job.run(bot.app)  # again: nothing more
    await bot.deliveries_settled()
    assert passes == [{tree.province, tree.commune, tree.other_commune, tree.cell,
                       tree.sibling_cell, tree.group}], "one pass for all six units"

    async with bot.db.transaction() as tx:
        decided = await ledger.in_ledger(tx, "digest")
        alone = {u: await digest_outgoing(tx, bot.core.services, u, WEEK_48, Every.WEEK)
                 for u in (tree.cell, tree.commune)}
    assert sorted((d.unit_id, d.chat_id) for d in decided) == sorted(
        [(tree.cell, GROUP), (tree.cell, SON), (tree.commune, COMMUNE_GROUP),
         (tree.commune, HUNG)])
    for d in decided:  # word for word what the unit's digest alone says
        [same] = [o for o in alone[d.unit_id] if o.chat_id == d.chat_id]
        assert d.text == same.screen.text
    commune = [m for m in bot.fake.messages(COMMUNE_GROUP) if m.get("from", {}).get("is_bot")]
    assert [("photo" in m) for m in commune] == [True]
    assert commune[0]["caption"].startswith(title("Đảng bộ xã Tràng Định"))
    assert as_read(VI("digest.child", unit="Chi bộ Thôn Bản Chặng", total=2, reported=2,
                     expected=4)) in commune[0]["caption"], "the cell's reports roll up"


async def test_a_digest_that_cannot_be_drawn_costs_the_others_nothing(
        bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digest_flow, "DIGEST_CHUNK", 1)
    tree = await cell_with_a_week(bot)
    await bot.appoint(HUNG, tree.commune, Role.LEADER, "Hùng")
    draw = charts.bar_chart_png

    async def failing_for_the_commune(title: str, labels: list[str], values: list[int]) -> bytes:
        if "Tràng Định" in title:
            raise RuntimeError("the commune's chart cannot be drawn")
        return await draw(title, labels, values)

    monkeypatch.setattr(charts, "bar_chart_png", failing_for_the_commune)
    bot.clock.moment = MONDAY_0730
    await run_digest(bot, tree.commune)
    async with bot.db.transaction() as tx:
        decided = await ledger.in_ledger(tx, "digest")
    assert {(d.unit_id, d.chat_id) for d in decided} == {(tree.cell, GROUP), (tree.cell, SON)}
    assert len(group_messages(bot)) == 1


async def test_eight_empty_weeks_go_as_words_without_a_chart(bot: Harness) -> None:
    # Nobody in the cell has reported in week 48 nor in the seven weeks before it.
    tree = await bot.tree()
    await bot.appoint(SON, tree.cell, Role.LEADER, "Sơn", "Hoàng Văn")
    await bot.join(MAI, tree.cell, "Mai")
    bot.fake.add_group(GROUP, "Chi bộ Thôn Bản Chặng")
    async with bot.db.transaction() as tx:
        await groups.link(tx, tree.cell, GROUP)
    await bot.app.job_queue.get_jobs_by_name(NEW_UNITS_JOB)[0].run(bot.app)
    bot.clock.moment = MONDAY_0730
    await run_digest(bot, tree.cell)
    [text] = group_messages(bot)
    assert "photo" not in text and text["text"].startswith(title("Chi bộ Thôn Bản Chặng"))
    assert "digest.empty_week" in said_to(bot, GROUP)
    assert [m for m in bot.fake.messages(SON) if "photo" in m] == []
    assert "digest.private_title" in said_to(bot, SON)
    asked = await bot.say(SON, "/digest")
    assert asked.methods() == ["sendMessage"], "the words alone"


async def test_the_group_hears_the_number_and_only_the_leaders_hear_the_fall(
        bot: Harness) -> None:
    # Week 47: four reports; week 48: Mai's and Bình's two. 2 fewer.
    tree = await bot.tree()
    await bot.appoint(SON, tree.cell, Role.LEADER, "Sơn", "Hoàng Văn")
    for user, name in ((MAI, "Mai"), (BINH, "Bình")):
        await bot.join(user, tree.cell, name)
    bot.fake.add_group(GROUP, "Chi bộ Thôn Bản Chặng")
    async with bot.db.transaction() as tx:
        await groups.link(tx, tree.cell, GROUP)
    for day in (16, 17, 18, 19):
        await bot.stored_report(MAI, tree.cell,
                                received=dt.datetime(2026, 11, day, 10, tzinfo=HANOI))
    for user in (MAI, BINH):
        await bot.stored_report(user, tree.cell,
                                received=dt.datetime(2026, 11, 24, 10, tzinfo=HANOI))
    await bot.app.job_queue.get_jobs_by_name(NEW_UNITS_JOB)[0].run(bot.app)
    bot.clock.moment = MONDAY_0730
    await run_digest(bot, tree.cell)
    group = "\n".join(words(m) for m in group_messages(bot))
    assert as_read(VI("digest.total", total=2, reported=2, expected=3, percent="66,7%",
                      change="")) in group
    assert "giảm" not in group and "digest.down" not in said_to(bot, GROUP)
    down = VI("digest.down", count=2, previous=VI.plain("digest.previous_week"))
    leader = "\n".join(words(m) for m in bot.fake.messages(SON))
    assert as_read(VI("digest.total", total=2, reported=2, expected=3, percent="66,7%",
                      change=down)) in leader
