"""What every flow's handlers share: finding the core, answering an update through its request
(who asks, read once, and one transaction), reading a button's data by its declaration, and
showing a core `Reply` with Telegram's messages, buttons and keyboards (handlers/screens.py)."""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import replace
from typing import Any, Protocol, TypeVar, cast

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    CallbackQuery,
    Message,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)

from bot.flows.command_menus import CommandMenu, menu_change_for, menu_given
from bot.rules.access import Request, unreadable
from bot.runtime.core import Core
from bot.runtime.services import Sender, Services
from bot.ui import buttons
from bot.ui.buttons import ButtonData
from bot.ui.catalogue import Catalogue
from bot.ui.screens import Document, Reply, Screen, split_text
from handlers.pacing import BULK
from handlers.screens import NO_PREVIEW, Part, inline, send_document, send_part, send_screen

log = logging.getLogger(__name__)
CORE_KEY = "core"
# chat_data: the message where the chat's form stands, the one whose buttons work.
FORM_MESSAGE = "form_message"
TOAST_MAX = 200  # characters Telegram shows in a press's note
# bot_data: the tidying edits under way (see tidy_later).
TIDYING = "tidying"
# New messages in private chats: PTB's ChatType filter alone also lets edited messages through,
# and editing an old message into "/cancel" must not cancel anything.
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
PRIVATE_EDIT = filters.ChatType.PRIVATE & filters.UpdateType.EDITED_MESSAGE

T = TypeVar("T")
UseCase = Callable[[Request], Awaitable[Reply]]


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


async def run_request(update: Update, context: ContextTypes.DEFAULT_TYPE,
                      use_case: Callable[[Request], Awaitable[T]]) -> T:
    """The use case in the update's request: who asks is read once, everything it does is one
    transaction, and what waits for the commit runs after it. A service message may come from
    nobody (a group upgraded to a supergroup): it is asked by no one the bot knows."""
    user = update.effective_user
    user_id, name = (user.id, user.full_name) if user is not None else (0, "")
    async with core_of(context).requests.begin(user_id, name, update.update_id) as req:
        return await use_case(req)


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE, use_case: UseCase) -> None:
    """The one way an update is answered: its request run, its reply shown."""
    await deliver(update, context, await run_request(update, context, use_case))


def menu_filter(catalogue: Catalogue, action: str) -> filters.BaseFilter:
    """The text of one main-menu button, in any language."""
    return PRIVATE & filters.Text(sorted(catalogue.all_values(f"menu.{action}")))


Presses = Callable[[Core, Request, Any], Awaitable[Reply]]


def pattern_of(kinds: Sequence[type[ButtonData]]) -> str:
    """The data of these kinds of buttons (and anything else under their prefixes, so that
    garbled data of a flow is refused by it)."""
    return "^(?:" + "|".join(re.escape(f) for f in buttons.families(kinds)) + "):"


def presses_of(kinds: Sequence[type[ButtonData]], presses: Presses, stale: str,
               private: bool = True) -> CallbackQueryHandler:
    """A flow's buttons: the data read by its declaration and handed to the flow as a typed
    press; data no declaration of the flow made is refused with the `stale` note and logged.
    A private flow's buttons pressed in a group, where the data could have been forged, answer
    nothing but a note: their screens are someone's records."""
    async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, chat = update.callback_query, update.effective_chat
        if query is None or query.data is None:
            return
        data, core = query.data, core_of(context)
        pressed = buttons.read(data)

        async def use_case(req: Request) -> Reply:
            if private and (chat is None or chat.type != ChatType.PRIVATE):
                return Reply(toast=req.t.plain("fallback.private_only"))
            if pressed is None or type(pressed) not in kinds:
                return await unreadable(req, data, stale)
            return await presses(core, req, pressed)

        await answer(update, context, use_case)

    return CallbackQueryHandler(press, pattern=pattern_of(kinds))


class PrivateFlow(Protocol):
    """A flow of the private chat: opened by its command, then driven by its buttons."""

    async def open(self, req: Request) -> Reply: ...

    async def press(self, req: Request, press: Any) -> Reply: ...


class FlowButtons(Protocol):
    """A flow module: its kinds of buttons, and the note for data none of them made."""

    @property
    def BUTTONS(self) -> Sequence[type[ButtonData]]: ...  # a module's constants, read only

    @property
    def STALE(self) -> str: ...


def private_flow(catalogue: Catalogue, command: str, buttons_of: FlowButtons,
                 flow_of: Callable[[Core], PrivateFlow], menu: bool = True) -> list[BaseHandler]:
    """`/command` (and its main-menu button) opens the flow; its buttons are the module's."""
    async def open_flow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await answer(update, context, flow_of(core_of(context)).open)

    found: list[BaseHandler] = [CommandHandler(command, open_flow, filters=PRIVATE)]
    if menu:
        found.append(MessageHandler(menu_filter(catalogue, command), open_flow))
    presses = presses_of(buttons_of.BUTTONS,
                         lambda core, req, press: flow_of(core).press(req, press),
                         buttons_of.STALE)
    return [*found, presses]


def _replace_fits(screen: Screen) -> bool:
    """One message's text can take the screen's place: no menu, no pictures, not too long."""
    return (screen.menu is None and not screen.photos and screen.image is None
            and len(split_text(screen.text)) == 1)


async def _replace(message: Message, screen: Screen) -> bool:
    """Shows the screen in place of the message whose button was pressed, where it can (not
    in place of a picture whose caption is its text: a digest's chart)."""
    if not _replace_fits(screen) or message.text is None:
        return False
    try:
        await message.edit_text(screen.text, parse_mode=ParseMode.HTML,
                                reply_markup=inline(screen.buttons),
                                link_preview_options=NO_PREVIEW)
    except BadRequest as error:
        # Pressing the same toggle twice quickly redraws an identical screen.
        if "not modified" not in str(error).lower():
            raise
    return True


def tidy_later(context: ContextTypes.DEFAULT_TYPE, edit: Coroutine[Any, Any, None]) -> None:
    """An edit that tidies the chat (an answer recorded, old buttons taken off) goes with the
    room replies leave, which in a private chat can be a second away: it must not hold the
    update, for the member's next one waits for this one to end."""
    if not context.application.running:
        edit.close()  # stopping: an old button left is checked like any other when pressed
        return
    pending: set[asyncio.Task[None]] = context.application.bot_data.setdefault(TIDYING, set())
    task = context.application.create_task(edit, name="tidy")
    pending.add(task)
    task.add_done_callback(pending.discard)


async def tidied(application: Application) -> None:
    """Returns once every tidying edit asked for so far is done (tests, and a stop)."""
    pending: set[asyncio.Task[None]] = application.bot_data.get(TIDYING, set())
    while pending:
        await asyncio.gather(*list(pending), return_exceptions=True)


async def _record_answer(bot: Bot, message: Message, screen: Screen) -> None:
    """Turns the pressed question into the answer given ("🏷 Lĩnh vực: ✓ Xã hội"), its
    buttons gone: after the next question is sent, and with room no reply wants, like
    `_close` (a press on it meanwhile is checked as any old button is)."""
    paced = cast("ExtBot[dict[str, Any]]", bot)
    try:
        await paced.edit_message_text(screen.text, message.chat_id, message.message_id,
                                      parse_mode=ParseMode.HTML, reply_markup=None,
                                      link_preview_options=NO_PREVIEW, rate_limit_args=BULK)
    except BadRequest:
        pass  # too old to edit, or already so
    except TelegramError as error:
        # The answer stands and the next question is out: only the record is missing.
        log.info("answer not recorded on message %s: %s", message.message_id, error)


async def _close(bot: Bot, chat_id: int, message_id: int) -> None:
    """Takes the buttons off a message already answered: after the answer, and only with room
    no reply wants (a broadcast's priority), since every press is checked again anyway."""
    # context.bot is the application's ExtBot, paced by PacedRateLimiter (bot/runtime/app.py),
    # whose rate_limit_args are a dict; PTB's ContextTypes.DEFAULT_TYPE types it ExtBot[None].
    paced = cast("ExtBot[dict[str, Any]]", bot)
    try:
        await paced.edit_message_reply_markup(chat_id, message_id, reply_markup=None,
                                              rate_limit_args=BULK)
    except BadRequest:
        pass  # already without buttons, or too old to edit
    except TelegramError as error:
        log.info("buttons left on message %s: %s", message_id, error)


async def show_form_screens(context: ContextTypes.DEFAULT_TYPE, chat_id: int,
                            screens: Sequence[Screen], shown: int | None = None,
                            shown_live: bool = False) -> int | None:
    """Sends a form's screens; the last one is where the form stands, and the form's message
    shown before it loses its buttons. `shown`: the pressed message, already redrawn in place
    (`shown_live`: with buttons). The message whose buttons it took off, if any."""
    live = await send_form_screens(context.bot, chat_id, screens, shown, shown_live)
    return await form_stands_at(context, chat_id, live, shown)


async def send_form_screens(bot: Bot, chat_id: int, screens: Sequence[Screen],
                            shown: int | None = None, shown_live: bool = False) -> int | None:
    """The id of the message where the form now stands, if its buttons work: the last one
    sent with buttons, else `shown`."""
    live = shown if shown_live else None
    for screen in screens:
        sent = await send_screen(bot, chat_id, screen)
        if sent is not None and screen.buttons:
            live = sent.message_id
    return live


async def form_stands_at(context: ContextTypes.DEFAULT_TYPE, chat_id: int, live: int | None,
                         shown: int | None = None) -> int | None:
    """`live` is the chat's form message whose buttons work (None: none does): the one before
    it (remembered per chat, in memory: after a restart an old button still works only as far
    as the form lets it) loses its buttons. The message whose buttons it took off, if any."""
    chat_data = context.chat_data
    if chat_data is None:
        return None
    previous = chat_data.pop(FORM_MESSAGE, None)
    if live is not None:
        chat_data[FORM_MESSAGE] = live
    if previous is None or previous in (live, shown):
        return None
    tidy_later(context, _close(context.bot, chat_id, previous))
    return previous


async def _answer(query: CallbackQuery, toast: str | None) -> bool:
    """Answers the press (stops the client's spinner, shows the note); False when Telegram
    refuses: the press was answered already (by a process that died before showing what it
    led to) or is too old (the bot was down)."""
    if toast is not None and len(toast) > TOAST_MAX:
        toast = toast[:TOAST_MAX - 1] + "…"  # a unit's name may be long (150 characters)
    try:
        await query.answer(toast)
    except BadRequest as error:
        log.info("press %s not answered: %s", query.id, error)
        return False
    return True


async def _pictured(bot: Bot, chat_id: int, draw: Callable[[], Awaitable[bytes]],
                    screens: list[Screen]) -> list[Screen]:
    """The reply's picture, drawn now: put on its first screen (before the text, or with the
    text as its caption: one message), or sent alone when there is no screen."""
    picture = await draw()
    if screens:
        return [replace(screens[0], image=picture), *screens[1:]]
    try:
        await send_part(bot, chat_id, Part(photo=picture))
    except TelegramError as error:
        log.warning("could not send a picture to %s: %s", chat_id, error)
    return screens


async def _send_reply_screen(bot: Bot, chat_id: int, screen: Screen) -> None:
    try:
        await send_screen(bot, chat_id, screen)
    except TelegramError as error:
        if screen.image is None:
            raise
        # The figures still matter without their picture.
        log.warning("could not send a picture to %s: %s", chat_id, error)
        await send_screen(bot, chat_id, replace(screen, image=None))


async def _send_made_document(bot: Bot, chat_id: int,
                              make: Callable[[], Awaitable[Document | Screen]]) -> None:
    """The chat shows "sending a file…" while it is made (a big export takes seconds)."""
    await bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT)
    made = await make()
    if isinstance(made, Screen):
        await send_screen(bot, chat_id, made)
    else:
        await send_document(bot, chat_id, made)


async def _in_place(message: object, reply: Reply, screens: list[Screen]
                    ) -> tuple[Screen | None, list[Screen], bool]:
    """What takes the pressed message's place: the first screen, redrawn now, or, when it is
    the answer just given, recorded on its question once the next one is out (`record`).
    Returns the record, the screens left to send, and whether the message was taken."""
    if not isinstance(message, Message) or not screens or not reply.replace:
        return None, screens, False
    if len(screens) > 1 and not screens[0].buttons and _replace_fits(screens[0]):
        return screens[0], screens[1:], True
    replaced = await _replace(message, screens[0])
    return None, screens[1:] if replaced else screens, replaced


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
    if reply.picture is not None and chat is not None:
        screens = await _pictured(context.bot, chat.id, reply.picture, screens)
    record, screens, replaced = await _in_place(message, reply, screens)
    closed = None
    if chat is not None and reply.prompt:
        shown = message.message_id if isinstance(message, Message) and replaced else None
        closed = await show_form_screens(context, chat.id, screens, shown,
                                         bool(reply.screens and reply.screens[0].buttons))
    elif chat is not None:
        for screen in screens:
            await _send_reply_screen(context.bot, chat.id, screen)
    if reply.document is not None and chat is not None:
        await _send_made_document(context.bot, chat.id, reply.document)
    if isinstance(message, Message) and record is not None:
        tidy_later(context, _record_answer(context.bot, message, record))
    if (isinstance(message, Message) and reply.close and not replaced
            and closed != message.message_id):
        tidy_later(context, _close(context.bot, message.chat_id, message.message_id))
    for chat_id, screen in reply.notices:
        try:
            await send_screen(context.bot, chat_id, screen)
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
