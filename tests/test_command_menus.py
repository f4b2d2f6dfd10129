"""The "/" command menu follows each person's roles and language; groups offer /link."""

from __future__ import annotations

import json
from pathlib import Path

from storage import people
from storage.entities import Role
from tests.fakebot import FakeTelegram
from tests.harness import CATALOGUE, Harness, started

MAI, SON, LAN = 3001, 3002, 3003


def chat_menu(fake: FakeTelegram, user_id: int) -> list[str] | None:
    key = (json.dumps({"chat_id": user_id, "type": "chat"}, sort_keys=True), "")
    commands = fake.commands.get(key)
    return None if commands is None else [c["command"] for c in commands]


def default_menu(fake: FakeTelegram, scope: str, lang: str = "") -> list[dict[str, str]]:
    return fake.commands[(json.dumps({"type": scope}, sort_keys=True), lang)]


async def test_members_have_the_default_menu_in_vietnamese_and_english(bot: Harness) -> None:
    private = default_menu(bot.fake, "all_private_chats")
    assert [c["command"] for c in private] == [
        "report", "my", "model", "stats", "commit", "settings", "help", "lang", "cancel"]
    vi, en = CATALOGUE.texts("vi"), CATALOGUE.texts("en")
    assert {"command": "report", "description": vi.plain("command.report")} in private
    english = default_menu(bot.fake, "all_private_chats", "en")
    assert english[0] == {"command": "report", "description": en.plain("command.report")}
    groups = default_menu(bot.fake, "all_chat_administrators")
    assert [c["command"] for c in groups] == ["link", "unlink"]
    tree = await bot.tree()
    await bot.join(MAI, tree.cell, "Mai")
    await bot.say(MAI, "/help")
    assert chat_menu(bot.fake, MAI) is None


async def test_a_leader_gets_the_leaders_menu_and_loses_it_with_the_role(bot: Harness) -> None:
    tree = await bot.tree()
    await bot.appoint(SON, tree.cell, Role.LEADER, "Sơn")
    await bot.say(SON, "/help")
    await bot.fake.wait_for(lambda f: chat_menu(f, SON) is not None)
    menu = chat_menu(bot.fake, SON)
    assert menu is not None and {"review", "members", "invite", "behalf"} <= set(menu)
    sets = len(bot.fake.calls_to("setMyCommands"))
    await bot.say(SON, "/help")
    assert len(bot.fake.calls_to("setMyCommands")) == sets, "sent again without a change"
    async with bot.db.transaction() as tx:
        await tx.run("UPDATE memberships SET status = 'removed' WHERE role = 'leader'")
    await bot.say(SON, "/help")
    await bot.fake.wait_for(lambda f: chat_menu(f, SON) is None)


async def test_a_role_given_by_a_leader_reaches_the_menu_at_once(bot: Harness) -> None:
    tree = await bot.tree()
    await bot.appoint(SON, tree.cell, Role.LEADER, "Sơn")
    await bot.join(MAI, tree.cell, "Mai")
    async with bot.db.transaction() as tx:
        row = await tx.one("SELECT id FROM memberships WHERE role = 'member'")
    await bot.say(SON, "/members")
    await bot.press_data(SON, bot.fake.last_message(SON)["message_id"], f"mb:rt:{row['id']}:0",
                         check_button=False)
    await bot.fake.wait_for(lambda f: chat_menu(f, MAI) is not None)
    assert "review" in (chat_menu(bot.fake, MAI) or [])


async def test_an_observer_sees_only_what_they_can_read(bot: Harness) -> None:
    tree = await bot.tree()
    await bot.appoint(LAN, tree.province, Role.OBSERVER, "Lan")
    await bot.say(LAN, "/help")
    await bot.fake.wait_for(lambda f: chat_menu(f, LAN) is not None)
    assert chat_menu(bot.fake, LAN) == ["stats", "digest", "export", "report_doc", "model",
                                        "commit", "help", "lang"]


async def test_english_speakers_get_their_menu_in_english(bot: Harness) -> None:
    tree = await bot.tree()
    await bot.join(MAI, tree.cell, "Mai")
    await bot.say(MAI, "/lang")
    await bot.tap(MAI, "🇬🇧 English")
    key = (json.dumps({"chat_id": MAI, "type": "chat"}, sort_keys=True), "")
    await bot.fake.wait_for(lambda f: key in f.commands)
    assert bot.fake.commands[key][0] == {"command": "report",
                                         "description": bot.core.services.texts("en").plain(
                                             "command.report")}


async def test_roles_set_while_the_bot_was_down_reach_the_menu_at_start(tmp_path: Path) -> None:
    fake = FakeTelegram()
    async with started(tmp_path, fake) as bot:
        tree = await bot.tree()
        async with bot.db.transaction() as tx:
            son = await people.add_person(tx, SON, "Hoàng Văn Sơn", "vi", bot.clock.now())
            await people.add_membership(tx, son.id, tree.cell, Role.LEADER, None,
                                        bot.clock.now())
    async with started(tmp_path, fake):
        await fake.wait_for(lambda f: chat_menu(f, SON) is not None)
    assert "review" in (chat_menu(fake, SON) or [])
