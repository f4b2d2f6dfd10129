""""Today" is the day in Hà Nội, not in UTC: early in the morning (when the UTC date is still
yesterday) and late in the evening, and across the new year.

Every other story runs at 09:00 Hà Nội time, when the UTC date and the local date agree, so
only these stories can tell the two apart."""

from __future__ import annotations

import datetime as dt

from storage import drafts, reports
from tests.harness import CATALOGUE, HANOI, Harness

MAI = 1001

# Saturday 28/11/2026 06:30 in Hà Nội = Friday 27/11/2026 23:30 UTC.
SATURDAY_DAWN = dt.datetime(2026, 11, 28, 6, 30, tzinfo=HANOI)
# Friday 27/11/2026 23:30 in Hà Nội = Friday 27/11/2026 16:30 UTC.
FRIDAY_NIGHT = dt.datetime(2026, 11, 27, 23, 30, tzinfo=HANOI)
# Friday 1/1/2027 00:30 in Hà Nội = Thursday 31/12/2026 17:30 UTC.
NEW_YEAR_NIGHT = dt.datetime(2027, 1, 1, 0, 30, tzinfo=HANOI)


def test_the_moments_fall_on_another_utc_date_or_hour() -> None:
    """The premise of this file: otherwise the stories below prove nothing."""
    assert SATURDAY_DAWN.astimezone(dt.UTC).date() == dt.date(2026, 11, 27)
    assert FRIDAY_NIGHT.astimezone(dt.UTC).hour == 16
    assert NEW_YEAR_NIGHT.astimezone(dt.UTC).date() == dt.date(2026, 12, 31)


async def _at(bot: Harness, moment: dt.datetime) -> None:
    bot.clock.moment = moment
    await bot.member_of_new_cell(MAI)


async def _deed_date(bot: Harness) -> str:
    async with bot.db.transaction() as tx:
        draft = await drafts.draft_of(tx, MAI)
    assert draft is not None, "the report is still being written"
    return draft.state["answers"]["deed_date"]


async def _typed_day(bot: Harness, day: str) -> str:
    await bot.say(MAI, "/report")
    await bot.say(MAI, day)
    return await _deed_date(bot)


async def test_at_dawn_the_first_date_button_is_the_local_today(bot: Harness) -> None:
    await _at(bot, SATURDAY_DAWN)
    await bot.say(MAI, "/report")
    assert bot.buttons(MAI)[:2] == ["Hôm nay 28/11", "Hôm qua 27/11"]
    await bot.tap(MAI, "Hôm nay")
    assert await _deed_date(bot) == "2026-11-28"


async def test_at_dawn_typing_today_records_the_local_date(bot: Harness) -> None:
    await _at(bot, SATURDAY_DAWN)
    assert await _typed_day(bot, "hôm nay") == "2026-11-28"


async def test_at_dawn_typing_yesterday_records_the_day_before_the_local_date(
    bot: Harness
) -> None:
    await _at(bot, SATURDAY_DAWN)
    assert await _typed_day(bot, "hôm qua") == "2026-11-27"


async def test_a_report_sent_at_dawn_is_listed_under_the_local_date(bot: Harness) -> None:
    await _at(bot, SATURDAY_DAWN)
    await bot.begin_report(MAI, description="Giúp bà con thôn Bản Chặng gặt lúa trước mưa")
    assert (await bot.tap(MAI, "✅ Gửi ngay")).shows("report.received")
    async with bot.db.transaction() as tx:
        [report] = await tx.all("SELECT id FROM reports")
        stored = await reports.get_report(tx, report["id"])
    assert stored is not None and stored.content.deed_date == dt.date(2026, 11, 28)
    listing = await bot.say(MAI, "/my")
    assert listing.shows("my.line", number=1, date="28/11/2026", field="Kinh tế",
                         state=CATALOGUE.texts("vi")("report.state.pending"),
                         preview="Giúp bà con thôn Bản Chặng gặt lúa trước mưa")
    assert bot.buttons(MAI)[0].startswith("1. 28/11 · ")


async def test_late_in_the_evening_today_is_still_the_local_date(bot: Harness) -> None:
    await _at(bot, FRIDAY_NIGHT)
    await bot.say(MAI, "/report")
    assert bot.buttons(MAI)[:2] == ["Hôm nay 27/11", "Hôm qua 26/11"]
    await bot.say(MAI, "hôm nay")
    assert await _deed_date(bot) == "2026-11-27"


async def test_just_after_midnight_on_new_year_today_is_in_the_new_year(bot: Harness) -> None:
    await _at(bot, NEW_YEAR_NIGHT)
    await bot.say(MAI, "/report")
    assert bot.buttons(MAI)[:2] == ["Hôm nay 01/01", "Hôm qua 31/12"]
    await bot.tap(MAI, "Hôm nay")
    assert await _deed_date(bot) == "2027-01-01"


async def test_just_after_midnight_on_new_year_yesterday_is_last_year(bot: Harness) -> None:
    await _at(bot, NEW_YEAR_NIGHT)
    assert await _typed_day(bot, "hôm qua") == "2026-12-31"
