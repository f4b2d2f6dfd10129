"""Two views of user text: one faithful enough to store, one loose enough to match.

Members type on cheap phones where Telex/VNI input often fails, so the same word arrives with
or without diacritics, in either Unicode form (NFC or decomposed NFD), in any case and with
stray spaces. Storing needs the text kept as written; matching needs all of that erased.
"""

from __future__ import annotations

import unicodedata

# đ is a letter of its own, not d plus a combining mark, so NFD alone leaves it in place.
# The Icelandic eth (Ð/ð) looks identical and turns up through mis-set keyboards and fonts.
_D_LIKE = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d"})
_D_LIKE_CASED = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})


def normalize(text: str) -> str:
    """Canonical form for storage.

    NFC so that the same visible word is the same string whatever keyboard produced it (equal
    strings compare, dedupe and index as equal); whitespace collapsed because stray spaces,
    tabs and line breaks from phone keyboards carry no meaning here.
    """
    return " ".join(unicodedata.normalize("NFC", text).split())


def fold(text: str) -> str:
    """Matching key: lower case and without diacritics, so "Hôm QUA" and "hom qua" agree.

    Lower-casing happens before the marks are dropped because some upper-case letters lower to
    a base letter plus a combining mark, which then gets removed with the rest. Whitespace is
    collapsed again at the end: a stray mark typed after a space ("hôm qua ́", a Telex slip)
    is a word of its own until it is dropped, and would leave a trailing space behind.
    """
    lowered = normalize(text).lower().translate(_D_LIKE)
    bare = "".join(
        ch for ch in unicodedata.normalize("NFD", lowered) if not unicodedata.combining(ch)
    )
    return " ".join(unicodedata.normalize("NFC", bare).split())


def ascii_words(text: str, limit: int) -> str:
    """The words in plain ASCII letters and digits, case kept, joined by "-" and cut to `limit`
    characters: "Chi bộ Thôn Bản Chặng" is "Chi-bo-Thon-Ban-Chang" (a file's name that every
    system and mail program keeps as it is)."""
    bare = "".join(ch for ch in unicodedata.normalize("NFD", text.translate(_D_LIKE_CASED))
                   if not unicodedata.combining(ch))
    words = "".join(ch if ch.isascii() and ch.isalnum() else " " for ch in bare).split()
    return "-".join(words)[:limit].strip("-")


def normalize_multiline(text: str) -> str:
    """Like `normalize`, but a long answer keeps its line breaks (at most one blank line in a
    row), because members write what they did in short paragraphs."""
    lines = [normalize(line) for line in unicodedata.normalize("NFC", text).splitlines()]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip()
