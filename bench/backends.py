"""The databases a benchmark runs on (issue 14): SQLite files, or databases of a throwaway
PostgreSQL 15 cluster of the tests' own (tests/postgres.py: Unix socket, fsync off), and the
CPU time of that cluster's server, which is processes apart from the bot's.

On SQLite the database's work is done inside the bot's process (aiosqlite's thread), so the
bot's CPU time holds it; on PostgreSQL it is done by the server's backend processes, so a fair
"CPU per step" adds the server's time: `ServerCpu` reads it from /proc."""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

from storage.db import Database
from storage.move import move_to_postgres
from tests.postgres import MIGRATED, Cluster, start_cluster

BACKENDS = ("sqlite", "postgresql")


def add_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="both",
                        help="the database the bot runs on (default: both, one after the other)")


def chosen(option: str) -> tuple[str, ...]:
    return BACKENDS if option == "both" else (option,)


async def migrated_cluster(name: str) -> Cluster:
    """A started cluster whose MIGRATED template is at the current schema: each
    `cluster.create_database(MIGRATED)` is then a fresh bot's database."""
    cluster = start_cluster(name)
    try:
        await (await Database.open(cluster.url(MIGRATED))).close()
    except BaseException:
        cluster.stop()
        raise
    return cluster


def moved_province(cluster: Cluster, source: Path) -> tuple[str, float]:
    """A database of the cluster holding the SQLite province at `source`, moved by
    storage/move.py as `lantoa move-to-postgres` moves it; its name and the move's seconds."""
    name = cluster.create_database()
    began = time.perf_counter()
    result = asyncio.run(move_to_postgres(source, cluster.url(name)))
    if not result.moved:
        raise RuntimeError(f"the province did not move: {result}")
    return name, time.perf_counter() - began


def _ticks(stat: str) -> tuple[int, int]:
    """The parent's pid, and utime + stime + cutime + cstime (the time of its children that
    ended and were waited for) in clock ticks, of a /proc/PID/stat text."""
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[1]), sum(int(x) for x in fields[11:15])


class ServerCpu:
    """The CPU time of a cluster's server: the postmaster with its finished children (a
    backend that ended is added to the postmaster's cutime/cstime when it is reaped) plus its
    live children (the bot's backends, the checkpointer, the WAL writer and such)."""

    def __init__(self, cluster: Cluster) -> None:
        self.postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])

    def seconds(self) -> float:
        total = _ticks(Path(f"/proc/{self.postmaster}/stat").read_text())[1]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                parent, ticks = _ticks(stat.read_text())
            except OSError:
                continue  # ended meanwhile
            if parent == self.postmaster:
                total += ticks
        return total / os.sysconf("SC_CLK_TCK")
