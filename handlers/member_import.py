"""/import (leaders): a list of members from a spreadsheet sent as a document. The document is
downloaded here, between two requests (no transaction waits on the network); the core reads
its bytes. A document that is no import's goes where any other message goes. See
bot/flows/member_import.py."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import BaseHandler, ContextTypes, MessageHandler, filters

from bot.flows import member_import
from bot.flows.member_import import FileOffer
from bot.ui.catalogue import Catalogue
from bot.ui.screens import Reply
from handlers.common import PRIVATE, answer, core_of, deliver, private_flow, run_request
from handlers.forms import answer_form

log = logging.getLogger(__name__)


async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    if message is None or message.document is None:
        return
    sent, flow = message.document, core_of(context).member_import
    offer = FileOffer(sent.file_name or "", sent.file_size)
    decided = await run_request(update, context, lambda req: flow.offered(req, offer))
    if decided is None:
        await answer_form(update, context)
        return
    if isinstance(decided, Reply):
        await deliver(update, context, decided)
        return
    try:
        data = bytes(await (await sent.get_file()).download_as_bytearray())
    except TelegramError as error:
        log.warning("document %s not downloaded: %s", sent.file_id, error)
        # Telegram says "file is too big" past what a bot may download (the size the message
        # gave may be missing); anything else is worth sending again.
        too_big = isinstance(error, BadRequest) and "too big" in str(error).lower()
        await answer(update, context, flow.too_big if too_big else flow.download_failed)
        return
    await answer(update, context, lambda req: flow.received(req, offer, data))


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return [
        *private_flow(catalogue, "import", member_import, lambda core: core.member_import,
                      menu=False),
        MessageHandler(PRIVATE & filters.Document.ALL, document),
    ]
