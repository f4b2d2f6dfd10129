"""The permissions matrix: every action of bot/access.RULES × every role × every relation of the
target to the actor, run through the real bot. The expected answer comes from RULES alone, so
the table in the code is the spec; each probe below does what a person would (a command, or a
button press with data naming the target, forged where the person was never shown the button)
and reads back what they saw and what the database holds.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pytest

from bot.access import RULES, Action, Relation
from bot.review import fingerprint
from storage import audit, commitments, groups, invites, people, reports, units
from storage.entities import Report, ReportContent, ReportState, Role
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
ACTOR, OTHER, ADMIN_ID = 5001, 5002, 5003
REFUSALS = ("không thực hiện được", "xin đường link mời", "vai trò theo dõi")


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

    async def text_seen(self, text: str) -> bool:
        return any(text in (m.get("text") or m.get("caption") or "")
                   for m in self.bot.fake.messages(ACTOR))

    async def refused(self, mark: int) -> bool:
        """A refusal reached the actor since call number `mark` (a message or a toast)."""
        for call in self.bot.fake.calls[mark:]:
            said = str(call.params.get("text") or "")
            if call.params.get("chat_id") in (ACTOR, None) and any(r in said for r in REFUSALS):
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
        actor = await _person(bot, ACTOR, "Hoàng Văn Sơn" if who is not Who.ADMIN else "Quản trị",
                              anchor(tree, who) if role else None, role)
    if relation is Relation.OWN:
        return World(bot, tree, who, relation, unit, ACTOR, actor)
    other = await _person(bot, OTHER, "Lăng Thị Hoa", unit, Role.MEMBER)
    return World(bot, tree, who, relation, unit, OTHER, other)


Probe = Callable[[World], Awaitable[bool]]
ALL = frozenset(Relation)
OWN_ONLY = frozenset({Relation.OWN})
UNITS = ALL - OWN_ONLY  # a unit is nobody's own record


@dataclass(frozen=True)
class ProbeSpec:
    """`run` does the action and says whether it took effect (or the target was shown).
    A `listing` shows what is in reach and simply leaves the rest out; any other action must
    answer a refusal in words and log it. `relations`: those a person can name at all (one's
    own commitment can be named by id; one's own counts cannot be asked for someone else)."""

    run: Probe
    listing: bool = False
    relations: frozenset[Relation] = ALL


PROBES: dict[Action, ProbeSpec] = {}


def probe(action: Action, listing: bool = False,
          relations: frozenset[Relation] = ALL) -> Callable[[Probe], Probe]:
    def register(function: Probe) -> Probe:
        PROBES[action] = ProbeSpec(function, listing, relations)
        return function
    return register


def cases() -> list[tuple[Action, Who, Relation]]:
    found = []
    for action, who, relation in itertools.product(Action, Who, Relation):
        spec = PROBES.get(action)
        if spec is not None and relation not in spec.relations:
            continue
        holds_nothing = who in (Who.STRANGER, Who.ADMIN)
        if relation is Relation.OWN and holds_nothing and spec and spec.relations != OWN_ONLY:
            continue  # they hold no record of their own, except asking for one's own
        found.append((action, who, relation))
    return found


def test_every_action_has_a_probe() -> None:
    assert set(PROBES) == set(Action)


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


async def unit_name(world: World, unit_id: int) -> str:
    async with world.bot.db.transaction() as tx:
        unit = await units.get_unit(tx, unit_id)
    assert unit is not None
    return unit.name



@probe(Action.STATS_OWN, relations=OWN_ONLY)
async def _stats_own(world: World) -> bool:
    seen = await forge(world, "st:me:m")
    return "Việc làm theo Bác của đồng chí" in seen.text


@probe(Action.STATS_UNIT, relations=UNITS)
async def _stats_unit(world: World) -> bool:
    seen = await forge(world, f"st:u:m:{world.unit}")
    return f"📊 {await unit_name(world, world.unit)}" in seen.text


@probe(Action.COMMIT)
async def _commit(world: World) -> bool:
    async with world.bot.db.transaction() as tx:
        commitment_id, _ = await commitments.save_commitment(
            tx, person_id=world.owner_person, unit_id=world.unit, year=2026,
            pledge="Giữ gìn phẩm chất đạo đức, lối sống trong sáng",
            actions="Tham gia đầy đủ sinh hoạt chi bộ", now=world.bot.clock.now())
    seen = await forge(world, f"cm:edit:{commitment_id}")
    return "kiểm tra lại bản cam kết" in seen.text


@probe(Action.COMMIT_OVERVIEW, listing=True, relations=UNITS)
async def _commit_overview(world: World) -> bool:
    seen = await world.bot.say(ACTOR, "/commit")
    name = await unit_name(world, world.unit)
    return any(f"{name}: " in line and "đã đăng ký cam kết" in line
               for line in seen.text.splitlines())


@probe(Action.COMMIT_REMIND, relations=UNITS)
async def _commit_remind(world: World) -> bool:
    seen = await forge(world, f"cm:remind:{world.unit}")
    return "Gửi lời nhắc đăng ký cam kết tới" in seen.text or "đều không nhận tin" in seen.text


async def report_by(world: World, state: ReportState = ReportState.PENDING) -> Report:
    """A report of the target's owner in the target's unit."""
    bot = world.bot
    content = ReportContent(deed_date=bot.clock.now().date(), field="Xã hội",
                            description="Sửa mái nhà dột cho hộ bà Lăng Thị Hoa")
    async with bot.db.transaction() as tx:
        report_id = await reports.insert_report(
            tx, person_id=world.owner_person, unit_id=world.unit,
            entered_by=world.owner_person, content=content, source_draft_id=-1,
            now=bot.clock.now())
        await tx.run("UPDATE reports SET state = ? WHERE id = ?", (state.value, report_id))
        report = await reports.get_report(tx, report_id)
    assert report is not None
    return report


async def state_of(world: World, report_id: int) -> ReportState:
    async with world.bot.db.transaction() as tx:
        report = await reports.get_report(tx, report_id)
    assert report is not None
    return report.state


@probe(Action.REVIEW, listing=True)
async def _review(world: World) -> bool:
    await report_by(world)
    seen = await world.bot.say(ACTOR, "/review")
    return "Báo cáo chờ ghi nhận (1/1) — Lăng Thị Hoa" in seen.text or (
        "Báo cáo chờ ghi nhận (1/1) — Hoàng Văn Sơn" in seen.text)


@probe(Action.ACKNOWLEDGE)
async def _acknowledge(world: World) -> bool:
    report = await report_by(world)
    await forge(world, f"rv:ack:{report.id}:{fingerprint(report)}")
    return await state_of(world, report.id) is ReportState.ACKNOWLEDGED


@probe(Action.ASK_MORE)
async def _ask_more(world: World) -> bool:
    report = await report_by(world)
    seen = await forge(world, f"rv:ask:{report.id}:{fingerprint(report)}")
    return "↩ Đề nghị đồng chí" in seen.text


@probe(Action.HIGHLIGHT)
async def _highlight(world: World) -> bool:
    report = await report_by(world)
    seen = await forge(world, f"rv:star:{report.id}")
    return "Đã nêu gương" in (seen.toast or "")


@probe(Action.REOPEN)
async def _reopen(world: World) -> bool:
    report = await report_by(world, ReportState.ACKNOWLEDGED)
    seen = await forge(world, f"rv:reopen:{report.id}")
    return "↺ Mở lại báo cáo" in seen.text


@probe(Action.INVITE_MEMBER, relations=UNITS)
async def _invite_member(world: World) -> bool:
    seen = await forge(world, f"iv:make:{world.unit}:m:1")
    return "Đã tạo đường link mời đảng viên" in seen.text


@probe(Action.INVITE_LEADER, relations=UNITS)
async def _invite_leader(world: World) -> bool:
    seen = await forge(world, f"iv:make:{world.unit}:l:1")
    return "Đã tạo đường link mời cấp ủy" in seen.text


@probe(Action.REVOKE_INVITE, relations=UNITS)
async def _revoke_invite(world: World) -> bool:
    code = await world.bot.invite(world.unit)
    async with world.bot.db.transaction() as tx:
        invite = await invites.invite_by_code(tx, code)
    assert invite is not None
    await forge(world, f"iv:rvy:{invite.id}")
    async with world.bot.db.transaction() as tx:
        after = await invites.invite_by_code(tx, code)
    return after is not None and after.revoked


@probe(Action.APPROVE_JOIN, relations=UNITS)
async def _approve_join(world: World) -> bool:
    bot = world.bot
    async with bot.db.transaction() as tx:
        newcomer = await people.add_person(tx, 5004, "Nông Văn Bình", "vi", bot.clock.now())
        membership = await people.add_membership(tx, newcomer.id, world.unit, Role.MEMBER,
                                                 None, bot.clock.now())
        await tx.run("UPDATE memberships SET status = 'pending' WHERE id = ?", (membership.id,))
    await forge(world, f"jr:ok:{membership.id}")
    async with bot.db.transaction() as tx:
        row = await tx.one("SELECT status FROM memberships WHERE id = ?", (membership.id,))
    return row is not None and row["status"] == "active"


async def membership_of(world: World) -> int:
    """The target: the owner's live row in the target's unit."""
    async with world.bot.db.transaction() as tx:
        row = await tx.one("SELECT id FROM memberships WHERE person_id = ? AND unit_id = ?"
                           " AND status = 'active'", (world.owner_person, world.unit))
    assert row is not None
    return int(row["id"])


async def live_rows(world: World, unit_id: int, role: Role) -> int:
    async with world.bot.db.transaction() as tx:
        row = await tx.one("SELECT COUNT(*) AS n FROM memberships WHERE person_id = ?"
                           " AND unit_id = ? AND role = ? AND status = 'active'",
                           (world.owner_person, unit_id, role.value))
    return int(row["n"]) if row else 0


@probe(Action.MEMBERS, relations=UNITS)
async def _members(world: World) -> bool:
    seen = await forge(world, f"mb:l:{world.unit}:0")
    return f"{await unit_name(world, world.unit)} — " in seen.text


@probe(Action.EXCUSE)
async def _excuse(world: World) -> bool:
    membership = await membership_of(world)
    await forge(world, f"mb:x:{membership}")
    async with world.bot.db.transaction() as tx:
        row = await tx.one("SELECT excused FROM memberships WHERE id = ?", (membership,))
    return row is not None and bool(row["excused"])


@probe(Action.MOVE)
async def _move(world: World) -> bool:
    home = anchor(world.tree, world.who)
    below = world.tree.cell if home == world.tree.commune else world.tree.group
    destination = home if world.unit != home else below
    await forge(world, f"mb:mt:{await membership_of(world)}:{destination}")
    return await live_rows(world, destination, Role.MEMBER) == 1


@probe(Action.SET_ROLE)
async def _set_role(world: World) -> bool:
    before = await live_rows(world, world.unit, Role.LEADER)
    await forge(world, f"mb:rt:{await membership_of(world)}:0")
    return await live_rows(world, world.unit, Role.LEADER) == before + 1


@probe(Action.REMOVE)
async def _remove(world: World) -> bool:
    if world.relation is Relation.OWN:
        # Not the unit's last leader, who may not leave it leaderless.
        await _person(world.bot, 5005, "Lý Thị Hạnh", world.unit, Role.LEADER)
    membership = await membership_of(world)
    await forge(world, f"mb:ry:{membership}")
    async with world.bot.db.transaction() as tx:
        row = await tx.one("SELECT status FROM memberships WHERE id = ?", (membership,))
    return row is not None and row["status"] == "removed"


@probe(Action.MODEL_LIST, relations=UNITS)
async def _model_list(world: World) -> bool:
    model = await world.bot.model(world.unit, "Dân vận khéo xây dựng nông thôn mới")
    seen = await forge(world, f"md:open:{model}")
    return seen.text.startswith("🏅 Dân vận khéo")


@probe(Action.MODEL_ADD, listing=True, relations=UNITS)
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


@probe(Action.MODEL_STATUS, relations=UNITS)
async def _model_status(world: World) -> bool:
    model = await world.bot.model(world.unit, "Ngày Chủ nhật xanh")
    await forge(world, f"md:st:{model}:2026:s")
    return (await model_year(world, model) or {}).get("status") == "stopped"


@probe(Action.MODEL_MARK, relations=UNITS)
async def _model_mark(world: World) -> bool:
    model = await world.bot.model(world.unit, "Ngày Chủ nhật xanh")
    await forge(world, f"md:mk:{model}:2026:e")
    return (await model_year(world, model) or {}).get("mark") == "exemplary"


GROUP_CHAT = -100777


@probe(Action.LINK_GROUP, relations=UNITS)
async def _link_group(world: World) -> bool:
    bot = world.bot
    bot.fake.add_group(GROUP_CHAT, "Chi bộ Thôn Bản Chặng")
    mark = len(bot.fake.calls)
    await bot.after(bot.fake.add_bot_to_group(GROUP_CHAT, ACTOR), mark)
    how_to_link = bot.fake.last_message(GROUP_CHAT)
    assert how_to_link is not None
    mark = len(bot.fake.calls)
    pressed = bot.fake.press(ACTOR, how_to_link["message_id"], f"gl:u:{world.unit}",
                             chat_id=GROUP_CHAT, check_button=False)
    await bot.after(pressed, mark)
    async with bot.db.transaction() as tx:
        linked = await groups.unit_of_group(tx, GROUP_CHAT)
    return linked is not None and linked.id == world.unit


@probe(Action.REPORT_ON_BEHALF)
async def _report_on_behalf(world: World) -> bool:
    seen = await forge(world, f"ob:for:{world.owner_person}")
    return "Báo cáo thay đồng chí" in seen.text


@probe(Action.OWN_REPORT)
async def _own_report(world: World) -> bool:
    report = await report_by(world)
    seen = await forge(world, f"my:open:{report.id}")
    return "Báo cáo ngày 27/11/2026" in seen.text


# --- the matrix --------------------------------------------------------------------------------


@pytest.mark.parametrize(("action", "who", "relation"), cases(),
                         ids=lambda v: str(v.value) if isinstance(v, StrEnum) else str(v))
async def test_permission(tmp_path: Path, action: Action, who: Who, relation: Relation) -> None:
    spec = PROBES.get(action)
    if spec is None:
        pytest.skip(f"no probe for {action} (test_every_action_has_a_probe fails)")
    async with started(tmp_path, admins=[ADMIN_ID if who is not Who.ADMIN else ACTOR]) as bot:
        world = await build_world(bot, who, relation)
        mark = len(bot.fake.calls)
        took_effect = await spec.run(world)
        refused = await world.refused(mark)
        async with bot.db.transaction() as tx:
            logged = [e for e in await audit.entries(tx, "refused") if e["subject"] == action]
    allowed = expected(action, who, relation)
    assert took_effect == allowed, f"expected {'allowed' if allowed else 'refused'}"
    if allowed:
        assert not refused, "allowed, yet a refusal was said"
    elif not spec.listing:
        assert refused, "a refusal must be said politely"
        if who is not Who.STRANGER:
            assert logged, "a refused attempt is logged"
