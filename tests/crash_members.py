"""Simulated members for the crash-restart test (tests/test_crash_restart.py): each fills the
report form through the HTTP fake of the Bot API while the bot process is killed under them,
and checks every screen it is shown. Some reports are written in one message instead (a text,
or a photo album with a caption), read into a card (bot/flows/quick_reports.py) that the
member sends, after picking the field when the card asks it. Seeded: the same seed makes the
same members, answers and choices (what the bot is doing at a kill still varies with timing).

What a member looks at is the screen the bot changed last in its chat (a new message, or the
message whose button was pressed, edited; an older message losing its buttons does not change
it): that is read from the fake's call log, one pass over new calls for all members, because
copying each chat's history on every change would cost more than the bot itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import html
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.flows.reports import report_form
from bot.forms.engine import SUMMARY
from bot.runtime.config import ReportSettings, Settings
from bot.ui.catalogue import Catalogue
from storage import people, units
from storage.db import Database
from storage.entities import NewUnit, Role
from tests.fakebot import Call, FakeTelegram
from tests.harness import BACKEND

T = Catalogue.load().texts("vi")
FORM = report_form(ReportSettings())
STEP_OF_TOKEN = {"s": SUMMARY, **{str(i): f.name for i, f in enumerate(FORM.fields)}}
# How long a member waits for the bot's answer: longer than a restart and the queue behind it,
# and than a run of kills every 2–3 s on a loaded machine, each before a card's 2 s quiet time
# was over (the card is owed and shown once a process lives that long).
PATIENCE = 60.0
# A photo is acknowledged after a quiet time (the rest of an album may follow); one a kill left
# unacknowledged is acknowledged after the restart. After this long without the
# acknowledgement a member sends the photo again, as people do.
PHOTO_PATIENCE = 8.0
PHOTO_RESENDS = 6
# A press whose whole answer is a note (the report was sent, the form has ended) may get it as a
# message: the replay's answer to the press is refused by Telegram when the process died after
# answering it (test_a_press_is_answered_after_a_crash). After this long with no answer at all
# a member presses again.
SILENCE = 10.0
PRESSES_AFTER_SILENCE = 2
# What `tap` answers when the button to press again has gone from the screen.
GONE = "(the button has gone)"

FAMILY = ("Hoàng", "Nông", "Lương", "Triệu", "Hà", "Lý", "Vi", "Đinh", "Nguyễn", "Lộc")
GIVEN = ("Văn Tư", "Thị Mai", "Văn Hùng", "Thị Lan", "Văn Sáng", "Thị Hoa", "Văn Bình",
         "Thị Thu", "Đức Minh", "Thị Hằng")
DEEDS = ("dọn vệ sinh đường làng", "sửa nhà cho hộ nghèo", "trồng cây keo trên đồi",
         "dạy chữ cho các cháu", "vận động bà con tiêm phòng", "hòa giải mâu thuẫn hàng xóm",
         "giúp hộ khó khăn thu hoạch lúa", "tuyên truyền phòng chống ma túy")
PLACES = ("thôn Bản Chặng", "đồi Khau Slưa", "nhà văn hóa thôn Nà Pá", "trường tiểu học xã")
MONEY = (("2tr5", 2_500_000), ("500k", 500_000), ("1,5 triệu", 1_500_000),
         ("1.200.000", 1_200_000))
# Of the reports a member sends or cancels, this share is written in one message (a card).
CARDS = 0.4
# What a one-message report says, and the field the card reads from it (config.toml's
# keywords); None: no field's word, the card asks. Nothing else is read from them: no date
# (the card says today), count, place or partner (not after the member's name either).
CARD_DEEDS = (
    ("tuần tra an ninh trật tự khu dân cư", "Quốc phòng – an ninh"),
    ("hướng dẫn bà con kỹ thuật trồng chè", "Kinh tế"),
    ("dạy chữ cho các cháu nhỏ trong thôn", "Xã hội"),
    ("tập văn nghệ cho lễ hội của bản", "Văn hóa"),
    ("sửa nhà cho hộ nghèo trong xóm", "An sinh xã hội, giảm nghèo"),
    ("thu gom rác thải dọc bờ suối", "Môi trường"),
    ("viết bài giới thiệu gương người tốt việc tốt", None),
    ("đến thăm hỏi bà con trong xóm mới", None),
    ("chụp ảnh lưu niệm buổi gặp mặt đầu xuân", None),
)
ZONE = ZoneInfo(Settings.model_fields["timezone"].default)


def visible(markup: str) -> str:
    """Telegram HTML as the member reads it."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def shown(key: str, **params: Any) -> str:
    return visible(T(key, **params))


RECEIVED = shown("report.received").splitlines()[0]
CANCELLED = shown("form.report.cancelled")
RESUMED = shown("form.report.resumed")
NOTHING_TO_CANCEL = shown("form.nothing_to_cancel")
ALREADY_SENT = T.plain("form.already_sent")
ENDED = T.plain("form.ended")
MY_TITLE = visible(T("my.title", first=1, last=1, total=1)).split(" (")[0]
CARD = shown("form.report.quick_summary_title")
SEND = T.plain("button.send")  # a prefix of the card's "✅ Gửi ngay" too


def prompt_of(step: str) -> str:
    if step == SUMMARY:
        return shown("form.report.summary_title")
    spec = FORM.field(step)
    return shown(f"form.report.{step}.prompt", min=spec.min or 0, max=spec.max or 0)


# ------------------------------------------------------------------------------ what is seen

@dataclass(frozen=True)
class Screen:
    text: str = ""
    buttons: tuple[tuple[str, str], ...] = ()

    @property
    def step(self) -> str | None:
        """The form step the buttons belong to (`f:<draft>:<step>:<verb>:<arg>`)."""
        for _, data in self.buttons:
            parts = data.split(":")
            if len(parts) == 5 and parts[0] == "f":
                return STEP_OF_TOKEN.get(parts[2])
        return None

    def data(self, label: str) -> str | None:
        return next((d for text, d in self.buttons if text.startswith(label)), None)

    def verbs(self, verb: str) -> list[tuple[str, str]]:
        """(label, arg) of the buttons doing `verb`, in order."""
        return [(text, d.split(":")[4]) for text, d in self.buttons
                if d.startswith("f:") and d.split(":")[3] == verb]


def _message_id(call: Call) -> int | None:
    """The message a call sent or changed."""
    if "message_id" in call.params:
        return int(call.params["message_id"])
    return call.result.get("message_id") if isinstance(call.result, dict) else None


def _screen(params: dict[str, Any]) -> Screen:
    markup = params.get("reply_markup")
    rows = (markup or {}).get("inline_keyboard") or [] if isinstance(markup, dict) else []
    buttons = tuple((b.get("text", ""), b.get("callback_data", "")) for row in rows for b in row)
    return Screen(visible(str(params.get("text") or params.get("caption") or "")), buttons)


class Board:
    """Every member's current screen and the notes their button presses were answered with,
    kept up to date from the fake's log of calls."""

    SHOWING = ("sendMessage", "editMessageText", "sendPhoto")

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        self.screens: dict[int, Screen] = {}
        # Per chat, the message the screen is (None: not known, e.g. a failed send).
        self.showing: dict[int, int | None] = {}
        self.toasts: dict[str, str] = {}
        # Per chat, what the bot showed, in order: told on a failure.
        self.history: dict[int, list[str]] = {}
        self._read = 0

    def refresh(self) -> None:
        calls = self.fake.calls
        while self._read < len(calls):
            call = calls[self._read]
            self._read += 1
            if call.error:
                continue
            if self._records_older(call):
                # An answer recorded on its question (handlers/common.py `_record_answer`)
                # after the next question is out: the chat still ends with that question.
                self._remember(call, f"(recorded on an older message: "
                                     f"{_screen(call.params).text[:40]!r})")
            elif call.method in self.SHOWING and call.chat_id is not None:
                self.screens[call.chat_id] = _screen(call.params)
                self.showing[call.chat_id] = _message_id(call)
                self._remember(call)
            elif (call.method == "editMessageReplyMarkup" and call.chat_id in self.screens
                  and _message_id(call) == self.showing.get(call.chat_id)):
                # Taking the buttons off the screen just answered (✅ Gửi closes the summary);
                # the form's older messages losing theirs change nothing the member looks at.
                text = self.screens[call.chat_id].text
                self.screens[call.chat_id] = _screen({**call.params, "text": text})
                self._remember(call)
            elif call.method == "answerCallbackQuery":
                self.toasts[str(call.params.get("callback_query_id"))] = str(
                    call.params.get("text") or "")

    def _records_older(self, call: Call) -> bool:
        """An edit of a message older than the screen, leaving it without buttons."""
        shown = self.showing.get(call.chat_id) if call.chat_id is not None else None
        edited = _message_id(call)
        return (call.method == "editMessageText" and shown is not None and edited is not None
                and edited < shown and not _screen(call.params).buttons)

    def _remember(self, call: Call, note: str = "") -> None:
        assert call.chat_id is not None
        screen, seen = self.screens[call.chat_id], self.history.setdefault(call.chat_id, [])
        seen.append(f"#{len(seen)} {call.method}(message {call.params.get('message_id')}) "
                    f"step={screen.step} {screen.text[:60]!r} {note}".rstrip())

    def screen(self, chat_id: int) -> Screen:
        self.refresh()
        return self.screens.get(chat_id, Screen())

    def toast(self, query_id: str) -> str | None:
        self.refresh()
        return self.toasts.get(query_id)


# ------------------------------------------------------------------------------ a member's work

class Outcome(StrEnum):
    CONFIRMED = "confirmed"  # saw "Đã nhận báo cáo"
    ALREADY_SENT = "already sent"  # pressed Gửi, was told it had been sent (the answer was lost)
    LISTED = "found in /my"  # pressed Gửi, no answer, found the report in /my
    CANCELLED = "cancelled"
    DRAFT = "draft"  # left mid-form


@dataclass
class Filed:
    """One report as its member answered it, and how it ended."""

    description: str
    deed_date: str = ""
    field: str = ""
    participants: set[int] = dataclasses.field(default_factory=set)
    people_helped: int | None = None
    households_helped: int | None = None
    value_vnd: int | None = None
    place: str | None = None
    photos: int = 0
    private: bool = False
    outcome: Outcome | None = None
    card: bool = False  # written in one message




@dataclass(frozen=True)
class Ending:
    """How a report ends: sent (after `corrections` fixes from the summary), cancelled after
    `at` moves (by button or /cancel), or left as a draft after `at` moves."""

    outcome: Outcome
    at: int = 0
    by_command: bool = False
    corrections: int = 0


class Unanswered(AssertionError):
    pass


Expect = Callable[[Screen], bool]
Move = Callable[[], Any]


def at_step(step: str, also: Expect | None = None) -> Expect:
    return lambda s: s.step == step and (also is None or also(s))


def saying(needle: str) -> Expect:
    return lambda s: needle in s.text


def photos_line(count: int) -> str:
    return f"{shown('form.report.photos.label')}: {shown('form.photo_count', count=count)}"


def card_of(photos: int, step: str) -> Expect:
    """The card at `step` (the card itself, or the field it asks) with every photo sent."""
    return lambda s: (CARD in s.text and s.step == step
                      and (photos_line(photos) in s.text if photos
                           else shown("form.report.photos.label") not in s.text)
                      and (step != SUMMARY or s.data(SEND) is not None))


class Member:
    def __init__(self, fake: FakeTelegram, board: Board, user_id: int, name: str,
                 rng: random.Random) -> None:
        self.fake, self.board, self.user_id, self.name, self.rng = fake, board, user_id, name, rng
        # Set once the bot is killed no more: until then it may die before it ever polls.
        self.kills_done: asyncio.Event | None = None
        self.filed: list[Filed] = []
        self.photo_resends = 0
        self.presses_again = 0
        self.stopped_at: Screen | None = None  # the last screen seen, when left mid-form
        self.did: list[str] = []  # what the member sent, in order: told on a failure
        self.card_began = 0  # where in `did` the message of the member's last card is

    # --- seeing and doing -------------------------------------------------------------------

    @property
    def screen(self) -> Screen:
        return self.board.screen(self.user_id)

    async def _until(self, expect: Callable[[], bool], patience: float) -> bool:
        """Whether `expect` came true within `patience`. A member's full PATIENCE counts from
        the bot being left to run: begun while the kills go on, it is waited again in full (a
        process killed before its first poll answered nobody, and the next may be killed as
        soon). Shorter waits (pressing again after a SILENCE) are as a person's."""
        while True:
            killing = (patience >= PATIENCE and self.kills_done is not None
                       and not self.kills_done.is_set())
            try:
                await self.fake.wait_for(lambda _: expect(), timeout=patience)
            except AssertionError:
                if killing:
                    continue
                return False
            return True

    def _fail(self, what: str, wanted: str) -> Unanswered:
        self.board.refresh()
        shown = "\n  ".join(self.board.history.get(self.user_id, [])[-12:])
        return Unanswered(f"member {self.user_id}: after {what} waited {PATIENCE:.0f}s for "
                          f"{wanted}; the screen shows {self.screen.text[:300]!r} "
                          f"buttons {[b for b, _ in self.screen.buttons]}\n"
                          f"the member sent (last 12): {self.did[-12:]}\n"
                          f"the bot showed (last 12):\n  {shown}")

    async def type(self, text: str, expect: Expect, wanted: str) -> None:
        update_id = self.fake.send_text(self.user_id, text)
        self.did.append(f"{update_id} typed {text[:30]!r}")
        if not await self._until(lambda: expect(self.screen), PATIENCE):
            raise self._fail(f"typing {text!r}", wanted)

    async def tap(self, label: str, expect: Expect, wanted: str,
                  notes: tuple[str, ...] = ()) -> str | None:
        """Presses the button on the current screen and waits until `expect` holds, or until
        the press is answered by one of `notes` (as a note on the button or as a message):
        then returns that note. Where a note may be the whole answer (✅ Gửi, ✖ Hủy), a
        member who sees nothing happen presses again, as people do (see SILENCE)."""
        data = self.screen.data(label)
        if data is None:
            raise AssertionError(f"member {self.user_id}: no button {label!r} on "
                                 f"{self.screen.text[:200]!r} {self.screen.buttons}")
        queries = [self._press(data)]

        def note() -> str | None:
            texts = [self.board.toast(query) for _, query in queries] + [self.screen.text]
            return next((n for n in notes for text in texts if text and n in text), None)

        def answered() -> bool:
            return expect(self.screen) or note() is not None

        presses = PRESSES_AFTER_SILENCE if notes else 0
        while not await self._until(answered, SILENCE if presses else PATIENCE):
            if not presses:
                raise self._fail(f"pressing {label!r} (updates {[u for u, _ in queries]})",
                                 wanted)
            if self.screen.data(label) != data:
                return GONE
            presses -= 1
            self.presses_again += 1
            queries.append(self._press(data))
        return None if expect(self.screen) else note()

    def _press(self, data: str) -> tuple[int, str]:
        message = next((m for m in reversed(self.fake.messages(self.user_id))
                        if data in {d for _, d in self.fake.inline_buttons(m)}), None)
        assert message is not None, f"member {self.user_id}: no message with button {data}"
        update_id = self.fake.press(self.user_id, message["message_id"], data)
        self.did.append(f"{update_id} pressed {data} on message {message['message_id']}")
        # The fake has no accessor for a queued update; the query id names the press's answer.
        return update_id, str(self.fake.update(update_id)["callback_query"]["id"])

    async def photo(self, file_id: str, count: int) -> None:
        needle = shown("form.photos_received", count=count, max=FORM.field("photos").max or 0)
        for _ in range(PHOTO_RESENDS):
            update_id = self.fake.send_photo(self.user_id, file_id=file_id)
            self.did.append(f"{update_id} photo {file_id}")
            if await self._until(lambda: needle in self.screen.text, PHOTO_PATIENCE):
                return
            self.photo_resends += 1
        raise self._fail(f"sending photo {file_id} {PHOTO_RESENDS} times", repr(needle))

    async def album(self, caption: str, count: int, expect: Expect, wanted: str) -> None:
        """Photos sent together, the first with `caption`; never sent again (more photos
        would be more of the card)."""
        album = f"card-{self.user_id}-{len(self.filed)}"
        for n in range(1, count + 1):
            update_id = self.fake.send_photo(self.user_id, file_id=f"{album}-{n}",
                                             media_group_id=album if count > 1 else None,
                                             caption=caption if n == 1 else None)
            self.did.append(f"{update_id} photo {album}-{n}")
        if not await self._until(lambda: expect(self.screen), PATIENCE):
            raise self._fail(f"sending {count} photos with the caption {caption[:30]!r}", wanted)

    async def think(self) -> None:
        await asyncio.sleep(self.rng.uniform(0.0, 0.4))

    # --- the report form ----------------------------------------------------------------------

    def ending(self, last: bool) -> Ending:
        """Seeded: most reports are sent, some corrected first, some cancelled; a member's
        last report may be left unfinished."""
        roll = self.rng.random()
        if last:
            return Ending(Outcome.DRAFT, at=self.rng.randint(1, 13))
        if roll < 0.15:
            return Ending(Outcome.CANCELLED, at=self.rng.randint(1, 12),
                          by_command=self.rng.random() < 0.4)
        return Ending(Outcome.CONFIRMED, corrections=int(roll > 0.7) + int(roll > 0.93))

    async def report(self, number: int, ending: Ending) -> Filed:
        rng = self.rng
        if ending.outcome is not Outcome.DRAFT and rng.random() < CARDS:
            return await self.card(number, ending)
        filed = Filed(f"{self.name} (lần {number}): {rng.choice(DEEDS)} cùng bà con trong thôn")
        self.filed.append(filed)
        moves = self._moves(filed, brief=rng.random() < 0.25)
        cut = len(moves) if ending.outcome is Outcome.CONFIRMED else min(ending.at, len(moves))
        for move in moves[:cut]:
            await move()
            await self.think()
        if ending.outcome is Outcome.DRAFT:
            filed.outcome = Outcome.DRAFT
            self.stopped_at = self.screen
        elif ending.outcome is Outcome.CANCELLED:
            await self._cancel(ending.by_command)
            filed.outcome = Outcome.CANCELLED
        else:
            for _ in range(ending.corrections):
                await self._correct(filed)
                await self.think()
            await self._send(filed)
        return filed

    async def card(self, number: int, ending: Ending) -> Filed:
        """A report in one message: a text, or an album whose first photo has it as caption;
        the card comes once the photos stop coming (after a restart when the process died in
        between: the member just waits). The field picked when the card asks it; then sent
        (after corrections from the card) or cancelled."""
        rng = self.rng
        deed, field = rng.choice(CARD_DEEDS)
        filed = Filed(f"{self.name} (lần {number}): {deed}", field=field or "", card=True,
                      photos=rng.choice((0, 0, 1, 2, 3)))
        if rng.random() < 0.4:
            typed, filed.value_vnd = rng.choice(MONEY)
            filed.description += f", kinh phí {typed}"
        self.filed.append(filed)
        asks = SUMMARY if field else "field"
        wanted = f"the card ({filed.photos} photos) at {asks}"
        sent_on = dt.datetime.now(ZONE).date()
        self.card_began = len(self.did)
        if filed.photos:
            await self.album(filed.description, filed.photos, card_of(filed.photos, asks),
                             wanted)
        else:
            await self.type(filed.description, card_of(0, asks), wanted)
        filed.deed_date = self._card_date(sent_on)
        await self.think()
        if not field:
            label, _ = rng.choice(self.screen.verbs("pick"))
            filed.field = label
            await self.tap(label, card_of(filed.photos, SUMMARY), "the card with its field")
            await self.think()
        if ending.outcome is Outcome.CANCELLED:
            await self._cancel(ending.by_command)
            filed.outcome = Outcome.CANCELLED
            return filed
        for _ in range(ending.corrections):
            await self._correct(filed)
            await self.think()
        await self._send(filed)
        return filed

    def _card_date(self, sent_on: dt.date) -> str:
        """The date the card shows, which the member confirms: today when the message was
        read, so the day after when a restart replayed it past midnight (a run at 17:00 UTC
        straddles Vietnam's midnight)."""
        match = re.search(r"📅 [^:]+: (\d{2}/\d{2}/\d{4})", visible(self.screen.text))
        assert match is not None, f"member {self.user_id}: no date on {self.screen.text!r}"
        shown = dt.datetime.strptime(match[1], "%d/%m/%Y").date()
        assert shown in (sent_on, dt.datetime.now(ZONE).date()), (
            f"member {self.user_id}: the card says {shown}, sent on {sent_on}")
        return shown.isoformat()

    def _moves(self, filed: Filed, brief: bool) -> list[Move]:
        """The form, one member's action each, in order: date, field and text lead to the
        summary; unless `brief`, ➕ Thêm chi tiết and every detail follow."""
        needed: list[Move] = [
            self._open, lambda: self._date(filed), lambda: self._field(filed),
            lambda: self.type(filed.description, at_step(SUMMARY), "the summary")]
        if brief:
            return needed
        return [*needed,
                lambda: self.tap(T.plain("button.more_details"), at_step("participant_ids"),
                                 "partners"),
                lambda: self._partners(filed), lambda: self._number(filed, "people_helped"),
                lambda: self._number(filed, "households_helped"), lambda: self._value(filed),
                lambda: self._place(filed), lambda: self._photos(filed),
                lambda: self._public(filed)]

    async def _open(self) -> None:
        text = self.rng.choice(("/report", "📝 Báo cáo việc làm theo Bác"))
        await self.type(text, at_step("deed_date"), "the date step")

    async def _date(self, filed: Filed) -> None:
        label, arg = self.rng.choice(self.screen.verbs("pick")[:3])
        filed.deed_date = dt.datetime.strptime(arg, "%Y%m%d").date().isoformat()
        await self.tap(label, at_step("field"), "the field step")

    async def _field(self, filed: Filed) -> None:
        label, _ = self.rng.choice(self.screen.verbs("pick"))
        filed.field = label
        await self.tap(label, at_step("description"), "the description step")

    async def _partners(self, filed: Filed) -> None:
        offered = self.screen.verbs("tog")
        for label, arg in self.rng.sample(offered, self.rng.choice((0, 0, 1, 2))):
            filed.participants.add(int(arg))
            ticked = "☑ " + label[2:]
            await self.tap(label, at_step("participant_ids", lambda s, t=ticked: bool(s.data(t))),
                           f"{ticked!r} ticked")
        button = "Xong" if filed.participants or self.rng.random() < 0.5 else "Bỏ qua"
        await self.tap(T.plain(f"button.{'done' if button == 'Xong' else 'skip'}"),
                       at_step("people_helped"), "the people step")

    async def _number(self, filed: Filed, step: str) -> None:
        after = "households_helped" if step == "people_helped" else "value_vnd"
        if self.rng.random() < 0.3:
            await self._skip(at_step(after), after)
            return
        value = self.rng.randint(1, 60)
        setattr(filed, step, value)
        await self.type(str(value), at_step(after), after)

    async def _value(self, filed: Filed) -> None:
        if self.rng.random() < 0.4:
            await self._skip(at_step("place"), "the place step")
            return
        typed, filed.value_vnd = self.rng.choice(MONEY)
        await self.type(typed, at_step("place"), "the place step")

    async def _place(self, filed: Filed) -> None:
        if self.rng.random() < 0.3:
            await self._skip(at_step("photos"), "the photo step")
            return
        filed.place = self.rng.choice(PLACES)
        await self.type(filed.place, at_step("photos"), "the photo step")

    async def _skip(self, expect: Expect, wanted: str) -> None:
        """Bỏ qua, tapped or typed."""
        if self.rng.random() < 0.5:
            await self.tap(T.plain("button.skip"), expect, wanted)
        else:
            await self.type(self.rng.choice(("bỏ qua", "không", "-")), expect, wanted)

    async def _photos(self, filed: Filed) -> None:
        wanted = self.rng.choice((0, 0, 1, 2))
        for n in range(1, wanted + 1):
            await self.photo(f"photo-{self.user_id}-{len(self.filed)}-{n}", n)
            filed.photos = n
        label = T.plain("button.done" if wanted else "button.skip")
        await self.tap(label, at_step("public"), "the public step")

    async def _public(self, filed: Filed) -> None:
        filed.private = self.rng.random() < 0.3
        label = T.plain(f"form.report.public.{'no' if filed.private else 'yes'}")
        await self.tap(label, at_step(SUMMARY), "the summary")

    async def _correct(self, filed: Filed) -> None:
        """✏ Sửa on the summary (or the card), one field picked and a new answer typed."""
        step = self.rng.choice(("people_helped", "value_vnd", "place", "description"))
        label = T.plain("button.edit", label=T.plain(f"form.report.{step}.short"))
        await self.tap(T.plain("button.edit_open"), lambda s: s.data(label) is not None,
                       "the fields to correct")
        await self.tap(label, at_step(step), step)
        if step == "people_helped":
            filed.people_helped = self.rng.randint(61, 99)
            typed = str(filed.people_helped)
        elif step == "value_vnd":
            typed, filed.value_vnd = self.rng.choice(MONEY)
        elif step == "place":
            typed = filed.place = self.rng.choice(PLACES) + " (sửa)"
        else:
            typed = filed.description = filed.description + " — đã sửa"
        await self.type(typed, at_step(SUMMARY), "the summary")

    async def _send(self, filed: Filed) -> None:
        note = await self.tap(T.plain("button.send"), saying(RECEIVED), repr(RECEIVED),
                              notes=(ALREADY_SENT,))
        if note == GONE:
            # ✅ Gửi took the buttons off and then nothing came: the member looks in /my.
            mine = f"{self.name} (lần {len(self.filed)})"
            await self.type("/my", saying(MY_TITLE), repr(MY_TITLE))
            assert mine in self.screen.text, (
                f"member {self.user_id} pressed ✅ Gửi, the summary lost its buttons, no answer "
                f"came and /my does not list {mine!r}: {self.screen.text!r}")
            filed.outcome = Outcome.LISTED
            return
        filed.outcome = Outcome.CONFIRMED if note is None else Outcome.ALREADY_SENT

    async def _cancel(self, by_command: bool) -> None:
        """A replayed cancel finds nothing left to cancel, and says so."""
        if by_command:
            await self.type("/cancel", lambda s: CANCELLED in s.text or NOTHING_TO_CANCEL in s.text,
                            repr(CANCELLED))
        else:
            await self.tap(T.plain("button.cancel"), saying(CANCELLED), repr(CANCELLED),
                           notes=(ENDED,))

    async def run(self, kills_done: asyncio.Event, leaves_draft: bool) -> None:
        """Reports until the kills are over; one who leaves a draft does a report or two first,
        then stops mid-form and waits (the draft must outlive the kills that follow)."""
        self.kills_done = kills_done
        await asyncio.sleep(self.rng.uniform(0.0, 2.0))
        full = self.rng.choice((0, 1)) if leaves_draft else None
        number = 0
        while True:
            number += 1
            last = leaves_draft and number > (full or 0)
            await self.report(number, self.ending(last))
            if last or (not leaves_draft and kills_done.is_set()):
                return

    async def resumes(self) -> None:
        """/report again after everything: the step left, as it was left."""
        left = self.stopped_at
        assert left is not None and left.step is not None, f"member {self.user_id}: no step"
        await self.type("/report", lambda s: RESUMED in s.text, repr(RESUMED))
        seen = self.screen
        assert seen.step == left.step and prompt_of(left.step) in seen.text, (
            f"member {self.user_id} left the form at {left.step!r}, resumes at {seen.step!r}: "
            f"{seen.text[:300]!r}")
        assert seen.buttons == left.buttons, (
            f"member {self.user_id} at {left.step!r}: buttons were {left.buttons}, "
            f"now {seen.buttons}")


# ------------------------------------------------------------------------------ the cells

@dataclass(frozen=True)
class Person:
    user_id: int
    person_id: int
    name: str


async def prepare_database(path: Path | str, count: int, cells: int = 2) -> list[Person]:
    """A commune with `cells` chi bộ and `count` members already joined, spread evenly, in
    the database at `path`: a URL as it is, a file path as the test's backend has it
    (BACKEND: the file, or a PostgreSQL database made for it)."""
    now = dt.datetime.now(dt.UTC)
    db = await Database.open(path if isinstance(path, str) else BACKEND.location(path))
    try:
        async with db.transaction() as tx:
            commune = await units.add_unit(tx, NewUnit(name="Đảng bộ xã Tràng Định",
                                                       kind="đảng bộ xã"), now)
            cell_ids = [(await units.add_unit(tx, NewUnit(
                name=f"Chi bộ thôn số {n + 1}", kind="chi bộ", parent_id=commune.id), now)).id
                for n in range(cells)]
            joined = []
            for n in range(count):
                name = f"{FAMILY[n % len(FAMILY)]} {GIVEN[n // len(FAMILY) % len(GIVEN)]} {n + 1}"
                person = await people.add_person(tx, 2001 + n, name, "vi", now)
                await people.add_membership(tx, person.id, cell_ids[n % cells], Role.MEMBER,
                                            None, now)
                joined.append(Person(2001 + n, person.id, name))
    finally:
        await db.close()
    return joined


def members_of(fake: FakeTelegram, board: Board, joined: list[Person],
               seed: int) -> list[Member]:
    crew = []
    for person in joined:
        family, given = person.name.split(" ", 1)
        fake.add_user(person.user_id, given, family)
        crew.append(Member(fake, board, person.user_id, person.name,
                           random.Random(f"{seed}-{person.user_id}")))
    return crew
