"""Keeps each person's "/" command menu in step with their roles and language: looked at after
every update from a private chat, for everyone a notice went to (a role given by a leader) and
for everyone at start-up."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackContext, ContextTypes, TypeHandler

from bot.command_menus import menu_changes
from handlers.common import core_of, give_command_menu, refresh_command_menus

# After the flows' own handlers (group 0), so that a role just taken is already in the database.
GROUP = 1


async def refresh(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user, chat = update.effective_user, update.effective_chat
    if user is not None and chat is not None and chat.type == chat.PRIVATE:
        await refresh_command_menus(context, [user.id])


async def refresh_everyone(context: CallbackContext) -> None:
    """The start-up pass, as a job so that polling does not wait for it."""
    services = core_of(context).services
    for change in await menu_changes(services):
        await give_command_menu(context.bot, services, change)


def handlers() -> list[BaseHandler]:
    return [TypeHandler(Update, refresh)]
