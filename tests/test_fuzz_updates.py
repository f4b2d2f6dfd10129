"""Arbitrary sequences of updates from several people, through the real bot (tests/harness.py).

Each example is a fresh bot with the standard test tree: a member (Mai), a leader of her cell
(Bình), an observer of the commune (Lan), a stranger, and a group the bot was added to. It
then plays a drawn list of actions: commands, menu buttons, form answers and random text;
presses of any button ever shown to that person (from old messages too), of forged data, and
the person's last press again on the same message (a double tap, or a press Telegram delivered
twice); stickers, voice notes, photos, albums, albums and photos with a caption (a report in one
message), posts forwarded from a channel, locations, venues, contacts; edits of sent messages;
messages in the group. After every action:

- nothing reached PTB's error handler (handlers/errors.py logs at ERROR: no ERROR record at
  all is allowed) and no Bot API call the bot made was refused, but "message is not modified";
- every message someone sent the bot in private got an answer in that chat (a wrong answer
  gets an explanation, not silence; an album photo is answered once the album is complete),
  and every press was answered;
- every draft in the database is valid for its form (test_fuzz_parsers.draft_errors, against
  the choices the bot itself would offer);
- every report in the database is complete: its field and description as the form accepts
  them, photos numbered from 0 without gaps and within the limit, participants other than the
  author, no broken reference;
- a press that stored a report (✅ Gửi on a form or a card), pressed again, stores none.

CI: `CI_EXAMPLES` sequences (plus WHOLE_REPORT and CARDS_SENT_TWICE, always played). Heavy
(`pytest -m heavy`): `HEAVY_EXAMPLES` sequences; with test_fuzz_parsers.py's heavy run, 11,000
examples (figures in its docstring). Seeded through hypothesis's `derandomize`; a failure
prints the action list.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.forms.conversations import Refusal
from bot.forms.engine import DraftState
from bot.ui.catalogue import Catalogue
from storage import drafts
from storage.entities import Role
from tests.harness import SHOWN, Harness, started
from tests.test_fuzz_parsers import TYPED, draft_errors

CI_EXAMPLES = 25
HEAVY_EXAMPLES = 1000
CI = settings(max_examples=CI_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
HEAVY = settings(CI, max_examples=HEAVY_EXAMPLES)

MAI, BINH, LAN, STRANGER = 3001, 3002, 3003, 3999
PEOPLE = (MAI, BINH, LAN, STRANGER)
GROUP = -1001234567
ALBUM_WAIT = 2.0  # seconds to wait for an album's one answer (the bot waits 0.05 s)
HARMLESS_REFUSALS = ("message is not modified",)

CATALOGUE = Catalogue.load()
COMMANDS = ["/start", "/start abc", "/report", "/my", "/help", "/cancel", "/lang", "/settings",
            "/review", "/members", "/invite", "/behalf", "/model", "/commit", "/stats",
            "/digest", "/schedule", "/announce", "/link", "/unlink", "/nonsense"]
MENU = sorted(v for table in CATALOGUE.tables.values()
              for k, v in table.items() if k.startswith("menu."))
ANSWERS = ["hôm qua", "hom nay", "25/11", "t7", "Kinh tế", "Xã hội",
           "Giúp hộ nghèo thôn Bản Chặng sửa lại chuồng trại", "4", "2 hộ", "2tr5", "500",
           "Chợ Bản Chặng", "có", "không", "7:30", "Tu dưỡng, rèn luyện theo gương Bác Hồ",
           "1. Giúp hộ nghèo\n2. Dọn vệ sinh đường làng", "Họp chi bộ tối thứ 6",
           "Hôm qua cùng đ/c Bình giúp 3 hộ nghèo ở thôn Bản Chặng sửa nhà, hỗ trợ 2tr5",
           "sang thu 7 don ve sinh nha van hoa thon"]
# A photo's caption: what was done, or anything (Telegram takes at most 1,024 characters).
CAPTIONS = st.one_of(
    st.sampled_from(["Sáng nay trồng 50 cây xanh ở đường vào thôn", "Tuần tra an ninh đêm qua",
                     "ảnh", *ANSWERS]),
    TYPED.map(lambda text: text[:1024]).filter(lambda text: text.strip() != ""))
CHANNEL = "Báo Lạng Sơn"
# Telegram takes at most 4,096 characters a message, and never a message of spaces only.
RANDOM_TEXT = TYPED.map(lambda text: text[:4096]).filter(lambda text: text.strip() != "")
TEXTS = st.one_of(st.sampled_from(COMMANDS), st.sampled_from(MENU), st.sampled_from(ANSWERS),
                  RANDOM_TEXT)


# --- actions --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Act:
    kind: str
    user: int
    text: str = ""
    pick: int = 0
    fresh: bool = True
    latitude: float = 0.0
    longitude: float = 0.0


# The people who can do most come up most often: forms go deeper.
USERS = st.sampled_from([MAI, MAI, MAI, BINH, BINH, LAN, STRANGER])


def _acts(kind: str, **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Act]:
    return st.builds(Act, kind=st.just(kind), user=USERS, **fields)


COORDINATE = st.floats(-80, 80, allow_nan=False)
FORGED = st.text(max_size=64).filter(lambda data: 0 < len(data.encode()) <= 64)
KINDS: dict[str, st.SearchStrategy[Act]] = {
    "press newest": _acts("press", pick=st.integers(0, 1000), fresh=st.just(True)),
    "press any": _acts("press", pick=st.integers(0, 1000), fresh=st.just(False)),
    "type known": _acts("text", text=st.sampled_from(COMMANDS + MENU + ANSWERS)),
    "type anything": _acts("text", text=RANDOM_TEXT),
    "forged": _acts("forged", text=FORGED, pick=st.integers(0, 1000)),
    "photo": _acts("photo", pick=st.integers(1, 3)),
    "captioned": _acts("captioned", text=CAPTIONS, pick=st.integers(1, 3)),
    "forwarded": _acts("forwarded", text=TEXTS),
    "press again": _acts("again"),
    "location": _acts("location", latitude=COORDINATE, longitude=COORDINATE),
    "venue": _acts("venue", latitude=COORDINATE, longitude=COORDINATE, text=TEXTS),
    "sticker": _acts("sticker"), "voice": _acts("voice"), "contact": _acts("contact"),
    "edit": _acts("edit", text=TEXTS),
    "group": _acts("group", text=TEXTS),
}
# How often each kind is drawn: pressing the newest buttons and typing what the bot expects
# carry forms to their later steps; the rest is what people also do.
WEIGHTS = {"press newest": 8, "type known": 4, "type anything": 2, "press any": 2, "photo": 2}
ACTIONS = st.sampled_from([kind for kind in KINDS for _ in range(WEIGHTS.get(kind, 1))]
                          ).flatmap(KINDS.__getitem__)
# Each person first opens something (a flow with buttons to press), then anything goes.
OPENINGS = st.tuples(*(st.builds(Act, kind=st.just("text"), user=st.just(user),
                                 text=st.sampled_from(COMMANDS + MENU)) for user in PEOPLE))
SEQUENCES = st.builds(lambda opening, rest: [*opening, *rest], OPENINGS,
                      st.lists(ACTIONS, min_size=10, max_size=40))


def _newest(user: int, *picks: int) -> list[Act]:
    """Presses of the newest buttons; a negative pick counts from the end (-2: "Bỏ qua")."""
    return [Act("press", user, pick=pick) for pick in picks]


# Always played first: a whole report sent, with an album, then acknowledged by the leader,
# then an old button of it pressed again; so the checks on reports always see one.
WHOLE_REPORT = [
    Act("text", MAI, "/report"), *_newest(MAI, 1, 0),
    Act("text", MAI, "Giúp hộ nghèo thôn Bản Chặng sửa lại chuồng trại"),
    *_newest(MAI, -2, -2), Act("text", MAI, "4 người"), Act("text", MAI, "2 hộ"),
    Act("text", MAI, "2tr5"), Act("text", MAI, "Chợ Bản Chặng"), Act("photo", MAI, pick=2),
    *_newest(MAI, 0, 0, -2), Act("text", BINH, "/review"), *_newest(BINH, 0),
    Act("press", MAI, pick=3, fresh=False), Act("edit", MAI, text="/cancel"),
]
# Always played too: a card from an album with a caption, and one from a forwarded post (asked
# first whether it is the member's own deed), each sent with ✅ Gửi pressed twice on the same
# message; two reports are stored, not four.
CARDS_SENT_TWICE = [
    Act("captioned", MAI, "Sáng nay trồng 50 cây xanh ở đường vào thôn", pick=2),
    *_newest(MAI, 0), Act("again", MAI),
    Act("forwarded", MAI, "Xã tổ chức ra quân dọn vệ sinh môi trường toàn xã vào Chủ nhật"),
    *_newest(MAI, 0, 0), Act("again", MAI),
]


# --- watching for errors ----------------------------------------------------------------------

class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _errors_logged() -> Iterator[_Errors]:
    """Every ERROR logged anywhere; handlers/errors.py's on_error logs each update that
    failed there, with its exception."""
    errors = _Errors()
    root = logging.getLogger()
    root.addHandler(errors)
    try:
        yield errors
    finally:
        root.removeHandler(errors)


# --- one run ----------------------------------------------------------------------------------

@dataclass
class Run:
    bot: Harness
    errors: _Errors
    shown: dict[int, list[tuple[int, str]]] = field(default_factory=dict)
    sent: dict[int, list[int]] = field(default_factory=dict)
    # Each person's last press (message, data) and whether it stored a report.
    last_press: dict[int, tuple[tuple[int, str], bool]] = field(default_factory=dict)
    pressing: tuple[int, str] | None = None  # what the action being played presses
    # Presses that had stored a report, pressed again (and storing none).
    sent_twice: int = 0

    def remember_buttons(self) -> None:
        """Every button ever shown to each person, kept after its message was edited."""
        for user in PEOPLE:
            known = self.shown.setdefault(user, [])
            for message in self.bot.fake.messages(user):
                for _, data in self.bot.fake.inline_buttons(message):
                    pair = (message["message_id"], data)
                    if not data.startswith("http") and pair not in known:
                        known.append(pair)

    def newest_buttons(self, user: int) -> list[tuple[int, str]]:
        for message in reversed(self.bot.fake.messages(user)):
            found = [(message["message_id"], data)
                     for _, data in self.bot.fake.inline_buttons(message)
                     if not data.startswith("http")]
            if found:
                return found
        return []


async def _setup(bot: Harness) -> None:
    tree = await bot.tree()
    await bot.model(tree.cell, "Tiết kiệm theo gương Bác")
    await bot.join(MAI, tree.cell, "Mai", "Hoàng Thị")
    await bot.appoint(BINH, tree.cell, Role.LEADER, "Bình", "Nông Văn")
    await bot.appoint(LAN, tree.commune, Role.OBSERVER, "Lan", "Lý Thị")
    bot.person(STRANGER, "Người lạ")
    bot.fake.add_group(GROUP, "Chi bộ Thôn Bản Chặng")
    bot.fake.add_bot_to_group(GROUP, BINH)


async def _perform(run: Run, act: Act) -> tuple[int | None, str]:
    """Does the action; returns its update id (None if there was nothing to do) and what
    answer it needs: 'message' in the private chat, 'press' answered, or 'none'."""
    fake, user = run.bot.fake, act.user
    if act.kind in ("press", "forged"):
        if act.kind == "forged":
            messages = fake.messages(user)
            if not messages:
                return None, "none"
            target = (messages[act.pick % len(messages)]["message_id"], act.text)
        else:
            choices = run.newest_buttons(user) if act.fresh else run.shown.get(user, [])
            if not choices:
                return None, "none"
            target = choices[act.pick % len(choices)]
            run.pressing = target
        return fake.press(user, *target, check_button=False), "press"
    if act.kind == "again":
        if user not in run.last_press:
            return None, "none"
        return fake.press(user, *run.last_press[user][0], check_button=False), "press"
    if act.kind == "text":
        return fake.send_text(user, act.text), "message"
    if act.kind == "group":
        return fake.send_text(user, act.text, chat_id=GROUP), "none"
    if act.kind == "photo":
        album = f"album-{len(fake.calls)}" if act.pick > 1 else None
        ids = [fake.send_photo(user, media_group_id=album) for _ in range(act.pick)]
        return ids[-1], "photo"
    if act.kind == "captioned":
        # Telegram shows an album's caption when it is on one photo: here the first.
        album = f"album-{len(fake.calls)}" if act.pick > 1 else None
        ids = [fake.send_photo(user, media_group_id=album, caption=None if n else act.text)
               for n in range(act.pick)]
        return ids[-1], "photo"
    if act.kind == "forwarded":
        return fake.forward_from_channel(user, act.text, CHANNEL), "message"
    if act.kind == "location":
        return fake.send_location(user, act.latitude, act.longitude), "message"
    if act.kind == "venue":
        return fake.send_venue(user, act.latitude, act.longitude, act.text[:60], ""), "message"
    if act.kind == "contact":
        return fake.send_contact(user, "+84912345678", "Mai"), "message"
    if act.kind == "edit":
        return _edit(run, act), "message"
    return getattr(fake, f"send_{act.kind}")(user), "message"


def _edit(run: Run, act: Act) -> int | None:
    """The person edits the last text they sent into `act.text`."""
    fake = run.bot.fake
    sent = [m for m in fake.messages(act.user, include_incoming=True)
            if m["from"]["id"] == act.user and "text" in m]
    if not sent:
        return fake.send_text(act.user, act.text)
    edited = {**sent[-1], "text": act.text, "edit_date": sent[-1]["date"] + 1}
    edited.pop("entities", None)
    return fake.send_raw({"edited_message": edited})


async def _answered(run: Run, act: Act, need: str, mark: int) -> None:
    fake = run.bot.fake

    def shown_in_chat(f: Any) -> bool:
        return any(c.method in SHOWN and c.chat_id == act.user and not c.error
                   for c in f.calls[mark:])

    if need == "press":
        assert any(c.method == "answerCallbackQuery" for c in fake.calls[mark:]), \
            f"press not answered: {act}"
    elif need in ("message", "photo"):
        # Photos for a form are answered once the album is complete, and a report written in
        # one message once no more of it comes, after a short wait.
        await fake.wait_for(shown_in_chat, timeout=ALBUM_WAIT)


async def _check_invariants(run: Run, act: Act, mark: int) -> None:
    fake = run.bot.fake
    failed = [r.getMessage() + "\n" + (logging.Formatter().formatException(r.exc_info)
                                       if r.exc_info else "") for r in run.errors.records]
    assert not failed, f"after {act}: errors logged:\n" + "\n".join(failed)
    refused = [(c.method, c.error) for c in fake.calls[mark:]
               if c.error and not any(h in str(c.error) for h in HARMLESS_REFUSALS)]
    assert not refused, f"after {act}: Telegram refused {refused}"
    assert await _bad_drafts(run.bot) == [], f"after {act}"
    assert await _incomplete_reports(run.bot) == [], f"after {act}"


async def _bad_drafts(bot: Harness) -> list[str]:
    """Drafts that are not valid for their form, judged against the context the bot builds."""
    conversations = bot.core.conversations
    problems = []
    async with bot.db.transaction() as tx:
        owners = [row["telegram_user_id"] for row in
                  await tx.all("SELECT telegram_user_id FROM drafts ORDER BY id")]
    for owner in owners:
        async with bot.core.requests.begin(owner) as req:
            draft = await drafts.draft_of(req.tx, owner)
            assert draft is not None
            kind = conversations.kinds.get(draft.form)
            if kind is None:
                problems.append(f"draft of {owner}: unknown form {draft.form}")
                continue
            state = DraftState.model_validate(draft.state)
            try:
                ctx = await kind.context(req, state)
            except Refusal:  # the owner may no longer use it: it is dropped at the next use
                continue
            problems += [f"{draft.form} draft of {owner}: {error}"
                         for error in draft_errors(kind.form, state, ctx)]
    return problems


async def _incomplete_reports(bot: Harness) -> list[str]:
    settings_ = bot.core.services.settings.report
    problems = []
    async with bot.db.transaction() as tx:
        for report in await tx.all("SELECT * FROM reports ORDER BY id"):
            rid = report["id"]
            if report["field"] not in settings_.fields:
                problems.append(f"report {rid}: field {report['field']!r}")
            if not settings_.description_min <= len(report["description"]) \
                    <= settings_.description_max:
                problems.append(f"report {rid}: description length")
            positions = [row["position"] for row in await tx.all(
                "SELECT position FROM report_photos WHERE report_id = ? ORDER BY position",
                (rid,))]
            if positions != list(range(len(positions))) or len(positions) > \
                    settings_.max_photos:
                problems.append(f"report {rid}: photos at {positions}")
            if await tx.one("SELECT 1 FROM report_participants WHERE report_id = ?"
                            " AND person_id = ?", (rid, report["person_id"])):
                problems.append(f"report {rid}: the author is also a participant")
        if tx.dialect == "sqlite":  # PostgreSQL checks each reference as it is written
            broken = await tx.all("PRAGMA foreign_key_check")
            problems += [f"broken reference: {tuple(row)}" for row in broken]
    return problems


async def _report_count(bot: Harness) -> int:
    async with bot.db.transaction() as tx:
        row = await tx.one("SELECT COUNT(*) AS n FROM reports")
    assert row is not None
    return int(row["n"])


async def _play(actions: list[Act]) -> Run:
    with tempfile.TemporaryDirectory() as folder, _errors_logged() as errors:
        async with started(Path(folder)) as bot:
            await _setup(bot)
            run = Run(bot, errors)
            for act in actions:
                run.remember_buttons()
                mark = len(bot.fake.calls)
                run.pressing = None
                before = await _report_count(bot)
                update_id, need = await _perform(run, act)
                if update_id is None:
                    continue
                await bot.after(update_id, mark)
                await _answered(run, act, need, mark)
                await _check_invariants(run, act, mark)
                stored = await _report_count(bot) - before
                if run.pressing is not None:
                    run.last_press[act.user] = (run.pressing, stored > 0)
                elif act.kind == "again" and run.last_press[act.user][1]:
                    assert stored == 0, f"{act}: a press that stored a report, pressed again, " \
                                        f"stored {stored} more"
                    run.sent_twice += 1
            return run


def _fuzz(profile: settings) -> int:
    count = 0

    @given(SEQUENCES)
    @example(WHOLE_REPORT)
    @example(CARDS_SENT_TWICE)
    @profile
    def any_sequence(actions: list[Act]) -> None:
        nonlocal count
        count += 1
        run = asyncio.run(_play(actions))
        if actions == CARDS_SENT_TWICE:
            assert run.sent_twice == 2, "both cards were sent, and ✅ Gửi pressed again"

    any_sequence()
    print(f"update sequences: {count} examples")
    return count


def test_any_sequence_of_updates_is_handled() -> None:
    _fuzz(CI)


@pytest.mark.heavy
def test_any_sequence_of_updates_is_handled_heavy() -> None:
    _fuzz(HEAVY)
