"""Answers to whatever form is under way (join, report, …): typed text, photos, a location,
button presses, /cancel, and anything unexpected in between."""

from __future__ import annotations

import logging
from collections import deque

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackContext,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
)

from bot.forms import buttons
from bot.forms.engine import Input, LocationInput, OtherInput, PhotoInput, TextInput
from bot.runtime.services import Sender
from bot.ui.screens import Reply
from handlers.common import PRIVATE, PRIVATE_EDIT, core_of, deliver, send_screen, sender_of

_KINDS = ("sticker", "voice", "video", "video_note", "audio", "animation", "document",
          "contact", "poll", "dice", "game")
ANSWERED_ALBUMS = "answered_albums"
log = logging.getLogger(__name__)


def input_of(message: Message) -> Input:
    if message.photo:
        largest = message.photo[-1]
        return PhotoInput(largest.file_id, largest.file_unique_id)
    if message.venue is not None:
        venue = message.venue
        name = ", ".join(part for part in (venue.title, venue.address) if part)
        return LocationInput(venue.location.latitude, venue.location.longitude, name)
    if message.location is not None:
        return LocationInput(message.location.latitude, message.location.longitude)
    if message.text is not None and not message.text.startswith("/"):
        return TextInput(message.text)
    if message.text is not None:
        return OtherInput("command")
    kind = next((k for k in _KINDS if getattr(message, k, None)), "other")
    return OtherInput(kind)


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    if message is None:
        return
    core = core_of(context)
    sender = sender_of(update)
    given = input_of(message)
    reply = await core.conversations.handle(sender, update.update_id, given)
    if reply is None:
        command = isinstance(given, OtherInput) and given.kind == "command"
        reply = await core.welcome.not_understood(sender, command=command)
    if reply.album:
        _acknowledge_album_later(context, sender, message.chat_id)
    elif message.media_group_id and _album_already_answered(context, message.media_group_id):
        return
    await deliver(update, context, reply)


def _album_already_answered(context: ContextTypes.DEFAULT_TYPE, group: str) -> bool:
    """Photos sent at the wrong moment as an album get one answer, not one per photo."""
    answered = context.chat_data.setdefault(ANSWERED_ALBUMS, deque(maxlen=16))
    if group in answered:
        return True
    answered.append(group)
    return False


def _acknowledge_album_later(
    context: ContextTypes.DEFAULT_TYPE, sender: Sender, chat_id: int
) -> None:
    """An album arrives as one update per photo: wait until they stop coming, then answer
    once with the count."""
    queue = context.job_queue
    if queue is None:
        return
    name = f"album:{sender.user_id}"
    for job in queue.get_jobs_by_name(name):
        job.schedule_removal()
    wait = core_of(context).services.settings.album_wait_seconds
    queue.run_once(_album_done, when=wait, name=name, chat_id=chat_id, data=sender)


async def _album_done(context: CallbackContext) -> None:
    job = context.job
    if job is None or job.chat_id is None or not isinstance(job.data, Sender):
        return
    conversations = core_of(context).conversations
    reply = await conversations.album_received(job.data)
    for screen in reply.screens if reply else ():
        await send_screen(context, job.chat_id, screen)
    await conversations.photos_acknowledged(job.data)


async def sweep_stale_drafts(context: CallbackContext) -> None:
    """The hourly job: drafts left too long are dropped and their owners told."""
    for chat_id, screen in await core_of(context).conversations.expire_stale():
        try:
            await send_screen(context, chat_id, screen)
        except TelegramError as error:
            # One member who blocked the bot must not keep the others from their notice.
            log.warning("could not tell %s their draft expired: %s", chat_id, error)


async def acknowledge_owed_photos(context: CallbackContext) -> None:
    """Run once at start-up, once polling has started: photos taken before the last stop
    and never acknowledged (the album's job, in memory, died with the process) are
    acknowledged now."""
    for user_id in await core_of(context).conversations.photos_owed():
        # As if the photo had just come: the album's job after the quiet time, replaced by
        # the one a replayed photo of theirs schedules. A form's chat is the member's
        # private chat, whose id is theirs.
        _acknowledge_album_later(context, Sender(user_id=user_id, display_name=""), user_id)


async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    reply = await core_of(context).conversations.press(sender_of(update), update.update_id,
                                                        query.data or "")
    await deliver(update, context, reply)


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await deliver(update, context, await core_of(context).conversations.cancel(sender_of(update)))


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button whose data the bot does not know (never sent, or from an old version)."""
    await deliver(update, context, Reply(toast=await core_of(context).welcome.unknown_button(
        sender_of(update))))


async def edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.edited_message
    if message is not None and message.location is not None:
        return  # a live location moving: nothing was typed
    reply = await core_of(context).welcome.edited_message(sender_of(update))
    await deliver(update, context, reply)


def handlers() -> list[BaseHandler]:
    """Registered after every flow's commands and menu buttons, which take precedence."""
    return [
        CommandHandler("cancel", cancel, filters=PRIVATE),
        CallbackQueryHandler(press, pattern=f"^{buttons.PREFIX}:"),
        MessageHandler(PRIVATE, answer),
        MessageHandler(PRIVATE_EDIT, edited),
        CallbackQueryHandler(stale_button),
    ]
