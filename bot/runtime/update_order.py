"""Updates from different people run concurrently; one person's updates run strictly in order.

PTB processes one update at a time unless told otherwise, and with `concurrent_updates` it
gives no ordering at all, which would let a member's second answer overtake the first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def order_key(update: object) -> tuple[int, int] | None:
    """Updates with the same key are processed in arrival order."""
    if not isinstance(update, Update):
        return None
    chat = update.effective_chat
    user = update.effective_user
    if chat is None and user is None:
        return None
    return (chat.id if chat else 0, user.id if user else 0)


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[tuple[int, int], asyncio.Lock] = {}
        self._waiting: dict[tuple[int, int], int] = {}
        # Told when an update's handlers start (the inbox counts replays that start) and when
        # they are done (the inbox then forgets it).
        self.on_start: Callable[[object], Awaitable[None]] | None = None
        self.on_done: Callable[[object], Awaitable[None]] | None = None

    # PTB marks process_update final, and its hook, do_process_update, runs inside the shared
    # semaphore: waiting there for a chat's lock would hold slots other chats need.
    async def process_update(  # type: ignore[misc]
        self, update: object, coroutine: Awaitable[Any]
    ) -> None:
        # The per-key lock is taken before the shared semaphore: PTB starts one task per update
        # in arrival order, and asyncio.Lock hands itself over first come, first served.
        key = order_key(update)
        if key is None:
            await super().process_update(update, coroutine)
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                await super().process_update(update, coroutine)
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key]
                del self._locks[key]

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        # PTB's handlers report their own errors; an update whose processing was cancelled is
        # not done, and stays to be handled again.
        if self.on_start is not None:
            await _before(self.on_start(update), coroutine)
        await coroutine
        if self.on_done is not None:
            await self.on_done(update)

    async def initialize(self) -> None:
        """Nothing to set up: locks are made on demand."""

    async def shutdown(self) -> None:
        """Nothing to release."""


async def _before(hook: Awaitable[None], coroutine: Awaitable[Any]) -> None:
    """Awaits `hook`; if it fails, the handlers' coroutine will not run and is closed, not
    left for the garbage collector to warn about."""
    try:
        await hook
    except BaseException:
        if isinstance(coroutine, Coroutine):
            coroutine.close()
        raise
