"""A standby that takes over (issue 15): the lease (storage/leases.py, bot/runtime/standby.py)
on both backends; then real `lantoa run` processes on one PostgreSQL database against the
HTTP fake of the Bot API: exactly one answers, and the other takes over within 15 s when the
active one is killed, hangs, loses its database or stops; a second process on a SQLite file is
refused; `lantoa status` says who is active."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.runtime.standby import (
    MARGIN_SECONDS,
    LeaseGuard,
    LeaseKeeper,
    LeaseLost,
    holder_is_dead,
    this_process,
)
from storage import leases
from storage.db import Database
from storage.leases import Holder
from tests.harness import BACKEND, migrated_database

BOT = 123456


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await migrated_database(tmp_path / "lantoa.sqlite3")
    yield database
    await database.close()


def _holder(name: str, host: str = "other-host", pid: int = 4242) -> Holder:
    return Holder(name, host, pid)


async def _take(db: Database, me: Holder, seconds: float = 10,
                dead: str | None = None) -> leases.Lease | None:
    async with db.transaction() as tx:
        return await leases.take(tx, BOT, me, seconds, dead)


async def test_a_lease_is_taken_renewed_and_refused_to_another(db: Database) -> None:
    one, two = _holder("one"), _holder("two")
    first = await _take(db, one)
    assert first is not None and first.holder == "one" and first.epoch == 1
    assert await _take(db, two) is None, "refused while the other holds it"
    renewed = await _take(db, one)
    assert renewed is not None
    assert (renewed.epoch, renewed.since) == (first.epoch, first.since), "a renewal"
    assert renewed.expires_at >= first.expires_at
    async with db.transaction() as tx:
        held = await leases.current(tx, BOT)
        assert held is not None and held.holder == "one"
        assert await leases.database_now(tx) < held.expires_at


async def test_an_expired_lease_is_taken_over_with_a_new_epoch(db: Database) -> None:
    one, two = _holder("one"), _holder("two")
    await _take(db, one, seconds=-1)  # as if it had run out a second ago
    taken = await _take(db, two)
    assert taken is not None and taken.holder == "two" and taken.epoch == 2
    assert await _take(db, one) is None, "the old holder does not take it back"
    async with db.transaction() as tx:
        assert await leases.release(tx, BOT, two)
        assert not await leases.release(tx, BOT, one), "only the holder releases"
    again = await _take(db, one)
    assert again is not None and again.epoch == 3, "a released lease is taken at once"


async def test_our_own_lapsed_lease_taken_again_is_a_new_epoch(db: Database) -> None:
    """A holder whose lease ran out (it hung) and that nobody took meanwhile gets it back, but
    as a new epoch: its keeper sees the change and stops acting rather than going on."""
    one = _holder("one")
    await _take(db, one, seconds=-1)
    again = await _take(db, one)
    assert again is not None and again.epoch == 2


async def test_a_holder_named_dead_is_taken_at_once(db: Database) -> None:
    one, two = _holder("one"), _holder("two")
    await _take(db, one)
    assert await _take(db, two, dead="someone-else") is None, "only the holder named"
    taken = await _take(db, two, dead="one")
    assert taken is not None and taken.holder == "two" and taken.epoch == 2


async def test_two_takers_at_once_one_wins(db: Database, tmp_path: Path) -> None:
    other = await Database.open(BACKEND.location(tmp_path / "lantoa.sqlite3"))
    try:
        results = await asyncio.gather(*(_take(on, _holder(name))
                                         for on, name in ((db, "one"), (other, "two"))))
    finally:
        await other.close()
    assert sum(r is not None for r in results) == 1, results


def test_the_same_host_shortcut_knows_the_dead() -> None:
    me = this_process()
    lease = leases.Lease(BOT, "old", me.host, 0, 1, 0.0, 0.0, 1e12)
    dead_pid = _a_finished_pid()
    assert holder_is_dead(replace(lease, pid=dead_pid), me)
    assert holder_is_dead(replace(lease, pid=me.pid), me), (
        "our own pid under another instance: a restarted container's pid 1")
    assert not holder_is_dead(replace(lease, pid=os.getppid()), me), "alive"
    assert not holder_is_dead(replace(lease, host="another", pid=dead_pid), me), (
        "another host's pids are not ours to judge")
    assert not holder_is_dead(replace(lease, holder=me.instance, pid=me.pid), me), "ours"


def _a_finished_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_the_guard_lapses_before_the_lease() -> None:
    now = [100.0]
    guard = LeaseGuard(lambda: now[0])
    with pytest.raises(LeaseLost):
        guard.check()
    guard.extend(100.0, 10)
    guard.check()
    now[0] = 100.0 + 10 - MARGIN_SECONDS - 0.01
    guard.check()
    now[0] += 0.02
    assert not guard.valid()
    with pytest.raises(LeaseLost):
        guard.check()


async def test_a_keeper_waits_as_standby_and_takes_over_once_released(tmp_path: Path,
                                                                       backend: str) -> None:
    location = BACKEND.location(tmp_path / "lantoa.sqlite3")
    stop = asyncio.Event()
    async with LeaseKeeper(location, BOT, 10, _holder("one", pid=1)) as first, \
            LeaseKeeper(location, BOT, 10, _holder("two", pid=2)) as second:
        assert await first.acquire(stop)
        assert first.guard.valid()
        if backend == "sqlite":
            return  # the second is refused: test_a_second_run_on_sqlite_is_refused
        waiting = asyncio.create_task(second.acquire(stop))
        await asyncio.sleep(1.5)
        assert not waiting.done(), "the second waits while the first holds the lease"
        async with second.db.reading() as tx:
            roles = {p.instance: p.role for p in await leases.processes(tx, BOT)}
        assert roles == {"one": "active", "two": "standby"}
        await first.stand_down(release=True)
        assert not first.guard.valid()
        assert await asyncio.wait_for(waiting, 5)
        assert second.epoch == 2
