"""📊 Thống kê (/stats): the Telegram side of bot/flows/stats.py."""

from __future__ import annotations

from telegram.ext import BaseHandler

from bot.flows import stats
from bot.ui.catalogue import Catalogue
from handlers.common import private_flow


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return private_flow(catalogue, "stats", stats, lambda core: core.stats)
