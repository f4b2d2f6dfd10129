"""Making invite codes and the links members open."""

from __future__ import annotations

import datetime as dt
import secrets

from bot.config import Settings
from storage import invites, meta, units
from storage.db import Tx
from storage.entities import Invite, NewInvite, Role
from storage.invites import Status

CODE_BYTES = 9  # 12 characters of [A-Za-z0-9_-]: unguessable, and valid in a t.me start link
MAX_USES = 2**63 - 1  # SQLite's INTEGER


class InviteError(Exception):
    """The invite cannot be made: a catalogue key for the admin."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key
        self.params: dict[str, object] = {}


async def create_invite(
    tx: Tx, unit_id: int, role: Role, uses: int, days: int, now: dt.datetime,
    created_by: int | None = None,
) -> Invite:
    """A new invite. Any role may have several uses: whoever joins through a multi-use
    invite waits for a leader's approval (bot/joining.py), so a shared link makes nobody a
    leader by itself."""
    if await units.get_unit(tx, unit_id) is None:
        raise InviteError("cli.unit_unknown")
    if not 1 <= uses <= MAX_USES or days < 1:
        raise InviteError("cli.invite_bounds")
    try:
        expires_at = now + dt.timedelta(days=days)
    except OverflowError:
        raise InviteError("cli.invite_bounds") from None
    new = NewInvite(code=secrets.token_urlsafe(CODE_BYTES), unit_id=unit_id, role=role,
                    max_uses=uses, expires_at=expires_at)
    return await invites.add_invite(tx, new, now, created_by)


def needs_approval(invite: Invite) -> bool:
    """A link meant for one person admits them at once; a shared one asks a leader first."""
    return invite.max_uses > 1


def invite_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


async def bot_username(tx: Tx, settings: Settings) -> str | None:
    """The configured username, or the one the bot learnt from Telegram when it started."""
    return settings.bot_username or await meta.get(tx, "bot_username")


async def waiting_key(tx: Tx, person_id: int | None) -> str | None:
    """For someone with no active role: the text that says their join waits for a leader's
    approval, if it does (None otherwise)."""
    if person_id is None:
        return None
    live = await invites.live_memberships(tx, person_id)
    if any(m.status is Status.PENDING for m in live):
        return "invite.request.waiting"
    return None
