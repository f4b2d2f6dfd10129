"""The main menu (a reply keyboard, richer for leaders)."""

from __future__ import annotations

from bot.rules.access import Actor, actor_for
from bot.runtime.services import Services
from bot.ui.catalogue import Texts
from bot.ui.screens import Menu
from storage.db import Tx
from storage.entities import Role

ACTIONS = ("report", "my", "model", "stats", "commit", "help", "review", "members", "invite")


def main_menu(t: Texts, actor: Actor | None = None) -> Menu:
    """A member's menu; a leader's has a row more; an observer's only what they can read."""
    def row(*actions: str) -> tuple[str, ...]:
        return tuple(t.plain(f"menu.{a}") for a in actions)

    reports = actor is None or actor.holds(Role.MEMBER) or actor.holds(Role.LEADER)
    leads = actor is not None and (actor.admin or actor.holds(Role.LEADER))
    rows: list[tuple[str, ...]] = []
    if reports:
        rows += [row("report"), row("my", "model"), row("stats", "commit", "help")]
    else:
        rows += [row("stats", "model"), row("commit", "help")]
    if leads:
        rows.append(row("review", "members", "invite"))
    return tuple(rows)


async def menu_for(tx: Tx, services: Services, user_id: int, t: Texts) -> Menu:
    return main_menu(t, await actor_for(tx, services, user_id))

