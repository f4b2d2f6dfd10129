"""📊 Digests: the group reads a warm summary of the week (or month) with a chart; each leader
reads the same privately plus who has not reported and what waits, with a button into the
review queue; a higher unit's digest has a line per child unit; private reports and the words
of any report stay out of the group; /digest shows the current period to leaders and
observers, and nobody else."""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import struct
import warnings
from pathlib import Path

import pytest

from bot.flows.digests import (
    REVIEW_QUEUE,
    DigestChart,
    PickDigest,
    UnitDigest,
    Writer,
    digest_outgoing,
)
from bot.rules import deliveries
from bot.rules.deliveries import Outgoing
from bot.rules.digests import gather
from bot.rules.periods import Period, key_of, month_of, week_of
from bot.ui import buttons, charts
from bot.ui.screens import visible_length
from handlers.schedules import installed
from storage import audit, groups, reviews, schedules
from storage import deliveries as ledger
from storage.deliveries import Status
from storage.entities import Role
from storage.schedules import Every, NewSchedule, ScheduleKind
from tests.fakebot import Call
from tests.harness import CATALOGUE, HANOI, Harness, Seen, Tree, as_read, started

MAI, BINH, HOA, SON, TUNG, LAN, STRANGER, ADMIN = 1001, 1002, 1003, 2001, 2002, 2003, 9999, 3001
GROUP = -100_500
D = dt.date
WEEK_48 = week_of(D(2026, 11, 23))  # 23/11–29/11/2026: the harness's Friday 27/11 is in it
WEEK_47 = week_of(D(2026, 11, 16))
VI = CATALOGUE.texts("vi")
CELL = "Chi bộ Thôn Bản Chặng"
COMMUNE = "Đảng bộ xã Tràng Định"
WEEK_48_DATES = "23/11–29/11/2026"


def chart_of(unit_id: int, period: Period = WEEK_48, every: Every = Every.WEEK) -> str:
    """The data of the 📊 Xem biểu đồ button of the unit's digest of `period`."""
    return DigestChart(unit_id, every.value, period.first.toordinal()).pack()


def up(count: int, previous: str = "digest.previous_week") -> str:
    return VI("digest.up", count=count, previous=VI.plain(previous))


def total(count: int, reported: int, expected: int, percent: str, change: str) -> str:
    """The digest's line of how many deeds, by how many of the unit (as the reader sees it)."""
    return as_read(VI("digest.total", total=count, reported=reported, expected=expected,
                     percent=percent, change=change))



def says(key: str, **params: object) -> str:
    """What `key` says, with these values, as the reader sees it."""
    return as_read(VI(key, **params))


def keys(bot: Harness, item: Outgoing) -> frozenset[str]:
    """The catalogue keys of what the item says."""
    assert bot.fake.key_source is not None
    return bot.fake.key_source(item.screen.text)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), HANOI)


async def highlight(bot: Harness, report_id: int, leader: int, when: dt.datetime) -> None:
    """A leader pressed ⭐ Nêu gương on the report at `when`."""
    leader_id = await bot.person_id(leader)
    async with bot.db.transaction() as tx:
        await reviews.add_review(tx, report_id, leader_id, reviews.HIGHLIGHT, None, when)


async def outgoing(bot: Harness, unit_id: int, period: Period = WEEK_48,
                   every: Every = Every.WEEK) -> list[Outgoing]:
    async with bot.db.transaction() as tx:
        return await digest_outgoing(tx, bot.core.services, unit_id, period, every)


def plain(item: Outgoing) -> str:
    """The message as its reader sees it."""
    return html.unescape(re.sub(r"<[^>]+>", "", item.screen.text))


def to_group(items: list[Outgoing]) -> Outgoing:
    [found] = [i for i in items if i.chat_id == GROUP]
    return found


def to_person(items: list[Outgoing], user_id: int) -> Outgoing:
    [found] = [i for i in items if i.chat_id == user_id]
    return found


async def link_group(bot: Harness, unit_id: int, chat_id: int = GROUP) -> None:
    async with bot.db.transaction() as tx:
        await groups.link(tx, unit_id, chat_id)


async def cell_week(bot: Harness) -> Tree:
    """Chi bộ Thôn Bản Chặng with Mai and Bình, Hoa in its Tổ đảng số 1 and Sơn its secretary;
    its group linked. Week 48: three reports (one of them Hoa's in the tổ, one by Mai with
    Bình); week 47: one."""
    tree = await bot.tree()
    await bot.join(MAI, tree.cell, "Hoàng Thị Mai")
    await bot.join(BINH, tree.cell, "Nông Văn Bình")
    await bot.join(HOA, tree.group, "Lý Thị Hoa")
    await bot.appoint(SON, tree.cell, Role.LEADER, "Hoàng Văn Sơn")
    await link_group(bot, tree.cell)
    await bot.stored_report(MAI, tree.cell, received=at(D(2026, 11, 24)),
                            field="An sinh xã hội, giảm nghèo", together=(BINH,), households=1,
                            helped=4, value=2_000_000, state="acknowledged")
    await bot.stored_report(BINH, tree.cell, received=at(D(2026, 11, 26)), field="Môi trường",
                            households=2, helped=5, value=500_000)
    await bot.stored_report(HOA, tree.group, received=at(D(2026, 11, 29), 23), field="Môi trường",
                            state="needs_more")
    await bot.stored_report(MAI, tree.cell, received=at(D(2026, 11, 18)), field="Kinh tế")
    # Withdrawn, and received the week after: neither is in week 48.
    await bot.stored_report(BINH, tree.cell, received=at(D(2026, 11, 25)), state="withdrawn")
    await bot.stored_report(MAI, tree.cell, received=at(D(2026, 11, 30), 0), deed=D(2026, 11, 28))
    return tree


# --- the scheduled digest ---------------------------------------------------------------------


async def test_the_group_reads_the_week_warmly(bot: Harness) -> None:
    tree = await cell_week(bot)
    items = await outgoing(bot, tree.cell)
    group = to_group(items)
    text = plain(group)
    assert text.startswith(says("digest.title_week", week=48, dates=WEEK_48_DATES,
                                unit=CELL))
    # Mai, Bình and Hoa took part; Sơn (who reports where he leads) did not: 3 of 4.
    assert total(3, 3, 4, "75%", up(2)) in text
    assert "• Môi trường 2 · An sinh xã hội, giảm nghèo 1" in text
    assert "• Hỗ trợ 3 hộ, 9 người; giá trị 2.500.000 đ" in text
    # The cell has a tổ: a line for it, and one for the cell's own reports.
    assert says("digest.child", unit="Tổ đảng số 1", total=1, reported=1,
                expected=1) in text
    assert says("digest.own", unit=CELL, total=2) in text
    said = keys(bot, group)
    assert "Sơn" not in text, "who has not reported is private"
    assert not said & {"digest.private_title", "digest.waiting", "digest.not_reported"}
    assert group.person_id is None and group.screen.buttons == ()
    assert group.screen.image is not None and group.screen.image.startswith(b"\x89PNG")


async def test_the_change_against_the_week_before(bot: Harness) -> None:
    tree = await cell_week(bot)
    fewer = await outgoing(bot, tree.cell, week_of(D(2026, 11, 30)))
    # Week 49 so far holds the one received on Monday 30/11 at 00:00: 2 fewer, which only the
    # leader reads; the group reads the number.
    down = VI("digest.down", count=2, previous=VI.plain("digest.previous_week"))
    assert total(1, 1, 4, "25%", down) in plain(to_person(fewer, SON))
    assert total(1, 1, 4, "25%", "") in plain(to_group(fewer))
    assert "giảm" not in plain(to_group(fewer))
    await bot.stored_report(BINH, tree.cell, received=at(D(2026, 11, 17)))
    await bot.stored_report(HOA, tree.group, received=at(D(2026, 11, 19)))
    same = plain(to_group(await outgoing(bot, tree.cell)))
    assert total(3, 3, 4, "75%", VI("digest.same", previous=VI.plain("digest.previous_week"))) \
        in same
    monthly = plain(to_group(await outgoing(bot, tree.cell, month_of(D(2026, 11, 1)),
                                            Every.MONTH)))
    assert monthly.startswith(says("digest.title_month", month="11/2026", unit=CELL))
    assert total(7, 3, 4, "75%", up(7, "digest.previous_month")) in monthly


async def test_a_quiet_week_is_said_kindly(bot: Harness) -> None:
    tree = await cell_week(bot)
    quiet = to_group(await outgoing(bot, tree.cell, week_of(D(2026, 11, 9))))
    text = plain(quiet)
    assert {"digest.empty_week", "digest.encourage"} <= keys(bot, quiet)
    assert "digest.total" not in keys(bot, quiet)
    assert " 0 " not in text and "0 việc" not in text


async def test_a_commune_rolls_up_its_cells_and_names_the_quiet_ones_only_privately(
        bot: Harness) -> None:
    tree = await cell_week(bot)
    await link_group(bot, tree.commune, GROUP - 1)
    await bot.appoint(TUNG, tree.commune, Role.LEADER, "Tùng")
    items = await outgoing(bot, tree.commune)
    posted = next(i for i in items if i.chat_id == GROUP - 1)
    group = plain(posted)
    assert says("digest.title_week", week=48, dates=WEEK_48_DATES, unit=COMMUNE) in group
    cell_line = says("digest.child", unit=CELL, total=3, reported=3, expected=4)
    assert cell_line in group
    assert "Nà Pá" not in group, "a unit with nothing is not shown in the group"
    assert "digest.own" not in keys(bot, posted), "the commune itself has no report of its own"
    private = plain(to_person(items, TUNG))
    assert cell_line in private
    assert says("digest.quiet_units", units="Chi bộ Thôn Nà Pá") in private
    # Tùng leads the commune without a member role: he reports there, and has not yet.
    assert total(3, 3, 5, "60%", up(2)) in group
    assert says("digest.not_reported", count=2, names="Hoàng Văn Sơn, Tùng") in private


async def test_each_leader_reads_the_private_part_with_a_button_to_review(bot: Harness) -> None:
    tree = await cell_week(bot)
    await bot.appoint(LAN, tree.cell, Role.LEADER, "Lan")
    async with bot.db.transaction() as tx:
        await tx.run("UPDATE people SET unreachable = 1 WHERE telegram_user_id = ?", (LAN,))
    items = await outgoing(bot, tree.cell)
    assert sorted(i.chat_id for i in items) == sorted([GROUP, SON]), "Lan blocked the bot"
    mine = to_person(items, SON)
    assert mine.person_id == await bot.person_id(SON)
    text = plain(mine)
    assert text.startswith(says("digest.title_week", week=48, dates=WEEK_48_DATES,
                                unit=CELL))
    # Lan still reports in the cell she leads, and has not yet: 3 of 5.
    assert total(3, 3, 5, "60%", up(2)) in text
    assert "digest.private_title" in keys(bot, mine)
    # One waits for acknowledgment; the one sent back for more waits for its author.
    assert says("digest.waiting", count=1) in text
    assert says("digest.sent_back", count=1) in text
    assert says("digest.not_reported", count=2, names="Hoàng Văn Sơn, Lan") in text
    assert [[(b.label, b.data) for b in row] for row in mine.screen.buttons] == [
        [("✅ Ghi nhận báo cáo", REVIEW_QUEUE.pack())], [("📊 Xem biểu đồ", chart_of(tree.cell))]]
    assert mine.screen.image is None, "the group gets the chart: his is one press away"


async def test_a_unit_without_group_or_reachable_leader_gets_nothing(bot: Harness) -> None:
    tree = await bot.tree()
    await bot.join(MAI, tree.sibling_cell, "Mai")
    assert await outgoing(bot, tree.sibling_cell) == []


async def test_the_leaders_button_opens_the_review_queue(bot: Harness) -> None:
    tree = await cell_week(bot)
    items = await outgoing(bot, tree.cell)
    async with bot.db.transaction() as tx:
        assert await deliveries.queue(tx, bot.clock.now(), "digest", tree.cell,
                                      key_of(WEEK_48), items) == 2
        assert await deliveries.queue(tx, bot.clock.now(), "digest", tree.cell,
                                      key_of(WEEK_48), items) == 0, "decided once"
        rows = await ledger.in_ledger(tx, "digest")
    assert {r.chat_id for r in rows} == {GROUP, SON}
    theirs = next(r for r in rows if r.chat_id == GROUP)
    assert theirs.photo is not None and theirs.photo.startswith(b"\x89PNG")
    mine = next(r for r in rows if r.chat_id == SON)
    assert mine.photo is None
    assert mine.buttons == ((("✅ Ghi nhận báo cáo", REVIEW_QUEUE.pack()),),
                            (("📊 Xem biểu đồ", chart_of(tree.cell)),))
    # The paced sender shows it as a message of the bot; the press lands in the review flow.
    sent = await bot.app.bot.send_message(SON, mine.text)
    seen = await bot.press_data(SON, sent.message_id, REVIEW_QUEUE.pack(), check_button=False)
    assert seen.shows("review.title", position=1, total=3, name="Hoàng Thị Mai",
                      date="18/11/2026", field="Kinh tế")


# --- one message where it can be ----------------------------------------------------------------


async def sent(bot: Harness, unit_id: int, items: list[Outgoing]) -> dict[int, list[Call]]:
    """The items decided as the scheduler decides them and sent by the paced sender: the
    calls Telegram took, by chat."""
    if any(i.chat_id == GROUP for i in items):
        bot.fake.add_group(GROUP, CELL)
    mark = len(bot.fake.calls)
    async with bot.db.transaction() as tx:
        assert await deliveries.queue(tx, bot.clock.now(), "digest", unit_id, key_of(WEEK_48),
                                      items) == len(items)
    bot.core.services.outbox.notify()
    await bot.deliveries_settled()
    async with bot.db.transaction() as tx:
        rows = await ledger.in_ledger(tx, "digest")
    assert [r.status for r in rows] == [Status.SENT] * len(items)
    found: dict[int, list[Call]] = {}
    for call in bot.fake.calls[mark:]:
        if not call.error and call.method in ("sendMessage", "sendPhoto"):
            found.setdefault(call.chat_id or 0, []).append(call)
    return found


async def test_the_group_gets_one_message_and_the_leader_the_words_with_the_chart_a_press_away(
        bot: Harness) -> None:
    tree = await cell_week(bot)
    items = await outgoing(bot, tree.cell)
    calls = await sent(bot, tree.cell, items)
    [chart] = calls[GROUP]
    assert chart.method == "sendPhoto"
    assert chart.params["caption"] == to_group(items).screen.text
    assert chart.params["parse_mode"] == "HTML"
    [words] = calls[SON]
    assert words.method == "sendMessage"
    assert words.params["text"] == to_person(items, SON).screen.text
    assert bot.buttons(SON) == ["✅ Ghi nhận báo cáo", "📊 Xem biểu đồ"]
    drawn = await bot.tap(SON, "📊 Xem biểu đồ")
    assert drawn.methods() == ["sendPhoto"] and "caption" not in drawn.calls[0].params
    assert drawn.calls[0].files["photo"] == to_group(items).screen.image, "that unit's week"
    again = await bot.tap(SON, "📊 Xem biểu đồ")
    assert again.methods() == ["sendPhoto"], "the button stays: pressed again, drawn again"


async def test_a_leader_of_a_unit_without_group_gets_the_chart_with_the_words(
        bot: Harness) -> None:
    tree = await cell_week(bot)
    await bot.appoint(LAN, tree.group, Role.LEADER, "Lan")
    items = await outgoing(bot, tree.group)
    assert [i.chat_id for i in items] == [LAN], "the tổ has no group"
    [chart] = (await sent(bot, tree.group, items))[LAN]
    assert chart.method == "sendPhoto"
    assert chart.params["caption"] == to_person(items, LAN).screen.text
    assert "digest.private_title" in chart.keys
    assert bot.buttons(LAN) == ["✅ Ghi nhận báo cáo"], "no chart button: the chart is there"


async def test_a_digest_too_long_for_a_caption_goes_as_the_chart_then_the_words(
        bot: Harness) -> None:
    tree = await cell_week(bot)
    for n in range(1, 11):
        name = f"Tổ đảng số {n + 1} — Khu dân cư Nà Slám, Bản Chặng & Pác Lạn, Tràng Định"
        child = await bot.unit(name, kind="tổ đảng", parent=tree.cell)
        await bot.stored_report(MAI, child, received=at(D(2026, 11, 25)))
    items = await outgoing(bot, tree.cell)
    group = to_group(items)
    assert visible_length(group.screen.text) > 1024
    calls = await sent(bot, tree.cell, items)
    assert [c.method for c in calls[GROUP]] == ["sendPhoto", "sendMessage"]
    assert "caption" not in calls[GROUP][0].params
    assert calls[GROUP][1].params["text"] == group.screen.text
    assert [c.method for c in calls[SON]] == ["sendMessage"], "the chart is the group's"
    assert bot.buttons(SON) == ["✅ Ghi nhận báo cáo", "📊 Xem biểu đồ"]


async def test_a_leader_without_group_whose_digest_is_long_gets_the_chart_one_press_away(
        bot: Harness) -> None:
    tree = await cell_week(bot)
    await bot.appoint(LAN, tree.group, Role.LEADER, "Lan")
    for n in range(1, 11):
        name = f"Nhóm số {n + 1} — Khu dân cư Nà Slám, Bản Chặng & Pác Lạn, Tràng Định"
        child = await bot.unit(name, kind="tổ đảng", parent=tree.group)
        await bot.stored_report(MAI, child, received=at(D(2026, 11, 25)))
    items = await outgoing(bot, tree.group)
    text = to_person(items, LAN).screen.text
    assert visible_length(text) > 1024
    calls = (await sent(bot, tree.group, items))[LAN]
    # One message, not the chart then the words (Telegram's 30 a second are everyone's).
    assert [c.method for c in calls] == ["sendMessage"] and calls[0].params["text"] == text
    assert bot.buttons(LAN) == ["✅ Ghi nhận báo cáo", "📊 Xem biểu đồ"]
    drawn = await bot.tap(LAN, "📊 Xem biểu đồ")
    assert drawn.methods() == ["sendPhoto"]


async def test_the_chart_button_is_checked_again_when_pressed(bot: Harness) -> None:
    tree = await cell_week(bot)
    await sent(bot, tree.cell, await outgoing(bot, tree.cell))
    message_id, data = bot.button(SON, "📊 Xem biểu đồ")
    assert data == chart_of(tree.cell)

    async def press(user_id: int, data: str) -> Seen:
        last = bot.fake.last_message(user_id)
        assert last is not None
        seen = await bot.press_data(user_id, message_id if user_id == SON else last["message_id"],
                                    data, check_button=False)
        assert "sendPhoto" not in seen.methods(), data
        return seen

    for unit in (tree.other_commune, tree.commune):  # another commune's, the one above his
        assert (await press(SON, chart_of(unit))).shows("access.denied")
    assert (await press(MAI, chart_of(tree.cell))).shows("access.denied"), "a member"
    next_week = chart_of(tree.cell, week_of(D(2026, 11, 30)))
    assert (await press(SON, next_week)).shows("digest.chart_future")
    next_month = chart_of(tree.cell, month_of(D(2026, 12, 1)), Every.MONTH)
    assert (await press(SON, next_month)).shows("digest.chart_future")
    assert (await press(SON, chart_of(tree.cell, week_of(D(2020, 1, 6))))).shows(
        "digest.chart_empty"), "eight empty weeks: no chart of zeros"
    assert (await press(SON, chart_of(999_999))).shows("digest.not_found")
    for garbled in ("dg:c:1:year:739943", "dg:c:x:week:739943", "dg:c:1:week:0",
                    "dg:c:1:week", "dg:c:1:week:739943:1", "dg:c:1:week:" + "9" * 30,
                    f"dg:c:{tree.cell}:week:-739943"):
        assert (await press(SON, garbled)).shows("digest.stale"), garbled
    below = await bot.press_data(SON, message_id, chart_of(tree.group), check_button=False)
    assert below.methods() == ["sendPhoto"], "the tổ below him: allowed"
    monthly = await bot.press_data(SON, message_id, chart_of(tree.cell, month_of(D(2026, 11, 1)),
                                                             Every.MONTH), check_button=False)
    assert monthly.methods() == ["sendPhoto"], "this month so far"
    async with bot.db.transaction() as tx:
        refused = {e["detail"] for e in await audit.entries(tx, "refused")
                   if e["subject"] == "digest"}
    assert refused >= {f"unit:{tree.other_commune}", f"unit:{tree.commune}"}


# --- examples: highlights, photos, privacy -----------------------------------------------------


async def test_highlights_come_first_and_private_ones_stay_out_of_the_group(
        bot: Harness) -> None:
    tree = await cell_week(bot)
    marked = await bot.stored_report(BINH, tree.cell, received=at(D(2026, 11, 25)),
                                     words="Sửa mái nhà dột cho hộ bà Lăng Thị Hoa",
                                     field="An sinh xã hội, giảm nghèo", together=(MAI,))
    secret = await bot.stored_report(MAI, tree.cell, received=at(D(2026, 11, 25)),
                                     words="Giúp ông Hoàng Văn Tư chữa bệnh", private=True,
                                     photos=2)
    await bot.stored_report(HOA, tree.group, received=at(D(2026, 11, 27)), photos=1,
                            value=90_000_000)
    await highlight(bot, marked, SON, at(D(2026, 11, 26)))
    await highlight(bot, secret, SON, at(D(2026, 11, 26), 11))
    items = await outgoing(bot, tree.cell)
    group = plain(to_group(items))
    example = says("digest.example", name="Nông Văn Bình",
                   together=VI("digest.together", count=1), field="An sinh xã hội, giảm nghèo",
                   model="", date="25/11/2026")
    # The one example, last: neither the words nor the private one.
    assert group.endswith(f"{says('digest.highlights_title')}\n{example}")
    assert "Lăng Thị Hoa" not in group and "mái nhà" not in group, "never the words, the helped"
    assert "Tư" not in group, "a private report never"
    assert "digest.photos_title" not in keys(bot, to_group(items)), \
        "highlights first; photos only without them"
    private = plain(to_person(items, SON))
    assert "Sửa mái nhà dột cho hộ bà Lăng Thị Hoa" in private
    assert says("digest.words", text="Giúp ông Hoàng Văn Tư chữa bệnh",
                private=VI("digest.private_mark")) in private


async def test_an_unmarked_or_earlier_highlight_does_not_count(bot: Harness) -> None:
    tree = await cell_week(bot)
    old = await bot.stored_report(BINH, tree.cell, received=at(D(2026, 11, 10)))
    await highlight(bot, old, SON, at(D(2026, 11, 12)))
    undone = await bot.stored_report(MAI, tree.cell, received=at(D(2026, 11, 25)))
    await highlight(bot, undone, SON, at(D(2026, 11, 25), 11))
    son = await bot.person_id(SON)
    async with bot.db.transaction() as tx:
        await reviews.add_review(tx, undone, son, reviews.UNHIGHLIGHT, None,
                                 at(D(2026, 11, 25), 12))
    assert "digest.highlights_title" not in keys(bot, to_group(await outgoing(bot, tree.cell)))


async def test_without_highlights_the_newest_public_reports_with_photos(bot: Harness) -> None:
    tree = await cell_week(bot)
    await bot.stored_report(MAI, tree.cell, received=at(D(2026, 11, 23)), photos=1, field="Văn hóa")
    await bot.stored_report(BINH, tree.cell, received=at(D(2026, 11, 27)), photos=3,
                            field="Kinh tế", value=50_000_000)
    await bot.stored_report(HOA, tree.group, received=at(D(2026, 11, 28)), photos=2, private=True)
    await bot.stored_report(HOA, tree.group, received=at(D(2026, 11, 28), 11), photos=2,
                            state="withdrawn")
    await bot.stored_report(MAI, tree.cell, received=at(D(2026, 11, 28), 12),
                            field="Quốc phòng – an ninh")
    group = plain(to_group(await outgoing(bot, tree.cell)))
    examples = [says("digest.example", name=name, together="", field=field, model="",
                     date=day)
                for name, field, day in (("Nông Văn Bình", "Kinh tế", "27/11/2026"),
                                         ("Hoàng Thị Mai", "Văn hóa", "23/11/2026"))]
    title = says("digest.photos_title")
    assert "\n".join([title, *examples]) in group, "newest first"
    assert "Quốc phòng" not in group.split(title)[1], "no photo, no example"
    assert "Lý Thị Hoa" not in group, "private and withdrawn ones never"


# --- /digest ----------------------------------------------------------------------------------


async def test_a_leader_asks_for_this_weeks_digest(bot: Harness) -> None:
    await cell_week(bot)
    seen = await bot.say(SON, "/digest")
    assert seen.methods() == ["sendPhoto"], "the chart, the words under it"
    [sent] = seen.calls
    assert seen.text and len(sent.params["caption"]) < 1024
    assert seen.shows("digest.title_week", week=48, dates=WEEK_48_DATES, unit=CELL)
    assert seen.shows("digest.as_of", time="09:00", day="27/11/2026")
    assert seen.shows("digest.total", total=3, reported=3, expected=4, percent="75%",
                      change=up(2))
    assert seen.shows("digest.not_reported", count=1, names="Hoàng Văn Sơn")
    assert bot.buttons(SON) == ["✅ Ghi nhận báo cáo", "🏢 Tổ đảng số 1"]
    queue = await bot.tap(SON, "✅ Ghi nhận báo cáo")
    assert queue.shows("review.title", position=1, total=3, name="Hoàng Thị Mai",
                       date="18/11/2026", field="Kinh tế")


async def test_the_words_still_come_when_telegram_refuses_the_chart(bot: Harness) -> None:
    await cell_week(bot)
    bot.fake.fail_next("sendPhoto", status=400, chat_id=SON,
                       description="Bad Request: IMAGE_PROCESS_FAILED")
    seen = await bot.say(SON, "/digest")
    [refused] = [c for c in bot.fake.calls_to("sendPhoto") if c.chat_id == SON]
    assert refused.error and refused.params["caption"]
    assert seen.methods() == ["sendMessage"], "the words alone"
    assert seen.shows("digest.title_week", week=48, dates=WEEK_48_DATES, unit=CELL)
    assert bot.buttons(SON) == ["✅ Ghi nhận báo cáo", "🏢 Tổ đảng số 1"]


async def test_an_observer_reads_a_monthly_digest_without_the_review_button(
        bot: Harness) -> None:
    # The start-up gives units their standard rows in the background: once it is done, the
    # commune made below has none, and its digest is the monthly one added here.
    await installed(bot.app)
    tree = await cell_week(bot)
    await bot.appoint(LAN, tree.commune, Role.OBSERVER, "Lan")
    async with bot.db.transaction() as tx:
        await schedules.add(tx, NewSchedule(unit_id=tree.commune, kind=ScheduleKind.DIGEST,
                                            every=Every.MONTH, month_day=1,
                                            at=dt.time(7, 30)), bot.clock.now())
    seen = await bot.say(LAN, "/digest")
    assert seen.methods() == ["sendPhoto"]
    assert seen.shows("digest.title_month", month="11/2026", unit=COMMUNE)
    assert seen.shows("digest.child", unit=CELL, total=5, reported=3, expected=4)
    assert seen.shows("digest.quiet_units", units="Chi bộ Thôn Nà Pá")
    assert bot.buttons(LAN) == ["🏢 Chi bộ Thôn Bản Chặng", "🏢 Chi bộ Thôn Nà Pá"], "no review"


async def test_members_and_strangers_are_refused_politely(bot: Harness) -> None:
    await cell_week(bot)
    member = await bot.say(MAI, "/digest")
    assert member.methods() == ["sendMessage"]
    assert member.shows("access.denied")
    bot.person(STRANGER, "Khách")
    stranger = await bot.say(STRANGER, "/digest")
    assert stranger.shows("access.not_member")
    async with bot.db.transaction() as tx:
        refused = [e for e in await audit.entries(tx, "refused") if e["subject"] == "digest"]
    assert len(refused) == 2


async def test_forged_and_garbled_presses(bot: Harness) -> None:
    tree = await cell_week(bot)
    await bot.say(SON, "/digest")
    message_id, _ = bot.button(SON, "✅ Ghi nhận báo cáo")
    other = await bot.press_data(SON, message_id, f"dg:u:{tree.other_commune}",
                                 check_button=False)
    assert other.shows("access.denied")
    assert other.methods() == []
    above = await bot.press_data(SON, message_id, f"dg:u:{tree.commune}", check_button=False)
    assert above.shows("access.denied")
    for garbled in ("dg:u:abc", "dg:u:", "dg:zz:1", "dg:u:1:2", "dg:u:" + "9" * 40):
        seen = await bot.press_data(SON, message_id, garbled, check_button=False)
        assert seen.shows("digest.stale"), garbled
    gone = await bot.press_data(SON, message_id, "dg:u:999999", check_button=False)
    assert gone.shows("digest.not_found")
    last = bot.fake.last_message(MAI)
    assert last is not None
    member = await bot.press_data(MAI, last["message_id"], f"dg:u:{tree.cell}",
                                  check_button=False)
    assert member.shows("access.denied")
    own = await bot.press_data(SON, message_id, f"dg:u:{tree.group}", check_button=False)
    assert own.shows("digest.title_week", week=48, dates=WEEK_48_DATES, unit="Tổ đảng số 1"), \
        "below him: allowed"
    async with bot.db.transaction() as tx:
        rows = [e for e in await audit.entries(tx, "refused") if e["subject"] == "digest"]
    assert {r["detail"] for r in rows} >= {f"unit:{tree.other_commune}", f"unit:{tree.commune}"}


async def test_a_press_in_a_group_is_not_answered_there(bot: Harness) -> None:
    tree = await cell_week(bot)
    bot.fake.add_group(GROUP, "Chi bộ Thôn Bản Chặng")
    posted = await bot.app.bot.send_message(GROUP, "📊 TỔNG HỢP TUẦN 48")
    update_id = bot.fake.press(SON, posted.message_id, f"dg:u:{tree.cell}", GROUP,
                               check_button=False)
    mark = len(bot.fake.calls)
    seen = await bot.after(update_id, mark)
    assert seen.shows("fallback.private_only")
    assert seen.methods() == []


async def test_someone_with_two_separate_units_picks_one(bot: Harness) -> None:
    tree = await cell_week(bot)
    await bot.appoint(TUNG, tree.cell, Role.LEADER, "Tùng")
    await bot.appoint(TUNG, tree.other_commune, Role.OBSERVER, "Tùng")
    seen = await bot.say(TUNG, "/digest")
    assert seen.shows("digest.pick")
    assert bot.buttons(TUNG) == ["Chi bộ Thôn Bản Chặng", "Đảng bộ phường Hoàng Văn Thụ"]
    chosen = await bot.tap(TUNG, "Đảng bộ phường Hoàng Văn Thụ")
    assert chosen.methods() == ["sendMessage"], "no reports in eight weeks: no chart of zeros"
    assert chosen.shows("digest.title_week", week=48, dates=WEEK_48_DATES,
                        unit="Đảng bộ phường Hoàng Văn Thụ")
    assert chosen.shows("digest.empty_week")
    assert bot.buttons(TUNG) == ["🏛 Đơn vị khác"], "an observer reviews nothing"
    again = await bot.tap(TUNG, "🏛 Đơn vị khác")
    assert again.shows("digest.pick")


async def test_a_chart_with_its_words_is_not_redrawn_in_place(bot: Harness) -> None:
    """A digest shown as its chart with the words under it has no text to edit: the picker
    asked from it comes as a new message."""
    tree = await cell_week(bot)
    await bot.appoint(TUNG, tree.cell, Role.LEADER, "Tùng")
    await bot.appoint(TUNG, tree.other_commune, Role.OBSERVER, "Tùng")
    await bot.say(TUNG, "/digest")
    chosen = await bot.tap(TUNG, CELL)
    assert chosen.methods() == ["sendPhoto"]
    assert chosen.shows("digest.title_week", week=48, dates=WEEK_48_DATES, unit=CELL)
    again = await bot.tap(TUNG, "🏛 Đơn vị khác")
    assert again.methods() == ["sendMessage"] and again.shows("digest.pick")
    assert bot.buttons(TUNG) == [CELL, "Đảng bộ phường Hoàng Văn Thụ"]


async def test_an_admin_sees_the_top_units(tmp_path: Path) -> None:
    async with started(tmp_path, admins=[ADMIN]) as bot:
        await bot.tree()
        bot.person(ADMIN, "Quản trị")
        seen = await bot.say(ADMIN, "/digest")
        assert seen.shows("digest.title_week", week=48, dates=WEEK_48_DATES,
                          unit="Đảng bộ tỉnh Lạng Sơn")


def test_callback_data_is_read_defensively() -> None:
    assert buttons.read("dg:u:12") == UnitDigest(12)
    assert buttons.read("dg:pick:0") == PickDigest(0)
    for bad in ("", "dg", "dg:u", "dg:u:x", "dg:u:-1", "dg:del:1", "rv:u:1", "dg:u:1:1"):
        assert buttons.read(bad) is None, bad
    assert REVIEW_QUEUE.pack() == "rv:first:0"


# --- the chart --------------------------------------------------------------------------------


def _png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_the_chart_is_a_small_png_with_every_vietnamese_letter() -> None:
    title = ("Chi bộ Thôn Bản Chặng — việc làm theo Bác: ắ ằ ẳ ẵ ặ ấ ầ ẩ ẫ ậ ế ề ể ễ ệ ố ồ ổ ỗ ộ "
             "ớ ờ ở ỡ ợ ứ ừ ử ữ ự ỳ ỷ ỹ ỵ Đ đ Ơ Ư")
    labels = [f"T{week}\n{day}–{day + 6}/11" for week, day in zip(range(41, 49), range(1, 24, 3),
                                                                  strict=True)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = charts.bar_chart(title, labels, [3, 7, 0, 12, 9, 5, 12, 15])
    assert _png_size(data) == (charts.WIDTH_PX, charts.HEIGHT_PX)
    assert len(data) < 100_000


def test_a_chart_owes_nothing_to_the_charts_drawn_before_it() -> None:
    """Charts reuse one figure per number of bars: what one drew must not show in the next."""
    weeks = [f"T{week}" for week in range(41, 49)]
    first = charts.bar_chart("Chi bộ Thôn Bản Chặng — việc làm theo Bác", weeks,
                             [3, 7, 0, 12, 9, 5, 12, 15])
    charts.bar_chart("Đảng bộ tỉnh Lạng Sơn — một tên rất dài, đủ dài để xuống dòng khi vẽ"
                     " biểu đồ của cả tỉnh", [w + "\n01–07/11" for w in weeks], [5049] * 8)
    charts.bar_chart("Chi bộ Thôn Nà Pá", ["10/2026", "11/2026"], [0, 4])
    again = charts.bar_chart("Chi bộ Thôn Bản Chặng — việc làm theo Bác", weeks,
                             [3, 7, 0, 12, 9, 5, 12, 15])
    assert again == first


def test_a_missing_glyph_would_be_caught() -> None:
    """The check above means something: a letter the font lacks is a warning, made an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="missing from font"):
            charts.bar_chart("漢字", ["a"], [1])


async def test_the_bot_has_its_charts_drawn_by_a_process_that_comes_back_if_it_dies() -> None:
    """Issue 17: matplotlib with numpy is 40 MB of a process, which the running bot does not
    hold; its charts are the same, a wrong one is refused, and a drawer killed (out of memory,
    say) costs no chart: the next one starts another."""
    weeks = [f"T{week}" for week in range(41, 49)]
    values = [3, 7, 0, 12, 9, 5, 12, 15]
    drawn = await charts.bar_chart_png("Chi bộ Thôn Bản Chặng", weeks, values)
    assert drawn == charts.bar_chart("Chi bộ Thôn Bản Chặng", weeks, values)
    drawer = charts._DRAWER._process
    assert drawer is not None and drawer.pid != os.getpid()
    drawer.kill()
    drawer.wait()
    assert await charts.bar_chart_png("Chi bộ Thôn Bản Chặng", weeks, values) == drawn
    with pytest.raises(ValueError, match="one label per value"):
        await charts.bar_chart_png("Chi bộ Thôn Nà Pá", ["10/2026"], [0, 4])
    assert await charts.bar_chart_png("Chi bộ Thôn Nà Pá", ["10/2026"], [4]) != drawn


async def test_the_chart_shows_eight_periods_ending_with_the_digests(bot: Harness) -> None:
    tree = await cell_week(bot)
    async with bot.db.transaction() as tx:
        digest = await gather(tx, bot.core.services.settings, tree.cell, WEEK_48, Every.WEEK)
        monthly = await gather(tx, bot.core.services.settings, tree.cell, month_of(D(2026, 11, 1)),
                               Every.MONTH)
    assert digest.series == (0, 0, 0, 0, 0, 0, 1, 3)
    writer = Writer(bot.core.services.settings, bot.core.services.texts(None))
    labels = writer.chart_labels(digest)
    assert labels[0] == "T41\n05/10–11/10" and labels[-1] == "T48\n23/11–29/11"
    assert writer.chart_labels(monthly)[0] == "04/2026"
    assert writer.chart_labels(monthly)[-1] == "11/2026" and monthly.series[-1] == 5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _png_size(await writer.chart(digest)) == (800, 400)
