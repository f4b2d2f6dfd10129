"""What the bot shows, independent of any messenger: text, buttons, photos."""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Button:
    """A button under a message: pressed, it sends `data` back; with a `url`, it opens the
    link instead (e.g. the private chat with the bot)."""

    label: str
    data: str
    url: str = ""


Keyboard = tuple[tuple[Button, ...], ...]
Menu = tuple[tuple[str, ...], ...]
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Screen:
    """One message. `menu` is the main menu keyboard to put under it (so it is sent as a new
    message); `photos` are file ids shown just before the text, `image` a picture made here (a
    chart), shown before them. `caption`: when the screen has one picture and its text fits
    in a caption, the two go as one message (one call to the messenger instead of two): for a
    message nobody redraws as a text in place."""

    text: str
    buttons: Keyboard = ()
    menu: Menu | None = None
    photos: tuple[str, ...] = ()
    image: bytes | None = None
    caption: bool = False


@dataclass(frozen=True)
class Document:
    """A file the bot makes and sends (a spreadsheet, a Word report, a list of invite links)."""

    filename: str
    data: bytes
    caption: str = ""


@dataclass(frozen=True)
class Reply:
    """The answer to one update.

    `toast` is the short note on a pressed button; `replace` lets the first screen take the place
    of the message whose button was pressed; `album` asks the adapter to wait for the rest of
    a photo album before acknowledging it; `close` takes the buttons off the pressed message
    (the form it belonged to is over). `notices` go to other people's chats, e.g. the member
    whose report a leader asked more about: (Telegram user or group chat id, screen).
    `picture` is drawn only once the update's transaction is over (a chart takes tens of
    milliseconds nobody should wait on the database for) and becomes the first screen's
    `image` (with its text as caption when that screen allows it), or goes alone when there
    is no screen; the screens still go if it cannot be sent. `prompt` says the last screen is
    where a form now stands (its question, or the word that it is over): the form's message
    before it loses its buttons, so that only one message of a form ever has buttons that
    work.
    `document` is made once the update's transaction is over too, after the screens (which say
    it is being made), while the chat shows that a file is on its way; it gives a screen
    instead when there is nothing to send after all.
    """

    screens: tuple[Screen, ...] = ()
    toast: str | None = None
    replace: bool = False
    album: bool = False
    close: bool = False
    notices: tuple[tuple[int, Screen], ...] = ()
    picture: Callable[[], Awaitable[bytes]] | None = None
    prompt: bool = False
    document: Callable[[], Awaitable[Document | Screen]] | None = None


def visible_length(text: str) -> int:
    """How long Telegram finds an HTML text when it holds it to a limit: the text as read (tags
    left out, `&lt;` one character), in UTF-16 code units (an emoji beyond the basic plane is
    two, a Vietnamese letter one)."""
    return len(html.unescape(_TAG.sub("", text)).encode("utf-16-le")) // 2


def fits_caption(text: str) -> bool:
    """Whether the HTML text can be a photo's caption (Telegram keeps at most 1,024)."""
    return visible_length(text) <= CAPTION_LIMIT


def rows(buttons: list[Button], per_row: int) -> Keyboard:
    return tuple(tuple(buttons[i:i + per_row]) for i in range(0, len(buttons), per_row))


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Splits HTML text at line boundaries so that each part fits in one message. A line longer
    than the limit is cut at a space, and never inside a tag or an entity such as `&amp;`."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            cut = _safe_cut(line, limit)
            parts.append(line[:cut].rstrip())
            line = line[cut:].lstrip()
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            candidate = line
        current = candidate
    if current or not parts:
        parts.append(current)
    return parts


def _safe_cut(line: str, limit: int) -> int:
    head = line[:limit]
    space = head.rfind(" ")
    if space > limit // 2:
        return space + 1
    for opener, closer in (("&", ";"), ("<", ">")):
        start = head.rfind(opener)
        if start > 0 and closer not in head[start:]:
            return start
    return limit
