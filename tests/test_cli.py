"""`lantoa`, the admin's command line, run for real against a database in a temporary folder."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import inspect
import logging
import os
import re
import shlex
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg import sql

from bot.runtime.cli import build_parser, main
from bot.runtime.cli_parser import Parser, speaking
from bot.runtime.demo_data import BORDER_UNITS, DEMO_MODELS, DEMO_UNITS
from bot.runtime.logging_setup import ZonedFormatter
from bot.ui.catalogue import Catalogue
from storage.backup import BackupCheckFailed
from storage.backup import _dump as DUMP
from storage.check import inspect as inspect_database
from storage.db import without_password
from storage.migrate import migration_scripts
from storage.postgres import postgres_sql
from tests.databases import fetched
from tests.fakebot import FakeBotServer, FakeTelegram
from tests.postgres import Cluster

T = Catalogue.load().texts("vi")
LATEST_SCHEMA = migration_scripts()[-1][0]
CODE = re.compile(r"^[A-Za-z0-9_-]{12}$")
CSV_HEADER = "code,name,kind,parent_code\n"
BACKENDS = ("sqlite", "postgresql")


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()

    def failed_with_one_line(self) -> bool:
        """Exit code 2 and exactly one line on stderr, no traceback, nothing on stdout."""
        errors = self.err.splitlines()
        return (self.code == 2 and len(errors) == 1 and errors[0].startswith("lantoa")
                and "Traceback" not in self.err and self.out == "")


class Cli:
    """Runs `lantoa` on a database of the test's backend: a file in data/, or an empty
    PostgreSQL database (`url`) as a server's administrator hands one over."""

    def __init__(self, folder: Path, capsys: pytest.CaptureFixture[str],
                 cluster: Cluster | None = None, url: str | None = None) -> None:
        self.folder = folder
        self.file = folder / "data" / "test.sqlite3"
        self.cluster, self.url = cluster, url
        self.database: Path | str = self.file if url is None else url
        self._capsys = capsys

    def __call__(self, *args: str) -> Result:
        self._capsys.readouterr()
        code = main(list(args))
        captured = self._capsys.readouterr()
        return Result(code, captured.out, captured.err)

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert (result.code, result.err) == (0, ""), result
        return result

    def add(self, name: str, kind: str = "chi bộ", *extra: str) -> int:
        out = self.ok("unit", "add", "--name", name, "--kind", kind, *extra).out
        found = re.search(r"(\d+)", out)
        assert found, out
        return int(found.group(1))

    def rows(self, sql: str, params: tuple = ()) -> list[Any]:
        """Rows read by name or position, on either backend (SQL written for SQLite)."""
        return fetched(self.file if self.url is None else self.url, sql, params)

    def write(self, *statements: str, references_off: bool = False) -> None:
        """Statements in one transaction; `references_off` writes what the database's own
        checks would refuse (a hand-edited file, a restore with triggers off)."""
        if self.url is None:
            with contextlib.closing(sqlite3.connect(self.file)) as conn, conn:
                conn.execute(f"PRAGMA foreign_keys = {'OFF' if references_off else 'ON'}")
                for statement in statements:
                    conn.execute(statement)
            return
        with psycopg.connect(self.url) as server:
            if references_off:
                server.execute("SET session_replication_role = replica")
            for statement in statements:
                server.execute(postgres_sql(statement))

    def schema_version(self) -> int:
        if self.url is None:
            return int(self.rows("PRAGMA user_version")[0][0])
        return int(self.rows("SELECT max(version) FROM schema_version")[0][0])

    def set_schema_version(self, version: int) -> None:
        if self.url is None:
            self.write(f"PRAGMA user_version = {version}")
        else:
            self.write("DELETE FROM schema_version",
                       f"INSERT INTO schema_version (version) VALUES ({version})")

    def restored(self, backup: Path) -> Cli:
        """What a backup holds, to read with `rows`: the copied file itself, or the dump
        restored with pg_restore into a new empty database of the cluster."""
        if self.cluster is None:
            copy = Cli(self.folder, self._capsys)
            copy.file = backup
            return copy
        name = self.cluster.create_database()
        url = self.cluster.url(name)
        subprocess.run([str(self.cluster.bin_dir / "pg_restore"), "--exit-on-error",
                        "--no-owner", f"--dbname={url}", str(backup)], check=True)
        return Cli(self.folder, self._capsys, self.cluster, url)

    def server_major(self) -> int:
        assert self.url is not None
        with psycopg.connect(self.url) as conn:
            return conn.info.server_version // 10_000

    def exists(self) -> bool:
        """Whether `lantoa` made the database: the file, or the schema in the server's."""
        if self.url is None:
            return self.file.is_file()
        return bool(self.rows("SELECT to_regclass('units') IS NOT NULL")[0][0])

    def unit_count(self) -> int:
        return self.rows("SELECT count(*) AS n FROM units")[0]["n"]

    def write_csv(self, text: str, name: str = "units.csv", encoding: str = "utf-8") -> str:
        path = self.folder / name
        path.write_text(text, encoding=encoding, newline="")
        return str(path)


def once(test: Callable[..., None]) -> Callable[..., None]:
    """Runs on SQLite only: the test is about SQLite's files and folders, or its command never
    reaches a database (help, arguments, settings)."""
    vars(test)["once"] = True
    return test


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The commands run on each backend (conftest.py's --backend chooses), but for tests marked
    `once`."""
    if "cli" in metafunc.fixturenames and not getattr(metafunc.function, "once", False):
        chosen = metafunc.config.getoption("backend")
        metafunc.parametrize("backend", BACKENDS if chosen == "both" else (chosen,),
                             indirect=True)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        backend: str, request: pytest.FixtureRequest) -> Cli:
    if backend == "postgresql":
        return request.getfixturevalue("pg_cli")
    return _cli(Cli(tmp_path, capsys), monkeypatch)


@pytest.fixture
def pg_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
           postgres_cluster: Cluster, postgres_url: str) -> Cli:
    """On PostgreSQL only: for what SQLite has no counterpart of."""
    return _cli(Cli(tmp_path, capsys, postgres_cluster, postgres_url), monkeypatch)


def _cli(runner: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(runner.folder)  # no config.toml here: the defaults apply
    runner.file.parent.mkdir()  # as `lantoa init` leaves it
    monkeypatch.setenv("LANTOA_DATABASE", str(runner.database))
    return runner


# --- help and argparse's own words, in Vietnamese -----------------------------------------------

COMMANDS = [[], ["init"], ["run"], ["demo-data"], ["check"], ["unit"], ["unit", "add"],
            ["unit", "list"], ["unit", "import"], ["invite"], ["backup"], ["try"],
            ["member"], ["member", "import"], ["export"], ["move-to-postgres"], ["status"]]
# What argparse says in English when nobody translates it.
ENGLISH = re.compile(r"usage:|options:|positional arguments|show this help|\berror\b|"
                     r"required|invalid|unrecognized|expected|argument|choose from|ambiguous")


def all_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found += all_parsers(sub)
    return found


@once
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_help_is_vietnamese(cli: Cli, command: list[str]) -> None:
    result = cli.ok(*command, "--help")
    assert result.lines[0].startswith(f"cách dùng: lantoa {' '.join(command)}".rstrip())
    assert "tùy chọn:" in result.lines
    assert T.plain("cli.argparse.help") in result.out
    assert not ENGLISH.search(result.out), result.out


def test_every_command_and_option_has_help_text() -> None:
    with speaking(Catalogue.load()):
        parsers = all_parsers(build_parser(T))
    assert len(parsers) == 17
    for parser in parsers:
        assert parser.description, parser.prog
        for action in parser._actions:
            assert action.help, (parser.prog, action.dest)


@once
def test_the_help_lists_every_command_with_its_words(cli: Cli) -> None:
    text = " ".join(cli.ok("--help").out.split())
    for name, key in (("init", "init"), ("run", "run"), ("demo-data", "demo_data"),
                      ("check", "check"), ("unit", "unit"), ("invite", "invite"),
                      ("backup", "backup"), ("move-to-postgres", "move_to_postgres"),
                      ("status", "status")):
        assert f"{name} {T.plain(f'cli.help.{key}')}" in text


@once
def test_unit_add_help_names_each_option(cli: Cli) -> None:
    text = " ".join(cli.ok("unit", "add", "--help").out.split())
    assert text.startswith("cách dùng: lantoa unit add [-h] --name TÊN --kind LOẠI [--parent ID]")
    for option, key in (("--name TÊN", "name"), ("--kind LOẠI", "kind"),
                        ("--parent ID", "parent"), ("--code MÃ", "code"),
                        ("--place ĐỊA_DANH", "place"), ("--no-locations", "no_locations"),
                        ("--allow-duplicate", "allow_duplicate")):
        assert f"{option} {T.plain(f'cli.help.{key}')}" in text


@once
@pytest.mark.parametrize(("args", "said"), [
    ([], "thiếu tham số bắt buộc: LỆNH"),
    (["nonsense"], "tham số LỆNH: không có lựa chọn 'nonsense' (chọn một trong: 'init',"),
    (["unit"], "thiếu tham số bắt buộc: LỆNH"),
    (["unit", "add", "--kind", "chi bộ"], "thiếu tham số bắt buộc: --name"),
    (["unit", "add", "--name", "A", "--kind", "B", "--parent", "one"],
     'tham số --parent: phải là id của một đơn vị, số nguyên dương (đang là "one")'),
    (["unit", "list", "extra"], "không hiểu: extra"),
    (["unit", "add", "--n", "A", "--kind", "B"],
     "tùy chọn --n chưa rõ, có thể là: --name, --no-locations"),
    (["unit", "add", "--name", "A", "--kind", "B", "--no-locations=yes"],
     "tham số --no-locations: tùy chọn này không nhận giá trị ('yes')"),
    (["invite", "--unit", "1", "--days"], "tham số --days: cần một giá trị"),
    (["invite", "--unit", "1", "--role", "admin"],
     "tham số --role: không có lựa chọn 'admin' (chọn một trong: 'member', 'leader', "
     "'observer')"),
    (["invite", "--unit", "1", "--uses", "many"],
     'tham số --uses: phải là số nguyên từ 1 đến 1000 (đang là "many")'),
    (["unit", "import"], "thiếu tham số bắt buộc: TỆP_CSV"),
    (["backup"], "thiếu tham số bắt buộc: ĐÍCH"),
])
def test_argument_errors_are_vietnamese(cli: Cli, args: list[str], said: str) -> None:
    result = cli(*args)
    assert result.failed_with_one_line()
    prog = " ".join(["lantoa", *(a for a in args[:2] if a in ("unit", "add", "invite",
                                                            "import", "backup"))])
    if args[:2] == ["unit", "list"]:
        prog = "lantoa"  # what is left over is found by the top-level parser
    assert result.err.startswith(f"{prog}: {said}"), result.err
    assert result.err.rstrip().endswith(f"(xem: {prog} --help)")
    assert not ENGLISH.search(result.err.replace("--help", "")), result.err


@pytest.mark.parametrize(("args", "said"), [
    (["--count", "x"], "tham số --count: giá trị 'x' không hợp lệ (cần kiểu int)"),
    (["--pair", "a"], "tham số --pair: cần 2 giá trị"),
])
def test_argparse_messages_this_cli_never_meets_are_translated_too(
    capsys: pytest.CaptureFixture[str], args: list[str], said: str
) -> None:
    # "invalid int value", "expected N arguments": argparse's words for a plain type=int and
    # a fixed number of values, which the options above do not use.
    parser = Parser(prog="lantoa")
    parser.add_argument("--count", type=int)
    parser.add_argument("--pair", nargs=2)
    with speaking(Catalogue.load()), pytest.raises(SystemExit):
        parser.parse_args(args)
    assert capsys.readouterr().err == f"lantoa: {said} (xem: lantoa --help)\n"


def test_argparse_speaks_english_again_outside_the_command_line(
    capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser(prog="other")
    parser.add_argument("--count", type=int)
    with speaking(Catalogue.load()), pytest.raises(SystemExit):
        parser.parse_args(["--count", "x"])
    assert "giá trị 'x' không hợp lệ (cần kiểu int)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parser.parse_args(["--count", "x"])
    assert "invalid int value: 'x'" in capsys.readouterr().err


def test_the_english_side_is_what_argparse_says() -> None:
    # texts/en/cli.toml's [cli.argparse] are the keys argparse's messages are found by: a
    # Python whose argparse words one differently would leave it in English.
    source = inspect.getsource(argparse)
    english = Catalogue.load().tables["en"]
    keys = [key for key in english if key.startswith("cli.argparse.")]
    assert len(keys) == 20
    for key in keys:
        assert repr(english[key]) in source or f'"{english[key]}"' in source, key


# --- init ---------------------------------------------------------------------------------------

def test_init_creates_the_database_and_can_run_again(cli: Cli) -> None:
    expected = T.plain("cli.init_done", path=cli.database, version=LATEST_SCHEMA)
    assert not cli.exists()
    assert cli.ok("init").out.strip() == expected
    assert cli.exists()
    cli.add("Chi bộ Thôn Bản Chặng")

    assert cli.ok("init").out.strip() == expected
    assert cli.unit_count() == 1  # migrating again changed nothing
    assert cli.schema_version() == LATEST_SCHEMA


@once
def test_the_default_database_is_under_data_which_init_creates(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LANTOA_DATABASE")
    (cli.folder / "data").rmdir()
    assert cli.ok("init").lines[0] == T.plain("cli.folder_created", folder=cli.folder / "data")
    assert (cli.folder / "data" / "lantoa.sqlite3").is_file()


@once
@pytest.mark.parametrize("command", [
    ["unit", "list"], ["unit", "add", "--name", "Chi bộ 1", "--kind", "chi bộ"],
    ["invite", "--unit", "1"], ["demo-data"], ["backup", "."], ["check"],
])
def test_a_database_in_a_missing_folder_is_refused(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    folder = cli.folder / "typo" / "data"
    monkeypatch.setenv("LANTOA_DATABASE", str(folder / "lantoa.sqlite3"))
    result = cli(*command)
    assert result.failed_with_one_line()
    if command != ["check"] and command[0] != "backup":
        assert result.err.strip() == "lantoa: " + T.plain(
            "cli.database_folder_missing", setting="LANTOA_DATABASE", folder=folder)
        assert "lantoa init" in result.err
    assert not (cli.folder / "typo").exists()


@once
def test_init_creates_a_missing_folder_it_is_told(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = cli.folder / "new" / "place" / "lantoa.sqlite3"
    monkeypatch.setenv("LANTOA_DATABASE", str(database))
    assert cli.ok("init").lines == [
        T.plain("cli.folder_created", folder=database.parent),
        T.plain("cli.init_done", path=database, version=LATEST_SCHEMA)]
    assert cli.ok("unit", "list").out.strip() == T.plain("cli.no_units")


@once
def test_run_refuses_a_missing_folder_it_is_told(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANTOA_BOT_TOKEN", "123456:TEST-token")
    monkeypatch.setenv("LANTOA_DATABASE", str(cli.folder / "typo" / "lantoa.sqlite3"))
    result = cli("run")
    assert result.failed_with_one_line()
    assert str(cli.folder / "typo") in result.err
    assert not (cli.folder / "typo").exists()


# --- units --------------------------------------------------------------------------------------

def test_unit_add_with_and_without_parent(cli: Cli) -> None:
    commune = cli.add("Đảng bộ xã Tràng Định", "đảng bộ xã", "--code", "TD")
    cell = cli.add("  Chi bộ   Thôn Bản Chặng ", "chi bộ", "--parent", str(commune),
                   "--place", "Thôn Bản Chặng, xã Tràng Định", "--no-locations")

    rows = {r["id"]: r for r in cli.rows("SELECT * FROM units")}
    assert (rows[commune]["name"], rows[commune]["kind"], rows[commune]["code"]) == (
        "Đảng bộ xã Tràng Định", "đảng bộ xã", "TD")
    assert rows[commune]["parent_id"] is None
    assert rows[commune]["no_locations"] == 0
    assert rows[cell]["name"] == "Chi bộ Thôn Bản Chặng"  # spaces tidied
    assert rows[cell]["parent_id"] == commune
    assert rows[cell]["place_name"] == "Thôn Bản Chặng, xã Tràng Định"
    assert rows[cell]["no_locations"] == 1
    assert rows[cell]["code"] is None


def test_unit_add_prints_the_new_id(cli: Cli) -> None:
    out = cli.ok("unit", "add", "--name", "Chi bộ Khối 1", "--kind", "chi bộ").out
    unit_id = cli.rows("SELECT id FROM units")[0]["id"]
    assert out.strip() == T.plain("cli.unit_added", id=unit_id, name="Chi bộ Khối 1")


def test_unit_add_under_an_unknown_parent_fails(cli: Cli) -> None:
    cli.ok("init")
    result = cli("unit", "add", "--name", "Chi bộ", "--kind", "chi bộ", "--parent", "99")
    assert result.failed_with_one_line()
    assert T.plain("cli.unit_parent_unknown", id=99) in result.err
    assert cli.unit_count() == 0


def test_unit_add_with_a_taken_code_fails(cli: Cli) -> None:
    cli.add("Đảng bộ xã Văn Quan", "đảng bộ xã", "--code", "VQ")
    result = cli("unit", "add", "--name", "Khác", "--kind", "chi bộ", "--code", "VQ")
    assert result.failed_with_one_line()
    assert T.plain("cli.unit_code_taken", code="VQ") in result.err
    assert cli.unit_count() == 1


def test_an_empty_code_means_no_code(cli: Cli) -> None:
    cli.add("Chi bộ 1", "chi bộ", "--code", "")
    cli.add("Chi bộ 2", "chi bộ", "--code", " ")  # was: UNIQUE constraint traceback
    assert [r["code"] for r in cli.rows("SELECT code FROM units")] == [None, None]


def test_unit_add_needs_a_name(cli: Cli) -> None:
    result = cli("unit", "add", "--name", "   ", "--kind", "chi bộ")
    assert result.failed_with_one_line()
    assert T.plain("cli.unit_name_kind_required") in result.err


@pytest.mark.parametrize("twin", [
    "Chi bộ Thôn Bản Chặng",
    "chi bo thon ban chang",                                       # typed without Telex
    "CHI BỘ THÔN BẢN CHẶNG",
    "  Chi bộ  Thôn   Bản Chặng ",
    unicodedata.normalize("NFD", "Chi bộ Thôn Bản Chặng"),       # decomposed
])
def test_unit_add_refuses_a_name_its_parent_has(cli: Cli, twin: str) -> None:
    commune = cli.add("Đảng bộ xã Tràng Định", "đảng bộ xã")
    cell = cli.add("Chi bộ Thôn Bản Chặng", "chi bộ", "--parent", str(commune))
    result = cli("unit", "add", "--name", twin, "--kind", "chi bộ", "--parent", str(commune))
    assert result.failed_with_one_line()
    assert result.err.strip() == "lantoa: " + T.plain(
        "cli.unit_name_taken", name="Chi bộ Thôn Bản Chặng", id=cell)
    assert cli.unit_count() == 2
    # --allow-duplicate: two cells may really share a name.
    other = cli.add(twin, "chi bộ", "--parent", str(commune), "--allow-duplicate")
    assert other != cell and cli.unit_count() == 3


def test_the_same_name_elsewhere_in_the_tree_is_no_duplicate(cli: Cli) -> None:
    first = cli.add("Đảng bộ xã Tràng Định", "đảng bộ xã")
    second = cli.add("Đảng bộ xã Văn Quan", "đảng bộ xã")
    cli.add("Chi bộ Cơ quan", "chi bộ", "--parent", str(first))
    cli.add("Chi bộ Cơ quan", "chi bộ", "--parent", str(second))
    cli.add("Chi bộ Cơ quan", "chi bộ")  # at the top of the tree
    result = cli("unit", "add", "--name", "chi bo co quan", "--kind", "chi bộ")
    assert result.failed_with_one_line()  # the top of the tree is one parent too
    assert cli.unit_count() == 5


@pytest.mark.parametrize("name", [
    "Chi bộ 🌾 Bản Chặng", "<b>Chi bộ</b> & <script>x</script>", "Chi bộ \"Bản Chặng\"",
])
def test_unusual_names_are_kept_as_typed(cli: Cli, name: str) -> None:
    unit = cli.add(name)
    assert cli.rows("SELECT name FROM units WHERE id = ?", (unit,))[0]["name"] == name
    assert f"{name} (chi bộ)" in cli.ok("unit", "list").out


@pytest.mark.parametrize("option", ["--name", "--kind", "--place"])
def test_a_huge_name_is_refused(cli: Cli, option: str) -> None:
    values = {"--name": "Chi bộ", "--kind": "chi bộ", "--place": "Bản Chặng"}
    values[option] = "Bản Chặng " * 1000
    result = cli("unit", "add", *[part for pair in values.items() for part in pair])
    assert result.failed_with_one_line()
    assert T.plain("cli.unit_too_long", max=150) in result.err
    assert cli.unit_count() == 0


@once
@pytest.mark.parametrize(("value", "shown"), [
    ("one", "one"), ("0", "0"), ("-3", "-3"), ("99999999999999999999", "99999999999999999999"),
    ("1.5", "1.5"), ("", ""),
])
def test_parent_must_be_an_id(cli: Cli, value: str, shown: str) -> None:
    result = cli("unit", "add", "--name", "Chi bộ", "--kind", "chi bộ", "--parent", value)
    assert result.failed_with_one_line()
    assert T.plain("cli.arg.unit_id", value=shown) in result.err
    assert "--parent" in result.err


@once
@pytest.mark.parametrize("args", [
    ["unit", "add", "--kind", "chi bộ"],                               # --name missing
    ["unit", "add", "--name", "A", "--kind", "B", "--parent", "one"],  # not a number
    ["unit", "frobnicate"],
    ["nonsense"],
    [],
])
def test_bad_arguments_exit_2_with_one_line(cli: Cli, args: list[str]) -> None:
    assert cli(*args).failed_with_one_line()


def test_unit_list_shows_the_tree_indented_with_ids(cli: Cli) -> None:
    assert cli.ok("unit", "list").out.strip() == T.plain("cli.no_units")

    province = cli.add("Đảng bộ tỉnh Lạng Sơn", "đảng bộ tỉnh", "--code", "LS")
    other = cli.add("Đảng bộ xã Đình Lập", "đảng bộ xã", "--parent", str(province))
    commune = cli.add("Đảng bộ xã Tràng Định", "đảng bộ xã", "--parent", str(province))
    cell = cli.add("Chi bộ Cơ quan", "chi bộ", "--parent", str(commune))
    group = cli.add("Tổ đảng số 1", "tổ đảng", "--parent", str(cell))

    lines = cli.ok("unit", "list").lines
    assert len(lines) == 5
    by_id = {}
    for line in lines:
        found = re.match(r"^(\s*)(\d+)\s+(.+)$", line)
        assert found, line
        by_id[int(found.group(2))] = (line.index(found.group(2)), found.group(3))
    assert by_id[province][1] == "Đảng bộ tỉnh Lạng Sơn (đảng bộ tỉnh) [LS]"
    assert by_id[group][1] == "Tổ đảng số 1 (tổ đảng)"
    indent = {unit_id: column for unit_id, (column, _) in by_id.items()}
    assert indent[province] < indent[commune] < indent[cell] < indent[group]
    assert indent[other] == indent[commune]
    # Each child comes right under its parent's subtree.
    order = [int(re.match(r"^\s*(\d+)", line).group(1)) for line in lines]
    assert order == [province, other, commune, cell, group]


# --- import -------------------------------------------------------------------------------------

VIETNAMESE_CSV = (
    CSV_HEADER
    + "TD-CQ-1,Tổ đảng số 1,tổ đảng,TD-CQ\n"          # grandchild first
    + "TD-CQ,Chi bộ Cơ quan Đảng ủy xã Tràng Định,chi bộ,TD\n"
    + f"TD,{unicodedata.normalize('NFD', 'Đảng bộ xã Tràng Định')},đảng bộ xã,\n"
    + '"TD-BC","Chi bộ Thôn Bản Chặng, xã Tràng Định",chi bộ,TD\n'
)


def test_import_takes_children_before_parents_with_a_bom(cli: Cli) -> None:
    path = cli.write_csv(VIETNAMESE_CSV, encoding="utf-8-sig")  # as Excel saves it
    result = cli.ok("unit", "import", path)
    assert result.out.strip() == T.plain("cli.imported", added=4, skipped=0)

    rows = {r["code"]: r for r in cli.rows("SELECT * FROM units")}
    assert set(rows) == {"TD", "TD-CQ", "TD-CQ-1", "TD-BC"}
    assert rows["TD"]["parent_id"] is None
    assert rows["TD"]["name"] == "Đảng bộ xã Tràng Định"  # stored NFC
    assert rows["TD-CQ"]["parent_id"] == rows["TD"]["id"]
    assert rows["TD-BC"]["parent_id"] == rows["TD"]["id"]
    assert rows["TD-BC"]["name"] == "Chi bộ Thôn Bản Chặng, xã Tràng Định"
    assert rows["TD-CQ-1"]["parent_id"] == rows["TD-CQ"]["id"]
    assert rows["TD-CQ-1"]["kind"] == "tổ đảng"

    listing = cli.ok("unit", "list").out
    assert "Đảng bộ xã Tràng Định (đảng bộ xã) [TD]" in listing
    assert "Tổ đảng số 1 (tổ đảng) [TD-CQ-1]" in listing


def test_import_again_skips_the_codes_already_there(cli: Cli) -> None:
    path = cli.write_csv(VIETNAMESE_CSV)
    cli.ok("unit", "import", path)
    assert cli.ok("unit", "import", path).out.strip() == T.plain(
        "cli.imported", added=0, skipped=4)

    more = cli.write_csv(VIETNAMESE_CSV + "TD-CQ-2,Tổ đảng số 2,tổ đảng,TD-CQ\n", "more.csv")
    assert cli.ok("unit", "import", more).out.strip() == T.plain(
        "cli.imported", added=1, skipped=4)
    assert cli.unit_count() == 5


def test_import_may_hang_units_under_ones_already_in_the_database(cli: Cli) -> None:
    cli.add("Đảng bộ xã Văn Quan", "đảng bộ xã", "--code", "VQ")
    path = cli.write_csv(CSV_HEADER + "VQ-TT,Chi bộ Thôn Trung Thành,chi bộ,VQ\n")
    cli.ok("unit", "import", path)
    rows = {r["code"]: r for r in cli.rows("SELECT * FROM units")}
    assert rows["VQ-TT"]["parent_id"] == rows["VQ"]["id"]


def refused_rows(result: Result, csv_path: str) -> list[str]:
    """What a refused import says of each row ("units.csv, dòng 3: …"), having said nothing on
    stdout and closed with the line that nothing was added."""
    errors = result.err.splitlines()
    assert (result.code, result.out) == (2, "")
    assert errors[-1] in (f"lantoa: {T.plain('cli.import_refused')}",
                          *[f"lantoa: {T.plain('cli.import_refused_more', more=n)}"
                            for n in range(1, 100)])
    return [line.removeprefix(f"lantoa: {csv_path}, ") for line in errors[:-1]]


def said_of(line: int, key: str, **params: object) -> str:
    return T.plain("cli.import_row", file="", line=line,
                   what=T.plain(key, **params)).removeprefix(", ")


def test_import_names_every_wrong_row_and_adds_nothing(cli: Cli) -> None:
    cli.add("Đảng bộ xã Văn Quan", "đảng bộ xã", "--code", "VQ")
    cli.add("Chi bộ Thôn Trung Thành", "chi bộ", "--parent", "1")
    path = cli.write_csv(
        CSV_HEADER                                             # line 1
        + "TD,Đảng bộ xã Tràng Định,đảng bộ xã,\n"              # 2: fine
        + "TD-CQ,Chi bộ Cơ quan,chi bộ,TD\n"                    # 3: fine
        + "XX-1,Chi bộ lạc,chi bộ,XX\n"                         # 4: XX is nowhere
        + "TD-CQ,Chi bộ khác,chi bộ,TD\n"                       # 5: code of line 3
        + "TD-2,,chi bộ,TD\n"                                  # 6: no name
        + "TD-3,Chi bộ Thôn Nà Lầm, xã Tràng Định,chi bộ,TD\n"  # 7: a comma, unquoted
        + "TD-4,Chi bộ 4\n"                                    # 8: two values of four
        + "A,Chi bộ A,chi bộ,B\n"                              # 9: A and B, each
        + "B,Chi bộ B,chi bộ,A\n"                              # 10: the other's parent
        + "VQ-2,chi bo thon trung thanh,chi bộ,VQ\n"           # 11: VQ has it already
        + "TD-5,Tổ đảng 5,tổ đảng,TD-5\n"                      # 12: its own parent
    )
    # Rows of the wrong width are told first: the others cannot be read without them.
    assert refused_rows(cli("unit", "import", path), path) == [
        said_of(7, "cli.import_row_width", found=5, wanted=4),
        said_of(8, "cli.import_row_width", found=2, wanted=4)]
    lines = Path(path).read_text(encoding="utf-8").splitlines(keepends=True)
    del lines[6:8]  # lines 7 and 8: now line 9 is line 7, and so on
    path = cli.write_csv("".join(lines))
    assert refused_rows(cli("unit", "import", path), path) == [
        said_of(4, "cli.import_parent_unknown", code="XX"),
        said_of(5, "cli.import_code_repeated", code="TD-CQ", first=3),
        said_of(6, "cli.import_empty", column="name"),
        said_of(7, "cli.import_parent_loop", code="B"),
        said_of(8, "cli.import_parent_loop", code="A"),
        said_of(9, "cli.unit_name_taken", name="Chi bộ Thôn Trung Thành", id=2),
        said_of(10, "cli.import_own_parent", code="TD-5")]
    assert cli.unit_count() == 2  # the rows before the wrong ones were not kept either


def test_import_may_add_a_name_twice_when_told(cli: Cli) -> None:
    path = cli.write_csv(CSV_HEADER + "TD,Đảng bộ xã Tràng Định,đảng bộ xã,\n"
                         "A,Chi bộ Cơ quan,chi bộ,TD\nB,Chi bộ cơ quan,chi bộ,TD\n")
    assert refused_rows(cli("unit", "import", path), path) == [
        said_of(4, "cli.unit_name_taken", name="Chi bộ Cơ quan", id=2)]
    assert cli.ok("unit", "import", path, "--allow-duplicate").out.strip() == T.plain(
        "cli.imported", added=3, skipped=0)


def test_rows_are_counted_as_lines_of_the_file(cli: Cli) -> None:
    # A quoted value may hold a line break (Excel writes one for Alt+Enter); a blank line counts.
    path = cli.write_csv(CSV_HEADER + '"TD","Đảng bộ xã\nTràng Định","đảng bộ xã",""\n'
                         "\n" + "TD-1,,chi bộ,TD\n")
    assert refused_rows(cli("unit", "import", path), path) == [
        said_of(5, "cli.import_empty", column="name")]


def test_more_wrong_rows_than_are_shown_are_counted(cli: Cli) -> None:
    path = cli.write_csv(CSV_HEADER + "".join(f"C{n},,chi bộ,\n" for n in range(25)))
    result = cli("unit", "import", path)
    assert len(refused_rows(result, path)) == 10
    assert result.err.splitlines()[-1] == "lantoa: " + T.plain("cli.import_refused_more",
                                                               more=15)


@pytest.mark.parametrize(("text", "missing"), [
    ("ma,ten,loai,cap_tren\nA,B,C,\n", "code, name, kind, parent_code"),  # wrong names
    ("code,name,kind\nA,B,C\n", "parent_code"),
    ("", "code, name, kind, parent_code"),                                 # empty file
])
def test_import_with_wrong_columns_fails(cli: Cli, text: str, missing: str) -> None:
    result = cli("unit", "import", cli.write_csv(text))
    assert result.failed_with_one_line()
    assert T.plain("cli.import_columns", missing=missing) in result.err


def test_columns_may_be_written_in_capitals_and_in_any_order(cli: Cli) -> None:
    path = cli.write_csv(" Name ,CODE,Parent_Code,kind,note\nChi bộ 1,A,,chi bộ,x\n")
    cli.ok("unit", "import", path)
    assert [tuple(r) for r in cli.rows("SELECT code, name, kind FROM units")] == [
        ("A", "Chi bộ 1", "chi bộ")]


def test_import_ignores_blank_spreadsheet_lines(cli: Cli) -> None:
    path = cli.write_csv(CSV_HEADER + "A,Một,chi bộ,\n,,,\n\nB,Hai,chi bộ,A\n")
    assert cli.ok("unit", "import", path).out.strip() == T.plain(
        "cli.imported", added=2, skipped=0)


def test_import_of_a_missing_or_non_utf8_file_fails_in_one_line(cli: Cli) -> None:
    assert cli("unit", "import", str(cli.folder / "nowhere.csv")).failed_with_one_line()
    legacy = cli.folder / "cp1258.csv"  # "Chi bô" saved in the old Windows code page
    legacy.write_bytes(CSV_HEADER.encode() + "A,Chi bộ 1,chi bộ,\n".encode()
                       + b"B,Chi b\xf4,chi b\xf4,\n")
    result = cli("unit", "import", str(legacy))
    assert result.failed_with_one_line()
    assert T.plain("cli.import_not_utf8", line=3) in result.err
    assert cli.unit_count() == 0


# --- invite -------------------------------------------------------------------------------------

def _invite_output(result: Result) -> tuple[str, str]:
    code_line = next(line for line in result.lines if line.startswith(
        T.plain("cli.invite_code", code="")))
    code = code_line.removeprefix(T.plain("cli.invite_code", code="")).strip()
    link = next(line for line in result.lines if line.startswith("https://t.me/"))
    return code, link


def test_invite_prints_a_code_and_a_link_with_the_bot_username(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    unit = cli.add("Chi bộ Thôn Bản Chặng")
    monkeypatch.setenv("LANTOA_BOT_USERNAME", "lantoa_test_bot")
    result = cli.ok("invite", "--unit", str(unit))
    code, link = _invite_output(result)
    assert CODE.match(code), code
    assert link == f"https://t.me/lantoa_test_bot?start={code}"
    assert T.plain("cli.bot_username_unknown") not in result.out

    monkeypatch.setenv("LANTOA_BOT_USERNAME", "@lantoa_test_bot")  # as Telegram shows it
    code, link = _invite_output(cli.ok("invite", "--unit", str(unit)))
    assert link == f"https://t.me/lantoa_test_bot?start={code}"


def test_invite_without_a_known_username_prints_a_placeholder_and_a_hint(cli: Cli) -> None:
    unit = cli.add("Chi bộ Thôn Bản Chặng")
    result = cli.ok("invite", "--unit", str(unit))
    code, link = _invite_output(result)
    placeholder = T.plain("cli.bot_username_placeholder")
    assert link == f"https://t.me/{placeholder}?start={code}"
    assert T.plain("cli.bot_username_unknown") in result.lines


def test_invite_uses_the_username_remembered_by_run(cli: Cli) -> None:
    unit = cli.add("Chi bộ Thôn Bản Chặng")
    cli.write("INSERT INTO meta (key, value) VALUES ('bot_username', 'remembered_bot')")
    result = cli.ok("invite", "--unit", str(unit))
    code, link = _invite_output(result)
    assert link == f"https://t.me/remembered_bot?start={code}"
    assert T.plain("cli.bot_username_unknown") not in result.out


def test_invites_are_stored_with_role_uses_and_expiry(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    unit = cli.add("Chi bộ Thôn Bản Chặng")
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    leader_code, _ = _invite_output(cli.ok(
        "invite", "--unit", str(unit), "--role", "leader", "--days", "2"))
    member_code, _ = _invite_output(cli.ok("invite", "--unit", str(unit), "--uses", "3"))
    monkeypatch.setenv("LANTOA_INVITE_DAYS", "30")
    observer_code, _ = _invite_output(cli.ok("invite", "--unit", str(unit), "--role", "observer"))
    after = dt.datetime.now(dt.UTC)

    stored = {r["code"]: r for r in cli.rows("SELECT * FROM invites")}
    assert len(stored) == 3

    def check(code: str, role: str, uses: int, days: int) -> None:
        row = stored[code]
        assert (row["unit_id"], row["role"], row["max_uses"], row["uses"], row["revoked"]) == (
            unit, role, uses, 0, 0)
        expires = dt.datetime.fromisoformat(row["expires_at"])
        assert before + dt.timedelta(days=days) <= expires <= after + dt.timedelta(days=days)

    check(leader_code, "leader", 1, 2)
    check(member_code, "member", 3, 7)      # the default invite_days
    check(observer_code, "observer", 1, 30)  # LANTOA_INVITE_DAYS


def test_invite_prints_uses_and_local_expiry(cli: Cli) -> None:
    unit = cli.add("Chi bộ Thôn Bản Chặng")
    result = cli.ok("invite", "--unit", str(unit), "--uses", "4", "--days", "3")
    expires = dt.datetime.fromisoformat(cli.rows("SELECT expires_at FROM invites")[0][0])
    local = expires.astimezone(dt.timezone(dt.timedelta(hours=7)))  # Asia/Ho_Chi_Minh
    assert T.plain("cli.invite_terms", uses=4,
                   expires=local.strftime("%d/%m/%Y %H:%M")) in result.lines


@pytest.mark.parametrize(("role", "said"), [
    ("member", "đảng viên"), ("leader", "cấp ủy"), ("observer", "người theo dõi")])
def test_invite_says_which_unit_and_role_the_link_is_for(
    cli: Cli, role: str, said: str
) -> None:
    unit = cli.add("Chi bộ Thôn Bản Chặng")
    result = cli.ok("invite", "--unit", str(unit), "--role", role)
    assert result.lines[0] == f"Đường link mời {said} vào Chi bộ Thôn Bản Chặng (id {unit}):"
    assert result.lines[1].startswith("https://t.me/")


def test_invite_for_an_unknown_unit_fails(cli: Cli) -> None:
    cli.ok("init")
    result = cli("invite", "--unit", "42")
    assert result.failed_with_one_line()
    assert T.plain("cli.unit_unknown", id=42) in result.err
    assert cli.rows("SELECT count(*) FROM invites")[0][0] == 0


@once
@pytest.mark.parametrize(("option", "value", "high"), [
    ("--uses", "0", 1000), ("--uses", "-1", 1000), ("--uses", "1001", 1000),
    ("--uses", "many", 1000), ("--uses", "2.5", 1000),
    ("--days", "0", 365), ("--days", "-5", 365), ("--days", "366", 365),
    ("--days", "999999999", 365), ("--days", "1" + "0" * 30, 365), ("--days", "một", 365),
])
def test_invite_bounds(cli: Cli, option: str, value: str, high: int) -> None:
    unit = cli.add("Chi bộ Thôn Bản Chặng")
    result = cli("invite", "--unit", str(unit), option, value)
    assert result.failed_with_one_line()
    assert option in result.err
    assert T.plain("cli.arg.whole_number", low=1, high=high, value=value) in result.err
    assert cli.rows("SELECT count(*) FROM invites")[0][0] == 0


@once
def test_the_bounds_are_said_in_the_help(cli: Cli) -> None:
    help_text = " ".join(cli.ok("invite", "--help").out.split())
    assert T.plain("cli.help.days", max=365) in help_text
    assert T.plain("cli.help.uses", max=1000) in help_text


def test_invite_at_the_bounds(cli: Cli) -> None:
    unit = cli.add("Chi bộ Thôn Bản Chặng")
    cli.ok("invite", "--unit", str(unit), "--uses", "1000", "--days", "365")
    cli.ok("invite", "--unit", str(unit), "--uses", "1", "--days", "1")
    assert sorted(r[0] for r in cli.rows("SELECT max_uses FROM invites")) == [1, 1000]


@once
@pytest.mark.parametrize("days", ["0", "366"])
def test_invite_days_of_config_toml_are_bounded_too(cli: Cli, days: str) -> None:
    unit = cli.add("Chi bộ Thôn Bản Chặng")
    (cli.folder / "config.toml").write_text(f"invite_days = {days}\n", encoding="utf-8")
    result = cli("invite", "--unit", str(unit))
    assert result.failed_with_one_line()
    assert '"invite_days"' in result.err and "365" in result.err


@pytest.mark.parametrize("role", ["leader", "observer"])
def test_leader_and_observer_invites_may_be_shared(cli: Cli, role: str) -> None:
    # Whoever joins through a multi-use invite waits for a leader's approval (or an admin's,
    # for a unit with no leader above it): a shared link makes nobody a leader by itself.
    unit = cli.add("Chi bộ Thôn Bản Chặng")
    code, _ = _invite_output(cli.ok("invite", "--unit", str(unit), "--role", role,
                                    "--uses", "2"))
    [row] = cli.rows("SELECT role, max_uses FROM invites WHERE code = ?", (code,))
    assert (row["role"], row["max_uses"]) == (role, 2)


@once
@pytest.mark.parametrize("args", [
    ["invite"],
    ["invite", "--unit", "x"],
    ["invite", "--unit", "99999999999999999999"],
    ["invite", "--unit", "1", "--role", "admin"],
    ["invite", "--unit", "1", "--uses", "many"],
])
def test_invite_bad_arguments(cli: Cli, args: list[str]) -> None:
    assert cli(*args).failed_with_one_line()


# --- demo data ----------------------------------------------------------------------------------

def test_demo_data_is_idempotent_and_flags_border_units(cli: Cli) -> None:
    first = cli.ok("demo-data").out.strip()
    cell = cli.rows("SELECT id FROM units WHERE code = 'TD-BC'")[0]["id"]
    assert first == T.plain("cli.demo_done", units=len(DEMO_UNITS), models=len(DEMO_MODELS),
                            cell=cell)
    second = cli.ok("demo-data").out.strip()
    assert second == T.plain("cli.demo_done", units=0, models=0, cell=cell)
    assert cli.unit_count() == len(DEMO_UNITS)
    assert cli.rows("SELECT count(*) FROM models")[0][0] == len(DEMO_MODELS)

    flags = {r["code"]: r["no_locations"] for r in cli.rows("SELECT code, no_locations FROM units")}
    assert {code for code, flag in flags.items() if flag} == set(BORDER_UNITS)
    names = {r["name"] for r in cli.rows("SELECT name FROM units")}
    assert "Chi bộ Thôn Bản Chặng" in names
    # The cell the message suggests is a real one to invite to.
    code, _ = _invite_output(cli.ok("invite", "--unit", str(cell)))
    assert CODE.match(code)


# --- run and broken settings --------------------------------------------------------------------

@once
@pytest.mark.parametrize("token", [None, "", "   "])
def test_run_without_a_token_fails_in_one_line(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, token: str | None
) -> None:
    if token is not None:
        monkeypatch.setenv("LANTOA_BOT_TOKEN", token)
    result = cli("run")
    assert result.failed_with_one_line()
    assert "LANTOA_BOT_TOKEN" in result.err


@once
def test_a_bad_setting_fails_in_one_line_naming_it(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANTOA_DRAFT_TTL_DAYS", "abc")
    for command in (["init"], ["unit", "list"], ["run"]):
        result = cli(*command)
        assert result.failed_with_one_line()
        assert "LANTOA_DRAFT_TTL_DAYS" in result.err


@once
def test_a_missing_config_file_fails(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANTOA_CONFIG", str(cli.folder / "missing.toml"))
    result = cli("init")
    assert result.failed_with_one_line()
    assert "LANTOA_CONFIG" in result.err
    assert "missing.toml" in result.err
    assert not cli.file.exists()


@once
def test_a_bad_timezone_in_config_toml_fails(cli: Cli) -> None:
    (cli.folder / "config.toml").write_text('timezone = "Asia/Hanoi_City"\n', encoding="utf-8")
    result = cli("init")
    assert result.failed_with_one_line()
    assert "timezone" in result.err


@once
def test_the_database_setting_of_config_toml_yields_to_the_environment(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    (cli.folder / "config.toml").write_text('database = "from_toml.sqlite3"\n', encoding="utf-8")
    cli.ok("init")
    assert cli.file.is_file()
    assert not (cli.folder / "from_toml.sqlite3").exists()

    monkeypatch.delenv("LANTOA_DATABASE")
    assert "from_toml.sqlite3" in cli.ok("init").out
    assert (cli.folder / "from_toml.sqlite3").is_file()


@once
def test_a_database_path_that_is_not_a_database_fails_in_one_line(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_database = cli.folder / "notes.txt"
    not_a_database.write_text("not SQLite\n" * 100, encoding="utf-8")
    for path in (not_a_database, cli.folder, not_a_database / "below.sqlite3"):
        monkeypatch.setenv("LANTOA_DATABASE", str(path))
        result = cli("unit", "list")
        assert result.failed_with_one_line(), path
        assert "LANTOA_DATABASE" in result.err
    assert not_a_database.read_text(encoding="utf-8") == "not SQLite\n" * 100


# --- the installed console script ---------------------------------------------------------------

def test_the_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "lantoa"
    assert script.is_file()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANTOA_")}
    env.pop("PYTHONPATH", None)  # the installed package, not this checkout on sys.path
    env["LANTOA_DATABASE"] = str(tmp_path / "lantoa.sqlite3")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(script), *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, encoding="utf-8", timeout=60, check=False)

    ok = run("unit", "add", "--name", "Chi bộ Thôn Bản Chặng", "--kind", "chi bộ")
    assert (ok.returncode, ok.stderr) == (0, "")
    assert ok.stdout.strip() == T.plain("cli.unit_added", id=1, name="Chi bộ Thôn Bản Chặng")

    bad = run("invite", "--unit", "1", "--uses", "many")
    assert bad.returncode == 2
    assert len(bad.stderr.splitlines()) == 1
    assert bad.stderr.startswith("lantoa")
    assert bad.stdout == ""


def test_run_against_an_unreachable_api_fails_in_one_line(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANTOA_BOT_TOKEN", "123456:TEST-token")
    monkeypatch.setenv("LANTOA_BOT_API_URL", "http://127.0.0.1:9")  # the discard port: closed
    result = cli("run")
    assert result.failed_with_one_line()
    assert "LANTOA_BOT_API_URL" in result.err and "127.0.0.1:9" in result.err
    assert "123456:TEST-token" not in result.err


async def test_run_with_a_token_telegram_rejects_fails_in_one_line(tmp_path: Path) -> None:
    fake = FakeTelegram()
    async with FakeBotServer(fake, "999999:OTHER-token") as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LANTOA_")}
        env.update(LANTOA_BOT_TOKEN="123456:TEST-token", LANTOA_BOT_API_URL=server.url,
                   LANTOA_DATABASE=str(tmp_path / "db.sqlite3"))
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "lantoa"), "run", env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    errors = err.decode().splitlines()
    assert process.returncode == 2
    assert errors[-1] == ("lantoa: LANTOA_BOT_TOKEN: Telegram không nhận token này; đồng chí "
                          "kiểm tra lại token từ @BotFather.")
    assert "123456:TEST-token" not in err.decode() + out.decode()


# --- what `lantoa run` says once started, and its log ------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+0700 [A-Z]+ [\w.]+: ")


async def _run_until_started(folder: Path, env: dict[str, str]) -> tuple[list[str], str]:
    """`lantoa run` (this checkout) against the fake Bot API until it says how to stop it,
    then stopped as a service manager would: its stdout lines and its log."""
    fake = FakeTelegram()
    async with FakeBotServer(fake, "123456:TEST-token") as server:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("LANTOA_")}, **env,
               "LANTOA_BOT_TOKEN": "123456:TEST-token", "LANTOA_BOT_API_URL": server.url,
               "LANTOA_POLL_TIMEOUT": "1", "PYTHONPATH": str(ROOT)}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.runtime.cli", "run", env=env, cwd=folder,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        assert process.stdout is not None
        lines: list[str] = []
        try:
            while not lines or lines[-1] != T.plain("cli.run.stop"):
                line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
                assert line, f"stopped early after {lines}"
                lines.append(line.decode().rstrip("\n"))
            process.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(process.communicate(), timeout=30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == 0, err.decode()
    return lines, err.decode()


async def test_run_says_where_it_runs_and_what_to_type_next(tmp_path: Path) -> None:
    # No LANTOA_DATABASE: the first start from the README makes data/ and the database.
    lines, log = await _run_until_started(tmp_path, {})
    assert lines == [
        T.plain("cli.run.started", username="lantoa_test_bot"),
        T.plain("cli.run.database", path=tmp_path / "data" / "lantoa.sqlite3"),
        T.plain("cli.run.counts", units=T.plain("cli.run.units", count=0),
                members=T.plain("cli.run.members", count=0),
                groups=T.plain("cli.run.groups", count=0)),
        T.plain("cli.run.no_units"),
        T.plain("cli.run.stop")]
    assert "lantoa demo-data" in lines[3] and "lantoa unit add" in lines[3]
    # Every log line carries its time with the offset of the bot's time zone.
    assert log.splitlines() and all(LOG_LINE.match(line) for line in log.splitlines()), log


async def test_run_counts_units_members_and_linked_groups(cli: Cli) -> None:
    await asyncio.to_thread(cli.ok, "demo-data")
    cli.write("INSERT INTO people (id, telegram_user_id, full_name, created_at)"
              " VALUES (1, 1001, 'Hoàng Thị Mai', '2026-12-01T00:00:00+00:00')",
              "INSERT INTO memberships (person_id, unit_id, role, joined_at)"
              " VALUES (1, 3, 'member', '2026-12-01T00:00:00+00:00')",
              "UPDATE units SET group_chat_id = -100123 WHERE id = 3")
    lines, _ = await _run_until_started(cli.folder, {"LANTOA_DATABASE": str(cli.database)})
    assert lines[1:] == [
        T.plain("cli.run.database", path=cli.database),
        T.plain("cli.run.counts", units=T.plain("cli.run.units", count=len(DEMO_UNITS)),
                members=T.plain("cli.run.members", count=1),
                groups=T.plain("cli.run.groups", count=1)),
        T.plain("cli.run.stop")]


@pytest.mark.parametrize(("zone", "said"), [
    ("Asia/Ho_Chi_Minh", "2026-12-07 17:58:09+0700"), ("UTC", "2026-12-07 10:58:09+0000"),
    ("America/Sao_Paulo", "2026-12-07 07:58:09-0300"),
])
def test_log_lines_carry_the_offset_of_the_bot_time_zone(zone: str, said: str) -> None:
    record = logging.LogRecord("bot.runtime.app", logging.INFO, __file__, 1, "Lan Tỏa is running",
                               None, None)
    record.created = dt.datetime(2026, 12, 7, 10, 58, 9, tzinfo=dt.UTC).timestamp()
    assert ZonedFormatter(ZoneInfo(zone)).format(record) == (
        f"{said} INFO bot.runtime.app: Lan Tỏa is running")


# --- backup ---------------------------------------------------------------------------------------

def _today() -> str:
    return dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()


def test_backup_into_a_folder_writes_a_dated_file_each_time(cli: Cli) -> None:
    cli.add("Chi bộ Thôn Bản Chặng")
    folder = cli.folder / "backups"
    folder.mkdir()
    first = cli.ok("backup", str(folder)).out
    second = cli.ok("backup", str(folder) + "/").out
    suffix = ".sqlite3" if cli.url is None else ".dump"  # pg_dump's custom format
    names = sorted(path.name for path in folder.iterdir())
    assert names == [f"lantoa-{_today()}-2{suffix}", f"lantoa-{_today()}{suffix}"]
    assert str(folder / names[1]) in first and str(folder / names[0]) in second
    copy = cli.restored(folder / names[0])
    assert [tuple(row) for row in copy.rows("SELECT name FROM units")] == [
        ("Chi bộ Thôn Bản Chặng",)]


def test_a_backup_restored_holds_every_row_of_every_table(cli: Cli) -> None:
    cli.ok("demo-data")
    cell = cli.rows("SELECT id FROM units WHERE code = 'TD-BC'")[0]["id"]
    cli.ok("invite", "--unit", str(cell), "--uses", "40")
    cli.write("INSERT INTO inbox (update_id, body, received_at)"
              " VALUES (7, '{\"message\": \"Xin chào 🌾\"}', '2026-12-07T01:00:00+00:00')")
    backup = cli.folder / "nightly.backup"
    cli.ok("backup", str(backup))
    source, copy = (asyncio.run(inspect_database(location))
                    for location in (cli.database, cli.restored(backup).database))
    assert copy.tables == source.tables and copy.schema_version == LATEST_SCHEMA
    assert copy.tables["units"] == len(DEMO_UNITS) and copy.tables["invites"] == 1
    assert copy.broken == []


@pytest.mark.parametrize("target", ["nowhere/", "nowhere/nightly.sqlite3", "nowhere/deeper/"])
def test_backup_into_a_missing_folder_names_it(cli: Cli, target: str) -> None:
    cli.add("Chi bộ Thôn Bản Chặng")
    result = cli("backup", target)
    assert result.failed_with_one_line()
    folder = Path(target.rstrip("/")) if target.endswith("/") else Path(target).parent
    assert result.err.strip() == "lantoa: " + T.plain("cli.backup_no_folder", folder=folder)
    assert result.err.startswith(f"lantoa: Thư mục {folder} không tồn tại")
    assert not (cli.folder / "nowhere").exists()


async def _fail_copy(source: Path, target: Path) -> None:
    target.write_bytes(b"SQLite format 3\x00 half")  # what a full disk leaves
    raise OSError(28, "No space left on device")


async def _fail_dump(programs: Path, address: str, password: str | None, partial: Path,
                     snapshot: str) -> None:
    partial.write_bytes(b"PGDMP half")  # what a full disk leaves
    raise BackupCheckFailed("pg_dump: error: could not write to output file: No space left")


async def _torn_dump(programs: Path, address: str, password: str | None, partial: Path,
                     snapshot: str) -> None:
    """A dump cut short after pg_dump said it was done (a disk that lied): the check, which
    reads the dump back whole, must find it."""
    await DUMP(programs, address, password, partial, snapshot)
    partial.write_bytes(partial.read_bytes()[:-200])


def _fail_replace(source: Path, target: Path) -> None:
    raise PermissionError(13, "Permission denied", str(target))


async def _fail_check(path: Path) -> tuple[int, int]:
    raise BackupCheckFailed("integrity_check: [('*** in database main ***',)]")


# What fails on each backend: the copy, its renaming, or its check; and the line then said.
FAILURES = {
    "sqlite": {"copy": ("storage.backup._copy", _fail_copy, "cli.os_error"),
               "rename": ("storage.backup.os.replace", _fail_replace, "cli.os_error"),
               "check": ("storage.backup._check", _fail_check, "cli.backup_damaged")},
    "postgresql": {"copy": ("storage.backup._dump", _fail_dump, "cli.backup_dump_failed"),
                   "rename": ("storage.backup.os.replace", _fail_replace, "cli.os_error"),
                   "check": ("storage.backup._dump", _torn_dump, "cli.backup_dump_failed")},
}


@pytest.mark.parametrize("failing", ["copy", "rename", "check"])
def test_a_failed_backup_leaves_no_partial_file_and_the_old_backup(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, backend: str, failing: str
) -> None:
    cli.add("Chi bộ Thôn Bản Chặng")
    target = cli.folder / "nightly.backup"
    target.write_bytes(b"last night's backup")
    patch, replacement, key = FAILURES[backend][failing]
    monkeypatch.setattr(patch, replacement)
    result = cli("backup", str(target))
    assert result.failed_with_one_line()
    assert result.err.startswith("lantoa: " + T.plain(key, path=cli.database, error="")[:20])
    assert sorted(path.name for path in cli.folder.iterdir()) == ["data", "nightly.backup"]
    assert target.read_bytes() == b"last night's backup"


@pytest.mark.parametrize("found", [None, 9])
def test_backup_without_a_fitting_pg_dump_says_what_to_run(
    pg_cli: Cli, monkeypatch: pytest.MonkeyPatch, found: int | None
) -> None:
    cli = pg_cli
    assert cli.url is not None
    cli.ok("init")
    monkeypatch.setattr("storage.backup._newest",
                        lambda installed: None if found is None else (Path("/old/bin"), found))
    result = cli("backup", str(cli.folder))
    assert result.failed_with_one_line()
    command = shlex.join(["pg_dump", "--format=custom", f"--dbname={cli.url}",
                          f"--file={cli.folder / f'lantoa-{_today()}.dump'}"])
    key = "cli.backup_no_pg_dump" if found is None else "cli.backup_old_pg_dump"
    server = cli.server_major()
    assert result.err.strip() == "lantoa: " + T.plain(key, found=found, server=server,
                                                      command=command)
    assert f"postgresql-client-{server}" in result.err
    assert list(cli.folder.glob("lantoa-*")) == []


# --- check ----------------------------------------------------------------------------------------

def check_lines(result: Result) -> list[str]:
    """The ✓ and ✗ lines of a check, without the table counts."""
    return [line for line in result.lines if line[:1] in "✓✗"]


def healthy_lines(cli: Cli) -> list[str]:
    return ["✓ " + T.plain("cli.check.intact" if cli.url is None else "cli.check.intact_server"),
            "✓ " + T.plain("cli.check.schema_current", version=LATEST_SCHEMA),
            "✓ " + T.plain("cli.check.references_ok"),
            "✓ " + T.plain("cli.check.tree_ok"),
            "✓ " + T.plain("cli.check.deliveries_none"),
            "✓ " + T.plain("cli.check.inbox_none")]


def test_check_of_a_healthy_database(cli: Cli) -> None:
    cli.ok("demo-data")
    result = cli.ok("check")
    assert result.lines[0] == T.plain("cli.check.title", path=cli.database)
    assert check_lines(result) == healthy_lines(cli)
    counts = dict(line.split() for line in result.lines if line.startswith("  "))
    assert counts["units"] == str(len(DEMO_UNITS)) and counts["models"] == str(len(DEMO_MODELS))
    assert counts["reports"] == "0" and len(counts) >= 20
    assert result.lines[-1] == T.plain("cli.check.result_good")


def test_check_finds_rows_pointing_at_nothing(cli: Cli) -> None:
    cell = cli.add("Chi bộ Thôn Bản Chặng")
    cli.write(
        "INSERT INTO memberships (person_id, unit_id, role, joined_at)"
        f" VALUES (999, {cell}, 'member', '2026-12-01T00:00:00+00:00')",
        "INSERT INTO memberships (person_id, unit_id, role, joined_at)"
        " VALUES (998, 77, 'leader', '2026-12-01T00:00:00+00:00')",
        "INSERT INTO invites (code, unit_id, role, max_uses, expires_at, created_at)"
        " VALUES ('x', 77, 'member', 1, '2027-01-01T00:00:00+00:00',"
        " '2026-12-01T00:00:00+00:00')", references_off=True)
    result = cli("check")
    assert result.code == 2 and result.err == ""
    assert [line for line in check_lines(result) if line.startswith("✗")] == [
        "✗ " + T.plain("cli.check.broken", rows=1, table="invites", parent="units"),
        "✗ " + T.plain("cli.check.broken", rows=2, table="memberships", parent="people"),
        "✗ " + T.plain("cli.check.broken", rows=1, table="memberships", parent="units")]
    assert result.lines[-1] == T.plain("cli.check.result_bad", count=3)


def test_check_finds_a_loop_in_the_unit_tree(cli: Cli) -> None:
    top = cli.add("Đảng bộ xã Tràng Định", "đảng bộ xã")
    cell = cli.add("Chi bộ Thôn Bản Chặng", "chi bộ", "--parent", str(top))
    cli.add("Tổ đảng số 1", "tổ đảng", "--parent", str(cell))  # below the loop, not in it
    cli.write(f"UPDATE units SET parent_id = {cell} WHERE id = {top}")
    result = cli("check")
    assert result.code == 2
    assert "✗ " + T.plain("cli.check.loops", ids=f"{top}, {cell}") in result.lines


def _delivery(cli: Cli, chat: int, decided: dt.datetime, status: str = "queued") -> None:
    cli.write("INSERT INTO deliveries (kind, unit_id, chat_id, period, status, decided_at)"
              f" VALUES ('digest', 1, {chat}, 'p{chat}{status}', '{status}',"
              f" '{decided.isoformat(timespec='seconds')}')")


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%d/%m/%Y %H:%M")


def test_check_tells_what_waits_and_alarms_when_it_waits_too_long(cli: Cli) -> None:
    cli.add("Chi bộ Thôn Bản Chặng")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    cli.write("UPDATE units SET group_chat_id = -100 WHERE id = 1")
    _delivery(cli, -100, now - dt.timedelta(hours=2))
    _delivery(cli, -100, now - dt.timedelta(days=9), status="sent")  # long settled
    result = cli.ok("check")
    assert "✓ " + T.plain("cli.check.deliveries_waiting", count=1,
                          oldest=_local(now - dt.timedelta(hours=2))) in result.lines

    _delivery(cli, -100, now - dt.timedelta(hours=30), status="sending")
    _delivery(cli, 555, now - dt.timedelta(hours=1))  # a chat no unit or person has
    cli.write("INSERT INTO inbox (update_id, body, received_at)"
              f" VALUES (7, '{{}}', '{(now - dt.timedelta(hours=3)).isoformat()}')")
    result = cli("check")
    assert result.code == 2
    assert [line for line in check_lines(result) if line.startswith("✗")] == [
        "✗ " + T.plain("cli.check.stray_deliveries", count=1),
        "✗ " + T.plain("cli.check.deliveries_late", count=3, hours=24,
                       oldest=_local(now - dt.timedelta(hours=30))),
        "✗ " + T.plain("cli.check.inbox_late", count=1, hours=1,
                       oldest=_local(now - dt.timedelta(hours=3)))]


@pytest.mark.parametrize(("version", "key"), [
    (LATEST_SCHEMA - 1, "cli.check.schema_older"), (LATEST_SCHEMA + 5, "cli.check.schema_newer")])
def test_check_compares_the_schema_version_and_changes_nothing(
    cli: Cli, version: int, key: str
) -> None:
    cli.ok("init")
    cli.set_schema_version(version)
    result = cli("check")
    assert result.code == 2
    assert "✗ " + T.plain(key, version=version, latest=LATEST_SCHEMA) in result.lines
    assert cli.schema_version() == version  # not migrated by the check


@once
def test_check_of_a_damaged_file(cli: Cli) -> None:
    cli.ok("demo-data")
    with contextlib.closing(sqlite3.connect(cli.file)) as conn:
        # An index whose definition no longer matches its entries: what a torn write does.
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("UPDATE sqlite_master SET sql = replace(sql, '(parent_id)', '(name)')"
                     " WHERE name = 'units_parent'")
        conn.commit()
    result = cli("check")
    assert result.code == 2
    assert check_lines(result)[0].startswith("✗ " + T.plain("cli.check.damaged", findings="")[:30])
    assert "units_parent" in check_lines(result)[0]
    assert result.lines[-1] == T.plain("cli.check.result_bad", count=1)


@once
def test_check_of_a_file_that_is_no_database(cli: Cli) -> None:
    cli.file.write_bytes(b"not SQLite\n" * 500)
    result = cli("check")
    assert result.failed_with_one_line()
    assert T.plain("cli.check.unreadable", path=cli.file, error="")[:40] in result.err
    assert cli.file.read_bytes() == b"not SQLite\n" * 500


def test_check_of_a_missing_database_creates_nothing(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    if cli.url is not None:  # a name the server has no database of
        missing = cli.url.replace("/test_", "/missing_", 1)
        monkeypatch.setenv("LANTOA_DATABASE", missing)
    result = cli("check")
    assert result.failed_with_one_line()
    if cli.url is None:
        assert result.err.strip() == "lantoa: " + T.plain(
            "cli.check.missing", setting="LANTOA_DATABASE", path=cli.file)
        assert list(cli.file.parent.iterdir()) == []
    else:
        assert result.err.startswith("lantoa: LANTOA_DATABASE: " + T.plain(
            "cli.database_not_there", setting="", database="missing_", location="",
            reason="").split('"')[0].removeprefix(": "))
        assert not cli.exists()


# --- the database setting: what an admin may get wrong ------------------------------------------

SECRET = "S3cret:p@ss/ở"  # with what a URL must encode: the raw and the encoded must not show
PASSWORD_ROLE = "lantoa_pw"
# A command of each kind: one that makes, one that reads, and those with a database of their own.
DATABASE_COMMANDS = [["init"], ["unit", "list"], ["check"], ["backup", "."], ["run"],
                     ["status"]]


def _quiet_about_the_password(result: Result) -> bool:
    """One line, exit code 2, and the password nowhere in what was printed."""
    printed = result.out + result.err
    return result.failed_with_one_line() and SECRET not in printed and quote(
        SECRET, safe="") not in printed


@once
@pytest.mark.parametrize("value", [
    f"postgresq://lantoa:{quote(SECRET, safe='')}@localhost/lantoa",
    f"mysql://lantoa:{quote(SECRET, safe='')}@localhost/lantoa",
    "sqlite:///data/lantoa.sqlite3",
    f"postgresql://lantoa:{quote(SECRET, safe='')}@localhost:54x2/lantoa",
    f"postgresql://lantoa:{quote(SECRET, safe='')}@[localhost/lantoa",
])
@pytest.mark.parametrize("command", DATABASE_COMMANDS, ids=" ".join)
def test_a_mistyped_address_is_refused_and_never_taken_for_a_file(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, value: str, command: list[str]
) -> None:
    monkeypatch.setenv("LANTOA_BOT_TOKEN", "123456:TEST-token")
    monkeypatch.setenv("LANTOA_DATABASE", value)
    result = cli(*command)
    assert _quiet_about_the_password(result)
    assert result.err.startswith("lantoa: LANTOA_DATABASE " + T.plain(
        "settings.invalid_env", variable="", expected=T.plain("settings.expect.database"),
        value="").split(" (")[0].strip())
    assert "postgresql://" in result.err and "postgres://" in result.err
    assert sorted(path.name for path in cli.folder.iterdir()) == ["data"]  # no file made


@once
@pytest.mark.parametrize("address", [
    f"postgresql://lantoa:{quote(SECRET, safe='')}@127.0.0.1:{{port}}/lantoa",
    "postgresql://lantoa@/lantoa?host={folder}/no-such-folder&port={port}",
    f"postgres://lantoa@/lantoa?host={{folder}}&port={{port}}&password={quote(SECRET, safe='')}",
])
@pytest.mark.parametrize("command", DATABASE_COMMANDS, ids=" ".join)
def test_a_server_nobody_listens_for_is_one_line(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, address: str, command: list[str]
) -> None:
    with socket.socket() as probe:  # a port free now: nothing listens on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("LANTOA_BOT_TOKEN", "123456:TEST-token")
    monkeypatch.setenv("LANTOA_DATABASE", address.format(port=port, folder=cli.folder))
    result = cli(*command)
    assert _quiet_about_the_password(result)
    said = T.plain("cli.database_unreachable", setting="LANTOA_DATABASE", location="{}",
                   reason="")
    before, after = said.split("{}")[0], said.split("{}")[1].split("(")[0]
    assert result.err.startswith(f"lantoa: {before}postgres") and after in result.err
    assert sorted(path.name for path in cli.folder.iterdir()) == ["data"]


@pytest.mark.parametrize("command", DATABASE_COMMANDS, ids=" ".join)
def test_a_database_the_server_does_not_have_is_named(
    pg_cli: Cli, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    assert pg_cli.url is not None
    address = pg_cli.url.replace("/test_", "/tets_", 1)
    monkeypatch.setenv("LANTOA_BOT_TOKEN", "123456:TEST-token")
    monkeypatch.setenv("LANTOA_DATABASE", address)
    result = pg_cli(*command)
    assert result.failed_with_one_line()
    name = urlsplit(address).path.lstrip("/")
    said = T.plain("cli.database_not_there", setting="LANTOA_DATABASE", database=name,
                   location=address, reason="")
    assert result.err.startswith("lantoa: " + said.rsplit("(", 1)[0])
    assert f"createdb \"{name}\"" in result.err


@pytest.fixture
def password_url(postgres_cluster: Cluster, pg_cli: Cli) -> str:
    """pg_cli's database, owned by a role that must give its password (scram-sha-256 on the
    socket, where the test cluster trusts everyone else), with the password in the URL."""
    assert pg_cli.url is not None
    name = urlsplit(pg_cli.url).path.lstrip("/")
    with psycopg.connect(postgres_cluster.url("postgres"), autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s",
                             (PASSWORD_ROLE,)).fetchone():
            admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(PASSWORD_ROLE), sql.Literal(SECRET)))
        admin.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
            sql.Identifier(name), sql.Identifier(PASSWORD_ROLE)))
        rules = postgres_cluster.data / "pg_hba.conf"
        rule = f"local all {PASSWORD_ROLE} scram-sha-256\n"
        if not rules.read_text().startswith(rule):
            rules.write_text(rule + rules.read_text())
            admin.execute("SELECT pg_reload_conf()")
    url = pg_cli.url.replace("lantoa@", f"{PASSWORD_ROLE}:{quote(SECRET, safe='')}@", 1)
    _wait_for_passwords(url.replace(quote(SECRET, safe=""), "wrong", 1))
    return url


def _wait_for_passwords(wrong: str) -> None:
    """Until the server has read its new rules (a reload is signalled, then done meanwhile):
    a wrong password is then refused."""
    for _ in range(200):
        try:
            psycopg.connect(wrong).close()
        except psycopg.OperationalError:
            return
        threading.Event().wait(0.05)
    raise AssertionError("the server never asked for the password")


@pytest.mark.parametrize("command", DATABASE_COMMANDS, ids=" ".join)
def test_a_wrong_password_is_one_line_without_it(
    pg_cli: Cli, password_url: str, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    wrong = password_url.replace("S3cret", "s3cret", 1)
    monkeypatch.setenv("LANTOA_BOT_TOKEN", "123456:TEST-token")
    monkeypatch.setenv("LANTOA_DATABASE", wrong)
    result = pg_cli(*command)
    assert _quiet_about_the_password(result) and "s3cret" not in result.err
    said = T.plain("cli.database_password", setting="LANTOA_DATABASE",
                   location=without_password(wrong), reason="")
    assert result.err.startswith("lantoa: " + said.rsplit("(", 1)[0])
    assert f"{PASSWORD_ROLE}:***@" in result.err


def test_with_the_right_password_every_command_works_and_pg_dump_gets_it_unseen(
    pg_cli: Cli, password_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANTOA_DATABASE", password_url)
    shown = without_password(password_url)
    assert pg_cli.ok("init").out.strip() == T.plain("cli.init_done", path=shown,
                                                    version=LATEST_SCHEMA)
    pg_cli.add("Chi bộ Thôn Bản Chặng")
    assert pg_cli.ok("check").lines[0] == T.plain("cli.check.title", path=shown)
    started: list[tuple[tuple[str, ...], dict[str, str]]] = []
    real = asyncio.create_subprocess_exec

    async def watched(*args: str, env: dict[str, str], **kwargs: Any) -> Any:
        started.append((args, env))
        return await real(*args, env=env, **kwargs)

    monkeypatch.setattr("storage.backup.asyncio.create_subprocess_exec", watched)
    printed = pg_cli.ok("backup", str(pg_cli.folder)).out
    assert SECRET not in printed and quote(SECRET, safe="") not in printed
    # What `ps` shows of pg_dump and pg_restore holds no password; pg_dump's environment does.
    assert [Path(args[0]).name for args, _ in started] == ["pg_dump", "pg_restore"]
    assert all(SECRET not in " ".join(args) and quote(SECRET, safe="") not in " ".join(args)
               for args, _ in started)
    assert started[0][1]["PGPASSWORD"] == SECRET
    copy = pg_cli.restored(pg_cli.folder / f"lantoa-{_today()}.dump")
    assert [row[0] for row in copy.rows("SELECT name FROM units")] == ["Chi bộ Thôn Bản Chặng"]


async def test_run_shows_the_address_without_the_password_and_logs_none(
    password_url: str, tmp_path: Path
) -> None:
    lines, log = await _run_until_started(tmp_path, {"LANTOA_DATABASE": password_url})
    assert lines[1] == T.plain("cli.run.database", path=without_password(password_url))
    everything = "\n".join(lines) + log
    assert SECRET not in everything and quote(SECRET, safe="") not in everything


def test_a_database_of_a_newer_schema_is_left_untouched(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.add("Chi bộ Thôn Bản Chặng")
    cli.set_schema_version(LATEST_SCHEMA + 1)
    monkeypatch.setenv("LANTOA_BOT_TOKEN", "123456:TEST-token")
    for command in (["init"], ["unit", "list"], ["unit", "add", "--name", "Chi bộ 2", "--kind",
                                                 "chi bộ"], ["invite", "--unit", "1"], ["run"]):
        result = cli(*command)
        assert result.failed_with_one_line(), command
        assert result.err.strip() == "lantoa: " + T.plain(
            "cli.database_newer", setting="LANTOA_DATABASE", path=cli.database,
            version=LATEST_SCHEMA + 1, latest=LATEST_SCHEMA)
    assert cli.schema_version() == LATEST_SCHEMA + 1
    assert cli.unit_count() == 1 and cli.rows("SELECT count(*) FROM invites")[0][0] == 0


@pytest.mark.parametrize(("written", "shown"), [
    ("postgresql://lantoa:pa55@db.tinh.vn:5432/lantoa",
     "postgresql://lantoa:***@db.tinh.vn:5432/lantoa"),
    # Typed raw, not encoded: a password with "@", "?" or "/" in it still does not show.
    ("postgresql://lantoa:p@ss?w/rd@db/lantoa", "postgresql://lantoa:***@db/lantoa"),
    ("postgres://lantoa@/lantoa?host=/run/postgresql&password=pa55",
     "postgres://lantoa@/lantoa?host=/run/postgresql&password=***"),
    ("postgresq://lantoa:pa55@db/lantoa", "postgresq://lantoa:***@db/lantoa"),
    ("postgresql://lantoa@/lantoa?host=/run/postgresql",
     "postgresql://lantoa@/lantoa?host=/run/postgresql"),
    ("data/lantoa.sqlite3", "data/lantoa.sqlite3"),
])
def test_the_database_is_shown_without_its_password(written: str, shown: str) -> None:
    assert without_password(written) == shown


def test_the_program_loads_no_library_a_day_of_running_does_not_use() -> None:
    """Issue 17: the running bot's memory. openpyxl (with numpy), docxtpl and psycopg are 38 MB
    of a process; they are imported when a workbook, a Word report or a PostgreSQL database is
    first wanted, not when `lantoa` starts (matplotlib is the chart drawer's: bot/ui/charts.py;
    aiohttp carries every Bot API call, bot/runtime/bot_api.py)."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, bot.runtime.cli; print(' '.join(sorted("
         "{m.split('.')[0] for m in sys.modules})))"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        check=True).stdout.split()
    heavy = {"openpyxl", "numpy", "docxtpl", "docx", "lxml", "psycopg", "psycopg_pool",
             "matplotlib", "PIL"}
    assert heavy.isdisjoint(loaded), heavy.intersection(loaded)
