"""Joining a unit through an invite code; a join through a multi-use invite waits for the
approval of the unit's leaders (or of the nearest unit above that has leaders)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from bot.flows.menu import menu_for
from bot.forms.conversations import Conversations, texts_for
from bot.forms.engine import DraftState, FormContext
from bot.forms.spec import Field, FieldType, Form
from bot.rules.access import Action, actor_for, check
from bot.runtime.services import Sender, Services
from bot.ui.buttons import pack, verb_and_number
from bot.ui.catalogue import Texts
from bot.ui.screens import Button, Menu, Reply, Screen
from storage import audit, drafts, invites, joins, people, units
from storage.db import Tx
from storage.entities import Draft, Invite, Person, Role
from storage.joins import Decision, Request, Status

log = logging.getLogger(__name__)
PREFIX = "jr"
APPROVE, REJECT = "ok", "no"
ROLE_KEYS = {Role.MEMBER: "invite.role.member", Role.LEADER: "invite.role.leader",
             Role.OBSERVER: "invite.role.observer"}
DONE_KEYS = {Role.MEMBER: "join.done_member", Role.LEADER: "join.done_leader",
             Role.OBSERVER: "join.done_observer"}

JOIN_FORM = Form(
    "join",
    (Field("full_name", FieldType.TEXT, min=2, max=100, has_default=True),),
    summary=False,
)



def invite_problem(invite: Invite | None, now: dt.datetime) -> str | None:
    if invite is None:
        return "join.invite_unknown"
    if invite.revoked:
        return "join.invite_revoked"
    if invite.expires_at <= now:
        return "join.invite_expired"
    if invite.uses >= invite.max_uses:
        return "join.invite_used_up"
    return None


async def unit_title(tx: Tx, unit_id: int) -> str:
    """"Chi bộ Thôn Bản Chặng (Đảng bộ xã Tràng Định)": the unit and the one above it."""
    unit = await units.get_unit(tx, unit_id)
    if unit is None:
        return ""
    parents = await units.ancestors(tx, unit_id)
    return f"{unit.name} ({parents[0].name})" if parents else unit.name


async def _conflict(tx: Tx, person: Person | None,
                    invite: Invite) -> tuple[str, int] | None:
    """Why this person cannot take this invite, if they cannot: a catalogue key and the unit
    it names."""
    if person is None:
        return None
    for membership in await joins.live_memberships(tx, person.id):
        waiting = membership.status is Status.PENDING
        same = membership.unit_id == invite.unit_id and membership.role is invite.role
        home = invite.role is Role.MEMBER and membership.role is Role.MEMBER
        if (same or home) and waiting:
            return "invite.request.already_waiting", membership.unit_id
        if same:
            return "join.already_member", invite.unit_id
        if home:
            return "join.member_elsewhere", invite.unit_id
    return None


@dataclass(frozen=True)
class Admission:
    invite: Invite
    person: Person | None
    title: str


async def _admit(tx: Tx, services: Services, user_id: int, code: str,
                 t: Texts) -> Admission | Screen:
    """Who is joining through which invite, or the screen that says why they cannot."""
    invite = await invites.invite_by_code(tx, code)
    problem = invite_problem(invite, services.now())
    if invite is None or problem is not None:
        return Screen(t(problem or "join.invite_unknown"))
    person = await people.person_by_telegram_id(tx, user_id)
    title = await unit_title(tx, invite.unit_id)
    conflict = await _conflict(tx, person, invite)
    if conflict is not None:
        key, unit_id = conflict
        menu = await _menu_if_any(tx, services, user_id, t)
        return Screen(t(key, unit=await unit_title(tx, unit_id)), menu=menu)
    return Admission(invite, person, title)


async def start_join(
    services: Services, conversations: Conversations, sender: Sender, update_id: int, code: str
) -> Reply:
    async with services.db.transaction() as tx:
        t = await texts_for(tx, services, sender.user_id)
        admission = await _admit(tx, services, sender.user_id, code, t)
        if isinstance(admission, Screen):
            return Reply((admission,))
        person = admission.person
        name = person.full_name if person else sender.display_name
        first = await conversations.begin(tx, sender, update_id, "join", t,
                                          invite=code, suggested_name=name)
        step = first.screens[0]
        welcome = t("join.welcome", unit=admission.title)
        return Reply((Screen(f"{welcome}\n\n{step.text}", step.buttons),))


class JoinKind:
    form = JOIN_FORM

    async def context(self, tx: Tx, services: Services, user_id: int,
                      state: DraftState) -> FormContext:
        return FormContext(today=services.today(),
                           defaults={"full_name": state.extra.get("suggested_name", "")})

    async def submit(self, tx: Tx, services: Services, draft: Draft, state: DraftState,
                     t: Texts) -> Reply:
        await drafts.delete_draft(tx, draft.id)
        now = services.now()
        admission = await _admit(tx, services, draft.telegram_user_id,
                                 state.extra.get("invite", ""), t)
        if isinstance(admission, Screen):
            return Reply((admission,))
        invite, person, title = admission.invite, admission.person, admission.title
        # Someone else may have taken the last use while this person was typing their name.
        if not await invites.use_invite(tx, invite.id, now):
            return Reply((Screen(t("join.invite_used_up")),))
        name = state.answers["full_name"]
        if person is None:
            person = await people.add_person(tx, draft.telegram_user_id, name, t.lang, now)
        elif person.full_name != name:
            await people.rename_person(tx, person.id, name)
        if needs_approval(invite):
            return await _ask_approval(tx, services, person, name, invite, title, t)
        await people.add_membership(tx, person.id, invite.unit_id, invite.role, invite.id, now)
        await audit.record(tx, now, f"person:{person.id}", "join",
                           f"unit:{invite.unit_id}", f"invite:{invite.id} role:{invite.role}")
        menu = await menu_for(tx, services, draft.telegram_user_id, t)
        return Reply((Screen(t(DONE_KEYS[invite.role], name=name, unit=title), menu=menu),))


async def _menu_if_any(tx: Tx, services: Services, user_id: int, t: Texts) -> Menu | None:
    """The main menu for someone who already holds a role; nothing for anyone else (a person
    waiting for approval gets no member menu yet)."""
    person = await people.person_by_telegram_id(tx, user_id)
    if person is None or not await people.active_memberships(tx, person.id):
        return None
    return await menu_for(tx, services, user_id, t)


async def _ask_approval(tx: Tx, services: Services, person: Person, name: str, invite: Invite,
                        title: str, t: Texts) -> Reply:
    """A join through a shared link: the membership waits, and the leaders who may approve
    it are asked."""
    now = services.now()
    membership_id = await joins.request_membership(tx, person.id, invite.unit_id,
                                                     invite.role, invite.id, now)
    await audit.record(tx, now, f"person:{person.id}", "join_request",
                       f"membership:{membership_id}",
                       f"unit:{invite.unit_id} invite:{invite.id} role:{invite.role}")
    request = await joins.get_request(tx, membership_id)
    assert request is not None
    notices = [(user_id, await request_notice(tx, request, services.texts(lang)))
               for user_id, lang in await approvers(tx, services, invite.unit_id)]
    menu = await _menu_if_any(tx, services, person.telegram_user_id, t)
    return Reply((Screen(t("invite.request.sent", name=name, unit=title), menu=menu),),
                 notices=tuple(notices))


async def approvers(tx: Tx, services: Services, unit_id: int) -> list[tuple[int, str | None]]:
    """Who is asked to approve a join into the unit (Telegram id, language): its leaders, or
    if it has none those of the nearest unit above that has leaders, or else the admins."""
    for unit in [await units.get_unit(tx, unit_id), *await units.ancestors(tx, unit_id)]:
        leaders = await joins.leaders_of(tx, unit.id) if unit else []
        if leaders:
            return [(p.telegram_user_id, p.lang) for p in leaders]
    found = []
    for admin in services.settings.admins:
        person = await people.person_by_telegram_id(tx, admin)
        found.append((admin, person.lang if person else None))
    return found


def _data(verb: str, membership_id: int) -> str:
    return pack(PREFIX, verb, membership_id)


def parse(data: str) -> tuple[str, int] | None:
    return verb_and_number(data, PREFIX, (APPROVE, REJECT))


async def request_notice(tx: Tx, request: Request, t: Texts) -> Screen:
    """What a leader sees of a join waiting for approval, with its two buttons."""
    text = t("invite.request.notice", name=request.full_name,
             unit=await unit_title(tx, request.unit_id), role=t(ROLE_KEYS[request.role]))
    buttons = ((Button(t.plain("invite.request.approve"), _data(APPROVE, request.membership_id)),
                Button(t.plain("invite.request.reject"), _data(REJECT, request.membership_id))),)
    return Screen(text, buttons)


class JoinRequests:
    """Leaders approving or rejecting joins through multi-use invites."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def press(self, sender: Sender, data: str) -> Reply:
        async with self.services.db.transaction() as tx:
            t = await texts_for(tx, self.services, sender.user_id)
            parsed = parse(data)
            request = parsed and await joins.get_request(tx, parsed[1])
            if not parsed or not request:
                log.warning("user %s pressed unknown join request data %r", sender.user_id, data)
                return Reply(toast=t.plain("invite.request.not_found"))
            actor = await actor_for(tx, self.services, sender.user_id)
            # With the requester named: nobody approves their own join.
            refusal = await check(tx, self.services, actor, Action.APPROVE_JOIN,
                                  request.unit_id, request.person_id, pressed=True)
            if refusal is not None:
                return refusal
            title = await unit_title(tx, request.unit_id)
            if request.status is not Status.PENDING:
                return await self._settled(tx, request, title, t)
            decision = Decision.APPROVED if parsed[0] == APPROVE else Decision.REJECTED
            me = actor.person
            now = self.services.now()
            if not await joins.decide(tx, request.membership_id, decision,
                                        me.id if me else None,
                                        me.full_name if me else sender.display_name, now):
                return await self._settled(tx, request, title, t)
            who = actor.label
            await audit.record(tx, now, who,
                               "approve_join" if decision is Decision.APPROVED
                               else "reject_join",
                               f"membership:{request.membership_id}",
                               f"unit:{request.unit_id} role:{request.role}")
            return await self._decided(tx, request, decision, title, t)

    async def _decided(self, tx: Tx, request: Request, decision: Decision, title: str,
                       t: Texts) -> Reply:
        theirs = self.services.texts(request.lang)
        role = t(ROLE_KEYS[request.role])
        user_id = request.telegram_user_id
        if decision is Decision.APPROVED:
            menu = await menu_for(tx, self.services, user_id, theirs)
            welcome = theirs(DONE_KEYS[request.role], name=request.full_name, unit=title)
            told = Screen(f"{theirs('invite.request.approved_you')}\n{welcome}", menu=menu)
            shown = t("invite.request.approved", name=request.full_name, unit=title, role=role)
            toast = t.plain("invite.request.approved_toast")
        else:
            menu = await _menu_if_any(tx, self.services, user_id, theirs)
            told = Screen(theirs("invite.request.rejected_you", unit=title), menu=menu)
            shown = t("invite.request.rejected", name=request.full_name, unit=title, role=role)
            toast = t.plain("invite.request.rejected_toast")
        return Reply((Screen(shown),), toast=toast, replace=True,
                     notices=((user_id, told),) if user_id is not None else ())

    async def _settled(self, tx: Tx, request: Request, title: str, t: Texts) -> Reply:
        """Pressed again, or after another leader: who decided, and nothing changes."""
        verdict = await joins.verdict(tx, request.membership_id)
        if verdict is None:
            key = "invite.request.closed"
        elif verdict.decision is Decision.APPROVED:
            key = "invite.request.already_approved"
        else:
            key = "invite.request.already_rejected"
        by = verdict.decider_name if verdict else ""
        text = t(key, name=request.full_name, unit=title, by=by)
        return Reply((Screen(text),), toast=t.plain(key, name=request.full_name, unit=title,
                                                    by=by), replace=True)


def needs_approval(invite: Invite) -> bool:
    """A link meant for one person admits them at once; a shared one asks a leader first."""
    return invite.max_uses > 1


async def waiting_key(tx: Tx, person_id: int | None) -> str | None:
    """For someone with no active role: the text that says their join waits for a leader's
    approval, if it does (None otherwise)."""
    if person_id is None:
        return None
    live = await joins.live_memberships(tx, person_id)
    if any(m.status is Status.PENDING for m in live):
        return "invite.request.waiting"
    return None
