-- migrate: foreign_keys off
-- A member without a phone has no Telegram account; a leader reports on their behalf. So
-- people.telegram_user_id becomes optional (still unique among those who have one: SQLite lets
-- any number of rows hold NULL in a UNIQUE column). SQLite cannot drop NOT NULL in place: the
-- table is rebuilt (https://www.sqlite.org/lang_altertable.html#otheralter) with foreign keys
-- off, as memberships, invites, reports, report_participants, report_reviews and commitments
-- refer to it; the runner checks every reference before committing. Ids are kept, so every
-- reference still points to the same person. people has no index but its UNIQUE one.

CREATE TABLE people_new (
    id               INTEGER PRIMARY KEY,
    telegram_user_id INTEGER UNIQUE,
    full_name        TEXT NOT NULL,
    lang             TEXT NOT NULL DEFAULT 'vi',
    nudges_enabled   INTEGER NOT NULL DEFAULT 1,
    unreachable      INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL
);

INSERT INTO people_new (id, telegram_user_id, full_name, lang, nudges_enabled, unreachable,
                        created_at)
    SELECT id, telegram_user_id, full_name, lang, nudges_enabled, unreachable, created_at
    FROM people;

DROP TABLE people;

ALTER TABLE people_new RENAME TO people;
