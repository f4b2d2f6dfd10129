"""✉ Mời tham gia (/invite): a leader's invite links and their revoking (`iv:` buttons), and
approving or rejecting joins through multi-use links (`jr:` buttons). See bot/flows/invites.py."""

from __future__ import annotations

from telegram.ext import BaseHandler

from bot.flows import invites as inviting
from bot.flows import joins as joining
from bot.ui.catalogue import Catalogue
from handlers.common import presses_of, private_flow


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return [
        *private_flow(
            catalogue, "invite",
            opens=lambda core, sender, update_id: core.inviting.start(sender),
            prefix=inviting.PREFIX,
            presses=lambda core, sender, update_id, data: core.inviting.press(sender, data),
        ),
        presses_of(joining.PREFIX,
                   lambda core, sender, update_id, data: core.inviting.decide(sender, data)),
    ]
