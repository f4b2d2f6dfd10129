-- Importing members from a file (`lantoa member import`, /import): people created without a
-- Telegram account, each with a personal invite that makes whoever opens it that person.

-- What the file said of how to reach someone: a Telegram bot cannot write to anyone first, by
-- username or by phone, so these are for the leaders, who hand out the person's link.
ALTER TABLE people ADD COLUMN telegram_username TEXT;
ALTER TABLE people ADD COLUMN phone TEXT;

-- A personal invite: opening it attaches the Telegram account to this person (their role was
-- given by the import) instead of creating someone new. NULL for an ordinary invite.
ALTER TABLE invites ADD COLUMN person_id INTEGER REFERENCES people(id);
-- A re-run of an import finds the links it made before.
CREATE INDEX invites_person ON invites(person_id) WHERE person_id IS NOT NULL;

-- An import in the bot between /import and ✅ Nhập: waiting for the file, then the checked
-- rows of the file shown in the preview (JSON), kept here so that a restart loses nothing
-- and pressing ✅ twice imports once.
CREATE TABLE member_imports (
    id               INTEGER PRIMARY KEY,
    telegram_user_id INTEGER NOT NULL,
    status           TEXT NOT NULL
                     CHECK (status IN ('waiting', 'previewed', 'imported', 'cancelled')),
    filename         TEXT,
    rows             TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX member_imports_user ON member_imports(telegram_user_id, status);
