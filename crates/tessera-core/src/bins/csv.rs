//! Reading the BIN tables: a small CSV reader (RFC 4180 quoting, no line
//! breaks inside fields) and the parsers of the three table formats.

use std::collections::HashMap;
use std::io::BufRead;

use super::banks::{big_bank, canonical_issuer_code, issuer_code_from_name};
use super::index::{BinSource, BinTableError, MAX_PREFIX_DIGITS};
use super::table::{Issuer, Row, SchemeRange, Table, TableBuilder, card_type_to_u8, digits_value};
use super::{Brand, CardType};

const SCHEME_RANGES: &str = include_str!("../../../../data/card_schemes.csv");

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
pub(super) fn split_csv_line(line: &str, fields: &mut Vec<String>) -> Result<(), &'static str> {
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
pub(super) fn parse_issuer_table<R: BufRead>(
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
pub(super) fn parse_global_table<R: BufRead>(
    reader: R,
    name: &str,
) -> Result<Table, BinTableError> {
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
pub(super) fn is_prepaid_category(category: &str) -> bool {
    category.split_ascii_whitespace().any(|w| w == "PREPAID") || category.starts_with("GIFT")
}

pub(super) fn builtin_schemes() -> Result<Vec<SchemeRange>, BinTableError> {
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
