"""Invite codes."""

from __future__ import annotations

import datetime as dt

from storage.clock import from_db, to_db
from storage.db import Tx
from storage.entities import Invite, NewInvite


async def add_invite(tx: Tx, invite: NewInvite, now: dt.datetime) -> Invite:
    invite_id = await tx.run(
        "INSERT INTO invites (code, unit_id, role, max_uses, expires_at, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (invite.code, invite.unit_id, invite.role.value, invite.max_uses,
         to_db(invite.expires_at), to_db(now)),
    )
    return Invite(id=invite_id, uses=0, revoked=False, **invite.model_dump())


async def invite_by_code(tx: Tx, code: str) -> Invite | None:
    row = await tx.one(
        "SELECT id, code, unit_id, role, max_uses, uses, expires_at, revoked"
        " FROM invites WHERE code = ?",
        (code,),
    )
    if row is None:
        return None
    values = dict(row)
    values["expires_at"] = from_db(values["expires_at"])
    return Invite(**values)


async def use_invite(tx: Tx, invite_id: int, now: dt.datetime) -> bool:
    """Takes one use if the invite is still valid; False when someone else took the last one."""
    changed = await tx.run(
        "UPDATE invites SET uses = uses + 1"
        " WHERE id = ? AND uses < max_uses AND revoked = 0 AND expires_at > ?",
        (invite_id, to_db(now)),
    )
    return changed == 1
