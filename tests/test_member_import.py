"""Importing members from a file: `lantoa member import` and /import create the people on a
list with their roles, and give each a personal invite link that makes whoever opens it that
person. Re-running creates nobody twice; a wrong file imports nothing and says which rows are
wrong, by the file's own line numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import time
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from bot.flows.member_import import BOT_MAX_ROWS
from bot.runtime.cli import main
from storage import audit, people
from storage.clock import from_db
from storage.entities import Role
from tests.databases import named_rows
from tests.harness import BACKEND, CATALOGUE, Harness, Seen, Tree, started

VI = CATALOGUE.texts("vi")
LEADER, COMMUNE_LEADER, MEMBER, NEWCOMER, STRANGER = 7101, 7102, 7103, 7104, 7105
CODES = {"province": "LS", "commune": "XTD", "other_commune": "PHVT", "cell": "CB01",
         "sibling_cell": "CB02", "group": "TD1"}
HEADER = ["Họ và tên", "Mã đơn vị", "Vai trò", "Số điện thoại", "Telegram"]
LINK = re.compile(r"https://t\.me/lantoa_test_bot\?start=([A-Za-z0-9_-]{12})")
UNITS_CSV = """code,name,kind,parent_code
XTD,Đảng bộ xã Tràng Định,đảng bộ xã,
CB01,Chi bộ Thôn Bản Chặng,chi bộ,XTD
CB02,Chi bộ Thôn Nà Pá,chi bộ,XTD
TD1,Tổ đảng số 1,tổ đảng,CB01
"""
LIST = [
    ["Nông Văn Bình", "CB01", "Bí thư chi bộ", "0912 345 678", ""],
    ["Hoàng Thị Mai", "cb01", "", "", "@hoangmai_ls"],
    ["Lò Văn Pá", "Chi bộ Thôn Nà Pá", "dang vien", "+84 98 765 4321", ""],
    ["Lăng Thị Hoa", "TD1", "Tổ trưởng", "", "https://t.me/langhoa"],
    ["Vi Văn Tuấn", "XTD", "theo dõi", "", ""],
]


# --- files as offices make them -----------------------------------------------------------------


def xlsx(rows: Sequence[Sequence[object]], title: str | None = None) -> bytes:
    """A workbook whose first sheet holds `rows` (after a title row and a blank one, if
    given, as office lists often start)."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    if title is not None:
        sheet.append([title])
        sheet.append([])
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: Sequence[Sequence[object]], separator: str = ",") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=separator).writerows(rows)
    return out.getvalue().encode()


TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def windows_1258(text: str) -> bytes:
    """Text as Excel on a Vietnamese Windows saves a CSV: Windows-1258 has â, ơ, đ… but no
    tone marks on them, which follow the letter as characters of their own."""
    out = b""
    for char in text:
        marks = unicodedata.normalize("NFD", char)
        tones = "".join(mark for mark in marks if mark in TONES)
        base = unicodedata.normalize("NFC", "".join(m for m in marks if m not in TONES))
        out += (base + tones).encode("cp1258")
    return out


def read_links(data: bytes) -> list[dict[str, str]]:
    """The links file (XLSX or CSV) as rows keyed by its headers."""
    if data.startswith(b"PK"):
        sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
        values = [["" if v is None else str(v) for v in row]
                  for row in sheet.iter_rows(values_only=True)]
    else:
        values = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    return [dict(zip(values[0], row, strict=True)) for row in values[1:]]


def code_of(row: dict[str, str]) -> str:
    found = LINK.fullmatch(row[VI.plain("member_import.column.link")])
    assert found, row
    return found.group(1)


def status(row: dict[str, str]) -> str:
    return row[VI.plain("member_import.column.status")]


def outcome(**done: int) -> str:
    """What an import says it did, e.g. outcome(new=5): "5 đồng chí mới"."""
    return ", ".join(VI.plain(f"member_import.outcome.{what}", count=n)
                     for what, n in done.items())


def problem(line: int, key: str, **params: object) -> str:
    """A wrong row as the command line says it."""
    return VI.plain("member_import.problem_line", line=line, problem=VI.plain(key, **params))


# --- the command line ---------------------------------------------------------------------------


HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


class Cli:
    def __init__(self, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.folder = folder
        self.database = BACKEND.location(folder / "lantoa.sqlite3")
        self._capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self._capsys.readouterr()
        code = main(list(args))
        out = self._capsys.readouterr()
        return code, out.out, out.err

    def file(self, name: str, data: bytes) -> str:
        path = self.folder / name
        path.write_bytes(data)
        return str(path)

    def imports(self, name: str, data: bytes, *extra: str) -> str:
        code, out, err = self("member", "import", self.file(name, data), *extra)
        assert (code, err) == (0, ""), err
        return out

    def refused(self, name: str, data: bytes) -> str:
        """The import fails (exit code 2, nothing written); what it said."""
        before = self.rows("SELECT COUNT(*) AS n FROM people")[0]["n"]
        code, out, err = self("member", "import", self.file(name, data))
        assert (code, out) == (2, ""), (out, err)
        assert err.startswith("lantoa: ") and "Traceback" not in err, err
        assert self.rows("SELECT COUNT(*) AS n FROM people")[0]["n"] == before
        assert not (self.folder / re.sub(r"\.\w+$", "-lien-ket.xlsx", name)).exists()
        return err

    def run(self, statement: str) -> None:
        named_rows(self.database, statement)

    def rows(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        return named_rows(self.database, sql, params)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)
    runner = Cli(tmp_path, capsys)
    monkeypatch.setenv("LANTOA_DATABASE", str(runner.database))
    monkeypatch.setenv("LANTOA_BOT_USERNAME", "lantoa_test_bot")
    code, _, err = runner("unit", "import", runner.file("units.csv", UNITS_CSV.encode()))
    assert code == 0, err
    return runner


def test_the_command_line_imports_a_list_and_writes_each_persons_link(cli: Cli) -> None:
    out = cli.imports("danh-sach.xlsx", xlsx([HEADER, *LIST], title="DANH SÁCH ĐẢNG VIÊN"))
    assert VI.plain("member_import.cli.done", outcome=outcome(new=5)) in out
    written = cli.folder / "danh-sach-lien-ket.xlsx"
    assert VI.plain("member_import.cli.written", path=written) in out

    links = read_links(written.read_bytes())
    assert [row[VI.plain("member_import.column.name")] for row in links] == [
        row[0] for row in LIST]
    assert [row[VI.plain("member_import.column.role")] for row in links] == [
        "bí thư", "đảng viên", "đảng viên", "tổ trưởng", "người theo dõi"]
    assert [row[VI.plain("member_import.column.code")] for row in links] == [
        "CB01", "CB01", "CB02", "TD1", "XTD"]
    assert {status(row) for row in links} == {VI.plain("member_import.status.new")}
    # The expiry as a day in Hà Nội (UTC+7), the same for all.
    assert {row[VI.plain("member_import.column.expires")] for row in links} == {
        from_db(r["expires_at"]).astimezone(HANOI).strftime("%d/%m/%Y")
        for r in cli.rows("SELECT expires_at FROM invites")}

    stored = cli.rows("""SELECT p.full_name, p.telegram_user_id, p.phone, p.telegram_username,
                                u.code, m.role, m.title, i.code AS invite, i.max_uses,
                                i.expires_at, p.created_at
                         FROM people p JOIN memberships m ON m.person_id = p.id
                         JOIN units u ON u.id = m.unit_id JOIN invites i ON i.person_id = p.id
                         ORDER BY p.id""")
    assert [(r["full_name"], r["code"], r["role"], r["title"]) for r in stored] == [
        ("Nông Văn Bình", "CB01", "leader", "bi_thu"), ("Hoàng Thị Mai", "CB01", "member", None),
        ("Lò Văn Pá", "CB02", "member", None), ("Lăng Thị Hoa", "TD1", "leader", "to_truong"),
        ("Vi Văn Tuấn", "XTD", "observer", None)]
    assert [(r["phone"], r["telegram_username"]) for r in stored] == [
        ("0912345678", None), (None, "hoangmai_ls"), ("+84987654321", None),
        (None, "langhoa"), (None, None)]
    assert {r["telegram_user_id"] for r in stored} == {None}
    assert {r["max_uses"] for r in stored} == {1}
    assert {(from_db(r["expires_at"]) - from_db(r["created_at"])).days
            for r in stored} == {30}  # config's import_invite_days
    assert [r["invite"] for r in stored] == [code_of(row) for row in links]


def test_running_it_again_creates_nobody_and_hands_out_the_same_links(cli: Cli) -> None:
    cli.imports("ds.xlsx", xlsx([HEADER, *LIST]))
    first = read_links((cli.folder / "ds-lien-ket.xlsx").read_bytes())
    # Mai joined through her link; a leader revoked Pá's (a lost phone).
    mai = "(SELECT id FROM people WHERE full_name = 'Hoàng Thị Mai')"
    cli.run(f"UPDATE people SET telegram_user_id = 424242 WHERE id = {mai}")
    cli.run(f"UPDATE invites SET uses = 1 WHERE person_id = {mai}")
    cli.run("UPDATE invites SET revoked = 1 WHERE person_id ="
            " (SELECT id FROM people WHERE full_name = 'Lò Văn Pá')")

    # The list again, with Pá's new number.
    relisted = [*LIST[:2], [*LIST[2][:3], "0987 000 111", ""], *LIST[3:]]
    out = cli.imports("ds.xlsx", xlsx([HEADER, *relisted]), "-o", "lai.csv", "--days", "60")
    assert VI.plain("member_import.cli.done", outcome=outcome(again=4, joined=1)) in out
    again = read_links((cli.folder / "lai.csv").read_bytes())
    assert cli.rows("SELECT COUNT(*) AS n FROM people")[0]["n"] == len(LIST)
    assert cli.rows("SELECT COUNT(*) AS n FROM memberships")[0]["n"] == len(LIST)
    assert [status(row) for row in again] == [
        VI.plain(f"member_import.status.{s}") for s in ("again", "joined", "again", "again",
                                                         "again")]
    mai, pa = again[1], again[2]
    assert mai[VI.plain("member_import.column.link")] == ""
    assert code_of(pa) != code_of(first[2])  # the revoked link is replaced
    kept = [0, 3, 4]
    assert [code_of(again[i]) for i in kept] == [code_of(first[i]) for i in kept]
    assert [(r["phone"], r["telegram_username"]) for r in cli.rows(
        "SELECT phone, telegram_username FROM people ORDER BY id")][1:3] == [
        (None, "hoangmai_ls"), ("0987000111", None)]
    # Every link that works does for the new --days from now on.
    now = dt.datetime.now(dt.UTC)
    assert {round((from_db(r["expires_at"]) - now) / dt.timedelta(days=1)) for r in cli.rows(
        "SELECT expires_at FROM invites WHERE revoked = 0 AND uses = 0")} == {60}


def test_someone_listed_in_two_of_their_units_gets_one_link(cli: Cli) -> None:
    cli.imports("ds.csv", csv_bytes([HEADER[:3], ["Lò Văn Pá", "CB01", ""]]))
    # Since then also a leader of the commune (given in /members, say).
    cli.run("INSERT INTO memberships (person_id, unit_id, role, joined_at) SELECT id,"
            " (SELECT id FROM units WHERE code = 'XTD'), 'leader', created_at FROM people")
    cli.imports("ds.csv", csv_bytes([HEADER[:3], ["Lò Văn Pá", "CB01", ""],
                                     ["Lò Văn Pá", "XTD", "Đảng ủy viên"]]))
    links = read_links((cli.folder / "ds-lien-ket.xlsx").read_bytes())
    assert [status(row) for row in links] == [VI.plain("member_import.status.again")] * 2
    assert code_of(links[0]) == code_of(links[1])
    assert cli.rows("SELECT COUNT(*) AS n FROM invites")[0]["n"] == 1


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_csv_with_a_bom_any_separator_blank_lines_and_plain_headers(
        cli: Cli, separator: str) -> None:
    rows = [["ho ten", "MA DON VI", "vai tro", "sdt"], [], *[r[:4] for r in LIST[:3]], []]
    data = b"\xef\xbb\xbf" + csv_bytes(rows, separator).replace(b"\r\n\r\n", b"\r\n \r\n")
    cli.imports("ds.csv", data)
    assert [(r["full_name"], r["role"]) for r in cli.rows(
        "SELECT full_name, role FROM people JOIN memberships ON person_id = people.id")] == [
        ("Nông Văn Bình", "leader"), ("Hoàng Thị Mai", "member"), ("Lò Văn Pá", "member")]


def test_english_headers_and_roles(cli: Cli) -> None:
    rows = [["Full name", "Unit code", "Role", "Phone"], ["Mai Anh", "CB01", "Secretary", ""],
            ["Lan", "CB01", "member", ""], ["Minh", "XTD", "Observer", ""]]
    cli.imports("list.csv", csv_bytes(rows))
    assert [(r["role"], r["title"]) for r in cli.rows("SELECT role, title FROM memberships")] == [
        ("leader", "bi_thu"), ("member", None), ("observer", None)]


def test_a_windows_1258_csv_is_read_and_said_so(cli: Cli) -> None:
    rows = [["Họ và tên", "Mã đơn vị"], ["Nông Văn Bình", "CB01"], ["Đặng Thị Hường", "CB01"]]
    out = cli.imports("cu.csv", windows_1258(csv_bytes(rows).decode()))
    assert "Windows-1258" in out
    names = [r["full_name"] for r in cli.rows("SELECT full_name FROM people")]
    assert names == ["Nông Văn Bình", "Đặng Thị Hường"]  # NFC, as if typed


def test_html_looking_names_and_emoji_are_stored_as_written(cli: Cli) -> None:
    rows = [HEADER[:2], ["<b>Lò</b> Văn & Pá", "CB01"], ["Mai 🌸", "CB01"]]
    cli.imports("ds.csv", csv_bytes(rows))
    assert [r["full_name"] for r in cli.rows("SELECT full_name FROM people")] == [
        "<b>Lò</b> Văn & Pá", "Mai 🌸"]


def test_a_wrong_file_imports_nothing_and_names_every_wrong_row(cli: Cli) -> None:
    rows = [HEADER,                                       # line 1
            ["Nông Văn Bình", "CB01", "Bí thư", "", ""],  # 2
            ["", "CB01", "", "", ""],                     # 3: no name
            ["Hoàng Thị Mai", "X99", "", "", ""],         # 4: no such unit
            ["Lò Văn Pá", "CB01", "trưởng thôn", "", ""],  # 5: no such role
            ["nông văn  bình", "CB01", "", "", ""],        # 6: Bình again, same unit
            ["Lăng Thị Hoa", "CB01", "", "12", ""],        # 7: not a phone number
            ["Vi Văn Tuấn", "CB01", "", "", "@ab"],        # 8: not a username
            ["Nông Văn Bình", "CB02", "", "", ""]]         # 9: another Bình, another cell
    said = cli.refused("ds.csv", csv_bytes(rows))
    assert said.splitlines()[1:] == [
        problem(3, "member_import.problem.no_name"),
        problem(4, "member_import.problem.unit_unknown", unit="X99"),
        problem(5, "member_import.problem.bad_role", role="trưởng thôn"),
        problem(6, "member_import.problem.duplicate", name="nông văn bình", first=2),
        problem(7, "member_import.problem.bad_phone", phone="12"),
        problem(8, "member_import.problem.bad_username", username="@ab")]
    assert said.splitlines()[0] == "lantoa: " + VI.plain("member_import.cli.problems",
                                                         file="ds.csv", count=6)


@pytest.mark.parametrize(("name", "data"), [
    # Blank lines count, as in any text editor; a quoted name over two lines takes both.
    ("ds.csv", b"Ho ten,Ma don vi\n\nNong Van Binh,CB01\n\n\"Hoang\nThi Mai\",CB01\n,CB01\n"),
    # A workbook's title and the blank row under it count too.
    ("ds.xlsx", xlsx([["Ho ten", "Ma don vi"], ["Nong Van Binh", "CB01"], ["", "CB01"]],
                     title="DANH SACH")),
])
def test_a_wrong_row_is_named_by_the_files_own_line_number(
        cli: Cli, name: str, data: bytes) -> None:
    said = cli.refused(name, data)
    assert said.splitlines()[1:] == [problem(7 if name.endswith(".csv") else 5,
                                             "member_import.problem.no_name")]


@pytest.mark.parametrize(("name", "data", "key"), [
    ("ds.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "table.old_excel"),
    ("ds.csv", b"\xff\xd8\xff\xe0 a photo of the list", "table.not_a_table"),
    ("ds.csv", b"\n\n  \n", "table.empty"),
    # 0x81 is neither UTF-8 here nor any letter of Windows-1258.
    ("ds.csv", b"Ho ten,Ma don vi\nNong Van Binh,CB01\n\x81", "table.encoding"),
    ("ds.xlsx", b"PK\x03\x04 not really a workbook", "table.bad_workbook"),
])
def test_a_file_that_is_no_list_is_said_so(cli: Cli, name: str, data: bytes, key: str) -> None:
    said = cli.refused(name, data)
    assert said.startswith("lantoa: " + VI.plain(key, error="").split("(")[0])


def test_a_list_without_its_columns_is_said_so(cli: Cli) -> None:
    said = cli.refused("ds.csv", csv_bytes([["STT", "Tên", "Ghi chú"], ["1", "Bình", ""]]))
    assert said.strip() == "lantoa: " + VI.plain("member_import.no_header",
                                                 columns="STT, Tên, Ghi chú")


def test_a_links_file_that_cannot_be_written_imports_nothing(cli: Cli) -> None:
    code, _, err = cli("member", "import", cli.file("ds.csv", csv_bytes([HEADER, *LIST])),
                       "-o", str(cli.folder / "no-such-folder" / "links.xlsx"))
    assert code == 2 and "Traceback" not in err
    assert cli.rows("SELECT COUNT(*) AS n FROM people")[0]["n"] == 0
    code, _, err = cli("member", "import", cli.file("ds.csv", csv_bytes([HEADER, *LIST])),
                       "-o", "links.pdf")
    assert (code, err.strip()) == (2, "lantoa: " + VI.plain("member_import.cli.output_kind",
                                                            path="links.pdf"))


def test_twenty_thousand_rows_in_seconds(cli: Cli) -> None:
    rows = [HEADER[:4], *[[f"Nguyễn Văn Số {n}", ("CB01", "CB02")[n % 2],
                           "Chi ủy viên" if n % 50 == 0 else "", f"09{n:08d}"]
                          for n in range(20_000)]]
    started_at = time.perf_counter()
    cli.imports("tinh.csv", csv_bytes(rows))
    first = time.perf_counter() - started_at
    started_at = time.perf_counter()
    cli.imports("tinh.csv", csv_bytes(rows))
    again = time.perf_counter() - started_at
    assert cli.rows("SELECT COUNT(*) AS n FROM invites")[0]["n"] == 20_000
    assert len(read_links((cli.folder / "tinh-lien-ket.xlsx").read_bytes())) == 20_000
    print(f"20,000 rows: {first:.1f} s, again {again:.1f} s")
    assert first < 60 and again < 60  # about 5 s each on a laptop


# --- /import in the bot -------------------------------------------------------------------------


async def coded_tree(bot: Harness) -> Tree:
    """The standard tree, its units with the codes a list names them by."""
    tree = await bot.tree()
    async with bot.db.transaction() as tx:
        for unit, code in CODES.items():
            await tx.run("UPDATE units SET code = ? WHERE id = ?", (code, getattr(tree, unit)))
    return tree


LIST_IN_TREE = [[name, CODES["cell"] if code in ("CB01", "cb01") else
                 {"Chi bộ Thôn Nà Pá": "CB02", "TD1": "TD1", "XTD": "XTD"}[code], *rest]
                for name, code, *rest in LIST]


async def send_file(bot: Harness, user_id: int, data: bytes, filename: str,
                    **details: object) -> Seen:
    return await bot.send(user_id, "document", data=data, filename=filename, **details)


def documents(bot: Harness, chat_id: int) -> list[tuple[str, bytes, str]]:
    """The files the bot sent into the chat: (name, content, caption)."""
    return [(call.result["document"]["file_name"], call.files["document"],
             call.result.get("caption", ""))
            for call in bot.fake.calls_to("sendDocument")
            if call.chat_id == chat_id and not call.error]


async def people_count(bot: Harness) -> int:
    async with bot.db.transaction() as tx:
        row = await tx.one("SELECT COUNT(*) AS n FROM people")
    assert row is not None
    return int(row["n"])


async def leading(bot: Harness, unit: str = "commune") -> Tree:
    tree = await coded_tree(bot)
    await bot.appoint(LEADER, getattr(tree, unit), Role.LEADER, "Hoàng Văn Sơn")
    return tree


async def imported(bot: Harness, user_id: int = LEADER,
                   rows: Sequence[Sequence[object]] = LIST_IN_TREE) -> list[dict[str, str]]:
    """/import, the list, ✅ Nhập: the links file received."""
    await bot.say(user_id, "/import")
    await send_file(bot, user_id, xlsx([HEADER, *rows]), "danh-sach.xlsx")
    done = await bot.tap(user_id, "✅ Nhập")
    assert done.shows("member_import.done") or done.shows("member_import.done_again"), done.text
    name, data, _ = documents(bot, user_id)[-1]
    assert name == "danh-sach-lien-ket.xlsx"
    return read_links(data)


async def test_a_leader_imports_a_list_and_receives_the_links(bot: Harness) -> None:
    await leading(bot)
    intro = await bot.say(LEADER, "/import")
    assert intro.shows("member_import.intro")
    for code in ("XTD", "CB01", "CB02", "TD1"):
        assert VI("member_import.unit_line", code=code, unit="") .split("—")[0] in intro.html
    assert "PHVT" not in intro.text  # the other commune is not theirs

    preview = await send_file(bot, LEADER, xlsx([HEADER, *LIST_IN_TREE]), "danh-sach.xlsx")
    assert preview.shows("member_import.preview_title", file="danh-sach.xlsx", count=5,
                         roles="2 đảng viên, 2 cấp ủy, 1 theo dõi")
    assert "Chi bộ Thôn Bản Chặng: 2" in preview.text
    assert bot.buttons(LEADER) == ["✅ Nhập", "✖ Hủy"]
    assert await people_count(bot) == 1  # the leader: nothing before ✅

    done = await bot.tap(LEADER, "✅ Nhập")
    assert done.shows("member_import.done", file="danh-sach.xlsx", outcome=outcome(new=5))
    [(_, data, caption)] = documents(bot, LEADER)
    assert caption == VI.plain("member_import.file_caption", count=5)
    links = read_links(data)
    assert [row[VI.plain("member_import.column.name")] for row in links] == [r[0] for r in LIST]
    assert len({code_of(row) for row in links}) == 5
    assert await people_count(bot) == 6
    async with bot.db.transaction() as tx:
        entries = await audit.entries(tx, "member_import")
    assert [e["detail"] for e in entries] == ["new:5 again:0 joined:0"]


async def test_whoever_opens_a_personal_link_joins_as_that_person_once(bot: Harness) -> None:
    tree = await leading(bot)
    links = await imported(bot)
    binh = links[0]
    async with bot.db.transaction() as tx:
        row = await tx.one("SELECT id FROM people WHERE full_name = 'Nông Văn Bình'")
    assert row is not None

    bot.person(NEWCOMER, "Binh", "Nong")  # Telegram's name is not the list's
    opened = await bot.say(NEWCOMER, f"/start {code_of(binh)}")
    assert opened.shows("join.welcome", unit="Chi bộ Thôn Bản Chặng (Đảng bộ xã Tràng Định)")
    assert opened.shows("form.join.full_name.confirm_default", value="Nông Văn Bình")
    joined = await bot.tap(NEWCOMER, "✅ Đúng")
    assert joined.shows("join.done_leader", name="Nông Văn Bình",
                        unit="Chi bộ Thôn Bản Chặng (Đảng bộ xã Tràng Định)")
    assert await bot.person_id(NEWCOMER) == row["id"]  # the imported person, nobody new
    assert await people_count(bot) == 6
    async with bot.db.transaction() as tx:
        roles = await people.active_memberships(tx, row["id"])
    assert [(m.unit_id, m.role) for m in roles] == [(tree.cell, Role.LEADER)]
    assert "✅ Ghi nhận báo cáo" in str(bot.fake.last_message(NEWCOMER))  # a leader's menu

    bot.person(STRANGER, "Ai Đó")
    again = await bot.say(STRANGER, f"/start {code_of(binh)}")
    assert again.shows("join.invite_used_up")
    assert await people_count(bot) == 6

    # Importing the list again: Bình has joined, the others get the same links.
    again_links = await imported(bot)
    assert [status(row) for row in again_links] == [
        VI.plain(f"member_import.status.{s}") for s in ("joined", *["again"] * 4)]
    assert [code_of(row) for row in again_links[1:]] == [code_of(row) for row in links[1:]]


async def test_someone_on_lan_toa_already_cannot_take_anothers_link(bot: Harness) -> None:
    tree = await leading(bot)
    links = await imported(bot)
    await bot.join(MEMBER, tree.sibling_cell, "Lý", "Thị Nga")
    opened = await bot.say(MEMBER, f"/start {code_of(links[1])}")
    assert opened.shows("join.personal_for_other", name="Hoàng Thị Mai", own="Lý Thị Nga")
    async with bot.db.transaction() as tx:
        mai = await tx.one("SELECT telegram_user_id FROM people WHERE full_name = ?",
                           ("Hoàng Thị Mai",))
    assert mai is not None and mai["telegram_user_id"] is None


async def test_a_link_of_someone_removed_since_no_longer_works(bot: Harness) -> None:
    await leading(bot)
    links = await imported(bot)
    async with bot.db.transaction() as tx:
        await tx.run("UPDATE memberships SET status = 'removed' WHERE person_id ="
                     " (SELECT id FROM people WHERE full_name = 'Hoàng Thị Mai')")
    bot.person(NEWCOMER, "Mai")
    assert (await bot.say(NEWCOMER, f"/start {code_of(links[1])}")).shows("join.invite_revoked")


async def test_the_preview_waits_through_a_restart_and_two_presses_import_once(
        tmp_path: Path) -> None:
    async with started(tmp_path) as before:
        await leading(before)
        await before.say(LEADER, "/import")
        await send_file(before, LEADER, xlsx([HEADER, *LIST_IN_TREE]), "danh-sach.xlsx")
        message_id, data = before.button(LEADER, "✅ Nhập")
    async with started(tmp_path, before.fake) as after:
        done = await after.press_data(LEADER, message_id, data)
        assert done.shows("member_import.done", file="danh-sach.xlsx", outcome=outcome(new=5))
        again = await after.press_data(LEADER, message_id, data, check_button=False)
        assert again.shows("member_import.done_again", file="danh-sach.xlsx")
        assert await people_count(after) == 6
        first, second = documents(after, LEADER)
        assert [code_of(r) for r in read_links(first[1])] == [
            code_of(r) for r in read_links(second[1])]


async def test_a_newer_file_makes_the_older_preview_void(bot: Harness) -> None:
    await leading(bot)
    await bot.say(LEADER, "/import")
    await send_file(bot, LEADER, xlsx([HEADER, *LIST_IN_TREE[:2]]), "cu.xlsx")
    old_message, old_data = bot.button(LEADER, "✅ Nhập")
    await send_file(bot, LEADER, xlsx([HEADER, *LIST_IN_TREE[2:]]), "moi.xlsx")
    stale = await bot.press_data(LEADER, old_message, old_data)
    assert stale.toast == VI.plain("member_import.gone")
    assert await people_count(bot) == 1
    await bot.tap(LEADER, "✅ Nhập")
    assert await people_count(bot) == 4  # the newer file's three


async def test_a_wrong_file_is_explained_and_nothing_is_imported(bot: Harness) -> None:
    await leading(bot, "cell")
    rows = [["Nông Văn Bình", "CB01", "", "", ""],
            ["", "CB01", "", "", ""],
            ["Lò Văn Pá", "CB02", "", "", ""],  # the sibling cell: not this leader's
            ["<b>Mai</b> 🌸", "X99", "", "", ""],
            ["Nông Văn Bình", "CB01", "", "", ""]]
    await bot.say(LEADER, "/import")
    seen = await send_file(bot, LEADER, csv_bytes([HEADER, *rows]), "ds.csv")
    assert seen.shows("member_import.problems_title", file="ds.csv", count=4)
    for line, key, params in (
            (3, "member_import.problem.no_name", {}),
            (4, "member_import.problem.unit_outside", {"unit": "CB02",
                                                       "name": "Chi bộ Thôn Nà Pá"}),
            (5, "member_import.problem.unit_unknown", {"unit": "X99"}),
            (6, "member_import.problem.duplicate", {"name": "Nông Văn Bình", "first": 2})):
        assert seen.shows("member_import.problem_line", line=line,
                          problem=VI(key, **params)), (line, seen.text)
    assert seen.shows("member_import.problems_fix", good=1)
    assert bot.buttons(LEADER) == ["✖ Hủy"]
    assert await people_count(bot) == 1

    # A name that looks like HTML is shown as written, never as markup.
    html_name = await send_file(bot, LEADER, csv_bytes(
        [HEADER[:2], ["<b>Mai</b> 🌸", "CB01"], ["<b>Mai</b> 🌸", "CB01"]]), "ds.csv")
    assert "&lt;b&gt;Mai&lt;/b&gt; 🌸" in html_name.html
    assert "<b>Mai</b> 🌸" in html_name.text


@pytest.mark.parametrize(("kind", "details"), [
    ("photo", {}), ("sticker", {}), ("voice", {})])
async def test_a_picture_or_sticker_sent_to_import_is_answered(
        bot: Harness, kind: str, details: dict[str, object]) -> None:
    await leading(bot)
    await bot.say(LEADER, "/import")
    seen = await bot.send(LEADER, kind, **details)
    assert seen.shows("member_import.not_a_file")
    # /cancel ends the import: a photo is a photo again.
    assert (await bot.say(LEADER, "/cancel")).shows("member_import.cancelled")
    assert not (await bot.send(LEADER, "photo")).shows("member_import.not_a_file")


@pytest.mark.parametrize(("filename", "data", "key"), [
    ("ds.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "table.old_excel"),
    ("anh.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF", "table.not_a_table"),
    ("ds.csv", b"Ho ten,Ma don vi\n", "member_import.no_rows"),
    ("ds.csv", b"\xef\xbb\xbf\n\n", "table.empty"),
])
async def test_a_file_that_is_no_list_is_answered(bot: Harness, filename: str, data: bytes,
                                                  key: str) -> None:
    await leading(bot)
    await bot.say(LEADER, "/import")
    seen = await send_file(bot, LEADER, data, filename)
    assert seen.shows(key), seen.text
    assert await people_count(bot) == 1


async def test_a_file_too_big_for_a_bot_is_answered(bot: Harness) -> None:
    await leading(bot)
    await bot.say(LEADER, "/import")
    seen = await send_file(bot, LEADER, b"Ho ten,Ma don vi\n", "ds.csv",
                           stated_size=25 * 1024 * 1024)
    assert seen.shows("member_import.too_big", limit=20)
    # Telegram's own refusal, when the message does not tell the size.
    seen = await send_file(bot, LEADER, b"Ho ten,Ma don vi\n", "ds.csv",
                           stated_size=25 * 1024 * 1024, size_untold=True)
    assert seen.shows("member_import.too_big", limit=20)


async def test_more_rows_than_the_bot_takes_is_answered(bot: Harness) -> None:
    await leading(bot)
    rows = [HEADER[:2], *[[f"Đồng chí {n}", "CB01"] for n in range(BOT_MAX_ROWS + 1)]]
    seen = await send_file(bot, LEADER, csv_bytes(rows), "ds.csv")
    assert seen.shows("table.too_many_rows", limit=BOT_MAX_ROWS)
    allowed = await send_file(bot, LEADER, csv_bytes(rows[:-1]), "ds.csv")
    assert allowed.shows("member_import.preview_title", file="ds.csv", count="2.000",
                         roles="2.000 đảng viên")


async def test_a_windows_1258_list_is_previewed_with_a_warning(bot: Harness) -> None:
    await leading(bot)
    rows = [HEADER[:2], ["Đặng Thị Hường", "CB01"]]
    seen = await send_file(bot, LEADER, windows_1258(csv_bytes(rows).decode()), "ds.csv")
    assert seen.shows("member_import.preview_encoding", names="Đặng Thị Hường")


async def test_a_spreadsheet_is_enough_without_import_but_other_files_are_not_ours(
        bot: Harness) -> None:
    tree = await leading(bot)
    pdf = await send_file(bot, LEADER, b"%PDF-1.4", "bao-cao.pdf")
    assert not any(key.startswith(("member_import.", "table.")) for key in pdf.keys)
    seen = await send_file(bot, LEADER, csv_bytes([HEADER, *LIST_IN_TREE]), "ds.csv")
    assert seen.shows("member_import.preview_title")
    pdf = await send_file(bot, LEADER, b"%PDF-1.4", "bao-cao.pdf")  # the preview still waits
    assert not any(key.startswith(("member_import.", "table.")) for key in pdf.keys)
    assert (await bot.tap(LEADER, "✅ Nhập")).shows("member_import.done")
    await bot.join(MEMBER, tree.cell, "Mai")
    members = await send_file(bot, MEMBER, csv_bytes([HEADER, *LIST_IN_TREE]), "ds.csv")
    assert not any(key.startswith(("member_import.", "table.")) for key in members.keys)
    assert members.keys  # answered, as any message is


async def test_members_cannot_import(bot: Harness) -> None:
    tree = await coded_tree(bot)
    await bot.join(MEMBER, tree.cell, "Mai")
    assert (await bot.say(MEMBER, "/import")).shows("member_import.not_allowed")


async def test_a_forged_confirmation_of_anothers_import_does_nothing(bot: Harness) -> None:
    tree = await leading(bot)
    await bot.appoint(COMMUNE_LEADER, tree.commune, Role.LEADER, "Nông Văn Tuấn")
    await bot.say(LEADER, "/import")
    await send_file(bot, LEADER, xlsx([HEADER, *LIST_IN_TREE]), "danh-sach.xlsx")
    _, data = bot.button(LEADER, "✅ Nhập")
    await bot.say(COMMUNE_LEADER, "/help")
    last = bot.fake.last_message(COMMUNE_LEADER)
    assert last is not None
    forged = await bot.press_data(COMMUNE_LEADER, last["message_id"], data, check_button=False)
    assert forged.toast == VI.plain("member_import.gone")
    forged = await bot.press_data(COMMUNE_LEADER, last["message_id"], "mi:go:99999",
                                  check_button=False)
    assert forged.toast == VI.plain("member_import.gone")
    assert await people_count(bot) == 2


async def test_a_leader_finds_how_to_reach_who_has_not_joined(bot: Harness) -> None:
    """The bot cannot write to anyone first: the phone number and username the list gave are
    on the person's card in /members, for the leader."""
    await leading(bot, "cell")
    await imported(bot, rows=LIST_IN_TREE[:2])
    await bot.say(LEADER, "/members")
    card = await bot.tap(LEADER, "3. Nông Văn Bình")
    assert card.shows("members.card_no_telegram")
    assert card.shows("members.card_contact", contact="0912345678")
    card = await bot.tap(LEADER, "📋 Danh sách")
    card = await bot.tap(LEADER, "1. Hoàng Thị Mai")
    assert card.shows("members.card_contact", contact="@hoangmai_ls")
    card = await bot.tap(LEADER, "📋 Danh sách")
    card = await bot.tap(LEADER, "2. Hoàng Văn Sơn")  # the leader, on Telegram
    assert not card.shows("members.card_no_telegram") and not card.shows("members.card_contact")
