"""The user side: what a test makes people do. Users and groups come into being, people
write, press buttons, send photos, places, stickers, voice notes and contacts, block the
bot, add it to or remove it from groups, and groups become supergroups. Each action queues
the update Telegram would send the bot and returns its update_id."""

from __future__ import annotations

import copy
import hashlib
import re
import secrets
from collections.abc import Mapping
from typing import Any

from bot.tryout.telegram_html import utf16_len

from .chats import ChatStore
from .common import _fake_image, _now
from .files import Files
from .readback import Readback


class UserDriver(Readback, ChatStore, Files):
    """Users' and groups' actions, turned into queued updates."""

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

    def forward_from_channel(self, user_id: int, text: str, channel: str) -> int:
        """A post of a channel forwarded into the chat (an article, a news item)."""
        origin = {"type": "channel", "date": _now(), "message_id": 77,
                  "chat": {"id": -1009999, "type": "channel", "title": channel}}
        content = {"text": text, "forward_origin": origin, "forward_date": _now()}
        return self._enqueue({"message": self._incoming(user_id, None, content)})

    def edit_text(self, user_id: int, message_id: int, text: str) -> int:
        """The user edits a text they sent: Telegram sends an edited message."""
        original = self._messages.get(user_id, {}).get(message_id)
        if original is None or original["from"]["id"] == self.bot_id:
            raise LookupError(f"no message {message_id} of user {user_id}")
        edited = {**copy.deepcopy(original), "edit_date": _now(), "text": text}
        self._messages[user_id][message_id] = copy.deepcopy(edited)
        return self._enqueue({"edited_message": edited})

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

    def send_document(
        self,
        user_id: int,
        data: bytes,
        filename: str,
        mime_type: str | None = None,
        caption: str | None = None,
        chat_id: int | None = None,
        stated_size: int | None = None,
        size_untold: bool = False,
    ) -> int:
        """A file sent as a document (📎 → File); getFile and the download then serve it.
        `stated_size`: the size Telegram tells, for a big file a test does not make (getFile
        refuses more than 20 MB, as Telegram does to bots); `size_untold`: the message leaves
        it out (the Bot API makes it optional)."""
        document = self._user_document(data, filename, mime_type, stated_size)
        if size_untold:
            del document["file_size"]
        content: dict[str, Any] = {"document": document}
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
