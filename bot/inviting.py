"""/invite: a leader's invite links, revoking them, and approving joins through multi-use links."""

from __future__ import annotations

from bot.conversation import Conversations
from bot.reporting import ReportKind
from bot.services import Services


class Inviting:
    def __init__(self, services: Services, conversations: Conversations,
                 report_kind: ReportKind) -> None:
        self.services = services
        self.conversations = conversations
        self.report_kind = report_kind
