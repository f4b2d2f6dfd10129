"""❓ Hướng dẫn (/help) and /start without an invite code (joining with one is
handlers/joins.py)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, MessageHandler

from bot.ui.catalogue import Catalogue
from handlers.common import PRIVATE, answer, core_of, menu_filter


async def show_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await answer(update, context, core_of(context).welcome.help)


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return [
        CommandHandler("help", show_help, filters=PRIVATE),
        MessageHandler(menu_filter(catalogue, "help"), show_help),
    ]
