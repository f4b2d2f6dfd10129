"""/lang: Vietnamese for everyone unless a person chooses English."""

from __future__ import annotations

from bot.flows.menu import menu_for
from bot.forms.conversations import texts_for
from bot.runtime.services import Sender, Services
from bot.ui.catalogue import LANGUAGES
from bot.ui.screens import Button, Reply, Screen
from storage import people

PREFIX = "lang"


class Language:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def choices(self, sender: Sender) -> Reply:
        async with self.services.db.transaction() as tx:
            t = await texts_for(tx, self.services, sender.user_id)
        buttons = tuple(Button(self.services.texts(lang).plain("lang.name"), f"{PREFIX}:{lang}")
                        for lang in LANGUAGES)
        return Reply((Screen(t("lang.choose"), (buttons,)),))

    async def choose(self, sender: Sender, data: str) -> Reply:
        lang = data.removeprefix(f"{PREFIX}:")
        async with self.services.db.transaction() as tx:
            person = await people.person_by_telegram_id(tx, sender.user_id)
            t = self.services.texts(person.lang if person else None)
            if lang not in LANGUAGES:
                return Reply(toast=t.plain("form.problem.old_button"))
            if person is None:
                return Reply((Screen(t("access.not_member")),))
            await people.set_language(tx, person.id, lang)
            t = self.services.texts(lang)
            menu = await menu_for(tx, self.services, sender.user_id, t)
        return Reply((Screen(t("lang.set"), menu=menu),), close=True)
