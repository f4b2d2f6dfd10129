"""`lantoa check`: whether a database is sound, said in lines for the office that runs the bot,
each ✓ or ✗; the count of ✗ decides the exit code."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.ui import formatting
from bot.ui.catalogue import Texts
from storage.check import Health, inspect
from storage.db import without_password
from storage.migrate import migration_scripts

# A backlog older than this means the bot is down or stuck. Deliveries wait for their chat's
# turn and for quiet hours to end, so a few hours is normal; an update is handled in seconds
# by a running bot, and one left from a crash is replayed at the next start.
DELIVERY_LATE = dt.timedelta(hours=24)
UPDATE_LATE = dt.timedelta(hours=1)
FINDINGS_SHOWN = 5  # of integrity_check's lines


@dataclass
class CheckReport:
    lines: list[str] = field(default_factory=list)
    problems: int = 0

    def good(self, text: str) -> None:
        self.lines.append(f"✓ {text}")

    def bad(self, text: str) -> None:
        self.lines.append(f"✗ {text}")
        self.problems += 1


async def check_database(location: Path | str, t: Texts, now: dt.datetime,
                         zone: ZoneInfo) -> CheckReport:
    """The report on the database at `location`: a SQLite file, which exists, or a PostgreSQL
    URL. sqlite3.DatabaseError when the file is no SQLite database at all;
    storage.postgres.DatabaseUnavailable when the server cannot be reached."""
    health = await inspect(location)
    shown = without_password(location) if isinstance(location, str) else location.resolve()
    report = CheckReport([t.plain("cli.check.title", path=shown)])
    if not health.sound:
        report.bad(t.plain("cli.check.damaged", findings="; ".join(
            health.integrity[:FINDINGS_SHOWN])))
    else:
        report.good(t.plain("cli.check.intact" if health.dialect == "sqlite"
                            else "cli.check.intact_server"))
        _schema(report, health, t)
        _references(report, health, t)
        _backlogs(report, health, t, now, zone)
        report.lines.append(t.plain("cli.check.tables_title"))
        width = max((len(name) for name in health.tables), default=0)
        report.lines += [f"  {name:<{width}}  {count:>8}" for name, count in
                         health.tables.items()]
    report.lines.append(t.plain("cli.check.result_bad", count=report.problems)
                        if report.problems else t.plain("cli.check.result_good"))
    return report


def _schema(report: CheckReport, health: Health, t: Texts) -> None:
    latest = migration_scripts()[-1][0]
    version = health.schema_version
    if version == latest:
        report.good(t.plain("cli.check.schema_current", version=version))
    elif version < latest:
        report.bad(t.plain("cli.check.schema_older", version=version, latest=latest))
    else:
        report.bad(t.plain("cli.check.schema_newer", version=version, latest=latest))


def _references(report: CheckReport, health: Health, t: Texts) -> None:
    for broken in health.broken:
        report.bad(t.plain("cli.check.broken", rows=broken.rows, table=broken.table,
                           parent=broken.parent))
    if not health.broken:
        report.good(t.plain("cli.check.references_ok"))
    if health.loops:
        report.bad(t.plain("cli.check.loops", ids=", ".join(map(str, health.loops))))
    elif "units" in health.tables:
        report.good(t.plain("cli.check.tree_ok"))
    if health.stray_deliveries:
        report.bad(t.plain("cli.check.stray_deliveries", count=health.stray_deliveries))


def _backlogs(report: CheckReport, health: Health, t: Texts, now: dt.datetime,
              zone: ZoneInfo) -> None:
    for backlog, late, name in ((health.deliveries, DELIVERY_LATE, "deliveries"),
                                (health.inbox, UPDATE_LATE, "inbox")):
        if backlog.oldest is None:
            report.good(t.plain(f"cli.check.{name}_none"))
            continue
        params = {"count": backlog.waiting, "oldest": formatting.day_time(
            backlog.oldest.astimezone(zone))}
        if now - backlog.oldest > late:
            report.bad(t.plain(f"cli.check.{name}_late", hours=late // dt.timedelta(hours=1),
                               **params))
        else:
            report.good(t.plain(f"cli.check.{name}_waiting", **params))
