-- Users by the keyed hash of their ID number: sign-up counts the wallets an
-- ID number holds (`limits.wallets_per_id_number`) before it adds one.
CREATE INDEX users_id_number_hash ON users (id_number_hash);
