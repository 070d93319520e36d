//! The BIN index: which brand, issuer, card type and country a card number
//! belongs to. Built once at start-up from the tables compiled into the binary
//! (or an operator's own file) and immutable afterwards, so lookups need no lock.
//!
//! Tables are asked in order and the first one with a matching prefix answers:
//! the curated China table (`bins_cn.csv`), then the worldwide 6-digit table
//! (`bins_global_ccby.csv.gz`), then the schemes' IIN ranges
//! (`card_schemes.csv`). An operator's own file replaces the first two.
//!
//! Within a table, with the card's length known, the longest prefix that has a
//! row at that length wins (a row without a length fits any length); when no
//! row has the card's length, the longest prefix answers with the row whose
//! length is nearest to the card's (the longer one on a tie). Without a known
//! length the longest prefix answers; where it has rows at several lengths for
//! different issuers, the first row in the file answers and
//! [`BinIndex::candidates`] lists them all.

use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::Path;

use flate2::read::GzDecoder;

use super::{Brand, CardType};
use crate::card::pan::Pan;

const CN_TABLE: &str = include_str!("../../../../data/bins_cn.csv");
const GLOBAL_TABLE_GZ: &[u8] = include_bytes!("../../../../data/bins_global_ccby.csv.gz");
const SCHEME_RANGES: &str = include_str!("../../../../data/card_schemes.csv");

/// Table lookups need at least this many digits; shorter input is matched
/// against the scheme ranges only.
pub const MIN_TABLE_DIGITS: usize = 6;

/// Input of this many digits or more is taken as a whole card number by
/// [`BinIndex::lookup`], so its length decides between rows.
pub const FULL_NUMBER_DIGITS: usize = crate::card::pan::MIN_LEN;

/// The longest prefix a BIN file may hold.
pub const MAX_PREFIX_DIGITS: usize = 12;

/// Which table answered a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinSource {
    /// `bins_cn.csv`, curated Chinese issuers.
    ChinaTable,
    /// `bins_global_ccby.csv.gz`, worldwide 6-digit BINs (CC BY 4.0).
    GlobalTable,
    /// `card_schemes.csv`: only the brand and its lengths are known.
    SchemeRanges,
    /// The operator's own BIN file.
    Custom,
}

impl BinSource {
    pub fn code(self) -> &'static str {
        match self {
            BinSource::ChinaTable => "china_table",
            BinSource::GlobalTable => "global_table",
            BinSource::SchemeRanges => "scheme_ranges",
            BinSource::Custom => "custom",
        }
    }

    /// True for tables of real issuers' BINs (not the schemes' broad ranges).
    pub fn is_issuer_table(self) -> bool {
        !matches!(self, BinSource::SchemeRanges)
    }
}

impl serde::Serialize for BinSource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl fmt::Display for BinSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What the index knows about a card number. Serializes with the field
/// names below and codes for brand, card type and source.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BinRecord {
    pub brand: Brand,
    /// Short issuer code shared by all tables for the big Chinese banks
    /// (`ICBC`, `CCB`, `COMM`, ...), so that policies by issuer work.
    pub issuer_code: Option<String>,
    pub issuer_name_zh: Option<String>,
    pub issuer_name_en: Option<String>,
    pub card_type: Option<CardType>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
    /// The card lengths this BIN is issued at, ascending; empty when unknown.
    pub pan_lengths: Vec<u8>,
    pub source: BinSource,
    /// The table prefix (or scheme range prefix) that matched.
    pub prefix: String,
}

impl BinRecord {
    /// The issuer as people call it: the Chinese name, else the English name,
    /// else the code.
    pub fn issuer_display_zh(&self) -> Option<&str> {
        self.issuer_name_zh
            .as_deref()
            .or(self.issuer_name_en.as_deref())
            .or(self.issuer_code.as_deref())
    }

    pub fn issuer_display_en(&self) -> Option<&str> {
        self.issuer_name_en
            .as_deref()
            .or(self.issuer_code.as_deref())
            .or(self.issuer_name_zh.as_deref())
    }

    /// True when the length rule is known and `len` breaks it.
    pub fn length_mismatch(&self, len: usize) -> bool {
        !self.pan_lengths.is_empty() && !self.pan_lengths.iter().any(|&l| usize::from(l) == len)
    }
}

/// A BIN table that could not be read. Names the table and the line.
#[derive(Debug, thiserror::Error)]
pub enum BinTableError {
    #[error("cannot read {table}: {source}")]
    Io {
        table: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{table}: {message}")]
    Header { table: String, message: String },
    #[error("{table} line {line}: {message}")]
    Row {
        table: String,
        line: usize,
        message: String,
    },
}

/// Row counts and the memory the index holds, for start-up logs and benches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinIndexStats {
    /// Rows per table, in lookup order (scheme ranges last).
    pub tables: Vec<(BinSource, usize)>,
    /// Bytes the index keeps on the heap (capacities, not just lengths).
    pub heap_bytes: usize,
}

/// The immutable BIN index. Cheap to share behind an `Arc`.
pub struct BinIndex {
    tables: Vec<Table>,
    schemes: Vec<SchemeRange>,
}

impl fmt::Debug for BinIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tables: Vec<(BinSource, usize)> = self
            .tables
            .iter()
            .map(|t| (t.source, t.rows.len()))
            .collect();
        f.debug_struct("BinIndex")
            .field("tables", &tables)
            .field("scheme_ranges", &self.schemes.len())
            .finish()
    }
}

impl BinIndex {
    /// The shipped tables: China, then global, then scheme ranges. Takes a
    /// few hundred milliseconds (see BENCHMARKS.md): build it once.
    pub fn builtin() -> Result<BinIndex, BinTableError> {
        let china = parse_issuer_table(
            CN_TABLE.as_bytes(),
            "bins_cn.csv (built in)",
            BinSource::ChinaTable,
        )?;
        let global = parse_global_table(
            BufReader::with_capacity(64 * 1024, GzDecoder::new(GLOBAL_TABLE_GZ)),
            "bins_global_ccby.csv.gz (built in)",
        )?;
        Ok(BinIndex {
            tables: vec![china, global],
            schemes: builtin_schemes()?,
        })
    }

    /// Only the scheme ranges: brand and lengths, no issuers. For tests and
    /// tools that must start instantly.
    pub fn schemes_only() -> Result<BinIndex, BinTableError> {
        Ok(BinIndex {
            tables: Vec::new(),
            schemes: builtin_schemes()?,
        })
    }

    /// An operator's own BIN file, which replaces the shipped tables: lookups
    /// ask it first, then the scheme ranges. The format is that of
    /// `bins_cn.csv`: UTF-8 CSV with a header row naming the columns, in any
    /// order (quotes as in RFC 4180, no line breaks inside fields):
    ///
    /// | column | required | content |
    /// |---|---|---|
    /// | `prefix` | yes | 1 to 12 digits |
    /// | `brand` | yes | `UNIONPAY`, `VISA`, `MASTERCARD`, `AMEX`, `JCB`, `CN_DOMESTIC`, or any scheme name |
    /// | `pan_length` | no | 12 to 20; empty: any length |
    /// | `issuer_code` | no | e.g. `ICBC` (aliases such as `BOCOM` become `COMM`) |
    /// | `issuer_name_zh`, `issuer_name_en` | no | issuer names |
    /// | `card_type` | no | `DEBIT`, `CREDIT`, `SEMI_CREDIT`, `PREPAID` |
    /// | `country` | no | ISO 3166-1 alpha-2 |
    ///
    /// Other columns (`sources`) are ignored. A prefix may repeat at different
    /// lengths, never at the same one.
    pub fn from_csv_reader<R: BufRead>(reader: R, name: &str) -> Result<BinIndex, BinTableError> {
        BinIndex::schemes_only()?.with_custom_table(reader, name)
    }

    /// [`BinIndex::from_csv_reader`] on a file.
    pub fn from_path(path: &Path) -> Result<BinIndex, BinTableError> {
        let name = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|source| BinTableError::Io {
            table: name.clone(),
            source,
        })?;
        BinIndex::from_csv_reader(BufReader::new(file), &name)
    }

    /// Replaces this index's tables with the operator's file (see
    /// [`BinIndex::from_csv_reader`] for the format); the scheme ranges stay
    /// as the fallback.
    pub fn with_custom_table<R: BufRead>(
        mut self,
        reader: R,
        name: &str,
    ) -> Result<BinIndex, BinTableError> {
        let custom = parse_issuer_table(reader, name, BinSource::Custom)?;
        self.tables = vec![custom];
        Ok(self)
    }

    /// Looks up a whole card number or a prefix (ASCII digits only; anything
    /// else finds nothing). Input of 12 digits or more is taken as a whole
    /// number whose length decides between rows; shorter input is a prefix.
    /// Fewer than 6 digits: scheme ranges only.
    pub fn lookup(&self, digits: &str) -> Option<BinRecord> {
        let len = (digits.len() >= FULL_NUMBER_DIGITS).then_some(digits.len());
        self.lookup_with_len(digits, len)
    }

    /// Looks up a prefix (or whole number) of a card whose length may be
    /// known.
    pub fn lookup_with_len(&self, digits: &str, pan_len: Option<usize>) -> Option<BinRecord> {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if digits.len() >= MIN_TABLE_DIGITS {
            for table in &self.tables {
                if let Some(hit) = table.find(digits, pan_len) {
                    return Some(self.record(table, digits, &hit));
                }
            }
        }
        self.scheme_lookup(digits, pan_len)
    }

    /// Looks up a parsed card number; its length decides between rows.
    pub fn lookup_pan(&self, pan: &Pan) -> Option<BinRecord> {
        self.lookup_with_len(pan.expose_digits(), Some(pan.len()))
    }

    /// Every row at the prefix that answers, the chosen one first: shows
    /// support staff when a prefix is shared by issuers at different lengths.
    pub fn candidates(&self, digits: &str, pan_len: Option<usize>) -> Vec<BinRecord> {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Vec::new();
        }
        if digits.len() >= MIN_TABLE_DIGITS {
            for table in &self.tables {
                if let Some(hit) = table.find(digits, pan_len) {
                    let mut out = vec![self.record(table, digits, &hit)];
                    for row in hit.rows.clone() {
                        if row != hit.chosen {
                            let single = Hit {
                                rows: hit.rows.clone(),
                                chosen: row,
                                prefix_len: hit.prefix_len,
                            };
                            out.push(self.record(table, digits, &single));
                        }
                    }
                    return out;
                }
            }
        }
        self.scheme_lookup(digits, pan_len).into_iter().collect()
    }

    /// True when a row of a real issuer table (China, global or custom; not
    /// the scheme ranges) overlaps `prefix`: the row's prefix starts with it,
    /// or it starts with the row's prefix. Token BIN ranges must never
    /// overlap a real issuer's range. Non-digit input is treated as issued
    /// (never safe to use).
    pub fn is_issued_prefix(&self, prefix: &str) -> bool {
        if prefix.is_empty()
            || prefix.len() > MAX_PREFIX_DIGITS
            || !prefix.bytes().all(|b| b.is_ascii_digit())
        {
            return true;
        }
        self.tables.iter().any(|t| t.overlaps(prefix))
    }

    pub fn stats(&self) -> BinIndexStats {
        let mut tables: Vec<(BinSource, usize)> = self
            .tables
            .iter()
            .map(|t| (t.source, t.rows.len()))
            .collect();
        tables.push((BinSource::SchemeRanges, self.schemes.len()));
        let heap_bytes = self.tables.iter().map(Table::heap_bytes).sum::<usize>()
            + self.tables.capacity() * size_of::<Table>()
            + self.schemes.capacity() * size_of::<SchemeRange>()
            + self
                .schemes
                .iter()
                .map(|s| s.pan_lengths.capacity() + brand_heap(&s.brand))
                .sum::<usize>();
        BinIndexStats { tables, heap_bytes }
    }

    fn record(&self, table: &Table, digits: &str, hit: &Hit) -> BinRecord {
        let chosen = &table.rows[hit.chosen];
        let brand = table.brands[usize::from(chosen.brand)].clone();
        let issuer = &table.issuers[chosen.issuer as usize];
        let mut pan_lengths: Vec<u8> = table.rows[hit.rows.clone()]
            .iter()
            .filter(|r| r.pan_length != 0 && r.same_issuer(chosen))
            .map(|r| r.pan_length)
            .collect();
        if chosen.pan_length != 0 && !pan_lengths.contains(&chosen.pan_length) {
            pan_lengths.push(chosen.pan_length);
        }
        if pan_lengths.is_empty() {
            // The table gives no length: the brand's rule from the schemes.
            pan_lengths = self.scheme_lengths(&brand, digits);
        }
        pan_lengths.sort_unstable();
        pan_lengths.dedup();
        BinRecord {
            brand,
            issuer_code: issuer.code.as_deref().map(str::to_owned),
            issuer_name_zh: issuer.name_zh.as_deref().map(str::to_owned),
            issuer_name_en: issuer.name_en.as_deref().map(str::to_owned),
            card_type: card_type_from_u8(chosen.card_type),
            country: country_from_bytes(chosen.country),
            pan_lengths,
            source: table.source,
            prefix: digits[..usize::from(hit.prefix_len)].to_owned(),
        }
    }

    /// The scheme ranges matching `digits`, longest prefix first (file order
    /// among equals).
    fn scheme_matches<'a>(&'a self, digits: &'a str) -> impl Iterator<Item = &'a SchemeRange> {
        let mut matches: Vec<&SchemeRange> =
            self.schemes.iter().filter(|s| s.matches(digits)).collect();
        matches.sort_by_key(|s| std::cmp::Reverse(s.prefix_len));
        matches.into_iter()
    }

    fn scheme_lookup(&self, digits: &str, pan_len: Option<usize>) -> Option<BinRecord> {
        let mut matches = self.scheme_matches(digits).peekable();
        let longest = *matches.peek()?;
        let chosen = match pan_len {
            Some(len) => matches
                .find(|s| s.pan_lengths.iter().any(|&l| usize::from(l) == len))
                .unwrap_or(longest),
            None => longest,
        };
        Some(BinRecord {
            brand: chosen.brand.clone(),
            issuer_code: None,
            issuer_name_zh: None,
            issuer_name_en: None,
            card_type: None,
            country: None,
            pan_lengths: chosen.pan_lengths.clone(),
            source: BinSource::SchemeRanges,
            prefix: digits[..usize::from(chosen.prefix_len)].to_owned(),
        })
    }

    /// The length rule of `brand` for `digits`: the longest matching range of
    /// that brand, else any range of that brand; empty when the schemes don't
    /// know the brand.
    fn scheme_lengths(&self, brand: &Brand, digits: &str) -> Vec<u8> {
        self.scheme_matches(digits)
            .find(|s| &s.brand == brand)
            .or_else(|| self.schemes.iter().find(|s| &s.brand == brand))
            .map(|s| s.pan_lengths.clone())
            .unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------
// Tables

/// One issuer table, grouped by prefix length (longest first); within a
/// group, keys are sorted and rows sit in the same order, so a lookup is one
/// binary search per prefix length.
struct Table {
    source: BinSource,
    groups: Vec<Group>,
    rows: Vec<Row>,
    issuers: Vec<Issuer>,
    brands: Vec<Brand>,
}

struct Group {
    prefix_len: u8,
    /// Index in `rows` of this group's first row.
    first_row: usize,
    keys: Keys,
}

/// Prefixes as numbers (their length is the group's); 4 bytes each up to 9
/// digits, 8 beyond.
enum Keys {
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
struct Row {
    issuer: u32,
    brand: u16,
    /// ASCII alpha-2, `[0, 0]` when unknown.
    country: [u8; 2],
    /// 0 when the table gives no length.
    pan_length: u8,
    /// 0 unknown, else `card_type_to_u8`.
    card_type: u8,
}

impl Row {
    fn same_issuer(&self, other: &Row) -> bool {
        self.issuer == other.issuer
            && self.brand == other.brand
            && self.card_type == other.card_type
            && self.country == other.country
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Issuer {
    code: Option<Box<str>>,
    name_zh: Option<Box<str>>,
    name_en: Option<Box<str>>,
}

struct Hit {
    prefix_len: u8,
    /// All rows at the matched prefix.
    rows: std::ops::Range<usize>,
    chosen: usize,
}

impl Table {
    fn find(&self, digits: &str, pan_len: Option<usize>) -> Option<Hit> {
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

    fn overlaps(&self, prefix: &str) -> bool {
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

    fn heap_bytes(&self) -> usize {
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

fn brand_heap(brand: &Brand) -> usize {
    match brand {
        Brand::Other(name) => name.capacity(),
        _ => 0,
    }
}

/// The value of an ASCII digit string of at most 19 digits.
fn digits_value(digits: &str) -> u64 {
    digits
        .bytes()
        .fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'))
}

fn card_type_to_u8(card_type: Option<CardType>) -> u8 {
    match card_type {
        None => 0,
        Some(CardType::Debit) => 1,
        Some(CardType::Credit) => 2,
        Some(CardType::SemiCredit) => 3,
        Some(CardType::Prepaid) => 4,
    }
}

fn card_type_from_u8(value: u8) -> Option<CardType> {
    match value {
        1 => Some(CardType::Debit),
        2 => Some(CardType::Credit),
        3 => Some(CardType::SemiCredit),
        4 => Some(CardType::Prepaid),
        _ => None,
    }
}

fn country_from_bytes(country: [u8; 2]) -> Option<String> {
    if country == [0, 0] {
        return None;
    }
    Some(country.iter().map(|&b| char::from(b)).collect())
}

/// Collects rows, interning brands and issuers, then sorts them into groups.
struct TableBuilder {
    source: BinSource,
    entries: Vec<(u8, u64, Row)>,
    issuers: Vec<Issuer>,
    issuer_ids: HashMap<Issuer, u32>,
    brands: Vec<Brand>,
    brand_ids: HashMap<String, u16>,
}

impl TableBuilder {
    fn new(source: BinSource) -> Self {
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

    fn brand(&mut self, name: &str) -> Option<u16> {
        if let Some(&id) = self.brand_ids.get(name) {
            return Some(id);
        }
        let id = u16::try_from(self.brands.len()).ok()?;
        self.brands.push(Brand::parse(name));
        self.brand_ids.insert(name.to_owned(), id);
        Some(id)
    }

    fn issuer(&mut self, issuer: Issuer) -> Option<u32> {
        if let Some(&id) = self.issuer_ids.get(&issuer) {
            return Some(id);
        }
        let id = u32::try_from(self.issuers.len()).ok()?;
        self.issuers.push(issuer.clone());
        self.issuer_ids.insert(issuer, id);
        Some(id)
    }

    fn finish(mut self) -> Table {
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

// ---------------------------------------------------------------------------
// Parsing

/// One line of a CSV file, after the split.
enum CsvLine<'a> {
    Header(&'a [&'a str]),
    /// The line number (1-based, header included) and the fields.
    Row(usize, &'a [&'a str]),
}

/// Reads CSV lines from `reader` and hands each to `on_line`, the header
/// first; blank lines are skipped. Errors name the table and the line.
fn read_csv<R: BufRead>(
    mut reader: R,
    table: &str,
    mut on_line: impl FnMut(CsvLine<'_>) -> Result<(), String>,
) -> Result<(), BinTableError> {
    let mut line = String::new();
    let mut fields: Vec<String> = Vec::new();
    let mut line_no = 0usize;
    let mut seen_header = false;
    loop {
        line.clear();
        let read = reader
            .read_line(&mut line)
            .map_err(|source| BinTableError::Io {
                table: table.to_owned(),
                source,
            })?;
        if read == 0 {
            break;
        }
        line_no += 1;
        let mut text = line.trim_end_matches(['\n', '\r']);
        if line_no == 1 {
            text = text.trim_start_matches('\u{feff}');
        }
        if text.trim().is_empty() {
            continue;
        }
        split_csv_line(text, &mut fields).map_err(|message| BinTableError::Row {
            table: table.to_owned(),
            line: line_no,
            message: message.to_owned(),
        })?;
        let refs: Vec<&str> = fields.iter().map(|f| f.trim()).collect();
        if seen_header {
            on_line(CsvLine::Row(line_no, &refs)).map_err(|message| BinTableError::Row {
                table: table.to_owned(),
                line: line_no,
                message,
            })?;
        } else {
            seen_header = true;
            on_line(CsvLine::Header(&refs)).map_err(|message| BinTableError::Header {
                table: table.to_owned(),
                message,
            })?;
        }
    }
    if !seen_header {
        return Err(BinTableError::Header {
            table: table.to_owned(),
            message: "the file is empty: it needs a header row".to_owned(),
        });
    }
    Ok(())
}

/// Splits one CSV line (RFC 4180 quoting, no line breaks inside fields) into
/// `fields`, reusing their allocations.
fn split_csv_line(line: &str, fields: &mut Vec<String>) -> Result<(), &'static str> {
    if !line.contains('"') {
        let mut count = 0;
        for part in line.split(',') {
            if fields.len() == count {
                fields.push(String::new());
            }
            fields[count].clear();
            fields[count].push_str(part);
            count += 1;
        }
        fields.truncate(count);
        return Ok(());
    }
    let mut count = 0;
    let mut chars = line.chars().peekable();
    loop {
        if fields.len() == count {
            fields.push(String::new());
        }
        let field = &mut fields[count];
        field.clear();
        count += 1;
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err("a quoted field is not closed"),
                }
            }
            match chars.next() {
                None => break,
                Some(',') => continue,
                Some(_) => return Err("text after a closing quote"),
            }
        } else {
            let mut ended = true;
            for c in chars.by_ref() {
                if c == ',' {
                    ended = false;
                    break;
                }
                field.push(c);
            }
            if ended {
                break;
            }
        }
    }
    fields.truncate(count);
    Ok(())
}

/// Column positions by header name.
fn column(header: &[&str], name: &str) -> Option<usize> {
    header.iter().position(|h| h.eq_ignore_ascii_case(name))
}

/// Fills `cols` with the positions of the `names` columns, all required.
fn find_columns<const N: usize>(
    header: &[&str],
    cols: &mut [usize; N],
    names: [&str; N],
) -> Result<(), String> {
    for (slot, name) in cols.iter_mut().zip(names) {
        *slot = column(header, name).ok_or_else(|| {
            format!(
                "the header has no {name:?} column (found: {})",
                header.join(",")
            )
        })?;
    }
    Ok(())
}

fn parse_prefix(value: &str) -> Result<(u8, u64), String> {
    if value.is_empty()
        || value.len() > MAX_PREFIX_DIGITS
        || !value.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!(
            "prefix {value:?} is not 1 to {MAX_PREFIX_DIGITS} digits"
        ));
    }
    Ok((value.len() as u8, digits_value(value)))
}

fn parse_country(value: &str) -> Result<[u8; 2], String> {
    match value.as_bytes() {
        [] => Ok([0, 0]),
        [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
            Ok([a.to_ascii_uppercase(), b.to_ascii_uppercase()])
        }
        _ => Err(format!(
            "country {value:?} is not an ISO 3166 alpha-2 code (CN, US, ...)"
        )),
    }
}

fn non_empty(value: &str) -> Option<Box<str>> {
    (!value.is_empty()).then(|| value.into())
}

/// Parses a table in the `bins_cn.csv` format (also the custom format).
fn parse_issuer_table<R: BufRead>(
    reader: R,
    name: &str,
    source: BinSource,
) -> Result<Table, BinTableError> {
    #[derive(Default)]
    struct Columns {
        prefix: usize,
        brand: usize,
        pan_length: Option<usize>,
        issuer_code: Option<usize>,
        issuer_name_zh: Option<usize>,
        issuer_name_en: Option<usize>,
        card_type: Option<usize>,
        country: Option<usize>,
    }
    let mut cols = Columns::default();
    let mut builder = TableBuilder::new(source);
    // (prefix length, prefix, pan length) -> the row number it was first seen on.
    let mut seen: HashMap<(u8, u64, u8), usize> = HashMap::new();
    read_csv(reader, name, |line| {
        let (line_no, fields) = match line {
            CsvLine::Header(header) => {
                let required = |n: &str| {
                    column(header, n).ok_or_else(|| {
                        format!(
                            "the header has no {n:?} column (found: {})",
                            header.join(",")
                        )
                    })
                };
                cols = Columns {
                    prefix: required("prefix")?,
                    brand: required("brand")?,
                    pan_length: column(header, "pan_length"),
                    issuer_code: column(header, "issuer_code"),
                    issuer_name_zh: column(header, "issuer_name_zh"),
                    issuer_name_en: column(header, "issuer_name_en"),
                    card_type: column(header, "card_type"),
                    country: column(header, "country"),
                };
                return Ok(());
            }
            CsvLine::Row(line_no, fields) => (line_no, fields),
        };
        let get = |i: Option<usize>| i.and_then(|i| fields.get(i)).copied().unwrap_or("");
        let (plen, key) = parse_prefix(get(Some(cols.prefix)))?;
        let pan_length = match get(cols.pan_length) {
            "" => 0,
            value => match value.parse::<u8>() {
                Ok(l @ 12..=20) => l,
                _ => return Err(format!("pan_length {value:?} is not 12 to 20 (or empty)")),
            },
        };
        let brand_name = get(Some(cols.brand));
        if brand_name.is_empty() {
            return Err("brand is empty".to_owned());
        }
        let card_type = match get(cols.card_type) {
            "" => None,
            value => Some(CardType::parse(value).ok_or_else(|| {
                format!("card_type {value:?} is not DEBIT, CREDIT, SEMI_CREDIT or PREPAID")
            })?),
        };
        let country = parse_country(get(cols.country))?;
        let code = match get(cols.issuer_code) {
            "" => None,
            value => Some(canonical_issuer_code(value)),
        };
        let big = code.as_deref().and_then(big_bank);
        let issuer = Issuer {
            name_zh: non_empty(get(cols.issuer_name_zh)).or_else(|| big.map(|b| b.0.into())),
            name_en: non_empty(get(cols.issuer_name_en)).or_else(|| big.map(|b| b.1.into())),
            code: code.map(String::into_boxed_str),
        };
        if let Some(first) = seen.insert((plen, key, pan_length), line_no) {
            return Err(format!(
                "prefix {} at length {} repeats line {first}",
                get(Some(cols.prefix)),
                if pan_length == 0 {
                    "any".to_owned()
                } else {
                    pan_length.to_string()
                }
            ));
        }
        let brand = builder
            .brand(brand_name)
            .ok_or_else(|| "too many distinct brands".to_owned())?;
        let issuer = builder
            .issuer(issuer)
            .ok_or_else(|| "too many distinct issuers".to_owned())?;
        builder.entries.push((
            plen,
            key,
            Row {
                issuer,
                brand,
                country,
                pan_length,
                card_type: card_type_to_u8(card_type),
            },
        ));
        Ok(())
    })?;
    Ok(builder.finish())
}

/// Parses the worldwide table: `bin,brand,type,category,issuer,country`.
fn parse_global_table<R: BufRead>(reader: R, name: &str) -> Result<Table, BinTableError> {
    let mut cols = [0usize; 6];
    let mut builder = TableBuilder::new(BinSource::GlobalTable);
    builder.entries.reserve(330_000);
    let mut last_brand: Option<(String, u16)> = None;
    let mut last_issuer: Option<(bool, String, u32)> = None;
    read_csv(reader, name, |line| {
        let fields = match line {
            CsvLine::Header(header) => {
                return find_columns(
                    header,
                    &mut cols,
                    ["bin", "brand", "type", "category", "issuer", "country"],
                );
            }
            CsvLine::Row(_, fields) => fields,
        };
        let get = |i: usize| fields.get(cols[i]).copied().unwrap_or("");
        let (plen, key) = parse_prefix(get(0))?;
        // Co-brands ("VISA/DANKORT", "MAESTRO/BANCONTACT", "JCB/RUPAY")
        // count as the first network named.
        let brand_name = get(1).split('/').next().unwrap_or("").trim();
        if brand_name.is_empty() {
            return Err("brand is empty".to_owned());
        }
        let category = get(3);
        let card_type = if is_prepaid_category(category) {
            Some(CardType::Prepaid)
        } else {
            match get(2) {
                "DEBIT" => Some(CardType::Debit),
                "CREDIT" => Some(CardType::Credit),
                other => CardType::parse(other),
            }
        };
        let country = parse_country(get(5))?;
        let issuer_name = get(4);
        // Rows come sorted by BIN, so neighbours mostly share brand and
        // issuer: remembering the last ones saves most of the hashing.
        let brand = match &last_brand {
            Some((name, id)) if name == brand_name => *id,
            _ => {
                let id = builder
                    .brand(brand_name)
                    .ok_or_else(|| "too many distinct brands".to_owned())?;
                last_brand = Some((brand_name.to_owned(), id));
                id
            }
        };
        let is_cn = &country == b"CN";
        let issuer = match &last_issuer {
            Some((cn, name, id)) if *cn == is_cn && name == issuer_name => *id,
            _ => {
                let code = if is_cn {
                    issuer_code_from_name(issuer_name)
                } else {
                    None
                };
                let issuer = match code {
                    Some(code) => {
                        let big = big_bank(code);
                        Issuer {
                            code: Some(code.into()),
                            name_zh: big.map(|b| b.0.into()),
                            name_en: big.map(|b| b.1.into()),
                        }
                    }
                    None => Issuer {
                        code: None,
                        name_zh: None,
                        name_en: non_empty(issuer_name),
                    },
                };
                let id = builder
                    .issuer(issuer)
                    .ok_or_else(|| "too many distinct issuers".to_owned())?;
                last_issuer = Some((is_cn, issuer_name.to_owned(), id));
                id
            }
        };
        builder.entries.push((
            plen,
            key,
            Row {
                issuer,
                brand,
                country,
                pan_length: 0,
                card_type: card_type_to_u8(card_type),
            },
        ));
        Ok(())
    })?;
    Ok(builder.finish())
}

/// The global table's `category` says prepaid as `PREPAID`, `PREPAID ...`,
/// `... PREPAID` or `GIFT ...`.
fn is_prepaid_category(category: &str) -> bool {
    category.split_ascii_whitespace().any(|w| w == "PREPAID") || category.starts_with("GIFT")
}

/// A brand's IIN range: `prefix_start..=prefix_end`, both of one length.
struct SchemeRange {
    brand: Brand,
    prefix_len: u8,
    start: u64,
    end: u64,
    pan_lengths: Vec<u8>,
}

impl SchemeRange {
    fn matches(&self, digits: &str) -> bool {
        let plen = usize::from(self.prefix_len);
        if digits.len() < plen {
            return false;
        }
        let value = digits_value(&digits[..plen]);
        (self.start..=self.end).contains(&value)
    }
}

fn builtin_schemes() -> Result<Vec<SchemeRange>, BinTableError> {
    let name = "card_schemes.csv (built in)";
    let mut cols = [0usize; 4];
    let mut out = Vec::new();
    read_csv(SCHEME_RANGES.as_bytes(), name, |line| {
        let fields = match line {
            CsvLine::Header(header) => {
                return find_columns(
                    header,
                    &mut cols,
                    ["brand", "prefix_start", "prefix_end", "pan_lengths"],
                );
            }
            CsvLine::Row(_, fields) => fields,
        };
        let get = |i: usize| fields.get(cols[i]).copied().unwrap_or("");
        let (start_len, start) = parse_prefix(get(1))?;
        let (end_len, end) = parse_prefix(get(2))?;
        if start_len != end_len || start > end {
            return Err(format!(
                "range {}..{} is not one length, low to high",
                get(1),
                get(2)
            ));
        }
        let pan_lengths = get(3)
            .split('|')
            .map(|l| match l.trim().parse::<u8>() {
                Ok(l @ 12..=19) => Ok(l),
                _ => Err(format!("pan length {l:?} is not 12 to 19")),
            })
            .collect::<Result<Vec<u8>, String>>()?;
        out.push(SchemeRange {
            brand: Brand::parse(get(0)),
            prefix_len: start_len,
            start,
            end,
            pan_lengths,
        });
        Ok(())
    })?;
    Ok(out)
}

// ---------------------------------------------------------------------------
// Issuers

/// The issuer code the tables use for a code written another way: upper
/// case, and the common abbreviations of the big banks mapped to the China
/// table's codes (`BOCOM` -> `COMM`, `HXB` -> `HXBANK`, `CGB` -> `GDB`,
/// `PAB` -> `SPABANK`).
pub fn canonical_issuer_code(code: &str) -> String {
    let upper = code.trim().to_ascii_uppercase();
    match upper.as_str() {
        "BOCOM" | "BCM" => "COMM".to_owned(),
        "HXB" => "HXBANK".to_owned(),
        "CGB" => "GDB".to_owned(),
        "PAB" | "PINGAN" => "SPABANK".to_owned(),
        _ => upper,
    }
}

/// Chinese and English names of the banks most people bind, by code.
pub fn big_bank(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "ICBC" => ("中国工商银行", "Industrial and Commercial Bank of China"),
        "ABC" => ("中国农业银行", "Agricultural Bank of China"),
        "BOC" => ("中国银行", "Bank of China"),
        "CCB" => ("中国建设银行", "China Construction Bank"),
        "COMM" => ("交通银行", "Bank of Communications"),
        "CMB" => ("招商银行", "China Merchants Bank"),
        "PSBC" => ("中国邮政储蓄银行", "Postal Savings Bank of China"),
        "CITIC" => ("中信银行", "China CITIC Bank"),
        "CEB" => ("中国光大银行", "China Everbright Bank"),
        "CMBC" => ("中国民生银行", "China Minsheng Bank"),
        "SPDB" => ("上海浦东发展银行", "Shanghai Pudong Development Bank"),
        "CIB" => ("兴业银行", "Industrial Bank"),
        "HXBANK" => ("华夏银行", "Hua Xia Bank"),
        "GDB" => ("广发银行", "China Guangfa Bank"),
        "SPABANK" => ("平安银行", "Ping An Bank"),
        "BJBANK" => ("北京银行", "Bank of Beijing"),
        "SHBANK" => ("上海银行", "Bank of Shanghai"),
        "CZBANK" => ("浙商银行", "China Zheshang Bank"),
        "HSBC" => ("汇丰银行(中国)", "HSBC Bank (China)"),
        "CITI" => ("花旗银行(中国)", "Citibank (China)"),
        _ => return None,
    })
}

/// Maps the worldwide table's issuer names of Chinese banks (written many
/// ways: "CHINA MINSHENG BANKING CORP.,LTD", "CN ICBC PEONY MONEY LINK
/// CARD") to the China table's codes. Village and rural banks that carry a
/// big bank's name in theirs are left alone.
pub fn issuer_code_from_name(name: &str) -> Option<&'static str> {
    let name = name.trim().to_ascii_uppercase();
    let has = |s: &str| name.contains(s);
    if ["VILLAGE", "RURAL", "COOPERATIVE", "CUNZHEN"]
        .iter()
        .any(|s| has(s))
    {
        return None;
    }
    let code =
        if has("ICBC") || has("AND COMMERCIAL BANK OF CHINA") || name == "COMMERCIAL BANK OF CHINA"
        {
            "ICBC"
        } else if has("AGRICULTURAL BANK OF CHINA") || has("AGRICULTURE BANK OF CHINA") {
            "ABC"
        } else if has("CONSTRUCTION BANK") {
            "CCB"
        } else if has("POSTAL SAVING") || has("POST SAVINGS") || has("POSTAL BANK") {
            "PSBC"
        } else if has("BANK OF COMMUNICATIONS") {
            "COMM"
        } else if has("MERCHANTS BANK") || has("MERCHANT BANK") {
            "CMB"
        } else if has("CITIC") {
            "CITIC"
        } else if has("EVERBRIGHT") {
            "CEB"
        } else if has("MINSHENG") {
            "CMBC"
        } else if has("PUDONG DEVELOPMENT") {
            "SPDB"
        } else if has("INDUSTRIAL BANK") {
            "CIB"
        } else if has("HUA XIA") || has("HUAXIA") {
            "HXBANK"
        } else if has("GUANGFA") || has("GUANGDONG DEVELOPMENT") || has("GUANG DONG DEVELOPMENT") {
            "GDB"
        } else if has("PING AN BANK") || has("PINGAN BANK") {
            "SPABANK"
        } else if (name.starts_with("BANK OF CHINA") && !has("TRAVEL SERVICE"))
            || name.starts_with("BOC ")
        {
            "BOC"
        } else {
            return None;
        };
    Some(code)
}

/// The built-in index, built once per test binary (building takes a while
/// in debug builds).
#[cfg(test)]
pub(crate) fn test_index() -> &'static BinIndex {
    static INDEX: std::sync::OnceLock<BinIndex> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| match BinIndex::builtin() {
        Ok(index) => index,
        Err(error) => panic!("built-in BIN tables: {error}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::luhn;

    /// A Luhn-valid number of `len` digits starting with `prefix`.
    pub(crate) fn card(prefix: &str, len: usize) -> String {
        let mut payload = prefix.to_owned();
        while payload.len() < len - 1 {
            payload.push('0');
        }
        let digit = luhn::check_digit(&payload).unwrap();
        format!("{payload}{digit}")
    }

    fn pan(prefix: &str, len: usize) -> Pan {
        Pan::parse(&card(prefix, len)).unwrap()
    }

    #[test]
    fn ccb_436742_at_19_digits_is_a_ccb_debit_card() {
        let record = test_index().lookup_pan(&pan("436742", 19)).unwrap();
        assert_eq!(record.brand, Brand::Visa);
        assert_eq!(record.issuer_code.as_deref(), Some("CCB"));
        assert_eq!(record.issuer_name_zh.as_deref(), Some("中国建设银行"));
        assert_eq!(
            record.issuer_name_en.as_deref(),
            Some("China Construction Bank")
        );
        assert_eq!(record.card_type, Some(CardType::Debit));
        assert_eq!(record.country.as_deref(), Some("CN"));
        assert_eq!(record.pan_lengths, vec![19]);
        assert_eq!(record.source, BinSource::ChinaTable);
        assert_eq!(record.prefix, "436742");
        // The 9-digit row 436742193 is longer, so it answers for its numbers.
        let longer = test_index().lookup_pan(&pan("436742193", 19)).unwrap();
        assert_eq!(longer.prefix, "436742193");
        assert_eq!(longer.issuer_code.as_deref(), Some("CCB"));
    }

    #[test]
    fn a_62_card_resolves_to_its_chinese_bank() {
        let record = test_index().lookup_pan(&pan("622202", 19)).unwrap();
        assert_eq!(record.brand, Brand::UnionPay);
        assert_eq!(record.issuer_code.as_deref(), Some("ICBC"));
        assert_eq!(record.issuer_name_zh.as_deref(), Some("中国工商银行"));
        assert_eq!(record.source, BinSource::ChinaTable);
        let cmb = test_index().lookup_pan(&pan("621483", 16)).unwrap();
        assert_eq!(cmb.issuer_name_zh.as_deref(), Some("招商银行"));
        assert_eq!(cmb.issuer_name_en.as_deref(), Some("China Merchants Bank"));
    }

    #[test]
    fn a_prefix_at_two_lengths_is_decided_by_the_card_length() {
        // 622302: 16 digits at 广东省农村信用社联合社, 18 digits at ICBC.
        let short = test_index().lookup_pan(&pan("622302", 16)).unwrap();
        assert_eq!(short.issuer_code.as_deref(), Some("GDRCC"));
        assert_eq!(short.pan_lengths, vec![16]);
        let long = test_index().lookup_pan(&pan("622302", 18)).unwrap();
        assert_eq!(long.issuer_code.as_deref(), Some("ICBC"));
        assert_eq!(long.pan_lengths, vec![18]);
        // Same prefix, same bank at two lengths: the length rule has both.
        let hz = test_index().lookup_with_len("622286", None).unwrap();
        assert_eq!(hz.issuer_code.as_deref(), Some("HZCB"));
        assert_eq!(hz.pan_lengths, vec![16, 17]);
    }

    #[test]
    fn no_length_match_takes_the_nearest_length() {
        // 622302 has rows at 16 and 18 only: a 19-digit card takes the
        // 18-digit row, a 17-digit card ties and takes the longer (18).
        let nineteen = test_index().lookup_pan(&pan("622302", 19)).unwrap();
        assert_eq!(nineteen.issuer_code.as_deref(), Some("ICBC"));
        assert!(nineteen.length_mismatch(19));
        let seventeen = test_index().lookup_pan(&pan("622302", 17)).unwrap();
        assert_eq!(seventeen.issuer_code.as_deref(), Some("ICBC"));
    }

    #[test]
    fn a_shorter_prefix_at_the_right_length_beats_a_longer_one_at_another() {
        // 621260102 is a 19-digit 常熟农商银行 row; 621260 at 16 is 平安银行.
        let nineteen = test_index().lookup_pan(&pan("621260102", 19)).unwrap();
        assert_eq!(nineteen.issuer_code.as_deref(), Some("CSRCB"));
        assert_eq!(nineteen.prefix, "621260102");
        let sixteen = test_index().lookup_pan(&pan("621260102", 16)).unwrap();
        assert_eq!(sixteen.issuer_code.as_deref(), Some("SPABANK"));
        assert_eq!(sixteen.prefix, "621260");
    }

    #[test]
    fn candidates_show_every_row_at_a_shared_prefix() {
        let all = test_index().candidates("622302", None);
        let mut issuers: Vec<_> = all
            .iter()
            .map(|r| (r.issuer_code.clone().unwrap(), r.pan_lengths.clone()))
            .collect();
        issuers.sort();
        assert_eq!(
            issuers,
            vec![
                ("GDRCC".to_owned(), vec![16]),
                ("ICBC".to_owned(), vec![18])
            ]
        );
        // Without a length, the first row of the file answers.
        let first = test_index().lookup("622302").unwrap();
        assert_eq!(first.issuer_code.as_deref(), Some("GDRCC"));
    }

    #[test]
    fn scheme_ranges_answer_when_no_table_knows_the_bin() {
        // A Mastercard 2-series test card that neither table lists.
        let record = test_index().lookup("2222400070000005").unwrap();
        assert_eq!(record.brand, Brand::Mastercard);
        assert_eq!(record.source, BinSource::SchemeRanges);
        assert_eq!(record.prefix, "2222");
        assert_eq!(record.pan_lengths, vec![16]);
        assert_eq!(record.issuer_code, None);
        assert_eq!(record.country, None);
        // Mir: every 2200-2204 BIN is in the global table, so the built-in
        // index answers from it; with the schemes alone the range answers.
        let mir = card("2200", 16);
        let global = test_index().lookup(&mir).unwrap();
        assert_eq!(
            (global.brand, global.source),
            (Brand::Mir, BinSource::GlobalTable)
        );
        let schemes = BinIndex::schemes_only().unwrap();
        let fallback = schemes.lookup(&mir).unwrap();
        assert_eq!(fallback.brand, Brand::Mir);
        assert_eq!(fallback.source, BinSource::SchemeRanges);
        assert_eq!(fallback.prefix, "2200");
        assert_eq!(fallback.pan_lengths, vec![16, 17, 18, 19]);
    }

    #[test]
    fn short_input_asks_the_scheme_ranges_only() {
        let record = test_index().lookup("62").unwrap();
        assert_eq!(record.brand, Brand::UnionPay);
        assert_eq!(record.source, BinSource::SchemeRanges);
        let record = test_index().lookup("43674").unwrap();
        assert_eq!(
            (record.brand, record.source),
            (Brand::Visa, BinSource::SchemeRanges)
        );
        // Overlapping ranges: the longest prefix wins.
        assert_eq!(test_index().lookup("6011").unwrap().brand, Brand::Discover);
        assert_eq!(test_index().lookup("5019").unwrap().brand, Brand::Dankort);
        assert_eq!(test_index().lookup("8171").unwrap().brand, Brand::UnionPay);
        assert_eq!(test_index().lookup("1"), None);
        assert_eq!(test_index().lookup(""), None);
        assert_eq!(test_index().lookup("4367 42"), None);
    }

    #[test]
    fn the_global_table_answers_outside_china_and_maps_chinese_banks() {
        let visa = test_index().lookup("424242").unwrap();
        assert_eq!(visa.brand, Brand::Visa);
        assert_eq!(visa.source, BinSource::GlobalTable);
        assert_eq!(visa.pan_lengths, vec![13, 16, 19]);
        assert!(visa.country.is_some());
        // A quoted issuer name with a comma in it.
        let bdo = test_index().lookup("011300").unwrap();
        assert_eq!(bdo.issuer_name_en.as_deref(), Some("BDO UNIBANK, INC."));
        assert_eq!(bdo.country.as_deref(), Some("PH"));
        // Chinese issuers written in English get the China table's codes.
        let mapped: Vec<(&str, &str)> = vec![
            ("CN ICBC PEONY MONEY LINK CARD", "ICBC"),
            ("INSDUSTRIAL AND COMMERCIAL BANK OF CHINA", "ICBC"),
            ("AGRICULTURAL BANK OF CHINA, LTD.", "ABC"),
            ("BANK OF CHINA, LTD.", "BOC"),
            ("CHINA CONSTRUCTION BANK CORPORATION", "CCB"),
            ("BANK OF COMMUNICATIONS CO., LTD", "COMM"),
            ("CHINA MERCHANT BANK", "CMB"),
            ("POSTAL SAVING BANK OF CHINA", "PSBC"),
            ("CHINA CITIC BANK CORPORATION, LTD.", "CITIC"),
            ("CHINA EVERBRIGHT BANK COMPANY, LTD.", "CEB"),
            ("CHINA MINSHENG BANKING CORP.,LTD", "CMBC"),
            ("SHANGHAI PUDONG DEVELOPMENT BANK OF CHINA", "SPDB"),
            ("INDUSTRIAL BANK CO., LTD", "CIB"),
            ("HUAXIA BANK CO.LTD", "HXBANK"),
            ("CHINA GUANGFA BANK CO., LTD.", "GDB"),
            ("GUANG DONG DEVELOPMENT BANK", "GDB"),
            ("PINGAN BANK DEBIT", "SPABANK"),
        ];
        for (name, code) in mapped {
            assert_eq!(issuer_code_from_name(name), Some(code), "{name}");
        }
        for name in [
            "PEOPLES BANK OF CHINA",
            "CHONGQING BISHAN ICBC RURAL BANK",
            "SHIHEZI BANK OF COMMUNICATIONS VILLAGE BANK-GOBI PEARL CARD",
            "BANK OF GUIYANG CO., LTD.",
            "",
        ] {
            assert_eq!(issuer_code_from_name(name), None, "{name}");
        }
    }

    #[test]
    fn a_global_only_chinese_bin_gets_the_issuer_code() {
        // Find a CN row of the global table for ABC that the China table
        // does not cover, and check it answers with ABC's code and names.
        let global = test_index()
            .tables
            .iter()
            .find(|t| t.source == BinSource::GlobalTable)
            .unwrap();
        let china = &test_index().tables[0];
        let group = &global.groups[0];
        let Keys::Narrow(keys) = &group.keys else {
            panic!("6-digit keys are narrow")
        };
        let (bin, _) = keys
            .iter()
            .zip(&global.rows[group.first_row..])
            .map(|(k, row)| (format!("{k:06}"), row))
            .find(|(bin, row)| {
                global.issuers[row.issuer as usize].code.as_deref() == Some("ABC")
                    && !china.overlaps(bin)
            })
            .unwrap();
        let record = test_index().lookup(&bin).unwrap();
        assert_eq!(record.source, BinSource::GlobalTable);
        assert_eq!(record.issuer_code.as_deref(), Some("ABC"));
        assert_eq!(record.issuer_name_zh.as_deref(), Some("中国农业银行"));
        assert_eq!(record.country.as_deref(), Some("CN"));
    }

    #[test]
    fn prepaid_categories_are_prepaid() {
        assert!(is_prepaid_category("PREPAID"));
        assert!(is_prepaid_category("PREPAID RELOADABLE"));
        assert!(is_prepaid_category("PERSONAL GREEN PREPAID"));
        assert!(is_prepaid_category("GIFT"));
        assert!(!is_prepaid_category("PLATINUM"));
        assert!(!is_prepaid_category(""));
        // DEBIT in the type column, PERSONAL GREEN PREPAID in the category.
        let prepaid = test_index().lookup("372002").unwrap();
        assert_eq!(prepaid.brand, Brand::Amex);
        assert_eq!(prepaid.card_type, Some(CardType::Prepaid), "{prepaid:?}");
    }

    #[test]
    fn every_luhn_valid_test_card_gets_a_brand() {
        let text = include_str!("../../../../data/test_cards.csv");
        let mut checked = 0;
        for line in text.lines().skip(1) {
            let mut fields = Vec::new();
            split_csv_line(line, &mut fields).unwrap();
            let number = &fields[0];
            if !luhn::is_valid(number) {
                assert_eq!(fields[2], "no", "{number} fails Luhn but is marked valid");
                continue;
            }
            let record = test_index()
                .lookup(number)
                .unwrap_or_else(|| panic!("{} has no brand", crate::card::pan::mask(number)));
            if !fields[4].contains("bad_length") {
                assert_eq!(
                    record.brand,
                    Brand::parse(&fields[4]),
                    "{}",
                    crate::card::pan::mask(number)
                );
            }
            checked += 1;
        }
        assert!(checked >= 120, "only {checked} Luhn-valid rows");
    }

    #[test]
    fn issued_prefixes_cover_rows_in_both_directions() {
        let index = test_index();
        assert!(index.is_issued_prefix("436742"));
        assert!(index.is_issued_prefix("622202"));
        // 95555 is a 5-digit China row: every 6-digit prefix under it is issued.
        assert!(index.is_issued_prefix("955551"));
        // 6212600 has 9-digit rows under it.
        assert!(index.is_issued_prefix("6212601"));
        assert!(!index.is_issued_prefix("2222400"));
        assert!(!index.is_issued_prefix("620000"));
        assert!(index.is_issued_prefix("62x000"));
        assert!(!BinIndex::schemes_only().unwrap().is_issued_prefix("436742"));
    }

    const CUSTOM: &str = "\u{feff}prefix,pan_length,brand,issuer_code,issuer_name_zh,issuer_name_en,card_type,country\n\
        436742,19,VISA,BOCOM,测试银行,Test Bank,CREDIT,cn\n\
        \n\
        999999,,\"PRIVATE LABEL\",,,\"Acme, Inc.\",,US\n";

    #[test]
    fn a_custom_file_replaces_the_built_in_tables() {
        let index = BinIndex::from_csv_reader(CUSTOM.as_bytes(), "custom.csv").unwrap();
        let record = index.lookup_pan(&pan("436742", 19)).unwrap();
        assert_eq!(record.source, BinSource::Custom);
        assert_eq!(record.issuer_code.as_deref(), Some("COMM"));
        assert_eq!(record.issuer_name_zh.as_deref(), Some("测试银行"));
        assert_eq!(record.card_type, Some(CardType::Credit));
        assert_eq!(record.country.as_deref(), Some("CN"));
        let acme = index.lookup("9999991").unwrap();
        assert_eq!(acme.brand, Brand::Other("private_label".into()));
        assert_eq!(acme.issuer_name_en.as_deref(), Some("Acme, Inc."));
        assert!(acme.pan_lengths.is_empty());
        // The built-in tables are gone: 622202 is only a UnionPay range now.
        let unionpay = index.lookup_pan(&pan("622202", 19)).unwrap();
        assert_eq!(unionpay.source, BinSource::SchemeRanges);
        assert_eq!(
            index.stats().tables,
            vec![(BinSource::Custom, 2), (BinSource::SchemeRanges, 30)]
        );
        // The same through a file on disk.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bins.csv");
        std::fs::write(&path, CUSTOM).unwrap();
        assert_eq!(
            BinIndex::from_path(&path)
                .unwrap()
                .lookup_pan(&pan("436742", 19)),
            Some(record)
        );
    }

    #[test]
    fn a_bad_custom_file_names_the_line_and_the_value() {
        let error = |text: &str| {
            BinIndex::from_csv_reader(text.as_bytes(), "bins.csv")
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            error("prefix,brand\n123456,VISA\n12a456,VISA\n"),
            "bins.csv line 3: prefix \"12a456\" is not 1 to 12 digits"
        );
        assert!(error("bin,brand\n").contains("no \"prefix\" column"));
        assert_eq!(
            error(""),
            "bins.csv: the file is empty: it needs a header row"
        );
        assert!(
            error("prefix,brand,card_type\n123456,VISA,GOLD\n")
                .contains("line 2: card_type \"GOLD\"")
        );
        assert!(error("prefix,brand,country\n123456,VISA,CHN\n").contains("country \"CHN\""));
        assert!(error("prefix,brand,pan_length\n123456,VISA,21\n").contains("pan_length \"21\""));
        assert!(error("prefix,brand\n123456,\n").contains("line 2: brand is empty"));
        assert!(error("prefix,brand\n\"123456,VISA\n").contains("not closed"));
        assert_eq!(
            error("prefix,brand,pan_length\n123456,VISA,16\n123456,AMEX,16\n"),
            "bins.csv line 3: prefix 123456 at length 16 repeats line 2"
        );
        let missing = BinIndex::from_path(Path::new("/nonexistent/bins.csv")).unwrap_err();
        assert!(matches!(missing, BinTableError::Io { .. }));
    }

    #[test]
    fn stats_count_the_rows_and_the_memory() {
        let stats = test_index().stats();
        assert_eq!(
            stats.tables,
            vec![
                (BinSource::ChinaTable, 2354),
                (BinSource::GlobalTable, 327_012),
                (BinSource::SchemeRanges, 30)
            ]
        );
        // 12-byte rows and 4-byte keys, plus the issuer names.
        assert!(stats.heap_bytes > 327_012 * 16, "{}", stats.heap_bytes);
        assert!(stats.heap_bytes < 12 * 1024 * 1024, "{}", stats.heap_bytes);
        assert_eq!(size_of::<Row>(), 12);
    }

    #[test]
    fn issuer_aliases_become_table_codes() {
        assert_eq!(canonical_issuer_code("bocom"), "COMM");
        assert_eq!(canonical_issuer_code(" PAB "), "SPABANK");
        assert_eq!(canonical_issuer_code("CGB"), "GDB");
        assert_eq!(canonical_issuer_code("HXB"), "HXBANK");
        assert_eq!(canonical_issuer_code("icbc"), "ICBC");
    }
}
