"""Telegram side of bot/stats.py."""

from __future__ import annotations

from telegram.ext import BaseHandler

from bot.catalogue import Catalogue


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return []
