-- Several bots on one database (issue 15): each bot token serves a subtree of units.

-- The bots that have run on this database, each known by the number its token starts with
-- (Telegram's id of the bot). `root_unit_id`: the top of the subtree it serves; NULL for the
-- bot that serves whatever no rooted bot does (the whole tree when it is alone). Written when
-- `lantoa run` starts; the username is what invite links are made with.
CREATE TABLE bots (
    bot_id       INTEGER PRIMARY KEY,
    root_unit_id INTEGER REFERENCES units(id),
    username     TEXT,
    seen_at      TEXT NOT NULL
);
CREATE INDEX bots_root ON bots(root_unit_id);

-- Update ids are counted per bot: two bots' updates share numbers. The rows kept before this
-- migration have bot 0 until the bot that wrote them starts again (storage/bots.py).
CREATE TABLE inbox_by_bot (
    update_id   INTEGER NOT NULL,
    body        TEXT NOT NULL,
    received_at TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    handled_at  TEXT,
    bot_id      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (bot_id, update_id)
);
INSERT INTO inbox_by_bot (update_id, body, received_at, attempts, handled_at, bot_id)
    SELECT update_id, body, received_at, attempts, handled_at, 0 FROM inbox;
DROP TABLE inbox;
ALTER TABLE inbox_by_bot RENAME TO inbox;
CREATE INDEX inbox_waiting ON inbox(handled_at, received_at);

-- The bot that sends a ledger row (each process sends only its own); 0 until a bot that
-- serves the row's unit claims it.
ALTER TABLE deliveries ADD COLUMN bot_id INTEGER NOT NULL DEFAULT 0;
DROP INDEX deliveries_waiting;
CREATE INDEX deliveries_waiting ON deliveries(bot_id, status, id)
    WHERE status IN ('queued', 'sending');
