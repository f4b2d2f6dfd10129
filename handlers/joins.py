"""/start: joining through an invite link (or, without a code, the greeting; with a command's
name, from a group's pointer, that command); and the leaders'
✅ Duyệt / ✖ Từ chối on joins through multi-use links. See bot/flows/joins.py."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes

from bot.flows import joins
from bot.rules.access import Request
from bot.ui.screens import Reply
from handlers.common import PRIVATE, answer, core_of, presses_of


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    core = core_of(context)
    code = context.args[0] if context.args else None
    opened = core.opened_by_link(code) if code is not None else None

    async def use_case(req: Request) -> Reply:
        if opened is not None:
            return await opened(req)
        if code is None:
            return await core.welcome.start(req)
        return await core.joins.start(req, code)

    await answer(update, context, use_case)


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("start", start, filters=PRIVATE),
        presses_of(joins.BUTTONS, lambda core, req, press: core.joins.decide(req, press),
                   joins.STALE),
    ]
