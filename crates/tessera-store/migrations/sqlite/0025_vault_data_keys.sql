-- The vault's data keys, each wrapped under a root key of the key file
-- (`tessera_core::vault::wrapping`): every node that holds the key file
-- learns a new version from here, without a restart. A retired version
-- keeps its row, its key deleted, so that no key file offers it again.
CREATE TABLE vault_data_keys (
    version INTEGER PRIMARY KEY,
    wrapped BLOB,
    root_version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'retiring', 'retired')),
    CHECK ((state = 'retired') = (wrapped IS NULL))
);
-- Exactly one version seals at a time.
CREATE UNIQUE INDEX vault_data_keys_one_active ON vault_data_keys (state)
    WHERE state = 'active';

-- A sealed value is written only under the active version: a node that
-- has not yet learnt a rotation is refused (`key_version_stale`) and
-- learns it before the retry. Before any node records its keys here the
-- table is empty, the comparison is NULL, and nothing is refused; nor is
-- erasing a value (its ciphertext set to NULL).
CREATE TRIGGER cards_sealed_under_active_key BEFORE INSERT ON cards
WHEN NEW.pan_key_version <> (SELECT version FROM vault_data_keys WHERE state = 'active')
BEGIN SELECT RAISE(ABORT, 'key_version_stale'); END;
CREATE TRIGGER cards_resealed_under_active_key
BEFORE UPDATE OF pan_key_version, pan_ciphertext ON cards
WHEN NEW.pan_ciphertext IS NOT NULL AND NEW.pan_ciphertext IS NOT OLD.pan_ciphertext
 AND NEW.pan_key_version <> (SELECT version FROM vault_data_keys WHERE state = 'active')
BEGIN SELECT RAISE(ABORT, 'key_version_stale'); END;

CREATE TRIGGER tokens_sealed_under_active_key BEFORE INSERT ON tokens
WHEN NEW.token_pan_key_version <> (SELECT version FROM vault_data_keys WHERE state = 'active')
BEGIN SELECT RAISE(ABORT, 'key_version_stale'); END;
CREATE TRIGGER tokens_resealed_under_active_key
BEFORE UPDATE OF token_pan_key_version, token_pan_ciphertext ON tokens
WHEN NEW.token_pan_ciphertext IS NOT NULL AND NEW.token_pan_ciphertext IS NOT OLD.token_pan_ciphertext
 AND NEW.token_pan_key_version <> (SELECT version FROM vault_data_keys WHERE state = 'active')
BEGIN SELECT RAISE(ABORT, 'key_version_stale'); END;

CREATE TRIGGER api_keys_sealed_under_active_key BEFORE INSERT ON api_keys
WHEN NEW.signing_key_version <> (SELECT version FROM vault_data_keys WHERE state = 'active')
BEGIN SELECT RAISE(ABORT, 'key_version_stale'); END;
CREATE TRIGGER api_keys_resealed_under_active_key
BEFORE UPDATE OF signing_key_version, signing_secret_ciphertext ON api_keys
WHEN NEW.signing_secret_ciphertext IS NOT NULL AND NEW.signing_secret_ciphertext IS NOT OLD.signing_secret_ciphertext
 AND NEW.signing_key_version <> (SELECT version FROM vault_data_keys WHERE state = 'active')
BEGIN SELECT RAISE(ABORT, 'key_version_stale'); END;

CREATE TRIGGER transfers_sealed_under_active_key BEFORE INSERT ON transfers
WHEN NEW.to_key_version <> (SELECT version FROM vault_data_keys WHERE state = 'active')
BEGIN SELECT RAISE(ABORT, 'key_version_stale'); END;
CREATE TRIGGER transfers_resealed_under_active_key
BEFORE UPDATE OF to_key_version, to_ciphertext ON transfers
WHEN NEW.to_ciphertext IS NOT NULL AND NEW.to_ciphertext IS NOT OLD.to_ciphertext
 AND NEW.to_key_version <> (SELECT version FROM vault_data_keys WHERE state = 'active')
BEGIN SELECT RAISE(ABORT, 'key_version_stale'); END;

-- Re-encryption after a rotation: how far it has walked each table holding
-- sealed values (in primary-key order), so a restarted node goes on from
-- there, and which node walks (`holder`, until `lease_until`).
CREATE TABLE vault_reencryption (
    table_name TEXT PRIMARY KEY,
    target_version INTEGER NOT NULL,
    after_key TEXT NOT NULL,
    resealed INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE TABLE vault_reencryption_lease (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT NOT NULL,
    lease_until INTEGER NOT NULL
);
