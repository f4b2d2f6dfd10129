"""📝 Báo cáo việc làm theo Bác (/report): opens the report form."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, MessageHandler

from bot.flows.reports import start_report
from bot.ui.catalogue import Catalogue
from handlers.common import PRIVATE, core_of, deliver, menu_filter, sender_of


async def report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    core = core_of(context)
    reply = await start_report(core.services, core.conversations, sender_of(update),
                               update.update_id)
    await deliver(update, context, reply)


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return [
        CommandHandler("report", report, filters=PRIVATE),
        MessageHandler(menu_filter(catalogue, "report"), report),
    ]
