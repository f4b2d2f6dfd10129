"""Simulated members for the benchmarks: each plays a fixed script of steps against a
`FakeTelegram` (type a text or press a button), waits for the bot's answer before the next
step, and notes how long the answer took, whether it came, and whether it was the one
expected at that point.

The moment of an answer is the moment the fake executed the answering send: an `AnswerLog`
gate, placed after `TelegramLimits`, sees only the calls the fake is about to carry out."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from tests.crash_members import Person
from tests.fakebot import Call, FakeTelegram

# Bot API calls a member sees as an answer.
SHOWN = frozenset({"sendmessage", "editmessagetext", "sendphoto", "sendmediagroup"})


@dataclass(frozen=True)
class Step:
    """Type `text`, or press the newest button whose label starts with `button`; the answer
    is the first shown message with text containing `expect`."""

    expect: str
    text: str | None = None
    button: str | None = None

    def act(self, fake: FakeTelegram, user_id: int) -> None:
        if self.text is not None:
            fake.send_text(user_id, self.text)
            return
        assert self.button is not None
        for message in reversed(fake.messages(user_id)):
            for label, data in fake.inline_buttons(message):
                if label.startswith(self.button):
                    fake.press(user_id, message["message_id"], data)
                    return
        raise LookupError(f"user {user_id} has no button {self.button!r}")


class AnswerLog:
    """A gate on the fake that lets everything through and notes, per member's chat, the
    shown messages the fake is about to execute, with the moment."""

    def __init__(self, user_ids: Sequence[int]) -> None:
        self.answers: dict[int, list[tuple[float, Call]]] = {u: [] for u in user_ids}
        self._arrived: dict[int, asyncio.Event] = {u: asyncio.Event() for u in user_ids}

    def __call__(self, call: Call) -> None:
        chat = call.chat_id
        if chat in self.answers and call.method.lower() in SHOWN:
            self.answers[chat].append((time.monotonic(), call))
            self._arrived[chat].set()
        return None

    async def next_answer(self, user_id: int, seen: int, deadline: float) -> int | None:
        """Waits until the chat has more than `seen` answers; how many, or None at the
        deadline."""
        answers, arrived = self.answers[user_id], self._arrived[user_id]
        while len(answers) <= seen:
            arrived.clear()
            try:
                await asyncio.wait_for(arrived.wait(), deadline - time.monotonic())
            except TimeoutError:
                return None
        return len(answers)


@dataclass
class MemberResult:
    user_id: int
    latencies: list[float] = field(default_factory=list)  # seconds, per answered step
    lost: int = 0  # steps never answered (the member gives up after the first)
    in_order: bool = True


def text_of(call: Call) -> str:
    return str(call.params.get("text") or call.params.get("caption") or "")


async def play(fake: FakeTelegram, log: AnswerLog, result: MemberResult, steps: Sequence[Step],
               timeout: float) -> None:
    """One member's script, noted in `result` as it goes (a run may be cut off); a later
    step's answer before the expected one breaks the order."""
    user_id = result.user_id
    answers = log.answers[user_id]
    for number, step in enumerate(steps):
        seen = len(answers)
        started = time.monotonic()
        step.act(fake, user_id)
        deadline = started + timeout
        while True:
            count = await log.next_answer(user_id, seen, deadline)
            if count is None:
                result.lost += len(steps) - number
                return
            moment, call = answers[seen]
            seen += 1
            if step.expect in text_of(call) and call.error is None:
                result.latencies.append(moment - started)
                break
            # Other things shown meanwhile (an answer recorded on its question, old buttons
            # taken off) are no answer; a later step's answer before this one's breaks order.
            if any(later.expect in text_of(call) for later in steps[number + 1:]):
                result.in_order = False


def add_members(fake: FakeTelegram, joined: Sequence[Person]) -> list[int]:
    """The members already in the database become Telegram users of the fake."""
    for person in joined:
        family, given = person.name.split(" ", 1)
        fake.add_user(person.user_id, given, family)
    return [person.user_id for person in joined]


@dataclass
class Figures:
    steps: int
    answered: int
    lost: int
    seconds: float
    p50: float
    p95: float
    in_order: bool

    @property
    def per_second(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0


def figures(results: Sequence[MemberResult], steps: int, seconds: float) -> Figures:
    latencies = sorted(t for r in results for t in r.latencies)
    return Figures(
        steps=steps,
        answered=len(latencies),
        lost=sum(r.lost for r in results),
        seconds=seconds,
        p50=percentile(latencies, 0.50),
        p95=percentile(latencies, 0.95),
        in_order=all(r.in_order for r in results),
    )


def percentile(ordered: Sequence[float], share: float) -> float:
    if not ordered:
        return float("nan")
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[round(share * 100) - 1]


async def crowd(fake: FakeTelegram, log: AnswerLog, user_ids: Sequence[int],
                steps: Sequence[Step], timeout: float,
                seconds: float | None = None) -> tuple[list[MemberResult], float]:
    """Every member plays the script at once; with `seconds`, the run is cut off then (steps
    still open at that moment are neither answered nor lost). Returns the results and how
    long the run took."""
    results = [MemberResult(u) for u in user_ids]
    started = time.monotonic()
    tasks = [asyncio.create_task(play(fake, log, r, steps, timeout)) for r in results]
    _, pending = await asyncio.wait(tasks, timeout=seconds)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
    return results, time.monotonic() - started
