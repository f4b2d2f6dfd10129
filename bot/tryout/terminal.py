"""What the people at the terminal read in `lantoa try`: each message the bot sent or changed,
said where it went (the chat of the person using the bot now, another person's, the group),
with its formatting (bold and italic, when the terminal shows them), its pictures and files
saved and named, its buttons, and the main menu. The buttons of the person's own chat are
numbered (`[1] ✅ Gửi`) and the menu's too (`[m1] 📝 …`), for `#1` and `#m1` to press them;
the numbers are those last shown (an answer without buttons leaves them as they were).

A change that only tidies an older message (its buttons taken off once answered, the answer
written on the question) is not shown again after a newer message: a terminal cannot change
what it printed, and the newer message is where the conversation goes on."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from bot.tryout.standin import Did, Event, Message, StandIn
from bot.ui.catalogue import Texts

# Entity type -> the ANSI codes that start and end it.
STYLES = {"bold": ("\x1b[1m", "\x1b[22m"), "italic": ("\x1b[3m", "\x1b[23m"),
          "underline": ("\x1b[4m", "\x1b[24m")}


@dataclass(frozen=True)
class Press:
    """A numbered button: the message it is on and what pressing it sends."""

    message_id: int
    data: str


def styled(text: str, entities: Iterable[dict[str, Any]], ansi: bool) -> str:
    """The text with its bold, italic and underlined parts in ANSI codes (offsets are in
    UTF-16 code units, as Telegram counts them)."""
    if not ansi:
        return text
    index: dict[int, int] = {}
    units = 0
    for position, char in enumerate(text):
        index[units] = position
        units += 2 if ord(char) > 0xFFFF else 1
    index[units] = len(text)
    opens: dict[int, str] = {}
    closes: dict[int, str] = {}
    for entity in entities:
        codes = STYLES.get(entity.get("type", ""))
        start = index.get(entity.get("offset", -1))
        end = index.get(entity.get("offset", -1) + entity.get("length", 0))
        if codes and start is not None and end is not None:
            opens[start] = opens.get(start, "") + codes[0]
            closes[end] = codes[1] + closes.get(end, "")
    return "".join(closes.get(i, "") + opens.get(i, "") + char for i, char in enumerate(text)) \
        + closes.get(len(text), "")


@dataclass
class Transcript:
    out: TextIO
    t: Texts
    standin: StandIn
    folder: Path  # where the pictures and files the bot sends are saved
    ansi: bool  # bold and italic shown with ANSI codes
    presses: list[Press] = field(default_factory=list)  # the numbered buttons, by number - 1
    menu: list[str] = field(default_factory=list)  # the main menu's labels, by number - 1
    _shown: int = 0  # how many of the stand-in's events were shown
    _files: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def say(self, key: str, **params: Any) -> None:
        print(self.t.plain(key, **params), file=self.out, flush=True)

    def show_new(self, viewer: int) -> int:
        """Prints what the bot did since the last time; how many things were shown."""
        events = self.standin.events[self._shown:]
        self._shown = len(self.standin.events)
        newest: dict[int, int] = {}  # chat -> the newest message shown in it
        presses: list[Press] = []
        shown = 0
        for event in events:
            if event.did is Did.TOAST and event.chat_id == viewer:
                self.say("try.toast", text=event.toast)
            elif event.did is Did.KEYBOARD and event.chat_id == viewer:
                self.show_menu(viewer)
            elif event.did is Did.DELETED and event.message is not None:
                self.say("try.deleted", where=self._where(event.chat_id, viewer))
            elif self._worth_showing(event, newest):
                assert event.message is not None
                newest[event.chat_id] = max(newest.get(event.chat_id, 0),
                                            event.message["message_id"])
                presses += self._message(event, viewer, len(presses))
            else:
                continue
            shown += 1
        if presses:
            self.presses = presses
        return shown

    def recap(self, viewer: int) -> None:
        """When someone else takes over: their chat's newest message with buttons (numbered
        now for them) and their menu."""
        mine = [m for m in self.standin.messages_of(viewer) if m.get("reply_markup")]
        self.presses = []
        if mine:
            self.say("try.recap")
            self.presses = self._message(Event(Did.SENT, viewer, mine[-1]), viewer, 0)
        if self.standin.keyboards.get(viewer):
            self.show_menu(viewer)
        else:
            self.menu = []

    def show_menu(self, viewer: int) -> None:
        rows = self.standin.keyboards.get(viewer) or []
        self.menu = [label for row in rows for label in row]
        if not self.menu:
            return
        self.say("try.menu")
        numbers = itertools.count(1)
        for row in rows:
            self._line("  " + "  ".join(self.t.plain("try.menu_button", n=next(numbers),
                                                     label=label) for label in row))

    @staticmethod
    def _worth_showing(event: Event, newest: dict[int, int]) -> bool:
        if event.message is None or event.did not in (Did.SENT, Did.EDITED, Did.BUTTONS):
            return False
        if event.did is Did.BUTTONS and not event.message.get("reply_markup"):
            return False  # only tidied: an answered question's buttons taken off
        return event.did is Did.SENT or newest.get(event.chat_id, 0) <= event.message["message_id"]

    def _message(self, event: Event, viewer: int, numbered: int) -> list[Press]:
        """Prints one message; the buttons it numbered (after `numbered` others)."""
        assert event.message is not None
        message, where = event.message, self._where(event.chat_id, viewer)
        self.say("try.sent" if event.did is Did.SENT else "try.edited", where=where)
        body = styled(message.get("text") or message.get("caption") or "",
                      message.get("entities") or message.get("caption_entities") or [],
                      self.ansi)
        for line in body.splitlines():
            self._line("  " + line)
        self._attachment(message, event.upload)
        return self._buttons(message, numbered if event.chat_id == viewer else None)

    def _attachment(self, message: Message, upload: bytes | None) -> None:
        if "photo" in message:
            path = self._save(upload, "anh.png")
            self.say("try.photo_saved" if path else "try.photo", path=path)
        elif "document" in message:
            name = message["document"].get("file_name") or "tep"
            self.say("try.document_saved", name=name, path=self._save(upload, name))

    def _save(self, data: bytes | None, name: str) -> Path | None:
        if data is None:
            return None
        path = self.folder / f"{next(self._files)}-{name}"
        path.write_bytes(data)
        return path

    def _buttons(self, message: Message, numbered: int | None) -> list[Press]:
        """Prints the message's buttons, a row a line: numbered from `numbered` + 1 in the
        viewer's chat (None: another chat, where the viewer cannot press them)."""
        presses: list[Press] = []
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            labels = []
            for button in row:
                label, data = button.get("text", ""), button.get("callback_data")
                if "url" in button:
                    labels.append(self.t.plain("try.link_button", label=label, url=button["url"]))
                elif numbered is None or data is None:
                    labels.append(self.t.plain("try.other_button", label=label))
                else:
                    presses.append(Press(message["message_id"], data))
                    labels.append(self.t.plain("try.button", n=numbered + len(presses),
                                               label=label))
            self._line("  " + "  ".join(labels))
        return presses

    def _where(self, chat_id: int, viewer: int) -> str:
        chat = self.standin.chats.get(chat_id, {})
        if chat.get("type") == "private":
            key = "try.where_viewer" if chat_id == viewer else "try.where_person"
            return self.t.plain(key, name=chat.get("first_name", ""))
        return self.t.plain("try.where_group", title=chat.get("title", ""))

    def _line(self, text: str) -> None:
        print(text, file=self.out, flush=True)
