-- Leaders' work: the review queue, yearly commitments, and finding units by their group chat.

-- The leader's queue: a unit's reports waiting, oldest first.
CREATE INDEX reports_unit_state ON reports(unit_id, state, received_at);
CREATE INDEX audit_log_action ON audit_log(action, id);

-- A member's yearly "Bản cam kết tu dưỡng, rèn luyện, phấn đấu", the actions registered under
-- "Đăng ký nội dung học tập và làm theo Bác", and the self-assessment at the end of the year.
CREATE TABLE commitments (
    id              INTEGER PRIMARY KEY,
    person_id       INTEGER NOT NULL REFERENCES people(id),
    unit_id         INTEGER NOT NULL REFERENCES units(id),
    year            INTEGER NOT NULL,
    pledge          TEXT NOT NULL,
    actions         TEXT NOT NULL,
    self_rating     TEXT CHECK (self_rating IN ('excellent', 'good', 'done', 'not_done')),
    self_assessment TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    assessed_at     TEXT,
    UNIQUE (person_id, year)
);
CREATE INDEX commitments_unit_year ON commitments(unit_id, year);
