"""/digest: the Telegram side of bot/flows/digests.py. The chart is made here, not uploaded before,
so it goes as a photo from its bytes, just before the digest's text. The scheduled digests do
not pass here: they go through the deliveries ledger and the paced sender."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.flows import digests
from bot.flows.digests import Shown
from bot.ui.catalogue import Catalogue
from handlers.common import PRIVATE, core_of, deliver, sender_of

log = logging.getLogger(__name__)


async def _show(update: Update, context: ContextTypes.DEFAULT_TYPE, shown: Shown) -> None:
    chat = update.effective_chat
    if shown.image is not None and chat is not None:
        try:
            await context.bot.send_photo(chat.id, shown.image)
        except TelegramError as error:
            # The figures still matter without their picture.
            log.warning("could not send the digest chart to %s: %s", chat.id, error)
    await deliver(update, context, shown.reply)


async def _open(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _show(update, context, await core_of(context).digests.open(sender_of(update)))


async def _press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, chat = update.callback_query, update.effective_chat
    if query is None or query.data is None:
        return
    core, sender = core_of(context), sender_of(update)
    if chat is None or chat.type != ChatType.PRIVATE:
        # A digest's leaders' part is private: pressed in a group, the data may be forged.
        await deliver(update, context, await core.welcome.private_only(sender))
        return
    await _show(update, context, await core.digests.act(sender, query.data))


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return [CommandHandler("digest", _open, filters=PRIVATE),
            CallbackQueryHandler(_press, pattern=f"^{digests.PREFIX}:")]
