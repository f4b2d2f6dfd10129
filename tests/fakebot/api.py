"""The transport entry: what ``FakeRequest`` and ``FakeBotServer`` call. ``call_api`` decodes
the parameters, records the ``Call``, applies latency, one-shot faults and gates, and runs
the method; ``download`` serves a file."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from typing import Any

from .common import NOT_FOUND, ApiError, Call, SimulatedTimeout, _Upload
from .methods import BotMethods, Handler
from .oneshot import OneShotFaults
from .updates import UpdateQueue

# Form-encoded transports send str values verbatim and everything else JSON-encoded,
# so a server can only tell them apart by knowing which parameters are strings.
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "file_id",
        "photo",
        "document",
        "audio",
        "video",
        "voice",
        "sticker",
        "animation",
        "video_note",
        "thumbnail",
        "action",
        "url",
        "language_code",
        "title",
        "name",
        "description",
        "short_description",
        "emoji",
        "question",
        "phone_number",
        "first_name",
        "last_name",
        "vcard",
        "address",
        "secret_token",
        "ip_address",
        "payload",
        "currency",
        "start_parameter",
        "explanation",
        "explanation_parse_mode",
        "question_parse_mode",
        "custom_emoji_id",
        "inline_query_id",
        "next_offset",
        "switch_pm_text",
        "switch_pm_parameter",
        "shipping_query_id",
        "pre_checkout_query_id",
        "error_message",
        "custom_title",
        "invite_link",
        "set_name",
        "format",
    }
)


def _decode_param(name: str, value: Any) -> Any:
    if not isinstance(value, str) or name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # e.g. chat_id="@channel"


class BotApi(UpdateQueue, OneShotFaults, BotMethods):
    """Executes one request at a time, whatever the transport."""

    _methods: dict[str, Handler]

    async def call_api(
        self,
        method: str,
        params: Mapping[str, Any],
        files: Mapping[str, bytes] | None = None,
        filenames: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Execute one Bot API method; returns (HTTP status, response JSON object).

        ``params`` may hold form-encoded strings (HTTP) or Python values (in-process);
        both are normalised to what the bot meant to send.
        """
        decoded = {k: _decode_param(k, v) for k, v in params.items()}
        uploads = {
            name: _Upload(data, (filenames or {}).get(name)) for name, data in (files or {}).items()
        }
        at = self.time_source() if self.time_source is not None else None
        call = Call(method, decoded, dict(files or {}), at=at, keys=self._keys_in(decoded))
        key = method.lower()
        (self.get_updates_calls if key == "getupdates" else self.calls).append(call)
        if self.latency:
            await asyncio.sleep(self.latency / 2)
        try:
            fault = self._take_fault(key, decoded)
            if fault is None and key != "getupdates":
                fault = next((v for gate in self.gates if (v := gate(call)) is not None), None)
            if isinstance(fault, SimulatedTimeout):
                call.error = "timed out"
                if fault.delivered and (handler := self._methods.get(key)) is not None:
                    with contextlib.suppress(ApiError):
                        handler(decoded, uploads)
                raise fault
            if fault is not None:
                raise fault
            if key == "getupdates":
                result: Any = await self._get_updates(decoded)
            else:
                handler = self._methods.get(key)
                if handler is None:
                    call.error = NOT_FOUND["description"]
                    return 404, dict(NOT_FOUND)
                result = handler(decoded, uploads)
                call.result = result
        except ApiError as exc:
            call.error = exc.description
            await self._answer_latency()
            return exc.code, exc.response()
        finally:
            self._changed()
        await self._answer_latency()
        return 200, {"ok": True, "result": result}

    def _keys_in(self, params: Mapping[str, Any]) -> frozenset[str]:
        """The catalogue keys (``key_source``) of the texts a call shows: its ``text`` or
        ``caption`` and an album's captions, as the bot sent them (before rendering)."""
        if self.key_source is None:
            return frozenset()
        texts = [params.get("text"), params.get("caption")]
        media = params.get("media")
        if isinstance(media, list):
            texts += [item.get("caption") for item in media if isinstance(item, dict)]
        found = [self.key_source(text) for text in texts if isinstance(text, str) and text]
        return frozenset().union(*found)

    async def _answer_latency(self) -> None:
        if self.latency:
            await asyncio.sleep(self.latency / 2)

    def download(self, file_path: str) -> bytes | None:
        stored = self._files_by_path.get(file_path)
        if stored is None:
            return None
        self.downloads.append(file_path)
        return stored.data
