"""A unit's group chat: /link binds a group to a unit (a leader's choice among the units they
lead, when they lead several), /unlink undoes it; the bot added to a group says how to link it,
removed from one drops the link; a group turned supergroup keeps its link under the new id.

What is said in a group is read by the whole group, so it is in the default language; a toast
is for the person who pressed, in theirs.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated

from bot.rules.access import Action, Request, actor_for, units_in_reach
from bot.rules.bots import owner_username, served_units, serves
from bot.ui.buttons import Between, ButtonData, Id, Page
from bot.ui.catalogue import Catalogue, Texts
from bot.ui.paging import in_tree_order, page_of, turns
from bot.ui.screens import Button, Keyboard, Reply, Screen
from storage import audit, groups, units
from storage.entities import Role, Unit

PAGE_SIZE = 8
STALE = "groups.bad_button"
# What is done only in the private chat with the bot; each, sent in a group, gets one pointer
# there, whose link (t.me/<bot>?start=<command>) opens it (Core.opened_by_link).
PRIVATE_ONLY = ("report", "my", "stats", "model", "commit", "help", "review", "members",
                "invite", "behalf", "digest", "schedule", "announce", "settings")
# One pointer per person an hour, and few into one group: its 20 messages a minute are for
# digests, reminders and /link, and one pointer's button serves whoever presses it.
POINTER_EVERY = dt.timedelta(hours=1)
GROUP_POINTERS = 4
GROUP_WINDOW = dt.timedelta(minutes=1)

log = logging.getLogger(__name__)


class LinkUnit(ButtonData, prefix="gl:u", action=Action.LINK_GROUP):
    unit: Id


class LinkPage(ButtonData, prefix="gl:p", action=Action.LINK_GROUP):
    page: Page


class CancelLink(ButtonData, prefix="gl:x", action=Action.LINK_GROUP):
    zero: Annotated[int, Between(0, 0)]  # kept: the buttons already out in groups carry it


Press = LinkUnit | LinkPage | CancelLink
BUTTONS = (LinkUnit, LinkPage, CancelLink)


class Pointers:
    """Who was pointed to the private chat, and when: kept in memory, so a restart may point
    someone once more within the hour, which costs one message."""

    def __init__(self) -> None:
        self._people: dict[int, dt.datetime] = {}
        self._groups: dict[int, list[dt.datetime]] = {}

    def may_point(self, user_id: int, chat_id: int, now: dt.datetime) -> bool:
        """True, and remembered, when neither the person nor the group had enough lately."""
        self._forget(now)
        recent = [t for t in self._groups.get(chat_id, []) if t > now - GROUP_WINDOW]
        if user_id in self._people or len(recent) >= GROUP_POINTERS:
            return False
        self._people[user_id] = now
        self._groups[chat_id] = [*recent, now]
        return True

    def _forget(self, now: dt.datetime) -> None:
        self._people = {u: t for u, t in self._people.items() if t > now - POINTER_EVERY}
        self._groups = {c: ts for c, ts in self._groups.items()
                        if ts and ts[-1] > now - GROUP_WINDOW}


class Groups:
    def __init__(self, catalogue: Catalogue) -> None:
        self.group_texts: Texts = catalogue.texts(None)
        self.pointers = Pointers()

    def _say(self, key: str, **params: object) -> Reply:
        return Reply((Screen(self.group_texts(key, **params)),))

    @staticmethod
    async def _log_refusal(req: Request, chat_id: int) -> None:
        log.warning("user %s may link no unit, refused in chat %s", req.user_id, chat_id)
        await audit.record(req.tx, req.now, f"tg:{req.user_id}", "refused",
                           Action.LINK_GROUP.value, f"chat:{chat_id}")

    async def _refuse_without_reach(self, req: Request, chat_id: int,
                                    anonymous: bool = False) -> Reply:
        """Someone who leads no unit sent /link: say who can, and log the attempt."""
        await self._log_refusal(req, chat_id)
        actor = req.actor
        if anonymous:
            return self._say("groups.anonymous")
        if not actor.known:
            return self._say("groups.stranger")
        if actor.holds(Role.OBSERVER) and not actor.holds(Role.LEADER):
            return self._say("groups.observer")
        return self._say("groups.not_leader")

    # ------------------------------------------------------------------ commands

    @staticmethod
    async def in_private(req: Request, unlink: bool = False) -> Reply:
        return Reply((Screen(req.t("groups.private_unlink" if unlink else "groups.private")),))

    async def link(self, req: Request, chat_id: int, anonymous: bool = False) -> Reply:
        """/link in a group: the sender's one unit is linked; several give a picker. Only
        units this bot serves (bot/rules/bots.py): a leader of another bot's unit is told to
        link the group through that bot."""
        everywhere = [] if anonymous else await self._reach_everywhere(req)
        mine = await served_units(req.tx, req.bot, [u.id for u in everywhere])
        reach = [u for u in everywhere if u.id in mine]
        if not reach:
            if everywhere and (other := await self._other_bot(req, chat_id, everywhere[0])):
                return other
            return await self._refuse_without_reach(req, chat_id, anonymous)
        linked = await groups.unit_of_group(req.tx, chat_id)
        if linked is not None:
            return await self._linked_already(req, linked)
        if len(reach) == 1:
            return await self._link(req, reach[0], chat_id)
        return self._picker(in_tree_order(reach), 0)

    @staticmethod
    async def _reach_everywhere(req: Request) -> list[Unit]:
        """The units the sender may link a group to, whichever bot serves them."""
        if req.bot is None:
            return await req.reach(Action.LINK_GROUP)
        unfiltered = await actor_for(req.tx, req.admins, req.user_id)
        return await units_in_reach(req.tx, unfiltered, Action.LINK_GROUP)

    async def _other_bot(self, req: Request, chat_id: int, unit: Unit) -> Reply | None:
        """The unit is another bot's: the line naming it (None when no bot serves it)."""
        username = await owner_username(req.tx, unit.id)
        if username is None:
            return None
        await self._log_refusal(req, chat_id)
        return self._say("groups.other_bot", unit=unit.name, bot=username)

    async def _linked_already(self, req: Request, linked: Unit) -> Reply:
        if await req.check(Action.LINK_GROUP, linked.id) is None:
            return self._say("groups.already_linked", unit=linked.name)
        return self._say("groups.linked_elsewhere", unit=linked.name)

    async def _link(self, req: Request, unit: Unit, chat_id: int,
                    replace: bool = False) -> Reply:
        before = await groups.link(req.tx, unit.id, chat_id)
        detail = f"chat:{chat_id}" + (f" moved_from:{before}" if before is not None else "")
        await audit.record(req.tx, req.now, req.actor.label, "group_linked", f"unit:{unit.id}",
                           detail)
        t = self.group_texts
        if before is None:
            return Reply((Screen(t("groups.linked", unit=unit.name)),), replace=replace)
        # The group the unit had before hears that nothing more comes there.
        notice = Screen(t("groups.moved_away", unit=unit.name))
        return Reply((Screen(t("groups.linked_moved", unit=unit.name)),), replace=replace,
                     notices=((before, notice),))

    def _picker(self, reach: list[Unit], page: int) -> Reply:
        t = self.group_texts
        shown = page_of(reach, page, PAGE_SIZE)
        keyboard: list[tuple[Button, ...]] = [(Button(u.name, LinkUnit(u.id).pack()),)
                                              for u in shown.items]
        keyboard += turns(t, shown, lambda number: LinkPage(number).pack())
        keyboard.append((Button(t.plain("button.cancel"), CancelLink(0).pack()),))
        buttons: Keyboard = tuple(keyboard)
        return Reply((Screen(t("groups.pick", count=len(reach)), buttons),), replace=True)

    async def unlink(self, req: Request, chat_id: int) -> Reply:
        linked = await groups.unit_of_group(req.tx, chat_id)
        if linked is None:
            return self._say("groups.not_linked")
        if await req.check(Action.LINK_GROUP, linked.id) is not None:
            return self._say("groups.unlink_denied", unit=linked.name)
        await groups.unlink(req.tx, chat_id)
        await audit.record(req.tx, req.now, req.actor.label, "group_unlinked",
                           f"unit:{linked.id}", f"chat:{chat_id}")
        return self._say("groups.unlinked", unit=linked.name)

    async def private_only(self, req: Request, chat_id: int, command: str,
                           bot_username: str | None) -> Reply:
        """A command (or main-menu word) of the private chat, sent in a group: one short
        pointer to the private chat, with a button that opens it there; nothing more for the
        same person within the hour, nor beyond a few a minute into one group."""
        if not bot_username or not self.pointers.may_point(req.user_id, chat_id, req.now):
            return Reply()
        t = self.group_texts
        person = req.actor.person
        name = person.full_name if person is not None else req.name
        key = f"groups.private_only.{command}"
        text = t(key if t.has(key) else "groups.private_only.other", name=name)
        link = f"https://t.me/{bot_username}?start={command}"
        button = Button(t.plain("groups.private_only.button"), "", url=link)
        return Reply((Screen(text, ((button,),)),))

    # ------------------------------------------------------------------ the picker's buttons

    async def press(self, req: Request, chat_id: int, press: Press) -> Reply:
        """A button of the picker, pressed in the group. Its data comes from the client:
        whoever pressed is asked again whether they may link the unit it names."""
        if isinstance(press, LinkUnit):
            return await self._pick(req, chat_id, press)
        reach = await req.reach(press.action)
        if not reach:
            await self._log_refusal(req, chat_id)
            return Reply(toast=req.t.plain("groups.pick_denied"))
        if isinstance(press, CancelLink):
            return Reply((Screen(self.group_texts("groups.cancelled")),), replace=True)
        return self._picker(in_tree_order(reach), press.page)

    async def _pick(self, req: Request, chat_id: int, press: LinkUnit) -> Reply:
        unit = await units.get_unit(req.tx, press.unit)
        if unit is None:
            log.warning("user %s picked unit %s, which does not exist", req.user_id, press.unit)
            return Reply(toast=req.t.plain(STALE))
        refusal = await req.check(press.action, unit.id, pressed=True)
        if refusal is not None:
            return refusal
        if not await serves(req.tx, req.bot, unit.id):
            other = await self._other_bot(req, chat_id, unit)
            return Reply(other.screens, replace=True) if other else Reply(
                toast=req.t.plain("groups.pick_denied"))
        linked = await groups.unit_of_group(req.tx, chat_id)
        if linked is not None:
            # Linked meanwhile (another /link, or a double press): the picker is over.
            already = await self._linked_already(req, linked)
            return Reply(already.screens, replace=True)
        return await self._link(req, unit, chat_id, replace=True)

    # ------------------------------------------------------------------ the bot's own membership

    async def bot_added(self, req: Request, chat_id: int) -> Reply:
        """Said once, when the bot comes into a group nobody linked; nothing else is posted in
        an unlinked group."""
        linked = await groups.unit_of_group(req.tx, chat_id)
        await audit.record(req.tx, req.now, f"tg:{req.user_id}", "bot_added", f"chat:{chat_id}",
                           f"unit:{linked.id}" if linked is not None else "")
        return Reply() if linked is not None else self._say("groups.hello")

    @staticmethod
    async def bot_removed(req: Request, chat_id: int) -> Reply:
        """The bot can post nothing there any more: the unit has no group until a new
        /link. Another bot's unit keeps its group (both bots were in it)."""
        linked = await groups.unit_of_group(req.tx, chat_id)
        if linked is None or not await serves(req.tx, req.bot, linked.id):
            return Reply()
        unit = await groups.unlink(req.tx, chat_id)
        if unit is not None:
            await audit.record(req.tx, req.now, f"tg:{req.user_id}", "group_unlinked",
                               f"unit:{unit.id}", f"chat:{chat_id} bot removed")
        return Reply()

    @staticmethod
    async def migrated(req: Request, old_chat_id: int, new_chat_id: int) -> Reply:
        """The group became a supergroup; either of its two service messages may come
        first."""
        unit_id = await groups.move_group(req.tx, old_chat_id, new_chat_id)
        if unit_id is not None:
            await audit.record(req.tx, req.now, "telegram", "group_migrated", f"unit:{unit_id}",
                               f"chat:{old_chat_id} to chat:{new_chat_id}")
        return Reply()
