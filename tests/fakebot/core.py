"""Transport-agnostic fake of the Telegram Bot API.

``FakeTelegram`` holds the whole "server" state: users, chats, the messages the bot
has in each chat, pending updates and uploaded files. Transports (``FakeRequest`` for
in-process use, ``FakeBotServer`` for real HTTP) only translate requests into
:meth:`FakeTelegram.call_api` calls, so both behave identically.

Everything runs on one asyncio loop; waiting is event driven (no sleeps, no polling).

``FakeTelegram`` is put together from parts, one module each; read them in this order:

- ``common``: shared types (``ApiError``, ``SimulatedTimeout``, ``Call``, ``StoredFile``);
- ``state``: all the state (``FakeState``);
- ``users``: what a test makes users do (``add_user``, ``send_text``, ``press``, ...);
- ``readback``: what a test reads back (``messages``, ``calls_to``, ``wait_for``, ...);
- ``updates``: getUpdates and its queue (offsets, long polls, redelivery);
- ``api``: the transport entry (``call_api``: recording, latency, faults, gates, dispatch);
- ``methods``: the Bot API methods, with ``chats``, ``checks`` and ``files`` beneath them;
- ``oneshot``: ``fail_next`` and ``time_out_next``; ``limits`` and ``faults`` are gates.
"""

from __future__ import annotations

from .api import BotApi
from .users import UserDriver

__all__ = ["FakeTelegram"]


class FakeTelegram(UserDriver, BotApi):
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
        super().__init__(
            bot_id, bot_username, bot_first_name=bot_first_name, strict_html=strict_html
        )
        self._methods = self._method_table()
