"""The bot's own HTTP server (`http_listen`): Telegram's webhook, GET /healthz for containers
and load balancers, GET /metrics for Prometheus (`metrics = true`), on one port.

A webhook request is answered 200 only once its update is stored in the inbox (the `Intake`):
a process that dies before that leaves Telegram sending it again, one that dies after finds it
unhandled at the next start and replays it. The secret token Telegram sends is compared in
constant time; a body larger than any update is refused before it is read in full. While the
process is not the active one (starting, standby) the webhook answers 503: the proxy in front
tries the other process, or Telegram sends the update again later.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web

from bot.runtime.config import Settings
from bot.runtime.health import Health
from bot.runtime.intake import ALLOWED_UPDATES, Intake
from bot.runtime.metrics import Metrics
from bot.runtime.standby import LeaseLost
from storage import deliveries
from storage import health as database_health
from storage.db import Database, DatabaseUnavailable, Tx

log = logging.getLogger(__name__)
T = TypeVar("T")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's updates are a few kilobytes; a megabyte is far above any and far below harm.
MAX_BODY = 1024 * 1024
DATABASE_WAIT_SECONDS = 2.0  # /healthz: longer than this, the database counts as not answering
# Telegram's own default: how many requests it may have open at once.
MAX_CONNECTIONS = 40
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


class HttpServer:
    """Serves while the process lives (standby too: /healthz must answer); the webhook route
    takes updates only while the active process's `WebhookSource` has given it its intake."""

    def __init__(self, settings: Settings, db: Database, health: Health,
                 metrics: Metrics, webhook: bool, bot_id: int | None = None) -> None:
        self.settings, self.db, self.health, self.metrics = settings, db, health, metrics
        self.bot_id = bot_id  # whose ledger /metrics counts (None: every bot's)
        self.intake: Intake | None = None
        self.app = web.Application(client_max_size=MAX_BODY)
        self.app.router.add_get("/healthz", self._healthz)
        if settings.metrics:
            self.app.router.add_get("/metrics", self._metrics)
        if webhook:
            self.app.router.add_post(webhook_path(settings), self._webhook)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        host, port = listen_address(self.settings)
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, host or None, port).start()
        log.info("HTTP server listening on %s", self.settings.http_listen)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, request: web.Request) -> web.Response:
        answered = await self._read(database_health.answers, "/healthz")
        body = {"status": "ok" if answered else "unavailable", **self.health.report()}
        return web.json_response(body, status=200 if answered else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        backlog = await self._read(lambda tx: deliveries.unsettled(tx, self.bot_id), "/metrics")
        return web.Response(body=self.metrics.exposition(backlog),
                            headers={"Content-Type": PROMETHEUS_TEXT})

    async def _read(self, query: Callable[[Tx], Awaitable[T]], route: str) -> T | None:
        """The query's answer, or None when the database does not give it in time."""
        try:
            async with asyncio.timeout(DATABASE_WAIT_SECONDS), self.db.reading() as tx:
                return await query(tx)
        except Exception as error:  # a time-out, a server away: all mean "not healthy"
            log.warning("%s: the database did not answer (%s)", route, type(error).__name__)
            return None

    async def _webhook(self, request: web.Request) -> web.Response:
        if not _secret_matches(request.headers.get(SECRET_HEADER, ""), self.settings):
            log.warning("webhook request from %s refused: wrong or missing secret token",
                        request.remote)
            return web.Response(status=403)
        intake = self.intake
        if intake is None or not self.health.active:
            return web.Response(status=503)
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413)  # said before reading any of it
        try:
            update = _update_of(await request.read())
        except web.HTTPRequestEntityTooLarge:  # no length said, and more came than allowed
            return web.Response(status=413)
        if update is None:
            return web.Response(status=400)
        try:
            await intake.accept([update])
        except (DatabaseUnavailable, LeaseLost):
            return web.Response(status=503)  # not stored: Telegram sends it again
        return web.Response(status=200)


def _update_of(body: bytes) -> dict[str, Any] | None:
    """The update in a request's body, if it is one: a JSON object with an integer id."""
    try:
        update = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(update, dict):
        return None
    update_id = update.get("update_id")
    return update if isinstance(update_id, int) and not isinstance(update_id, bool) else None


def _secret_matches(given: str, settings: Settings) -> bool:
    secret = settings.webhook_secret
    if secret is None:
        return False
    return hmac.compare_digest(given.encode(), secret.get_secret_value().encode())


def webhook_path(settings: Settings) -> str:
    return (settings.webhook_url.path if settings.webhook_url else None) or "/"


def listen_address(settings: Settings) -> tuple[str, int]:
    """`http_listen` as host and port ("0.0.0.0:8080", "[::]:8080", ":8080")."""
    host, _, port = (settings.http_listen or "").rpartition(":")
    return host.strip("[]"), int(port)


class WebhookSource:
    """The active process's updates through the webhook: what the last one left is replayed,
    the route opened, then Telegram told where to post."""

    def __init__(self, intake: Intake, server: HttpServer) -> None:
        self.intake, self.server = intake, server
        self.failure: BaseException | None = None  # the webhook has no failure of its own
        self.failed = asyncio.Event()

    async def start(self) -> None:
        settings = self.server.settings
        await self.intake.replay()
        self.server.intake = self.intake
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        await self.intake.application.bot.set_webhook(
            str(settings.webhook_url), secret_token=secret, allowed_updates=ALLOWED_UPDATES,
            max_connections=MAX_CONNECTIONS)

    async def stop(self) -> None:
        """Takes no more updates (Telegram keeps them for the next process); the webhook
        stays set for it."""
        self.server.intake = None
        self.intake.stopping = True
