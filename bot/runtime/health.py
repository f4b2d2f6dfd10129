"""What the process says about itself (GET /healthz, `lantoa status`): its role, since when,
and the last update it handled. The runtime keeps it up to date; nothing here is Telegram's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

# "starting" until the bot serves; "standby" while another process is the active one.
Role = Literal["starting", "active", "standby"]


@dataclass
class Health:
    role: Role = "starting"
    since: dt.datetime | None = None  # when the role was last set
    last_handled_at: dt.datetime | None = None
    updates_handled: int = 0

    def become(self, role: Role, now: dt.datetime) -> None:
        self.role, self.since = role, now

    def handled(self, now: dt.datetime) -> None:
        self.last_handled_at = now
        self.updates_handled += 1

    @property
    def active(self) -> bool:
        return self.role == "active"

    def report(self) -> dict[str, object]:
        """The JSON /healthz answers with, besides its status."""
        return {"role": self.role, "since": _iso(self.since),
                "last_update_handled_at": _iso(self.last_handled_at),
                "updates_handled": self.updates_handled}


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
