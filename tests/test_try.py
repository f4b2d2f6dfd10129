"""`lantoa try`: the bot tried in the terminal, without Telegram, driven by what is typed.

The sessions run the command's own `main` with the lines as stdin, the bot's clock starting on
Wednesday 25/11/2026 10:00 in Hà Nội (so that next Monday's digest is week 48's, and the
Friday after is no holiday); one runs the installed program as a subprocess."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from telegram import Bot, InputFile, InputMediaPhoto
from telegram.error import BadRequest

from bot.runtime.cli import main
from bot.runtime.clock import MovableClock
from bot.tryout import session
from bot.tryout.demo import LAN
from bot.tryout.standin import GREY, MAX_TEXT, StandIn, png
from bot.tryout.terminal import Transcript, styled
from bot.tryout.wire import InProcessRequest
from tests.harness import CATALOGUE, HANOI, as_read

T = CATALOGUE.texts("vi")
WEDNESDAY = dt.datetime(2026, 11, 25, 10, 0, tzinfo=HANOI)
ROOT = Path(__file__).resolve().parent.parent
GROUP = T.plain("try.where_group", title="Chi bộ Thôn Bản Chặng")
PROMPT = re.compile(r"^(?=\S+ › )", re.MULTILINE)


@dataclass
class Said:
    """One message the terminal showed: where it went, and its lines."""

    header: str
    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def said_in(printed: str) -> list[Said]:
    """The bot's messages, in the order shown (a message ends at the next prompt, message or
    line of the session)."""
    found: list[Said] = []
    for line in printed.splitlines():
        if line.startswith("🤖"):
            found.append(Said(line, []))
        elif found and line.startswith("  "):
            found[-1].lines.append(line.strip())
        elif found and found[-1].lines:
            found.append(Said("", []))
    return [said for said in found if said.header]


def flat(text: str) -> str:
    """As `Session.replies` gives it: each line without its indent."""
    return "\n".join(line.strip() for line in text.splitlines())


@dataclass
class Session:
    code: int
    out: str
    database: Path

    def said(self) -> list[Said]:
        return said_in(self.out)

    def to(self, where: str) -> list[Said]:
        return [said for said in self.said() if said.header == T.plain("try.sent", where=where)]

    def replies(self) -> list[str]:
        """What the session printed after each line typed, up to the next prompt, each line
        of it without its indent (the last prompt met the end of the input)."""
        parts = PROMPT.split(self.out)[1:-1]
        return ["\n".join(line.strip() for line in part.splitlines()[1:]) for part in parts]

    def rows(self, sql: str) -> list[sqlite3.Row]:
        with closing(sqlite3.connect(self.database)) as conn:
            conn.row_factory = sqlite3.Row
            return conn.execute(sql).fetchall()


@pytest.fixture
def typed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
          capsys: pytest.CaptureFixture[str]):
    """Runs `lantoa try` on these lines; the session's folder is in tmp_path."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    class FromWednesday(MovableClock):
        def __init__(self) -> None:
            super().__init__()
            self.move_to(WEDNESDAY)

    monkeypatch.setattr(session, "MovableClock", FromWednesday)
    database = tmp_path / "thu.sqlite3"

    def run(*lines: str) -> Session:
        monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
        capsys.readouterr()
        code = main(["try", "--database", str(database)])
        return Session(code, capsys.readouterr().out, database)

    return run


def test_the_session_opens_with_its_people_and_how_to_use_it(typed) -> None:
    run = typed()
    assert run.code == 0
    assert run.out.startswith(T.plain("try.welcome", unit="Chi bộ Thôn Bản Chặng", leader="Sơn",
                                      members="Lan, Mai, Bình", database=run.database,
                                      folder="\x00").split("\x00")[0])
    assert T.plain("try.help", member="Lan", leader="Sơn", other="Mai", digest_day="Thứ Hai",
                   digest="07:30", reminder_day="Thứ Sáu", reminder="16:00") in run.out
    assert T.plain("try.now_as", name="Nguyễn Thị Lan", role="đảng viên",
                   unit="Chi bộ Thôn Bản Chặng") in run.out
    folder = next(run.database.parent.glob("lantoa-thu-*"))
    assert run.out.rstrip().endswith(T.plain("try.bye", folder=folder, database=run.database))


REPORT = "hôm qua tôi giúp 2 hộ nghèo sửa lại mái nhà bị dột"


def test_a_member_reports_in_one_message_and_the_leader_acknowledges_it(typed) -> None:
    run = typed("/start", REPORT, "#1", "#1", ":leader", "/review", "#1", "#1")
    start, card, sent, again, leader, queue, first, second = run.replies()
    assert "[m1] 📝 Báo cáo việc làm theo Bác" in start, "the main menu is shown"
    assert card.startswith(T.plain("try.sent", where="Lan"))
    assert "🏠 Số hộ được giúp: 2" in card and "[1] ✅ Gửi  [2] ✏ Sửa" in card
    assert as_read(T("report.received")) in sent
    assert again == T.plain("try.button_gone", number=1), "the card's buttons are gone"

    assert leader.startswith(T.plain("try.now_as", name="Hoàng Văn Sơn", role="bí thư",
                                     unit="Chi bộ Thôn Bản Chặng"))
    # Sơn's queue: the report Mai sent earlier this week, then Lan's.
    assert "Hoàng Thị Mai" in queue and "[1] ✅ Ghi nhận" in queue
    notice = as_read(T("review.notice_acknowledged", unit="Chi bộ Thôn Bản Chặng",
                       date="\x00")).split("\x00")[0]
    assert T.plain("try.toast", text=T.plain("review.acknowledged_toast",
                                              name="Hoàng Thị Mai")) in first
    assert f"{T.plain('try.sent', where='Mai (tin riêng)')}\n{notice}" in first
    assert "Nguyễn Thị Lan" in first, "the next report in the queue: Lan's"
    assert f"{T.plain('try.sent', where='Lan (tin riêng)')}\n{notice}" in second
    states = run.rows("SELECT p.full_name, r.state FROM reports r JOIN people p"
                      " ON p.id = r.person_id ORDER BY r.id")
    assert [tuple(row) for row in states][:2] == [("Hoàng Thị Mai", "acknowledged"),
                                                   ("Lý Văn Bình", "acknowledged")]
    assert tuple(states[-1]) == ("Nguyễn Thị Lan", "acknowledged")


def test_monday_brings_the_digest_to_the_group_with_its_chart(typed) -> None:
    run = typed(":monday")
    assert T.plain("try.clock", weekday="Thứ Hai", date="30/11/2026", time="07:30") in run.out
    [digest] = run.to(GROUP)  # one message: the chart, the words under it
    saved = Path(digest.lines[-1].removeprefix(T.plain("try.photo_saved", path="").strip())
                 .strip())
    assert saved.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert digest.lines[0] == as_read(T("digest.title_week", week=48, dates="23/11–29/11/2026",
                                        unit="Chi bộ Thôn Bản Chặng"))
    assert digest.lines[1].startswith("• 2 việc làm theo Bác của 2/4 đồng chí")
    # The secretary gets it too, with who has not reported, and a button to the queue.
    private = run.to("Sơn (tin riêng)")[-1].text
    assert "Nguyễn Thị Lan" in private and "[✅ Ghi nhận báo cáo]" in private
    assert not run.to("Lan") and not run.to("Mai (tin riêng)"), "members read it in the group"


def test_friday_brings_the_reminder_to_the_group_and_each_member(typed) -> None:
    run = typed(":monday", ":friday", ":as Mai", "#1")
    _, friday, mai, pressed = run.replies()
    assert friday.startswith(T.plain("try.clock", weekday="Thứ Sáu", date="04/12/2026",
                                     time="16:00"))
    assert as_read(T("reminder.ask")) in run.to(GROUP)[-1].text
    nudged = [said.header for said in said_in(run.out.split(" › :as Mai")[0])
              if said.text.startswith("🌸")]
    assert sorted(nudged) == sorted(T.plain("try.sent", where=where) for where in (
        "Lan", "Sơn (tin riêng)", "Mai (tin riêng)", "Bình (tin riêng)"))
    # Mai, now at the terminal, sees her nudge again with its buttons numbered, and opens the
    # report form from it.
    assert T.plain("try.recap") in mai and "[1] 📝 Báo cáo ngay  [2] 🔕 Không nhắc nữa" in mai
    assert pressed.startswith(T.plain("try.sent", where="Mai"))


def test_bad_input_gets_a_clear_line_and_the_session_goes_on(typed) -> None:
    long = "việc tốt " * 600
    run = typed("", ":dance", "#1", "#m1", "/start", "#m9", "#m2", "#9", "👍", long, ":as Tuấn",
                "#0", "5", ":help")
    (empty, unknown, no_buttons, no_menu, _, no_menu_button, mine, no_button, emoji, too_long,
     nobody, zero, five, help_again) = run.replies()
    assert empty == T.plain("try.empty")
    assert unknown == T.plain("try.unknown_command", command=":dance")
    assert no_buttons == T.plain("try.no_buttons")
    assert no_menu == T.plain("try.no_menu")
    assert no_menu_button == T.plain("try.no_menu_button", number=9, last=6)
    assert "[1] 1. " in mine, "the menu's 📋 shows the member's reports, to open one"
    assert no_button == T.plain("try.no_button", number=9, last=3)
    assert as_read(T("fallback.text")) in emoji, "the bot itself answers what it cannot read"
    assert too_long == T.plain("try.too_long", length=len(long.strip()), most=MAX_TEXT)
    assert nobody == T.plain("try.who", names="Lan, Sơn, Mai, Bình")
    assert zero == T.plain("try.no_button", number=0, last=3)
    assert as_read(T("fallback.text")) in five, "a number alone is a message, not a press"
    assert help_again == flat(T.plain("try.help", member="Lan", leader="Sơn", other="Mai",
                                 digest_day="Thứ Hai", digest="07:30", reminder_day="Thứ Sáu",
                                 reminder="16:00"))
    assert run.code == 0


def test_a_photo_with_its_caption_is_one_report(typed) -> None:
    run = typed(":photo Dọn rác ở bờ suối cùng đoàn thanh niên thôn", "#1")
    card, sent = run.replies()
    assert "📷 Ảnh: 1 ảnh" in card and "[1] ✅ Gửi" in card
    assert as_read(T("report.received")) in sent
    [row] = run.rows("SELECT COUNT(*) AS n FROM report_photos ph JOIN reports r"
                     " ON r.id = ph.report_id WHERE r.description LIKE 'Dọn rác%'")
    assert row["n"] == 1


def test_a_database_kept_from_a_session_is_used_again_without_doubling(typed) -> None:
    typed(":quit")
    again = typed("/my")
    assert again.code == 0
    [people] = again.rows("SELECT COUNT(*) AS n FROM people")
    [reports] = again.rows("SELECT COUNT(*) AS n FROM reports")
    assert (people["n"], reports["n"]) == (4, 13)


def test_the_real_bots_database_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    real = tmp_path / "lantoa.sqlite3"
    monkeypatch.setenv("LANTOA_DATABASE", str(real))
    assert main(["try", "--database", str(real)]) == 2
    assert capsys.readouterr().err.strip() == f"lantoa: {T.plain('try.real_database', path=real)}"
    assert not real.exists()


def test_the_installed_command_ends_at_the_end_of_its_input(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "bot", "try"], input="/start\n:monday\n",
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert T.plain("try.sent", where=GROUP) in done.stdout
    assert done.stdout.rstrip().endswith(")."), "the goodbye line, after Ctrl+D"


async def test_the_stand_in_answers_what_the_bot_may_send(tmp_path: Path) -> None:
    """Files, albums, caption edits, deletions and downloads, through PTB as the bot calls
    them, then shown as the terminal shows them; and what Telegram refuses, refused."""
    standin = StandIn(MovableClock())
    standin.add_person(LAN.user_id, LAN.first_name, LAN.last_name)
    word = b"PK\x03\x04 a Word file"
    async with Bot(session.TOKEN, request=InProcessRequest(standin),
                   get_updates_request=InProcessRequest(standin)) as bot:
        document = await bot.send_document(LAN.user_id, InputFile(word, filename="bao-cao.docx"),
                                           caption="<b>Báo cáo</b> tháng 11", parse_mode="HTML")
        album = await bot.send_media_group(LAN.user_id, [
            InputMediaPhoto("demo-photo"), InputMediaPhoto(png(4, 3, (0, 0, 0)))])
        await bot.edit_message_caption(LAN.user_id, album[1].message_id, caption="Ảnh 2")
        await bot.delete_message(LAN.user_id, album[0].message_id)
        downloaded = await (await bot.get_file("demo-photo")).download_as_bytearray()
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(LAN.user_id, "<b>chưa đóng", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(12345, "ai đây?")
        with pytest.raises(BadRequest, match=r"(?i)not modified"):
            await bot.edit_message_caption(LAN.user_id, album[1].message_id, caption="Ảnh 2")
    assert document.document is not None and document.caption == "Báo cáo tháng 11"
    assert bytes(downloaded) == GREY, "a photo of an earlier session: a grey picture"

    out = io.StringIO()
    Transcript(out, T, standin, tmp_path, ansi=False).show_new(LAN.user_id)
    shown = out.getvalue().splitlines()
    saved = [Path(line.split(": ", 1)[1]) for line in shown if ": /" in line]
    assert [path.read_bytes()[:4] for path in saved] == [b"PK\x03\x04", b"\x89PNG"]
    assert saved[0].name.endswith("bao-cao.docx")
    assert T.plain("try.photo") in shown, "a photo sent by its id is not saved again"
    assert T.plain("try.edited", where="Lan") in shown and "  Ảnh 2" in shown
    assert shown[-1] == T.plain("try.deleted", where="Lan")


@pytest.mark.parametrize(("text", "entities", "shown"), [
    ("Chào Lan", [{"type": "bold", "offset": 5, "length": 3}], "Chào \x1b[1mLan\x1b[22m"),
    # Offsets count an emoji beyond the BMP as two, as Telegram does.
    ("📊 Tuần 48", [{"type": "bold", "offset": 3, "length": 7}], "📊 \x1b[1mTuần 48\x1b[22m"),
    ("a b", [{"type": "bold", "offset": 0, "length": 3},
             {"type": "italic", "offset": 2, "length": 1}],
     "\x1b[1ma \x1b[3mb\x1b[23m\x1b[22m"),
    ("link", [{"type": "text_link", "offset": 0, "length": 4, "url": "https://x"}], "link"),
])
def test_bold_and_italic_are_shown_in_a_terminal(text: str, entities: list[dict],
                                                 shown: str) -> None:
    assert styled(text, entities, ansi=True) == shown
    assert styled(text, entities, ansi=False) == text
