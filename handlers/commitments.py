"""✍ Cam kết (/commit): the year's commitment, its self-assessment, and the leaders' x/y."""

from __future__ import annotations

from telegram.ext import BaseHandler

from bot.flows import commitments
from bot.ui.catalogue import Catalogue
from handlers.common import private_flow


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return private_flow(catalogue, "commit", commitments, lambda core: core.commitments)
