//! The data keys of a key ring, held so that a running node can take in a
//! version another node made without a restart: the set is replaced whole,
//! and a seal or an open reads it without a lock (one atomic load).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::{ArcSwap, Guard};

use super::DataKey;

/// The live versions and the one that seals.
#[derive(Clone)]
pub(super) struct DataKeySet {
    pub(super) keys: BTreeMap<u32, DataKey>,
    pub(super) active: u32,
}

pub(super) struct DataKeys {
    set: ArcSwap<DataKeySet>,
    /// How many opens met a version this set lacks: a node that sees it
    /// grow reads the versions again (another node may have made one).
    misses: AtomicU64,
}

impl DataKeys {
    pub(super) fn new(set: DataKeySet) -> DataKeys {
        DataKeys {
            set: ArcSwap::from_pointee(set),
            misses: AtomicU64::new(0),
        }
    }

    pub(super) fn load(&self) -> Guard<Arc<DataKeySet>> {
        self.set.load()
    }

    pub(super) fn store(&self, set: DataKeySet) {
        self.set.store(Arc::new(set));
    }

    pub(super) fn missed(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }
}

/// A clone is a snapshot: rotating the clone leaves the original alone.
impl Clone for DataKeys {
    fn clone(&self) -> DataKeys {
        DataKeys {
            set: ArcSwap::new(self.set.load_full()),
            misses: AtomicU64::new(self.misses()),
        }
    }
}
