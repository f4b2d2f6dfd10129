"""Drafts live in the database: a restart loses nothing, a redelivered update is taken once,
and a draft left for more than 7 days is dropped with a notice."""

from __future__ import annotations

from pathlib import Path

from storage import drafts
from tests.fakebot import FakeTelegram
from tests.harness import CATALOGUE, Harness, started

MAI = 1001
VI, EN = CATALOGUE.texts("vi"), CATALOGUE.texts("en")


async def _step(bot: Harness) -> str | None:
    async with bot.db.transaction() as tx:
        draft = await drafts.draft_of(tx, MAI)
    return draft.state["step"] if draft else None


async def test_after_a_restart_the_member_continues_at_the_same_step(tmp_path: Path) -> None:
    async with started(tmp_path) as before:
        cell = await before.unit("Chi bộ Thôn Bản Chặng")
        await before.join(MAI, cell, "Mai")
        await before.say(MAI, "/report")
        await before.tap(MAI, "Hôm qua")
        await before.tap(MAI, "Môi trường")
        last_update = before.fake.pending_update_ids or [0]
        next_id = max(max(last_update), len(before.fake.calls_to("getUpdates")))
    fresh = FakeTelegram()
    fresh.add_user(MAI, "Mai")
    fresh.continue_update_ids_from(next_id + 1000)  # Telegram's numbering goes on
    async with started(tmp_path, fresh) as after:
        taken = await after.say(MAI, "Nhặt rác dọc suối Bản Chặng cùng đoàn viên")
        assert taken.shows("form.report.summary_title")
        answers = await _answers(after)
        assert answers["field"] == "Môi trường"
        assert answers["deed_date"] == "2026-11-26"


async def _answers(bot: Harness) -> dict:
    async with bot.db.transaction() as tx:
        draft = await drafts.draft_of(tx, MAI)
    assert draft is not None
    return draft.state["answers"]


async def _at_people_helped(bot: Harness) -> None:
    await bot.member_of_new_cell(MAI)
    await bot.begin_report(MAI, description="Hướng dẫn bà con làm hồ sơ vay vốn")
    await bot.tap(MAI, "➕ Thêm chi tiết")
    assert await _step(bot) == "people_helped"


async def test_a_redelivered_answer_is_taken_once(bot: Harness) -> None:
    await _at_people_helped(bot)
    answered = await bot.say(MAI, "12")
    assert await _step(bot) == "households_helped"
    again = await bot.redeliver(answered.update_id)
    assert again.calls == [], "no second answer in the chat"
    assert await _step(bot) == "households_helped", "not taken as the answer to the next step"
    assert "households_helped" not in await _answers(bot)


async def test_an_answer_sent_again_after_a_restart_is_not_taken_twice(tmp_path: Path) -> None:
    async with started(tmp_path) as before:
        await _at_people_helped(before)
        answered = await before.say(MAI, "12")
        raw = before.fake.messages(MAI, include_incoming=True)
        text = [m for m in raw if m.get("text") == "12"][-1]
    fresh = FakeTelegram()
    fresh.add_user(MAI, "Mai")
    fresh.continue_update_ids_from(answered.update_id)
    async with started(tmp_path, fresh) as after:
        # Handled, but the dead process never confirmed it: Telegram sends it again.
        mark = len(after.fake.calls)
        resent = after.fake.send_raw({"message": {**text, "chat": {"id": MAI, "type": "private"}}})
        assert resent == answered.update_id
        seen = await after.after(resent, mark)
        assert seen.calls == [], "recognised: no second answer"
        assert await _step(after) == "households_helped"
        later = await after.say(MAI, "3")
        assert later.shows("form.report.value_vnd.prompt")
        answers = await _answers(after)
        assert (answers["people_helped"], answers["households_helped"]) == (12, 3)


async def test_a_week_old_draft_is_dropped_with_a_notice_on_the_next_message(
    bot: Harness
) -> None:
    await bot.member_of_new_cell(MAI)
    await bot.say(MAI, "/report")
    await bot.tap(MAI, "Hôm nay")
    bot.clock.advance(days=7, minutes=1)
    seen = await bot.say(MAI, "Kinh tế")
    assert seen.shows("form.report.expired", date="27/11/2026", days=7)
    assert await _step(bot) is None


async def test_the_hourly_sweep_drops_old_drafts_and_tells_their_owners(bot: Harness) -> None:
    await bot.member_of_new_cell(MAI)
    await bot.say(MAI, "/report")
    [sweep] = bot.app.job_queue.get_jobs_by_name("sweep-drafts")
    mark = len(bot.fake.calls)
    await sweep.run(bot.app)
    assert await _step(bot) == "deed_date", "a fresh draft is kept"
    bot.clock.advance(days=8)
    await sweep.run(bot.app)
    notices = [c for c in bot.fake.calls[mark:] if c.method == "sendMessage"]
    assert len(notices) == 1 and "form.report.expired" in notices[0].keys
    assert VI("form.report.expired", date="27/11/2026", days=7) in notices[0].params["text"]
    assert await _step(bot) is None


async def test_when_telegram_fails_to_deliver_a_reply_the_answer_is_not_lost(
    bot: Harness
) -> None:
    await bot.member_of_new_cell(MAI)
    await bot.begin_report(MAI)
    bot.fake.fail_next("sendMessage", status=500, description="Internal Server Error")
    seen = await bot.say(MAI, "Hướng dẫn bà con làm hồ sơ vay vốn ưu đãi")
    assert seen.shows("error.generic")
    assert await _step(bot) == "summary"
    assert (await _answers(bot))["description"] == "Hướng dẫn bà con làm hồ sơ vay vốn ưu đãi"
    resumed = await bot.say(MAI, "/report")
    assert resumed.shows("form.report.resumed") and resumed.shows("form.report.summary_title")


async def test_the_sweep_goes_on_past_a_member_who_blocked_the_bot(bot: Harness) -> None:
    cell = await bot.member_of_new_cell(MAI)
    await bot.join(1002, cell, "Bình")
    for user_id in (MAI, 1002):
        await bot.say(user_id, "/report")
    bot.fake.block(MAI)
    bot.clock.advance(days=8)
    [sweep] = bot.app.job_queue.get_jobs_by_name("sweep-drafts")
    mark = len(bot.fake.calls)
    await sweep.run(bot.app)
    delivered = [c.params["chat_id"] for c in bot.fake.calls[mark:]
                 if c.method == "sendMessage" and not c.error]
    assert delivered == [1002]


async def test_no_expiry_notice_at_night(bot: Harness) -> None:
    await bot.member_of_new_cell(MAI)
    await bot.say(MAI, "/report")
    bot.clock.advance(days=8)
    bot.clock.moment = bot.clock.moment.replace(hour=23)
    [sweep] = bot.app.job_queue.get_jobs_by_name("sweep-drafts")
    mark = len(bot.fake.calls)
    await sweep.run(bot.app)
    assert [c for c in bot.fake.calls[mark:] if c.method == "sendMessage"] == []
    assert await _step(bot) == "deed_date", "kept until the morning sweep or the next message"


async def test_trouble_on_a_pressed_button_is_explained_in_the_members_language(
    bot: Harness
) -> None:
    await bot.member_of_new_cell(MAI)
    await bot.say(MAI, "/lang")
    await bot.tap(MAI, "🇬🇧 English")
    await bot.say(MAI, "/report")
    # The next question cannot be sent (the answer's record on the pressed one is a tidying
    # edit that may fail unseen).
    bot.fake.fail_next("sendMessage", status=500, description="Internal Server Error")
    seen = await bot.tap(MAI, "Today")
    assert seen.shows("error.generic") and EN("error.generic") in seen.html
    assert bot.fake.answered_callbacks, "the button's spinner is stopped"
    assert await _step(bot) == "field", "the answer was kept"
