"""What members type, against the stored form and the matching key."""

from __future__ import annotations

import unicodedata

import pytest

from bot.parsing.text import fold, normalize, normalize_multiline


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hôm qua", "Hôm qua"),
        (nfd("Hôm qua"), "Hôm qua"),
        ("  Giúp   đỡ\tbà con \n", "Giúp đỡ bà con"),
        ("dòng một\n\ndòng hai", "dòng một dòng hai"),
        ("a\u00a0b", "a b"),
        ("", ""),
        ("   ", ""),
        ("Đảng", "Đảng"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    result = normalize(raw)
    assert result == expected
    assert unicodedata.is_normalized("NFC", result)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hôm QUA", "hom qua"),
        ("hom qua", "hom qua"),
        (nfd("Hôm qua"), "hom qua"),
        ("  HÔM   qua ", "hom qua"),
        ("Đồng chí", "dong chi"),
        ("đ", "d"),
        ("ĐỒNG", "dong"),
        ("Ðồng", "dong"),
        ("Thứ Bảy", "thu bay"),
        ("chủ nhật", "chu nhat"),
        ("nghìn ngàn tỷ tỉ triệu", "nghin ngan ty ti trieu"),
        ("ăâêôơưý", "aaeoouy"),
        ("ẮẰẲẴẶ", "aaaaa"),
        ("", ""),
        ("20tr 500k", "20tr 500k"),
    ],
)
def test_fold(raw: str, expected: str) -> None:
    assert fold(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Sửa mái nhà  \n\n\n\n cho hộ nghèo ", "Sửa mái nhà\n\ncho hộ nghèo"),
        ("dòng 1\r\ndòng   2", "dòng 1\ndòng 2"),
        ("\n\n  \n", ""),
        ("Ho\u0302m nay", "Hôm nay"),
    ],
)
def test_normalize_multiline_keeps_paragraphs(raw: str, expected: str) -> None:
    assert normalize_multiline(raw) == expected
