//! EMV key generations at start: the generations a key file from before
//! generation roots implies, and the refusal to issue under one the key
//! ring lacks (`tessera_core::vault` holds the roots).

use chrono::{DateTime, Utc};
use tessera_core::vault::{EmvDerivation, KeyRing};
use tessera_store::Store;

use crate::StartError;

/// The setting that names the generations whose IMKs come from the lookup
/// root ("1,2"), written when a key file first lists its generations
/// (`tessera keys emv-generation`). A node still holding an older key file
/// then takes those alone, never a newer generation it has no root for.
pub const LOOKUP_ROOT_GENERATIONS: &str = "emv_lookup_root_generations";

/// For a key file from before generation roots: takes as the lookup root's
/// the generations the setting names, or, before any key file listed its
/// generations, every generation stored tokens use (all issued so then).
/// A key file that lists its generations is left as it is (and records its
/// lookup-root generations in the setting if none did yet). Logs the stored
/// generations the ring still lacks: their tokens cannot pay on this node.
pub async fn adopt_stored_generations(
    store: &dyn Store,
    keys: &mut KeyRing,
    now: DateTime<Utc>,
) -> Result<(), StartError> {
    let stored = stored_generations(store).await?;
    if keys.emv_generations_recorded() {
        // A key file listed its generations before this database had the
        // setting (a generation added before the first start): record them.
        let listed = join(
            keys.emv_generations()
                .iter()
                .filter(|info| info.derivation == EmvDerivation::LookupRoot)
                .map(|info| info.generation),
        );
        if !listed.is_empty() {
            store
                .claim_setting(LOOKUP_ROOT_GENERATIONS, &listed, now)
                .await?;
        }
    } else {
        let adopted = match store.setting(LOOKUP_ROOT_GENERATIONS).await? {
            Some(listed) => parse_list(&listed)?,
            None => stored.clone(),
        };
        keys.adopt_lookup_root_generations(&adopted);
    }
    for generation in stored {
        if !keys.has_emv_generation(generation) {
            tracing::warn!(
                generation,
                "tokens of EMV key generation {generation} cannot pay on this node: its key \
                 ring has no root for it; copy the key file (tessera.keys) holding it to this \
                 node and restart"
            );
        }
    }
    Ok(())
}

/// Before a key file first lists its generations: records (first writer
/// wins) which generations are the lookup root's, and takes them into
/// `keys`, so that the file lists them and other nodes' older files agree.
pub async fn record_lookup_root_generations(
    store: &dyn Store,
    keys: &mut KeyRing,
    now: DateTime<Utc>,
) -> Result<(), StartError> {
    if keys.emv_generations_recorded() {
        return Ok(());
    }
    let mut generations = stored_generations(store).await?;
    generations.push(1);
    generations.sort_unstable();
    generations.dedup();
    let listed = join(generations.iter().copied());
    let claimed = store
        .claim_setting(LOOKUP_ROOT_GENERATIONS, &listed, now)
        .await?;
    keys.adopt_lookup_root_generations(&parse_list(&claimed)?);
    Ok(())
}

async fn stored_generations(store: &dyn Store) -> Result<Vec<u8>, StartError> {
    Ok(store
        .tokens_by_generation()
        .await?
        .iter()
        .map(|counts| counts.generation)
        .collect())
}

fn join(generations: impl Iterator<Item = u8>) -> String {
    generations
        .map(|generation| generation.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_list(listed: &str) -> Result<Vec<u8>, StartError> {
    listed
        .split(',')
        .map(|part| {
            part.trim().parse::<u8>().map_err(|_| {
                StartError::new(format!(
                    "the database's setting {LOOKUP_ROOT_GENERATIONS} ({listed:?}) is not a list \
                     of generations: restore the database from a backup"
                ))
            })
        })
        .collect()
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
