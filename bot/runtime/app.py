"""The composition root: builds the Telegram Application and registers every flow's handlers.
The only module in `bot/` that knows `handlers/`."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import gc
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllPrivateChats,
)
from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application, ApplicationBuilder, Defaults
from telegram.request import BaseRequest

from bot.flows import command_menus
from bot.rules.bots import BotIdentity, bot_id_of, register, root_unit_id
from bot.runtime.bot_api import AiohttpRequest, LeanBot
from bot.runtime.clock import SystemClock
from bot.runtime.config import Settings
from bot.runtime.core import Core
from bot.runtime.health import Health
from bot.runtime.intake import Intake
from bot.runtime.metrics import Metrics
from bot.runtime.pacing import Pacer, PacingTime
from bot.runtime.polling import InboxPoller
from bot.runtime.services import Services
from bot.runtime.standby import LeaseKeeper, LeaseLost
from bot.runtime.update_order import PerChatUpdateProcessor
from bot.runtime.webhook import HttpServer, WebhookSource
from bot.ui.catalogue import LANGUAGES, Catalogue, Said
from handlers import (
    announcements,
    behalf,
    commitments,
    deliveries,
    digests,
    exports,
    forms,
    groups,
    invites,
    joins,
    language,
    member_import,
    members,
    models,
    my_reports,
    reports,
    reviews,
    schedules,
    settings,
    stats,
    welcome,
)
from handlers import command_menus as personal_menus
from handlers.common import core_of_application, install_core, tidied
from handlers.errors import on_error
from handlers.pacing import PacedRateLimiter
from storage import meta
from storage.bots import NO_BOT
from storage.db import Database

log = logging.getLogger(__name__)
DRAFT_SWEEP_EVERY = dt.timedelta(hours=1)
METRICS_KEY = "lantoa:metrics"  # bot_data: the application's Metrics


def metrics_of(application: Application) -> Metrics:
    metrics: Metrics = application.bot_data[METRICS_KEY]
    return metrics


def build_application(
    core: Core,
    token: str,
    request: BaseRequest | None = None,
    updates_request: BaseRequest | None = None,
    pacing_time: PacingTime | None = None,
    sequential: bool = False,
    keeper: LeaseKeeper | None = None,
    metrics: Metrics | None = None,
) -> Application:
    """`pacing_time`: the clock Telegram's limits are kept by (tests pass a VirtualTime).
    `sequential`: one update at a time, as PTB does by default (bench/interactive.py compares
    against it). `keeper`: the bot's lease, whose guard every Bot API call must pass.
    `metrics`: the process's, kept through its turns as active and standby."""
    root = core.services.settings.api_root
    metrics = metrics or Metrics()
    limiter = PacedRateLimiter(Pacer(pacing_time), metrics, keeper.guard if keeper else None,
                               keeper.retry_afters if keeper else None)
    bot = LeanBot(token, base_url=f"{root}/bot", base_file_url=f"{root}/file/bot",
                  request=request or AiohttpRequest(connection_pool_size=64),
                  get_updates_request=updates_request or AiohttpRequest(),
                  defaults=Defaults(tzinfo=core.services.settings.zone), rate_limiter=limiter)
    application = (
        ApplicationBuilder()
        .bot(bot)
        .concurrent_updates(PerChatUpdateProcessor(1 if sequential else 256))
        .updater(None)  # polling is InboxPoller's, which loses nothing on a crash
        .build()
    )
    application.bot_data[METRICS_KEY] = metrics
    deciders = core.scheduler.deciders
    core.scheduler.deciders = dataclasses.replace(
        deciders, digests=metrics.timed_digests(deciders.digests))
    # Its root is read from the database once it starts (`_introduce`).
    core.services.bot = BotIdentity(bot_id_of(token))
    install_core(application, core)
    deliveries.install(application)
    catalogue = core.services.catalogue
    for group in (
        joins.handlers(),
        reports.handlers(catalogue),
        my_reports.handlers(catalogue),
        reviews.handlers(catalogue),
        invites.handlers(catalogue),
        members.handlers(catalogue),
        member_import.handlers(catalogue),
        groups.handlers(catalogue),
        behalf.handlers(catalogue),
        models.handlers(catalogue),
        commitments.handlers(catalogue),
        stats.handlers(catalogue),
        digests.handlers(catalogue),
        exports.handlers(catalogue),
        schedules.handlers(catalogue),
        announcements.handlers(catalogue),
        settings.handlers(catalogue),
        welcome.handlers(catalogue),
        language.handlers(),
        forms.handlers(),
    ):
        application.add_handlers(group)
    application.add_handlers(personal_menus.handlers(), group=personal_menus.GROUP)
    application.add_error_handler(on_error)
    return application


def _start_draft_jobs(application: Application) -> None:
    """Once polling runs (a job added before the queue starts would first run an hour late):
    the hourly sweep of stale drafts, and the photos a stop left unacknowledged."""
    queue = application.job_queue
    if queue is None:
        return
    queue.run_repeating(forms.sweep_stale_drafts, interval=DRAFT_SWEEP_EVERY, first=0,
                        name="sweep-drafts")
    queue.run_once(forms.acknowledge_owed_photos, when=0, name="owed-photos")


async def _introduce(application: Application) -> None:
    """Registers the bot with the subtree it serves (bot/rules/bots.py) and its username (invite
    links are made with it), and sets the default command menus, in Vietnamese and for English
    clients; leaders' and observers' own menus follow in a job."""
    core = core_of_application(application)
    services = core.services
    assert services.bot is not None
    username = services.settings.bot_username or application.bot.username
    async with services.db.transaction() as tx:
        root = await root_unit_id(tx, services.settings.root_unit)
        services.bot = BotIdentity(services.bot.bot_id, root)
        await register(tx, services.bot, username, services.now())
        if root is None:  # what the command line falls back on, as before several bots
            await meta.put(tx, "bot_username", username)
    for scope, names in ((BotCommandScopeAllChatAdministrators(), command_menus.GROUP),
                         (BotCommandScopeAllPrivateChats(), command_menus.MEMBER)):
        for lang in LANGUAGES:
            t = core.services.texts(lang)
            commands = [BotCommand(c, t.plain(f"command.{c}")) for c in names]
            await application.bot.set_my_commands(
                commands, scope=scope, language_code=None if lang == "vi" else lang)
    if application.job_queue is not None:
        application.job_queue.run_once(personal_menus.refresh_everyone, when=0,
                                       name="command-menus")


class UpdateSource(Protocol):
    """Long polling (InboxPoller) or the webhook (WebhookSource): both through one Intake."""

    failure: BaseException | None  # set, with `failed`, when the source had to stop
    failed: asyncio.Event

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@asynccontextmanager
async def running(application: Application, health: Health | None = None,
                  webhook: HttpServer | None = None,
                  keeper: LeaseKeeper | None = None) -> AsyncIterator[UpdateSource]:
    """The bot as the active process until the block ends, taking updates by long polling,
    or through `webhook`'s route (its server already serving); the source says if it had to
    stop. `health` is told the role and each update handled. `keeper`: the lease it runs
    under (the one given to `build_application`)."""
    services = core_of_application(application).services
    health = health or Health()
    intake = Intake(application, services.db, services.clock, metrics_of(application), health,
                    services.bot.bot_id if services.bot else NO_BOT, keeper)
    source: UpdateSource = (InboxPoller(intake, services.settings.poll_timeout)
                            if webhook is None else WebhookSource(intake, webhook))
    async with application:
        await _introduce(application)
        await application.start()
        try:
            await deliveries.start(application)
            await schedules.install(application)
            health.become("active", services.now())
            await source.start()
            _start_draft_jobs(application)
            yield source
        finally:
            try:
                await source.stop()
                await deliveries.stop(application)
            finally:
                await application.stop()


async def idle(application: Application, timeout: float = 60.0) -> None:
    """Returns once the bot has done what it was given so far: the start-up's schedules built
    and caught up, every update taken handled, the edits that tidy answered questions made, and
    the ledger's messages sent (`lantoa try` shows what the bot did then)."""
    await schedules.installed(application)
    await application.update_queue.join()
    await tidied(application)
    await deliveries.settled(application, timeout)


class ServeFailure(Said):
    """Telegram would not have the bot: a catalogue key for the one line the CLI prints."""


# Told the bot's username once it polls (the command line prints where it runs).
Started = Callable[[str], Awaitable[None]]


async def serve(settings: Settings, token: str, db: Database,
                started: Started | None = None, webhook: bool = False) -> None:
    """`lantoa run`: until SIGINT or SIGTERM, or until Telegram refuses the token. `webhook`:
    updates come through the webhook (settings.webhook_url) instead of long polling."""
    try:
        await _serve(settings, token, db, started, webhook)
    except InvalidToken:
        raise ServeFailure("cli.token_rejected") from None
    except NetworkError as error:
        reason = str(error).replace(token, "***")
        raise ServeFailure("cli.api_unreachable", url=settings.api_root, error=reason) from None


async def _serve(settings: Settings, token: str, db: Database, started: Started | None,
                 webhook: bool) -> None:
    """Waits for the bot's lease, runs the bot until a signal, the update source's failure or
    the lease lost; after a loss, waits again as a standby (a fresh Application each time).
    The HTTP server (/healthz, the webhook) serves throughout, the standby's time too."""
    bot_id = bot_id_of(token)
    if bot_id == NO_BOT:
        raise InvalidToken("the token has no bot id before ':'")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    process = Process(settings, token, db, Health(), Metrics(), stop, started)
    server = None
    if settings.http_listen is not None:
        server = HttpServer(settings, db, process.health, process.metrics, webhook, bot_id)
        await _listen(server, settings)
    try:
        await _take_turns(process, bot_id, server if webhook else None)
    finally:
        if server is not None:
            await server.stop()


async def _listen(server: HttpServer, settings: Settings) -> None:
    try:
        await server.start()
    except OSError as error:  # the port is taken, or the address is not this machine's
        raise ServeFailure("cli.http_listen_failed", listen=settings.http_listen,
                           error=error.strerror or error) from None


@dataclass(frozen=True)
class Process:
    """What lives as long as `lantoa run`, through its turns as active and standby."""

    settings: Settings
    token: str
    db: Database
    health: Health
    metrics: Metrics
    stop: asyncio.Event
    started: Started | None


async def _take_turns(process: Process, bot_id: int, webhook: HttpServer | None) -> None:
    settings = process.settings
    async with LeaseKeeper(settings.database, bot_id, settings.lease_seconds,
                           turns=process.db.turns) as keeper:
        process.health.become("standby", SystemClock().now())
        while await keeper.acquire(process.stop):
            try:
                await _active(process, keeper, webhook)
            except LeaseLost:  # a call refused before the renewal's task noticed
                keeper.lost.set()
            finally:
                # A clean stop gives the lease up at once; a lost one is not ours to give.
                await keeper.stand_down(release=not keeper.lost.is_set())
                process.health.become("standby", SystemClock().now())
            if not keeper.lost.is_set():
                return


async def _active(process: Process, keeper: LeaseKeeper, webhook: HttpServer | None) -> None:
    """The bot as the active process, until `stop`, the source's failure or the lease lost."""
    settings = process.settings
    core = Core.build(Services(settings, process.db, Catalogue.load(), SystemClock()))
    application = build_application(core, process.token,
                                    sequential=settings.sequential_updates, keeper=keeper,
                                    metrics=process.metrics)
    async with running(application, process.health, webhook, keeper) as source:
        # What start-up built (modules, handlers, the catalogue, settings) lives as long as
        # the process: out of the collector's sight, the full collections that every few
        # thousand updates' garbage triggers no longer walk it all again.
        gc.freeze()
        log.info("Lan Tỏa is running")
        if process.started is not None:
            await process.started(application.bot.username)
        waits = [asyncio.create_task(event.wait())
                 for event in (process.stop, source.failed, keeper.lost)]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()
    if source.failure is not None:
        raise source.failure
