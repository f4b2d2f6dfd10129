"""Benchmark 5 of issue 5: the start-up of `lantoa run` on the province database, from starting
the process to its first getUpdates reaching a local HTTP fake of the Bot API (the program and
environment of tests/test_end_to_end.py). Each run starts from a fresh copy of the database, so
every run finds the same state. Target: ≤ 2 s.

    .venv/bin/python -m bench.gen_province --out /tmp/province.sqlite3
    .venv/bin/python -m bench.startup --db /tmp/province.sqlite3 [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.machine import stop_process
from tests.fakebot import FakeBotServer, FakeTelegram
from tests.test_end_to_end import LANTOA, TOKEN, bot_environment

LOOK_EVERY = 0.005  # seconds between looks at the fake's getUpdates calls
GIVE_UP = 300.0


@dataclass(frozen=True)
class Run:
    first_call: float  # seconds from the start to the first Bot API call (getMe)
    first_poll: float  # … to the first getUpdates


async def _until(check, limit: float) -> float:
    began = time.perf_counter()
    while not check():
        if time.perf_counter() - began > limit:
            raise TimeoutError("the bot did not get there in time")
        await asyncio.sleep(LOOK_EVERY)
    return time.perf_counter()


async def one_run(database: Path, work: Path, profile: Path | None = None) -> Run:
    """One `lantoa run` on a fresh copy of the database, stopped once it polls; under cProfile
    (written to `profile` when the bot stops) if asked."""
    copy = work / "lantoa.sqlite3"
    for suffix in ("-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(database, copy)
    fake = FakeTelegram()
    async with FakeBotServer(fake, TOKEN) as server:
        env = bot_environment(work, server.url)
        with (work / "bot.log").open("ab") as log:
            began = time.perf_counter()
            profiler = ([sys.executable, "-m", "cProfile", "-o", str(profile)]
                        if profile else [])
            process = await asyncio.create_subprocess_exec(*profiler, str(LANTOA), "run",
                                                           env=env, stdout=log, stderr=log)
        try:
            called = await _until(lambda: bool(fake.calls or fake.get_updates_calls), GIVE_UP)
            polled = await _until(lambda: bool(fake.get_updates_calls), GIVE_UP)
        finally:
            await stop_process(process)
    return Run(called - began, polled - began)


async def measure(database: Path, runs: int, profile: Path | None) -> list[Run]:
    found = []
    with tempfile.TemporaryDirectory(prefix="lantoa-startup-") as folder:
        for i in range(runs):
            run = await one_run(database, Path(folder), profile)
            print(f"  run {i + 1}: first call {run.first_call:5.2f} s, "
                  f"first getUpdates {run.first_poll:5.2f} s", flush=True)
            found.append(run)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/province.sqlite3"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="two runs")
    parser.add_argument("--profile", type=Path, help="run under cProfile, stats to this file")
    args = parser.parse_args()
    if not args.db.exists():
        parser.error(f"{args.db} does not exist: make it with `python -m bench.gen_province`")
    runs = asyncio.run(measure(args.db, 2 if args.quick else args.runs, args.profile))
    polls = [r.first_poll for r in runs]
    calls = [r.first_call for r in runs]
    print(f"start-up of `lantoa run` on {args.db} ({args.db.stat().st_size / 1e6:,.0f} MB),"
          f" {len(runs)} runs:")
    print(f"  {'to the first Bot API call':<32} min {min(calls):5.2f} s"
          f"  median {statistics.median(calls):5.2f} s")
    print(f"  {'to the first getUpdates':<32} min {min(polls):5.2f} s"
          f"  median {statistics.median(polls):5.2f} s  (target ≤ 2 s)")


if __name__ == "__main__":
    main()
