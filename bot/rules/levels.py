"""What kind of party organisation a unit is. Kinds are free labels ("chi bộ", "Đảng bộ xã",
"tổ đảng"…), so the level is read from the words a kind begins with, diacritics and case
aside; whatever matches none is a đảng bộ led by its đảng ủy. Titles a leader may hold, to
whom a refusal sends someone, and the Word report's words all follow it."""

from __future__ import annotations

from bot.parsing.text import fold
from storage.entities import Unit

TO_DANG = "to_dang"
CHI_BO = "chi_bo"
DANG_BO = "dang_bo"
# The first of these a unit's kind begins with decides.
LEVELS = (("tổ", TO_DANG), ("chi bộ", CHI_BO), ("đảng bộ tỉnh", "tinh"), ("tỉnh ủy", "tinh"),
          ("đảng bộ thành phố", "thanh_pho"), ("thành ủy", "thanh_pho"),
          ("đảng bộ huyện", "huyen"), ("huyện ủy", "huyen"))


def level_of(unit: Unit) -> str:
    kind = fold(unit.kind)
    return next((level for prefix, level in LEVELS if kind.startswith(fold(prefix))), DANG_BO)


def at_cell(unit: Unit) -> bool:
    """A chi bộ or a tổ đảng: its people's bí thư is a bí thư chi bộ."""
    return level_of(unit) in (CHI_BO, TO_DANG)
