"""What tests read back: the bot's calls, the messages in a chat with their buttons, the
reply keyboard, stored files, a dump of the last calls for failure messages, and waiting
until something holds (``wait_for``, ``wait_update_consumed``)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from typing import Any, Self

from .common import Call
from .updates import UpdateQueue


class Readback(UpdateQueue):
    """Inspection helpers; they never change the fake."""

    def calls_to(self, method: str) -> list[Call]:
        key = method.lower()
        source = self.get_updates_calls if key == "getupdates" else self.calls
        return [c for c in source if c.method.lower() == key]

    def messages(self, chat_id: int, *, include_incoming: bool = False) -> list[dict[str, Any]]:
        """Messages currently in the chat (edits/deletes applied), oldest first. Only the
        bot's own messages unless ``include_incoming``. HTML is already rendered: ``text``
        is the plain text and formatting is in ``entities``, like Telegram returns it."""
        return [
            copy.deepcopy(m)
            for m in self._messages.get(chat_id, {}).values()
            if include_incoming or m["from"]["id"] == self.bot_id
        ]

    def last_message(self, chat_id: int) -> dict[str, Any] | None:
        msgs = self.messages(chat_id)
        return msgs[-1] if msgs else None

    @staticmethod
    def inline_buttons(message: Mapping[str, Any] | None) -> list[tuple[str, str]]:
        """(text, callback_data) of all inline buttons; url buttons give their url."""
        if not message:
            return []
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        return [
            (b.get("text", ""), b.get("callback_data") or b.get("url") or "")
            for row in rows
            for b in row
        ]

    def reply_keyboard(self, chat_id: int) -> list[list[str]] | None:
        rows = self._reply_keyboards.get(chat_id)
        return copy.deepcopy(rows)

    def file_bytes(self, file_id: str) -> bytes:
        return self._files[file_id].data

    def dump_calls(self, last: int = 25) -> str:
        lines = []
        for call in self.calls[-last:]:
            params = json.dumps(call.params, ensure_ascii=False, default=str)
            if len(params) > 400:
                params = params[:400] + "…"
            status = f" -> ERROR {call.error}" if call.error else ""
            files = f" files={sorted(call.files)}" if call.files else ""
            lines.append(f"  {call.method} {params}{files}{status}")
        return "\n".join(lines) or "  (no calls)"

    async def wait_for(
        self, predicate: Callable[[Self], bool], timeout: float = 5.0
    ) -> None:
        """Wait until ``predicate(self)`` holds; it is re-checked after every change
        (each bot call, each queued update)."""
        if not await self._until(lambda: predicate(self), timeout):
            raise AssertionError(
                f"condition not met within {timeout}s; last calls:\n{self.dump_calls()}"
            )

    async def wait_update_consumed(self, update_id: int, timeout: float = 5.0) -> None:
        """Return once getUpdates confirmed the update (offset > update_id); by then PTB's
        Updater has put it into ``application.update_queue`` (processing may still run)."""
        if update_id not in self._history:
            raise LookupError(f"update {update_id} was never sent")
        if not await self._until(
            lambda: all(q.update_id != update_id for q in self._queue), timeout
        ):
            raise AssertionError(
                f"update {update_id} not consumed within {timeout}s "
                f"(pending: {self.pending_update_ids}, last offset: {self.last_offset}, "
                f"polling: {self.polling}); last calls:\n{self.dump_calls()}"
            )
