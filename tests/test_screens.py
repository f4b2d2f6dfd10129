"""Long texts are split at line boundaries to fit Telegram's 4,096 characters; a text is
measured as Telegram measures a caption (1,024), and a screen with one picture and a text that
fits goes as one message."""

from __future__ import annotations

import html

import pytest

from bot.ui.screens import (
    CAPTION_LIMIT,
    Button,
    Screen,
    fits_caption,
    split_text,
    visible_length,
)
from handlers.screens import parts_of


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


@pytest.mark.parametrize(("text", "length"), [
    ("", 0),
    ("Chi bộ Thôn Bản Chặng", 21),  # precomposed Vietnamese letters: one unit each
    ("<b>Tuần 48</b>", 7),  # tags take no room
    ('<a href="tg://user?id=1">Mai</a>', 3),
    ("&lt;script&gt; &amp; &quot;", 12),  # each escape is the one character it stands for
    ("🎉", 2),  # beyond the basic plane: two UTF-16 units
    ("👍🏽", 4),  # an emoji with its skin tone: two characters of two units
    ("📊 <b>TỔNG HỢP</b>\n• 12 việc", 2 + 1 + 8 + 1 + 9),
    ("Ho\u0300a", 4),  # a combining accent is a unit of its own
])
def test_visible_length_counts_as_telegram_does(text: str, length: int) -> None:
    assert visible_length(text) == length


def test_a_caption_holds_1024_units_as_read() -> None:
    line = "Đồng chí Hoàng Thị Mai — An sinh xã hội (27/11/2026)"
    escaped = html.escape("<Hội & Đoàn>")
    text = "\n".join([f"<b>{escaped}</b>", *[line] * 19])
    assert visible_length(text) == 12 + 19 * (len(line) + 1)
    room = CAPTION_LIMIT - visible_length(text)
    filler = "🎉" * (room // 2) + "a" * (room % 2)
    assert fits_caption(text + filler) and visible_length(text + filler) == CAPTION_LIMIT
    assert not fits_caption(text + filler + "a")
    assert len(text + filler + "a") < 1100, "the markup's length is not what counts"


CHART = b"\x89PNG chart"
KEYS = ((Button("📊 Xem biểu đồ", "dg:c:1:week:739943"),),)


def _kinds(screen: Screen) -> list[tuple[str, ...]]:
    return [tuple(name for name, value in (("photo", part.photo), ("text", part.text),
                                           ("album", part.album), ("buttons", part.markup))
                  if value) for part in parts_of(screen)]


def test_one_picture_and_a_text_that_fits_are_one_message() -> None:
    text = "<b>Tuần 48</b> " + "ệ" * (CAPTION_LIMIT - 8)
    assert _kinds(Screen(text, KEYS, image=CHART, caption=True)) == [
        ("photo", "text", "buttons")]
    assert _kinds(Screen(text, KEYS, photos=("poster",), caption=True)) == [
        ("photo", "text", "buttons")]
    [part] = parts_of(Screen(text, image=CHART, caption=True))
    assert part.photo == CHART and part.text == text


def test_otherwise_the_picture_then_the_text() -> None:
    fits = "Tuần 48: 12 việc"
    too_long = "ệ" * CAPTION_LIMIT + "🎉"
    for screen in (Screen(too_long, KEYS, image=CHART, caption=True),
                   Screen(fits, KEYS, image=CHART),  # not asked: a screen redrawn in place
                   Screen(fits, KEYS, photos=("p1",))):
        assert _kinds(screen) == [("photo",), ("text", "buttons")], screen
    assert _kinds(Screen(fits, KEYS, image=CHART, photos=("p1",), caption=True)) == [
        ("photo",), ("photo",), ("text", "buttons")], "two pictures: neither has the words"
    assert _kinds(Screen(fits, KEYS, photos=("p1", "p2"), caption=True)) == [
        ("album",), ("text", "buttons")]
    assert _kinds(Screen("  ", KEYS, image=CHART, caption=True)) == [("photo", "buttons")]
