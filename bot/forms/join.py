"""Joining through an invite: one step, confirming the name Telegram gave."""

from __future__ import annotations

from bot.forms.spec import Field, FieldType, Form

JOIN_FORM = Form(
    "join",
    (Field("full_name", FieldType.TEXT, min=2, max=100, has_default=True),),
    summary=False,
)
