"""/invite: a leader's invite links (and the codes and links the command line makes too), revoking
them, and approving joins through multi-use links.

Button data (`iv:`), each press authorised again against the unit read from the database:
  iv:home                  the live invites and the joins waiting, again
  iv:units:<page>          the units one may invite into
  iv:unit:<unit>           which kind of invite for that unit
  iv:kind:<unit>:<m|l|o>   for one person or for many
  iv:make:<unit>:<m|l|o>:<1|n>   make it and show the link
  iv:rv:<invite>           revoke? (asks)          iv:rvy:<invite>   revoke
Joins waiting for approval are `jr:` (bot/flows/joins.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from bot.flows.joins import ROLE_KEYS, JoinRequests, request_notice, unit_title, waiting_key
from bot.flows.reports import ReportKind
from bot.forms.conversations import Conversations, texts_for
from bot.rules.access import Action, Actor, actor_for, check, permits, units_in_reach
from bot.runtime.config import Settings
from bot.runtime.services import Sender, Services
from bot.ui import buttons as callback_data
from bot.ui import formatting
from bot.ui.buttons import pack
from bot.ui.catalogue import Texts
from bot.ui.paging import page_of, turns
from bot.ui.screens import Button, Keyboard, Reply, Screen, rows
from storage import audit, invites, joins, meta, units
from storage.db import Tx
from storage.entities import Invite, NewInvite, Role, Unit

PREFIX = "iv"
MULTI_USES = 100  # "Nhiều người": enough for a cell's group chat, still a limit
UNIT_PAGE = 8
LISTED = 20  # live invites (and joins waiting) shown by /invite; the rest are counted
ROLES = {"m": Role.MEMBER, "l": Role.LEADER, "o": Role.OBSERVER}
LETTERS = {role: letter for letter, role in ROLES.items()}
KIND_KEYS = {Role.MEMBER: "invite.kind.member", Role.LEADER: "invite.kind.leader",
             Role.OBSERVER: "invite.kind.observer"}
ACTION_FOR = {Role.MEMBER: Action.INVITE_MEMBER, Role.LEADER: Action.INVITE_LEADER,
              Role.OBSERVER: Action.INVITE_LEADER}

log = logging.getLogger(__name__)

CODE_BYTES = 9  # 12 characters of [A-Za-z0-9_-]: unguessable, and valid in a t.me start link
MAX_USES = 2**63 - 1  # SQLite's INTEGER


class InviteError(Exception):
    """The invite cannot be made: a catalogue key for the admin."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key
        self.params: dict[str, object] = {}


async def create_invite(
    tx: Tx, unit_id: int, role: Role, uses: int, days: int, now: dt.datetime,
    created_by: int | None = None,
) -> Invite:
    """A new invite. Any role may have several uses: whoever joins through a multi-use
    invite waits for a leader's approval (bot/flows/joins.py), so a shared link makes nobody a
    leader by itself."""
    if await units.get_unit(tx, unit_id) is None:
        raise InviteError("cli.unit_unknown")
    if not 1 <= uses <= MAX_USES or days < 1:
        raise InviteError("cli.invite_bounds")
    try:
        expires_at = now + dt.timedelta(days=days)
    except OverflowError:
        raise InviteError("cli.invite_bounds") from None
    new = NewInvite(code=secrets.token_urlsafe(CODE_BYTES), unit_id=unit_id, role=role,
                    max_uses=uses, expires_at=expires_at)
    return await invites.add_invite(tx, new, now, created_by)


def invite_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


async def bot_username(tx: Tx, settings: Settings) -> str | None:
    """The configured username, or the one the bot learnt from Telegram when it started."""
    return settings.bot_username or await meta.get(tx, "bot_username")



def _data(verb: str, *args: object) -> str:
    return pack(PREFIX, verb, *args)


def parse(data: str) -> tuple[str, int, str | None, str | None] | None:
    """(verb, id or page, role letter, uses letter), or None for garbled data."""
    parts = data.split(":")
    if len(parts) < 2 or parts[0] != PREFIX:
        return None
    verb, rest = parts[1], parts[2:]
    shapes = {"home": 0, "units": 1, "unit": 1, "kind": 2, "make": 3, "rv": 1, "rvy": 1}
    if shapes.get(verb) != len(rest):
        return None
    number = callback_data.number(rest[0]) if rest else 0
    role = rest[1] if len(rest) > 1 else None
    uses = rest[2] if len(rest) > 2 else None
    if number is None or (role is not None and role not in ROLES) or (
            uses is not None and uses not in ("1", "n")):
        return None
    return verb, number, role, uses


async def _reach(tx: Tx, actor: Actor) -> list[Unit]:
    """The units one may invite into, in any role, in tree order: each unit followed by the
    units below it, siblings by name."""
    found: dict[int, Unit] = {}
    for action in (Action.INVITE_MEMBER, Action.INVITE_LEADER):
        for unit in await units_in_reach(tx, actor, action):
            found.setdefault(unit.id, unit)
    below: dict[int | None, list[Unit]] = {}
    for unit in found.values():
        parent = unit.parent_id if unit.parent_id in found else None
        below.setdefault(parent, []).append(unit)
    ordered: list[Unit] = []

    def walk(parent: int | None) -> None:
        for unit in sorted(below.get(parent, []), key=lambda u: (u.name, u.id)):
            ordered.append(unit)
            walk(unit.id)

    walk(None)
    return ordered


async def _kinds(tx: Tx, actor: Actor, unit_id: int) -> list[Role]:
    return [role for role in Role if await permits(tx, actor, ACTION_FOR[role], unit_id)]


class Inviting:
    def __init__(self, services: Services, conversations: Conversations,
                 report_kind: ReportKind) -> None:
        self.services = services
        self.conversations = conversations
        self.report_kind = report_kind
        self.requests = JoinRequests(services)

    # --- /invite --------------------------------------------------------------------------

    async def start(self, sender: Sender) -> Reply:
        """/invite and ✉ Mời tham gia: the live invites and waiting joins, then the unit picker
        (or, with one unit only, the kinds of invite)."""
        async with self.services.db.transaction() as tx:
            t = await texts_for(tx, self.services, sender.user_id)
            actor = await actor_for(tx, self.services, sender.user_id)
            reach = await _reach(tx, actor)
            if not reach:
                return Reply((Screen(t(await self._refuse(tx, actor))),))
            listing = await self._listing(tx, actor, t, quiet=True)
            picker = await self._picker(tx, actor, reach, t, 0)
        return Reply((*listing, picker))

    async def _refuse(self, tx: Tx, actor: Actor) -> str:
        """Someone who may invite nowhere: logged, and the key of what to tell them."""
        log.warning("user %s refused /invite", actor.user_id)
        await audit.record(tx, self.services.now(), f"tg:{actor.user_id}", "refused",
                           Action.INVITE_MEMBER.value, "no unit in reach")
        if actor.known:
            return "invite.not_leader"
        person_id = actor.person.id if actor.person else None
        return await waiting_key(tx, person_id) or "access.not_member"

    async def _listing(self, tx: Tx, actor: Actor, t: Texts, quiet: bool) -> tuple[Screen, ...]:
        """The live invites with "Thu hồi", and the joins waiting with Duyệt / Từ chối. With
        `quiet`, nothing at all when there is neither."""
        now = self.services.now()
        revocable = [u.id for u in await units_in_reach(tx, actor, Action.REVOKE_INVITE)]
        live = await invites.live_invites(tx, revocable, now)
        approvable = [u.id for u in await units_in_reach(tx, actor, Action.APPROVE_JOIN)]
        waiting = await joins.pending_requests(tx, approvable)
        if not live and not waiting and quiet:
            return ()
        screens: list[Screen] = []
        if live:
            lines = [t("invite.live_title")]
            buttons = []
            for number, invite in enumerate(live[:LISTED], start=1):
                lines.append(await self._line(tx, invite, number, t))
                buttons.append(Button(t.plain("invite.revoke", number=number),
                                      _data("rv", invite.id)))
            if len(live) > LISTED:
                lines.append(t("invite.more", count=len(live) - LISTED))
            screens.append(Screen("\n".join(lines), rows(buttons, 3)))
        else:
            screens.append(Screen(t("invite.none_live")))
        for request in waiting[:LISTED]:
            screens.append(await request_notice(tx, request, t))
        if len(waiting) > LISTED:
            screens.append(Screen(t("invite.more_waiting", count=len(waiting) - LISTED)))
        return tuple(screens)

    async def _line(self, tx: Tx, invite: Invite, number: int, t: Texts) -> str:
        unit = await units.get_unit(tx, invite.unit_id)
        return t("invite.line", number=number, unit=unit.name if unit else "",
                 role=t(ROLE_KEYS[invite.role]), used=invite.uses, limit=invite.max_uses,
                 date=self._day(invite))

    def _day(self, invite: Invite) -> str:
        return formatting.day(invite.expires_at.astimezone(self.services.settings.zone))

    async def _picker(self, tx: Tx, actor: Actor, reach: list[Unit], t: Texts,
                      page: int) -> Screen:
        if len(reach) == 1:
            return await self._kind_picker(tx, actor, reach[0].id, t, alone=True)
        ids = {u.id for u in reach}
        shown = page_of(reach, page, UNIT_PAGE)
        keyboard: list[tuple[Button, ...]] = []
        for unit in shown.items:
            below = unit.parent_id in ids
            label = t.plain("invite.unit_below" if below else "invite.unit_top", unit=unit.name)
            keyboard.append((Button(label, _data("unit", unit.id)),))
        keyboard += turns(t, shown, lambda number: _data("units", number))
        return Screen(t("invite.pick_unit"), tuple(keyboard))

    async def _kind_picker(self, tx: Tx, actor: Actor, unit_id: int, t: Texts,
                           alone: bool = False) -> Screen:
        title = await unit_title(tx, unit_id)
        buttons = [Button(t.plain(KIND_KEYS[role]), _data("kind", unit_id, LETTERS[role]))
                   for role in await _kinds(tx, actor, unit_id)]
        keyboard: Keyboard = rows(buttons, 1)
        if not alone:
            keyboard += ((Button(t.plain("button.back"), _data("units", 0)),),)
        return Screen(t("invite.pick_kind", unit=title), keyboard)

    def _uses_picker(self, unit_id: int, letter: str, title: str, role: Role,
                     t: Texts) -> Screen:
        one = Button(t.plain("invite.uses_one"), _data("make", unit_id, letter, "1"))
        many = Button(t.plain("invite.uses_many"), _data("make", unit_id, letter, "n"))
        back = Button(t.plain("button.back"), _data("unit", unit_id))
        text = t("invite.pick_uses", unit=title, role=t(ROLE_KEYS[role]), limit=MULTI_USES,
                 days=self.services.settings.invite_days)
        return Screen(text, ((one, many), (back,)))

    # --- presses --------------------------------------------------------------------------

    async def press(self, sender: Sender, data: str) -> Reply:
        parsed = parse(data)
        async with self.services.db.transaction() as tx:
            t = await texts_for(tx, self.services, sender.user_id)
            if parsed is None:
                log.warning("user %s pressed garbled invite data %r", sender.user_id, data)
                return Reply(toast=t.plain("invite.not_found"))
            verb, number, letter, uses = parsed
            actor = await actor_for(tx, self.services, sender.user_id)
            if verb in ("home", "units"):
                reach = await _reach(tx, actor)
                if not reach:
                    return Reply(toast=t.plain(await self._refuse(tx, actor)))
                if verb == "home":
                    listing = await self._listing(tx, actor, t, quiet=False)
                    return Reply((listing[0],), replace=True)
                return Reply((await self._picker(tx, actor, reach, t, number),), replace=True)
            if verb in ("rv", "rvy"):
                return await self._revoke(tx, actor, number, verb == "rvy", t)
            return await self._make_step(tx, actor, number, letter, uses, t)

    async def _make_step(self, tx: Tx, actor: Actor, unit_id: int, letter: str | None,
                         uses: str | None, t: Texts) -> Reply:
        unit = await units.get_unit(tx, unit_id)
        if unit is None:
            log.warning("user %s pressed unknown unit %s", actor.user_id, unit_id)
            return Reply(toast=t.plain("invite.not_found"))
        role = ROLES[letter] if letter else None
        if role is not None or not await _kinds(tx, actor, unit_id):
            # A kind not offered, or a unit out of reach: forged or stale data.
            action = ACTION_FOR[role] if role else Action.INVITE_MEMBER
            refusal = await check(tx, self.services, actor, action, unit_id, pressed=True)
            if refusal is not None:
                return refusal
        if role is None:
            return Reply((await self._kind_picker(tx, actor, unit_id, t),), replace=True)
        title = await unit_title(tx, unit_id)
        if uses is None:
            return Reply((self._uses_picker(unit_id, letter or "", title, role, t),),
                         replace=True)
        return await self._make(tx, actor, unit, role, uses == "n", title, t)

    async def _make(self, tx: Tx, actor: Actor, unit: Unit, role: Role, many: bool,
                    title: str, t: Texts) -> Reply:
        now = self.services.now()
        days = self.services.settings.invite_days
        me = actor.person
        invite = await create_invite(tx, unit.id, role, MULTI_USES if many else 1, days, now,
                                     created_by=me.id if me else None)
        who = actor.label
        await audit.record(tx, now, who, "create_invite", f"unit:{unit.id}",
                           f"invite:{invite.id} role:{role} uses:{invite.max_uses}")
        username = await bot_username(tx, self.services.settings)
        link = invite_link(username or t.plain("cli.bot_username_placeholder"), invite.code)
        role_text = t(ROLE_KEYS[role])
        if many:
            made = t("invite.made_many", unit=title, role=role_text, limit=invite.max_uses,
                     date=self._day(invite))
        else:
            made = t("invite.made_one", unit=title, role=role_text, date=self._day(invite))
        forward = t("invite.forward", unit=title, link=link)
        return Reply((Screen(made), Screen(forward)), replace=True)

    async def _revoke(self, tx: Tx, actor: Actor, invite_id: int, confirmed: bool,
                      t: Texts) -> Reply:
        invite = await invites.get_invite(tx, invite_id)
        if invite is None:
            log.warning("user %s pressed unknown invite %s", actor.user_id, invite_id)
            return Reply(toast=t.plain("invite.not_found"))
        refusal = await check(tx, self.services, actor, Action.REVOKE_INVITE, invite.unit_id,
                              pressed=True)
        if refusal is not None:
            return refusal
        title = await unit_title(tx, invite.unit_id)
        params = {"unit": title, "role": t(ROLE_KEYS[invite.role]), "used": invite.uses,
                  "limit": invite.max_uses, "date": self._day(invite)}
        back = ((Button(t.plain("invite.back_to_list"), _data("home")),),)
        if invite.revoked:
            return Reply((Screen(t("invite.already_revoked", **params), back),),
                         toast=t.plain("invite.already_revoked_toast"), replace=True)
        if invite.expires_at <= self.services.now():
            return Reply((Screen(t("invite.already_expired", **params), back),),
                         toast=t.plain("invite.already_expired_toast"), replace=True)
        if not confirmed:
            buttons = ((Button(t.plain("invite.revoke_yes"), _data("rvy", invite.id)),
                        Button(t.plain("invite.revoke_no"), _data("home"))),)
            return Reply((Screen(t("invite.revoke_confirm", **params), buttons),),
                         replace=True)
        await invites.revoke_invite(tx, invite.id)
        await audit.record(tx, self.services.now(),
                           actor.label,
                           "revoke_invite", f"invite:{invite.id}", f"unit:{invite.unit_id}")
        return Reply((Screen(t("invite.revoked", **params), back),),
                     toast=t.plain("invite.revoked_toast"), replace=True)

    # --- joins waiting for approval ---------------------------------------------------------

    async def decide(self, sender: Sender, data: str) -> Reply:
        return await self.requests.press(sender, data)
