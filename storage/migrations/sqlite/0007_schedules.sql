-- What each unit sends on its own, and when (local time, settings' time zone). Every unit gets
-- a digest and a reminder row with config.toml's defaults; a leader changes them with /schedule
-- and adds custom reminders ("Ngày thứ 7 đi cơ sở", Saturday 06:30) with their own words.
CREATE TABLE schedules (
    id         INTEGER PRIMARY KEY,
    unit_id    INTEGER NOT NULL REFERENCES units(id),
    kind       TEXT NOT NULL CHECK (kind IN ('digest', 'reminder', 'custom')),
    enabled    INTEGER NOT NULL DEFAULT 1,
    -- 'week': on `weekday` (0 = Monday … 6 = Sunday); 'month': on `month_day` (1–28).
    every      TEXT NOT NULL DEFAULT 'week' CHECK (every IN ('week', 'month')),
    weekday    INTEGER CHECK (weekday BETWEEN 0 AND 6),
    month_day  INTEGER CHECK (month_day BETWEEN 1 AND 28),
    at         TEXT NOT NULL,  -- 'HH:MM'
    text       TEXT,           -- a custom reminder's words
    updated_at TEXT NOT NULL
);
CREATE INDEX schedules_unit ON schedules(unit_id);
-- One digest and one reminder per unit; custom reminders as many as a leader adds.
CREATE UNIQUE INDEX schedules_one_standard ON schedules(unit_id, kind) WHERE kind != 'custom';

-- An announcement a leader sent with /announce; its deliveries are in `deliveries`.
CREATE TABLE announcements (
    id            INTEGER PRIMARY KEY,
    unit_id       INTEGER NOT NULL REFERENCES units(id),
    author_id     INTEGER NOT NULL REFERENCES people(id),
    text          TEXT NOT NULL,
    photo_id      TEXT,
    whole_subtree INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    -- When the author was told how many got it (once, after the last delivery settled).
    reported_at   TEXT
);

-- The ledger of everything the bot sends on its own: exactly one row per (kind, unit, chat,
-- period), inserted in the same transaction as the decision to send, with what to send.
-- The paced sender takes 'queued' rows; 'sending' is set just before the call to Telegram, so a
-- crash in the middle leaves 'sending', which is never sent again ('uncertain' at start-up).
CREATE TABLE deliveries (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,     -- digest, leader_digest, reminder, nudge, custom, announcement…
    unit_id    INTEGER NOT NULL REFERENCES units(id),
    chat_id    INTEGER NOT NULL,  -- a group, or a person's private chat
    period     TEXT NOT NULL,     -- '2026-W47', '2026-11', '2026-11-28', 'a17'
    person_id  INTEGER REFERENCES people(id),
    status     TEXT NOT NULL DEFAULT 'queued'
               CHECK (status IN ('queued', 'sending', 'sent', 'unreachable', 'failed',
                                 'missed', 'uncertain')),
    text       TEXT NOT NULL DEFAULT '',
    buttons    TEXT NOT NULL DEFAULT '[]',  -- [[label, data], …] rows, JSON
    photo_id   TEXT,   -- a Telegram file id (an announcement's photo)
    photo      BLOB,   -- or an image made here (a digest's chart), dropped once sent
    attempts   INTEGER NOT NULL DEFAULT 0,
    decided_at TEXT NOT NULL,
    settled_at TEXT,
    detail     TEXT,
    UNIQUE (kind, unit_id, chat_id, period)
);
CREATE INDEX deliveries_waiting ON deliveries(status, id) WHERE status IN ('queued', 'sending');
CREATE INDEX deliveries_unit ON deliveries(unit_id, kind, period);
