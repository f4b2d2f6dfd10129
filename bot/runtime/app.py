"""The composition root: builds the Telegram Application and registers every flow's handlers.
The only module in `bot/` that knows `handlers/`."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllPrivateChats,
)
from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application, ApplicationBuilder, Defaults
from telegram.request import BaseRequest, HTTPXRequest

from bot.flows import command_menus
from bot.runtime.clock import SystemClock
from bot.runtime.config import Settings
from bot.runtime.core import Core
from bot.runtime.pacing import Pacer, PacingTime
from bot.runtime.polling import InboxPoller
from bot.runtime.services import Services
from bot.runtime.standby import LeaseKeeper, LeaseLost, bot_id_of
from bot.runtime.update_order import PerChatUpdateProcessor
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
from storage.db import Database

log = logging.getLogger(__name__)
DRAFT_SWEEP_EVERY = dt.timedelta(hours=1)


def build_application(
    core: Core,
    token: str,
    request: BaseRequest | None = None,
    updates_request: BaseRequest | None = None,
    pacing_time: PacingTime | None = None,
    sequential: bool = False,
    keeper: LeaseKeeper | None = None,
) -> Application:
    """`pacing_time`: the clock Telegram's limits are kept by (tests pass a VirtualTime).
    `sequential`: one update at a time, as PTB does by default (bench/interactive.py compares
    against it). `keeper`: the bot's lease, whose guard every Bot API call must pass."""
    root = core.services.settings.api_root
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{root}/bot")
        .base_file_url(f"{root}/file/bot")
        .concurrent_updates(PerChatUpdateProcessor(1 if sequential else 256))
        .defaults(Defaults(tzinfo=core.services.settings.zone))
        .updater(None)  # polling is InboxPoller's, which loses nothing on a crash
    )
    builder = builder.request(request or HTTPXRequest(connection_pool_size=64))
    builder = builder.get_updates_request(updates_request or HTTPXRequest())
    limiter = (PacedRateLimiter(Pacer(pacing_time)) if keeper is None else
               PacedRateLimiter(Pacer(pacing_time), keeper.guard, keeper.retry_afters))
    application = builder.rate_limiter(limiter).build()
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
    """Remembers the bot's username (the CLI prints invite links with it) and sets the default
    command menus, in Vietnamese and for English clients; leaders' and observers' own menus
    follow in a job."""
    core = core_of_application(application)
    async with core.services.db.transaction() as tx:
        await meta.put(tx, "bot_username", application.bot.username)
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


@asynccontextmanager
async def running(application: Application,
                  keeper: LeaseKeeper | None = None) -> AsyncIterator[InboxPoller]:
    """The bot polling for updates until the block ends; the poller says if it had to stop.
    `keeper`: the lease it runs under (the one given to `build_application`)."""
    services = core_of_application(application).services
    poller = InboxPoller(application, services.db, services.clock,
                         services.settings.poll_timeout, keeper)
    async with application:
        await _introduce(application)
        await application.start()
        try:
            await deliveries.start(application)
            await schedules.install(application)
            await poller.start()
            _start_draft_jobs(application)
            yield poller
        finally:
            try:
                await poller.stop()
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
                started: Started | None = None) -> None:
    """`lantoa run`: until SIGINT or SIGTERM, or until Telegram refuses the token."""
    try:
        await _serve(settings, token, db, started)
    except InvalidToken:
        raise ServeFailure("cli.token_rejected") from None
    except NetworkError as error:
        reason = str(error).replace(token, "***")
        raise ServeFailure("cli.api_unreachable", url=settings.api_root, error=reason) from None


async def _serve(settings: Settings, token: str, db: Database, started: Started | None) -> None:
    """Waits for the bot's lease, runs the bot until a signal, a poller's failure or the
    lease lost; after a loss, waits again as a standby (a fresh Application each time)."""
    bot_id = bot_id_of(token)
    if bot_id is None:
        raise InvalidToken("the token has no bot id before ':'")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    async with LeaseKeeper(settings.database, bot_id, settings.lease_seconds) as keeper:
        while await keeper.acquire(stop):
            try:
                await _active(settings, token, db, keeper, stop, started)
            except LeaseLost:  # a call refused before the renewal's task noticed
                keeper.lost.set()
            finally:
                # A clean stop gives the lease up at once; a lost one is not ours to give.
                await keeper.stand_down(release=not keeper.lost.is_set())
            if not keeper.lost.is_set():
                return


async def _active(settings: Settings, token: str, db: Database, keeper: LeaseKeeper,
                  stop: asyncio.Event, started: Started | None) -> None:
    """The bot as the active process, until `stop`, the poller's failure or the lease lost."""
    core = Core.build(Services(settings, db, Catalogue.load(), SystemClock()))
    application = build_application(core, token, sequential=settings.sequential_updates,
                                    keeper=keeper)
    async with running(application, keeper) as poller:
        # What start-up built (modules, handlers, the catalogue, settings) lives as long as
        # the process: out of the collector's sight, the full collections that every few
        # thousand updates' garbage triggers no longer walk it all again.
        gc.freeze()
        log.info("Lan Tỏa is running")
        if started is not None:
            await started(application.bot.username)
        waits = [asyncio.create_task(event.wait())
                 for event in (stop, poller.failed, keeper.lost)]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()
    if poller.failure is not None:
        raise poller.failure
