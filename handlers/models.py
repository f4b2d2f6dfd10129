"""🏅 Mô hình (/model): the Telegram side of bot/flows/models.py."""

from __future__ import annotations

from telegram.ext import BaseHandler

from bot.flows import models
from bot.ui.catalogue import Catalogue
from handlers.common import private_flow


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return private_flow(catalogue, "model", models, lambda core: core.models)
