"""Joining a unit through an invite code."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.catalogue import Texts
from bot.conversation import Conversations, texts_for
from bot.forms.engine import DraftState, FormContext
from bot.forms.join import JOIN_FORM
from bot.menu import menu_for
from bot.screens import Reply, Screen
from bot.services import Sender, Services
from storage import audit, drafts, invites, people, units
from storage.db import Tx
from storage.entities import Draft, Invite, Person, Role


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


async def _conflict(tx: Tx, person: Person | None, invite: Invite) -> str | None:
    """Why this person cannot take this invite, if they cannot."""
    if person is None:
        return None
    for membership in await people.active_memberships(tx, person.id):
        if membership.unit_id == invite.unit_id and membership.role is invite.role:
            return "join.already_member"
        if invite.role is Role.MEMBER and membership.role is Role.MEMBER:
            return "join.member_elsewhere"
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
        menu = await menu_for(tx, services, user_id, t) if person else None
        return Screen(t(conflict, unit=title), menu=menu)
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
        await people.add_membership(tx, person.id, invite.unit_id, invite.role, invite.id, now)
        await audit.record(tx, now, f"person:{person.id}", "join",
                           f"unit:{invite.unit_id}", f"invite:{invite.id} role:{invite.role}")
        menu = await menu_for(tx, services, draft.telegram_user_id, t)
        return Reply((Screen(t(f"join.done_{invite.role.value}", name=name, unit=title),
                             menu=menu),))
