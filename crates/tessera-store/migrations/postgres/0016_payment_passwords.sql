-- The payment password: its Argon2id hash (a pepper of its own) and the
-- count of wrong entries since the last right one. A count that reaches
-- the limit locks it until locked_until; the count is taken before the
-- check, so a lock holds however many requests race on however many nodes.
CREATE TABLE payment_passwords (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    hash TEXT NOT NULL,
    failures BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    updated_at BIGINT NOT NULL
);

-- Keyed hashes of the birthday as six-digit PINs (YYMMDD, MMDDYY, DDMMYY),
-- space-separated, kept at sign-up so that a payment password can be
-- refused for being the birthday without the date being kept. NULL for
-- people who signed up before.
ALTER TABLE users ADD COLUMN birthday_pins TEXT;
