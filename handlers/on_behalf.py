"""Báo cáo thay (/behalf): Telegram side of bot/on_behalf.py."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes

from bot import on_behalf
from bot.catalogue import Catalogue
from handlers.common import PRIVATE, core_of, deliver, sender_of


async def behalf(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    reply = await core_of(context).on_behalf.start(sender_of(update))
    await deliver(update, context, reply)


async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    core = core_of(context)
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE:
        # A form started here would show a member's report in a group.
        await deliver(update, context, await core.on_behalf.private_only(sender_of(update)))
        return
    reply = await core.on_behalf.act(sender_of(update), update.update_id, query.data)
    await deliver(update, context, reply)


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return [
        CommandHandler("behalf", behalf, filters=PRIVATE),
        CallbackQueryHandler(press, pattern=f"^{on_behalf.PREFIX}:"),
    ]
