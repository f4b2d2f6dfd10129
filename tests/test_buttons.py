"""Button data: each kind of button declared once (bot/ui/buttons.py), read back defensively
(ids the database cannot hold are not ids), and refused when nothing declared it."""

from __future__ import annotations

import pytest

from bot.flows.members import GiveRole, OpenCard, UnitList
from bot.flows.stats import UnitStats
from bot.forms.buttons import FormStep
from bot.rules.access import Action
from bot.runtime import core  # noqa: F401 (every flow's buttons declared)
from bot.ui import buttons
from bot.ui.buttons import LARGEST_ID, ButtonData, Id
from storage import audit
from storage.entities import Role
from tests.harness import Harness

HUGE = str(LARGEST_ID + 1)


def test_a_declaration_packs_and_reads_back() -> None:
    assert OpenCard(membership=7).pack() == "mb:o:7"
    assert buttons.read("mb:o:7") == OpenCard(7)
    assert buttons.read("mb:l:3:0") == UnitList(unit=3, page=0)
    assert buttons.read("st:u:m:5") == UnitStats(period="m", unit=5)
    assert buttons.read("mb:o:7").action is Action.MEMBERS


@pytest.mark.parametrize("data", [
    "mb:o", "mb:o:7:8",  # a field short, one too many
    "mb:zz:7", "zz:o:7", "", ":", "mb", "mb:",  # declared by nobody
    "mb:o:-1", "mb:o:1e3", "mb:o:", "mb:o: 7", "mb:o:007", "mb:o:²", f"mb:o:{HUGE}",
    "mb:rt:1:10",  # a title beyond the declared bound
    "st:u:zz:5",  # a period code nobody declared
])
def test_data_no_declaration_made_reads_as_nothing(data: str) -> None:
    assert buttons.read(data) is None


def test_every_field_says_its_bounds_and_every_button_its_action() -> None:
    with pytest.raises(TypeError, match="bounds"):
        class _NoBounds(ButtonData, prefix="zz:a", action=Action.MEMBERS):
            count: int
    with pytest.raises(TypeError, match="Action"):
        class _NoAction(ButtonData, prefix="zz:b", action="members"):  # type: ignore[arg-type]
            row: Id
    with pytest.raises(TypeError, match="prefix"):
        class _Twice(ButtonData, prefix="mb:o", action=Action.MEMBERS):
            row: Id


def test_data_longer_than_telegram_keeps_is_never_made() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        FormStep(draft=LARGEST_ID, step="s", verb="retype", arg="x" * 40).pack()
    assert GiveRole(LARGEST_ID, 9).pack().count(":") == 3


async def test_unreadable_data_is_refused_and_logged(bot: Harness) -> None:
    tree = await bot.tree()
    await bot.appoint(1002, tree.cell, Role.LEADER, "Sơn")
    message_id = bot.fake.last_message(1002)["message_id"]
    seen = await bot.press_data(1002, message_id, "mb:o:-1", check_button=False)
    assert seen.toast == bot.core.services.texts("vi").plain("members.not_found")
    async with bot.db.transaction() as tx:
        [entry] = [e for e in await audit.entries(tx, "refused") if e["subject"] == "button"]
    assert entry["actor"] == "tg:1002" and entry["detail"] == "mb:o:-1"


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
    assert seen.shows("fallback.private_only")
    assert len(bot.fake.messages(group)) == before
