"""A command or main-menu word of the private chat sent in a group: one short pointer in the
group, with a button that opens the private chat at that command; at most once an hour for
the same person, and only a few a minute into one group."""

from __future__ import annotations

from bot.flows.groups import GROUP_POINTERS, PRIVATE_ONLY
from storage.entities import Role
from tests.harness import CATALOGUE, Harness, Seen

MEMBER, LEADER, STRANGER = 5001, 5002, 5003
GROUP = -1005001
LINK = "https://t.me/lantoa_test_bot?start="


async def in_group(bot: Harness, user: int, text: str) -> Seen:
    mark = len(bot.fake.calls)
    return await bot.after(bot.fake.send_text(user, text, chat_id=GROUP), mark)


def pointers(seen: Seen) -> list[tuple[str, str]]:
    """(what the pointer says, where its button leads) of each message sent into the group."""
    found = []
    for call in seen.calls:
        if call.params.get("chat_id") != GROUP:
            continue
        rows = (call.params.get("reply_markup") or {}).get("inline_keyboard") or []
        urls = [b.get("url", "") for row in rows for b in row]
        found.append((call.params.get("text", ""), *urls))
    return found


async def members(bot: Harness) -> int:
    cell = await bot.unit("Chi bộ Thôn Bản Chặng")
    await bot.join(MEMBER, cell, "Hoàng Thị Mai")
    await bot.appoint(LEADER, cell, Role.LEADER, "Sơn")
    bot.fake.add_group(GROUP, "Chi bộ Bản Chặng")
    return cell


async def test_report_in_a_group_points_to_the_private_chat_once(bot: Harness) -> None:
    await members(bot)
    seen = await in_group(bot, MEMBER, "/report")
    assert seen.shows("groups.private_only.report", name="Hoàng Thị Mai")
    [(_, url)] = pointers(seen)
    assert url == LINK + "report"
    assert not [c for c in seen.calls if c.params.get("chat_id") == MEMBER]
    # The same person within the hour, by any command: nothing more in the group.
    for again in ("/report", "/stats", "/my@lantoa_test_bot", CATALOGUE.tables["vi"]["menu.my"]):
        assert pointers(await in_group(bot, MEMBER, again)) == []
    bot.clock.advance(minutes=59)
    assert pointers(await in_group(bot, MEMBER, "/stats")) == []
    bot.clock.advance(minutes=1, seconds=1)
    later = await in_group(bot, MEMBER, "/stats")
    assert later.shows("groups.private_only.stats")
    assert [url for _, url in pointers(later)] == [LINK + "stats"]


async def test_menu_words_and_other_commands_point_there_too(bot: Harness) -> None:
    await members(bot)
    seen = await in_group(bot, LEADER, CATALOGUE.tables["en"]["menu.review"])
    assert seen.shows("groups.private_only.other", name="Sơn")
    assert [url for _, url in pointers(seen)] == [LINK + "review"]
    stranger = bot.person(STRANGER, "Tuấn")
    seen = await in_group(bot, stranger, "/my")
    assert seen.shows("groups.private_only.my", name="Tuấn")


async def test_not_for_this_bot_or_not_a_command_gets_nothing(bot: Harness) -> None:
    await members(bot)
    for text in ("/report@another_bot", "/nonsense", "báo cáo", "📝 Báo cáo", "/link2"):
        assert pointers(await in_group(bot, MEMBER, text)) == [], text


async def test_only_a_few_pointers_a_minute_go_into_one_group(bot: Harness) -> None:
    await members(bot)
    people = [bot.person(6000 + n, f"Người {n}") for n in range(GROUP_POINTERS + 2)]
    said = [pointers(await in_group(bot, user, "/report")) for user in people]
    assert [len(p) for p in said] == [1] * GROUP_POINTERS + [0, 0]
    bot.clock.advance(minutes=1, seconds=1)
    # Those left without one get it once the minute is over.
    assert len(pointers(await in_group(bot, people[-1], "/report"))) == 1


async def test_the_link_opens_the_command_in_the_private_chat(bot: Harness) -> None:
    await members(bot)
    for command in ("stats", "my", "help"):
        opened = await bot.say(MEMBER, f"/start {command}")
        direct = await bot.say(MEMBER, f"/{command}")
        assert opened.keys and opened.keys == direct.keys, command
    # Every command a pointer may name opens something (a refusal, for a member's /review).
    for command in PRIVATE_ONLY:
        opened = await bot.say(MEMBER, f"/start {command}")
        assert opened.keys and "join.invite_unknown" not in opened.keys, command
    # An invite code still joins, and a wrong one is still refused.
    bot.person(STRANGER, "Tuấn")
    assert (await bot.say(STRANGER, "/start report1234")).shows("join.invite_unknown")
