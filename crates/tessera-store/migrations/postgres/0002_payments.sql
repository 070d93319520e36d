-- Payments (issue 5), PostgreSQL: token PAN fingerprints and EMV key state, ATC uses,
-- single-use cryptograms, payment records, token and issuer events.
-- Times are Unix milliseconds (UTC). No clear PAN, token PAN, key or
-- cryptogram is ever stored.

-- A merchant's token PAN finds its token by this keyed HMAC; the unique
-- index keeps two tokens from ever sharing a PAN (deleted ones included, so
-- a token PAN is never issued twice).
ALTER TABLE tokens ADD COLUMN token_pan_fingerprint TEXT;
CREATE UNIQUE INDEX tokens_pan_fingerprint ON tokens(token_pan_fingerprint);
-- The token BIN range and key generation of the IMK-AC its keys come from
-- (NULL for tokens issued before this migration, until start-up fills it).
ALTER TABLE tokens ADD COLUMN imk_range TEXT;
ALTER TABLE tokens ADD COLUMN imk_generation BIGINT NOT NULL DEFAULT 1;
-- The highest ATC handed out (limited-use keys, server cryptograms);
-- atc_high (from 0001) is the highest ATC a payment was accepted with.
ALTER TABLE tokens ADD COLUMN atc_issued BIGINT NOT NULL DEFAULT 0;

-- The occurred_at of the newest issuer event applied to a card: an older
-- event arriving late never overwrites a newer state.
ALTER TABLE cards ADD COLUMN issuer_event_at BIGINT;
CREATE INDEX cards_par ON cards(par);
CREATE INDEX cards_fingerprint ON cards(pan_fingerprint);

-- Each ATC pays once per token: the primary key holds across nodes.
CREATE TABLE atc_uses (
    token_ref TEXT NOT NULL REFERENCES tokens(token_ref),
    atc BIGINT NOT NULL,
    payment_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (token_ref, atc)
);

-- Single-use cryptograms the server made for in-app and web payments: what
-- each is bound to (amount, currency, merchant) and until when.
CREATE TABLE cryptograms (
    token_ref TEXT NOT NULL REFERENCES tokens(token_ref),
    atc BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    transaction_date TEXT NOT NULL,
    unpredictable_number TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (token_ref, atc)
);

CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    card_id TEXT NOT NULL,
    token_ref TEXT NOT NULL,
    merchant_key_id TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    merchant_name TEXT,
    channel TEXT NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    atc BIGINT,
    -- verified, invalid, not_checked
    cryptogram_result TEXT NOT NULL,
    -- approved, declined, failed
    status TEXT NOT NULL,
    error_code TEXT,
    decline_code TEXT,
    authorization_code TEXT,
    -- Filled by the wallet-safety work (risk rules, fees).
    risk_score BIGINT,
    risk_reasons TEXT,
    fee BIGINT,
    trace_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX payments_user ON payments(user_id, created_at, id);

-- Every lifecycle change with who made it and why (audit, support, and the
-- reason a user sees).
CREATE TABLE token_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_ref TEXT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT,
    status_after TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX token_events_token ON token_events(token_ref, id);

-- Issuer events, idempotent by (API key, event id).
CREATE TABLE issuer_events (
    key_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    body_hash TEXT NOT NULL,
    -- NULL while being applied; then applied, stale, ignored or no_card
    outcome TEXT,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (key_id, event_id)
);
