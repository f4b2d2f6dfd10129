"""Members imported from a file: the people already there (to create nobody twice), the new
people with their roles and personal invites written in bulk, and the imports under way in
the bot between /import and ✅ Nhập."""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum

from storage.clock import from_db, to_db
from storage.db import Tx, placeholders
from storage.entities import Entity, NewInvite, Role


class Status(StrEnum):
    WAITING = "waiting"  # for the file
    PREVIEWED = "previewed"  # its rows checked and shown, waiting for ✅ Nhập
    IMPORTED = "imported"
    CANCELLED = "cancelled"


class Session(Entity):
    """One import in the bot, from /import (or a file sent) to ✅ Nhập or ✖ Hủy."""

    id: int
    telegram_user_id: int
    status: Status
    filename: str | None
    rows: list[dict]
    updated_at: dt.datetime


class Known(Entity):
    """Someone who holds a live role in a unit: an imported row with their name and unit is
    them."""

    person_id: int
    full_name: str
    telegram_user_id: int | None
    unit_id: int
    role: Role
    title: str | None


class NewMember(Entity):
    full_name: str
    unit_id: int
    role: Role
    title: str | None
    telegram_username: str | None
    phone: str | None


class PersonalLink(Entity):
    invite_id: int
    person_id: int
    code: str
    expires_at: dt.datetime


_SESSION = "id, telegram_user_id, status, filename, rows, updated_at"


def _session(row) -> Session:
    values = dict(row)
    values["rows"] = json.loads(values["rows"] or "[]")
    values["updated_at"] = from_db(values["updated_at"])
    return Session(**values)


async def known_in(tx: Tx, unit_ids: list[int]) -> list[Known]:
    """Everyone with a live role (active or waiting for approval) in these units. The units'
    rows are taken for this transaction first (a write that changes nothing): two imports
    into the same units at once (two leaders, or /import and the CLI) on a database with
    several writers then read one after the other, and the second finds the people the first
    created instead of creating them again (storage/INVARIANTS.md)."""
    if not unit_ids:
        return []
    await tx.run(f"UPDATE units SET name = name WHERE id IN ({placeholders(unit_ids)})",
                 tuple(unit_ids))
    rows = await tx.all(
        f"""SELECT m.person_id, p.full_name, p.telegram_user_id, m.unit_id, m.role, m.title
            FROM memberships m JOIN people p ON p.id = m.person_id
            WHERE m.unit_id IN ({placeholders(unit_ids)}) AND m.status != 'removed'
            ORDER BY m.id""",
        tuple(unit_ids),
    )
    return [Known(**dict(r)) for r in rows]


async def live_links(tx: Tx, person_ids: list[int], now: dt.datetime) -> list[PersonalLink]:
    """The personal invites of these people that still work, newest last."""
    if not person_ids:
        return []
    rows = await tx.all(
        f"""SELECT id AS invite_id, person_id, code, expires_at FROM invites
            WHERE person_id IN ({placeholders(person_ids)}) AND revoked = 0
              AND uses < max_uses AND expires_at > ?
            ORDER BY id""",
        (*person_ids, to_db(now)),
    )
    return [PersonalLink(**{**dict(r), "expires_at": from_db(r["expires_at"])}) for r in rows]


async def extend_links(tx: Tx, invite_ids: list[int], expires_at: dt.datetime) -> None:
    """The links handed out before keep working until `expires_at` (never shortened)."""
    await tx.run_many("UPDATE invites SET expires_at = ? WHERE id = ? AND expires_at < ?",
                      [(to_db(expires_at), invite_id, to_db(expires_at))
                       for invite_id in invite_ids])


# 4 values a row: well under SQLite's 32,766 parameters and PostgreSQL's 65,535.
_ROWS_PER_INSERT = 2_000


async def add_members(tx: Tx, members: list[NewMember], now: dt.datetime) -> list[int]:
    """New people without Telegram, each with their role; their ids, in order. Written in
    bulk, many rows a statement (20,000 rows would otherwise be 40,000 trips); both databases
    number one statement's rows in the order of its VALUES."""
    ids: list[int] = []
    for start in range(0, len(members), _ROWS_PER_INSERT):
        chunk = members[start:start + _ROWS_PER_INSERT]
        rows = await tx.all(
            "INSERT INTO people (telegram_user_id, full_name, lang, telegram_username, phone,"
            " created_at) VALUES " + ", ".join(["(NULL, ?, 'vi', ?, ?, ?)"] * len(chunk))
            + " RETURNING id",
            tuple(value for m in chunk
                  for value in (m.full_name, m.telegram_username, m.phone, to_db(now))))
        ids.extend(sorted(int(r["id"]) for r in rows))
    await tx.run_many(
        "INSERT INTO memberships (person_id, unit_id, role, title, joined_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [(person_id, m.unit_id, m.role.value, m.title, to_db(now))
         for person_id, m in zip(ids, members, strict=True)])
    return ids


async def set_contacts(tx: Tx, contacts: list[tuple[int, str | None, str | None]]) -> None:
    """(person, phone, Telegram username) as a newer list gives them; None keeps what was."""
    await tx.run_many(
        "UPDATE people SET phone = COALESCE(?, phone),"
        " telegram_username = COALESCE(?, telegram_username) WHERE id = ?",
        [(phone, username, person_id) for person_id, phone, username in contacts])


async def add_links(tx: Tx, links: list[NewInvite], created_by: int | None,
                    now: dt.datetime) -> None:
    await tx.run_many(
        "INSERT INTO invites (code, unit_id, role, max_uses, expires_at, created_by, created_at,"
        " person_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(link.code, link.unit_id, link.role.value, link.max_uses, to_db(link.expires_at),
          created_by, to_db(now), link.person_id) for link in links])


# --- imports under way in the bot ---------------------------------------------------------------


async def begin(tx: Tx, telegram_user_id: int, now: dt.datetime) -> Session:
    """A new import waiting for its file; the person's earlier ones not finished are over."""
    await cancel_open(tx, telegram_user_id, now)
    session_id = await tx.run(
        "INSERT INTO member_imports (telegram_user_id, status, created_at, updated_at)"
        " VALUES (?, 'waiting', ?, ?)",
        (telegram_user_id, to_db(now), to_db(now)),
    )
    return Session(id=session_id, telegram_user_id=telegram_user_id, status=Status.WAITING,
                   filename=None, rows=[], updated_at=now)


async def open_session(tx: Tx, telegram_user_id: int, since: dt.datetime) -> Session | None:
    """The person's import waiting for a file or for ✅, if touched since `since`."""
    row = await tx.one(
        f"SELECT {_SESSION} FROM member_imports WHERE telegram_user_id = ?"
        " AND status IN ('waiting', 'previewed') AND updated_at >= ? ORDER BY id DESC LIMIT 1",
        (telegram_user_id, to_db(since)),
    )
    return _session(row) if row else None


async def get_session(tx: Tx, session_id: int) -> Session | None:
    row = await tx.one(f"SELECT {_SESSION} FROM member_imports WHERE id = ?", (session_id,))
    return _session(row) if row else None


async def previewed(tx: Tx, session_id: int, filename: str, rows: list[dict] | None,
                    now: dt.datetime) -> None:
    """A file came: its checked rows wait for ✅ (None: it had errors, and the import waits
    for the file again)."""
    status = Status.PREVIEWED if rows is not None else Status.WAITING
    await tx.run(
        "UPDATE member_imports SET status = ?, filename = ?, rows = ?, updated_at = ?"
        " WHERE id = ?",
        (status.value, filename, json.dumps(rows, ensure_ascii=False) if rows else None,
         to_db(now), session_id),
    )


async def imported(tx: Tx, session_id: int, now: dt.datetime) -> bool:
    """False when it was imported already (✅ pressed twice, or the update delivered again)."""
    return await tx.run(
        "UPDATE member_imports SET status = 'imported', updated_at = ?"
        " WHERE id = ? AND status = 'previewed'", (to_db(now), session_id)) == 1


async def cancel_open(tx: Tx, telegram_user_id: int, now: dt.datetime) -> int:
    """Ends the person's imports not finished; how many there were."""
    return await tx.run(
        "UPDATE member_imports SET status = 'cancelled', updated_at = ?"
        " WHERE telegram_user_id = ? AND status IN ('waiting', 'previewed')",
        (to_db(now), telegram_user_id),
    )
