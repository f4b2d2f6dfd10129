"""✅ Ghi nhận báo cáo (/review): the Telegram side of bot/flows/reviews.py."""

from __future__ import annotations

from telegram.ext import BaseHandler

from bot.flows import reviews
from bot.ui.catalogue import Catalogue
from handlers.common import private_flow


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return private_flow(catalogue, "review", reviews, lambda core: core.reviews)
