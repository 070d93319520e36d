-- Accounts closed by their owner (DELETE /v1/me) or by an operator, with
-- who closed it and why. A closed account keeps only masked records
-- (payments, transfers, binding attempts); they are purged, and the user
-- row scrubbed, once retention.closed_account_days have passed
-- (purged_at set then).
CREATE TABLE account_closures (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    -- 'self' or 'operator'
    closed_by TEXT NOT NULL,
    -- the operator's API key id; NULL when the person closed it
    key_id TEXT,
    reason TEXT,
    closed_at BIGINT NOT NULL,
    purged_at BIGINT
);
CREATE INDEX account_closures_closed ON account_closures (closed_at);
-- The background purges find old sessions and text-message codes by expiry.
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sms_codes_expires ON sms_codes (expires_at);
