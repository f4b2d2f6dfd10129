"""/start: joining through an invite link, or a greeting."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes

from bot.flows.joins import start_join
from handlers.common import PRIVATE, core_of, deliver, sender_of


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    core = core_of(context)
    sender = sender_of(update)
    if context.args:
        reply = await start_join(core.services, core.conversations, sender, update.update_id,
                                 context.args[0])
    else:
        reply = await core.welcome.start(sender)
    await deliver(update, context, reply)


def handlers() -> list[BaseHandler]:
    return [CommandHandler("start", start, filters=PRIVATE)]
