"""`lantoa status`: per bot on the database, which process is active and which wait as
standbys (storage/leases.py), then the work: the update handled last, the inbox's and the
ledger's backlogs, and Telegram's 429s over the last hour."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from bot.ui import formatting
from bot.ui.catalogue import Texts
from storage import bots, deliveries, inbox, leases
from storage.db import Tx
from storage.deliveries import Status
from storage.leases import Lease

_When = Callable[[float | dt.datetime], str]

# A process not seen for this many lease periods is listed as silent (killed, or cut off).
SILENT_AFTER_LEASES = 3


async def status_lines(tx: Tx, t: Texts, zone: ZoneInfo, lease_seconds: float) -> list[str]:
    now = await leases.database_now(tx)

    def when(moment: float | dt.datetime) -> str:
        """dd/mm/yyyy HH:MM in the bot's zone."""
        if isinstance(moment, float):
            moment = dt.datetime.fromtimestamp(moment, dt.UTC)
        return formatting.day_time(moment.astimezone(zone))

    lines = []
    bot_ids = await leases.bots(tx)
    if not bot_ids:
        lines.append(t.plain("cli.status.no_bots"))
    for bot_id in bot_ids:
        lease = await leases.current(tx, bot_id)
        seen = await leases.processes(tx, bot_id)
        username = await bots.username_of(tx, bot_id)
        lines.append(t.plain("cli.status.bot", bot_id=bot_id,
                             name=f" (@{username})" if username else ""))
        lines.append(_holder_line(lease, now, t, when))
        active = lease.holder if lease is not None and lease.expires_at > now else None
        # A process last seen active that no longer holds the lease is not waiting: killed
        # a moment ago, or cut off (its heartbeat has not had time to fall silent yet).
        alive = [p for p in seen if now - p.seen_at <= SILENT_AFTER_LEASES * lease_seconds
                 and (p.instance == active or p.role == "standby")]
        lines += [t.plain("cli.status.standby", host=p.host, pid=p.pid, seen=when(p.seen_at))
                  for p in alive if p.instance != active]
        lines += [t.plain("cli.status.silent", host=p.host, pid=p.pid, seen=when(p.seen_at))
                  for p in seen if p not in alive]
        lines.append(t.plain("cli.status.retry_afters",
                             count=sum(p.retry_afters for p in alive)))
        lines += await _work_lines(tx, t, when, bot_id)
    return lines


def _holder_line(lease: Lease | None, now: float, t: Texts, when: _When) -> str:
    if lease is None:
        return t.plain("cli.status.never_active")
    if lease.expires_at > now:
        return t.plain("cli.status.active", host=lease.host, pid=lease.pid,
                       since=when(lease.since), renewed=when(lease.renewed_at),
                       ago=round(now - lease.renewed_at))
    return t.plain("cli.status.none_active", host=lease.host, pid=lease.pid,
                   ended=when(lease.expires_at))


async def _work_lines(tx: Tx, t: Texts, when: _When, bot_id: int) -> list[str]:
    last = await inbox.last_handled(tx, bot_id)
    queued = await deliveries.backlog(tx, bot_id)
    return [
        t.plain("cli.status.last_update", update_id=last[0], at=when(last[1]))
        if last is not None else t.plain("cli.status.no_update"),
        t.plain("cli.status.inbox", count=await inbox.backlog(tx, bot_id)),
        t.plain("cli.status.ledger", queued=queued[Status.QUEUED],
                sending=queued[Status.SENDING]),
    ]
