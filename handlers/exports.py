"""📤 Xuất dữ liệu (/export) and 📄 Báo cáo Word (/report_doc): the Telegram side of
bot/flows/exports.py. Both open the same picker, whose buttons say what it makes."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes

from bot.flows import exports
from bot.ui.catalogue import Catalogue
from handlers.common import PRIVATE, answer, core_of, private_flow


async def word_report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await answer(update, context, core_of(context).exports.open_word_report)


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return [*private_flow(catalogue, "export", exports, lambda core: core.exports),
            CommandHandler("report_doc", word_report, filters=PRIVATE)]
