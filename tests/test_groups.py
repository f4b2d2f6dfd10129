"""A unit's group chat: a leader links it with /link (choosing among several units with buttons),
unlinks it with /unlink; the bot added to a group says how to link it and nothing else; a group
turned supergroup keeps its link; the bot removed from a group drops it."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from telegram import Update

from bot.flows.groups import in_tree_order
from handlers.groups import GroupMembershipHandler
from storage import audit, groups, units
from storage.entities import Role
from tests.harness import CATALOGUE, Harness, Seen, Tree, started

LEADER, MEMBER, OBSERVER, STRANGER, COMMUNE_LEADER, SIBLING_LEADER, ADMIN = (
    3001, 3002, 3003, 3004, 3005, 3006, 3007)
GROUP = -1001001
OTHER_GROUP = -1001002
VI = CATALOGUE.texts("vi")
CELL, SIBLING = "Chi bộ Thôn Bản Chặng", "Chi bộ Thôn Nà Pá"


async def in_group(bot: Harness, user: int, text: str, chat: int = GROUP) -> Seen:
    mark = len(bot.fake.calls)
    return await bot.after(bot.fake.send_text(user, text, chat_id=chat), mark)


async def happens(bot: Harness, update_id: int, mark: int) -> Seen:
    """Waits for an update the test queued with the fake directly (mark taken before)."""
    return await bot.after(update_id, mark)


def said(seen: Seen, chat: int = GROUP) -> str:
    """What the bot wrote into one chat, as people there read it."""
    sent = "\n".join(c.params.get("text", "") for c in seen.calls
                     if c.params.get("chat_id") == chat)
    return html.unescape(re.sub(r"<[^>]+>", "", sent))


def says(seen: Seen, key: str, chat: int = GROUP, **params: object) -> bool:
    """The bot said `key` into one chat (written with these values, when given)."""
    written = VI(key, **params) if params else ""
    return any(key in c.keys and written in c.params.get("text", "")
               for c in seen.calls if c.params.get("chat_id") == chat)


def group_button(bot: Harness, label: str, chat: int = GROUP) -> tuple[int, str]:
    for message in reversed(bot.fake.messages(chat)):
        for text, data in bot.fake.inline_buttons(message):
            if text == label:
                return message["message_id"], data
    raise AssertionError(f"no button {label!r} in chat {chat}")


def group_buttons(bot: Harness, chat: int = GROUP) -> list[str]:
    for message in reversed(bot.fake.messages(chat)):
        labels = [text for text, _ in bot.fake.inline_buttons(message)]
        if labels:
            return labels
    return []


async def press(bot: Harness, user: int, message_id: int, data: str,
                chat: int = GROUP) -> Seen:
    mark = len(bot.fake.calls)
    update_id = bot.fake.press(user, message_id, data, chat_id=chat, check_button=False)
    return await bot.after(update_id, mark)


async def tap(bot: Harness, user: int, label: str, chat: int = GROUP) -> Seen:
    return await press(bot, user, *group_button(bot, label, chat), chat=chat)


async def unit_linked_to(bot: Harness, chat: int = GROUP) -> int | None:
    async with bot.db.transaction() as tx:
        unit = await groups.unit_of_group(tx, chat)
    return unit.id if unit else None


async def log(bot: Harness, action: str) -> list[dict]:
    async with bot.db.transaction() as tx:
        return await audit.entries(tx, action)


async def cell_with_leader(bot: Harness) -> Tree:
    """The standard tree; Sơn leads Chi bộ Thôn Bản Chặng (and so its Tổ đảng số 1 too), Tuấn
    leads Chi bộ Thôn Nà Pá, which has no tổ."""
    tree = await bot.tree()
    await bot.appoint(LEADER, tree.cell, Role.LEADER, "Sơn")
    await bot.appoint(SIBLING_LEADER, tree.sibling_cell, Role.LEADER, "Tuấn")
    bot.fake.add_group(GROUP, "Chi bộ Bản Chặng")
    bot.fake.add_group(OTHER_GROUP, "Chi bộ Bản Chặng (mới)")
    return tree


async def link_cell(bot: Harness, chat: int = GROUP) -> Seen:
    """Sơn sends /link and picks his chi bộ (rather than its tổ)."""
    await in_group(bot, LEADER, "/link", chat)
    return await tap(bot, LEADER, "Chi bộ Thôn Bản Chặng", chat)


async def test_a_leader_of_one_unit_links_the_group_at_once(bot: Harness) -> None:
    tree = await cell_with_leader(bot)
    seen = await in_group(bot, SIBLING_LEADER, "/link")
    assert says(seen, "groups.linked", unit=SIBLING)
    assert said(seen, SIBLING_LEADER) == ""  # nothing in the leader's private chat
    assert await unit_linked_to(bot) == tree.sibling_cell
    [entry] = await log(bot, "group_linked")
    assert entry["actor"].startswith("person:") and entry["subject"] == f"unit:{tree.sibling_cell}"
    assert entry["detail"] == f"chat:{GROUP}"


async def test_a_cell_leader_picks_the_cell_rather_than_its_to(bot: Harness) -> None:
    tree = await cell_with_leader(bot)
    seen = await in_group(bot, LEADER, "/link")
    assert says(seen, "groups.pick", count=2)
    assert group_buttons(bot) == ["Chi bộ Thôn Bản Chặng", "Tổ đảng số 1", "✖ Hủy"]
    chosen = await tap(bot, LEADER, "Chi bộ Thôn Bản Chặng")
    assert says(chosen, "groups.linked", unit=CELL)
    assert await unit_linked_to(bot) == tree.cell


async def test_link_addressed_to_the_bot_by_name_works_and_to_another_bot_does_not(
    bot: Harness,
) -> None:
    tree = await cell_with_leader(bot)
    assert (await in_group(bot, SIBLING_LEADER, "/link@some_other_bot")).calls == []
    assert await unit_linked_to(bot) is None
    seen = await in_group(bot, SIBLING_LEADER, f"/link@{bot.fake.bot_username}")
    assert says(seen, "groups.linked", unit=SIBLING)
    assert await unit_linked_to(bot) == tree.sibling_cell


async def test_relinking_in_a_new_group_moves_the_link_and_tells_the_old_group(
    bot: Harness,
) -> None:
    tree = await cell_with_leader(bot)
    await in_group(bot, SIBLING_LEADER, "/link")
    seen = await in_group(bot, SIBLING_LEADER, "/link", chat=OTHER_GROUP)
    assert says(seen, "groups.linked_moved", OTHER_GROUP, unit=SIBLING)
    assert says(seen, "groups.moved_away", GROUP, unit=SIBLING)
    assert await unit_linked_to(bot, OTHER_GROUP) == tree.sibling_cell
    assert await unit_linked_to(bot, GROUP) is None
    assert (await log(bot, "group_linked"))[-1]["detail"] == (
        f"chat:{OTHER_GROUP} moved_from:{GROUP}")


async def test_a_leader_unlinks_the_group(bot: Harness) -> None:
    tree = await cell_with_leader(bot)
    await link_cell(bot)
    seen = await in_group(bot, LEADER, "/unlink")
    assert says(seen, "groups.unlinked", unit=CELL)
    assert await unit_linked_to(bot) is None
    [entry] = await log(bot, "group_unlinked")
    assert entry["subject"] == f"unit:{tree.cell}"
    again = await in_group(bot, LEADER, "/unlink")
    assert says(again, "groups.not_linked")


async def test_a_leader_of_the_unit_above_may_unlink_too(bot: Harness) -> None:
    tree = await cell_with_leader(bot)
    await bot.appoint(COMMUNE_LEADER, tree.commune, Role.LEADER, "Hùng")
    await link_cell(bot)
    seen = await in_group(bot, COMMUNE_LEADER, "/unlink")
    assert says(seen, "groups.unlinked", unit=CELL)


@pytest.mark.parametrize(("who", "expected"), [
    (MEMBER, "groups.not_leader"),
    (OBSERVER, "groups.observer"),
    (STRANGER, "groups.stranger"),
])
async def test_only_a_leader_may_link_and_the_others_are_told_politely_in_the_group(
    bot: Harness, who: int, expected: str,
) -> None:
    tree = await cell_with_leader(bot)
    if who == MEMBER:
        await bot.join(MEMBER, tree.cell, "Mai")
    elif who == OBSERVER:
        await bot.appoint(OBSERVER, tree.commune, Role.OBSERVER, "Hạnh")
    else:
        bot.person(STRANGER, "Khách")
    seen = await in_group(bot, who, "/link")
    assert says(seen, expected)
    assert await unit_linked_to(bot) is None
    [entry] = await log(bot, "refused")
    assert entry["actor"] == f"tg:{who}" and entry["subject"] == "link_group"


async def test_others_may_not_unlink_a_linked_group(bot: Harness) -> None:
    tree = await cell_with_leader(bot)
    await bot.join(MEMBER, tree.cell, "Mai")
    await bot.appoint(OBSERVER, tree.commune, Role.OBSERVER, "Hạnh")
    bot.person(STRANGER, "Khách")
    await link_cell(bot)
    for who in (MEMBER, OBSERVER, SIBLING_LEADER, STRANGER):
        seen = await in_group(bot, who, "/unlink")
        assert says(seen, "groups.unlink_denied", unit=CELL), who
    assert await unit_linked_to(bot) == tree.cell
    assert len(await log(bot, "refused")) == 4


async def test_link_in_a_private_chat_explains_it_is_used_in_the_group(bot: Harness) -> None:
    tree = await cell_with_leader(bot)
    seen = await bot.say(LEADER, "/link")
    assert seen.shows("groups.private")
    assert (await bot.say(LEADER, "/unlink")).shows("groups.private_unlink")
    bot.person(STRANGER, "Khách")
    assert (await bot.say(STRANGER, "/link")).shows("groups.private")
    async with bot.db.transaction() as tx:
        assert await groups.group_of_unit(tx, tree.cell) is None


async def test_a_group_linked_to_another_unit_is_named_and_must_be_unlinked_first(
    bot: Harness,
) -> None:
    tree = await cell_with_leader(bot)
    await link_cell(bot)
    seen = await in_group(bot, SIBLING_LEADER, "/link")
    assert says(seen, "groups.linked_elsewhere", unit=CELL)
    assert await unit_linked_to(bot) == tree.cell
    [entry] = await log(bot, "refused")
    assert entry["actor"] == f"tg:{SIBLING_LEADER}" and entry["detail"] == f"unit:{tree.cell}"
    # The leader who linked it hears it is linked already.
    assert says(await in_group(bot, LEADER, "/link"), "groups.already_linked", unit=CELL)


async def test_a_higher_leader_chooses_the_unit_with_buttons(bot: Harness) -> None:
    tree = await cell_with_leader(bot)
    await bot.appoint(COMMUNE_LEADER, tree.commune, Role.LEADER, "Hùng")
    await bot.join(MEMBER, tree.cell, "Mai")
    seen = await in_group(bot, COMMUNE_LEADER, "/link")
    assert says(seen, "groups.pick", count=4)
    assert group_buttons(bot) == ["Đảng bộ xã Tràng Định", "Chi bộ Thôn Bản Chặng",
                                  "Tổ đảng số 1", "Chi bộ Thôn Nà Pá", "✖ Hủy"]
    assert await unit_linked_to(bot) is None

    # Someone else in the group presses: asked again, refused.
    refused = await tap(bot, MEMBER, "Chi bộ Thôn Nà Pá")
    assert refused.shows("access.denied")
    # The cell's leader forges a press naming the sibling cell: refused and logged.
    message_id, _ = group_button(bot, "Chi bộ Thôn Nà Pá")
    forged = await press(bot, LEADER, message_id, f"gl:u:{tree.sibling_cell}")
    assert forged.shows("access.denied")
    assert await unit_linked_to(bot) is None
    entries = await log(bot, "refused")
    assert [(e["actor"], e["detail"]) for e in entries] == [
        (f"tg:{MEMBER}", f"unit:{tree.sibling_cell}"),
        (f"tg:{LEADER}", f"unit:{tree.sibling_cell}")]

    chosen = await tap(bot, COMMUNE_LEADER, "Chi bộ Thôn Nà Pá")
    assert says(chosen, "groups.linked", unit=SIBLING)
    assert chosen.methods() == ["editMessageText"]  # the picker becomes the answer
    assert group_buttons(bot) == []
    assert await unit_linked_to(bot) == tree.sibling_cell

    # A second press on the old button (double tap) links nothing more.
    again = await press(bot, COMMUNE_LEADER, message_id, f"gl:u:{tree.cell}")
    assert says(again, "groups.already_linked", unit=SIBLING)
    assert again.toast is None
    assert len(await log(bot, "group_linked")) == 1


@pytest.mark.parametrize("data", ["gl:u:abc", "gl:u:", "gl:zz:1", "gl:u:999999", "gl:u:1:2",
                                  "gl:p:²", "gl:"])
async def test_garbled_picker_data_gets_a_polite_toast(bot: Harness, data: str) -> None:
    tree = await cell_with_leader(bot)
    await bot.appoint(COMMUNE_LEADER, tree.commune, Role.LEADER, "Hùng")
    await in_group(bot, COMMUNE_LEADER, "/link")
    message_id, _ = group_button(bot, "Tổ đảng số 1")
    seen = await press(bot, COMMUNE_LEADER, message_id, data)
    assert seen.toast == VI.plain("groups.bad_button")
    assert await unit_linked_to(bot) is None


async def test_the_picker_pages_and_can_be_cancelled(bot: Harness) -> None:
    tree = await cell_with_leader(bot)
    for n in range(2, 12):
        await bot.unit(f"Chi bộ Thôn số {n:02d}", parent=tree.commune)
    await bot.appoint(COMMUNE_LEADER, tree.commune, Role.LEADER, "Hùng")
    await in_group(bot, COMMUNE_LEADER, "/link")
    first = group_buttons(bot)
    assert len(first) == 10 and first[-2:] == ["Trang sau ▶", "✖ Hủy"]
    await tap(bot, COMMUNE_LEADER, "Trang sau ▶")
    second = group_buttons(bot)
    assert second[-2:] == ["◀ Trang trước", "✖ Hủy"] and "Chi bộ Thôn số 11" in second
    bot.person(STRANGER, "Khách")
    stranger = await tap(bot, STRANGER, "◀ Trang trước")
    assert stranger.shows("groups.pick_denied")
    seen = await tap(bot, COMMUNE_LEADER, "✖ Hủy")
    assert says(seen, "groups.cancelled") and group_buttons(bot) == []
    assert await unit_linked_to(bot) is None


async def test_the_bot_added_to_an_unlinked_group_says_once_how_to_link_it(
    bot: Harness,
) -> None:
    tree = await cell_with_leader(bot)
    await bot.join(MEMBER, tree.cell, "Mai")
    mark = len(bot.fake.calls)
    seen = await happens(bot, bot.fake.add_bot_to_group(GROUP, MEMBER), mark)
    assert says(seen, "groups.hello")
    mark = len(bot.fake.calls)
    promoted = bot.fake.add_bot_to_group(GROUP, MEMBER, status="administrator")
    assert (await happens(bot, promoted, mark)).calls == []
    # Whatever is said in the group is none of the bot's business, but for one pointer to the
    # private chat (once an hour a person: tests/test_group_pointers.py).
    for text in ("Chào cả nhà!", "/start"):
        assert (await in_group(bot, MEMBER, text)).calls == []
    assert says(await in_group(bot, MEMBER, "/report"), "groups.private_only.report")
    for text in ("/report", "/help", "📝 Báo cáo việc làm theo Bác"):
        assert (await in_group(bot, MEMBER, text)).calls == []
    mark = len(bot.fake.calls)
    assert (await happens(bot, bot.fake.send_sticker(MEMBER, chat_id=GROUP), mark)).calls == []
    assert len(bot.fake.messages(GROUP)) == 2
    await link_cell(bot)
    assert await unit_linked_to(bot) == tree.cell


async def test_the_bot_removed_from_a_group_drops_the_link(bot: Harness) -> None:
    tree = await cell_with_leader(bot)
    mark = len(bot.fake.calls)
    await happens(bot, bot.fake.add_bot_to_group(GROUP, LEADER), mark)
    await link_cell(bot)
    mark = len(bot.fake.calls)
    assert (await happens(bot, bot.fake.remove_bot_from_group(GROUP, LEADER), mark)).calls == []
    assert await unit_linked_to(bot) is None
    [entry] = await log(bot, "group_unlinked")
    assert entry["actor"] == f"tg:{LEADER}" and entry["subject"] == f"unit:{tree.cell}"
    assert "bot removed" in entry["detail"]
    # Added again: not linked any more, so it says how to link it.
    mark = len(bot.fake.calls)
    back = await happens(bot, bot.fake.add_bot_to_group(GROUP, LEADER), mark)
    assert says(back, "groups.hello")


@pytest.mark.parametrize("new_first", [False, True])
async def test_a_group_turned_supergroup_keeps_its_link(bot: Harness, new_first: bool) -> None:
    tree = await bot.tree()
    await bot.appoint(LEADER, tree.cell, Role.LEADER, "Sơn")
    basic, supergroup = -5001, -1005001
    bot.fake.add_group(basic, "Chi bộ Bản Chặng", chat_type="group")
    mark = len(bot.fake.calls)
    await happens(bot, bot.fake.add_bot_to_group(basic, LEADER), mark)
    await link_cell(bot, basic)
    mark = len(bot.fake.calls)
    updates = bot.fake.upgrade_to_supergroup(basic, supergroup, LEADER, new_first=new_first)
    seen = await happens(bot, max(updates), mark)
    assert seen.calls == []
    assert await unit_linked_to(bot, supergroup) == tree.cell
    assert await unit_linked_to(bot, basic) is None
    assert len(await log(bot, "group_migrated")) == 1
    # The leader keeps working in the supergroup.
    again = await in_group(bot, LEADER, "/link", chat=supergroup)
    assert says(again, "groups.already_linked", supergroup, unit=CELL)


async def test_move_group_is_idempotent_and_an_existing_link_on_the_new_id_stands(
    bot: Harness,
) -> None:
    tree = await bot.tree()
    async with bot.db.transaction() as tx:
        await groups.link(tx, tree.cell, -1)
        await groups.link(tx, tree.sibling_cell, -2)
        assert await groups.move_group(tx, -1, -100) == tree.cell
        assert await groups.move_group(tx, -1, -100) is None
        assert await groups.move_group(tx, -2, -100) is None  # -100 is the cell's already
        assert await groups.group_of_unit(tx, tree.cell) == -100
        assert await groups.group_of_unit(tx, tree.sibling_cell) is None


async def test_an_anonymous_group_admin_is_asked_to_show_themselves(bot: Harness) -> None:
    await cell_with_leader(bot)
    mark = len(bot.fake.calls)
    update_id = bot.fake.send_raw({"message": {
        "message_id": 77, "date": 1_700_000_000,
        "chat": {"id": GROUP, "type": "supergroup", "title": "Chi bộ Bản Chặng"},
        "from": {"id": 1087968824, "is_bot": True, "first_name": "Group",
                 "username": "GroupAnonymousBot"},
        "sender_chat": {"id": GROUP, "type": "supergroup", "title": "Chi bộ Bản Chặng"},
        "text": "/link", "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
    }})
    seen = await happens(bot, update_id, mark)
    assert says(seen, "groups.anonymous")
    assert await unit_linked_to(bot) is None


async def test_an_admin_picks_among_every_unit(tmp_path: Path) -> None:
    async with started(tmp_path, admins=[ADMIN]) as bot:
        tree = await bot.tree()
        bot.person(ADMIN, "Quản trị")
        bot.fake.add_group(GROUP, "Đảng bộ phường")
        await in_group(bot, ADMIN, "/link")
        assert len(group_buttons(bot)) == 7
        seen = await tap(bot, ADMIN, "Đảng bộ phường Hoàng Văn Thụ")
        assert says(seen, "groups.linked", unit="Đảng bộ phường Hoàng Văn Thụ")
        assert await unit_linked_to(bot) == tree.other_commune
        [entry] = await log(bot, "group_linked")
        assert entry["actor"] == f"tg:{ADMIN}"


async def test_units_are_offered_in_tree_order(bot: Harness) -> None:
    tree = await bot.tree()
    async with bot.db.transaction() as tx:
        found = [u for u in await units.list_units(tx) if u.id != tree.province]
    names = [u.name for u in in_tree_order(list(reversed(found)))]
    assert names == ["Đảng bộ phường Hoàng Văn Thụ", "Đảng bộ xã Tràng Định",
                     "Chi bộ Thôn Bản Chặng", "Tổ đảng số 1", "Chi bộ Thôn Nà Pá"]


async def test_a_member_blocking_the_bot_in_private_is_left_to_others(bot: Harness) -> None:
    """Blocking the bot is a my_chat_member update in a private chat: not about groups."""
    bot.person(MEMBER, "Mai")
    user = bot.fake.users[MEMBER]
    body = {"my_chat_member": {
        "chat": bot.fake.chats[MEMBER], "from": user, "date": 1_700_000_000,
        "old_chat_member": {"user": bot.fake.bot_user, "status": "member"},
        "new_chat_member": {"user": bot.fake.bot_user, "status": "kicked", "until_date": 0},
    }}
    assert not GroupMembershipHandler().check_update(Update.de_json(
        {"update_id": 1, **body}, bot.app.bot))
    mark = len(bot.fake.calls)
    assert (await happens(bot, bot.fake.send_raw(body), mark)).calls == []
