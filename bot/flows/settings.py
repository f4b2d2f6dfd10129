"""/settings: a person's private nudges ("🔔 Nhắc nhở riêng: đang bật"), on or off; and the
buttons under a nudge (📝 Báo cáo ngay opens the report form, 🔕 turns nudges off). The data
names nothing but a state: a press only ever changes the presser's own setting."""

from __future__ import annotations

from typing import Annotated

from bot.flows.joins import waiting_key
from bot.flows.reports import Reports
from bot.rules.access import Action, Request
from bot.ui.buttons import ButtonData, codes
from bot.ui.catalogue import Texts
from bot.ui.screens import Button, Reply, Screen
from storage import audit, settings

STALE = "settings.stale"


class SetNudges(ButtonData, prefix="ns", action=Action.NUDGE_SETTINGS):
    state: Annotated[str, codes("on", "off")]


class ReportNow(ButtonData, prefix="nd:report", action=Action.REPORT):
    """📝 Báo cáo ngay, under a nudge."""


BUTTONS = (SetNudges, ReportNow)
TURN_OFF = SetNudges("off")


class NudgeSettings:
    def __init__(self, reports: Reports) -> None:
        self.reports = reports

    async def open(self, req: Request) -> Reply:
        stranger = await self._stranger(req)
        if stranger is not None:
            return Reply((Screen(stranger),))
        assert req.actor.person is not None
        enabled = await settings.nudges_enabled(req.tx, req.actor.person.id)
        return Reply((self._screen(req.t, enabled),))

    async def press(self, req: Request, press: SetNudges | ReportNow) -> Reply:
        if isinstance(press, ReportNow):
            return await self.reports.start(req)
        t, person = req.t, req.actor.person
        if person is None:
            return Reply(toast=t.plain("access.not_member"))
        refusal = await req.check(press.action, 0, person.id, pressed=True)
        if refusal is not None:
            return refusal
        enabled = press.state == "on"
        if await settings.set_nudges(req.tx, person.id, enabled):
            await audit.record(req.tx, req.now, req.actor.label,
                               "nudges_on" if enabled else "nudges_off", f"person:{person.id}")
        toast = t.plain("settings.turned_on" if enabled else "settings.turned_off")
        return Reply((self._screen(t, enabled),), toast=toast, replace=True)

    @staticmethod
    async def _stranger(req: Request) -> str | None:
        """What a stranger is told (as /start tells them); None for a person of the bot."""
        actor, t = req.actor, req.t
        if actor.person is not None and actor.known:
            return None
        if actor.person is None and actor.admin:
            return t("settings.no_person")
        key = await waiting_key(req.tx, actor.person.id if actor.person else None)
        return t(key or "access.not_member")

    @staticmethod
    def _screen(t: Texts, enabled: bool) -> Screen:
        state = t("settings.state_on" if enabled else "settings.state_off")
        text = "\n".join([t("settings.title"), t("settings.nudges", state=state),
                          t("settings.explain")])
        button = Button(t.plain("settings.turn_off" if enabled else "settings.turn_on"),
                        SetNudges("off" if enabled else "on").pack())
        return Screen(text, ((button,),))
