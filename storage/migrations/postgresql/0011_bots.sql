-- Several bots on one database (issue 15); see storage/migrations/sqlite/0011_bots.sql.

CREATE TABLE bots (
    bot_id       BIGINT PRIMARY KEY,
    root_unit_id BIGINT REFERENCES units(id),
    username     TEXT COLLATE "C",
    seen_at      TEXT COLLATE "C" NOT NULL
);
CREATE INDEX bots_root ON bots(root_unit_id);

ALTER TABLE inbox ADD COLUMN bot_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE inbox DROP CONSTRAINT inbox_pkey;
ALTER TABLE inbox ADD PRIMARY KEY (bot_id, update_id);

ALTER TABLE deliveries ADD COLUMN bot_id BIGINT NOT NULL DEFAULT 0;
DROP INDEX deliveries_waiting;
CREATE INDEX deliveries_waiting ON deliveries(bot_id, status, id)
    WHERE status IN ('queued', 'sending');
