"""What the parts of the fake share: the error and time-out a call can be answered with
(``ApiError``, the one any in-process Bot API raises: bot/tryout/wire.py; and
``SimulatedTimeout``), the record of one call (``Call``), a stored file (``StoredFile``),
Telegram's length limits and small helpers."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.tryout.wire import NOT_FOUND, ApiError

__all__ = ["NOT_FOUND", "ApiError", "Call", "SimulatedTimeout", "StoredFile"]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024


class SimulatedTimeout(TimeoutError):
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
    # Catalogue keys whose texts the call shows (``FakeTelegram.key_source``), empty without it.
    keys: frozenset[str] = frozenset()
    # What the fake answered on success (e.g. the message sent, with its message_id).
    result: Any = None

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
    # The size Telegram states, when a test stands a few bytes in for a big file.
    stated_size: int | None = None

    @property
    def size(self) -> int:
        return len(self.data) if self.stated_size is None else self.stated_size

    def as_file(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }


@dataclass
class _Upload:
    data: bytes
    filename: str | None = None


# What a reply_markup does to the chat's reply keyboard: ("set", rows), ("remove", None) or
# nothing.
_KeyboardEffect = tuple[str, list[list[str]] | None] | None

# Given a text the bot sent, the catalogue keys whose rendered texts appear in it.
KeySource = Callable[[str], frozenset[str]]


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


def _fake_image(seed: str, size: int = 96) -> bytes:
    """Small bytes that look like a JPEG (SOI/APP0 ... EOI) and differ per seed."""
    digest = hashlib.sha256(seed.encode()).digest()
    body = (digest * (size // len(digest) + 1))[:size]
    return (
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + body + b"\xff\xd9"
    )
