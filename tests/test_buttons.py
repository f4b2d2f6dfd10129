"""Button data read back defensively: ids the database cannot hold are not ids."""

from __future__ import annotations

import pytest

from bot.ui.buttons import LARGEST_ID, Press, number, pack, verb_and_number, verb_and_numbers
from storage.entities import Role
from tests.harness import Harness

HUGE = str(LARGEST_ID + 1)


@pytest.mark.parametrize(("text", "value"), [
    ("0", 0), ("42", 42), (str(LARGEST_ID), LARGEST_ID), (HUGE, None), ("-1", None),
    ("", None), ("²", None), ("١٢", None), ("4 2", None), ("0x1f", None),
])
def test_number(text: str, value: int | None) -> None:
    assert number(text) == value


def test_pack_and_read_back() -> None:
    assert pack("my", "open", 7) == "my:open:7"
    assert verb_and_number("my:open:7", "my") == ("open", 7)
    assert verb_and_number("my:open:7", "rv") is None
    assert verb_and_number("my:open:7:8", "my") is None
    assert verb_and_number("gl:z:1", "gl", ("u", "p")) is None


ARITY = {"v": 1, "d": 2}


@pytest.mark.parametrize(("data", "press"), [
    ("sc:v:7", Press("v", (7,))),
    ("sc:d:7:3", Press("d", (7, 3))),
    ("sc:d:7", None),  # a number short
    ("sc:v:7:3", None),  # one too many
    ("sc:x:7", None),  # an unknown verb
    ("mb:v:7", None),  # another flow's prefix
    ("sc:v:-1", None), ("sc:v:1e3", None), ("sc:v:", None), ("sc", None), ("", None),
    (f"sc:v:{LARGEST_ID + 1}", None),
])
def test_verb_and_numbers(data: str, press: Press | None) -> None:
    assert verb_and_numbers(data, "sc", ARITY) == press


@pytest.mark.parametrize("data", [
    f"my:open:{HUGE}", f"rv:ack:{HUGE}:00000000", f"mb:o:{HUGE}", f"md:open:{HUGE}",
    f"cm:edit:{HUGE}", f"ob:for:{HUGE}", f"st:u:m:{HUGE}", f"iv:rvy:{HUGE}", f"jr:ok:{HUGE}",
    f"f:{HUGE}:0:done:", f"lang:{HUGE}",
])
async def test_an_id_too_large_for_the_database_gets_a_polite_answer(bot: Harness,
                                                                      data: str) -> None:
    tree = await bot.tree()
    await bot.join(1001, tree.cell, "Mai")
    message_id = bot.fake.last_message(1001)["message_id"]
    seen = await bot.press_data(1001, message_id, data, check_button=False)
    assert seen.toast, "a forged press is answered"
    trouble = bot.core.services.texts("vi").plain("error.generic")
    assert trouble not in seen.text, "the press broke something"


@pytest.mark.parametrize("prefix", ["rv:open:1", "my:open:1", "mb:l:1:0", "iv:home", "jr:ok:1",
                                    "md:open:1", "st:u:m:1", "cm:form:0", "ob:for:1"])
async def test_a_private_button_pressed_in_a_group_shows_nothing_there(bot: Harness,
                                                                      prefix: str) -> None:
    tree = await bot.tree()
    await bot.appoint(1002, tree.cell, Role.LEADER, "Sơn")
    group = -1001
    bot.fake.add_group(group, "Chi bộ Thôn Bản Chặng")
    mark = len(bot.fake.calls)
    await bot.after(bot.fake.add_bot_to_group(group, 1002), mark)
    hello = bot.fake.last_message(group)
    assert hello is not None
    before = len(bot.fake.messages(group))
    mark = len(bot.fake.calls)
    pressed = bot.fake.press(1002, hello["message_id"], prefix, chat_id=group, check_button=False)
    seen = await bot.after(pressed, mark)
    assert seen.toast == "Nút này chỉ dùng trong tin nhắn riêng với Lan Tỏa."
    assert len(bot.fake.messages(group)) == before
