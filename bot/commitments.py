"""/commit (✍ Cam kết): the year's commitment, the self-assessment from 1/12, and leaders' x/y overview."""

from __future__ import annotations

from bot.conversation import Conversations
from bot.reporting import ReportKind
from bot.services import Services


class Commitments:
    def __init__(self, services: Services, conversations: Conversations,
                 report_kind: ReportKind) -> None:
        self.services = services
        self.conversations = conversations
        self.report_kind = report_kind
