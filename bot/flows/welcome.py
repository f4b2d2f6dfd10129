"""/start without an invite, /help, and the answer to anything the bot does not expect."""

from __future__ import annotations

from bot.flows.joins import waiting_key
from bot.flows.menu import main_menu
from bot.forms.conversations import Conversations
from bot.rules.access import Request
from bot.runtime.config import Settings
from bot.ui.screens import Reply, Screen
from storage.entities import Role


class Welcome:
    def __init__(self, settings: Settings, conversations: Conversations) -> None:
        self.settings = settings
        self.conversations = conversations

    async def _screen(self, req: Request, key: str) -> Screen:
        """`key`'s text, with the menu for registered people (a stranger gets the stranger's
        text instead, or that their join waits for approval)."""
        t, actor = req.t, req.actor
        if not actor.known:
            waiting = await waiting_key(req.tx, actor.person.id if actor.person else None)
            return Screen(t(waiting or "access.not_member"))
        name = actor.person.full_name if actor.person else req.name
        return Screen(t(key, name=name), menu=main_menu(t, actor))

    async def start(self, req: Request) -> Reply:
        screen = await self._screen(req, "start.greeting")
        drafting = await self.conversations.has_draft(req)
        resumed = await self.conversations.resume(req) if drafting else None
        return Reply((screen, *(resumed.screens if resumed else ())))

    async def help(self, req: Request) -> Reply:
        t, actor = req.t, req.actor
        if not actor.known:
            waiting = await waiting_key(req.tx, actor.person.id if actor.person else None)
            return Reply((Screen(t(waiting or "help.stranger")),))
        parts = []
        if actor.holds(Role.MEMBER) or actor.holds(Role.LEADER):
            parts.append(t("help.member", days=self.settings.draft_ttl_days))
        elif actor.holds(Role.OBSERVER):
            parts.append(t("help.observer"))
        if actor.admin or actor.holds(Role.LEADER):
            parts.append(t("help.leader"))
        kept = await self.conversations.kept_note(req)
        if kept is not None:
            parts.append(kept)
        return Reply((Screen("\n\n".join(parts), menu=main_menu(t, actor)),))

    async def not_understood(self, req: Request, command: bool) -> Reply:
        """Something outside any form: a stray text, sticker or unknown command."""
        return Reply((await self._screen(req, "fallback.command" if command
                                         else "fallback.text"),))

    @staticmethod
    async def edited_message(req: Request) -> Reply:
        """Telegram lets people edit a sent message; a form takes each answer once, so say how
        to change it instead."""
        return Reply((Screen(req.t("fallback.edited")),))

    @staticmethod
    async def trouble(req: Request) -> Reply:
        return Reply((Screen(req.t("error.generic")),))
