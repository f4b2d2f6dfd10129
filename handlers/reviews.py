"""✅ Ghi nhận báo cáo (/review): the Telegram side of bot/flows/reviews.py."""

from __future__ import annotations

from telegram.ext import BaseHandler

from bot.flows import reviews as review
from bot.ui.catalogue import Catalogue
from handlers.common import private_flow


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return private_flow(
        catalogue, "review",
        opens=lambda core, sender, update_id: core.review.start(sender),
        prefix=review.PREFIX,
        presses=lambda core, sender, update_id, data: core.review.act(sender, update_id, data),
    )
