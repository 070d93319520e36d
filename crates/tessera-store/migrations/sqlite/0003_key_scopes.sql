-- API keys scoped to their owner. `scope` is a JSON array: an issuer key's
-- issuer codes, a merchant key's merchant ids, empty for operator and
-- support keys (and for issuer or merchant keys made before scopes, which
-- therefore act for nobody). An issuer key signs its events with a secret of
-- its own, sealed by the vault under the key's id (context
-- "api_key_signing_secret"); revoked_at, in the baseline, ends a key.
ALTER TABLE api_keys ADD COLUMN scope TEXT NOT NULL DEFAULT '[]';
ALTER TABLE api_keys ADD COLUMN signing_key_version INTEGER;
ALTER TABLE api_keys ADD COLUMN signing_secret_ciphertext BLOB;
