"""The review loop (part 4): "chờ ghi nhận" means one thing in /digest, /review and /stats
(a pending report; one sent back for more waits for its author and is shown apart); the
leader who asked for more hears when the member sends the report back (held to the morning in
the quiet hours); one daily notice to each leader when reports wait; the member's correction
repeats the leader's note."""

from __future__ import annotations

from storage.entities import Role
from tests.harness import Harness, Tree

SON, MAI, BINH, LAN = 5001, 5002, 5003, 5004
CELL = "Chi bộ Thôn Bản Chặng"


async def _cell(bot: Harness) -> Tree:
    """Chi bộ Thôn Bản Chặng: bí thư Sơn, members Mai, Bình and Lan."""
    tree = await bot.tree()
    await bot.appoint(SON, tree.cell, Role.LEADER, "Hoàng Văn", "Sơn")
    for user, name in ((MAI, "Mai"), (BINH, "Bình"), (LAN, "Lan")):
        await bot.join(user, tree.cell, name)
    return tree


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


async def test_waiting_is_the_same_number_in_digest_review_and_stats(bot: Harness) -> None:
    tree = await _cell(bot)
    await _one_of_each(bot, tree)

    digest = await bot.say(SON, "/digest")
    assert digest.shows("digest.waiting", count=2)
    assert digest.shows("digest.sent_back", count=1)
    assert not digest.shows("digest.none_waiting")

    review = await bot.say(SON, "/review")
    assert review.shows("review.title", position=1, total=2, name="Mai",
                        date=bot.clock.now().strftime("%d/%m/%Y"), field="Xã hội")
    await bot.tap(SON, "Tiếp ▶")
    end = await bot.tap(SON, "Tiếp ▶")
    assert end.shows("review.end", count=2)
    assert end.shows("review.sent_back", count=1)

    stats = await bot.say(SON, "/stats")
    assert stats.shows("stats.states", acknowledged=1, pending=2, needs_more=1)


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
