"""The lease that makes one `lantoa run` process of a bot the active one (migration 0012), and
the processes seen, for `lantoa status`.

Taking and renewing are one conditional upsert whose answer decides: the row becomes ours only
when it is ours already and still valid (a renewal), has expired, or is held by a process
known to be dead (`dead`: see bot/runtime/standby.py); two processes trying at once are
ordered by the row's lock (or SQLite's write lock), and the second sees the first's row. Times
are seconds since 1970 from the database's clock on PostgreSQL (`clock_timestamp()`: the
moment of the statement, not of the transaction's start), so machines whose clocks disagree
still agree on when a lease ends; on SQLite every process is on the machine that has the file.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Dialect, Tx

# The database's clock, in seconds since 1970.
_NOW: dict[Dialect, str] = {
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
    "postgresql": "EXTRACT(EPOCH FROM clock_timestamp())",
}
# Rows of processes not seen for this long are forgotten (their last heartbeat is old news).
FORGET_PROCESSES_AFTER = 24 * 3600.0


@dataclass(frozen=True)
class Lease:
    bot_id: int
    holder: str
    host: str
    pid: int
    epoch: int
    since: float
    renewed_at: float
    expires_at: float


@dataclass(frozen=True)
class Holder:
    """A process: its instance id (random at each start), host name and pid."""

    instance: str
    host: str
    pid: int


@dataclass(frozen=True)
class Process:
    instance: str
    bot_id: int
    host: str
    pid: int
    role: str
    started_at: float
    seen_at: float
    retry_afters: int


def now_sql(tx: Tx) -> str:
    return _NOW[tx.dialect]


async def database_now(tx: Tx) -> float:
    row = await tx.one(f"SELECT {now_sql(tx)} AS now")
    assert row is not None
    return float(row["now"])


async def current(tx: Tx, bot_id: int) -> Lease | None:
    row = await tx.one("SELECT * FROM leases WHERE bot_id = ?", (bot_id,))
    return _lease(row) if row is not None else None


async def every(tx: Tx) -> list[Lease]:
    return [_lease(row) for row in await tx.all("SELECT * FROM leases ORDER BY bot_id")]


async def take(tx: Tx, bot_id: int, me: Holder, seconds: float,
               dead: str | None = None) -> Lease | None:
    """Takes or renews the bot's lease for `seconds` from now; the lease if it is ours now,
    None if another holds it. A renewal keeps the epoch and `since`; anything else (a first
    take, a takeover, even our own lease taken again after it expired) is a new epoch: a
    holder that finds its epoch changed knows it was not continuously the holder."""
    now = now_sql(tx)
    still_ours = "leases.holder = excluded.holder AND leases.expires_at > excluded.renewed_at"
    row = await tx.one(
        f"""INSERT INTO leases (bot_id, holder, host, pid, epoch, since, renewed_at, expires_at)
            SELECT ?, ?, ?, ?, 1, t.now, t.now, t.now + ? FROM (SELECT {now} AS now) t WHERE true
            ON CONFLICT (bot_id) DO UPDATE SET
                epoch = CASE WHEN {still_ours} THEN leases.epoch ELSE leases.epoch + 1 END,
                since = CASE WHEN {still_ours} THEN leases.since ELSE excluded.since END,
                holder = excluded.holder, host = excluded.host, pid = excluded.pid,
                renewed_at = excluded.renewed_at, expires_at = excluded.expires_at
            WHERE leases.holder = excluded.holder OR leases.expires_at <= excluded.renewed_at
                  OR leases.holder = ?
            RETURNING *""",
        (bot_id, me.instance, me.host, me.pid, float(seconds), dead or ""))
    return _lease(row) if row is not None else None


async def holds(tx: Tx, bot_id: int, me: Holder) -> bool:
    """Whether the lease is ours and valid now, by the database's clock; on PostgreSQL the
    row stays locked until this transaction ends, so a takeover waits for it: what the
    transaction writes is written while we hold the lease, or not at all (a fence)."""
    return await tx.run(f"UPDATE leases SET holder = holder WHERE bot_id = ? AND holder = ? "
                        f"AND expires_at > {now_sql(tx)}", (bot_id, me.instance)) == 1


async def release(tx: Tx, bot_id: int, me: Holder) -> bool:
    """Ends our lease now (a clean stop): a standby takes over at its next look."""
    return await tx.run(f"UPDATE leases SET expires_at = {now_sql(tx)} "
                        "WHERE bot_id = ? AND holder = ?", (bot_id, me.instance)) == 1


async def seen(tx: Tx, bot_id: int, me: Holder, role: str, retry_afters: int) -> None:
    """The heartbeat of a process, active or standby; forgets processes long silent."""
    now = now_sql(tx)
    await tx.run(
        f"""INSERT INTO processes (instance, bot_id, host, pid, role, started_at, seen_at,
                                   retry_afters)
            SELECT ?, ?, ?, ?, ?, t.now, t.now, ? FROM (SELECT {now} AS now) t WHERE true
            ON CONFLICT (instance) DO UPDATE SET role = excluded.role,
                seen_at = excluded.seen_at, retry_afters = excluded.retry_afters""",
        (me.instance, bot_id, me.host, me.pid, role, retry_afters))
    await tx.run(f"DELETE FROM processes WHERE seen_at < {now} - ?", (FORGET_PROCESSES_AFTER,))


async def gone(tx: Tx, me: Holder) -> None:
    """A process stopping cleanly is no longer listed."""
    await tx.run("DELETE FROM processes WHERE instance = ?", (me.instance,))


async def processes(tx: Tx, bot_id: int) -> list[Process]:
    rows = await tx.all("SELECT * FROM processes WHERE bot_id = ? ORDER BY started_at",
                        (bot_id,))
    return [Process(str(r["instance"]), int(r["bot_id"]), str(r["host"]), int(r["pid"]),
                    str(r["role"]), float(r["started_at"]), float(r["seen_at"]),
                    int(r["retry_afters"])) for r in rows]


async def bots(tx: Tx) -> list[int]:
    """Every bot that ever held a lease or ran a process on this database."""
    rows = await tx.all("SELECT bot_id FROM leases UNION SELECT bot_id FROM processes "
                        "ORDER BY bot_id")
    return [int(r["bot_id"]) for r in rows]


def _lease(row) -> Lease:
    return Lease(int(row["bot_id"]), str(row["holder"]), str(row["host"]), int(row["pid"]),
                 int(row["epoch"]), float(row["since"]), float(row["renewed_at"]),
                 float(row["expires_at"]))
