"""Runs people's forms against the database: load the draft, apply the input, save or submit,
all in one transaction, and say what to show. Knows nothing of Telegram."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any, Protocol

from bot.forms import buttons, engine
from bot.forms.engine import (
    ButtonInput,
    DraftState,
    Event,
    FormContext,
    Input,
    Outcome,
    PhotoInput,
    Problem,
)
from bot.forms.render import FormView
from bot.forms.spec import FieldType, Form
from bot.runtime.services import Sender, Services
from bot.ui.catalogue import Texts
from bot.ui.screens import Reply, Screen
from storage import drafts, people, reports
from storage.db import Tx
from storage.entities import Draft


class Refusal(Exception):
    """The person may not (or may no longer) use this form; `key` says why."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class FormKind(Protocol):
    """A form plus what it needs from the world: its choices, and what submitting does."""

    form: Form

    async def context(self, tx: Tx, services: Services, user_id: int,
                      state: DraftState) -> FormContext: ...

    async def submit(self, tx: Tx, services: Services, draft: Draft, state: DraftState,
                     t: Texts) -> Reply: ...


def text_key(t: Texts, form: str, state: DraftState, part: str) -> str:
    """The most particular text there is: for correcting a record, for this form, or any."""
    candidates = [f"form.{form}.{part}", f"form.{part}"]
    if state.target is not None:
        candidates.insert(0, f"form.{form}.correction_{part}")
    return next((key for key in candidates if t.has(key)), candidates[-1])


async def texts_for(tx: Tx, services: Services, user_id: int) -> Texts:
    person = await people.person_by_telegram_id(tx, user_id)
    return services.texts(person.lang if person else None)


class Conversations:
    def __init__(self, services: Services, kinds: dict[str, FormKind]) -> None:
        self.services = services
        self.kinds = kinds

    def _expired(self, draft: Draft) -> bool:
        ttl = dt.timedelta(days=self.services.settings.draft_ttl_days)
        return draft.updated_at < self.services.now() - ttl

    def _expiry_notice(self, draft: Draft, t: Texts) -> Screen:
        local = draft.created_at.astimezone(self.services.settings.zone)
        key = text_key(t, draft.form, DraftState.model_validate(draft.state), "expired")
        return Screen(t(key, date=local.strftime("%d/%m/%Y"),
                        days=self.services.settings.draft_ttl_days))

    async def begin(self, tx: Tx, sender: Sender, update_id: int, kind_name: str, t: Texts,
                    state: DraftState | None = None, **extra: Any) -> Reply:
        """Starts a form and shows its first screen. A form under way is never thrown away
        unasked: asking for the same one again goes back to it, and asking for another while
        it holds answers says to send or cancel it first."""
        existing = await self.has_draft(tx, sender.user_id)
        if existing is not None and not await self._still_allowed(tx, sender, existing):
            await drafts.delete_draft(tx, existing.id)
            existing = None
        if existing is not None:
            current = DraftState.model_validate(existing.state)
            wanted = state or DraftState(step="", extra=extra)
            same = (existing.form, current.target, current.extra) == (
                kind_name, wanted.target, wanted.extra)
            if same or current.answers:
                return await self._shown_again(tx, sender, t, existing,
                                               "resumed" if same else "busy")
        kind = self.kinds[kind_name]
        ctx = await kind.context(tx, self.services, sender.user_id,
                                 state or DraftState(step="", extra=extra))
        state = state or engine.start(kind.form, ctx, **extra)
        draft = await drafts.start_draft(tx, sender.user_id, kind_name, state.model_dump(),
                                         update_id, self.services.now())
        return Reply((FormView(kind.form, state, ctx, t, draft.id).current(),))

    async def _still_allowed(self, tx: Tx, sender: Sender, draft: Draft) -> bool:
        """False for a draft its owner may no longer finish (e.g. no longer a member)."""
        try:
            await self.kinds[draft.form].context(tx, self.services, sender.user_id,
                                                 DraftState.model_validate(draft.state))
        except Refusal:
            return False
        return True

    async def _shown_again(self, tx: Tx, sender: Sender, t: Texts, draft: Draft,
                           part: str) -> Reply:
        current = await self._with_draft(tx, sender, None, None)
        if current is None or not current.screens:
            return Reply()
        step = current.screens[0]
        note = t(text_key(t, draft.form, DraftState.model_validate(draft.state), part))
        return Reply((Screen(f"{note}\n\n{step.text}", step.buttons), *current.screens[1:]))

    async def has_draft(self, tx: Tx, user_id: int) -> Draft | None:
        draft = await drafts.draft_of(tx, user_id)
        return None if draft is None or self._expired(draft) else draft

    async def cancel(self, sender: Sender) -> Reply:
        async with self.services.db.transaction() as tx:
            t = await texts_for(tx, self.services, sender.user_id)
            draft = await drafts.draft_of(tx, sender.user_id)
            if draft is None:
                return Reply((Screen(t("form.nothing_to_cancel")),))
            await drafts.delete_draft(tx, draft.id)
            state = DraftState.model_validate(draft.state)
            return Reply((Screen(t(text_key(t, draft.form, state, "cancelled"))),))

    async def resume(self, sender: Sender) -> Reply | None:
        """The current step again, e.g. after /start while a form is under way."""
        async with self.services.db.transaction() as tx:
            return await self._with_draft(tx, sender, None, None)

    async def handle(self, sender: Sender, update_id: int, given: Input) -> Reply | None:
        """None when the person has no form under way."""
        async with self.services.db.transaction() as tx:
            return await self._with_draft(tx, sender, update_id, given)

    async def press(self, sender: Sender, update_id: int, data: str) -> Reply:
        async with self.services.db.transaction() as tx:
            t = await texts_for(tx, self.services, sender.user_id)
            decoded = buttons.decode(data)
            draft = await drafts.draft_of(tx, sender.user_id)
            if decoded is None or draft is None or draft.id != decoded.draft_id:
                done = decoded and await reports.report_id_from_draft(tx, decoded.draft_id)
                return Reply(toast=t.plain("form.already_sent" if done else "form.ended"))
            given = buttons.to_input(self.kinds[draft.form].form, decoded)
            if given is None:
                return Reply(toast=t.plain("form.problem.old_button"))
            reply = await self._with_draft(tx, sender, update_id, given)
            return reply or Reply(toast=t.plain("form.ended"))

    async def album_received(self, sender: Sender) -> Reply | None:
        """Acknowledges photos once an album has arrived in full (or, after a restart, photos
        taken before it and never acknowledged); None once the member has moved on. The
        caller says when the acknowledgement is shown (`photos_acknowledged`)."""
        async with self.services.db.transaction() as tx:
            draft = await drafts.draft_of(tx, sender.user_id)
            if draft is None:
                return None
            view, _ = await self._view(tx, sender, draft)
            if view.state.step == engine.SUMMARY:
                return None
            if view.form.field(view.state.step).type is not FieldType.PHOTOS:
                return None
            return Reply((view.photos_received(),))

    async def photos_acknowledged(self, sender: Sender) -> None:
        """The photos' acknowledgement was shown (or is no longer wanted): nothing is owed.
        Only after it was shown: a process that dies before still owes it at the next start."""
        async with self.services.db.transaction() as tx:
            draft = await drafts.draft_of(tx, sender.user_id)
            if draft is None:
                return
            state = DraftState.model_validate(draft.state)
            if state.photos_unacknowledged:
                seen = state.model_copy(update={"photos_unacknowledged": False})
                await drafts.save_state(tx, draft.id, seen.model_dump(), self.services.now())

    async def photos_owed(self) -> list[int]:
        """The people whose photos were taken but not acknowledged (the process stopped
        before the album's quiet time was over)."""
        async with self.services.db.transaction() as tx:
            return await drafts.owing_photo_acknowledgement(tx)

    async def expire_stale(self) -> list[tuple[int, Screen]]:
        """Drops drafts untouched for longer than the time to live; the notices to send."""
        if self.services.quiet_now():
            return []  # they expire when their owner next writes, or in the morning
        ttl = dt.timedelta(days=self.services.settings.draft_ttl_days)
        notices = []
        async with self.services.db.transaction() as tx:
            for draft in await drafts.drafts_untouched_since(tx, self.services.now() - ttl):
                t = await texts_for(tx, self.services, draft.telegram_user_id)
                await drafts.delete_draft(tx, draft.id)
                notices.append((draft.telegram_user_id, self._expiry_notice(draft, t)))
        return notices

    async def _view(self, tx: Tx, sender: Sender, draft: Draft) -> tuple[FormView, Texts]:
        t = await texts_for(tx, self.services, sender.user_id)
        kind = self.kinds[draft.form]
        state = DraftState.model_validate(draft.state)
        ctx = await kind.context(tx, self.services, sender.user_id, state)
        return FormView(kind.form, engine.repair(kind.form, state, ctx), ctx, t, draft.id), t

    async def _with_draft(
        self, tx: Tx, sender: Sender, update_id: int | None, given: Input | None
    ) -> Reply | None:
        draft = await drafts.draft_of(tx, sender.user_id)
        if draft is None:
            return None
        t = await texts_for(tx, self.services, sender.user_id)
        if self._expired(draft):
            await drafts.delete_draft(tx, draft.id)
            return Reply((self._expiry_notice(draft, t),))
        try:
            view, t = await self._view(tx, sender, draft)
        except Refusal as refusal:
            await drafts.delete_draft(tx, draft.id)
            return Reply((Screen(t(refusal.key, **refusal.params)),))
        if given is None or update_id is None or update_id in draft.recent_updates:
            if isinstance(given, PhotoInput) and view.state.photos_unacknowledged:
                # A photo taken before a restart, its acknowledgement never sent: send it now.
                return Reply(album=True)
            # Asked to show where they are, or Telegram delivered this update again after a
            # restart: the answer was already taken, so show the step it led to.
            return Reply((view.current(),))
        outcome = engine.apply(view.form, view.state, view.ctx, given)
        return await self._conclude(tx, draft, view, given, outcome, update_id, t)

    async def _conclude(self, tx: Tx, draft: Draft, view: FormView, given: Input,
                        outcome: Outcome, update_id: int, t: Texts) -> Reply:
        if outcome.event is Event.CANCEL:
            await drafts.delete_draft(tx, draft.id)
            key = text_key(t, draft.form, outcome.state, "cancelled")
            return Reply((Screen(t(key)),), replace=True)
        if outcome.event is Event.SUBMIT:
            reply = await self.kinds[draft.form].submit(tx, self.services, draft,
                                                        outcome.state, t)
            return replace(reply, close=True)
        await drafts.save_draft(tx, draft, outcome.state.model_dump(), update_id,
                                self.services.now())
        if outcome.event is Event.PHOTO_ADDED:
            return Reply(album=True)
        if outcome.event is Event.REJECTED and outcome.problem is not None:
            return self._rejection(view, given, outcome.problem, t)
        screen = FormView(view.form, outcome.state, view.ctx, t, draft.id).current()
        if outcome.problem is not None:
            screen = Screen(f"{t(outcome.problem.key)}\n\n{screen.text}", screen.buttons)
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
