"""/start without an invite, /help, and the answer to anything the bot does not expect."""

from __future__ import annotations

from bot.flows.joins import waiting_key
from bot.flows.menu import main_menu
from bot.forms.conversations import Conversations, texts_for
from bot.rules.access import actor_for
from bot.runtime.services import Sender, Services
from bot.ui.screens import Reply, Screen
from storage.entities import Role


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
            actor = await actor_for(tx, self.services, sender.user_id)
            if not actor.known:
                waiting = await waiting_key(tx, actor.person.id if actor.person else None)
                return Screen(t(waiting or "access.not_member")), draft is not None
            name = actor.person.full_name if actor.person else sender.display_name
            return Screen(t(key, name=name), menu=main_menu(t, actor)), draft is not None

    async def start(self, sender: Sender) -> Reply:
        screen, drafting = await self._screen(sender, "start.greeting")
        resumed = await self.conversations.resume(sender) if drafting else None
        return Reply((screen, *(resumed.screens if resumed else ())))

    async def help(self, sender: Sender) -> Reply:
        async with self.services.db.transaction() as tx:
            t = await texts_for(tx, self.services, sender.user_id)
            actor = await actor_for(tx, self.services, sender.user_id)
            drafting = await self.conversations.has_draft(tx, sender.user_id)
            waiting = await waiting_key(tx, actor.person.id if actor.person else None)
        if not actor.known:
            return Reply((Screen(t(waiting or "help.stranger")),))
        parts = []
        if actor.holds(Role.MEMBER) or actor.holds(Role.LEADER):
            parts.append(t("help.member", days=self.services.settings.draft_ttl_days))
        elif actor.holds(Role.OBSERVER):
            parts.append(t("help.observer"))
        if actor.admin or actor.holds(Role.LEADER):
            parts.append(t("help.leader"))
        if drafting:
            parts.append(t("form.draft_kept"))
        return Reply((Screen("\n\n".join(parts), menu=main_menu(t, actor)),))

    async def not_understood(self, sender: Sender, command: bool) -> Reply:
        """Something outside any form: a stray text, sticker or unknown command."""
        screen, _ = await self._screen(sender, "fallback.command" if command else "fallback.text")
        return Reply((screen,))

    async def unknown_button(self, sender: Sender) -> str:
        async with self.services.db.transaction() as tx:
            t = await texts_for(tx, self.services, sender.user_id)
        return t.plain("form.ended")

    async def private_only(self, sender: Sender) -> Reply:
        """A press on a private flow's button in a group (data can be forged anywhere): its
        answer could show someone's records to the whole group."""
        async with self.services.db.transaction() as tx:
            t = await texts_for(tx, self.services, sender.user_id)
        return Reply(toast=t.plain("fallback.private_only"))

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
