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

use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::{Arc, Mutex};

use flate2::read::GzDecoder;

use super::csv::{builtin_schemes, parse_global_table, parse_issuer_table};
use super::table::{Hit, SchemeRange, Table, brand_heap, card_type_from_u8, country_from_bytes};
use super::{Brand, CardType};
use crate::card::pan::Pan;

pub use super::banks::{big_bank, canonical_issuer_code, issuer_code_from_name};

const CN_TABLE: &str = include_str!("../../../../data/bins_cn.csv");
const GLOBAL_TABLE_GZ: &[u8] = include_bytes!("../../../../data/bins_global_ccby.csv.gz");

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

    /// The shipped tables, built on the first call and shared by every
    /// later one: each server a process starts reads the same tables, and
    /// a process that starts many (the test binaries start hundreds) would
    /// otherwise build them each time, over a second each in a debug build.
    pub fn shared_builtin() -> Result<Arc<BinIndex>, BinTableError> {
        static SHARED: Mutex<Option<Arc<BinIndex>>> = Mutex::new(None);
        // Held while building, so that servers starting together build once.
        let mut shared = SHARED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(index) = shared.as_ref() {
            return Ok(Arc::clone(index));
        }
        let index = Arc::new(BinIndex::builtin()?);
        *shared = Some(Arc::clone(&index));
        Ok(index)
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

    /// True when a row of a real issuer table names the issuer `code`
    /// (`ICBC`, `CCB`, ...): what an issuer API key may be scoped to.
    pub fn has_issuer_code(&self, code: &str) -> bool {
        self.tables
            .iter()
            .any(|t| t.issuers.iter().any(|i| i.code.as_deref() == Some(code)))
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
mod tests;
