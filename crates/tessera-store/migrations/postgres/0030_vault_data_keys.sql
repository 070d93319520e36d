-- The vault's data keys, each wrapped under a root key of the key file
-- (`tessera_core::vault::wrapping`): every node that holds the key file
-- learns a new version from here, without a restart. A retired version
-- keeps its row, its key deleted, so that no key file offers it again.
CREATE TABLE vault_data_keys (
    version BIGINT PRIMARY KEY,
    wrapped BYTEA,
    root_version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'retiring', 'retired')),
    CHECK ((state = 'retired') = (wrapped IS NULL))
);
-- Exactly one version seals at a time.
CREATE UNIQUE INDEX vault_data_keys_one_active ON vault_data_keys (state)
    WHERE state = 'active';

-- A sealed value is written only under the active version: a node that
-- has not yet learnt a rotation is refused (`key_version_stale`, SQLSTATE
-- TK001) and learns it before the retry. Before any node records its keys
-- here the table is empty, the comparison is NULL, and nothing is refused;
-- nor is erasing a value (its ciphertext set to NULL).
-- The check is written out in each function rather than shared: a nested
-- PL/pgSQL call cost half as much again as the check itself.

CREATE FUNCTION tessera_cards_seal_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.pan_key_version <> (SELECT version FROM vault_data_keys WHERE state = 'active') THEN
        RAISE EXCEPTION 'key_version_stale: sealed under data key version %, not the active one',
            NEW.pan_key_version USING ERRCODE = 'TK001';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER cards_sealed_under_active_key BEFORE INSERT ON cards
    FOR EACH ROW WHEN (NEW.pan_key_version IS NOT NULL)
    EXECUTE FUNCTION tessera_cards_seal_check();
CREATE TRIGGER cards_resealed_under_active_key
    BEFORE UPDATE OF pan_key_version, pan_ciphertext ON cards
    FOR EACH ROW WHEN (NEW.pan_key_version IS NOT NULL
        AND NEW.pan_ciphertext IS NOT NULL AND NEW.pan_ciphertext IS DISTINCT FROM OLD.pan_ciphertext)
    EXECUTE FUNCTION tessera_cards_seal_check();

CREATE FUNCTION tessera_tokens_seal_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.token_pan_key_version <> (SELECT version FROM vault_data_keys WHERE state = 'active') THEN
        RAISE EXCEPTION 'key_version_stale: sealed under data key version %, not the active one',
            NEW.token_pan_key_version USING ERRCODE = 'TK001';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER tokens_sealed_under_active_key BEFORE INSERT ON tokens
    FOR EACH ROW WHEN (NEW.token_pan_key_version IS NOT NULL)
    EXECUTE FUNCTION tessera_tokens_seal_check();
CREATE TRIGGER tokens_resealed_under_active_key
    BEFORE UPDATE OF token_pan_key_version, token_pan_ciphertext ON tokens
    FOR EACH ROW WHEN (NEW.token_pan_key_version IS NOT NULL
        AND NEW.token_pan_ciphertext IS NOT NULL AND NEW.token_pan_ciphertext IS DISTINCT FROM OLD.token_pan_ciphertext)
    EXECUTE FUNCTION tessera_tokens_seal_check();

CREATE FUNCTION tessera_api_keys_seal_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.signing_key_version <> (SELECT version FROM vault_data_keys WHERE state = 'active') THEN
        RAISE EXCEPTION 'key_version_stale: sealed under data key version %, not the active one',
            NEW.signing_key_version USING ERRCODE = 'TK001';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER api_keys_sealed_under_active_key BEFORE INSERT ON api_keys
    FOR EACH ROW WHEN (NEW.signing_key_version IS NOT NULL)
    EXECUTE FUNCTION tessera_api_keys_seal_check();
CREATE TRIGGER api_keys_resealed_under_active_key
    BEFORE UPDATE OF signing_key_version, signing_secret_ciphertext ON api_keys
    FOR EACH ROW WHEN (NEW.signing_key_version IS NOT NULL
        AND NEW.signing_secret_ciphertext IS NOT NULL AND NEW.signing_secret_ciphertext IS DISTINCT FROM OLD.signing_secret_ciphertext)
    EXECUTE FUNCTION tessera_api_keys_seal_check();

CREATE FUNCTION tessera_transfers_seal_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.to_key_version <> (SELECT version FROM vault_data_keys WHERE state = 'active') THEN
        RAISE EXCEPTION 'key_version_stale: sealed under data key version %, not the active one',
            NEW.to_key_version USING ERRCODE = 'TK001';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER transfers_sealed_under_active_key BEFORE INSERT ON transfers
    FOR EACH ROW WHEN (NEW.to_key_version IS NOT NULL)
    EXECUTE FUNCTION tessera_transfers_seal_check();
CREATE TRIGGER transfers_resealed_under_active_key
    BEFORE UPDATE OF to_key_version, to_ciphertext ON transfers
    FOR EACH ROW WHEN (NEW.to_key_version IS NOT NULL
        AND NEW.to_ciphertext IS NOT NULL AND NEW.to_ciphertext IS DISTINCT FROM OLD.to_ciphertext)
    EXECUTE FUNCTION tessera_transfers_seal_check();

-- Re-encryption after a rotation: how far it has walked each table holding
-- sealed values (in primary-key order), so a restarted node goes on from
-- there, and which node walks (`holder`, until `lease_until`).
CREATE TABLE vault_reencryption (
    table_name TEXT PRIMARY KEY,
    target_version BIGINT NOT NULL,
    after_key TEXT NOT NULL,
    resealed BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE TABLE vault_reencryption_lease (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    holder TEXT NOT NULL,
    lease_until BIGINT NOT NULL
);
