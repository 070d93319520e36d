-- The trace id is always the server's; a client's own request id, when it
-- sent a valid one, is kept beside it for support.
ALTER TABLE binding_attempts ADD COLUMN client_request_id TEXT;
-- Support looks an attempt up by the id an app developer reports.
CREATE INDEX binding_attempts_client_request ON binding_attempts(client_request_id)
    WHERE client_request_id IS NOT NULL;

-- The completion that records its attempt takes the new column as its last
-- argument.
DROP FUNCTION tessera_complete_binding_recorded;
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
    a_created_at BIGINT,
    a_client_request_id TEXT
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
                created_at, client_request_id)
            VALUES (a_trace_id, a_user_id, a_card_id, a_masked_pan, a_first6, a_last4,
                a_brand, a_issuer_code, a_issuer_name, a_card_type, a_country, a_device,
                a_outcome, a_error_code, a_cause, a_error_param, a_error_reason,
                a_issuer_response, a_latency_ms, a_created_at, a_client_request_id)
            ON CONFLICT (trace_id) DO NOTHING;
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'could not record the binding attempt %: % (%)',
            a_trace_id, SQLERRM, SQLSTATE;
    END;
    RETURN QUERY SELECT * FROM wallet_cards w WHERE w.id = p_card_id;
END;
$$;
