-- A binding's reservation and its attempt limits in one round trip and one
-- transaction: tessera_reserve_card (0001), then, only when it reserved,
-- tessera_claim_limits (0005). A refused claim takes the reservation back
-- before the transaction ends, so nobody ever sees it. r_outcome is
-- tessera_reserve_card's, or 'limits_refused' with r_refused and r_free_at
-- as tessera_claim_limits answers them; r_refused is 0 otherwise.
CREATE FUNCTION tessera_reserve_card_v2(
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
    p_buckets TEXT[],
    p_bucket_limits BIGINT[],
    p_window_start BIGINT,
    OUT r_outcome TEXT,
    OUT r_card_id TEXT,
    OUT r_status TEXT,
    OUT r_live_cards BIGINT,
    OUT r_refused INT,
    OUT r_free_at BIGINT
)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    SELECT r.r_outcome, r.r_card_id, r.r_status, r.r_live_cards
        INTO r_outcome, r_card_id, r_status, r_live_cards
        FROM tessera_reserve_card(p_id, p_user_id, p_reserved_until, p_pan_fingerprint,
            p_first6, p_last4, p_pan_length, p_brand, p_issuer_code, p_issuer_name_zh,
            p_issuer_name_en, p_card_type, p_country, p_expiry_month, p_expiry_year,
            p_holder_name, p_par, p_bank_phone_masked, p_created_at, p_limit, p_now) r;
    r_refused := 0;
    IF r_outcome <> 'reserved' OR coalesce(cardinality(p_buckets), 0) = 0 THEN
        RETURN;
    END IF;
    SELECT c.r_refused, c.r_free_at INTO r_refused, r_free_at
        FROM tessera_claim_limits(p_buckets, p_bucket_limits, p_window_start, p_now) c;
    IF r_refused > 0 THEN
        DELETE FROM cards WHERE id = p_id AND status = 'binding';
        r_outcome := 'limits_refused';
    END IF;
END;
$$;
