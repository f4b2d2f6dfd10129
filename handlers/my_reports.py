"""📋 Việc đã báo cáo (/my): the member's reports, one report, correct or withdraw."""

from __future__ import annotations

from telegram.ext import BaseHandler

from bot.flows import my_reports
from bot.ui.catalogue import Catalogue
from handlers.common import private_flow


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return private_flow(catalogue, "my", my_reports, lambda core: core.my_reports)
