"""STUB (issue 4, being written): one job per schedule row, rebuilt from the database."""

from __future__ import annotations

from telegram.ext import Application


async def install(application: Application) -> None:
    """Builds the jobs from the database and sends what is due (catch-up after a stop)."""
