"""`lantoa`: the admin's command line (set up the database, units and invites; run the bot)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.flows.exports import export_to_file
from bot.flows.invites import MAX_USES, bot_username, create_invite, invite_link
from bot.flows.joins import ROLE_KEYS
from bot.flows.member_import import RowsRefused, cli_refusal, import_to_file, links_filename
from bot.rules.bots import root_unit_id
from bot.runtime.app import serve
from bot.runtime.check import check_database
from bot.runtime.cli_parser import (
    EXIT_USAGE,
    Parser,
    cli_texts,
    speaking,
    unit_id,
    whole_number,
)
from bot.runtime.clock import SystemClock
from bot.runtime.config import (
    ENV_PREFIX,
    MAX_INVITE_DAYS,
    ConfigError,
    Settings,
    environment_variable,
    load_settings,
)
from bot.runtime.demo_data import load_demo_data
from bot.runtime.logging_setup import configure_logging
from bot.runtime.status import status_lines
from bot.runtime.unit_tree import (
    ImportRefused,
    add_unit,
    import_units,
    read_csv,
    tree_lines,
)
from bot.tryout.session import try_bot
from bot.ui import formatting
from bot.ui.catalogue import Catalogue, Said, Texts
from storage import units
from storage.backup import (
    DUMP_SUFFIX,
    SUFFIX,
    BackupCheckFailed,
    BackupResult,
    PgDumpUnusable,
    backup_database,
    dated_target,
    dump_postgres,
    split_password,
)
from storage.check import overview
from storage.db import Database, DatabaseUnavailable, is_postgres_url, without_password
from storage.entities import NewUnit, Role
from storage.migrate import migration_scripts
from storage.move import (
    MoveFailed,
    MoveRefused,
    MoveResult,
    Refusal,
    latest_version,
    move_to_postgres,
)

DEFAULT_DATABASE = Settings.model_fields["database"].default
PROBLEMS_SHOWN = 10  # rows of a refused import; the rest are counted
# A password shorter than this is not blotted out of a line (whose every "a" it might be): the
# lines are made without it in any case.
SECRET_BLOTTED = 4
# libpq's words for what is wrong when a PostgreSQL server refuses us, and the line saying it.
UNAVAILABLE = (("password authentication failed", "cli.database_password"),
               ("no password supplied", "cli.database_password"),
               ("does not exist", "cli.database_not_there"))


class CliError(Exception):
    """Ends the command with one line and exit code 2."""


def build_parser(t: Texts) -> Parser:
    parser = Parser(prog="lantoa", description=t.plain("cli.description"))
    commands = _commands(parser, "command", t)
    _command(commands, "init", t)
    run = _command(commands, "run", t)
    run.add_argument("--webhook", action="store_true", help=t.plain("cli.help.webhook"))
    run.add_argument("--root-unit", metavar=t.plain("cli.metavar.code"),
                     help=t.plain("cli.help.root_unit"))
    _command(commands, "demo-data", t)
    _command(commands, "check", t)
    _command(commands, "status", t)
    unit_commands = _commands(_command(commands, "unit", t), "unit_command", t)
    _unit_add_options(_command(unit_commands, "add", t, "unit_add"), t)
    _command(unit_commands, "list", t, "unit_list")
    imp = _command(unit_commands, "import", t, "unit_import")
    imp.add_argument("file", type=Path, metavar=t.plain("cli.metavar.csv"),
                     help=t.plain("cli.help.csv"))
    imp.add_argument("--allow-duplicate", action="store_true",
                     help=t.plain("cli.help.allow_duplicate"))
    _invite_options(_command(commands, "invite", t), t)
    member_commands = _commands(_command(commands, "member", t), "member_command", t)
    _member_import_options(_command(member_commands, "import", t, "member_import"), t)
    _export_options(_command(commands, "export", t), t)
    backup = _command(commands, "backup", t)
    backup.add_argument("target", metavar=t.plain("cli.metavar.target"),
                        help=t.plain("cli.help.backup_target"))
    _move_options(_command(commands, "move-to-postgres", t), t)
    trial = commands.add_parser("try", help=t.plain("try.cli_help"),
                                description=t.plain("try.cli_help"))
    trial.add_argument("--database", type=Path, metavar=t.plain("cli.metavar.file"),
                       help=t.plain("try.cli_database"))
    return parser


def _commands(parser: Parser, dest: str, t: Texts) -> argparse._SubParsersAction[Parser]:
    return parser.add_subparsers(dest=dest, required=True, parser_class=Parser,
                                 title=t.plain("cli.commands"), help=t.plain("cli.help.command"),
                                 metavar=t.plain("cli.metavar.command"))


def _command(group: argparse._SubParsersAction[Parser], name: str, t: Texts,
             key: str | None = None) -> Parser:
    """A command, with the same words in the list of commands and atop its own --help."""
    words = t.plain(f"cli.help.{key or name.replace('-', '_')}")
    command: Parser = group.add_parser(name, help=words, description=words)
    return command


def _unit_add_options(add: Parser, t: Texts) -> None:
    add.add_argument("--name", required=True, metavar=t.plain("cli.metavar.name"),
                     help=t.plain("cli.help.name"))
    add.add_argument("--kind", required=True, metavar=t.plain("cli.metavar.kind"),
                     help=t.plain("cli.help.kind"))
    add.add_argument("--parent", type=unit_id(t), metavar=t.plain("cli.metavar.id"),
                     help=t.plain("cli.help.parent"))
    add.add_argument("--code", metavar=t.plain("cli.metavar.code"), help=t.plain("cli.help.code"))
    add.add_argument("--place", metavar=t.plain("cli.metavar.place"),
                     help=t.plain("cli.help.place"))
    add.add_argument("--no-locations", action="store_true", help=t.plain("cli.help.no_locations"))
    add.add_argument("--allow-duplicate", action="store_true",
                     help=t.plain("cli.help.allow_duplicate"))


def _invite_options(invite: Parser, t: Texts) -> None:
    invite.add_argument("--unit", type=unit_id(t), required=True, metavar=t.plain("cli.metavar.id"),
                        help=t.plain("cli.help.unit_id"))
    invite.add_argument("--role", choices=[r.value for r in Role], default=Role.MEMBER.value,
                        help=t.plain("cli.help.role"))
    invite.add_argument("--uses", type=whole_number(t, 1, MAX_USES), default=1,
                        metavar=t.plain("cli.metavar.uses"),
                        help=t.plain("cli.help.uses", max=MAX_USES))
    invite.add_argument("--days", type=whole_number(t, 1, MAX_INVITE_DAYS),
                        metavar=t.plain("cli.metavar.days"),
                        help=t.plain("cli.help.days", max=MAX_INVITE_DAYS))


def _member_import_options(listed: Parser, t: Texts) -> None:
    listed.add_argument("file", type=Path, metavar=t.plain("cli.metavar.file"),
                        help=t.plain("member_import.cli.help_file"))
    listed.add_argument("-o", "--output", type=Path, metavar=t.plain("cli.metavar.file"),
                        help=t.plain("member_import.cli.help_output"))
    listed.add_argument("--days", type=whole_number(t, 1, MAX_INVITE_DAYS),
                        metavar=t.plain("cli.metavar.days"),
                        help=t.plain("member_import.cli.help_days", max=MAX_INVITE_DAYS))


def _export_options(export: Parser, t: Texts) -> None:
    export.add_argument("--unit", required=True, metavar=t.plain("cli.metavar.code"),
                        help=t.plain("export.cli.help_unit"))
    export.add_argument("--from", dest="first", required=True,
                        metavar=t.plain("cli.metavar.date"), help=t.plain("export.cli.help_from"))
    export.add_argument("--to", dest="last", required=True, metavar=t.plain("cli.metavar.date"),
                        help=t.plain("export.cli.help_to"))
    export.add_argument("-o", "--output", dest="out", type=Path, required=True,
                        metavar=t.plain("cli.metavar.file"), help=t.plain("export.cli.help_out"))


def _move_options(move: Parser, t: Texts) -> None:
    move.add_argument("--from", dest="source", type=Path, required=True,
                      metavar=t.plain("cli.metavar.file"), help=t.plain("cli.help.move_from"))
    move.add_argument("--to", dest="target", required=True, metavar=t.plain("cli.metavar.url"),
                      help=t.plain("cli.help.move_to"))


def _database_source() -> str:
    return environment_variable("database") or "database"


def _shown(location: Path | str) -> str | Path:
    """The database as said to the admin: a file's full path, a URL without its password."""
    return without_password(location) if isinstance(location, str) else location.resolve()


async def _open_database(settings: Settings, t: Texts, create_folder: bool = False) -> Database:
    """The database, migrated. A file's folder must exist unless `create_folder`: a folder
    that is not there is a mistyped path or the wrong working folder far more often than a
    first start, and a new empty database there would hide the real one. A database of a newer
    schema than this code's is refused, untouched: this code would misread it."""
    location = settings.database
    if isinstance(location, Path) and not location.parent.is_dir() and not create_folder:
        raise CliError(t.plain("cli.database_folder_missing", setting=_database_source(),
                               folder=location.parent.resolve()))
    try:
        db = await Database.open(location)
    except (OSError, sqlite3.Error) as error:
        shown = location if isinstance(location, Path) else without_password(location)
        raise CliError(t.plain("cli.database_error", setting=_database_source(),
                               path=shown, error=error)) from None
    version, latest = await db.schema_version(), migration_scripts()[-1][0]
    if version > latest:
        await db.close()
        raise CliError(t.plain("cli.database_newer", setting=_database_source(),
                               path=_shown(location), version=version, latest=latest))
    return db


def _unavailable(error: DatabaseUnavailable, url: str, t: Texts) -> str:
    """One line for the PostgreSQL server at `url` that cannot be reached or refuses us: what
    is most likely wrong, said by libpq's words (in one line; they never hold the password)."""
    reason = " ".join(error.reason.split())
    key = next((key for words, key in UNAVAILABLE if words in reason.lower()),
               "cli.database_unreachable")
    database = urlsplit(url).path.lstrip("/")
    return t.plain(key, setting=_database_source(), location=without_password(url), reason=reason,
                   database=database)


async def _with_db(settings: Settings, t: Texts,
                   work: Callable[[Database], Awaitable[None]]) -> None:
    db = await _open_database(settings, t)
    try:
        await work(db)
    finally:
        await db.close()


async def _init(args: argparse.Namespace, settings: Settings, t: Texts) -> None:
    """Creates whatever is missing, the database's folder included: it is the command that
    makes things."""
    folder = settings.database.parent if isinstance(settings.database, Path) else None
    created = folder is not None and not folder.is_dir()
    db = await _open_database(settings, t, create_folder=True)
    try:
        if created and folder is not None:
            print(t.plain("cli.folder_created", folder=folder.resolve()))
        version = await db.schema_version()
        shown = settings.database if folder is not None else _shown(settings.database)
        print(t.plain("cli.init_done", path=shown, version=version))
    finally:
        await db.close()


async def _unit(args: argparse.Namespace, settings: Settings, t: Texts) -> None:
    now = SystemClock().now()

    async def work(db: Database) -> None:
        async with db.transaction() as tx:
            if args.unit_command == "add":
                unit = await add_unit(tx, NewUnit(
                    name=args.name, kind=args.kind, parent_id=args.parent, code=args.code,
                    place_name=args.place, no_locations=args.no_locations), now,
                    args.allow_duplicate)
                print(t.plain("cli.unit_added", id=unit.id, name=unit.name))
            elif args.unit_command == "import":
                result = await import_units(tx, read_csv(args.file), now, args.allow_duplicate)
                print(t.plain("cli.imported", added=result.added, skipped=result.skipped))
            else:
                lines = tree_lines(await units.list_units(tx))
                print("\n".join(lines) if lines else t.plain("cli.no_units"))
    await _with_db(settings, t, work)


async def _invite(args: argparse.Namespace, settings: Settings, t: Texts) -> None:
    async def work(db: Database) -> None:
        async with db.transaction() as tx:
            days = settings.invite_days if args.days is None else args.days
            role = Role(args.role)
            invite = await create_invite(tx, args.unit, role, args.uses, days,
                                         SystemClock().now())
            unit = await units.get_unit(tx, invite.unit_id)
            # The bot that serves the unit, when several share the database (bot/rules/bots.py).
            username = await bot_username(tx, settings, invite.unit_id)
        assert unit is not None  # create_invite found it
        print(t.plain("cli.invite_for", role=t.plain(ROLE_KEYS[role]), unit=unit.name,
                      id=unit.id))
        print(invite_link(username or t.plain("cli.bot_username_placeholder"), invite.code))
        print(t.plain("cli.invite_code", code=invite.code))
        if username is None:
            print(t.plain("cli.bot_username_unknown"))
        expires = formatting.day_time(invite.expires_at.astimezone(settings.zone))
        print(t.plain("cli.invite_terms", uses=invite.max_uses, expires=expires))
    await _with_db(settings, t, work)


async def _member(args: argparse.Namespace, settings: Settings, t: Texts) -> None:
    """`member import`: people and their roles from a file, their personal links into
    another (beside it unless -o says where)."""
    source: Path = args.file
    output: Path = args.output or source.with_name(links_filename(source.name))
    days = settings.import_invite_days if args.days is None else args.days
    if output.suffix.lower() not in (".xlsx", ".csv") or output.resolve() == source.resolve():
        raise CliError(t.plain("member_import.cli.output_kind", path=output))
    data = source.read_bytes()

    async def work(db: Database) -> None:
        try:
            said = await import_to_file(db, settings, t, source.name, data, SystemClock().now(),
                                        days, output.suffix.lower() == ".csv",
                                        output.write_bytes)
        except RowsRefused as refused:
            raise CliError(cli_refusal(t, refused, source.name)) from None
        print("\n".join([*said, t.plain("member_import.cli.written", path=output)]))
    await _with_db(settings, t, work)


async def _demo(args: argparse.Namespace, settings: Settings, t: Texts) -> None:
    async def work(db: Database) -> None:
        async with db.transaction() as tx:
            result = await load_demo_data(tx, SystemClock().now(), settings.zone)
        print(t.plain("cli.demo_done", units=result.units_added, models=result.models_added,
                      cell=result.first_cell_id))
    await _with_db(settings, t, work)


def _backup_target(written: str, settings: Settings, t: Texts, suffix: str) -> Path:
    """A folder gets a new file named by the day; a file is written (replaced) as named. The
    folder must exist: a typo must not scatter backups where nobody looks."""
    target = Path(written)
    if target.is_dir():
        return dated_target(target, SystemClock().now().astimezone(settings.zone).date(), suffix)
    folder = target if written.endswith(("/", os.sep)) else target.parent
    if not folder.is_dir():
        raise CliError(t.plain("cli.backup_no_folder", folder=folder))
    return target


async def _backup(args: argparse.Namespace, settings: Settings, t: Texts) -> None:
    """A checked copy of the database, safe to take while `lantoa run` is writing."""
    if isinstance(settings.database, str):
        return await _dump(args, settings.database, settings, t)
    source, target = settings.database, _backup_target(args.target, settings, t, SUFFIX)
    if target.resolve() == source.resolve():
        raise CliError(t.plain("cli.backup_same_file", path=target))
    try:
        result = await backup_database(source, target)
    except FileNotFoundError:
        raise CliError(t.plain("cli.backup_no_database", setting=_database_source(),
                               path=source)) from None
    except BackupCheckFailed as failure:
        raise CliError(t.plain("cli.backup_damaged", path=source, error=failure)) from None
    _backed_up(result, t)


async def _dump(args: argparse.Namespace, url: str, settings: Settings, t: Texts) -> None:
    """`backup` on PostgreSQL: pg_dump's custom format, or what to run where it cannot be."""
    target = _backup_target(args.target, settings, t, DUMP_SUFFIX)
    try:
        result = await dump_postgres(url, target)
    except PgDumpUnusable as unusable:
        key = "cli.backup_no_pg_dump" if unusable.found is None else "cli.backup_old_pg_dump"
        raise CliError(t.plain(key, found=unusable.found, server=unusable.server,
                               command=unusable.command)) from None
    except BackupCheckFailed as failure:
        raise CliError(t.plain("cli.backup_dump_failed", error=failure)) from None
    _backed_up(result, t)


def _backed_up(result: BackupResult, t: Texts) -> None:
    print(t.plain("cli.backup_done", path=result.path, reports=result.reports,
                  version=result.schema_version, size=result.size_bytes // 1024))


MOVE_REFUSALS = {
    Refusal.SOURCE_MISSING: "cli.move.source_missing",
    Refusal.SOURCE_NOT_OURS: "cli.move.source_not_ours",
    Refusal.SOURCE_NEWER: "cli.move.source_newer",
    Refusal.TARGET_NOT_EMPTY: "cli.move.target_not_empty",
    Refusal.TARGET_NEWER: "cli.move.target_newer",
}


async def _move(args: argparse.Namespace, settings: Settings, t: Texts) -> int:
    """`move-to-postgres`: the SQLite file into an empty PostgreSQL database, then the check of
    every table; exit code 0 only when every table matches (else nothing was kept)."""
    url: str = args.target
    shown = without_password(url)
    if not is_postgres_url(url):
        raise CliError(t.plain("cli.move.not_a_url", url=shown))
    began = time.perf_counter()
    try:
        result = await move_to_postgres(args.source, url, lambda table: print(
            t.plain("cli.move.copying", table=table), flush=True))
    except MoveRefused as refused:
        raise CliError(t.plain(MOVE_REFUSALS[refused.reason], source=args.source, url=shown,
                               detail=_one_line(refused.detail),
                               latest=latest_version())) from None
    except MoveFailed as failed:
        error = _one_line(failed.error)
        raise CliError(t.plain("cli.move.failed", table=failed.table, error=error, url=shown)
                       if failed.table else
                       t.plain("cli.move.server_failed", error=error, url=shown)) from None
    except DatabaseUnavailable as down:
        raise CliError(t.plain("cli.move.unreachable", url=shown,
                               reason=_one_line(down.reason))) from None
    print("\n".join(_check_lines(result, t)))
    if not result.moved:
        return _fail(t.plain("cli.move.mismatch", url=shown))
    rows = sum(check.source.rows for check in result.checks)
    print(t.plain("cli.move.done", tables=len(result.checks), rows=formatting.number(rows, t),
                  url=shown, seconds=round(time.perf_counter() - began)))
    return 0


def _one_line(said: object) -> str:
    """A server's message (libpq's are often several lines) within the one line we print."""
    return " ".join(str(said).split())


def _check_lines(result: MoveResult, t: Texts) -> list[str]:
    """The check as a table: each table's rows and checksum (source → target where they
    differ), ✓ or ✗."""
    rows = [(t.plain("cli.move.column_table"), t.plain("cli.move.column_rows"),
             t.plain("cli.move.column_checksum"), "")]
    for check in result.checks:
        source, target = check.source, check.target
        count = formatting.number(source.rows, t)
        if source.rows != target.rows:
            count += f" → {formatting.number(target.rows, t)}"
        checksum = source.checksum if check.matches else f"{source.checksum} → {target.checksum}"
        rows.append((check.table, count, checksum, "✓" if check.matches else "✗"))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    return [f"{name:<{widths[0]}}  {count:>{widths[1]}}  {checksum:<{widths[2]}}  {mark}".rstrip()
            for name, count, checksum, mark in rows]


async def _check(args: argparse.Namespace, settings: Settings, t: Texts) -> int:
    """Exit code 0 when all is well, 2 when anything is wrong (for a nightly job to alert)."""
    location = settings.database
    if isinstance(location, Path) and not location.is_file():
        raise CliError(t.plain("cli.check.missing", setting=_database_source(),
                               path=location.resolve()))
    try:
        report = await check_database(location, t, SystemClock().now(), settings.zone)
    except sqlite3.DatabaseError as error:
        raise CliError(t.plain("cli.check.unreadable", path=_shown(location),
                               error=error)) from None
    print("\n".join(report.lines))
    return EXIT_USAGE if report.problems else 0


def _check_webhook_settings(settings: Settings, t: Texts) -> None:
    """--webhook needs the three settings; each is checked for its form when read."""
    for name in ("http_listen", "webhook_url", "webhook_secret"):
        if getattr(settings, name) is None:
            raise CliError(t.plain("cli.run.webhook_needs", setting=f"{ENV_PREFIX}{name.upper()}"))


async def _status(args: argparse.Namespace, settings: Settings, t: Texts) -> None:
    """Which process is active for each bot, and what waits; read only."""
    location = settings.database
    if isinstance(location, Path) and not location.is_file():
        raise CliError(t.plain("cli.check.missing", setting=_database_source(),
                               path=location.resolve()))

    async def work(db: Database) -> None:
        async with db.reading() as tx:
            lines = await status_lines(tx, t, settings.zone, settings.lease_seconds)
        print("\n".join(lines))
    await _with_db(settings, t, work)


def _started(db: Database, settings: Settings, t: Texts,
             webhook: bool) -> Callable[[str], Awaitable[None]]:
    """What `run` prints once the bot polls: where it runs, with what, and what to type next."""

    async def announce(username: str) -> None:
        async with db.transaction() as tx:
            counts = await overview(tx)
        lines = [t.plain("cli.run.started", username=username),
                 t.plain("cli.run.database", path=_shown(settings.database)),
                 t.plain("cli.run.counts",
                         units=t.plain("cli.run.units", count=counts.units),
                         members=t.plain("cli.run.members", count=counts.members),
                         groups=t.plain("cli.run.groups", count=counts.groups))]
        if webhook:
            lines.append(t.plain("cli.run.webhook", url=settings.webhook_url,
                                 listen=settings.http_listen))
        if counts.units == 0:
            lines.append(t.plain("cli.run.no_units"))
        lines.append(t.plain("cli.run.stop"))
        # Flushed: stdout is often a pipe or a log file, written in blocks otherwise.
        print("\n".join(lines), flush=True)

    return announce


async def _run(args: argparse.Namespace, settings: Settings, t: Texts) -> None:
    if settings.bot_token is None or not settings.bot_token.get_secret_value().strip():
        raise CliError(t.plain("cli.token_missing"))
    token = settings.bot_token.get_secret_value().strip()
    if args.webhook:
        _check_webhook_settings(settings, t)
    if args.root_unit is not None:
        settings = settings.model_copy(update={"root_unit": args.root_unit})
    configure_logging(token, settings.zone)
    # The first start from the README makes data/ itself; a path someone set must exist.
    db = await _open_database(settings, t, create_folder=settings.database == DEFAULT_DATABASE)
    try:
        async with db.transaction() as tx:  # a wrong --root-unit is said before Telegram hears
            await root_unit_id(tx, settings.root_unit)
        await serve(settings, token, db, _started(db, settings, t, args.webhook),
                    args.webhook)
    finally:
        await db.close()


async def _export(args: argparse.Namespace, settings: Settings, t: Texts) -> None:
    async def work(db: Database) -> None:
        print(await export_to_file(db, settings, t, args.unit, args.first, args.last, args.out,
                                   SystemClock().now()))
    await _with_db(settings, t, work)


async def _try(args: argparse.Namespace, settings: Settings, t: Texts) -> None:
    """The bot in the terminal, on a database of its own: never the real bot's."""
    real = settings.database
    if args.database is not None and isinstance(real, Path) \
            and args.database.resolve() == real.resolve():
        raise CliError(t.plain("try.real_database", path=args.database))
    await try_bot(settings, args.database, sys.stdin, sys.stdout)


# What a command does; an exit code, or None for 0.
Command = Callable[[argparse.Namespace, Settings, Texts], Coroutine[Any, Any, int | None]]
COMMANDS: dict[str, Command] = {
    "init": _init, "unit": _unit, "invite": _invite, "demo-data": _demo, "run": _run,
    "backup": _backup, "check": _check, "status": _status, "try": _try,
    "member": _member, "export": _export, "move-to-postgres": _move}


def main(argv: list[str] | None = None) -> int:
    catalogue = Catalogue.load()
    t = cli_texts()
    try:
        with speaking(catalogue):
            args = build_parser(t).parse_args(argv)
    except SystemExit as stop:  # bad arguments (one line already printed) or --help
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    try:
        settings = load_settings()
    except ConfigError as error:
        return _fail(error.message(t))
    secret = split_password(settings.database)[1] if isinstance(settings.database, str) else None
    try:
        return asyncio.run(COMMANDS[args.command](args, settings, t)) or 0
    except CliError as error:
        return _fail(str(error), secret)
    except DatabaseUnavailable as error:
        return _fail(_unavailable(error, str(settings.database), t), secret)
    except Said as error:  # a unit, an invite, a table, Telegram refusing the bot…
        return _fail(t.plain(error.key, **error.params))
    except ImportRefused as refused:
        return _refused_import(refused, args.file, t)
    except (OSError, UnicodeDecodeError, csv.Error, sqlite3.Error) as error:
        return _fail(t.plain("cli.os_error", error=error), secret)
    except KeyboardInterrupt:
        return 0
    except Exception as error:
        # psycopg is imported only when the database is PostgreSQL (storage/migrate.py).
        psycopg = sys.modules.get("psycopg")
        if psycopg is None or not isinstance(error, psycopg.Error):
            raise
        # The server refused a statement: rights, a full disk…
        return _fail(t.plain("cli.database_failed", setting=_database_source(),
                             error=" ".join(str(error).split())), secret)


def _refused_import(refused: ImportRefused, file: Path, t: Texts) -> int:
    """A line per wrong row (the first few), then that nothing was imported."""
    for problem in refused.problems[:PROBLEMS_SHOWN]:
        what = t.plain(problem.key, **problem.params)
        print(f"lantoa: {t.plain('cli.import_row', file=file, line=problem.line, what=what)}",
              file=sys.stderr)
    more = len(refused.problems) - PROBLEMS_SHOWN
    return _fail(t.plain("cli.import_refused_more", more=more) if more > 0
                 else t.plain("cli.import_refused"))


def _fail(message: str, secret: str | None = None) -> int:
    """One line on stderr. A database password is never in it: every message above is made
    without it, and `secret` is blotted out anyway, should a driver's words ever quote it."""
    if secret and len(secret) >= SECRET_BLOTTED:
        message = message.replace(secret, "***")
    print(f"lantoa: {message}", file=sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
