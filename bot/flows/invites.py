"""/invite (✉ Mời tham gia): a leader's invite links (and the codes and links the command line
makes too), revoking them, and the joins waiting for approval (decided in bot/flows/joins.py).

Every press is authorised again against the unit (or the invite's unit) read from the
database. Which kind of invite a button makes is part of its declaration, so that each is
checked as the action it needs: a member's invite as INVITE_MEMBER, a leader's or an
observer's as INVITE_LEADER.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Annotated

from bot.flows.joins import ROLE_KEYS, request_notice, unit_title, waiting_key
from bot.rules.access import Action, Request
from bot.rules.bots import invite_link, owner_username
from bot.runtime.config import MAX_INVITE_DAYS, Settings
from bot.ui import formatting
from bot.ui.buttons import ButtonData, Id, Page, codes
from bot.ui.catalogue import Said, Texts
from bot.ui.paging import in_tree_order, page_of, turns
from bot.ui.screens import Button, Keyboard, Reply, Screen, rows
from storage import audit, invites, joins, meta, units
from storage.db import Tx
from storage.entities import Invite, NewInvite, Role, Unit

MULTI_USES = 100  # "Nhiều người": enough for a cell's group chat, still a limit
UNIT_PAGE = 8
LISTED = 20  # live invites (and joins waiting) shown by /invite; the rest are counted
KIND_KEYS = {Role.MEMBER: "invite.kind.member", Role.LEADER: "invite.kind.leader",
             Role.OBSERVER: "invite.kind.observer"}
ACTION_FOR = {Role.MEMBER: Action.INVITE_MEMBER, Role.LEADER: Action.INVITE_LEADER,
              Role.OBSERVER: Action.INVITE_LEADER}
CODE_BYTES = 9  # 12 characters of [A-Za-z0-9_-]: unguessable, and valid in a t.me start link
MAX_USES = 1000  # a commune's whole party organisation through one shared link; no more
STALE = "invite.not_found"

log = logging.getLogger(__name__)


class InvitesHome(ButtonData, prefix="iv:home", action=Action.REVOKE_INVITE):
    """The live invites and the joins waiting, again."""


class InviteUnits(ButtonData, prefix="iv:units", action=Action.INVITE_MEMBER):
    page: Page


class InviteUnit(ButtonData, prefix="iv:unit", action=Action.INVITE_MEMBER):
    """Which kind of invite, for that unit."""

    unit: Id


class MemberInvite(ButtonData, prefix="iv:km", action=Action.INVITE_MEMBER):
    """For one person or for many?"""

    unit: Id


class LeaderInvite(ButtonData, prefix="iv:kl", action=Action.INVITE_LEADER):
    unit: Id


class ObserverInvite(ButtonData, prefix="iv:ko", action=Action.INVITE_LEADER):
    unit: Id


Many = Annotated[str, codes("1", "n")]


class MakeMemberInvite(ButtonData, prefix="iv:mm", action=Action.INVITE_MEMBER):
    unit: Id
    uses: Many


class MakeLeaderInvite(ButtonData, prefix="iv:ml", action=Action.INVITE_LEADER):
    unit: Id
    uses: Many


class MakeObserverInvite(ButtonData, prefix="iv:mo", action=Action.INVITE_LEADER):
    unit: Id
    uses: Many


class AskRevoke(ButtonData, prefix="iv:rv", action=Action.REVOKE_INVITE):
    invite: Id


class Revoke(ButtonData, prefix="iv:rvy", action=Action.REVOKE_INVITE):
    invite: Id


KindChosen = MemberInvite | LeaderInvite | ObserverInvite
Make = MakeMemberInvite | MakeLeaderInvite | MakeObserverInvite
Press = InvitesHome | InviteUnits | InviteUnit | KindChosen | Make | AskRevoke | Revoke
BUTTONS = (InvitesHome, InviteUnits, InviteUnit, MemberInvite, LeaderInvite, ObserverInvite,
           MakeMemberInvite, MakeLeaderInvite, MakeObserverInvite, AskRevoke, Revoke)
KIND_BUTTON: dict[Role, type[KindChosen]] = {
    Role.MEMBER: MemberInvite, Role.LEADER: LeaderInvite, Role.OBSERVER: ObserverInvite}
MAKE_BUTTON: dict[Role, type[Make]] = {
    Role.MEMBER: MakeMemberInvite, Role.LEADER: MakeLeaderInvite,
    Role.OBSERVER: MakeObserverInvite}
ROLE_OF: dict[type[ButtonData], Role] = {
    kind: role for role, kind in [*KIND_BUTTON.items(), *MAKE_BUTTON.items()]}


class InviteError(Said):
    """The invite cannot be made: a catalogue key and what to fill it with, for the admin."""


async def create_invite(
    tx: Tx, unit_id: int, role: Role, uses: int, days: int, now: dt.datetime,
    created_by: int | None = None,
) -> Invite:
    """A new invite. Any role may have several uses: whoever joins through a multi-use
    invite waits for a leader's approval (bot/flows/joins.py), so a shared link makes nobody a
    leader by itself."""
    if await units.get_unit(tx, unit_id) is None:
        raise InviteError("cli.unit_unknown", id=unit_id)
    if not (1 <= uses <= MAX_USES and 1 <= days <= MAX_INVITE_DAYS):
        raise InviteError("cli.invite_bounds", uses=MAX_USES, days=MAX_INVITE_DAYS)
    new = NewInvite(code=secrets.token_urlsafe(CODE_BYTES), unit_id=unit_id, role=role,
                    max_uses=uses, expires_at=now + dt.timedelta(days=days))
    return await invites.add_invite(tx, new, now, created_by)


async def bot_username(tx: Tx, settings: Settings, unit_id: int | None = None) -> str | None:
    """The username of the bot that serves the unit (several bots on one database,
    bot/rules/bots.py); else, or with no unit, the configured username, or the one the bot
    without a root learnt from Telegram when it started."""
    owner = await owner_username(tx, unit_id) if unit_id is not None else None
    return owner or settings.bot_username or await meta.get(tx, "bot_username")


async def _reach(req: Request) -> list[Unit]:
    """The units one may invite into, in any role, in tree order."""
    found: dict[int, Unit] = {}
    for action in (Action.INVITE_MEMBER, Action.INVITE_LEADER):
        for unit in await req.reach(action):
            found.setdefault(unit.id, unit)
    return in_tree_order(list(found.values()))


async def _kinds(req: Request, unit_id: int) -> list[Role]:
    return [role for role in Role if await req.may(ACTION_FOR[role], unit_id)]


class Invites:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def open(self, req: Request) -> Reply:
        """/invite and ✉ Mời tham gia: the live invites and waiting joins, then the unit picker
        (or, with one unit only, the kinds of invite)."""
        reach = await _reach(req)
        if not reach:
            return Reply((Screen(req.t(await self._refuse(req))),))
        listing = await self._listing(req, quiet=True)
        return Reply((*listing, await self._picker(req, reach, 0)))

    async def _refuse(self, req: Request) -> str:
        """Someone who may invite nowhere: logged, and the key of what to tell them."""
        actor = req.actor
        log.warning("user %s refused /invite", actor.user_id)
        await audit.record(req.tx, req.now, f"tg:{actor.user_id}", "refused",
                           Action.INVITE_MEMBER.value, "no unit in reach")
        if actor.known:
            return "invite.not_leader"
        person_id = actor.person.id if actor.person else None
        return await waiting_key(req.tx, person_id) or "access.not_member"

    async def _listing(self, req: Request, quiet: bool) -> tuple[Screen, ...]:
        """The live invites with "Thu hồi", and the joins waiting with Duyệt / Từ chối. With
        `quiet`, nothing at all when there is neither."""
        t = req.t
        revocable = [u.id for u in await req.reach(Action.REVOKE_INVITE)]
        live = await invites.live_invites(req.tx, revocable, req.now)
        approvable = [u.id for u in await req.reach(Action.APPROVE_JOIN)]
        waiting = await joins.pending_requests(req.tx, approvable)
        if not live and not waiting and quiet:
            return ()
        screens: list[Screen] = []
        if live:
            lines: list[str] = [t("invite.live_title")]
            buttons = []
            for number, invite in enumerate(live[:LISTED], start=1):
                lines.append(await self._line(req.tx, invite, number, t))
                buttons.append(Button(t.plain("invite.revoke", number=number),
                                      AskRevoke(invite.id).pack()))
            if len(live) > LISTED:
                lines.append(t("invite.more", count=len(live) - LISTED))
            screens.append(Screen("\n".join(lines), rows(buttons, 3)))
        else:
            screens.append(Screen(t("invite.none_live")))
        for request in waiting[:LISTED]:
            screens.append(await request_notice(req.tx, request, t))
        if len(waiting) > LISTED:
            screens.append(Screen(t("invite.more_waiting", count=len(waiting) - LISTED)))
        return tuple(screens)

    async def _line(self, tx: Tx, invite: Invite, number: int, t: Texts) -> str:
        unit = await units.get_unit(tx, invite.unit_id)
        return t("invite.line", number=number, unit=unit.name if unit else "",
                 role=t(ROLE_KEYS[invite.role]), used=invite.uses, limit=invite.max_uses,
                 date=self._day(invite))

    def _day(self, invite: Invite) -> str:
        return formatting.day(invite.expires_at.astimezone(self.settings.zone))

    async def _picker(self, req: Request, reach: list[Unit], page: int) -> Screen:
        t = req.t
        if len(reach) == 1:
            return await self._kind_picker(req, reach[0].id, alone=True)
        ids = {u.id for u in reach}
        shown = page_of(reach, page, UNIT_PAGE)
        keyboard: list[tuple[Button, ...]] = []
        for unit in shown.items:
            below = unit.parent_id in ids
            label = t.plain("invite.unit_below" if below else "invite.unit_top", unit=unit.name)
            keyboard.append((Button(label, InviteUnit(unit.id).pack()),))
        keyboard += turns(t, shown, lambda number: InviteUnits(number).pack())
        return Screen(t("invite.pick_unit"), tuple(keyboard))

    async def _kind_picker(self, req: Request, unit_id: int, alone: bool = False) -> Screen:
        t = req.t
        title = await unit_title(req.tx, unit_id)
        buttons = [Button(t.plain(KIND_KEYS[role]), KIND_BUTTON[role](unit_id).pack())
                   for role in await _kinds(req, unit_id)]
        keyboard: Keyboard = rows(buttons, 1)
        if not alone:
            keyboard += ((Button(t.plain("button.back"), InviteUnits(0).pack()),),)
        return Screen(t("invite.pick_kind", unit=title), keyboard)

    def _uses_picker(self, t: Texts, unit_id: int, role: Role, title: str) -> Screen:
        make = MAKE_BUTTON[role]
        one = Button(t.plain("invite.uses_one"), make(unit_id, "1").pack())
        many = Button(t.plain("invite.uses_many"), make(unit_id, "n").pack())
        back = Button(t.plain("button.back"), InviteUnit(unit_id).pack())
        text = t("invite.pick_uses", unit=title, role=t(ROLE_KEYS[role]), limit=MULTI_USES,
                 days=self.settings.invite_days)
        return Screen(text, ((one, many), (back,)))

    # --- presses --------------------------------------------------------------------------

    async def press(self, req: Request, press: Press) -> Reply:
        if isinstance(press, InvitesHome | InviteUnits):
            reach = await _reach(req)
            if not reach:
                return Reply(toast=req.t.plain(await self._refuse(req)))
            if isinstance(press, InvitesHome):
                listing = await self._listing(req, quiet=False)
                return Reply((listing[0],), replace=True)
            return Reply((await self._picker(req, reach, press.page),), replace=True)
        if isinstance(press, AskRevoke | Revoke):
            return await self._revoke(req, press)
        return await self._make_step(req, press)

    async def _make_step(self, req: Request, press: InviteUnit | KindChosen | Make) -> Reply:
        unit = await units.get_unit(req.tx, press.unit)
        if unit is None:
            log.warning("user %s pressed unknown unit %s", req.user_id, press.unit)
            return Reply(toast=req.t.plain(STALE))
        role = ROLE_OF.get(type(press))
        if role is not None or not await _kinds(req, unit.id):
            # A kind not offered, or a unit out of reach: forged or stale data.
            refusal = await req.check(press.action, unit.id, pressed=True)
            if refusal is not None:
                return refusal
        if role is None:
            return Reply((await self._kind_picker(req, unit.id),), replace=True)
        title = await unit_title(req.tx, unit.id)
        if isinstance(press, KindChosen):
            return Reply((self._uses_picker(req.t, unit.id, role, title),), replace=True)
        assert isinstance(press, Make)
        return await self._make(req, unit, role, press.uses == "n", title)

    async def _make(self, req: Request, unit: Unit, role: Role, many: bool,
                    title: str) -> Reply:
        t = req.t
        me = req.actor.person
        invite = await create_invite(req.tx, unit.id, role, MULTI_USES if many else 1,
                                     self.settings.invite_days, req.now,
                                     created_by=me.id if me else None)
        await audit.record(req.tx, req.now, req.actor.label, "create_invite", f"unit:{unit.id}",
                           f"invite:{invite.id} role:{role} uses:{invite.max_uses}")
        username = await bot_username(req.tx, self.settings, unit.id)
        link = invite_link(username or t.plain("cli.bot_username_placeholder"), invite.code)
        role_text = t(ROLE_KEYS[role])
        if many:
            made = t("invite.made_many", unit=title, role=role_text, limit=invite.max_uses,
                     date=self._day(invite))
        else:
            made = t("invite.made_one", unit=title, role=role_text, date=self._day(invite))
        forward = t("invite.forward", unit=title, link=link)
        return Reply((Screen(made), Screen(forward)), replace=True)

    async def _revoke(self, req: Request, press: AskRevoke | Revoke) -> Reply:
        t = req.t
        invite = await invites.get_invite(req.tx, press.invite)
        if invite is None:
            log.warning("user %s pressed unknown invite %s", req.user_id, press.invite)
            return Reply(toast=t.plain(STALE))
        refusal = await req.check(press.action, invite.unit_id, pressed=True)
        if refusal is not None:
            return refusal
        title = await unit_title(req.tx, invite.unit_id)
        params = {"unit": title, "role": t(ROLE_KEYS[invite.role]), "used": invite.uses,
                  "limit": invite.max_uses, "date": self._day(invite)}
        back = ((Button(t.plain("invite.back_to_list"), InvitesHome().pack()),),)
        if invite.revoked:
            return Reply((Screen(t("invite.already_revoked", **params), back),),
                         toast=t.plain("invite.already_revoked_toast"), replace=True)
        if invite.expires_at <= req.now:
            return Reply((Screen(t("invite.already_expired", **params), back),),
                         toast=t.plain("invite.already_expired_toast"), replace=True)
        if isinstance(press, AskRevoke):
            buttons = ((Button(t.plain("invite.revoke_yes"), Revoke(invite.id).pack()),
                        Button(t.plain("invite.revoke_no"), InvitesHome().pack())),)
            return Reply((Screen(t("invite.revoke_confirm", **params), buttons),),
                         replace=True)
        await invites.revoke_invite(req.tx, invite.id)
        await audit.record(req.tx, req.now, req.actor.label, "revoke_invite",
                           f"invite:{invite.id}", f"unit:{invite.unit_id}")
        return Reply((Screen(t("invite.revoked", **params), back),),
                     toast=t.plain("invite.revoked_toast"), replace=True)
