"""How a form is declared: a named, ordered list of typed fields."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FieldType(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    MEMBERS = "members"
    INTEGER = "integer"
    MONEY = "money"
    DATE = "date"
    PHOTOS = "photos"
    PLACE = "place"
    REFERENCE = "reference"
    YES_NO = "yes_no"

    @property
    def single_choice(self) -> bool:
        return self in (FieldType.CHOICE, FieldType.REFERENCE, FieldType.YES_NO)

    @property
    def multi_choice(self) -> bool:
        return self in (FieldType.MULTI_CHOICE, FieldType.MEMBERS)


@dataclass(frozen=True)
class Field:
    """One step of a form. Texts come from the catalogue under `form.<form>.<name>.*`.

    `source` names the list of choices the context supplies (for choice-like fields and
    member pickers); a choice-like field whose source is empty is skipped, e.g. the model step
    for a unit that has no models yet. `min`/`max` bound a text's length, a number's value or
    the count of photos. `has_default` makes the step offer the context's default value with a
    "✅ Đúng" button, as when a new member confirms the name Telegram gave. `items` makes a long
    text a list typed one item a line (numbering and bullets dropped): between items[0] and
    items[1] items, each at least `min` characters. A `detail` is asked only when the person
    wants to add details (➕ Thêm chi tiết): the summary is offered as soon as the rest is in.
    """

    name: str
    type: FieldType
    required: bool = True
    min: int | None = None
    max: int | None = None
    source: str | None = None
    has_default: bool = False
    items: tuple[int, int] | None = None
    detail: bool = False


@dataclass(frozen=True)
class Form:
    name: str
    fields: tuple[Field, ...]
    summary: bool = True

    def index_of(self, name: str) -> int:
        for i, field in enumerate(self.fields):
            if field.name == name:
                return i
        raise KeyError(name)

    def field(self, name: str) -> Field:
        return self.fields[self.index_of(name)]

    @property
    def has_details(self) -> bool:
        return any(f.detail for f in self.fields)
