"""A unit's group chat: /link binds a group to a unit (a leader's choice among the units they
lead, when they lead several), /unlink undoes it; the bot added to a group says how to link it,
removed from one drops the link; a group turned supergroup keeps its link under the new id.

What is said in a group is read by the whole group, so it is in the default language; a toast
is for the person who pressed, in theirs.
"""

from __future__ import annotations

import logging

from bot.flows.reports import ReportKind
from bot.forms.conversations import Conversations, texts_for
from bot.rules.access import Action, Actor, actor_for, check, units_in_reach
from bot.runtime.services import Sender, Services
from bot.ui.buttons import pack, verb_and_number
from bot.ui.catalogue import Texts
from bot.ui.paging import page_of, turns
from bot.ui.screens import Button, Keyboard, Reply, Screen
from storage import audit, groups, units
from storage.db import Tx
from storage.entities import Role, Unit

PREFIX = "gl"
PAGE_SIZE = 8
PICK, PAGE, CANCEL = "u", "p", "x"

log = logging.getLogger(__name__)


def _data(verb: str, arg: int) -> str:
    return pack(PREFIX, verb, arg)


def parse(data: str) -> tuple[str, int] | None:
    return verb_and_number(data, PREFIX, (PICK, PAGE, CANCEL))


def in_tree_order(found: list[Unit]) -> list[Unit]:
    """Each unit followed by the units below it, siblings by name: a picker reads like the tree."""
    ids = {u.id for u in found}
    below: dict[int | None, list[Unit]] = {}
    for unit in found:
        below.setdefault(unit.parent_id if unit.parent_id in ids else None, []).append(unit)
    ordered: list[Unit] = []
    stack = sorted(below.get(None, []), key=lambda u: (u.name, u.id), reverse=True)
    while stack:
        unit = stack.pop()
        ordered.append(unit)
        stack += sorted(below.get(unit.id, []), key=lambda u: (u.name, u.id), reverse=True)
    return ordered


class Groups:
    def __init__(self, services: Services, conversations: Conversations,
                 report_kind: ReportKind) -> None:
        self.services = services
        self.conversations = conversations
        self.report_kind = report_kind

    @property
    def _group_texts(self) -> Texts:
        return self.services.texts(None)

    def _say(self, key: str, **params: object) -> Reply:
        return Reply((Screen(self._group_texts(key, **params)),))

    async def _log_refusal(self, tx: Tx, actor: Actor, chat_id: int) -> None:
        log.warning("user %s may link no unit, refused in chat %s", actor.user_id, chat_id)
        await audit.record(tx, self.services.now(), f"tg:{actor.user_id}", "refused",
                           Action.LINK_GROUP.value, f"chat:{chat_id}")

    async def _refuse_without_reach(self, tx: Tx, actor: Actor, chat_id: int,
                                    anonymous: bool = False) -> Reply:
        """Someone who leads no unit sent /link: say who can, and log the attempt."""
        await self._log_refusal(tx, actor, chat_id)
        if anonymous:
            return self._say("groups.anonymous")
        if not actor.known:
            return self._say("groups.stranger")
        if actor.holds(Role.OBSERVER) and not actor.holds(Role.LEADER):
            return self._say("groups.observer")
        return self._say("groups.not_leader")

    # ------------------------------------------------------------------ commands

    async def in_private(self, sender: Sender, unlink: bool = False) -> Reply:
        async with self.services.db.transaction() as tx:
            t = await texts_for(tx, self.services, sender.user_id)
        return Reply((Screen(t("groups.private_unlink" if unlink else "groups.private")),))

    async def link(self, sender: Sender, chat_id: int, anonymous: bool = False) -> Reply:
        """/link in a group: the sender's one unit is linked; several give a picker."""
        async with self.services.db.transaction() as tx:
            actor = await actor_for(tx, self.services, sender.user_id)
            reach = [] if anonymous else await units_in_reach(tx, actor, Action.LINK_GROUP)
            if not reach:
                return await self._refuse_without_reach(tx, actor, chat_id, anonymous)
            linked = await groups.unit_of_group(tx, chat_id)
            if linked is not None:
                return await self._linked_already(tx, actor, linked)
            if len(reach) == 1:
                return await self._link(tx, actor, reach[0], chat_id)
        return self._picker(in_tree_order(reach), 0)

    async def _linked_already(self, tx: Tx, actor: Actor, linked: Unit) -> Reply:
        if await check(tx, self.services, actor, Action.LINK_GROUP, linked.id) is None:
            return self._say("groups.already_linked", unit=linked.name)
        return self._say("groups.linked_elsewhere", unit=linked.name)

    async def _link(self, tx: Tx, actor: Actor, unit: Unit, chat_id: int,
                    replace: bool = False) -> Reply:
        before = await groups.link(tx, unit.id, chat_id)
        detail = f"chat:{chat_id}" + (f" moved_from:{before}" if before is not None else "")
        await audit.record(tx, self.services.now(), actor.label, "group_linked",
                           f"unit:{unit.id}", detail)
        t = self._group_texts
        if before is None:
            return Reply((Screen(t("groups.linked", unit=unit.name)),), replace=replace)
        # The group the unit had before hears that nothing more comes there.
        notice = Screen(t("groups.moved_away", unit=unit.name))
        return Reply((Screen(t("groups.linked_moved", unit=unit.name)),), replace=replace,
                     notices=((before, notice),))

    def _picker(self, reach: list[Unit], page: int) -> Reply:
        t = self._group_texts
        shown = page_of(reach, page, PAGE_SIZE)
        keyboard: list[tuple[Button, ...]] = [(Button(u.name, _data(PICK, u.id)),)
                                              for u in shown.items]
        keyboard += turns(t, shown, lambda number: _data(PAGE, number))
        keyboard.append((Button(t.plain("button.cancel"), _data(CANCEL, 0)),))
        buttons: Keyboard = tuple(keyboard)
        return Reply((Screen(t("groups.pick", count=len(reach)), buttons),), replace=True)

    async def unlink(self, sender: Sender, chat_id: int) -> Reply:
        async with self.services.db.transaction() as tx:
            linked = await groups.unit_of_group(tx, chat_id)
            if linked is None:
                return self._say("groups.not_linked")
            actor = await actor_for(tx, self.services, sender.user_id)
            if await check(tx, self.services, actor, Action.LINK_GROUP, linked.id) is not None:
                return self._say("groups.unlink_denied", unit=linked.name)
            await groups.unlink(tx, chat_id)
            await audit.record(tx, self.services.now(), actor.label, "group_unlinked",
                               f"unit:{linked.id}", f"chat:{chat_id}")
        return self._say("groups.unlinked", unit=linked.name)

    # ------------------------------------------------------------------ the picker's buttons

    async def press(self, sender: Sender, chat_id: int, in_group: bool, data: str) -> Reply:
        """A button of the picker. Its data comes from the client: whoever pressed is asked
        again whether they may link the unit it names."""
        parsed = parse(data) if in_group else None
        async with self.services.db.transaction() as tx:
            t = await texts_for(tx, self.services, sender.user_id)
            if parsed is None:
                log.warning("user %s pressed unknown group data %r", sender.user_id, data)
                return Reply(toast=t.plain("groups.bad_button"))
            verb, number = parsed
            actor = await actor_for(tx, self.services, sender.user_id)
            if verb == PICK:
                return await self._pick(tx, actor, chat_id, number, t)
            reach = await units_in_reach(tx, actor, Action.LINK_GROUP)
            if not reach:
                await self._log_refusal(tx, actor, chat_id)
                return Reply(toast=t.plain("groups.pick_denied"))
        if verb == CANCEL:
            return Reply((Screen(self._group_texts("groups.cancelled")),), replace=True)
        return self._picker(in_tree_order(reach), number)

    async def _pick(self, tx: Tx, actor: Actor, chat_id: int, unit_id: int, t: Texts) -> Reply:
        unit = await units.get_unit(tx, unit_id)
        if unit is None:
            log.warning("user %s picked unit %s, which does not exist", actor.user_id, unit_id)
            return Reply(toast=t.plain("groups.bad_button"))
        refusal = await check(tx, self.services, actor, Action.LINK_GROUP, unit.id, pressed=True)
        if refusal is not None:
            return refusal
        linked = await groups.unit_of_group(tx, chat_id)
        if linked is not None:
            # Linked meanwhile (another /link, or a double press): the picker is over.
            already = await self._linked_already(tx, actor, linked)
            return Reply(already.screens, replace=True)
        return await self._link(tx, actor, unit, chat_id, replace=True)

    # ------------------------------------------------------------------ the bot's own membership

    async def bot_added(self, sender: Sender, chat_id: int) -> Reply:
        """Said once, when the bot comes into a group nobody linked; nothing else is posted in
        an unlinked group."""
        async with self.services.db.transaction() as tx:
            linked = await groups.unit_of_group(tx, chat_id)
            await audit.record(tx, self.services.now(), f"tg:{sender.user_id}", "bot_added",
                               f"chat:{chat_id}",
                               f"unit:{linked.id}" if linked is not None else "")
        return Reply() if linked is not None else self._say("groups.hello")

    async def bot_removed(self, sender: Sender, chat_id: int) -> None:
        """The bot can post nothing there any more: the unit has no group until a new /link."""
        async with self.services.db.transaction() as tx:
            unit = await groups.unlink(tx, chat_id)
            if unit is not None:
                await audit.record(tx, self.services.now(), f"tg:{sender.user_id}",
                                   "group_unlinked", f"unit:{unit.id}",
                                   f"chat:{chat_id} bot removed")

    async def migrated(self, old_chat_id: int, new_chat_id: int) -> None:
        """The group became a supergroup; either of its two service messages may come first."""
        async with self.services.db.transaction() as tx:
            unit_id = await groups.move_group(tx, old_chat_id, new_chat_id)
            if unit_id is not None:
                await audit.record(tx, self.services.now(), "telegram", "group_migrated",
                                   f"unit:{unit_id}", f"chat:{old_chat_id} to chat:{new_chat_id}")
