"""Timestamps are stored as UTC ISO-8601 text, so they sort and compare as strings."""

from __future__ import annotations

import datetime as dt


def to_db(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware one")
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def from_db(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)
