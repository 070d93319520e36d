-- Limits are counted in the writer's memory (src/sqlite/limits.rs);
-- `limit_hits` is only the log a start reads them back from. Appended to,
-- never searched by bucket: its index and the per-bucket counts go.
DROP INDEX limit_hits_bucket;
DROP TABLE limit_buckets;
