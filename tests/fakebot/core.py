"""Transport-agnostic fake of the Telegram Bot API.

``FakeTelegram`` holds the whole "server" state: users, chats, the messages the bot
has in each chat, pending updates and uploaded files. Transports (``FakeRequest`` for
in-process use, ``FakeBotServer`` for real HTTP) only translate requests into
:meth:`FakeTelegram.call_api` calls, so both behave identically.

Everything runs on one asyncio loop; waiting is event driven (no sleeps, no polling).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import itertools
import json
import mimetypes
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .markup import HtmlError, parse_html, strip_text, utf16_len

__all__ = ["ApiError", "Call", "FakeTelegram", "SimulatedTimeout", "StoredFile"]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
NOT_FOUND: dict[str, Any] = {"ok": False, "error_code": 404, "description": "Not Found"}

# Form-encoded transports send str values verbatim and everything else JSON-encoded,
# so a server can only tell them apart by knowing which parameters are strings.
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "file_id",
        "photo",
        "document",
        "audio",
        "video",
        "voice",
        "sticker",
        "animation",
        "video_note",
        "thumbnail",
        "action",
        "url",
        "language_code",
        "title",
        "name",
        "description",
        "short_description",
        "emoji",
        "question",
        "phone_number",
        "first_name",
        "last_name",
        "vcard",
        "address",
        "secret_token",
        "ip_address",
        "payload",
        "currency",
        "start_parameter",
        "explanation",
        "explanation_parse_mode",
        "question_parse_mode",
        "custom_emoji_id",
        "inline_query_id",
        "next_offset",
        "switch_pm_text",
        "switch_pm_parameter",
        "shipping_query_id",
        "pre_checkout_query_id",
        "error_message",
        "custom_title",
        "invite_link",
        "set_name",
        "format",
    }
)
# Telegram's documented default when allowed_updates was never set (or set to []).
_NOT_DELIVERED_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_MEDIA_KEYS = ("photo", "document", "video", "audio", "animation", "voice", "video_note")
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_BUTTON_URL_RE = re.compile(r"(https?|tg)://\S+", re.IGNORECASE)
_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a content and reply markup of the current message"
)
_QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


class ApiError(Exception):
    """An error answer of the Bot API (raised inside the fake, turned into JSON)."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def response(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body


class SimulatedTimeout(Exception):
    """The bot gets no answer in time (``time_out_next``); transports turn it into their own
    time-out: ``FakeRequest`` raises ``telegram.error.TimedOut``, the HTTP server answers late.
    ``delivered``: Telegram did execute the call, only the answer was lost."""

    def __init__(self, delivered: bool) -> None:
        super().__init__("timed out")
        self.delivered = delivered


@dataclass
class Call:
    """One Bot API request the bot made (getUpdates is kept separately)."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    # Description of the error the fake answered with, None on success.
    error: str | None = None
    # When the bot made it, on ``FakeTelegram.time_source`` (the bot's pacing clock in tests).
    at: float | None = None

    @property
    def chat_id(self) -> int | None:
        return _as_int(self.params.get("chat_id"))


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None

    def as_file(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


@dataclass
class _Queued:
    update: dict[str, Any]
    # A redelivered update is older than the current offset; it must survive the offset
    # confirmation until it has been handed out once.
    redelivered: bool = False
    delivered: bool = False

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])

    @property
    def kind(self) -> str:
        return next((k for k in self.update if k != "update_id"), "")


@dataclass
class _Fault:
    error: ApiError | SimulatedTimeout
    remaining: int
    chat_id: int | None = None  # only calls into this chat
    skip: int = 0  # matching calls let through first

    def matches(self, params: Mapping[str, Any]) -> bool:
        return self.chat_id is None or _as_int(params.get("chat_id")) == self.chat_id


@dataclass
class _Upload:
    data: bytes
    filename: str | None = None


_KeyboardEffect = tuple[str, list[list[str]] | None] | None


def _now() -> int:
    return int(time.time())


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def _decode_param(name: str, value: Any) -> Any:
    if not isinstance(value, str) or name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # e.g. chat_id="@channel"


def _fake_image(seed: str, size: int = 96) -> bytes:
    """Small bytes that look like a JPEG (SOI/APP0 ... EOI) and differ per seed."""
    digest = hashlib.sha256(seed.encode()).digest()
    body = (digest * (size // len(digest) + 1))[:size]
    return (
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + body + b"\xff\xd9"
    )


class FakeTelegram:
    """In-memory Telegram: what users do goes in via ``send_*``/``press``, what the
    bot does is recorded in ``calls`` and applied to the per-chat message lists."""

    def __init__(
        self,
        bot_id: int = 7000001,
        bot_username: str = "lantoa_test_bot",
        *,
        bot_first_name: str = "Lan Tỏa Test",
        strict_html: bool = True,
    ) -> None:
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.strict_html = strict_html
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.users: dict[int, dict[str, Any]] = {}
        self.chats: dict[int, dict[str, Any]] = {}
        self.blocked: set[int] = set()
        self.calls: list[Call] = []
        self.get_updates_calls: list[Call] = []
        self.answered_callbacks: list[dict[str, Any]] = []
        self.downloads: list[str] = []
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.bot_texts: dict[tuple[str, str], str] = {}
        self.webhook_url = ""
        self.last_offset = 0
        # Stamps each Call's ``at``; tests set it to the bot's (virtual) pacing clock.
        self.time_source: Callable[[], float] | None = None
        # Seconds every call takes on the way to Telegram and back again (half each way).
        self.latency = 0.0
        # Asked in turn before every call but getUpdates is executed; the first to answer an
        # error or a time-out has it answered instead (Telegram's limits, random faults:
        # tests/fakebot/limits.py). Gates are synchronous: they see calls in arrival order.
        self.gates: list[Callable[[Call], ApiError | SimulatedTimeout | None]] = []

        self._messages: dict[int, dict[int, dict[str, Any]]] = {}
        self._next_message_id: dict[int, int] = {}
        self._reply_keyboards: dict[int, list[list[str]] | None] = {}
        self._chat_instances: dict[int, str] = {}
        self._open_callbacks: dict[str, int] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._photo_sets: dict[str, list[dict[str, Any]]] = {}
        self._file_counter = itertools.count(1)
        self._faults: dict[str, list[_Fault]] = {}
        # The bot's status in group chats it was added to or removed from ("member",
        # "administrator", "left", "kicked"); a group not in here accepts the bot's messages.
        self._bot_status: dict[int, str] = {}
        # Groups upgraded to supergroups: old id -> new id.
        self._migrated_to: dict[int, int] = {}

        self._queue: list[_Queued] = []
        self._history: dict[int, dict[str, Any]] = {}
        self._next_update_id = 1
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._polling = 0
        # Futures instead of asyncio.Condition: notifications also come from sync code
        # (send_text, ...) and from finally-blocks of cancelled polls, where taking a lock
        # is awkward. Futures are created per wait, so the object is not tied to one loop.
        self._waiters: list[asyncio.Future[None]] = []

        self._methods: dict[str, Callable[[dict[str, Any], dict[str, _Upload]], Any]] = {
            "getme": self._get_me,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "setchatmenubutton": self._set_chat_menu_button,
            "getchatmenubutton": self._get_chat_menu_button,
            "setmydescription": self._bot_text_setter("description"),
            "getmydescription": self._bot_text_getter("description"),
            "setmyshortdescription": self._bot_text_setter("short_description"),
            "getmyshortdescription": self._bot_text_getter("short_description"),
            "setmyname": self._bot_text_setter("name"),
            "getmyname": self._bot_text_getter("name"),
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagecaption": self._edit_message_caption,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "deletemessages": self._delete_messages,
            "answercallbackquery": self._answer_callback_query,
            "sendphoto": self._send_photo,
            "sendmediagroup": self._send_media_group,
            "senddocument": self._send_document,
            "sendchataction": self._send_chat_action,
            "getfile": self._get_file,
        }

    # ------------------------------------------------------------------ users & chats

    def add_user(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "vi",
    ) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        chat: dict[str, Any] = {"id": user_id, "type": "private", "first_name": first_name}
        if last_name:
            user["last_name"] = chat["last_name"] = last_name
        if username:
            user["username"] = chat["username"] = username
        if language_code:
            user["language_code"] = language_code
        self.users[user_id] = user
        self.chats[user_id] = chat
        return copy.deepcopy(user)

    def add_group(
        self, chat_id: int, title: str, *, chat_type: str = "supergroup"
    ) -> dict[str, Any]:
        chat = {"id": chat_id, "type": chat_type, "title": title}
        self.chats[chat_id] = chat
        return copy.deepcopy(chat)

    def add_bot_to_group(self, chat_id: int, by_user_id: int, *, status: str = "member") -> int:
        """A user adds the bot to a group (or promotes it): Telegram sends the bot a
        ``my_chat_member`` update and, when it was not in the group, the service message
        listing it in ``new_chat_members``. Returns the last update id."""
        if status not in ("member", "administrator"):
            raise ValueError(f"a bot in a group is a member or an administrator, not {status!r}")
        old = self.bot_status(chat_id)
        update_id = self._bot_status_changes(chat_id, by_user_id, status)
        if old in ("left", "kicked"):
            joined = {"new_chat_members": [copy.deepcopy(self.bot_user)]}
            update_id = self._enqueue({"message": self._incoming(by_user_id, chat_id, joined)})
        return update_id

    def remove_bot_from_group(self, chat_id: int, by_user_id: int, *, kicked: bool = True) -> int:
        """A user removes the bot from a group (``kicked``) or the bot's membership ends
        (``left``); from now on the bot's messages there fail with 403."""
        return self._bot_status_changes(chat_id, by_user_id, "kicked" if kicked else "left")

    def bot_status(self, chat_id: int) -> str:
        return self._bot_status.get(chat_id, "left")

    def upgrade_to_supergroup(
        self, chat_id: int, new_chat_id: int, by_user_id: int, *, new_first: bool = False
    ) -> tuple[int, int]:
        """A basic group becomes a supergroup under a new id. Telegram posts a service message
        in the old chat (``migrate_to_chat_id``) and one in the new (``migrate_from_chat_id``);
        ``new_first`` delivers the second one first. Afterwards sends to the old id fail with
        400 and ``migrate_to_chat_id``. Returns (old chat's update id, new chat's update id)."""
        old = self.chats.get(chat_id)
        if old is None or old["type"] != "group":
            raise LookupError(f"chat {chat_id} is not a basic group")
        if new_chat_id in self.chats:
            raise LookupError(f"chat {new_chat_id} exists already")
        self.add_group(new_chat_id, old["title"], chat_type="supergroup")
        self._migrated_to[chat_id] = new_chat_id
        if chat_id in self._bot_status:
            self._bot_status[new_chat_id] = self._bot_status[chat_id]
        to_old = {"migrate_to_chat_id": new_chat_id}
        to_new = {"migrate_from_chat_id": chat_id}
        if new_first:
            new_id = self._enqueue({"message": self._incoming(by_user_id, new_chat_id, to_new)})
            old_id = self._enqueue({"message": self._incoming(by_user_id, chat_id, to_old)})
        else:
            old_id = self._enqueue({"message": self._incoming(by_user_id, chat_id, to_old)})
            new_id = self._enqueue({"message": self._incoming(by_user_id, new_chat_id, to_new)})
        return old_id, new_id

    def _bot_status_changes(self, chat_id: int, by_user_id: int, status: str) -> int:
        chat = self.chats.get(chat_id)
        if chat is None or chat["type"] not in ("group", "supergroup"):
            raise LookupError(f"chat {chat_id} is not a group; call add_group first")
        old = self.bot_status(chat_id)
        self._bot_status[chat_id] = status
        change = {
            "chat": copy.deepcopy(chat),
            "from": copy.deepcopy(self._user(by_user_id)),
            "date": _now(),
            "old_chat_member": self._bot_member(old),
            "new_chat_member": self._bot_member(status),
        }
        return self._enqueue({"my_chat_member": change})

    def _bot_member(self, status: str) -> dict[str, Any]:
        member: dict[str, Any] = {"user": copy.deepcopy(self.bot_user), "status": status}
        if status == "kicked":
            member["until_date"] = 0
        if status == "administrator":
            member.update(
                {
                    "can_be_edited": False,
                    "is_anonymous": False,
                    "can_manage_chat": True,
                    "can_delete_messages": True,
                    "can_manage_video_chats": False,
                    "can_restrict_members": False,
                    "can_promote_members": False,
                    "can_change_info": False,
                    "can_invite_users": True,
                    "can_post_stories": False,
                    "can_edit_stories": False,
                    "can_delete_stories": False,
                    "can_pin_messages": True,
                }
            )
        return member

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends to them fail with 403 like on Telegram."""
        self.blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self.blocked.discard(user_id)

    # ------------------------------------------------------------------ incoming updates

    def send_text(self, user_id: int, text: str, chat_id: int | None = None) -> int:
        content: dict[str, Any] = {"text": text}
        command = re.match(r"/\S+", text)
        if command:
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command.group(0))}
            ]
        return self._enqueue({"message": self._incoming(user_id, chat_id, content)})

    def press(
        self,
        user_id: int,
        message_id: int,
        data: str,
        chat_id: int | None = None,
        *,
        check_button: bool = True,
    ) -> int:
        """Press an inline button. With ``check_button`` the button must exist on the
        message, because real users can only press what is shown."""
        user = self._user(user_id)
        chat_id = user_id if chat_id is None else chat_id
        message = self._messages.get(chat_id, {}).get(message_id)
        if message is None or message["from"]["id"] != self.bot_id:
            raise LookupError(f"no bot message {message_id} in chat {chat_id}")
        if check_button and data not in {cb for _, cb in self.inline_buttons(message)}:
            raise LookupError(
                f"message {message_id} has no button with callback_data {data!r}; "
                f"buttons: {self.inline_buttons(message)}"
            )
        query_id = str(secrets.randbits(63))
        self._open_callbacks[query_id] = chat_id
        if chat_id not in self._chat_instances:
            self._chat_instances[chat_id] = str(-secrets.randbits(62))
        query = {
            "id": query_id,
            "from": copy.deepcopy(user),
            "message": copy.deepcopy(message),
            "chat_instance": self._chat_instances[chat_id],
            "data": data,
        }
        return self._enqueue({"callback_query": query})

    def send_photo(
        self,
        user_id: int,
        file_id: str | None = None,
        media_group_id: str | None = None,
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> int:
        if file_id is None:
            sizes = self._new_photo_set()
        elif file_id in self._photo_sets:
            sizes = copy.deepcopy(self._photo_sets[file_id])
        else:
            stored = self._register_file("photo", _fake_image(file_id), "jpg", file_id=file_id)
            sizes = [self._photo_size(stored, 1280, 960)]
            self._photo_sets[file_id] = sizes
        content: dict[str, Any] = {"photo": sizes}
        if media_group_id is not None:
            content["media_group_id"] = media_group_id
        if caption is not None:
            content["caption"] = caption
        return self._enqueue({"message": self._incoming(user_id, chat_id, content)})

    def send_location(
        self, user_id: int, latitude: float, longitude: float, chat_id: int | None = None
    ) -> int:
        content = {"location": {"latitude": latitude, "longitude": longitude}}
        return self._enqueue({"message": self._incoming(user_id, chat_id, content)})

    def send_venue(
        self, user_id: int, latitude: float, longitude: float, title: str, address: str,
        chat_id: int | None = None,
    ) -> int:
        """A named place picked in Telegram's location screen (Telegram also fills
        ``location``)."""
        location = {"latitude": latitude, "longitude": longitude}
        content = {"location": location,
                   "venue": {"location": location, "title": title, "address": address}}
        return self._enqueue({"message": self._incoming(user_id, chat_id, content)})

    def move_live_location(self, user_id: int, message_id: int, latitude: float,
                           longitude: float) -> int:
        """A live location the user shares moves: Telegram sends an edited message."""
        chat = self._messages.get(user_id, {})
        original = chat.get(message_id)
        if original is None:
            raise LookupError(f"no message {message_id} in chat {user_id}")
        edited = {**copy.deepcopy(original), "edit_date": _now(),
                  "location": {"latitude": latitude, "longitude": longitude,
                               "live_period": 900}}
        return self._enqueue({"edited_message": edited})

    def send_sticker(self, user_id: int, chat_id: int | None = None) -> int:
        stored = self._register_file("sticker", _fake_image("sticker"), "webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
            "file_size": len(stored.data),
        }
        return self._enqueue({"message": self._incoming(user_id, chat_id, {"sticker": sticker})})

    def send_voice(self, user_id: int, chat_id: int | None = None) -> int:
        data = b"OggS\x00\x02" + hashlib.sha256(b"voice").digest()
        stored = self._register_file("voice", data, "oga", mime_type="audio/ogg")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": 3,
            "mime_type": "audio/ogg",
            "file_size": len(data),
        }
        return self._enqueue({"message": self._incoming(user_id, chat_id, {"voice": voice})})

    def send_contact(
        self, user_id: int, phone: str, first_name: str, chat_id: int | None = None
    ) -> int:
        # user_id is set as for a KeyboardButton(request_contact=True) share of one's own number
        contact = {"phone_number": phone, "first_name": first_name, "user_id": user_id}
        return self._enqueue({"message": self._incoming(user_id, chat_id, {"contact": contact})})

    def send_raw(self, update: Mapping[str, Any]) -> int:
        """Queue an arbitrary update (without update_id) exactly as given."""
        body = {k: copy.deepcopy(v) for k, v in update.items() if k != "update_id"}
        return self._enqueue(body)

    def continue_update_ids_from(self, update_id: int) -> None:
        """Number the next updates from here, as Telegram does for a bot that already
        received updates before this fake existed (a restarted bot)."""
        self._next_update_id = update_id

    def redeliver(self, update_id: int) -> None:
        """Queue an already sent update again with the same update_id, as Telegram does
        when a bot crashed before confirming it."""
        if update_id not in self._history:
            raise LookupError(f"update {update_id} was never sent")
        self._queue.append(_Queued(copy.deepcopy(self._history[update_id]), redelivered=True))
        self._changed()

    # ------------------------------------------------------------------ inspection

    def update(self, update_id: int) -> dict[str, Any]:
        """An update as it was sent to the bot."""
        return self._history[update_id]

    def calls_to(self, method: str) -> list[Call]:
        key = method.lower()
        source = self.get_updates_calls if key == "getupdates" else self.calls
        return [c for c in source if c.method.lower() == key]

    def messages(self, chat_id: int, *, include_incoming: bool = False) -> list[dict[str, Any]]:
        """Messages currently in the chat (edits/deletes applied), oldest first. Only the
        bot's own messages unless ``include_incoming``. HTML is already rendered: ``text``
        is the plain text and formatting is in ``entities``, like Telegram returns it."""
        return [
            copy.deepcopy(m)
            for m in self._messages.get(chat_id, {}).values()
            if include_incoming or m["from"]["id"] == self.bot_id
        ]

    def last_message(self, chat_id: int) -> dict[str, Any] | None:
        msgs = self.messages(chat_id)
        return msgs[-1] if msgs else None

    @staticmethod
    def inline_buttons(message: Mapping[str, Any] | None) -> list[tuple[str, str]]:
        """(text, callback_data) of all inline buttons; url buttons give their url."""
        if not message:
            return []
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        return [
            (b.get("text", ""), b.get("callback_data") or b.get("url") or "")
            for row in rows
            for b in row
        ]

    def reply_keyboard(self, chat_id: int) -> list[list[str]] | None:
        rows = self._reply_keyboards.get(chat_id)
        return copy.deepcopy(rows)

    def file_bytes(self, file_id: str) -> bytes:
        return self._files[file_id].data

    @property
    def pending_update_ids(self) -> list[int]:
        return [q.update_id for q in self._queue]

    @property
    def polling(self) -> bool:
        """True while a getUpdates long poll is waiting inside the fake."""
        return self._polling > 0

    def dump_calls(self, last: int = 25) -> str:
        lines = []
        for call in self.calls[-last:]:
            params = json.dumps(call.params, ensure_ascii=False, default=str)
            if len(params) > 400:
                params = params[:400] + "…"
            status = f" -> ERROR {call.error}" if call.error else ""
            files = f" files={sorted(call.files)}" if call.files else ""
            lines.append(f"  {call.method} {params}{files}{status}")
        return "\n".join(lines) or "  (no calls)"

    async def wait_for(
        self, predicate: Callable[[FakeTelegram], bool], timeout: float = 5.0
    ) -> None:
        """Wait until ``predicate(self)`` holds; it is re-checked after every change
        (each bot call, each queued update)."""
        if not await self._until(lambda: predicate(self), timeout):
            raise AssertionError(
                f"condition not met within {timeout}s; last calls:\n{self.dump_calls()}"
            )

    async def wait_update_consumed(self, update_id: int, timeout: float = 5.0) -> None:
        """Return once getUpdates confirmed the update (offset > update_id); by then PTB's
        Updater has put it into ``application.update_queue`` (processing may still run)."""
        if update_id not in self._history:
            raise LookupError(f"update {update_id} was never sent")
        if not await self._until(
            lambda: all(q.update_id != update_id for q in self._queue), timeout
        ):
            raise AssertionError(
                f"update {update_id} not consumed within {timeout}s "
                f"(pending: {self.pending_update_ids}, last offset: {self.last_offset}, "
                f"polling: {self.polling}); last calls:\n{self.dump_calls()}"
            )

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
        skip: int = 0,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with this error, without
        executing them. ``chat_id``: only calls into that chat count; ``skip``: that many
        matching calls succeed first (``skip=2``: the third message fails). A status of 500
        and above is Telegram's own trouble (the bot sees a NetworkError)."""
        parameters: dict[str, Any] = {}
        if retry_after is not None:
            parameters["retry_after"] = retry_after
        if migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = migrate_to_chat_id
        error = ApiError(status, description, parameters or None)
        self._faults.setdefault(method.lower(), []).append(_Fault(error, times, chat_id, skip))

    def time_out_next(
        self,
        method: str,
        *,
        times: int = 1,
        chat_id: int | None = None,
        skip: int = 0,
        delivered: bool = False,
    ) -> None:
        """The next ``times`` calls of ``method`` (into ``chat_id``, after ``skip``) get no
        answer in time: in-process the bot sees ``TimedOut`` at once. ``delivered``: the
        call took effect all the same (the message is in the chat), only the answer was
        lost."""
        fault = _Fault(SimulatedTimeout(delivered), times, chat_id, skip)
        self._faults.setdefault(method.lower(), []).append(fault)

    def _take_fault(
        self, key: str, params: Mapping[str, Any]
    ) -> ApiError | SimulatedTimeout | None:
        faults = self._faults.get(key)
        fault = next((f for f in faults or () if f.matches(params)), None)
        if fault is None or faults is None:
            return None
        if fault.skip > 0:
            fault.skip -= 1
            return None
        fault.remaining -= 1
        if fault.remaining <= 0:
            faults.remove(fault)
        return fault.error

    # ------------------------------------------------------------------ transport entry

    async def call_api(
        self,
        method: str,
        params: Mapping[str, Any],
        files: Mapping[str, bytes] | None = None,
        filenames: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Execute one Bot API method; returns (HTTP status, response JSON object).

        ``params`` may hold form-encoded strings (HTTP) or Python values (in-process);
        both are normalised to what the bot meant to send.
        """
        decoded = {k: _decode_param(k, v) for k, v in params.items()}
        uploads = {
            name: _Upload(data, (filenames or {}).get(name)) for name, data in (files or {}).items()
        }
        at = self.time_source() if self.time_source is not None else None
        call = Call(method, decoded, dict(files or {}), at=at)
        key = method.lower()
        (self.get_updates_calls if key == "getupdates" else self.calls).append(call)
        if self.latency:
            await asyncio.sleep(self.latency / 2)
        try:
            fault = self._take_fault(key, decoded)
            if fault is None and key != "getupdates":
                fault = next((v for gate in self.gates if (v := gate(call)) is not None), None)
            if isinstance(fault, SimulatedTimeout):
                call.error = "timed out"
                if fault.delivered and (handler := self._methods.get(key)) is not None:
                    with contextlib.suppress(ApiError):
                        handler(decoded, uploads)
                raise fault
            if fault is not None:
                raise fault
            if key == "getupdates":
                result: Any = await self._get_updates(decoded)
            else:
                handler = self._methods.get(key)
                if handler is None:
                    call.error = NOT_FOUND["description"]
                    return 404, dict(NOT_FOUND)
                result = handler(decoded, uploads)
        except ApiError as exc:
            call.error = exc.description
            await self._answer_latency()
            return exc.code, exc.response()
        finally:
            self._changed()
        await self._answer_latency()
        return 200, {"ok": True, "result": result}

    async def _answer_latency(self) -> None:
        if self.latency:
            await asyncio.sleep(self.latency / 2)

    def download(self, file_path: str) -> bytes | None:
        stored = self._files_by_path.get(file_path)
        if stored is None:
            return None
        self.downloads.append(file_path)
        return stored.data

    # ------------------------------------------------------------------ waiting machinery

    def _changed(self) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def _until(self, predicate: Callable[[], bool], timeout: float | None) -> bool:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        try:
            async with asyncio.timeout_at(deadline):
                while not predicate():
                    fut: asyncio.Future[None] = loop.create_future()
                    self._waiters.append(fut)
                    await fut
        except TimeoutError:
            return predicate()
        return True

    # ------------------------------------------------------------------ update queue

    def _enqueue(self, body: dict[str, Any]) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        update = {"update_id": update_id, **body}
        self._history[update_id] = copy.deepcopy(update)
        self._queue.append(_Queued(update))
        self._changed()
        return update_id

    def _allowed(self, queued: _Queued) -> bool:
        if self._allowed_updates is None:
            return queued.kind not in _NOT_DELIVERED_BY_DEFAULT
        return queued.kind in self._allowed_updates

    def _confirm(self, offset: int) -> None:
        self._queue = [
            q
            for q in self._queue
            if self._allowed(q) and (q.update_id >= offset or (q.redelivered and not q.delivered))
        ]

    def _deliverable(self, offset: int, limit: int) -> list[_Queued]:
        ready = [
            q
            for q in self._queue
            if self._allowed(q) and (q.update_id >= offset or (q.redelivered and not q.delivered))
        ]
        # Telegram always answers in ascending update_id order; PTB confirms with
        # last_id + 1, so an out-of-order batch would re-confirm or skip updates.
        ready.sort(key=lambda q: q.update_id)
        return ready[:limit]

    async def _get_updates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = max(_as_int(p.get("offset")) or 0, 0)
        limit = min(max(_as_int(p.get("limit")) or 100, 1), 100)
        timeout = max(float(p.get("timeout") or 0), 0.0)
        if "allowed_updates" in p:
            allowed = p["allowed_updates"] or []
            self._allowed_updates = frozenset(allowed) if allowed else None
        self._poll_generation += 1
        generation = self._poll_generation
        self._confirm(offset)
        self.last_offset = offset
        self._polling += 1
        try:
            # Wakes an older poll (which then answers 409 like Telegram) and anyone in
            # wait_update_consumed / waiting for `polling`.
            self._changed()
            await self._until(
                lambda: (
                    generation != self._poll_generation or bool(self._deliverable(offset, limit))
                ),
                timeout,
            )
        finally:
            self._polling -= 1
        if generation != self._poll_generation:
            raise ApiError(409, _CONFLICT)
        batch = self._deliverable(offset, limit)
        for queued in batch:
            queued.delivered = True
        return [copy.deepcopy(q.update) for q in batch]

    # ------------------------------------------------------------------ helpers

    def _user(self, user_id: int) -> dict[str, Any]:
        try:
            return self.users[user_id]
        except KeyError:
            raise LookupError(f"unknown user {user_id}; call add_user first") from None

    def _incoming(
        self, user_id: int, chat_id: int | None, content: dict[str, Any]
    ) -> dict[str, Any]:
        user = self._user(user_id)
        chat_id = user_id if chat_id is None else chat_id
        if chat_id not in self.chats:
            raise LookupError(f"unknown chat {chat_id}")
        message = {
            "message_id": self._new_message_id(chat_id),
            "from": copy.deepcopy(user),
            "chat": copy.deepcopy(self.chats[chat_id]),
            "date": _now(),
            **content,
        }
        self._messages.setdefault(chat_id, {})[message["message_id"]] = copy.deepcopy(message)
        return message

    def _new_message_id(self, chat_id: int) -> int:
        # One counter per chat shared by user and bot messages, as in private chats.
        next_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = next_id + 1
        return next_id

    def _chat(self, raw: Any) -> dict[str, Any]:
        if raw is None or raw == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat_id = _as_int(raw)
        if chat_id is None or chat_id not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id in self._migrated_to:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self._migrated_to[chat_id]},
            )
        kind = self.chats[chat_id]["type"]
        if self._bot_status.get(chat_id) == "kicked":
            raise ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
        if self._bot_status.get(chat_id) == "left":
            raise ApiError(403, f"Forbidden: bot is not a member of the {kind} chat")
        return self.chats[chat_id]

    def _render(
        self, text: Any, parse_mode: Any, entities: Any, *, what: str
    ) -> tuple[str, list[dict[str, Any]]]:
        text = "" if text is None else str(text)
        mode = str(parse_mode).lower() if parse_mode else ""
        if mode == "html":
            try:
                plain, ents = parse_html(text, strict=self.strict_html)
            except HtmlError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        elif mode in ("markdown", "markdownv2"):
            # Not rendered: the text keeps its markup characters.
            plain, ents = text, []
        elif mode:
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        else:
            plain, ents = text, [dict(e) for e in entities or []]
        plain, ents = strip_text(plain, ents)
        if what == "text":
            if not plain:
                raise ApiError(400, "Bad Request: message text is empty")
            if len(plain) > MAX_TEXT_LENGTH:
                raise ApiError(400, "Bad Request: message is too long")
        elif len(plain) > MAX_CAPTION_LENGTH:
            raise ApiError(400, "Bad Request: message caption is too long")
        return plain, ents

    def _check_markup(
        self, markup: Any, *, inline_only: bool
    ) -> tuple[dict[str, Any] | None, _KeyboardEffect]:
        """Validate reply_markup; returns (inline markup to store on the message, effect
        on the chat's reply keyboard). Applied only after the whole request succeeded."""
        if markup is None:
            return None, None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise ApiError(400, "Bad Request: can't parse inline keyboard markup")
            for row in rows:
                for button in row:
                    self._check_inline_button(button)
            return {"inline_keyboard": copy.deepcopy(rows)}, None
        if inline_only:
            raise ApiError(400, "Bad Request: inline keyboard expected")
        if "keyboard" in markup:
            rows = [
                [b if isinstance(b, str) else str(b.get("text", "")) for b in row]
                for row in markup["keyboard"]
            ]
            if any(not text for row in rows for text in row):
                raise ApiError(400, "Bad Request: keyboard button text is empty")
            return None, ("set", rows)
        if markup.get("remove_keyboard"):
            return None, ("remove", None)
        return None, None

    @staticmethod
    def _check_inline_button(button: Any) -> None:
        if not isinstance(button, dict) or not button.get("text"):
            raise ApiError(400, "Bad Request: can't parse inline keyboard button: text is empty")
        if len(button) == 1:
            raise ApiError(
                400,
                "Bad Request: can't parse inline keyboard button: "
                "Text buttons are unallowed in the inline keyboard",
            )
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        if "url" in button and not _BUTTON_URL_RE.fullmatch(str(button["url"])):
            raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")

    def _apply_keyboard(self, chat_id: int, effect: _KeyboardEffect) -> None:
        if effect is not None:
            self._reply_keyboards[chat_id] = effect[1]

    def _reply_to(self, chat_id: int, p: dict[str, Any]) -> dict[str, Any] | None:
        params = p.get("reply_parameters")
        if not params and p.get("reply_to_message_id") is not None:
            params = {"message_id": p["reply_to_message_id"]}
        if not isinstance(params, dict):
            return None
        target = self._messages.get(chat_id, {}).get(_as_int(params.get("message_id")) or 0)
        if target is None:
            if params.get("allow_sending_without_reply") or p.get("allow_sending_without_reply"):
                return None
            raise ApiError(400, "Bad Request: message to be replied not found")
        reply = copy.deepcopy(target)
        reply.pop("reply_to_message", None)
        return reply

    def _post(
        self,
        chat: dict[str, Any],
        content: dict[str, Any],
        p: dict[str, Any],
        inline: dict[str, Any] | None = None,
        keyboard: _KeyboardEffect = None,
        reply: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self._new_message_id(chat["id"]),
            "from": copy.deepcopy(self.bot_user),
            "chat": copy.deepcopy(chat),
            "date": _now(),
        }
        if reply is not None:
            message["reply_to_message"] = reply
        message.update(content)
        if inline is not None:
            message["reply_markup"] = inline
        if p.get("protect_content"):
            message["has_protected_content"] = True
        self._apply_keyboard(chat["id"], keyboard)
        self._messages.setdefault(chat["id"], {})[message["message_id"]] = message
        return copy.deepcopy(message)

    def _bot_message(self, p: dict[str, Any], *, action: str = "edit") -> dict[str, Any]:
        if p.get("inline_message_id"):
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat = self._chat(p.get("chat_id"))
        message_id = _as_int(p.get("message_id"))
        message = self._messages.get(chat["id"], {}).get(message_id or 0)
        if message is None:
            raise ApiError(400, f"Bad Request: message to {action} not found")
        if action == "edit" and message["from"]["id"] != self.bot_id:
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    # ------------------------------------------------------------------ files

    def _register_file(
        self,
        kind: str,
        data: bytes,
        ext: str,
        *,
        file_id: str | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> StoredFile:
        n = next(self._file_counter)
        prefixes = {"photo": "AgACAgIAAxkBAAI", "document": "BQACAgIAAxkBAAI"}
        file_id = (
            file_id or f"{prefixes.get(kind, 'CAACAgIAAxkBAAI')}{n:05d}{secrets.token_urlsafe(24)}"
        )
        folder = {"photo": "photos", "document": "documents", "voice": "voice"}.get(
            kind, kind + "s"
        )
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=f"AQAD{n:05d}{secrets.token_urlsafe(6)}",
            kind=kind,
            data=data,
            file_path=f"{folder}/file_{n}.{ext}",
            file_name=file_name,
            mime_type=mime_type,
        )
        self._files[file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    @staticmethod
    def _photo_size(stored: StoredFile, width: int, height: int) -> dict[str, Any]:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "width": width,
            "height": height,
        }

    def _new_photo_set(self, upload: bytes | None = None) -> list[dict[str, Any]]:
        """Telegram stores several sizes per photo, smallest first; an uploaded photo
        becomes the biggest one."""
        dims = [(90, 68), (320, 240), (1280, 960)]
        if upload is not None:
            dims = dims[:-1]
        sizes = []
        for w, h in dims:
            stored = self._register_file(
                "photo", _fake_image(f"{w}x{h}-{secrets.token_hex(4)}"), "jpg"
            )
            sizes.append(self._photo_size(stored, w, h))
        if upload is not None:
            sizes.append(self._photo_size(self._register_file("photo", upload, "jpg"), 1280, 960))
        for size in sizes:
            self._photo_sets[size["file_id"]] = sizes
        return copy.deepcopy(sizes)

    def _input_file(
        self, value: Any, uploads: dict[str, _Upload], field_name: str
    ) -> _Upload | str:
        """Resolve a file parameter to an upload or a file_id/URL string."""
        if isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value.removeprefix("attach://"))
            if upload is None:
                raise ApiError(400, f"Bad Request: file {value} not found in the request")
        elif value is None and field_name in uploads:
            upload = uploads[field_name]
        elif isinstance(value, str) and value:
            return value
        else:
            raise ApiError(400, f"Bad Request: there is no {field_name} in the request")
        if not upload.data:
            raise ApiError(400, "Bad Request: file must be non-empty")
        return upload

    def _photo_from(
        self, value: Any, uploads: dict[str, _Upload], field_name: str
    ) -> list[dict[str, Any]]:
        source = self._input_file(value, uploads, field_name)
        if isinstance(source, _Upload):
            return self._new_photo_set(source.data)
        if re.match(r"https?://", source):
            return self._new_photo_set(_fake_image(source))
        known = self._files.get(source)
        if known is None:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        if known.kind != "photo":
            raise ApiError(
                400, f"Bad Request: can't use file of type {known.kind.title()} as Photo"
            )
        return copy.deepcopy(self._photo_sets[source])

    def _document_from(
        self, value: Any, uploads: dict[str, _Upload], field_name: str
    ) -> dict[str, Any]:
        source = self._input_file(value, uploads, field_name)
        if isinstance(source, str):
            if re.match(r"https?://", source):
                name = source.rstrip("/").rsplit("/", 1)[-1] or "file"
                source = _Upload(_fake_image(source), name)
            else:
                known = self._files.get(source)
                if known is None:
                    raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
                return self._document_json(known)
        name = source.filename or "file"
        mime = mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"
        ext = name.rsplit(".", 1)[-1] if "." in name else "bin"
        stored = self._register_file("document", source.data, ext, file_name=name, mime_type=mime)
        return self._document_json(stored)

    @staticmethod
    def _document_json(stored: StoredFile) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        if stored.file_name:
            doc["file_name"] = stored.file_name
        if stored.mime_type:
            doc["mime_type"] = stored.mime_type
        return doc

    # ------------------------------------------------------------------ API methods

    def _get_me(self, p: dict[str, Any], u: dict[str, _Upload]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _delete_webhook(self, p: dict[str, Any], u: dict[str, _Upload]) -> bool:
        self.webhook_url = ""
        if p.get("drop_pending_updates"):
            self._queue.clear()
        return True

    def _set_webhook(self, p: dict[str, Any], u: dict[str, _Upload]) -> bool:
        self.webhook_url = str(p.get("url") or "")
        if p.get("drop_pending_updates"):
            self._queue.clear()
        return True

    def _get_webhook_info(self, p: dict[str, Any], u: dict[str, _Upload]) -> dict[str, Any]:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }

    @staticmethod
    def _commands_key(p: dict[str, Any]) -> tuple[str, str]:
        scope = p.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(p.get("language_code") or "")

    def _set_my_commands(self, p: dict[str, Any], u: dict[str, _Upload]) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            if not _COMMAND_RE.fullmatch(str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: command description is empty")
        self.commands[self._commands_key(p)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _get_my_commands(self, p: dict[str, Any], u: dict[str, _Upload]) -> list[dict[str, Any]]:
        return copy.deepcopy(self.commands.get(self._commands_key(p), []))

    def _delete_my_commands(self, p: dict[str, Any], u: dict[str, _Upload]) -> bool:
        self.commands.pop(self._commands_key(p), None)
        return True

    def _set_chat_menu_button(self, p: dict[str, Any], u: dict[str, _Upload]) -> bool:
        chat_id = None
        if p.get("chat_id") is not None:
            chat_id = self._chat(p["chat_id"])["id"]
        self.menu_buttons[chat_id] = p.get("menu_button") or {"type": "default"}
        return True

    def _get_chat_menu_button(self, p: dict[str, Any], u: dict[str, _Upload]) -> dict[str, Any]:
        chat_id = None
        if p.get("chat_id") is not None:
            chat_id = self._chat(p["chat_id"])["id"]
        button = self.menu_buttons.get(chat_id) or self.menu_buttons.get(None)
        return copy.deepcopy(button or {"type": "commands"})

    def _bot_text_setter(self, name: str) -> Callable[[dict[str, Any], dict[str, _Upload]], bool]:
        def setter(p: dict[str, Any], u: dict[str, _Upload]) -> bool:
            self.bot_texts[(name, str(p.get("language_code") or ""))] = str(p.get(name) or "")
            return True

        return setter

    def _bot_text_getter(
        self, name: str
    ) -> Callable[[dict[str, Any], dict[str, _Upload]], dict[str, Any]]:
        def getter(p: dict[str, Any], u: dict[str, _Upload]) -> dict[str, Any]:
            lang = str(p.get("language_code") or "")
            default = self.bot_user["first_name"] if name == "name" else ""
            value = self.bot_texts.get((name, lang), self.bot_texts.get((name, ""), default))
            return {name: value}

        return getter

    def _send_message(self, p: dict[str, Any], u: dict[str, _Upload]) -> dict[str, Any]:
        chat = self._chat(p.get("chat_id"))
        text, entities = self._render(
            p.get("text"), p.get("parse_mode"), p.get("entities"), what="text"
        )
        inline, keyboard = self._check_markup(p.get("reply_markup"), inline_only=False)
        reply = self._reply_to(chat["id"], p)
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        if isinstance(p.get("link_preview_options"), dict):
            content["link_preview_options"] = p["link_preview_options"]
        return self._post(chat, content, p, inline, keyboard, reply)

    def _edit_message_text(self, p: dict[str, Any], u: dict[str, _Upload]) -> dict[str, Any]:
        message = self._bot_message(p)
        if "text" not in message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities = self._render(
            p.get("text"), p.get("parse_mode"), p.get("entities"), what="text"
        )
        # Omitting reply_markup removes the inline keyboard on Telegram.
        inline, _ = self._check_markup(p.get("reply_markup"), inline_only=True)
        if (
            text == message["text"]
            and entities == message.get("entities", [])
            and inline == message.get("reply_markup")
        ):
            raise ApiError(400, _NOT_MODIFIED)
        message["text"] = text
        self._set_optional(message, "entities", entities or None)
        self._set_optional(message, "reply_markup", inline)
        message["edit_date"] = _now()
        return copy.deepcopy(message)

    def _edit_message_caption(self, p: dict[str, Any], u: dict[str, _Upload]) -> dict[str, Any]:
        message = self._bot_message(p)
        if not any(k in message for k in _MEDIA_KEYS):
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption, entities = self._render(
            p.get("caption"), p.get("parse_mode"), p.get("caption_entities"), what="caption"
        )
        inline, _ = self._check_markup(p.get("reply_markup"), inline_only=True)
        if (
            caption == message.get("caption", "")
            and entities == message.get("caption_entities", [])
            and inline == message.get("reply_markup")
        ):
            raise ApiError(400, _NOT_MODIFIED)
        self._set_optional(message, "caption", caption or None)
        self._set_optional(message, "caption_entities", entities or None)
        self._set_optional(message, "reply_markup", inline)
        message["edit_date"] = _now()
        return copy.deepcopy(message)

    def _edit_message_reply_markup(
        self, p: dict[str, Any], u: dict[str, _Upload]
    ) -> dict[str, Any]:
        message = self._bot_message(p)
        inline, _ = self._check_markup(p.get("reply_markup"), inline_only=True)
        if inline == message.get("reply_markup"):
            raise ApiError(400, _NOT_MODIFIED)
        self._set_optional(message, "reply_markup", inline)
        message["edit_date"] = _now()
        return copy.deepcopy(message)

    @staticmethod
    def _set_optional(message: dict[str, Any], key: str, value: Any) -> None:
        if value is None:
            message.pop(key, None)
        else:
            message[key] = value

    def _delete_message(self, p: dict[str, Any], u: dict[str, _Upload]) -> bool:
        message = self._bot_message(p, action="delete")
        del self._messages[message["chat"]["id"]][message["message_id"]]
        return True

    def _delete_messages(self, p: dict[str, Any], u: dict[str, _Upload]) -> bool:
        chat = self._chat(p.get("chat_id"))
        ids = p.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise ApiError(400, "Bad Request: message identifiers are not specified")
        found = False
        for message_id in ids:
            found |= (
                self._messages.get(chat["id"], {}).pop(_as_int(message_id) or 0, None) is not None
            )
        if not found:
            raise ApiError(400, "Bad Request: message to delete not found")
        return True

    def _answer_callback_query(self, p: dict[str, Any], u: dict[str, _Upload]) -> bool:
        query_id = str(p.get("callback_query_id") or "")
        if query_id not in self._open_callbacks:
            raise ApiError(400, _QUERY_TOO_OLD)
        if len(str(p.get("text") or "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        del self._open_callbacks[query_id]
        self.answered_callbacks.append(dict(p))
        return True

    def _send_photo(self, p: dict[str, Any], u: dict[str, _Upload]) -> dict[str, Any]:
        chat = self._chat(p.get("chat_id"))
        caption, entities = self._render(
            p.get("caption"), p.get("parse_mode"), p.get("caption_entities"), what="caption"
        )
        inline, keyboard = self._check_markup(p.get("reply_markup"), inline_only=False)
        reply = self._reply_to(chat["id"], p)
        content: dict[str, Any] = {"photo": self._photo_from(p.get("photo"), u, "photo")}
        self._add_caption(content, caption, entities)
        return self._post(chat, content, p, inline, keyboard, reply)

    def _send_document(self, p: dict[str, Any], u: dict[str, _Upload]) -> dict[str, Any]:
        chat = self._chat(p.get("chat_id"))
        caption, entities = self._render(
            p.get("caption"), p.get("parse_mode"), p.get("caption_entities"), what="caption"
        )
        inline, keyboard = self._check_markup(p.get("reply_markup"), inline_only=False)
        reply = self._reply_to(chat["id"], p)
        content: dict[str, Any] = {
            "document": self._document_from(p.get("document"), u, "document")
        }
        self._add_caption(content, caption, entities)
        return self._post(chat, content, p, inline, keyboard, reply)

    @staticmethod
    def _add_caption(content: dict[str, Any], caption: str, entities: list[dict[str, Any]]) -> None:
        if caption:
            content["caption"] = caption
        if entities:
            content["caption_entities"] = entities

    def _send_media_group(self, p: dict[str, Any], u: dict[str, _Upload]) -> list[dict[str, Any]]:
        chat = self._chat(p.get("chat_id"))
        media = p.get("media")
        if not isinstance(media, list) or not all(isinstance(m, dict) for m in media):
            raise ApiError(400, "Bad Request: can't parse media JSON object")
        if len(media) < 2:
            raise ApiError(400, "Bad Request: media group must contain at least 2 items")
        if len(media) > 10:
            raise ApiError(400, "Bad Request: too much messages to send as an album")
        kinds = {m.get("type") for m in media}
        if not kinds <= {"photo", "document"}:
            raise ApiError(
                400, f"Bad Request: unsupported media type in album: {sorted(map(str, kinds))}"
            )
        if len(kinds) > 1:
            raise ApiError(400, "Bad Request: document can't be mixed with other media types")
        reply = self._reply_to(chat["id"], p)
        # Render every item before storing anything: a bad item fails the whole album.
        rendered = [
            self._render(
                m.get("caption"), m.get("parse_mode"), m.get("caption_entities"), what="caption"
            )
            for m in media
        ]
        contents = []
        for item, (caption, entities) in zip(media, rendered, strict=True):
            if item["type"] == "photo":
                content: dict[str, Any] = {"photo": self._photo_from(item.get("media"), u, "media")}
            else:
                content = {"document": self._document_from(item.get("media"), u, "media")}
            self._add_caption(content, caption, entities)
            contents.append(content)
        group_id = str(secrets.randbits(60))
        return [
            self._post(chat, {"media_group_id": group_id, **content}, p, reply=reply)
            for content in contents
        ]

    def _send_chat_action(self, p: dict[str, Any], u: dict[str, _Upload]) -> bool:
        self._chat(p.get("chat_id"))
        if p.get("action") not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _get_file(self, p: dict[str, Any], u: dict[str, _Upload]) -> dict[str, Any]:
        stored = self._files.get(str(p.get("file_id") or ""))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return stored.as_file()
