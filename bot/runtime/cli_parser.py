"""The command line's parser, speaking the catalogue's language: argparse's own words too.

argparse says "usage:", "the following arguments are required", "invalid choice"… through
gettext, which finds translations only in compiled .mo files chosen by the locale of the
environment (a province's server may be set to anything). argparse calls them through its
module-level `_` and `ngettext`, the hook gettext leaves; `speaking` points those at the
catalogue for as long as the command line parses and prints its help. texts/en keeps argparse's
English messages (the msgids) under `cli.argparse`, texts/vi their translation, key by key.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

from bot.ui.catalogue import Catalogue, Texts

LANGUAGE = "vi"  # the command line's, whatever a person chose in the bot
EXIT_USAGE = 2
ARGPARSE = "cli.argparse."
SQLITE_INTEGER_MAX = 2**63 - 1  # a larger id would not even reach the query


def cli_texts() -> Texts:
    return Catalogue.load().texts(LANGUAGE)


@contextmanager
def speaking(catalogue: Catalogue, lang: str = LANGUAGE) -> Iterator[None]:
    """argparse's messages in `lang` inside the block (the command line is one thread)."""
    english, t = catalogue.tables["en"], catalogue.texts(lang)
    table = {str(english[key]): t.plain(key) for key in english if key.startswith(ARGPARSE)}

    def gettext(message: str) -> str:
        return table.get(message, message)

    def ngettext(singular: str, plural: str, n: int) -> str:
        return gettext(singular if n == 1 else plural)

    module = vars(argparse)
    saved = module["_"], module["ngettext"]
    module.update(_=gettext, ngettext=ngettext)
    try:
        yield
    finally:
        module["_"], module["ngettext"] = saved


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line, not argparse's usage block: where to find the usage is said instead."""
        self.exit(EXIT_USAGE, cli_texts().plain("cli.usage_error", prog=self.prog,
                                                 message=message) + "\n")


def whole_number(t: Texts, low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer from `low` to `high`, or a line saying so."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                t.plain("cli.arg.whole_number", low=low, high=high, value=text))
        return value

    return parse


def unit_id(t: Texts) -> Callable[[str], int]:
    """An argparse type: a unit's id as `lantoa unit list` shows it."""
    number = whole_number(t, 1, SQLITE_INTEGER_MAX)

    def parse(text: str) -> int:
        try:
            return number(text)
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(t.plain("cli.arg.unit_id", value=text)) from None

    return parse
