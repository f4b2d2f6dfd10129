"""What each racer of tests/test_invariants.py does in its transaction: one user action that
storage/INVARIANTS.md says must win once. A racer is `attempt(tx, subject, i)`: the subject's
id (an invite, a report, a unit…) and which racer it is (0 or 1). Run by the test on two
connections, and by two OS processes (`python -m tests.racing ADDRESS NAME SUBJECT I`), which
say "ready", wait for a line on stdin to go, and print what their attempt returned."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from storage import (
    deliveries,
    drafts,
    groups,
    invites,
    joins,
    member_import,
    people,
    reports,
    reviews,
    schedules,
)
from storage import members as memberships
from storage.db import Database, Tx
from storage.entities import ReportContent, ReportState, Role
from storage.inbox import keep_new
from storage.joins import Decision
from storage.schedules import NewSchedule, ScheduleKind

NOW = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)
AUTHOR = 2000  # the Telegram id of the member whose report and draft are raced over
RACING_BOT = 123456  # the bot whose inbox the racers write to
UPDATES = [(101, '{"update_id": 101}'), (102, '{"update_id": 102}')]
NEW_GROUP = -1001234
IMPORTED = ("Lò Văn Pá", "Quàng Thị Xuân", "Hà Văn Thắng")
CORRECTED = "Giúp 20 kg gạo cho hộ bà Lò Thị Hoa"  # the author's correction of a report
DECISIONS = (Decision.APPROVED, Decision.REJECTED)
STANDARD = [NewSchedule(unit_id=0, kind=ScheduleKind.DIGEST, weekday=0, at=dt.time(7, 30)),
            NewSchedule(unit_id=0, kind=ScheduleKind.REMINDER, weekday=4, at=dt.time(16))]

Attempt = Callable[[Tx, int, int], Awaitable[Any]]


async def use_invite(tx: Tx, invite_id: int, i: int) -> bool:
    return await invites.use_invite(tx, invite_id, NOW)


async def attach_telegram(tx: Tx, person_id: int, i: int) -> bool:
    return await people.attach_telegram(tx, person_id, 5000 + i)


async def send_report(tx: Tx, draft_id: int, i: int) -> int | None:
    """✅ Gửi, as bot/flows/reports.py submit does it: the draft goes, the report comes."""
    if not await drafts.delete_draft(tx, draft_id):
        return None
    author = await people.person_by_telegram_id(tx, AUTHOR)
    assert author is not None
    home = (await people.active_memberships(tx, author.id))[0]
    return await reports.insert_report(
        tx, person_id=author.id, unit_id=home.unit_id, entered_by=author.id,
        source_draft_id=draft_id, content=ReportContent(
            deed_date=NOW.date(), field="an_sinh", description=f"Sửa đường {i}"), now=NOW)


async def acknowledge(tx: Tx, report_id: int, i: int) -> bool:
    if not await reviews.change_state(tx, report_id, ReportState.PENDING,
                                      ReportState.ACKNOWLEDGED, NOW):
        return False
    await reviews.add_review(tx, report_id, 1 + i, "acknowledged", None, NOW)
    return True


async def acknowledge_or_withdraw(tx: Tx, report_id: int, i: int) -> bool:
    if i == 0:
        return await reviews.change_state(tx, report_id, ReportState.PENDING,
                                          ReportState.ACKNOWLEDGED, NOW)
    return await reports.withdraw_report(tx, report_id, NOW)


async def acknowledge_seen_or_correct(tx: Tx, report_id: int, i: int) -> bool:
    """Racer 0 is a leader's "Ghi nhận tất cả … vừa xem" (bot/flows/reviews.py) in the pass
    that showed the report: each report still as it was shown is acknowledged. Racer 1 is
    the report's author correcting it."""
    from bot.flows.reviews import fingerprint  # here: the flows are slow to import
    if i == 1:
        return await reports.replace_content(tx, report_id, ReportContent(
            deed_date=NOW.date(), field="an_sinh", description=CORRECTED), NOW)
    seen = await tx.one("SELECT pass_id FROM review_seen WHERE report_id = ?", (report_id,))
    assert seen is not None
    acknowledged = False
    for shown_id, shown in await reviews.take_seen_pending(tx, int(seen["pass_id"])):
        report = await reports.get_report(tx, shown_id)
        if report is not None and fingerprint(report) == shown:
            acknowledged |= await reviews.change_state(tx, shown_id, ReportState.PENDING,
                                                       ReportState.ACKNOWLEDGED, NOW)
    return acknowledged


async def step_down(tx: Tx, unit_id: int, i: int) -> bool:
    """Leader number `i` of the unit steps down, as bot/flows/members.py _take_role does."""
    if await memberships.leader_count(tx, unit_id) <= 1:
        return False
    rows = await tx.all("SELECT id FROM memberships WHERE unit_id = ? AND role = 'leader'"
                        " ORDER BY id", (unit_id,))
    await memberships.end_rows(tx, [int(rows[i]["id"])])
    return True


async def decide_join(tx: Tx, request_id: int, i: int) -> bool:
    return await joins.decide(tx, request_id, DECISIONS[i], None, f"Bí thư {i}", NOW)


async def confirm_import(tx: Tx, session_id: int, i: int) -> bool:
    return await member_import.imported(tx, session_id, NOW)


async def import_file(tx: Tx, unit_id: int, i: int) -> int:
    from bot.flows.member_import import ImportRow, import_rows  # here: slow to import
    rows = [ImportRow(line=n, name=name, unit_id=unit_id, role=Role.MEMBER)
            for n, name in enumerate(IMPORTED, 2)]
    return len(await import_rows(tx, rows, NOW, 7, None))


async def queue_digest(tx: Tx, unit_id: int, i: int) -> int:
    item = deliveries.NewDelivery(kind="digest", unit_id=unit_id, chat_id=-100,
                                  period="2026-W49", text="Bản tin tuần")
    return len(await deliveries.queue(tx, [item], NOW))


async def claim_delivery(tx: Tx, delivery_id: int, i: int) -> bool:
    return await deliveries.start_sending(tx, delivery_id)


async def keep_updates(tx: Tx, _: int, i: int) -> list[int]:
    """The same two updates, in another order for each racer; the ids it was told are new."""
    return sorted(await keep_new(tx, RACING_BOT, UPDATES[i:] + UPDATES[:i], NOW))


async def add_standard_schedules(tx: Tx, _: int, i: int) -> int:
    return await schedules.add_missing_standard(tx, STANDARD, NOW)


async def move_group(tx: Tx, old_chat_id: int, i: int) -> int | None:
    return await groups.move_group(tx, old_chat_id, NEW_GROUP)


ATTEMPTS: dict[str, Attempt] = {attempt.__name__: attempt for attempt in (
    use_invite, attach_telegram, send_report, acknowledge, acknowledge_or_withdraw,
    acknowledge_seen_or_correct, step_down,
    decide_join, confirm_import, import_file, queue_digest, claim_delivery, keep_updates,
    add_standard_schedules, move_group)}


async def _race_in_this_process(address: str, name: str, subject: int, i: int) -> None:
    db = await Database.open(address, durable=False)
    try:
        print("ready", flush=True)
        sys.stdin.readline()
        async with db.transaction() as tx:
            outcome = await ATTEMPTS[name](tx, subject, i)
    finally:
        await db.close()
    print(repr(outcome), flush=True)


if __name__ == "__main__":
    address, name, subject, i = sys.argv[1:]
    asyncio.run(_race_in_this_process(address, name, int(subject), int(i)))
