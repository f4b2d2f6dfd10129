-- The review loop: a leader's daily notice of the reports waiting for acknowledgment, at an
-- hour each unit sets in /schedule (a schedule row of kind 'review', every 'day'), which a
-- leader can turn off for themself in /settings.
ALTER TABLE people ADD COLUMN review_notices_enabled INTEGER NOT NULL DEFAULT 1;

-- SQLite changes a CHECK constraint by rebuilding the table (nothing refers to schedules).
CREATE TABLE schedules_new (
    id         INTEGER PRIMARY KEY,
    unit_id    INTEGER NOT NULL REFERENCES units(id),
    kind       TEXT NOT NULL CHECK (kind IN ('digest', 'reminder', 'custom', 'review')),
    enabled    INTEGER NOT NULL DEFAULT 1,
    -- 'week': on `weekday` (0 = Monday … 6 = Sunday); 'month': on `month_day` (1–28);
    -- 'day': every day.
    every      TEXT NOT NULL DEFAULT 'week' CHECK (every IN ('week', 'month', 'day')),
    weekday    INTEGER CHECK (weekday BETWEEN 0 AND 6),
    month_day  INTEGER CHECK (month_day BETWEEN 1 AND 28),
    at         TEXT NOT NULL,  -- 'HH:MM'
    text       TEXT,           -- a custom reminder's words
    updated_at TEXT NOT NULL
);
INSERT INTO schedules_new (id, unit_id, kind, enabled, every, weekday, month_day, at, text,
                           updated_at)
    SELECT id, unit_id, kind, enabled, every, weekday, month_day, at, text, updated_at
    FROM schedules;
DROP TABLE schedules;
ALTER TABLE schedules_new RENAME TO schedules;
CREATE INDEX schedules_unit ON schedules(unit_id);
-- One digest, one reminder and one review notice per unit; custom reminders as many as added.
CREATE UNIQUE INDEX schedules_one_standard ON schedules(unit_id, kind) WHERE kind != 'custom';
