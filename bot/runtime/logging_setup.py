"""Logging for `lantoa run` (and `lantoa try`, into a file): useful lines, and never the bot
token."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from zoneinfo import ZoneInfo

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# 2026-12-07 17:58:09+0700: the offset makes a line unambiguous whoever reads it, and where.
TIME_FORMAT = "%Y-%m-%d %H:%M:%S%z"


class RedactToken(logging.Filter):
    """Library loggers may print request URLs, which carry the token."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token:
            message = record.getMessage()
            if self.token in message:
                record.msg = message.replace(self.token, "***")
                record.args = None
        return True


class ZonedFormatter(logging.Formatter):
    """Times in the bot's time zone (settings' `timezone`), not the server's: the province
    reads the log beside what the bot told people, whose times are in that zone, and a
    rented server is often set to UTC."""

    def __init__(self, zone: ZoneInfo) -> None:
        super().__init__(FORMAT, TIME_FORMAT)
        self.zone = zone

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = dt.datetime.fromtimestamp(record.created, self.zone)
        return moment.strftime(datefmt or TIME_FORMAT)


def configure_logging(token: str, zone: ZoneInfo, level: int = logging.INFO,
                      file: Path | None = None) -> None:
    """To stderr, or to `file`."""
    handler = logging.FileHandler(file) if file is not None else logging.StreamHandler()
    handler.setFormatter(ZonedFormatter(zone))
    logging.basicConfig(level=level, handlers=[handler])  # unless handlers were set up already
    # httpx logs every request URL at INFO, and the URL contains the token.
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for each in logging.getLogger().handlers:
        each.addFilter(RedactToken(token))
