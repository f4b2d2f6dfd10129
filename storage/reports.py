"""Reports (việc làm theo Bác), their co-participants and photos."""

from __future__ import annotations

import datetime as dt

from storage.clock import from_db, to_db
from storage.db import Tx, placeholders
from storage.entities import Photo, Report, ReportContent, ReportLine, ReportState

_CONTENT_COLUMNS = (
    "deed_date", "field", "description", "model_id", "people_helped", "households_helped",
    "value_vnd", "place", "latitude", "longitude", "private",
)


def _content_values(content: ReportContent) -> tuple:
    return (
        content.deed_date.isoformat(), content.field, content.description, content.model_id,
        content.people_helped, content.households_helped, content.value_vnd, content.place,
        content.latitude, content.longitude, int(content.private),
    )


async def _write_children(tx: Tx, report_id: int, content: ReportContent) -> None:
    await tx.run("DELETE FROM report_participants WHERE report_id = ?", (report_id,))
    await tx.run("DELETE FROM report_photos WHERE report_id = ?", (report_id,))
    await tx.run_many(
        "INSERT INTO report_participants (report_id, person_id) VALUES (?, ?)",
        [(report_id, person_id) for person_id in content.participant_ids],
    )
    await tx.run_many(
        "INSERT INTO report_photos (report_id, position, file_id, file_unique_id)"
        " VALUES (?, ?, ?, ?)",
        [(report_id, i, p.file_id, p.file_unique_id) for i, p in enumerate(content.photos)],
    )


async def insert_report(
    tx: Tx,
    *,
    person_id: int,
    unit_id: int,
    entered_by: int,
    content: ReportContent,
    source_draft_id: int,
    now: dt.datetime,
) -> int:
    columns = ", ".join(_CONTENT_COLUMNS)
    marks = placeholders(_CONTENT_COLUMNS)
    report_id = await tx.run(
        f"INSERT INTO reports (person_id, unit_id, entered_by, source_draft_id, received_at,"
        f" updated_at, {columns}) VALUES (?, ?, ?, ?, ?, ?, {marks})",
        (person_id, unit_id, entered_by, source_draft_id, to_db(now), to_db(now),
         *_content_values(content)),
    )
    await _write_children(tx, report_id, content)
    return report_id


async def replace_content(
    tx: Tx, report_id: int, content: ReportContent, now: dt.datetime
) -> bool:
    """Applies the author's correction; a corrected report waits for acknowledgment again.
    False when the report is no longer the author's to change."""
    assignments = ", ".join(f"{c} = ?" for c in _CONTENT_COLUMNS)
    changed = await tx.run(
        f"UPDATE reports SET {assignments}, state = 'pending', updated_at = ?"
        " WHERE id = ? AND state IN ('pending', 'needs_more')",
        (*_content_values(content), to_db(now), report_id),
    )
    if changed:
        await _write_children(tx, report_id, content)
    return changed == 1


async def withdraw_report(tx: Tx, report_id: int, now: dt.datetime) -> bool:
    changed = await tx.run(
        "UPDATE reports SET state = 'withdrawn', updated_at = ?"
        " WHERE id = ? AND state IN ('pending', 'needs_more')",
        (to_db(now), report_id),
    )
    return changed == 1


async def get_report(tx: Tx, report_id: int) -> Report | None:
    row = await tx.one("SELECT * FROM reports WHERE id = ?", (report_id,))
    if row is None:
        return None
    participants = await tx.all(
        "SELECT person_id FROM report_participants WHERE report_id = ? ORDER BY person_id",
        (report_id,),
    )
    photos = await tx.all(
        "SELECT file_id, file_unique_id FROM report_photos WHERE report_id = ? ORDER BY position",
        (report_id,),
    )
    values = {c: row[c] for c in _CONTENT_COLUMNS}
    content = ReportContent(
        **values,
        participant_ids=tuple(r["person_id"] for r in participants),
        photos=tuple(Photo(**dict(p)) for p in photos),
    )
    note = await tx.one(
        "SELECT note FROM report_reviews WHERE report_id = ? AND action IN ('needs_more', 'reopen')"
        " ORDER BY id DESC LIMIT 1",
        (report_id,),
    )
    return Report(
        id=row["id"], person_id=row["person_id"], unit_id=row["unit_id"],
        entered_by=row["entered_by"], state=ReportState(row["state"]),
        leader_note=note["note"] if note else None, received_at=from_db(row["received_at"]),
        content=content,
    )


async def report_id_from_draft(tx: Tx, draft_id: int) -> int | None:
    row = await tx.one("SELECT id FROM reports WHERE source_draft_id = ?", (draft_id,))
    return int(row["id"]) if row else None


async def reports_of_person(tx: Tx, person_id: int, limit: int, offset: int) -> list[ReportLine]:
    """The person's own reports, newest received first."""
    rows = await tx.all(
        "SELECT id, deed_date, field, description, state FROM reports WHERE person_id = ?"
        " ORDER BY received_at DESC, id DESC LIMIT ? OFFSET ?",
        (person_id, limit, offset),
    )
    return [ReportLine(**dict(r)) for r in rows]


async def count_reports_of_person(tx: Tx, person_id: int) -> int:
    row = await tx.one("SELECT COUNT(*) AS n FROM reports WHERE person_id = ?", (person_id,))
    return int(row["n"]) if row else 0
