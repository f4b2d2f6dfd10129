"""The stand-in for Telegram that `lantoa try` runs the bot against, in this process (through
bot/tryout/wire.py's InProcessRequest): the Bot API methods the bot calls, answered as Telegram
answers them where the bot could tell (message ids per chat, its HTML read into text and
entities and refused when unreadable, lengths, the reply keyboard kept per chat, a button
pressed only where it is shown, an unknown chat refused); and what the people at the terminal
do, queued as the updates Telegram would send. What the bot did is kept in order (`events`)
for the terminal to show.

Much smaller than the tests' fake (tests/fakebot): no faults, no limits, no HTTP, no groups
changing. A photo asked for by an id it never stored is a grey picture: a database kept from
an earlier session names photos this one never saw.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import mimetypes
import struct
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.runtime.clock import Clock
from bot.tryout.telegram_html import HtmlError, parse_html, strip_text, utf16_len
from bot.tryout.wire import NOT_FOUND, ApiError

Message = dict[str, Any]
MAX_TEXT, MAX_CAPTION = 4096, 1024
_NOT_MODIFIED = "Bad Request: message is not modified"


class Did(StrEnum):
    """What the bot did in a chat."""

    SENT = "sent"
    EDITED = "edited"  # the text or caption (and the buttons with it)
    BUTTONS = "buttons"  # only the buttons
    DELETED = "deleted"
    TOAST = "toast"  # the short notice of a pressed button
    KEYBOARD = "keyboard"  # the reply keyboard (the main menu) changed


@dataclass(frozen=True)
class Event:
    did: Did
    chat_id: int
    message: Message | None = None  # as it stands after the call (before, once deleted)
    toast: str = ""
    upload: bytes | None = None  # a file the bot sent with it (a chart, a document)


@dataclass(frozen=True)
class Uploads:
    """The files of one call, by the name of their part."""

    data: Mapping[str, bytes]
    names: Mapping[str, str]


Method = Callable[[dict[str, Any], Uploads], Any]


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A picture of one colour: a photo someone sends, a photo this session never saw."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


GREY = png(64, 48, (170, 170, 170))


class StandIn:
    """The bot's Telegram: people, a group, the messages in their chats, the updates."""

    def __init__(self, clock: Clock, bot_id: int = 7000001,
                 username: str = "lantoa_thu_bot", first_name: str = "Lan Tỏa") -> None:
        self.clock = clock
        self.bot_user: dict[str, Any] = {"id": bot_id, "is_bot": True,
                                         "first_name": first_name, "username": username}
        self.chats: dict[int, dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.events: list[Event] = []
        self.keyboards: dict[int, list[list[str]]] = {}
        self._messages: dict[int, dict[int, Message]] = {}
        self._last_id: dict[int, int] = {}
        self._files: dict[str, bytes] = {}
        self._serial = itertools.count(1)
        self._queries: dict[str, int] = {}  # open callback queries: id -> chat
        self._updates: list[dict[str, Any]] = []
        self._next_update = 1
        self._confirmed = 0  # every update below this one was taken by the bot
        self._change = asyncio.Event()
        self._methods: dict[str, Method] = {
            "getme": lambda p, u: dict(self.bot_user),
            "deletewebhook": self._done, "setmycommands": self._done,
            "deletemycommands": self._done, "setchatmenubutton": self._done,
            "sendchataction": self._chat_action,
            "sendmessage": self._send_message, "sendphoto": self._send_photo,
            "senddocument": self._send_document, "sendmediagroup": self._send_media_group,
            "editmessagetext": self._edit_text, "editmessagecaption": self._edit_caption,
            "editmessagereplymarkup": self._edit_buttons,
            "deletemessage": self._delete_message, "deletemessages": self._delete_messages,
            "answercallbackquery": self._answer_callback, "getfile": self._get_file,
        }

    # --- people and groups -------------------------------------------------------------------

    def add_person(self, user_id: int, first_name: str, last_name: str | None) -> None:
        user = {"id": user_id, "is_bot": False, "first_name": first_name,
                "language_code": "vi"}
        if last_name:
            user["last_name"] = last_name
        self.users[user_id] = user
        self.chats[user_id] = {"id": user_id, "type": "private", "first_name": first_name}

    def add_group(self, chat_id: int, title: str) -> None:
        self.chats[chat_id] = {"id": chat_id, "type": "supergroup", "title": title}

    def messages_of(self, chat_id: int) -> list[Message]:
        """The bot's messages in the chat as they stand, oldest first."""
        return [copy.deepcopy(m) for m in self._messages.get(chat_id, {}).values()
                if m["from"]["id"] == self.bot_user["id"]]

    def file(self, file_id: str) -> bytes:
        return self._files.get(file_id, GREY)

    # --- what people do: each is an update, by its id --------------------------------------

    def write(self, user_id: int, text: str) -> int:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": utf16_len(command)}]
        return self._from_person(user_id, content)

    def send_photo(self, user_id: int, data: bytes, caption: str) -> int:
        content: dict[str, Any] = {"photo": [self._photo_size(self._store(data))]}
        if caption:
            content["caption"] = caption
        return self._from_person(user_id, content)

    def press(self, user_id: int, message_id: int, data: str) -> int | None:
        """A button of the bot's message in the person's chat; None when it is not there (any
        more): nobody can press a button they do not see."""
        message = self._messages.get(user_id, {}).get(message_id)
        rows = ((message or {}).get("reply_markup") or {}).get("inline_keyboard", [])
        if not any(button.get("callback_data") == data for row in rows for button in row):
            return None
        query_id = str(next(self._serial))
        self._queries[query_id] = user_id
        return self._queue({"callback_query": {
            "id": query_id, "from": self.users[user_id], "message": copy.deepcopy(message),
            "chat_instance": str(user_id), "data": data}})

    async def taken(self, update_id: int, timeout: float) -> bool:
        """Waits until the bot took the update (a later getUpdates confirmed it)."""
        return await self._until(lambda: self._confirmed > update_id, timeout)

    def _from_person(self, user_id: int, content: dict[str, Any]) -> int:
        message = self._keep(user_id, self.users[user_id], content)
        return self._queue({"message": copy.deepcopy(message)})

    def _queue(self, body: dict[str, Any]) -> int:
        update_id = self._next_update
        self._next_update += 1
        self._updates.append({"update_id": update_id, **body})
        self._changed()
        return update_id

    # --- the Bot API --------------------------------------------------------------------------

    async def call_api(self, method: str, params: Mapping[str, Any],
                       files: Mapping[str, bytes] | None = None,
                       filenames: Mapping[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        name = method.lower()
        try:
            if name == "getupdates":
                result: Any = await self._get_updates(params)
            elif name in self._methods:
                result = self._methods[name](dict(params), Uploads(files or {}, filenames or {}))
            else:
                return 404, dict(NOT_FOUND)
        except ApiError as error:
            return error.code, error.response()
        finally:
            self._changed()
        return 200, {"ok": True, "result": result}

    def download(self, file_path: str) -> bytes | None:
        """A file by the path getFile gave for it."""
        folder, _, file_id = file_path.partition("/")
        return self.file(file_id) if folder == "files" else None

    async def _get_updates(self, p: Mapping[str, Any]) -> list[dict[str, Any]]:
        offset = int(p.get("offset") or 0)
        if offset > self._confirmed:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self._confirmed = offset
            self._changed()
        await self._until(lambda: bool(self._updates), float(p.get("timeout") or 0))
        return copy.deepcopy(self._updates[:100])

    def _changed(self) -> None:
        self._change.set()
        self._change = asyncio.Event()

    async def _until(self, holds: Callable[[], bool], timeout: float) -> bool:
        try:
            async with asyncio.timeout(timeout):
                while not holds():
                    await self._change.wait()
        except TimeoutError:
            pass
        return holds()

    @staticmethod
    def _done(p: dict[str, Any], u: Uploads) -> bool:
        return True

    def _chat(self, p: Mapping[str, Any]) -> int:
        chat_id = p.get("chat_id")
        if not isinstance(chat_id, int) or chat_id not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        return chat_id

    def _chat_action(self, p: dict[str, Any], u: Uploads) -> bool:
        self._chat(p)  # "typing…", "sending a file…": nothing the terminal shows
        return True

    def _send_message(self, p: dict[str, Any], u: Uploads) -> Message:
        return self._post(p, self._read(p, "text", MAX_TEXT))

    def _send_photo(self, p: dict[str, Any], u: Uploads) -> Message:
        file_id, upload = self._file_of(p.get("photo"), u, "photo")
        content = {"photo": [self._photo_size(file_id)], **self._read(p, "caption", MAX_CAPTION)}
        return self._post(p, content, upload)

    def _send_document(self, p: dict[str, Any], u: Uploads) -> Message:
        file_id, upload = self._file_of(p.get("document"), u, "document")
        name = u.names.get("document", "tep")
        document = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": name,
                    "mime_type": mimetypes.guess_type(name)[0] or "application/octet-stream"}
        content = {"document": document, **self._read(p, "caption", MAX_CAPTION)}
        return self._post(p, content, upload)

    def _send_media_group(self, p: dict[str, Any], u: Uploads) -> list[Message]:
        media = p.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise ApiError(400, "Bad Request: an album has 2 to 10 photos or documents")
        sends = {"photo": self._send_photo, "document": self._send_document}
        if any(item.get("type") not in sends for item in media):
            raise ApiError(400, "Bad Request: unsupported media type in the album")
        return [sends[item["type"]]({"chat_id": p.get("chat_id"), item["type"]: item.get("media"),
                                     "caption": item.get("caption"),
                                     "parse_mode": item.get("parse_mode")}, u)
                for item in media]

    def _edit_text(self, p: dict[str, Any], u: Uploads) -> Message:
        return self._edit(p, self._read(p, "text", MAX_TEXT), ("text",))

    def _edit_caption(self, p: dict[str, Any], u: Uploads) -> Message:
        return self._edit(p, self._read(p, "caption", MAX_CAPTION), ("photo", "document"))

    def _edit(self, p: dict[str, Any], content: dict[str, Any],
              kinds: tuple[str, ...]) -> Message:
        message = self._bots(p)
        if not any(kind in message for kind in kinds):
            raise ApiError(400, f"Bad Request: there is no {kinds[0]} in the message to edit")
        before = copy.deepcopy(message)
        for key in ("text", "caption", "entities", "caption_entities"):
            message.pop(key, None)
        message.update(content)
        self._set_buttons(message, p)
        if message == before:
            raise ApiError(400, _NOT_MODIFIED)
        return self._tell(Did.EDITED, message)

    def _edit_buttons(self, p: dict[str, Any], u: Uploads) -> Message:
        message = self._bots(p)
        before = message.get("reply_markup")
        self._set_buttons(message, p)
        if message.get("reply_markup") == before:
            raise ApiError(400, _NOT_MODIFIED)
        return self._tell(Did.BUTTONS, message)

    def _delete_message(self, p: dict[str, Any], u: Uploads) -> bool:
        message = self._bots(p)
        del self._messages[message["chat"]["id"]][message["message_id"]]
        self._tell(Did.DELETED, message)
        return True

    def _delete_messages(self, p: dict[str, Any], u: Uploads) -> bool:
        ids = p.get("message_ids")
        for message_id in ids if isinstance(ids, list) else []:
            if self._messages.get(self._chat(p), {}).get(message_id) is not None:
                self._delete_message({**p, "message_id": message_id}, u)
        return True

    def _answer_callback(self, p: dict[str, Any], u: Uploads) -> bool:
        chat_id = self._queries.pop(str(p.get("callback_query_id")), None)
        if chat_id is None:
            raise ApiError(400, "Bad Request: query is too old or query ID is invalid")
        if p.get("text"):
            self.events.append(Event(Did.TOAST, chat_id, toast=str(p["text"])))
        return True

    def _get_file(self, p: dict[str, Any], u: Uploads) -> dict[str, Any]:
        file_id = str(p.get("file_id") or "")
        return {"file_id": file_id, "file_unique_id": f"u{file_id}",
                "file_path": f"files/{file_id}", "file_size": len(self.file(file_id))}

    # --- messages -----------------------------------------------------------------------------

    def _read(self, p: Mapping[str, Any], name: str, limit: int) -> dict[str, Any]:
        """A text or caption as Telegram keeps it: plain, its formatting as entities."""
        raw = str(p.get(name) or "")
        if str(p.get("parse_mode") or "").lower() == "html":
            try:
                plain, entities = parse_html(raw, strict=False)
            except HtmlError as error:
                raise ApiError(400, f"Bad Request: can't parse entities: {error}") from None
        else:
            plain, entities = raw, []
        plain, entities = strip_text(plain, entities)
        if name == "text" and not plain:
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(plain) > limit:
            raise ApiError(400, f"Bad Request: message {name} is too long")
        if not plain:
            return {}
        key = "entities" if name == "text" else "caption_entities"
        return {name: plain, key: entities} if entities else {name: plain}

    def _post(self, p: dict[str, Any], content: dict[str, Any],
              upload: bytes | None = None) -> Message:
        chat_id = self._chat(p)
        message = self._keep(chat_id, self.bot_user, content)
        self._set_buttons(message, p)
        self._tell(Did.SENT, message, upload)
        self._set_keyboard(chat_id, p.get("reply_markup") or {})
        return copy.deepcopy(message)

    def _set_keyboard(self, chat_id: int, markup: dict[str, Any]) -> None:
        """The reply keyboard a message brings (or takes away) stays until another does."""
        before = self.keyboards.pop(chat_id, None)
        if "keyboard" in markup:
            self.keyboards[chat_id] = [[b if isinstance(b, str) else str(b.get("text", ""))
                                        for b in row] for row in markup["keyboard"]]
        elif not markup.get("remove_keyboard") and before is not None:
            self.keyboards[chat_id] = before
        if self.keyboards.get(chat_id) != before:
            self.events.append(Event(Did.KEYBOARD, chat_id))

    def _keep(self, chat_id: int, sender: dict[str, Any], content: dict[str, Any]) -> Message:
        message_id = self._last_id.get(chat_id, 0) + 1
        self._last_id[chat_id] = message_id
        message = {"message_id": message_id, "from": dict(sender),
                   "chat": dict(self.chats[chat_id]),
                   "date": int(self.clock.now().timestamp()), **content}
        self._messages.setdefault(chat_id, {})[message_id] = message
        return message

    @staticmethod
    def _set_buttons(message: Message, p: Mapping[str, Any]) -> None:
        """The inline buttons a call puts on the message; without any, it has none."""
        markup = p.get("reply_markup")
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            message["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
        else:
            message.pop("reply_markup", None)

    def _bots(self, p: Mapping[str, Any]) -> Message:
        """The bot's own message a call edits or deletes."""
        message = self._messages.get(self._chat(p), {}).get(p.get("message_id") or 0)
        if message is None or message["from"]["id"] != self.bot_user["id"]:
            raise ApiError(400, "Bad Request: message to edit not found")
        return message

    def _tell(self, did: Did, message: Message, upload: bytes | None = None) -> Message:
        self.events.append(Event(did, message["chat"]["id"], copy.deepcopy(message),
                                 upload=upload))
        return copy.deepcopy(message)

    # --- files --------------------------------------------------------------------------------

    def _store(self, data: bytes) -> str:
        file_id = f"thu-{next(self._serial)}"
        self._files[file_id] = data
        return file_id

    def _file_of(self, value: Any, u: Uploads, part: str) -> tuple[str, bytes | None]:
        """The file a parameter names: one uploaded with the call (kept now, and its bytes
        returned to be shown), or the id of one kept before."""
        if isinstance(value, str) and value.startswith("attach://"):
            part, value = value.removeprefix("attach://"), None
        if value is None:
            data = u.data.get(part)
            if not data:
                raise ApiError(400, f"Bad Request: there is no {part} in the request")
            return self._store(data), data
        if not isinstance(value, str) or not value:
            raise ApiError(400, f"Bad Request: wrong file identifier for {part}")
        return value, None

    def _photo_size(self, file_id: str) -> dict[str, Any]:
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 1280,
                "height": 960, "file_size": len(self.file(file_id))}
