"""❓ Hướng dẫn (/help)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, MessageHandler

from bot.ui.catalogue import Catalogue
from handlers.common import PRIVATE, core_of, deliver, menu_filter, sender_of


async def show_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await deliver(update, context, await core_of(context).welcome.help(sender_of(update)))


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return [
        CommandHandler("help", show_help, filters=PRIVATE),
        MessageHandler(menu_filter(catalogue, "help"), show_help),
    ]
