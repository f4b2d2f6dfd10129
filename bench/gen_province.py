"""Builds one province's database for the province-scale benchmarks (issue 5, benchmarks 3 and 5).

    .venv/bin/python -m bench.gen_province --out /tmp/province.sqlite3 [--seed 1] [--scale 1.0]

At scale 1: 1 provincial đảng bộ, 65 commune-level đảng bộ, 1,000 chi bộ, 4,000 tổ đảng, 35,000
members (leaders per unit, some observers, groups linked to units), about 4,000 models and
1,000,000 reports over the 5 years ending this week, with their co-participants, photos and
reviews; every unit's schedule rows as the bot gives them, and the ledger of the last two weeks'
digests and reminders as a running bot leaves it. `--scale 0.05` gives a small province.

The schema comes from our migrations (storage/ opens the file); rows are streamed in big
transactions with raw sqlite3 (a tool, not the product), from small seeded vocabularies.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bot.flows import command_menus as menus
from bot.rules.periods import key_of, week_of
from bot.rules.schedules import standard_rows
from bot.runtime.config import load_settings
from storage import schedules
from storage.db import Database

YEARS = 5
ZONE_OFFSET = dt.timedelta(hours=7)  # Asia/Ho_Chi_Minh has no daylight saving
BATCH = 50_000  # rows per executemany before a commit
FIELDS = ("Kinh tế", "Văn hóa", "Xã hội", "An sinh xã hội, giảm nghèo", "Quốc phòng – an ninh",
          "Xây dựng Đảng, hệ thống chính trị", "Môi trường", "Khác")
FIELD_WEIGHTS = (18, 10, 14, 20, 8, 10, 15, 5)

SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vi", "Lương", "Nông", "Lăng", "Hà",
            "Đinh", "Triệu", "Mã", "Lý", "Bế", "Hứa", "Chu", "Vy", "Đàm", "Lộc")
MIDDLE = ("Văn", "Thị", "Đức", "Minh", "Thanh", "Ngọc", "Hữu", "Xuân", "Thu", "Quang", "Kim",
          "Hồng", "Công", "Bích")
GIVEN = ("An", "Bình", "Chiến", "Dũng", "Giang", "Hà", "Hạnh", "Hoa", "Hùng", "Hương", "Khánh",
         "Lan", "Linh", "Long", "Mai", "Minh", "Nam", "Nga", "Phúc", "Phương", "Quân", "Sơn",
         "Tâm", "Thảo", "Thắng", "Thủy", "Trang", "Trung", "Tuấn", "Vân", "Yến", "Xuân")
PLACES = ("Bản Chặng", "Khau Slưa", "Nà Sla", "Pác Cáp", "Kéo Coong", "Nà Phái", "Bình Độ",
          "Đồng Mỏ", "Pò Mã", "Hồng Phong", "Tân Yên", "Chi Lăng", "Quang Lang", "Bắc Thủy",
          "Na Sầm", "Kháng Chiến", "Đào Viên", "Quốc Khánh", "Tri Phương", "Cao Minh",
          "Hùng Sơn", "Đội Cấn", "Tân Tiến", "Kim Đồng", "Chí Minh", "Hưng Đạo", "Vân Nham")
DEEDS = ("Trồng {n} cây keo trên đồi thôn {place}",
         "Vận động {n} hộ hiến đất làm đường bê tông thôn {place}",
         "Thăm hỏi, tặng quà {n} gia đình chính sách ở {place}",
         "Dọn vệ sinh đường làng, khơi thông cống rãnh thôn {place}",
         "Hướng dẫn {n} hộ trồng thạch đen, hồi theo hướng hữu cơ",
         "Tổ chức sinh hoạt chuyên đề học tập và làm theo Bác tại {place}",
         "Giúp {n} hộ nghèo sửa nhà trước mùa mưa ở {place}",
         "Tuần tra bảo vệ an ninh trật tự khu vực chợ {place}",
         "Quyên góp sách vở cho {n} học sinh điểm trường {place}",
         "Hòa giải mâu thuẫn đất đai giữa hai hộ ở thôn {place}",
         "Hỗ trợ {n} ngày công làm nhà văn hóa thôn {place}",
         "Tuyên truyền phòng chống ma túy cho thanh niên {place}",
         "Thu gom rác thải nhựa ven suối {place}",
         "Hướng dẫn bà con cài đặt ứng dụng VNeID ở {place}")
MODELS = ("Tuyến đường hoa", "Thắp sáng đường quê", "Nhà đoàn kết", "Tủ sách cộng đồng",
          "Vườn mẫu", "Dân vận khéo", "Camera an ninh", "Phân loại rác tại nguồn",
          "Hũ gạo tình thương", "Con đường bích họa", "Sản phẩm OCOP", "Bếp ăn bán trú")
TITLES = {"province": ("Bí thư", "Phó Bí thư", "Ủy viên Ban Thường vụ"),
          "commune": ("Bí thư", "Phó Bí thư", "Đảng ủy viên"),
          "cell": ("Bí thư", "Phó Bí thư"), "group": ("Tổ trưởng",)}


@dataclass(frozen=True)
class Plan:
    communes: int
    cells: int
    groups_per_cell: int
    members: int
    reports: int

    @classmethod
    def at(cls, scale: float) -> Plan:
        return cls(communes=max(1, round(65 * scale)), cells=max(1, round(1000 * scale)),
                   groups_per_cell=4, members=max(8, round(35_000 * scale)),
                   reports=max(100, round(1_000_000 * scale)))


@dataclass
class Unit:
    id: int
    level: str  # province, commune, cell, group
    parent: Unit | None
    members: list[int] = field(default_factory=list)  # people whose home unit this is
    leaders: list[int] = field(default_factory=list)
    models: list[tuple[int, str]] = field(default_factory=list)  # (id, created_at)

    @property
    def cell(self) -> Unit:
        """The chi bộ a tổ belongs to (itself for a chi bộ)."""
        return self.parent if self.level == "group" and self.parent else self


@dataclass
class Province:
    units: list[Unit] = field(default_factory=list)
    home: dict[int, Unit] = field(default_factory=dict)  # person → home unit
    reachable: list[int] = field(default_factory=list)
    people: int = 0


def _moment(at: dt.datetime) -> str:
    return at.isoformat(timespec="seconds")


def _name(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


class Generator:
    def __init__(self, db: sqlite3.Connection, plan: Plan, seed: int, now: dt.datetime) -> None:
        self.db = db
        self.plan = plan
        self.rng = random.Random(seed)
        self.now = now
        local_monday = week_of((now + ZONE_OFFSET).date()).first
        self.start = (dt.datetime.combine(local_monday - dt.timedelta(weeks=52 * YEARS),
                                          dt.time(), dt.UTC) - ZONE_OFFSET)
        self.province = Province()
        self.counts: dict[str, int] = {}

    # --- units, people, memberships ---------------------------------------------------------

    def units(self) -> None:
        plan, rng, made = self.plan, self.rng, _moment(self.start)
        rows: list[tuple] = []

        def add(level: str, parent: Unit | None, code: str, name: str, kind: str,
                group: bool) -> Unit:
            unit = Unit(len(self.province.units) + 1, level, parent)
            self.province.units.append(unit)
            rows.append((unit.id, code, name, kind, parent.id if parent else None,
                         -1_000_000_000_000 - unit.id if group else None, made))
            return unit

        top = add("province", None, "LS", "Đảng bộ tỉnh Lạng Sơn", "đảng bộ tỉnh", True)
        communes = [add("commune", top, f"X{c:02d}", f"Đảng bộ xã {PLACES[c % len(PLACES)]}"
                        + (f" {c // len(PLACES) + 1}" if c >= len(PLACES) else ""),
                        "đảng bộ xã", rng.random() < 0.9) for c in range(plan.communes)]
        for k in range(plan.cells):
            commune = communes[k % len(communes)]
            place = rng.choice(PLACES)
            cell = add("cell", commune, f"{commune.id}-C{k}", f"Chi bộ thôn {place} {k + 1}",
                       "chi bộ", rng.random() < 0.75)
            for g in range(plan.groups_per_cell):
                add("group", cell, f"{commune.id}-C{k}-T{g + 1}", f"Tổ đảng số {g + 1}",
                    "tổ đảng", rng.random() < 0.15)
        self.db.executemany(
            "INSERT INTO units (id, code, name, kind, parent_id, group_chat_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        self.counts["units"] = len(rows)

    def _person(self, rows: list[tuple], phone: bool = True) -> int:
        self.province.people += 1
        pid = self.province.people
        rng = self.rng
        telegram = 10_000_000 + pid if phone else None
        rows.append((pid, telegram, _name(rng), "en" if rng.random() < 0.02 else "vi",
                     int(rng.random() > 0.03), int(rng.random() < 0.01), _moment(self.start)))
        if phone:
            self.province.reachable.append(pid)
        return pid

    def people(self) -> None:
        rng, plan, province = self.rng, self.plan, self.province
        people: list[tuple] = []
        memberships: list[tuple] = []
        joined = _moment(self.start)

        def join(pid: int, unit: Unit, role: str, title: str | None = None) -> None:
            status = "removed" if role == "member" and rng.random() < 0.01 else "active"
            excused = int(role == "member" and rng.random() < 0.02)
            memberships.append((pid, unit.id, role, title, excused, status, joined))

        groups = [u for u in province.units if u.level == "group"]
        for k in range(plan.members):
            unit = groups[k % len(groups)] if k < len(groups) else rng.choice(groups)
            pid = self._person(people, phone=rng.random() > 0.02)
            unit.members.append(pid)
            province.home[pid] = unit
            join(pid, unit, "member")
        for unit in province.units:
            pool = self._leader_pool(unit)
            for title in TITLES[unit.level]:
                if pool:
                    pid = rng.choice(pool)
                    if pid not in unit.leaders:
                        unit.leaders.append(pid)
                        join(pid, unit, "leader", title)
        # Observers: specialists of the Ban Tuyên giáo và Dân vận, who report nowhere.
        for unit in province.units:
            if unit.level in ("province", "commune"):
                for _ in range(6 if unit.level == "province" else 1):
                    join(self._person(people), unit, "observer", "Chuyên viên")
        self.db.executemany(
            "INSERT INTO people (id, telegram_user_id, full_name, lang, nudges_enabled,"
            " unreachable, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)", people)
        self.db.executemany(
            "INSERT INTO memberships (person_id, unit_id, role, title, excused, status,"
            " joined_at) VALUES (?, ?, ?, ?, ?, ?, ?)", memberships)
        self.counts["people"] = len(people)
        self.counts["memberships"] = len(memberships)

    def _leader_pool(self, unit: Unit) -> list[int]:
        """Members of the unit's subtree with a phone, sampled cheaply for big units."""
        if unit.level == "group":
            found = unit.members
        elif unit.level == "cell":
            found = [p for u in self.province.units[unit.id:unit.id + 4] for p in u.members]
        else:
            found = self.rng.sample(self.province.reachable, 40)
            found = [p for p in found if unit.level == "province"
                     or self.province.home[p].cell.parent is unit] or found
        return [p for p in found if p in self._reachable] or found

    @property
    def _reachable(self) -> set[int]:
        if not hasattr(self, "_reachable_set"):
            self._reachable_set = set(self.province.reachable)
        return self._reachable_set

    def models(self) -> None:
        rng, span = self.rng, (self.now - self.start).total_seconds()
        rows: list[tuple] = []
        years: list[tuple] = []
        for unit in self.province.units:
            if unit.level not in ("cell", "commune"):
                continue
            for name in rng.sample(MODELS, rng.choice((1, 2, 3, 4, 5))):
                created = self.start + dt.timedelta(seconds=rng.random() * span)
                model_id = len(rows) + 1
                rows.append((model_id, name, rng.choices(FIELDS, FIELD_WEIGHTS)[0], unit.id,
                             created.year, _moment(created)))
                unit.models.append((model_id, _moment(created)))
                for year in range(created.year, self.now.year + 1):
                    years.append((model_id, year, "in_progress" if year < self.now.year
                                  else rng.choice(("registered", "in_progress"))))
        self.db.executemany(
            "INSERT INTO models (id, name, field, owner_unit_id, start_year, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)", rows)
        self.db.executemany("INSERT INTO model_years (model_id, year, status) VALUES (?, ?, ?)",
                            years)
        self.counts["models"] = len(rows)

    # --- reports ----------------------------------------------------------------------------

    def _weeks(self) -> list[tuple[dt.datetime, dt.datetime, int]]:
        """Each week's [start, end) and how many reports it gets: the movement grows over the
        years; the current week only so far."""
        weeks = []
        at = self.start
        while at < self.now:
            weeks.append((at, min(at + dt.timedelta(weeks=1), self.now)))
            at += dt.timedelta(weeks=1)
        weights = [(0.6 + 0.8 * i / len(weeks)) * (b - a) / dt.timedelta(weeks=1)
                   for i, (a, b) in enumerate(weeks)]
        scale = self.plan.reports / sum(weights)
        counts = [int(w * scale) for w in weights]
        counts[-1] += self.plan.reports - sum(counts)
        return [(a, b, n) for (a, b), n in zip(weeks, counts, strict=True)]

    def reports(self) -> None:
        rng, province = self.rng, self.province
        authors = list(province.home)
        # Some members report often, many now and then, a few never.
        weights = [rng.choice((0, 1, 1, 2, 3, 5, 8)) for _ in authors]
        cumulative = []
        total = 0
        for w in weights:
            total += w
            cumulative.append(total)
        tables: dict[str, list[tuple]] = {"reports": [], "report_participants": [],
                                          "report_photos": [], "report_reviews": []}
        report_id = 0
        for start, end, n in self._weeks():
            span = (end - start).total_seconds()
            moments = sorted(start + dt.timedelta(seconds=rng.random() * span) for _ in range(n))
            for author, received in zip(rng.choices(authors, cum_weights=cumulative, k=n),
                                        moments, strict=True):
                report_id += 1
                self._report(tables, report_id, author, received)
            if len(tables["reports"]) >= BATCH:
                self._flush(tables)
        self._flush(tables)
        # Every report came from a draft: the drafts' AUTOINCREMENT has handed their ids out,
        # as it would have in a bot's database (else the province's first drafts take ids its
        # reports hold, and their ✅ Gửi breaks reports' unique source_draft_id).
        self.db.execute("DELETE FROM sqlite_sequence WHERE name = 'drafts'")
        self.db.execute("INSERT INTO sqlite_sequence (name, seq)"
                        " SELECT 'drafts', MAX(source_draft_id) FROM reports")
        self.db.commit()

    def _report(self, tables: dict[str, list[tuple]], report_id: int, author: int,
                received: dt.datetime) -> None:
        rng = self.rng
        unit = self.province.home[author]
        cell = unit.cell
        leader = (cell.leaders or unit.leaders or [author])[0]
        recent = self.now - received < dt.timedelta(days=14)
        state = rng.choices(("acknowledged", "pending", "needs_more", "withdrawn"),
                            (42, 50, 3, 5) if recent else (89, 3, 3, 5))[0]
        deed = (received + ZONE_OFFSET).date() - dt.timedelta(days=rng.choice((0, 0, 1, 1, 2, 5)))
        models = [m for m, created in cell.models if created <= _moment(received)]
        model = rng.choice(models) if models and rng.random() < 0.3 else None
        helped = rng.choice((None, None, 1, 2, 4, 10, 30))
        at = _moment(received)
        tables["reports"].append((
            report_id, author, unit.id, deed.isoformat(), rng.choices(FIELDS, FIELD_WEIGHTS)[0],
            rng.choice(DEEDS).format(n=rng.randint(2, 40), place=rng.choice(PLACES)), model,
            helped, rng.choice((None, None, 1, 3, 5)) if helped else None,
            rng.choice((None, None, None, 200_000, 500_000, 1_500_000, 10_000_000)),
            rng.choice(PLACES) if rng.random() < 0.4 else None, int(rng.random() < 0.03),
            leader if rng.random() < 0.03 else author, state, report_id, at, at))
        if rng.random() < 0.2:
            partners = {rng.choice(unit.members) for _ in range(rng.randint(1, 3))} - {author}
            tables["report_participants"] += [(report_id, p) for p in partners]
        if rng.random() < 0.35:
            tables["report_photos"] += [(report_id, i, f"AgACAgUAAxk{report_id}x{i}",
                                         f"AQAD{report_id}x{i}")
                                        for i in range(rng.randint(1, 3))]
        if state in ("acknowledged", "needs_more"):
            seen = _moment(received + dt.timedelta(hours=rng.randint(2, 72)))
            tables["report_reviews"].append((report_id, leader, state,
                                             None if state == "acknowledged"
                                             else "Đề nghị bổ sung ảnh", seen))
            if state == "acknowledged" and rng.random() < 0.01:
                tables["report_reviews"].append((report_id, leader, "highlight", None, seen))

    def _flush(self, tables: dict[str, list[tuple]]) -> None:
        sql = {
            "reports": "INSERT INTO reports (id, person_id, unit_id, deed_date, field,"
                       " description, model_id, people_helped, households_helped, value_vnd,"
                       " place, private, entered_by, state, source_draft_id, received_at,"
                       " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            "report_participants": "INSERT INTO report_participants VALUES (?, ?)",
            "report_photos": "INSERT INTO report_photos VALUES (?, ?, ?, ?)",
            "report_reviews": "INSERT INTO report_reviews (report_id, person_id, action, note,"
                              " at) VALUES (?, ?, ?, ?, ?)",
        }
        for table, rows in tables.items():
            self.db.executemany(sql[table], rows)
            self.counts[table] = self.counts.get(table, 0) + len(rows)
            rows.clear()
        self.db.commit()

    # --- schedules and the ledger -----------------------------------------------------------

    def schedule_variety(self) -> None:
        """After the standard rows: some leaders chose a monthly digest or added a custom
        reminder ("Ngày thứ 7 đi cơ sở")."""
        rng = self.rng
        cells = [u for u in self.province.units if u.level == "cell"]
        monthly = [(u.id,) for u in cells if rng.random() < 0.05]
        self.db.executemany("UPDATE schedules SET every = 'month', month_day = 1"
                            " WHERE unit_id = ? AND kind = 'digest'", monthly)
        custom = [(u.id, "06:30", "Ngày thứ 7 đi cơ sở", _moment(self.start))
                  for u in cells if rng.random() < 0.03]
        self.db.executemany("INSERT INTO schedules (unit_id, kind, every, weekday, at, text,"
                            " updated_at) VALUES (?, 'custom', 'week', 5, ?, ?, ?)", custom)
        self.db.execute("UPDATE schedules SET updated_at = ?", (_moment(self.start),))
        self.db.commit()

    def command_menus(self) -> None:
        """The "/" menus a running bot gave leaders and observers (bot/flows/command_menus.py), so
        that start-up finds them given, as after any earlier run."""
        roles: dict[int, set[str]] = {}
        for pid, role in self.db.execute("SELECT person_id, role FROM memberships"
                                         " WHERE status = 'active'"):
            roles.setdefault(pid, set()).add(role)
        rows = []
        for pid, telegram, lang in self.db.execute(
                "SELECT id, telegram_user_id, lang FROM people WHERE telegram_user_id IS NOT NULL"):
            held = roles.get(pid, set())
            wanted = (menus.LEADER if "leader" in held else menus.OBSERVER
                      if held == {"observer"} else menus.MEMBER)
            if (wanted, lang) != (menus.MEMBER, "vi"):
                rows.append((telegram, f"{lang}:{','.join(wanted)}"))
        self.db.executemany("INSERT INTO command_menus VALUES (?, ?)", rows)
        self.db.commit()
        self.counts["command_menus"] = len(rows)

    def ledger(self) -> None:
        """The last two full weeks' digests (group and leaders) and reminders (groups), sent:
        what a bot that ran through them leaves behind."""
        local_today = (self.now + ZONE_OFFSET).date()
        rows: list[tuple] = []
        groups = dict(self.db.execute("SELECT id, group_chat_id FROM units"
                                      " WHERE group_chat_id IS NOT NULL").fetchall())
        for weeks_back in (1, 2):
            week = week_of(local_today - dt.timedelta(weeks=weeks_back))
            decided = _moment(dt.datetime.combine(week.last + dt.timedelta(days=1),
                                                  dt.time(0, 30), dt.UTC))
            for unit in self.province.units:
                chats = ([groups[unit.id]] if unit.id in groups else [])
                rows += [("digest", unit.id, chat, key_of(week), None, decided)
                         for chat in chats]
                rows += [("digest", unit.id, 10_000_000 + p, key_of(week), p, decided)
                         for p in unit.leaders]
                rows += [("reminder", unit.id, chat, key_of(week_of(week.first)), None, decided)
                         for chat in chats]
        self.db.executemany("INSERT OR IGNORE INTO deliveries (kind, unit_id, chat_id, period,"
                            " person_id, status, decided_at, settled_at)"
                            " VALUES (?, ?, ?, ?, ?, 'sent', ?, ?)",
                            ((*r, r[-1]) for r in rows))
        self.db.commit()
        self.counts["deliveries"] = len(rows)


async def _schema_and_standard_rows(path: Path, now: dt.datetime, after: bool) -> None:
    """Our migrations (on the first open), then, once units exist, every unit's standard
    schedule rows as the bot gives them."""
    db = await Database.open(path)
    try:
        if after:
            async with db.transaction() as tx:
                await schedules.add_missing_standard(tx, standard_rows(load_settings()), now)
    finally:
        await db.close()


def _steps(gen: Generator) -> Iterator[tuple[str, object]]:
    yield "units", gen.units
    yield "people", gen.people
    yield "models", gen.models
    yield "reports", gen.reports


def generate(out: Path, seed: int, scale: float) -> dict[str, int]:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{out}{suffix}").unlink(missing_ok=True)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    asyncio.run(_schema_and_standard_rows(out, now, after=False))
    db = sqlite3.connect(out)
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA cache_size = -200000")
    gen = Generator(db, Plan.at(scale), seed, now)
    for name, step in _steps(gen):
        began = time.perf_counter()
        step()  # type: ignore[operator]
        db.commit()
        print(f"  {name:<10} {time.perf_counter() - began:6.1f} s", flush=True)
    db.close()
    asyncio.run(_schema_and_standard_rows(out, now, after=True))
    db = sqlite3.connect(out)
    gen.db = db
    gen.schedule_variety()
    gen.ledger()
    gen.command_menus()
    gen.counts["schedules"] = db.execute("SELECT COUNT(*) FROM schedules").fetchone()[0]
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return gen.counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/province.sqlite3"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    began = time.perf_counter()
    counts = generate(args.out, args.seed, args.scale)
    took = time.perf_counter() - began
    print(f"province (seed {args.seed}, scale {args.scale}) in {args.out}:")
    for name, n in counts.items():
        print(f"  {name:<20} {n:>10,}")
    size = args.out.stat().st_size / 1e6
    print(f"  {'file':<20} {size:>9,.0f} MB\n  {'generation time':<20} {took:>9.1f} s")


if __name__ == "__main__":
    main()
