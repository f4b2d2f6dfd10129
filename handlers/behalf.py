"""Báo cáo thay (/behalf): the Telegram side of bot/flows/behalf.py. No menu button: a
leader reaches it by /behalf or from a member's card in /members."""

from __future__ import annotations

from telegram.ext import BaseHandler

from bot.flows import behalf
from bot.ui.catalogue import Catalogue
from handlers.common import private_flow


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return private_flow(catalogue, "behalf", behalf, lambda core: core.behalf, menu=False)
