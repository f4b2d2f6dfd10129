-- A standby that takes over (issue 15): of the `lantoa run` processes of one bot on one
-- database, only the holder of the bot's lease polls, sends, schedules and recovers; the
-- others wait. Times are seconds since 1970 (DOUBLE PRECISION), read from the database's own clock on
-- PostgreSQL, so that the machines' clocks need not agree (storage/leases.py).

-- One row per bot (the numeric id before ':' in its token).
CREATE TABLE leases (
    bot_id     BIGINT PRIMARY KEY,
    holder     TEXT COLLATE "C" NOT NULL, -- the holding process's instance id (new at every start)
    host       TEXT COLLATE "C" NOT NULL,
    pid        BIGINT NOT NULL,
    epoch      BIGINT NOT NULL,           -- grows at every takeover
    since      DOUBLE PRECISION NOT NULL, -- when this holder took it
    renewed_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);

-- Every `lantoa run` process seen, active or standby, for `lantoa status`; refreshed at
-- each heartbeat, removed at a clean stop.
CREATE TABLE processes (
    instance     TEXT COLLATE "C" PRIMARY KEY,
    bot_id       BIGINT NOT NULL,
    host         TEXT COLLATE "C" NOT NULL,
    pid          BIGINT NOT NULL,
    role         TEXT COLLATE "C" NOT NULL CHECK (role IN ('active', 'standby')),
    started_at   DOUBLE PRECISION NOT NULL,
    seen_at      DOUBLE PRECISION NOT NULL,
    retry_afters BIGINT NOT NULL DEFAULT 0  -- Telegram's 429s in the hour before seen_at
);
CREATE INDEX processes_bot ON processes(bot_id, seen_at);
