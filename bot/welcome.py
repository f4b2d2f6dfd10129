"""/start without an invite, /help, and the answer to anything the bot does not expect."""

from __future__ import annotations

from bot.conversation import Conversations, texts_for
from bot.menu import menu_for
from bot.screens import Reply, Screen
from bot.services import Sender, Services
from storage import people
from storage.db import Tx


async def _is_registered(tx: Tx, user_id: int) -> bool:
    person = await people.person_by_telegram_id(tx, user_id)
    return person is not None and bool(await people.active_memberships(tx, person.id))


class Welcome:
    def __init__(self, services: Services, conversations: Conversations) -> None:
        self.services = services
        self.conversations = conversations

    async def _screen(self, sender: Sender, key: str) -> tuple[Screen, bool]:
        """`key`'s text, with the menu for registered people (a stranger gets the stranger's
        text instead), and whether a form is under way."""
        async with self.services.db.transaction() as tx:
            t = await texts_for(tx, self.services, sender.user_id)
            draft = await self.conversations.has_draft(tx, sender.user_id)
            if not await _is_registered(tx, sender.user_id):
                return Screen(t("access.not_member")), draft is not None
            person = await people.person_by_telegram_id(tx, sender.user_id)
            name = person.full_name if person else sender.display_name
            menu = await menu_for(tx, self.services, sender.user_id, t)
            return Screen(t(key, name=name), menu=menu), draft is not None

    async def start(self, sender: Sender) -> Reply:
        screen, drafting = await self._screen(sender, "start.greeting")
        resumed = await self.conversations.resume(sender) if drafting else None
        return Reply((screen, *(resumed.screens if resumed else ())))

    async def help(self, sender: Sender) -> Reply:
        async with self.services.db.transaction() as tx:
            t = await texts_for(tx, self.services, sender.user_id)
            registered = await _is_registered(tx, sender.user_id)
            drafting = await self.conversations.has_draft(tx, sender.user_id)
            menu = await menu_for(tx, self.services, sender.user_id, t) if registered else None
        days = self.services.settings.draft_ttl_days
        text = t("help.member", days=days) if registered else t("help.stranger")
        if drafting:
            text = f"{text}\n\n{t('form.draft_kept')}"
        return Reply((Screen(text, menu=menu),))

    async def not_understood(self, sender: Sender, command: bool) -> Reply:
        """Something outside any form: a stray text, sticker or unknown command."""
        screen, _ = await self._screen(sender, "fallback.command" if command else "fallback.text")
        return Reply((screen,))

    async def unknown_button(self, sender: Sender) -> str:
        async with self.services.db.transaction() as tx:
            t = await texts_for(tx, self.services, sender.user_id)
        return t.plain("form.ended")

    async def edited_message(self, sender: Sender) -> Reply:
        """Telegram lets people edit a sent message; a form takes each answer once, so say how
        to change it instead."""
        async with self.services.db.transaction() as tx:
            t = await texts_for(tx, self.services, sender.user_id)
        return Reply((Screen(t("fallback.edited")),))

    async def trouble(self, sender: Sender) -> Reply:
        async with self.services.db.transaction() as tx:
            t = await texts_for(tx, self.services, sender.user_id)
        return Reply((Screen(t("error.generic")),))
