"""Issue 14's move benchmark: `lantoa move-to-postgres` of a province (bench/gen_province.py)
into an empty database of a throwaway PostgreSQL cluster (tests/postgres.py): its time and its
peak memory.

    .venv/bin/python -m bench.move [--db /tmp/province.sqlite3] [--scale 1.0] [--quick]

Without --db, the province is made at --scale in a temporary folder first (scale 1: 5,066
units, 35,000 members, 1,000,000 reports and their photos, co-participants and reviews; about
two minutes). The move is the real command, run in a process of its own: its time and peak RSS
(its VmHWM) are its alone, neither the generator's nor the server's. The cluster is the tests'
own, tuned for speed (fsync off, see tests/postgres.py): a server that waits for its disk
takes longer to write.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from bench.export import rss_mb
from bench.gen_province import generate
from bench.machine import load_average
from bot.runtime.cli import main as lantoa
from tests.postgres import start_cluster

SCALE = 1.0
QUICK_SCALE = 0.05


def measured_move(source: Path, url: str, out: Path) -> None:
    """In the child: the command as an admin runs it, then its figures into `out`."""
    at_start = rss_mb()  # the command's imports: the bot's whole code
    began = time.perf_counter()
    code = lantoa(["move-to-postgres", "--from", str(source), "--to", url])
    out.write_text(json.dumps({"code": code, "seconds": time.perf_counter() - began,
                               "peak_mb": rss_mb(), "start_mb": at_start}))


def move_in_child(source: Path, url: str, folder: Path) -> dict[str, float]:
    out = folder / "move.json"
    subprocess.run([sys.executable, "-m", "bench.move", "--child", str(source), url, str(out)],
                   check=True)
    return dict(json.loads(out.read_text()))


def report(source: Path) -> None:
    cluster = start_cluster("bench-move")
    try:
        url = cluster.url(cluster.create_database())
        figures = move_in_child(source, url, cluster.folder)
        with psycopg.connect(url) as conn:
            size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    finally:
        cluster.stop()
    assert size is not None
    print(f"\nsource {source} ({source.stat().st_size / 1e6:,.0f} MB), "
          f"PostgreSQL database after the move {size[0] / 1e6:,.0f} MB")
    print(f"exit code {figures['code']}; move {figures['seconds']:.1f} s; "
          f"peak RSS of the move {figures['peak_mb']:.1f} MB "
          f"({figures['start_mb']:.1f} MB at start); "
          f"load average {load_average()}")


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        source, url, out = sys.argv[2:5]
        measured_move(Path(source), url, Path(out))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="an existing province (else one is made)")
    parser.add_argument("--scale", type=float, default=SCALE)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help=f"--scale {QUICK_SCALE}")
    args = parser.parse_args()
    if args.db is not None:
        report(args.db)
        return
    with tempfile.TemporaryDirectory(prefix="lantoa-bench-move-") as folder:
        source = Path(folder) / "province.sqlite3"
        began = time.perf_counter()
        scale = QUICK_SCALE if args.quick else args.scale
        counts = generate(source, args.seed, scale)
        print(f"province at scale {scale}: {counts.get('reports', 0):,} reports, "
              f"made in {time.perf_counter() - began:.0f} s")
        report(source)


if __name__ == "__main__":
    main()
