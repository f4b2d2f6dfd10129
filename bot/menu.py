"""The main menu (a reply keyboard) and recognising its buttons when they come back as text."""

from __future__ import annotations

from bot.catalogue import Catalogue, Texts
from bot.screens import Menu

ACTIONS = ("report", "my", "help")


def main_menu(t: Texts) -> Menu:
    return ((t.plain("menu.report"),), (t.plain("menu.my"), t.plain("menu.help")))


def menu_action(text: str, catalogue: Catalogue) -> str | None:
    """Which menu button this text is, in any language; None for anything else."""
    stripped = text.strip()
    for action in ACTIONS:
        if stripped in catalogue.all_values(f"menu.{action}"):
            return action
    return None
