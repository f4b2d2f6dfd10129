"""/link and /unlink: binding a group chat to a unit; the bot added to a group; supergroup migration."""

from __future__ import annotations

from bot.conversation import Conversations
from bot.reporting import ReportKind
from bot.services import Services


class Groups:
    def __init__(self, services: Services, conversations: Conversations,
                 report_kind: ReportKind) -> None:
        self.services = services
        self.conversations = conversations
        self.report_kind = report_kind
