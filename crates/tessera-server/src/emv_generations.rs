//! EMV key generations at start: the generations a key file from before
//! generation roots implies, and the refusal to issue under one the key
//! ring lacks (`tessera_core::vault` holds the roots).

use tessera_core::vault::KeyRing;
use tessera_store::Store;

use crate::StartError;

/// Takes the generations the stored tokens were issued under as the lookup
/// root's, when the key file predates generation roots (then every token
/// was issued so). A key file that lists its generations is left as it is.
pub async fn adopt_stored_generations(
    store: &dyn Store,
    keys: &mut KeyRing,
) -> Result<(), StartError> {
    if keys.emv_generations_recorded() {
        return Ok(());
    }
    let stored: Vec<u8> = store
        .tokens_by_generation()
        .await?
        .iter()
        .map(|counts| counts.generation)
        .collect();
    keys.adopt_lookup_root_generations(&stored);
    Ok(())
}

/// New tokens are issued under `payments.imk_generation`: a node whose key
/// ring lacks it would issue tokens no node could verify, so it does not
/// start.
pub fn check_issuing_generation(keys: &KeyRing, generation: u8) -> Result<(), StartError> {
    if keys.has_emv_generation(generation) {
        return Ok(());
    }
    let held = keys
        .emv_generations()
        .iter()
        .map(|info| info.generation.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    Err(StartError::new(format!(
        "payments.imk_generation = {generation}, but this node's key ring has no EMV key \
         generation {generation} (it has {held}): run `tessera keys emv-generation add` on one \
         node, copy its key file (tessera.keys) to every node, then start them; or set \
         payments.imk_generation to a generation the key ring has"
    )))
}
