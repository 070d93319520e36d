-- A person's no-confirmation limits (小额免密), in minor units of CNY: a
-- payment at most `per_payment`, and at most `per_day` a day in all, goes
-- through without the person confirming it. No row: the wallet's defaults.
-- 0 turns a limit off (every payment is confirmed).
CREATE TABLE consent_limits (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    per_payment BIGINT NOT NULL CHECK (per_payment >= 0),
    per_day BIGINT NOT NULL CHECK (per_day >= 0),
    updated_at BIGINT NOT NULL
);

-- How the person consented to a payment: `none` (within the limits),
-- `payment_password`, `sms_code` (a confirmation), or `device` (the phone's
-- own check, reported in the cryptogram's issuer application data). The
-- day's unconfirmed total is summed over `none` rows.
ALTER TABLE payments ADD COLUMN consent TEXT;
CREATE INDEX payments_user_unconfirmed ON payments (user_id, created_at) WHERE consent = 'none';
-- The person's latest payments as the risk rules read them, from the index
-- alone: a handful of index pages instead of a table page per payment
-- (payments of many people interleave in the table). It replaces the
-- listing's index, whose columns lead it.
DROP INDEX payments_user;
CREATE INDEX payments_user ON payments (user_id, created_at, id, token_ref, status, amount);
-- The confirmation a single-use cryptogram was made with, if any: the
-- payment it pays carries it.
ALTER TABLE cryptograms ADD COLUMN consent TEXT;

-- The person froze the wallet at this time (NULL: not frozen); when they
-- last reset a password (a risk reason for the payments right after).
ALTER TABLE users ADD COLUMN frozen_at BIGINT, ADD COLUMN credentials_reset_at BIGINT;

-- "This payment was not me": one report per payment, with the ticket
-- support answers it on. Tickets can now point at a payment.
CREATE TABLE payment_reports (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL UNIQUE REFERENCES payments(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    token_ref TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    trace_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX payment_reports_user ON payment_reports (user_id, created_at);
ALTER TABLE support_tickets ADD COLUMN payment_id TEXT, ADD COLUMN kind TEXT;

-- Passkeys (WebAuthn): a fingerprint or face on one of the person's
-- devices, kept as the public-key credential webauthn-rs stores (JSON: the
-- public key, its counter; no secret). Its id is the authenticator's.
CREATE TABLE passkeys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    credential_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    credential TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX passkeys_user ON passkeys (user_id, created_at);

-- A WebAuthn ceremony between its two requests (registration or
-- authentication): its state as webauthn-rs serialises it, so that any
-- node can finish it; taken once, by one UPDATE ... WHERE used_at IS NULL,
-- before it expires.
CREATE TABLE webauthn_challenges (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX webauthn_challenges_expiry ON webauthn_challenges (expires_at);
