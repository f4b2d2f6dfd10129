"""An emulator of the Telegram Bot API for the busy-moment benchmarks (issue 17), written apart
from the tests' fake (tests/fakebot) so that the bot is measured against something it was not
fitted to.

It serves `/bot<token>/<method>` over HTTP (aiohttp) as Telegram does: long-polled getUpdates
fed by a driver, sends that answer real Bot API messages, edits, callback answers, chat
actions, the start-up setters. Every call takes a round trip (150 ms, or drawn uniformly from
100–250 ms per call with a seed): half before it "arrives" at Telegram, where it is counted,
checked against Telegram's caps and recorded, half for the answer to come back.

Telegram's caps are counted at arrival, on accepted sends only (a refused send does not count):
- at most 30 sends in any 1-s window, all chats together;
- into one chat, a burst of 3 then 1 a second (a bucket of 3 refilled at 1/s);
- into a group (a negative chat id), at most 20 in any 60-s window.
Beyond them the answer is Telegram's 429 with `retry_after`, the whole seconds until there is
room. Edits count as sends, as Telegram counts them.

The driver (bench/busy.py, tests/test_emulator.py) uses the `Emulator` object in its own
process: `queue_text` / `queue_press` put a member's message or button press in the updates
with the moment the member "sent" it, `arrivals` is the log of every call as it arrived
(monotonic moment, method, chat, outcome), `shown(chat)` what the bot has put in a chat.
`Emulator.call` is the arrival itself, without the network or the latency: the tests drive it
with their own clock."""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import math
import random
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# Methods that put a message into a chat or change one: what Telegram's caps count.
SENDS = frozenset({
    "sendMessage", "sendPhoto", "sendMediaGroup", "sendDocument", "sendVideo", "sendAnimation",
    "sendAudio", "sendVoice", "sendLocation", "sendVenue", "sendContact", "sendPoll",
    "sendSticker", "copyMessage", "forwardMessage",
})
EDITS = frozenset({
    "editMessageText", "editMessageCaption", "editMessageReplyMarkup", "editMessageMedia",
})
COUNTED = SENDS | EDITS
BOT_ID = 7_000_000_001
TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Arrival:
    """One call as it arrived: `outcome` is "ok", "429" or an error code; `reason` names the
    cap that refused it ("overall", "chat", "group")."""

    at: float
    method: str
    chat_id: int | None
    outcome: str
    retry_after: int | None = None
    reason: str = ""
    text: str = ""  # the text or caption sent, tags taken off
    size: int = 0  # bytes uploaded with it

    @property
    def accepted_send(self) -> bool:
        return self.outcome == "ok" and self.method in COUNTED


class Latency:
    """The round trip of each call: fixed, or drawn uniformly from [low, high] with a seed."""

    def __init__(self, seconds: float = 0.150, jitter_seed: int | None = None,
                 low: float = 0.100, high: float = 0.250) -> None:
        self.seconds, self.low, self.high = seconds, low, high
        self.random = random.Random(jitter_seed) if jitter_seed is not None else None

    def draw(self) -> float:
        return self.random.uniform(self.low, self.high) if self.random else self.seconds


@dataclass
class Caps:
    """Telegram's caps on sends, counted at arrival (see the module's words)."""

    per_second: int = 30
    chat_burst: int = 3
    chat_rate: float = 1.0
    group_per_minute: int = 20
    _overall: deque[float] = field(default_factory=deque)
    _groups: dict[int, deque[float]] = field(default_factory=dict)
    _buckets: dict[int, tuple[float, float]] = field(default_factory=dict)  # tokens, when

    def admit(self, chat_id: int, now: float) -> tuple[int, str] | None:
        """None if the send may go (it is then counted), else (retry_after, which cap)."""
        _drop_until(self._overall, now - 1.0)
        waits: list[tuple[float, str]] = []
        if len(self._overall) >= self.per_second:
            waits.append((self._overall[0] + 1.0 - now, "overall"))
        tokens, since = self._buckets.get(chat_id, (float(self.chat_burst), now))
        tokens = min(float(self.chat_burst), tokens + (now - since) * self.chat_rate)
        if tokens < 1.0:
            waits.append(((1.0 - tokens) / self.chat_rate, "chat"))
        group = self._groups.setdefault(chat_id, deque()) if chat_id < 0 else None
        if group is not None:
            _drop_until(group, now - 60.0)
            if len(group) >= self.group_per_minute:
                waits.append((group[0] + 60.0 - now, "group"))
        if waits:
            wait, reason = max(waits)
            return max(1, math.ceil(wait)), reason
        self._overall.append(now)
        self._buckets[chat_id] = (tokens - 1.0, now)
        if group is not None:
            group.append(now)
        return None


def _drop_until(moments: deque[float], moment: float) -> None:
    while moments and moments[0] <= moment:
        moments.popleft()


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code,
                                "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


@dataclass
class Shown:
    """A message the bot put into a chat (or changed), as the member sees it."""

    at: float
    method: str
    message: dict[str, Any]

    @property
    def text(self) -> str:
        return str(self.message.get("text") or self.message.get("caption") or "")

    def buttons(self) -> list[tuple[str, str]]:
        rows = (self.message.get("reply_markup") or {}).get("inline_keyboard", [])
        return [(b.get("text", ""), b["callback_data"]) for row in rows for b in row
                if "callback_data" in b]


class Emulator:
    """The Bot API's state: chats' messages, the updates queue, the caps and the log."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 latency: Latency | None = None, caps: Caps | None = None) -> None:
        self.clock = clock
        self.latency = latency or Latency()
        self.caps = caps or Caps()
        self.arrivals: list[Arrival] = []
        self.date_shift = 0.0  # added to the wall clock for messages' `date` (a faked bot)
        self.sent_at: dict[int, float] = {}  # update id -> when the member sent it
        self._updates: list[dict[str, Any]] = []
        self._next_update = itertools.count(1)
        self._new_update = asyncio.Event()
        self._messages: dict[int, dict[int, dict[str, Any]]] = {}  # chat -> id -> message
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._shown: dict[int, list[Shown]] = {}
        self._changed: dict[int, asyncio.Event] = {}
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)

    # --- the driver's side ----------------------------------------------------------------

    def queue_text(self, user_id: int, text: str, sent_at: float | None = None) -> int:
        """A member's private message to the bot; its update id."""
        message = self._new_message(user_id, _user(user_id), text=text)
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self._queue({"message": message}, sent_at)

    def queue_press(self, user_id: int, message_id: int, data: str,
                    sent_at: float | None = None) -> int:
        """A member pressing an inline button of a bot's message in the private chat."""
        message = self._messages.get(user_id, {}).get(message_id)
        if message is None:
            raise LookupError(f"chat {user_id} has no message {message_id}")
        query = {"id": str(next(self._callback_ids)), "from": _user(user_id),
                 "message": message, "chat_instance": str(user_id), "data": data}
        return self._queue({"callback_query": query}, sent_at)

    def shown(self, chat_id: int) -> list[Shown]:
        return self._shown.setdefault(chat_id, [])

    async def shown_more(self, chat_id: int, seen: int, timeout: float) -> bool:
        """Waits until the chat has more than `seen` shown messages; False at the timeout."""
        event = self._changed.setdefault(chat_id, asyncio.Event())
        deadline = time.monotonic() + timeout
        while len(self.shown(chat_id)) <= seen:
            event.clear()
            try:
                await asyncio.wait_for(event.wait(), deadline - time.monotonic())
            except TimeoutError:
                return False
        return True

    def _queue(self, body: dict[str, Any], sent_at: float | None) -> int:
        update_id = next(self._next_update)
        self._updates.append({"update_id": update_id, **body})
        self.sent_at[update_id] = self.clock() if sent_at is None else sent_at
        self._new_update.set()
        return update_id

    # --- the Bot API's side ---------------------------------------------------------------

    def call(self, method: str, params: Mapping[str, Any], upload: int = 0,
             at: float | None = None) -> Any:
        """The call arriving now (or `at`): recorded, checked, carried out; its result, or
        ApiError."""
        now = self.clock() if at is None else at
        chat = _chat_id(params.get("chat_id"))
        text = _plain(params.get("text") or params.get("caption") or "")
        if method in COUNTED and chat is not None:
            refused = self.caps.admit(chat, now)
            if refused is not None:
                retry_after, reason = refused
                self.arrivals.append(Arrival(now, method, chat, "429", retry_after, reason,
                                             text, upload))
                raise ApiError(429, f"Too Many Requests: retry after {retry_after}",
                               retry_after)
        try:
            result = self._carry_out(method, params, chat, now)
        except ApiError as error:
            self.arrivals.append(Arrival(now, method, chat, str(error.code), text=text,
                                         size=upload))
            raise
        self.arrivals.append(Arrival(now, method, chat, "ok", text=text, size=upload))
        return result

    def pending_updates(self, offset: int, limit: int = 100) -> list[dict[str, Any]]:
        """Confirms (forgets) the updates before `offset`, as Telegram does; the rest."""
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        return self._updates[:limit]

    async def long_poll(self, offset: int, timeout: float, limit: int) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            updates = self.pending_updates(offset, limit)
            left = deadline - time.monotonic()
            if updates or left <= 0:
                return updates
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), left)

    def _carry_out(self, method: str, params: Mapping[str, Any], chat: int | None,
                   now: float) -> Any:
        if method in SENDS:
            return self._send(method, params, _need(chat), now)
        if method in EDITS:
            return self._edit(method, params, _need(chat), now)
        if method == "getMe":
            return {**_bot(), "can_join_groups": True, "can_read_all_group_messages": False,
                    "supports_inline_queries": False}
        if method == "getChat":
            return {**_chat(_need(chat)), "accent_color_id": 0, "max_reaction_count": 11}
        if method == "getChatMember":
            user = int(params.get("user_id", 0))
            status = "administrator" if user == BOT_ID else "member"
            return {"status": status, "user": _bot() if user == BOT_ID else _user(user),
                    **({"can_be_edited": False, "is_anonymous": False,
                        "can_manage_chat": True, "can_delete_messages": True,
                        "can_manage_video_chats": False, "can_restrict_members": True,
                        "can_promote_members": False, "can_change_info": True,
                        "can_invite_users": True, "can_post_stories": False,
                        "can_edit_stories": False, "can_delete_stories": False}
                       if status == "administrator" else {})}
        if method == "getChatAdministrators":
            return [{"status": "creator", "user": _user(1), "is_anonymous": False}]
        if method == "getChatMemberCount":
            return 10
        if method == "getMyCommands":
            return []
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        if method == "getMyDescription":
            return {"description": ""}
        if method == "getMyShortDescription":
            return {"short_description": ""}
        if method == "getMyName":
            return {"name": "Lan Tỏa"}
        if method == "getChatMenuButton":
            return {"type": "commands"}
        if method.startswith(("set", "delete", "answer", "close", "logOut", "pin", "unpin",
                              "leave", "ban", "unban", "restrict", "promote")) \
                or method == "sendChatAction":
            return True
        raise ApiError(404, "Not Found: method not found")

    def _send(self, method: str, params: Mapping[str, Any], chat: int,
              now: float) -> Any:
        if method == "sendMediaGroup":
            media = _json(params.get("media")) or []
            return [self._deliver(chat, method, now, self._media(item)) for item in media]
        body: dict[str, Any] = {}
        if method == "sendMessage":
            body = {"text": _plain(params.get("text", ""))}
            if not body["text"].strip():
                raise ApiError(400, "Bad Request: message text is empty")
        elif method == "sendPhoto":
            body = {"photo": self._photo()}
        elif method == "sendDocument":
            body = {"document": {"file_id": self._file_id(), "file_unique_id": self._file_id(),
                                 "file_name": "file", "mime_type": "application/octet-stream",
                                 "file_size": 1}}
        else:
            body = {"text": ""}
        if "caption" in params:
            body["caption"] = _plain(params["caption"])
        markup = _json(params.get("reply_markup"))
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            body["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
        return self._deliver(chat, method, now, body)

    def _media(self, item: Mapping[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = ({"photo": self._photo()} if item.get("type") == "photo" else
                                {"document": {"file_id": self._file_id(),
                                              "file_unique_id": self._file_id()}})
        if item.get("caption"):
            body["caption"] = _plain(item["caption"])
        return body

    def _deliver(self, chat: int, method: str, now: float,
                 body: dict[str, Any]) -> dict[str, Any]:
        message = self._new_message(chat, _bot(), **body)
        self._show(chat, Shown(now, method, message))
        return message

    def _edit(self, method: str, params: Mapping[str, Any], chat: int, now: float) -> Any:
        message_id = int(params.get("message_id", 0))
        message = self._messages.get(chat, {}).get(message_id)
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        changed = dict(message)
        if method == "editMessageText":
            changed["text"] = _plain(params.get("text", ""))
        if method == "editMessageCaption":
            changed["caption"] = _plain(params.get("caption", ""))
        markup = _json(params.get("reply_markup"))
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            changed["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
        else:
            changed.pop("reply_markup", None)
        if changed == message:
            raise ApiError(400, "Bad Request: message is not modified: specified new message "
                                "content and reply markup are exactly the same as a current "
                                "content and reply markup of the message")
        changed["edit_date"] = self._date()
        self._messages[chat][message_id] = changed
        self._show(chat, Shown(now, method, changed))
        return changed

    def _show(self, chat: int, shown: Shown) -> None:
        self.shown(chat).append(shown)
        self._changed.setdefault(chat, asyncio.Event()).set()

    def _new_message(self, chat: int, sender: dict[str, Any], **body: Any) -> dict[str, Any]:
        ids = self._message_ids.setdefault(chat, itertools.count(1))
        message = {"message_id": next(ids), "from": sender, "chat": _chat(chat),
                   "date": self._date(), **body}
        self._messages.setdefault(chat, {})[message["message_id"]] = message
        return message

    def _photo(self) -> list[dict[str, Any]]:
        unique = self._file_id()
        return [{"file_id": f"{unique}-{w}", "file_unique_id": f"{unique}{w}", "width": w,
                 "height": w * 3 // 4, "file_size": w * 40} for w in (320, 800)]

    def _file_id(self) -> str:
        return f"EMU{next(self._file_ids):08d}"

    def _date(self) -> int:
        return int(time.time() + self.date_shift)

    # --- HTTP -----------------------------------------------------------------------------

    def web_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._serve)
        app.router.add_get("/bot{token}/{method}", self._serve)
        return app

    async def _serve(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params, upload = await _params(request)
        trip = self.latency.draw()
        # The moment it arrives is fixed when it is received: a stall of this process (the
        # machine is shared) delays the handling, not the moment; asyncio's timers wake in
        # the order of their moments, so the log and the caps see arrivals in order.
        arrival = self.clock() + trip / 2
        await asyncio.sleep(arrival - self.clock())
        status, body = 200, {}
        try:
            if method == "getUpdates":
                self.arrivals.append(Arrival(arrival, method, None, "ok"))
                result: Any = await self.long_poll(int(params.get("offset") or 0),
                                                   float(params.get("timeout") or 0),
                                                   int(params.get("limit") or 100))
            else:
                result = self.call(method, params, upload, at=arrival)
            body = {"ok": True, "result": result}
        except ApiError as error:
            status, body = error.code, error.payload()
        await asyncio.sleep(trip / 2)
        return web.json_response(body, status=status)


class Server:
    """The emulator served on 127.0.0.1 at a free port, as an async context manager."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self._runner = web.AppRunner(emulator.web_app(), access_log=None)
        self.url = ""

    async def __aenter__(self) -> Server:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._runner.cleanup()


async def _params(request: web.Request) -> tuple[dict[str, Any], int]:
    """The call's parameters (query, urlencoded, multipart or JSON) and bytes uploaded."""
    params: dict[str, Any] = dict(request.query)
    upload = 0
    if request.content_type == "application/json":
        params.update(await request.json())
    elif request.can_read_body:
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                upload += len(value.file.read())
            else:
                params[name] = value
    return params, upload


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _chat_id(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _need(chat: int | None) -> int:
    if chat is None:
        raise ApiError(400, "Bad Request: chat not found")
    return chat


def _plain(markup: Any) -> str:
    """What the member reads of an HTML text: the tags taken off."""
    return html.unescape(TAG.sub("", str(markup)))


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": f"Đảng viên {user_id}",
            "language_code": "vi"}


def _bot() -> dict[str, Any]:
    return {"id": BOT_ID, "is_bot": True, "first_name": "Lan Tỏa", "username": "lantoa_bot"}


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"Đảng viên {chat_id}"}
    kind = "supergroup" if chat_id < -1_000_000_000_000 else "group"
    return {"id": chat_id, "type": kind, "title": f"Nhóm {chat_id}"}
