"""Units and models named in the Lạng Sơn article (shared/seed), so a newcomer has something
to look at. Running it twice adds nothing the second time. A model is registered as of 1 January
of its start year (local time), not today: a fresh install's /stats and digests must not count
models begun in 2021–2024 as new this week."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.runtime.unit_tree import UnitRow, import_units
from storage import models, units
from storage.db import Tx
from storage.entities import NewModel

# code, name, kind, parent code
DEMO_UNITS = (
    ("LS", "Đảng bộ tỉnh Lạng Sơn", "đảng bộ tỉnh", ""),
    ("TD", "Đảng bộ xã Tràng Định", "đảng bộ xã", "LS"),
    ("TD-BC", "Chi bộ Thôn Bản Chặng", "chi bộ", "TD"),
    ("TD-CQ", "Chi bộ Cơ quan Đảng ủy xã Tràng Định", "chi bộ", "TD"),
    ("TD-CQ-1", "Tổ đảng số 1", "tổ đảng", "TD-CQ"),
    ("TD-CQ-2", "Tổ đảng số 2", "tổ đảng", "TD-CQ"),
    ("TD-CQ-3", "Tổ đảng số 3", "tổ đảng", "TD-CQ"),
    ("TD-CQ-4", "Tổ đảng số 4", "tổ đảng", "TD-CQ"),
    ("TT", "Đảng bộ phường Tam Thanh", "đảng bộ phường", "LS"),
    ("TT-K1", "Chi bộ Khối 1", "chi bộ", "TT"),
    ("VQ", "Đảng bộ xã Văn Quan", "đảng bộ xã", "LS"),
    ("VQ-TT", "Chi bộ Thôn Trung Thành", "chi bộ", "VQ"),
    ("DL", "Đảng bộ xã Đình Lập", "đảng bộ xã", "LS"),
    ("DL-CQ", "Chi bộ Cơ quan Ủy ban nhân dân xã Đình Lập", "chi bộ", "DL"),
    ("BP", "Đảng bộ Bộ đội Biên phòng tỉnh", "đảng bộ cơ quan", "LS"),
    ("BP-DTD", "Chi bộ Đồn Biên phòng Tri Phương", "chi bộ", "BP"),
)
BORDER_UNITS = ("BP", "BP-DTD")

# owner code, name, field, start year, mass organisation
DEMO_MODELS = (
    ("TT", "Ngày Chủ nhật xanh vệ sinh môi trường trên địa bàn phường", "Môi trường", 2021, ""),
    ("VQ", "Tiết kiệm bản thân dành phần người khó", "An sinh xã hội, giảm nghèo", 2021, ""),
    ("BP", "Công trình dân sinh thắm tình đồn, xã", "Quốc phòng – an ninh", 2021, ""),
    ("BP", "Lũy tre biên giới Việt Nam", "Quốc phòng – an ninh", 2022, ""),
    ("TD-CQ", "Dân vận khéo trong xây dựng nông thôn mới", "Xây dựng Đảng, hệ thống chính trị",
     2021, ""),
    ("TD-CQ", "Em nuôi công đoàn", "Xã hội", 2021, "Công đoàn"),
    ("TD-CQ", "Tiết kiệm theo gương Bác", "Kinh tế", 2022, ""),
    ("TD-BC", "Dân vận khéo xây dựng nông thôn mới", "Xây dựng Đảng, hệ thống chính trị", 2023,
     ""),
    ("TD-BC", "Tiết kiệm theo gương Bác", "Kinh tế", 2024, "Hội Phụ nữ"),
    ("DL", "Ngày thứ 7 đi cơ sở xây dựng nông thôn mới, đô thị văn minh", "Kinh tế", 2021, ""),
)


@dataclass(frozen=True)
class DemoResult:
    units_added: int
    models_added: int
    first_cell_id: int


async def load_demo_data(tx: Tx, now: dt.datetime, zone: ZoneInfo) -> DemoResult:
    result = await import_units(tx, [UnitRow(*unit) for unit in DEMO_UNITS], now)
    for code in BORDER_UNITS:
        border = await units.get_unit_by_code(tx, code)
        if border is not None:
            await units.set_no_locations(tx, border.id, True)
    added_models = 0
    for owner_code, name, field, year, mass_org in DEMO_MODELS:
        owner = await units.get_unit_by_code(tx, owner_code)
        if owner is None or await models.model_named(tx, owner.id, name) is not None:
            continue
        await models.add_model(tx, NewModel(name=name, field=field, owner_unit_id=owner.id,
                                            start_year=year, mass_org=mass_org or None),
                               dt.datetime(year, 1, 1, tzinfo=zone))
        added_models += 1
    cell = await units.get_unit_by_code(tx, "TD-BC")
    return DemoResult(result.added, added_models, cell.id if cell else 0)
