"""The bot's Bot API client (bot/runtime/bot_api.py) over real HTTP against the fake: what
Telegram receives is what PTB's httpx client sent (texts, keyboards, files with their names,
albums), the bot's own messages come back without what it put in them, and a dead server is
PTB's NetworkError."""

from __future__ import annotations

import json
from typing import Any

import pytest
from telegram import InputFile, InputMediaPhoto
from telegram.error import BadRequest, NetworkError

from bot.runtime.bot_api import AiohttpRequest, LeanBot
from bot.ui.screens import Button
from handlers.screens import inline
from tests.fakebot import FakeBotServer, FakeTelegram

TOKEN = "123456:TEST-token"
USER = 5001
PNG = b"\x89PNG\r\n\x1a\n a tiny picture"


def lean_bot(root: str) -> LeanBot:
    return LeanBot(TOKEN, base_url=f"{root}/bot", base_file_url=f"{root}/file/bot",
                   request=AiohttpRequest(4), get_updates_request=AiohttpRequest())


@pytest.fixture
def fake() -> FakeTelegram:
    fake = FakeTelegram()
    fake.add_user(USER, "Lan", "Nguyễn")
    return fake


async def test_texts_keyboards_files_and_albums_arrive_as_sent(fake: FakeTelegram) -> None:
    keyboard = inline(((Button("✅ Gửi", "f:1:ok"), Button("Mở", "", url="https://t.me/x")),
                       (Button("<b>Bỏ qua</b>", "f:1:skip"),)))
    async with FakeBotServer(fake, TOKEN) as server, lean_bot(server.url) as bot:
        sent = await bot.send_message(USER, "<b>Đồng chí</b> &amp; 30 cây 🌳", parse_mode="HTML",
                                      reply_markup=keyboard)
        document = await bot.send_document(
            USER, InputFile(b"PK\x03\x04 sheet", filename="Báo cáo tháng 11.xlsx"),
            caption="Tệp <i>xuất</i>", parse_mode="HTML")
        album = await bot.send_media_group(USER, [InputMediaPhoto(PNG), InputMediaPhoto(PNG)])
        edited = await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=None)
    [call] = fake.calls_to("sendMessage")
    assert call.params["text"] == "<b>Đồng chí</b> &amp; 30 cây 🌳"
    assert _rows(call.params["reply_markup"]) == [
        [{"text": "✅ Gửi", "callback_data": "f:1:ok"}, {"text": "Mở", "url": "https://t.me/x"}],
        [{"text": "<b>Bỏ qua</b>", "callback_data": "f:1:skip"}]]
    [upload] = fake.calls_to("sendDocument")
    assert list(upload.files.values()) == [b"PK\x03\x04 sheet"]
    assert document.document is not None
    assert document.document.file_name == "Báo cáo tháng 11.xlsx"
    assert document.caption == "Tệp xuất"
    assert len(album) == 2 and all(m.photo for m in album)
    # The bot's own message comes back with its id and chat, not with what it put in it.
    assert sent.chat_id == USER and sent.message_id > 0 and sent.text == "Đồng chí & 30 cây 🌳"
    assert sent.reply_markup is None and sent.entities == () and sent.from_user is None
    assert edited.message_id == sent.message_id


async def test_refusals_and_a_dead_server_are_ptbs_errors(fake: FakeTelegram) -> None:
    async with FakeBotServer(fake, TOKEN) as server, lean_bot(server.url) as bot:
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(999_999, "ai đây?")
        root = server.url
    bot = lean_bot(root)  # the server is gone: connection refused
    with pytest.raises(NetworkError, match="aiohttp"):
        await bot.initialize()
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest().do_request(f"{root}/bot{TOKEN}/getMe", "POST")


def _rows(markup: Any) -> Any:
    return (json.loads(markup) if isinstance(markup, str) else markup)["inline_keyboard"]
