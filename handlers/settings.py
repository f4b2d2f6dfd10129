"""/settings (🔔 private nudges on or off) and the buttons under a nudge: the Telegram side of
bot/flows/settings.py."""

from __future__ import annotations

from telegram.ext import BaseHandler

from bot.flows import settings
from bot.ui.catalogue import Catalogue
from handlers.common import private_flow


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return private_flow(catalogue, "settings", settings, lambda core: core.settings, menu=False)
