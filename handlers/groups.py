"""Telegram side of bot/flows/groups.py: /link and /unlink in groups (and the explanation in a
private chat), the picker's `gl:` buttons, the bot added to or removed from a group, and a group
upgraded to a supergroup. Nothing else said in a group reaches any handler: the bot stays quiet
there."""

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
from bot.ui.catalogue import Catalogue
from handlers.common import PRIVATE, core_of, deliver, sender_of

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
    reply = await core_of(context).groups.link(sender_of(update), message.chat_id, anonymous)
    await deliver(update, context, reply)


async def unlink(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    if message is None:
        return
    reply = await core_of(context).groups.unlink(sender_of(update), message.chat_id)
    await deliver(update, context, reply)


async def link_in_private(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await deliver(update, context, await core_of(context).groups.in_private(sender_of(update)))


async def unlink_in_private(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    reply = await core_of(context).groups.in_private(sender_of(update), unlink=True)
    await deliver(update, context, reply)


async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    chat = query.message.chat if query.message is not None else None
    in_group = chat is not None and chat.type in GROUP_TYPES
    reply = await core_of(context).groups.press(sender_of(update), chat.id if chat else 0,
                                                in_group, query.data or "")
    await deliver(update, context, reply)


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
    core = core_of(context)
    if now and not was:
        reply = await core.groups.bot_added(sender_of(update), change.chat.id)
        try:
            await deliver(update, context, reply)
        except TelegramError as error:
            # Added without the right to write: the link still works once someone sends /link.
            log.warning("could not greet group %s: %s", change.chat.id, error)
    elif was and not now:
        await core.groups.bot_removed(sender_of(update), change.chat.id)


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
    await core_of(context).groups.migrated(old, new)


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return [
        CommandHandler("link", link, filters=GROUPS),
        CommandHandler("unlink", unlink, filters=GROUPS),
        CommandHandler("link", link_in_private, filters=PRIVATE),
        CommandHandler("unlink", unlink_in_private, filters=PRIVATE),
        MessageHandler(filters.StatusUpdate.MIGRATE, migrated),
        GroupMembershipHandler(),
        CallbackQueryHandler(press, pattern=f"^{groups.PREFIX}:"),
    ]
