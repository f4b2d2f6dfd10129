"""/settings: a person's private nudges ("🔔 Nhắc nhở riêng: đang bật"), on or off, and for a
leader the daily notice of the reports waiting for acknowledgment; and the buttons under a
nudge (📝 Báo cáo ngay opens the report form, 🔕 turns nudges off) and under a review notice.
The data names nothing but a state: a press only ever changes the presser's own setting."""

from __future__ import annotations

from typing import Annotated

from bot.flows.joins import waiting_key
from bot.flows.reports import Reports
from bot.rules.access import Action, Request
from bot.ui.buttons import ButtonData, codes
from bot.ui.catalogue import Texts
from bot.ui.screens import Button, Reply, Screen
from storage import audit, settings
from storage.entities import Role
from storage.settings import Switch

STALE = "settings.stale"


class SetNudges(ButtonData, prefix="ns", action=Action.NUDGE_SETTINGS):
    state: Annotated[str, codes("on", "off")]


class SetReviewNotices(ButtonData, prefix="rn", action=Action.NUDGE_SETTINGS):
    """A leader's daily notice of the reports waiting for acknowledgment, on or off."""

    state: Annotated[str, codes("on", "off")]


class ReportNow(ButtonData, prefix="nd:report", action=Action.REPORT):
    """📝 Báo cáo ngay, under a nudge."""


Switching = SetNudges | SetReviewNotices
BUTTONS = (SetNudges, SetReviewNotices, ReportNow)
TURN_OFF = SetNudges("off")
REVIEW_NOTICES_OFF = SetReviewNotices("off")
AUDITED = {Switch.NUDGES: "nudges", Switch.REVIEW_NOTICES: "review_notices"}


class NudgeSettings:
    def __init__(self, reports: Reports) -> None:
        self.reports = reports

    async def open(self, req: Request) -> Reply:
        stranger = await self._stranger(req)
        if stranger is not None:
            return Reply((Screen(stranger),))
        return Reply((await self._screen(req),))

    async def press(self, req: Request, press: Switching | ReportNow) -> Reply:
        if isinstance(press, ReportNow):
            return await self.reports.start(req)
        t, person = req.t, req.actor.person
        if person is None:
            return Reply(toast=t.plain("access.not_member"))
        refusal = await req.check(press.action, 0, person.id, pressed=True)
        if refusal is not None:
            return refusal
        switch = Switch.NUDGES if isinstance(press, SetNudges) else Switch.REVIEW_NOTICES
        enabled = press.state == "on"
        if await settings.set_enabled(req.tx, person.id, switch, enabled):
            action = f"{AUDITED[switch]}_{'on' if enabled else 'off'}"
            await audit.record(req.tx, req.now, req.actor.label, action, f"person:{person.id}")
        key = "turned_on" if enabled else "turned_off"
        if switch is Switch.REVIEW_NOTICES:
            key = f"review_{key}"
        return Reply((await self._screen(req),), toast=t.plain(f"settings.{key}"), replace=True)

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
    async def _screen(req: Request) -> Screen:
        """The person's switches; the review notice's only for someone who leads a unit."""
        t, person = req.t, req.actor.person
        assert person is not None
        nudges = await settings.enabled(req.tx, person.id, Switch.NUDGES)
        lines = [t("settings.title"), t("settings.nudges", state=_state(t, nudges)),
                 t("settings.explain")]
        buttons = [(Button(t.plain("settings.turn_off" if nudges else "settings.turn_on"),
                           SetNudges("off" if nudges else "on").pack()),)]
        if req.actor.holds(Role.LEADER):
            notices = await settings.enabled(req.tx, person.id, Switch.REVIEW_NOTICES)
            lines += [t("settings.review_notices", state=_state(t, notices)),
                      t("settings.review_explain")]
            label = "settings.review_turn_off" if notices else "settings.review_turn_on"
            buttons.append((Button(t.plain(label),
                                   SetReviewNotices("off" if notices else "on").pack()),))
        return Screen("\n".join(lines), tuple(buttons))


def _state(t: Texts, on: bool) -> str:
    return t("settings.state_on" if on else "settings.state_off")
