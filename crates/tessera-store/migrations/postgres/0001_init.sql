-- Tessera's first schema (PostgreSQL): the same tables as SQLite's 0001.
-- Times are Unix milliseconds (UTC) in BIGINT; integers are BIGINT like
-- SQLite's 64-bit INTEGER, flags are BOOLEAN.
-- No column ever holds a clear PAN, CVC, OTP, password or key.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    phone TEXT NOT NULL UNIQUE,
    real_name TEXT NOT NULL,
    real_name_normalized TEXT NOT NULL,
    -- keyed HMAC of the ID number, and its last 4 characters
    id_number_hash TEXT NOT NULL,
    id_number_last4 TEXT NOT NULL,
    -- Argon2id PHC string (salted, peppered)
    password_hash TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE login_failures (
    phone_hash TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    window_started_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE cards (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    -- binding (reserved while the issuer is asked), pending_verification,
    -- active, verification_failed, verification_expired, unbound
    status TEXT NOT NULL,
    reserved_until BIGINT,
    pan_fingerprint TEXT NOT NULL,
    pan_key_version BIGINT,
    pan_ciphertext BYTEA,
    first6 TEXT NOT NULL,
    last4 TEXT NOT NULL,
    pan_length BIGINT NOT NULL,
    brand TEXT NOT NULL,
    issuer_code TEXT,
    issuer_name_zh TEXT,
    issuer_name_en TEXT,
    card_type TEXT,
    country TEXT,
    expiry_month BIGINT,
    expiry_year BIGINT,
    holder_name TEXT NOT NULL,
    par TEXT NOT NULL,
    bank_phone_masked TEXT,
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    unbound_at BIGINT
);
CREATE INDEX cards_user ON cards(user_id, created_at);
-- One live card per PAN per user: the database, not process memory, keeps a
-- double tap (on any node) from binding one card twice.
CREATE UNIQUE INDEX cards_live_pan ON cards(user_id, pan_fingerprint)
    WHERE status IN ('binding', 'pending_verification', 'active');

CREATE TABLE tokens (
    token_ref TEXT PRIMARY KEY,
    card_id TEXT NOT NULL UNIQUE REFERENCES cards(id),
    token_pan_key_version BIGINT,
    token_pan_ciphertext BYTEA,
    token_first6 TEXT NOT NULL,
    token_last4 TEXT NOT NULL,
    expiry_month BIGINT NOT NULL,
    expiry_year BIGINT NOT NULL,
    -- inactive, active, suspended, deleted
    status TEXT NOT NULL,
    suspenders TEXT NOT NULL DEFAULT '[]',
    requestor_id TEXT NOT NULL,
    device_id TEXT,
    psn BIGINT NOT NULL DEFAULT 0,
    atc_high BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE otp_challenges (
    card_id TEXT PRIMARY KEY REFERENCES cards(id),
    -- keyed HMAC of the code, never the code
    code_hash TEXT NOT NULL,
    sent_to_masked TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    failures BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- The sandbox's simulated phone. Sandbox mode only: the one place an OTP
-- is kept readable, by design.
CREATE TABLE sandbox_sms (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    phone TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX sandbox_sms_phone ON sandbox_sms(phone, id);

CREATE TABLE binding_attempts (
    trace_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    card_id TEXT,
    masked_pan TEXT,
    first6 TEXT,
    last4 TEXT,
    brand TEXT,
    issuer_code TEXT,
    issuer_name TEXT,
    card_type TEXT,
    country TEXT,
    device TEXT,
    outcome TEXT NOT NULL,
    error_code TEXT,
    cause TEXT,
    error_param TEXT,
    error_reason TEXT,
    issuer_response TEXT,
    latency_ms BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX binding_attempts_user ON binding_attempts(user_id, created_at);
CREATE INDEX binding_attempts_time ON binding_attempts(created_at);

CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    -- keyed HMAC of the request body, never the body
    request_fingerprint TEXT NOT NULL,
    state TEXT NOT NULL,
    response_status BIGINT,
    response_body TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (scope, idem_key)
);

CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
