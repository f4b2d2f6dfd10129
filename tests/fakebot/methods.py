"""The Bot API methods the fake implements, by lower-case name (``_method_table``): the
bot's settings (getMe, webhooks, commands, menu button, name and descriptions) and
messages (send, edit, delete, answer callback queries, photos, documents, albums, chat
actions, getFile). getUpdates is ``updates.UpdateQueue._get_updates``."""

from __future__ import annotations

import copy
import json
import re
import secrets
from collections.abc import Callable
from typing import Any

from .chats import ChatStore
from .checks import Checks
from .common import ApiError, _as_int, _now, _Upload
from .files import Files

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
# The largest file a bot may download through the Bot API (getFile refuses bigger ones).
BOT_DOWNLOAD_LIMIT = 20 * 1024 * 1024
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a content and reply markup of the current message"
)
_QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"

# One Bot API method: (decoded parameters, uploads by field name) -> the result.
Handler = Callable[[dict[str, Any], dict[str, _Upload]], Any]


class BotMethods(ChatStore, Checks, Files):
    """Each ``_name(p, u)`` executes one method or raises ``ApiError``."""

    def _method_table(self) -> dict[str, Handler]:
        return {
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
        self.webhook_secret = str(p.get("secret_token") or "")
        if "allowed_updates" in p:
            self._allowed_updates = frozenset(p["allowed_updates"]) or None
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
        if stored.size > BOT_DOWNLOAD_LIMIT:
            raise ApiError(400, "Bad Request: file is too big")
        return stored.as_file()
