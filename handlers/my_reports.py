"""📋 Việc đã báo cáo (/my): the member's reports, one report, correct or withdraw."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
)

from bot import my_reports
from bot.catalogue import Catalogue
from handlers.common import PRIVATE, core_of, deliver, menu_filter, sender_of


async def list_reports(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    reply = await core_of(context).my_reports.listing(sender_of(update))
    await deliver(update, context, reply)


async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    reply = await core_of(context).my_reports.act(sender_of(update), update.update_id,
                                                  query.data)
    await deliver(update, context, reply)


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return [
        CommandHandler("my", list_reports, filters=PRIVATE),
        MessageHandler(menu_filter(catalogue, "my"), list_reports),
        CallbackQueryHandler(press, pattern=f"^{my_reports.PREFIX}:"),
    ]
