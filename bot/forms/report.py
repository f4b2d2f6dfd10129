"""The report form (báo cáo việc làm theo Bác), as data."""

from __future__ import annotations

from bot.config import ReportSettings
from bot.forms.spec import Field, FieldType, Form


def report_form(settings: ReportSettings) -> Form:
    return Form("report", (
        Field("deed_date", FieldType.DATE),
        Field("field", FieldType.CHOICE, source="fields"),
        Field("description", FieldType.LONG_TEXT,
              min=settings.description_min, max=settings.description_max),
        Field("model_id", FieldType.REFERENCE, required=False, source="models"),
        Field("participant_ids", FieldType.MEMBERS, required=False, source="members"),
        Field("people_helped", FieldType.INTEGER, required=False, min=0, max=100_000),
        Field("households_helped", FieldType.INTEGER, required=False, min=0, max=10_000),
        Field("value_vnd", FieldType.MONEY, required=False),
        Field("place", FieldType.PLACE, required=False, min=2, max=200),
        Field("photos", FieldType.PHOTOS, required=False, max=settings.max_photos),
        Field("public", FieldType.YES_NO),
    ))
