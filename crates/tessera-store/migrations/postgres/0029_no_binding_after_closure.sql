-- A binding that completes after its account was closed binds nothing.
-- A closure ends the account's live cards under the user's lock; a
-- reservation made before it, or by a request already past its sign-in
-- check, would otherwise complete afterwards into an active card of a
-- closed account. tessera_complete_binding as in 0013, but refusing a
-- closed account; the closure also drops the account's reservations
-- (retention_rows.rs, CLOSE_DELETES).
CREATE OR REPLACE FUNCTION tessera_complete_binding(
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
    -- making their card the default. A card waiting for its SMS code
    -- may run out when the code does. An account closed meanwhile (its
    -- closure holds the same lock) binds nothing: the condition is
    -- checked again on the row as the lock leaves it.
    IF p_otp_code_hash IS NULL THEN
        PERFORM 1 FROM users WHERE id = p_user_id AND status <> 'closed' FOR UPDATE;
    ELSE
        UPDATE users SET live_due = least(live_due, p_otp_expires_at)
            WHERE id = p_user_id AND status <> 'closed';
    END IF;
    IF NOT FOUND THEN
        RETURN FALSE;
    END IF;
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
    -- unbound, becomes the default. Looked for first, through its own
    -- index: a plan of the UPDATE alone may sort all the user's cards
    -- before it finds there is a default already.
    IF NOT EXISTS (SELECT 1 FROM cards WHERE user_id = p_user_id
            AND status = 'active' AND is_default) THEN
        UPDATE cards SET is_default = TRUE
            WHERE id = (SELECT id FROM cards WHERE user_id = p_user_id AND status = 'active'
                    ORDER BY created_at DESC, id COLLATE "C" LIMIT 1)
                AND NOT EXISTS (SELECT 1 FROM cards WHERE user_id = p_user_id
                    AND status = 'active' AND is_default);
    END IF;
    RETURN TRUE;
END;
$$;

