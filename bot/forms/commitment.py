"""The yearly commitment and its self-assessment, as data."""

from __future__ import annotations

from bot.forms.spec import Field, FieldType, Form

PLEDGE_MIN = 20
ACTION_MIN = 5
MAX_ACTIONS = 10

COMMITMENT_FORM = Form("commitment", (
    # Bản cam kết tu dưỡng, rèn luyện, phấn đấu
    Field("pledge", FieldType.LONG_TEXT, min=PLEDGE_MIN, max=3000),
    # Đăng ký nội dung học tập và làm theo Bác: one concrete action a line
    Field("actions", FieldType.LONG_TEXT, min=ACTION_MIN, max=3000, items=(1, MAX_ACTIONS)),
))

ASSESSMENT_FORM = Form("self_assessment", (
    Field("rating", FieldType.CHOICE, source="ratings"),
    Field("text", FieldType.LONG_TEXT, min=PLEDGE_MIN, max=3000),
))
