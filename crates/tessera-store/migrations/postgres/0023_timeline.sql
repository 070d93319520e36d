-- A person's timeline (support): every source is read newest first
-- through an index on (user, time), so that a page reads at most its
-- length from each.

-- Sign-ins, failed sign-ins, lockouts, and wallet freezes and unfreezes,
-- as they happen. Never a password or anything derived from one: the
-- detail is the device's user agent (cut at 200 characters) or, for a
-- lockout, when it lifts.
CREATE TABLE account_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    -- sign_in, sign_in_failed, sign_in_locked, wallet_frozen, wallet_unfrozen
    kind TEXT NOT NULL,
    trace_id TEXT,
    detail TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX account_events_user ON account_events (user_id, created_at);
-- A wallet frozen before this table existed shows its freeze.
INSERT INTO account_events (user_id, kind, created_at)
    SELECT id, 'wallet_frozen', frozen_at FROM users WHERE frozen_at IS NOT NULL;

-- A token's events and a payment's refunds name the person, so that the
-- timeline reads them by person without joining every card.
ALTER TABLE token_events ADD COLUMN user_id TEXT;
UPDATE token_events e SET user_id = c.user_id
    FROM tokens t JOIN cards c ON c.id = t.card_id
    WHERE t.token_ref = e.token_ref;
CREATE INDEX token_events_user ON token_events (user_id, created_at);

ALTER TABLE refunds ADD COLUMN user_id TEXT;
UPDATE refunds r SET user_id = p.user_id FROM payments p WHERE p.id = r.payment_id;
CREATE INDEX refunds_user ON refunds (user_id, created_at);

-- Unbound cards, by when.
CREATE INDEX cards_user_unbound ON cards (user_id, unbound_at) WHERE unbound_at IS NOT NULL;
