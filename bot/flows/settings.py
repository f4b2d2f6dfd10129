"""/settings: a person's private nudges ("🔔 Nhắc nhở riêng: đang bật"), on or off; and the
buttons under a nudge (📝 Báo cáo ngay opens the report form, 🔕 turns nudges off).

Callback data (never trusted: it only ever changes the presser's own setting):
  ns:on / ns:off    turn the presser's nudges on or off (a double press changes nothing)
  nd:report         from a nudge: open the report form, as /report does
"""

from __future__ import annotations

import logging

from bot.flows.joins import waiting_key
from bot.flows.reports import ReportKind, start_report
from bot.forms.conversations import Conversations
from bot.rules.access import Actor, actor_for
from bot.runtime.services import Sender, Services
from bot.ui.catalogue import Texts
from bot.ui.screens import Button, Reply, Screen
from storage import audit, settings
from storage.db import Tx

log = logging.getLogger(__name__)

PREFIX = "ns"
NUDGE_PREFIX = "nd"
TURN_ON, TURN_OFF = f"{PREFIX}:on", f"{PREFIX}:off"
NUDGE_REPORT = f"{NUDGE_PREFIX}:report"


class NudgeSettings:
    def __init__(self, services: Services, conversations: Conversations,
                 report_kind: ReportKind) -> None:
        self.services = services
        self.conversations = conversations
        self.report_kind = report_kind

    async def open(self, sender: Sender) -> Reply:
        async with self.services.db.transaction() as tx:
            actor = await actor_for(tx, self.services, sender.user_id)
            t = self._texts(actor)
            stranger = await self._stranger(tx, actor, t)
            if stranger is not None:
                return Reply((Screen(stranger),))
            assert actor.person is not None
            enabled = await settings.nudges_enabled(tx, actor.person.id)
        return Reply((self._screen(t, enabled),))

    async def act(self, sender: Sender, data: str) -> Reply:
        async with self.services.db.transaction() as tx:
            actor = await actor_for(tx, self.services, sender.user_id)
            t = self._texts(actor)
            if data not in (TURN_ON, TURN_OFF):
                log.warning("user %s sent settings data %r", sender.user_id, data)
                return Reply(toast=t.plain("settings.stale"))
            stranger = await self._stranger(tx, actor, t)
            if stranger is not None:
                return Reply(toast=t.plain("access.not_member"))
            assert actor.person is not None
            enabled = data == TURN_ON
            if await settings.set_nudges(tx, actor.person.id, enabled):
                await audit.record(tx, self.services.now(), actor.label,
                                   "nudges_on" if enabled else "nudges_off",
                                   f"person:{actor.person.id}")
        toast = t.plain("settings.turned_on" if enabled else "settings.turned_off")
        return Reply((self._screen(t, enabled),), toast=toast, replace=True)

    async def nudge_pressed(self, sender: Sender, update_id: int, data: str) -> Reply:
        """📝 Báo cáo ngay under a nudge: the report form, exactly as /report opens it."""
        if data != NUDGE_REPORT:
            async with self.services.db.transaction() as tx:
                t = self._texts(await actor_for(tx, self.services, sender.user_id))
            log.warning("user %s sent nudge data %r", sender.user_id, data)
            return Reply(toast=t.plain("settings.stale"))
        return await start_report(self.services, self.conversations, sender, update_id)

    def _texts(self, actor: Actor) -> Texts:
        return self.services.texts(actor.person.lang if actor.person else None)

    async def _stranger(self, tx: Tx, actor: Actor, t: Texts) -> str | None:
        """What a stranger is told (as /start tells them); None for a person of the bot."""
        if actor.person is not None and actor.known:
            return None
        if actor.person is None and actor.admin:
            return t("settings.no_person")
        key = await waiting_key(tx, actor.person.id if actor.person else None)
        return t(key or "access.not_member")

    @staticmethod
    def _screen(t: Texts, enabled: bool) -> Screen:
        state = t("settings.state_on" if enabled else "settings.state_off")
        text = "\n".join([t("settings.title"), t("settings.nudges", state=state),
                          t("settings.explain")])
        button = Button(t.plain("settings.turn_off" if enabled else "settings.turn_on"),
                        TURN_OFF if enabled else TURN_ON)
        return Screen(text, ((button,),))

