-- The command menu last given to each person's chat, so that it is sent again only on change
-- (a role given or taken, another language chosen).
CREATE TABLE command_menus (
    telegram_user_id INTEGER PRIMARY KEY,
    signature        TEXT NOT NULL
);
