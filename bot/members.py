"""/members: a unit's members, who reported this week; excuse, remove, move, give or take a role."""

from __future__ import annotations

from bot.conversation import Conversations
from bot.reporting import ReportKind
from bot.services import Services


class Members:
    def __init__(self, services: Services, conversations: Conversations,
                 report_kind: ReportKind) -> None:
        self.services = services
        self.conversations = conversations
        self.report_kind = report_kind
