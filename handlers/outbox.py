"""STUB (issue 4, being written): the paced sender of the deliveries ledger."""

from __future__ import annotations

from telegram.ext import Application


async def start(application: Application) -> None:
    """Starts draining the ledger (after Application.start)."""


async def stop(application: Application) -> None:
    """Stops the sender (before Application.stop)."""
