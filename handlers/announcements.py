"""/announce (leaders): a message to a unit's members and its group, after a preview and a
confirmation; the form itself runs through handlers/forms.py, its confirmation here."""

from __future__ import annotations

from telegram.ext import BaseHandler

from bot.flows import announcements
from bot.ui.catalogue import Catalogue
from handlers.common import private_flow


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return private_flow(catalogue, "announce", announcements, lambda core: core.announcements,
                        menu=False)
