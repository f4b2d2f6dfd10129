"""The Telegram side of bot/flows/groups.py: /link and /unlink in groups (and the explanation in a
private chat), the picker's `gl:` buttons, the bot added to or removed from a group, and a group
upgraded to a supergroup; a command or main-menu word of the private chat sent in a group gets
a pointer there. Nothing else said in a group reaches any handler: the bot stays quiet there."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.flows import groups
from bot.flows.menu import ACTIONS
from bot.rules.access import Request, unreadable
from bot.ui import buttons
from bot.ui.catalogue import Catalogue
from bot.ui.screens import Reply
from handlers.common import PRIVATE, answer, core_of, deliver, pattern_of, run_request

log = logging.getLogger(__name__)
# New messages in groups and supergroups (an edited "/link" does nothing, as in private chats).
GROUPS = filters.ChatType.GROUPS & filters.UpdateType.MESSAGE
GROUP_TYPES = (ChatType.GROUP, ChatType.SUPERGROUP)
INSIDE = (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


async def link(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    if message is None:
        return
    # An anonymous group admin writes as the group itself: nobody to check.
    anonymous = message.sender_chat is not None
    groups_flow = core_of(context).groups
    await answer(update, context,
                 lambda req: groups_flow.link(req, message.chat_id, anonymous))


async def unlink(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    if message is None:
        return
    groups_flow = core_of(context).groups
    await answer(update, context, lambda req: groups_flow.unlink(req, message.chat_id))


async def link_in_private(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await answer(update, context, core_of(context).groups.in_private)


async def unlink_in_private(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await answer(update, context, lambda req: core_of(context).groups.in_private(req, True))


async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button of the /link picker: only in the group it was shown in."""
    query = update.callback_query
    if query is None:
        return
    chat = query.message.chat if query.message is not None else None
    in_group = chat is not None and chat.type in GROUP_TYPES
    data = query.data or ""
    pressed = buttons.read(data)
    groups_flow = core_of(context).groups

    async def use_case(req: Request) -> Reply:
        if chat is None or not in_group or not isinstance(pressed, groups.BUTTONS):
            return await unreadable(req, data, groups.STALE)
        return await groups_flow.press(req, chat.id, pressed)

    await answer(update, context, use_case)


async def _point(update: Update, context: ContextTypes.DEFAULT_TYPE, command: str) -> None:
    message = update.message
    if message is None:
        return
    groups_flow, chat_id = core_of(context).groups, message.chat_id
    await answer(update, context, lambda req: groups_flow.private_only(
        req, chat_id, command, context.bot.username))


async def private_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/report, /my, /stats … in a group: "/report@LanToaBot now" is report."""
    text = update.message.text if update.message is not None else None
    if text:
        await _point(update, context, text.split()[0][1:].split("@")[0].lower())


def _menu_words(catalogue: Catalogue) -> dict[str, str]:
    """The main menu's words, in every language, and the command each stands for."""
    return {word: action for action in ACTIONS if action in groups.PRIVATE_ONLY
            for word in catalogue.all_values(f"menu.{action}")}


def menu_word_handler(catalogue: Catalogue) -> MessageHandler:
    """A main-menu word typed (or pressed on an old keyboard) in a group: seen only where the
    bot reads the group's messages (privacy mode off, or an admin)."""
    words = _menu_words(catalogue)

    async def menu_word(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        text = update.message.text if update.message is not None else None
        if text in words:
            await _point(update, context, words[text])

    return MessageHandler(GROUPS & filters.Text(sorted(words)), menu_word)


class GroupMembershipHandler(ChatMemberHandler):
    """The bot's own membership changes in groups only: a member blocking the bot in a private
    chat is a my_chat_member update too, and stays free for whatever handles that."""

    def __init__(self) -> None:
        super().__init__(membership, ChatMemberHandler.MY_CHAT_MEMBER)

    def check_update(self, update: object) -> bool:
        change = update.my_chat_member if isinstance(update, Update) else None
        return (change is not None and change.chat.type in GROUP_TYPES
                and bool(super().check_update(update)))


def _inside(member: ChatMember) -> bool:
    if member.status == ChatMemberStatus.RESTRICTED:
        return bool(getattr(member, "is_member", False))
    return member.status in INSIDE


async def membership(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot's own status in a group changed: added, promoted, removed."""
    change = update.my_chat_member
    if change is None or change.chat.type not in GROUP_TYPES:
        return
    was, now = _inside(change.old_chat_member), _inside(change.new_chat_member)
    groups_flow, chat_id = core_of(context).groups, change.chat.id
    if now and not was:
        reply = await run_request(update, context, lambda req: groups_flow.bot_added(req, chat_id))
        try:
            await deliver(update, context, reply)
        except TelegramError as error:
            # Added without the right to write: the link still works once someone sends /link.
            log.warning("could not greet group %s: %s", chat_id, error)
    elif was and not now:
        await run_request(update, context, lambda req: groups_flow.bot_removed(req, chat_id))


async def migrated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group upgraded to a supergroup: Telegram says so in the old chat (migrate_to_chat_id)
    and in the new one (migrate_from_chat_id), in either order."""
    message = update.message
    if message is None:
        return
    if message.migrate_to_chat_id is not None:
        old, new = message.chat_id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id is not None:
        old, new = message.migrate_from_chat_id, message.chat_id
    else:
        return
    groups_flow = core_of(context).groups
    await run_request(update, context, lambda req: groups_flow.migrated(req, old, new))


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return [
        CommandHandler("link", link, filters=GROUPS),
        CommandHandler("unlink", unlink, filters=GROUPS),
        CommandHandler("link", link_in_private, filters=PRIVATE),
        CommandHandler("unlink", unlink_in_private, filters=PRIVATE),
        CommandHandler(list(groups.PRIVATE_ONLY), private_command, filters=GROUPS),
        menu_word_handler(catalogue),
        MessageHandler(filters.StatusUpdate.MIGRATE, migrated),
        GroupMembershipHandler(),
        CallbackQueryHandler(press, pattern=pattern_of(groups.BUTTONS)),
    ]
