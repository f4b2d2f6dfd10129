"""Báo cáo thay (/behalf): Telegram side of bot/flows/behalf.py."""

from __future__ import annotations

from telegram.ext import BaseHandler

from bot.flows import behalf as on_behalf
from bot.ui.catalogue import Catalogue
from handlers.common import private_flow


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    # No menu button: a leader reaches it by /behalf or from a member's card in /members.
    return private_flow(
        catalogue, "behalf",
        opens=lambda core, sender, update_id: core.on_behalf.start(sender),
        prefix=on_behalf.PREFIX,
        presses=lambda core, sender, update_id, data: core.on_behalf.act(sender, update_id, data),
        menu=False,
    )
