"""What Telegram checks in a message before sending it: the text or caption (parse_mode,
HTML, length) and the reply_markup (inline buttons, reply keyboards)."""

from __future__ import annotations

import copy
import re
from typing import Any

from bot.tryout.telegram_html import HtmlError, parse_html, strip_text

from .common import MAX_CAPTION_LENGTH, MAX_TEXT_LENGTH, ApiError, _KeyboardEffect
from .state import FakeState

_BUTTON_URL_RE = re.compile(r"(https?|tg)://\S+", re.IGNORECASE)


class Checks(FakeState):
    """Rendering and validation shared by the sending and editing methods."""

    def _render(
        self, text: Any, parse_mode: Any, entities: Any, *, what: str
    ) -> tuple[str, list[dict[str, Any]]]:
        text = "" if text is None else str(text)
        mode = str(parse_mode).lower() if parse_mode else ""
        if mode == "html":
            try:
                plain, ents = parse_html(text, strict=self.strict_html)
            except HtmlError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        elif mode in ("markdown", "markdownv2"):
            # Not rendered: the text keeps its markup characters.
            plain, ents = text, []
        elif mode:
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        else:
            plain, ents = text, [dict(e) for e in entities or []]
        plain, ents = strip_text(plain, ents)
        if what == "text":
            if not plain:
                raise ApiError(400, "Bad Request: message text is empty")
            if len(plain) > MAX_TEXT_LENGTH:
                raise ApiError(400, "Bad Request: message is too long")
        elif len(plain) > MAX_CAPTION_LENGTH:
            raise ApiError(400, "Bad Request: message caption is too long")
        return plain, ents

    def _check_markup(
        self, markup: Any, *, inline_only: bool
    ) -> tuple[dict[str, Any] | None, _KeyboardEffect]:
        """Validate reply_markup; returns (inline markup to store on the message, effect
        on the chat's reply keyboard). Applied only after the whole request succeeded."""
        if markup is None:
            return None, None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise ApiError(400, "Bad Request: can't parse inline keyboard markup")
            for row in rows:
                for button in row:
                    self._check_inline_button(button)
            return {"inline_keyboard": copy.deepcopy(rows)}, None
        if inline_only:
            raise ApiError(400, "Bad Request: inline keyboard expected")
        if "keyboard" in markup:
            rows = [
                [b if isinstance(b, str) else str(b.get("text", "")) for b in row]
                for row in markup["keyboard"]
            ]
            if any(not text for row in rows for text in row):
                raise ApiError(400, "Bad Request: keyboard button text is empty")
            return None, ("set", rows)
        if markup.get("remove_keyboard"):
            return None, ("remove", None)
        return None, None

    @staticmethod
    def _check_inline_button(button: Any) -> None:
        if not isinstance(button, dict) or not button.get("text"):
            raise ApiError(400, "Bad Request: can't parse inline keyboard button: text is empty")
        if len(button) == 1:
            raise ApiError(
                400,
                "Bad Request: can't parse inline keyboard button: "
                "Text buttons are unallowed in the inline keyboard",
            )
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        if "url" in button and not _BUTTON_URL_RE.fullmatch(str(button["url"])):
            raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
