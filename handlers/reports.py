"""📝 Báo cáo việc làm theo Bác (/report): opens the report form."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, MessageHandler

from bot.ui.catalogue import Catalogue
from handlers.common import PRIVATE, answer, core_of, menu_filter


async def report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await answer(update, context, core_of(context).reports.start)


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return [
        CommandHandler("report", report, filters=PRIVATE),
        MessageHandler(menu_filter(catalogue, "report"), report),
    ]
