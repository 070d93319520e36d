//! `tessera emv`: the support engineer's bench for a failing cryptogram. It
//! walks the key ladder (IMK -> ICC master key -> session key), computes ARQC
//! and ARPC, and verifies a given ARQC, naming the step that fails.

use std::fmt;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use tessera_core::card::{luhn, pan};
use tessera_core::emv::{
    Arpc, ArpcResponseCode, Arqc, Atc, CardStatusUpdate, DerivationOption, EmvError, IccMasterKey,
    IssuerMasterKey, Psn, SessionKey,
};

/// Bad arguments exit 2, as clap's own usage errors do; a cryptogram that
/// does not verify exits 1. Scripts can tell a typo from a real mismatch.
const EXIT_BAD_INPUT: u8 = 2;
const EXIT_MISMATCH: u8 = 1;

#[derive(Debug, Args)]
#[command(
    after_help = "Hex in, hex out (spaces inside hex are ignored). Keys may come from \
    TESSERA_EMV_IMK, TESSERA_EMV_MK and TESSERA_EMV_SK instead of the command line. \
    Exit status: 0 done, 1 the cryptogram does not verify, 2 a bad argument."
)]
pub struct EmvArgs {
    /// Print one JSON object on stdout instead of text, for scripts.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: EmvCommand,
}

#[derive(Debug, Subcommand)]
enum EmvCommand {
    /// Derive the ICC master key from the issuer master key, PAN and PSN.
    DeriveMk(CardArgs),
    /// Derive the session key for an ATC from an ICC master key.
    SessionKey(SessionKeyArgs),
    /// Compute the ARQC over transaction data, printing each key on the way.
    Arqc(ArqcArgs),
    /// Check a given ARQC, naming the step that fails (exit 1 mismatch, 2 bad input).
    Verify(VerifyArgs),
    /// Compute the ARPC, by method 1 (--arc) or method 2 (--csu [--pad]).
    Arpc(ArpcArgs),
}

/// A key or PAN typed on the command line: wiped when dropped, and never
/// printed by `Debug`.
#[derive(Clone)]
struct Secret(Zeroizing<String>);

impl From<String> for Secret {
    fn from(text: String) -> Self {
        Secret(Zeroizing::new(text))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

#[derive(Debug, Args)]
struct CardArgs {
    /// Issuer master key (IMK-AC): 16 bytes, 32 hex digits.
    #[arg(
        long,
        value_name = "HEX",
        env = "TESSERA_EMV_IMK",
        hide_env_values = true
    )]
    imk: Secret,
    /// The card's (token's) PAN: 12 to 19 digits; spaces and dashes are ignored.
    #[arg(long)]
    pan: Secret,
    /// PAN sequence number, 00 to 99.
    #[arg(long, value_name = "NN")]
    psn: String,
    /// Master key derivation: EMV Option A or B. Default: A for PANs of up
    /// to 16 digits, B above.
    #[arg(long, value_enum, ignore_case = true)]
    option: Option<OptionArg>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OptionArg {
    A,
    B,
}

#[derive(Debug, Args)]
struct SessionKeyArgs {
    /// ICC master key: 16 bytes, 32 hex digits.
    #[arg(
        long,
        value_name = "HEX",
        env = "TESSERA_EMV_MK",
        hide_env_values = true
    )]
    mk: Secret,
    /// Application transaction counter (9F36): up to 4 hex digits.
    #[arg(long, value_name = "HEX")]
    atc: String,
}

#[derive(Debug, Args)]
struct ArqcArgs {
    #[command(flatten)]
    card: CardArgs,
    /// Application transaction counter (9F36): up to 4 hex digits.
    #[arg(long, value_name = "HEX")]
    atc: String,
    /// The transaction data the ARQC covers (CDOL1 order, IAD included where
    /// the profile has one).
    #[arg(long, value_name = "HEX")]
    data: String,
}

#[derive(Debug, Args)]
struct VerifyArgs {
    #[command(flatten)]
    arqc_args: ArqcArgs,
    /// The ARQC (9F26) to check: 8 bytes.
    #[arg(long, value_name = "HEX")]
    arqc: String,
}

#[derive(Debug, Args)]
struct ArpcArgs {
    /// ARPC method: 1 (ARQC xor ARC, encrypted) or 2 (MAC over ARQC, CSU, data).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=2))]
    method: u8,
    /// Session key: 16 bytes, 32 hex digits.
    #[arg(
        long,
        value_name = "HEX",
        env = "TESSERA_EMV_SK",
        hide_env_values = true
    )]
    sk: Secret,
    /// The ARQC being answered: 8 bytes.
    #[arg(long, value_name = "HEX")]
    arqc: String,
    /// Method 1: authorisation response code, 2 bytes (3030 is "00").
    #[arg(long, value_name = "HEX")]
    arc: Option<String>,
    /// Method 2: card status update, 4 bytes.
    #[arg(long, value_name = "HEX")]
    csu: Option<String>,
    /// Method 2: proprietary authentication data, 0 to 8 bytes.
    #[arg(long, value_name = "HEX")]
    pad: Option<String>,
}

pub fn run(args: EmvArgs) -> anyhow::Result<ExitCode> {
    let outcome = match &args.command {
        EmvCommand::DeriveMk(card) => derive_mk(card),
        EmvCommand::SessionKey(args) => session_key(args),
        EmvCommand::Arqc(args) => arqc(args),
        EmvCommand::Verify(args) => verify(args),
        EmvCommand::Arpc(args) => arpc(args),
    };
    match outcome {
        Ok(report) => {
            print_report(true, &report, args.json);
            Ok(ExitCode::SUCCESS)
        }
        Err(failure) => {
            let mut report = failure.report;
            report.push("step", failure.step.as_str());
            if let Some(arg) = failure.arg {
                report.push("argument", arg);
            }
            report.push("error", failure.message.as_str());
            print_report(false, &report, args.json);
            eprintln!("error: {}", failure.message);
            let code = match failure.step {
                Step::Mismatch => EXIT_MISMATCH,
                _ => EXIT_BAD_INPUT,
            };
            Ok(ExitCode::from(code))
        }
    }
}

/// What a command found, in order: printed as aligned lines, or as one JSON
/// object with the same names.
#[derive(Debug, Default)]
struct Report(Vec<(&'static str, Value)>);

impl Report {
    fn push(&mut self, name: &'static str, value: impl Into<Value>) {
        self.0.push((name, value.into()));
    }

    fn hex(&mut self, name: &'static str, bytes: &[u8]) {
        self.push(name, hex::encode_upper(bytes));
    }
}

fn print_report(ok: bool, report: &Report, as_json: bool) {
    if as_json {
        let mut object = Map::new();
        object.insert("ok".into(), ok.into());
        for (name, value) in &report.0 {
            object.insert((*name).into(), value.clone());
        }
        println!("{}", Value::Object(object));
        return;
    }
    for (name, value) in &report.0 {
        // The error itself goes to stderr, once.
        if *name == "error" {
            continue;
        }
        match value {
            Value::String(text) => println!("{name:<16} {text}"),
            other => println!("{name:<16} {other}"),
        }
    }
}

/// The step at which a command gave up, as scripts read it in `step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Hex,
    KeyLength,
    Length,
    Value,
    Usage,
    Mismatch,
}

impl Step {
    fn as_str(self) -> &'static str {
        match self {
            Step::Hex => "hex",
            Step::KeyLength => "key_length",
            Step::Length => "length",
            Step::Value => "value",
            Step::Usage => "usage",
            Step::Mismatch => "mismatch",
        }
    }
}

#[derive(Debug)]
struct Failure {
    step: Step,
    arg: Option<&'static str>,
    message: String,
    /// What was worked out before the failure (key check values, the two
    /// cryptograms), so the reader sees how far it got.
    report: Report,
}

impl Failure {
    fn new(step: Step, arg: &'static str, message: impl fmt::Display) -> Failure {
        Failure {
            step,
            arg: Some(arg),
            message: format!("{arg}: {message}"),
            report: Report::default(),
        }
    }

    fn from_emv(arg: &'static str, error: EmvError) -> Failure {
        match error {
            EmvError::KeyLength { got, .. } => Failure::new(
                Step::KeyLength,
                arg,
                format!("a key must be 16 bytes (32 hex digits), got {got} bytes"),
            ),
            EmvError::Length { expected, got, .. } => Failure::new(
                Step::Length,
                arg,
                format!("must be {expected} bytes, got {got}"),
            ),
            EmvError::CryptogramMismatch => Failure {
                step: Step::Mismatch,
                arg: None,
                message: error.to_string(),
                report: Report::default(),
            },
            other => Failure::new(Step::Value, arg, other),
        }
    }
}

fn hex_arg(arg: &'static str, text: &str) -> Result<Zeroizing<Vec<u8>>, Failure> {
    let digits: Zeroizing<String> =
        Zeroizing::new(text.chars().filter(|c| !c.is_ascii_whitespace()).collect());
    hex::decode(digits.as_bytes())
        .map(Zeroizing::new)
        .map_err(|error| {
            let why = match error {
                hex::FromHexError::InvalidHexCharacter { c, index } => {
                    format!("not hex: {c:?} at position {}", index + 1)
                }
                hex::FromHexError::OddLength => {
                    format!("not hex: an odd number of digits ({})", digits.len())
                }
                hex::FromHexError::InvalidStringLength => "not hex".to_owned(),
            };
            Failure::new(Step::Hex, arg, why)
        })
}

fn key_arg<K>(
    arg: &'static str,
    secret: &Secret,
    from_bytes: fn(&[u8]) -> Result<K, EmvError>,
) -> Result<K, Failure> {
    let bytes = hex_arg(arg, &secret.0)?;
    from_bytes(&bytes).map_err(|error| Failure::from_emv(arg, error))
}

/// Up to 4 hex digits; "1C" is ATC 001C.
fn atc_arg(text: &str) -> Result<Atc, Failure> {
    let digits = text.trim();
    if digits.is_empty() || digits.len() > 4 {
        return Err(Failure::new(
            Step::Length,
            "--atc",
            format!("must be 1 to 4 hex digits (2 bytes), got {:?}", digits),
        ));
    }
    let padded = format!("{digits:0>4}");
    let bytes = hex_arg("--atc", &padded)?;
    Atc::from_bytes(&bytes).map_err(|error| Failure::from_emv("--atc", error))
}

/// The card inputs, checked, with the key derived from them.
fn derive_card(card: &CardArgs, report: &mut Report) -> Result<IccMasterKey, Failure> {
    let imk = key_arg("--imk", &card.imk, IssuerMasterKey::from_bytes)?;
    let digits: Zeroizing<String> = Zeroizing::new(
        card.pan
            .0
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect(),
    );
    let psn = Psn::parse(card.psn.trim()).map_err(|error| Failure::from_emv("--psn", error))?;
    let (requested, from) = match card.option {
        Some(OptionArg::A) => (DerivationOption::A, "--option"),
        Some(OptionArg::B) => (DerivationOption::B, "--option"),
        None => (DerivationOption::for_pan_len(digits.len()), "PAN length"),
    };
    let mk = IccMasterKey::derive(&imk, &digits, psn, requested)
        .map_err(|error| Failure::from_emv("--pan", error))?;
    let applied = requested.applied_to(digits.len());
    report.push("pan", pan::mask(&digits));
    // Derivation does not need Luhn, but a failing check digit on a real
    // token PAN usually means a mistyped number.
    report.push("pan_luhn_valid", luhn::is_valid(&digits));
    report.push("psn", psn.to_string());
    report.push("option", format!("{applied:?}"));
    report.push(
        "option_from",
        if applied == requested {
            from.to_owned()
        } else {
            format!("{from} (Option B is Option A for PANs of up to 16 digits)")
        },
    );
    Ok(mk)
}

fn derive_mk(card: &CardArgs) -> Result<Report, Failure> {
    let mut report = Report::default();
    let mk = derive_card(card, &mut report)?;
    report.hex("icc_mk", mk.expose_bytes());
    report.hex("icc_mk_kcv", &mk.check_value());
    Ok(report)
}

fn session_key(args: &SessionKeyArgs) -> Result<Report, Failure> {
    let mk = key_arg("--mk", &args.mk, IccMasterKey::from_bytes)?;
    let atc = atc_arg(&args.atc)?;
    let sk = mk.session_key(atc);
    let mut report = Report::default();
    report.hex("icc_mk_kcv", &mk.check_value());
    report.push("atc", atc.to_string());
    report.hex("session_key", sk.expose_bytes());
    report.hex("session_key_kcv", &sk.check_value());
    Ok(report)
}

fn arqc(args: &ArqcArgs) -> Result<Report, Failure> {
    let mut report = Report::default();
    let mk = derive_card(&args.card, &mut report)?;
    let atc = atc_arg(&args.atc)?;
    let data = hex_arg("--data", &args.data)?;
    let sk = mk.session_key(atc);
    report.hex("icc_mk", mk.expose_bytes());
    report.hex("icc_mk_kcv", &mk.check_value());
    report.push("atc", atc.to_string());
    report.hex("session_key", sk.expose_bytes());
    report.hex("session_key_kcv", &sk.check_value());
    report.push("data_len", data.len());
    report.push("arqc", Arqc::generate(&sk, &data).to_string());
    Ok(report)
}

/// Shows key check values only, not keys: its output is meant to be pasted
/// into a ticket, and a KCV is enough to compare with the HSM's.
fn verify(args: &VerifyArgs) -> Result<Report, Failure> {
    let mut report = Report::default();
    let inner = &args.arqc_args;
    let mk = derive_card(&inner.card, &mut report).map_err(|f| with_report(f, &mut report))?;
    let atc = atc_arg(&inner.atc).map_err(|f| with_report(f, &mut report))?;
    let data = hex_arg("--data", &inner.data).map_err(|f| with_report(f, &mut report))?;
    let given = hex_arg("--arqc", &args.arqc)
        .and_then(|bytes| Arqc::from_bytes(&bytes).map_err(|e| Failure::from_emv("--arqc", e)))
        .map_err(|f| with_report(f, &mut report))?;
    let sk = mk.session_key(atc);
    report.hex("icc_mk_kcv", &mk.check_value());
    report.push("atc", atc.to_string());
    report.hex("session_key_kcv", &sk.check_value());
    report.push("data_len", data.len());
    match given.verify(&sk, &data) {
        Ok(()) => {
            report.push("arqc", given.to_string());
            report.push("verified", true);
            Ok(report)
        }
        Err(error) => {
            // The support engineer holds the IMK already: showing the
            // expected cryptogram here gives away nothing new.
            report.push("expected_arqc", Arqc::generate(&sk, &data).to_string());
            report.push("given_arqc", given.to_string());
            report.push("verified", false);
            report.push(
                "hint",
                "check the ATC, the data (CDOL1 order, IAD), the PSN and the derivation option",
            );
            let mut failure = Failure::from_emv("--arqc", error);
            failure.message = "the ARQC does not verify with these keys and data".to_owned();
            Err(with_report(failure, &mut report))
        }
    }
}

fn with_report(mut failure: Failure, report: &mut Report) -> Failure {
    failure.report = std::mem::take(report);
    failure
}

fn arpc(args: &ArpcArgs) -> Result<Report, Failure> {
    let sk = key_arg("--sk", &args.sk, SessionKey::from_bytes)?;
    let arqc = hex_arg("--arqc", &args.arqc)
        .and_then(|bytes| Arqc::from_bytes(&bytes).map_err(|e| Failure::from_emv("--arqc", e)))?;
    let arpc = match args.method {
        1 => {
            for (arg, given) in [("--csu", &args.csu), ("--pad", &args.pad)] {
                if given.is_some() {
                    return Err(Failure::new(Step::Usage, arg, "only method 2 takes it"));
                }
            }
            let Some(arc) = &args.arc else {
                return Err(Failure::new(
                    Step::Usage,
                    "--arc",
                    "method 1 needs the authorisation response code (2 bytes, e.g. 3030)",
                ));
            };
            let arc = ArpcResponseCode::from_bytes(&hex_arg("--arc", arc)?)
                .map_err(|e| Failure::from_emv("--arc", e))?;
            Arpc::method1(&sk, &arqc, arc)
        }
        _ => {
            if args.arc.is_some() {
                return Err(Failure::new(Step::Usage, "--arc", "only method 1 takes it"));
            }
            let Some(csu) = &args.csu else {
                return Err(Failure::new(
                    Step::Usage,
                    "--csu",
                    "method 2 needs the card status update (4 bytes)",
                ));
            };
            let csu = CardStatusUpdate::from_bytes(&hex_arg("--csu", csu)?)
                .map_err(|e| Failure::from_emv("--csu", e))?;
            let pad = match &args.pad {
                Some(pad) => hex_arg("--pad", pad)?,
                None => Zeroizing::new(Vec::new()),
            };
            Arpc::method2(&sk, &arqc, csu, &pad).map_err(|e| Failure::from_emv("--pad", e))?
        }
    };
    let mut report = Report::default();
    report.push("method", args.method);
    report.hex("session_key_kcv", &sk.check_value());
    report.push("arqc", arqc.to_string());
    report.push("arpc", arpc.to_string());
    Ok(report)
}
