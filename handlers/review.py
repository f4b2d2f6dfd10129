"""✅ Ghi nhận báo cáo (/review): the Telegram side of bot/review.py."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
)

from bot import review
from bot.catalogue import Catalogue
from handlers.common import PRIVATE, core_of, deliver, menu_filter, sender_of


async def open_queue(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await deliver(update, context, await core_of(context).review.start(sender_of(update)))


async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    reply = await core_of(context).review.act(sender_of(update), update.update_id, query.data)
    await deliver(update, context, reply)


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return [
        CommandHandler("review", open_queue, filters=PRIVATE),
        MessageHandler(menu_filter(catalogue, "review"), open_queue),
        CallbackQueryHandler(press, pattern=f"^{review.PREFIX}:"),
    ]
