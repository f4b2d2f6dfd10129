"""Joining a unit through an invite code (/start <code>); a join through a multi-use invite
waits for the approval of the unit's leaders (or of the nearest unit above that has leaders),
who decide with ✅ Duyệt / ✖ Từ chối, each press authorised again against the join's unit."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from bot.flows.menu import main_menu, menu_now
from bot.forms import buttons as form_buttons
from bot.forms.conversations import Conversations
from bot.forms.engine import DraftState, FormContext
from bot.forms.spec import Field, FieldType, Form
from bot.parsing.text import normalize
from bot.rules.access import Action, Request
from bot.rules.bots import invite_link, owner_username, serves
from bot.runtime.config import Settings
from bot.ui.buttons import ButtonData, Id
from bot.ui.catalogue import Catalogue, Markup, Texts
from bot.ui.screens import Button, Menu, Reply, Screen
from storage import audit, drafts, invites, joins, people, units
from storage.db import Tx
from storage.entities import Draft, Invite, Person, Role
from storage.joins import Decision, JoinRequest, Status

log = logging.getLogger(__name__)
ROLE_KEYS = {Role.MEMBER: "invite.role.member", Role.LEADER: "invite.role.leader",
             Role.OBSERVER: "invite.role.observer"}
DONE_KEYS = {Role.MEMBER: "join.done_member", Role.LEADER: "join.done_leader",
             Role.OBSERVER: "join.done_observer"}
STALE = "invite.request.not_found"

JOIN_FORM = Form(
    "join",
    (Field("full_name", FieldType.TEXT, min=2, max=100, has_default=True),),
    summary=False,
)


@dataclass(frozen=True)
class NameCheck:
    """Why a typed full name is shown back, and how it could be written: the person's own
    name with capitals when capitals are all it lacks; otherwise (None) the catalogue's
    example, since only the person knows the diacritics of their name."""

    key: str
    example: str | None = None

    def text(self, t: Texts, value: str) -> Markup:
        return t(self.key, value=value,
                 example=self.example or t.plain("form.join.full_name.example"))


def name_check(name: str) -> NameCheck | None:
    """Whether to ask to check a typed full name, when it looks typed in haste: no
    diacritics at all ("nong van binh") or no capitals ("nông văn bình"). Few diacritics are
    no reason: "Lò Văn Pá", "Giàng A Páo" are names as they are."""
    letters = [ch for ch in name if ch.isalpha()]
    if not letters:
        return None
    if name.isascii():
        return NameCheck("form.join.full_name.check_unaccented")
    if not any(ch.isupper() for ch in letters):
        return NameCheck("form.join.full_name.check_lowercase", name.title())
    return None


class Approve(ButtonData, prefix="jr:ok", action=Action.APPROVE_JOIN):
    membership: Id


class Reject(ButtonData, prefix="jr:no", action=Action.APPROVE_JOIN):
    membership: Id


BUTTONS = (Approve, Reject)


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


async def unit_title(tx: Tx, unit_id: int) -> str:
    """"Chi bộ Thôn Bản Chặng (Đảng bộ xã Tràng Định)": the unit and the one above it."""
    unit = await units.get_unit(tx, unit_id)
    if unit is None:
        return ""
    parents = await units.ancestors(tx, unit_id)
    return f"{unit.name} ({parents[0].name})" if parents else unit.name


async def other_bot(req: Request, unit_id: int, code: str) -> Screen:
    """The invite's unit is another bot's (several bots on one database, bot/rules/bots.py):
    the one line naming the bot to open it in, with the same code; nothing changes here."""
    title = await unit_title(req.tx, unit_id)
    username = await owner_username(req.tx, unit_id)
    if username is None:
        return Screen(req.t("join.no_bot_serves", unit=title))
    return Screen(req.t("join.other_bot", unit=title, bot=username,
                        link=invite_link(username, code)))


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
    title: str
    # A personal invite's person (imported from a list), whom the opener becomes, and their
    # role where the invite names (or, moved since, where they are now).
    person: Person | None = None
    role: Role | None = None


async def _menu_if_any(req: Request, user_id: int, t: Texts) -> Menu | None:
    """The main menu for someone who already holds a role; nothing for anyone else (a person
    waiting for approval gets no member menu yet)."""
    actor = await req.actor_of(user_id)
    return main_menu(t, actor) if actor.memberships else None


async def _admit(req: Request, code: str) -> Admission | Screen:
    """Who is joining through which invite, or the screen that says why they cannot."""
    t = req.t
    invite = await invites.invite_by_code(req.tx, code)
    if invite is not None and not await serves(req.tx, req.bot, invite.unit_id):
        return await other_bot(req, invite.unit_id, code)
    # Who they are in the tree first: someone who opens the link they joined with, used up
    # since, is told they are in the unit, not to ask its bí thư (maybe themself) for a new one.
    conflict = (await _conflict(req.tx, req.actor.person, invite)
                if invite is not None and invite.person_id is None else None)
    if conflict is not None:
        key, unit_id = conflict
        menu = await _menu_if_any(req, req.user_id, t)
        return Screen(t(key, unit=await unit_title(req.tx, unit_id)), menu=menu)
    problem = invite_problem(invite, req.now)
    if invite is None or problem is not None:
        return Screen(t(problem or "join.invite_unknown"))
    if invite.person_id is not None:
        return await _admit_as(req, invite, invite.person_id)
    return Admission(invite, await unit_title(req.tx, invite.unit_id))


async def _admit_as(req: Request, invite: Invite, person_id: int) -> Admission | Screen:
    """Who opens a personal invite becomes its person: unless they are someone on Lan Tỏa
    already, or the person has no role left (removed since the import)."""
    t = req.t
    person = await people.get_person(req.tx, person_id)
    live = [m for m in await joins.live_memberships(req.tx, person_id)
            if m.status is Status.ACTIVE]
    if person is None or not live:
        return Screen(t("join.invite_revoked"))
    me = req.actor.person
    if me is not None:  # (the person themself has used the link: it works no more)
        return Screen(t("join.personal_for_other", name=person.full_name, own=me.full_name),
                      menu=await _menu_if_any(req, req.user_id, t))
    home = next((m for m in live if m.unit_id == invite.unit_id), live[0])
    return Admission(invite, await unit_title(req.tx, home.unit_id), person, home.role)


class JoinKind:
    form = JOIN_FORM

    def __init__(self, settings: Settings, catalogue: Catalogue) -> None:
        self.settings = settings
        self.catalogue = catalogue

    async def context(self, req: Request, state: DraftState) -> FormContext:
        # After the check of a typed name, "Giữ nguyên" keeps that name (the step's default).
        suggested = state.extra.get("kept_name") or state.extra.get("suggested_name", "")
        return FormContext(today=req.today, defaults={"full_name": suggested})

    async def _check_name(self, req: Request, draft: Draft, state: DraftState) -> Reply | None:
        """A typed name that looks typed in haste is shown back once, to type again or keep;
        the answer after that is taken as it is. The name Telegram gave, confirmed with ✅
        Đúng, is the person's own choice and is not asked about."""
        name = state.answers["full_name"]
        check = name_check(name)
        given = normalize(state.extra.get("suggested_name") or "")
        if check is None or state.extra.get("name_checked") or name == given:
            return None
        asked = state.model_copy(update={
            "answers": {}, "pending": None, "retyping": False,
            "extra": {**state.extra, "kept_name": name, "name_checked": True}})
        await drafts.save_draft(req.tx, draft, asked.model_dump(), req.update_id, req.now)
        t = req.t

        def button(label: str, verb: str) -> Button:
            return Button(label, form_buttons.encode(self.form, draft.id, "full_name", verb))

        keyboard = ((button(t.plain("form.join.full_name.keep"), "ok"),
                     button(t.plain("button.cancel"), "cancel")),)
        return Reply((Screen(check.text(t, name), keyboard),))

    async def submit(self, req: Request, draft: Draft, state: DraftState) -> Reply:
        t, tx = req.t, req.tx
        checked = await self._check_name(req, draft, state)
        if checked is not None:
            return checked
        await drafts.delete_draft(tx, draft.id)
        admission = await _admit(req, state.extra.get("invite", ""))
        if isinstance(admission, Screen):
            return Reply((admission,))
        invite, title = admission.invite, admission.title
        # Someone else may have taken the last use while this person was typing their name.
        if not await invites.use_invite(tx, invite.id, req.now):
            return Reply((Screen(t("join.invite_used_up")),))
        name = state.answers["full_name"]
        if admission.person is not None:
            return await self._join_as(req, admission, admission.person, name)
        person = req.actor.person
        if person is None:
            person = await people.add_person(tx, draft.telegram_user_id, name, t.lang, req.now)
        elif person.full_name != name:
            await people.rename_person(tx, person.id, name)
        if needs_approval(invite):
            return await self._ask_approval(req, person, name, invite, title)
        await people.add_membership(tx, person.id, invite.unit_id, invite.role, invite.id,
                                    req.now)
        await audit.record(tx, req.now, f"person:{person.id}", "join",
                           f"unit:{invite.unit_id}", f"invite:{invite.id} role:{invite.role}")
        menu = await menu_now(req)
        return Reply((Screen(t(DONE_KEYS[invite.role], name=name, unit=title), menu=menu),))

    @staticmethod
    async def _join_as(req: Request, admission: Admission, person: Person, name: str) -> Reply:
        """Through a personal invite: the Telegram account becomes the imported person's, who
        holds their role already."""
        tx, t = req.tx, req.t
        if not await people.attach_telegram(tx, person.id, req.user_id):
            return Reply((Screen(t("join.invite_used_up")),))
        if person.full_name != name:
            await people.rename_person(tx, person.id, name)
        invite = admission.invite
        await audit.record(tx, req.now, f"person:{person.id}", "join_as",
                           f"unit:{invite.unit_id}", f"invite:{invite.id}")
        role = admission.role or invite.role
        menu = await menu_now(req)
        return Reply((Screen(t(DONE_KEYS[role], name=name, unit=admission.title), menu=menu),))

    async def _ask_approval(self, req: Request, person: Person, name: str, invite: Invite,
                            title: str) -> Reply:
        """A join through a shared link: the membership waits, and the leaders who may
        approve it are asked."""
        tx = req.tx
        membership_id = await joins.request_membership(tx, person.id, invite.unit_id,
                                                       invite.role, invite.id, req.now)
        await audit.record(tx, req.now, f"person:{person.id}", "join_request",
                           f"membership:{membership_id}",
                           f"unit:{invite.unit_id} invite:{invite.id} role:{invite.role}")
        request = await joins.get_request(tx, membership_id)
        assert request is not None
        notices = [(user_id, await request_notice(tx, request, self.catalogue.texts(lang)))
                   for user_id, lang in await self._approvers(tx, invite.unit_id)]
        menu = await _menu_if_any(req, req.user_id, req.t)
        return Reply((Screen(req.t("invite.request.sent", name=name, unit=title), menu=menu),),
                     notices=tuple(notices))

    async def _approvers(self, tx: Tx, unit_id: int) -> list[tuple[int, str | None]]:
        """Who is asked to approve a join into the unit (Telegram id, language): its leaders,
        or if it has none those of the nearest unit above that has leaders, or else the
        admins."""
        for unit in [await units.get_unit(tx, unit_id), *await units.ancestors(tx, unit_id)]:
            leaders = await joins.leaders_of(tx, unit.id) if unit else []
            if leaders:
                return [(p.telegram_user_id, p.lang) for p in leaders
                        if p.telegram_user_id is not None]
        found: list[tuple[int, str | None]] = []
        for admin in self.settings.admins:
            person = await people.person_by_telegram_id(tx, admin)
            found.append((admin, person.lang if person else None))
        return found


async def request_notice(tx: Tx, request: JoinRequest, t: Texts) -> Screen:
    """What a leader sees of a join waiting for approval, with its two buttons."""
    text = t("invite.request.notice", name=request.full_name,
             unit=await unit_title(tx, request.unit_id), role=t(ROLE_KEYS[request.role]))
    buttons = ((Button(t.plain("invite.request.approve"), Approve(request.membership_id).pack()),
                Button(t.plain("invite.request.reject"), Reject(request.membership_id).pack())),)
    return Screen(text, buttons)


class Joins:
    """/start with an invite code, and leaders approving or rejecting joins through
    multi-use invites."""

    def __init__(self, conversations: Conversations, catalogue: Catalogue) -> None:
        self.conversations = conversations
        self.catalogue = catalogue

    async def start(self, req: Request, code: str) -> Reply:
        admission = await _admit(req, code)
        if isinstance(admission, Screen):
            return Reply((admission,))
        person = admission.person or req.actor.person
        name = person.full_name if person else req.name
        first = await self.conversations.begin(req, "join", invite=code, suggested_name=name)
        step = first.screens[0]
        welcome = req.t("join.welcome", unit=admission.title)
        return Reply((Screen(f"{welcome}\n\n{step.text}", step.buttons),))

    async def decide(self, req: Request, press: Approve | Reject) -> Reply:
        t = req.t
        request = await joins.get_request(req.tx, press.membership)
        if request is None:
            log.warning("user %s pressed unknown join request %s", req.user_id,
                        press.membership)
            return Reply(toast=t.plain(STALE))
        # With the requester named: nobody approves their own join.
        refusal = await req.check(press.action, request.unit_id, request.person_id,
                                  pressed=True)
        if refusal is not None:
            return refusal
        title = await unit_title(req.tx, request.unit_id)
        if request.status is not Status.PENDING:
            return await self._settled(req, request, title)
        decision = Decision.APPROVED if isinstance(press, Approve) else Decision.REJECTED
        me = req.actor.person
        if not await joins.decide(req.tx, request.membership_id, decision,
                                  me.id if me else None, me.full_name if me else req.name,
                                  req.now):
            return await self._settled(req, request, title)
        await audit.record(req.tx, req.now, req.actor.label,
                           "approve_join" if decision is Decision.APPROVED else "reject_join",
                           f"membership:{request.membership_id}",
                           f"unit:{request.unit_id} role:{request.role}")
        return await self._decided(req, request, decision, title)

    async def _decided(self, req: Request, request: JoinRequest, decision: Decision,
                       title: str) -> Reply:
        t = req.t
        theirs = self.catalogue.texts(request.lang)
        role = t(ROLE_KEYS[request.role])
        user_id = request.telegram_user_id
        if decision is Decision.APPROVED:
            menu: Menu | None = (await menu_now(req, user_id, theirs)
                                 if user_id is not None else None)
            welcome = theirs(DONE_KEYS[request.role], name=request.full_name, unit=title)
            told = Screen(f"{theirs('invite.request.approved_you')}\n{welcome}", menu=menu)
            shown = t("invite.request.approved", name=request.full_name, unit=title, role=role)
            toast = t.plain("invite.request.approved_toast")
        else:
            menu = await _menu_if_any(req, user_id, theirs) if user_id is not None else None
            told = Screen(theirs("invite.request.rejected_you", unit=title), menu=menu)
            shown = t("invite.request.rejected", name=request.full_name, unit=title, role=role)
            toast = t.plain("invite.request.rejected_toast")
        return Reply((Screen(shown),), toast=toast, replace=True,
                     notices=((user_id, told),) if user_id is not None else ())

    @staticmethod
    async def _settled(req: Request, request: JoinRequest, title: str) -> Reply:
        """Pressed again, or after another leader: who decided (the presser is not named to
        themselves), and nothing changes."""
        verdict = await joins.verdict(req.tx, request.membership_id)
        me = req.actor.person
        mine = verdict is not None and me is not None and verdict.decided_by == me.id
        if verdict is None:
            key = "invite.request.closed"
        elif verdict.decision is Decision.APPROVED:
            key = ("invite.request.already_approved_by_you" if mine
                   else "invite.request.already_approved")
        else:
            key = ("invite.request.already_rejected_by_you" if mine
                   else "invite.request.already_rejected")
        by = verdict.decider_name if verdict else ""
        params = {"name": request.full_name, "unit": title, "by": by}
        return Reply((Screen(req.t(key, **params)),), toast=req.t.plain(key, **params),
                     replace=True)
