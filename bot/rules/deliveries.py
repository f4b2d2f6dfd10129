"""Deciding to send something nobody asked for at that moment (digests, reminders, nudges,
announcements): the decision and what to send go into the deliveries ledger in the caller's
transaction, exactly once per (kind, unit, chat, period); the paced sender (handlers/deliveries.py)
takes it from there. Nothing here knows Telegram."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.ui.screens import Screen
from storage import deliveries
from storage.db import Tx
from storage.deliveries import NewDelivery, Status


@dataclass(frozen=True)
class Outgoing:
    """One message to one chat: a group (person_id None) or a person's private chat."""

    chat_id: int
    screen: Screen
    person_id: int | None = None


class OutboxSignal:
    """Tells the sender, once the deciding transaction has committed, that rows are waiting."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    def listen(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def notify(self) -> None:
        for listener in self._listeners:
            listener()


def _row(kind: str, unit_id: int, period: str, item: Outgoing,
         status: Status = Status.QUEUED) -> NewDelivery:
    screen = item.screen
    buttons = tuple(tuple((b.label, b.data) for b in row) for row in screen.buttons)
    return NewDelivery(kind=kind, unit_id=unit_id, chat_id=item.chat_id, period=period,
                       person_id=item.person_id, text=screen.text, buttons=buttons,
                       photo_id=screen.photos[0] if screen.photos else None,
                       photo=screen.image, status=status)


async def queue(tx: Tx, now: dt.datetime, kind: str, unit_id: int, period: str,
                items: Sequence[Outgoing]) -> int:
    """Decides to send each item, unless the ledger already holds its (kind, unit, chat,
    period). Returns how many were newly decided. Call `OutboxSignal.notify` after commit."""
    added = await deliveries.queue(tx, [_row(kind, unit_id, period, i) for i in items], now)
    return len(added)


async def record_missed(tx: Tx, now: dt.datetime, kind: str, unit_id: int, period: str,
                        items: Sequence[Outgoing]) -> int:
    """Its time passed beyond the grace window while the bot was down: kept as missed, never
    sent."""
    rows = [_row(kind, unit_id, period, i, Status.MISSED).model_copy(update={"photo": None})
            for i in items]
    return len(await deliveries.queue(tx, rows, now))


async def decide(tx: Tx, now: dt.datetime, kind: str, unit_id: int, period: str,
                 items: Sequence[Outgoing], late: bool) -> int:
    """`queue`, or `record_missed` for what the scheduler finds `late`."""
    if not items:
        return 0
    return await (record_missed if late else queue)(tx, now, kind, unit_id, period, items)


async def group_had(tx: Tx, kind: str, unit_id: int, period: str) -> bool:
    """Whether the unit's group got (or missed) it already, under any chat id: a group that
    became a supergroup keeps its unit but not its id."""
    return any(chat < 0 for chat in await deliveries.decided_chats(tx, kind, unit_id, period))
