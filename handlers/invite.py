"""✉ Mời tham gia (/invite): a leader's invite links and their revoking (`iv:` buttons), and
approving or rejecting joins through multi-use links (`jr:` buttons). See bot/inviting.py."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
)

from bot import inviting, joining
from bot.catalogue import Catalogue
from handlers.common import PRIVATE, core_of, deliver, menu_filter, sender_of


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    reply = await core_of(context).inviting.start(sender_of(update))
    await deliver(update, context, reply)


async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    reply = await core_of(context).inviting.press(sender_of(update), query.data)
    await deliver(update, context, reply)


async def decide(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    reply = await core_of(context).inviting.decide(sender_of(update), query.data)
    await deliver(update, context, reply)


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return [
        CommandHandler("invite", start, filters=PRIVATE),
        MessageHandler(menu_filter(catalogue, "invite"), start),
        CallbackQueryHandler(press, pattern=f"^{inviting.PREFIX}:"),
        CallbackQueryHandler(decide, pattern=f"^{joining.PREFIX}:"),
    ]
