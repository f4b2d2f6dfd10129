"""Everything the fake knows, in one place: the bot, users, chats and the messages in them,
the calls the bot made, files, the update queue and the settings tests change
(``time_source``, ``latency``, ``gates``, ``key_source``). The other modules are the parts of
``FakeTelegram`` that read and change this state; ``FakeState`` holds no behaviour."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .common import ApiError, Call, KeySource, SimulatedTimeout, StoredFile

if TYPE_CHECKING:
    from .oneshot import _Fault
    from .updates import _Queued


class FakeState:
    """The state of the fake Telegram; ``FakeTelegram`` is made of this and its parts."""

    def __init__(
        self,
        bot_id: int,
        bot_username: str,
        *,
        bot_first_name: str,
        strict_html: bool,
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
        self.webhook_secret = ""
        # What the fake POSTed to the webhook, in order: (update_id, HTTP status or None when
        # the bot could not be reached).
        self.webhook_posts: list[tuple[int, int | None]] = []
        self.last_offset = 0
        # Stamps each Call's ``at``; tests set it to the bot's (virtual) pacing clock.
        self.time_source: Callable[[], float] | None = None
        # Seconds every call takes on the way to Telegram and back again (half each way).
        self.latency = 0.0
        # Asked in turn before every call but getUpdates is executed; the first to answer an
        # error or a time-out has it answered instead (Telegram's limits, random faults:
        # tests/fakebot/limits.py). Gates are synchronous: they see calls in arrival order.
        self.gates: list[Callable[[Call], ApiError | SimulatedTimeout | None]] = []
        # Tells which catalogue keys produced a text the bot sent; fills ``Call.keys``.
        self.key_source: KeySource | None = None

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
