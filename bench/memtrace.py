"""Where a benchmark's memory goes (bench.digests --monday with BENCH_TRACEMALLOC=1): Python's
allocations at named moments, the bench's in-process fake Bot API apart from the bot's.

tracemalloc keeps a traceback per allocation (slow, and its own memory is not in the figures:
use a small province). An allocation counts as the fake's when a frame of its traceback is in
tests/fakebot: the real bot does not hold those."""

from __future__ import annotations

import os
import tracemalloc
from collections import Counter
from pathlib import Path

from bench.machine import memory_mb

FRAMES = 30
ROOT = str(Path(__file__).resolve().parents[1]) + os.sep
FAKE = os.sep + os.path.join("tests", "fakebot") + os.sep
ON = bool(os.environ.get("BENCH_TRACEMALLOC"))


def start() -> None:
    if ON:
        tracemalloc.start(FRAMES)


def moment(label: str, top: int = 12) -> None:
    """The process's peak and present RSS now; traced, Python's live allocations split into
    the fake's and the bot's, and the bot's biggest by line (the innermost frame of ours)."""
    print(f"  memory of this process (the bot and the fake) at {label}: peak RSS (VmHWM)"
          f" {memory_mb():.1f} MB,"
          f" RSS {memory_mb('VmRSS'):.1f} MB", flush=True)
    if not ON:
        return
    _, peak = tracemalloc.get_traced_memory()
    fake = bot = 0
    lines: Counter[str] = Counter()
    for stat in tracemalloc.take_snapshot().statistics("traceback"):
        files = [frame.filename for frame in stat.traceback]
        if any(FAKE in f for f in files):
            fake += stat.size
            continue
        bot += stat.size
        lines[_where(stat.traceback)] += stat.size
    print(f"    traced: the bot {bot / 2**20:.1f} MB, the fake {fake / 2**20:.1f} MB;"
          f" traced peak since the last moment {peak / 2**20:.1f} MB")
    for where, size in lines.most_common(top):
        print(f"      {size / 2**20:7.2f} MB  {where}")
    tracemalloc.reset_peak()


def _where(traceback: tracemalloc.Traceback) -> str:
    """The allocating line, and the innermost line of the project's own code that led to it."""
    inner = traceback[-1]  # frames run from the oldest to the most recent
    ours = next((f for f in reversed(traceback) if f.filename.startswith(ROOT)), None)
    where = f"{_short(inner.filename)}:{inner.lineno}"
    if ours is not None and ours is not inner:
        where += f" <- {_short(ours.filename)}:{ours.lineno}"
    return where


def _short(filename: str) -> str:
    for marker in ("site-packages" + os.sep, "lib" + os.sep, ROOT):
        if marker in filename:
            return filename.rsplit(marker, 1)[1]
    return filename
