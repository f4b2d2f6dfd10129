"""The last resort: log the failure and tell the person something went wrong."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from handlers.common import core_of

log = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type != "private":
        return
    t = core_of(context).services.texts(None)
    try:
        await context.bot.send_message(update.effective_chat.id, t.plain("error.generic"))
    except Exception:  # the error handler itself must not raise
        log.warning("could not tell chat %s about the error", update.effective_chat.id)
