-- The payment password: its Argon2id hash (a pepper of its own) and the
-- count of wrong entries since the last right one. A count that reaches
-- the limit locks it until locked_until; the count is taken before the
-- check, so a lock holds however many requests race.
CREATE TABLE payment_passwords (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    hash TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER,
    updated_at INTEGER NOT NULL
);

-- Keyed hashes of the birthday as six-digit PINs (YYMMDD, MMDDYY, DDMMYY),
-- space-separated, kept at sign-up so that a payment password can be
-- refused for being the birthday without the date being kept. NULL for
-- people who signed up before.
ALTER TABLE users ADD COLUMN birthday_pins TEXT;

-- Single-use confirmations (POST /v1/me/verifications): the keyed hash of
-- the token the person was given, what it may be used for (`purpose`, and
-- `scope`: the card it unbinds), how it was proven, and when it was used.
-- Using one is one UPDATE ... WHERE used_at IS NULL: once, however many
-- requests present it.
CREATE TABLE verifications (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    purpose TEXT NOT NULL,
    scope TEXT NOT NULL,
    method TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX verifications_expiry ON verifications (expires_at);
