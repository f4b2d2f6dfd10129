"""👥 Đảng viên (/members): a leader's list of a unit's people and the card of each."""

from __future__ import annotations

from telegram.ext import BaseHandler

from bot.flows import members
from bot.ui.catalogue import Catalogue
from handlers.common import private_flow


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return private_flow(catalogue, "members", members, lambda core: core.members)
