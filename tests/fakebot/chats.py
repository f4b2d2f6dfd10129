"""Chats and the messages in them: whether the bot may write into a chat (blocked, kicked,
migrated), message ids, and how a user's or the bot's message is stored, replied to and
found again for an edit or a delete."""

from __future__ import annotations

import copy
from typing import Any

from .common import ApiError, _as_int, _KeyboardEffect, _now
from .state import FakeState


class ChatStore(FakeState):
    """The per-chat message lists both users (``users.UserDriver``) and the bot
    (``methods.BotMethods``) write to."""

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
