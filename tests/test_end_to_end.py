"""The real `lantoa` program against a local HTTP fake of the Bot API: an admin sets up a cell,
a member joins and reports with a photo, the process is killed mid-report and restarted, and
the member finishes as if nothing happened."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from tests.databases import named_rows
from tests.fakebot import FakeBotServer, FakeTelegram
from tests.harness import BACKEND

TOKEN = "123456:TEST-token"
REPO = Path(__file__).resolve().parent.parent
MAI = 1001
LANTOA = Path(sys.executable).parent / "lantoa"


def bot_environment(tmp_path: Path, api_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANTOA_")}
    env.update(
        LANTOA_BOT_TOKEN=TOKEN,
        LANTOA_DATABASE=str(BACKEND.location(tmp_path / "lantoa.sqlite3")),
        LANTOA_BOT_API_URL=api_url,
        LANTOA_CONFIG=str(REPO / "config.toml"),
        LANTOA_POLL_TIMEOUT="1",
        LANTOA_ALBUM_WAIT_SECONDS="0.2",
    )
    return env


async def _admin(env: dict[str, str], *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        str(LANTOA), *args, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


@asynccontextmanager
async def bot_process(env: dict[str, str], log: Path,
                      *options: str) -> AsyncIterator[asyncio.subprocess.Process]:
    with log.open("ab") as sink:
        process = await asyncio.create_subprocess_exec(str(LANTOA), "run", *options, env=env,
                                                       stdout=sink, stderr=sink)
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def _last_text(fake: FakeTelegram) -> str:
    return (fake.last_message(MAI) or {}).get("text", "")


async def _expect(fake: FakeTelegram, needle: str, timeout: float = 15.0) -> None:
    await fake.wait_for(lambda f: needle in _last_text(f), timeout=timeout)


def _tap(fake: FakeTelegram, label: str) -> None:
    for message in reversed(fake.messages(MAI)):
        for text, data in fake.inline_buttons(message):
            if text.startswith(label):
                fake.press(MAI, message["message_id"], data)
                return
    raise AssertionError(f"no button {label!r}")


async def _step(fake: FakeTelegram, act: Callable[[], object], needle: str) -> None:
    act()
    await _expect(fake, needle)


async def test_join_report_kill_restart_finish(tmp_path: Path) -> None:
    fake = FakeTelegram()
    fake.add_user(MAI, "Mai", "Hoàng Thị")
    async with FakeBotServer(fake, TOKEN) as server:
        env = bot_environment(tmp_path, server.url)
        await _admin(env, "init")
        await _admin(env, "unit", "add", "--name", "Chi bộ Thôn Bản Chặng", "--kind", "chi bộ")
        printed = await _admin(env, "invite", "--unit", "1")
        code = re.search(r"Mã mời: (\S+)", printed).group(1)  # type: ignore[union-attr]
        log = tmp_path / "bot.log"

        async with bot_process(env, log) as first:
            await _step(fake, lambda: fake.send_text(MAI, f"/start {code}"), "Họ và tên")
            await _step(fake, lambda: _tap(fake, "✅ Đúng"), "Đã ghi nhận")
            await _report_with_photo(fake)
            await _step(fake, lambda: fake.send_text(MAI, "/my"), "Việc đồng chí đã báo cáo")
            assert "⏳ chờ ghi nhận" in _last_text(fake)

            await _step(fake, lambda: fake.send_text(MAI, "/report"), "ngày nào")
            await _step(fake, lambda: fake.send_text(MAI, "hom qua"), "lĩnh vực")
            await _step(fake, lambda: fake.send_text(MAI, "moi truong"), "đã làm gì")
            first.send_signal(signal.SIGKILL)
            await first.wait()

        # While the bot is down the member answers; Telegram keeps the update for it.
        fake.send_text(MAI, "Trồng 30 cây keo trên đồi thôn Bản Chặng")
        async with bot_process(env, log) as second:
            await _expect(fake, "kiểm tra lại")
            await _step(fake, lambda: _tap(fake, "➕ Thêm chi tiết"), "bao nhiêu người")
            for answer, needle in (("20", "bao nhiêu hộ"), ("5", "Kinh phí"),
                                   ("1tr5", "1tr5 → 1.500.000 đ"), ("đồi Khau Slưa", "Gửi ảnh")):
                await _step(fake, lambda a=answer: fake.send_text(MAI, a), needle)
            await _step(fake, lambda: _tap(fake, "Bỏ qua"), "giới thiệu trong nhóm")
            await _step(fake, lambda: _tap(fake, "🌐 Có, công khai"), "kiểm tra lại")
            assert "💰 Giá trị: 1.500.000 đ" in _last_text(fake)
            await _step(fake, lambda: _tap(fake, "✅ Gửi ngay"), "Đã nhận báo cáo")
            second.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(second.wait(), timeout=20) == 0, "a clean stop"

    database = BACKEND.location(tmp_path / "lantoa.sqlite3")
    rows = named_rows(database, "SELECT description, value_vnd FROM reports ORDER BY id")
    [photos] = named_rows(database, "SELECT COUNT(*) AS n FROM report_photos")
    assert [r["description"][:8] for r in rows] == ["Đi tuyên", "Trồng 30"]
    assert rows[1]["value_vnd"] == 1_500_000 and photos["n"] == 1
    assert TOKEN not in log.read_text(encoding="utf-8"), "the token never reaches the logs"


async def _report_with_photo(fake: FakeTelegram) -> None:
    await _step(fake, lambda: fake.send_text(MAI, "📝 Báo cáo việc làm theo Bác"), "ngày nào")
    await _step(fake, lambda: _tap(fake, "Hôm nay"), "lĩnh vực")
    await _step(fake, lambda: _tap(fake, "Xây dựng Đảng"), "đã làm gì")
    await _step(fake, lambda: fake.send_text(
        MAI, "Đi tuyên truyền Nghị quyết cho bà con thôn Bản Chặng"), "kiểm tra lại")
    await _step(fake, lambda: _tap(fake, "➕ Thêm chi tiết"), "bao nhiêu người")
    # Each skipped question stays in the chat, marked skipped; the next one comes below it.
    for needle in ("bao nhiêu hộ", "Kinh phí", "ở đâu", "Gửi ảnh"):
        await _step(fake, lambda: _tap(fake, "Bỏ qua"), needle)
    await _step(fake, lambda: fake.send_photo(MAI), "Đã nhận 1 ảnh")
    await _step(fake, lambda: _tap(fake, "Xong"), "giới thiệu trong nhóm")
    await _step(fake, lambda: _tap(fake, "🌐 Có, công khai"), "kiểm tra lại")
    await _step(fake, lambda: _tap(fake, "✅ Gửi ngay"), "Đã nhận báo cáo")
