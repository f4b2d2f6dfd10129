"""The deliveries ledger (migration 0007): one row per (kind, unit, chat, period), holding what
to send. Rows are inserted in the transaction that decides to send; the paced sender moves
them queued → sending → sent / unreachable / failed."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from enum import StrEnum

from storage import bots
from storage.clock import from_db, to_db
from storage.db import Tx, placeholders
from storage.entities import Entity

ButtonRows = tuple[tuple[tuple[str, str], ...], ...]  # ((label, data), …) per row


class Status(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    UNREACHABLE = "unreachable"  # the person blocked the bot, or the chat is gone
    FAILED = "failed"  # Telegram kept refusing, or kept failing past the retries
    MISSED = "missed"  # its time passed (beyond the grace window) while the bot was down
    UNCERTAIN = "uncertain"  # the bot died mid-send: never sent again, so never twice

    @property
    def settled(self) -> bool:
        return self not in (Status.QUEUED, Status.SENDING)


class NewDelivery(Entity):
    kind: str
    unit_id: int
    chat_id: int
    period: str
    person_id: int | None = None
    text: str = ""
    buttons: ButtonRows = ()
    photo_id: str | None = None
    photo: bytes | None = None
    status: Status = Status.QUEUED


class Delivery(NewDelivery):
    id: int
    bot_id: int = bots.NO_BOT
    attempts: int = 0
    decided_at: dt.datetime


_COLUMNS = ("kind", "unit_id", "chat_id", "period", "person_id", "status", "text", "buttons",
            "photo_id", "photo")


def _delivery(row) -> Delivery:
    values = dict(row)
    values["buttons"] = tuple(tuple(tuple(b) for b in r) for r in json.loads(values["buttons"]))
    values["decided_at"] = from_db(values["decided_at"])
    return Delivery(**{k: values[k]
                       for k in (*_COLUMNS, "id", "attempts", "decided_at", "bot_id")})




async def _senders(tx: Tx, items: Sequence[NewDelivery]) -> list[int]:
    """The bot each row goes out through. A group's: the bot that owns the unit the group is
    linked to (it was linked through that bot; a province's announcement reaches its cells'
    groups through theirs), else the row's unit's. A person's: the bot of the row's unit, if it
    serves one of their roles; else a bot that does (the province's announcement reaches a
    cell's member through the cell's bot, the only one they may talk to)."""
    chats = sorted({i.chat_id for i in items})
    held: dict[int, set[int]] = {}
    for start in range(0, len(chats), bots.CHUNK):
        some = chats[start:start + bots.CHUNK]
        rows = await tx.all(
            f"SELECT p.telegram_user_id AS chat, m.unit_id FROM people p "
            f"JOIN memberships m ON m.person_id = p.id WHERE m.status = 'active' "
            f"AND p.telegram_user_id IN ({placeholders(some)}) "
            f"UNION ALL SELECT group_chat_id AS chat, id AS unit_id FROM units "
            f"WHERE group_chat_id IN ({placeholders(some)})", (*some, *some))
        for r in rows:
            held.setdefault(int(r["chat"]), set()).add(int(r["unit_id"]))
    owners = await bots.owners_of(
        tx, {i.unit_id for i in items}.union(*held.values()))
    found = []
    for item in items:
        owner = owners[item.unit_id]
        theirs = {owners[u] for u in held.get(item.chat_id, ())}
        found.append(owner if not theirs or owner in theirs else min(theirs))
    return found


async def queue(tx: Tx, items: Sequence[NewDelivery], now: dt.datetime) -> list[int]:
    """Records the decisions, each for the bot that sends it (`_senders`); one already in the
    ledger for the same (kind, unit, chat, period) is left as it was. Returns the ids of the
    rows added."""
    added: list[int] = []
    for item, bot_id in zip(items, await _senders(tx, items), strict=True):
        row = await tx.one(
            f"""INSERT INTO deliveries ({", ".join(_COLUMNS)}, bot_id, decided_at, settled_at)
                VALUES ({", ".join("?" * (len(_COLUMNS) + 3))})
                ON CONFLICT DO NOTHING RETURNING id""",
            (item.kind, item.unit_id, item.chat_id, item.period, item.person_id,
             item.status.value, item.text, json.dumps(item.buttons, ensure_ascii=False),
             item.photo_id, item.photo, bot_id, to_db(now),
             to_db(now) if item.status.settled else None),
        )
        if row is not None:
            added.append(int(row["id"]))
    return added


async def decided_units(tx: Tx, kind: str, period: str,
                        unit_ids: Sequence[int] | None = None) -> set[int]:
    """The units (of these) whose `kind` of `period` is in the deliveries ledger already,
    whatever became of it: a digest is decided once per unit and period."""
    among = f"AND unit_id IN ({placeholders(unit_ids)})" if unit_ids is not None else ""
    rows = await tx.all(
        f"SELECT DISTINCT unit_id FROM deliveries WHERE kind = ? AND period = ? {among}",
        (kind, period, *(unit_ids or ())))
    return {int(r["unit_id"]) for r in rows}


async def decided_chats(tx: Tx, kind: str, unit_id: int, period: str) -> set[int]:
    """The chats a (kind, unit, period) is already decided for, whatever became of it."""
    rows = await tx.all(
        "SELECT chat_id FROM deliveries WHERE kind = ? AND unit_id = ? AND period = ?",
        (kind, unit_id, period))
    return {int(r["chat_id"]) for r in rows}


async def chats_given(tx: Tx, kind: str, period: str) -> set[int]:
    """The chats a `kind` of `period` is decided for already, by any unit: a private message
    that goes to a person once however many of their units decide it."""
    rows = await tx.all("SELECT chat_id FROM deliveries WHERE kind = ? AND period = ?",
                        (kind, period))
    return {int(r["chat_id"]) for r in rows}


async def waiting(tx: Tx, limit: int, after_id: int = 0) -> list[Delivery]:
    """Queued rows, oldest first."""
    rows = await tx.all(
        "SELECT * FROM deliveries WHERE status = 'queued' AND id > ? ORDER BY id LIMIT ?",
        (after_id, limit))
    return [_delivery(r) for r in rows]


async def get(tx: Tx, delivery_id: int) -> Delivery | None:
    row = await tx.one("SELECT * FROM deliveries WHERE id = ?", (delivery_id,))
    return _delivery(row) if row is not None else None


async def start_sending(tx: Tx, delivery_id: int) -> bool:
    """queued → sending; False if someone else took it or it is no longer queued."""
    return await tx.run("UPDATE deliveries SET status = 'sending', attempts = attempts + 1 "
                        "WHERE id = ? AND status = 'queued'", (delivery_id,)) == 1


async def settle(tx: Tx, delivery_id: int, status: Status, now: dt.datetime,
                 detail: str | None = None) -> None:
    """The final word on a row; a chart made for it is dropped (sent once, not kept)."""
    await tx.run("UPDATE deliveries SET status = ?, settled_at = ?, detail = ?, photo = NULL "
                 "WHERE id = ?", (status.value, to_db(now), detail, delivery_id))


async def requeue(tx: Tx, delivery_id: int, chat_id: int | None = None) -> None:
    """Back to queued (nothing of it reached Telegram), optionally for a group's new id."""
    if chat_id is None:
        await tx.run("UPDATE deliveries SET status = 'queued' WHERE id = ?", (delivery_id,))
    else:
        await tx.run("UPDATE deliveries SET status = 'queued', chat_id = ? WHERE id = ?",
                     (chat_id, delivery_id))


def _of(bot_id: int | None) -> tuple[str, tuple[int, ...]]:
    """The condition that keeps one bot's rows (None: every bot's), and its parameter."""
    return ("", ()) if bot_id is None else (" AND bot_id = ?", (bot_id,))


async def abandon_in_flight(tx: Tx, now: dt.datetime, bot_id: int | None = None) -> int:
    """At start-up: rows caught mid-send by a crash may have reached Telegram; never twice.
    Only the starting bot's: another bot's sender may be sending its own right now."""
    mine, params = _of(bot_id)
    return await _settle_where(tx, "status = 'sending'" + mine, params, Status.UNCERTAIN, now)


async def _settle_where(tx: Tx, condition: str, params: tuple, status: Status,
                        now: dt.datetime) -> int:
    return await tx.run(f"UPDATE deliveries SET status = ?, settled_at = ?, photo = NULL "
                        f"WHERE {condition}", (status.value, to_db(now), *params))


async def drop_chat(tx: Tx, chat_id: int, now: dt.datetime, bot_id: int | None = None) -> int:
    """A chat that blocked the bot: everything still queued for it through that bot will not
    arrive."""
    mine, params = _of(bot_id)
    return await _settle_where(tx, "chat_id = ? AND status = 'queued'" + mine,
                               (chat_id, *params), Status.UNREACHABLE, now)


async def counts(tx: Tx, kind: str, unit_id: int, period: str) -> dict[Status, int]:
    rows = await tx.all(
        "SELECT status, COUNT(*) AS n FROM deliveries WHERE kind = ? AND unit_id = ? "
        "AND period = ? GROUP BY status", (kind, unit_id, period))
    return {Status(r["status"]): int(r["n"]) for r in rows}


async def in_ledger(tx: Tx, kind: str | None = None) -> list[Delivery]:
    """Every row (of a kind), in order: for tests and the CLI."""
    if kind is None:
        rows = await tx.all("SELECT * FROM deliveries ORDER BY id")
    else:
        rows = await tx.all("SELECT * FROM deliveries WHERE kind = ? ORDER BY id", (kind,))
    return [_delivery(r) for r in rows]


async def waiting_chats(tx: Tx, limit: int, busy: Sequence[int] = (),
                        bot_id: int | None = None) -> list[int]:
    """Chats with queued rows (of this bot), the one waiting longest first, leaving out `busy`
    ones."""
    skip = f"AND chat_id NOT IN ({', '.join('?' * len(busy))})" if busy else ""
    mine, params = _of(bot_id)
    rows = await tx.all(
        f"SELECT chat_id, MIN(id) AS first FROM deliveries WHERE status = 'queued' {skip}{mine} "
        "GROUP BY chat_id ORDER BY first LIMIT ?", (*busy, *params, limit))
    return [int(r["chat_id"]) for r in rows]


async def next_of_chat(tx: Tx, chat_id: int, bot_id: int | None = None) -> Delivery | None:
    """The chat's oldest queued row (of this bot): one chat's rows go strictly in order."""
    mine, params = _of(bot_id)
    row = await tx.one(f"SELECT * FROM deliveries WHERE status = 'queued' AND chat_id = ?{mine} "
                       "ORDER BY id LIMIT 1", (chat_id, *params))
    return _delivery(row) if row is not None else None


async def backlog(tx: Tx, bot_id: int | None = None) -> dict[Status, int]:
    """How many rows (of this bot) are queued, and how many being sent."""
    mine, params = _of(bot_id)
    rows = await tx.all(f"SELECT status, COUNT(*) AS n FROM deliveries "
                        f"WHERE status IN ('queued', 'sending'){mine} GROUP BY status", params)
    found = {Status(r["status"]): int(r["n"]) for r in rows}
    return {status: found.get(status, 0) for status in (Status.QUEUED, Status.SENDING)}


async def unsettled(tx: Tx, bot_id: int | None = None) -> int:
    """How many rows (of this bot) are queued or being sent."""
    return sum((await backlog(tx, bot_id)).values())


# The same decision is not held by the chat a row would move to (the rows' unique key).
_NOT_THERE = ("NOT EXISTS (SELECT 1 FROM deliveries there WHERE there.chat_id = ? AND "
              "there.kind = deliveries.kind AND there.unit_id = deliveries.unit_id AND "
              "there.period = deliveries.period)")


async def move_chat(tx: Tx, old_chat_id: int, new_chat_id: int, delivery_id: int,
                    now: dt.datetime) -> bool:
    """A group got a new id: the row being sent and the chat's queued rows follow it. A row the
    new id already holds the same decision for is settled unreachable (it is there already).
    Returns whether the row being sent moved."""
    moved = await tx.run(f"UPDATE deliveries SET chat_id = ? WHERE id = ? AND {_NOT_THERE}",
                         (new_chat_id, delivery_id, new_chat_id)) == 1
    await tx.run(f"UPDATE deliveries SET chat_id = ? "
                 f"WHERE chat_id = ? AND status = 'queued' AND {_NOT_THERE}",
                 (new_chat_id, old_chat_id, new_chat_id))
    await _settle_where(tx, "chat_id = ? AND status = 'queued'", (old_chat_id,),
                        Status.UNREACHABLE, now)
    return moved


async def keys_of(tx: Tx, status: Status, chat_id: int | None = None,
                  kind: str | None = None, bot_id: int | None = None) -> set[tuple[str, int, str]]:
    """The (kind, unit, period) of the rows in this state (in this chat, of this kind, of this
    bot)."""
    where = ["status = ?"]
    params: list[object] = [status.value]
    for column, value in (("chat_id", chat_id), ("kind", kind), ("bot_id", bot_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    rows = await tx.all(
        f"SELECT DISTINCT kind, unit_id, period FROM deliveries WHERE {' AND '.join(where)}",
        tuple(params))
    return {(str(r["kind"]), int(r["unit_id"]), str(r["period"])) for r in rows}


async def detail_of(tx: Tx, delivery_id: int) -> str | None:
    """Why a row was settled as it was (Telegram's words for a failure), if said."""
    row = await tx.one("SELECT detail FROM deliveries WHERE id = ?", (delivery_id,))
    return None if row is None or row["detail"] is None else str(row["detail"])
