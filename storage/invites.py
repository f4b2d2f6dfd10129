"""Invite codes: made, found, used, revoked. The joins through them are storage/joins.py."""

from __future__ import annotations

import datetime as dt

from storage.clock import from_db, to_db
from storage.db import Tx, placeholders
from storage.entities import Invite, NewInvite

_INVITE = "id, code, unit_id, role, max_uses, uses, expires_at, revoked, person_id"


def _invite(row) -> Invite:
    values = dict(row)
    values["expires_at"] = from_db(values["expires_at"])
    return Invite(**values)


async def add_invite(tx: Tx, invite: NewInvite, now: dt.datetime,
                     created_by: int | None = None) -> Invite:
    invite_id = await tx.run(
        "INSERT INTO invites (code, unit_id, role, max_uses, expires_at, created_by, created_at,"
        " person_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (invite.code, invite.unit_id, invite.role.value, invite.max_uses,
         to_db(invite.expires_at), created_by, to_db(now), invite.person_id),
    )
    return Invite(id=invite_id, uses=0, revoked=False, **invite.model_dump())


async def invite_by_code(tx: Tx, code: str) -> Invite | None:
    row = await tx.one(f"SELECT {_INVITE} FROM invites WHERE code = ?", (code,))
    return _invite(row) if row else None


async def get_invite(tx: Tx, invite_id: int) -> Invite | None:
    row = await tx.one(f"SELECT {_INVITE} FROM invites WHERE id = ?", (invite_id,))
    return _invite(row) if row else None


async def live_invites(tx: Tx, unit_ids: list[int], now: dt.datetime) -> list[Invite]:
    """The invites of these units that can still be used, newest first; not the personal
    links of imported members (hundreds of them: the import's links file lists them)."""
    if not unit_ids:
        return []
    marks = placeholders(unit_ids)
    rows = await tx.all(
        f"SELECT {_INVITE} FROM invites WHERE unit_id IN ({marks})"
        " AND revoked = 0 AND expires_at > ? AND uses < max_uses AND person_id IS NULL"
        " ORDER BY id DESC",
        (*unit_ids, to_db(now)),
    )
    return [_invite(r) for r in rows]


async def use_invite(tx: Tx, invite_id: int, now: dt.datetime) -> bool:
    """Takes one use if the invite is still valid; False when someone else took the last one."""
    changed = await tx.run(
        "UPDATE invites SET uses = uses + 1"
        " WHERE id = ? AND uses < max_uses AND revoked = 0 AND expires_at > ?",
        (invite_id, to_db(now)),
    )
    return changed == 1


async def revoke_invite(tx: Tx, invite_id: int) -> bool:
    """False when it was already revoked (by someone else, a moment ago)."""
    return await tx.run("UPDATE invites SET revoked = 1 WHERE id = ? AND revoked = 0",
                        (invite_id,)) == 1
