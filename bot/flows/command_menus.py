"""The "/" command menu Telegram shows, per role: members see what members do, leaders more,
observers only what they can read, groups /link and /unlink."""

from __future__ import annotations

from dataclasses import dataclass

from bot.rules.access import Actor, actor_for
from bot.runtime.services import Services
from storage import command_menus
from storage.db import Tx
from storage.entities import Role

MEMBER = ("report", "my", "model", "stats", "commit", "settings", "help", "lang", "cancel")
LEADER = ("report", "review", "members", "invite", "import", "behalf", "my", "model", "stats",
          "digest", "export", "report_doc", "commit", "schedule", "announce", "settings", "help",
          "lang", "cancel")
OBSERVER = ("stats", "digest", "export", "report_doc", "model", "commit", "help", "lang")
GROUP = ("link", "unlink")
EVERY_COMMAND = (*LEADER, "start", *GROUP)
# Everyone's private chat shows the members' menu (most people are members) unless given their
# own: leaders, observers, admins, and anyone who chose a language other than Vietnamese.
DEFAULT = "default"
LOOK_BATCH = 200  # people whose menu is looked at in one transaction at start-up
# The tables a person's menu follows from: roles, language, and the menu last given.
SOURCES = ("people", "memberships", "command_menus")


def commands_for(actor: Actor) -> tuple[str, ...]:
    if actor.admin or actor.holds(Role.LEADER):
        return LEADER
    if actor.holds(Role.OBSERVER) and not actor.holds(Role.MEMBER):
        return OBSERVER
    return MEMBER


@dataclass(frozen=True)
class CommandMenu:
    """The menu one chat should show: `commands` as (command, description) in the person's
    language, or None for the default menu."""

    user_id: int
    commands: tuple[tuple[str, str], ...] | None
    signature: str


async def menu_change_for(tx: Tx, services: Services, user_id: int) -> CommandMenu | None:
    """The chat's menu if it differs from the one last given, else None."""
    actor = await actor_for(tx, services.settings.admins, user_id, services.bot)
    lang = actor.person.lang if actor.person else "vi"
    wanted = commands_for(actor)
    signature = DEFAULT if (wanted, lang) == (MEMBER, "vi") else f"{lang}:{','.join(wanted)}"
    given = await command_menus.signature_of(tx, user_id)
    if given == signature or (given is None and signature == DEFAULT):
        return None
    if signature == DEFAULT:
        return CommandMenu(user_id, None, signature)
    t = services.texts(lang)
    return CommandMenu(user_id, tuple((c, t.plain(f"command.{c}")) for c in wanted), signature)


class MenuChecks:
    """Who was last found with the right menu: their next updates need no look (a
    transaction on nearly every update otherwise) until one of the SOURCES changes in this
    process — a role given, a language chosen, a menu given —, after which everyone is looked
    at again once. Roles changed by another process show at its next start-up."""

    def __init__(self) -> None:
        self._version = -1
        self._current: set[int] = set()

    async def change_for(self, services: Services, user_id: int) -> CommandMenu | None:
        """The chat's menu if it differs from the one last given, else None."""
        version = services.db.version(*SOURCES)
        if version != self._version:
            self._version, self._current = version, set()
        if user_id in self._current:
            return None
        async with services.db.transaction() as tx:
            change = await menu_change_for(tx, services, user_id)
        if change is None and services.db.version(*SOURCES) == version:
            self._current.add(user_id)
        return change


async def menu_given(services: Services, change: CommandMenu) -> None:
    """Telegram took the menu: it is not sent again until it changes."""
    async with services.db.transaction() as tx:
        await command_menus.remember(tx, change.user_id, change.signature)


async def menu_changes(services: Services) -> list[CommandMenu]:
    """Every chat whose menu changed while the bot was not looking (e.g. roles set from the
    command line), for the start-up pass. A province has thousands of leaders: they are looked
    at a few hundred per transaction, so that the updates coming in meanwhile wait for one
    batch at most, not for all."""
    async with services.db.transaction() as tx:
        people = await command_menus.people_needing_a_look(tx)
    changes: list[CommandMenu | None] = []
    for start in range(0, len(people), LOOK_BATCH):
        async with services.db.transaction() as tx:
            changes += [await menu_change_for(tx, services, user_id)
                        for user_id in people[start:start + LOOK_BATCH]]
    return [change for change in changes if change is not None]
