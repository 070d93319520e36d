-- Tessera's schema (PostgreSQL): the same tables as SQLite's.
-- Times are Unix milliseconds (UTC) in BIGINT; integers are BIGINT like
-- SQLite's 64-bit INTEGER, flags are BOOLEAN.
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
    -- binding (reserved while the issuer is asked, until reserved_until),
    -- pending_verification, active, verification_failed,
    -- verification_expired, unbound, closed
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
    unbound_at BIGINT,
    -- The occurred_at of the newest issuer event applied to the card: an
    -- older event arriving late never overwrites a newer state.
    issuer_event_at BIGINT
);
CREATE INDEX cards_user ON cards(user_id, created_at);
-- One live card per PAN per user: the database, not process memory, keeps a
-- double tap (on any node) from binding one card twice.
CREATE UNIQUE INDEX cards_live_pan ON cards(user_id, pan_fingerprint)
    WHERE status IN ('binding', 'pending_verification', 'active');
-- A binding's completion checks whether the user already has a default
-- card (tessera_complete_binding). This index holds one entry per user (the
-- default); through cards_live_pan the check would fetch every live card
-- row of the user until it met the default. The planner picks it for the
-- function's statement by itself.
CREATE INDEX cards_user_default ON cards(user_id) WHERE is_default AND status = 'active';
-- An issuer's event by PAR, or by PAN (its cards, for every user).
CREATE INDEX cards_par ON cards(par);
CREATE INDEX cards_fingerprint ON cards(pan_fingerprint);

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
    -- The highest ATC a payment was accepted with.
    atc_high BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    -- Keyed HMAC of the token PAN: a merchant's token PAN finds its token
    -- by it (tokens_pan_fingerprint).
    token_pan_fingerprint TEXT NOT NULL,
    -- The token BIN range and key generation of the IMK-AC the token's
    -- keys come from.
    imk_range TEXT NOT NULL,
    imk_generation BIGINT NOT NULL DEFAULT 1,
    -- The highest ATC handed out (limited-use keys, server cryptograms).
    atc_issued BIGINT NOT NULL DEFAULT 0
);
-- Unique, deleted tokens included, so that two tokens never share a token
-- PAN and a token PAN is never issued twice.
CREATE UNIQUE INDEX tokens_pan_fingerprint ON tokens(token_pan_fingerprint);

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
-- Health and the anomaly rule read one issuer's attempts over a window.
CREATE INDEX binding_attempts_issuer ON binding_attempts(issuer_code, created_at);

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

-- Issuer incidents with their circuit breaker.
CREATE TABLE issuer_incidents (
    id TEXT PRIMARY KEY,
    issuer_code TEXT NOT NULL,
    issuer_name_zh TEXT NOT NULL,
    issuer_name_en TEXT NOT NULL,
    -- failure_rate or latency
    kind TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    resolved_at BIGINT,
    -- The numbers behind the flag, as last evaluated.
    samples BIGINT NOT NULL,
    failure_rate DOUBLE PRECISION NOT NULL,
    baseline_failure_rate DOUBLE PRECISION,
    mean_latency_ms BIGINT NOT NULL,
    baseline_latency_ms BIGINT,
    top_code TEXT,
    message_zh TEXT NOT NULL,
    message_en TEXT NOT NULL,
    -- The circuit breaker of an issuer flagged as unavailable: while open,
    -- bindings for its cards are answered at once without asking it; from
    -- retry_at one request at a time (leased until probe_until) may ask it
    -- again, and an answer closes the breaker and resolves the incident.
    breaker_open BOOLEAN NOT NULL DEFAULT FALSE,
    retry_at BIGINT,
    probe_until BIGINT
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
    created_at BIGINT NOT NULL
);
CREATE INDEX support_tickets_time ON support_tickets(created_at);
CREATE INDEX support_tickets_user ON support_tickets(user_id, created_at);

-- Binding in one round trip each: reserving a card and completing its
-- binding are functions, one statement each, where a transaction run from
-- a node would be six to eight statements, each a round trip between the
-- node and the database.
--
-- Each statement in a (VOLATILE) PL/pgSQL function takes a fresh snapshot,
-- so once the user's row is locked every later statement sees all that the
-- lock's previous holder committed: the duplicate check and the live count
-- hold across nodes as they would in a client-side transaction.
--
-- Nodes call each function here by name with its arguments: a change of
-- behaviour is a new function (say tessera_reserve_card_v2) in a new
-- migration, never a CREATE OR REPLACE, so nodes of the previous release
-- keep the function they were built against during a rolling upgrade.

-- The outcome is 'reserved', 'in_progress' (r_card_id is the reservation
-- already held for this PAN), 'already_bound' (r_card_id and r_status: the
-- live card with this PAN) or 'limit_reached' (r_live_cards).
CREATE FUNCTION tessera_reserve_card(
    p_id TEXT,
    p_user_id TEXT,
    p_reserved_until BIGINT,
    p_pan_fingerprint TEXT,
    p_first6 TEXT,
    p_last4 TEXT,
    p_pan_length BIGINT,
    p_brand TEXT,
    p_issuer_code TEXT,
    p_issuer_name_zh TEXT,
    p_issuer_name_en TEXT,
    p_card_type TEXT,
    p_country TEXT,
    p_expiry_month BIGINT,
    p_expiry_year BIGINT,
    p_holder_name TEXT,
    p_par TEXT,
    p_bank_phone_masked TEXT,
    p_created_at BIGINT,
    p_limit BIGINT,
    p_now BIGINT,
    OUT r_outcome TEXT,
    OUT r_card_id TEXT,
    OUT r_status TEXT,
    OUT r_live_cards BIGINT
)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    stale BIGINT;
    expired TEXT[];
BEGIN
    -- Every reservation of this user, on any node, waits here: the count
    -- and the duplicate check below see all earlier ones.
    PERFORM 1 FROM users WHERE id = p_user_id FOR UPDATE;
    -- One look at the user's live cards: how many, how many reservations
    -- a crashed node left behind (they free their slot after a while), and
    -- which pending cards' SMS code has run out.
    -- (The challenge is looked up for pending cards only: a join would
    -- probe it for every card.)
    SELECT count(*),
            count(*) FILTER (WHERE c.status = 'binding' AND c.reserved_until < p_now),
            array_agg(c.id) FILTER (WHERE c.status = 'pending_verification'
                AND EXISTS (SELECT 1 FROM otp_challenges o
                    WHERE o.card_id = c.id AND o.expires_at <= p_now))
        INTO r_live_cards, stale, expired
        FROM cards c
        WHERE c.user_id = p_user_id
            AND c.status IN ('binding', 'pending_verification', 'active');
    -- Only when something ran out: stale reservations go, and expired
    -- pending cards leave the live set, their token and ciphertexts
    -- destroyed and their challenge dropped.
    IF stale > 0 THEN
        DELETE FROM cards
            WHERE user_id = p_user_id AND status = 'binding' AND reserved_until < p_now;
    END IF;
    IF expired IS NOT NULL THEN
        UPDATE cards SET status = 'verification_expired', pan_ciphertext = NULL,
                pan_key_version = NULL, updated_at = p_now
            WHERE id = ANY (expired);
        UPDATE tokens SET status = 'deleted', token_pan_ciphertext = NULL, updated_at = p_now
            WHERE card_id = ANY (expired);
        DELETE FROM otp_challenges WHERE card_id = ANY (expired);
    END IF;
    r_live_cards := r_live_cards - stale - coalesce(cardinality(expired), 0);
    SELECT c.id, c.status INTO r_card_id, r_status
        FROM cards c
        WHERE c.user_id = p_user_id AND c.pan_fingerprint = p_pan_fingerprint
            AND c.status IN ('binding', 'pending_verification', 'active');
    IF FOUND THEN
        r_outcome := CASE WHEN r_status = 'binding' THEN 'in_progress' ELSE 'already_bound' END;
        RETURN;
    END IF;
    IF r_live_cards >= p_limit THEN
        r_outcome := 'limit_reached';
        RETURN;
    END IF;
    INSERT INTO cards (id, user_id, status, reserved_until, pan_fingerprint, first6, last4,
            pan_length, brand, issuer_code, issuer_name_zh, issuer_name_en, card_type,
            country, expiry_month, expiry_year, holder_name, par, bank_phone_masked,
            created_at, updated_at)
        VALUES (p_id, p_user_id, 'binding', p_reserved_until, p_pan_fingerprint, p_first6,
            p_last4, p_pan_length, p_brand, p_issuer_code, p_issuer_name_zh,
            p_issuer_name_en, p_card_type, p_country, p_expiry_month, p_expiry_year,
            p_holder_name, p_par, p_bank_phone_masked, p_created_at, p_created_at);
    r_outcome := 'reserved';
END;
$$;

-- False when the card is no longer reserved (released, or freed as stale);
-- a token PAN drawn before fails on tokens_pan_fingerprint, and the whole
-- statement with it. The OTP arguments are all NULL when no code was sent.
CREATE FUNCTION tessera_complete_binding(
    p_card_id TEXT,
    p_user_id TEXT,
    p_status TEXT,
    p_pan_key_version BIGINT,
    p_pan_ciphertext BYTEA,
    p_now BIGINT,
    p_token_ref TEXT,
    p_token_pan_key_version BIGINT,
    p_token_pan_ciphertext BYTEA,
    p_token_first6 TEXT,
    p_token_last4 TEXT,
    p_token_expiry_month BIGINT,
    p_token_expiry_year BIGINT,
    p_token_status TEXT,
    p_requestor_id TEXT,
    p_device_id TEXT,
    p_token_pan_fingerprint TEXT,
    p_psn BIGINT,
    p_imk_range TEXT,
    p_imk_generation BIGINT,
    p_otp_code_hash TEXT,
    p_otp_sent_to_masked TEXT,
    p_otp_expires_at BIGINT
)
RETURNS BOOLEAN
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    -- The user's lock keeps two completions (on two nodes) from both
    -- making their card the default.
    PERFORM 1 FROM users WHERE id = p_user_id FOR UPDATE;
    UPDATE cards SET status = p_status, pan_key_version = p_pan_key_version,
            pan_ciphertext = p_pan_ciphertext, reserved_until = NULL, updated_at = p_now
        WHERE id = p_card_id AND status = 'binding';
    IF NOT FOUND THEN
        RETURN FALSE;
    END IF;
    INSERT INTO tokens (token_ref, card_id, token_pan_key_version, token_pan_ciphertext,
            token_first6, token_last4, expiry_month, expiry_year, status, requestor_id,
            device_id, created_at, updated_at, token_pan_fingerprint, psn, imk_range,
            imk_generation)
        VALUES (p_token_ref, p_card_id, p_token_pan_key_version, p_token_pan_ciphertext,
            p_token_first6, p_token_last4, p_token_expiry_month, p_token_expiry_year,
            p_token_status, p_requestor_id, p_device_id, p_now, p_now,
            p_token_pan_fingerprint, p_psn, p_imk_range, p_imk_generation);
    IF p_otp_code_hash IS NOT NULL THEN
        INSERT INTO otp_challenges (card_id, code_hash, sent_to_masked, expires_at, created_at)
            VALUES (p_card_id, p_otp_code_hash, p_otp_sent_to_masked, p_otp_expires_at, p_now);
    END IF;
    -- The user's first active card, or the first after the default was
    -- unbound, becomes the default.
    UPDATE cards SET is_default = TRUE
        WHERE id = (SELECT id FROM cards WHERE user_id = p_user_id AND status = 'active'
                ORDER BY created_at DESC, id COLLATE "C" LIMIT 1)
            AND NOT EXISTS (SELECT 1 FROM cards WHERE user_id = p_user_id
                AND status = 'active' AND is_default);
    RETURN TRUE;
END;
$$;

-- A completed binding, its attempt record and the card as it now reads, in
-- one round trip and one transaction: one WAL flush, where three
-- statements, two of them transactions, would wait for two.

-- A card with its token and its OTP challenge, as the wallet reads it: the
-- columns of CARD_COLUMNS in rows.rs, with the same names, so that
-- one row decoder reads both.
CREATE VIEW wallet_cards AS
SELECT c.id, c.user_id, c.status, c.pan_fingerprint, c.first6, c.last4,
    c.pan_length, c.brand, c.issuer_code, c.issuer_name_zh, c.issuer_name_en, c.card_type,
    c.country, c.expiry_month, c.expiry_year, c.holder_name, c.par, c.is_default, c.created_at,
    c.updated_at, c.pan_ciphertext IS NOT NULL AS has_pan,
    t.token_ref, t.token_first6, t.token_last4, t.expiry_month AS t_expiry_month,
    t.expiry_year AS t_expiry_year, t.status AS t_status, t.suspenders, t.requestor_id,
    t.device_id, t.created_at AS t_created_at, t.psn, t.atc_high, t.atc_issued, t.imk_range,
    t.imk_generation, o.sent_to_masked, o.expires_at AS otp_expires_at
FROM cards c LEFT JOIN tokens t ON t.card_id = c.id
LEFT JOIN otp_challenges o ON o.card_id = c.id;

-- tessera_complete_binding's arguments, then the attempt's. No row when
-- the card is no longer reserved: nothing is written then, the attempt
-- neither. Otherwise the completed card, read after the writes (each
-- statement of a VOLATILE function takes a fresh snapshot; a query around
-- the call would read the card as it was before it).
CREATE FUNCTION tessera_complete_binding_recorded(
    p_card_id TEXT,
    p_user_id TEXT,
    p_status TEXT,
    p_pan_key_version BIGINT,
    p_pan_ciphertext BYTEA,
    p_now BIGINT,
    p_token_ref TEXT,
    p_token_pan_key_version BIGINT,
    p_token_pan_ciphertext BYTEA,
    p_token_first6 TEXT,
    p_token_last4 TEXT,
    p_token_expiry_month BIGINT,
    p_token_expiry_year BIGINT,
    p_token_status TEXT,
    p_requestor_id TEXT,
    p_device_id TEXT,
    p_token_pan_fingerprint TEXT,
    p_psn BIGINT,
    p_imk_range TEXT,
    p_imk_generation BIGINT,
    p_otp_code_hash TEXT,
    p_otp_sent_to_masked TEXT,
    p_otp_expires_at BIGINT,
    a_trace_id TEXT,
    a_user_id TEXT,
    a_card_id TEXT,
    a_masked_pan TEXT,
    a_first6 TEXT,
    a_last4 TEXT,
    a_brand TEXT,
    a_issuer_code TEXT,
    a_issuer_name TEXT,
    a_card_type TEXT,
    a_country TEXT,
    a_device TEXT,
    a_outcome TEXT,
    a_error_code TEXT,
    a_cause TEXT,
    a_error_param TEXT,
    a_error_reason TEXT,
    a_issuer_response TEXT,
    a_latency_ms BIGINT,
    a_created_at BIGINT
)
RETURNS SETOF wallet_cards
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF NOT tessera_complete_binding(p_card_id, p_user_id, p_status, p_pan_key_version,
            p_pan_ciphertext, p_now, p_token_ref, p_token_pan_key_version,
            p_token_pan_ciphertext, p_token_first6, p_token_last4, p_token_expiry_month,
            p_token_expiry_year, p_token_status, p_requestor_id, p_device_id,
            p_token_pan_fingerprint, p_psn, p_imk_range, p_imk_generation, p_otp_code_hash,
            p_otp_sent_to_masked, p_otp_expires_at) THEN
        RETURN;
    END IF;
    -- The record must never undo the binding (Store::complete_binding_recorded):
    -- a failed insert rolls back to here, and the warning reaches the
    -- server's log and the node's (sqlx logs notices) with the trace id.
    BEGIN
        INSERT INTO binding_attempts (trace_id, user_id, card_id, masked_pan, first6, last4,
                brand, issuer_code, issuer_name, card_type, country, device, outcome,
                error_code, cause, error_param, error_reason, issuer_response, latency_ms,
                created_at)
            VALUES (a_trace_id, a_user_id, a_card_id, a_masked_pan, a_first6, a_last4,
                a_brand, a_issuer_code, a_issuer_name, a_card_type, a_country, a_device,
                a_outcome, a_error_code, a_cause, a_error_param, a_error_reason,
                a_issuer_response, a_latency_ms, a_created_at)
            ON CONFLICT (trace_id) DO NOTHING;
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'could not record the binding attempt %: % (%)',
            a_trace_id, SQLERRM, SQLSTATE;
    END;
    RETURN QUERY SELECT * FROM wallet_cards w WHERE w.id = p_card_id;
END;
$$;
