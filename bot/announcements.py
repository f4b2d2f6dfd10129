"""STUB (issue 4, being written): replaced by its owner."""

from __future__ import annotations

from bot.conversation import Conversations
from bot.reporting import ReportKind
from bot.services import Services
from storage.db import Tx


class Announcements:
    def __init__(self, services: Services, conversations: Conversations,
                 report_kind: ReportKind) -> None:
        self.services = services
        self.conversations = conversations
        self.report_kind = report_kind

    async def settled(self, tx: Tx, unit_id: int, period: str) -> int:
        """Called by the sender after it settled an 'announcement' delivery of this unit and
        period: once all are settled, queues the delivery count to the author. Returns how many
        rows it queued."""
        return 0
