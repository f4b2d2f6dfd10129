-- Units form a tree of any depth; kind is a free label ("chi bộ", "tổ đảng", "đảng bộ xã"...).
CREATE TABLE units (
    id            INTEGER PRIMARY KEY,
    code          TEXT UNIQUE,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    parent_id     INTEGER REFERENCES units(id),
    place_name    TEXT,
    no_locations  INTEGER NOT NULL DEFAULT 0,
    group_chat_id INTEGER UNIQUE,
    created_at    TEXT NOT NULL
);
CREATE INDEX units_parent ON units(parent_id);

-- A person is one Telegram account; their roles live in memberships.
CREATE TABLE people (
    id               INTEGER PRIMARY KEY,
    telegram_user_id INTEGER NOT NULL UNIQUE,
    full_name        TEXT NOT NULL,
    lang             TEXT NOT NULL DEFAULT 'vi',
    nudges_enabled   INTEGER NOT NULL DEFAULT 1,
    unreachable      INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL
);

-- One row per (person, unit, role): a specialist can observe a province and be a member of her cell.
CREATE TABLE memberships (
    id         INTEGER PRIMARY KEY,
    person_id  INTEGER NOT NULL REFERENCES people(id),
    unit_id    INTEGER NOT NULL REFERENCES units(id),
    role       TEXT NOT NULL CHECK (role IN ('member', 'leader', 'observer')),
    title      TEXT,
    excused    INTEGER NOT NULL DEFAULT 0,
    status     TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('pending', 'active', 'removed')),
    invite_id  INTEGER REFERENCES invites(id),
    joined_at  TEXT NOT NULL
);
CREATE INDEX memberships_unit ON memberships(unit_id, status);
-- A removed member can be invited again: only live rows must be unique.
CREATE UNIQUE INDEX memberships_live ON memberships(person_id, unit_id, role)
    WHERE status != 'removed';
-- A member reports in exactly one home cell.
CREATE UNIQUE INDEX memberships_one_home ON memberships(person_id)
    WHERE role = 'member' AND status != 'removed';

CREATE TABLE invites (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    unit_id     INTEGER NOT NULL REFERENCES units(id),
    role        TEXT NOT NULL CHECK (role IN ('member', 'leader', 'observer')),
    max_uses    INTEGER NOT NULL CHECK (max_uses >= 1),
    uses        INTEGER NOT NULL DEFAULT 0,
    expires_at  TEXT NOT NULL,
    revoked     INTEGER NOT NULL DEFAULT 0,
    created_by  INTEGER REFERENCES people(id),
    created_at  TEXT NOT NULL
);

-- Models (mô hình) run over several years; their status is kept per year.
CREATE TABLE models (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    field         TEXT NOT NULL,
    owner_unit_id INTEGER NOT NULL REFERENCES units(id),
    mass_org      TEXT,
    description   TEXT,
    start_year    INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (owner_unit_id, name)
);
CREATE TABLE model_years (
    model_id INTEGER NOT NULL REFERENCES models(id),
    year     INTEGER NOT NULL,
    status   TEXT NOT NULL CHECK (status IN ('registered', 'in_progress', 'completed', 'stopped')),
    mark     TEXT CHECK (mark IN ('exemplary', 'to_spread')),
    PRIMARY KEY (model_id, year)
);

CREATE TABLE reports (
    id                INTEGER PRIMARY KEY,
    person_id         INTEGER NOT NULL REFERENCES people(id),
    unit_id           INTEGER NOT NULL REFERENCES units(id),
    deed_date         TEXT NOT NULL,
    field             TEXT NOT NULL,
    description       TEXT NOT NULL,
    model_id          INTEGER REFERENCES models(id),
    people_helped     INTEGER,
    households_helped INTEGER,
    value_vnd         INTEGER,
    place             TEXT,
    latitude          REAL,
    longitude         REAL,
    private           INTEGER NOT NULL DEFAULT 0,
    entered_by        INTEGER NOT NULL REFERENCES people(id),
    -- The current state; how it got there is in report_reviews.
    state             TEXT NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'acknowledged', 'needs_more', 'withdrawn')),
    -- The draft a report came from: pressing "Gửi" twice, or a redelivered update, finds it here.
    source_draft_id   INTEGER NOT NULL UNIQUE,
    received_at       TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX reports_person ON reports(person_id, received_at);
CREATE INDEX reports_unit_received ON reports(unit_id, received_at);
CREATE INDEX reports_unit_deed ON reports(unit_id, deed_date);

CREATE TABLE report_participants (
    report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    person_id INTEGER NOT NULL REFERENCES people(id),
    PRIMARY KEY (report_id, person_id)
);
CREATE INDEX report_participants_person ON report_participants(person_id);

-- Every leader's action on a report (ghi nhận, đề nghị bổ sung with its note, reopen…).
CREATE TABLE report_reviews (
    id        INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports(id),
    person_id INTEGER NOT NULL REFERENCES people(id),
    action    TEXT NOT NULL,
    note      TEXT,
    at        TEXT NOT NULL
);
CREATE INDEX report_reviews_report ON report_reviews(report_id, id);

CREATE TABLE report_photos (
    report_id      INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    file_id        TEXT NOT NULL,
    file_unique_id TEXT NOT NULL,
    PRIMARY KEY (report_id, position)
);

-- The single source of truth for where someone is in a form; keyed by Telegram user because
-- joining (a form too) starts before the person exists.
CREATE TABLE drafts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    telegram_user_id INTEGER NOT NULL UNIQUE,
    form             TEXT NOT NULL,
    state            TEXT NOT NULL,
    -- The Telegram updates already applied (the latest few): a redelivered one is recognised
    -- even though update ids are not always increasing.
    recent_updates   TEXT NOT NULL DEFAULT '[]',
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX drafts_updated ON drafts(updated_at);

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT,
    detail    TEXT
);

-- Facts the bot learns about itself (its username, for invite links printed by the CLI).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Updates fetched from Telegram. getUpdates confirms what it fetched on the next call, before
-- handlers finish: a crash in between would lose an answer, so each update is kept here,
-- replayed at start-up until handled, and remembered for a while after so that Telegram
-- sending it again is recognised.
CREATE TABLE inbox (
    update_id   INTEGER PRIMARY KEY,
    body        TEXT NOT NULL,
    received_at TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    handled_at  TEXT
);
CREATE INDEX inbox_waiting ON inbox(handled_at, received_at);
