//! `tessera licenses`: the data compiled into this binary, where it comes
//! from and under which licence. CC BY 4.0 requires the attribution to be
//! shown where the data is shipped: here, in `--version` and in README.md.

use std::io::Write;
use std::process::ExitCode;

/// The CC BY 4.0 attribution for the worldwide BIN table.
pub const GLOBAL_BINS_ATTRIBUTION: &str = "\"BIN List Data\" by Venelin Kochev / BinLookup.io \
(https://github.com/venelinkochev/bin-list-data), licensed under CC BY 4.0 \
(https://creativecommons.org/licenses/by/4.0/)";

/// `tessera --version`: the version and the data attribution.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\n\nShips BIN data: \"BIN List Data\" by Venelin Kochev / BinLookup.io \
(https://github.com/venelinkochev/bin-list-data), CC BY 4.0; Chinese BINs from \
hexindai/bcbc (MIT) and bankcardinfo (ISC). Run `tessera licenses` for the notices."
);

const BCBC_MIT: &str = include_str!("../../../../data/licenses/bcbc-MIT.txt");
const BANKCARDINFO_ISC: &str = include_str!("../../../../data/licenses/bankcardinfo-ISC.txt");
const ADYEN_MIT: &str = include_str!("../../../../data/licenses/adyen-testcards-MIT.txt");

/// One shipped data file.
struct DataFile {
    path: &'static str,
    what: &'static str,
    source: &'static str,
    licence: &'static str,
}

const FILES: [DataFile; 4] = [
    DataFile {
        path: "data/bins_cn.csv",
        what: "Chinese issuer BIN table, 2,354 rows (compiled into the binary)",
        source: "hexindai/bcbc, (c) 2018-2020 Runrioter; npm bankcardinfo 2.0.6 by navyxie",
        licence: "MIT (bcbc) and ISC (bankcardinfo); notices below",
    },
    DataFile {
        path: "data/bins_global_ccby.csv.gz",
        what: "worldwide 6-digit BINs, 327,012 rows (compiled into the binary)",
        source: "\"BIN List Data\" by Venelin Kochev / BinLookup.io, \
https://github.com/venelinkochev/bin-list-data",
        licence: "CC BY 4.0, https://creativecommons.org/licenses/by/4.0/. Changes: \
read into an in-memory index; issuer names of Chinese banks mapped to issuer codes; \
prepaid categories read as the prepaid card type; co-brands read as their first brand",
    },
    DataFile {
        path: "data/card_schemes.csv",
        what: "card schemes' IIN ranges and lengths, 30 rows (compiled into the binary)",
        source: "facts from public references: Wikipedia \"Payment card number\", \
npm credit-card-type",
        licence: "facts, not copyrightable",
    },
    DataFile {
        path: "data/test_cards.csv",
        what: "payment providers' published sandbox card numbers, 130 rows (tests only, \
not in the binary)",
        source: "Stripe, Braintree, UnionPay, Cybersource, Worldline and Adyen documentation",
        licence: "Adyen rows MIT (notice below)",
    },
];

pub fn run() -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "Data shipped with Tessera")?;
    writeln!(out)?;
    for file in &FILES {
        writeln!(out, "{}", file.path)?;
        writeln!(out, "  what:    {}", file.what)?;
        writeln!(out, "  source:  {}", file.source)?;
        writeln!(out, "  licence: {}", file.licence)?;
        writeln!(out)?;
    }
    writeln!(out, "Attribution (CC BY 4.0)")?;
    writeln!(out, "  {GLOBAL_BINS_ATTRIBUTION}")?;
    writeln!(out)?;
    for (title, text) in [
        ("hexindai/bcbc (data/bins_cn.csv)", BCBC_MIT),
        ("bankcardinfo (data/bins_cn.csv)", BANKCARDINFO_ISC),
        ("Adyen test cards (data/test_cards.csv)", ADYEN_MIT),
    ] {
        writeln!(out, "---- {title} ----")?;
        writeln!(out, "{}", text.trim_end())?;
        writeln!(out)?;
    }
    Ok(ExitCode::SUCCESS)
}
