-- The audit becomes a chain per writer (each node, and the command line):
-- every new entry keeps its writer's chain id, its sequence number there,
-- the hash of the entry before it and its own keyed hash over both and its
-- fields (`tessera_core::audit`). Entries written before this migration
-- keep NULLs: they predate the chain. `subject` holds the other ids an
-- entry concerns (`card:...`, `token:...`, `api_key:...`), never a name.
ALTER TABLE audit_events ADD COLUMN subject TEXT;
ALTER TABLE audit_events ADD COLUMN chain_id TEXT;
ALTER TABLE audit_events ADD COLUMN seq BIGINT;
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_events ADD COLUMN entry_hash TEXT;
-- No two entries follow the same one: two writers racing on one head
-- conflict here, and the loser re-reads the head and writes again.
CREATE UNIQUE INDEX audit_events_chain_link ON audit_events (chain_id, prev_hash);
-- A writer reads its head (the highest sequence number) at start.
CREATE INDEX audit_events_chain_seq ON audit_events (chain_id, seq);

-- Each chain's head, signed every minute while it moves: entries cut from
-- the end of a chain leave its head behind the last checkpoint.
CREATE TABLE audit_checkpoints (
    chain_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    entry_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (chain_id, seq)
);
