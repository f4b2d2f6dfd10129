"""The engine runs any form declared as data; these use a made-up form with every field type,
so the engine's rules are shown apart from the report form."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.forms.engine import (
    SUMMARY,
    ButtonInput,
    Choice,
    DraftState,
    Event,
    FormContext,
    LocationInput,
    OtherInput,
    PhotoInput,
    TextInput,
    applicable,
    apply,
    repair,
    start,
)
from bot.forms.spec import Field, FieldType, Form

SURVEY = Form("survey", (
    Field("name", FieldType.TEXT, min=2, max=20),
    Field("topics", FieldType.MULTI_CHOICE, source="topics"),
    Field("helpers", FieldType.MEMBERS, required=False, source="members"),
    Field("count", FieldType.INTEGER, required=False, min=1, max=10),
    Field("cost", FieldType.MONEY, required=False),
    Field("day", FieldType.DATE),
    Field("where", FieldType.PLACE, required=False, min=2, max=50),
    Field("pictures", FieldType.PHOTOS, required=False, max=2),
    Field("model", FieldType.REFERENCE, required=False, source="models"),
    Field("note", FieldType.LONG_TEXT, required=False, min=5, max=100),
    Field("kind", FieldType.CHOICE, source="kinds"),
    Field("public", FieldType.YES_NO),
))
TODAY = dt.date(2026, 11, 27)
CTX = FormContext(
    today=TODAY,
    choices={
        "topics": (Choice("0", "Văn hóa", "Văn hóa"), Choice("1", "Môi trường", "Môi trường")),
        "members": (Choice("7", 7, "Nông Văn Bình"),),
        "models": (),
        "kinds": (Choice("a", "A", "Loại A"), Choice("b", "B", "Loại B")),
    },
)


def _at(step: str, **answers: object) -> DraftState:
    return DraftState(step=step, answers=dict(answers))


def _press(state: DraftState, verb: str, arg: str = "") -> object:
    return apply(SURVEY, state, CTX, ButtonInput(state.step, verb, arg))


def test_a_choice_field_with_nothing_to_choose_is_not_asked() -> None:
    assert "model" not in [f.name for f in applicable(SURVEY, CTX)]
    assert start(SURVEY, CTX).step == "name"


@pytest.mark.parametrize(("step", "typed", "stored"), [
    ("name", "  Hoàng   Mai ", "Hoàng Mai"),
    ("count", "3 người", 3),
    ("cost", "1tr5", 1_500_000),
    ("day", "hôm qua", "2026-11-26"),
    ("day", "25-11-2026", "2026-11-25"),
    ("where", "Bản Chặng", {"text": "Bản Chặng"}),
    ("note", "dòng một\n\n\ndòng hai", "dòng một\n\ndòng hai"),
    ("kind", "loai b", "B"),
    ("public", "khong", False),
])
def test_typed_answers_are_parsed_stored_and_move_on(step: str, typed: str,
                                                     stored: object) -> None:
    outcome = apply(SURVEY, _at(step), CTX, TextInput(typed))
    assert outcome.event is Event.MOVED
    assert outcome.state.answers[step] == stored
    assert outcome.state.step != step


def test_multi_choice_toggles_then_done_requires_one_when_required() -> None:
    state = _at("topics")
    refused = _press(state, "done")
    assert refused.event is Event.REJECTED and refused.problem.key == "form.problem.required"
    on = _press(state, "tog", "1")
    assert on.event is Event.STAYED and on.state.answers["topics"] == ["Môi trường"]
    off = _press(on.state, "tog", "1")
    assert off.state.answers["topics"] == []
    typed = apply(SURVEY, on.state, CTX, TextInput("van hoa"))
    assert typed.state.answers["topics"] == ["Môi trường", "Văn hóa"]
    assert _press(typed.state, "done").state.step == "helpers"


def test_a_weekday_needs_confirming_and_back_forgets_it() -> None:
    asked = apply(SURVEY, _at("day"), CTX, TextInput("t7"))
    assert asked.event is Event.STAYED and asked.state.pending == "2026-11-21"
    assert _press(asked.state, "back").state.pending is None
    confirmed = _press(asked.state, "ok")
    assert confirmed.state.answers["day"] == "2026-11-21" and confirmed.state.step == "where"


def test_a_date_button_for_the_future_is_refused() -> None:
    outcome = _press(_at("day"), "pick", "20261128")
    assert outcome.problem is not None and outcome.problem.key == "form.problem.date_future"


def test_photos_collect_up_to_the_limit_and_ignore_a_repeat() -> None:
    state = _at("pictures")
    for n in range(2):
        state = apply(SURVEY, state, CTX, PhotoInput(f"id{n}", f"u{n}")).state
    again = apply(SURVEY, state, CTX, PhotoInput("id1-again", "u1"))
    assert again.event is Event.PHOTO_ADDED and len(again.state.answers["pictures"]) == 2
    third = apply(SURVEY, state, CTX, PhotoInput("id2", "u2"))
    assert third.problem is not None and third.problem.key == "form.problem.too_many_photos"


def test_location_when_allowed_and_refused_for_border_units() -> None:
    taken = apply(SURVEY, _at("where"), CTX, LocationInput(21.8, 106.7))
    assert taken.state.answers["where"] == {"latitude": 21.8, "longitude": 106.7}
    border = FormContext(today=TODAY, choices=CTX.choices, allow_location=False)
    refused = apply(SURVEY, _at("where"), border, LocationInput(21.8, 106.7))
    assert refused.problem is not None and refused.problem.key == "form.problem.no_locations"


def test_skip_only_on_optional_steps_and_back_over_skipped_fields() -> None:
    assert _press(_at("name"), "skip").problem.key == "form.problem.required"
    skipped = _press(_at("count", count=4), "skip")
    assert "count" not in skipped.state.answers and skipped.state.step == "cost"
    back = _press(_at("note"), "back")
    assert back.state.step == "pictures", "the model step, not offered, is stepped over"
    assert _press(_at("name"), "back").problem.key == "form.problem.first_step"


def test_summary_edit_returns_to_summary_and_send_checks_required() -> None:
    complete = _at(SUMMARY, name="Mai", topics=["Văn hóa"], day="2026-11-27", kind="A",
                   public=True)
    editing = _press(complete, "edit", "cost")
    assert editing.state.step == "cost" and editing.state.from_summary
    back = apply(SURVEY, editing.state, CTX, TextInput("500k"))
    assert back.state.step == SUMMARY and back.state.answers["cost"] == 500_000
    assert _press(back.state, "send").event is Event.SUBMIT
    missing = _press(_at(SUMMARY, name="Mai"), "send")
    assert missing.event is Event.MOVED and missing.state.step == "topics"
    assert _press(complete, "edit", "model").problem.key == "form.problem.old_button"


@pytest.mark.parametrize("given", [OtherInput("sticker"), PhotoInput("x", "y"),
                                   LocationInput(1.0, 2.0)])
def test_unexpected_input_leaves_the_state_alone(given: object) -> None:
    state = _at("count", name="Mai")
    outcome = apply(SURVEY, state, CTX, given)  # type: ignore[arg-type]
    assert outcome.event is Event.REJECTED and outcome.state == state


def test_buttons_from_another_step_or_never_offered_are_refused() -> None:
    state = _at("kind")
    stale = apply(SURVEY, state, CTX, ButtonInput("name", "ok"))
    assert stale.problem is not None and stale.problem.key == "form.problem.old_button"
    forged = _press(state, "pick", "z")
    assert forged.problem is not None and forged.problem.key == "form.problem.old_button"
    assert forged.state == state


def test_skip_after_collecting_keeps_what_was_collected() -> None:
    state = _at("pictures", pictures=[{"file_id": "a", "file_unique_id": "u"}])
    kept = _press(state, "skip")
    assert kept.state.answers["pictures"] == [{"file_id": "a", "file_unique_id": "u"}]
    assert kept.state.step == "note"


def test_a_draft_on_a_step_the_form_no_longer_has_goes_on_sensibly() -> None:
    assert repair(SURVEY, _at("old_step", name="Mai"), CTX).step == "topics"
    complete = _at("old_step", name="Mai", topics=["Văn hóa"], day="2026-11-27", kind="A",
                   public=True)
    assert repair(SURVEY, complete, CTX).step == SUMMARY


def test_leaving_a_step_that_stopped_being_asked_goes_to_the_next_one() -> None:
    alone = FormContext(today=TODAY, choices={**CTX.choices, "members": ()})
    outcome = apply(SURVEY, _at("helpers"), alone, ButtonInput("helpers", "done"))
    assert outcome.state.step == "count", "not straight to the summary"


def test_back_from_a_step_no_longer_asked_goes_to_the_one_before_it() -> None:
    alone = FormContext(today=TODAY, choices={**CTX.choices, "members": ()})
    outcome = apply(SURVEY, _at("helpers"), alone, ButtonInput("helpers", "back"))
    assert outcome.state.step == "topics"


LIST = Form("plan", (Field("steps", FieldType.LONG_TEXT, min=5, max=200, items=(1, 3)),))


@pytest.mark.parametrize(("typed", "key", "stored"), [
    ("1. Trồng cây xanh\n\n- Dọn đường làng\n• Thăm hộ nghèo", None,
     "Trồng cây xanh\nDọn đường làng\nThăm hộ nghèo"),
    ("Trồng cây\nDọn đường\nThăm hộ nghèo\nHọp tổ", "form.problem.too_many_items", None),
    ("Trồng cây xanh\nOK", "form.problem.item_too_short", None),
    ("1.\n2.\n-", "form.problem.no_letters", None),
    ("x" * 201, "form.problem.too_long", None),
    ("1.5 triệu đồng cho quỹ", None, "1.5 triệu đồng cho quỹ"),
])
def test_a_list_is_typed_one_item_a_line(typed: str, key: str | None, stored: str | None) -> None:
    ctx = FormContext(today=TODAY)
    outcome = apply(LIST, start(LIST, ctx), ctx, TextInput(typed))
    if key is None:
        assert outcome.problem is None and outcome.state.answers["steps"] == stored
    else:
        assert outcome.problem is not None and outcome.problem.key == key
        assert "steps" not in outcome.state.answers


DETAILED = Form("detailed", (
    Field("what", FieldType.TEXT, min=2, max=50),
    Field("count", FieldType.INTEGER, required=False, min=0, max=10, detail=True),
    Field("pictures", FieldType.PHOTOS, required=False, max=3, detail=True),
    Field("public", FieldType.YES_NO, required=False, detail=True),
))


def _detailed(state: DraftState, given: object) -> object:
    return apply(DETAILED, state, CTX, given)  # type: ignore[arg-type]


def test_the_summary_comes_once_the_required_answers_are_in_and_details_wait() -> None:
    moved = _detailed(_at("what"), TextInput("Dọn rác"))
    assert moved.state.step == SUMMARY
    more = _detailed(moved.state, ButtonInput(SUMMARY, "more"))
    assert (more.state.step, more.state.details) == ("count", True)
    back = _detailed(more.state, ButtonInput("count", "back"))
    assert back.state.step == SUMMARY, "back from the first detail is the summary it came from"
    assert not back.state.details


@pytest.mark.parametrize(("typed", "skipped"), [
    ("bỏ qua", True), ("Không ạ.", True), ("ko co", True), ("k", True), ("-", True),
    ("Bỏ qua nhé", True), ("3", False),
])
def test_typed_skip_words_skip_an_optional_step(typed: str, skipped: bool) -> None:
    outcome = _detailed(DraftState(step="count", details=True, answers={"what": "x"}),
                        TextInput(typed))
    assert outcome.event is Event.MOVED
    assert ("count" not in outcome.state.answers) is skipped


@pytest.mark.parametrize(("typed", "stored"), [("không", False), ("bo qua", None), ("có", True)])
def test_an_optional_yes_no_takes_no_as_its_answer_and_skip_as_a_skip(
        typed: str, stored: object) -> None:
    outcome = _detailed(DraftState(step="public", details=True, answers={"what": "x"}),
                        TextInput(typed))
    assert outcome.state.step == SUMMARY
    assert outcome.state.answers.get("public") == stored


def test_photos_sent_at_the_summary_are_taken_when_photos_are_a_detail() -> None:
    outcome = _detailed(_at(SUMMARY, what="Dọn rác"), PhotoInput("f1", "u1"))
    assert outcome.event is Event.PHOTO_ADDED
    assert outcome.state.step == SUMMARY
    assert len(outcome.state.answers["pictures"]) == 1
    refused = apply(SURVEY, _at("name"), CTX, PhotoInput("f1", "u1"))
    assert refused.event is Event.REJECTED, "a step that is not a detail takes no photo"


def test_a_typed_name_means_the_own_units_member_before_one_from_further_afield() -> None:
    wider = FormContext(today=TODAY, choices={"members": (
        Choice("7", 7, "Nông Văn Bình"),
        Choice("8", 8, "Lò Văn Bình", note="Chi bộ Thôn Nà Pá"),
        Choice("9", 9, "Hà Thị Thu", note="Chi bộ Thôn Nà Pá"),
        Choice("10", 10, "Lê Thị Thu", note="Chi bộ Thôn Khuổi Khỉn"))})
    own = apply(SURVEY, _at("helpers"), wider, TextInput("binh"))
    assert own.state.answers["helpers"] == [7]
    other = apply(SURVEY, own.state, wider, TextInput("lo van binh"))
    assert other.state.answers["helpers"] == [7, 8], "the note is not part of the name"
    both_far = apply(SURVEY, other.state, wider, TextInput("thu"))
    assert both_far.event is Event.REJECTED, "two from further afield: which one is not said"
