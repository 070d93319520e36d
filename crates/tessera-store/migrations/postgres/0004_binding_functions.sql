-- Binding in one round trip each (PostgreSQL only). Reserving a card and
-- completing its binding each ran a transaction of six to eight statements,
-- every one a round trip between a node and the database; as functions they
-- are one statement each, with the same rules in the same order as before.
--
-- Each statement in a (VOLATILE) PL/pgSQL function takes a fresh snapshot,
-- so once the user's row is locked every later statement sees all that the
-- lock's previous holder committed: the duplicate check and the live count
-- hold across nodes exactly as they did in a client-side transaction.
--
-- Nodes call these by name with these arguments: a change of behaviour is a
-- new function (say tessera_reserve_card_v2) in a new migration, never a
-- CREATE OR REPLACE, so nodes of the previous release keep the function they
-- were built against during a rolling upgrade.

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
