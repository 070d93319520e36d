-- A wallet's live cards counted in the user's row, so that a binding's
-- reservation no longer reads every live card its owner has: the cost of
-- a binding stays the same however many cards the wallet holds.
--
-- users.live_cards is the number of the user's live cards ('binding',
-- 'pending_verification', 'active'), or more: it is raised by every
-- reservation and lowered where a card leaves the wallet under its
-- owner's lock (unbinding, closing, a failed or expired SMS code), but
-- not when a failed binding releases its reservation, which runs without
-- that lock. NULL means not counted yet (every user before this
-- migration, and every new one). users.live_due is the earliest time at
-- which one of those cards may run out: a reservation's end, a pending
-- card's SMS code's expiry; earlier is allowed, later never.
--
-- A reservation counts the cards themselves, as before, only when the
-- count is unknown, says the wallet is full, or something may have run
-- out; it then stores the exact count and the next due time. A count too
-- high can thus refuse nothing: at the limit the cards are counted again.
ALTER TABLE users ADD COLUMN live_cards BIGINT, ADD COLUMN live_due BIGINT;

-- tessera_reserve_card_v2 as in 0012, but counting the cards only when
-- the user's row cannot tell.
CREATE OR REPLACE FUNCTION tessera_reserve_card_v2(
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
DECLARE
    counted BIGINT;
    due BIGINT;
    counted_again BOOLEAN;
    stale BIGINT;
    expired TEXT[];
    taken TEXT[];
    reserved BIGINT;
BEGIN
    r_refused := 0;
    -- Every reservation of this user, on any node, waits here: the count
    -- and the duplicate check below see all earlier ones. The row takes
    -- this reservation's slot and due time at once, given back below if
    -- nothing is reserved. (The due time read back is this reservation's
    -- end or earlier: it is past only if the stored one was.)
    UPDATE users SET live_cards = live_cards + 1, live_due = least(live_due, p_reserved_until)
        WHERE id = p_user_id
        RETURNING live_cards, live_due INTO counted, due;
    counted_again := counted IS NULL OR counted > p_limit OR due <= p_now;
    IF NOT counted_again THEN
        r_live_cards := counted - 1;
    ELSE
        -- One look at the user's live cards: how many, how many
        -- reservations a crashed node left behind (they free their slot
        -- after a while), which pending cards' SMS code has run out, and
        -- when the next of the others will.
        -- (The challenge is looked up for pending cards only: a join
        -- would probe it for every card.)
        SELECT count(*),
                count(*) FILTER (WHERE c.status = 'binding' AND c.reserved_until < p_now),
                array_agg(c.id) FILTER (WHERE c.status = 'pending_verification'
                    AND EXISTS (SELECT 1 FROM otp_challenges o
                        WHERE o.card_id = c.id AND o.expires_at <= p_now)),
                least(min(c.reserved_until) FILTER (WHERE c.status = 'binding'
                        AND c.reserved_until >= p_now),
                    min((SELECT o.expires_at FROM otp_challenges o
                        WHERE o.card_id = c.id AND o.expires_at > p_now))
                        FILTER (WHERE c.status = 'pending_verification'))
            INTO r_live_cards, stale, expired, due
            FROM cards c
            WHERE c.user_id = p_user_id AND c.live;
        -- Only when something ran out: stale reservations go, and
        -- expired pending cards leave the live set, their token and
        -- ciphertexts destroyed and their challenge dropped.
        IF stale > 0 THEN
            DELETE FROM cards
                WHERE user_id = p_user_id AND status = 'binding' AND reserved_until < p_now;
        END IF;
        IF expired IS NOT NULL THEN
            UPDATE cards SET status = 'verification_expired', pan_ciphertext = NULL,
                    pan_key_version = NULL, updated_at = p_now
                WHERE id = ANY (expired);
            UPDATE tokens SET status = 'deleted', token_pan_ciphertext = NULL,
                    updated_at = p_now
                WHERE card_id = ANY (expired);
            DELETE FROM otp_challenges WHERE card_id = ANY (expired);
        END IF;
        r_live_cards := r_live_cards - stale - coalesce(cardinality(expired), 0);
    END IF;
    SELECT c.id, c.status INTO r_card_id, r_status
        FROM cards c
        WHERE c.user_id = p_user_id AND c.pan_fingerprint = p_pan_fingerprint AND c.live;
    IF FOUND THEN
        r_outcome := CASE WHEN r_status = 'binding' THEN 'in_progress' ELSE 'already_bound' END;
    ELSIF r_live_cards >= p_limit THEN
        r_outcome := 'limit_reached';
    END IF;
    IF r_outcome IS NOT NULL THEN
        UPDATE users SET live_cards = r_live_cards,
                live_due = CASE WHEN counted_again THEN due ELSE live_due END
            WHERE id = p_user_id;
        RETURN;
    END IF;
    -- The attempt limits and the reservation in one statement: a hit in
    -- every bucket that is not full (the same statement as in
    -- tessera_claim_limits above), and the card only when every bucket
    -- took one. A limit of 0 takes nothing.
    WITH hit AS (
        INSERT INTO limit_buckets AS w (bucket, hits)
            SELECT DISTINCT b, ARRAY[p_now] FROM unnest(p_buckets) AS b
                WHERE NOT 0 >= ANY (p_bucket_limits)
                ORDER BY b
        ON CONFLICT (bucket) DO UPDATE
            SET hits = (CASE WHEN p_now >= w.hits[1] OR w.hits[1] IS NULL
                THEN array_prepend(p_now, w.hits)
                ELSE ARRAY(SELECT t FROM unnest(array_prepend(p_now, w.hits)) AS t
                    ORDER BY t DESC)
                END)[:least(p_bucket_limits[array_position(p_buckets, w.bucket)], 32)]
            WHERE coalesce(w.hits[p_bucket_limits[array_position(p_buckets, w.bucket)]]
                <= p_window_start, TRUE)
        RETURNING w.bucket
    ), card AS (
        INSERT INTO cards (id, user_id, status, reserved_until, pan_fingerprint, first6, last4,
                pan_length, brand, issuer_code, issuer_name_zh, issuer_name_en, card_type,
                country, expiry_month, expiry_year, holder_name, par, bank_phone_masked,
                created_at, updated_at)
            SELECT p_id, p_user_id, 'binding', p_reserved_until, p_pan_fingerprint, p_first6,
                p_last4, p_pan_length, p_brand, p_issuer_code, p_issuer_name_zh,
                p_issuer_name_en, p_card_type, p_country, p_expiry_month, p_expiry_year,
                p_holder_name, p_par, p_bank_phone_masked, p_created_at, p_created_at
            WHERE (SELECT count(*) FROM hit)
                = (SELECT count(DISTINCT b) FROM unnest(p_buckets) AS b)
        RETURNING id
    )
    SELECT (SELECT coalesce(array_agg(bucket), '{}') FROM hit), (SELECT count(*) FROM card)
        INTO taken, reserved;
    IF reserved = 1 THEN
        r_outcome := 'reserved';
        IF counted_again THEN
            UPDATE users SET live_cards = r_live_cards + 1,
                    live_due = least(due, p_reserved_until)
                WHERE id = p_user_id;
        END IF;
        RETURN;
    END IF;
    UPDATE users SET live_cards = r_live_cards,
            live_due = CASE WHEN counted_again THEN due ELSE live_due END
        WHERE id = p_user_id;
    SELECT f.r_refused, f.r_free_at INTO r_refused, r_free_at
        FROM tessera_limits_refused(p_buckets, p_bucket_limits, p_window_start, p_now, taken)
            AS f;
    IF r_refused = 0 THEN
        RAISE EXCEPTION 'tessera_reserve_card_v2: % took no hit and found no full bucket',
            p_buckets;
    END IF;
    r_outcome := 'limits_refused';
END;
$$;

-- tessera_complete_binding as in 0012, but a pending card's due time is
-- kept.
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
    -- may run out when the code does.
    IF p_otp_code_hash IS NULL THEN
        PERFORM 1 FROM users WHERE id = p_user_id FOR UPDATE;
    ELSE
        UPDATE users SET live_due = least(live_due, p_otp_expires_at) WHERE id = p_user_id;
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

