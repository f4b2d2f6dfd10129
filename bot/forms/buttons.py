"""Button data for form steps: `f:<draft id>:<step>:<verb>:<arg>`, well under Telegram's
64 bytes. The step is a field's position (or `s` for the summary) so that a press from an old
message can be told apart from one on the current step."""

from __future__ import annotations

from dataclasses import dataclass

from bot.forms.engine import SUMMARY, ButtonInput
from bot.forms.spec import Form
from bot.ui.buttons import number

PREFIX = "f"


@dataclass(frozen=True)
class FormPress:
    draft_id: int
    step: str
    verb: str
    arg: str


def encode(form: Form, draft_id: int, step: str, verb: str, arg: str = "") -> str:
    token = "s" if step == SUMMARY else str(form.index_of(step))
    return f"{PREFIX}:{draft_id}:{token}:{verb}:{arg}"


def decode(data: str) -> FormPress | None:
    parts = data.split(":")
    draft_id = number(parts[1]) if len(parts) == 5 and parts[0] == PREFIX else None
    if draft_id is None:
        return None
    return FormPress(draft_id, parts[2], parts[3], parts[4])


def to_input(form: Form, press: FormPress) -> ButtonInput | None:
    if press.step == "s":
        return ButtonInput(SUMMARY, press.verb, press.arg)
    position = number(press.step)
    if position is None or position >= len(form.fields):
        return None
    return ButtonInput(form.fields[position].name, press.verb, press.arg)
