"""The counting rules (PRODUCT.md, "Counting rules"), in one place for every figure.

- Digests and reminders count reports by when they were received, so a late report is in
  some digest; /stats and exports count by the day the deed happened.
- Withdrawn reports never count; waiting and needing-more ones do.
- Participation x/y: y is the subtree's members not excused, x those of them who reported or
  were co-participants in the period.
"""

from __future__ import annotations

from enum import StrEnum

from bot.periods import Period
from bot.services import Services
from storage import counting
from storage.db import Tx


class Basis(StrEnum):
    RECEIVED = "received"  # digests, reminders
    DONE = "done"  # /stats, exports


def within(services: Services, period: Period, basis: Basis) -> tuple[str, tuple[str, str]]:
    if basis is Basis.RECEIVED:
        return counting.bounds_received(*period.moments(services.settings.zone))
    return counting.bounds_done(period.first, period.last)


async def participants(tx: Tx, services: Services, unit_ids: list[int], period: Period,
                       basis: Basis) -> set[int]:
    """Who took part in the units' reports of the period: authors and co-participants."""
    return await counting.participants(tx, unit_ids, within(services, period, basis))
