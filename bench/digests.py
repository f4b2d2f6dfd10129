"""Benchmark 3 of issue 5: a province's Monday digests, against the floor of one bare
`SELECT unit_id, COUNT(*) … GROUP BY unit_id` over the same week's rows, in the same run.

The week is the latest full week whose digests the ledger does not hold yet (the generator
leaves the last two decided, as a running bot would), so that the whole decision can run.
Phases, each timed apart:
  (a) figures: every unit's counts with roll-ups (totals, x/y, fields, helped, value, new
      models, the change against the week before and the chart's eight weeks) — what the issue
      calls "computing every unit's weekly digest including roll-ups"; against the floor, and
      against the bare GROUP BYs the same figures read (what a comparable floor would include);
  (b) texts: the group's and the leaders' messages of every digest (after the examples and
      the names of who has not reported are read);
  (c) the whole decision as Monday's first digest job makes it (bot/rules/schedules.py): figures,
      texts, charts and the ledger's rows, chunk by chunk; then the same job again (as after a
      restart) finding every row decided. Charts are a copy of one real chart here (they are
      (d)), unless --charts; on a copy of the file, in a child process of its own whose peak
      RSS is the run's;
  (d) charts: one chart's drawing time × the charts a province's Monday draws.
Then cProfile's top entries of (a), and EXPLAIN QUERY PLAN of every query (a full SCAN of a
big table flagged; SQLite only). Targets: (a) ≤ 3× the floor, peak RSS ≤ 150 MB.
With --monday, then the Monday end to end (bench/monday.py): 07:30 to the last digest delivered
through the paced sender, against the send floor.
Issue 17: --only running, `lantoa run` itself in a process of its own on the Monday (libfaketime)
until every digest is sent: its peak RSS by phase, and its chart drawer's (bench/monday.py).

Issue 14: each phase runs on each backend asked (--backend, default both): on PostgreSQL, the
province moved by storage/move.py into a throwaway cluster (tests/postgres.py) first (minutes;
timed), (c) and the Monday each on a copy of it (CREATE DATABASE … TEMPLATE); the server's CPU
time over each phase is printed beside it (its processes, from /proc).

    .venv/bin/python -m bench.gen_province --out /tmp/province.sqlite3
    .venv/bin/python -m bench.digests --db /tmp/province.sqlite3 [--runs 3] [--quick] [--charts]
        [--monday] [--only figures decision monday running] [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import io
import pstats
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import psycopg

from bench import memtrace
from bench.backends import ServerCpu, add_option, chosen, moved_province
from bench.machine import load_average
from bench.monday import monday, running_bot
from bot.flows import digests as digest_flow
from bot.flows.digests import ScheduledDigests, Writer, WrittenBatch, written_digests
from bot.rules.digests import digest_figures
from bot.rules.periods import Period, key_of, week_of
from bot.rules.schedules import DIGEST, Deciders, Due, Scheduler
from bot.runtime.clock import FixedClock
from bot.runtime.config import load_settings
from bot.runtime.services import Services
from bot.ui import charts
from bot.ui.catalogue import Catalogue
from storage.db import Database, Tx
from storage.migrate import apply_migrations
from storage.schedules import Every
from storage.sqlite import SqliteDatabase
from tests.postgres import Cluster, start_cluster

WEEK = "received_at >= ? AND received_at < ?"
FLOOR = f"SELECT unit_id, COUNT(*) FROM reports WHERE {WEEK} GROUP BY unit_id"
# What the figures read, each as bare as SQL can ask it: the floor and these together are what
# a floor comparable with (a) would include.
COMPARABLE = {
    "units and their parents": ("SELECT id, parent_id FROM units", False),
    "distinct authors per unit": (
        f"SELECT unit_id, COUNT(DISTINCT person_id) FROM reports WHERE {WEEK} GROUP BY unit_id",
        True),
    "co-participants and their units": (
        f"""SELECT r.unit_id, p.person_id FROM reports r
            JOIN report_participants p ON p.report_id = r.id WHERE r.{WEEK}""", True),
    "members per unit (y)": (
        "SELECT unit_id, COUNT(*) FROM memberships WHERE status = 'active' GROUP BY unit_id",
        False),
    "fields per unit": (
        f"SELECT unit_id, field, COUNT(*) FROM reports WHERE {WEEK} GROUP BY unit_id, field",
        True),
    "the chart's 8 weeks per unit": (FLOOR, "chart"),
}
BIG_TABLES = ("reports", "report_participants", "report_photos", "report_reviews",
              "memberships", "people", "deliveries")
PROFILE_LINES = 14
ALIAS = re.compile(r"\b(?:FROM|JOIN)\s+(\w+)\s+(?:AS\s+)?(\w+)", re.IGNORECASE)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _open(path: Path | str, statements: list[str] | None = None) -> Database:
    """The bot's Database on the file; every statement it runs written down (with its values,
    for EXPLAIN QUERY PLAN) when asked. A PostgreSQL URL is opened as the bot opens it."""
    if isinstance(path, str):
        return await Database.open(path)
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    conn.row_factory = aiosqlite.Row
    await conn.execute("PRAGMA busy_timeout = 5000")
    await apply_migrations(conn)
    if statements is not None:
        await conn.set_trace_callback(statements.append)
    return SqliteDatabase(conn)


async def _timed(work: Callable[[], Awaitable[Any]], runs: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = await work()
        times.append(time.perf_counter() - began)
    return times, result


async def _week_undecided(location: Path | str) -> Period:
    """The latest full week before today with no digest in the ledger."""
    db = await _open(location)
    week = week_of(dt.date.today() - dt.timedelta(days=7))
    try:
        async with db.transaction() as tx:
            while await tx.one("SELECT 1 FROM deliveries WHERE kind = ? AND period = ? LIMIT 1",
                               (DIGEST, key_of(week))):
                week = week_of(week.first - dt.timedelta(days=1))
    finally:
        await db.close()
    return week


def _services(db: Database, week: Period) -> Services:
    """Services whose clock says it is the Monday after `week`, just past the digests' time."""
    settings = load_settings()
    monday = dt.datetime.combine(week.last + dt.timedelta(days=1), settings.schedule.digest_time,
                                 settings.zone) + dt.timedelta(minutes=1)
    return Services(settings, db, Catalogue.load(), FixedClock(monday))


def _row(label: str, seconds: float, note: str = "") -> None:
    print(f"  {label:<44} {seconds * 1000:9.1f} ms  {note}")


# --- (a), (b), (d) ---------------------------------------------------------------------------


async def figures_and_texts(path: Path | str, week: Period, runs: int) -> None:
    statements: list[str] = []
    db = await _open(path, statements)
    services = _services(db, week)
    start, end = (m.astimezone(dt.UTC).isoformat(timespec="seconds")
                  for m in week.moments(services.settings.zone))
    eight = (week.first - dt.timedelta(weeks=7), week.last)
    chart_start = dt.datetime.combine(eight[0], dt.time(), services.settings.zone)
    chart_span = (chart_start.astimezone(dt.UTC).isoformat(timespec="seconds"), end)
    async with db.transaction() as tx:
        unit_ids = [int(r["id"]) for r in await tx.all("SELECT id FROM units")]

    async def bare(sql: str, params: tuple = ()) -> float:
        async def once() -> int:
            async with db.transaction() as tx:
                return len(await tx.all(sql, params))
        return min((await _timed(once, runs * 3))[0])

    floor = await bare(FLOOR, (start, end))
    comparable = {name: await bare(sql, chart_span if week_bound == "chart"
                                   else (start, end) if week_bound else ())
                  for name, (sql, week_bound) in COMPARABLE.items()}

    async def figures() -> object:
        async with db.transaction() as tx:
            return await digest_figures(tx, services.settings, None, week, Every.WEEK)

    async def gathered() -> WrittenBatch:
        async with db.transaction() as tx:
            found = await written_digests(tx, services, unit_ids, week, Every.WEEK)
            await found.read(tx, found.unit_ids)  # at once here; in chunks on Monday
            return found

    statements.clear()
    figure_times, _ = await _timed(figures, runs)
    gather_times, batch = await _timed(gathered, runs)
    traced = list(dict.fromkeys(s for s in statements if s.lstrip().upper().startswith(
        ("SELECT", "WITH"))))

    def texts() -> tuple[int, int]:
        messages = groups = 0
        for unit_id in batch.unit_ids:
            for outgoing, _ in batch.written(unit_id).messages:
                messages += 1
                groups += outgoing.chat_id < 0
        return messages, groups

    text_times = []
    for _ in range(runs):
        batch.writers.clear()  # each run writes its numbers afresh
        began = time.perf_counter()
        messages, groups = texts()
        text_times.append(time.perf_counter() - began)
    sample = next(d for d in map(batch.batch.digest, batch.unit_ids) if d.total)
    writer = Writer(services.settings, services.texts(None))
    await writer.chart(sample)  # the first one starts the drawing process (matplotlib)
    chart_times, _ = await _timed(lambda: writer.chart(sample), max(3, runs))
    chart = min(chart_times)

    best_a = min(figure_times)
    bare_sum = floor + sum(comparable.values())
    print(f"week {key_of(week)}: {len(unit_ids):,} units, {len(batch.unit_ids):,} digests"
          f" (units with a group or a leader), {messages:,} messages, {groups:,} to groups")
    _row("floor: bare GROUP BY unit_id over the week", floor)
    _row("(a) figures, every unit, roll-ups included", best_a,
         f"min of {runs}, median {statistics.median(figure_times) * 1000:.0f} ms;"
         f" {best_a / floor:.1f}× the floor (target ≤ 3×)")
    print("  a comparable floor would also read, as bare as SQL asks it:")
    for name, seconds in comparable.items():
        _row(f"  + {name}", seconds)
    _row("  = comparable floor", bare_sum, f"(a) is {best_a / bare_sum:.1f}× it")
    _row("figures + examples + names (written_digests)", min(gather_times))
    _row("(b) texts of every digest", min(text_times), f"{messages:,} messages")
    _row("(d) charts: one chart", chart,
         f"× {len(batch.unit_ids):,} digests = {chart * len(batch.unit_ids):.0f} s"
         " (worker thread, outside transactions)")
    print(f"  {'peak RSS of this process (a, b, d)':<44} {rss_mb():9.1f} MB  (every name read"
          " at once, to time (b) alone: not Monday's path, which is (c))")
    await _profile(db, services, week)
    await db.close()
    if isinstance(path, Path):
        _plans(path, [FLOOR.replace("?", f"'{start}'", 1).replace("?", f"'{end}'", 1), *traced])


async def _profile(db: Database, services: Services, week: Period) -> None:
    profile = cProfile.Profile()
    async with db.transaction() as tx:
        profile.enable()
        await digest_figures(tx, services.settings, None, week, Every.WEEK)
        profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(PROFILE_LINES)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    print("(a) under cProfile, by own time ('poll' is waiting for SQLite's thread):")
    for line in lines[lines.index(next(x for x in lines if "ncalls" in x)):]:
        print("  " + line.replace(str(Path.cwd()) + "/", "")[:150])


# --- (c) --------------------------------------------------------------------------------------


async def on_a_copy(location: Path | str, work: Callable[[Path | str], Awaitable[None]]) -> None:
    """`work` on a copy of the SQLite file, so that the province stays as generated (charts
    and ledger rows would grow it); a PostgreSQL URL is a copy the parent made already."""
    if isinstance(location, str):
        await work(location)
        return
    copy = location.with_name(f"{location.stem}.copy{location.suffix}")
    shutil.copyfile(location, copy)
    try:
        await work(copy)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)


async def decision(location: Path | str, week: Period, real_charts: bool) -> None:
    """Monday's first digest job, as bot/rules/schedules.py runs it, then the same job again."""
    await on_a_copy(location, lambda copy: _decide(copy, week, real_charts))


def _digest_scheduler(services: Services) -> Scheduler:
    """The scheduler as the bot builds it; only digest rows are run here."""
    async def no_reminders(tx: Tx, due: Due) -> int:
        raise AssertionError("only digests are decided here")

    async def nothing_held(tx: Tx) -> int:
        return 0

    return Scheduler(services, Deciders(reminder=no_reminders, custom=no_reminders,
                                        review=no_reminders, held=nothing_held,
                                        digests=ScheduledDigests(services).decide))


async def _decide(path: Path | str, week: Period, real_charts: bool) -> None:
    db = await _open(path)
    services = _services(db, week)
    job = _digest_scheduler(services)
    async with db.transaction() as tx:
        row = await tx.one("SELECT id FROM schedules WHERE kind = 'digest' AND every = 'week'"
                           " AND enabled = 1 ORDER BY id LIMIT 1")
    assert row is not None, "no weekly digest row"
    # A chart drawn (its process started), as in a bot on Monday morning.
    png = await charts.bar_chart_png("Tổng hợp", ["T1", "T2"], [3, 5])
    if not real_charts:
        async def copied(title: str, labels: list[str], values: list[int]) -> bytes:
            return bytes(png)
        charts.bar_chart_png = copied  # type: ignore[assignment]
    before = rss_mb()
    try:
        began = time.perf_counter()
        decided = await job.run(int(row["id"]))
        took = time.perf_counter() - began
        peak = rss_mb()
        began = time.perf_counter()
        # A new scheduler, as after a restart: it finds the rows in the ledger.
        again = await _digest_scheduler(services).run(int(row["id"]))
        second = time.perf_counter() - began
    finally:
        await db.close()
    _row("(c) the whole decision, ledger rows written", took,
         f"{decided:,} rows in chunks of {digest_flow.DIGEST_CHUNK} units,"
         f" charts {'drawn' if real_charts else 'copied'}")
    _row("    the same job again (a restart): decided", second, f"{again} rows")
    print(f"  {'peak RSS of the decision':<44} {peak:9.1f} MB  (target ≤ 150 MB;"
          f" {before:.0f} MB before it; charts drawn by a process of their own)")


# --- query plans ------------------------------------------------------------------------------


def _plans(path: Path, statements: list[str]) -> None:
    """EXPLAIN QUERY PLAN of each statement; a full SCAN of a big table (by name or alias) is
    flagged: the every-unit queries read every active membership by design (y is everyone)."""
    raw = sqlite3.connect(path)
    print("query plans (!! a full scan of a big table):")
    for sql in statements:
        aliases = {alias: table for table, alias in ALIAS.findall(sql)}
        print("  " + " ".join(sql.split())[:150] + " …")
        for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}"):
            detail = str(row[3])
            scanned = detail.split(" USING")[0].split(" AS ")[0].removeprefix("SCAN ")
            scan = detail.startswith("SCAN") and aliases.get(scanned, scanned) in BIG_TABLES
            print(f"      {'!! ' if scan else ''}{detail}")
    raw.close()


PHASES = ("figures", "decision", "monday", "running")


def main() -> None:
    if "--live" in sys.argv:  # issue 17: end to end through the emulator (bench/busy.py)
        from bench import busy

        busy.main(["monday", *(a for a in sys.argv[1:] if a not in ("--live", "--monday"))])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/province.sqlite3"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one run of each")
    parser.add_argument("--charts", action="store_true",
                        help="draw every chart in (c) (minutes) instead of copying one")
    parser.add_argument("--monday", action="store_true",
                        help="then Monday end to end: 07:30 to the last digest delivered")
    parser.add_argument("--only", nargs="+", choices=PHASES, help="these phases alone")
    add_option(parser)
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)  # a phase's PostgreSQL database
    args = parser.parse_args()
    if not args.db.exists():
        parser.error(f"{args.db} does not exist: make it with `python -m bench.gen_province`")
    runs = 1 if args.quick else args.runs
    if args.phase is not None:
        location: Path | str = args.url or args.db
        week = asyncio.run(_week_undecided(location))
        work = {"figures": lambda: figures_and_texts(location, week, runs),
                "decision": lambda: decision(location, week, args.charts),
                "monday": lambda: on_a_copy(location, lambda copy: monday(copy, week)),
                "running": lambda: on_a_copy(location, lambda copy: running_bot(copy, week))}
        memtrace.start()
        asyncio.run(work[args.phase]())
        return
    # Migrations first (a new index on a million rows), so that the children only read.
    asyncio.run(_migrate(args.db))
    phases = tuple(args.only or (PHASES if args.monday else PHASES[:2]))
    for backend in chosen(args.backend):
        print(f"\n=== {backend}; load average {load_average()}",
              flush=True)
        child = [sys.executable, "-m", "bench.digests", "--db", str(args.db), "--runs", str(runs),
                 *(["--charts"] if args.charts else [])]
        if backend == "sqlite":
            for phase in phases:
                # Each phase in a process of its own: its peak RSS is the phase's alone.
                subprocess.run([*child, "--phase", phase], check=True)
        else:
            on_postgres(args.db, child, phases)


def on_postgres(source: Path, child: list[str], phases: tuple[str, ...]) -> None:
    """The phases on the province moved into a throwaway cluster; those that write, each on a
    copy of it; the server's CPU time over each phase."""
    cluster = start_cluster("bench-digests")
    try:
        province, seconds = moved_province(cluster, source)
        print(f"  the province moved into PostgreSQL by storage/move.py: {seconds:.0f} s;"
              f" load average {load_average()}", flush=True)
        began = time.perf_counter()
        # The throwaway cluster runs without autovacuum (tests/postgres.py), which on a real
        # server gathers the planner's statistics of the freshly copied tables soon after the
        # move; without them the planner guesses, and the figures take tens of times longer.
        admin(cluster, "ANALYZE", province)
        print(f"  ANALYZE of the moved province: {time.perf_counter() - began:.0f} s", flush=True)
        for setting in ("log_min_duration_statement = 100", "log_min_messages = log"):
            admin(cluster, f"ALTER SYSTEM SET {setting}")
        admin(cluster, "SELECT pg_reload_conf()")
        server = ServerCpu(cluster)
        for phase in phases:
            name = province if phase == "figures" else copied(cluster, province, phase)
            before = server.seconds()
            subprocess.run([*child, "--phase", phase, "--url", cluster.url(name)], check=True)
            print(f"  PostgreSQL server CPU over the phase {phase!r} (its whole process):"
                  f" {server.seconds() - before:.1f} s", flush=True)
            if name != province:
                admin(cluster, f"DROP DATABASE {name}")
        _slowest(cluster.folder / "server.log")
    finally:
        cluster.stop()


def _slowest(log: Path, most: int = 12) -> None:
    """The statements that took the server 100 ms or more over the phases, slowest first."""
    found = re.findall(r"duration: ([\d.]+) ms +(?:statement|execute [^:]*): (.*?)"
                       r"(?=\n\d{4}-\d\d-\d\d |\Z)", log.read_text(errors="replace"), re.S)
    print(f"  statements of 100 ms or more on PostgreSQL: {len(found)}; the slowest:")
    for ms, sql in sorted(found, key=lambda f: -float(f[0]))[:most]:
        print(f"    {float(ms):9.0f} ms  {' '.join(sql.split())[:140]}")


def copied(cluster: Cluster, template: str, name: str) -> str:
    """A copy of a database, made here and now (the cluster's `create_database` would make a
    next one ahead, a gigabyte written while a phase is measured)."""
    admin(cluster, f"CREATE DATABASE {name} TEMPLATE {template}")
    return name


def admin(cluster: Cluster, statement: str, database: str = "postgres") -> None:
    with psycopg.connect(cluster.url(database), autocommit=True) as conn:
        conn.execute(statement.encode())


async def _migrate(path: Path) -> None:
    await (await Database.open(path)).close()


if __name__ == "__main__":
    main()
