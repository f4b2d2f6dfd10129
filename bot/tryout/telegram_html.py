"""Parser for Telegram's HTML parse mode, as Telegram reads the bot's messages.

Telegram answers a ``parse_mode=HTML`` message with the *plain* text plus a list of
entities, and refuses markup it cannot read. The stand-in of `lantoa try` does the same (and
the terminal shows the entities), and so does the tests' fake (tests/fakebot), so that tests
see what users see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["HtmlError", "parse_html", "strip_text", "utf16_len"]

_ALLOWED_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{0,31});")
_TAG_NAME_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
_ATTR_NAME_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9_-]*")


class HtmlError(ValueError):
    """The text is not valid Telegram HTML; ``str(exc)`` is the part after
    ``"can't parse entities: "`` in Telegram's error description."""


@dataclass
class _Open:
    name: str
    offset: int  # UTF-16 position in the output, because entity offsets are UTF-16 based
    byte_offset: int
    attrs: dict[str, str]
    nested_language: str | None = None
    children: list[str] = field(default_factory=list)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of all Bot API entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_entity(match: re.Match[str]) -> str | None:
    body = match.group(1)
    if body.startswith(("#x", "#X")):
        code = int(body[2:], 16)
    elif body.startswith("#"):
        code = int(body[1:])
    else:
        return _NAMED_ENTITIES.get(body)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _parse_attrs(text: str, pos: int, start: int) -> tuple[dict[str, str], int]:
    """Parse attributes up to and including ``>``; returns (attrs, index after ``>``)."""
    attrs: dict[str, str] = {}
    n = len(text)
    while True:
        while pos < n and text[pos].isspace():
            pos += 1
        if pos >= n:
            raise HtmlError(f"Unclosed start tag at byte offset {_byte_offset(text, start)}")
        if text[pos] == ">":
            return attrs, pos + 1
        if text.startswith("/>", pos):
            # Telegram has no void elements, so "<br/>" is as wrong as "<br>".
            raise HtmlError(
                f"Unsupported self-closing tag at byte offset {_byte_offset(text, start)}"
            )
        m = _ATTR_NAME_RE.match(text, pos)
        if not m:
            raise HtmlError(
                f"Expected equal sign in declaration of an attribute of the tag at byte offset "
                f"{_byte_offset(text, start)}"
            )
        name = m.group(0).lower()
        pos = m.end()
        while pos < n and text[pos].isspace():
            pos += 1
        if pos < n and text[pos] == "=":
            pos += 1
            while pos < n and text[pos].isspace():
                pos += 1
            if pos >= n:
                raise HtmlError(f"Unclosed start tag at byte offset {_byte_offset(text, start)}")
            quote = text[pos]
            if quote in "\"'":
                end = text.find(quote, pos + 1)
                if end < 0:
                    raise HtmlError(
                        f"Unclosed start tag at byte offset {_byte_offset(text, start)}"
                    )
                raw = text[pos + 1 : end]
                pos = end + 1
            else:
                end = pos
                while end < n and not text[end].isspace() and text[end] != ">":
                    end += 1
                raw = text[pos:end]
                pos = end
            attrs[name] = _ENTITY_RE.sub(lambda mm: _decode_entity(mm) or mm.group(0), raw)
        else:
            attrs[name] = ""


def parse_html(text: str, *, strict: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Return (plain_text, entities) like Telegram does for ``parse_mode=HTML``.

    With ``strict`` a bare ``&`` or ``>`` is an error too. Real Telegram tolerates those,
    but a bot that forgets ``html.escape`` only fails on ``<`` – i.e. only for some user
    input – so being stricter catches the bug with any input.
    """
    out: list[str] = []
    pos16 = 0
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    i = 0
    n = len(text)

    def emit(chars: str) -> None:
        nonlocal pos16
        out.append(chars)
        pos16 += utf16_len(chars)

    while i < n:
        ch = text[i]
        if ch == "&":
            m = _ENTITY_RE.match(text, i)
            decoded = _decode_entity(m) if m else None
            if m is None or decoded is None:
                if strict:
                    raise HtmlError(
                        f'Character "&" must be escaped as "&amp;" at byte offset '
                        f"{_byte_offset(text, i)}"
                    )
                emit("&")
                i += 1
                continue
            emit(decoded)
            i = m.end()
        elif ch == "<":
            start = i
            if text.startswith("</", i):
                m = _TAG_NAME_RE.match(text, i + 2)
                end = text.find(">", i)
                if m is None or end < 0 or text[m.end() : end].strip():
                    raise HtmlError(f"Unclosed end tag at byte offset {_byte_offset(text, i)}")
                name = m.group(0).lower()
                if not stack:
                    raise HtmlError(f"Unexpected end tag at byte offset {_byte_offset(text, i)}")
                top = stack[-1]
                if top.name != name:
                    raise HtmlError(
                        f"Unmatched end tag at byte offset {_byte_offset(text, i)}, "
                        f'expected "</{top.name}>", found "</{name}>"'
                    )
                stack.pop()
                _close(top, pos16, stack, entities)
                i = end + 1
                continue
            m = _TAG_NAME_RE.match(text, i + 1)
            if m is None:
                raise HtmlError(
                    f'Unsupported start tag "" at byte offset {_byte_offset(text, start)}'
                    ' (a literal "<" must be escaped as "&lt;")'
                )
            name = m.group(0).lower()
            if name not in _ALLOWED_TAGS:
                raise HtmlError(
                    f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, start)}'
                )
            attrs, i = _parse_attrs(text, m.end(), start)
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise HtmlError(
                    'Tag "span" must have class "tg-spoiler" at byte offset '
                    f"{_byte_offset(text, start)}"
                )
            if name == "tg-emoji" and not attrs.get("emoji-id"):
                raise HtmlError(
                    'Tag "tg-emoji" must have attribute "emoji-id" at byte offset '
                    f"{_byte_offset(text, start)}"
                )
            stack.append(_Open(name, pos16, _byte_offset(text, start), attrs))
        elif ch == ">" and strict:
            raise HtmlError(
                f'Character ">" must be escaped as "&gt;" at byte offset {_byte_offset(text, i)}'
            )
        else:
            emit(ch)
            i += 1
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    plain = "".join(out)
    return plain, sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def _close(tag: _Open, pos16: int, stack: list[_Open], entities: list[dict[str, Any]]) -> None:
    length = pos16 - tag.offset
    kind = _ALLOWED_TAGS[tag.name]
    if (
        tag.name == "code"
        and stack
        and stack[-1].name == "pre"
        and tag.attrs.get("class", "").startswith("language-")
    ):
        # <pre><code class="language-x"> is one pre entity with a language, not two entities.
        stack[-1].nested_language = tag.attrs["class"].removeprefix("language-")
        return
    if length <= 0:
        return
    entity: dict[str, Any] = {"type": kind, "offset": tag.offset, "length": length}
    if kind == "text_link":
        url = tag.attrs.get("href", "")
        if not url:
            return  # Telegram silently drops <a> without href
        entity["url"] = url
    elif kind == "pre" and tag.nested_language:
        entity["language"] = tag.nested_language
    elif kind == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = tag.attrs["emoji-id"]
    entities.append(entity)


def strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Trim surrounding whitespace and shift/clip entities the way Telegram does."""
    stripped_left = text.lstrip()
    lead = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip()
    total = utf16_len(result)
    fixed: list[dict[str, Any]] = []
    for ent in entities:
        start = max(ent["offset"] - lead, 0)
        end = min(ent["offset"] + ent["length"] - lead, total)
        if end > start:
            fixed.append({**ent, "offset": start, "length": end - start})
    return result, fixed
