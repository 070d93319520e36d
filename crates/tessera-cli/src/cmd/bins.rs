//! `tessera bins`: what the BIN index says about a card number or prefix.
//! Support staff use it to see which bank, brand and card type a number
//! belongs to; a whole number is accepted but only shown masked.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use tessera_core::bins::policy::country_names;
use tessera_core::bins::{BinIndex, BinRecord};
use tessera_core::card::luhn;
use tessera_core::card::pan::mask;

#[derive(Debug, clap::Subcommand)]
pub enum BinsCommand {
    /// Look up a card number or a prefix (6 digits or more for the issuer
    /// tables; fewer match the schemes' ranges only).
    Lookup(LookupArgs),
    /// Build the index and print its tables, rows, build time and memory.
    Stats(BinsFileArg),
}

#[derive(Debug, clap::Args)]
pub struct LookupArgs {
    /// A card number or prefix; spaces and dashes are ignored, and the
    /// number may be given in groups ("6222 0212 ...").
    #[arg(required = true, num_args = 1..)]
    number: Vec<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    bins: BinsFileArg,
}

/// The operator's own BIN file, which replaces the shipped tables.
#[derive(Debug, Clone, clap::Args)]
pub struct BinsFileArg {
    /// A BIN file in the bins_cn.csv format that replaces the shipped tables.
    #[arg(long, env = "TESSERA_BINS_FILE", value_name = "PATH")]
    pub bins_file: Option<PathBuf>,
}

impl BinsFileArg {
    pub fn load(&self) -> anyhow::Result<BinIndex> {
        match &self.bins_file {
            Some(path) => load_custom(path),
            None => BinIndex::builtin().context("the shipped BIN tables"),
        }
    }
}

fn load_custom(path: &Path) -> anyhow::Result<BinIndex> {
    BinIndex::from_path(path).with_context(|| format!("the BIN file {}", path.display()))
}

pub fn run(command: BinsCommand) -> anyhow::Result<ExitCode> {
    match command {
        BinsCommand::Lookup(args) => lookup(&args),
        BinsCommand::Stats(bins) => stats(&bins),
    }
}

fn stats(bins: &BinsFileArg) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let index = bins.load()?;
    let elapsed = started.elapsed();
    let stats = index.stats();
    let mut out = std::io::stdout().lock();
    for (source, rows) in &stats.tables {
        writeln!(out, "{:<14} {rows:>8} rows", source.code())?;
    }
    writeln!(
        out,
        "{:<14} {:>8.1} ms",
        "build time",
        elapsed.as_secs_f64() * 1e3
    )?;
    writeln!(
        out,
        "{:<14} {:>8.1} MiB (heap held by the index, estimated from capacities)",
        "memory",
        stats.heap_bytes as f64 / (1024.0 * 1024.0)
    )?;
    Ok(ExitCode::SUCCESS)
}

fn lookup(args: &LookupArgs) -> anyhow::Result<ExitCode> {
    let digits: String = args
        .number
        .concat()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        anyhow::bail!("give digits only: a card number or a prefix (spaces and dashes are fine)");
    }
    let index = args.bins.load()?;
    let whole = digits.len() >= tessera_core::bins::index::FULL_NUMBER_DIGITS;
    let candidates = index.candidates(&digits, whole.then_some(digits.len()));
    let shown = shown_input(&digits);
    let luhn_ok = whole.then(|| luhn::is_valid(&digits));

    let mut out = std::io::stdout().lock();
    if args.json {
        let value = serde_json::json!({
            "input": shown,
            "whole_number": whole,
            "luhn_valid": luhn_ok,
            "found": !candidates.is_empty(),
            "bin": candidates.first(),
            "alternatives": candidates.get(1..).unwrap_or_default(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
    } else {
        writeln!(out, "{:<12} {shown}", "input")?;
        if luhn_ok == Some(false) {
            writeln!(
                out,
                "{:<12} fails the Luhn check (a binding would answer incorrect_number)",
                "note"
            )?;
        }
        match candidates.split_first() {
            None => writeln!(
                out,
                "no BIN data: no table or scheme range knows this number"
            )?,
            Some((record, others)) => {
                write_record(&mut out, record)?;
                for other in others {
                    writeln!(
                        out,
                        "{:<12} {} at length {}: {} {}",
                        "also",
                        other.prefix,
                        lengths(&other.pan_lengths),
                        other.issuer_display_zh().unwrap_or("?"),
                        other.card_type.map_or("", |t| t.cards_name_zh())
                    )?;
                }
            }
        }
    }
    Ok(if candidates.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The input as it may be shown: prefixes of up to 10 digits as typed,
/// longer input masked (first 6 and, for a whole number, last 4).
pub fn shown_input(digits: &str) -> String {
    match digits.len() {
        0..=10 => digits.to_owned(),
        11 => format!("{}*****", &digits[..6]),
        _ => mask(digits),
    }
}

/// The BIN record as aligned text lines.
pub fn write_record(out: &mut impl Write, record: &BinRecord) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<12} {} ({} / {})",
        "brand",
        record.brand,
        record.brand.cards_name_zh(),
        record.brand.cards_name_en()
    )?;
    let issuer: Vec<&str> = [
        record.issuer_code.as_deref(),
        record.issuer_name_zh.as_deref(),
        record.issuer_name_en.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    writeln!(
        out,
        "{:<12} {}",
        "issuer",
        if issuer.is_empty() {
            "unknown".to_owned()
        } else {
            issuer.join(" / ")
        }
    )?;
    match record.card_type {
        Some(t) => writeln!(out, "{:<12} {t} ({})", "card type", t.cards_name_zh())?,
        None => writeln!(out, "{:<12} unknown", "card type")?,
    }
    match &record.country {
        Some(code) => {
            let (zh, en) = country_names(code);
            if zh == *code {
                writeln!(out, "{:<12} {code}", "country")?;
            } else {
                writeln!(out, "{:<12} {code} ({zh} / {en})", "country")?;
            }
        }
        None => writeln!(out, "{:<12} unknown", "country")?,
    }
    writeln!(out, "{:<12} {}", "lengths", lengths(&record.pan_lengths))?;
    writeln!(out, "{:<12} {}", "source", record.source)?;
    writeln!(out, "{:<12} {}", "prefix", record.prefix)
}

fn lengths(lengths: &[u8]) -> String {
    if lengths.is_empty() {
        return "unknown".to_owned();
    }
    lengths
        .iter()
        .map(u8::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
