"""The paced sender: what was decided in the deliveries ledger reaches each chat exactly once,
in order, within Telegram's limits, whatever Telegram answers."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from bot.rules import deliveries
from bot.rules.deliveries import Outgoing
from bot.ui.screens import Button, Screen, visible_length
from handlers.deliveries import NETWORK_RETRIES
from storage import deliveries as ledger
from storage import groups, people
from storage.deliveries import Delivery, NewDelivery, Status
from tests.fakebot import Call, FakeTelegram
from tests.harness import (
    FRIDAY_MORNING,
    Harness,
    as_read,
    migrated_database,
    most_in_window,
    started,
)

MAI, BINH = 1001, 1002
GROUP = -100200300
WEEK = "2026-W48"


async def _cell(bot: Harness) -> int:
    cell = await bot.unit("Chi bộ Thôn Bản Chặng")
    await bot.join(MAI, cell, "Mai")
    return cell


async def _queue(bot: Harness, unit_id: int, chat_id: int, text: str,
                 kind: str = "reminder", period: str = WEEK, notify: bool = True,
                 person_id: int | None = None, image: bytes | None = None) -> int:
    async with bot.db.transaction() as tx:
        added = await deliveries.queue(tx, bot.clock.now(), kind, unit_id, period,
                                       [Outgoing(chat_id, Screen(text, image=image),
                                                 person_id=person_id)])
    if notify:
        bot.core.services.outbox.notify()
    return added


async def _detail(bot: Harness, row: Delivery) -> str:
    async with bot.db.transaction() as tx:
        return await ledger.detail_of(tx, row.id) or ""


async def _ledger(bot: Harness, kind: str | None = None) -> list[Delivery]:
    async with bot.db.transaction() as tx:
        return await ledger.in_ledger(tx, kind)


def _sends(bot: Harness, chat_id: int, text: str | None = None, since: int = 0) -> list[Call]:
    """The bot's attempts to send a message into the chat (with this text)."""
    return [c for c in bot.fake.calls[since:] if c.method == "sendMessage"
            and c.chat_id == chat_id and text in (None, c.params.get("text"))]


def _texts(bot: Harness, chat_id: int) -> list[str]:
    return [m.get("text", "") for m in bot.fake.messages(chat_id)]


async def test_a_decision_is_sent_once_however_often_it_is_rung(bot: Harness) -> None:
    cell = await _cell(bot)
    mark = len(bot.fake.calls)
    assert await _queue(bot, cell, MAI, "Nhắc báo cáo tuần này.") == 1
    assert await _queue(bot, cell, MAI, "Nhắc báo cáo tuần này.") == 0
    bot.core.services.outbox.notify()
    bot.core.services.outbox.notify()
    await bot.deliveries_settled()
    bot.core.services.outbox.notify()
    await bot.deliveries_settled()
    sent = [c for c in bot.fake.calls[mark:] if c.method == "sendMessage"]
    assert [c.params["text"] for c in sent] == ["Nhắc báo cáo tuần này."]
    assert [r.status for r in await _ledger(bot)] == [Status.SENT]


async def test_one_chat_gets_its_messages_in_the_order_decided(bot: Harness) -> None:
    cell = await _cell(bot)
    for week in range(40, 48):
        await _queue(bot, cell, MAI, f"Tuần {week}", period=f"2026-W{week}", notify=False)
    bot.core.services.outbox.notify()
    await bot.deliveries_settled()
    assert _texts(bot, MAI)[-8:] == [f"Tuần {week}" for week in range(40, 48)]


async def test_a_restart_never_sends_twice_what_may_have_gone(tmp_path: Path) -> None:
    fake = FakeTelegram()
    async with started(tmp_path, fake) as bot:
        cell = await _cell(bot)
    db = await migrated_database(tmp_path / "lantoa.sqlite3")
    try:
        async with db.transaction() as tx:
            await ledger.queue(tx, [
                NewDelivery(kind="nudge", unit_id=cell, chat_id=MAI, period="2026-W47",
                            text="Cut off mid-send", status=Status.SENDING),
                NewDelivery(kind="nudge", unit_id=cell, chat_id=MAI, period="2026-W48",
                            text="Waiting in the queue"),
            ], FRIDAY_MORNING)
    finally:
        await db.close()
    async with started(tmp_path, fake) as bot:
        await bot.deliveries_settled()
        assert "Cut off mid-send" not in _texts(bot, MAI)
        assert _texts(bot, MAI)[-1] == "Waiting in the queue"
        assert [r.status for r in await _ledger(bot)] == [Status.UNCERTAIN, Status.SENT]


async def test_flood_control_waits_as_told_and_sends_once(bot: Harness) -> None:
    cell = await _cell(bot)
    bot.fake.fail_next("sendMessage", status=429, retry_after=7, chat_id=MAI,
                       description="Too Many Requests: retry after 7")
    await _queue(bot, cell, MAI, "Nhắc báo cáo")
    await bot.deliveries_settled()
    refused, sent = _sends(bot, MAI)[-2:]
    assert refused.error and not sent.error
    assert sent.at is not None and refused.at is not None
    assert sent.at - refused.at >= 7
    assert _texts(bot, MAI).count("Nhắc báo cáo") == 1
    assert [r.status for r in await _ledger(bot)] == [Status.SENT]


async def test_flood_control_mid_message_resends_only_the_part_refused(bot: Harness) -> None:
    cell = await _cell(bot)
    lines = [f"Dòng {i:03d} " + "x" * 90 for i in range(60)]  # two messages
    bot.fake.fail_next("sendMessage", status=429, retry_after=3, chat_id=MAI, skip=1,
                       description="Too Many Requests: retry after 3")
    await _queue(bot, cell, MAI, "\n".join(lines))
    await bot.deliveries_settled()
    texts = [t for t in _texts(bot, MAI) if t.startswith("Dòng")]
    assert len(texts) == 2
    assert "\n".join(texts) == "\n".join(lines)


async def test_telegram_trouble_and_time_outs_are_tried_again(bot: Harness) -> None:
    cell = await _cell(bot)
    bot.fake.fail_next("sendMessage", status=502, description="Bad Gateway", chat_id=MAI)
    bot.fake.time_out_next("sendMessage", chat_id=MAI)
    bot.fake.fail_next("sendMessage", status=500, description="Internal Server Error",
                       chat_id=MAI)
    await _queue(bot, cell, MAI, "Nhắc báo cáo")
    await bot.deliveries_settled()
    assert [bool(c.error) for c in _sends(bot, MAI)[-4:]] == [True, True, True, False]
    assert _texts(bot, MAI).count("Nhắc báo cáo") == 1
    [row] = await _ledger(bot)
    assert (row.status, row.attempts) == (Status.SENT, 1)


async def test_telegram_failing_on_and_on_fails_the_row_after_a_few_tries(
        bot: Harness) -> None:
    cell = await _cell(bot)
    bot.fake.fail_next("sendMessage", status=500, description="Internal Server Error",
                       chat_id=MAI, times=100)
    await _queue(bot, cell, MAI, "Nhắc báo cáo")
    await _queue(bot, cell, BINH, "Cho người khác", kind="nudge")
    bot.fake.add_user(BINH, "Bình")
    await bot.deliveries_settled()
    tries = _sends(bot, MAI, "Nhắc báo cáo")
    assert len(tries) == 1 + NETWORK_RETRIES
    waits = [b.at - a.at for a, b in pairwise(tries)
             if a.at is not None and b.at is not None]
    assert waits[0] >= 2 and max(waits) < 61, "waits double from 2 s, at most a minute"
    rows = {r.chat_id: r for r in await _ledger(bot)}
    assert rows[MAI].status == Status.FAILED
    assert "Internal Server Error" in await _detail(bot, rows[MAI])
    assert rows[BINH].status == Status.SENT
    assert "Nhắc báo cáo" not in _texts(bot, MAI)


async def test_flood_control_however_often_repeated_never_loses_the_message(
        bot: Harness) -> None:
    cell = await _cell(bot)
    bot.fake.fail_next("sendMessage", status=429, retry_after=2, chat_id=MAI, times=12,
                       description="Too Many Requests: retry after 2")
    await _queue(bot, cell, MAI, "Nhắc báo cáo")
    await bot.deliveries_settled()
    assert len(_sends(bot, MAI, "Nhắc báo cáo")) == 13
    assert _texts(bot, MAI).count("Nhắc báo cáo") == 1
    assert [r.status for r in await _ledger(bot)] == [Status.SENT]


async def test_telegram_refusing_the_message_fails_it_with_the_reason(bot: Harness) -> None:
    cell = await _cell(bot)
    await _queue(bot, cell, MAI, "<b>Thẻ không đóng")
    await bot.deliveries_settled()
    [row] = await _ledger(bot)
    assert row.status == Status.FAILED
    assert "parse entities" in await _detail(bot, row)


async def _reachable(bot: Harness, user_id: int) -> bool:
    async with bot.db.transaction() as tx:
        return not await people.is_unreachable(tx, user_id)


async def test_someone_who_blocked_the_bot_is_skipped_until_they_write_again(
        bot: Harness) -> None:
    cell = await _cell(bot)
    mark = len(bot.fake.calls)
    bot.fake.block(MAI)
    await _queue(bot, cell, MAI, "Nhắc báo cáo", notify=False)
    await _queue(bot, cell, MAI, "Nhắc việc khác", kind="nudge")
    await bot.deliveries_settled()
    assert len(_sends(bot, MAI, since=mark)) == 1  # tried once, the rest of the chat dropped
    assert [r.status for r in await _ledger(bot)] == [Status.UNREACHABLE] * 2
    assert not await _reachable(bot, MAI)

    bot.fake.unblock(MAI)
    await _queue(bot, cell, MAI, "Thêm một lần", kind="custom")
    await bot.deliveries_settled()
    assert len(_sends(bot, MAI, since=mark)) == 1  # skipped: not tried at all
    assert (await _ledger(bot))[-1].status == Status.UNREACHABLE

    await bot.say(MAI, "/help")
    assert await _reachable(bot, MAI)
    await _queue(bot, cell, MAI, "Đã nhận được", kind="custom", period="2026-W49")
    await bot.deliveries_settled()
    assert _texts(bot, MAI)[-1] == "Đã nhận được"


async def test_a_group_that_removed_the_bot_is_unreachable(bot: Harness) -> None:
    cell = await _cell(bot)
    bot.fake.add_group(GROUP, "Chi bộ Thôn Bản Chặng")
    bot.fake.remove_bot_from_group(GROUP, MAI)
    await _queue(bot, cell, GROUP, "Nhắc báo cáo")
    await bot.deliveries_settled()
    [row] = await _ledger(bot)
    assert row.status == Status.UNREACHABLE
    assert await _reachable(bot, MAI)


async def test_an_upgraded_group_gets_its_messages_under_the_new_id(bot: Harness) -> None:
    cell = await _cell(bot)
    new_id = -1001234567890
    bot.fake.add_group(GROUP, "Chi bộ Thôn Bản Chặng", chat_type="group")
    bot.fake.add_group(new_id, "Chi bộ Thôn Bản Chặng")
    async with bot.db.transaction() as tx:
        await groups.link(tx, cell, GROUP)
    bot.fake.fail_next("sendMessage", status=400, chat_id=GROUP, migrate_to_chat_id=new_id,
                       description="Bad Request: group chat was upgraded to a supergroup chat")
    await _queue(bot, cell, GROUP, "Nhắc báo cáo", notify=False)
    await _queue(bot, cell, GROUP, "Lịch sinh hoạt", kind="custom")
    await bot.deliveries_settled()
    assert _texts(bot, new_id) == ["Nhắc báo cáo", "Lịch sinh hoạt"]
    assert [(r.chat_id, r.status) for r in await _ledger(bot)] == [(new_id, Status.SENT)] * 2
    async with bot.db.transaction() as tx:
        assert await groups.group_of_unit(tx, cell) == new_id


async def test_a_long_text_is_split_at_lines_with_the_buttons_last(bot: Harness) -> None:
    cell = await _cell(bot)
    lines = [f"{i:03d}. Đồng chí Nguyễn Văn {i} — đã báo cáo 2 việc" for i in range(250)]
    text = "\n".join(lines)
    assert len(text) > 10_000
    before = len(bot.fake.messages(MAI))
    async with bot.db.transaction() as tx:
        await deliveries.queue(tx, bot.clock.now(), "digest", cell, WEEK, [
            Outgoing(MAI, Screen(text, ((Button("📊 Xem thống kê", "stats:open"),),)))])
    bot.core.services.outbox.notify()
    await bot.deliveries_settled()
    parts = bot.fake.messages(MAI)[before:]
    assert len(parts) == 3
    assert all(len(m["text"]) <= 4096 for m in parts)
    assert "\n".join(m["text"] for m in parts) == text
    assert [bool(bot.fake.inline_buttons(m)) for m in parts] == [False, False, True]


async def test_a_chart_goes_with_its_text_under_it_in_one_message(bot: Harness) -> None:
    cell = await _cell(bot)
    mark = len(bot.fake.calls)
    text = "<b>Tuần này</b>: 12 việc &amp; 3 mô hình 🎉"
    await _queue(bot, cell, MAI, text, kind="digest", image=b"\x89PNG chart")
    await bot.deliveries_settled()
    [sent] = [c for c in bot.fake.calls[mark:] if c.chat_id == MAI]
    assert sent.method == "sendPhoto" and sent.params["caption"] == text
    assert (bot.fake.last_message(MAI) or {}).get("caption") == "Tuần này: 12 việc & 3 mô hình 🎉"
    [row] = await _ledger(bot)
    assert row.status is Status.SENT
    assert row.photo is None  # not kept once sent


async def test_a_chart_goes_before_a_text_too_long_for_a_caption(bot: Harness) -> None:
    cell = await _cell(bot)
    mark = len(bot.fake.calls)
    # 1,025 characters as read: the tags and the escape take no room, each emoji two.
    text = "<b>Tổng hợp</b> &lt;" + "ệ" * 997 + "🎉" * 8 + "\n" + "x" * 1
    assert len(as_read(text)) == 1017 and visible_length(text) == 1025
    async with bot.db.transaction() as tx:
        await deliveries.queue(tx, bot.clock.now(), "digest", cell, WEEK, [
            Outgoing(MAI, Screen(text, ((Button("📊 Xem thống kê", "stats:open"),),),
                                 image=b"\x89PNG chart"))])
    bot.core.services.outbox.notify()
    await bot.deliveries_settled()
    chart, words = [c for c in bot.fake.calls[mark:] if c.chat_id == MAI]
    assert chart.method == "sendPhoto" and "caption" not in chart.params
    assert words.method == "sendMessage" and words.params["text"] == text
    assert [bool(bot.fake.inline_buttons(m)) for m in bot.fake.messages(MAI)[-2:]] == [
        False, True], "the buttons under the text"
    assert [r.status for r in await _ledger(bot)] == [Status.SENT]


async def test_flood_control_on_the_text_after_its_chart_resends_the_text_only(
        bot: Harness) -> None:
    cell = await _cell(bot)
    mark = len(bot.fake.calls)
    text = "\n".join(f"• Tổ đảng số {n}: {n} việc, {n}/12 đồng chí" for n in range(40))
    assert visible_length(text) > 1024
    bot.fake.fail_next("sendMessage", status=429, retry_after=3, chat_id=MAI,
                       description="Too Many Requests: retry after 3")
    await _queue(bot, cell, MAI, text, kind="digest", image=b"\x89PNG chart")
    await bot.deliveries_settled()
    taken = [c.method for c in bot.fake.calls[mark:] if c.chat_id == MAI and not c.error]
    assert taken == ["sendPhoto", "sendMessage"]
    assert [r.status for r in await _ledger(bot)] == [Status.SENT]


async def test_a_big_broadcast_keeps_telegrams_limits(bot: Harness) -> None:
    cell = await _cell(bot)
    bot.fake.add_group(GROUP, "Chi bộ Thôn Bản Chặng")
    members = list(range(5001, 5301))
    for user_id in members:
        bot.fake.add_user(user_id, f"Đảng viên {user_id}")
    mark = len(bot.fake.calls)
    for day in range(60):
        await _queue(bot, cell, GROUP, f"Nhắc {day}", kind="custom", period=f"d{day}",
                     notify=False)
    async with bot.db.transaction() as tx:
        await deliveries.queue(tx, bot.clock.now(), "nudge", cell, WEEK,
                               [Outgoing(u, Screen("Đồng chí nhớ báo cáo nhé")) for u in members])
    bot.core.services.outbox.notify()
    await bot.deliveries_settled(timeout=60)
    sends = [c for c in bot.fake.calls[mark:] if c.method == "sendMessage" and not c.error]
    assert len(sends) == 360
    moments = [c.at for c in sends if c.at is not None]
    assert len(moments) == 360
    assert most_in_window(moments, 1.0) <= 30
    group = [c.at for c in sends if c.chat_id == GROUP and c.at is not None]
    assert most_in_window(group, 60.0) <= 20
    assert most_in_window(group, 1.0) <= 1
    assert [m["text"] for m in bot.fake.messages(GROUP)] == [f"Nhắc {d}" for d in range(60)]
    assert max(moments) >= 59 * 60 / 20  # the group's messages took three minutes


async def test_a_reply_is_not_kept_waiting_behind_a_broadcast(bot: Harness) -> None:
    cell = await _cell(bot)
    members = list(range(5001, 5301))
    for user_id in members:
        bot.fake.add_user(user_id, f"Đảng viên {user_id}")
    bot.pacing.advance(10)  # Mai's welcome is long past
    bot.pacing.hold()  # the clock only moves when the test says so
    async with bot.db.transaction() as tx:
        await deliveries.queue(tx, bot.clock.now(), "nudge", cell, WEEK,
                               [Outgoing(u, Screen("Đồng chí nhớ báo cáo nhé")) for u in members])
    bot.core.services.outbox.notify()

    def broadcast(fake: FakeTelegram) -> int:
        return sum(1 for c in fake.calls if c.method == "sendMessage" and c.chat_id in members)

    # A broadcast's messages go 36 ms apart (bot/runtime/pacing.py): on the held clock the
    # first goes, the next few are booked and wait.
    await bot.fake.wait_for(lambda f: broadcast(f) >= 1)
    seen = await bot.say(MAI, "/help")
    assert seen.text
    assert broadcast(bot.fake) <= 5  # the broadcast is still waiting
    bot.pacing.release()
    await bot.deliveries_settled(timeout=60)
    assert broadcast(bot.fake) == 300


async def test_a_reply_telegram_holds_back_waits_and_arrives_once(bot: Harness) -> None:
    await _cell(bot)
    mark = len(bot.fake.calls)
    bot.fake.fail_next("sendMessage", status=429, retry_after=4, chat_id=MAI,
                       description="Too Many Requests: retry after 4")
    seen = await bot.say(MAI, "/help")
    refused, sent = _sends(bot, MAI, since=mark)[:2]
    assert refused.error and not sent.error
    assert sent.params["text"] == refused.params["text"]
    assert sent.at is not None and refused.at is not None and sent.at - refused.at >= 4 - 1e-9
    assert len([c for c in seen.calls if c.params.get("text") == sent.params["text"]]) == 1
