"""🏅 Mô hình (/model): the Telegram side of bot/models.py."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
)

from bot import models
from bot.catalogue import Catalogue
from handlers.common import PRIVATE, core_of, deliver, menu_filter, sender_of


async def list_models(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await deliver(update, context, await core_of(context).models.listing(sender_of(update)))


async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    reply = await core_of(context).models.press(sender_of(update), update.update_id, query.data)
    await deliver(update, context, reply)


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return [
        CommandHandler("model", list_models, filters=PRIVATE),
        MessageHandler(menu_filter(catalogue, "model"), list_models),
        CallbackQueryHandler(press, pattern=f"^{models.PREFIX}:"),
    ]
