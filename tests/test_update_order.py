"""Different people are served at the same time; one person's updates strictly in order."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update, User

from bot.update_order import PerChatUpdateProcessor, order_key
from storage import drafts
from tests.harness import Harness

MAI = 1001


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


def test_updates_are_keyed_by_chat_and_user() -> None:
    assert order_key(_update(1, 5)) == (5, 5)
    assert order_key(object()) is None


async def test_answers_typed_in_a_burst_are_taken_in_order(bot: Harness) -> None:
    cell = await bot.unit("Chi bộ Thôn Bản Chặng")
    await bot.join(MAI, cell, "Mai")
    burst = ["/report", "hom nay", "kinh te", "Giúp bà con thu hoạch lúa chạy bão", "3", "1"]
    ids = [bot.fake.send_text(MAI, text) for text in burst]
    await bot.fake.wait_update_consumed(ids[-1])
    await bot.app.update_queue.join()
    async with bot.db.transaction() as tx:
        draft = await drafts.draft_of(tx, MAI)
    assert draft is not None
    assert draft.state["step"] == "value_vnd"
    assert draft.state["answers"]["people_helped"] == 3
    assert draft.state["answers"]["households_helped"] == 1
