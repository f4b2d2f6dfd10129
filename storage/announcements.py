"""Announcements a leader sent with /announce (migration 0007), who they go to, and how their
deliveries in the ledger ended."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from storage.clock import from_db, to_db
from storage.db import Tx, placeholders
from storage.entities import Entity

KIND = "announcement"


class NewAnnouncement(Entity):
    unit_id: int
    author_id: int
    text: str
    photo_id: str | None = None
    whole_subtree: bool = False


class Announcement(NewAnnouncement):
    id: int
    created_at: dt.datetime
    reported_at: dt.datetime | None = None


class Recipient(Entity):
    """Someone an announcement goes to privately."""

    person_id: int
    telegram_user_id: int
    lang: str


class Outcome(Entity):
    """How an announcement's deliveries stand: people and groups, how many got it, and how
    many are still on their way."""

    people: int = 0
    people_sent: int = 0
    groups: int = 0
    groups_sent: int = 0
    waiting: int = 0


_COLUMNS = "id, unit_id, author_id, text, photo_id, whole_subtree, created_at, reported_at"


async def add(tx: Tx, item: NewAnnouncement, now: dt.datetime) -> Announcement:
    announcement_id = await tx.run(
        "INSERT INTO announcements (unit_id, author_id, text, photo_id, whole_subtree,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (item.unit_id, item.author_id, item.text, item.photo_id, int(item.whole_subtree),
         to_db(now)))
    return Announcement(id=announcement_id, created_at=now, **item.model_dump())


def _announcement(row) -> Announcement:
    values = dict(row)
    values["created_at"] = from_db(values["created_at"])
    values["reported_at"] = from_db(values["reported_at"]) if values["reported_at"] else None
    return Announcement(**values)


async def get(tx: Tx, announcement_id: int) -> Announcement | None:
    row = await tx.one(f"SELECT {_COLUMNS} FROM announcements WHERE id = ?", (announcement_id,))
    return _announcement(row) if row is not None else None


async def mark_reported(tx: Tx, announcement_id: int, now: dt.datetime) -> bool:
    """Notes that the author was told the outcome; False if that was done already."""
    return await tx.run("UPDATE announcements SET reported_at = ? WHERE id = ? "
                        "AND reported_at IS NULL", (to_db(now), announcement_id)) == 1


async def recipients(tx: Tx, unit_ids: Sequence[int], author_id: int) -> list[Recipient]:
    """The people holding a member or leader role in any of the units who can get a private
    message (a Telegram account, not known to have blocked the bot), each once, the author
    left out."""
    if not unit_ids:
        return []
    rows = await tx.all(
        f"""SELECT DISTINCT p.id AS person_id, p.telegram_user_id, p.lang
            FROM memberships m JOIN people p ON p.id = m.person_id
            WHERE m.unit_id IN ({placeholders(unit_ids)}) AND m.status = 'active'
              AND m.role IN ('member', 'leader') AND p.telegram_user_id IS NOT NULL
              AND p.unreachable = 0 AND p.id != ?
            ORDER BY p.id""",
        (*unit_ids, author_id))
    return [Recipient(**dict(r)) for r in rows]


async def group_chats(tx: Tx, unit_ids: Sequence[int]) -> list[int]:
    """The group chats linked to any of the units."""
    if not unit_ids:
        return []
    rows = await tx.all(
        f"SELECT DISTINCT group_chat_id FROM units WHERE id IN ({placeholders(unit_ids)}) "
        "AND group_chat_id IS NOT NULL ORDER BY group_chat_id", tuple(unit_ids))
    return [int(r["group_chat_id"]) for r in rows]


async def outcome(tx: Tx, unit_id: int, period: str) -> Outcome:
    """How the announcement's deliveries ended: only 'sent' counts as received."""
    rows = await tx.all(
        """SELECT person_id IS NULL AS to_group, status, COUNT(*) AS n FROM deliveries
           WHERE kind = ? AND unit_id = ? AND period = ? GROUP BY 1, 2""",
        (KIND, unit_id, period))
    counts = {"people": 0, "people_sent": 0, "groups": 0, "groups_sent": 0, "waiting": 0}
    for row in rows:
        who = "groups" if row["to_group"] else "people"
        counts[who] += int(row["n"])
        if row["status"] == "sent":
            counts[f"{who}_sent"] += int(row["n"])
        elif row["status"] in ("queued", "sending"):
            counts["waiting"] += int(row["n"])
    return Outcome(**counts)
