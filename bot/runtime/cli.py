"""`lantoa`: the admin's command line (set up the database, units and invites; run the bot)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import NoReturn

from bot.flows.exports import ExportError, export_to_file
from bot.flows.invites import InviteError, create_invite, invite_link
from bot.runtime.app import ServeFailure, serve
from bot.runtime.clock import SystemClock
from bot.runtime.config import ConfigError, Settings, load_settings
from bot.runtime.demo_data import load_demo_data
from bot.runtime.logging_setup import configure_logging
from bot.runtime.unit_tree import UnitError, add_unit, import_units, read_csv, tree_lines
from bot.ui.catalogue import Catalogue, Texts
from storage import meta, units
from storage.backup import BackupCheckFailed, backup_database
from storage.db import Database
from storage.entities import NewUnit, Role

EXIT_USAGE = 2


class CliError(Exception):
    """Ends the command with one line and exit code 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def build_parser(t: Texts) -> Parser:
    parser = Parser(prog="lantoa", description=t.plain("cli.description"))
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    commands.add_parser("init", help=t.plain("cli.help.init"))
    commands.add_parser("run", help=t.plain("cli.help.run"))
    commands.add_parser("demo-data", help=t.plain("cli.help.demo"))
    unit = commands.add_parser("unit", help=t.plain("cli.help.unit"))
    unit_commands = unit.add_subparsers(dest="unit_command", required=True, parser_class=Parser)
    add = unit_commands.add_parser("add", help=t.plain("cli.help.unit_add"))
    add.add_argument("--name", required=True)
    add.add_argument("--kind", required=True, help=t.plain("cli.help.kind"))
    add.add_argument("--parent", type=int, help=t.plain("cli.help.parent"))
    add.add_argument("--code")
    add.add_argument("--place", help=t.plain("cli.help.place"))
    add.add_argument("--no-locations", action="store_true", help=t.plain("cli.help.no_locations"))
    unit_commands.add_parser("list", help=t.plain("cli.help.unit_list"))
    imp = unit_commands.add_parser("import", help=t.plain("cli.help.unit_import"))
    imp.add_argument("file", type=Path)
    invite = commands.add_parser("invite", help=t.plain("cli.help.invite"))
    invite.add_argument("--unit", type=int, required=True)
    invite.add_argument("--role", choices=[r.value for r in Role], default=Role.MEMBER.value)
    invite.add_argument("--uses", type=int, default=1)
    invite.add_argument("--days", type=int)
    backup = commands.add_parser("backup", help=t.plain("cli.help.backup"))
    backup.add_argument("file", type=Path, help=t.plain("cli.help.backup_file"))
    export = commands.add_parser("export", help=t.plain("export.cli.help"))
    export.add_argument("--unit", required=True, help=t.plain("export.cli.help_unit"))
    export.add_argument("--from", dest="first", required=True, help=t.plain("export.cli.help_from"))
    export.add_argument("--to", dest="last", required=True, help=t.plain("export.cli.help_to"))
    export.add_argument("-o", dest="out", type=Path, required=True,
                        help=t.plain("export.cli.help_out"))
    return parser


async def _open_database(settings: Settings, t: Texts) -> Database:
    try:
        return await Database.open(settings.database)
    except (OSError, sqlite3.Error) as error:
        raise CliError(t.plain("cli.database_error", path=settings.database,
                               error=error)) from None


async def _with_db(settings: Settings, t: Texts,
                   work: Callable[[Database], Awaitable[None]]) -> None:
    db = await _open_database(settings, t)
    try:
        await work(db)
    finally:
        await db.close()


async def _init(args: argparse.Namespace, settings: Settings, t: Texts) -> None:
    async def work(db: Database) -> None:
        version = await db.schema_version()
        print(t.plain("cli.init_done", path=settings.database, version=version))
    await _with_db(settings, t, work)


async def _unit(args: argparse.Namespace, settings: Settings, t: Texts) -> None:
    now = SystemClock().now()

    async def work(db: Database) -> None:
        async with db.transaction() as tx:
            if args.unit_command == "add":
                unit = await add_unit(tx, NewUnit(
                    name=args.name, kind=args.kind, parent_id=args.parent, code=args.code,
                    place_name=args.place, no_locations=args.no_locations), now)
                print(t.plain("cli.unit_added", id=unit.id, name=unit.name))
            elif args.unit_command == "import":
                result = await import_units(tx, read_csv(args.file), now)
                print(t.plain("cli.imported", added=result.added, skipped=result.skipped))
            else:
                lines = tree_lines(await units.list_units(tx))
                print("\n".join(lines) if lines else t.plain("cli.no_units"))
    await _with_db(settings, t, work)


async def _bot_username(db: Database, settings: Settings) -> str | None:
    if settings.bot_username:
        return settings.bot_username
    async with db.transaction() as tx:
        return await meta.get(tx, "bot_username")


async def _invite(args: argparse.Namespace, settings: Settings, t: Texts) -> None:
    async def work(db: Database) -> None:
        async with db.transaction() as tx:
            days = settings.invite_days if args.days is None else args.days
            invite = await create_invite(tx, args.unit, Role(args.role), args.uses, days,
                                         SystemClock().now())
        username = await _bot_username(db, settings)
        print(t.plain("cli.invite_code", code=invite.code))
        print(invite_link(username or t.plain("cli.bot_username_placeholder"), invite.code))
        if username is None:
            print(t.plain("cli.bot_username_unknown"))
        expires = invite.expires_at.astimezone(settings.zone)
        print(t.plain("cli.invite_terms", uses=invite.max_uses,
                      expires=expires.strftime("%d/%m/%Y %H:%M")))
    await _with_db(settings, t, work)


async def _demo(args: argparse.Namespace, settings: Settings, t: Texts) -> None:
    async def work(db: Database) -> None:
        async with db.transaction() as tx:
            result = await load_demo_data(tx, SystemClock().now())
        print(t.plain("cli.demo_done", units=result.units_added, models=result.models_added,
                      cell=result.first_cell_id))
    await _with_db(settings, t, work)


async def _backup(args: argparse.Namespace, settings: Settings, t: Texts) -> None:
    """A checked copy of the database, safe to take while `lantoa run` is writing."""
    source, target = Path(settings.database), Path(args.file)
    if target.resolve() == source.resolve():
        raise CliError(t.plain("cli.backup_same_file", path=target))
    try:
        result = await backup_database(source, target)
    except FileNotFoundError:
        raise CliError(t.plain("cli.backup_no_database", path=source)) from None
    except BackupCheckFailed as failure:
        raise CliError(t.plain("cli.backup_damaged", path=source, error=failure)) from None
    print(t.plain("cli.backup_done", path=result.path, reports=result.reports,
                  version=result.schema_version, size=result.size_bytes // 1024))


async def _run(args: argparse.Namespace, settings: Settings, t: Texts) -> None:
    if settings.bot_token is None or not settings.bot_token.get_secret_value().strip():
        raise CliError(t.plain("cli.token_missing"))
    token = settings.bot_token.get_secret_value().strip()
    configure_logging(token)
    db = await _open_database(settings, t)
    try:
        await serve(settings, token, db)
    except ServeFailure as failure:
        raise CliError(t.plain(failure.key, **failure.params)) from None
    finally:
        await db.close()


async def _export(args: argparse.Namespace, settings: Settings, t: Texts) -> None:
    async def work(db: Database) -> None:
        print(await export_to_file(db, settings, t, args.unit, args.first, args.last, args.out,
                                   SystemClock().now()))
    await _with_db(settings, t, work)


COMMANDS = {"init": _init, "unit": _unit, "invite": _invite, "demo-data": _demo, "run": _run,
            "backup": _backup, "export": _export}


def main(argv: list[str] | None = None) -> int:
    t = Catalogue.load().texts("vi")
    try:
        args = build_parser(t).parse_args(argv)
    except SystemExit as stop:  # bad arguments (one line already printed) or --help
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    try:
        settings = load_settings()
        asyncio.run(COMMANDS[args.command](args, settings, t))
    except ConfigError as error:
        return _fail(t.plain(error.key, **error.params))
    except CliError as error:
        return _fail(str(error))
    except (UnitError, InviteError, ExportError) as error:
        return _fail(t.plain(error.key, **error.params))
    except (OSError, UnicodeDecodeError, csv.Error, sqlite3.Error) as error:
        return _fail(t.plain("cli.os_error", error=error))
    except KeyboardInterrupt:
        return 0
    return 0


def _fail(message: str) -> int:
    print(f"lantoa: {message}", file=sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
