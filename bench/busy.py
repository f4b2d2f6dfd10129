"""Issue 17's busy moments, end to end: the real `lantoa run` in a subprocess, its wall clock
started shortly before a scheduled moment (bench/shifted_run.py), against bench/emulator.py (a Bot
API emulator apart from the tests' fake: 150 ms a call, or 100–250 ms seeded with --jitter;
Telegram's caps answered 429).

- friday: bench.broadcast's data (5,000 members, 1,000 cells each with a linked group; 500 /
  100 with --quick), the bot started at Friday 27/11/2026 15:59:40 (Hanoi); at 16:00 the
  reminder jobs fire: a reminder into each group, a nudge to each member.
- monday: a copy of the province (bench.gen_province, --db), the bot started at 07:29:30 of
  the Monday after the week bench.digests decides (the latest full week without digests in
  the ledger; --week to choose another); at 07:30 every unit's digest goes out.

Meanwhile one member sends /help every half second, and another goes through the report form
(bench.interactive's steps), each step half a second after the answer to the previous one,
both from 10 s before the moment to the end of the run (the last broadcast send, then
--quiet seconds without one). A reply's latency is from when the member sent it to when the
bot's answer arrived at the emulator.

    .venv/bin/python -m bench.busy friday [--quick] [--backend sqlite|postgresql|both]
        [--jitter SEED] [--runs N]
    .venv/bin/python -m bench.busy monday [--db /tmp/province.sqlite3] [--week 2026-W47]
        [--backend …] [--jitter SEED] [--runs N]

With --jitter SEED, run i draws its latencies with seed SEED + i. The bot's peak RSS is
VmHWM of /proc/<pid>/status, its CPU utime + stime of /proc/<pid>/stat (on PostgreSQL the
server's CPU over the same span is printed apart). Targets (issue 17) are printed beside the
figures."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.backends import ServerCpu, add_option, chosen, migrated_cluster, moved_province
from bench.broadcast import FIRST_MEMBER, build_database, floor_seconds
from bench.emulator import SENDS, Emulator, Latency, Server
from bench.interactive import REPORT, cpu_seconds, environment
from bench.machine import load_average, memory_mb, stop_process
from bench.members import Step, percentile
from bot.rules.periods import Period, key_of, week_of
from storage.db import Database
from tests.postgres import MIGRATED, Cluster

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
FRIDAY_16 = dt.datetime(2026, 11, 27, 16, 0, tzinfo=HANOI)
HELP_EXPECT = "Hướng dẫn sử dụng Lan Tỏa"
TYPING_BEFORE = 10.0  # the members start typing this long before the moment
STEP_PAUSE = 0.5
STEP_TIMEOUT = 30.0
ANSWER_GRACE = 5.0  # after the run, answers still in flight may arrive this long
STALLED = 150.0  # no broadcast send this long after the moment: the bot is stuck
CAP = 30  # sends a second
LOGS = Path(tempfile.gettempdir()) / "lantoa-busy-logs"


@dataclass
class Scenario:
    name: str
    moment: dt.datetime  # when the jobs fire (Hanoi)
    lead: float  # the bot starts this long before it
    helpers: tuple[int, ...]  # who send /help, in turn
    formers: tuple[int, ...]  # who fill the report form

    @property
    def typists(self) -> frozenset[int]:
        return frozenset((*self.helpers, *self.formers))
    quiet: float  # the run ends this long after the last broadcast send
    limit: float  # or this long after the moment, whatever happens
    floor_label: str


@dataclass
class Replies:
    latencies: list[float] = field(default_factory=list)
    unanswered: int = 0
    # (the step's expected words, the last thing the member saw): why steps went unanswered
    missed: Counter[tuple[str, str]] = field(default_factory=Counter)

    def summary(self) -> str:
        got = sorted(self.latencies)
        if not got:
            return f"none answered, {self.unanswered} unanswered"
        why = "".join(f"\n      {n} x waiting for {expect!r}, last seen {seen!r}"
                      for (expect, seen), n in self.missed.most_common(5))
        return (f"{len(got)}: p50 {percentile(got, 0.5):.2f} s, p95 {percentile(got, 0.95):.2f}"
                f" s, max {got[-1]:.2f} s; unanswered {self.unanswered}{why}")


@dataclass
class Result:
    label: str
    help: Replies
    form: Replies
    first_poll: float  # seconds after the moment the bot first polled (negative: before)
    # broadcast: (at - moment, chat, method, what it carried: its text, or a photo's size)
    sends: list[tuple[float, int, str, str]]
    attempts: list[float]  # every counted send's arrival (accepted or not), from the moment
    accepted: list[float]  # the accepted ones
    refused: Counter[str]
    rows: int  # ledger rows decided from the moment
    not_sent: int
    row_chats: Counter[int]
    row_kinds: Counter[str]
    peak_rss_mb: float
    cpu_all: float
    cpu_from_moment: float
    server_cpu: float | None
    load_before: str
    load_after: str
    lag: list[float]  # how late the emulator's process woke, sampled every 50 ms


# --- the run ---------------------------------------------------------------------------------


def bot_command(start: dt.datetime) -> list[str]:
    """`lantoa run` with its wall clock at `start` now (bench/shifted_run.py): call it right
    before the spawn."""
    return [sys.executable, "-m", "bench.shifted_run", start.isoformat(),
            "--spawned", repr(time.time()), "run"]


@asynccontextmanager
async def bot(command: Sequence[str], env: dict[str, str],
        log: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    log.parent.mkdir(exist_ok=True)
    log.unlink(missing_ok=True)
    with log.open("ab") as sink:
        process = await asyncio.create_subprocess_exec(*command, env=env, cwd=log.parent,
                                                       stdout=sink, stderr=sink)
    try:
        yield process
    finally:
        if process.returncode is None:
            await stop_process(process)


async def run_once(scenario: Scenario, location: Path | str, seed: int | None, label: str,
                   cluster: Cluster | None, form_pause: float,
                   lease_seconds: int | None) -> Result:
    emulator = Emulator(latency=Latency(jitter_seed=seed))
    start = scenario.moment - dt.timedelta(seconds=scenario.lead)
    before_rows = await _ledger_top(location)
    server = ServerCpu(cluster) if cluster is not None else None
    load_before = load_average()
    async with Server(emulator) as served:
        env = environment(location, served.url, sequential=False)
        if lease_seconds is not None:
            env["LANTOA_LEASE_SECONDS"] = str(lease_seconds)
        emulator.date_shift = start.timestamp() - time.time()
        spawned = time.monotonic()
        moment = spawned + scenario.lead
        log = LOGS / f"{label.replace(' ', '-').replace('[', '').replace(']', '')}.log"
        print(f"  {label}: the bot's log is {log}", flush=True)
        async with bot(bot_command(start), env, log) as process:
            typists = Typists(emulator, scenario.helpers, scenario.formers,
                              begin=moment - TYPING_BEFORE, form_pause=form_pause)
            typing = asyncio.create_task(typists.run())
            lag: list[float] = []
            lagging = asyncio.create_task(_lag(lag))
            await _sleep_until(moment, process)
            cpu_at_moment = cpu_seconds(process.pid)
            server_at_moment = server.seconds() if server is not None else 0.0
            await _until_done(emulator, scenario, moment, process)
            typists.stop.set()
            await typing
            lagging.cancel()
            peak, cpu_end = memory_mb("VmHWM", process.pid), cpu_seconds(process.pid)
            server_cpu = server.seconds() - server_at_moment if server is not None else None
    load_after = load_average()
    rows = await _ledger_since(location, before_rows)
    return _result(label, emulator, scenario, moment, typists, rows,
                   peak, cpu_end, cpu_end - cpu_at_moment, server_cpu, load_before,
                   load_after, lag)


async def _lag(samples: list[float], every: float = 0.05) -> None:
    """How late this process (the emulator's) wakes: its own noise in the arrivals' moments,
    on a loaded machine."""
    while True:
        asked = time.monotonic() + every
        await asyncio.sleep(every)
        samples.append(time.monotonic() - asked)


async def _sleep_until(moment: float, process: asyncio.subprocess.Process) -> None:
    while time.monotonic() < moment:
        if process.returncode is not None:
            raise RuntimeError("the bot stopped before the moment (see its log)")
        await asyncio.sleep(min(0.5, max(0.0, moment - time.monotonic())))


def _broadcast(emulator: Emulator, typists: frozenset[int], moment: float) -> list[float]:
    return [a.at for a in emulator.arrivals if a.outcome == "ok" and a.method in SENDS
            and a.chat_id not in typists and a.at >= moment]


async def _until_done(emulator: Emulator, scenario: Scenario, moment: float,
                      process: asyncio.subprocess.Process) -> None:
    """Until the last broadcast send is `quiet` seconds old, or none came for STALLED
    seconds from the moment (the bot is stuck: said, and the run's figures printed), or the
    limit."""
    while time.monotonic() < moment + scenario.limit:
        if process.returncode is not None:
            raise RuntimeError("the bot stopped during the run (see its log)")
        sent = _broadcast(emulator, scenario.typists, moment)
        if sent and time.monotonic() - sent[-1] > scenario.quiet:
            return
        if not sent and time.monotonic() - moment > STALLED:
            print(f"  !! no broadcast send in the {STALLED:.0f} s from the moment: the run is"
                  f" cut (see the bot's log)", flush=True)
            return
        await asyncio.sleep(1.0)
    print(f"  !! the run was cut at {scenario.limit:.0f} s after the moment", flush=True)


# --- the members who type ------------------------------------------------------------------


@dataclass
class Typists:
    """Members who ask /help, in turn, one every half second, and members who fill report
    forms, each step `form_pause` after the answer to the previous one, started half a second
    apart. They type until `stop` is set; then the answers in flight get ANSWER_GRACE
    seconds. Taking turns keeps each chat within Telegram's 1 message a second into a chat
    (a burst of 3): one member's /help every half second could not be answered in time
    whatever the bot did."""

    emulator: Emulator
    helpers: tuple[int, ...]
    formers: tuple[int, ...]
    begin: float
    form_pause: float
    help: Replies = field(default_factory=Replies)
    form: Replies = field(default_factory=Replies)
    help_sent: dict[int, deque[float]] = field(default_factory=dict)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    form_waiting: int = 0

    async def run(self) -> None:
        self.help_sent = {user: deque() for user in self.helpers}
        asking = asyncio.create_task(self._ask_help())
        others = [*(asyncio.create_task(self._help_answers(user)) for user in self.helpers),
                  *(asyncio.create_task(self._fill_forms(user, self.begin + n * STEP_PAUSE))
                    for n, user in enumerate(self.formers))]
        await self.stop.wait()
        await asking
        await asyncio.sleep(ANSWER_GRACE)
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        self.help.unanswered += sum(len(sent) for sent in self.help_sent.values())
        self.form.unanswered += self.form_waiting

    async def _ask_help(self) -> None:
        await asyncio.sleep(max(0.0, self.begin - time.monotonic()))
        n = 0
        while not self.stop.is_set():
            user = self.helpers[n % len(self.helpers)]
            at = time.monotonic()
            self.emulator.queue_text(user, "/help", at)
            self.help_sent[user].append(at)
            n += 1
            await asyncio.sleep(max(0.0, self.begin + n * STEP_PAUSE - time.monotonic()))

    async def _help_answers(self, user: int) -> None:
        """Each help text shown answers the member's oldest /help not answered yet."""
        seen, sent = 0, self.help_sent[user]
        while True:
            await self.emulator.shown_more(user, seen, 3600)
            for shown in self.emulator.shown(user)[seen:]:
                if HELP_EXPECT in shown.text and shown.method in SENDS and sent:
                    self.help.latencies.append(shown.at - sent.popleft())
            seen = len(self.emulator.shown(user))

    async def _fill_forms(self, user: int, begin: float) -> None:
        await asyncio.sleep(max(0.0, begin - time.monotonic()))
        loop = 0
        while not self.stop.is_set():
            loop += 1
            for step in _form(loop):
                if self.stop.is_set() or not await self._step(user, step):
                    break

    async def _step(self, user: int, step: Step) -> bool:
        """One step and its answer; False when it went wrong (the form is then cancelled)."""
        emulator = self.emulator
        seen = len(emulator.shown(user))
        at = time.monotonic()
        if not _act(emulator, user, step, at):
            self._missed(user, f"a button {step.button}")
            return False
        self.form_waiting += 1
        answered = await _answer(emulator, user, step, seen, at + STEP_TIMEOUT)
        self.form_waiting -= 1
        if answered is None:
            self._missed(user, step.expect)
            emulator.queue_text(user, "/cancel")
            await asyncio.sleep(2.0)
            return False
        arrived, text = answered
        self.form.latencies.append(arrived - at)
        await asyncio.sleep(self.form_pause)
        if step.expect not in text:  # the model question came first: skipped
            return await self._step(user, Step(step.expect, button=SKIP))
        return True

    def _missed(self, user: int, expected: str) -> None:
        # The last message sent, not an edit tidying an older one.
        sent = [shown for shown in self.emulator.shown(user) if shown.method in SENDS]
        self.form.unanswered += 1
        self.form.missed[(expected, sent[-1].text[:70] if sent else "")] += 1


# Asked after "➕ Thêm chi tiết" where the member's units have models (the province's do,
# bench.broadcast's do not); bench.interactive's form does not answer it.
MODEL_QUESTION = "thuộc mô hình nào"
SKIP = "Bỏ qua"


def _form(loop: int) -> list[Step]:
    """bench.interactive's report form, with a description of its own each time round."""
    return [replace(step, text=f"{step.text} (lần {loop})")
            if step.expect == "kiểm tra lại" and step.text and step.text[0].isupper() else step
            for step in REPORT]


def _act(emulator: Emulator, user: int, step: Step, at: float) -> bool:
    if step.text is not None:
        emulator.queue_text(user, step.text, at)
        return True
    assert step.button is not None
    for shown in reversed(emulator.shown(user)):
        for label, data in shown.buttons():
            if label.startswith(step.button):
                emulator.queue_press(user, int(shown.message["message_id"]), data, at)
                return True
    return False


async def _answer(emulator: Emulator, user: int, step: Step, seen: int,
                  deadline: float) -> tuple[float, str] | None:
    """When the step's answer (the first shown text holding `expect`, or the question of a
    model where the member's units have some) arrived, and its text."""
    while True:
        if not await emulator.shown_more(user, seen, deadline - time.monotonic()):
            return None
        for shown in emulator.shown(user)[seen:]:
            seen += 1
            # (the pressed summary may be edited into the question: any shown text counts)
            if step.expect in shown.text or MODEL_QUESTION in shown.text:
                return shown.at, shown.text


# --- the ledger ------------------------------------------------------------------------------


async def _ledger_top(location: Path | str) -> int:
    db = await Database.open(location)
    try:
        async with db.transaction() as tx:
            row = await tx.one("SELECT MAX(id) AS top FROM deliveries")
    finally:
        await db.close()
    return int(row["top"] or 0) if row else 0


async def _ledger_since(location: Path | str, top: int) -> list[tuple[int, str, str]]:
    db = await Database.open(location)
    try:
        async with db.transaction() as tx:
            rows = await tx.all("SELECT chat_id, kind, status FROM deliveries WHERE id > ?"
                                " ORDER BY id", (top,))
    finally:
        await db.close()
    return [(int(r["chat_id"]), str(r["kind"]), str(r["status"])) for r in rows]


# --- the figures -----------------------------------------------------------------------------


def worst_window(moments: Sequence[float], width: float = 1.0) -> int:
    """The most moments within any window of `width` seconds."""
    ordered, most, first = sorted(moments), 0, 0
    for last, at in enumerate(ordered):
        while at - ordered[first] >= width:
            first += 1
        most = max(most, last - first + 1)
    return most


def _result(label: str, emulator: Emulator, scenario: Scenario, moment: float,
            typists: Typists, rows: list[tuple[int, str, str]], peak: float, cpu_all: float,
            cpu_from_moment: float, server_cpu: float | None, load_before: str,
            load_after: str, lag: list[float]) -> Result:
    arrivals = emulator.arrivals
    polls = [a.at for a in arrivals if a.method == "getUpdates"]
    sends = [(a.at - moment, a.chat_id, a.method, a.text or f"{a.size} bytes") for a in arrivals
             if a.outcome == "ok" and a.method in SENDS and a.at >= moment
             and a.chat_id is not None and a.chat_id not in scenario.typists]
    counted = [a for a in arrivals if a.outcome in ("ok", "429") and a.chat_id is not None
               and a.method in SENDS | {"editMessageText", "editMessageCaption",
                                         "editMessageReplyMarkup"}]
    # Rows recorded 'missed' by the start-up's catch-up (moments long past) are no messages.
    mine = [r for r in rows if r[0] not in scenario.typists and r[2] != "missed"]
    return Result(
        label=label, help=typists.help, form=typists.form,
        first_poll=(polls[0] - moment) if polls else float("nan"),
        sends=[(at, chat, method, text) for at, chat, method, text in sends
               if chat is not None],
        attempts=[a.at - moment for a in counted],
        accepted=[a.at - moment for a in counted if a.outcome == "ok"],
        refused=Counter(a.reason for a in arrivals if a.outcome == "429"),
        rows=len(mine), not_sent=sum(status != "sent" for _, _, status in mine),
        row_chats=Counter(chat for chat, _, _ in mine),
        row_kinds=Counter(kind for _, kind, _ in mine),
        peak_rss_mb=peak, cpu_all=cpu_all, cpu_from_moment=cpu_from_moment,
        server_cpu=server_cpu, load_before=load_before, load_after=load_after, lag=lag)


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def print_result(result: Result, scenario: Scenario) -> None:
    replies = Replies(result.help.latencies + result.form.latencies,
                      result.help.unanswered + result.form.unanswered)
    got = sorted(replies.latencies)
    p95 = percentile(got, 0.95) if got else float("nan")
    worst = got[-1] if got else float("nan")
    delivered = Counter(chat for _, chat, _, _ in result.sends)
    identical = Counter((chat, method, text) for _, chat, method, text in result.sends)
    missing = sum(1 for chat in result.row_chats if chat not in delivered)
    doubles = sum(1 for n in identical.values() if n > 1)
    times = [at for at, _, _, _ in result.sends]
    first, last = (min(times), max(times)) if times else (float("nan"), float("nan"))
    messages = result.rows
    rate = messages / last if times and last > 0 else float("nan")
    window = messages / (last - first) if times and last > first else float("nan")
    floor = floor_seconds(result.row_chats) if result.row_chats else float("nan")
    refused = sum(result.refused.values())
    reasons = ", ".join(f"{k} {n}" for k, n in result.refused.items())
    kinds = ", ".join(f"{k} {n:,}" for k, n in result.row_kinds.items())
    print(f"\n{result.label}; load average {result.load_before} -> {result.load_after}",
          flush=True)
    lines = [
        ("bot first polled", f"{result.first_poll:+.1f} s from the moment"),
        ("replies, all", f"{replies.summary()}  (p95 <= 1 s {_mark(p95 <= 1.0)},"
                         f" max <= 2 s {_mark(worst <= 2.0)})"),
        ("  /help every 0.5 s", result.help.summary()),
        ("  report form steps", result.form.summary()),
        ("messages decided (ledger rows)", f"{messages:,} ({kinds}); not 'sent'"
                                           f" {result.not_sent}"),
        ("delivered once", f"{len(result.row_chats) - missing:,}/{len(result.row_chats):,}"
                           f" chats got theirs; missing {missing}; doubles {doubles};"
                           f" sends {len(times):,}"),
        ("first broadcast send", f"{first:.1f} s after the moment; last {last:.1f} s"),
    ]
    if scenario.name == "friday":
        lines.append(("moment -> last send", f"{rate:.1f}/s = {rate / CAP:.1%} of 30/s"
                      f" ({_mark(rate / CAP >= 0.9)} >= 90 %); first -> last"
                      f" {window / CAP:.1%}"))
    else:
        lines.append(("moment -> last delivered", f"{last:.1f} s = {last / floor:.2f}x the"
                      f" floor {floor:.1f} s ({messages:,} messages / 30/s)"
                      f" ({_mark(last / floor <= 1.1)} <= 1.1x)"))
    # Replies and tidying edits share the cap with the broadcast: what all of it used.
    sends = sum(1 for at in result.accepted if 0 <= at <= last) if times else 0
    every = sends / last if times and last > 0 else float("nan")
    lines.append(("  with replies and edits", f"{sends:,} accepted sends, {every:.1f}/s ="
                  f" {every / CAP:.1%} of 30/s (moment -> last broadcast send)"))
    lines += [
        ("worst 1-s window, accepted", f"{worst_window(result.accepted)}"
                                       f" ({_mark(worst_window(result.accepted) <= CAP)} <= 30);"
                                       f" all attempts {worst_window(result.attempts)}"),
        ("429s", f"{refused} ({reasons or 'none'}) ({_mark(refused == 0)} 0)"),
        ("bot peak RSS (VmHWM)", f"{result.peak_rss_mb:.0f} MB"
                                 f" ({_mark(result.peak_rss_mb < 150)} < 150 MB)"),
        ("bot CPU", f"{result.cpu_all:.1f} s in all; {result.cpu_from_moment:.1f} s from the"
                    f" moment = {1000 * result.cpu_from_moment / max(messages, 1):.2f} ms per"
                    f" message"),
    ]
    lag = sorted(result.lag) or [math.nan]
    lines.append(("emulator's own lateness", f"p99 {1000 * percentile(lag, 0.99):.0f} ms,"
                  f" max {1000 * lag[-1]:.0f} ms (its noise in the arrivals' moments)"))
    if result.server_cpu is not None:
        lines.append(("PostgreSQL server CPU", f"{result.server_cpu:.1f} s from the moment ="
                      f" {1000 * result.server_cpu / max(messages, 1):.2f} ms per message"))
    width = max(len(name) for name, _ in lines)
    for name, value in lines:
        print(f"  {name:<{width}}  {value}", flush=True)


def print_summary(results: Sequence[Result]) -> None:
    """One line a run, for --runs."""
    print(f"\n{'run':<34}{'p95 s':>7}{'max s':>7}{'first s':>8}{'last s':>8}{'1-s ok/all':>11}"
          f"{'429s':>6}{'RSS MB':>7}{'cpu ms/msg':>11}")
    for r in results:
        got = sorted(r.help.latencies + r.form.latencies)
        times = [at for at, _, _, _ in r.sends]
        print(f"{r.label:<34}{percentile(got, 0.95) if got else math.nan:>7.2f}"
              f"{got[-1] if got else math.nan:>7.2f}{min(times, default=math.nan):>8.1f}"
              f"{max(times, default=math.nan):>8.1f}"
              f"{f'{worst_window(r.accepted)}/{worst_window(r.attempts)}':>11}"
              f"{sum(r.refused.values()):>6}{r.peak_rss_mb:>7.0f}"
              f"{1000 * r.cpu_from_moment / max(r.rows, 1):>11.2f}")
    refused = [sum(r.refused.values()) for r in results]
    print(f"runs without a 429: {refused.count(0)}/{len(results)};"
          f" median p95 {statistics.median(_p95s(results)):.2f} s")


def _p95s(results: Sequence[Result]) -> list[float]:
    return [percentile(sorted(r.help.latencies + r.form.latencies), 0.95)
            for r in results if r.help.latencies or r.form.latencies]


# --- the data --------------------------------------------------------------------------------


@dataclass
class Data:
    """A scenario's data made once; `copy(n)` a fresh database for run n."""

    scenario: Scenario
    template: Path | str
    cluster: Cluster | None = None

    def copy(self, work: Path, n: int) -> Path | str:
        if self.cluster is not None:
            name = self._name(n)
            _admin(self.cluster, f"DROP DATABASE IF EXISTS {name}")
            _admin(self.cluster, f"CREATE DATABASE {name} TEMPLATE {self.template}")
            return self.cluster.url(name)
        assert isinstance(self.template, Path)
        target = self._file(work, n)
        shutil.copyfile(self.template, target)
        return target

    def drop(self, work: Path, n: int) -> None:
        if self.cluster is not None:
            _admin(self.cluster, f"DROP DATABASE IF EXISTS {self._name(n)}")
            return
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self._file(work, n)}{suffix}").unlink(missing_ok=True)

    def _name(self, n: int) -> str:
        return f"busy_{self.scenario.name}_{n}"

    def _file(self, work: Path, n: int) -> Path:
        return work / f"{self.scenario.name}-{n}.sqlite3"


def _admin(cluster: Cluster, statement: str, database: str = "postgres") -> None:
    import psycopg  # only on PostgreSQL

    with psycopg.connect(cluster.url(database), autocommit=True) as conn:
        conn.execute(statement.encode())


async def friday_data(args: argparse.Namespace, work: Path, cluster: Cluster | None) -> Data:
    typists = range(FIRST_MEMBER, FIRST_MEMBER + args.help_members + args.form_members)
    scenario = Scenario("friday", FRIDAY_16, lead=20.0,
                        helpers=tuple(typists[:args.help_members]),
                        formers=tuple(typists[args.help_members:]), quiet=15.0, limit=900.0,
                        floor_label="messages / 30/s")
    if cluster is None:
        template: Path | str = work / "friday.sqlite3"
        await build_database(template, args.nudges, args.groups)  # type: ignore[arg-type]
        return Data(scenario, template)
    name = cluster.create_database(MIGRATED)
    await build_database(cluster.url(name), args.nudges, args.groups)  # type: ignore[arg-type]
    return Data(scenario, name, cluster)


async def monday_data(args: argparse.Namespace, work: Path, cluster: Cluster | None) -> Data:
    """The province copied (never written) and migrated; on PostgreSQL moved and ANALYZEd."""
    source = work / "province.sqlite3"
    if not source.exists():
        shutil.copyfile(args.db, source)
        await (await Database.open(source)).close()  # migrations now, not in the bot's start
    week = _week(args.week) if args.week else await _week_undecided(source)
    moment = dt.datetime.combine(week.last + dt.timedelta(days=1), dt.time(7, 30), HANOI)
    typists = await _plain_members(source, args.help_members + args.form_members)
    scenario = Scenario("monday", moment, lead=30.0, helpers=typists[:args.help_members],
                        formers=typists[args.help_members:], quiet=30.0, limit=1800.0,
                        floor_label="messages / 30/s")
    print(f"  monday: week {key_of(week)}, the bot at {moment - dt.timedelta(seconds=30)}",
          flush=True)
    if cluster is None:
        return Data(scenario, source)
    name, seconds = await asyncio.to_thread(moved_province, cluster, source)
    began = time.perf_counter()
    # The throwaway cluster has no autovacuum: the planner's statistics are gathered here, as
    # a real server's autovacuum does soon after the move (see bench/digests.py).
    _admin(cluster, "ANALYZE", name)
    print(f"  the province moved into PostgreSQL: {seconds:.0f} s, ANALYZE"
          f" {time.perf_counter() - began:.0f} s", flush=True)
    return Data(scenario, name, cluster)


def _week(text: str) -> Period:
    year, week = text.split("-W")
    return week_of(dt.date.fromisocalendar(int(year), int(week), 1))


async def _week_undecided(location: Path) -> Period:
    from bench.digests import _week_undecided as undecided  # bench.digests' own choice

    return await undecided(location)


async def _plain_members(location: Path, count: int) -> tuple[int, ...]:
    """Vietnamese-speaking plain members of one unit each: who ask /help and who report."""
    db = await Database.open(location)
    try:
        async with db.transaction() as tx:
            rows = await tx.all(
                "SELECT p.telegram_user_id AS id FROM people p"
                " JOIN memberships m ON m.person_id = p.id AND m.status = 'active'"
                " WHERE p.telegram_user_id IS NOT NULL AND p.lang = 'vi'"
                " GROUP BY p.id, p.telegram_user_id"
                " HAVING COUNT(*) = 1 AND MIN(m.role) = 'member' ORDER BY p.id LIMIT ?",
                (count,))
    finally:
        await db.close()
    return tuple(int(r["id"]) for r in rows)


# --- main ------------------------------------------------------------------------------------


async def main_async(args: argparse.Namespace) -> None:
    latency = ("150 ms" if args.jitter is None
               else f"100-250 ms, seeds from {args.jitter}")
    print(f"bench.busy {args.scenario}; {os.cpu_count()} cores; load average {load_average()};"
          f" latency {latency}; /help every {STEP_PAUSE} s from {args.help_members} members"
          f" in turn; {args.form_members} members in the report form, a step"
          f" {args.form_pause} s after each answer; lease_seconds"
          f" {args.lease_seconds or 'as configured'}", flush=True)
    prepare = friday_data if args.scenario == "friday" else monday_data
    with tempfile.TemporaryDirectory(prefix="lantoa-busy-", dir=args.dir) as folder:
        work = Path(folder)
        for backend in chosen(args.backend):
            cluster = await migrated_cluster("bench-busy") if backend == "postgresql" else None
            try:
                data = await prepare(args, work, cluster)
                results = []
                for n in range(args.runs):
                    seed = None if args.jitter is None else args.jitter + n
                    label = (f"{args.scenario} [{backend}] run {n + 1}"
                             f"{'' if seed is None else f' seed {seed}'}")
                    location = data.copy(work, n)
                    try:
                        result = await run_once(data.scenario, location, seed, label,
                                                cluster, args.form_pause,
                                                args.lease_seconds)
                    finally:
                        data.drop(work, n)
                    print_result(result, data.scenario)
                    results.append(result)
                if len(results) > 1:
                    print_summary(results)
            finally:
                if cluster is not None:
                    cluster.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=("friday", "monday"))
    parser.add_argument("--nudges", type=int, default=5000)
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="friday: 500 nudges, 100 groups")
    parser.add_argument("--db", type=Path, default=Path("/tmp/province.sqlite3"),
                        help="monday: the province (copied; never written)")
    parser.add_argument("--week", help="monday: the week whose digests go out, e.g. 2026-W45")
    parser.add_argument("--jitter", type=int, metavar="SEED",
                        help="each call's latency drawn from 100-250 ms, run n with SEED + n")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--help-members", type=int, default=6,
                        help="members who send /help in turn, one every half second (6)")
    parser.add_argument("--form-members", type=int, default=2,
                        help="members who fill report forms, started half a second apart (2)")
    parser.add_argument("--form-pause", type=float, default=1.0,
                        help="a form member's next step this long after the answer (1.0 s)")
    parser.add_argument("--lease-seconds", type=int,
                        help="the bot's lease_seconds (LANTOA_LEASE_SECONDS; config: 10)")
    parser.add_argument("--dir", help="where the copies go (a temporary folder in it)")
    add_option(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.nudges, args.groups = 500, 100
    if args.scenario == "monday" and not args.db.exists():
        parser.error(f"{args.db} does not exist: make it with `python -m bench.gen_province`")
    # The emulator lives in this process: a collection of its many objects would stall it,
    # and the arrivals it then takes in at once would bunch (bench/interactive.py does so too).
    gc.freeze()
    gc.set_threshold(100_000, 50, 1_000)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
