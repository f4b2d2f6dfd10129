"""A leader's note on a report, as data: what to add ("↩ Đề nghị bổ sung") or why an
acknowledged report is opened again ("↺ Mở lại"). One long text, sent as soon as it is typed."""

from __future__ import annotations

from bot.forms.spec import Field, FieldType, Form

NOTE_MAX = 1000
ASK_MORE_FORM = Form("review_ask", (Field("note", FieldType.LONG_TEXT, min=3, max=NOTE_MAX),),
                     summary=False)
REOPEN_FORM = Form("review_reopen", (Field("note", FieldType.LONG_TEXT, min=3, max=NOTE_MAX),),
                   summary=False)
