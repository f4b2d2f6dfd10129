"""📋 Việc đã báo cáo (/my): the member's reports, one report, correct or withdraw."""

from __future__ import annotations

from telegram.ext import BaseHandler

from bot.flows import my_reports
from bot.ui.catalogue import Catalogue
from handlers.common import private_flow


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return private_flow(
        catalogue, "my",
        opens=lambda core, req: core.my_reports.listing(req),
        kinds=my_reports.BUTTONS,
        presses=lambda core, req, press: core.my_reports.press(req, press),
        stale=my_reports.STALE,
    )
