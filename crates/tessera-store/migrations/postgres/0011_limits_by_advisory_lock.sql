-- tessera_claim_limits (0005) with the same answers and fewer writes: a
-- bucket is held by a transaction-scoped advisory lock on its name's hash
-- instead of a locked row with a count, and whether it is full is read
-- from its hits alone (the limit-th newest one still inside the window),
-- so a claim writes only its hits. The buckets are locked in the order of
-- their hashes, so two claims sharing buckets never deadlock.
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
    i INT;
    n INT := cardinality(p_buckets);
    oldest BIGINT;
    full_bucket BOOLEAN;
BEGIN
    r_refused := 0;
    r_free_at := NULL;
    PERFORM pg_advisory_xact_lock(k)
        FROM (SELECT DISTINCT hashtextextended(b, 0) AS k FROM unnest(p_buckets) AS b) AS keys
        ORDER BY k;
    FOR i IN 1..n LOOP
        -- Hits that left the window go.
        DELETE FROM limit_hits WHERE bucket = p_buckets[i] AND at <= p_window_start;
        IF p_limits[i] <= 0 THEN
            full_bucket := TRUE;
            oldest := NULL;
        ELSE
            -- Full when it holds p_limits[i] hits: the limit-th newest is
            -- the one that must leave before a slot frees.
            SELECT at INTO oldest FROM limit_hits WHERE bucket = p_buckets[i]
                ORDER BY at DESC LIMIT 1 OFFSET p_limits[i] - 1;
            full_bucket := FOUND;
        END IF;
        IF full_bucket AND (r_refused = 0 OR oldest > r_free_at) THEN
            r_free_at := oldest;
            r_refused := i;
        END IF;
    END LOOP;
    IF r_refused > 0 THEN
        RETURN;
    END IF;
    INSERT INTO limit_hits (bucket, at) SELECT b, p_now FROM unnest(p_buckets) AS b;
END;
$$;

DROP TABLE limit_buckets;
