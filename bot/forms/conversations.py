"""Runs people's forms against the database: load the draft, apply the input, save or submit,
all in the request's one transaction, and say what to show. Knows nothing of Telegram."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any, Protocol, overload

from bot.forms import engine
from bot.forms.buttons import FormStep, to_input
from bot.forms.engine import (
    ButtonInput,
    DraftState,
    Event,
    FormContext,
    Input,
    Outcome,
    PhotoInput,
    Problem,
    TextInput,
)
from bot.forms.render import FormView
from bot.forms.spec import Field, FieldType, Form
from bot.rules.access import Request
from bot.runtime.config import Settings
from bot.ui.catalogue import Catalogue, Markup, Said, Texts
from bot.ui.screens import Reply, Screen
from storage import drafts, people, reports
from storage.db import Tx
from storage.entities import Draft


class Refusal(Said):
    """The person may not (or may no longer) use this form; `key` says why."""


class FormKind(Protocol):
    """A form plus what it needs from the world: its choices, and what submitting does."""

    form: Form

    async def context(self, req: Request, state: DraftState) -> FormContext: ...

    async def submit(self, req: Request, draft: Draft, state: DraftState) -> Reply: ...


def text_key(t: Texts, form: str, state: DraftState, part: str) -> str:
    """The most particular text there is: for correcting a record, for this form, or any."""
    candidates = [f"form.{form}.{part}", f"form.{part}"]
    if state.target is not None:
        candidates.insert(0, f"form.{form}.correction_{part}")
    return next((key for key in candidates if t.has(key)), candidates[-1])


async def move_draft(req: Request, draft: Draft, state: DraftState,
                     **changes: Any) -> DraftState:
    """Saves the draft moved to another step (`changes`), as a submit that cannot go through
    does: back to the step to correct, answers kept."""
    moved = state.model_copy(update={"from_summary": False, "page": 0, "pending": None,
                                     "retyping": False, **changes})
    last = draft.recent_updates[-1] if draft.recent_updates else 0
    await drafts.save_draft(req.tx, draft, moved.model_dump(), last, req.now)
    return moved


class Conversations:
    def __init__(self, settings: Settings, catalogue: Catalogue,
                 kinds: dict[str, FormKind]) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self.kinds = kinds

    def _expired(self, draft: Draft, now: dt.datetime) -> bool:
        return draft.updated_at < now - dt.timedelta(days=self.settings.draft_ttl_days)

    def _expiry_notice(self, draft: Draft, t: Texts) -> Screen:
        local = draft.created_at.astimezone(self.settings.zone)
        key = text_key(t, draft.form, DraftState.model_validate(draft.state), "expired")
        return Screen(t(key, date=local.strftime("%d/%m/%Y"), days=self.settings.draft_ttl_days))

    async def begin(self, req: Request, kind_name: str, state: DraftState | None = None,
                    **extra: Any) -> Reply:
        """Starts a form and shows its first screen. A form under way is never thrown away
        unasked: asking for the same one again goes back to it, and asking for another while
        it holds answers says to send or cancel it first."""
        existing = await self.has_draft(req)
        if existing is not None and not await self._still_allowed(req, existing):
            await drafts.delete_draft(req.tx, existing.id)
            existing = None
        if existing is not None:
            current = DraftState.model_validate(existing.state)
            wanted = state or DraftState(step="", extra=extra)
            same = (existing.form, current.target, current.extra) == (
                kind_name, wanted.target, wanted.extra)
            if same or current.answers:
                return as_prompt(await self._shown_again(req, existing,
                                                         "resumed" if same else "busy"))
        kind = self.kinds[kind_name]
        ctx = await kind.context(req, state or DraftState(step="", extra=extra))
        state = state or engine.start(kind.form, ctx, **extra)
        draft = await drafts.start_draft(req.tx, req.user_id, kind_name, state.model_dump(),
                                         req.update_id, req.now)
        return as_prompt(Reply((FormView(kind.form, state, ctx, req.t, draft.id).current(),)))

    async def _still_allowed(self, req: Request, draft: Draft) -> bool:
        """False for a draft its owner may no longer finish (e.g. no longer a member)."""
        try:
            await self.kinds[draft.form].context(req, DraftState.model_validate(draft.state))
        except Refusal:
            return False
        return True

    async def _shown_again(self, req: Request, draft: Draft, part: str) -> Reply:
        current = await self._with_draft(req, None)
        if current is None or not current.screens:
            return Reply()
        step = current.screens[0]
        t = req.t
        note = t(text_key(t, draft.form, DraftState.model_validate(draft.state), part))
        return Reply((Screen(f"{note}\n\n{step.text}", step.buttons), *current.screens[1:]))

    async def has_draft(self, req: Request) -> Draft | None:
        """The requester's form under way, unless it is too old to go on with."""
        draft = await drafts.draft_of(req.tx, req.user_id)
        return None if draft is None or self._expired(draft, req.now) else draft

    async def kept_note(self, req: Request) -> Markup | None:
        """The line that says the requester's form under way is kept (and how to go on with
        it), in that form's words: a report's differs from a commitment's."""
        draft = await self.has_draft(req)
        if draft is None:
            return None
        state = DraftState.model_validate(draft.state)
        return req.t(text_key(req.t, draft.form, state, "draft_kept"))

    async def cancel(self, req: Request) -> Reply:
        draft = await drafts.draft_of(req.tx, req.user_id)
        if draft is None:
            return Reply((Screen(req.t("form.nothing_to_cancel")),))
        await drafts.delete_draft(req.tx, draft.id)
        state = DraftState.model_validate(draft.state)
        return as_prompt(Reply((Screen(req.t(text_key(req.t, draft.form, state, "cancelled"))),)))

    async def resume(self, req: Request) -> Reply | None:
        """The current step again, e.g. after /start while a form is under way."""
        return as_prompt(await self._with_draft(req, None))

    async def handle(self, req: Request, given: Input) -> Reply | None:
        """None when the person has no form under way."""
        return as_prompt(await self._with_draft(req, given))

    async def press(self, req: Request, press: FormStep) -> Reply:
        t = req.t
        draft = await drafts.draft_of(req.tx, req.user_id)
        if draft is None or draft.id != press.draft:
            done = await reports.report_id_from_draft(req.tx, press.draft)
            return Reply(toast=t.plain("form.already_sent" if done else "form.ended"))
        given = to_input(self.kinds[draft.form].form, press)
        if given is None:
            return Reply(toast=t.plain("form.problem.old_button"))
        reply = await self._with_draft(req, given)
        return as_prompt(reply) or Reply(toast=t.plain("form.ended"))

    async def album_received(self, req: Request) -> Reply | None:
        """Acknowledges photos once an album has arrived in full (or, after a restart, photos
        taken before it and never acknowledged), or shows the card a report written in one
        message (and its photos) made; None once the member has moved on. The
        caller says when the acknowledgement is shown (`photos_acknowledged`)."""
        draft = await drafts.draft_of(req.tx, req.user_id)
        if draft is None:
            return None
        view = await self._view(req, draft)
        at_photos = view.state.step != engine.SUMMARY and (
            view.form.field(view.state.step).type is FieldType.PHOTOS)
        if at_photos:
            return as_prompt(Reply((view.photos_received(),)))
        if not view.state.photos_unacknowledged:
            return None
        if view.state.from_message:
            return as_prompt(Reply((view.current(),)))
        # Photos sent at the summary or another step: taken, and the step stays where it was.
        return as_prompt(Reply((view.photos_added(),)))

    @staticmethod
    async def draft_stands(req: Request) -> tuple[int, ...]:
        """The updates the member's draft took last: read with an acknowledgement
        (`album_received`), and handed to `photos_acknowledged` once it is shown."""
        draft = await drafts.draft_of(req.tx, req.user_id)
        return draft.recent_updates if draft is not None else ()

    async def photos_acknowledged(self, req: Request, stood: tuple[int, ...]) -> None:
        """The photos' acknowledgement was shown (or is no longer wanted): nothing is owed.
        Only after it was shown: a process that dies before still owes it at the next start.
        A photo taken while it was being shown (the draft no longer stands where it `stood`)
        is still owed, and its own album's answer counts it: cleared here, the card stayed
        one photo short (the crash-restart test, under load)."""
        draft = await drafts.draft_of(req.tx, req.user_id)
        if draft is None or draft.recent_updates != stood:
            return
        state = DraftState.model_validate(draft.state)
        if state.photos_unacknowledged:
            seen = state.model_copy(update={"photos_unacknowledged": False})
            await drafts.save_state(req.tx, draft.id, seen.model_dump(), req.now)

    @staticmethod
    async def photos_owed(tx: Tx) -> list[int]:
        """The people whose photos were taken but not acknowledged (the process stopped
        before the album's quiet time was over)."""
        return await drafts.owing_photo_acknowledgement(tx)

    async def expire_stale(self, tx: Tx, now: dt.datetime) -> list[tuple[int, Screen]]:
        """Drops drafts untouched for longer than the time to live; the notices to send.
        Nothing in the quiet hours: they expire when their owner next writes, or in the
        morning."""
        if self.settings.quiet_at(now):
            return []
        ttl = dt.timedelta(days=self.settings.draft_ttl_days)
        notices = []
        for draft in await drafts.drafts_untouched_since(tx, now - ttl):
            owner = await people.person_by_telegram_id(tx, draft.telegram_user_id)
            t = self.catalogue.texts(owner.lang if owner else None)
            await drafts.delete_draft(tx, draft.id)
            notices.append((draft.telegram_user_id, self._expiry_notice(draft, t)))
        return notices

    async def _view(self, req: Request, draft: Draft) -> FormView:
        kind = self.kinds[draft.form]
        state = DraftState.model_validate(draft.state)
        ctx = await kind.context(req, state)
        return FormView(kind.form, engine.repair(kind.form, state, ctx), ctx, req.t, draft.id)

    async def _with_draft(self, req: Request, given: Input | None) -> Reply | None:
        draft = await drafts.draft_of(req.tx, req.user_id)
        if draft is None:
            return None
        t = req.t
        if self._expired(draft, req.now):
            await drafts.delete_draft(req.tx, draft.id)
            return Reply((self._expiry_notice(draft, t),))
        try:
            view = await self._view(req, draft)
        except Refusal as refusal:
            await drafts.delete_draft(req.tx, draft.id)
            return Reply((Screen(t(refusal.key, **refusal.params)),))
        if given is None or req.update_id in draft.recent_updates:
            if isinstance(given, PhotoInput) and view.state.photos_unacknowledged:
                # A photo taken before a restart, its acknowledgement never sent: send it now.
                return Reply(album=True)
            # Asked to show where they are, or Telegram delivered this update again after a
            # restart: the answer was already taken, so show the step it led to.
            return Reply((view.current(),))
        outcome = engine.apply(view.form, view.state, view.ctx, given)
        return await self._conclude(req, draft, view, given, outcome)

    async def _conclude(self, req: Request, draft: Draft, view: FormView, given: Input,
                        outcome: Outcome) -> Reply:
        t = req.t
        if outcome.event is Event.CANCEL:
            await drafts.delete_draft(req.tx, draft.id)
            key = text_key(t, draft.form, outcome.state, "cancelled")
            return Reply((Screen(t(key)),), replace=True)
        if outcome.event is Event.SUBMIT:
            reply = await self.kinds[draft.form].submit(req, draft, outcome.state)
            answered = _answered(view, given, outcome)
            if answered is not None and isinstance(given, ButtonInput):
                after = FormView(view.form, outcome.state, view.ctx, t, draft.id)
                return replace(reply, screens=(after.answered(answered), *reply.screens),
                               replace=True)
            return replace(reply, close=True)
        if (isinstance(given, ButtonInput) and outcome.event in (Event.MOVED, Event.STAYED)
                and outcome.state.from_message and outcome.state.photos_unacknowledged):
            # A card pressed was seen (the process died before noting it) and what the press
            # led to is shown now: owed no more, and a text typed next is an answer to it,
            # not more of the message the card was read from.
            seen = outcome.state.model_copy(update={"photos_unacknowledged": False})
            outcome = replace(outcome, state=seen)
        await drafts.save_draft(req.tx, draft, outcome.state.model_dump(), req.update_id,
                                req.now)
        if outcome.event is Event.PHOTO_ADDED:
            return Reply(album=True)
        if outcome.event is Event.REJECTED and outcome.problem is not None:
            return self._rejection(view, given, outcome.problem, t)
        after = FormView(view.form, outcome.state, view.ctx, t, draft.id)
        screen = after.current()
        if outcome.problem is not None:
            screen = Screen(f"{t(outcome.problem.key)}\n\n{screen.text}", screen.buttons)
        answered = _answered(view, given, outcome)
        if answered is not None and isinstance(given, TextInput):
            line = after.interpreted(answered, given.text)
            if line is not None:
                screen = Screen(f"{line}\n\n{screen.text}", screen.buttons)
        if answered is not None and isinstance(given, ButtonInput):
            # The pressed question keeps its answer in the chat; the next one comes below.
            return Reply((after.answered(answered), screen), replace=True)
        return Reply((screen,), replace=True)

    @staticmethod
    def _rejection(view: FormView, given: Input, problem: Problem, t: Texts) -> Reply:
        """A typed answer gets the explanation as a message; a pressed button gets it as a
        note on the button, plus the current step when the button was from an old message."""
        if not isinstance(given, ButtonInput):
            return Reply((view.problem(problem),))
        toast = t.plain(problem.key, **problem.params)
        stale = problem.key == "form.problem.old_button"
        return Reply((view.current(),) if stale else (), toast=toast)


@overload
def as_prompt(reply: Reply) -> Reply: ...
@overload
def as_prompt(reply: None) -> None: ...
def as_prompt(reply: Reply | None) -> Reply | None:
    """A form's answer with something to show stands for where the form now is."""
    return replace(reply, prompt=True) if reply is not None and reply.screens else reply


def _answered(view: FormView, given: Input, outcome: Outcome) -> Field | None:
    """The step that `given` answered, if it did (not a page turned, nor a step back)."""
    if view.state.step == engine.SUMMARY or outcome.event not in (Event.MOVED, Event.SUBMIT):
        return None
    if isinstance(given, ButtonInput) and given.verb not in ("pick", "ok", "done", "skip"):
        return None
    if outcome.event is Event.MOVED and outcome.state.step == view.state.step:
        return None
    return view.form.field(view.state.step)
