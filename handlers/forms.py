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

from bot.flows.quick_reports import Written
from bot.forms.buttons import FormStep
from bot.forms.engine import Input, LocationInput, OtherInput, PhotoInput, TextInput
from bot.rules.access import Request, unreadable
from bot.runtime.services import Sender
from bot.ui.screens import Reply
from handlers.common import (
    PRIVATE,
    PRIVATE_EDIT,
    answer,
    core_of,
    deliver,
    form_stands_at,
    presses_of,
    run_request,
    send_form_screens,
    sender_of,
)
from handlers.screens import send_screen

_KINDS = ("sticker", "voice", "video", "video_note", "audio", "animation", "document",
          "contact", "poll", "dice", "game")
ANSWERED_ALBUMS = "answered_albums"
log = logging.getLogger(__name__)


def written_of(message: Message, given: Input) -> Written:
    """The message as a report written in one message reads it (`given`: as a form does)."""
    return Written(message_id=message.message_id, text=message.text or message.caption,
                   photo=given if isinstance(given, PhotoInput) else None,
                   forwarded=message.forward_origin is not None,
                   kind=given.kind if isinstance(given, OtherInput) else None)


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


async def answer_form(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    if message is None:
        return
    core = core_of(context)
    given = input_of(message)
    written = written_of(message, given)
    command = isinstance(given, OtherInput) and given.kind == "command"

    async def use_case(req: Request) -> Reply:
        reply = await core.member_import.not_a_file(req, given)
        reply = reply or await core.quick_reports.follow_up(req, written)
        reply = reply or await core.conversations.handle(req, given)
        if reply is None and not command:
            reply = await core.quick_reports.offer(req, written)
        return reply or await core.welcome.not_understood(req, command=command)

    reply = await run_request(update, context, use_case)
    if reply.album:
        _acknowledge_album_later(context, sender_of(update), message.chat_id)
    elif message.media_group_id and _album_already_answered(context, message.media_group_id):
        return
    await deliver(update, context, reply)


def _album_already_answered(context: ContextTypes.DEFAULT_TYPE, group: str) -> bool:
    """Photos sent at the wrong moment as an album get one answer, not one per photo."""
    chat_data = context.chat_data
    assert chat_data is not None, "a message always comes from a chat"
    answered = chat_data.setdefault(ANSWERED_ALBUMS, deque(maxlen=16))
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
    core = core_of(context)
    # A job, not an update: the request of the person whose photos they are.
    async with core.requests.begin(job.data.user_id, job.data.display_name) as req:
        reply = await core.conversations.album_received(req)
        stood = await core.conversations.draft_stands(req)
    live = None
    if reply is not None:
        live = await send_form_screens(context.bot, job.chat_id, reply.screens)
    async with core.requests.begin(job.data.user_id, job.data.display_name) as req:
        await core.conversations.photos_acknowledged(req, stood)
    # Owed no more as soon as it is shown; the previous message's buttons come off after (a
    # paced edit: a restart meanwhile must not send the acknowledgement again).
    if reply is not None:
        await form_stands_at(context, job.chat_id, live)


async def sweep_stale_drafts(context: CallbackContext) -> None:
    """The hourly job: drafts left too long are dropped and their owners told."""
    core = core_of(context)
    async with core.services.db.transaction() as tx:
        notices = await core.conversations.expire_stale(tx, core.services.now())
    for chat_id, screen in notices:
        try:
            await send_screen(context.bot, chat_id, screen)
        except TelegramError as error:
            # One member who blocked the bot must not keep the others from their notice.
            log.warning("could not tell %s their draft expired: %s", chat_id, error)


async def acknowledge_owed_photos(context: CallbackContext) -> None:
    """Run once at start-up, once polling has started: photos taken before the last stop
    and never acknowledged (the album's job, in memory, died with the process) are
    acknowledged now."""
    core = core_of(context)
    async with core.services.db.transaction() as tx:
        owed = await core.conversations.photos_owed(tx)
    for user_id in owed:
        # As if the photo had just come: the album's job after the quiet time, replaced by
        # the one a replayed photo of theirs schedules. A form's chat is the member's
        # private chat, whose id is theirs.
        _acknowledge_album_later(context, Sender(user_id=user_id, display_name=""), user_id)


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    core = core_of(context)

    async def use_case(req: Request) -> Reply:
        # An import waiting for its file is the newest thing begun: it goes first.
        return (await core.member_import.cancel(req)
                or await core.conversations.cancel(req))

    await answer(update, context, use_case)


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button whose data no flow declared (never sent, or from an old version): refused as
    out of date, and logged. (A form's own old buttons are its flow's: "form ended".)"""
    data = update.callback_query.data if update.callback_query else None
    await answer(update, context, lambda req: unreadable(req, data or "", "fallback.old_button"))


async def edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.edited_message
    if message is None or message.location is not None:
        return  # a live location moving: nothing was typed
    core, text = core_of(context), message.text or message.caption or ""

    async def use_case(req: Request) -> Reply:
        reply = await core.quick_reports.edited(req, message.message_id, text)
        return reply or await core.welcome.edited_message(req)

    reply = await run_request(update, context, use_case)
    if reply.album:
        _acknowledge_album_later(context, sender_of(update), message.chat_id)
    await deliver(update, context, reply)


def handlers() -> list[BaseHandler]:
    """Registered after every flow's commands and menu buttons, which take precedence."""
    return [
        CommandHandler("cancel", cancel, filters=PRIVATE),
        presses_of((FormStep,), lambda core, req, press: core.conversations.press(req, press),
                   "form.ended", private=False),
        MessageHandler(PRIVATE, answer_form),
        MessageHandler(PRIVATE_EDIT, edited),
        CallbackQueryHandler(stale_button),
    ]
