-- The acknowledgment loop (/review): which reports a leader was shown in the current pass, so
-- that "Ghi nhận tất cả … vừa xem" acknowledges exactly those, even after a restart.

-- One pass per leader at a time: /review starts a new one. AUTOINCREMENT so that an old
-- pass's id, still on a button somewhere, never names a newer pass.
CREATE TABLE review_passes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id  INTEGER NOT NULL REFERENCES people(id),
    started_at TEXT NOT NULL
);
CREATE INDEX review_passes_person ON review_passes(person_id, id);

-- A report shown in a pass, with a fingerprint of the content shown: a report corrected
-- after the leader saw it is not acknowledged unseen.
CREATE TABLE review_seen (
    pass_id      INTEGER NOT NULL REFERENCES review_passes(id) ON DELETE CASCADE,
    report_id    INTEGER NOT NULL REFERENCES reports(id),
    content_hash TEXT NOT NULL,
    seen_at      TEXT NOT NULL,
    PRIMARY KEY (pass_id, report_id)
);

CREATE INDEX report_reviews_action ON report_reviews(action, report_id);
