"""Faults a test scripts for the next calls of a method: ``fail_next`` answers them with an
error, ``time_out_next`` lets them time out. Unlike the gates (``limits.TelegramLimits``,
``faults.RandomFaults``) they are one-shot and are taken before the gates are asked, for
getUpdates too."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .common import ApiError, SimulatedTimeout, _as_int
from .state import FakeState


@dataclass
class _Fault:
    error: ApiError | SimulatedTimeout
    remaining: int
    chat_id: int | None = None  # only calls into this chat
    skip: int = 0  # matching calls let through first

    def matches(self, params: Mapping[str, Any]) -> bool:
        return self.chat_id is None or _as_int(params.get("chat_id")) == self.chat_id


class OneShotFaults(FakeState):
    """``fail_next`` and ``time_out_next``; ``call_api`` asks ``_take_fault`` first."""

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
        skip: int = 0,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with this error, without
        executing them. ``chat_id``: only calls into that chat count; ``skip``: that many
        matching calls succeed first (``skip=2``: the third message fails). A status of 500
        and above is Telegram's own trouble (the bot sees a NetworkError)."""
        parameters: dict[str, Any] = {}
        if retry_after is not None:
            parameters["retry_after"] = retry_after
        if migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = migrate_to_chat_id
        error = ApiError(status, description, parameters or None)
        self._faults.setdefault(method.lower(), []).append(_Fault(error, times, chat_id, skip))

    def time_out_next(
        self,
        method: str,
        *,
        times: int = 1,
        chat_id: int | None = None,
        skip: int = 0,
        delivered: bool = False,
    ) -> None:
        """The next ``times`` calls of ``method`` (into ``chat_id``, after ``skip``) get no
        answer in time: in-process the bot sees ``TimedOut`` at once. ``delivered``: the
        call took effect all the same (the message is in the chat), only the answer was
        lost."""
        fault = _Fault(SimulatedTimeout(delivered), times, chat_id, skip)
        self._faults.setdefault(method.lower(), []).append(fault)

    def _take_fault(
        self, key: str, params: Mapping[str, Any]
    ) -> ApiError | SimulatedTimeout | None:
        faults = self._faults.get(key)
        fault = next((f for f in faults or () if f.matches(params)), None)
        if fault is None or faults is None:
            return None
        if fault.skip > 0:
            fault.skip -= 1
            return None
        fault.remaining -= 1
        if fault.remaining <= 0:
            faults.remove(fault)
        return fault.error
