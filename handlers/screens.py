"""A core `Screen` as Telegram messages: the one renderer, for replies and for the paced sender
alike. A screen goes as its picture (a chart made here, a photo's file id) or album first, then
its text in parts of at most 4,096 characters cut at line boundaries, the keyboard under the
last part (under the picture when there is no text). A screen that allows it (`caption`) with
one picture and a text that fits in a caption goes as one message: the picture, the text under
it, the keyboard under both — one call where there would be two, which on a province's Monday
is the difference between the digests taking twice the time Telegram's 30 a second allow and
taking that time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaPhoto,
    LinkPreviewOptions,
    Message,
    ReplyKeyboardMarkup,
)
from telegram.constants import ParseMode

from bot.ui.screens import Document, Keyboard, Screen, fits_caption, split_text

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup


@dataclass(frozen=True)
class Part:
    """One Bot API call: a text, a picture (bytes or a file id) with the text (if any) as its
    caption, or an album of file ids."""

    text: str | None = None
    photo: bytes | str | None = None
    album: tuple[str, ...] = ()
    markup: Markup | None = None


class WireKeyboard(InlineKeyboardMarkup):
    """A screen's buttons as Telegram takes them, made straight from the screen: building one
    of PTB's InlineKeyboardButton per button only for PTB to turn them back into this JSON cost
    ~0.2–0.4 ms a keyboard, on every question a form asks. Nothing reads the keyboard back, so
    `inline_keyboard` stays empty: only `to_dict` (what PTB sends) has the buttons."""

    __slots__ = ("_wire",)

    def __init__(self, buttons: Keyboard) -> None:
        super().__init__(())
        with self._unfrozen():
            self._wire: dict[str, Any] = {"inline_keyboard": [
                [{"text": b.label, "url": b.url} if b.url
                 else {"text": b.label, "callback_data": b.data} for b in row]
                for row in buttons]}

    def to_dict(self, recursive: bool = True) -> dict[str, Any]:
        return self._wire


def inline(buttons: Keyboard) -> InlineKeyboardMarkup | None:
    return WireKeyboard(buttons) if buttons else None


def markup_of(screen: Screen) -> Markup | None:
    """The main menu under a screen that carries one (it then goes as a new message), else
    its buttons."""
    if screen.menu is not None:
        return ReplyKeyboardMarkup(screen.menu, resize_keyboard=True, is_persistent=True)
    return inline(screen.buttons)


def one_picture(screen: Screen) -> bytes | str | None:
    """The screen's picture when it has exactly one (made here, or a photo's file id)."""
    if screen.image is not None:
        return None if screen.photos else screen.image
    return screen.photos[0] if len(screen.photos) == 1 else None


def parts_of(screen: Screen) -> list[Part]:
    markup = markup_of(screen)
    picture = one_picture(screen)
    if (screen.caption and picture is not None and screen.text.strip()
            and fits_caption(screen.text)):
        return [Part(text=screen.text, photo=picture, markup=markup)]
    texts = split_text(screen.text) if screen.text.strip() else []
    parts: list[Part] = []
    if screen.image is not None:
        parts.append(Part(photo=screen.image))
    if len(screen.photos) == 1:
        parts.append(Part(photo=screen.photos[0]))
    elif screen.photos:
        parts.append(Part(album=screen.photos))
    parts += [Part(text=text) for text in texts]
    if parts and markup is not None and not parts[-1].album:
        last = parts[-1]
        parts[-1] = Part(last.text, last.photo, last.album, markup)
    return parts


async def send_part(bot: Bot, chat_id: int, part: Part, **extra: Any) -> Message:
    """`extra`: what the pacer is told (`rate_limit_args`). The message sent (an album's
    last); with the pacer's BULK, whose answers are not read, True for a single one."""
    if part.photo is not None:
        return await bot.send_photo(chat_id, part.photo, caption=part.text,
                                    parse_mode=ParseMode.HTML if part.text else None,
                                    reply_markup=part.markup, **extra)
    if part.album:
        sent = await bot.send_media_group(chat_id, [InputMediaPhoto(p) for p in part.album],
                                          **extra)
        return sent[-1]
    assert part.text is not None, "a part is a text, a picture or an album"
    return await bot.send_message(chat_id, part.text, parse_mode=ParseMode.HTML,
                                  reply_markup=part.markup,
                                  link_preview_options=NO_PREVIEW, **extra)


async def send_document(bot: Bot, chat_id: int, document: Document) -> Message:
    return await bot.send_document(
        chat_id, InputFile(document.data, filename=document.filename),
        caption=document.caption or None, parse_mode=ParseMode.HTML)


async def send_screen(bot: Bot, chat_id: int, screen: Screen) -> Message | None:
    """The screen's last message (the one with its buttons), if it had anything to send."""
    last = None
    for part in parts_of(screen):
        last = await send_part(bot, chat_id, part)
    return last
