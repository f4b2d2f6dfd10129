"""✍ Cam kết (/commit): the year's commitment, its self-assessment, and the leaders' x/y."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
)

from bot import commitments
from bot.catalogue import Catalogue
from handlers.common import PRIVATE, core_of, deliver, menu_filter, sender_of


async def show(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    reply = await core_of(context).commitments.show(sender_of(update), update.update_id)
    await deliver(update, context, reply)


async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    reply = await core_of(context).commitments.act(sender_of(update), update.update_id,
                                                   query.data)
    await deliver(update, context, reply)


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return [
        CommandHandler("commit", show, filters=PRIVATE),
        MessageHandler(menu_filter(catalogue, "commit"), show),
        CallbackQueryHandler(press, pattern=f"^{commitments.PREFIX}:"),
    ]
