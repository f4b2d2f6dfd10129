"""/lang: choosing Vietnamese or English."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.flows import language
from handlers.common import PRIVATE, core_of, deliver, sender_of


async def choose_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await deliver(update, context, await core_of(context).language.choices(sender_of(update)))


async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    data = update.callback_query.data if update.callback_query else None
    reply = await core_of(context).language.choose(sender_of(update), data or "")
    await deliver(update, context, reply)


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("lang", choose_language, filters=PRIVATE),
        CallbackQueryHandler(press, pattern=f"^{language.PREFIX}:"),
    ]
