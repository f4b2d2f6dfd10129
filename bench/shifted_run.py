"""`lantoa run` with its wall clock starting at a chosen moment and going on at the real pace
(time-machine's travel with tick): what the bot, PTB's job queue (APScheduler) and the database
rows see as "now". The monotonic clocks (the event loop's timers, the lease guard's
CLOCK_BOOTTIME) stay real.

libfaketime was the first choice, but its 0.9.10 on this glibc breaks waits: with
FAKETIME_DONT_FAKE_MONOTONIC=1 every `time.sleep` fails with EINVAL (an absolute
clock_nanosleep), and without it timed waits on conditions never return; the bot under it
burnt several times its CPU while idle.

    python -m bench.shifted_run 2026-11-27T15:59:40+07:00 [--spawned EPOCH] [lantoa's arguments,
        default: run]

With --spawned (the real time.time() when the parent started this process), the clock is
moved to the start plus the seconds the interpreter took to get here, so that the bot's
16:00 falls exactly `lead` seconds after the parent's spawn, however slow the start-up.
"""

from __future__ import annotations

import datetime as dt
import sys
import time

import time_machine


def main() -> None:
    start, rest = dt.datetime.fromisoformat(sys.argv[1]), sys.argv[2:]
    if rest[:1] == ["--spawned"]:
        start += dt.timedelta(seconds=time.time() - float(rest[1]))
        rest = rest[2:]
    sys.argv = ["lantoa", *(rest or ["run"])]
    time_machine.travel(start, tick=True).start()
    from bot.runtime.cli import main as lantoa  # after the travel: every clock is moved

    sys.exit(lantoa())


if __name__ == "__main__":
    main()
