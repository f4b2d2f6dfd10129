"""Pages of a long list: a page number from old or forged button data is brought in range."""

from __future__ import annotations

import pytest

from bot.ui.catalogue import Catalogue
from bot.ui.paging import page_of, turns

T = Catalogue.load().texts("vi")


@pytest.mark.parametrize(("asked", "number", "items"), [
    (0, 0, [0, 1, 2]), (1, 1, [3, 4, 5]), (3, 3, [9]), (99, 3, [9]), (-5, 0, [0, 1, 2]),
])
def test_page_of(asked: int, number: int, items: list[int]) -> None:
    page = page_of(list(range(10)), asked, 3)
    assert (page.number, list(page.items), page.count, page.first) == (
        number, items, 4, number * 3)


def test_turns_only_where_there_is_somewhere_to_go() -> None:
    assert turns(T, page_of([1, 2], 0, 3), str) == ()
    [row] = turns(T, page_of(list(range(10)), 1, 3), lambda n: f"p:{n}")
    assert [b.data for b in row] == ["p:0", "p:2"]
    [last] = turns(T, page_of(list(range(10)), 3, 3), lambda n: f"p:{n}")
    assert [b.data for b in last] == ["p:2"]
    assert page_of([], 0, 3).count == 1
