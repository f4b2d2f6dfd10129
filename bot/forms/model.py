"""The model form (đăng ký mô hình học và làm theo Bác), as data."""

from __future__ import annotations

from bot.forms.spec import Field, FieldType, Form

# Start years on offer: from this one to next year. A choice rather than a typed number, so
# that this year is one tap away and a typo such as 20266 is caught at once.
FIRST_YEAR = 2000

MODEL_FORM = Form("model", (
    Field("name", FieldType.TEXT, min=5, max=200),
    Field("field", FieldType.CHOICE, source="fields"),
    # Asked only of a leader who can register models in more than one unit.
    Field("owner_unit_id", FieldType.CHOICE, source="units"),
    Field("mass_org", FieldType.CHOICE, required=False, source="mass_orgs"),
    Field("description", FieldType.LONG_TEXT, required=False, min=10, max=2000),
    Field("start_year", FieldType.CHOICE, source="years"),
))
