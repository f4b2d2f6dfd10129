"""Turns a form's state into screens: the current step's question and buttons, the summary,
and the short answer to a wrong input."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from bot.forms import buttons
from bot.forms.engine import (
    CHOICES_PER_PAGE,
    SUMMARY,
    Choice,
    DraftState,
    FormContext,
    Problem,
    applicable,
    asked,
    collects,
    page_count,
    unanswered_details,
    usable_default,
)
from bot.forms.spec import Field, FieldType, Form
from bot.parsing.text import fold
from bot.ui import formatting
from bot.ui.catalogue import Markup, Texts
from bot.ui.screens import Button, Keyboard, Screen, rows

DATE_BUTTONS = 7
# Even escaped (& → &amp;), a preview this long leaves the summary under Telegram's 4,096.
PREVIEW_CHARS = 500


class FormView:
    """One form, one state, one reader: everything needed to draw its screens."""

    def __init__(
        self, form: Form, state: DraftState, ctx: FormContext, t: Texts, draft_id: int
    ) -> None:
        self.form, self.state, self.ctx, self.t, self.draft_id = form, state, ctx, t, draft_id

    def _key(self, spec: Field, part: str, fallback: str | None = None) -> str:
        """The field's own text if it has one, else the shared one."""
        own = f"form.{self.form.name}.{spec.name}.{part}"
        return own if self.t.has(own) else (fallback or f"form.common.{part}")

    def _button(self, label: str, verb: str, arg: str = "") -> Button:
        data = buttons.encode(self.form, self.draft_id, self.state.step, verb, arg)
        return Button(label, data)

    def _nav_row(self, spec: Field | None) -> tuple[Button, ...]:
        nav = []
        names = [f.name for f in applicable(self.form, self.ctx)]
        first = spec is not None and names and names[0] == spec.name
        if self.state.from_summary or not first or self.state.pending or self.state.retyping:
            nav.append(self._button(self.t.plain("button.back"), "back"))
        collected = spec is not None and collects(spec) and self.state.answers.get(spec.name)
        if spec is not None and not spec.required and not collected:
            nav.append(self._button(self.t.plain("button.skip"), "skip"))
        nav.append(self._button(self.t.plain("button.cancel"), "cancel"))
        return tuple(nav)

    # --- the current step -------------------------------------------------------------------

    def current(self) -> Screen:
        if self.state.step == SUMMARY:
            return self.summary()
        spec = self.form.field(self.state.step)
        if self.state.from_message and self.state.from_summary:
            # The card asks what the message did not say, under what it did.
            return Screen(f"{self.summary_text()}\n\n{self._question(spec)}",
                          self._keyboard(spec))
        lines = [self._progress(spec), self._question(spec)]
        return Screen("\n".join(line for line in lines if line), self._keyboard(spec))

    def _progress(self, spec: Field) -> str:
        names = [f.name for f in asked(self.form, self.state, self.ctx)]
        if len(names) < 2 or spec.name not in names:
            return ""
        return self.t("form.progress", step=names.index(spec.name) + 1, total=len(names))

    def _question(self, spec: Field) -> Markup:
        if spec.type is FieldType.DATE and self.state.pending:
            picked = dt.date.fromisoformat(self.state.pending)
            return self.t("form.date_confirm", weekday=formatting.weekday_name(picked, self.t),
                          date=formatting.day(picked))
        default = usable_default(spec, self.ctx)
        if default is not None and not self.state.retyping:
            return self.t(f"form.{self.form.name}.{spec.name}.confirm_default", value=default)
        question = self.t(f"form.{self.form.name}.{spec.name}.prompt",
                          min=spec.min or 0, max=spec.max or 0)
        hints = []
        if spec.type is FieldType.PLACE and self.ctx.allow_location:
            hints.append(self.t("form.place_location_hint"))
        if not spec.required and spec.type is not FieldType.YES_NO:
            hints.append(self.t("form.skip_hint"))
        return Markup("\n".join([question, *hints]))

    def _keyboard(self, spec: Field) -> Keyboard:
        return (*self._choice_rows(spec), self._nav_row(spec))

    def _choice_rows(self, spec: Field) -> Keyboard:
        t = self.t
        if spec.type is FieldType.DATE:
            if self.state.pending:
                return ((self._button(t.plain("button.confirm"), "ok"),),)
            today = self.ctx.today
            days = [today - dt.timedelta(days=n) for n in range(DATE_BUTTONS)]
            return rows([self._button(formatting.relative_day_label(d, today, t), "pick",
                                      d.strftime("%Y%m%d")) for d in days], 2)
        if usable_default(spec, self.ctx) is not None and not self.state.retyping:
            return ((self._button(t.plain("button.confirm"), "ok"),
                     self._button(t.plain(self._key(spec, "retype")), "retype")),)
        if spec.type.single_choice:
            choices = [self._button(self._choice_label(spec, c.label), "pick", c.key)
                       for c in self._page_of_choices(spec)]
            per_row = 2 if all(len(b.label) <= 18 for b in choices) else 1
            return (*rows(choices, per_row), *self._paging_row(spec))
        if spec.type.multi_choice:
            chosen = self.state.answers.get(spec.name) or []
            marks = [self._button(("☑ " if c.value in chosen else "☐ ") + self._shown(c), "tog",
                                  c.key)
                     for c in self._page_of_choices(spec)]
            return (*rows(marks, 2), *self._paging_row(spec), self._finish_row(spec))
        if spec.type is FieldType.PHOTOS:
            return (self._finish_row(spec),)
        return ()

    def _finish_row(self, spec: Field) -> tuple[Button, ...]:
        """"Xong", and once something is collected a way to take it all back (Bỏ qua then
        keeps it: on a small screen it reads as "next")."""
        done = self._button(self.t.plain("button.done"), "done")
        if not self.state.answers.get(spec.name):
            return (done,)
        clear = "button.clear_photos" if spec.type is FieldType.PHOTOS else "button.clear_choices"
        return (done, self._button(self.t.plain(clear), "clear"))

    def _page_of_choices(self, spec: Field) -> tuple[Choice, ...]:
        page = min(self.state.page, page_count(spec, self.ctx) - 1)
        return self.ctx.choices_for(spec)[page * CHOICES_PER_PAGE:(page + 1) * CHOICES_PER_PAGE]

    def _paging_row(self, spec: Field) -> Keyboard:
        pages = page_count(spec, self.ctx)
        if pages == 1:
            return ()
        page = min(self.state.page, pages - 1)
        turns = []
        if page > 0:
            turns.append(self._button(self.t.plain("button.previous_page"), "page", str(page - 1)))
        turns.append(self._button(self.t.plain("button.page", page=page + 1, pages=pages),
                                  "page", str(page)))
        if page < pages - 1:
            turns.append(self._button(self.t.plain("button.next_page"), "page", str(page + 1)))
        return (tuple(turns),)

    def _choice_label(self, spec: Field, label: str) -> str:
        if spec.type is FieldType.YES_NO:
            return self.t.plain(self._key(spec, label))
        return label

    def _shown(self, choice: Choice) -> str:
        """A choice as read on a button or in a summary: with its note, if any."""
        if not choice.note:
            return choice.label
        return self.t.plain("form.noted_choice", label=choice.label, note=choice.note)

    # --- answers as text ----------------------------------------------------------------------

    def display(self, spec: Field, value: Any, preview: bool = False) -> str:
        """An answer as the reader sees it, HTML-escaped; a preview shortens long texts so
        that a summary always fits in one message with its buttons."""
        t = self.t
        if spec.type is FieldType.DATE:
            return formatting.day(dt.date.fromisoformat(value))
        if spec.type is FieldType.MONEY:
            return formatting.money(value, t)
        if spec.type is FieldType.INTEGER:
            return formatting.number(value, t)
        if spec.type is FieldType.PHOTOS:
            return t("form.photo_count", count=len(value))
        if spec.type is FieldType.PLACE:
            if "text" in value:
                return t("form.plain", value=value["text"])
            return t("form.place_pin", lat=f"{value['latitude']:.5f}",
                     lon=f"{value['longitude']:.5f}")
        if spec.type is FieldType.YES_NO:
            return t(self._key(spec, "yes" if value else "no"))
        if spec.type.single_choice or spec.type.multi_choice:
            labels = {c.value: self._shown(c) for c in self.ctx.choices_for(spec)}
            values = value if isinstance(value, list) else [value]
            shown = [labels.get(v, t.plain("form.gone")) for v in values]
            return t("form.plain", value=", ".join(shown))
        if preview and spec.type is FieldType.LONG_TEXT and len(value) > PREVIEW_CHARS:
            value = value[:PREVIEW_CHARS].rstrip() + "…"
        return t("form.plain", value=value)

    def _label(self, spec: Field) -> str:
        own = f"form.{self.form.name}.{spec.name}.label"
        return self.t(own if self.t.has(own) else f"form.{self.form.name}.{spec.name}.short")

    def answered(self, spec: Field) -> Screen:
        """What a question becomes once answered with a button: the answer stays in the chat
        ("🏷 Lĩnh vực: ✓ Xã hội"), its buttons gone."""
        value = self.state.answers.get(spec.name)
        if value in (None, [], ""):
            return Screen(self.t("form.answer_skipped", label=self._label(spec)))
        return Screen(self.t("form.answered", label=self._label(spec),
                             value=Markup(self.display(spec, value, preview=True))))

    def interpreted(self, spec: Field, typed: str) -> Markup | None:
        """A typed answer read as something else ("2tr5" as 2.500.000 đ, "hôm qua" as a date),
        said back so that a wrong reading is seen at once, not on the summary."""
        value = self.state.answers.get(spec.name)
        if value in (None, [], "") or spec.type in (FieldType.TEXT, FieldType.LONG_TEXT,
                                                    FieldType.PLACE):
            return None
        shown = self.display(spec, value)
        if fold(html.unescape(shown)) == fold(typed):
            return None
        return self.t("form.echo", label=self._label(spec), typed=typed, value=Markup(shown))

    def summary_lines(self, preview: bool = False) -> list[str]:
        lines = []
        for spec in applicable(self.form, self.ctx):
            value = self.state.answers.get(spec.name)
            if value in (None, [], "") and not spec.has_default:
                value = self.ctx.defaults.get(spec.name)  # what the step unasked stands for
            if value in (None, [], ""):
                continue
            label = self.t(f"form.{self.form.name}.{spec.name}.label")
            lines.append(f"{label}: {self.display(spec, value, preview)}")
        return lines

    def summary_text(self) -> str:
        title = self.t(self._form_key("summary_title"))
        return "\n".join([title, *self.summary_lines(preview=True)])

    def _form_key(self, part: str) -> str:
        """A form's own text, or the one for a form filled from a single message."""
        quick = f"form.{self.form.name}.quick_{part}"
        if self.state.from_message and self.t.has(quick):
            return quick
        return f"form.{self.form.name}.{part}"

    def summary(self) -> Screen:
        t = self.t
        cancel = self._button(t.plain("button.cancel"), "cancel")
        if self.state.confirm_first:
            question = t(self._form_key("confirm_first"))
            return Screen(f"{question}\n\n{self.summary_text()}",
                          ((self._button(t.plain(self._form_key("confirm_first_yes")), "ok"),
                            cancel),))
        if self.state.picking:
            return Screen(f"{self.summary_text()}\n\n{t('form.pick_field')}",
                          self._field_picker())
        more = self.form.has_details and unanswered_details(self.form, self.state, self.ctx)
        # A card read from a message is sent as read: "now" only speaks to the form's steps.
        send = "button.send_now" if more and not self.state.from_message else "button.send"
        first = (self._button(t.plain(send), "send"),
                 self._button(t.plain("button.edit_open"), "edit"))
        second = (self._button(t.plain("button.more_details"), "more"), cancel) if more else (
            cancel,)
        return Screen(self.summary_text(), (first, second))

    def _field_picker(self) -> Keyboard:
        t = self.t
        edits = [
            self._button(t.plain("button.edit", label=t.plain(
                f"form.{self.form.name}.{spec.name}.short")), "edit", spec.name)
            for spec in applicable(self.form, self.ctx)
        ]
        return (*rows(edits, 2), (self._button(t.plain("button.back"), "back"),))

    # --- answers to inputs --------------------------------------------------------------------

    def problem(self, problem: Problem) -> Screen:
        """The short explanation, with the step's buttons so the answer is one tap away."""
        t = self.t
        params = {k: formatting.number(v, t) if isinstance(v, int) else v
                  for k, v in problem.params.items()}
        if problem.key == "form.problem.unexpected" and self.state.step != SUMMARY:
            spec = self.form.field(self.state.step)
            hint = t(self._key(spec, "hint", f"form.hint.{spec.type.value}"))
            text = t(problem.key, step=t.plain(f"form.{self.form.name}.{spec.name}.short"),
                     hint=hint)
        elif self.state.step != SUMMARY:
            own = problem.key.replace("form.problem.", f"form.{self.form.name}.{self.state.step}.")
            text = t(own if t.has(own) else problem.key, **params)
        else:
            text = t(problem.key, **params)
        # The question comes again with its buttons: the answer is one tap (or one line) away.
        again = self.current()
        return Screen(f"{text}\n\n{again.text}", again.buttons)

    def photos_added(self) -> Screen:
        """Photos taken at a step that asks something else: counted, then the step again."""
        photos = next(f for f in self.form.fields if f.type is FieldType.PHOTOS)
        count = len(self.state.answers.get(photos.name) or [])
        again = self.current()
        return Screen(f"{self.t('form.photos_added', count=count)}\n\n{again.text}",
                      again.buttons)

    def photos_received(self) -> Screen:
        spec = self.form.field(self.state.step)
        count = len(self.state.answers.get(spec.name) or [])
        return Screen(self.t("form.photos_received", count=count, max=spec.max or 0),
                      self._keyboard(spec))


def answer_lines(form: Form, answers: dict[str, Any], ctx: FormContext, t: Texts) -> list[str]:
    """A stored record's answers, one line each, as its summary showed them (no buttons)."""
    return FormView(form, DraftState(step=SUMMARY, answers=answers), ctx, t, 0).summary_lines()
