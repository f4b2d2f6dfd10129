-- A standby that takes over (issue 15): of the `lantoa run` processes of one bot on one
-- database, only the holder of the bot's lease polls, sends, schedules and recovers; the
-- others wait. Times are seconds since 1970 (REAL), read from the database's own clock on
-- PostgreSQL, so that the machines' clocks need not agree (storage/leases.py).

-- One row per bot (the numeric id before ':' in its token).
CREATE TABLE leases (
    bot_id     INTEGER PRIMARY KEY,
    holder     TEXT NOT NULL,     -- the holding process's instance id (new at every start)
    host       TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    epoch      INTEGER NOT NULL,  -- grows at every takeover
    since      REAL NOT NULL,     -- when this holder took it
    renewed_at REAL NOT NULL,
    expires_at REAL NOT NULL
);

-- Every `lantoa run` process seen, active or standby, for `lantoa status`; refreshed at
-- each heartbeat, removed at a clean stop.
CREATE TABLE processes (
    instance     TEXT PRIMARY KEY,
    bot_id       INTEGER NOT NULL,
    host         TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('active', 'standby')),
    started_at   REAL NOT NULL,
    seen_at      REAL NOT NULL,
    retry_afters INTEGER NOT NULL DEFAULT 0  -- Telegram's 429s in the hour before seen_at
);
CREATE INDEX processes_bot ON processes(bot_id, seen_at);
