"""The permissions matrix: every command and every button verb × every role × every relation of
the target to the actor, run through the real bot. Each trigger names the action of
bot/access.RULES it is checked as, and the expected answer comes from RULES alone, so the table
in the code is the spec; each probe does what a person would (a command, or a button press with
data naming the target, forged where the person was never shown the button) and reads back
what they saw and what the database holds.

Verbs that only page or open what is in one's own reach are listing probes (the target is in
the list, or is left out): rv:first, rv:next, rv:done, rv:all, mb:t, iv:home, iv:units, md:page,
md:add, my:page, ob:page, ob:new, st:pick, gl:p, cm:form and the commands but /unlink.

Left out, as they name no target: `gl:x` (cancelling the /link picker says "cancelled" and
nothing else), the `f:` buttons of one's own draft form and `lang:` (one's own language), and the
commands that check no action (/start, /help, /report, /cancel, /lang; /link and /unlink in a
private chat only explain where to send them). The main-menu buttons open the same use cases as
the commands probed here.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pytest
from telegram.ext import CallbackQueryHandler

from bot.flows.reviews import fingerprint
from bot.forms.engine import SUMMARY, DraftState
from bot.rules.access import RULES, Action, Relation, actor_for, units_in_reach
from bot.rules.schedules import ensure_standard
from storage import (
    audit,
    commitments,
    deliveries,
    drafts,
    groups,
    invites,
    people,
    reports,
    reviews,
    schedules,
    units,
)
from storage.entities import Draft, Invite, Report, ReportContent, ReportState, Role
from storage.schedules import Every, NewSchedule, Schedule, ScheduleKind
from tests.harness import Harness, Seen, Tree, started


class Who(StrEnum):
    STRANGER = "stranger"
    MEMBER = "member"  # of the cell
    LEADER = "leader"  # of the cell
    HIGHER_LEADER = "higher_leader"  # of the commune above the cell
    OBSERVER = "observer"  # of the commune
    ADMIN = "admin"  # in config.toml, holding no role in any unit


ROLE_OF = {Who.MEMBER: Role.MEMBER, Who.LEADER: Role.LEADER,
           Who.HIGHER_LEADER: Role.LEADER, Who.OBSERVER: Role.OBSERVER}
ACTOR, OTHER, ADMIN_ID, NEWCOMER, SECOND_LEADER = 5001, 5002, 5003, 5004, 5005
ACTOR_NAME, OTHER_NAME = "Hoàng Văn Sơn", "Lăng Thị Hoa"
GROUP_CHAT = -100777
REFUSALS = ("thực hiện được", "xin đường link mời", "vai trò theo dõi")
DEED = "Sửa mái nhà dột cho hộ bà Lăng Thị Hoa"


def expected(action: Action, who: Who, relation: Relation) -> bool:
    rule = RULES[action]
    if who is Who.STRANGER:
        return False
    if who is Who.ADMIN:
        return rule.admin and relation is not Relation.OWN
    return relation in rule.reach(ROLE_OF[who])


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
    owner_person: int  # their person id
    owner_name: str
    actor_person: int  # 0 for a stranger

    async def refused(self, mark: int) -> bool:
        """A refusal reached the actor since call number `mark` (a message, in their chat or
        the group's, or a toast)."""
        for call in self.bot.fake.calls[mark:]:
            said = str(call.params.get("text") or "")
            if call.params.get("chat_id") in (ACTOR, GROUP_CHAT, None) and any(
                    r in said for r in REFUSALS):
                return True
        return False


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
ALL = frozenset(Relation)
OWN_ONLY = frozenset({Relation.OWN})
UNITS = ALL - OWN_ONLY  # a unit is nobody's own record


@dataclass(frozen=True)
class Trigger:
    """A command or a button verb, and the action it is checked as. `run` does it and says
    whether it took effect (or the target was shown). A `listing` shows what is in reach and
    simply leaves the rest out; any other trigger must answer a refusal in words and log it.
    `relations`: those a person can name at all. `own_record`: OWN names a record of one's own,
    which strangers and admins do not hold (False: the trigger asks for one's own unnamed)."""

    action: Action
    run: Probe
    listing: bool = False
    relations: frozenset[Relation] = ALL
    own_record: bool = True


TRIGGERS: dict[str, Trigger] = {}


def add(name: str, action: Action, run: Probe, listing: bool = False,
        relations: frozenset[Relation] = ALL, own_record: bool = True) -> Probe:
    assert name not in TRIGGERS, f"trigger {name} registered twice"
    TRIGGERS[name] = Trigger(action, run, listing, relations, own_record)
    return run


def trigger(name: str, action: Action, listing: bool = False,
            relations: frozenset[Relation] = ALL,
            own_record: bool = True) -> Callable[[Probe], Probe]:
    return lambda run: add(name, action, run, listing, relations, own_record)


def cases() -> list[tuple[str, Who, Relation]]:
    found = []
    for name, who, relation in itertools.product(TRIGGERS, Who, Relation):
        spec = TRIGGERS[name]
        if relation not in spec.relations:
            continue
        if relation is Relation.OWN and who in (Who.STRANGER, Who.ADMIN) and spec.own_record:
            continue  # they hold no record of their own
        found.append((name, who, relation))
    return found


def test_every_action_has_a_probe() -> None:
    assert {spec.action for spec in TRIGGERS.values()} == set(Action)


# Button prefixes that name no target: the steps of one's own draft form, one's own language,
# one's own nudge setting (ns) and the report form a nudge opens (nd, guarded as /report).
UNGUARDED_PREFIXES = {"f", "lang", "ns", "nd"}


async def test_every_button_prefix_has_a_trigger(tmp_path: Path) -> None:
    async with started(tmp_path) as bot:
        patterns = [handler.pattern for handlers in bot.app.handlers.values()
                    for handler in handlers
                    if isinstance(handler, CallbackQueryHandler) and handler.pattern is not None]
    prefixes = {getattr(p, "pattern", p).removeprefix("^").removesuffix(":") for p in patterns}
    probed = {name.split(":")[0] for name in TRIGGERS if not name.startswith("/")}
    assert prefixes >= UNGUARDED_PREFIXES
    assert prefixes - UNGUARDED_PREFIXES == probed


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


@trigger("st:me", Action.STATS_OWN, relations=OWN_ONLY, own_record=False)
async def _stats_own(world: World) -> bool:
    seen = await forge(world, "st:me:m")
    return "Việc làm theo Bác của đồng chí" in seen.text


@trigger("/stats:own", Action.STATS_OWN, listing=True, relations=OWN_ONLY, own_record=False)
async def _stats_own_from_command(world: World) -> bool:
    """/stats opens a unit's figures for those who see one; their own counts are a button."""
    seen = await world.bot.say(ACTOR, "/stats")
    return await browse(world, seen, lambda s: "Việc làm theo Bác của đồng chí" in s.text,
                        ("st:me:m",))


@trigger("st:u", Action.STATS_UNIT, relations=UNITS)
async def _stats_unit(world: World) -> bool:
    seen = await forge(world, f"st:u:m:{world.unit}")
    return f"📊 {await unit_name(world, world.unit)}" in seen.text


def _unit_figures(what: str) -> Probe:
    """The target unit's figures, found from the first screen by opening units."""
    async def run(world: World) -> bool:
        title = f"📊 {await unit_name(world, world.unit)}"
        seen = await act(world, what)
        return await browse(world, seen, lambda s: title in s.text, ("st:u:m:", "st:pick:m"))
    return run


add("/stats", Action.STATS_UNIT, _unit_figures("/stats"), listing=True, relations=UNITS)
add("st:pick", Action.STATS_UNIT, _unit_figures("st:pick:m"), listing=True, relations=UNITS)


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
    return "kiểm tra lại bản cam kết" in seen.text


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
        seen = await act(world, what)
        return "Cam kết năm 2026 của đồng chí" in seen.text
    return run


add("/commit:own", Action.COMMIT, _own_commitment("/commit"), listing=True)
add("cm:form", Action.COMMIT, _own_commitment("cm:form:0"), listing=True)


@trigger("/commit", Action.COMMIT_OVERVIEW, listing=True, relations=UNITS)
async def _commit_overview(world: World) -> bool:
    seen = await world.bot.say(ACTOR, "/commit")
    name = await unit_name(world, world.unit)
    return any(f"{name}: " in line and "đã đăng ký cam kết" in line
               for line in seen.text.splitlines())


@trigger("cm:remind", Action.COMMIT_REMIND, relations=UNITS)
async def _commit_remind(world: World) -> bool:
    seen = await forge(world, f"cm:remind:{world.unit}")
    return "Gửi lời nhắc đăng ký cam kết tới" in seen.text or "đều không nhận tin" in seen.text


@trigger("cm:remind_yes", Action.COMMIT_REMIND, relations=UNITS)
async def _commit_remind_yes(world: World) -> bool:
    await forge(world, f"cm:remind_yes:{world.unit}")
    async with world.bot.db.transaction() as tx:
        return await commitments.last_reminder(tx, world.unit, 2026) is not None


@trigger("cm:remind_no", Action.COMMIT_REMIND, relations=UNITS)
async def _commit_remind_no(world: World) -> bool:
    seen = await forge(world, f"cm:remind_no:{world.unit}")
    return "chưa gửi lời nhắc nào" in seen.text


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
        return f"Báo cáo chờ ghi nhận (1/1) — {world.owner_name}" in seen.text
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


def _report_shown(template: str, shows: str,
                  state: ReportState = ReportState.PENDING) -> Probe:
    """The press answers with `shows` (`{owner}`: the name of the report's author)."""
    press = _press_on_report(template, state)

    async def run(world: World) -> bool:
        seen, _ = await press(world)
        return shows.format(owner=world.owner_name) in seen.text
    return run


def _report_becomes(template: str, after: ReportState) -> Probe:
    press = _press_on_report(template)

    async def run(world: World) -> bool:
        _, report = await press(world)
        return await state_of(world, report.id) is after
    return run


add("rv:open", Action.REVIEW, _report_shown(
    "rv:open:{id}", "Báo cáo của đồng chí {owner}", ReportState.ACKNOWLEDGED))
add("rv:ack", Action.ACKNOWLEDGE, _report_becomes("rv:ack:{id}:{version}",
                                                  ReportState.ACKNOWLEDGED))
add("rv:ask", Action.ASK_MORE, _report_shown("rv:ask:{id}:{version}", "↩ Đề nghị đồng chí"))
add("rv:reopen", Action.REOPEN, _report_shown("rv:reopen:{id}", "↺ Mở lại báo cáo",
                                              ReportState.ACKNOWLEDGED))
add("my:open", Action.OWN_REPORT, _report_shown("my:open:{id}", "Báo cáo ngày 27/11/2026"))
add("my:keep", Action.OWN_REPORT, _report_shown("my:keep:{id}", "Báo cáo ngày 27/11/2026"))
add("my:withdraw", Action.OWN_REPORT, _report_shown("my:withdraw:{id}",
                                                    "chắc chắn muốn rút báo cáo này"))
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


add("/invite", Action.INVITE_MEMBER, _invite_units("/invite"), listing=True, relations=UNITS)
add("iv:units", Action.INVITE_MEMBER, _invite_units("iv:units:0"), listing=True,
    relations=UNITS)


@trigger("iv:unit", Action.INVITE_MEMBER, relations=UNITS)
async def _invite_kinds(world: World) -> bool:
    seen = await forge(world, f"iv:unit:{world.unit}")
    return f"mới vào {await unit_name(world, world.unit)}" in seen.text


KIND_ACTIONS = {"m": Action.INVITE_MEMBER, "l": Action.INVITE_LEADER, "o": Action.INVITE_LEADER}
LETTER_ROLES = {"m": Role.MEMBER, "l": Role.LEADER, "o": Role.OBSERVER}


def _invite_uses(letter: str) -> Probe:
    """For one person or many: asked once the kind is allowed."""
    async def run(world: World) -> bool:
        seen = await forge(world, f"iv:kind:{world.unit}:{letter}")
        return "dành cho ai" in seen.text and (
            f"vào {await unit_name(world, world.unit)}" in seen.text)
    return run


def _invite_made(letter: str) -> Probe:
    async def run(world: World) -> bool:
        await forge(world, f"iv:make:{world.unit}:{letter}:1")
        async with world.bot.db.transaction() as tx:
            row = await tx.one("SELECT COUNT(*) AS n FROM invites WHERE unit_id = ?"
                               " AND role = ?", (world.unit, LETTER_ROLES[letter].value))
        return row is not None and row["n"] == 1
    return run


for _letter, _action in KIND_ACTIONS.items():
    add(f"iv:kind:{_letter}", _action, _invite_uses(_letter), relations=UNITS)
    add(f"iv:make:{_letter}", _action, _invite_made(_letter), relations=UNITS)


async def invite_in(world: World) -> Invite:
    """A live invite into the target's unit."""
    code = await world.bot.invite(world.unit)
    async with world.bot.db.transaction() as tx:
        invite = await invites.invite_by_code(tx, code)
    assert invite is not None
    return invite


@trigger("iv:home", Action.REVOKE_INVITE, listing=True, relations=UNITS)
async def _live_invites(world: World) -> bool:
    await invite_in(world)
    seen = await forge(world, "iv:home")
    return f". {await unit_name(world, world.unit)} · " in seen.text


@trigger("iv:rv", Action.REVOKE_INVITE, relations=UNITS)
async def _ask_to_revoke(world: World) -> bool:
    seen = await forge(world, f"iv:rv:{(await invite_in(world)).id}")
    return "Thu hồi đường link mời" in seen.text


@trigger("iv:rvy", Action.REVOKE_INVITE, relations=UNITS)
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


add("jr:ok", Action.APPROVE_JOIN, _decide_join("ok", "active"), relations=UNITS)
add("jr:no", Action.APPROVE_JOIN, _decide_join("no", "removed"), relations=UNITS)


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


def _members_list(what: str) -> Probe:
    """The target unit's list, found from the first screen by opening units."""
    async def run(world: World) -> bool:
        header = f"{await unit_name(world, world.unit)} — "
        seen = await act(world, what)
        return await browse(world, seen, lambda s: header in s.text,
                            ("mb:l:", "mb:c:", "mb:t:"))
    return run


add("/members", Action.MEMBERS, _members_list("/members"), listing=True, relations=UNITS)
add("mb:t", Action.MEMBERS, _members_list("mb:t:0"), listing=True, relations=UNITS)


@trigger("mb:l", Action.MEMBERS, relations=UNITS)
async def _members(world: World) -> bool:
    seen = await forge(world, f"mb:l:{world.unit}:0")
    return f"{await unit_name(world, world.unit)} — " in seen.text


@trigger("mb:c", Action.MEMBERS, relations=UNITS)
async def _units_below(world: World) -> bool:
    seen = await forge(world, f"mb:c:{world.unit}:0")
    return f"Các đơn vị trực thuộc {await unit_name(world, world.unit)}" in seen.text


@trigger("mb:o", Action.MEMBERS, relations=UNITS)
async def _member_card(world: World) -> bool:
    """A person's card is a line of the unit's list (checked without the person): one's own
    card is SAME, not OWN."""
    seen = await forge(world, f"mb:o:{await membership_of(world)}")
    return f"Đồng chí {world.owner_name}" in seen.text


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
    return f"Chuyển đồng chí {world.owner_name} từ" in seen.text


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
    return f"cho đồng chí {world.owner_name}:" in seen.text


@trigger("mb:rt", Action.SET_ROLE)
async def _set_role(world: World) -> bool:
    before = await live_rows(world, world.unit, Role.LEADER)
    await forge(world, f"mb:rt:{await membership_of(world)}:0")
    return await live_rows(world, world.unit, Role.LEADER) == before + 1


async def _take_role(world: World) -> bool:
    """"Thôi vai trò cấp ủy" on a leader's card: someone else's (as SET_ROLE), or one's own,
    stepping down (as REMOVE)."""
    if world.relation is Relation.OWN:
        await not_the_last_leader(world)
    else:
        async with world.bot.db.transaction() as tx:
            await people.add_membership(tx, world.owner_person, world.unit, Role.LEADER, None,
                                        world.bot.clock.now())
    before = await live_rows(world, world.unit, Role.LEADER)
    await forge(world, f"mb:re:{await membership_of(world)}")
    return await live_rows(world, world.unit, Role.LEADER) < before


add("mb:re", Action.SET_ROLE, _take_role, relations=UNITS)
add("mb:re:own", Action.REMOVE, _take_role, relations=OWN_ONLY)


@trigger("mb:rm", Action.REMOVE)
async def _ask_to_remove(world: World) -> bool:
    await not_the_last_leader(world)
    seen = await forge(world, f"mb:rm:{await membership_of(world)}")
    return "Xóa đồng chí" in seen.text or "muốn rời khỏi" in seen.text


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


add("/model", Action.MODEL_LIST, _models_listed("/model"), listing=True, relations=UNITS)
add("md:page", Action.MODEL_LIST, _models_listed("md:page:0"), listing=True, relations=UNITS)


def _model_card(verb: str, year: str = "") -> Probe:
    async def run(world: World) -> bool:
        model = await world.bot.model(world.unit, MODEL)
        seen = await forge(world, f"md:{verb}:{model}{year}")
        return seen.text.startswith(f"🏅 {MODEL}")
    return run


add("md:open", Action.MODEL_LIST, _model_card("open"), relations=UNITS)
add("md:year", Action.MODEL_LIST, _model_card("year", ":2025"), relations=UNITS)


@trigger("md:add", Action.MODEL_ADD, listing=True, relations=UNITS)
async def _model_add(world: World) -> bool:
    seen = await forge(world, "md:add")
    if "Tên mô hình là gì?" not in seen.text:
        return False
    await world.bot.say(ACTOR, "Tiết kiệm theo gương Bác")
    await world.bot.tap(ACTOR, "Kinh tế")
    return await unit_name(world, world.unit) in world.bot.buttons(ACTOR)


async def model_year(world: World, model: int) -> dict | None:
    async with world.bot.db.transaction() as tx:
        row = await tx.one("SELECT status, mark FROM model_years WHERE model_id = ?"
                           " AND year = 2026", (model,))
    return dict(row) if row else None


@trigger("md:st", Action.MODEL_STATUS, relations=UNITS)
async def _model_status(world: World) -> bool:
    model = await world.bot.model(world.unit, "Ngày Chủ nhật xanh")
    await forge(world, f"md:st:{model}:2026:s")
    return (await model_year(world, model) or {}).get("status") == "stopped"


@trigger("md:mk", Action.MODEL_MARK, relations=UNITS)
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


add("/link", Action.LINK_GROUP, _link_offered("/link"), listing=True, relations=UNITS)
add("gl:p", Action.LINK_GROUP, _link_offered("gl:p:0"), listing=True, relations=UNITS)


@trigger("gl:u", Action.LINK_GROUP, relations=UNITS)
async def _link_group(world: World) -> bool:
    await group_with_bot(world)
    await in_group(world, f"gl:u:{world.unit}")
    return await linked_unit(world) == world.unit


@trigger("/unlink", Action.LINK_GROUP, relations=UNITS)
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
    return "Báo cáo thay đồng chí" in seen.text


@trigger("ob:new", Action.REPORT_ON_BEHALF, listing=True, relations=UNITS)
async def _behalf_units(world: World) -> bool:
    """➕ a member without Telegram: the units to add them to (or the only one, asked at once)."""
    name = await unit_name(world, world.unit)
    seen = await forge(world, "ob:new:0")
    return f"Telegram vào {name}" in seen.text or any(label == name for label, _ in offered(seen))


@trigger("ob:unit", Action.REPORT_ON_BEHALF, relations=UNITS)
async def _behalf_new_member(world: World) -> bool:
    seen = await forge(world, f"ob:unit:{world.unit}")
    return f"Telegram vào {await unit_name(world, world.unit)}" in seen.text


# --- digests --------------------------------------------------------------------------------------


def _digest_found(what: str) -> Probe:
    """The target unit's digest, found from the first screen by opening units."""
    async def run(world: World) -> bool:
        title = f"— {await unit_name(world, world.unit)}"
        seen = await act(world, what)
        return await browse(world, seen, lambda s: "TỔNG HỢP" in s.text and title in s.text,
                            ("dg:u:", "dg:pick"))
    return run


add("/digest", Action.DIGEST, _digest_found("/digest"), listing=True, relations=UNITS)
add("dg:pick", Action.DIGEST, _digest_found("dg:pick:0"), listing=True, relations=UNITS)


@trigger("dg:u", Action.DIGEST, relations=UNITS)
async def _digest_of_unit(world: World) -> bool:
    seen = await forge(world, f"dg:u:{world.unit}")
    return "TỔNG HỢP" in seen.text and await unit_name(world, world.unit) in seen.text


# --- schedules ------------------------------------------------------------------------------------


async def _schedule_rows(world: World) -> dict[str, int]:
    """The target unit's schedule rows by kind, a custom reminder among them."""
    bot = world.bot
    async with bot.db.transaction() as tx:
        await ensure_standard(tx, bot.core.services)
        await schedules.add(tx, NewSchedule(unit_id=world.unit, kind=ScheduleKind.CUSTOM,
                                            weekday=5, at=dt.time(6, 30),
                                            text="Ngày thứ 7 đi cơ sở"), bot.clock.now())
        return {r.kind.value: r.id for r in await schedules.of_unit(tx, world.unit)}


async def _schedule_row(world: World, row_id: int) -> Schedule | None:
    async with world.bot.db.transaction() as tx:
        return await schedules.get(tx, row_id)


def _schedule_listed(what: str) -> Probe:
    async def run(world: World) -> bool:
        title = f"Lịch gửi tự động — {await unit_name(world, world.unit)}"
        seen = await act(world, what)
        return await browse(world, seen, lambda s: title in s.text, ("sc:v:", "sc:pg:"))
    return run


add("/schedule", Action.SCHEDULE, _schedule_listed("/schedule"), listing=True, relations=UNITS)
add("sc:pg", Action.SCHEDULE, _schedule_listed("sc:pg:0"), listing=True, relations=UNITS)


@trigger("sc:v", Action.SCHEDULE, relations=UNITS)
async def _schedule_of_unit(world: World) -> bool:
    seen = await forge(world, f"sc:v:{world.unit}")
    return f"Lịch gửi tự động — {await unit_name(world, world.unit)}" in seen.text


@trigger("sc:add", Action.SCHEDULE, relations=UNITS)
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
    "digest", "sc:off:{id}", lambda r: r is not None and not r.enabled), relations=UNITS)
add("sc:on", Action.SCHEDULE, _schedule_change(
    "reminder", "sc:on:{id}", lambda r: r is not None and r.enabled, enabled=False),
    relations=UNITS)
add("sc:em", Action.SCHEDULE, _schedule_change(
    "digest", "sc:em:{id}", lambda r: r is not None and r.every is Every.MONTH), relations=UNITS)
add("sc:ew", Action.SCHEDULE, _schedule_change(
    "digest", "sc:ew:{id}", lambda r: r is not None and r.every is Every.WEEK,
    every=Every.MONTH, weekday=None, month_day=1), relations=UNITS)
add("sc:d", Action.SCHEDULE, _schedule_change(
    "reminder", "sc:d:{id}:3", lambda r: r is not None and r.weekday == 3), relations=UNITS)
add("sc:t", Action.SCHEDULE, _schedule_change(
    "reminder", "sc:t:{id}:1730", lambda r: r is not None and r.at == dt.time(17, 30)),
    relations=UNITS)
add("sc:rmy", Action.SCHEDULE, _schedule_change("custom", "sc:rmy:{id}", lambda r: r is None),
    relations=UNITS)
add("sc:dp", Action.SCHEDULE, _schedule_picker("digest", "dp", "d"), relations=UNITS)
add("sc:tp", Action.SCHEDULE, _schedule_picker("digest", "tp", "t"), relations=UNITS)
add("sc:rm", Action.SCHEDULE, _schedule_picker("custom", "rm", "rmy"), relations=UNITS)


# --- announcements --------------------------------------------------------------------------------


@trigger("/announce", Action.ANNOUNCE, listing=True, relations=UNITS)
async def _announce_form(world: World) -> bool:
    """/announce opens the form for the units in reach: the target's or one above it."""
    await world.bot.say(ACTOR, "/announce")
    draft = await draft_of(world)
    if draft is None or draft.form != "announcement":
        return False
    async with world.bot.db.transaction() as tx:
        actor = await actor_for(tx, world.bot.core.services, ACTOR)
        reach = await units_in_reach(tx, actor, Action.ANNOUNCE)
    return world.unit in {u.id for u in reach}


@trigger("an:go", Action.ANNOUNCE, relations=UNITS)
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


# --- the matrix --------------------------------------------------------------------------------


CASES = cases()


@pytest.mark.parametrize(("name", "who", "relation"), CASES,
                         ids=[f"{n}-{w.value}-{r.value}" for n, w, r in CASES])
async def test_permission(tmp_path: Path, name: str, who: Who, relation: Relation) -> None:
    spec = TRIGGERS[name]
    async with started(tmp_path, admins=[ADMIN_ID if who is not Who.ADMIN else ACTOR]) as bot:
        world = await build_world(bot, who, relation)
        mark = len(bot.fake.calls)
        took_effect = await spec.run(world)
        refused = await world.refused(mark)
        async with bot.db.transaction() as tx:
            logged = [e for e in await audit.entries(tx, "refused")
                      if e["subject"] == spec.action]
    allowed = expected(spec.action, who, relation)
    assert took_effect == allowed, f"expected {'allowed' if allowed else 'refused'}"
    if allowed:
        assert not refused, "allowed, yet a refusal was said"
    elif not spec.listing:
        assert refused, "a refusal must be said politely"
        if who is not Who.STRANGER:
            assert logged, "a refused attempt is logged"
