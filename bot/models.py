"""/model (🏅 Mô hình): registering a unit's models, their status per year, the list with report counts."""

from __future__ import annotations

from bot.conversation import Conversations
from bot.reporting import ReportKind
from bot.services import Services


class Models:
    def __init__(self, services: Services, conversations: Conversations,
                 report_kind: ReportKind) -> None:
        self.services = services
        self.conversations = conversations
        self.report_kind = report_kind
