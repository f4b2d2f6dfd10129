"""Different people are served at the same time; one person's updates strictly in order."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from telegram import Chat, Message, Update, User

from bot.runtime.update_order import PerChatUpdateProcessor, order_key
from storage import drafts
from tests.fakebot import Call, FakeTelegram
from tests.harness import Harness

MAI, BINH = 1001, 1002


def _update(update_id: int, user_id: int) -> Update:
    user = User(user_id, "U", is_bot=False)
    chat = Chat(user_id, Chat.PRIVATE)
    message = Message(update_id, None, chat, from_user=user, text="x")  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def test_one_person_waits_for_their_previous_update_others_do_not() -> None:
    processor = PerChatUpdateProcessor(max_concurrent_updates=8)
    release_first = asyncio.Event()
    finished: list[str] = []

    async def work(name: str, gate: asyncio.Event | None = None) -> None:
        if gate is not None:
            await gate.wait()
        finished.append(name)

    first = asyncio.create_task(processor.process_update(_update(1, 1), work("A1", release_first)))
    second = asyncio.create_task(processor.process_update(_update(2, 1), work("A2")))
    other = asyncio.create_task(processor.process_update(_update(3, 2), work("B1")))
    await other
    assert finished == ["B1"], "another person is not held up by A's slow update"
    assert not second.done(), "A's second update waits for A's first"
    release_first.set()
    await asyncio.gather(first, second)
    assert finished == ["B1", "A1", "A2"]
    assert processor._locks == {}, "no lock is kept for people who are not waiting"


async def test_the_start_and_the_end_of_each_update_are_told() -> None:
    processor = PerChatUpdateProcessor(max_concurrent_updates=8)
    told: list[str] = []

    async def hook(name: str, update: object) -> None:
        assert isinstance(update, Update)
        told.append(f"{name} {update.update_id}")

    async def work() -> None:
        told.append("handlers")

    processor.on_start = lambda update: hook("start", update)
    processor.on_done = lambda update: hook("done", update)
    await processor.process_update(_update(7, 1), work())
    assert told == ["start 7", "handlers", "done 7"]


def test_updates_are_keyed_by_chat_and_user() -> None:
    assert order_key(_update(1, 5)) == (5, 5)
    assert order_key(object()) is None


async def _burst(bot: Harness, texts: list[str]) -> dict[str, Any]:
    """The texts sent at once, as a thumb that types ahead does; the draft they leave."""
    ids = [bot.fake.send_text(MAI, text) for text in texts]
    await bot.fake.wait_update_consumed(ids[-1])
    await bot.app.update_queue.join()
    async with bot.db.transaction() as tx:
        draft = await drafts.draft_of(tx, MAI)
    assert draft is not None
    return draft.state


async def test_answers_typed_in_a_burst_are_taken_in_order(bot: Harness) -> None:
    cell = await bot.unit("Chi bộ Thôn Bản Chặng")
    await bot.join(MAI, cell, "Mai")
    state = await _burst(bot, ["/report", "hom nay", "kinh te",
                               "Giúp bà con thu hoạch lúa chạy bão"])
    assert state["step"] == "summary"
    assert (state["answers"]["deed_date"], state["answers"]["field"]) == ("2026-11-27", "Kinh tế")
    await bot.tap(MAI, "➕ Thêm chi tiết")
    state = await _burst(bot, ["3", "1", "2tr"])
    assert state["step"] == "place"
    assert state["answers"]["people_helped"] == 3
    assert state["answers"]["households_helped"] == 1
    assert state["answers"]["value_vnd"] == 2_000_000


class HoldNextReply:
    """Telegram is slow to take the bot's next message to one chat: that sendMessage waits
    inside the fake until the test releases it."""

    def __init__(self, fake: FakeTelegram, chat_id: int) -> None:
        self._call_api = fake.call_api
        self._chat_id = chat_id
        self.holding = asyncio.Event()
        self.release = asyncio.Event()

    async def call_api(self, method: str, params: Any, *args: Any, **kwargs: Any) -> Any:
        if (method.lower() == "sendmessage" and not self.holding.is_set()
                and str(params.get("chat_id")) == str(self._chat_id)):
            self.holding.set()
            await self.release.wait()
        return await self._call_api(method, params, *args, **kwargs)


def _replies(fake: FakeTelegram, chat_id: int, mark: int) -> list[Call]:
    return [c for c in fake.calls[mark:] if c.method == "sendMessage" and not c.error
            and str(c.params.get("chat_id")) == str(chat_id)]


def _labels(call: Call) -> list[str]:
    return [text for text, _ in FakeTelegram.inline_buttons(call.params)]


async def test_a_slow_reply_holds_up_that_persons_next_update_and_no_one_elses(
    bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    cell = await bot.unit("Chi bộ Thôn Bản Chặng")
    await bot.join(MAI, cell, "Mai")
    await bot.join(BINH, cell, "Bình")
    gate = HoldNextReply(bot.fake, MAI)
    monkeypatch.setattr(bot.fake, "call_api", gate.call_api)
    mark = len(bot.fake.calls)
    try:
        bot.fake.send_text(MAI, "/report")
        bot.fake.send_text(MAI, "hôm nay")
        bot.fake.send_text(BINH, "/report")
        async with asyncio.timeout(5):
            await gate.holding.wait()
        await bot.fake.wait_for(lambda fake: bool(_replies(fake, BINH, mark)))
        [binh] = _replies(bot.fake, BINH, mark)
        assert _labels(binh)[:2] == ["Hôm nay 27/11", "Hôm qua 26/11"], (
            "Bình is answered while Telegram still holds the reply to Mai")
        assert _replies(bot.fake, MAI, mark) == [], (
            "Mai's second message waits until the reply to her first has gone out")
    finally:
        gate.release.set()
    await bot.fake.wait_for(lambda fake: len(_replies(fake, MAI, mark)) == 2)
    await bot.app.update_queue.join()
    first, second = _replies(bot.fake, MAI, mark)
    assert _labels(first)[:2] == ["Hôm nay 27/11", "Hôm qua 26/11"], "the day is asked first"
    assert not any(label.startswith("Hôm nay") for label in _labels(second)), (
        "then the answer to it is taken")
    async with bot.db.transaction() as tx:
        draft = await drafts.draft_of(tx, MAI)
    assert draft is not None and draft.state["answers"]["deed_date"] == "2026-11-27"
