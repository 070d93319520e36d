//! Walks audit chains and names every place they were tampered with.
//!
//! Each stored entry keeps the hash of the entry before it, so an entry is
//! checked on its own (its hash over its fields and that previous hash) and
//! then in place (its sequence number and its link to the entry before).
//! An entry that fails on its own but whose hash is vouched for (the next
//! entry or a checkpoint names it) was changed; one nothing vouches for was
//! inserted; one that is genuine at another sequence number was moved.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use chrono::{DateTime, Utc};

use super::{AuditFields, Checkpoint, GENESIS, from_hex};
use crate::vault::KeyRing;

/// An entry as stored: its fields and the two hashes, in hex.
#[derive(Debug, Clone)]
pub struct StoredEntry<'a> {
    pub fields: AuditFields<'a>,
    pub prev_hash: &'a str,
    pub entry_hash: &'a str,
}

/// A checkpoint as stored, with its signature in hex.
#[derive(Debug, Clone)]
pub struct StoredCheckpoint {
    pub checkpoint: Checkpoint,
    pub signature: String,
}

/// One place where a chain is not as it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The entry's fields no longer match its hash.
    Changed {
        chain_id: String,
        seq: i64,
        id: String,
    },
    /// An entry the chain never had.
    Inserted {
        chain_id: String,
        seq: i64,
        id: String,
    },
    /// A genuine entry stored at another place than it was written.
    Moved {
        chain_id: String,
        id: String,
        written_at: i64,
        found_at: i64,
    },
    /// Entries `from..=to` are gone from the middle of the chain.
    Removed {
        chain_id: String,
        from: i64,
        to: i64,
    },
    /// A genuine entry that does not follow the entry stored before it.
    Unlinked {
        chain_id: String,
        seq: i64,
        id: String,
    },
    /// The chain ends before a checkpoint's head: entries cut from the end.
    Truncated {
        chain_id: String,
        head: i64,
        checkpoint_seq: i64,
        checkpoint_at: DateTime<Utc>,
    },
    /// A checkpoint whose signature is not the key ring's.
    ForgedCheckpoint { chain_id: String, seq: i64 },
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Changed { chain_id, seq, id } => write!(
                f,
                "chain {chain_id}, seq {seq} ({id}): changed, its fields no longer match its hash"
            ),
            Finding::Inserted { chain_id, seq, id } => write!(
                f,
                "chain {chain_id}, seq {seq} ({id}): inserted, the chain never had this entry"
            ),
            Finding::Moved {
                chain_id,
                id,
                written_at,
                found_at,
            } => write!(
                f,
                "chain {chain_id}, seq {found_at} ({id}): reordered, written as seq {written_at}"
            ),
            Finding::Removed { chain_id, from, to } if from == to => {
                write!(f, "chain {chain_id}, seq {from}: removed")
            }
            Finding::Removed { chain_id, from, to } => {
                write!(f, "chain {chain_id}, seq {from} to {to}: removed")
            }
            Finding::Unlinked { chain_id, seq, id } => write!(
                f,
                "chain {chain_id}, seq {seq} ({id}): does not follow the entry stored before it"
            ),
            Finding::Truncated {
                chain_id,
                head,
                checkpoint_seq,
                checkpoint_at,
            } => write!(
                f,
                "chain {chain_id}: ends at seq {head}, but the checkpoint of {} vouches for seq \
                 {checkpoint_seq}: entries {} to {checkpoint_seq} were removed from the end",
                checkpoint_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                head + 1
            ),
            Finding::ForgedCheckpoint { chain_id, seq } => write!(
                f,
                "chain {chain_id}: the checkpoint at seq {seq} is not signed by this key ring"
            ),
        }
    }
}

/// Every finding in `entries` (any order, any chains) and `checkpoints`,
/// chain by chain, in sequence order. None: the chains are whole.
pub fn verify(
    keys: &KeyRing,
    entries: &[StoredEntry<'_>],
    checkpoints: &[StoredCheckpoint],
) -> Vec<Finding> {
    let mut chains: BTreeMap<&str, (Vec<&StoredEntry<'_>>, Vec<&StoredCheckpoint>)> =
        BTreeMap::new();
    for entry in entries {
        chains
            .entry(entry.fields.chain_id)
            .or_default()
            .0
            .push(entry);
    }
    for checkpoint in checkpoints {
        chains
            .entry(checkpoint.checkpoint.chain_id.as_str())
            .or_default()
            .1
            .push(checkpoint);
    }
    chains
        .into_iter()
        .flat_map(|(chain_id, (mut entries, checkpoints))| {
            entries.sort_by(|a, b| (a.fields.seq, a.fields.id).cmp(&(b.fields.seq, b.fields.id)));
            Chain::new(keys, chain_id, entries).findings(keys, &checkpoints)
        })
        .collect()
}

/// What one entry turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Genuine, at this (authentic) sequence number.
    Genuine(i64),
    Changed,
    Inserted,
}

struct Chain<'e, 'a> {
    chain_id: &'e str,
    entries: Vec<&'e StoredEntry<'a>>,
    verdicts: Vec<Verdict>,
}

impl<'e, 'a> Chain<'e, 'a> {
    fn new(keys: &KeyRing, chain_id: &'e str, entries: Vec<&'e StoredEntry<'a>>) -> Self {
        let by_hash: HashMap<&str, usize> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.entry_hash, i))
            .collect();
        let mut recovered: Vec<Option<Option<i64>>> = vec![None; entries.len()];
        let verdicts_genuine: Vec<Option<i64>> = (0..entries.len())
            .map(|i| authentic_seq(keys, &entries, &by_hash, &mut recovered, i, 0))
            .collect();
        // Hashes something else vouches for: the entry after names it.
        let named: BTreeSet<&str> = entries.iter().map(|e| e.prev_hash).collect();
        let genuine_seqs: BTreeMap<i64, usize> = verdicts_genuine
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.map(|s| (s, i)))
            .collect();
        let verdicts = entries
            .iter()
            .zip(&verdicts_genuine)
            .map(|(entry, genuine)| match genuine {
                Some(seq) => Verdict::Genuine(*seq),
                None => {
                    let seq = entry.fields.seq;
                    let follows = match seq {
                        1 => entry.prev_hash == super::to_hex(&GENESIS),
                        _ => genuine_seqs
                            .get(&(seq - 1))
                            .is_some_and(|&i| entries[i].entry_hash == entry.prev_hash),
                    };
                    let vouched = named.contains(entry.entry_hash);
                    if vouched || (follows && !genuine_seqs.contains_key(&seq)) {
                        Verdict::Changed
                    } else {
                        Verdict::Inserted
                    }
                }
            })
            .collect();
        Chain {
            chain_id,
            entries,
            verdicts,
        }
    }

    fn findings(&self, keys: &KeyRing, checkpoints: &[&StoredCheckpoint]) -> Vec<Finding> {
        let chain_id = self.chain_id.to_owned();
        let mut findings = Vec::new();
        // Each place the chain holds: the entry there (genuine or changed).
        let mut places: BTreeMap<i64, usize> = BTreeMap::new();
        for (i, (entry, verdict)) in self.entries.iter().zip(&self.verdicts).enumerate() {
            let id = entry.fields.id.to_owned();
            match *verdict {
                Verdict::Genuine(seq) => {
                    if seq != entry.fields.seq {
                        findings.push(Finding::Moved {
                            chain_id: chain_id.clone(),
                            id,
                            written_at: seq,
                            found_at: entry.fields.seq,
                        });
                    }
                    places.insert(seq, i);
                }
                Verdict::Changed => {
                    findings.push(Finding::Changed {
                        chain_id: chain_id.clone(),
                        seq: entry.fields.seq,
                        id,
                    });
                    places.entry(entry.fields.seq).or_insert(i);
                }
                Verdict::Inserted => findings.push(Finding::Inserted {
                    chain_id: chain_id.clone(),
                    seq: entry.fields.seq,
                    id,
                }),
            }
        }
        let head = places.keys().next_back().copied().unwrap_or(0);
        let mut expected = 1;
        for (&seq, &i) in &places {
            if seq > expected {
                findings.push(Finding::Removed {
                    chain_id: chain_id.clone(),
                    from: expected,
                    to: seq - 1,
                });
            } else if let (Some(&before), Verdict::Genuine(_)) =
                (places.get(&(seq - 1)), self.verdicts[i])
                && self.entries[before].entry_hash != self.entries[i].prev_hash
            {
                findings.push(Finding::Unlinked {
                    chain_id: chain_id.clone(),
                    seq,
                    id: self.entries[i].fields.id.to_owned(),
                });
            }
            expected = seq + 1;
        }
        let mut furthest: Option<&Checkpoint> = None;
        for stored in checkpoints {
            let checkpoint = &stored.checkpoint;
            let signed = hex::decode(&stored.signature)
                .is_ok_and(|signature| checkpoint.is_signed_by(keys, &signature));
            if !signed {
                findings.push(Finding::ForgedCheckpoint {
                    chain_id: chain_id.clone(),
                    seq: checkpoint.seq,
                });
            } else if checkpoint.seq > head && furthest.is_none_or(|f| checkpoint.seq > f.seq) {
                furthest = Some(checkpoint);
            }
        }
        if let Some(checkpoint) = furthest {
            findings.push(Finding::Truncated {
                chain_id,
                head,
                checkpoint_seq: checkpoint.seq,
                checkpoint_at: checkpoint.created_at,
            });
        }
        findings
    }
}

/// How far back a moved entry's place is looked for, through other
/// entries that fail their own check; past it, the entry counts as changed.
const MAX_HOPS: usize = 256;

/// The sequence number entry `i` was written at, if it is genuine: its own
/// when its hash checks, else the one its place in the hash links gives
/// (the entry it follows, plus one). `recovered` remembers each answer;
/// `depth` stops a cycle of forged links.
fn authentic_seq(
    keys: &KeyRing,
    entries: &[&StoredEntry<'_>],
    by_hash: &HashMap<&str, usize>,
    recovered: &mut Vec<Option<Option<i64>>>,
    i: usize,
    depth: usize,
) -> Option<i64> {
    if let Some(known) = recovered[i] {
        return known;
    }
    let entry = entries[i];
    let (Some(prev), Some(stored)) = (from_hex(entry.prev_hash), from_hex(entry.entry_hash)) else {
        recovered[i] = Some(None);
        return None;
    };
    let checks = |seq: i64| {
        let fields = AuditFields {
            seq,
            ..entry.fields.clone()
        };
        crate::crypto::constant_time_eq(&fields.hash(keys, &prev), &stored)
    };
    let answer = if checks(entry.fields.seq) {
        Some(entry.fields.seq)
    } else if prev == GENESIS {
        checks(1).then_some(1)
    } else if depth > MAX_HOPS {
        None
    } else {
        by_hash
            .get(entry.prev_hash)
            .and_then(|&before| authentic_seq(keys, entries, by_hash, recovered, before, depth + 1))
            .and_then(|before| checks(before + 1).then_some(before + 1))
    };
    recovered[i] = Some(answer);
    answer
}
