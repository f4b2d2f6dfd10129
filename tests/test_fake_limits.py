"""The fake's Telegram limits answer 429 exactly where Telegram would, so benchmarks and fault
tests that rely on them measure the bot, not a lenient fake."""

from __future__ import annotations

from tests.fakebot import Call, TelegramLimits


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def send(limits: TelegramLimits, chat_id: int, method: str = "sendMessage") -> int | None:
    """The retry_after of a refused send, None when accepted."""
    error = limits(Call(method, {"chat_id": chat_id}))
    return None if error is None else error.parameters["retry_after"]  # type: ignore[index]


def test_thirty_sends_a_second_in_all_then_429() -> None:
    clock = Clock()
    limits = TelegramLimits(clock=clock)
    assert [send(limits, user) for user in range(1, 31)] == [None] * 30
    assert send(limits, 31) == 1
    clock.now = 1.0
    assert send(limits, 31) is None
    assert len(limits.refused) == 1 and limits.accepted == 31


def test_a_chat_has_a_burst_of_three_then_one_a_second() -> None:
    clock = Clock()
    limits = TelegramLimits(clock=clock)
    assert [send(limits, 5) for _ in range(3)] == [None] * 3
    assert send(limits, 5) == 1
    clock.now = 0.5
    assert send(limits, 5) == 1
    clock.now = 1.0
    assert send(limits, 5) is None
    assert send(limits, 5) == 1
    assert send(limits, 6) is None  # another chat is not held back


def test_a_group_takes_twenty_a_minute() -> None:
    clock = Clock()
    limits = TelegramLimits(clock=clock)
    for step in range(20):
        clock.now = step * 2.0
        assert send(limits, -100) is None
    clock.now = 40.0
    assert send(limits, -100) == 20  # the first of the twenty leaves the minute at 60 s
    clock.now = 60.0
    assert send(limits, -100) is None


def test_calls_that_send_nothing_are_not_counted() -> None:
    limits = TelegramLimits(clock=Clock())
    for _ in range(100):
        assert limits(Call("answerCallbackQuery", {"callback_query_id": "1"})) is None
        assert limits(Call("sendChatAction", {"chat_id": 5})) is None
    assert limits.accepted == 0
