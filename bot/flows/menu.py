"""The main menu (a reply keyboard, richer for leaders)."""

from __future__ import annotations

from bot.rules.access import Actor, Request
from bot.ui.catalogue import Texts
from bot.ui.screens import Menu
from storage.entities import Role

ACTIONS = ("report", "my", "model", "stats", "commit", "help", "review", "members", "invite",
           "export")


def main_menu(t: Texts, actor: Actor | None = None) -> Menu:
    """A member's menu; a leader's has a row more; an observer's only what they can read, and
    the export they mostly come for (a leader's exports are commands, as their digest is)."""
    def row(*actions: str) -> tuple[str, ...]:
        return tuple(t.plain(f"menu.{a}") for a in actions)

    reports = actor is None or actor.holds(Role.MEMBER) or actor.holds(Role.LEADER)
    leads = actor is not None and (actor.admin or actor.holds(Role.LEADER))
    rows: list[tuple[str, ...]] = []
    if reports:
        rows += [row("report"), row("my", "model"), row("stats", "commit", "help")]
    else:
        rows += [row("stats", "export"), row("model", "commit", "help")]
    if leads:
        rows.append(row("review", "members", "invite"))
    return tuple(rows)


async def menu_now(req: Request, user_id: int | None = None, t: Texts | None = None) -> Menu:
    """The menu of the requester (or of `user_id`, in `t`) as their roles are now, after
    whatever this request changed."""
    return main_menu(t or req.t, await req.actor_of(user_id or req.user_id))
