-- Transfers from a card bound in the wallet to a bank card. A transfer is
-- written `pending` before the destination's bank is asked and settled
-- after (settled, declined or failed), so that a crash between leaves a
-- record. The destination number is kept masked (first six, last four)
-- and as a keyed fingerprint; sealed under the key ring only while the
-- transfer is pending, and erased (ciphertext dropped) when it settles.
CREATE TABLE transfers (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    card_id TEXT NOT NULL REFERENCES cards(id),
    to_masked TEXT NOT NULL,
    to_fingerprint TEXT NOT NULL,
    to_issuer_code TEXT,
    to_holder_name TEXT NOT NULL,
    to_key_version BIGINT,
    to_ciphertext BYTEA,
    amount BIGINT NOT NULL CHECK (amount > 0),
    fee BIGINT NOT NULL CHECK (fee >= 0),
    currency TEXT NOT NULL,
    -- transfer_same_bank or transfer_cross_bank, and the channel, as the
    -- fee schedule named them
    fee_operation TEXT NOT NULL,
    channel TEXT NOT NULL,
    -- pending, settled, declined, failed
    status TEXT NOT NULL,
    decline_code TEXT,
    -- The bank's id of the credit, once settled.
    reference TEXT,
    trace_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (status = 'pending' OR to_ciphertext IS NULL)
);
CREATE INDEX transfers_user ON transfers (user_id, created_at, id);
