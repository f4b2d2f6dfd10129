"""Form drafts: where each person is in a form, with the answers so far."""

from __future__ import annotations

import datetime as dt
import json

from storage.clock import from_db, to_db
from storage.db import Tx
from storage.entities import Draft

_COLUMNS = "id, telegram_user_id, form, state, recent_updates, created_at, updated_at"
REMEMBERED_UPDATES = 20


def _draft(row) -> Draft:
    values = dict(row)
    values["state"] = json.loads(values["state"])
    values["recent_updates"] = tuple(json.loads(values["recent_updates"]))
    values["created_at"] = from_db(values["created_at"])
    values["updated_at"] = from_db(values["updated_at"])
    return Draft(**values)


async def draft_of(tx: Tx, telegram_user_id: int) -> Draft | None:
    row = await tx.one(
        f"SELECT {_COLUMNS} FROM drafts WHERE telegram_user_id = ?", (telegram_user_id,)
    )
    return _draft(row) if row else None


async def start_draft(
    tx: Tx, telegram_user_id: int, form: str, state: dict, update_id: int, now: dt.datetime
) -> Draft:
    """Replaces any draft the person had: one form at a time."""
    await tx.run("DELETE FROM drafts WHERE telegram_user_id = ?", (telegram_user_id,))
    draft_id = await tx.run(
        "INSERT INTO drafts (telegram_user_id, form, state, recent_updates, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        (telegram_user_id, form, json.dumps(state, ensure_ascii=False), json.dumps([update_id]),
         to_db(now), to_db(now)),
    )
    return Draft(id=draft_id, telegram_user_id=telegram_user_id, form=form, state=state,
                 recent_updates=(update_id,), created_at=now, updated_at=now)


async def save_draft(
    tx: Tx, draft: Draft, state: dict, update_id: int, now: dt.datetime
) -> None:
    recent = [*draft.recent_updates, update_id][-REMEMBERED_UPDATES:]
    await tx.run(
        "UPDATE drafts SET state = ?, recent_updates = ?, updated_at = ? WHERE id = ?",
        (json.dumps(state, ensure_ascii=False), json.dumps(recent), to_db(now), draft.id),
    )


async def save_state(tx: Tx, draft_id: int, state: dict, now: dt.datetime) -> None:
    """A change no update of the member's made (the updates remembered stay as they are)."""
    await tx.run("UPDATE drafts SET state = ?, updated_at = ? WHERE id = ?",
                 (json.dumps(state, ensure_ascii=False), to_db(now), draft_id))


async def owing_photo_acknowledgement(tx: Tx) -> list[int]:
    """Telegram ids of the people whose draft took photos not acknowledged yet."""
    rows = await tx.all("SELECT telegram_user_id, state FROM drafts ORDER BY id")
    return [int(r["telegram_user_id"]) for r in rows
            if json.loads(r["state"]).get("photos_unacknowledged") == 1]


async def delete_draft(tx: Tx, draft_id: int) -> bool:
    """False when it was gone already: a second ✅ Gửi of the same form, on another
    connection, a moment after the first."""
    return await tx.run("DELETE FROM drafts WHERE id = ?", (draft_id,)) == 1


async def drafts_untouched_since(tx: Tx, moment: dt.datetime) -> list[Draft]:
    rows = await tx.all(
        f"SELECT {_COLUMNS} FROM drafts WHERE updated_at < ? ORDER BY id", (to_db(moment),)
    )
    return [_draft(r) for r in rows]
