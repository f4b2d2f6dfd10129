"""What every use case needs, built once by the composition root."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

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

    def now(self) -> dt.datetime:
        return self.clock.now()

    def today(self) -> dt.date:
        return local_today(self.clock, self.settings.zone)

    def quiet_now(self) -> bool:
        """Within the hours when nobody gets a message they did not ask for."""
        hour = self.clock.now().astimezone(self.settings.zone).hour
        start, end = self.settings.quiet_hours_start, self.settings.quiet_hours_end
        return hour >= start or hour < end if start > end else start <= hour < end

    def texts(self, lang: str | None) -> Texts:
        return self.catalogue.texts(lang)
