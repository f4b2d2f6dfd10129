"""The review loop (part 4): "chờ ghi nhận" means one thing in /digest, /review and /stats
(a pending report; one sent back for more waits for its author and is shown apart); the
leader who asked for more hears when the member sends the report back (held to the morning in
the quiet hours); one daily notice to each leader when reports wait; the member's correction
repeats the leader's note."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from handlers import schedules as schedule_jobs
from handlers.schedules import MORNING_JOB
from storage import audit
from storage.entities import Role
from storage.schedules import ScheduleKind
from tests.harness import CATALOGUE, Harness, Seen, Tree, as_read, started
from tests.test_schedules_due import at, ledger, new_units, row_of, run_job

SON, MAI, BINH, LAN, HANH = 5001, 5002, 5003, 5004, 5005
CELL = "Chi bộ Thôn Bản Chặng"
VI = CATALOGUE.texts("vi")
DAY = "26/11/2026"  # the deed's day of a report made with the form (yesterday)


async def morning(bot: Harness) -> None:
    """The run when the quiet hours end (07:00), and what it sends."""
    await bot.app.job_queue.get_jobs_by_name(MORNING_JOB)[0].run(bot.app)
    await bot.deliveries_settled()


async def _cell(bot: Harness) -> Tree:
    """Chi bộ Thôn Bản Chặng: bí thư Sơn, members Mai, Bình and Lan."""
    tree = await bot.tree()
    await bot.appoint(SON, tree.cell, Role.LEADER, "Hoàng Văn", "Sơn")
    for user, name in ((MAI, "Mai"), (BINH, "Bình"), (LAN, "Lan")):
        await bot.join(user, tree.cell, name)
    return tree


async def _leaves(bot: Harness, user_id: int, unit_id: int) -> None:
    """Someone's role in the unit ends (as /members removes it)."""
    person_id = await bot.person_id(user_id)
    async with bot.db.transaction() as tx:
        await tx.run("UPDATE memberships SET status = 'removed' WHERE unit_id = ?"
                     " AND person_id = ?", (unit_id, person_id))


async def _one_of_each(bot: Harness, tree: Tree) -> None:
    """Two reports waiting, one sent back for more, one acknowledged, one withdrawn: all
    received this week, of deeds done this week."""
    await bot.stored_report(MAI, tree.cell, words="Dọn vệ sinh đường làng")
    await bot.stored_report(BINH, tree.cell, words="Giúp hộ nghèo thu hoạch lúa")
    await bot.stored_report(LAN, tree.cell, words="Sửa mái nhà cho hộ bà Hoa",
                            state="needs_more")
    await bot.stored_report(MAI, tree.cell, words="Tuyên truyền phòng cháy rừng",
                            state="acknowledged")
    await bot.stored_report(BINH, tree.cell, words="Vận động hiến đất làm đường",
                            state="withdrawn")


async def _sons_own(bot: Harness, tree: Tree) -> None:
    """The bí thư's own reports: one waiting (another leader acknowledges it, so it is not in
    his queue), one sent back for more (waiting for him, as its author)."""
    await bot.stored_report(SON, tree.cell, words="Trao quà cho gia đình chính sách")
    await bot.stored_report(SON, tree.cell, words="Hướng dẫn bà con làm hồ sơ vay vốn",
                            state="needs_more")


async def test_waiting_is_the_same_number_in_digest_review_and_stats(bot: Harness) -> None:
    tree = await _cell(bot)
    await new_units(bot)
    await _one_of_each(bot, tree)
    await _sons_own(bot, tree)

    digest = await bot.say(SON, "/digest")
    assert digest.shows("digest.waiting", count=3)
    assert digest.shows("digest.sent_back", count=2)
    assert not digest.shows("digest.none_waiting")

    # His queue (2) and his own waiting (1) make the digest's 3; the reports sent back are
    # the digest's 2, his own among them.
    review = await bot.say(SON, "/review")
    assert review.shows("review.title", position=1, total=2, name="Mai",
                        date=bot.clock.now().strftime("%d/%m/%Y"), field="Xã hội")
    await bot.tap(SON, "Tiếp ▶")
    end = await bot.tap(SON, "Tiếp ▶")
    assert end.shows("review.end", count=2)
    assert end.shows("review.own_waiting", count=1)
    assert end.shows("review.sent_back", count=2)

    stats = await bot.say(SON, "/stats")
    assert stats.shows("stats.states", acknowledged=1, pending=3, needs_more=2)

    await _daily(bot, tree.cell)
    notice = bot.fake.last_message(SON) or {}
    assert notice["text"] == as_read(VI("review.notice_daily", count=2) + "\n"
                                     + VI("review.own_waiting", count=1))


async def test_a_leader_whose_own_report_alone_waits_is_told_where_it_is(bot: Harness) -> None:
    tree = await _cell(bot)
    await new_units(bot)
    await bot.stored_report(SON, tree.cell, words="Trao quà cho gia đình chính sách")
    assert (await bot.say(SON, "/digest")).shows("digest.waiting", count=1)
    review = await bot.say(SON, "/review")
    assert review.shows("review.empty") and review.shows("review.own_waiting", count=1)
    assert not review.shows("review.sent_back", count=1)
    await _daily(bot, tree.cell)
    assert _daily_notices(bot) == 0, "nothing waits for him to do"
    # Once a member's report waits for him, the notice says so, and of his own beside it.
    await bot.stored_report(MAI, tree.cell)
    await _daily(bot, tree.cell, at(2026, 11, 28, 19))
    assert _daily_notices(bot) == 1
    assert (bot.fake.last_message(SON) or {})["text"] == as_read(
        VI("review.notice_daily", count=1) + "\n" + VI("review.own_waiting", count=1))


async def test_nothing_waits_when_only_reports_sent_back_remain(bot: Harness) -> None:
    tree = await _cell(bot)
    await bot.stored_report(LAN, tree.cell, state="needs_more")
    await bot.stored_report(MAI, tree.cell, state="acknowledged")
    digest = await bot.say(SON, "/digest")
    assert not digest.shows("digest.waiting", count=1)
    assert not digest.shows("digest.none_waiting"), "not all were acknowledged"
    assert digest.shows("digest.sent_back", count=1)
    review = await bot.say(SON, "/review")
    assert review.shows("review.empty") and review.shows("review.sent_back", count=1)
    stats = await bot.say(SON, "/stats")
    assert stats.shows("stats.states", acknowledged=1, pending=0, needs_more=1)


# --- the leader who asked hears that the report came back ----------------------------------


ROOF = "Cùng tổ sửa mái nhà dột cho hộ bà Lăng Thị Hoa, hộ nghèo thôn Bản Chặng"
NOTE = "Ghi rõ số ngày công của các đồng chí"


async def _asked_for_more(bot: Harness) -> Tree:
    """Mai reports the roof; Sơn asks her for more."""
    tree = await _cell(bot)
    await new_units(bot)
    await bot.report(MAI, ROOF)
    await bot.say(SON, "/review")
    await bot.tap(SON, "↩ Đề nghị bổ sung")
    await bot.say(SON, NOTE)
    return tree


async def _mai_sends_it_again(bot: Harness) -> Seen:
    opened = await bot.tap(MAI, "✏ Bổ sung ngay")
    assert opened.shows("my.leader_note", note=NOTE), "the correction repeats the note"
    await bot.edit_on_summary(MAI, "nội dung")
    await bot.say(MAI, ROOF + ", 3 ngày công")
    sent = await bot.tap(MAI, "✅ Gửi")
    assert sent.shows("report.corrected")
    return sent


def _resubmitted(bot: Harness) -> int:
    return bot.told(SON, "review.notice_resubmitted")


async def test_the_leader_who_asked_hears_the_report_came_back(bot: Harness) -> None:
    await _asked_for_more(bot)
    await _mai_sends_it_again(bot)
    await bot.deliveries_settled()
    assert _resubmitted(bot) == 1
    notice = bot.fake.last_message(SON) or {}
    assert notice["text"] == as_read(VI("review.notice_resubmitted", name="Mai", date=DAY))
    assert notice["text"].lower().count("đồng chí") == 1, "one comrade named: the member"
    assert bot.buttons(SON) == ["✅ Ghi nhận báo cáo"]
    queue = await bot.tap(SON, "✅ Ghi nhận báo cáo")
    assert queue.shows("review.title", position=1, total=1, name="Mai", date=DAY,
                       field="Xã hội")
    # Correcting a report already waiting again tells nobody anything more.
    await bot.say(MAI, "/my")
    await bot.tap(MAI, "1. 26/11")
    await bot.tap(MAI, "✏ Sửa")
    await bot.edit_on_summary(MAI, "nội dung")
    await bot.say(MAI, ROOF + ", 3 ngày công, 1 hộ")
    await bot.tap(MAI, "✅ Gửi")
    await morning(bot)
    assert _resubmitted(bot) == 1
    assert len(await ledger(bot, "resubmitted")) == 1


async def test_the_detail_of_a_report_sent_back_repeats_the_note(bot: Harness) -> None:
    await _asked_for_more(bot)
    await bot.say(MAI, "/my")
    opened = await bot.tap(MAI, "1. 26/11")
    assert opened.shows("my.leader_note", note=NOTE)
    corrected = await bot.tap(MAI, "✏ Sửa")
    assert corrected.shows("my.leader_note", note=NOTE)


async def test_late_in_the_evening_the_notice_waits_for_the_morning(tmp_path: Path) -> None:
    async with started(tmp_path) as bot:
        await _asked_for_more(bot)
        bot.clock.moment = at(2026, 11, 27, 22, 30)
        await _mai_sends_it_again(bot)
        await morning(bot)  # a catch-up in the night sends nothing either
        assert _resubmitted(bot) == 0
        assert await ledger(bot, "resubmitted") == []
        fake = bot.fake
    # The bot is restarted in the morning: the held notice goes, once.
    async with started(tmp_path, fake, now=at(2026, 11, 28, 7, 15)) as bot:
        await schedule_jobs.installed(bot.app)
        await bot.deliveries_settled()
        assert _resubmitted(bot) == 1
        await morning(bot)
        assert _resubmitted(bot) == 1


async def test_a_leader_who_left_is_not_told(bot: Harness) -> None:
    tree = await _asked_for_more(bot)
    await _leaves(bot, SON, tree.cell)
    await _mai_sends_it_again(bot)
    await morning(bot)
    assert _resubmitted(bot) == 0


# --- the daily notice ------------------------------------------------------------------------


EVENING = at(2026, 11, 27, 19)


async def _daily(bot: Harness, unit_id: int, moment: dt.datetime = EVENING) -> None:
    bot.clock.moment = moment
    await run_job(bot, (await row_of(bot, unit_id, ScheduleKind.REVIEW)).id)
    await bot.deliveries_settled()


def _daily_notices(bot: Harness, chat: int = SON) -> int:
    return bot.told(chat, "review.notice_daily")


async def test_a_leader_hears_once_a_day_what_waits(bot: Harness) -> None:
    tree = await _cell(bot)
    await new_units(bot)
    await _daily(bot, tree.cell)
    assert _daily_notices(bot) == 0, "nothing waits: nothing said"
    await _one_of_each(bot, tree)
    await _daily(bot, tree.cell)
    assert _daily_notices(bot) == 1
    notice = bot.fake.last_message(SON) or {}
    assert notice["text"] == as_read(VI("review.notice_daily", count=2))
    assert bot.buttons(SON) == ["✅ Ghi nhận báo cáo", "🔕 Không nhắc nữa"]
    # The hour moved later the same evening: still one a day.
    await bot.say(SON, "/schedule")
    await bot.tap(SON, "🕗 Giờ nhắc ghi nhận")
    await bot.tap(SON, "20:00")
    await _daily(bot, tree.cell, at(2026, 11, 27, 20))
    await morning(bot)
    assert _daily_notices(bot) == 1
    # The next evening, again.
    await _daily(bot, tree.cell, at(2026, 11, 28, 20))
    assert _daily_notices(bot) == 2
    assert {d.period for d in await ledger(bot, "review_daily")} == {"2026-11-27",
                                                                     "2026-11-28"}


async def test_the_notice_can_be_turned_off_by_each_leader(bot: Harness) -> None:
    tree = await _cell(bot)
    await new_units(bot)
    await _one_of_each(bot, tree)
    await _daily(bot, tree.cell)
    off = await bot.tap(SON, "🔕 Không nhắc nữa")
    assert off.shows("settings.review_turned_off")
    assert off.shows("settings.review_notices", state=VI("settings.state_off"))
    await _daily(bot, tree.cell, at(2026, 11, 28, 19))
    assert _daily_notices(bot) == 1
    shown = await bot.say(SON, "/settings")
    assert shown.shows("settings.review_notices", state=VI("settings.state_off"))
    on = await bot.tap(SON, "📥 Bật nhắc ghi nhận báo cáo")
    assert on.shows("settings.review_turned_on")
    await _daily(bot, tree.cell, at(2026, 11, 29, 19))
    assert _daily_notices(bot) == 2
    # A member's /settings has no such switch.
    member = await bot.say(MAI, "/settings")
    assert not member.shows("settings.review_notices", state=VI("settings.state_on"))
    async with bot.db.transaction() as tx:
        assert len(await audit.entries(tx, "review_notices_off")) == 1


async def test_an_hour_in_the_quiet_hours_waits_for_the_morning(bot: Harness) -> None:
    tree = await _cell(bot)
    await new_units(bot)
    await _one_of_each(bot, tree)
    async with bot.db.transaction() as tx:
        await tx.run("UPDATE schedules SET at = '05:00' WHERE unit_id = ? AND kind = 'review'",
                     (tree.cell,))
    await _daily(bot, tree.cell, at(2026, 11, 28, 5))
    assert _daily_notices(bot) == 0
    bot.clock.moment = at(2026, 11, 28, 7)
    await morning(bot)
    assert _daily_notices(bot) == 1


async def test_a_leader_of_two_units_gets_one_notice(bot: Harness) -> None:
    tree = await _cell(bot)
    await bot.appoint(SON, tree.sibling_cell, Role.LEADER, "Hoàng Văn", "Sơn")
    await bot.join(HANH, tree.sibling_cell, "Hạnh")
    await new_units(bot)
    await _one_of_each(bot, tree)
    await bot.stored_report(HANH, tree.sibling_cell, words="Trồng cây xanh ven đường")
    await _daily(bot, tree.cell)
    await _daily(bot, tree.sibling_cell)
    assert _daily_notices(bot) == 1
    notice = bot.fake.last_message(SON) or {}
    assert notice["text"] == as_read(VI("review.notice_daily", count=3))


async def test_a_leader_who_left_gets_no_daily_notice(bot: Harness) -> None:
    tree = await _cell(bot)
    await new_units(bot)
    await _one_of_each(bot, tree)
    await _leaves(bot, SON, tree.cell)
    await _daily(bot, tree.cell)
    assert _daily_notices(bot) == 0


async def test_forged_switch_data_gets_a_polite_note(bot: Harness) -> None:
    await _cell(bot)
    await bot.say(SON, "/settings")
    message_id = bot.fake.last_message(SON)["message_id"]
    for data in ("rn:maybe", "rn:", "rn:on:7"):
        seen = await bot.press_data(SON, message_id, data, check_button=False)
        assert seen.shows("settings.stale"), data
    stranger = 5999
    bot.person(stranger, "Khách")
    await bot.say(stranger, "/settings")
    seen = await bot.press_data(stranger, bot.fake.last_message(stranger)["message_id"],
                                "rn:off", check_button=False)
    assert seen.shows("access.not_member")
