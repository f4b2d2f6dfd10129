"""The buttons of a form's steps: `f:<draft id>:<step>:<verb>:<arg>`, well under Telegram's
64 bytes. The step is a field's position (or `s` for the summary) so that a press from an old
message can be told apart from one on the current step. A press is someone's answer to their
own form: the draft is found by who pressed, and one with another id is over."""

from __future__ import annotations

from typing import Annotated

from bot.forms.engine import SUMMARY, ButtonInput
from bot.forms.spec import Form
from bot.rules.access import Action
from bot.ui.buttons import ButtonData, Id, Token, codes

SUMMARY_STEP = "s"
VERBS = ("cancel", "back", "skip", "ok", "retype", "page", "pick", "tog", "clear", "done",
         "send", "edit", "more")


class FormStep(ButtonData, prefix="f", action=Action.ANSWER_FORM):
    draft: Id
    step: Annotated[str, Token(2)]
    verb: Annotated[str, codes(*VERBS)]
    arg: Annotated[str, Token(40)]


def encode(form: Form, draft_id: int, step: str, verb: str, arg: str = "") -> str:
    token = SUMMARY_STEP if step == SUMMARY else str(form.index_of(step))
    return FormStep(draft=draft_id, step=token, verb=verb, arg=arg).pack()


def to_input(form: Form, press: FormStep) -> ButtonInput | None:
    if press.step == SUMMARY_STEP:
        return ButtonInput(SUMMARY, press.verb, press.arg)
    position = int(press.step) if press.step.isdigit() else len(form.fields)
    if position >= len(form.fields):
        return None
    return ButtonInput(form.fields[position].name, press.verb, press.arg)


