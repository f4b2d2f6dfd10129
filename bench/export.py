"""Issue 13's export benchmark: a province's 100,000 reports to /export's workbook (five sheets,
every figure counted, widths fitted, dates and money formatted), against the same reports'
rows read with one bare query and written with bare openpyxl in write-only mode, in the same
run. Each side runs in a process of its own, whose peak RSS is its alone. Target: peak memory
under 200 MB.

    .venv/bin/python -m bench.export [--db /tmp/province.sqlite3] [--reports 100000]

Without --db, a province at scale 0.11 (bench/gen_province.py: 7 communes, 110 cells and
their 440 tổ, 3,863 people, 110,000 reports over 5 years) is made in a temporary folder first
(~5 s). The period is the latest days that hold --reports counted reports of the whole
province (the days of the --reports-th latest deed to the latest); the unit is the province.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook

from bench.gen_province import generate
from bench.machine import load_average
from bot.flows.exports import Format, made_file
from bot.rules.periods import Period
from bot.runtime.config import load_settings
from bot.ui.catalogue import Catalogue
from bot.ui.spreadsheets import TITLE_ROWS
from storage import units
from storage.db import Database

SCALE = 0.11
TARGET_MB = 200
# The rows of the "Việc làm" sheet as bare as SQL gives them: the same reports, the names
# joined in, by day (co-participants, who entered and who acknowledged are ours only).
BARE = """SELECT r.id, r.deed_date, a.full_name, u.name, r.field, r.description, m.name,
                 r.people_helped, r.households_helped, r.value_vnd, r.place, r.state, r.private
          FROM reports r JOIN people a ON a.id = r.person_id JOIN units u ON u.id = r.unit_id
          LEFT JOIN models m ON m.id = r.model_id
          WHERE r.state != 'withdrawn' AND r.deed_date BETWEEN ? AND ?
          ORDER BY r.deed_date, r.id"""


def rss_mb() -> float:
    """This process's peak resident memory. Linux's VmHWM, not getrusage's ru_maxrss: a child
    started by fork and exec inherits its parent's ru_maxrss (here, the generator's)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kilobytes = next(line.split()[1] for line in status.splitlines()
                     if line.startswith("VmHWM:"))
    return int(kilobytes) / 1024


def period_holding(path: Path, reports: int) -> Period:
    with sqlite3.connect(path) as db:
        first, = db.execute("SELECT deed_date FROM reports WHERE state != 'withdrawn'"
                            " ORDER BY deed_date DESC LIMIT 1 OFFSET ?", (reports - 1,)).fetchone()
        last, = db.execute("SELECT MAX(deed_date) FROM reports").fetchone()
    return Period(dt.date.fromisoformat(first), dt.date.fromisoformat(last))


async def ours(path: Path, days: Period) -> dict[str, Any]:
    """The bot's own export of the province, as /export makes it (its reports read a batch at
    a time while the sheets are written, so reading and writing are one figure)."""
    settings = load_settings().model_copy(update={"database": path})
    t = Catalogue.load().texts("vi")
    db = await Database.open(path)
    try:
        async with db.transaction() as tx:
            [root] = [u for u in await units.list_units(tx) if u.parent_id is None]
        before = rss_mb()
        began = time.perf_counter()
        made = await made_file(db, settings, t, root, days, Format.XLSX, days.last)
        total, peak = time.perf_counter() - began, rss_mb()
        sheet = load_workbook(io.BytesIO(made.data), read_only=True)["Việc làm"]
        rows = sum(1 for _ in sheet.iter_rows(min_row=TITLE_ROWS + 2, values_only=True))
    finally:
        await db.close()
    return {"rows": rows, "read": None, "write": None, "total": total,
            "bytes": len(made.data), "rss_before": before, "rss": peak}


def bare(path: Path, days: Period) -> dict[str, Any]:
    before = rss_mb()
    began = time.perf_counter()
    with sqlite3.connect(path) as db:
        rows = db.execute(BARE, (days.first.isoformat(), days.last.isoformat())).fetchall()
    read = time.perf_counter() - began
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Việc làm")
    for row in rows:
        sheet.append([row[0], dt.date.fromisoformat(row[1]), *row[2:]])
    out = io.BytesIO()
    book.save(out)
    total = time.perf_counter() - began
    return {"rows": len(rows), "read": read, "write": total - read, "total": total,
            "bytes": len(out.getvalue()), "rss_before": before, "rss": rss_mb()}


def child(side: str, path: Path, days: Period) -> dict[str, Any]:
    """One side in a process of its own: its peak RSS is its alone."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.export", "--db", str(path), "--side", side,
         "--first", days.first.isoformat(), "--last", days.last.isoformat()],
        check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a province made by bench.gen_province")
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--side", choices=("ours", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--first", type=dt.date.fromisoformat, help=argparse.SUPPRESS)
    parser.add_argument("--last", type=dt.date.fromisoformat, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side is not None:
        days = Period(args.first, args.last)
        result = (asyncio.run(ours(args.db, days)) if args.side == "ours"
                  else bare(args.db, days))
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory(prefix="lantoa-export-") as folder:
        path = args.db
        if path is None:
            path = Path(folder) / "province.sqlite3"
            print(f"making a province at scale {SCALE} in {path} …", flush=True)
            generate(path, seed=1, scale=SCALE)
        days = period_holding(path, args.reports)
        print(f"load average {load_average()}; "
              f"the province, {days.first:%d/%m/%Y}–{days.last:%d/%m/%Y}")
        found = {side: child(side, path, days) for side in ("ours", "bare")}
    print(f"{'':<34}{'rows':>9}{'read s':>9}{'write s':>9}{'total s':>9}{'file MB':>9}"
          f"{'RSS MB':>9}{'(start)':>9}")
    for side, label in (("ours", "(a) /export's workbook, 5 sheets"),
                        ("bare", "(b) bare openpyxl, the deeds only")):
        r = found[side]
        read, write = (f"{r[k]:>9.2f}" if r[k] is not None else f"{'—':>9}"
                       for k in ("read", "write"))
        print(f"{label:<34}{r['rows']:>9,}{read}{write}{r['total']:>9.2f}"
              f"{r['bytes'] / 2**20:>9.1f}{r['rss']:>9.1f}{r['rss_before']:>9.1f}")
    a, b = found["ours"], found["bare"]
    print(f"(a) / (b): {a['total'] / b['total']:.2f}× the time")
    met = "met" if a["rss"] < TARGET_MB else "NOT met"
    print(f"peak RSS of (a): {a['rss']:.1f} MB (target < {TARGET_MB} MB: {met})")


if __name__ == "__main__":
    main()
