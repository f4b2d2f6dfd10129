"""The permission checks themselves: relations in the tree, roles held in several units, admins."""

from __future__ import annotations

from pathlib import Path

from bot.rules.access import Action, Relation, actor_for, check, permits, relation, units_in_reach
from storage import audit
from storage.entities import Role
from tests.harness import Harness, started

LEADER, MEMBER, OBSERVER, SPECIALIST, ADMIN = 2001, 2002, 2003, 2004, 2005


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
        leader = await actor_for(tx, bot.core.services, LEADER)
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
        her = await actor_for(tx, bot.core.services, SPECIALIST)
        assert her.holds(Role.OBSERVER) and her.holds(Role.MEMBER)
        assert await permits(tx, her, Action.STATS_UNIT, tree.cell)
        assert not await permits(tx, her, Action.ACKNOWLEDGE, tree.cell)
        assert not await permits(tx, her, Action.STATS_UNIT, tree.other_commune)


async def test_admins_act_anywhere_but_have_no_reports_of_their_own(tmp_path: Path) -> None:
    async with started(tmp_path, admins=[ADMIN]) as bot:
        tree = await bot.tree()
        async with bot.db.transaction() as tx:
            admin = await actor_for(tx, bot.core.services, ADMIN)
            assert await permits(tx, admin, Action.INVITE_LEADER, tree.province)
            assert await permits(tx, admin, Action.ACKNOWLEDGE, tree.other_commune)
            assert not await permits(tx, admin, Action.COMMIT, tree.cell)


async def test_a_stranger_may_do_nothing_and_a_refusal_is_logged(bot: Harness) -> None:
    tree = await bot.tree()
    async with bot.db.transaction() as tx:
        stranger = await actor_for(tx, bot.core.services, 9999)
        for action in Action:
            assert not await permits(tx, stranger, action, tree.cell)
        refusal = await check(tx, bot.core.services, stranger, Action.REVIEW, tree.cell,
                              pressed=True)
        assert refusal is not None and "xin đường link mời" in (refusal.toast or "")
    async with bot.db.transaction() as tx:
        [entry] = await audit.entries(tx, "refused")
    assert entry["actor"] == "tg:9999" and entry["subject"] == "review"
