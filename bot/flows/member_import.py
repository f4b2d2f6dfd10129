"""Importing members from a file (`lantoa member import`, /import): hundreds of people at once,
each created without Telegram, with the role the file gives, and a personal invite link that
makes whoever opens it that person (bot/flows/joins.py); the links come back as a spreadsheet
to hand out.

A file is checked whole before anything is written, and imported in one transaction: with any
row wrong, nothing is, and the answer names each wrong row by the file's own line number. A
row whose name and unit are already someone's with a role there is that person, never created
again: importing the same file twice changes nothing but the links' expiry (and the phone
numbers and usernames the file gives), and gives who has not joined yet their link again. The
link they were handed out stays the one that works (its expiry pushed on), for the first list
may be on paper already; a new one is made only when the old one no longer works (expired, or
revoked by a leader).

In the bot: /import says what file is wanted and waits for it (an hour; the file alone works
too, for a leader sending a spreadsheet); the file sent as a document is read and shown as a
preview; ✅ Nhập imports it and sends the links file. What waits between the preview and ✅
is a row in the database (storage/member_import.py), so a restart loses nothing, and ✅
pressed twice imports once (the second sends the links file again). A leader imports into the
units of their subtree only: any other unit is a wrong row, named.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath
from typing import TYPE_CHECKING

from bot.flows.invites import CODE_BYTES, bot_username, invite_link
from bot.flows.joins import ROLE_KEYS
from bot.flows.members import TITLES
from bot.forms.engine import Input, OtherInput, TextInput
from bot.parsing.member_import import Written, name_key, read_sheet
from bot.parsing.tables import RowProblem, TableError, read_table
from bot.parsing.text import fold
from bot.rules.access import Action, Request
from bot.runtime.config import Settings
from bot.ui import formatting
from bot.ui.buttons import ButtonData, Id
from bot.ui.catalogue import Markup, Texts
from bot.ui.paging import in_tree_order
from bot.ui.screens import Button, Document, Reply, Screen
from storage import audit, units
from storage import member_import as store
from storage.db import Database, Tx
from storage.entities import Entity, NewInvite, Role, Unit
from storage.member_import import Known, NewMember, Session, Status

if TYPE_CHECKING:  # openpyxl is imported when a workbook is made: see bot/ui/spreadsheets.py
    from openpyxl.cell import Cell
    from openpyxl.styles import Font
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

log = logging.getLogger(__name__)

BOT_MAX_ROWS = 2000  # a commune's list; a province's goes through the command line
MAX_DOWNLOAD = 20 * 1024 * 1024  # the largest file a bot may download from Telegram
WAIT_FOR_FILE = dt.timedelta(hours=1)  # after /import, a photo or sticker is a wrong file
SHOWN_PROBLEMS = 20
SHOWN_UNITS = 15
TABLE_NAMES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls")
STALE = "member_import.gone"


class ConfirmImport(ButtonData, prefix="mi:go", action=Action.IMPORT_MEMBERS):
    session: Id


class CancelImport(ButtonData, prefix="mi:no", action=Action.ANSWER_FORM):
    """One's own import dropped, whatever one leads now."""

    session: Id


Press = ConfirmImport | CancelImport
BUTTONS = (ConfirmImport, CancelImport)


class ImportRow(Entity):
    """A checked row: what the import creates (kept as JSON until ✅)."""

    line: int
    name: str
    unit_id: int
    role: Role
    title: str | None = None
    username: str | None = None
    phone: str | None = None


class Outcome(StrEnum):
    NEW = "new"  # created now
    AGAIN = "again"  # there already, not joined yet: their link again
    JOINED = "joined"  # there already, on Telegram: no link needed


@dataclass(frozen=True)
class LinkLine:
    """One line of the links file."""

    line: int
    name: str
    unit: Unit
    role: Role
    title: str | None
    outcome: Outcome
    code: str | None = None
    expires_at: dt.datetime | None = None


@dataclass(frozen=True)
class Checked:
    rows: list[ImportRow]
    problems: list[RowProblem]
    guessed_encoding: str | None


class UnitFinder:
    """The unit a row names, by code (any case) or by name, among those one may import into
    (`allowed`; None: every unit)."""

    def __init__(self, every: list[Unit], allowed: set[int] | None) -> None:
        self.allowed = allowed
        self.by_code = {u.code.casefold(): u for u in every if u.code}
        self.by_name: dict[str, list[Unit]] = {}
        for unit in every:
            self.by_name.setdefault(fold(unit.name), []).append(unit)

    def find(self, row: Written) -> Unit | RowProblem:
        unit = self.by_code.get(row.unit.casefold())
        if unit is None:
            named = self.by_name.get(fold(row.unit), [])
            if len(named) > 1:
                return RowProblem(row.line, "member_import.problem.unit_ambiguous",
                               {"unit": row.unit, "count": len(named)})
            if not named:
                return RowProblem(row.line, "member_import.problem.unit_unknown",
                                  {"unit": row.unit})
            unit = named[0]
        if self.allowed is not None and unit.id not in self.allowed:
            return RowProblem(row.line, "member_import.problem.unit_outside",
                           {"unit": row.unit, "name": unit.name})
        return unit


async def check_file(tx: Tx, data: bytes, filename: str, reach: list[Unit] | None,
                     max_rows: int | None = None) -> Checked:
    """The file's rows checked against the units (those of `reach`; None: any unit), or
    TableError when it cannot be read as a list at all."""
    table = read_table(data, filename, max_rows)
    sheet = read_sheet(table)
    finder = UnitFinder(await units.list_units(tx),
                        None if reach is None else {u.id for u in reach})
    rows: list[ImportRow] = []
    problems = list(sheet.problems)
    first_line: dict[tuple[str, int], int] = {}
    for written in sheet.rows:
        unit = finder.find(written)
        if isinstance(unit, RowProblem):
            problems.append(unit)
            continue
        key = (name_key(written.name), unit.id)
        if key in first_line:
            problems.append(RowProblem(written.line, "member_import.problem.duplicate",
                                    {"name": written.name, "first": first_line[key]}))
            continue
        first_line[key] = written.line
        rows.append(ImportRow(line=written.line, name=written.name, unit_id=unit.id,
                              role=written.role, title=written.title,
                              username=written.username, phone=written.phone))
    problems.sort(key=lambda problem: problem.line)
    return Checked(rows, problems, table.guessed_encoding)


def _known_by_key(known: list[Known]) -> dict[tuple[str, int], Known]:
    found: dict[tuple[str, int], Known] = {}
    for person in known:
        found.setdefault((name_key(person.full_name), person.unit_id), person)
    return found


async def import_rows(tx: Tx, rows: list[ImportRow], now: dt.datetime, days: int,
                      created_by: int | None) -> list[LinkLine]:
    """Creates whoever is not there yet, with their roles, and makes sure everyone not on
    Telegram yet has a working personal link; the links file's lines, in the file's order."""
    unit_of = {u.id: u for u in await units.list_units(tx)}
    known = _known_by_key(await store.known_in(tx, sorted({r.unit_id for r in rows})))
    matched = {r.line: known.get((name_key(r.name), r.unit_id)) for r in rows}
    waiting = [k.person_id for k in matched.values() if k and k.telegram_user_id is None]
    expires_at = now + dt.timedelta(days=days)
    links = await store.live_links(tx, waiting, now)
    await store.extend_links(tx, [link.invite_id for link in links], expires_at)
    # Each person's link: the one that works already (newest last), else one made below.
    codes = {link.person_id: (link.code, max(expires_at, link.expires_at)) for link in links}
    await store.set_contacts(tx, [(k.person_id, r.phone, r.username) for r in rows
                                  if (k := matched[r.line]) and (r.phone or r.username)])
    fresh = [r for r in rows if matched[r.line] is None]
    ids = await store.add_members(tx, [NewMember(
        full_name=r.name, unit_id=r.unit_id, role=r.role, title=r.title,
        telegram_username=r.username, phone=r.phone) for r in fresh], now)
    person_of = {r.line: person_id for r, person_id in zip(fresh, ids, strict=True)}
    lines: list[LinkLine] = []
    new_links: list[NewInvite] = []
    for row in rows:
        person = matched[row.line]
        unit = unit_of[row.unit_id]
        if person is not None and person.telegram_user_id is not None:
            lines.append(LinkLine(row.line, person.full_name, unit, person.role, person.title,
                                  Outcome.JOINED))
            continue
        person_id = person.person_id if person else person_of[row.line]
        role, title = (person.role, person.title) if person else (row.role, row.title)
        if person_id not in codes:  # (someone listed in two of their units gets one link)
            codes[person_id] = secrets.token_urlsafe(CODE_BYTES), expires_at
            new_links.append(NewInvite(code=codes[person_id][0], unit_id=unit.id, role=role,
                                       max_uses=1, expires_at=expires_at, person_id=person_id))
        lines.append(LinkLine(row.line, person.full_name if person else row.name, unit, role,
                              title, Outcome.AGAIN if person else Outcome.NEW, *codes[person_id]))
    await store.add_links(tx, new_links, created_by, now)
    return lines


def counts(lines: list[LinkLine]) -> Counter[Outcome]:
    return Counter(line.outcome for line in lines)


def outcome_text(t: Texts, lines: list[LinkLine]) -> str:
    """"5 đồng chí mới, 2 đồng chí đã tham gia": what an import did, nothing said of none."""
    done = counts(lines)
    return ", ".join(t.plain(f"member_import.outcome.{outcome}", count=done[outcome])
                     for outcome in Outcome if done[outcome])


def summary(lines: list[LinkLine]) -> str:
    """What an import did, for the audit log: "new:30 again:4 joined:0"."""
    done = counts(lines)
    return " ".join(f"{outcome}:{done[outcome]}" for outcome in Outcome)


class RowsRefused(Exception):
    def __init__(self, checked: Checked) -> None:
        super().__init__(f"{len(checked.problems)} rows")
        self.checked = checked


# --- what people read ---------------------------------------------------------------------------


def role_label(role: Role, title: str | None, t: Texts) -> str:
    """"bí thư", "Bí thư Đảng ủy xã" (a title as the file wrote it), "đảng viên"."""
    if role is Role.LEADER and title:
        return t.plain(TITLES[title]) if title in TITLES else title
    return t.plain(ROLE_KEYS[role])


def problem_lines(t: Texts, problems: list[RowProblem], shown: int,
                  plain: bool = False) -> list[str]:
    """"Dòng 7: thiếu họ tên.", as many as `shown`, then how many more; `plain` for the
    terminal."""
    say = t.plain if plain else t
    listed = problems[:shown]
    lines = [say("member_import.problem_line", line=p.line, problem=say(p.key, **p.params))
             for p in listed]
    if len(problems) > len(listed):
        lines.append(say("member_import.problems_more", count=len(problems) - len(listed)))
    return lines


def links_filename(source: str) -> str:
    """"danh-sach.csv" → "danh-sach-lien-ket.xlsx"."""
    return f"{PurePath(source).stem or 'danh-sach'}-lien-ket.xlsx"


def links_file(lines: list[LinkLine], t: Texts, link: Callable[[str], str],
               zone: dt.tzinfo, csv_file: bool = False) -> bytes:
    """The spreadsheet to hand out: each person, their unit and role, their personal link
    and its expiry, and what the import did (new, there already, joined already)."""
    header = [t.plain(f"member_import.column.{name}") for name in
              ("number", "name", "unit", "code", "role", "link", "expires", "status")]
    records = [[number, line.name, line.unit.name, line.unit.code or "",
                role_label(line.role, line.title, t), link(line.code) if line.code else "",
                formatting.day(line.expires_at.astimezone(zone)) if line.expires_at else "",
                t.plain(f"member_import.status.{line.outcome}")]
               for number, line in enumerate(lines, start=1)]
    return _csv(header, records) if csv_file else _workbook(header, records, t)


def _csv(header: list[str], records: list[list[object]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(records)
    # With its byte-order mark, Excel opens UTF-8 as UTF-8 (not as the Windows code page).
    return out.getvalue().encode("utf-8-sig")


LINK_COLUMN = 5  # where the link is in a record, made clickable in the workbook
WIDTHS = {"A": 6, "B": 28, "C": 32, "D": 10, "E": 16, "F": 44, "G": 12, "H": 24}


def _workbook(header: list[str], records: list[list[object]], t: Texts) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.properties import PageSetupProperties

    book = Workbook(write_only=True)  # streamed: 20,000 rows written in about a second
    sheet = book.create_sheet(t.plain("member_import.sheet_title"))
    sheet.freeze_panes = "A2"
    # Printed to hand out: across the page, as wide as it is, the header on every page.
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = "1:1"
    for column, width in WIDTHS.items():
        sheet.column_dimensions[column].width = width
    bold = Font(bold=True)
    sheet.append([_cell(sheet, text, font=bold) for text in header])
    for record in records:
        url = str(record[LINK_COLUMN])
        if url:
            record[LINK_COLUMN] = _cell(sheet, url, hyperlink=url)
        sheet.append(record)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(sheet: WriteOnlyWorksheet, value: str, font: Font | None = None,
          hyperlink: str | None = None) -> Cell:
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    if font is not None:
        cell.font = font
    if hyperlink is not None:
        cell.hyperlink = hyperlink
    return cell


# --- /import in the bot -------------------------------------------------------------------------


@dataclass(frozen=True)
class FileOffer:
    """A document someone sent, as the messenger describes it before it is downloaded."""

    name: str
    size: int | None


@dataclass(frozen=True)
class Fetch:
    """The document is an import's file: download it and hand it to `MemberImport.received`."""


def _cancel_button(t: Texts, session_id: int) -> tuple[tuple[Button, ...], ...]:
    return ((Button(t.plain("member_import.cancel"), CancelImport(session_id).pack()),),)


class MemberImport:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def open(self, req: Request) -> Reply:
        """/import: what file is wanted, and the units it may name; the import then waits
        for the file."""
        reach = await req.reach(Action.IMPORT_MEMBERS)
        if not reach:
            return await self._refuse(req)
        session = await store.begin(req.tx, req.user_id, req.now)
        t = req.t
        named = [t("member_import.unit_line", code=u.code, unit=u.name) if u.code
                 else t("member_import.unit_line_no_code", unit=u.name)
                 for u in in_tree_order(reach)[:SHOWN_UNITS]]
        if len(reach) > SHOWN_UNITS:
            named.append(t("member_import.units_more", count=len(reach) - SHOWN_UNITS))
        text = t("member_import.intro", units=Markup("\n".join(named)),
                 limit=formatting.number(BOT_MAX_ROWS, t), valid=self._valid(t))
        return Reply((Screen(text, _cancel_button(t, session.id)),))

    def _valid(self, t: Texts) -> str:
        """"dùng được 30 ngày": how long the links of an import work."""
        return t.plain("member_import.valid", days=self.settings.import_invite_days)

    async def _refuse(self, req: Request) -> Reply:
        log.warning("user %s refused /import", req.user_id)
        await audit.record(req.tx, req.now, f"tg:{req.user_id}", "refused",
                           Action.IMPORT_MEMBERS.value, "no unit in reach")
        key = "member_import.not_allowed" if req.actor.known else "access.not_member"
        return Reply((Screen(req.t(key)),))

    async def _waiting(self, req: Request) -> Session | None:
        return await store.open_session(req.tx, req.user_id, req.now - WAIT_FOR_FILE)

    async def offered(self, req: Request, offer: FileOffer) -> Reply | Fetch | None:
        """Whether a document sent is an import's file (Fetch), refused at once (a Reply), or
        not the import's business (None: what any document gets)."""
        waiting = await self._waiting(req)
        asked = waiting is not None and waiting.status is Status.WAITING
        if not asked and not offer.name.casefold().endswith(TABLE_NAMES):
            return None
        if not await req.reach(Action.IMPORT_MEMBERS):
            if waiting is None:
                return None  # a member's spreadsheet: nothing to import
            await store.cancel_open(req.tx, req.user_id, req.now)
            return await self._refuse(req)
        if offer.size is not None and offer.size > MAX_DOWNLOAD:
            return await self.too_big(req)
        return Fetch()

    async def too_big(self, req: Request) -> Reply:
        return Reply((Screen(req.t("member_import.too_big",
                                   limit=MAX_DOWNLOAD // (1024 * 1024))),))

    async def download_failed(self, req: Request) -> Reply:
        return Reply((Screen(req.t("member_import.download_failed")),))

    async def received(self, req: Request, offer: FileOffer, data: bytes) -> Reply:
        """The file read and checked: its preview with ✅ Nhập, or what is wrong in it."""
        t = req.t
        reach = await req.reach(Action.IMPORT_MEMBERS)
        if not reach:
            return await self._refuse(req)
        # A file after a preview is a new import: the older preview's ✅ no longer works.
        waiting = await self._waiting(req)
        if waiting is None or waiting.status is not Status.WAITING:
            waiting = await store.begin(req.tx, req.user_id, req.now)
        cancel = _cancel_button(t, waiting.id)
        try:
            checked = await check_file(req.tx, data, offer.name, reach, BOT_MAX_ROWS + 1)
        except TableError as refused:
            await store.previewed(req.tx, waiting.id, offer.name, None, req.now)
            return Reply((Screen(t(refused.key, **refused.params), cancel),))
        if checked.problems or not checked.rows:
            await store.previewed(req.tx, waiting.id, offer.name, None, req.now)
            return Reply((Screen(self._problems(t, offer.name, checked), cancel),))
        await store.previewed(req.tx, waiting.id, offer.name,
                              [row.model_dump(mode="json") for row in checked.rows], req.now)
        return Reply((await self._preview(req, offer.name, checked, waiting.id),))

    @staticmethod
    def _problems(t: Texts, filename: str, checked: Checked) -> str:
        if not checked.problems:
            return t("member_import.no_rows", file=filename)
        lines = [t("member_import.problems_title", file=filename, count=len(checked.problems)),
                 *problem_lines(t, checked.problems, SHOWN_PROBLEMS),
                 t("member_import.problems_fix", good=len(checked.rows))]
        return "\n".join(lines)

    async def _preview(self, req: Request, filename: str, checked: Checked,
                       session_id: int) -> Screen:
        t, rows = req.t, checked.rows
        unit_of = {u.id: u for u in await units.list_units(req.tx)}
        roles = Counter(row.role for row in rows)
        per_unit = Counter(row.unit_id for row in rows)

        def number(n: int) -> str:
            return formatting.number(n, t)

        lines = [t("member_import.preview_title", file=filename, count=number(len(rows)),
                   roles=", ".join(t.plain(f"member_import.role_count.{role}",
                                           count=number(roles[role]))
                                   for role in Role if roles[role])),
                 t("member_import.preview_units", units=" · ".join(
                     t.plain("member_import.unit_count", unit=unit_of[unit_id].name,
                             count=number(n))
                     for unit_id, n in per_unit.most_common(SHOWN_UNITS)))]
        known = _known_by_key(await store.known_in(req.tx, sorted(per_unit)))
        there = sum((name_key(row.name), row.unit_id) in known for row in rows)
        if there:
            lines.append(t("member_import.preview_known", count=there))
        if checked.guessed_encoding:
            lines.append(t("member_import.preview_encoding",
                           names=", ".join(row.name for row in rows[:5])))
        lines.append(t("member_import.preview_ask", valid=self._valid(t)))
        buttons = ((Button(t.plain("member_import.confirm"), ConfirmImport(session_id).pack()),
                    Button(t.plain("member_import.cancel"), CancelImport(session_id).pack())),)
        return Screen("\n".join(lines), buttons)

    async def not_a_file(self, req: Request, given: Input) -> Reply | None:
        """A photo, sticker, voice note… while /import waits for its file: what it wants."""
        if isinstance(given, TextInput) or (
                isinstance(given, OtherInput) and given.kind == "command"):
            return None
        waiting = await self._waiting(req)
        if waiting is None or waiting.status is not Status.WAITING:
            return None
        return Reply((Screen(req.t("member_import.not_a_file"),
                             _cancel_button(req.t, waiting.id)),))

    async def cancel(self, req: Request) -> Reply | None:
        """/cancel while an import waits: it is over (None when none waits)."""
        if await self._waiting(req) is None:
            return None
        await store.cancel_open(req.tx, req.user_id, req.now)
        return Reply((Screen(req.t("member_import.cancelled")),))

    # --- presses --------------------------------------------------------------------------

    async def press(self, req: Request, press: Press) -> Reply:
        t = req.t
        session = await store.get_session(req.tx, press.session)
        if session is None or session.telegram_user_id != req.user_id:
            log.warning("user %s pressed import %s, not theirs", req.user_id, press.session)
            return Reply(toast=t.plain(STALE))
        if isinstance(press, CancelImport):
            if session.status not in (Status.WAITING, Status.PREVIEWED):
                return Reply(toast=t.plain(STALE))
            await store.cancel_open(req.tx, req.user_id, req.now)
            return Reply((Screen(t("member_import.cancelled")),), replace=True)
        if session.status not in (Status.PREVIEWED, Status.IMPORTED):
            return Reply(toast=t.plain(STALE))
        return await self._import(req, session)

    async def _import(self, req: Request, session: Session) -> Reply:
        """✅ Nhập: the rows previewed, imported once; pressed again, the links file again."""
        t = req.t
        rows = [ImportRow.model_validate(row) for row in session.rows]
        for unit_id in sorted({row.unit_id for row in rows}):
            refusal = await req.check(Action.IMPORT_MEMBERS, unit_id, pressed=True)
            if refusal is not None:
                return refusal
        first = await store.imported(req.tx, session.id, req.now)
        me = req.actor.person
        lines = await import_rows(req.tx, rows, req.now, self.settings.import_invite_days,
                                  me.id if me else None)
        done = counts(lines)
        if first:
            await audit.record(req.tx, req.now, req.actor.label, "member_import",
                               f"import:{session.id}", summary(lines))
        username = await bot_username(req.tx, self.settings) or t.plain(
            "cli.bot_username_placeholder")
        filename = session.filename or ""
        zone = self.settings.zone

        async def document() -> Document:
            data = links_file(lines, t, lambda code: invite_link(username, code), zone)
            caption = t.plain("member_import.file_caption", count=len(lines) - done[
                Outcome.JOINED])
            return Document(links_filename(filename), data, caption)

        text = (t("member_import.done", file=filename, outcome=outcome_text(t, lines)) if first
                else t("member_import.done_again", file=filename))
        return Reply((Screen(text),), replace=True, document=document,
                     toast=t.plain("member_import.done_toast"))


# --- the command line ---------------------------------------------------------------------------


async def import_to_file(db: Database, settings: Settings, t: Texts, source: str, data: bytes,
                         now: dt.datetime, days: int, csv_file: bool,
                         write: Callable[[bytes], object]) -> list[str]:
    """`lantoa member import`: the list in `data` imported into any unit, its links file
    handed to `write` before the commit (a file that cannot be written imports nothing); what
    to print. TableError, or RowsRefused with every wrong row, when it cannot be imported
    whole."""
    async with db.transaction() as tx:
        checked = await check_file(tx, data, source, None)
        if checked.problems:
            raise RowsRefused(checked)
        lines = await import_rows(tx, checked.rows, now, days, None)
        await audit.record(tx, now, "cli", "member_import", f"file:{source}", summary(lines))
        known = await bot_username(tx, settings)
        username = known or t.plain("cli.bot_username_placeholder")
        write(links_file(lines, t, lambda code: invite_link(username, code), settings.zone,
                         csv_file))
    said = [t.plain("member_import.cli.done", outcome=outcome_text(t, lines))]
    if checked.guessed_encoding:
        said.append(t.plain("member_import.cli.encoding",
                            names=", ".join(line.name for line in lines[:5])))
    if known is None:
        said.append(t.plain("cli.bot_username_unknown"))
    return said


def cli_refusal(t: Texts, refused: RowsRefused, filename: str) -> str:
    """Every wrong row of the file, one a line, after what they mean."""
    problems = refused.checked.problems
    return "\n".join([t.plain("member_import.cli.problems", file=filename, count=len(problems)),
                      *problem_lines(t, problems, len(problems), plain=True)])
