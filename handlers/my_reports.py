"""📋 Việc đã báo cáo (/my): the member's reports, one report, correct or withdraw."""

from __future__ import annotations

from telegram.ext import BaseHandler

from bot.flows import my_reports
from bot.ui.catalogue import Catalogue
from handlers.common import private_flow


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return private_flow(
        catalogue, "my",
        opens=lambda core, sender, update_id: core.my_reports.listing(sender),
        prefix=my_reports.PREFIX,
        presses=lambda core, sender, update_id, data: core.my_reports.act(sender, update_id, data),
    )
