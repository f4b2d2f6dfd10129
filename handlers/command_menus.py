"""Keeps each person's "/" command menu in step with their roles and language: looked at after
every update from a private chat (a role given by someone else shows at the person's next
message) and for everyone at start-up."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackContext, ContextTypes, TypeHandler

from bot.command_menus import CommandMenu, menu_change_for, menu_changes, menu_given
from bot.services import Services
from handlers.common import core_of

log = logging.getLogger(__name__)
# After the flows' own handlers (group 0), so that a role just taken is already in the database.
GROUP = 1


async def give(bot: Bot, services: Services, change: CommandMenu) -> None:
    scope = BotCommandScopeChat(change.user_id)
    try:
        if change.commands is None:
            await bot.delete_my_commands(scope=scope)
        else:
            await bot.set_my_commands([BotCommand(c, d) for c, d in change.commands],
                                      scope=scope)
    except TelegramError as error:
        log.warning("could not set the command menu of %s: %s", change.user_id, error)
        return
    await menu_given(services, change)


async def refresh(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != chat.PRIVATE:
        return
    services = core_of(context).services
    async with services.db.transaction() as tx:
        change = await menu_change_for(tx, services, user.id)
    if change is not None:
        await give(context.bot, services, change)


async def refresh_everyone(context: CallbackContext) -> None:
    """The start-up pass, as a job so that polling does not wait for it."""
    services = core_of(context).services
    for change in await menu_changes(services):
        await give(context.bot, services, change)


def handlers() -> list[BaseHandler]:
    return [TypeHandler(Update, refresh)]
