"""STUB (issue 4, being written): replaced by its owner."""

from __future__ import annotations

from bot.conversation import Conversations
from bot.deliveries import Outgoing
from bot.periods import Period
from bot.reporting import ReportKind
from bot.services import Services
from storage.db import Tx
from storage.schedules import Every


class Digests:
    def __init__(self, services: Services, conversations: Conversations,
                 report_kind: ReportKind) -> None:
        self.services = services
        self.conversations = conversations
        self.report_kind = report_kind


async def digest_outgoing(tx: Tx, services: Services, unit_id: int, period: Period,
                          every: Every) -> list[Outgoing]:
    """The unit's digest of `period` (a past ISO week or month): to its linked group, and to each
    of its leaders privately. Queued by bot/scheduling.py with kind "digest"."""
    return []
