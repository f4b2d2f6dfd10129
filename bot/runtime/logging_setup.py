"""Logging for `lantoa run` (and `lantoa try`, into a file): useful lines, and never the bot
token."""

from __future__ import annotations

import logging
from pathlib import Path


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


def configure_logging(token: str, level: int = logging.INFO, file: Path | None = None) -> None:
    """To stderr, or to `file`."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=level,
                        filename=file)
    # httpx logs every request URL at INFO, and the URL contains the token.
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactToken(token))
