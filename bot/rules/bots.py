"""Several bots on one database: which bot serves what.

One bot token is capped by Telegram at about 30 messages a second, so a country runs many bots
on one database, each serving a subtree (`root_unit`). The rule, in one place:

    a unit belongs to the bot whose root is the nearest ancestor-or-self of the unit among the
    registered bots' roots; the bot without a root owns what no rooted bot owns.

A bot serves the memberships held in the units it owns (its members, leaders and observers talk
to it), links the groups of those units, runs their schedules and sends their deliveries. Reading
is not ownership: an observer or leader at the province, served by the province's bot, reads
figures over the whole subtree below, units of other bots included (the counting follows the
tree). The SQL is storage/bots.py's `owners_of`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from bot.ui.catalogue import Said
from storage import bots, units
from storage.db import Tx


@dataclass(frozen=True)
class BotIdentity:
    """The bot this process runs as: Telegram's id of it (the number its token starts with) and
    the root of the subtree it serves (None: whatever no rooted bot serves)."""

    bot_id: int
    root_unit_id: int | None = None


def bot_id_of(token: str) -> int:
    """The bot's id, the part of its token before ':' (0 for a token without one)."""
    head = token.split(":", 1)[0]
    return int(head) if head.isdigit() else 0


async def served_units(tx: Tx, bot: BotIdentity | None, unit_ids: Collection[int]) -> set[int]:
    """The units of these that `bot` owns. A process with no identity (the command line, a
    tool) serves everything. A unit no registered bot owns (only rooted bots, none above it)
    is served by none: run a bot without a root, or one whose root is above it."""
    if bot is None:
        return set(unit_ids)
    found = await bots.owners_of(tx, unit_ids)
    return {unit_id for unit_id, owner in found.items() if owner == bot.bot_id}


async def serves(tx: Tx, bot: BotIdentity | None, unit_id: int) -> bool:
    """Whether `bot` owns the unit (see `served_units`)."""
    return bool(await served_units(tx, bot, [unit_id]))


class InUnit(Protocol):
    @property
    def unit_id(self) -> int: ...


Held = TypeVar("Held", bound=InUnit)


async def served(tx: Tx, bot: BotIdentity | None, items: Sequence[Held]) -> list[Held]:
    """The items (memberships, schedule rows…) whose unit `bot` owns, in their order."""
    if bot is None or not items:
        return list(items)
    mine = await served_units(tx, bot, {i.unit_id for i in items})
    return [i for i in items if i.unit_id in mine]


async def in_subtree(tx: Tx, bot: BotIdentity | None, unit_id: int) -> bool:
    """Whether the unit is at or below the bot's root (what the bot's admins reach)."""
    if bot is None or bot.root_unit_id is None or unit_id == bot.root_unit_id:
        return True
    return any(u.id == bot.root_unit_id for u in await units.ancestors(tx, unit_id))


def invite_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


async def owner_username(tx: Tx, unit_id: int) -> str | None:
    """The username of the bot that owns the unit (invite links, refusals naming the right
    bot); None while no bot has registered."""
    return await bots.username_of(tx, await bots.owner_of(tx, unit_id))


async def root_unit_id(tx: Tx, root: str | None) -> int | None:
    """The unit `root_unit` names (its code, else its numeric id); None when unset. A unit
    that does not exist is said in one line (the bot does not start)."""
    if root is None or not root.strip():
        return None
    root = root.strip()
    unit = await units.get_unit_by_code(tx, root)
    if unit is None and root.isdigit():
        unit = await units.get_unit(tx, int(root))
    if unit is None:
        raise Said("cli.root_unit_unknown", unit=root)
    return unit.id


async def register(tx: Tx, bot: BotIdentity, username: str | None, now: dt.datetime) -> None:
    """The bot starting: remembered with its root and username (storage/bots.py)."""
    await bots.register(tx, bot.bot_id, bot.root_unit_id, username, now)
