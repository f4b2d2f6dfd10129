"""`lantoa try`: the bot tried in a terminal, without Telegram.

The real Application (bot/runtime/app.py: the same core, handlers, jobs, ledger and pacing as
`lantoa run`) runs against the stand-in of the Bot API (standin.py) on a database of its own
(a fresh one in a temporary folder, or `--database`), filled with the demo units, models,
people and reports (demo.py). What is typed is a message of the person chosen; `#3` presses
a button; `:` starts the session's own commands (`:help`). The bot's clock can be moved to the
next digest or reminder time, and the schedule's own jobs for that moment are run, as they run
when it comes. What the bot does is printed (terminal.py), and the pictures and files it sends
are saved in the session's folder, with the database (unless given) and the log.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import datetime as dt
import os
import re
import signal
import tempfile
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from apscheduler.jobstores.base import JobLookupError
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from telegram.ext import Application, Job

from bot.parsing.text import fold
from bot.rules.schedules import is_holiday
from bot.runtime.app import build_application, idle, running
from bot.runtime.clock import MovableClock
from bot.runtime.config import WEEKDAYS, Settings
from bot.runtime.core import Core
from bot.runtime.logging_setup import configure_logging
from bot.runtime.services import Services
from bot.tryout.demo import GROUP_ID, GROUP_TITLE, LAN, MAI, SON, Demo, DemoPerson, load_try_data
from bot.tryout.standin import MAX_TEXT, StandIn, png
from bot.tryout.terminal import Transcript
from bot.tryout.wire import InProcessRequest
from bot.ui.catalogue import Catalogue, Texts
from bot.ui.formatting import day, preview, weekday_name
from storage.db import Database
from storage.entities import Role

TOKEN = "0:lantoa-thu"
TAKEN_WAIT = 30.0  # seconds for the bot to take a message before the terminal says it did not
PRESS = re.compile(r"#(m?)(\d{1,6})")
PHOTO_COLOUR = (200, 16, 46)
ECHO_MOST = 300  # characters of a piped-in line said back


class Lines:
    """The lines typed or piped in, read in a thread of their own so that the bot goes on
    meanwhile; None once they end (Ctrl+D, the end of a file, Ctrl+C). From a real file
    descriptor they are read unbuffered: a thread blocked in a buffered read when the session
    ends would stop the interpreter from exiting cleanly."""

    def __init__(self, stream: TextIO) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True,
                         name="lantoa-try-input").start()

    async def next(self) -> str | None:
        return await self._queue.get()

    def end(self) -> None:
        self._queue.put_nowait(None)

    def _put(self, line: str | None) -> None:
        self._loop.call_soon_threadsafe(self._queue.put_nowait, line)

    def _read(self, stream: TextIO) -> None:
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):
            for line in iter(stream.readline, ""):
                self._put(line)
            self._put(None)
            return
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pending = ""
        while chunk := os.read(fd, 65536):
            *lines, pending = (pending + decoder.decode(chunk)).split("\n")
            for line in lines:
                self._put(line)
        if pending + decoder.decode(b"", final=True):
            self._put(pending)
        self._put(None)


@dataclass
class Session:
    app: Application
    standin: StandIn
    clock: MovableClock
    settings: Settings
    t: Texts
    transcript: Transcript
    demo: Demo
    person: DemoPerson
    folder: Path
    echo: bool  # says back what was read (piped in, it was not seen being typed)

    async def open(self) -> None:
        """The welcome, and how to use it."""
        members = [p.first_name for p in self.demo.people if p.role is Role.MEMBER]
        self.transcript.say("try.welcome", unit=self.demo.cell_name, leader=SON.first_name,
                            members=", ".join(members), database=self.settings.database,
                            folder=self.folder)
        await _help(self, "")

    async def run(self, lines: Lines) -> None:
        await self._settle()
        while True:
            print(self.t.plain("try.prompt", name=self.person.first_name), end="",
                  file=self.transcript.out, flush=True)
            line = await lines.next()
            if line is None:
                print(file=self.transcript.out)
                break
            line = line.strip()
            if self.echo:
                print(preview(line, ECHO_MOST), file=self.transcript.out)
            if not await self.take(line):
                break
        self.transcript.say("try.bye", folder=self.folder, database=self.settings.database)

    async def take(self, line: str) -> bool:
        """Does what the line says; False: the session ends."""
        if not line:
            self.transcript.say("try.empty")
        elif line.startswith(":"):
            name, _, rest = line[1:].partition(" ")
            command = COMMANDS.get(name.lower())
            if command is None:
                self.transcript.say("try.unknown_command", command=line.split()[0])
                return True
            return await command(self, rest.strip())
        elif pressed := PRESS.fullmatch(line):
            await self._press(int(pressed[2]), menu=bool(pressed[1]))
        elif len(line) > MAX_TEXT:
            self.transcript.say("try.too_long", length=len(line), most=MAX_TEXT)
        else:
            await self.bot_takes(self.standin.write(self.person.user_id, line))
        return True

    async def _press(self, number: int, menu: bool) -> None:
        """A numbered button of the bot's latest message (`menu`: of the main menu)."""
        shown: Sequence[object] = self.transcript.menu if menu else self.transcript.presses
        if not shown:
            self.transcript.say("try.no_menu" if menu else "try.no_buttons")
            return
        if not 1 <= number <= len(shown):
            key = "try.no_menu_button" if menu else "try.no_button"
            self.transcript.say(key, number=number, last=len(shown))
            return
        update_id: int | None
        if menu:  # a button of the main menu sends its words
            update_id = self.standin.write(self.person.user_id, self.transcript.menu[number - 1])
        else:
            press = self.transcript.presses[number - 1]
            update_id = self.standin.press(self.person.user_id, press.message_id, press.data)
        if update_id is None:
            self.transcript.say("try.button_gone", number=number)
        else:
            await self.bot_takes(update_id)

    async def bot_takes(self, update_id: int) -> None:
        """Waits for the bot to take the update and do all it does about it, then shows it."""
        if not await self.standin.taken(update_id, TAKEN_WAIT):
            self.transcript.say("try.not_taken")
        await self._settle()
        if not self.transcript.show_new(self.person.user_id):
            self.transcript.say("try.no_answer")

    async def _settle(self) -> None:
        """Until the bot has nothing left to do: a quiet time it waits out (for more photos of
        an album, the rest of a report in several messages) ends at once, as nothing more is
        coming while the terminal waits for the bot."""
        try:
            await idle(self.app)
            while waiting := self._waiting_jobs():
                for job in waiting:
                    with contextlib.suppress(JobLookupError):  # its time came meanwhile
                        job.schedule_removal()
                        await job.run(self.app)
                await idle(self.app)
        except (AssertionError, RuntimeError):  # the sender still busy, or stopped
            self.transcript.say("try.still_sending")

    def _waiting_jobs(self) -> list[Job]:
        queue = self.app.job_queue
        soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.settings.album_wait_seconds
                                                      + 1)
        return [job for job in queue.jobs() if isinstance(job.job.trigger, DateTrigger)
                and job.next_t is not None and job.next_t <= soon] if queue else []

    def switch(self, person: DemoPerson) -> None:
        self.person = person
        self.transcript.say("try.now_as", name=person.full_name,
                            role=self.t.plain(f"try.role.{person.role.value}"),
                            unit=self.demo.cell_name)
        self.transcript.recap(person.user_id)

    async def move_clock(self, weekday: str, at: dt.time) -> None:
        """To the next `weekday` at `at`, local time; then the schedule's jobs due at that
        moment run, as they do when it comes."""
        zone = self.settings.zone
        now = self.clock.now().astimezone(zone)
        date = now.date() + dt.timedelta(days=(WEEKDAYS.index(weekday) - now.weekday()) % 7)
        moment = dt.datetime.combine(date, at, zone)
        if moment <= now:
            moment += dt.timedelta(weeks=1)
        self.clock.move_to(moment)
        self.transcript.say("try.clock", weekday=weekday_name(moment.date(), self.t),
                            date=day(moment.date()), time=moment.strftime("%H:%M"))
        if is_holiday(moment.date()):
            self.transcript.say("try.holiday")
        for job in self._due_at(moment):
            await job.run(self.app)
        await self._settle()
        if not self.transcript.show_new(self.person.user_id):
            self.transcript.say("try.nothing_sent")

    def _due_at(self, moment: dt.datetime) -> list[Job]:
        queue = self.app.job_queue
        return [job for job in queue.jobs() if isinstance(job.job.trigger, CronTrigger)
                and job.job.trigger.get_next_fire_time(None, moment) == moment] if queue else []


# --- the session's own commands: each gets what follows its name -------------------------------

Command = Callable[[Session, str], Awaitable[bool]]


async def _help(session: Session, rest: str) -> bool:
    plan, t = session.settings.schedule, session.t
    session.transcript.say(
        "try.help", member=LAN.first_name, leader=SON.first_name, other=MAI.first_name,
        digest_day=t.plain(f"weekday.{WEEKDAYS.index(plan.digest_weekday)}"),
        digest=plan.digest_time.strftime("%H:%M"),
        reminder_day=t.plain(f"weekday.{WEEKDAYS.index(plan.reminder_weekday)}"),
        reminder=plan.reminder_time.strftime("%H:%M"))
    return True


async def _quit(session: Session, rest: str) -> bool:
    return False


async def _member(session: Session, rest: str) -> bool:
    session.switch(LAN)
    return True


async def _leader(session: Session, rest: str) -> bool:
    session.switch(SON)
    return True


async def _as(session: Session, rest: str) -> bool:
    wanted = fold(rest)
    found = [p for p in session.demo.people
             if wanted and wanted in (fold(p.first_name), fold(p.full_name))]
    if found:
        session.switch(found[0])
    else:
        session.transcript.say("try.who",
                               names=", ".join(p.first_name for p in session.demo.people))
    return True


async def _photo(session: Session, rest: str) -> bool:
    await session.bot_takes(session.standin.send_photo(session.person.user_id,
                                                        png(320, 240, PHOTO_COLOUR), rest))
    return True


async def _monday(session: Session, rest: str) -> bool:
    plan = session.settings.schedule
    await session.move_clock(plan.digest_weekday, plan.digest_time)
    return True


async def _friday(session: Session, rest: str) -> bool:
    plan = session.settings.schedule
    await session.move_clock(plan.reminder_weekday, plan.reminder_time)
    return True


COMMANDS: dict[str, Command] = {
    "help": _help, "quit": _quit, "member": _member, "leader": _leader, "as": _as,
    "photo": _photo, "monday": _monday, "friday": _friday,
}


# --- the session -------------------------------------------------------------------------------


async def try_bot(settings: Settings, database: Path | None, stdin: TextIO,
                  stdout: TextIO) -> None:
    """The session, until its input ends: on `database`, or a new one in its folder."""
    folder = Path(tempfile.mkdtemp(prefix="lantoa-thu-"))
    settings = settings.model_copy(update={"database": database or folder / "lantoa.sqlite3"})
    # The terminal is the chat's: the log goes to a file.
    configure_logging(TOKEN, settings.zone, file=folder / "lantoa.log")
    catalogue, clock = Catalogue.load(), MovableClock()
    t = catalogue.texts("vi")
    db = await Database.open(settings.database)
    try:
        async with db.transaction() as tx:
            demo = await load_try_data(tx, clock.now(), settings.zone)
        standin = StandIn(clock)
        for person in demo.people:
            standin.add_person(person.user_id, person.first_name, person.last_name)
        standin.add_group(GROUP_ID, GROUP_TITLE)
        core = Core.build(Services(settings, db, catalogue, clock))
        app = build_application(core, TOKEN, request=InProcessRequest(standin),
                                updates_request=InProcessRequest(standin))
        ansi = stdout.isatty() and "NO_COLOR" not in os.environ
        session = Session(app, standin, clock, settings, t,
                          Transcript(stdout, t, standin, folder, ansi), demo, LAN, folder,
                          echo=not stdin.isatty())
        await session.open()
        async with running(app):
            lines = Lines(stdin)
            with _ctrl_c_ends(lines):
                session.switch(LAN)
                await session.run(lines)
    finally:
        await db.close()


@contextlib.contextmanager
def _ctrl_c_ends(lines: Lines) -> Iterator[None]:
    """Ctrl+C ends the session as Ctrl+D does, once what the bot is doing is shown."""
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGINT, lines.end)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, Windows
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)
