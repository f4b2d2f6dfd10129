"""The last resort: log the failure and tell the person, in their language, that something
went wrong (and stop the spinner on a pressed button)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.runtime.standby import LeaseLost
from handlers.common import answer, core_of
from storage.db import DatabaseUnavailable

log = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    if isinstance(context.error, LeaseLost):
        # Not a failure of the update: this process may no longer answer anyone; the one that
        # holds the lease now replays it (bot/runtime/standby.py).
        log.info("update %s left to the process that holds the lease now",
                 getattr(update, "update_id", "?"))
        return
    log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)
    if not isinstance(update, Update) or update.effective_user is None:
        return
    if update.effective_chat is None or update.effective_chat.type != ChatType.PRIVATE:
        return
    try:
        try:
            await answer(update, context, core_of(context).welcome.trouble)
        except DatabaseUnavailable:
            # Nothing can be read (not even the person's language) while the database server
            # is away: the same words in the default language, sent as they are.
            trouble = core_of(context).services.texts(None).plain("error.generic")
            await context.bot.send_message(update.effective_chat.id, trouble)
    except Exception:  # the error handler itself must not raise
        log.warning("could not tell chat %s about the error", update.effective_chat.id)
