"""/lang: Vietnamese for everyone unless a person chooses English."""

from __future__ import annotations

from typing import Annotated

from bot.flows.menu import menu_now
from bot.rules.access import Action, Request
from bot.ui.buttons import ButtonData, codes
from bot.ui.catalogue import LANGUAGES, Catalogue
from bot.ui.screens import Button, Reply, Screen
from storage import people

STALE = "form.problem.old_button"


class ChooseLanguage(ButtonData, prefix="lang", action=Action.CHOOSE_LANGUAGE):
    lang: Annotated[str, codes(*LANGUAGES)]


BUTTONS = (ChooseLanguage,)


class Language:
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    async def choices(self, req: Request) -> Reply:
        buttons = tuple(Button(self.catalogue.texts(lang).plain("lang.name"),
                               ChooseLanguage(lang).pack()) for lang in LANGUAGES)
        return Reply((Screen(req.t("lang.choose"), (buttons,)),))

    async def choose(self, req: Request, press: ChooseLanguage) -> Reply:
        person = req.actor.person
        # Shown as a message, not a note: someone the bot does not know yet needs the words.
        refusal = await req.check(press.action, 0, person.id if person else None)
        if refusal is not None or person is None:
            return refusal or Reply()
        await people.set_language(req.tx, person.id, press.lang)
        t = self.catalogue.texts(press.lang)
        return Reply((Screen(t("lang.set"), menu=await menu_now(req, t=t)),), close=True)
