"""bench/emulator.py, the Bot API emulator of issue 17's busy-moment benchmarks: it must answer
Telegram's caps with 429 as Telegram does, log every arrival, and speak the Bot API's JSON
(the bot under benchmark parses its answers). Its clock is driven here, never slept on."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bench.emulator import ApiError, Emulator, Latency, Server


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emulator(clock: Clock) -> Emulator:
    return Emulator(clock=clock)


def send(emulator: Emulator, chat: int, text: str = "chào") -> ApiError | dict:
    try:
        return emulator.call("sendMessage", {"chat_id": str(chat), "text": text})
    except ApiError as error:
        return error


def test_the_31st_send_in_a_second_is_refused_with_a_retry_after(emulator: Emulator,
                                                                   clock: Clock) -> None:
    answers = []
    for n in range(31):
        clock.now = n * 0.03  # all 31 within 0.93 s, each into a chat of its own
        answers.append(send(emulator, 1000 + n))
    refused = [a for a in answers if isinstance(a, ApiError)]
    assert len(refused) == 1 and answers[-1] is refused[0]
    assert refused[0].payload() == {
        "ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1}}
    assert [a.outcome for a in emulator.arrivals] == ["ok"] * 30 + ["429"]
    assert emulator.arrivals[-1].reason == "overall"
    clock.now = 1.0  # the first send has left the window: room for one more
    assert not isinstance(send(emulator, 2000), ApiError)


def test_a_refused_send_does_not_count(emulator: Emulator, clock: Clock) -> None:
    for n in range(30):
        send(emulator, 1000 + n)
    assert isinstance(send(emulator, 2000), ApiError)
    clock.now = 0.5
    assert isinstance(send(emulator, 2001), ApiError)
    clock.now = 1.0
    assert [isinstance(send(emulator, 3000 + n), ApiError) for n in range(31)] == \
        [False] * 30 + [True]


def test_a_chats_fourth_message_in_a_second_is_refused(emulator: Emulator,
                                                       clock: Clock) -> None:
    answers = []
    for n in range(4):
        clock.now = n * 0.1
        answers.append(send(emulator, 42, f"tin {n}"))
    assert [isinstance(a, ApiError) for a in answers] == [False, False, False, True]
    assert isinstance(answers[3], ApiError) and answers[3].retry_after == 1
    assert emulator.arrivals[-1].reason == "chat"
    assert not isinstance(send(emulator, 43), ApiError)  # another chat is not held back
    clock.now = 1.3  # a second after the burst, the chat has room for one more
    assert not isinstance(send(emulator, 42), ApiError)
    assert isinstance(send(emulator, 42), ApiError)


def test_a_groups_21st_message_in_a_minute_is_refused(emulator: Emulator,
                                                      clock: Clock) -> None:
    group = -100123
    for n in range(20):
        clock.now = n * 1.5  # slower than the chat's 1 a second: only the minute binds
        assert not isinstance(send(emulator, group), ApiError)
    clock.now = 30.0
    refused = send(emulator, group)
    assert isinstance(refused, ApiError) and refused.code == 429
    assert refused.retry_after == 30  # the first of the 20 leaves the minute at 60 s
    assert emulator.arrivals[-1].reason == "group"
    clock.now = 60.0
    assert not isinstance(send(emulator, group), ApiError)


def test_the_arrival_log_and_the_answers(emulator: Emulator, clock: Clock) -> None:
    clock.now = 5.0
    message = emulator.call("sendMessage", {
        "chat_id": "77", "text": "<b>Hướng dẫn</b> &amp; nút",
        "reply_markup": json.dumps({"inline_keyboard": [[{"text": "✅ Gửi",
                                                          "callback_data": "ok"}]]})})
    assert isinstance(message, dict)
    assert message["chat"] == {"id": 77, "type": "private", "first_name": "Đảng viên 77"}
    assert message["from"]["is_bot"] and message["text"] == "Hướng dẫn & nút"
    assert message["message_id"] == 1 and isinstance(message["date"], int)
    clock.now = 6.0
    emulator.call("editMessageText", {"chat_id": 77, "message_id": 1, "text": "Đã gửi"})
    with pytest.raises(ApiError) as missing:
        emulator.call("editMessageText", {"chat_id": 77, "message_id": 9, "text": "x"})
    assert missing.value.code == 400
    assert emulator.call("sendChatAction", {"chat_id": 77, "action": "typing"}) is True
    assert [(a.at, a.method, a.chat_id, a.outcome) for a in emulator.arrivals] == [
        (5.0, "sendMessage", 77, "ok"), (6.0, "editMessageText", 77, "ok"),
        (6.0, "editMessageText", 77, "400"), (6.0, "sendChatAction", 77, "ok")]
    assert [s.text for s in emulator.shown(77)] == ["Hướng dẫn & nút", "Đã gửi"]
    assert emulator.shown(77)[0].buttons() == [("✅ Gửi", "ok")]


def test_updates_are_served_from_the_offset_with_when_they_were_sent(
        emulator: Emulator, clock: Clock) -> None:
    clock.now = 3.0
    first = emulator.queue_text(5, "/help")
    emulator.call("sendMessage", {"chat_id": 5, "text": "Chọn", "reply_markup": json.dumps(
        {"inline_keyboard": [[{"text": "Bỏ qua", "callback_data": "skip"}]]})})
    second = emulator.queue_press(5, 2, "skip", sent_at=4.5)
    updates = emulator.pending_updates(0)
    assert [u["update_id"] for u in updates] == [first, second]
    command = updates[0]["message"]
    assert command["entities"] == [{"type": "bot_command", "offset": 0, "length": 5}]
    assert updates[1]["callback_query"]["data"] == "skip"
    assert updates[1]["callback_query"]["message"]["text"] == "Chọn"
    assert emulator.sent_at == {first: 3.0, second: 4.5}
    assert [u["update_id"] for u in emulator.pending_updates(second)] == [second]
    assert emulator.pending_updates(second + 1) == []


GROUP = "-1001234567890"  # a supergroup's id, as Telegram gives them


@pytest.fixture
async def served() -> AsyncIterator[tuple[Emulator, str]]:
    emulator = Emulator(latency=Latency(0.0))
    async with Server(emulator) as server:
        yield emulator, f"{server.url}/bot123:abc"


async def test_over_http_a_photo_with_its_caption_and_a_429(
        served: tuple[Emulator, str]) -> None:
    emulator, url = served
    async with aiohttp.ClientSession() as session:
        form = aiohttp.FormData()
        form.add_field("chat_id", GROUP)
        form.add_field("caption", "<i>Tổng hợp</i>")
        form.add_field("photo", b"\x89PNG" + b"0" * 1000, filename="chart.png",
                       content_type="image/png")
        async with session.post(f"{url}/sendPhoto", data=form) as response:
            photo = await response.json()
        for n in range(20):
            async with session.post(f"{url}/sendMessage",
                                    data={"chat_id": GROUP, "text": f"tin {n}"}) as response:
                last = response.status, await response.json()
        emulator.queue_text(9, "xin chào")
        async with session.post(f"{url}/getUpdates", json={"offset": 0, "timeout": 0}) as r:
            updates = await r.json()
    assert photo["ok"] and photo["result"]["caption"] == "Tổng hợp"
    assert photo["result"]["chat"]["type"] == "supergroup" and photo["result"]["photo"]
    assert emulator.arrivals[0].size == 1004
    assert last[0] == 429 and last[1]["error_code"] == 429
    assert last[1]["parameters"]["retry_after"] >= 1
    assert updates["result"][0]["message"]["text"] == "xin chào"
