"""What reminders and private nudges need beyond storage/schedules.py and storage/people.py:
who may get a nudge (and whether they lead somewhere), and which chats were nudged in a week
(across units: one nudge a person a week). A person's own nudge setting is
storage/settings.py."""

from __future__ import annotations

from collections.abc import Collection

from storage import deliveries
from storage.db import Tx, placeholders
from storage.entities import Entity


class Recipient(Entity):
    person_id: int
    telegram_user_id: int
    full_name: str
    lang: str
    leads: bool = False  # a leader somewhere: reports too (counts in y), and reads a leader's words


async def recipients(tx: Tx, person_ids: Collection[int]) -> list[Recipient]:
    """Of these people, those a nudge can reach and who want one: on Telegram, nudges on,
    not marked unreachable (they blocked the bot). By id."""
    if not person_ids:
        return []
    ids = sorted(person_ids)
    rows = await tx.all(
        f"""SELECT id, telegram_user_id, full_name, lang,
                   EXISTS (SELECT 1 FROM memberships m WHERE m.person_id = people.id
                           AND m.role = 'leader' AND m.status = 'active') AS leads
            FROM people
            WHERE id IN ({placeholders(ids)}) AND telegram_user_id IS NOT NULL
              AND nudges_enabled = 1 AND unreachable = 0 ORDER BY id""", tuple(ids))
    return [Recipient(person_id=r["id"], telegram_user_id=r["telegram_user_id"],
                      full_name=r["full_name"], lang=r["lang"], leads=bool(r["leads"]))
            for r in rows]


async def nudged_chats(tx: Tx, period: str) -> set[int]:
    """The private chats already given a nudge for the week, by any unit's reminder."""
    return await deliveries.chats_given(tx, "nudge", period)
