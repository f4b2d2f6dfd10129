"""/settings (🔔 private nudges on or off) and the buttons under a nudge: the Telegram side of
bot/flows/settings.py."""

from __future__ import annotations

from telegram.ext import BaseHandler

from bot.flows import settings as nudge_settings
from bot.ui.catalogue import Catalogue
from handlers.common import presses_of, private_flow


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return [
        *private_flow(
            catalogue, "settings",
            opens=lambda core, sender, update_id: core.nudge_settings.open(sender),
            prefix=nudge_settings.PREFIX,
            presses=lambda core, sender, update_id, data: core.nudge_settings.act(sender, data),
            menu=False,
        ),
        presses_of(nudge_settings.NUDGE_PREFIX,
                   lambda core, sender, update_id, data: core.nudge_settings.nudge_pressed(
                       sender, update_id, data)),
    ]
