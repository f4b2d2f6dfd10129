"""The fake's webhook mode: while a webhook is set (setWebhook), the fake POSTs each update to
it, in order, with the secret token in ``X-Telegram-Bot-Api-Secret-Token``, and sends it again
after a pause while the bot answers anything but 2xx or cannot be reached, as Telegram does.
``FakeBotServer`` runs one; an in-process test starts its own (``async with WebhookPusher``)."""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType

import httpx

from .core import FakeTelegram

# Telegram waits longer between its tries; a test must not.
FIRST_PAUSE, LONGEST_PAUSE = 0.05, 0.5
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookPusher:
    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> WebhookPusher:
        self._task = asyncio.create_task(self._push(), name="fake-webhook")
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _push(self) -> None:
        fake, failures = self.fake, 0
        async with httpx.AsyncClient(timeout=30) as client:
            while True:
                await fake._until(lambda: fake._next_for_webhook() is not None, None)
                queued = fake._next_for_webhook()
                if queued is None:
                    continue
                try:
                    answer = await client.post(fake.webhook_url, json=queued.update,
                                               headers={SECRET_HEADER: fake.webhook_secret})
                    status: int | None = answer.status_code
                except httpx.HTTPError:
                    status = None
                fake._posted(queued, status)
                if status is not None and 200 <= status < 300:
                    failures = 0
                    continue
                failures += 1
                await asyncio.sleep(min(LONGEST_PAUSE, FIRST_PAUSE * 2 ** failures))
