"""📊 Thống kê (/stats): the Telegram side of bot/stats.py."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
)

from bot import stats
from bot.catalogue import Catalogue
from handlers.common import PRIVATE, core_of, deliver, menu_filter, sender_of


async def show(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await deliver(update, context, await core_of(context).stats.open(sender_of(update)))


async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    await deliver(update, context, await core_of(context).stats.act(sender_of(update),
                                                                    query.data))


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return [
        CommandHandler("stats", show, filters=PRIVATE),
        MessageHandler(menu_filter(catalogue, "stats"), show),
        CallbackQueryHandler(press, pattern=f"^{stats.PREFIX}:"),
    ]
