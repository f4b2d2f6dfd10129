"""Offline fake of the Telegram Bot API for driving a real python-telegram-bot app.

- ``FakeTelegram``: the state and Bot API semantics (transport independent).
- ``FakeRequest``: PTB request backend answering in-process.
- ``FakeBotServer``: the same fake over real HTTP on 127.0.0.1.
- ``WebhookPusher``: while a webhook is set, POSTs the updates to it (FakeBotServer runs one).
- ``TelegramLimits``: Telegram's flood limits, answered with 429 (a gate on the fake).
"""

from .common import ApiError, Call, SimulatedTimeout, StoredFile
from .core import FakeTelegram
from .http import FakeBotServer
from .inprocess import FakeRequest
from .limits import TelegramLimits
from .webhook import WebhookPusher

__all__ = ["ApiError", "Call", "FakeBotServer", "FakeRequest", "FakeTelegram", "SimulatedTimeout",
           "StoredFile", "TelegramLimits", "WebhookPusher"]
