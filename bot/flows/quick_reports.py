"""A report in one message: what a member writes in the private chat, with no form under way,
read by rules into a card of the report form (✅ Gửi · ✏ Sửa · ➕ Thêm chi tiết · ✖ Hủy).
Nothing is stored as a report before ✅ Gửi: the card is a draft of the report form, so
correcting it, adding details, sending it twice or restarting the bot behave as the form does.

The card is shown only once the member's messages stop coming (the wait of a photo album):
a text and the photos after it, or two texts a moment apart, make one card. Photos sent while
the card asks for something (what was done, the field) are added to it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bot.flows.menu import menu_now
from bot.flows.reports import ReportKind, reporter_of
from bot.forms.conversations import Refusal
from bot.forms.engine import SUMMARY, DraftState, FormContext, PhotoInput
from bot.parsing.quick_reports import QuickReading, looks_like_report, read_quick_report
from bot.parsing.text import normalize_multiline
from bot.rules.access import Request
from bot.ui.screens import Reply, Screen
from storage import drafts, reports
from storage.entities import Draft

FORM = "report"
VOICE_KINDS = ("voice", "video_note", "audio")


@dataclass(frozen=True)
class Written:
    """One message of the member's, as the card reads it: its text (or a photo's caption),
    its photo, whether it was forwarded from elsewhere, and its id in the chat (an edit of it
    is read again)."""

    message_id: int
    text: str | None = None
    photo: PhotoInput | None = None
    forwarded: bool = False
    kind: str | None = None  # a voice note or another kind the card cannot read


class QuickReports:
    def __init__(self, kind: ReportKind) -> None:
        self.kind = kind
        self.settings = kind.settings.report

    async def offer(self, req: Request, written: Written) -> Reply | None:
        """A card for what a member wrote with no form under way; None when it is not a
        report (a greeting, a thank-you, a sticker, someone who does not report)."""
        text = normalize_multiline(written.text or "")
        voice = written.kind in VOICE_KINDS
        deed = written.photo is not None or looks_like_report(text, self.settings.description_min)
        if not (deed or voice) or not await _reports(req):
            return None
        if voice:
            return Reply((Screen(req.t("quick_report.voice"), menu=await menu_now(req)),))
        if len(text) > self.settings.description_max:
            # Their message stays in the chat above: nothing is lost by asking for less.
            return Reply((Screen(req.t("quick_report.too_long", length=len(text),
                                       max=self.settings.description_max)),))
        state = DraftState(step=SUMMARY, from_message=True, photos_unacknowledged=True,
                           confirm_first=written.forwarded,
                           source_message=written.message_id)
        state = await self._read(req, state, text, _photos(written))
        await drafts.start_draft(req.tx, req.user_id, FORM, state.model_dump(), req.update_id,
                                 req.now)
        return Reply(album=True)

    async def follow_up(self, req: Request, written: Written) -> Reply | None:
        """More of a report on its card: photos while the card itself is open (not the picker
        of what to correct), and text sent while the card was on its way (or what was done,
        when the card came from photos alone). None for anything else, which the form answers
        as it would."""
        draft, state = await self._card(req)
        if draft is None or state is None or not _on_card(state):
            return None
        if req.update_id in draft.recent_updates:
            # Delivered again after a restart: the card it led to is owed, or was shown.
            return Reply(album=True) if state.photos_unacknowledged else None
        owed = state.model_copy(update={"photos_unacknowledged": True})
        grown: DraftState | None
        if written.photo is not None:
            grown = await self._more_photos(req, owed, written)
        elif written.text:
            grown = await self._more_text(req, owed, normalize_multiline(written.text),
                                          coming=state.photos_unacknowledged)
        else:
            return None
        if grown is None:
            return None
        await drafts.save_draft(req.tx, draft, grown.model_dump(), req.update_id, req.now)
        return Reply(album=True)

    async def _more_photos(self, req: Request, state: DraftState,
                           written: Written) -> DraftState:
        """The photo added (once, up to the limit); its caption read when nothing was said
        yet of what was done."""
        photos = list(state.answers.get("photos", []))
        for photo in _photos(written):
            if all(p["file_unique_id"] != photo["file_unique_id"] for p in photos):
                photos.append(photo)
        photos = photos[:self.settings.max_photos]
        if state.answers.get("description") or not written.text:
            return state.model_copy(update={"answers": {**state.answers, "photos": photos}})
        return await self._read(req, state, normalize_multiline(written.text), photos)

    async def _more_text(self, req: Request, state: DraftState, text: str,
                         coming: bool) -> DraftState | None:
        """More of the message before the card came (`coming`: not shown yet), or what was
        done, asked by a card made from photos alone (too short or too long, the form's own
        answer says so)."""
        said = state.answers.get("description", "")
        if said and not coming:
            return None
        whole = f"{said}\n{text}".strip()
        if not self.settings.description_min <= len(whole) <= self.settings.description_max:
            return None
        return await self._read(req, state, whole, state.answers.get("photos", []))

    async def edited(self, req: Request, message_id: int, text: str) -> Reply | None:
        """The message a card was read from, edited: the card is read again, unless the member
        already changed something on it (a choice of theirs is worth more than a reading);
        then only what was done is replaced. None for any other edit."""
        draft, state = await self._card(req)
        if draft is None or state is None or state.source_message != message_id:
            return None
        clean = normalize_multiline(text)
        if not _on_card(state) or not (
                self.settings.description_min <= len(clean) <= self.settings.description_max):
            return None
        photos = state.answers.get("photos", [])
        as_read = await self._read(req, state, state.answers.get("description", ""), photos)
        owed = state.model_copy(update={"photos_unacknowledged": True})
        if as_read.answers == state.answers:
            owed = await self._read(req, owed, clean, photos)
        else:
            owed = owed.model_copy(update={"answers": {**state.answers, "description": clean}})
        await drafts.save_draft(req.tx, draft, owed.model_dump(), req.update_id, req.now)
        return Reply(album=True)

    async def _card(self, req: Request) -> tuple[Draft | None, DraftState | None]:
        draft = await drafts.draft_of(req.tx, req.user_id)
        # Most messages are answers to a form, not more of a card: not validated for nothing.
        if draft is None or draft.form != FORM or not draft.state.get("from_message"):
            return None, None
        return draft, DraftState.model_validate(draft.state)

    async def _read(self, req: Request, state: DraftState, text: str,
                    photos: list[dict[str, str]]) -> DraftState:
        """The card's answers read from `text` again, and the first step it still has to ask:
        what was done, a date said but unusable, the field."""
        ctx = await self.kind.context(req, state)
        answers: dict[str, Any] = {"photos": photos} if photos else {}
        doubtful_date = False
        if len(text) >= self.settings.description_min:
            reading = await self._reading(req, ctx, text)
            answers.update(_answers_of(reading, req.today))
            doubtful_date = reading.date_doubtful
        if "field" not in answers and "field" in state.answers:
            answers["field"] = state.answers["field"]  # picked on the card: a new reading keeps it
        step = SUMMARY
        for name in ("description", "deed_date", "field"):
            if name not in answers:
                step = name
                break
        if doubtful_date and step == SUMMARY:
            step = "deed_date"
        update = {"answers": answers, "step": step, "from_summary": step != SUMMARY,
                  "picking": False, "page": 0, "pending": None}
        return state.model_copy(update=update)

    async def _reading(self, req: Request, ctx: FormContext, text: str) -> QuickReading:
        person = req.actor.person
        members = ctx.choices.get("members", ())
        previous = None
        if person is not None:
            latest = await reports.reports_of_person(req.tx, person.id, 1, 0)
            previous = latest[0].field if latest else None
        return read_quick_report(
            text, today=req.today, max_age_days=self.settings.max_age_days,
            keywords=self.settings.keywords,
            models=[(c.value, c.label) for c in ctx.choices.get("models", ())],
            members=[(c.value, c.label) for c in members if not c.note],
            others=[(c.value, c.label) for c in members if c.note],
            previous_field=previous)


async def _reports(req: Request) -> bool:
    """The requester reports somewhere (a member, or a leader): only they get a card."""
    try:
        await reporter_of(req)
    except Refusal:
        return False
    return True


def _on_card(state: DraftState) -> bool:
    """The card itself is open, or one of its questions (what the message did not say, or
    what is being corrected from it); not a detail step after ➕ Thêm chi tiết, nor the picker
    of what to correct."""
    return (state.step == SUMMARY and not state.picking) or state.from_summary


def _photos(written: Written) -> list[dict[str, str]]:
    photo = written.photo
    return [{"file_id": photo.file_id, "file_unique_id": photo.file_unique_id}] if photo else []


def _answers_of(reading: QuickReading, today: dt.date) -> dict[str, Any]:
    """The form's answers a reading gives: only what was read (today when no date was said at
    all; nothing when a date was said but cannot be used)."""
    day = reading.deed_date or (None if reading.date_doubtful else today)
    answers: dict[str, Any] = {
        "description": reading.description,
        "deed_date": day.isoformat() if day else None,
        "field": reading.field,
        "model_id": reading.model_id,
        "participant_ids": list(reading.participant_ids),
        "people_helped": reading.people_helped,
        "households_helped": reading.households_helped,
        "value_vnd": reading.value_vnd,
        "place": {"text": reading.place} if reading.place else None,
    }
    return {k: v for k, v in answers.items() if v not in (None, [], "")}
