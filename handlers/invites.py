"""✉ Mời tham gia (/invite): a leader's invite links and their revoking. See
bot/flows/invites.py."""

from __future__ import annotations

from telegram.ext import BaseHandler

from bot.flows import invites
from bot.ui.catalogue import Catalogue
from handlers.common import private_flow


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return private_flow(catalogue, "invite", invites, lambda core: core.invites)
