//! The data keys of a key ring, held so that a running node can take in a
//! version another node made without a restart: the set is replaced whole,
//! and a seal or an open reads it without a lock (one atomic load).

use std::collections::BTreeMap;
use std::sync::Arc;

use arc_swap::{ArcSwap, Guard};

use super::DataKey;

/// The live versions and the one that seals.
#[derive(Clone)]
pub(super) struct DataKeySet {
    pub(super) keys: BTreeMap<u32, DataKey>,
    pub(super) active: u32,
}

pub(super) struct DataKeys(ArcSwap<DataKeySet>);

impl DataKeys {
    pub(super) fn new(set: DataKeySet) -> DataKeys {
        DataKeys(ArcSwap::from_pointee(set))
    }

    pub(super) fn load(&self) -> Guard<Arc<DataKeySet>> {
        self.0.load()
    }

    pub(super) fn store(&self, set: DataKeySet) {
        self.0.store(Arc::new(set));
    }
}

/// A clone is a snapshot: rotating the clone leaves the original alone.
impl Clone for DataKeys {
    fn clone(&self) -> DataKeys {
        DataKeys(ArcSwap::new(self.0.load_full()))
    }
}
