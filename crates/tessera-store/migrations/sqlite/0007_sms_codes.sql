-- The wallet's own text-message codes, for a purpose (reset_password; more
-- to come), one live code per purpose and phone: a new one replaces it.
-- Kept are a keyed hash of the phone, a keyed hash of the code, its expiry
-- and the comparisons made with it, never the code.
CREATE TABLE sms_codes (
    purpose TEXT NOT NULL,
    phone_hash TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (purpose, phone_hash)
);
