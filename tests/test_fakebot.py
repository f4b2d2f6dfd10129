"""Proves the offline Telegram fake against the real python-telegram-bot machinery.

Every scenario runs over both transports: in-process (``FakeRequest``) and real HTTP
(``FakeBotServer`` + PTB's default httpx client), so the bot's own tests can pick either.
"""

from __future__ import annotations

import asyncio
import html
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakebot import FakeBotServer, FakeRequest, FakeTelegram

TOKEN = "123456:TEST-token"
USER = 424242
OTHER_USER = 515151
# Long enough to prove we never sit out a poll, short enough to keep the file fast.
POLL_TIMEOUT = 1

AnyApp = Application[Any, Any, Any, Any, Any, Any]
AnyBuilder = ApplicationBuilder[Any, Any, Any, Any, Any, Any]


@dataclass
class Transport:
    name: str
    fake: FakeTelegram
    root: str | None = None

    def builder(self, token: str = TOKEN) -> AnyBuilder:
        builder = ApplicationBuilder().token(token).job_queue(None)
        if self.root is None:
            return builder.request(FakeRequest(self.fake, token=TOKEN)).get_updates_request(
                FakeRequest(self.fake, token=TOKEN)
            )
        return builder.base_url(self.root + "/bot").base_file_url(self.root + "/file/bot")

    def bot(self, token: str = TOKEN) -> Bot:
        if self.root is None:
            return Bot(
                token,
                request=FakeRequest(self.fake, token=TOKEN),
                get_updates_request=FakeRequest(self.fake, token=TOKEN),
            )
        return Bot(token, base_url=self.root + "/bot", base_file_url=self.root + "/file/bot")


@pytest.fixture
def fake() -> FakeTelegram:
    fake = FakeTelegram()
    fake.add_user(USER, "Lan", "Nguyễn", username="lan_nguyen")
    fake.add_user(OTHER_USER, "Minh")
    return fake


@pytest.fixture(params=["inprocess", "http"])
async def transport(request: pytest.FixtureRequest, fake: FakeTelegram) -> AsyncIterator[Transport]:
    if request.param == "inprocess":
        yield Transport("inprocess", fake)
        return
    server = FakeBotServer(fake, TOKEN)
    root = await server.start()
    try:
        yield Transport("http", fake, root)
    finally:
        await server.stop()


@asynccontextmanager
async def running(app: AnyApp) -> AsyncIterator[AnyApp]:
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=POLL_TIMEOUT, poll_interval=0)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


def _text(fake: FakeTelegram, chat_id: int = USER) -> str | None:
    last = fake.last_message(chat_id)
    return None if last is None else last.get("text")


# ---------------------------------------------------------------------------- Application


async def test_start_inline_keyboard_and_press(transport: Transport) -> None:
    fake = transport.fake

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Tiếp tục", callback_data="next")]])
        await update.effective_message.reply_text(
            "Xin chào <b>bạn</b>!", parse_mode=ParseMode.HTML, reply_markup=keyboard
        )

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Đã nhận")
        await query.edit_message_text(f"Bạn đã chọn: {query.data}")

    app = transport.builder().build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(on_button))

    async with running(app):
        fake.send_text(USER, "/start")
        await fake.wait_for(lambda f: f.last_message(USER) is not None)
        message = fake.last_message(USER)
        assert message is not None
        # Telegram renders HTML: plain text plus entities (offsets in UTF-16 units).
        assert message["text"] == "Xin chào bạn!"
        assert message["entities"] == [{"type": "bold", "offset": 9, "length": 3}]
        assert fake.inline_buttons(message) == [("Tiếp tục", "next")]

        call = fake.calls_to("sendMessage")[0]
        assert call.params["chat_id"] == USER
        assert call.params["parse_mode"] == "HTML"
        assert call.params["reply_markup"] == {
            "inline_keyboard": [[{"text": "Tiếp tục", "callback_data": "next"}]]
        }

        fake.press(USER, message["message_id"], "next")
        await fake.wait_for(lambda f: _text(f) == "Bạn đã chọn: next")

    assert [c["text"] for c in fake.answered_callbacks] == ["Đã nhận"]
    edited = fake.messages(USER)
    assert len(edited) == 1
    assert edited[0]["message_id"] == message["message_id"]
    assert "reply_markup" not in edited[0]  # editMessageText without markup drops it
    assert "edit_date" in edited[0]
    with pytest.raises(LookupError):
        fake.press(USER, message["message_id"], "gone")  # no such button any more


async def test_photo_album_in_and_out(transport: Transport) -> None:
    fake = transport.fake
    results: list[int] = []

    async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and context.chat_data is not None
        album: list[str] = context.chat_data.setdefault("album", [])
        album.append(update.message.photo[-1].file_id)
        if len(album) < 3:
            return
        sent = await update.message.reply_media_group(
            [
                InputMediaPhoto(album[0], caption="Ảnh <i>của bạn</i>", parse_mode="HTML"),
                InputMediaPhoto(b"\xff\xd8\xff\xe0 first upload \xff\xd9"),
                InputMediaPhoto(b"\xff\xd8\xff\xe0 second upload \xff\xd9", filename="b.jpg"),
            ]
        )
        results.append(len(sent))

    app = transport.builder().build()
    app.add_handler(MessageHandler(filters.PHOTO, on_photo))
    async with running(app):
        for i in range(3):
            fake.send_photo(USER, media_group_id="album-1", caption="Ảnh 1" if i == 0 else None)
        await fake.wait_for(lambda f: len(f.messages(USER)) == 3)

    assert results == [3]
    incoming = fake.messages(USER, include_incoming=True)[:3]
    assert {m["media_group_id"] for m in incoming} == {"album-1"}
    assert len({m["photo"][-1]["file_unique_id"] for m in incoming}) == 3

    album = fake.messages(USER)
    assert len({m["media_group_id"] for m in album}) == 1
    assert album[0]["caption"] == "Ảnh của bạn"
    assert album[0]["caption_entities"] == [{"type": "italic", "offset": 4, "length": 7}]
    assert album[0]["photo"][-1]["file_id"] == incoming[0]["photo"][-1]["file_id"]
    call = fake.calls_to("sendMediaGroup")[0]
    assert len(call.files) == 2
    assert [m["media"].startswith("attach://") for m in call.params["media"]] == [
        False,
        True,
        True,
    ]
    uploaded = fake.file_bytes(album[2]["photo"][-1]["file_id"])
    assert uploaded == b"\xff\xd8\xff\xe0 second upload \xff\xd9"


async def test_redeliver_same_update_id(transport: Transport) -> None:
    fake = transport.fake
    seen: list[int] = []

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        seen.append(update.update_id)
        await update.message.reply_text(f"echo {update.message.text}")

    app = transport.builder().build()
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with running(app):
        first = fake.send_text(USER, "một")
        await fake.wait_for(lambda f: len(f.messages(USER)) == 1)
        second = fake.send_text(USER, "hai")
        await fake.wait_for(lambda f: len(f.messages(USER)) == 2)

        fake.redeliver(first)  # older than the current offset, still delivered once
        await fake.wait_update_consumed(first)
        await fake.wait_for(lambda f: len(f.messages(USER)) == 3)

        third = fake.send_text(USER, "ba")
        await fake.wait_for(lambda f: len(f.messages(USER)) == 4)

    assert seen == [first, second, first, third]
    assert [m["text"] for m in fake.messages(USER)] == [
        "echo một",
        "echo hai",
        "echo một",
        "echo ba",
    ]
    assert fake.pending_update_ids == []


async def test_shutdown_while_long_polling_is_quick(transport: Transport) -> None:
    fake = transport.fake
    app = transport.builder().build()
    await app.initialize()
    await app.start()
    assert app.updater is not None
    # A poll far longer than the time budget below: stop must not wait for it.
    await app.updater.start_polling(timeout=30, poll_interval=0)
    await fake.wait_for(lambda f: f.polling)

    loop = asyncio.get_running_loop()
    started = loop.time()
    await app.updater.stop()
    await app.stop()
    await app.shutdown()
    assert loop.time() - started < 1.0

    # PTB's cleanup call confirms fetched updates with timeout=0; no poll is left parked.
    assert fake.get_updates_calls[-1].params["timeout"] == 0
    await fake.wait_for(lambda f: not f.polling, timeout=1.0)


async def test_drop_pending_updates_on_start(transport: Transport) -> None:
    fake = transport.fake
    stale = fake.send_text(USER, "cũ")
    seen: list[str] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        seen.append(update.message.text)
        await update.message.reply_text("ok")

    app = transport.builder().build()
    app.add_handler(MessageHandler(filters.TEXT, record))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=POLL_TIMEOUT, drop_pending_updates=True)
        try:
            fresh = fake.send_text(USER, "mới")
            await fake.wait_for(lambda f: len(f.messages(USER)) == 1)
        finally:
            await app.updater.stop()
            await app.stop()
    assert seen == ["mới"]
    assert fresh == stale + 1
    assert fake.calls_to("deleteWebhook")[0].params["drop_pending_updates"] is True


# ---------------------------------------------------------------------------- plain Bot


async def test_html_escaping_violation_is_bad_request(transport: Transport) -> None:
    fake = transport.fake
    async with transport.bot() as bot:
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(USER, "Tổng: 5 < 7", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(USER, "Tom & Jerry", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match=r"(?i)unmatched end tag"):
            await bot.send_message(USER, "<b>đậm <i>nghiêng</b></i>", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match=r"(?i)unsupported start tag"):
            await bot.send_message(USER, "dòng 1<br>dòng 2", parse_mode=ParseMode.HTML)

        raw = "Tom & Jerry <3 \"quotes\" 'apostrophes' 🙂"
        sent = await bot.send_message(USER, f"<b>{html.escape(raw)}</b>", parse_mode="HTML")
        assert sent.text == raw
        assert sent.text_html == f"<b>{html.escape(raw)}</b>"
        # Without parse_mode nothing is interpreted.
        literal = await bot.send_message(USER, "5 < 7 & <b>")
        assert literal.text == "5 < 7 & <b>"

    assert [m["text"] for m in fake.messages(USER)] == [raw, "5 < 7 & <b>"]
    assert [c.error is not None for c in fake.calls_to("sendMessage")] == [
        True,
        True,
        True,
        True,
        False,
        False,
    ]


async def test_get_file_and_download(transport: Transport) -> None:
    fake = transport.fake
    fake.send_photo(USER)
    file_id = fake.messages(USER, include_incoming=True)[-1]["photo"][-1]["file_id"]
    async with transport.bot() as bot:
        tg_file = await bot.get_file(file_id)
        assert tg_file.file_path is not None and tg_file.file_path.endswith(".jpg")
        buffer = io.BytesIO()
        await tg_file.download_to_memory(buffer)
        assert buffer.getvalue() == fake.file_bytes(file_id)
        assert buffer.getvalue().startswith(b"\xff\xd8")

        # The bot can resend a received photo by file_id, or upload new bytes.
        resent = await bot.send_photo(USER, file_id, caption="lại")
        assert resent.photo[-1].file_id == file_id
        uploaded = await bot.send_photo(USER, b"\xff\xd8\xff\xe0 my photo \xff\xd9")
        new_file = await bot.get_file(uploaded.photo[-1].file_id)
        assert (
            bytes(await new_file.download_as_bytearray()) == b"\xff\xd8\xff\xe0 my photo \xff\xd9"
        )

        with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
            await bot.get_file("no-such-file")
        with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
            await bot.send_photo(USER, "no-such-file")
    assert len(fake.downloads) == 2


# RetryAfter's own __init__ reads its deprecated int-valued retry_after; not our doing.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_fault_injection(transport: Transport) -> None:
    fake = transport.fake
    async with transport.bot() as bot:
        fake.fail_next(
            "sendMessage",
            status=429,
            description="Too Many Requests: retry after 3",
            retry_after=3,
        )
        with pytest.raises(RetryAfter) as flood:
            await bot.send_message(USER, "xin chào")
        assert "Retry in 3" in str(flood.value)

        fake.fail_next(
            "sendMessage",
            status=400,
            description="Bad Request: group chat was upgraded to a supergroup chat",
            migrate_to_chat_id=-1001234567890,
        )
        with pytest.raises(ChatMigrated) as migrated:
            await bot.send_message(USER, "xin chào")
        assert migrated.value.new_chat_id == -1001234567890

        fake.fail_next(
            "sendMessage", status=403, description="Forbidden: bot was blocked by the user", times=2
        )
        for _ in range(2):
            with pytest.raises(Forbidden, match="blocked"):
                await bot.send_message(USER, "xin chào")
        await bot.send_message(USER, "xin chào")

        # Blocking is also modelled as state, not only as a one-off fault.
        fake.block(OTHER_USER)
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(OTHER_USER, "hello")

    errors = [c.error for c in fake.calls_to("sendMessage")]
    assert [e is None for e in errors] == [False, False, False, False, True, False]
    assert len(fake.messages(USER)) == 1  # failed calls changed nothing


async def test_calls_record_the_catalogue_keys_of_their_texts(transport: Transport) -> None:
    fake = transport.fake
    catalogue = {"greet": "Xin chào", "thanks": "Cảm ơn", "photo.nice": "Ảnh đẹp"}
    asked: list[str] = []

    def key_source(text: str) -> frozenset[str]:
        asked.append(text)
        return frozenset(key for key, shown in catalogue.items() if shown in text)

    async with transport.bot() as bot:
        await bot.send_message(USER, "không có khóa")  # before key_source is set
        fake.key_source = key_source
        kb = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
        sent = await bot.send_message(
            USER, "<b>Xin chào</b> bạn! Cảm ơn.", parse_mode=ParseMode.HTML, reply_markup=kb
        )
        query_id = fake.update(fake.press(USER, sent.message_id, "a"))["callback_query"]["id"]
        await bot.answer_callback_query(query_id, text="Cảm ơn bạn")
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await bot.answer_callback_query(query_id, text="Xin chào lần nữa")
        await bot.send_media_group(
            USER,
            [InputMediaPhoto(b"\xff\xd8 1 \xff\xd9", caption="Ảnh đẹp"),
             InputMediaPhoto(b"\xff\xd8 2 \xff\xd9", caption="Cảm ơn")],
        )
        await bot.send_chat_action(USER, "typing")

    no_source, message = fake.calls_to("sendMessage")
    assert no_source.keys == frozenset()
    assert message.keys == {"greet", "thanks"}  # the text as sent, markup included
    answered, too_old = fake.calls_to("answerCallbackQuery")
    assert answered.keys == {"thanks"} and answered.error is None
    assert too_old.keys == {"greet"} and too_old.error is not None  # failed calls too
    assert fake.calls_to("sendMediaGroup")[0].keys == {"photo.nice", "thanks"}
    assert fake.calls_to("sendChatAction")[0].keys == frozenset()
    assert "không có khóa" not in asked  # asked once per text, only while set
    assert len(asked) == len(set(asked)) == 5


async def test_api_semantics(transport: Transport) -> None:
    fake = transport.fake
    async with transport.bot() as bot:
        assert bot.username == "lantoa_test_bot"

        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(999, "ai đó")
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(USER, "a" * 4097)
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(USER, "   ")
        with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
            await bot.send_message(
                USER,
                "x",
                reply_markup=InlineKeyboardMarkup(
                    [[InlineKeyboardButton("quá dài", callback_data="x" * 65)]]
                ),
            )

        kb = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
        sent = await bot.send_message(USER, "câu hỏi", reply_markup=kb)
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text("câu hỏi", USER, sent.message_id, reply_markup=kb)
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("mới", USER, sent.message_id + 100)
        with pytest.raises(BadRequest, match=r"(?i)there is no caption"):
            await bot.edit_message_caption(USER, sent.message_id, caption="chú thích")
        edited = await bot.edit_message_reply_markup(USER, sent.message_id)
        assert isinstance(edited, type(sent)) and edited.reply_markup is None

        assert await bot.delete_message(USER, sent.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
            await bot.delete_message(USER, sent.message_id)

        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await bot.answer_callback_query("123")

        await bot.send_message(
            USER,
            "Chọn:",
            reply_markup=ReplyKeyboardMarkup([[KeyboardButton("Có"), "Không"], ["Thôi"]]),
        )
        assert fake.reply_keyboard(USER) == [["Có", "Không"], ["Thôi"]]
        await bot.send_message(USER, "Xong", reply_markup=ReplyKeyboardRemove())
        assert fake.reply_keyboard(USER) is None

        reply = await bot.send_message(
            USER,
            "trả lời",
            reply_parameters=ReplyParameters(9999, allow_sending_without_reply=True),
        )
        assert reply.reply_to_message is None
        fake.send_text(USER, "câu gốc")
        origin = fake.messages(USER, include_incoming=True)[-1]["message_id"]
        reply = await bot.send_message(USER, "trả lời", reply_to_message_id=origin)
        assert reply.reply_to_message is not None
        assert reply.reply_to_message.text == "câu gốc"

        await bot.set_my_commands([("start", "Bắt đầu"), ("help", "Trợ giúp")])
        assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
        await bot.delete_my_commands()
        assert await bot.get_my_commands() == ()
        assert await bot.send_chat_action(USER, "typing")

        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("noSuchMethod")


async def test_wrong_token_is_rejected(transport: Transport) -> None:
    with pytest.raises(InvalidToken):
        async with transport.bot("654321:OTHER-token"):
            pass


async def test_second_poll_terminates_first_with_conflict(transport: Transport) -> None:
    # Two bot instances, as when a second copy of the bot is started by mistake.
    async with transport.bot() as bot, transport.bot() as second:
        first = asyncio.create_task(bot.get_updates(timeout=5))
        await transport.fake.wait_for(lambda f: f.polling)
        assert await second.get_updates(timeout=0) == ()
        with pytest.raises(Conflict):
            await asyncio.wait_for(first, 1.0)


async def test_wait_for_timeout_reports_calls(fake: FakeTelegram) -> None:
    async with Bot(TOKEN, request=FakeRequest(fake), get_updates_request=FakeRequest(fake)) as bot:
        await bot.send_message(USER, "một tin")
    with pytest.raises(AssertionError, match="sendMessage"):
        await fake.wait_for(lambda f: False, timeout=0.05)


async def test_same_params_over_both_transports() -> None:
    """What the fake records must not depend on the transport."""
    recorded: list[tuple[dict[str, Any], dict[str, bytes]]] = []
    for use_http in (False, True):
        fake = FakeTelegram()
        fake.add_user(USER, "Lan")
        server = FakeBotServer(fake, TOKEN) if use_http else None
        root = await server.start() if server else None
        try:
            bot = Transport("x", fake, root).bot()
            async with bot:
                await bot.send_photo(
                    USER,
                    b"\xff\xd8 bytes \xff\xd9",
                    caption="<b>123</b>",
                    parse_mode="HTML",
                    reply_markup=InlineKeyboardMarkup(
                        [[InlineKeyboardButton("1", callback_data="1")]]
                    ),
                    protect_content=True,
                )
        finally:
            if server:
                await server.stop()
        call = fake.calls_to("sendPhoto")[0]
        recorded.append((call.params, call.files))
    assert recorded[0] == recorded[1]
    params, files = recorded[0]
    assert params["caption"] == "<b>123</b>" and params["chat_id"] == USER
    assert params["protect_content"] is True
    assert files == {"photo": b"\xff\xd8 bytes \xff\xd9"}


async def test_user_content_types_parse_in_ptb(transport: Transport) -> None:
    fake = transport.fake
    fake.add_group(-1001500, "Nhóm Lan Tỏa")
    kinds: list[tuple[int, str]] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and update.effective_chat is not None
        kind = next(
            k
            for k in ("location", "sticker", "voice", "contact", "photo", "text")
            if getattr(message, k)
        )
        kinds.append((update.effective_chat.id, kind))
        await message.reply_text(f"nhận {kind}")

    app = transport.builder().build()
    app.add_handler(MessageHandler(filters.ALL, record))
    async with running(app):
        fake.send_location(USER, 21.0278, 105.8342)
        fake.send_sticker(USER)
        fake.send_voice(USER)
        fake.send_contact(USER, "+84901234567", "Lan")
        fake.send_text(USER, "/start@lantoa_test_bot trong nhóm", chat_id=-1001500)
        raw = fake.send_raw(
            {
                "message": {
                    "message_id": 999,
                    "date": 1_700_000_000,
                    "chat": {"id": USER, "type": "private", "first_name": "Lan"},
                    "from": {"id": USER, "is_bot": False, "first_name": "Lan"},
                    "text": "thô",
                }
            }
        )
        await fake.wait_update_consumed(raw)
        await fake.wait_for(lambda f: len(f.calls_to("sendMessage")) == 6)

    assert kinds == [
        (USER, "location"),
        (USER, "sticker"),
        (USER, "voice"),
        (USER, "contact"),
        (-1001500, "text"),
        (USER, "text"),
    ]
    assert [m["text"] for m in fake.messages(-1001500)] == ["nhận text"]
    voice_id = fake.messages(USER, include_incoming=True)[2]["voice"]["file_id"]
    assert fake.file_bytes(voice_id).startswith(b"OggS")


async def test_send_document_and_download(transport: Transport) -> None:
    fake = transport.fake
    async with transport.bot() as bot:
        sent = await bot.send_document(USER, b"ngay,so tien\n1,2\n", filename="bao-cao.csv")
        assert sent.document is not None
        assert sent.document.file_name == "bao-cao.csv"
        assert sent.document.mime_type == "text/csv"
        again = await bot.send_document(USER, sent.document.file_id, caption="lần 2")
        assert again.document is not None
        assert again.document.file_unique_id == sent.document.file_unique_id
        tg_file = await sent.document.get_file()
        assert bytes(await tg_file.download_as_bytearray()) == b"ngay,so tien\n1,2\n"
    assert fake.calls_to("sendDocument")[0].files == {"document": b"ngay,so tien\n1,2\n"}


async def test_a_user_sends_a_document_the_bot_downloads_up_to_20_mb(
        transport: Transport) -> None:
    fake = transport.fake
    fake.send_document(USER, b"Ho ten,Ma don vi\n", "ds.csv")
    fake.send_document(USER, b"...", "lon.xlsx", stated_size=21 * 1024 * 1024)
    async with transport.bot() as bot:
        small, big = [update.message.document for update in await bot.get_updates()
                      if update.message is not None]
        assert (small.file_name, small.mime_type, small.file_size) == ("ds.csv", "text/csv", 17)
        tg_file = await small.get_file()
        assert bytes(await tg_file.download_as_bytearray()) == b"Ho ten,Ma don vi\n"
        assert big.file_size == 21 * 1024 * 1024
        with pytest.raises(BadRequest, match="too big"):
            await big.get_file()


async def test_http_server_raw_requests(fake: FakeTelegram) -> None:
    """Request shapes PTB does not use but a Bot API server accepts."""
    async with FakeBotServer(fake, TOKEN) as server, httpx.AsyncClient() as client:
        root = f"{server.url}/bot{TOKEN}"
        me = await client.get(f"{root}/getMe")
        assert me.status_code == 200 and me.json()["result"]["username"] == "lantoa_test_bot"

        sent = await client.post(
            f"{root}/sendMessage",
            json={"chat_id": USER, "text": "<i>JSON</i>", "parse_mode": "HTML"},
        )
        assert sent.json()["result"]["entities"][0]["type"] == "italic"
        by_query = await client.get(f"{root}/sendMessage", params={"chat_id": USER, "text": "42"})
        assert by_query.json()["result"]["text"] == "42"  # a str param stays a str

        bad = await client.post(f"{root}/sendMessage", data={"chat_id": "1", "text": "x"})
        assert bad.status_code == 400
        assert bad.json() == {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: chat not found",
        }
        unknown = await client.post(f"{root}/noSuchMethod")
        assert (unknown.status_code, unknown.json()) == (
            404,
            {"ok": False, "error_code": 404, "description": "Not Found"},
        )
        wrong = await client.get(f"{server.url}/bot654321:OTHER-token/getMe")
        assert (wrong.status_code, wrong.json()["description"]) == (401, "Unauthorized")
        missing = await client.get(f"{server.url}/file/bot{TOKEN}/photos/nope.jpg")
        assert missing.status_code == 404
    assert [m["text"] for m in fake.messages(USER)] == ["JSON", "42"]


async def test_groups_bot_membership_commands_and_supergroup_upgrade(
    transport: Transport,
) -> None:
    fake = transport.fake
    group, supergroup = -4001, -1004001
    fake.add_group(group, "Chi bộ Thôn Bản Chặng", chat_type="group")
    seen: list[tuple[Any, ...]] = []

    async def on_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        change = update.my_chat_member
        assert change is not None and change.from_user is not None
        assert change.new_chat_member.user.id == fake.bot_id
        seen.append(("status", change.chat.id, change.old_chat_member.status,
                     change.new_chat_member.status, change.from_user.id))

    async def on_link(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and update.effective_user is not None
        seen.append(("link", update.effective_chat.id, update.effective_user.id))

    async def on_service(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        if message.new_chat_members:
            seen.append(("joined", message.chat_id, message.new_chat_members[0].id))
        else:
            seen.append(("migrate", message.chat_id, message.migrate_to_chat_id,
                         message.migrate_from_chat_id))

    app = transport.builder().build()
    app.add_handler(ChatMemberHandler(on_member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(CommandHandler("link", on_link))
    app.add_handler(MessageHandler(
        filters.StatusUpdate.NEW_CHAT_MEMBERS | filters.StatusUpdate.MIGRATE, on_service))
    async with running(app), transport.bot() as bot:
        fake.add_bot_to_group(group, USER)
        fake.add_bot_to_group(group, USER, status="administrator")  # promoted: no service message
        fake.send_text(OTHER_USER, "/link@someone_else_bot", chat_id=group)
        fake.send_text(OTHER_USER, "/link@lantoa_test_bot", chat_id=group)
        old_update, new_update = fake.upgrade_to_supergroup(group, supergroup, USER)
        assert old_update < new_update
        removed = fake.remove_bot_from_group(supergroup, USER)
        await fake.wait_update_consumed(removed)
        await fake.wait_for(lambda f: len(seen) == 7)

        with pytest.raises(ChatMigrated) as migrated:
            await bot.send_message(group, "còn đây không?")
        assert migrated.value.new_chat_id == supergroup
        with pytest.raises(Forbidden, match="kicked from the supergroup"):
            await bot.send_message(supergroup, "còn đây không?")

    assert seen == [
        ("status", group, "left", "member", USER),
        ("joined", group, fake.bot_id),
        ("status", group, "member", "administrator", USER),
        ("link", group, OTHER_USER),
        ("migrate", group, supergroup, None),
        ("migrate", supergroup, None, group),
        ("status", supergroup, "administrator", "kicked", USER),
    ]
    assert fake.chats[supergroup]["type"] == "supergroup"
    assert fake.bot_status(supergroup) == "kicked"


async def test_groups_upgrade_may_announce_the_new_chat_first(fake: FakeTelegram) -> None:
    fake.add_group(-4002, "Nhóm cũ", chat_type="group")
    old_update, new_update = fake.upgrade_to_supergroup(-4002, -1004002, USER, new_first=True)
    assert new_update < old_update
    with pytest.raises(LookupError):
        fake.upgrade_to_supergroup(-1004002, -1004003, USER)  # a supergroup cannot be upgraded
    with pytest.raises(LookupError):
        fake.add_bot_to_group(USER, OTHER_USER)  # a private chat is no group
