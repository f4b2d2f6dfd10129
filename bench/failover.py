"""Failover (issue 15): two `lantoa run` on one PostgreSQL database (a throwaway cluster of
the tests' own) against the HTTP fake of the Bot API; the active one is ended, a member sends
/help at that moment, and we time until it is answered by the standby. Median of N rounds for:

- kill: SIGKILL, the standby on the same host: it sees the holder's pid gone and takes over
  at its next look (the same-host shortcut, bot/runtime/standby.py `holder_is_dead`);
- kill-elsewhere: SIGKILL, the standby given another host name (`unshare -u`, as a second
  machine would be): it cannot judge the pid and waits for the lease to run out;
- hang: SIGSTOP, same host: the pid still runs, so it waits for the lease too;
- term: SIGTERM: the active one stops cleanly and ends its lease; the standby takes over at
  its next look.

    .venv/bin/python -m bench.failover [--rounds 10] [--only kill term]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.backends import migrated_cluster
from bench.machine import load_average
from storage.db import is_postgres_url
from tests import databases
from tests.fakebot import FakeBotServer, FakeTelegram
from tests.postgres import MIGRATED, Cluster

TOKEN = "123456:BENCH-token"
MAI = 1001
REPO = Path(__file__).resolve().parent.parent
LANTOA = Path(sys.executable).parent / "lantoa"
MODES = ("kill", "kill-elsewhere", "hang", "term")
SIGNALS = {"kill": signal.SIGKILL, "kill-elsewhere": signal.SIGKILL, "hang": signal.SIGSTOP,
           "term": signal.SIGTERM}
WAIT = 30.0


def _environment(url: str, database: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANTOA_")}
    env.update(LANTOA_BOT_TOKEN=TOKEN, LANTOA_DATABASE=database, LANTOA_BOT_API_URL=url,
               LANTOA_CONFIG=str(REPO / "config.toml"), LANTOA_POLL_TIMEOUT="1",
               PYTHONPATH=str(REPO))
    return env


async def _start(env: dict[str, str], log: Path, elsewhere: bool) -> asyncio.subprocess.Process:
    """`lantoa run`; `elsewhere`: in a UTS namespace of its own with another host name (the
    pid stays the same: unshare and sh exec the next program)."""
    command = [str(LANTOA), "run"]
    if elsewhere:
        command = ["unshare", "-u", "sh", "-c", f"hostname standby-elsewhere && exec {LANTOA} run"]
    with log.open("ab") as sink:
        return await asyncio.create_subprocess_exec(*command, env=env, stdout=sink, stderr=sink)


async def _until(check: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("not within the wait")
        await asyncio.sleep(0.05)


def _role_of(database: str, pid: int) -> str | None:
    rows = databases.rows(database, "SELECT role FROM processes WHERE pid = ?", (pid,))
    return str(rows[0][0]) if rows else None


async def _round(cluster: Cluster, mode: str, log: Path) -> float:
    """Each process calls the fake through a server of its own: the answer timed is the
    standby's (after a SIGTERM the stopping process may still answer a message itself)."""
    database = cluster.url(cluster.create_database(MIGRATED))
    assert is_postgres_url(database)
    fake = FakeTelegram()
    fake.add_user(MAI, "Mai", "Hoàng Thị")
    try:
        async with FakeBotServer(fake, TOKEN) as first, FakeBotServer(fake, TOKEN) as second:
            envs = [_environment(server.url, database) for server in (first, second)]
            return await _measure(fake, envs, second, database, mode, log)
    finally:
        cluster.drop_database(database.rsplit("/", 1)[1].split("?", 1)[0])


async def _measure(fake: FakeTelegram, envs: list[dict[str, str]], standby: FakeBotServer,
                   database: str, mode: str, log: Path) -> float:
    """The two processes, ended before their fake servers are (they wait for their polls)."""
    processes = []
    try:
        processes.append(await _start(envs[0], log, False))
        fake.send_text(MAI, "/help")
        await _until(lambda: len(fake.messages(MAI)) == 1)
        processes.append(await _start(envs[1], log, mode == "kill-elsewhere"))
        await _until(lambda: _role_of(database, processes[1].pid) == "standby")
        began = time.monotonic()
        processes[0].send_signal(SIGNALS[mode])
        asked = len(fake.messages(MAI)) + 1  # answers there are once this /help is
        fake.send_text(MAI, "/help")
        while not any(path.endswith("/sendMessage") for _, path in standby.requests):
            if len(fake.messages(MAI)) == asked:  # the stopping one answered: ask again
                asked += 1
                fake.send_text(MAI, "/help")
            if time.monotonic() - began > WAIT:
                raise TimeoutError("the standby did not answer")
            await asyncio.sleep(0.02)
        return time.monotonic() - began
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--only", nargs="+", choices=MODES, default=list(MODES))
    args = parser.parse_args()
    if "kill-elsewhere" in args.only and shutil.which("unshare") is None:
        sys.exit("kill-elsewhere needs unshare (util-linux) and the right to use it (root)")
    cluster = await migrated_cluster("failover")
    log = Path(tempfile.mkdtemp(prefix="lantoa-failover-")) / "bots.log"
    print(f"load average {load_average()}; "
          f"{os.cpu_count()} cores; bots' log: {log}", flush=True)
    try:
        for mode in args.only:
            times = [await _round(cluster, mode, log) for _ in range(args.rounds)]
            print(f"{mode:15} median {statistics.median(times):5.2f} s  "
                  f"min {min(times):5.2f}  max {max(times):5.2f}  "
                  f"({', '.join(f'{t:.1f}' for t in times)})", flush=True)
    finally:
        cluster.stop()
    print(f"load average {load_average()}")


if __name__ == "__main__":
    asyncio.run(main())
