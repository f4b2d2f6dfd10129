"""Keeps each person's "/" command menu in step with their roles and language: looked at after
every update from a private chat, for everyone a notice went to (a role given by a leader) and
for everyone at start-up."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackContext, ContextTypes, TypeHandler

from bot.flows.command_menus import MenuChecks, menu_changes
from handlers.common import core_of, give_command_menu

# After the flows' own handlers (group 0), so that a role just taken is already in the database.
GROUP = 1
CHECKS = "command_menu_checks"  # the application's MenuChecks, in bot_data


async def refresh(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != chat.PRIVATE:
        return
    checks = context.bot_data.setdefault(CHECKS, MenuChecks())
    services = core_of(context).services
    change = await checks.change_for(services, user.id)
    if change is not None:
        await give_command_menu(context.bot, services, change)


async def refresh_everyone(context: CallbackContext) -> None:
    """The start-up pass, as a job so that polling does not wait for it."""
    services = core_of(context).services
    for change in await menu_changes(services):
        await give_command_menu(context.bot, services, change)


def handlers() -> list[BaseHandler]:
    return [TypeHandler(Update, refresh)]
