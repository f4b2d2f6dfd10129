"""What every benchmark prints beside its figures: how busy the machine was."""

from __future__ import annotations

import os


def load_average() -> str:
    """The 1, 5 and 15 minutes' load averages, as `uptime` prints them."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
