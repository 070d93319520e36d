-- Tessera's schema (SQLite). Times are Unix milliseconds (UTC).
-- No column ever holds a clear PAN, CVC, OTP, password, key, token PAN or
-- cryptogram.

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
    created_at INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE login_failures (
    phone_hash TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_started_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE cards (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    -- pending_verification, active, verification_failed,
    -- verification_expired, unbound, closed. PostgreSQL also has binding
    -- (reserved while the issuer is asked, until reserved_until); here the
    -- writer holds reservations in memory, so no row is binding and
    -- reserved_until stays NULL.
    status TEXT NOT NULL,
    reserved_until INTEGER,
    pan_fingerprint TEXT NOT NULL,
    pan_key_version INTEGER,
    pan_ciphertext BLOB,
    first6 TEXT NOT NULL,
    last4 TEXT NOT NULL,
    pan_length INTEGER NOT NULL,
    brand TEXT NOT NULL,
    issuer_code TEXT,
    issuer_name_zh TEXT,
    issuer_name_en TEXT,
    card_type TEXT,
    country TEXT,
    expiry_month INTEGER,
    expiry_year INTEGER,
    holder_name TEXT NOT NULL,
    par TEXT NOT NULL,
    bank_phone_masked TEXT,
    is_default INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    unbound_at INTEGER,
    -- The occurred_at of the newest issuer event applied to the card: an
    -- older event arriving late never overwrites a newer state.
    issuer_event_at INTEGER
);
-- A binding counts the user's live cards. With the status in the key, each
-- status is a range the count reads from the index alone, rather than every
-- card row of the user, and the wallet's list still finds the user's cards
-- (and sorts them, a few).
CREATE INDEX cards_user ON cards(user_id, status, created_at);
-- A binding's completion checks whether the user already has a default
-- card. This index holds one entry per user (the default) and answers from
-- the key alone; through cards_user the check would read every active card
-- row of the user until it met the default.
CREATE INDEX cards_user_default ON cards(user_id) WHERE status = 'active' AND is_default = 1;
-- One live card per PAN per user: the database, not process memory, keeps a
-- double tap from binding one card twice. Keyed by the fingerprint first,
-- the index serves both of its readers: the binding's duplicate check (the
-- user and the PAN, both given) and an issuer's event by PAN (its live
-- cards, for every user). So no other index holds the fingerprint: each
-- binding would write a random page of it, and it would reach 80 MB at a
-- million cards.
CREATE UNIQUE INDEX cards_live_pan ON cards(pan_fingerprint, user_id)
    WHERE status IN ('binding', 'pending_verification', 'active');
-- An issuer's event by PAR.
CREATE INDEX cards_par ON cards(par);

CREATE TABLE tokens (
    token_ref TEXT PRIMARY KEY,
    card_id TEXT NOT NULL UNIQUE REFERENCES cards(id),
    token_pan_key_version INTEGER,
    token_pan_ciphertext BLOB,
    token_first6 TEXT NOT NULL,
    token_last4 TEXT NOT NULL,
    expiry_month INTEGER NOT NULL,
    expiry_year INTEGER NOT NULL,
    -- inactive, active, suspended, deleted
    status TEXT NOT NULL,
    suspenders TEXT NOT NULL DEFAULT '[]',
    requestor_id TEXT NOT NULL,
    device_id TEXT,
    psn INTEGER NOT NULL DEFAULT 0,
    -- The highest ATC a payment was accepted with.
    atc_high INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    -- Keyed HMAC of the token PAN: a merchant's token PAN finds its token
    -- by it (tokens_pan_fingerprint).
    token_pan_fingerprint TEXT NOT NULL,
    -- The token BIN range and key generation of the IMK-AC the token's
    -- keys come from.
    imk_range TEXT NOT NULL,
    imk_generation INTEGER NOT NULL DEFAULT 1,
    -- The highest ATC handed out (limited-use keys, server cryptograms).
    atc_issued INTEGER NOT NULL DEFAULT 0
);
-- Unique, deleted tokens included, so that two tokens never share a token
-- PAN and a token PAN is never issued twice.
CREATE UNIQUE INDEX tokens_pan_fingerprint ON tokens(token_pan_fingerprint);

CREATE TABLE otp_challenges (
    card_id TEXT PRIMARY KEY REFERENCES cards(id),
    -- keyed HMAC of the code, never the code
    code_hash TEXT NOT NULL,
    sent_to_masked TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

-- The sandbox's simulated phone. Sandbox mode only: the one place an OTP
-- is kept readable, by design.
CREATE TABLE sandbox_sms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    phone TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
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
    latency_ms INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX binding_attempts_user ON binding_attempts(user_id, created_at);
CREATE INDEX binding_attempts_time ON binding_attempts(created_at);
-- Health and the anomaly rule read one issuer's attempts over a window.
CREATE INDEX binding_attempts_issuer ON binding_attempts(issuer_code, created_at);

CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    -- keyed HMAC of the request body, never the body
    request_fingerprint TEXT NOT NULL,
    state TEXT NOT NULL,
    response_status INTEGER,
    response_body TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (scope, idem_key)
);

CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Each ATC pays once per token: the primary key holds across nodes.
CREATE TABLE atc_uses (
    token_ref TEXT NOT NULL REFERENCES tokens(token_ref),
    atc INTEGER NOT NULL,
    payment_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (token_ref, atc)
);

-- Single-use cryptograms the server made for in-app and web payments: what
-- each is bound to (amount, currency, merchant) and until when.
CREATE TABLE cryptograms (
    token_ref TEXT NOT NULL REFERENCES tokens(token_ref),
    atc INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    transaction_date TEXT NOT NULL,
    unpredictable_number TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
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
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    atc INTEGER,
    -- verified, invalid, not_checked
    cryptogram_result TEXT NOT NULL,
    -- approved, declined, failed
    status TEXT NOT NULL,
    error_code TEXT,
    decline_code TEXT,
    authorization_code TEXT,
    -- Filled by the wallet-safety work (risk rules, fees).
    risk_score INTEGER,
    risk_reasons TEXT,
    fee INTEGER,
    trace_id TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX payments_user ON payments(user_id, created_at, id);

-- Every lifecycle change with who made it and why (audit, support, and the
-- reason a user sees).
CREATE TABLE token_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_ref TEXT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT,
    status_after TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX token_events_token ON token_events(token_ref, id);

-- Issuer events, idempotent by (API key, event id).
CREATE TABLE issuer_events (
    key_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    body_hash TEXT NOT NULL,
    -- NULL while being applied; then applied, stale, ignored or no_card
    outcome TEXT,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (key_id, event_id)
);

-- Issuer incidents with their circuit breaker.
CREATE TABLE issuer_incidents (
    id TEXT PRIMARY KEY,
    issuer_code TEXT NOT NULL,
    issuer_name_zh TEXT NOT NULL,
    issuer_name_en TEXT NOT NULL,
    -- failure_rate or latency
    kind TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    resolved_at INTEGER,
    -- The numbers behind the flag, as last evaluated.
    samples INTEGER NOT NULL,
    failure_rate REAL NOT NULL,
    baseline_failure_rate REAL,
    mean_latency_ms INTEGER NOT NULL,
    baseline_latency_ms INTEGER,
    top_code TEXT,
    message_zh TEXT NOT NULL,
    message_en TEXT NOT NULL,
    -- The circuit breaker of an issuer flagged as unavailable: while open,
    -- bindings for its cards are answered at once without asking it; from
    -- retry_at one request at a time (leased until probe_until) may ask it
    -- again, and an answer closes the breaker and resolves the incident.
    breaker_open INTEGER NOT NULL DEFAULT 0,
    retry_at INTEGER,
    probe_until INTEGER
);
-- One open incident per issuer and kind, whichever node raises it first.
CREATE UNIQUE INDEX issuer_incidents_open ON issuer_incidents(issuer_code, kind)
    WHERE resolved_at IS NULL;
CREATE INDEX issuer_incidents_time ON issuer_incidents(opened_at);

-- Nothing here holds a clear PAN: a ticket keeps the attempt's masked
-- details only.
CREATE TABLE support_tickets (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    trace_id TEXT NOT NULL,
    message TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    -- The attempt and its diagnosis when the ticket was opened, as JSON
    -- (masked card data, device details, codes): support never has to ask.
    details TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX support_tickets_time ON support_tickets(created_at);
CREATE INDEX support_tickets_user ON support_tickets(user_id, created_at);
