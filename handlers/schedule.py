"""/schedule (leaders): the Telegram side of bot/schedules.py. A change's jobs are rebuilt by
handlers/schedule_jobs.py, which listens to `core.schedules.jobs`."""

from __future__ import annotations

from telegram.ext import BaseHandler

from bot import schedules
from bot.catalogue import Catalogue
from handlers.common import private_flow


def handlers(catalogue: Catalogue) -> list[BaseHandler]:
    return private_flow(
        catalogue, "schedule",
        opens=lambda core, sender, update_id: core.schedules.open(sender),
        prefix=schedules.PREFIX,
        presses=lambda core, sender, update_id, data: core.schedules.act(sender, update_id,
                                                                         data),
        menu=False,
    )
