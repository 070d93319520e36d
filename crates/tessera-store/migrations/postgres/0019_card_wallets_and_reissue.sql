-- One card in at most so many wallets, and a mark on a card its bank has
-- replaced.
--
-- tessera_reserve_card_v3 is tessera_reserve_card_v2 as in 0013, plus the
-- wallets a card may be in: after the duplicate check and the user's card
-- limit, it counts the live cards of the same PAN fingerprint in other
-- wallets (stale reservations and pending cards whose SMS code ran out
-- do not count), under an advisory lock on the fingerprint, and refuses
-- with 'wallets_full' and the count (r_wallets) when there are
-- p_wallets_per_card of them already. v2 stays, for nodes not yet
-- upgraded.
--
-- cards.reissued_at: when the bank answered a payment that the card was
-- replaced (换卡). The old number no longer pays: later payments with its
-- token are refused without asking the bank. wallet_cards, which a
-- completion reads the card back through, gains the column at its end.
ALTER TABLE cards ADD COLUMN reissued_at BIGINT;

CREATE OR REPLACE VIEW wallet_cards AS
SELECT c.id, c.user_id, c.status, c.pan_fingerprint, c.first6, c.last4,
    c.pan_length, c.brand, c.issuer_code, c.issuer_name_zh, c.issuer_name_en, c.card_type,
    c.country, c.expiry_month, c.expiry_year, c.holder_name, c.par, c.is_default, c.created_at,
    c.updated_at, c.pan_ciphertext IS NOT NULL AS has_pan,
    t.token_ref, t.token_first6, t.token_last4, t.expiry_month AS t_expiry_month,
    t.expiry_year AS t_expiry_year, t.status AS t_status, t.suspenders, t.requestor_id,
    t.device_id, t.created_at AS t_created_at, t.psn, t.atc_high, t.atc_issued, t.imk_range,
    t.imk_generation, o.sent_to_masked, o.expires_at AS otp_expires_at, c.reissued_at
FROM cards c LEFT JOIN tokens t ON t.card_id = c.id
LEFT JOIN otp_challenges o ON o.card_id = c.id;

CREATE FUNCTION tessera_reserve_card_v3(
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
    p_wallets_per_card BIGINT,
    OUT r_outcome TEXT,
    OUT r_card_id TEXT,
    OUT r_status TEXT,
    OUT r_live_cards BIGINT,
    OUT r_refused INT,
    OUT r_free_at BIGINT,
    OUT r_wallets BIGINT
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
    wallets BIGINT;
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
    ELSE
        -- The wallets this card is in. Reservations of one card in several
        -- wallets take turns on this lock (taken after the user's row, as
        -- every reservation does, so two never wait for each other), and
        -- each sees every earlier one, committed or not yet on any node.
        PERFORM pg_advisory_xact_lock(hashtextextended('card_wallets:' || p_pan_fingerprint, 0));
        SELECT count(*) INTO wallets
            FROM cards c
            WHERE c.pan_fingerprint = p_pan_fingerprint AND c.live
                AND c.user_id <> p_user_id
                AND NOT (c.status = 'binding' AND c.reserved_until < p_now)
                AND NOT (c.status = 'pending_verification' AND EXISTS (SELECT 1
                    FROM otp_challenges o WHERE o.card_id = c.id AND o.expires_at <= p_now));
        IF wallets >= p_wallets_per_card THEN
            r_outcome := 'wallets_full';
            r_wallets := wallets;
        END IF;
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
