//! This node's audit chain (`tessera_core::audit`): each entry gets the
//! next sequence number and its keyed hash here, in memory, and is written
//! with one insert. The head is read from the store on first use, so a
//! restarted node continues its chain; a write refused because another
//! writer took the same place (a command run against the same database
//! under this node's name) reads the head again and takes the next one.
//! Each node has its own chain, so nodes never wait on each other.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};
use tessera_core::audit::{self, Checkpoint, GENESIS};
use tessera_core::vault::KeyRing;
use tessera_store::{AuditCheckpointRecord, AuditEvent, AuditLink, Store, StoreError, StoreResult};
use tokio::sync::Mutex;

/// Places lost to other writers before an entry gives up.
const ATTEMPTS: usize = 5;

#[derive(Debug)]
pub struct AuditChain {
    chain_id: String,
    /// The last place written, once read or written: (seq, hash).
    head: Mutex<Option<(i64, [u8; 32])>>,
    /// The place the last checkpoint signed: an idle chain is not signed
    /// again.
    checkpointed: AtomicI64,
}

impl AuditChain {
    /// The chain of node `node_id`.
    pub fn for_node(node_id: &str) -> AuditChain {
        AuditChain {
            chain_id: format!("node:{node_id}"),
            head: Mutex::new(None),
            checkpointed: AtomicI64::new(0),
        }
    }

    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// Writes `event` as this chain's next entry.
    pub async fn append(
        &self,
        store: &dyn Store,
        keys: &KeyRing,
        mut event: AuditEvent,
    ) -> StoreResult<()> {
        // Held across the insert: places are taken in the order written,
        // by this node's writers only.
        let mut head = self.head.lock().await;
        for _ in 0..ATTEMPTS {
            let (seq, prev) = match *head {
                Some(known) => known,
                None => self.stored_head(store).await?,
            };
            let seq = seq + 1;
            let hash = event.fields(&self.chain_id, seq).hash(keys, &prev);
            event.link = Some(AuditLink {
                chain_id: self.chain_id.clone(),
                seq,
                prev_hash: audit::to_hex(&prev),
                entry_hash: audit::to_hex(&hash),
            });
            match store.record_audit_event(&event).await {
                Ok(()) => {
                    *head = Some((seq, hash));
                    return Ok(());
                }
                Err(StoreError::Conflict(_)) => *head = None,
                Err(error) => {
                    // Perhaps written after all: read the head again.
                    *head = None;
                    return Err(error);
                }
            }
        }
        Err(StoreError::Unavailable(format!(
            "audit chain {}: another writer took every place tried",
            self.chain_id
        )))
    }

    /// Signs the chain's stored head, unless the last checkpoint signed it
    /// already. The place signed, if any.
    pub async fn checkpoint(
        &self,
        store: &dyn Store,
        keys: &KeyRing,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<i64>> {
        let Some(head) = store.audit_chain_head(&self.chain_id).await? else {
            return Ok(None);
        };
        if head.seq <= self.checkpointed.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let entry_hash = audit::from_hex(&head.entry_hash)
            .ok_or_else(|| corrupt_head(&self.chain_id, head.seq))?;
        let checkpoint = Checkpoint {
            chain_id: self.chain_id.clone(),
            seq: head.seq,
            entry_hash,
            created_at: now,
        };
        store
            .record_audit_checkpoint(&AuditCheckpointRecord {
                chain_id: checkpoint.chain_id.clone(),
                seq: checkpoint.seq,
                entry_hash: head.entry_hash,
                created_at: now,
                signature: hex::encode(checkpoint.sign(keys)),
            })
            .await?;
        self.checkpointed.store(head.seq, Ordering::Relaxed);
        Ok(Some(head.seq))
    }

    async fn stored_head(&self, store: &dyn Store) -> StoreResult<(i64, [u8; 32])> {
        match store.audit_chain_head(&self.chain_id).await? {
            None => Ok((0, GENESIS)),
            Some(head) => audit::from_hex(&head.entry_hash)
                .map(|hash| (head.seq, hash))
                .ok_or_else(|| corrupt_head(&self.chain_id, head.seq)),
        }
    }
}

fn corrupt_head(chain_id: &str, seq: i64) -> StoreError {
    StoreError::Corrupt(format!(
        "audit chain {chain_id}: the hash at seq {seq} is not 32 bytes of hex \
         (`tessera audit verify` names what changed)"
    ))
}

/// What `tessera audit verify` found.
#[derive(Debug)]
pub struct Verification {
    /// Each chain and the number of entries it holds.
    pub chains: std::collections::BTreeMap<String, usize>,
    /// Entries older than the chain, which nothing vouches for.
    pub unchained: usize,
    pub checkpoints: usize,
    /// Empty when every chain is whole.
    pub findings: Vec<audit::Finding>,
}

/// Walks every chain of the store and checks its checkpoints.
pub async fn verify(store: &dyn Store, keys: &KeyRing) -> StoreResult<Verification> {
    let entries = store.audit_entries_since(DateTime::UNIX_EPOCH).await?;
    let checkpoints = store.audit_checkpoints().await?;
    let stored: Vec<audit::StoredEntry<'_>> =
        entries.iter().filter_map(AuditEvent::chained).collect();
    let mut chains = std::collections::BTreeMap::new();
    for entry in &stored {
        *chains.entry(entry.fields.chain_id.to_owned()).or_insert(0) += 1;
    }
    let signed: Vec<audit::StoredCheckpoint> = checkpoints
        .iter()
        .map(|c| audit::StoredCheckpoint {
            checkpoint: Checkpoint {
                chain_id: c.chain_id.clone(),
                seq: c.seq,
                // A hash that is not hex cannot match any entry's.
                entry_hash: audit::from_hex(&c.entry_hash).unwrap_or([0xff; 32]),
                created_at: c.created_at,
            },
            signature: c.signature.clone(),
        })
        .collect();
    Ok(Verification {
        unchained: entries.len() - stored.len(),
        checkpoints: checkpoints.len(),
        findings: audit::verify(keys, &stored, &signed),
        chains,
    })
}
