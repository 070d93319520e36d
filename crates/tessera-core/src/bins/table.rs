//! The index's tables in memory: rows grouped by prefix length, keys as
//! numbers for binary search, brands and issuers interned; and the schemes'
//! IIN ranges.

use std::collections::HashMap;

use super::index::BinSource;
use super::{Brand, CardType};

/// One issuer table, grouped by prefix length (longest first); within a
/// group, keys are sorted and rows sit in the same order, so a lookup is one
/// binary search per prefix length.
pub(super) struct Table {
    pub(super) source: BinSource,
    pub(super) groups: Vec<Group>,
    pub(super) rows: Vec<Row>,
    pub(super) issuers: Vec<Issuer>,
    pub(super) brands: Vec<Brand>,
}

pub(super) struct Group {
    pub(super) prefix_len: u8,
    /// Index in `rows` of this group's first row.
    pub(super) first_row: usize,
    pub(super) keys: Keys,
}

/// Prefixes as numbers (their length is the group's); 4 bytes each up to 9
/// digits, 8 beyond.
pub(super) enum Keys {
    Narrow(Vec<u32>),
    Wide(Vec<u64>),
}

impl Keys {
    fn heap_bytes(&self) -> usize {
        match self {
            Keys::Narrow(keys) => keys.capacity() * 4,
            Keys::Wide(keys) => keys.capacity() * 8,
        }
    }

    /// Index range of keys in `[low, high]`.
    fn range(&self, low: u64, high: u64) -> std::ops::Range<usize> {
        match self {
            Keys::Narrow(keys) => {
                let start = keys.partition_point(|&k| u64::from(k) < low);
                let end = keys.partition_point(|&k| u64::from(k) <= high);
                start..end
            }
            Keys::Wide(keys) => {
                let start = keys.partition_point(|&k| k < low);
                let end = keys.partition_point(|&k| k <= high);
                start..end
            }
        }
    }
}

/// 12 bytes per row; names live once in `issuers` and `brands`.
#[derive(Clone, Copy)]
pub(super) struct Row {
    pub(super) issuer: u32,
    pub(super) brand: u16,
    /// ASCII alpha-2, `[0, 0]` when unknown.
    pub(super) country: [u8; 2],
    /// 0 when the table gives no length.
    pub(super) pan_length: u8,
    /// 0 unknown, else `card_type_to_u8`.
    pub(super) card_type: u8,
}

impl Row {
    pub(super) fn same_issuer(&self, other: &Row) -> bool {
        self.issuer == other.issuer
            && self.brand == other.brand
            && self.card_type == other.card_type
            && self.country == other.country
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
pub(super) struct Issuer {
    pub(super) code: Option<Box<str>>,
    pub(super) name_zh: Option<Box<str>>,
    pub(super) name_en: Option<Box<str>>,
}

pub(super) struct Hit {
    pub(super) prefix_len: u8,
    /// All rows at the matched prefix.
    pub(super) rows: std::ops::Range<usize>,
    pub(super) chosen: usize,
}

impl Table {
    pub(super) fn find(&self, digits: &str, pan_len: Option<usize>) -> Option<Hit> {
        let mut longest: Option<Hit> = None;
        for group in &self.groups {
            let plen = usize::from(group.prefix_len);
            if plen > digits.len() {
                continue;
            }
            let key = digits_value(&digits[..plen]);
            let range = group.keys.range(key, key);
            if range.is_empty() {
                continue;
            }
            let rows = group.first_row + range.start..group.first_row + range.end;
            let Some(len) = pan_len else {
                let chosen = rows.start;
                return Some(Hit {
                    prefix_len: group.prefix_len,
                    rows,
                    chosen,
                });
            };
            if let Some(chosen) = rows.clone().find(|&i| {
                let l = self.rows[i].pan_length;
                l == 0 || usize::from(l) == len
            }) {
                return Some(Hit {
                    prefix_len: group.prefix_len,
                    rows,
                    chosen,
                });
            }
            if longest.is_none() {
                // No row here has the card's length: remember the nearest
                // in case no shorter prefix has one either.
                let chosen = rows
                    .clone()
                    .min_by_key(|&i| {
                        let l = usize::from(self.rows[i].pan_length);
                        (l.abs_diff(len), std::cmp::Reverse(l))
                    })
                    .unwrap_or(rows.start);
                longest = Some(Hit {
                    prefix_len: group.prefix_len,
                    rows,
                    chosen,
                });
            }
        }
        longest
    }

    pub(super) fn overlaps(&self, prefix: &str) -> bool {
        self.groups.iter().any(|group| {
            let plen = usize::from(group.prefix_len);
            if plen <= prefix.len() {
                let key = digits_value(&prefix[..plen]);
                !group.keys.range(key, key).is_empty()
            } else {
                // Rows longer than the prefix: those that start with it.
                let scale = 10u64.pow((plen - prefix.len()) as u32);
                let low = digits_value(prefix) * scale;
                !group.keys.range(low, low + scale - 1).is_empty()
            }
        })
    }

    pub(super) fn heap_bytes(&self) -> usize {
        let boxed = |s: &Option<Box<str>>| s.as_ref().map_or(0, |s| s.len());
        self.groups.capacity() * size_of::<Group>()
            + self
                .groups
                .iter()
                .map(|g| g.keys.heap_bytes())
                .sum::<usize>()
            + self.rows.capacity() * size_of::<Row>()
            + self.issuers.capacity() * size_of::<Issuer>()
            + self
                .issuers
                .iter()
                .map(|i| boxed(&i.code) + boxed(&i.name_zh) + boxed(&i.name_en))
                .sum::<usize>()
            + self.brands.capacity() * size_of::<Brand>()
            + self.brands.iter().map(brand_heap).sum::<usize>()
    }
}

pub(super) fn brand_heap(brand: &Brand) -> usize {
    match brand {
        Brand::Other(name) => name.capacity(),
        _ => 0,
    }
}

/// The value of an ASCII digit string of at most 19 digits.
pub(super) fn digits_value(digits: &str) -> u64 {
    digits
        .bytes()
        .fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'))
}

pub(super) fn card_type_to_u8(card_type: Option<CardType>) -> u8 {
    match card_type {
        None => 0,
        Some(CardType::Debit) => 1,
        Some(CardType::Credit) => 2,
        Some(CardType::SemiCredit) => 3,
        Some(CardType::Prepaid) => 4,
    }
}

pub(super) fn card_type_from_u8(value: u8) -> Option<CardType> {
    match value {
        1 => Some(CardType::Debit),
        2 => Some(CardType::Credit),
        3 => Some(CardType::SemiCredit),
        4 => Some(CardType::Prepaid),
        _ => None,
    }
}

pub(super) fn country_from_bytes(country: [u8; 2]) -> Option<String> {
    if country == [0, 0] {
        return None;
    }
    Some(country.iter().map(|&b| char::from(b)).collect())
}

/// Collects rows, interning brands and issuers, then sorts them into groups.
pub(super) struct TableBuilder {
    source: BinSource,
    pub(super) entries: Vec<(u8, u64, Row)>,
    issuers: Vec<Issuer>,
    issuer_ids: HashMap<Issuer, u32>,
    brands: Vec<Brand>,
    brand_ids: HashMap<String, u16>,
}

impl TableBuilder {
    pub(super) fn new(source: BinSource) -> Self {
        let none = Issuer {
            code: None,
            name_zh: None,
            name_en: None,
        };
        TableBuilder {
            source,
            entries: Vec::new(),
            issuers: vec![none.clone()],
            issuer_ids: HashMap::from([(none, 0)]),
            brands: Vec::new(),
            brand_ids: HashMap::new(),
        }
    }

    pub(super) fn brand(&mut self, name: &str) -> Option<u16> {
        if let Some(&id) = self.brand_ids.get(name) {
            return Some(id);
        }
        let id = u16::try_from(self.brands.len()).ok()?;
        self.brands.push(Brand::parse(name));
        self.brand_ids.insert(name.to_owned(), id);
        Some(id)
    }

    pub(super) fn issuer(&mut self, issuer: Issuer) -> Option<u32> {
        if let Some(&id) = self.issuer_ids.get(&issuer) {
            return Some(id);
        }
        let id = u32::try_from(self.issuers.len()).ok()?;
        self.issuers.push(issuer.clone());
        self.issuer_ids.insert(issuer, id);
        Some(id)
    }

    pub(super) fn finish(mut self) -> Table {
        // Longest prefixes first; within a length by key, then file order
        // (the sort is stable).
        self.entries
            .sort_by_key(|&(plen, key, _)| (std::cmp::Reverse(plen), key));
        let mut groups: Vec<Group> = Vec::new();
        let mut rows = Vec::with_capacity(self.entries.len());
        let mut start = 0;
        while start < self.entries.len() {
            let plen = self.entries[start].0;
            let end = self.entries[start..]
                .iter()
                .position(|e| e.0 != plen)
                .map_or(self.entries.len(), |n| start + n);
            let slice = &self.entries[start..end];
            let keys = if plen <= 9 {
                Keys::Narrow(
                    slice
                        .iter()
                        .map(|e| u32::try_from(e.1).unwrap_or(u32::MAX))
                        .collect(),
                )
            } else {
                Keys::Wide(slice.iter().map(|e| e.1).collect())
            };
            rows.extend(slice.iter().map(|e| e.2));
            groups.push(Group {
                prefix_len: plen,
                first_row: start,
                keys,
            });
            start = end;
        }
        self.issuers.shrink_to_fit();
        self.brands.shrink_to_fit();
        Table {
            source: self.source,
            groups,
            rows,
            issuers: self.issuers,
            brands: self.brands,
        }
    }
}

/// A brand's IIN range: `prefix_start..=prefix_end`, both of one length.
pub(super) struct SchemeRange {
    pub(super) brand: Brand,
    pub(super) prefix_len: u8,
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) pan_lengths: Vec<u8>,
}

impl SchemeRange {
    pub(super) fn matches(&self, digits: &str) -> bool {
        let plen = usize::from(self.prefix_len);
        if digits.len() < plen {
            return false;
        }
        let value = digits_value(&digits[..plen]);
        (self.start..=self.end).contains(&value)
    }
}
