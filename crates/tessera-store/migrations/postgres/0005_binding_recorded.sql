-- A completed binding, its attempt record and the card as it now reads, in
-- one round trip and one transaction (PostgreSQL only). They were three
-- statements, and two of them transactions, each waiting for its own WAL
-- flush; together they wait for one.
--
-- As in migration 4, nodes call the function by name with these arguments:
-- a change of behaviour is a new function in a new migration.

-- A card with its token and its OTP challenge, as the wallet reads it: the
-- columns of CARD_COLUMNS in postgres/mod.rs, with the same names, so that
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
