"""The permission checks, in-process: relations in the tree, roles held in several units,
admins; `permits` against RULES in every case (every action × everyone × every relation); and
RULES against the policy, in a short table written by hand that does not read RULES.
tests/test_permissions.py runs every command and button through the bot."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.rules.access import (
    RULES,
    Action,
    Actor,
    Relation,
    actor_for,
    permits,
    relation,
    units_in_reach,
)
from storage import audit, people, reports, units
from storage.db import Database
from storage.entities import NewUnit, ReportState, Role
from tests.harness import CATALOGUE, Harness, as_read, migrated_database, started

LEADER, MEMBER, OBSERVER, SPECIALIST, ADMIN = 2001, 2002, 2003, 2004, 2005
NOW = dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC)


async def test_relations_follow_the_tree(bot: Harness) -> None:
    tree = await bot.tree()
    async with bot.db.transaction() as tx:
        assert await relation(tx, tree.cell, tree.cell) is Relation.SAME
        assert await relation(tx, tree.cell, tree.group) is Relation.CHILD
        assert await relation(tx, tree.province, tree.group) is Relation.CHILD
        assert await relation(tx, tree.cell, tree.sibling_cell) is Relation.SIBLING
        assert await relation(tx, tree.cell, tree.other_commune) is Relation.SIBLING
        assert await relation(tx, tree.cell, tree.commune) is Relation.PARENT
        assert await relation(tx, tree.group, tree.province) is Relation.PARENT


async def test_a_leader_reaches_the_subtree_only(bot: Harness) -> None:
    tree = await bot.tree()
    await bot.appoint(LEADER, tree.cell, Role.LEADER, "Sơn")
    async with bot.db.transaction() as tx:
        leader = await actor_for(tx, (), LEADER)
        assert await permits(tx, leader, Action.ACKNOWLEDGE, tree.group, person_id=None)
        assert not await permits(tx, leader, Action.ACKNOWLEDGE, tree.sibling_cell)
        assert not await permits(tx, leader, Action.ACKNOWLEDGE, tree.commune)
        # A leader's own report goes to another leader.
        assert leader.person is not None
        assert not await permits(tx, leader, Action.ACKNOWLEDGE, tree.cell, leader.person.id)
        reach = await units_in_reach(tx, leader, Action.REVIEW)
        assert [u.id for u in reach] == [tree.cell, tree.group]
        assert await units_in_reach(tx, leader, Action.INVITE_LEADER) == [
            u for u in reach if u.id == tree.group]


async def test_one_person_observes_a_commune_and_is_a_member_of_her_cell(bot: Harness) -> None:
    tree = await bot.tree()
    await bot.appoint(SPECIALIST, tree.commune, Role.OBSERVER, "Hạnh")
    await bot.join(SPECIALIST, tree.sibling_cell, "Hạnh")
    async with bot.db.transaction() as tx:
        her = await actor_for(tx, (), SPECIALIST)
        assert her.holds(Role.OBSERVER) and her.holds(Role.MEMBER)
        assert await permits(tx, her, Action.STATS_UNIT, tree.cell)
        assert not await permits(tx, her, Action.ACKNOWLEDGE, tree.cell)
        assert not await permits(tx, her, Action.STATS_UNIT, tree.other_commune)


async def test_admins_act_anywhere_but_have_no_reports_of_their_own(tmp_path: Path) -> None:
    async with started(tmp_path, admins=[ADMIN]) as bot:
        tree = await bot.tree()
        async with bot.db.transaction() as tx:
            admin = await actor_for(tx, [ADMIN], ADMIN)
            assert await permits(tx, admin, Action.INVITE_LEADER, tree.province)
            assert await permits(tx, admin, Action.ACKNOWLEDGE, tree.other_commune)
            assert not await permits(tx, admin, Action.COMMIT, tree.cell)


async def test_a_stranger_may_do_nothing_and_a_refusal_is_logged(bot: Harness) -> None:
    tree = await bot.tree()
    async with bot.db.transaction() as tx:
        stranger = await actor_for(tx, (), 9999)
        for action in Action:
            assert not await permits(tx, stranger, action, tree.cell)
    async with bot.core.requests.begin(9999) as req:
        refusal = await req.check(Action.REVIEW, tree.cell, pressed=True)
        assert refusal is not None and refusal.toast == req.t.plain("access.not_member")
    async with bot.db.transaction() as tx:
        [entry] = await audit.entries(tx, "refused")
    assert entry["actor"] == "tg:9999" and entry["subject"] == "review"


async def test_an_observer_is_told_they_follow_the_unit_read_only(bot: Harness) -> None:
    """At a cell and at the commune: /review, /schedule and a forged ✅ Ghi nhận are refused as
    what they are (the unit is theirs to follow, not to act on), and nobody above a cell is
    sent to a bí thư chi bộ."""
    tree = await bot.tree()
    await bot.join(MEMBER, tree.cell, "Hoàng Thị", "Mai")
    await bot.appoint(OBSERVER, tree.cell, Role.OBSERVER, "Lương Văn", "Khánh")
    await bot.appoint(SPECIALIST, tree.commune, Role.OBSERVER, "Hà Thị", "Thu")
    await bot.report(MEMBER, "Sửa mái nhà dột cho hộ bà Lăng Thị Hoa, hộ nghèo thôn Bản Chặng")
    vi = CATALOGUE.texts("vi")
    for user_id, unit in ((OBSERVER, "Chi bộ Thôn Bản Chặng"),
                          (SPECIALIST, "Đảng bộ xã Tràng Định")):
        said = vi("access.read_only", unit=unit)
        for command in ("/review", "/schedule"):
            seen = await bot.say(user_id, command)
            assert seen.text == as_read(said), (user_id, command)
            assert "bí thư" not in seen.text
        message_id = (bot.fake.last_message(user_id) or {})["message_id"]
        forged = await bot.press_data(user_id, message_id, "rv:ack:1:00000000",
                                      check_button=False)
        assert forged.toast == vi.plain("access.read_only", unit=unit)
    async with bot.db.transaction() as tx:
        assert (await reports.get_report(tx, 1)).state is ReportState.PENDING  # type: ignore


async def test_nobody_above_a_cell_is_sent_to_a_bi_thu_chi_bo(bot: Harness) -> None:
    tree = await bot.tree()
    await bot.appoint(LEADER, tree.commune, Role.LEADER, "Hoàng Văn", "Tuấn")
    await bot.appoint(SPECIALIST, tree.commune, Role.OBSERVER, "Hà Thị", "Thu")
    await bot.appoint(OBSERVER, tree.cell, Role.OBSERVER, "Lương Văn", "Khánh")
    vi = CATALOGUE.texts("vi")
    async with bot.core.requests.begin(LEADER) as req:
        beside = await req.check(Action.ACKNOWLEDGE, tree.other_commune, pressed=True)
        assert beside is not None and beside.toast == vi.plain("access.denied_above_cell")
    async with bot.core.requests.begin(SPECIALIST) as req:
        beside = await req.check(Action.STATS_UNIT, tree.other_commune, pressed=True)
        assert beside is not None and beside.toast == vi.plain("access.denied_above_cell")
    async with bot.core.requests.begin(OBSERVER) as req:
        beside = await req.check(Action.STATS_UNIT, tree.sibling_cell, pressed=True)
        assert beside is not None and beside.toast == vi.plain("access.denied")
    assert "bí thư" not in vi.plain("access.denied_above_cell")


# --- permits, every case ------------------------------------------------------------------------

# Who acts, and where they hold their role (None: nowhere).
HOLDERS = {"member": (Role.MEMBER, "cell"), "leader": (Role.LEADER, "cell"),
           "higher_leader": (Role.LEADER, "commune"), "observer": (Role.OBSERVER, "commune"),
           "stranger": (None, None), "waiting": (None, None), "admin": (None, None)}
USER = {name: 3000 + i for i, name in enumerate(HOLDERS)}


@dataclass
class Place:
    """A tree, everyone in it, and someone else's record in every unit."""

    db: Database
    units: dict[str, int]
    actors: dict[str, Actor]
    others: dict[int, int]  # unit id -> the person id of someone else's record there

    def target(self, who: str, relation: Relation) -> tuple[int, int | None]:
        """The unit of a target in `relation` to `who`, and whose record it is."""
        home = HOLDERS[who][1] or "cell"
        below = {"cell": "group", "commune": "cell"}[home]
        beside = {"cell": "sibling_cell", "commune": "other_commune"}[home]
        above = {"cell": "commune", "commune": "province"}[home]
        unit = self.units[{Relation.OWN: home, Relation.SAME: home, Relation.CHILD: below,
                           Relation.SIBLING: beside, Relation.PARENT: above}[relation]]
        actor = self.actors[who]
        if relation is Relation.OWN:
            return unit, actor.person.id if actor.person else None
        return unit, self.others[unit]


@pytest.fixture
async def place(tmp_path: Path) -> AsyncIterator[Place]:
    db = await migrated_database(tmp_path / "access.sqlite3")
    made: dict[str, int] = {}
    async with db.transaction() as tx:
        for name, kind, parent in (("province", "đảng bộ tỉnh", None),
                                   ("commune", "đảng bộ xã", "province"),
                                   ("other_commune", "đảng bộ phường", "province"),
                                   ("cell", "chi bộ", "commune"),
                                   ("sibling_cell", "chi bộ", "commune"),
                                   ("group", "tổ đảng", "cell")):
            unit = await units.add_unit(tx, NewUnit(name=name, kind=kind,
                                                    parent_id=made.get(parent or "")), NOW)
            made[name] = unit.id
        others = {}
        for unit_id in made.values():
            other = await people.add_person(tx, unit_id + 9000, f"other {unit_id}", "vi", NOW)
            await people.add_membership(tx, other.id, unit_id, Role.MEMBER, None, NOW)
            others[unit_id] = other.id
        for name, (role, home) in HOLDERS.items():
            if name == "stranger":
                continue
            person = await people.add_person(tx, USER[name], name, "vi", NOW)
            if role is not None and home is not None:
                await people.add_membership(tx, person.id, made[home], role, None, NOW)
        actors = {name: await actor_for(tx, [USER["admin"]], USER[name]) for name in HOLDERS}
    yield Place(db, made, actors, others)
    await db.close()


def follows_rules(action: Action, who: str, relation: Relation, owner: int | None) -> bool:
    """What RULES says of this case, read as the rule's docstring tells."""
    rule = RULES[action]
    own = relation is Relation.OWN and owner is not None
    role = HOLDERS[who][0]
    if who == "admin" and rule.admin and not own:
        return True
    if role is None:
        return own and Relation.OWN in rule.stranger
    return relation in rule.reach(role)


@pytest.mark.parametrize("action", list(Action))
async def test_permits_follows_rules_in_every_case(place: Place, action: Action) -> None:
    async with place.db.transaction() as tx:
        for who, actor in place.actors.items():
            for relation_ in Relation:
                unit_id, owner = place.target(who, relation_)
                assert await permits(tx, actor, action, unit_id, owner) == follows_rules(
                    action, who, relation_, owner), (who, relation_)


# --- the policy, by hand --------------------------------------------------------------------------

QUEUE = {Action.REVIEW, Action.ACKNOWLEDGE, Action.ASK_MORE, Action.HIGHLIGHT, Action.REOPEN}
READING = {Action.STATS_UNIT, Action.DIGEST, Action.MODEL_LIST, Action.COMMIT_OVERVIEW,
           Action.EXPORT}
ONES_OWN = {Action.COMMIT, Action.OWN_REPORT, Action.STATS_OWN, Action.REPORT,
            Action.ANSWER_FORM, Action.CHOOSE_LANGUAGE, Action.NUDGE_SETTINGS}


async def allowed(place: Place, who: str, action: Action, relation_: Relation) -> bool:
    unit_id, owner = place.target(who, relation_)
    async with place.db.transaction() as tx:
        return await permits(tx, place.actors[who], action, unit_id, owner)


@pytest.mark.parametrize("action", sorted(QUEUE))
async def test_a_member_never_acknowledges(place: Place, action: Action) -> None:
    assert not [r for r in Relation if await allowed(place, "member", action, r)]


@pytest.mark.parametrize("action", sorted(set(Action) - READING - ONES_OWN))
async def test_an_observer_never_writes(place: Place, action: Action) -> None:
    assert not [r for r in Relation if await allowed(place, "observer", action, r)]


@pytest.mark.parametrize("action", sorted(READING))
async def test_an_observer_reads_below_but_not_beside(place: Place, action: Action) -> None:
    assert await allowed(place, "observer", action, Relation.CHILD)
    assert not await allowed(place, "observer", action, Relation.SIBLING)


@pytest.mark.parametrize("who", ["member", "leader", "higher_leader", "observer"])
@pytest.mark.parametrize("action", sorted(Action))
async def test_nobody_acts_outside_their_subtree(place: Place, who: str, action: Action) -> None:
    """Beside one's unit never; above it only to see the models one reports under."""
    assert not await allowed(place, who, action, Relation.SIBLING)
    if action is not Action.MODEL_LIST:
        assert not await allowed(place, who, action, Relation.PARENT)


@pytest.mark.parametrize("action", sorted(Action))
async def test_a_stranger_reaches_nothing_but_their_own_form_and_language(
        place: Place, action: Action) -> None:
    """Someone waiting for approval has a record of their own, and nothing else."""
    own = action in (Action.ANSWER_FORM, Action.CHOOSE_LANGUAGE)
    for relation_ in Relation:
        expected = own and relation_ is Relation.OWN
        assert await allowed(place, "waiting", action, relation_) == expected, relation_
        assert not await allowed(place, "stranger", action, relation_)


@pytest.mark.parametrize("action", sorted(ONES_OWN))
async def test_ones_own_records_are_nobody_elses(place: Place, action: Action) -> None:
    for who in ("member", "leader", "higher_leader", "observer", "admin"):
        for relation_ in Relation.SAME, Relation.CHILD:
            assert not await allowed(place, who, action, relation_), (who, relation_)


@pytest.mark.parametrize("action", [Action.ACKNOWLEDGE, Action.INVITE_MEMBER, Action.EXCUSE,
                                    Action.MOVE, Action.SCHEDULE, Action.ANNOUNCE,
                                    Action.IMPORT_MEMBERS])
async def test_a_leader_acts_in_the_unit_and_below_and_an_admin_anywhere(
        place: Place, action: Action) -> None:
    for relation_ in Relation.SAME, Relation.CHILD:
        assert await allowed(place, "leader", action, relation_)
    for relation_ in Relation.SAME, Relation.SIBLING, Relation.PARENT:
        assert await allowed(place, "admin", action, relation_)


async def test_leaders_and_observers_are_appointed_below_never_beside_or_in_ones_unit(
        place: Place) -> None:
    assert await allowed(place, "leader", Action.INVITE_LEADER, Relation.CHILD)
    assert not await allowed(place, "leader", Action.INVITE_LEADER, Relation.SAME)
    assert await allowed(place, "higher_leader", Action.MODEL_MARK, Relation.CHILD)
    assert not await allowed(place, "leader", Action.MODEL_MARK, Relation.SAME)


async def test_a_refusal_naming_a_long_unit_still_fits_a_toast(bot: Harness) -> None:
    """Unit names may have 150 characters; Telegram shows at most 200 in a press's note."""
    name = "Chi bộ " + "Thôn Bản Chặng " * 9
    cell = await bot.unit(name.strip()[:150])
    await bot.appoint(OBSERVER, cell, Role.OBSERVER, "Lương Văn", "Khánh")
    seen = await bot.say(OBSERVER, "/review")
    assert seen.shows("access.read_only", unit=name.strip()[:150])
    message_id = (bot.fake.last_message(OBSERVER) or {})["message_id"]
    forged = await bot.press_data(OBSERVER, message_id, "rv:ack:1:00000000", check_button=False)
    assert forged.toast is not None and len(forged.toast) == 200 and forged.toast.endswith("…")
