"""Making invite codes and the links members open."""

from __future__ import annotations

import datetime as dt
import secrets

from storage import invites, units
from storage.db import Tx
from storage.entities import Invite, NewInvite, Role

CODE_BYTES = 9  # 12 characters of [A-Za-z0-9_-]: unguessable, and valid in a t.me start link
MAX_USES = 2**63 - 1  # SQLite's INTEGER


class InviteError(Exception):
    """The invite cannot be made: a catalogue key for the admin."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key
        self.params: dict[str, object] = {}


async def create_invite(
    tx: Tx, unit_id: int, role: Role, uses: int, days: int, now: dt.datetime
) -> Invite:
    if await units.get_unit(tx, unit_id) is None:
        raise InviteError("cli.unit_unknown")
    if not 1 <= uses <= MAX_USES or days < 1:
        raise InviteError("cli.invite_bounds")
    if role is not Role.MEMBER and uses > 1:
        # Whoever holds a shared leader link would become a leader: one person, one link,
        # until joins through multi-use links wait for a leader's approval.
        raise InviteError("cli.invite_role_single_use")
    try:
        expires_at = now + dt.timedelta(days=days)
    except OverflowError:
        raise InviteError("cli.invite_bounds") from None
    new = NewInvite(code=secrets.token_urlsafe(CODE_BYTES), unit_id=unit_id, role=role,
                    max_uses=uses, expires_at=expires_at)
    return await invites.add_invite(tx, new, now)


def invite_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"
