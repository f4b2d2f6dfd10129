"""Every command and every kind of button, run end to end through the real bot: once as
someone allowed to, once as someone refused. Each trigger names the action it is checked as
(for a button, the action its declaration carries: tests/test_permissions checks they agree),
and does what a person would (a command, or a press with data naming the target, forged where
the person was never shown the button), then reads back what they saw and what the database
holds. Whether a refusal was said is recognised by the catalogue key that said it.

Which cases: `CASES` below, written by hand per action (an allowed one, and a refused one that
is the likeliest mistake: another unit's record, a member or an observer trying a leader's
action, a leader reaching above); a trigger may name its own. That `permits` follows RULES in
every case, and RULES the policy, is tests/test_access.py's.

A `listing` trigger shows what is in one's reach and simply leaves the rest out; a `quiet` one
acts on one's own record (a draft) found by who presses, so someone else's is just "over".
Any other refused trigger must say a refusal in words and log it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pytest
from telegram.ext import CommandHandler

from bot.flows.reviews import fingerprint
from bot.forms.engine import SUMMARY, DraftState
from bot.rules.access import Action, Relation, actor_for, units_in_reach
from bot.rules.schedules import ensure_standard
from bot.runtime.app import build_application
from bot.runtime.clock import FixedClock
from bot.runtime.config import Settings
from bot.runtime.core import Core
from bot.runtime.services import Services
from bot.ui import buttons
from bot.ui.catalogue import Catalogue
from bot.ui.formatting import period_span
from storage import (
    audit,
    commitments,
    deliveries,
    drafts,
    groups,
    invites,
    member_import,
    people,
    reports,
    reviews,
    schedules,
    settings,
    units,
)
from storage.entities import Draft, Invite, Report, ReportContent, ReportState, Role
from storage.schedules import Every, NewSchedule, Schedule, ScheduleKind
from tests.fakebot import FakeRequest, FakeTelegram
from tests.harness import (
    FRIDAY_MORNING,
    TOKEN,
    Harness,
    Seen,
    Tree,
    migrated_database,
    started,
)


class Who(StrEnum):
    STRANGER = "stranger"
    MEMBER = "member"  # of the cell
    LEADER = "leader"  # of the cell
    HIGHER_LEADER = "higher_leader"  # of the commune above the cell
    OBSERVER = "observer"  # of the commune
    ADMIN = "admin"  # in config.toml, holding no role in any unit


Case = tuple[Who, Relation]
ROLE_OF = {Who.MEMBER: Role.MEMBER, Who.LEADER: Role.LEADER,
           Who.HIGHER_LEADER: Role.LEADER, Who.OBSERVER: Role.OBSERVER}
ACTOR, OTHER, ADMIN_ID, NEWCOMER, SECOND_LEADER = 5001, 5002, 5003, 5004, 5005
ACTOR_NAME, OTHER_NAME = "Hoàng Văn Sơn", "Lăng Thị Hoa"
GROUP_CHAT = -100777
DEED = "Sửa mái nhà dột cho hộ bà Lăng Thị Hoa"
# What a refusal is said with: everything else someone is told is an answer.
REFUSALS = frozenset({
    "access.denied", "access.denied_above_cell", "access.read_only", "access.not_member",
    "access.observer_only", "members.leaders_only",
    "invite.not_leader", "behalf.leaders_only", "behalf.self", "review.own_report",
    "groups.stranger", "groups.observer", "groups.not_leader", "groups.pick_denied",
    "groups.unlink_denied", "groups.linked_elsewhere", "announce.not_allowed",
    "member_import.not_allowed",
})

LEADER, MEMBER, OBSERVER, HIGHER = Who.LEADER, Who.MEMBER, Who.OBSERVER, Who.HIGHER_LEADER
STRANGER, ADMIN = Who.STRANGER, Who.ADMIN
OWN, SAME, CHILD, SIBLING, PARENT = (Relation.OWN, Relation.SAME, Relation.CHILD,
                                     Relation.SIBLING, Relation.PARENT)
# Per action: who may (allowed) and a likely mistake (refused). Not derived from RULES.
CASES: dict[Action, tuple[Case, Case]] = {
    Action.REVIEW: ((LEADER, SAME), (MEMBER, SAME)),
    Action.ACKNOWLEDGE: ((LEADER, SAME), (LEADER, SIBLING)),
    Action.ASK_MORE: ((LEADER, CHILD), (OBSERVER, CHILD)),
    Action.HIGHLIGHT: ((HIGHER, CHILD), (LEADER, PARENT)),
    Action.REOPEN: ((LEADER, SAME), (MEMBER, SAME)),
    Action.INVITE_MEMBER: ((LEADER, SAME), (LEADER, SIBLING)),
    Action.INVITE_LEADER: ((LEADER, CHILD), (LEADER, SAME)),
    Action.REVOKE_INVITE: ((LEADER, SAME), (STRANGER, SAME)),
    Action.IMPORT_MEMBERS: ((LEADER, CHILD), (LEADER, SIBLING)),
    Action.APPROVE_JOIN: ((LEADER, SAME), (LEADER, SIBLING)),
    Action.MEMBERS: ((LEADER, SAME), (MEMBER, SAME)),
    Action.EXCUSE: ((LEADER, SAME), (OBSERVER, CHILD)),
    Action.REMOVE: ((LEADER, SAME), (LEADER, SIBLING)),
    Action.MOVE: ((LEADER, CHILD), (LEADER, PARENT)),
    Action.SET_ROLE: ((LEADER, SAME), (MEMBER, SAME)),
    Action.REPORT_ON_BEHALF: ((LEADER, SAME), (OBSERVER, CHILD)),
    Action.LINK_GROUP: ((LEADER, SAME), (STRANGER, SAME)),
    Action.MODEL_LIST: ((MEMBER, PARENT), (MEMBER, SIBLING)),
    Action.MODEL_ADD: ((LEADER, SAME), (MEMBER, SAME)),
    Action.MODEL_STATUS: ((ADMIN, SAME), (OBSERVER, CHILD)),
    Action.MODEL_MARK: ((HIGHER, CHILD), (LEADER, SAME)),
    Action.COMMIT: ((MEMBER, OWN), (LEADER, SAME)),
    Action.COMMIT_OVERVIEW: ((OBSERVER, CHILD), (MEMBER, SAME)),
    Action.COMMIT_REMIND: ((LEADER, SAME), (OBSERVER, CHILD)),
    Action.OWN_REPORT: ((MEMBER, OWN), (LEADER, SAME)),
    Action.STATS_OWN: ((MEMBER, OWN), (OBSERVER, OWN)),
    Action.STATS_UNIT: ((OBSERVER, CHILD), (MEMBER, SAME)),
    Action.SCHEDULE: ((LEADER, SAME), (OBSERVER, SAME)),
    Action.DIGEST: ((OBSERVER, SAME), (LEADER, SIBLING)),
    Action.EXPORT: ((OBSERVER, CHILD), (LEADER, SIBLING)),
    Action.ANNOUNCE: ((LEADER, SAME), (MEMBER, SAME)),
    Action.REPORT: ((MEMBER, OWN), (OBSERVER, OWN)),
    Action.ANSWER_FORM: ((STRANGER, OWN), (MEMBER, SAME)),
    Action.CHOOSE_LANGUAGE: ((MEMBER, OWN), (STRANGER, OWN)),
    Action.NUDGE_SETTINGS: ((LEADER, OWN), (STRANGER, OWN)),
}


def shows(seen: Seen, key: str, **params: object) -> bool:
    return seen.shows(key, **params)


def anchor(tree: Tree, who: Who) -> int:
    """The unit where the actor holds their role (strangers and admins: seen from the cell)."""
    return tree.commune if who in (Who.HIGHER_LEADER, Who.OBSERVER) else tree.cell


def target_unit(tree: Tree, who: Who, relation: Relation) -> int:
    at_commune = anchor(tree, who) == tree.commune
    return {
        Relation.OWN: anchor(tree, who),
        Relation.SAME: anchor(tree, who),
        Relation.CHILD: tree.cell if at_commune else tree.group,
        Relation.SIBLING: tree.other_commune if at_commune else tree.sibling_cell,
        Relation.PARENT: tree.province if at_commune else tree.commune,
    }[relation]


@dataclass
class World:
    bot: Harness
    tree: Tree
    who: Who
    relation: Relation
    unit: int  # where the target is
    owner: int  # the Telegram id of the person the target belongs to
    owner_person: int  # their person id (0: the actor, a stranger, has none)
    owner_name: str
    actor_person: int  # 0 for a stranger

    def refused(self, mark: int) -> bool:
        """A refusal reached the actor since call number `mark` (a message, in their chat or
        the group's, or a note on the button)."""
        return any(call.params.get("chat_id") in (ACTOR, GROUP_CHAT, None)
                   and call.keys & REFUSALS for call in self.bot.fake.calls[mark:])


async def _person(bot: Harness, user_id: int, name: str, unit: int | None,
                  role: Role | None) -> int:
    bot.person(user_id, name)
    async with bot.db.transaction() as tx:
        person = await people.add_person(tx, user_id, name, "vi", bot.clock.now())
        if unit is not None and role is not None:
            await people.add_membership(tx, person.id, unit, role, None, bot.clock.now())
    return person.id


async def build_world(bot: Harness, who: Who, relation: Relation) -> World:
    tree = await bot.tree()
    unit = target_unit(tree, who, relation)
    role = ROLE_OF.get(who)
    actor = 0
    if who is Who.STRANGER:
        bot.person(ACTOR, "Người lạ")
    else:
        actor = await _person(bot, ACTOR, ACTOR_NAME if who is not Who.ADMIN else "Quản trị",
                              anchor(tree, who) if role else None, role)
    if relation is Relation.OWN:
        return World(bot, tree, who, relation, unit, ACTOR, actor, ACTOR_NAME, actor)
    other = await _person(bot, OTHER, OTHER_NAME, unit, Role.MEMBER)
    return World(bot, tree, who, relation, unit, OTHER, other, OTHER_NAME, actor)


Probe = Callable[[World], Awaitable[bool]]


@dataclass(frozen=True)
class Trigger:
    """A command or a kind of button, and the action it is checked as. `run` does it and says
    whether it took effect (or the target was shown). `cases`: (allowed, refused), else the
    action's in CASES."""

    action: Action
    run: Probe
    listing: bool = False
    quiet: bool = False
    cases: tuple[Case, Case] | None = None

    @property
    def allowed(self) -> Case:
        return (self.cases or CASES[self.action])[0]

    @property
    def refused(self) -> Case:
        return (self.cases or CASES[self.action])[1]


TRIGGERS: dict[str, Trigger] = {}


def add(name: str, action: Action, run: Probe, listing: bool = False, quiet: bool = False,
        cases: tuple[Case, Case] | None = None) -> Probe:
    """`name`: a button's declared prefix, or a command (with `:something` when one command
    is probed several ways)."""
    assert name not in TRIGGERS, f"trigger {name} registered twice"
    TRIGGERS[name] = Trigger(action, run, listing, quiet, cases)
    return run


def trigger(name: str, action: Action, listing: bool = False, quiet: bool = False,
            cases: tuple[Case, Case] | None = None) -> Callable[[Probe], Probe]:
    return lambda run: add(name, action, run, listing, quiet, cases)


# --- doing things the way people do ------------------------------------------------------------


async def forge(world: World, data: str) -> Seen:
    """A press with `data` on the bot's latest message in the actor's chat, whether or not
    that message carried such a button (data from the client is never trusted)."""
    bot = world.bot
    if bot.fake.last_message(ACTOR) is None:
        await bot.say(ACTOR, "/help")
    last = bot.fake.last_message(ACTOR)
    assert last is not None
    return await bot.press_data(ACTOR, last["message_id"], data, check_button=False)


async def act(world: World, what: str) -> Seen:
    """A command typed in the private chat, or a press with this data."""
    if what.startswith("/"):
        return await world.bot.say(ACTOR, what)
    return await forge(world, what)


def offered(seen: Seen) -> list[tuple[str, str]]:
    """(label, data) of the inline buttons on what the bot sent or redrew."""
    found = []
    for call in seen.calls:
        markup = call.params.get("reply_markup")
        rows = (markup.get("inline_keyboard") or []) if isinstance(markup, dict) else []
        found += [(b.get("text", ""), b.get("callback_data", "")) for row in rows for b in row]
    return found


def labelled(seen: Seen, text: str) -> bool:
    """Some button offered says `text`."""
    return any(text in label for label, _ in offered(seen))


async def browse(world: World, seen: Seen, found: Callable[[Seen], bool],
                 verbs: tuple[str, ...], presses: int = 12) -> bool:
    """Whether `found` holds for `seen` or for a screen behind the buttons it offers whose data
    starts with one of `verbs`: a person looking for the target by opening units, level by
    level."""
    screens, pressed = [seen], set()
    while screens:
        seen = screens.pop(0)
        if found(seen):
            return True
        for _, data in offered(seen):
            if data.startswith(verbs) and data not in pressed and len(pressed) < presses:
                pressed.add(data)
                screens.append(await forge(world, data))
    return False


async def unit_name(world: World, unit_id: int) -> str:
    async with world.bot.db.transaction() as tx:
        unit = await units.get_unit(tx, unit_id)
    assert unit is not None
    return unit.name


async def draft_of(world: World) -> Draft | None:
    """The form the actor is filling in, if any."""
    async with world.bot.db.transaction() as tx:
        return await drafts.draft_of(tx, ACTOR)


# --- statistics ---------------------------------------------------------------------------------


@trigger("st:me", Action.STATS_OWN)
async def _stats_own(world: World) -> bool:
    return shows(await forge(world, "st:me:m"), "stats.title_own")


@trigger("/stats:own", Action.STATS_OWN, listing=True)
async def _stats_own_from_command(world: World) -> bool:
    """/stats opens a unit's figures for those who see one; their own counts are a button."""
    seen = await world.bot.say(ACTOR, "/stats")
    return await browse(world, seen, lambda s: shows(s, "stats.title_own"), ("st:me:m",))


@trigger("st:u", Action.STATS_UNIT)
async def _stats_unit(world: World) -> bool:
    seen = await forge(world, f"st:u:m:{world.unit}")
    return shows(seen, "stats.title_unit", unit=await unit_name(world, world.unit))


def _unit_figures(what: str) -> Probe:
    """The target unit's figures, found from the first screen by opening units."""
    async def run(world: World) -> bool:
        name = await unit_name(world, world.unit)
        seen = await act(world, what)
        return await browse(world, seen, lambda s: shows(s, "stats.title_unit", unit=name),
                            ("st:u:m:", "st:pick:m"))
    return run


add("/stats", Action.STATS_UNIT, _unit_figures("/stats"), listing=True)
add("st:pick", Action.STATS_UNIT, _unit_figures("st:pick:m"), listing=True)


# --- commitments --------------------------------------------------------------------------------


async def commitment_of(world: World, year: int = 2026) -> int:
    """The target's owner's commitment for `year`."""
    async with world.bot.db.transaction() as tx:
        commitment_id, _ = await commitments.save_commitment(
            tx, person_id=world.owner_person, unit_id=world.unit, year=year,
            pledge="Giữ gìn phẩm chất đạo đức, lối sống trong sáng",
            actions="Tham gia đầy đủ sinh hoạt chi bộ", now=world.bot.clock.now())
    return commitment_id


@trigger("cm:edit", Action.COMMIT)
async def _commit(world: World) -> bool:
    seen = await forge(world, f"cm:edit:{await commitment_of(world)}")
    return shows(seen, "form.commitment.summary_title")


@trigger("cm:assess", Action.COMMIT)
async def _commit_assess(world: World) -> bool:
    """Last year's commitment, whose self-assessment is open."""
    await forge(world, f"cm:assess:{await commitment_of(world, 2025)}")
    draft = await draft_of(world)
    return draft is not None and draft.form == "self_assessment"


def _own_commitment(what: str) -> Probe:
    """One's own commitment, shown: nobody else's can be asked for here."""
    async def run(world: World) -> bool:
        await commitment_of(world)
        return shows(await act(world, what), "commitments.own_title")
    return run


add("/commit:own", Action.COMMIT, _own_commitment("/commit"), listing=True)
add("cm:form", Action.COMMIT, _own_commitment("cm:form:0"), listing=True)


@trigger("/commit", Action.COMMIT_OVERVIEW, listing=True)
async def _commit_overview(world: World) -> bool:
    seen = await world.bot.say(ACTOR, "/commit")
    name = await unit_name(world, world.unit)
    return shows(seen, "commitments.overview_title") and name in seen.text


@trigger("cm:remind", Action.COMMIT_REMIND)
async def _commit_remind(world: World) -> bool:
    seen = await forge(world, f"cm:remind:{world.unit}")
    return shows(seen, "commitments.remind_confirm") or shows(seen, "commitments.remind_nobody")


@trigger("cm:remind_yes", Action.COMMIT_REMIND)
async def _commit_remind_yes(world: World) -> bool:
    await forge(world, f"cm:remind_yes:{world.unit}")
    async with world.bot.db.transaction() as tx:
        return await commitments.last_reminder(tx, world.unit, 2026) is not None


@trigger("cm:remind_no", Action.COMMIT_REMIND)
async def _commit_remind_no(world: World) -> bool:
    return shows(await forge(world, f"cm:remind_no:{world.unit}"), "commitments.remind_cancelled")


# --- reports: the review queue and one's own ----------------------------------------------------


async def report_by(world: World, state: ReportState = ReportState.PENDING) -> Report:
    """A report of the target's owner in the target's unit."""
    bot = world.bot
    content = ReportContent(deed_date=bot.clock.now().date(), field="Xã hội", description=DEED)
    async with bot.db.transaction() as tx:
        report_id = await reports.insert_report(
            tx, person_id=world.owner_person, unit_id=world.unit,
            entered_by=world.owner_person, content=content, source_draft_id=-1,
            now=bot.clock.now())
        await tx.run("UPDATE reports SET state = ? WHERE id = ?", (state.value, report_id))
        if state is ReportState.ACKNOWLEDGED:
            await reviews.add_review(tx, report_id, world.owner_person, reviews.ACKNOWLEDGED,
                                     None, bot.clock.now())
        report = await reports.get_report(tx, report_id)
    assert report is not None
    return report


async def state_of(world: World, report_id: int) -> ReportState:
    async with world.bot.db.transaction() as tx:
        report = await reports.get_report(tx, report_id)
    assert report is not None
    return report.state


def _queue(what: str) -> Probe:
    """The queue, showing the target's waiting report."""
    async def run(world: World) -> bool:
        await report_by(world)
        seen = await act(world, what)
        return shows(seen, "review.title") and world.owner_name in seen.text
    return run


add("/review", Action.REVIEW, _queue("/review"), listing=True)
add("rv:first", Action.REVIEW, _queue("rv:first:0"), listing=True)
add("rv:next", Action.REVIEW, _queue("rv:next:0"), listing=True)


@trigger("rv:done", Action.REVIEW, listing=True)
async def _recently_acknowledged(world: World) -> bool:
    await report_by(world, ReportState.ACKNOWLEDGED)
    return labelled(await forge(world, "rv:done:0"), world.owner_name)


PressOnReport = Callable[[World], Awaitable[tuple[Seen, Report]]]


def _press_on_report(template: str,
                     state: ReportState = ReportState.PENDING) -> PressOnReport:
    """A press naming the target's report (`template` gets its id and fingerprint)."""
    async def press(world: World) -> tuple[Seen, Report]:
        report = await report_by(world, state)
        data = template.format(id=report.id, version=fingerprint(report))
        return await forge(world, data), report
    return press


def _report_shown(template: str, key: str, state: ReportState = ReportState.PENDING) -> Probe:
    """The press answers with `key`'s text, about the target's report."""
    press = _press_on_report(template, state)

    async def run(world: World) -> bool:
        seen, _ = await press(world)
        return shows(seen, key) and (world.owner_name in seen.text or key.startswith("my."))
    return run


def _report_becomes(template: str, after: ReportState) -> Probe:
    press = _press_on_report(template)

    async def run(world: World) -> bool:
        _, report = await press(world)
        return await state_of(world, report.id) is after
    return run


add("rv:open", Action.REVIEW, _report_shown(
    "rv:open:{id}", "review.detail_title", ReportState.ACKNOWLEDGED))
add("rv:ack", Action.ACKNOWLEDGE, _report_becomes("rv:ack:{id}:{version}",
                                                  ReportState.ACKNOWLEDGED))
add("rv:ask", Action.ASK_MORE, _report_shown("rv:ask:{id}:{version}", "review.ask_header"))
add("rv:reopen", Action.REOPEN, _report_shown("rv:reopen:{id}", "review.reopen_header",
                                              ReportState.ACKNOWLEDGED))
add("my:open", Action.OWN_REPORT, _report_shown("my:open:{id}", "my.detail_title"))
add("my:keep", Action.OWN_REPORT, _report_shown("my:keep:{id}", "my.detail_title"))
add("my:withdraw", Action.OWN_REPORT, _report_shown("my:withdraw:{id}", "my.withdraw_confirm"))
add("my:withdraw_yes", Action.OWN_REPORT, _report_becomes("my:withdraw_yes:{id}",
                                                          ReportState.WITHDRAWN))


@trigger("rv:star", Action.HIGHLIGHT)
async def _highlight(world: World) -> bool:
    _, report = await _press_on_report("rv:star:{id}")(world)
    async with world.bot.db.transaction() as tx:
        return await reviews.is_highlighted(tx, report.id)


@trigger("my:edit", Action.OWN_REPORT)
async def _correct_own_report(world: World) -> bool:
    _, report = await _press_on_report("my:edit:{id}")(world)
    draft = await draft_of(world)
    return draft is not None and draft.form == "report" and (
        draft.state.get("target") == report.id)


@trigger("rv:all", Action.ACKNOWLEDGE, listing=True)
async def _acknowledge_seen(world: World) -> bool:
    """"Ghi nhận tất cả": the reports recorded as shown to the actor in their pass (kept by the
    bot, not carried in the button), each checked again; those out of reach are skipped."""
    report = await report_by(world)
    pass_id = 0
    if world.actor_person:
        now = world.bot.clock.now()
        async with world.bot.db.transaction() as tx:
            pass_id = await reviews.start_pass(tx, world.actor_person, now)
            await reviews.mark_seen(tx, pass_id, report.id, fingerprint(report), now)
    await forge(world, f"rv:all:{pass_id}")
    return await state_of(world, report.id) is ReportState.ACKNOWLEDGED


def _own_reports(what: str) -> Probe:
    """One's own list of reports: nobody else's report is ever in it."""
    async def run(world: World) -> bool:
        await report_by(world)
        return DEED in (await act(world, what)).text
    return run


add("/my", Action.OWN_REPORT, _own_reports("/my"), listing=True)
add("my:page", Action.OWN_REPORT, _own_reports("my:page:0"), listing=True)


# --- invites and joins --------------------------------------------------------------------------


def _invite_units(what: str) -> Probe:
    """The picker of units to invite into, offering the target's."""
    async def run(world: World) -> bool:
        name = await unit_name(world, world.unit)
        seen = await act(world, what)
        return name in {label.removeprefix("↳ ") for label, _ in offered(seen)}
    return run


add("/invite", Action.INVITE_MEMBER, _invite_units("/invite"), listing=True)
add("iv:units", Action.INVITE_MEMBER, _invite_units("iv:units:0"), listing=True)


@trigger("iv:unit", Action.INVITE_MEMBER)
async def _invite_kinds(world: World) -> bool:
    seen = await forge(world, f"iv:unit:{world.unit}")
    return shows(seen, "invite.pick_kind") and await unit_name(world, world.unit) in seen.text


# The kinds of invite, each its own button: (the uses picker, the invite made, its role).
INVITE_KINDS = {"iv:km": ("iv:mm", Role.MEMBER, Action.INVITE_MEMBER),
                "iv:kl": ("iv:ml", Role.LEADER, Action.INVITE_LEADER),
                "iv:ko": ("iv:mo", Role.OBSERVER, Action.INVITE_LEADER)}


def _invite_uses(prefix: str) -> Probe:
    """For one person or many: asked once the kind is allowed."""
    async def run(world: World) -> bool:
        seen = await forge(world, f"{prefix}:{world.unit}")
        return shows(seen, "invite.pick_uses") and (
            await unit_name(world, world.unit) in seen.text)
    return run


def _invite_made(prefix: str, role: Role) -> Probe:
    async def run(world: World) -> bool:
        await forge(world, f"{prefix}:{world.unit}:1")
        async with world.bot.db.transaction() as tx:
            row = await tx.one("SELECT COUNT(*) AS n FROM invites WHERE unit_id = ?"
                               " AND role = ?", (world.unit, role.value))
        return row is not None and row["n"] == 1
    return run


LEADERS_BELOW = (Who.LEADER, Relation.CHILD), (Who.LEADER, Relation.SAME)
for _kind, (_make, _role, _action) in INVITE_KINDS.items():
    _cases = LEADERS_BELOW if _action is Action.INVITE_LEADER else None
    add(_kind, _action, _invite_uses(_kind), cases=_cases)
    add(_make, _action, _invite_made(_make, _role), cases=_cases)


async def invite_in(world: World) -> Invite:
    """A live invite into the target's unit."""
    code = await world.bot.invite(world.unit)
    async with world.bot.db.transaction() as tx:
        invite = await invites.invite_by_code(tx, code)
    assert invite is not None
    return invite


@trigger("iv:home", Action.REVOKE_INVITE, listing=True)
async def _live_invites(world: World) -> bool:
    await invite_in(world)
    seen = await forge(world, "iv:home")
    return shows(seen, "invite.line") and await unit_name(world, world.unit) in seen.text


@trigger("iv:rv", Action.REVOKE_INVITE)
async def _ask_to_revoke(world: World) -> bool:
    return shows(await forge(world, f"iv:rv:{(await invite_in(world)).id}"),
                 "invite.revoke_confirm")


@trigger("iv:rvy", Action.REVOKE_INVITE)
async def _revoke_invite(world: World) -> bool:
    invite = await invite_in(world)
    await forge(world, f"iv:rvy:{invite.id}")
    async with world.bot.db.transaction() as tx:
        after = await invites.get_invite(tx, invite.id)
    return after is not None and after.revoked


def _decide_join(verb: str, status: str) -> Probe:
    """A join into the target's unit waiting for approval, approved or rejected."""
    async def run(world: World) -> bool:
        bot = world.bot
        async with bot.db.transaction() as tx:
            newcomer = await people.add_person(tx, NEWCOMER, "Nông Văn Bình", "vi",
                                               bot.clock.now())
            membership = await people.add_membership(tx, newcomer.id, world.unit, Role.MEMBER,
                                                     None, bot.clock.now())
            await tx.run("UPDATE memberships SET status = 'pending' WHERE id = ?",
                         (membership.id,))
        await forge(world, f"jr:{verb}:{membership.id}")
        async with bot.db.transaction() as tx:
            row = await tx.one("SELECT status FROM memberships WHERE id = ?", (membership.id,))
        return row is not None and row["status"] == status
    return run


add("jr:ok", Action.APPROVE_JOIN, _decide_join("ok", "active"))
add("jr:no", Action.APPROVE_JOIN, _decide_join("no", "removed"))


# --- members ------------------------------------------------------------------------------------


async def membership_of(world: World) -> int:
    """The target: the owner's first live row in the target's unit."""
    async with world.bot.db.transaction() as tx:
        row = await tx.one("SELECT id FROM memberships WHERE person_id = ? AND unit_id = ?"
                           " AND status = 'active' ORDER BY id", (world.owner_person, world.unit))
    assert row is not None
    return int(row["id"])


async def live_rows(world: World, unit_id: int, role: Role) -> int:
    async with world.bot.db.transaction() as tx:
        row = await tx.one("SELECT COUNT(*) AS n FROM memberships WHERE person_id = ?"
                           " AND unit_id = ? AND role = ? AND status = 'active'",
                           (world.owner_person, unit_id, role.value))
    return int(row["n"]) if row else 0


async def not_the_last_leader(world: World) -> None:
    """Another leader beside the actor, who may then step down without leaving the unit
    leaderless."""
    if world.relation is Relation.OWN:
        await _person(world.bot, SECOND_LEADER, "Lý Thị Hạnh", world.unit, Role.LEADER)


def _unit_list(name: str) -> Callable[[Seen], bool]:
    return lambda seen: shows(seen, "members.header") and name in seen.text


def _members_list(what: str) -> Probe:
    """The target unit's list, found from the first screen by opening units."""
    async def run(world: World) -> bool:
        listed = _unit_list(await unit_name(world, world.unit))
        seen = await act(world, what)
        return await browse(world, seen, listed, ("mb:l:", "mb:c:", "mb:t:"))
    return run


add("/members", Action.MEMBERS, _members_list("/members"), listing=True)
add("mb:t", Action.MEMBERS, _members_list("mb:t:0"), listing=True)


@trigger("mb:l", Action.MEMBERS)
async def _members(world: World) -> bool:
    seen = await forge(world, f"mb:l:{world.unit}:0")
    return _unit_list(await unit_name(world, world.unit))(seen)


@trigger("mb:c", Action.MEMBERS)
async def _units_below(world: World) -> bool:
    seen = await forge(world, f"mb:c:{world.unit}:0")
    return shows(seen, "members.units_below_title", unit=await unit_name(world, world.unit))


@trigger("mb:o", Action.MEMBERS)
async def _member_card(world: World) -> bool:
    """A person's card is a line of the unit's list (checked without the person): one's own
    card is SAME, not OWN."""
    seen = await forge(world, f"mb:o:{await membership_of(world)}")
    return shows(seen, "members.card_title", name=world.owner_name)


def _excusing(verb: str, excused_before: bool) -> Probe:
    async def run(world: World) -> bool:
        membership = await membership_of(world)
        async with world.bot.db.transaction() as tx:
            await tx.run("UPDATE memberships SET excused = ? WHERE id = ?",
                         (int(excused_before), membership))
        await forge(world, f"mb:{verb}:{membership}")
        async with world.bot.db.transaction() as tx:
            row = await tx.one("SELECT excused FROM memberships WHERE id = ?", (membership,))
        return row is not None and bool(row["excused"]) != excused_before
    return run


add("mb:x", Action.EXCUSE, _excusing("x", False))
add("mb:ux", Action.EXCUSE, _excusing("ux", True))


@trigger("mb:mv", Action.MOVE)
async def _move_where(world: World) -> bool:
    seen = await forge(world, f"mb:mv:{await membership_of(world)}:0")
    return shows(seen, "members.choose_target") and world.owner_name in seen.text


@trigger("mb:mt", Action.MOVE)
async def _move(world: World) -> bool:
    home = anchor(world.tree, world.who)
    below = world.tree.cell if home == world.tree.commune else world.tree.group
    destination = home if world.unit != home else below
    await forge(world, f"mb:mt:{await membership_of(world)}:{destination}")
    return await live_rows(world, destination, Role.MEMBER) == 1


@trigger("mb:r", Action.SET_ROLE)
async def _which_title(world: World) -> bool:
    seen = await forge(world, f"mb:r:{await membership_of(world)}")
    return shows(seen, "members.choose_title") and world.owner_name in seen.text


@trigger("mb:rt", Action.SET_ROLE)
async def _set_role(world: World) -> bool:
    before = await live_rows(world, world.unit, Role.LEADER)
    await forge(world, f"mb:rt:{await membership_of(world)}:0")
    return await live_rows(world, world.unit, Role.LEADER) == before + 1


def _take_role(prefix: str) -> Probe:
    """"Thôi vai trò cấp ủy" on a leader's card: someone else's (mb:re, as SET_ROLE), or one's
    own, stepping down (mb:sd, as REMOVE)."""
    async def run(world: World) -> bool:
        if world.relation is Relation.OWN:
            await not_the_last_leader(world)
        else:
            async with world.bot.db.transaction() as tx:
                await people.add_membership(tx, world.owner_person, world.unit, Role.LEADER,
                                            None, world.bot.clock.now())
        before = await live_rows(world, world.unit, Role.LEADER)
        await forge(world, f"{prefix}:{await membership_of(world)}")
        return await live_rows(world, world.unit, Role.LEADER) < before
    return run


add("mb:re", Action.SET_ROLE, _take_role("mb:re"))
# Stepping down is one's own: on anyone else's card, even in one's own unit, it is refused.
add("mb:sd", Action.REMOVE, _take_role("mb:sd"),
    cases=((Who.LEADER, Relation.OWN), (Who.LEADER, Relation.SAME)))


@trigger("mb:rm", Action.REMOVE)
async def _ask_to_remove(world: World) -> bool:
    await not_the_last_leader(world)
    seen = await forge(world, f"mb:rm:{await membership_of(world)}")
    return shows(seen, "members.remove_confirm") or shows(seen, "members.leave_confirm")


@trigger("mb:ry", Action.REMOVE)
async def _remove(world: World) -> bool:
    await not_the_last_leader(world)
    membership = await membership_of(world)
    await forge(world, f"mb:ry:{membership}")
    async with world.bot.db.transaction() as tx:
        row = await tx.one("SELECT status FROM memberships WHERE id = ?", (membership,))
    return row is not None and row["status"] == "removed"


# --- models -------------------------------------------------------------------------------------


MODEL = "Dân vận khéo xây dựng nông thôn mới"


def _models_listed(what: str) -> Probe:
    async def run(world: World) -> bool:
        await world.bot.model(world.unit, MODEL)
        return MODEL in (await act(world, what)).text
    return run


add("/model", Action.MODEL_LIST, _models_listed("/model"), listing=True)
add("md:page", Action.MODEL_LIST, _models_listed("md:page:0"), listing=True)


def _model_card(verb: str, year: str = "") -> Probe:
    async def run(world: World) -> bool:
        model = await world.bot.model(world.unit, MODEL)
        seen = await forge(world, f"md:{verb}:{model}{year}")
        return shows(seen, "model.card_title", name=MODEL)
    return run


add("md:open", Action.MODEL_LIST, _model_card("open"))
add("md:year", Action.MODEL_LIST, _model_card("year", ":2025"))


@trigger("md:add", Action.MODEL_ADD, listing=True)
async def _model_add(world: World) -> bool:
    seen = await forge(world, "md:add")
    if not shows(seen, "form.model.name.prompt"):
        return False
    await world.bot.say(ACTOR, "Tiết kiệm theo gương Bác")
    await world.bot.tap(ACTOR, "Kinh tế")
    return await unit_name(world, world.unit) in world.bot.buttons(ACTOR)


async def model_year(world: World, model: int) -> dict | None:
    async with world.bot.db.transaction() as tx:
        row = await tx.one("SELECT status, mark FROM model_years WHERE model_id = ?"
                           " AND year = 2026", (model,))
    return dict(row) if row else None


@trigger("md:st", Action.MODEL_STATUS)
async def _model_status(world: World) -> bool:
    model = await world.bot.model(world.unit, "Ngày Chủ nhật xanh")
    await forge(world, f"md:st:{model}:2026:s")
    return (await model_year(world, model) or {}).get("status") == "stopped"


@trigger("md:mk", Action.MODEL_MARK)
async def _model_mark(world: World) -> bool:
    model = await world.bot.model(world.unit, "Ngày Chủ nhật xanh")
    await forge(world, f"md:mk:{model}:2026:e")
    return (await model_year(world, model) or {}).get("mark") == "exemplary"


# --- a unit's group chat ------------------------------------------------------------------------


async def group_with_bot(world: World) -> None:
    """The group chat, with the bot just added to it (it says how to link it)."""
    bot = world.bot
    bot.fake.add_group(GROUP_CHAT, "Chi bộ Thôn Bản Chặng")
    mark = len(bot.fake.calls)
    await bot.after(bot.fake.add_bot_to_group(GROUP_CHAT, ACTOR), mark)


async def in_group(world: World, what: str) -> Seen:
    """A command sent in the group, or a press with this data on the bot's latest message
    there."""
    bot = world.bot
    mark = len(bot.fake.calls)
    if what.startswith("/"):
        return await bot.after(bot.fake.send_text(ACTOR, what, chat_id=GROUP_CHAT), mark)
    last = bot.fake.last_message(GROUP_CHAT)
    assert last is not None
    return await bot.after(bot.fake.press(ACTOR, last["message_id"], what, chat_id=GROUP_CHAT,
                                          check_button=False), mark)


async def linked_unit(world: World) -> int | None:
    async with world.bot.db.transaction() as tx:
        linked = await groups.unit_of_group(tx, GROUP_CHAT)
    return linked.id if linked is not None else None


def _link_offered(what: str) -> Probe:
    """The target's unit linked at once, or offered in the picker."""
    async def run(world: World) -> bool:
        await group_with_bot(world)
        seen = await in_group(world, what)
        name = await unit_name(world, world.unit)
        return await linked_unit(world) == world.unit or any(
            label == name for label, _ in offered(seen))
    return run


add("/link", Action.LINK_GROUP, _link_offered("/link"), listing=True)
add("gl:p", Action.LINK_GROUP, _link_offered("gl:p:0"), listing=True)


@trigger("gl:u", Action.LINK_GROUP)
async def _link_group(world: World) -> bool:
    await group_with_bot(world)
    await in_group(world, f"gl:u:{world.unit}")
    return await linked_unit(world) == world.unit


@trigger("gl:x", Action.LINK_GROUP)
async def _cancel_link(world: World) -> bool:
    """✖ Hủy under the /link picker: only someone who could link any unit closes it."""
    await group_with_bot(world)
    return shows(await in_group(world, "gl:x:0"), "groups.cancelled")


@trigger("/unlink", Action.LINK_GROUP)
async def _unlink_group(world: World) -> bool:
    await group_with_bot(world)
    async with world.bot.db.transaction() as tx:
        await groups.link(tx, world.unit, GROUP_CHAT)
    await in_group(world, "/unlink")
    return await linked_unit(world) is None


# --- reporting on behalf ------------------------------------------------------------------------


def _behalf_candidates(what: str) -> Probe:
    """The member picker, offering the target's owner (never oneself)."""
    async def run(world: World) -> bool:
        return labelled(await act(world, what), world.owner_name)
    return run


add("/behalf", Action.REPORT_ON_BEHALF, _behalf_candidates("/behalf"), listing=True)
add("ob:page", Action.REPORT_ON_BEHALF, _behalf_candidates("ob:page:0"), listing=True)


@trigger("ob:for", Action.REPORT_ON_BEHALF)
async def _report_on_behalf(world: World) -> bool:
    seen = await forge(world, f"ob:for:{world.owner_person}")
    return shows(seen, "behalf.report_header") and world.owner_name in seen.text


@trigger("ob:new", Action.REPORT_ON_BEHALF, listing=True)
async def _behalf_units(world: World) -> bool:
    """➕ a member without Telegram: the units to add them to (or the only one, asked at once)."""
    name = await unit_name(world, world.unit)
    seen = await forge(world, "ob:new:0")
    return (shows(seen, "behalf.new_member_header", unit=name)
            or any(label == name for label, _ in offered(seen)))


@trigger("ob:unit", Action.REPORT_ON_BEHALF)
async def _behalf_new_member(world: World) -> bool:
    seen = await forge(world, f"ob:unit:{world.unit}")
    return shows(seen, "behalf.new_member_header", unit=await unit_name(world, world.unit))


# --- digests --------------------------------------------------------------------------------------


def _digest_of(name: str) -> Callable[[Seen], bool]:
    """This week's digest of the unit (27/11/2026 is in week 48)."""
    return lambda seen: shows(seen, "digest.title_week", week=48, unit=name,
                              dates=period_span(dt.date(2026, 11, 23), dt.date(2026, 11, 29)))


def _digest_found(what: str) -> Probe:
    """The target unit's digest, found from the first screen by opening units."""
    async def run(world: World) -> bool:
        found = _digest_of(await unit_name(world, world.unit))
        return await browse(world, await act(world, what), found, ("dg:u:", "dg:pick"))
    return run


add("/digest", Action.DIGEST, _digest_found("/digest"), listing=True)
add("dg:pick", Action.DIGEST, _digest_found("dg:pick:0"), listing=True)


@trigger("dg:u", Action.DIGEST)
async def _digest_of_unit(world: World) -> bool:
    seen = await forge(world, f"dg:u:{world.unit}")
    return _digest_of(await unit_name(world, world.unit))(seen)


@trigger("dg:c", Action.DIGEST)
async def _digest_chart(world: World) -> bool:
    """📊 Xem biểu đồ of the target unit's week 48, which has a report: its chart alone."""
    await report_by(world)
    week = dt.date(2026, 11, 23).toordinal()
    seen = await forge(world, f"dg:c:{world.unit}:week:{week}")
    return seen.methods() == ["sendPhoto"]


# --- exports --------------------------------------------------------------------------------------


def _export_screen(key: str, what: str, made: str) -> Probe:
    """The target unit's export screen (`key`), found from the first screen by opening units."""
    async def run(world: World) -> bool:
        name = await unit_name(world, world.unit)
        return await browse(world, await act(world, what), lambda s: shows(s, key, unit=name),
                            (f"ex:u:{made}:", f"ex:o:{made}"))
    return run


add("/export", Action.EXPORT, _export_screen("export.title", "/export", "s"), listing=True)
add("/report_doc", Action.EXPORT, _export_screen("export.title_word", "/report_doc", "w"),
    listing=True)
add("ex:o", Action.EXPORT, _export_screen("export.title", "ex:o:s", "s"), listing=True)


@trigger("ex:u", Action.EXPORT)
async def _export_unit(world: World) -> bool:
    seen = await forge(world, f"ex:u:s:{world.unit}:0")
    return shows(seen, "export.title", unit=await unit_name(world, world.unit))


@trigger("ex:k", Action.EXPORT)
async def _export_period(world: World) -> bool:
    return shows(await forge(world, f"ex:k:s:{world.unit}:q"), "export.period_named")


@trigger("ex:r", Action.EXPORT)
async def _export_typed_days(world: World) -> bool:
    await forge(world, f"ex:r:s:{world.unit}")
    draft = await draft_of(world)
    return draft is not None and draft.form == "export_period"


@trigger("ex:m", Action.EXPORT)
async def _export_made(world: World) -> bool:
    await forge(world, f"ex:m:xlsx:{world.unit}:20261001:20261231")
    return any(call.chat_id == ACTOR for call in world.bot.fake.calls_to("sendDocument"))


# --- schedules ------------------------------------------------------------------------------------


async def _schedule_rows(world: World) -> dict[str, int]:
    """The target unit's schedule rows by kind, a custom reminder among them."""
    bot = world.bot
    async with bot.db.transaction() as tx:
        await ensure_standard(tx, bot.core.services.settings, bot.clock.now())
        await schedules.add(tx, NewSchedule(unit_id=world.unit, kind=ScheduleKind.CUSTOM,
                                            weekday=5, at=dt.time(6, 30),
                                            text="Ngày thứ 7 đi cơ sở"), bot.clock.now())
        return {r.kind.value: r.id for r in await schedules.of_unit(tx, world.unit)}


async def _schedule_row(world: World, row_id: int) -> Schedule | None:
    async with world.bot.db.transaction() as tx:
        return await schedules.get(tx, row_id)


def _schedule_listed(what: str) -> Probe:
    async def run(world: World) -> bool:
        name = await unit_name(world, world.unit)
        seen = await act(world, what)
        return await browse(world, seen, lambda s: shows(s, "schedule.title", unit=name),
                            ("sc:v:", "sc:pg:"))
    return run


add("/schedule", Action.SCHEDULE, _schedule_listed("/schedule"), listing=True)
add("sc:pg", Action.SCHEDULE, _schedule_listed("sc:pg:0"), listing=True)


@trigger("sc:v", Action.SCHEDULE)
async def _schedule_of_unit(world: World) -> bool:
    seen = await forge(world, f"sc:v:{world.unit}")
    return shows(seen, "schedule.title", unit=await unit_name(world, world.unit))


@trigger("sc:add", Action.SCHEDULE)
async def _custom_reminder_form(world: World) -> bool:
    await forge(world, f"sc:add:{world.unit}")
    draft = await draft_of(world)
    return draft is not None and draft.form == "schedule_reminder"


def _schedule_change(kind: str, data: str, changed: Callable[[Schedule | None], bool],
                     **before: object) -> Probe:
    """A press on one of the target unit's rows (`data` with {id}; the row first set as
    `before`), seen in the database."""
    async def run(world: World) -> bool:
        row_id = (await _schedule_rows(world))[kind]
        if before:
            async with world.bot.db.transaction() as tx:
                row = await schedules.get(tx, row_id)
                assert row is not None
                values = row.model_dump(exclude={"id", "updated_at"}) | before
                await schedules.replace(tx, row_id, NewSchedule(**values),
                                        world.bot.clock.now())
        await forge(world, data.format(id=row_id))
        return changed(await _schedule_row(world, row_id))
    return run


def _schedule_picker(kind: str, verb: str, offers: str) -> Probe:
    """A press that offers choices for one row: buttons `offers` + the row's id."""
    async def run(world: World) -> bool:
        row_id = (await _schedule_rows(world))[kind]
        seen = await forge(world, f"sc:{verb}:{row_id}")
        return any(data.startswith(f"sc:{offers}:{row_id}") for _, data in offered(seen))
    return run


add("sc:off", Action.SCHEDULE, _schedule_change(
    "digest", "sc:off:{id}", lambda r: r is not None and not r.enabled))
add("sc:on", Action.SCHEDULE, _schedule_change(
    "reminder", "sc:on:{id}", lambda r: r is not None and r.enabled, enabled=False))
add("sc:em", Action.SCHEDULE, _schedule_change(
    "digest", "sc:em:{id}", lambda r: r is not None and r.every is Every.MONTH))
add("sc:ew", Action.SCHEDULE, _schedule_change(
    "digest", "sc:ew:{id}", lambda r: r is not None and r.every is Every.WEEK,
    every=Every.MONTH, weekday=None, month_day=1))
add("sc:d", Action.SCHEDULE, _schedule_change(
    "reminder", "sc:d:{id}:3", lambda r: r is not None and r.weekday == 3))
add("sc:t", Action.SCHEDULE, _schedule_change(
    "reminder", "sc:t:{id}:1730", lambda r: r is not None and r.at == dt.time(17, 30)))
add("sc:rmy", Action.SCHEDULE, _schedule_change("custom", "sc:rmy:{id}", lambda r: r is None))
add("sc:dp", Action.SCHEDULE, _schedule_picker("digest", "dp", "d"))
add("sc:tp", Action.SCHEDULE, _schedule_picker("digest", "tp", "t"))
add("sc:rm", Action.SCHEDULE, _schedule_picker("custom", "rm", "rmy"))


# --- announcements --------------------------------------------------------------------------------


@trigger("/announce", Action.ANNOUNCE, listing=True)
async def _announce_form(world: World) -> bool:
    """/announce opens the form for the units in reach: the target's or one above it."""
    await world.bot.say(ACTOR, "/announce")
    draft = await draft_of(world)
    if draft is None or draft.form != "announcement":
        return False
    async with world.bot.db.transaction() as tx:
        actor = await actor_for(tx, world.bot.core.services.settings.admins, ACTOR)
        reach = await units_in_reach(tx, actor, Action.ANNOUNCE)
    return world.unit in {u.id for u in reach}


@trigger("an:go", Action.ANNOUNCE)
async def _announce_sent(world: World) -> bool:
    """✅ Gửi on a finished announcement to the target unit (a draft naming it, as if chosen)."""
    bot = world.bot
    state = DraftState(step=SUMMARY, answers={"unit_id": world.unit, "text": "Họp chi bộ.",
                                              "whole_subtree": False})
    async with bot.db.transaction() as tx:
        draft = await drafts.start_draft(tx, ACTOR, "announcement", state.model_dump(), 0,
                                         bot.clock.now())
    await forge(world, f"an:go:{draft.id}")
    async with bot.db.transaction() as tx:
        return bool(await deliveries.in_ledger(tx, "announcement"))


# --- member import ------------------------------------------------------------------------------


@trigger("/import", Action.IMPORT_MEMBERS, listing=True)
async def _import_intro(world: World) -> bool:
    """/import names the units a file may name: the target's among them."""
    return await unit_name(world, world.unit) in (await act(world, "/import")).text


async def import_waiting(world: World, owner: int) -> int:
    """An import of `owner`'s, its preview shown: one member for the target unit."""
    row = {"line": 2, "name": "Nông Văn Tư", "unit_id": world.unit, "role": "member"}
    async with world.bot.db.transaction() as tx:
        session = await member_import.begin(tx, owner, world.bot.clock.now())
        await member_import.previewed(tx, session.id, "ds.csv", [row], world.bot.clock.now())
    return session.id


@trigger("mi:go", Action.IMPORT_MEMBERS)
async def _import_confirmed(world: World) -> bool:
    """✅ Nhập under one's own preview of a file naming the target unit."""
    await forge(world, f"mi:go:{await import_waiting(world, ACTOR)}")
    async with world.bot.db.transaction() as tx:
        known = await member_import.known_in(tx, [world.unit])
    return any(person.full_name == "Nông Văn Tư" for person in known)


@trigger("mi:no", Action.ANSWER_FORM, quiet=True)
async def _import_dropped(world: World) -> bool:
    """✖ Hủy under an import's preview: one's own, whatever one leads now; someone else's is
    only "over"."""
    session_id = await import_waiting(world, world.owner)
    await forge(world, f"mi:no:{session_id}")
    async with world.bot.db.transaction() as tx:
        session = await member_import.get_session(tx, session_id)
    return session is not None and session.status is member_import.Status.CANCELLED


# --- one's own: forms, language, settings --------------------------------------------------------


async def draft_for(world: World, form: str, state: DraftState) -> Draft:
    """A form of the target's owner under way (the actor's own, or someone else's)."""
    async with world.bot.db.transaction() as tx:
        return await drafts.start_draft(tx, world.owner, form, state.model_dump(), 0,
                                        world.bot.clock.now())


async def draft_gone(world: World, draft: Draft) -> bool:
    async with world.bot.db.transaction() as tx:
        return await drafts.draft_of(tx, world.owner) is None


@trigger("f", Action.ANSWER_FORM, quiet=True)
async def _answer_form(world: World) -> bool:
    """✖ Hủy on a form's step: anyone's own form, even someone's joining ("join" asks
    nothing of who fills it in); another person's draft is only "over"."""
    draft = await draft_for(world, "join", DraftState(step="full_name"))
    await forge(world, f"f:{draft.id}:0:cancel:")
    return await draft_gone(world, draft)


@trigger("an:no", Action.ANSWER_FORM, quiet=True)
async def _announcement_dropped(world: World) -> bool:
    """✖ Hủy under an announcement's preview: one's own draft, whatever one leads now."""
    draft = await draft_for(world, "announcement", DraftState(
        step=SUMMARY, answers={"unit_id": world.unit, "text": "Họp chi bộ."}))
    await forge(world, f"an:no:{draft.id}")
    return await draft_gone(world, draft)


@trigger("an:ed", Action.ANNOUNCE)
async def _announcement_edited(world: World) -> bool:
    """✏ Sửa under the preview of an announcement to the target unit: its answers again."""
    state = DraftState(step=SUMMARY, answers={"unit_id": world.unit, "text": "Họp chi bộ.",
                                              "whole_subtree": False})
    async with world.bot.db.transaction() as tx:
        draft = await drafts.start_draft(tx, ACTOR, "announcement", state.model_dump(), 0,
                                         world.bot.clock.now())
    return shows(await forge(world, f"an:ed:{draft.id}"), "form.announcement.summary_title")


@trigger("lang", Action.CHOOSE_LANGUAGE)
async def _language(world: World) -> bool:
    await forge(world, "lang:en")
    async with world.bot.db.transaction() as tx:
        person = await people.person_by_telegram_id(tx, ACTOR)
    return person is not None and person.lang == "en"


@trigger("ns", Action.NUDGE_SETTINGS)
async def _nudges_off(world: World) -> bool:
    await forge(world, "ns:off")
    async with world.bot.db.transaction() as tx:
        person = await people.person_by_telegram_id(tx, ACTOR)
        return person is not None and not await settings.nudges_enabled(tx, person.id)


@trigger("rn", Action.NUDGE_SETTINGS)
async def _review_notices_off(world: World) -> bool:
    """The switch of a leader's daily review notice: anyone's own, like the nudges'."""
    await forge(world, "rn:off")
    async with world.bot.db.transaction() as tx:
        person = await people.person_by_telegram_id(tx, ACTOR)
        return person is not None and not await settings.enabled(
            tx, person.id, settings.Switch.REVIEW_NOTICES)


@trigger("nd:report", Action.REPORT, listing=True)
async def _report_from_a_nudge(world: World) -> bool:
    """📝 Báo cáo ngay under a nudge: the report form, for whoever reports somewhere (anyone
    else is told, as /report tells them, without a refusal logged)."""
    await forge(world, "nd:report")
    draft = await draft_of(world)
    return draft is not None and draft.form == "report"


# --- the matrix --------------------------------------------------------------------------------


def test_every_action_has_a_probe() -> None:
    assert {spec.action for spec in TRIGGERS.values()} == set(Action)


def test_every_kind_of_button_has_an_action_and_a_trigger_checked_as_it() -> None:
    for kind in buttons.declared():
        assert isinstance(kind.action, Action), f"{kind.__name__} needs its Action"
        assert kind.prefix in TRIGGERS, f"{kind.prefix} ({kind.__name__}) has no trigger"
        assert TRIGGERS[kind.prefix].action is kind.action, kind.prefix
    named = {name for name in TRIGGERS if not name.startswith("/")}
    assert named == {kind.prefix for kind in buttons.declared()}, "a trigger of no button"


# Commands that check no action: /start (joining, or a greeting), /help, /report (the form
# says who may report), /cancel and /lang (one's own), /settings (shown to whoever asks).
UNCHECKED_COMMANDS = {"start", "help", "report", "cancel", "lang", "settings"}


async def test_every_command_has_a_trigger(tmp_path: Path) -> None:
    """The commands the bot answers, read off its handlers (it need not run for that)."""
    settings_ = Settings(database=tmp_path / "lantoa.sqlite3")
    db = await migrated_database(settings_.database)
    try:
        core = Core.build(Services(settings_, db, Catalogue.load(), FixedClock(FRIDAY_MORNING)))
        app = build_application(core, TOKEN, request=FakeRequest(FakeTelegram()))
    finally:
        await db.close()
    commands = {command for handlers in app.handlers.values() for handler in handlers
                if isinstance(handler, CommandHandler) for command in handler.commands}
    probed = {name[1:].split(":")[0] for name in TRIGGERS if name.startswith("/")}
    assert commands - UNCHECKED_COMMANDS == probed


def matrix() -> list[tuple[str, bool, Who, Relation]]:
    return [(name, allowed, *case) for name, spec in TRIGGERS.items()
            for allowed, case in ((True, spec.allowed), (False, spec.refused))]


CASE_LIST = matrix()


@pytest.mark.parametrize(("name", "allowed", "who", "relation"), CASE_LIST,
                         ids=[f"{n}-{'allowed' if a else 'refused'}-{w.value}-{r.value}"
                              for n, a, w, r in CASE_LIST])
async def test_permission(tmp_path: Path, name: str, allowed: bool, who: Who,
                          relation: Relation) -> None:
    spec = TRIGGERS[name]
    async with started(tmp_path, admins=[ADMIN_ID if who is not Who.ADMIN else ACTOR]) as bot:
        world = await build_world(bot, who, relation)
        mark = len(bot.fake.calls)
        took_effect = await spec.run(world)
        refused = world.refused(mark)
        async with bot.db.transaction() as tx:
            logged = [e for e in await audit.entries(tx, "refused")
                      if e["subject"] == spec.action]
    assert took_effect == allowed, f"expected {'allowed' if allowed else 'refused'}"
    if allowed:
        assert not refused, "allowed, yet a refusal was said"
    elif not (spec.listing or spec.quiet):
        assert refused, "a refusal must be said politely"
        if who is not Who.STRANGER:
            assert logged, "a refused attempt is logged"
