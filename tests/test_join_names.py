"""A full name typed at joining that looks typed in haste (no diacritics at all, or no
capitals) is shown back once, to type again or keep; names with few diacritics pass."""

from __future__ import annotations

import pytest

from bot.flows.joins import name_check
from storage import people
from tests.harness import CATALOGUE, Harness, Seen

NEWCOMER = 7001
VI = CATALOGUE.texts("vi")


async def typing_name(bot: Harness, first_name: str = "🌸") -> None:
    """Opens an invite and is asked to type a name (an emoji Telegram name cannot be kept)."""
    cell = await bot.unit("Chi bộ Thôn Bản Chặng")
    bot.person(NEWCOMER, first_name)
    await bot.say(NEWCOMER, f"/start {await bot.invite(cell)}")


async def stored_name(bot: Harness) -> str | None:
    async with bot.db.transaction() as tx:
        person = await people.person_by_telegram_id(tx, NEWCOMER)
    return person.full_name if person else None


@pytest.mark.parametrize(("name", "key", "example"), [
    ("nong van binh", "form.join.full_name.check_unaccented", None),
    ("Nong Van Binh", "form.join.full_name.check_unaccented", None),
    ("nông văn bình", "form.join.full_name.check_lowercase", "Nông Văn Bình"),
    ("h'hen niê", "form.join.full_name.check_lowercase", "H'Hen Niê"),
    ("Nông Văn Bình", None, None), ("Lò Văn Pá", None, None), ("Giàng A Páo", None, None),
    ("Hà Thị 𝓜ai", None, None), ("123", None, None)])
def test_which_names_are_checked(name: str, key: str | None, example: str | None) -> None:
    check = name_check(name)
    assert (check.key, check.example) == (key, example) if check else key is None


async def test_a_name_without_diacritics_is_shown_back_and_kept_on_request(
        bot: Harness) -> None:
    await typing_name(bot)
    seen = await bot.say(NEWCOMER, "nong van binh")
    # The example is the catalogue's, the one the question gave: only the person knows the
    # diacritics of their name.
    assert seen.shows("form.join.full_name.check_unaccented", value="nong van binh",
                      example=VI.plain("form.join.full_name.example"))
    assert "Nông Văn Bình" not in seen.text
    assert await stored_name(bot) is None
    kept = await bot.tap(NEWCOMER, "Giữ nguyên")
    assert kept.shows("join.done_member")
    assert await stored_name(bot) == "nong van binh"


async def test_typing_again_takes_the_new_name_and_a_second_hasty_one_as_typed(
        bot: Harness) -> None:
    await typing_name(bot)
    seen = await bot.say(NEWCOMER, "nông văn bình")
    assert seen.shows("form.join.full_name.check_lowercase", value="nông văn bình",
                      example="Nông Văn Bình")
    again = await bot.say(NEWCOMER, "nong van binh")
    assert again.shows("join.done_member") and not again.shows(
        "form.join.full_name.check_unaccented")
    assert await stored_name(bot) == "nong van binh"


async def test_a_good_name_passes_at_once(bot: Harness) -> None:
    await typing_name(bot)
    seen = await bot.say(NEWCOMER, "Lò Văn Pá")
    assert seen.shows("join.done_member")
    assert await stored_name(bot) == "Lò Văn Pá"


async def test_too_short_is_still_refused_before_any_check(bot: Harness) -> None:
    await typing_name(bot)
    seen: Seen = await bot.say(NEWCOMER, "b")
    assert seen.shows("form.problem.too_short") or seen.shows("form.join.full_name.too_short")
    assert (await bot.say(NEWCOMER, "Bình Nông")).shows("join.done_member")


async def test_the_name_telegram_gave_is_confirmed_without_a_check(bot: Harness) -> None:
    await typing_name(bot, first_name="binh")
    assert (await bot.tap(NEWCOMER, "✅ Đúng")).shows("join.done_member")
    assert await stored_name(bot) == "binh"


async def test_cancel_on_the_check_ends_the_join(bot: Harness) -> None:
    await typing_name(bot)
    await bot.say(NEWCOMER, "nong van binh")
    assert (await bot.tap(NEWCOMER, "✖ Hủy")).shows("form.join.cancelled")
    assert await stored_name(bot) is None
