"""The people of `lantoa try`, on top of the units and models of bot/runtime/demo_data.py: the
secretary of Chi bộ Thôn Bản Chặng and three members, all on Telegram, the cell's group, and
their reports of the last eight weeks, so that a digest has figures and a chart and one report
waits for the secretary's acknowledgment. A database that has them already gets nothing more."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from bot.runtime.demo_data import load_demo_data
from storage import groups, people, reports, reviews, units
from storage.db import Tx
from storage.entities import Photo, ReportContent, ReportState, Role

GROUP_ID = -1009100001
GROUP_TITLE = "Chi bộ Thôn Bản Chặng"


@dataclass(frozen=True)
class DemoPerson:
    user_id: int
    first_name: str
    last_name: str
    role: Role

    @property
    def full_name(self) -> str:
        return f"{self.last_name} {self.first_name}"


LAN = DemoPerson(9100002, "Lan", "Nguyễn Thị", Role.MEMBER)
SON = DemoPerson(9100001, "Sơn", "Hoàng Văn", Role.LEADER)
MAI = DemoPerson(9100003, "Mai", "Hoàng Thị", Role.MEMBER)
BINH = DemoPerson(9100004, "Bình", "Lý Văn", Role.MEMBER)
PEOPLE = (LAN, SON, MAI, BINH)


def _says(field: str, description: str, **details: Any) -> ReportContent:
    """What a demo report tells (ReportContent's names); its date is set as it is added."""
    return ReportContent(deed_date=dt.date.min, field=field, description=description, **details)


PHOTO = (Photo(file_id="demo-photo", file_unique_id="demo-photo"),)


@dataclass(frozen=True)
class DemoReport:
    author: DemoPerson
    weeks_ago: int
    content: ReportContent
    waiting: bool = False  # else acknowledged by the secretary


REPORTS = (
    DemoReport(MAI, 0, _says("An sinh xã hội, giảm nghèo",
                             "Vận động 3 hộ nghèo trong thôn đăng ký vay vốn chăn nuôi lợn",
                             households_helped=3), waiting=True),
    DemoReport(BINH, 0, _says("Môi trường",
                              "Cùng đoàn thanh niên dọn vệ sinh, phát quang đường vào thôn",
                              photos=PHOTO)),
    DemoReport(SON, 1, _says("Kinh tế", "Họp dân bàn làm 300 m đường bê tông liên thôn")),
    DemoReport(MAI, 1, _says("An sinh xã hội, giảm nghèo",
                             "Trao 20 suất quà cho học sinh có hoàn cảnh khó khăn",
                             people_helped=20, value_vnd=4_000_000, photos=PHOTO)),
    DemoReport(LAN, 1, _says("Kinh tế", "Hướng dẫn bà con kỹ thuật chăm sóc cây hồi")),
    DemoReport(BINH, 2, _says("Quốc phòng – an ninh", "Tuần tra đường biên cùng tổ dân quân")),
    DemoReport(LAN, 3, _says("Xã hội", "Vận động gia đình đưa hai cháu trở lại lớp",
                             people_helped=2)),
    DemoReport(MAI, 4, _says("Văn hóa", "Tập văn nghệ cho đội hát then của thôn")),
    DemoReport(BINH, 4, _says("Môi trường", "Khơi thông 200 m mương nội đồng")),
    DemoReport(SON, 5, _says("Xây dựng Đảng, hệ thống chính trị",
                             "Tuyên truyền nghị quyết mới tại buổi họp thôn")),
    DemoReport(LAN, 6, _says("An sinh xã hội, giảm nghèo", "Giúp một hộ neo đơn sửa mái nhà",
                             households_helped=1, value_vnd=1_500_000)),
    DemoReport(MAI, 6, _says("Xã hội", "Đưa hai cụ cao tuổi đi khám sức khỏe", people_helped=2)),
    DemoReport(BINH, 7, _says("Kinh tế", "Cho bà con mượn máy cày làm đất vụ đông")),
)


@dataclass(frozen=True)
class Demo:
    cell_id: int
    cell_name: str
    people: tuple[DemoPerson, ...]


async def load_try_data(tx: Tx, now: dt.datetime, zone: ZoneInfo) -> Demo:
    """The units, models, people, group and reports of a session (only what is missing)."""
    cell = (await load_demo_data(tx, now, zone)).first_cell_id
    unit = await units.get_unit(tx, cell)
    demo = Demo(cell, unit.name if unit else "", PEOPLE)
    ids: dict[DemoPerson, int] = {}
    for person in PEOPLE:
        if await people.person_by_telegram_id(tx, person.user_id) is not None:
            return demo
        added = await people.add_person(tx, person.user_id, person.full_name, "vi", now)
        await people.add_membership(tx, added.id, cell, person.role, None, now)
        ids[person] = added.id
    await groups.link(tx, cell, GROUP_ID)
    for number, report in enumerate(REPORTS, start=1):
        await _add_report(tx, number, report, cell, ids, now, zone)
    return demo


async def _add_report(tx: Tx, number: int, report: DemoReport, cell: int,
                      ids: dict[DemoPerson, int], now: dt.datetime, zone: ZoneInfo) -> None:
    # This week's a few minutes ago, the others the same weekday and hour weeks before.
    received = now - dt.timedelta(weeks=report.weeks_ago, minutes=10 * number)
    author = ids[report.author]
    content = report.content.model_copy(update={"deed_date": received.astimezone(zone).date()})
    # Negative: never the id of a draft the bot makes.
    report_id = await reports.insert_report(tx, person_id=author, unit_id=cell,
                                            entered_by=author, content=content,
                                            source_draft_id=-number, now=received)
    if not report.waiting:
        await reviews.change_state(tx, report_id, ReportState.PENDING, ReportState.ACKNOWLEDGED,
                                   received)
        await reviews.add_review(tx, report_id, ids[SON], reviews.ACKNOWLEDGED, None, received)
