-- A binding's writes on PostgreSQL: limit claims in one statement, the
-- reservation in one function again, and the completion's update of the
-- card made in place.
--
-- Each bucket is one row holding the times of its newest hits, newest
-- first: at most its limit of them, never more than 32
-- (`LimitBucket::MOST_HITS`; a larger limit, which only `serve
-- --load-test` sets, never refuses, and its hits are still written). The
-- bucket is full when its limit-th newest hit is still inside the window.
-- A claim is one INSERT ... ON CONFLICT DO UPDATE over its buckets in name
-- order: where a row is not full it takes the hit, and the row lock that
-- statement holds on each bucket keeps the count exact under any burst on
-- any number of nodes. 0011 took an advisory lock, then deleted, read and
-- inserted hit rows per bucket: five statements a claim, and a scan of
-- every hit a bucket held.
--
-- tessera_reserve_card_v2 (0010) called tessera_reserve_card (0001) and
-- tessera_claim_limits, each call a statement of its own. Its body now
-- holds both, and claims the limits in the statement that inserts the
-- card, which it inserts only when every bucket took its hit, so that a
-- refusal has no card to take back.
-- tessera_reserve_card is dropped. tessera_complete_binding looks for the
-- user's default card before it looks for a card to make the default.
--
-- The completion moves a card from 'binding' to 'active' (or
-- 'pending_verification') with an UPDATE that PostgreSQL could not make a
-- heap-only (HOT) update, because `status` appeared in the predicates of
-- cards_live_pan and cards_user_default: every completion wrote a new
-- entry into each of the card's five indexes. The predicates now read
-- `live`, a column generated from the status that stays true through a
-- binding, and `is_default` alone (queries still ask for active cards,
-- and only an active card is ever the default); and the table's pages
-- keep a fifth free, so that the completed card, which now holds its PAN's
-- ciphertext, fits on the page of the reservation it replaces.
ALTER TABLE cards ADD COLUMN live BOOLEAN NOT NULL
    GENERATED ALWAYS AS (status IN ('binding', 'pending_verification', 'active')) STORED;

DROP INDEX cards_live_pan;
CREATE UNIQUE INDEX cards_live_pan ON cards (user_id, pan_fingerprint) WHERE live;

DROP INDEX cards_user_default;
CREATE INDEX cards_user_default ON cards (user_id) WHERE is_default;

ALTER TABLE cards SET (fillfactor = 80);

CREATE TABLE limit_buckets (
    bucket TEXT PRIMARY KEY,
    hits BIGINT[] NOT NULL
);

INSERT INTO limit_buckets (bucket, hits)
    SELECT bucket, (array_agg(at ORDER BY at DESC))[:32] FROM limit_hits GROUP BY bucket;

DROP TABLE limit_hits;

-- A claim refused: gives back the hits it took (its transaction still
-- holds their rows, so each is where it put it) and names, of the full
-- buckets, the one that frees a slot last, by the hit that must leave
-- first. r_refused is 0 when no bucket is full (names given twice).
CREATE FUNCTION tessera_limits_refused(
    p_buckets TEXT[],
    p_limits BIGINT[],
    p_window_start BIGINT,
    p_now BIGINT,
    p_taken TEXT[],
    OUT r_refused INT,
    OUT r_free_at BIGINT
)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    r_refused := 0;
    r_free_at := NULL;
    SELECT i INTO r_refused FROM generate_subscripts(p_limits, 1) AS i
        WHERE p_limits[i] <= 0 ORDER BY i LIMIT 1;
    IF NOT FOUND THEN
        SELECT f.i, f.oldest INTO r_refused, r_free_at FROM (
            SELECT array_position(p_buckets, w.bucket) AS i,
                w.hits[p_limits[array_position(p_buckets, w.bucket)]] AS oldest
            FROM limit_buckets AS w
            WHERE w.bucket = ANY (p_buckets) AND NOT (w.bucket = ANY (p_taken))
        ) AS f
        WHERE f.oldest > p_window_start
        ORDER BY f.oldest DESC, f.i
        LIMIT 1;
        IF NOT FOUND THEN
            r_refused := 0;
            RETURN;
        END IF;
    END IF;
    UPDATE limit_buckets AS w
        SET hits = w.hits[:array_position(w.hits, p_now) - 1]
            || w.hits[array_position(w.hits, p_now) + 1:]
        WHERE w.bucket = ANY (p_taken) AND p_now = ANY (w.hits);
END;
$$;

CREATE OR REPLACE FUNCTION tessera_claim_limits(
    p_buckets TEXT[],
    p_limits BIGINT[],
    p_window_start BIGINT,
    p_now BIGINT,
    OUT r_refused INT,
    OUT r_free_at BIGINT
)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    taken TEXT[] := '{}';
BEGIN
    r_refused := 0;
    r_free_at := NULL;
    IF NOT 0 >= ANY (p_limits) THEN
        -- The same statement as in tessera_reserve_card_v2 below.
        WITH hit AS (
            INSERT INTO limit_buckets AS w (bucket, hits)
                SELECT DISTINCT b, ARRAY[p_now] FROM unnest(p_buckets) AS b ORDER BY b
            ON CONFLICT (bucket) DO UPDATE
                SET hits = (CASE WHEN p_now >= w.hits[1] OR w.hits[1] IS NULL
                    THEN array_prepend(p_now, w.hits)
                    ELSE ARRAY(SELECT t FROM unnest(array_prepend(p_now, w.hits)) AS t
                        ORDER BY t DESC)
                    END)[:least(p_limits[array_position(p_buckets, w.bucket)], 32)]
                WHERE coalesce(w.hits[p_limits[array_position(p_buckets, w.bucket)]]
                    <= p_window_start, TRUE)
            RETURNING w.bucket
        )
        SELECT coalesce(array_agg(bucket), '{}') INTO taken FROM hit;
        IF cardinality(taken) = cardinality(p_buckets) THEN
            RETURN;
        END IF;
    END IF;
    SELECT f.r_refused, f.r_free_at INTO r_refused, r_free_at
        FROM tessera_limits_refused(p_buckets, p_limits, p_window_start, p_now, taken) AS f;
END;
$$;

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
    stale BIGINT;
    expired TEXT[];
    taken TEXT[];
    reserved BIGINT;
BEGIN
    r_refused := 0;
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
        WHERE c.user_id = p_user_id AND c.pan_fingerprint = p_pan_fingerprint AND c.live;
    IF FOUND THEN
        r_outcome := CASE WHEN r_status = 'binding' THEN 'in_progress' ELSE 'already_bound' END;
        RETURN;
    END IF;
    IF r_live_cards >= p_limit THEN
        r_outcome := 'limit_reached';
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
        RETURN;
    END IF;
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

DROP FUNCTION tessera_reserve_card;

-- tessera_complete_binding (0001), but for the default card: see below.
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

