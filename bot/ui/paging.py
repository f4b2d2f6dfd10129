"""Long lists shown a page at a time, with ◀ ▶ buttons that carry the page to show; units
in a picker in the order of the tree."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.ui.catalogue import Texts
from bot.ui.screens import Button, Keyboard
from storage.entities import Unit

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]  # the ones on this page
    number: int  # from 0
    count: int  # how many pages there are (at least 1)
    first: int  # the position of items[0] in the whole list, from 0


def page_of(items: Sequence[T], page: int, size: int) -> Page[T]:
    """Page `page` of `items`; a page number from old (or forged) button data is brought
    within range."""
    count = max(1, -(-len(items) // size))
    number = min(max(page, 0), count - 1)
    return Page(items[number * size:(number + 1) * size], number, count, number * size)


def turns(t: Texts, page: Page, data_for: Callable[[int], str],
          labels: tuple[str, str] = ("button.previous_page", "button.next_page")) -> Keyboard:
    """The row of ◀ ▶ buttons, or no row on a single page."""
    row = []
    if page.number > 0:
        row.append(Button(t.plain(labels[0]), data_for(page.number - 1)))
    if page.number < page.count - 1:
        row.append(Button(t.plain(labels[1]), data_for(page.number + 1)))
    return (tuple(row),) if row else ()


def in_tree_order(found: list[Unit]) -> list[Unit]:
    """Each unit followed by the units below it, siblings by name: a picker reads like the
    tree."""
    ids = {u.id for u in found}
    below: dict[int | None, list[Unit]] = {}
    for unit in found:
        below.setdefault(unit.parent_id if unit.parent_id in ids else None, []).append(unit)
    ordered: list[Unit] = []
    stack = sorted(below.get(None, []), key=lambda u: (u.name, u.id), reverse=True)
    while stack:
        unit = stack.pop()
        ordered.append(unit)
        stack += sorted(below.get(unit.id, []), key=lambda u: (u.name, u.id), reverse=True)
    return ordered
