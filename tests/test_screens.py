"""Long texts are split at line boundaries to fit Telegram's 4,096 characters."""

from __future__ import annotations

import pytest

from bot.ui.screens import split_text


@pytest.mark.parametrize(("text", "limit", "expected"), [
    ("short", 10, ["short"]),
    ("", 10, [""]),
    ("aaaa\nbbbb\ncccc", 9, ["aaaa\nbbbb", "cccc"]),
    ("aaaa\nbbbb\ncccc", 4, ["aaaa", "bbbb", "cccc"]),
    ("x" * 25, 10, ["x" * 10, "x" * 10, "x" * 5]),
    ("ab\n" + "y" * 12 + "\ncd", 5, ["ab", "yyyyy", "yyyyy", "yy\ncd"]),
    ("một hai ba bốn năm", 10, ["một hai", "ba bốn năm"]),
    ("xxxxxxx&amp;yy", 10, ["xxxxxxx", "&amp;yy"]),
    ("xxxxxxxx<b>yy", 10, ["xxxxxxxx", "<b>yy"]),
])
def test_split_text(text: str, limit: int, expected: list[str]) -> None:
    assert split_text(text, limit) == expected


def test_every_part_fits_and_nothing_is_lost() -> None:
    lines = [f"Dòng {n}: " + "việc làm tốt " * (n % 40) for n in range(600)]
    text = "\n".join(lines)
    parts = split_text(text)
    assert all(len(part) <= 4096 for part in parts)
    assert "\n".join(parts) == text


def test_a_long_escaped_line_is_never_cut_inside_an_entity() -> None:
    line = "📝 Nội dung: " + "&amp;&lt;b&gt;" * 700
    for part in split_text(line):
        assert len(part) <= 4096
        assert part.count("&") == part.count(";"), "every entity is whole"
