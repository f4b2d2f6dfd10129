"""👥 Đảng viên (/members): a leader's list of a unit's people and the card of each."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
)

from bot import members
from bot.catalogue import Catalogue
from handlers.common import PRIVATE, core_of, deliver, menu_filter, sender_of


async def open_members(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    reply = await core_of(context).members.start(sender_of(update))
    await deliver(update, context, reply)


async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    reply = await core_of(context).members.act(sender_of(update), query.data)
    await deliver(update, context, reply)


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return [
        CommandHandler("members", open_members, filters=PRIVATE),
        MessageHandler(menu_filter(catalogue, "members"), open_members),
        CallbackQueryHandler(press, pattern=f"^{members.PREFIX}:"),
    ]
