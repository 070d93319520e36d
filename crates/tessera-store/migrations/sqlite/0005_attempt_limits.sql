-- Binding attempts and SMS codes counted in a rolling window, so that a
-- burst cannot pass their limits.

-- One row per counted subject ('card:<PAN fingerprint>', 'user:<id>',
-- 'phone:<keyed hash>'): its hits still inside the window, kept as a count
-- so that a claim costs the same however many hits there are.
CREATE TABLE limit_buckets (
    bucket TEXT PRIMARY KEY,
    hits INTEGER NOT NULL
);

-- Each counted hit, for as long as it is inside the window: the oldest
-- ones say when a full bucket frees a slot.
CREATE TABLE limit_hits (
    bucket TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX limit_hits_bucket ON limit_hits(bucket, at);
