"""Benchmarks 1 and 2 of issue 5: interactive throughput under real latency, and the CPU cost
of one form step against a bare PTB echo bot.

The fake Bot API serves over local HTTP (each call takes 150 ms, Telegram's caps answer 429);
the bot runs as a subprocess (`lantoa run`), so its CPU time is its own; the members are
simulated in this process, every one filling the whole report form at once and waiting for
each answer before the next step.

    .venv/bin/python -m bench.interactive [--members 200] [--quick] [--only a d]
        [--profile DIR]   # our bot under cProfile: DIR/a.prof, DIR/d.prof
        [--backend sqlite|postgresql|both]   # our bot's database (default both)

Runs: (a) the bot as built; (b) the same bot processing one update at a time, as PTB does by
default (cut off after --baseline-seconds); (c) a bare PTB echo bot with default settings under
the same load (cut off likewise): the CPU baseline; (d) no latency and no caps: CPU per update of
the bot against the echo bot, for the same number of updates; (e) the same deed written in one
message (its card waits `album_wait_seconds` for more of the member's messages), then ✅ Gửi.
Each run of our bot is made on each backend asked (bench/backends.py): on PostgreSQL, a fresh
migrated database of a throwaway cluster, and its CPU per step adds the server's CPU time (the
database's work, done inside the bot's process on SQLite)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.backends import ServerCpu, add_option, chosen, migrated_cluster
from bench.machine import load_average, stop_process
from bench.members import (
    AnswerLog,
    Figures,
    MemberResult,
    Step,
    add_members,
    crowd,
    figures,
)
from tests.crash_members import prepare_database
from tests.fakebot import FakeBotServer, FakeTelegram
from tests.fakebot.limits import TelegramLimits
from tests.postgres import MIGRATED, Cluster

TOKEN = "123456:BENCH-token"
REPO = Path(__file__).resolve().parent.parent
LANTOA = Path(sys.executable).parent / "lantoa"
LATENCY = 0.15
SENDS_PER_SECOND = 30
STEP_TIMEOUT = 120.0

# The whole report form, every detail added: typed answers where the form takes them, buttons
# where it must.
REPORT = (
    Step("ngày nào", text="/report"),
    Step("lĩnh vực", text="hom qua"),
    Step("đã làm gì", text="moi truong"),
    Step("kiểm tra lại", text="Trồng 30 cây keo trên đồi thôn Bản Chặng"),
    Step("cùng tham gia", button="➕ Thêm chi tiết"),
    Step("bao nhiêu người", button="Bỏ qua"),
    Step("bao nhiêu hộ", text="20"),
    Step("Kinh phí", text="5"),
    Step("ở đâu", text="1tr5"),
    Step("Gửi ảnh", text="đồi Khau Slưa"),
    Step("giới thiệu trong nhóm", button="Bỏ qua"),
    Step("kiểm tra lại", text="co"),
    Step("Đã nhận báo cáo", button="✅ Gửi"),
)
# The same deed written in one message, as members are meant to: the card, then ✅ Gửi.
ONE_MESSAGE = (
    Step("đọc được như sau",
         text="hom qua cung ba con trong cay xanh tren doi thon Ban Chang, ho tro 1tr5"),
    Step("Đã nhận báo cáo", button="✅ Gửi"),
)
ECHO = tuple(Step(f"tin nhắn {n}", text=f"tin nhắn {n}") for n in range(1, len(REPORT) + 1))


@dataclass
class Run:
    label: str
    figures: Figures
    cpu: float  # seconds of the bot process while the members played
    main_cpu: float  # of which its main thread (the event loop), the rest aiosqlite's and such
    calls: int  # Bot API calls the bot made meanwhile, getUpdates aside
    polls: int  # getUpdates calls meanwhile: each brings a batch, stored in one transaction
    refused: int  # 429s the fake answered
    members: list[MemberResult]
    server_cpu: float = 0.0  # seconds of the PostgreSQL server meanwhile (0 on SQLite)

    @property
    def cpu_per_step(self) -> float:
        """The bot's and, on PostgreSQL, the server's: the database's work either way."""
        return self._per_step(self.cpu + self.server_cpu)

    @property
    def server_cpu_per_step(self) -> float:
        return self._per_step(self.server_cpu)

    @property
    def main_cpu_per_step(self) -> float:
        return self._per_step(self.main_cpu)

    @property
    def calls_per_step(self) -> float:
        return self._per_step(self.calls)

    @property
    def polls_per_step(self) -> float:
        return self._per_step(self.polls)

    def _per_step(self, amount: float) -> float:
        return amount / self.figures.answered if self.figures.answered else float("nan")


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User + system CPU time of a running process, or of one of its threads, from /proc."""
    stat = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    fields = Path(stat).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def environment(database: Path | str, api_url: str, sequential: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANTOA_")}
    # The code of this checkout, not the one the venv's `lantoa` was installed from.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(REPO), env.get("PYTHONPATH"))))
    env.update(LANTOA_BOT_TOKEN=TOKEN, LANTOA_DATABASE=str(database),
               LANTOA_BOT_API_URL=api_url, LANTOA_CONFIG=str(REPO / "config.toml"))
    if sequential:
        env["LANTOA_SEQUENTIAL_UPDATES"] = "true"
    return env


@asynccontextmanager
async def bot_process(fake: FakeTelegram, command: Sequence[str], env: dict[str, str],
                      log: Path) -> AsyncIterator[int]:
    """The bot as a subprocess, once it polls and its start-up calls are over; its pid."""
    with log.open("ab") as sink:
        process = await asyncio.create_subprocess_exec(*command, env=env, cwd=log.parent,
                                                       stdout=sink, stderr=sink)
    try:
        await fake.wait_for(lambda f: f.polling or process.returncode is not None, timeout=60)
        if process.returncode is not None:
            raise RuntimeError(f"the bot stopped at start-up:\n{log.read_text()[-3000:]}")
        await _until_quiet(fake)
        yield process.pid
    finally:
        if process.returncode is None:
            await stop_process(process, wait=20)


async def _until_quiet(fake: FakeTelegram, quiet: float = 1.0) -> None:
    """Start-up jobs (command menus, drafts sweep) are done when no call came for a while."""
    count = len(fake.calls)
    while True:
        await asyncio.sleep(quiet)
        if len(fake.calls) == count:
            return
        count = len(fake.calls)


async def measure(label: str, command: Sequence[str], members: int, steps: Sequence[Step],
                  *, latency: float, caps: bool, workdir: Path, sequential: bool = False,
                  seconds: float | None = None, cluster: Cluster | None = None) -> Run:
    """One run; on `cluster`'s fresh database if given (PostgreSQL), else a SQLite file."""
    fake = FakeTelegram()
    database: Path | str = workdir / f"{label}.sqlite3"
    if cluster is not None:
        database = cluster.url(cluster.create_database(MIGRATED))
    postgres = ServerCpu(cluster) if cluster is not None else None
    user_ids = add_members(fake, await prepare_database(database, members, cells=1))
    limits = TelegramLimits()
    fake.latency = latency
    if caps:
        fake.gates.append(limits)
    log = AnswerLog(user_ids)
    fake.gates.append(log)
    async with FakeBotServer(fake, TOKEN) as server:
        env = environment(database, server.url, sequential)
        run_command = [arg.replace("{url}", server.url) for arg in command]
        async with bot_process(fake, run_command, env, workdir / f"{label}.log") as pid:
            before, main_before, calls_before = cpu_seconds(pid), cpu_seconds(pid, pid), \
                len(fake.calls)
            polls_before = len(fake.get_updates_calls)
            server_before = postgres.seconds() if postgres is not None else 0.0
            results, elapsed = await crowd(fake, log, user_ids, steps, STEP_TIMEOUT, seconds)
            cpu, main_cpu = cpu_seconds(pid) - before, cpu_seconds(pid, pid) - main_before
            server_cpu = postgres.seconds() - server_before if postgres is not None else 0.0
            calls = sum(c.method != "getUpdates" for c in fake.calls[calls_before:])
            polls = len(fake.get_updates_calls) - polls_before
    return Run(label, figures(results, len(steps), elapsed), cpu, main_cpu, calls, polls,
               len(limits.refused), results, server_cpu)


def ours(profile: Path | None = None) -> list[str]:
    """`lantoa run`; with `profile`, under cProfile (main thread only), the stats written
    there when the bot stops."""
    if profile is None:
        return [str(LANTOA), "run"]
    return [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "bot.runtime.cli", "run"]


def echo() -> list[str]:
    return [sys.executable, "-m", "bench.echo_bot", "--url", "{url}", "--token", TOKEN]


def print_runs(runs: Sequence[Run]) -> None:
    print(f"{'run':<47}{'answered':>9}{'lost':>6}{'secs':>7}{'rep/s':>7}{'p50 s':>7}"
          f"{'p95 s':>7}{'order':>7}{'429s':>6}{'cpu ms/step':>12}{'main':>6}{'server':>7}"
          f"{'calls':>6}{'polls':>6}")
    for run in runs:
        f = run.figures
        print(f"{run.label:<47}{f.answered:>9}{f.lost:>6}{f.seconds:>7.1f}{f.per_second:>7.1f}"
              f"{f.p50:>7.2f}{f.p95:>7.2f}{'kept' if f.in_order else 'BROKEN':>7}"
              f"{run.refused:>6}{run.cpu_per_step * 1000:>12.2f}"
              f"{run.main_cpu_per_step * 1000:>6.2f}{run.server_cpu_per_step * 1000:>7.2f}"
              f"{run.calls_per_step:>6.2f}"
              f"{run.polls_per_step:>6.2f}")
    print("cpu ms/step: the bot process's CPU per answered step, plus the PostgreSQL server's "
          "on PostgreSQL; main: of which the bot's main thread; server: of which the server's "
          "(postmaster and its processes, /proc); calls: Bot API calls per step (getUpdates "
          "aside); polls: getUpdates per step")


def print_targets(members: int, a: Run, b: Run, c: Run, d_ours: Run, d_echo: Run) -> None:
    floor = members / SENDS_PER_SECOND
    speedup = _ratio(a.figures.per_second, b.figures.per_second)
    cpu_quiet = _ratio(d_ours.cpu_per_step, d_echo.cpu_per_step)
    cpu_loaded = _ratio(a.cpu_per_step, c.cpu_per_step)
    rows = [
        ("replies/s (a)", f"{a.figures.per_second:.1f}", ">= 27",
         a.figures.per_second >= 27),
        ("replies lost (a)", str(a.figures.lost), "0", a.figures.lost == 0),
        ("per-member order (a)", "kept" if a.figures.in_order else "broken", "kept",
         a.figures.in_order),
        ("429s received (a)", str(a.refused), "0", a.refused == 0),
        (f"p95 / floor {floor:.1f} s (a)", f"{a.figures.p95 / floor:.2f}", "<= 1.2",
         a.figures.p95 <= 1.2 * floor),
        ("(a) / sequential (b) replies/s", f"{speedup:.1f}", ">= 4", speedup >= 4),
        ("cpu/update (d) ours / echo", f"{cpu_quiet:.2f}", "<= 1.5", cpu_quiet <= 1.5),
        ("cpu/update (a) / echo (c)", f"{cpu_loaded:.2f}", "<= 1.5", cpu_loaded <= 1.5),
    ]
    print(f"\n{'target':<36}{'measured':>10}{'wanted':>9}  ok")
    for name, value, wanted, ok in rows:
        print(f"{name:<36}{value:>10}{wanted:>9}  {'yes' if ok else 'NO'}")


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


async def main_async(args: argparse.Namespace) -> None:
    n = args.members
    backends = chosen(args.backend)
    cluster = await migrated_cluster("bench-interactive") if "postgresql" in backends else None
    try:
        with tempfile.TemporaryDirectory(prefix="lantoa-bench-") as tmp:
            print(f"{n} members x {len(REPORT)} steps; latency {LATENCY * 1000:.0f} ms; "
                  f"backends {', '.join(backends)}; load average "
                  f"{load_average()}; {os.cpu_count()} cores",
                  flush=True)
            runs = await _runs(args, Path(tmp), backends, cluster)
            print(f"load average after: {load_average()}\n")
    finally:
        if cluster is not None:
            cluster.stop()
    print_runs(list(runs.values()))
    for backend in backends:
        wanted = [(key, backend if key in OURS else None) for key in ("a", "b", "c", "d", "d echo")]
        if all(k in runs for k in wanted):
            print(f"\n[{backend}]", end="")
            print_targets(n, *(runs[k] for k in wanted))


# The runs of our bot, made on each backend asked; the echo bot's have no database.
OURS = frozenset({"a", "b", "d", "e"})


async def _runs(args: argparse.Namespace, work: Path, backends: Sequence[str],
                cluster: Cluster | None) -> dict[tuple[str, str | None], Run]:
    capped: dict[str, Any] = {"latency": LATENCY, "caps": True, "workdir": work}
    cut: dict[str, Any] = {"seconds": args.baseline_seconds}
    free: dict[str, Any] = {"latency": 0.0, "caps": False, "workdir": work}
    profile = args.profile
    plan = [
        ("a", "(a) ours, 150 ms, caps", ours(profile and profile / "a.prof"), REPORT, capped, {}),
        ("b", "(b) ours sequential, 150 ms, caps", ours(), REPORT, capped,
         {"sequential": True, **cut}),
        ("c", "(c) echo, 150 ms, caps", echo(), ECHO, capped, cut),
        ("d", "(d) ours, no latency, no caps", ours(profile and profile / "d.prof"), REPORT,
         free, {}),
        ("d echo", "(d) echo, no latency, no caps", echo(), ECHO, free, {}),
        ("e", "(e) ours, one-message report, 150 ms, caps", ours(), ONE_MESSAGE, capped, {}),
    ]
    runs: dict[tuple[str, str | None], Run] = {}
    for key, label, command, steps, where, extra in plan:
        if args.only and key.split()[0] not in args.only:
            continue
        for backend in backends if key in OURS else (None,):
            started = time.monotonic()
            run = await measure(f"run{len(runs)}", command, args.members, steps, **where,
                                **extra, cluster=cluster if backend == "postgresql" else None)
            run.label = f"{label} [{backend}]" if backend else label
            runs[key, backend] = run
            print(f"  {run.label}: {time.monotonic() - started:.0f} s", flush=True)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--baseline-seconds", type=float, default=60.0,
                        help="how long the sequential and echo runs under latency go on")
    parser.add_argument("--quick", action="store_true", help="40 members, 15 s baselines")
    parser.add_argument("--only", nargs="*", help="runs to do, e.g. --only a d")
    add_option(parser)
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="run our bot under cProfile, writing a.prof and d.prof in DIR "
                             "(read with python -m pstats); its CPU figures are then inflated")
    args = parser.parse_args()
    if args.quick:
        args.members, args.baseline_seconds = 40, 15.0
    # The fake Telegram lives in this process: a garbage collection of its many objects would
    # stall it for tens of milliseconds, and the sends it then takes in at once would look to
    # it like more than 30 in a second. Telegram does not stall for our garbage.
    gc.freeze()
    gc.set_threshold(100_000, 50, 1_000)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
