"""The update queue: what getUpdates hands out and when. Offsets confirm updates,
``allowed_updates`` filters them, a long poll waits for one (a newer poll ends an older one
with 409), and an update can be delivered again under its old id (``redeliver``). Also the
waiting machinery every wait in the fake uses: ``_changed`` wakes, ``_until`` waits."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .common import ApiError, _as_int
from .state import FakeState

# Telegram's documented default when allowed_updates was never set (or set to []).
_NOT_DELIVERED_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


@dataclass
class _Queued:
    update: dict[str, Any]
    # A redelivered update is older than the current offset; it must survive the offset
    # confirmation until it has been handed out once.
    redelivered: bool = False
    delivered: bool = False

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])

    @property
    def kind(self) -> str:
        return next((k for k in self.update if k != "update_id"), "")


class UpdateQueue(FakeState):
    """getUpdates and the queue behind it."""

    def update(self, update_id: int) -> dict[str, Any]:
        """An update as it was sent to the bot."""
        return self._history[update_id]

    @property
    def pending_update_ids(self) -> list[int]:
        return [q.update_id for q in self._queue]

    @property
    def polling(self) -> bool:
        """True while a getUpdates long poll is waiting inside the fake."""
        return self._polling > 0

    def continue_update_ids_from(self, update_id: int) -> None:
        """Number the next updates from here, as Telegram does for a bot that already
        received updates before this fake existed (a restarted bot)."""
        self._next_update_id = update_id

    def redeliver(self, update_id: int) -> None:
        """Queue an already sent update again with the same update_id, as Telegram does
        when a bot crashed before confirming it."""
        if update_id not in self._history:
            raise LookupError(f"update {update_id} was never sent")
        self._queue.append(_Queued(copy.deepcopy(self._history[update_id]), redelivered=True))
        self._changed()

    # ------------------------------------------------------------------ waiting machinery

    def _changed(self) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def _until(self, predicate: Callable[[], bool], timeout: float | None) -> bool:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        try:
            async with asyncio.timeout_at(deadline):
                while not predicate():
                    fut: asyncio.Future[None] = loop.create_future()
                    self._waiters.append(fut)
                    await fut
        except TimeoutError:
            return predicate()
        return True

    # ------------------------------------------------------------------ update queue

    def _enqueue(self, body: dict[str, Any]) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        update = {"update_id": update_id, **body}
        self._history[update_id] = copy.deepcopy(update)
        self._queue.append(_Queued(update))
        self._changed()
        return update_id

    def _allowed(self, queued: _Queued) -> bool:
        if self._allowed_updates is None:
            return queued.kind not in _NOT_DELIVERED_BY_DEFAULT
        return queued.kind in self._allowed_updates

    def _confirm(self, offset: int) -> None:
        self._queue = [
            q
            for q in self._queue
            if self._allowed(q) and (q.update_id >= offset or (q.redelivered and not q.delivered))
        ]

    def _deliverable(self, offset: int, limit: int) -> list[_Queued]:
        ready = [
            q
            for q in self._queue
            if self._allowed(q) and (q.update_id >= offset or (q.redelivered and not q.delivered))
        ]
        # Telegram always answers in ascending update_id order; PTB confirms with
        # last_id + 1, so an out-of-order batch would re-confirm or skip updates.
        ready.sort(key=lambda q: q.update_id)
        return ready[:limit]

    def _next_for_webhook(self) -> _Queued | None:
        """The oldest update waiting for the webhook, as Telegram sends them: in order."""
        ready = self._deliverable(0, 1) if self.webhook_url else []
        return ready[0] if ready else None

    def _posted(self, queued: _Queued, status: int | None) -> None:
        """The bot answered a webhook POST (or could not be reached); a 2xx takes it off."""
        self.webhook_posts.append((queued.update_id, status))
        if status is not None and 200 <= status < 300:
            queued.delivered = True
            self._queue.remove(queued)
        self._changed()

    async def _get_updates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = max(_as_int(p.get("offset")) or 0, 0)
        limit = min(max(_as_int(p.get("limit")) or 100, 1), 100)
        timeout = max(float(p.get("timeout") or 0), 0.0)
        if "allowed_updates" in p:
            allowed = p["allowed_updates"] or []
            self._allowed_updates = frozenset(allowed) if allowed else None
        self._poll_generation += 1
        generation = self._poll_generation
        self._confirm(offset)
        self.last_offset = offset
        self._polling += 1
        try:
            # Wakes an older poll (which then answers 409 like Telegram) and anyone in
            # wait_update_consumed / waiting for `polling`.
            self._changed()
            await self._until(
                lambda: (
                    generation != self._poll_generation or bool(self._deliverable(offset, limit))
                ),
                timeout,
            )
        finally:
            self._polling -= 1
        if generation != self._poll_generation:
            raise ApiError(409, _CONFLICT)
        batch = self._deliverable(offset, limit)
        for queued in batch:
            queued.delivered = True
        return [copy.deepcopy(q.update) for q in batch]
