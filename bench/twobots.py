"""Several bots on one database (issue 15): replies per second with two bots, each serving half
of the members, against one bot serving them all.

Telegram caps one bot token at about 30 messages a second; a second token (its own bot, its own
subtree, bot/rules/bots.py) doubles what can be sent, if the database and the machine keep up.
Each bot runs as a subprocess (`lantoa run`, the second with LANTOA_ROOT_UNIT), against its own
fake Bot API over local HTTP (150 ms a call, Telegram's caps answering 429), as in
bench/interactive.py's run (a); the members fill the whole report form at once.

    .venv/bin/python -m bench.twobots [--members 200] [--backend sqlite|postgresql|both]

Runs, on each backend: (1) one bot, every member; (2) two bots on one database, the members of
cell 1 through the first, those of cell 2 through the second, both at once."""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import tempfile
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

from bench.backends import ServerCpu, add_option, chosen, migrated_cluster
from bench.interactive import LATENCY, REPORT, STEP_TIMEOUT, bot_process, environment, ours
from bench.machine import load_average
from bench.members import AnswerLog, Figures, MemberResult, add_members, crowd, figures
from storage import units
from storage.db import Database
from tests.crash_members import Person, prepare_database
from tests.fakebot import FakeBotServer, FakeTelegram
from tests.fakebot.limits import TelegramLimits
from tests.postgres import MIGRATED, Cluster

TOKENS = ("111111:BENCH-first", "222222:BENCH-second")


@dataclass
class Run:
    label: str
    figures: Figures
    refused: int  # 429s the fakes answered
    server_cpu: float  # seconds of the PostgreSQL server meanwhile (0 on SQLite)


async def _cells(database: Path | str) -> list[int]:
    """The two cells' ids (crash_members.prepare_database's commune)."""
    db = await Database.open(database)
    try:
        async with db.transaction() as tx:
            found = await units.list_units(tx)
    finally:
        await db.close()
    return [u.id for u in sorted(found, key=lambda u: u.name) if u.kind == "chi bộ"]


async def measure(label: str, members: int, bots: int, workdir: Path,
                  cluster: Cluster | None) -> Run:
    """`bots` bots on one database holding `members` members in two cells."""
    database: Path | str = workdir / f"{label}.sqlite3"
    if cluster is not None:
        database = cluster.url(cluster.create_database(MIGRATED))
    joined = await prepare_database(database, members, cells=2)
    cells = await _cells(database)
    # Cell n's members (prepare_database spreads them n % 2) through bot n; one bot: all.
    shares: list[Sequence[Person]] = [joined] if bots == 1 else [joined[0::2], joined[1::2]]
    postgres = ServerCpu(cluster) if cluster is not None else None
    async with AsyncExitStack() as stack:
        plays = []
        limits = []
        for n, share in enumerate(shares):
            fake = FakeTelegram(bot_id=int(TOKENS[n].split(":")[0]), bot_username=f"bench{n}_bot")
            user_ids = add_members(fake, share)
            caps = TelegramLimits()
            fake.latency = LATENCY
            fake.gates.append(caps)
            log = AnswerLog(user_ids)
            fake.gates.append(log)
            limits.append(caps)
            server = await stack.enter_async_context(FakeBotServer(fake, TOKENS[n]))
            env = environment(database, server.url, sequential=False)
            env["LANTOA_BOT_TOKEN"] = TOKENS[n]
            if bots > 1:
                env["LANTOA_ROOT_UNIT"] = str(cells[n])
            await stack.enter_async_context(
                bot_process(fake, ours(), env, workdir / f"{label}-{n}.log"))
            plays.append((fake, log, user_ids))
        server_before = postgres.seconds() if postgres is not None else 0.0
        began = time.monotonic()
        done = await asyncio.gather(*(crowd(fake, log, user_ids, REPORT, STEP_TIMEOUT)
                                      for fake, log, user_ids in plays))
        elapsed = time.monotonic() - began
        server_cpu = postgres.seconds() - server_before if postgres is not None else 0.0
    results: list[MemberResult] = [r for played, _ in done for r in played]
    return Run(label, figures(results, len(REPORT), elapsed),
               sum(len(caps.refused) for caps in limits), server_cpu)


def print_runs(runs: Sequence[Run]) -> None:
    print(f"{'run':<36}{'answered':>9}{'lost':>6}{'secs':>7}{'rep/s':>7}{'p50 s':>7}"
          f"{'p95 s':>7}{'order':>7}{'429s':>6}{'server cpu s':>13}")
    for run in runs:
        f = run.figures
        print(f"{run.label:<36}{f.answered:>9}{f.lost:>6}{f.seconds:>7.1f}{f.per_second:>7.1f}"
              f"{f.p50:>7.2f}{f.p95:>7.2f}{'kept' if f.in_order else 'BROKEN':>7}"
              f"{run.refused:>6}{run.server_cpu:>13.1f}")


async def main_async(args: argparse.Namespace) -> None:
    backends = chosen(args.backend)
    cluster = await migrated_cluster("bench-twobots") if "postgresql" in backends else None
    runs: list[Run] = []
    try:
        with tempfile.TemporaryDirectory(prefix="lantoa-bench-") as tmp:
            print(f"{args.members} members x {len(REPORT)} steps; latency "
                  f"{LATENCY * 1000:.0f} ms; backends {', '.join(backends)}; load average "
                  f"{load_average()}; {os.cpu_count()} cores",
                  flush=True)
            for backend in backends:
                for bots in (1, 2):
                    label = f"{bots} bot{'s' if bots > 1 else ''} [{backend}]"
                    began = time.monotonic()
                    run = await measure(f"run{len(runs)}", args.members, bots, Path(tmp),
                                        cluster if backend == "postgresql" else None)
                    run.label = label
                    runs.append(run)
                    print(f"  {label}: {time.monotonic() - began:.0f} s", flush=True)
            print(f"load average after: {load_average()}\n")
    finally:
        if cluster is not None:
            cluster.stop()
    print_runs(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=200)
    add_option(parser)
    args = parser.parse_args()
    gc.freeze()  # as bench/interactive.py: the fakes live in this process
    gc.set_threshold(100_000, 50, 1_000)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
