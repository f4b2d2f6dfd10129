"""Drives the real Application against the in-process fake Bot API, one user action at a
time, and reads back what the user would see."""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from telegram.ext import Application

from bot.flows.invites import create_invite
from bot.runtime.app import UpdateSource, build_application, metrics_of, running
from bot.runtime.clock import FixedClock
from bot.runtime.config import Settings
from bot.runtime.core import Core
from bot.runtime.health import Health
from bot.runtime.pacing import VirtualTime
from bot.runtime.services import Services
from bot.runtime.webhook import HttpServer
from bot.ui.catalogue import Catalogue
from handlers import deliveries as outbox
from handlers.common import tidied
from storage import models, people, reports, units
from storage.db import Database
from storage.entities import NewModel, NewUnit, Photo, Report, ReportContent, Role
from tests.fakebot import Call, FakeRequest, FakeTelegram, WebhookPusher
from tests.postgres import MIGRATED, Cluster

TOKEN = "123456:TEST-token"
CATALOGUE = Catalogue.load()  # to write what a key says, whatever its words
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
# Friday 27/11/2026, 09:00 in Hà Nội.
FRIDAY_MORNING = dt.datetime(2026, 11, 27, 9, 0, tzinfo=HANOI)
SHOWN = ("sendMessage", "editMessageText", "sendPhoto", "sendMediaGroup")


def most_in_window(moments: list[float], window: float) -> int:
    """The most moments in any half-open window of this length (sliding): Telegram's limits are
    checked with it on the fake's `Call.at` stamps."""
    moments = sorted(moments)
    most, first = 0, 0
    for last, moment in enumerate(moments):
        while moment - moments[first] >= window:
            first += 1
        most = max(most, last - first + 1)
    return most


def as_read(text: str) -> str:
    """Telegram HTML as the user reads it in the chat (the fake keeps messages so)."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


class Said:
    """Every text the bot wrote in a test, with the catalogue keys it came from: the fake asks
    it which keys produced what a call carries (`Call.keys`), so that a test can recognise an
    answer or a refusal by its key rather than by its wording."""

    def __init__(self) -> None:
        self._keys: dict[str, set[str]] = {}

    def __call__(self, key: str, text: str) -> None:
        if text.strip():
            self._keys.setdefault(text, set()).add(key)

    def keys_in(self, sent: str) -> frozenset[str]:
        return frozenset(key for text, keys in self._keys.items() if text in sent
                         for key in keys)


@dataclass
class Seen:
    """What the bot did in answer to one user action. Recognise an answer by its catalogue
    key (`shows`), not by its wording: the words may change, the key says what it is."""

    calls: list[Call]
    update_id: int
    toast: str | None = None
    keys: frozenset[str] = frozenset()  # the catalogue keys of everything it said

    @property
    def html(self) -> str:
        """The messages as the bot sent them (Telegram HTML): texts, and photos' captions."""
        return "\n".join(c.params.get("text") or c.params.get("caption") or ""
                         for c in self.calls
                         if c.method in ("sendMessage", "editMessageText", "sendPhoto"))

    @property
    def text(self) -> str:
        """The messages as the user reads them."""
        return as_read(self.html)

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]

    def shows(self, key: str, lang: str = "vi", **params: object) -> bool:
        """The bot said `key` (written with these values, when given, in `lang`)."""
        if key not in self.keys:
            return False
        if not params:
            return True
        t = CATALOGUE.texts(lang)
        return t(key, **params) in self.html or t.plain(key, **params) == self.toast

    def asks_again(self, prompt: str) -> bool:
        """The form stayed where it was: its question `prompt` (a catalogue key) is shown
        again, with no other question and no summary (as after a wrong answer)."""
        moved = {key for key in self.keys
                 if key.endswith((".prompt", ".summary_title")) and key != prompt}
        return self.shows(prompt) and not moved


# The keys of an answer recorded on the question it answered.
RECORDS = frozenset({"form.answered", "form.answer_skipped"})


@dataclass(frozen=True)
class Tree:
    """Unit ids of the standard test tree (see Harness.tree)."""

    province: int
    commune: int
    other_commune: int
    cell: int
    sibling_cell: int
    group: int


@dataclass
class Harness:
    fake: FakeTelegram
    app: Application
    core: Core
    clock: FixedClock
    db: Database
    poller: UpdateSource
    # Telegram's limits are kept on this clock: pacing never makes a test wait.
    pacing: VirtualTime = field(default_factory=VirtualTime)
    health: Health = field(default_factory=Health)

    @property
    def bot_id(self) -> int:
        """The bot this harness runs as (its token's number)."""
        assert self.core.services.bot is not None
        return self.core.services.bot.bot_id

    async def deliveries_settled(self, timeout: float = 10.0) -> None:
        """Waits until the paced sender has sent (or given up on) everything in the
        deliveries ledger: no row queued or being sent, and the sender idle."""
        await outbox.settled(self.app, timeout)

    def person(self, user_id: int, first_name: str, last_name: str | None = None) -> int:
        self.fake.add_user(user_id, first_name, last_name)
        return user_id

    async def _settle(self, update_id: int) -> None:
        await self.fake.wait_update_consumed(update_id)
        await self.app.update_queue.join()
        await tidied(self.app)

    async def after(self, update_id: int, mark: int) -> Seen:
        await self._settle(update_id)
        calls = [c for c in self.fake.calls[mark:] if not c.error]
        toast = next((c.params.get("text") for c in calls
                      if c.method == "answerCallbackQuery"), None)
        keys = frozenset().union(*(c.keys for c in calls))
        return Seen([c for c in calls if c.method in SHOWN], update_id, toast, keys)

    async def say(self, user_id: int, text: str) -> Seen:
        mark = len(self.fake.calls)
        return await self.after(self.fake.send_text(user_id, text), mark)

    async def send(self, user_id: int, kind: str, **details: Any) -> Seen:
        """Anything but text: photo, location, sticker, voice, contact."""
        mark = len(self.fake.calls)
        update_id = getattr(self.fake, f"send_{kind}")(user_id, **details)
        return await self.after(update_id, mark)

    async def redeliver(self, update_id: int) -> Seen:
        """Telegram sends the same update again, as after a crash before it was confirmed."""
        mark = len(self.fake.calls)
        self.fake.redeliver(update_id)
        return await self.after(update_id, mark)

    def told(self, chat_id: int, key: str) -> int:
        """How many times the bot has said `key` in this chat (0: never)."""
        return sum(key in call.keys for call in self.fake.calls
                   if call.chat_id == chat_id and not call.error)

    def said_last(self, chat_id: int) -> frozenset[str]:
        """The catalogue keys of the bot's latest message (or edit) in the chat; an answer
        recorded on its question (that edit comes after the next question) is not one."""
        return next((c.keys for c in reversed(self.fake.calls)
                     if c.method in SHOWN and c.chat_id == chat_id and not c.error
                     and not c.keys & RECORDS), frozenset())

    async def photos_acknowledged(self, user_id: int, count: int) -> None:
        """Waits for the one answer to an album (it comes after a short quiet time)."""
        # The text up to the form's own limit of photos, whatever its words and its limit.
        said = CATALOGUE.texts("vi")("form.photos_received", count=count,
                                     max="\x00").split("\x00")[0]
        await self.fake.wait_for(lambda f: any(
            c.method in SHOWN and c.chat_id == user_id and said in (c.params.get("text") or "")
            for c in f.calls))

    def button(self, user_id: int, label: str) -> tuple[int, str]:
        """The newest message offering a button with this label (or starting with it)."""
        for message in reversed(self.fake.messages(user_id)):
            for text, data in self.fake.inline_buttons(message):
                if text == label or text.startswith(label):
                    return message["message_id"], data
        raise AssertionError(f"no button {label!r} in chat {user_id}")

    def buttons(self, user_id: int) -> list[str]:
        """The labels on the newest message that has buttons."""
        for message in reversed(self.fake.messages(user_id)):
            labels = [text for text, _ in self.fake.inline_buttons(message)]
            if labels:
                return labels
        return []

    def message(self, user_id: int, message_id: int) -> dict[str, Any]:
        """One of the bot's messages in the chat, as it is now (edits applied)."""
        return next(m for m in self.fake.messages(user_id) if m["message_id"] == message_id)

    def buttons_on(self, user_id: int, message_id: int) -> list[str]:
        """The labels one message of the chat offers now ([] once its buttons were taken
        off)."""
        return [text for text, _ in self.fake.inline_buttons(self.message(user_id, message_id))]

    async def tap(self, user_id: int, label: str) -> Seen:
        message_id, data = self.button(user_id, label)
        return await self.press_data(user_id, message_id, data)

    async def press_data(self, user_id: int, message_id: int, data: str,
                         check_button: bool = True) -> Seen:
        mark = len(self.fake.calls)
        update_id = self.fake.press(user_id, message_id, data, check_button=check_button)
        return await self.after(update_id, mark)

    def screen(self, user_id: int) -> str:
        """The text of the bot's newest message in the chat (a photo's caption)."""
        last = self.fake.last_message(user_id) or {}
        return last.get("text") or last.get("caption") or ""

    async def unit(self, name: str, kind: str = "chi bộ", parent: int | None = None,
                   no_locations: bool = False) -> int:
        async with self.db.transaction() as tx:
            unit = await units.add_unit(tx, NewUnit(name=name, kind=kind, parent_id=parent,
                                                    no_locations=no_locations), self.clock.now())
        return unit.id

    async def person_id(self, user_id: int) -> int:
        """The person the bot knows behind a Telegram user."""
        async with self.db.transaction() as tx:
            person = await people.person_by_telegram_id(tx, user_id)
        assert person is not None, f"no person for Telegram user {user_id}"
        return person.id

    async def reports_of(self, user_id: int) -> list[Report]:
        """The reports a member has stored, newest received first, whole."""
        author = await self.person_id(user_id)
        async with self.db.transaction() as tx:
            lines = await reports.reports_of_person(tx, author, 50, 0)
            found = [await reports.get_report(tx, line.id) for line in lines]
        return [report for report in found if report is not None]

    async def stored_report(self, user_id: int, unit_id: int, *,
                            received: dt.datetime | None = None, deed: dt.date | None = None,
                            field: str = "Xã hội", words: str = "Việc làm tốt",
                            state: str = "pending", together: tuple[int, ...] = (),
                            households: int | None = None, helped: int | None = None,
                            value: int | None = None, model: int | None = None,
                            private: bool = False, photos: int = 0) -> int:
        """A report as the report form stores it (the form itself is tested elsewhere), received
        at `received` (now by default), its deed on `deed` (that day by default)."""
        received = received or self.clock.now()
        author = await self.person_id(user_id)
        partners = tuple([await self.person_id(u) for u in together])
        content = ReportContent(
            deed_date=deed or received.date(), field=field, description=words,
            participant_ids=partners, households_helped=households, people_helped=helped,
            value_vnd=value, model_id=model, private=private,
            photos=tuple(Photo(file_id=f"photo-{n}", file_unique_id=f"u-{n}-{received}")
                         for n in range(photos)))
        async with self.db.transaction() as tx:
            drafts = await tx.one("SELECT COUNT(*) AS n FROM reports")
            assert drafts is not None
            report_id = await reports.insert_report(
                tx, person_id=author, unit_id=unit_id, entered_by=author, content=content,
                source_draft_id=50_000 + int(drafts["n"]), now=received)
            await tx.run("UPDATE reports SET state = ? WHERE id = ?", (state, report_id))
        return report_id

    async def model(self, unit_id: int, name: str, field: str = "Kinh tế",
                    year: int = 2025) -> int:
        async with self.db.transaction() as tx:
            model = await models.add_model(tx, NewModel(name=name, field=field,
                                                        owner_unit_id=unit_id, start_year=year),
                                           self.clock.now())
        return model.id

    async def invite(self, unit_id: int, role: Role = Role.MEMBER, uses: int = 1,
                     days: int = 7) -> str:
        async with self.db.transaction() as tx:
            invite = await create_invite(tx, unit_id, role, uses, days, self.clock.now())
        return invite.code

    async def join(self, user_id: int, unit_id: int, first_name: str,
                   last_name: str | None = None) -> None:
        """A member joins the way people do: opens an invite link and confirms the name."""
        await self.join_with(user_id, await self.invite(unit_id), first_name, last_name)

    async def appoint(self, user_id: int, unit_id: int, role: Role, first_name: str,
                      last_name: str | None = None) -> None:
        """Someone takes up a role the way people do: through an invite made for it."""
        await self.join_with(user_id, await self.invite(unit_id, role), first_name, last_name)

    async def tree(self) -> Tree:
        """A province with two communes; the first has two cells, and a tổ in the first cell."""
        province = await self.unit("Đảng bộ tỉnh Lạng Sơn", kind="đảng bộ tỉnh")
        commune = await self.unit("Đảng bộ xã Tràng Định", kind="đảng bộ xã", parent=province)
        other_commune = await self.unit("Đảng bộ phường Hoàng Văn Thụ", kind="đảng bộ phường",
                                        parent=province)
        cell = await self.unit("Chi bộ Thôn Bản Chặng", parent=commune)
        sibling_cell = await self.unit("Chi bộ Thôn Nà Pá", parent=commune)
        group = await self.unit("Tổ đảng số 1", kind="tổ đảng", parent=cell)
        return Tree(province, commune, other_commune, cell, sibling_cell, group)

    async def member_of_new_cell(self, user_id: int, first_name: str = "Mai",
                                 name: str = "Chi bộ Thôn Bản Chặng", **unit: Any) -> int:
        cell = await self.unit(name, **unit)
        await self.join(user_id, cell, first_name)
        return cell

    async def begin_report(self, user_id: int, field: str = "Kinh tế",
                           description: str | None = None, day: str = "Hôm nay") -> Seen:
        """/report, a day button, a field button and, if given, what was done."""
        await self.say(user_id, "/report")
        await self.tap(user_id, day)
        seen = await self.tap(user_id, field)
        return await self.say(user_id, description) if description else seen

    async def report(self, user_id: int, text: str, field: str = "Xã hội",
                     photos: int = 0) -> None:
        """A whole public report of yesterday's deed, sent as soon as it may be, or, with
        `photos` (sent as an album), through the details with the others skipped."""
        await self.begin_report(user_id, field, text, day="Hôm qua")
        if not photos:
            await self.tap(user_id, "✅ Gửi ngay")
            return
        await self.tap(user_id, "➕ Thêm chi tiết")
        await self.skip_details(user_id, until="photos")
        for _ in range(photos):
            self.fake.send_photo(user_id, media_group_id=f"album-{text}")
        await self.photos_acknowledged(user_id, photos)
        await self.tap(user_id, "Xong")
        await self.tap(user_id, "🌐 Có, công khai")
        await self.tap(user_id, "✅ Gửi")

    async def edit_on_summary(self, user_id: int, part: str) -> Seen:
        """On a form's summary, ✏ Sửa, then the part to correct (its short name): the step
        asked again, whose answer leads back to the summary."""
        await self.tap(user_id, "✏ Sửa")
        return await self.tap(user_id, f"✏ Sửa {part}")

    async def skip_details(self, user_id: int, until: str | None = None) -> None:
        """Bỏ qua at each detail of a report, from the step asked now, until the step `until`
        (a field's name, e.g. "photos") asks, or else until the summary is back."""
        key = f"form.report.{until}.prompt" if until else "form.report.summary_title"
        while key not in self.said_last(user_id):
            await self.tap(user_id, "Bỏ qua")

    async def join_with(self, user_id: int, code: str, first_name: str,
                        last_name: str | None = None) -> None:
        self.person(user_id, first_name, last_name)
        await self.say(user_id, f"/start {code}")
        await self.tap(user_id, "✅ Đúng")


_TEMPLATE: list[Path] = []


@dataclass
class Backend:
    """Which database this test's bots run on (tests/conftest.py sets it for each test): SQLite
    files, or databases of this process's PostgreSQL cluster, one per file path the test asks
    for, so that a bot restarted on the same path finds its data again."""

    name: str = "sqlite"
    cluster: Cluster | None = None
    urls: dict[Path, str] = field(default_factory=dict)

    def location(self, path: Path) -> Path | str:
        if self.cluster is None:
            return path
        if path not in self.urls:
            self.urls[path] = self.cluster.url(self.cluster.create_database(MIGRATED))
        return self.urls[path]

    def drop_databases(self) -> None:
        if self.cluster is not None:
            for url in self.urls.values():
                self.cluster.drop_database(url.rsplit("/", 1)[1].split("?", 1)[0])
        self.urls.clear()


BACKEND = Backend()


async def migrated_database(path: Path) -> Database:
    """A migrated database for `path`, as `lantoa run` would open it, but copied from one
    migrated once per test process (migrating is most of a fresh start) and without the
    fsync of each commit that a real bot needs and a test does not. An existing database at
    `path` (a test's own earlier bot) is opened as it is. On PostgreSQL (BACKEND) it is a
    database of the test's cluster made for `path`."""
    location = BACKEND.location(path)
    if isinstance(location, str):
        return await Database.open(location, durable=False)
    if not _TEMPLATE:
        template = Path(tempfile.mkdtemp(prefix="lantoa-template-")) / "migrated.sqlite3"
        await (await Database.open(template)).close()
        _TEMPLATE.append(template)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_TEMPLATE[0], path)
    return await Database.open(path, durable=False)


@asynccontextmanager
async def started(tmp_path: Path, fake: FakeTelegram | None = None,
                  now: dt.datetime = FRIDAY_MORNING, database: Path | str | None = None,
                  webhook: bool = False, token: str = TOKEN,
                  **settings: Any) -> AsyncIterator[Harness]:
    """The bot running on `tmp_path`'s database, or on `database` when given (a database
    moved there, say); its clock says `now` from the start (what start-up catches up on
    depends on it). With `http_listen` among `settings` the bot's HTTP server serves, as
    `lantoa run` does; `webhook`: updates come through it (`settings` name webhook_url and
    webhook_secret too), the fake POSTing them, instead of polling. Another `token` (and fake)
    on the same `tmp_path` is a second bot on the same database (tests/test_bots.py)."""
    fake = fake or FakeTelegram()
    said = Said()
    fake.key_source = said.keys_in
    own = tmp_path / "lantoa.sqlite3"
    # An album's photos arrive together from a phone; a busy machine (a PostgreSQL server
    # beside every test process) takes longer than 50 ms to store one before the next.
    config = Settings(database=BACKEND.location(own) if database is None else database,
                      album_wait_seconds=0.3, poll_timeout=1, **settings)
    db = await (migrated_database(own) if database is None
                else Database.open(database, durable=False))
    clock = FixedClock(now)
    core = Core.build(Services(config, db, Catalogue.load(said), clock))
    pacing = VirtualTime()
    fake.time_source = pacing.stamp
    app = build_application(core, token, request=FakeRequest(fake),
                            updates_request=FakeRequest(fake), pacing_time=pacing)
    health = Health()
    try:
        async with AsyncExitStack() as stack:
            server = None
            if config.http_listen is not None:
                server = HttpServer(config, db, health, metrics_of(app), webhook)
                await server.start()
                stack.push_async_callback(server.stop)
            if webhook:
                await stack.enter_async_context(WebhookPusher(fake))
            source = await stack.enter_async_context(
                running(app, health, server if webhook else None))
            try:
                yield Harness(fake, app, core, clock, db, source, pacing, health)
            finally:
                pacing.release()  # a test that held the pacing clock must not hang the stop
    finally:
        await db.close()
