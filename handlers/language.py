"""/lang: choosing Vietnamese or English."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes

from bot.flows import language
from handlers.common import PRIVATE, answer, core_of, presses_of


async def choose_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await answer(update, context, core_of(context).language.choices)


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("lang", choose_language, filters=PRIVATE),
        presses_of(language.BUTTONS, lambda core, req, press: core.language.choose(req, press),
                   language.STALE),
    ]
