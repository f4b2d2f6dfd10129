"""✅ Ghi nhận báo cáo (/review): the Telegram side of bot/review.py."""

from __future__ import annotations

from telegram.ext import BaseHandler

from bot import review
from bot.catalogue import Catalogue
from handlers.common import private_flow


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return private_flow(
        catalogue, "review",
        opens=lambda core, sender, update_id: core.review.start(sender),
        prefix=review.PREFIX,
        presses=lambda core, sender, update_id, data: core.review.act(sender, update_id, data),
    )
