-- Invites made by leaders in the bot, and the approval of joins through multi-use invites.

-- A leader's /invite lists the live invites of the units in reach.
CREATE INDEX invites_unit ON invites(unit_id, revoked, expires_at);

-- A join through a multi-use invite is a membership with status 'pending' until a leader
-- approves it (status 'active') or rejects it (status 'removed'). Who decided, and when, is
-- kept here: a second leader pressing the same button is told who was first.
CREATE TABLE join_decisions (
    membership_id INTEGER PRIMARY KEY REFERENCES memberships(id),
    decision      TEXT NOT NULL CHECK (decision IN ('approved', 'rejected')),
    decided_by    INTEGER REFERENCES people(id),  -- NULL for an admin who is nobody's member
    decider_name  TEXT NOT NULL,
    decided_at    TEXT NOT NULL
);
