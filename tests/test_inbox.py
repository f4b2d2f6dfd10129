"""An update fetched but not handled when the process died is handled at the next start."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from telegram.error import InvalidToken

from bot.runtime.intake import SET_ASIDE_AFTER
from storage import inbox
from tests.fakebot import FakeTelegram
from tests.harness import FRIDAY_MORNING, Harness, started

MAI = 1001


def _message(update_id: int, text: str) -> str:
    user = {"id": MAI, "is_bot": False, "first_name": "Mai"}
    message = {"message_id": 900 + update_id, "date": int(FRIDAY_MORNING.timestamp()),
               "chat": {"id": MAI, "type": "private", "first_name": "Mai"}, "from": user,
               "text": text}
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0,
                                "length": len(text.split()[0])}]
    return json.dumps({"update_id": update_id, "message": message})


async def _left(bot: Harness) -> list[int]:
    async with bot.db.transaction() as tx:
        return await inbox.unhandled_ids(tx)


async def test_handled_updates_leave_the_inbox(bot: Harness) -> None:
    await bot.member_of_new_cell(MAI)
    await bot.begin_report(MAI, description="Giúp bà con thu hoạch lúa chạy bão")
    assert await _left(bot) == []


async def test_an_answer_fetched_before_a_crash_is_taken_after_the_restart(
    tmp_path: Path
) -> None:
    async with started(tmp_path) as before:
        await before.member_of_new_cell(MAI)
        await before.begin_report(MAI)
        # What the inbox holds when the process dies between fetching and handling.
        async with before.db.transaction() as tx:
            said = _message(5000, "Sửa đường liên thôn cùng bà con")
            await inbox.keep_new(tx, before.bot_id, [(5000, said)], before.clock.now())
    fresh = FakeTelegram()
    fresh.add_user(MAI, "Mai")
    fresh.continue_update_ids_from(6000)
    async with started(tmp_path, fresh) as after:
        await after.fake.wait_for(lambda f: any(
            "form.report.summary_title" in c.keys for c in f.calls
            if c.params.get("chat_id") == MAI))
        await after.app.update_queue.join()
        assert await _left(after) == []
        async with after.db.transaction() as tx:
            row = await tx.one("SELECT state FROM drafts")
        assert json.loads(row["state"])["answers"]["description"] == (
            "Sửa đường liên thôn cùng bà con")
        fresh_id = (await after.say(MAI, "5")).update_id
        tries = await _attempts(after)
        assert (tries[5000], tries[fresh_id]) == (1, 0), (
            "a replay is counted as it starts; a fresh update costs no extra write")


async def _attempts(bot: Harness) -> dict[int, int]:
    async with bot.db.transaction() as tx:
        rows = await tx.all("SELECT update_id, attempts FROM inbox")
    return {int(r["update_id"]): int(r["attempts"]) for r in rows}


async def test_only_replays_that_start_count_towards_setting_an_update_aside(
    tmp_path: Path
) -> None:
    async with started(tmp_path) as bot:
        now = bot.clock.now()
        async with bot.db.transaction() as tx:
            await inbox.keep_new(tx, bot.bot_id, [(5000, _message(5000, "/help"))], now)
        for _ in range(SET_ASIDE_AFTER + 1):  # quick restarts: the update waits, never starts
            async with bot.db.transaction() as tx:
                assert await inbox.take_unhandled(tx, bot.bot_id, SET_ASIDE_AFTER, now) != []
        # It starts and kills the bot: a few times among others, then alone until the
        # last of SOLO_REPLAYS.
        for started_replays in range(1, SET_ASIDE_AFTER + 1):
            async with bot.db.transaction() as tx:
                await inbox.count_replay(tx, bot.bot_id, 5000)
                left = await inbox.take_unhandled(tx, bot.bot_id, SET_ASIDE_AFTER, now)
            assert bool(left) == (started_replays < SET_ASIDE_AFTER)
        assert await _left(bot) == [], "set aside"


async def test_polling_goes_on_after_telegram_fails_to_answer(bot: Harness) -> None:
    await bot.member_of_new_cell(MAI)
    bot.fake.fail_next("getUpdates", status=502, description="Bad Gateway")
    for _ in range(2):
        seen = await bot.say(MAI, "/help")
        assert seen.shows("help.member")
    assert any(c.error for c in bot.fake.calls_to("getUpdates")), "the failure did happen"


async def test_an_update_both_replayed_and_sent_again_by_telegram_is_handled_once(
    tmp_path: Path
) -> None:
    async with started(tmp_path) as before:
        await before.member_of_new_cell(MAI)
        async with before.db.transaction() as tx:
            await inbox.keep_new(tx, before.bot_id, [(5000, _message(5000, "/help"))],
                                 before.clock.now())
    fresh = FakeTelegram()
    fresh.add_user(MAI, "Mai")
    fresh.continue_update_ids_from(5000)
    async with started(tmp_path, fresh) as after:
        await after.fake.wait_for(lambda f: len(f.calls_to("sendMessage")) == 1)
        update = json.loads(_message(5000, "/help"))
        del update["update_id"]
        mark = len(after.fake.calls)
        # The dead process never confirmed update 5000, so Telegram sends it again.
        again = after.fake.send_raw(update)
        assert again == 5000
        seen = await after.after(again, mark)
        assert seen.calls == [], "already handled from the inbox"
        later = await after.say(MAI, "/help")
        assert later.shows("help.member")


async def test_an_update_that_cannot_be_read_is_skipped_not_fatal(bot: Harness) -> None:
    await bot.member_of_new_cell(MAI)
    broken = bot.fake.send_raw({"message": {"message_id": 1, "date": 0, "chat": "nonsense"}})
    await bot.fake.wait_update_consumed(broken)
    seen = await bot.say(MAI, "/help")
    assert seen.shows("help.member")
    assert await _left(bot) == []


async def test_a_token_revoked_while_running_stops_the_bot_cleanly(bot: Harness) -> None:
    bot.fake.fail_next("getUpdates", status=401, description="Unauthorized")
    bot.fake.add_user(MAI, "Mai")
    bot.fake.send_text(MAI, "/help")
    await asyncio.wait_for(bot.poller.failed.wait(), timeout=5)
    assert isinstance(bot.poller.failure, InvalidToken)
