-- Changes to stored rows that SQL cannot make: they run Rust code
-- (crates/tessera-store/src/data_migrations.rs) at start, after the schema
-- migrations and under the same advisory lock, and each is recorded here in
-- the transaction that made it, so that it runs once per database.
CREATE TABLE data_migrations (
    name TEXT PRIMARY KEY,
    rows_changed BIGINT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
