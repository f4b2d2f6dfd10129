"""A PTB request backend that answers from a FakeTelegram without any networking: the one
`lantoa try` runs its stand-in with (bot/tryout/wire.py). A ``SimulatedTimeout`` is a
TimeoutError, so the bot sees ``telegram.error.TimedOut`` at once."""

from __future__ import annotations

from bot.tryout.wire import InProcessRequest as FakeRequest

__all__ = ["FakeRequest"]
