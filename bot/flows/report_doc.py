"""📄 Báo cáo Word (/report_doc, `lantoa export -o FILE.docx`): a draft of a unit's report on
Directive 05-CT/TW for a period, in the layout of party documents (Hướng dẫn 36-HD/VPTW),
from a template file a province can reword without code."""

from __future__ import annotations

import datetime as dt

from bot.rules.periods import Period
from bot.runtime.config import Settings
from bot.ui.screens import Document
from storage.db import Database


async def word_report(db: Database, settings: Settings, unit_id: int, period: Period,
                      today: dt.date) -> Document:
    """The unit's report for the period (its whole subtree, counted by the day deeds happened),
    dated `today`, in its own read transaction."""
    raise NotImplementedError("issue 13: being written")
