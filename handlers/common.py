"""What every flow's handlers share: finding the core, naming the sender, and showing a
core `Reply` with Telegram's messages, buttons and keyboards."""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    LinkPreviewOptions,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.flows.command_menus import CommandMenu, menu_change_for, menu_given
from bot.runtime.core import Core
from bot.runtime.services import Sender, Services
from bot.ui.catalogue import Catalogue
from bot.ui.screens import Keyboard, Reply, Screen, split_text
from handlers.pacing import BULK

log = logging.getLogger(__name__)
CORE_KEY = "core"
# New messages in private chats: PTB's ChatType filter alone also lets edited messages through,
# and editing an old message into "/cancel" must not cancel anything.
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
PRIVATE_EDIT = filters.ChatType.PRIVATE & filters.UpdateType.EDITED_MESSAGE
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def core_of_application(application: Application) -> Core:
    return application.bot_data[CORE_KEY]


def core_of(context: ContextTypes.DEFAULT_TYPE) -> Core:
    return core_of_application(context.application)


def install_core(application: Application, core: Core) -> None:
    application.bot_data[CORE_KEY] = core


def sender_of(update: Update) -> Sender:
    user = update.effective_user
    if user is None:
        raise ValueError("an update without a user reached a user handler")
    return Sender(user_id=user.id, display_name=user.full_name)


def menu_filter(catalogue: Catalogue, action: str) -> filters.BaseFilter:
    """The text of one main-menu button, in any language."""
    return PRIVATE & filters.Text(sorted(catalogue.all_values(f"menu.{action}")))


Opens = Callable[[Core, Sender, int], Awaitable[Reply]]
Presses = Callable[[Core, Sender, int, str], Awaitable[Reply]]


def presses_of(prefix: str, presses: Presses) -> CallbackQueryHandler:
    """A private flow's buttons (`<prefix>:…`). Pressed in a group, where the data could have
    been forged, they answer nothing but a note: their screens are someone's records."""
    async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, chat = update.callback_query, update.effective_chat
        if query is None or query.data is None:
            return
        core, sender = core_of(context), sender_of(update)
        if chat is None or chat.type != ChatType.PRIVATE:
            reply = await core.welcome.private_only(sender)
        else:
            reply = await presses(core, sender, update.update_id, query.data)
        await deliver(update, context, reply)

    return CallbackQueryHandler(press, pattern=f"^{prefix}:")


def private_flow(catalogue: Catalogue, command: str, opens: Opens, prefix: str,
                 presses: Presses, menu: bool = True) -> list[BaseHandler]:
    """A flow of the private chat: `/command` (and its main-menu button) opens it, its buttons
    carry `<prefix>:…`."""
    async def open_flow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        reply = await opens(core_of(context), sender_of(update), update.update_id)
        await deliver(update, context, reply)

    found: list[BaseHandler] = [CommandHandler(command, open_flow, filters=PRIVATE)]
    if menu:
        found.append(MessageHandler(menu_filter(catalogue, command), open_flow))
    return [*found, presses_of(prefix, presses)]


def _markup(screen: Screen) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    if screen.menu is not None:
        return ReplyKeyboardMarkup(screen.menu, resize_keyboard=True, is_persistent=True)
    return _inline(screen.buttons)


def _inline(buttons: Keyboard) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in buttons]
    )


async def send_screen(context: ContextTypes.DEFAULT_TYPE, chat_id: int, screen: Screen) -> None:
    bot = context.bot
    if len(screen.photos) == 1:
        await bot.send_photo(chat_id, screen.photos[0])
    elif screen.photos:
        await bot.send_media_group(chat_id, [InputMediaPhoto(p) for p in screen.photos])
    parts = split_text(screen.text)
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        await bot.send_message(chat_id, part, parse_mode=ParseMode.HTML,
                               reply_markup=_markup(screen) if last else None,
                               link_preview_options=NO_PREVIEW)


async def _replace(message: Message, screen: Screen) -> bool:
    """Shows the screen in place of the message whose button was pressed, where it can."""
    if screen.menu is not None or screen.photos or len(split_text(screen.text)) > 1:
        return False
    try:
        await message.edit_text(screen.text, parse_mode=ParseMode.HTML,
                                reply_markup=_inline(screen.buttons),
                                link_preview_options=NO_PREVIEW)
    except BadRequest as error:
        # Pressing the same toggle twice quickly redraws an identical screen.
        if "not modified" not in str(error).lower():
            raise
    return True


async def _close(context: ContextTypes.DEFAULT_TYPE, message: Message) -> None:
    """Takes the buttons off the message just answered: after the answer, and only with room
    no reply wants (a broadcast's priority), since every press is checked again anyway."""
    try:
        await context.bot.edit_message_reply_markup(message.chat_id, message.message_id,
                                                    reply_markup=None, rate_limit_args=BULK)
    except BadRequest:
        pass  # already without buttons, or too old to edit
    except RetryAfter as error:
        log.info("buttons left on message %s: %s", message.message_id, error)


async def _answer(query: CallbackQuery, toast: str | None) -> bool:
    """Answers the press (stops the client's spinner, shows the note); False when Telegram
    refuses: the press was answered already (by a process that died before showing what it
    led to) or is too old (the bot was down)."""
    try:
        await query.answer(toast)
    except BadRequest as error:
        log.info("press %s not answered: %s", query.id, error)
        return False
    return True


async def deliver(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply) -> None:
    chat = update.effective_chat
    query = update.callback_query
    screens = list(reply.screens)
    if query is not None and not await _answer(query, reply.toast) and reply.toast and (
            not screens):
        # The note was all there was to show: without it the press would seem to do nothing
        # (e.g. ✅ Gửi replayed after a crash that came between answering the press and showing
        # the report received), so it comes as a message.
        screens = [Screen(html.escape(reply.toast))]
    message = query.message if query is not None else None
    replaced = False
    if isinstance(message, Message) and screens and reply.replace:
        replaced = await _replace(message, screens[0])
        screens = screens[1:] if replaced else screens
    for screen in screens:
        if chat is not None:
            await send_screen(context, chat.id, screen)
    if isinstance(message, Message) and reply.close and not replaced:
        await _close(context, message)
    for chat_id, screen in reply.notices:
        try:
            await send_screen(context, chat_id, screen)
        except TelegramError as error:
            # Someone who blocked the bot must not undo what the sender did.
            log.warning("could not notify %s: %s", chat_id, error)
    # A notice may tell someone of a role given or taken: their command menu follows at once.
    await refresh_command_menus(context, [chat_id for chat_id, _ in reply.notices if chat_id > 0])


async def give_command_menu(bot: Bot, services: Services, change: CommandMenu) -> None:
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


async def refresh_command_menus(context: ContextTypes.DEFAULT_TYPE, user_ids: list[int]) -> None:
    """Sends the people's "/" command menus where their roles or language changed them."""
    services = core_of(context).services
    for user_id in user_ids:
        async with services.db.transaction() as tx:
            change = await menu_change_for(tx, services, user_id)
        if change is not None:
            await give_command_menu(context.bot, services, change)
