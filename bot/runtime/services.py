"""The world the bot runs in, built once by the composition root: the settings, the database,
the catalogue, the clock and the sender's bell. Each flow is built with only the parts of it
that it uses (bot/runtime/core.py); an update's use case gets the rest from its `Request`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bot.rules.bots import BotIdentity
from bot.rules.deliveries import OutboxSignal
from bot.runtime.clock import Clock, local_today
from bot.runtime.config import Settings
from bot.ui.catalogue import Catalogue, Texts
from storage.db import Database


@dataclass(frozen=True)
class Sender:
    """Who wrote, as any messenger would describe them."""

    user_id: int
    display_name: str


@dataclass
class Services:
    settings: Settings
    db: Database
    catalogue: Catalogue
    clock: Clock
    # Rung after a transaction that queued deliveries has committed.
    outbox: OutboxSignal = field(default_factory=OutboxSignal)
    # The bot this process runs as (bot/rules/bots.py), set once its token is known; None
    # (the command line, tools) serves the whole tree.
    bot: BotIdentity | None = None

    def now(self) -> dt.datetime:
        return self.clock.now()

    def today(self) -> dt.date:
        return local_today(self.clock, self.settings.zone)

    def quiet_now(self) -> bool:
        return self.settings.quiet_at(self.clock.now())

    def texts(self, lang: str | None) -> Texts:
        return self.catalogue.texts(lang)
