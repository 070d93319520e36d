//! `tessera check-card`: runs a binding's field checks and the support policy
//! on a card without binding it, and prints what the wallet would answer:
//! "ok" with the BIN data, or the error's code, message and remedy.

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

use anyhow::bail;

use chrono::{NaiveDate, Utc};
use tessera_core::bins::SupportPolicy;
use tessera_core::card::check::{CardFields, CheckedCard, check_card};
use tessera_core::card::{DEFAULT_WALLET_TZ, wallet_today};
use tessera_core::{DomainError, Lang};
use zeroize::Zeroizing;

use super::bins::{BinsFileArg, shown_input, write_record};

#[derive(Debug, clap::Args)]
pub struct CheckCardArgs {
    /// The card number; spaces and dashes are fine. `-` reads it from the
    /// first line of standard input; left out, it is asked for on the
    /// terminal without echo. Either keeps it out of the process list and
    /// the shell history, where an argument is seen.
    #[arg(long)]
    number: Option<String>,
    /// Expiry as printed on the card: MM/YY, MM/YYYY or MMYY.
    #[arg(long, value_name = "MM/YY")]
    expiry: Option<String>,
    /// The security code (3 digits, 4 for American Express). `-` reads it
    /// from standard input (the line after the number's when both are `-`);
    /// asked for on the terminal, without echo, when the number is.
    #[arg(long)]
    cvc: Option<String>,
    /// The cardholder's name.
    #[arg(long)]
    holder_name: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Language of messages and remedies: zh (default) or en.
    #[arg(long, default_value = "zh", value_parser = parse_lang)]
    lang: Lang,
    /// Judge the expiry on this date (YYYY-MM-DD) instead of today in
    /// Asia/Shanghai.
    #[arg(long, value_name = "YYYY-MM-DD")]
    today: Option<NaiveDate>,
    #[command(flatten)]
    bins: BinsFileArg,
}

fn parse_lang(tag: &str) -> Result<Lang, String> {
    Lang::parse(tag).ok_or_else(|| format!("{tag:?} is not a language here: use zh or en"))
}

pub fn run(args: CheckCardArgs) -> anyhow::Result<ExitCode> {
    let index = args.bins.load()?;
    let today = args
        .today
        .unwrap_or_else(|| wallet_today(Utc::now(), DEFAULT_WALLET_TZ));
    let (number, cvc) = secrets(&args)?;
    let mut fields = CardFields::new(number.as_str());
    if let Some(expiry) = &args.expiry {
        let (month, year) = split_expiry(expiry);
        fields = fields.with_expiry(month, year);
    }
    if let Some(cvc) = cvc {
        fields = fields.with_cvc(cvc.as_str());
    }
    if let Some(name) = &args.holder_name {
        fields = fields.with_holder_name(name.clone());
    }
    let result = check_card(&fields, &index, &SupportPolicy::default(), today);
    let mut out = std::io::stdout().lock();
    match &result {
        Ok(card) if args.json => {
            writeln!(out, "{}", serde_json::to_string_pretty(&ok_json(card))?)?;
        }
        Ok(card) => write_ok(&mut out, card)?,
        Err(error) if args.json => {
            let value = error_json(error, args.lang);
            writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        }
        Err(error) => write_error(&mut out, error, args.lang)?,
    }
    Ok(if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The number and the CVC: as arguments, from standard input (`-`, one
/// line each, the number first), or asked for on the terminal when the
/// number is left out.
fn secrets(args: &CheckCardArgs) -> anyhow::Result<(Zeroizing<String>, Option<Zeroizing<String>>)> {
    let from_stdin = |value: &Option<String>| value.as_deref() == Some(STDIN);
    if from_stdin(&args.number) || from_stdin(&args.cvc) {
        let mut input = Zeroizing::new(String::new());
        std::io::stdin().read_to_string(&mut input)?;
        let mut lines = input
            .lines()
            .map(|line| Zeroizing::new(line.trim().to_owned()));
        let mut next = |what: &str| {
            lines
                .next()
                .ok_or_else(|| anyhow::anyhow!("standard input ended before the {what}"))
        };
        let number = match &args.number {
            Some(number) if number != STDIN => Zeroizing::new(number.clone()),
            Some(_) => next("card number")?,
            None => bail!("--cvc - reads standard input: pass the number as --number - too"),
        };
        let cvc = match &args.cvc {
            Some(cvc) if cvc != STDIN => Some(Zeroizing::new(cvc.clone())),
            Some(_) => Some(next("CVC")?),
            None => None,
        };
        return Ok((number, cvc));
    }
    match &args.number {
        Some(number) => Ok((
            Zeroizing::new(number.clone()),
            args.cvc.clone().map(Zeroizing::new),
        )),
        None => {
            if !std::io::stdin().is_terminal() {
                bail!(
                    "no terminal to ask for the card number: pass --number - (and --cvc -) and \
                     write them on standard input, one a line"
                );
            }
            let number = Zeroizing::new(rpassword::prompt_password("Card number: ")?);
            let cvc = match &args.cvc {
                Some(cvc) => Zeroizing::new(cvc.clone()),
                None => Zeroizing::new(rpassword::prompt_password("CVC (Enter if none): ")?),
            };
            let cvc = (!cvc.trim().is_empty()).then_some(cvc);
            Ok((number, cvc))
        }
    }
}

/// The argument value that means "read it from standard input".
const STDIN: &str = "-";

/// Splits "MM/YY" the way `Expiry::parse` does: at the slash, or four bare
/// digits in two; anything else is a month without a year.
fn split_expiry(text: &str) -> (String, String) {
    let text = text.trim();
    if let Some((month, year)) = text.split_once('/') {
        return (month.to_owned(), year.to_owned());
    }
    if text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit()) {
        let (month, year) = text.split_at(2);
        return (month.to_owned(), year.to_owned());
    }
    (text.to_owned(), String::new())
}

fn write_ok(out: &mut impl Write, card: &CheckedCard) -> std::io::Result<()> {
    writeln!(out, "ok")?;
    writeln!(out, "{:<12} {}", "card", card.pan.masked())?;
    write_record(out, &card.bin)?;
    if let Some(expiry) = &card.expiry {
        writeln!(out, "{:<12} {expiry}", "expiry")?;
    }
    if card.cvc.is_some() {
        writeln!(out, "{:<12} given (never shown or stored)", "cvc")?;
    }
    if let Some(name) = &card.holder_name {
        writeln!(out, "{:<12} {}", "holder name", name.masked())?;
    }
    Ok(())
}

fn ok_json(card: &CheckedCard) -> serde_json::Value {
    serde_json::json!({
        "ok": true,
        "card": {
            "number": shown_input(card.pan.expose_digits()),
            "bin": card.bin,
            "expiry": card.expiry.map(|e| e.to_string()),
            "cvc_given": card.cvc.is_some(),
            "holder_name": card.holder_name.as_ref().map(|n| n.masked()),
        }
    })
}

fn write_error(out: &mut impl Write, error: &DomainError, lang: Lang) -> std::io::Result<()> {
    writeln!(out, "{:<12} {}", "error", error.code)?;
    if let Some(not_supported) = &error.not_supported {
        writeln!(out, "{:<12} {}", "reason", not_supported.reason.as_str())?;
    }
    if let Some(param) = &error.param {
        writeln!(out, "{:<12} {param}", "param")?;
    }
    writeln!(out, "{:<12} {}", "message", error.message(lang))?;
    writeln!(out, "{:<12} {}", "remedy", error.remedy(lang))?;
    writeln!(out, "{:<12} {}", "cause", error.code.cause().as_str())
}

/// The error object as the API answers it (without the trace id).
fn error_json(error: &DomainError, lang: Lang) -> serde_json::Value {
    serde_json::json!({
        "ok": false,
        "error": {
            "type": error.entry().error_type.as_str(),
            "code": error.code.as_str(),
            "param": error.param,
            "reason": error.not_supported.as_ref().map(|n| n.reason.as_str()),
            "message": error.message(lang),
            "remedy": error.remedy(lang),
            "cause": error.code.cause().as_str(),
            "retryable": error.code.retryable(),
        }
    })
}
