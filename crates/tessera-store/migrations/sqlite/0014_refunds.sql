-- Refunds of payments, partial or whole. A refund is written `pending`
-- before the issuer is asked and settled after (accepted, declined or
-- failed), so that a crash between leaves a record. Pending and accepted
-- refunds count against what the payment may still give back; the single
-- writer runs the check and the insert as one job. The reason is free
-- text, stored with card numbers masked.
CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL REFERENCES payments(id),
    merchant_key_id TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    reason TEXT,
    -- pending, accepted, declined, failed
    status TEXT NOT NULL,
    decline_code TEXT,
    -- The bank's id of the refund, once accepted.
    reference TEXT,
    trace_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX refunds_payment ON refunds(payment_id, created_at, id);
