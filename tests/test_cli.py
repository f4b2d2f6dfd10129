"""`lantoa`, the admin's command line, run for real against a database in a temporary folder."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import sqlite3
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.runtime.cli import main
from bot.runtime.demo_data import BORDER_UNITS, DEMO_MODELS, DEMO_UNITS
from bot.ui.catalogue import Catalogue
from storage.migrate import migration_scripts
from tests.fakebot import FakeBotServer, FakeTelegram

T = Catalogue.load().texts("vi")
LATEST_SCHEMA = migration_scripts()[-1][0]
CODE = re.compile(r"^[A-Za-z0-9_-]{12}$")
CSV_HEADER = "code,name,kind,parent_code\n"


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
    def __init__(self, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.folder = folder
        self.database = folder / "data" / "test.sqlite3"
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

    def rows(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        with contextlib.closing(sqlite3.connect(self.database)) as conn:
            conn.row_factory = sqlite3.Row
            return conn.execute(sql, params).fetchall()

    def unit_count(self) -> int:
        return self.rows("SELECT count(*) AS n FROM units")[0]["n"]

    def write_csv(self, text: str, name: str = "units.csv", encoding: str = "utf-8") -> str:
        path = self.folder / name
        path.write_text(text, encoding=encoding, newline="")
        return str(path)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)  # no config.toml here: the defaults apply
    runner = Cli(tmp_path, capsys)
    monkeypatch.setenv("LANTOA_DATABASE", str(runner.database))
    return runner


# --- init ---------------------------------------------------------------------------------------

def test_init_creates_the_database_and_can_run_again(cli: Cli) -> None:
    expected = T.plain("cli.init_done", path=cli.database, version=LATEST_SCHEMA)
    assert cli.ok("init").out.strip() == expected
    assert cli.database.is_file()
    cli.add("Chi bộ Thôn Bản Chặng")

    assert cli.ok("init").out.strip() == expected
    assert cli.unit_count() == 1  # migrating again changed nothing
    assert cli.rows("PRAGMA user_version")[0][0] == LATEST_SCHEMA


def test_the_default_database_is_under_data(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LANTOA_DATABASE")
    cli.ok("init")
    assert (cli.folder / "data" / "lantoa.sqlite3").is_file()


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
    assert T.plain("cli.unit_parent_unknown") in result.err
    assert cli.unit_count() == 0


def test_unit_add_with_a_taken_code_fails(cli: Cli) -> None:
    cli.add("Đảng bộ xã Văn Quan", "đảng bộ xã", "--code", "VQ")
    result = cli("unit", "add", "--name", "Khác", "--kind", "chi bộ", "--code", "VQ")
    assert result.failed_with_one_line()
    assert T.plain("cli.unit_code_taken") in result.err
    assert cli.unit_count() == 1


def test_an_empty_code_means_no_code(cli: Cli) -> None:
    cli.add("Chi bộ 1", "chi bộ", "--code", "")
    cli.add("Chi bộ 2", "chi bộ", "--code", " ")  # was: UNIQUE constraint traceback
    assert [r["code"] for r in cli.rows("SELECT code FROM units")] == [None, None]


def test_unit_add_needs_a_name(cli: Cli) -> None:
    result = cli("unit", "add", "--name", "   ", "--kind", "chi bộ")
    assert result.failed_with_one_line()
    assert T.plain("cli.unit_name_kind_required") in result.err


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


def test_import_with_a_missing_parent_writes_nothing(cli: Cli) -> None:
    cli.ok("init")
    path = cli.write_csv(
        CSV_HEADER
        + "TD,Đảng bộ xã Tràng Định,đảng bộ xã,\n"
        + "TD-CQ,Chi bộ Cơ quan,chi bộ,TD\n"
        + "XX-1,Chi bộ lạc,chi bộ,XX\n"  # XX is nowhere
    )
    result = cli("unit", "import", path)
    assert result.failed_with_one_line()
    assert T.plain("cli.import_parent_missing", rows="XX-1 (XX)") in result.err
    # The units added before the bad line were rolled back with it.
    assert cli.ok("unit", "list").out.strip() == T.plain("cli.no_units")
    assert cli.unit_count() == 0


@pytest.mark.parametrize("text", [
    "ma,ten,loai,cap_tren\nA,B,C,\n",  # wrong names
    "code,name,kind\nA,B,C\n",          # parent_code missing
    "",                                  # empty file
])
def test_import_with_wrong_columns_fails(cli: Cli, text: str) -> None:
    result = cli("unit", "import", cli.write_csv(text))
    assert result.failed_with_one_line()
    assert T.plain("cli.import_columns") in result.err


def test_import_with_a_repeated_code_fails(cli: Cli) -> None:
    path = cli.write_csv(CSV_HEADER + "A,Một,chi bộ,\nA,Hai,chi bộ,\n")
    result = cli("unit", "import", path)
    assert result.failed_with_one_line()
    assert T.plain("cli.import_codes") in result.err


def test_import_ignores_blank_spreadsheet_lines(cli: Cli) -> None:
    path = cli.write_csv(CSV_HEADER + "A,Một,chi bộ,\n,,,\n\nB,Hai,chi bộ,A\n")
    assert cli.ok("unit", "import", path).out.strip() == T.plain(
        "cli.imported", added=2, skipped=0)


def test_import_of_a_missing_or_non_utf8_file_fails_in_one_line(cli: Cli) -> None:
    assert cli("unit", "import", str(cli.folder / "nowhere.csv")).failed_with_one_line()
    legacy = cli.folder / "cp1258.csv"  # "Chi bô" saved in the old Windows code page
    legacy.write_bytes(CSV_HEADER.encode() + b"A,Chi b\xf4,chi b\xf4,\n")
    assert cli("unit", "import", str(legacy)).failed_with_one_line()


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
    with contextlib.closing(sqlite3.connect(cli.database)) as conn, conn:
        conn.execute("INSERT INTO meta (key, value) VALUES ('bot_username', 'remembered_bot')")
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


def test_invite_for_an_unknown_unit_fails(cli: Cli) -> None:
    cli.ok("init")
    result = cli("invite", "--unit", "42")
    assert result.failed_with_one_line()
    assert T.plain("cli.unit_unknown") in result.err
    assert cli.rows("SELECT count(*) FROM invites")[0][0] == 0


@pytest.mark.parametrize("bounds", [
    ["--uses", "0"], ["--uses", "-1"], ["--days", "0"], ["--days", "-5"],
    ["--days", "999999999"],
])
def test_invite_bounds(cli: Cli, bounds: list[str]) -> None:
    unit = cli.add("Chi bộ Thôn Bản Chặng")
    result = cli("invite", "--unit", str(unit), *bounds)
    assert result.failed_with_one_line()
    assert T.plain("cli.invite_bounds") in result.err
    assert cli.rows("SELECT count(*) FROM invites")[0][0] == 0


@pytest.mark.parametrize("role", ["leader", "observer"])
def test_leader_and_observer_invites_may_be_shared(cli: Cli, role: str) -> None:
    # Whoever joins through a multi-use invite waits for a leader's approval (or an admin's,
    # for a unit with no leader above it): a shared link makes nobody a leader by itself.
    unit = cli.add("Chi bộ Thôn Bản Chặng")
    code, _ = _invite_output(cli.ok("invite", "--unit", str(unit), "--role", role,
                                    "--uses", "2"))
    [row] = cli.rows("SELECT role, max_uses FROM invites WHERE code = ?", (code,))
    assert (row["role"], row["max_uses"]) == (role, 2)


@pytest.mark.parametrize("args", [
    ["invite"],
    ["invite", "--unit", "x"],
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

@pytest.mark.parametrize("token", [None, "", "   "])
def test_run_without_a_token_fails_in_one_line(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, token: str | None
) -> None:
    if token is not None:
        monkeypatch.setenv("LANTOA_BOT_TOKEN", token)
    result = cli("run")
    assert result.failed_with_one_line()
    assert "LANTOA_BOT_TOKEN" in result.err


def test_a_bad_setting_fails_in_one_line_naming_it(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANTOA_DRAFT_TTL_DAYS", "abc")
    for command in (["init"], ["unit", "list"], ["run"]):
        result = cli(*command)
        assert result.failed_with_one_line()
        assert "LANTOA_DRAFT_TTL_DAYS" in result.err


def test_a_missing_config_file_fails(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANTOA_CONFIG", str(cli.folder / "missing.toml"))
    result = cli("init")
    assert result.failed_with_one_line()
    assert "LANTOA_CONFIG" in result.err
    assert "missing.toml" in result.err
    assert not cli.database.exists()


def test_a_bad_timezone_in_config_toml_fails(cli: Cli) -> None:
    (cli.folder / "config.toml").write_text('timezone = "Asia/Hanoi_City"\n', encoding="utf-8")
    result = cli("init")
    assert result.failed_with_one_line()
    assert "timezone" in result.err


def test_the_database_setting_of_config_toml_yields_to_the_environment(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    (cli.folder / "config.toml").write_text('database = "from_toml.sqlite3"\n', encoding="utf-8")
    cli.ok("init")
    assert cli.database.is_file()
    assert not (cli.folder / "from_toml.sqlite3").exists()

    monkeypatch.delenv("LANTOA_DATABASE")
    assert "from_toml.sqlite3" in cli.ok("init").out
    assert (cli.folder / "from_toml.sqlite3").is_file()


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
