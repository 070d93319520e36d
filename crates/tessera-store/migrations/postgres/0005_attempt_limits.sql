-- Binding attempts and SMS codes counted in a rolling window, so that a
-- burst on any number of nodes cannot pass their limits.

-- One row per counted subject ('card:<PAN fingerprint>', 'user:<id>',
-- 'phone:<keyed hash>'): its hits still inside the window, kept as a count
-- so that a claim costs the same however many hits there are. Claims lock
-- it, so claims of one subject take turns on every node.
CREATE TABLE limit_buckets (
    bucket TEXT PRIMARY KEY,
    hits BIGINT NOT NULL
);

-- Each counted hit, for as long as it is inside the window: the oldest
-- ones say when a full bucket frees a slot.
CREATE TABLE limit_hits (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bucket TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX limit_hits_bucket ON limit_hits(bucket, at);

-- Claims one hit in every bucket of p_buckets (p_limits[i] allowed in the
-- window after p_window_start), all or none, atomically with every other
-- claim of these buckets. The buckets are locked in sorted order, so two
-- claims sharing buckets never deadlock. r_refused is 0 when the hits
-- were counted; otherwise the 1-based index of the full bucket that frees
-- a slot last, and r_free_at the time of its oldest hit that must leave
-- the window first (the caller adds the window). Nothing is counted then.
CREATE FUNCTION tessera_claim_limits(
    p_buckets TEXT[],
    p_limits BIGINT[],
    p_window_start BIGINT,
    p_now BIGINT,
    OUT r_refused INT,
    OUT r_free_at BIGINT
)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    i INT;
    n INT := cardinality(p_buckets);
    held BIGINT;
    expired BIGINT;
    counts BIGINT[] := '{}';
    oldest BIGINT;
BEGIN
    r_refused := 0;
    r_free_at := NULL;
    INSERT INTO limit_buckets (bucket, hits)
        SELECT b, 0 FROM unnest(p_buckets) AS b ORDER BY b
        ON CONFLICT (bucket) DO NOTHING;
    PERFORM 1 FROM limit_buckets WHERE bucket = ANY (p_buckets) ORDER BY bucket FOR UPDATE;
    FOR i IN 1..n LOOP
        SELECT hits INTO held FROM limit_buckets WHERE bucket = p_buckets[i];
        -- Hits that left the window go; the count follows.
        DELETE FROM limit_hits WHERE bucket = p_buckets[i] AND at <= p_window_start;
        GET DIAGNOSTICS expired = ROW_COUNT;
        held := greatest(held - expired, 0);
        IF expired > 0 THEN
            UPDATE limit_buckets SET hits = held WHERE bucket = p_buckets[i];
        END IF;
        counts := counts || held;
        IF held >= p_limits[i] THEN
            -- The slot frees when enough of the oldest hits have left: the
            -- (held - limit + 1)-th oldest.
            SELECT at INTO oldest FROM limit_hits WHERE bucket = p_buckets[i]
                ORDER BY at LIMIT 1 OFFSET held - p_limits[i];
            IF r_free_at IS NULL OR oldest > r_free_at THEN
                r_free_at := oldest;
                r_refused := i;
            END IF;
        END IF;
    END LOOP;
    IF r_refused > 0 THEN
        RETURN;
    END IF;
    FOR i IN 1..n LOOP
        INSERT INTO limit_hits (bucket, at) VALUES (p_buckets[i], p_now);
        UPDATE limit_buckets SET hits = counts[i] + 1 WHERE bucket = p_buckets[i];
    END LOOP;
END;
$$;
