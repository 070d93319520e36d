-- Who holds an API key (a person or a team), named when the key is made:
-- shown in the key list and written with every read of a person's data.
ALTER TABLE api_keys ADD COLUMN holder TEXT NOT NULL DEFAULT '';

-- Reads of a person's data by support: when, by which key (its holder and
-- role as they were then), what (`support.users.search`,
-- `support.user.read`, ...), whose (the person's user id, when one was
-- read) and the request's trace id. Rows are only ever appended.
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    key_id TEXT NOT NULL,
    key_holder TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    user_id TEXT,
    trace_id TEXT NOT NULL
);
-- Operators list them newest first, a page at a time.
CREATE INDEX audit_events_created ON audit_events (created_at, id);

-- Support finds a person by the real name and the ID number's last four
-- (the ID number itself is kept only as a keyed hash), and by a card's
-- first six and last four: without these, each search reads every row.
CREATE INDEX users_name_id_last4 ON users (real_name_normalized, id_number_last4);
CREATE INDEX cards_last4_first6 ON cards (last4, first6);
