"""/digest: the Telegram side of bot/flows/digests.py; its chart is drawn once the request's
transaction is over (`Reply.picture`). The scheduled digests do not pass here: they go
through the deliveries ledger and the paced sender."""

from __future__ import annotations

from telegram.ext import BaseHandler

from bot.flows import digests
from bot.ui.catalogue import Catalogue
from handlers.common import private_flow


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return private_flow(catalogue, "digest", digests, lambda core: core.digests, menu=False)
