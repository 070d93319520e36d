//! `tessera transfers`: send money from a bound card to a bank card, list
//! and show transfers, on a running server. The destination number given
//! here is sent, never printed: the server answers it masked.

use std::process::ExitCode;

use serde::Serialize;
use tessera_core::money::Currency;

use super::cards::{SecretArg, confirm};
use super::client::{self, Answer, ApiClient, ClientArgs, Failure, Lang};
use super::login;

#[derive(Debug, clap::Args)]
pub struct TransfersArgs {
    #[command(subcommand)]
    pub command: TransfersCommand,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum TransfersCommand {
    /// Send money from one of your cards to a bank card. It takes a
    /// confirmation: the payment password (asked on a terminal, or
    /// TESSERA_PAYMENT_PASSWORD), or, with none set, a texted code: the
    /// first run texts it, a second with `--sms-code` uses it.
    Send(Box<SendArgs>),
    /// List your transfers, newest first.
    List,
    /// Show one transfer.
    Show { id: String },
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Sandbox outcomes by the destination number's three digits before the \
    check digit, as at binding (`tessera sandbox card --outcome ...`): lost_card, stolen_card, \
    do_not_honor decline; unavailable gets no answer; slow answers after the slow time."
)]
pub struct SendArgs {
    /// The card the money leaves from (its id, from `tessera cards list`).
    #[arg(long)]
    card: String,
    /// The destination card's number (asked on a terminal when not given;
    /// never echoed or printed).
    #[arg(long)]
    to: Option<SecretArg>,
    /// The destination cardholder's name.
    #[arg(long)]
    name: String,
    /// The amount as people write it: 12.34.
    #[arg(long, allow_hyphen_values = true)]
    amount: String,
    /// in_app or web: which fee rule applies.
    #[arg(long, value_parser = ["in_app", "web"], default_value = "in_app")]
    channel: String,
    /// The code texted by the first run.
    #[arg(long)]
    sms_code: Option<String>,
    /// Any unique string: a retry with the same key gets the first answer.
    /// Made up when not given (and printed with the answer).
    #[arg(long)]
    idempotency_key: Option<String>,
}

#[derive(Serialize)]
struct SendBody<'a> {
    card_id: &'a str,
    to_card_number: &'a str,
    to_holder_name: &'a str,
    amount: u64,
    currency: &'a str,
    channel: &'a str,
}

pub fn run(args: TransfersArgs) -> anyhow::Result<ExitCode> {
    let (lang, json) = (args.client.lang, args.client.json);
    Ok(match execute(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(lang, json),
    })
}

fn execute(args: &TransfersArgs) -> Result<(), Failure> {
    let mut client = ApiClient::new(&args.client)?;
    let lang = client.lang();
    let answer = match &args.command {
        TransfersCommand::Send(send_args) => match send(&mut client, send_args)? {
            Some(answer) => answer,
            None => return Ok(()),
        },
        TransfersCommand::List => {
            login::ensure_session(&mut client)?;
            let answer = client.get("/v1/transfers", &[])?;
            if args.client.json {
                answer.print_raw();
            } else {
                let lines: Vec<String> = answer.json["data"]
                    .as_array()
                    .map(|all| all.iter().map(|t| line(t, lang)).collect())
                    .unwrap_or_default();
                client::emit_lines(&lines);
            }
            return Ok(());
        }
        TransfersCommand::Show { id } => {
            let id = client::path_id(id, lang)?;
            login::ensure_session(&mut client)?;
            client.get(&format!("/v1/transfers/{id}"), &[])?
        }
    };
    if args.client.json {
        answer.print_raw();
    } else {
        client::emit_lines(&[
            line(&answer.json, lang),
            format!(
                "{}{}",
                lang.pick("转账单号：", "transfer: "),
                answer.json["id"].as_str().unwrap_or("-")
            ),
        ]);
    }
    Ok(())
}

/// `settled 100.00 CNY → 621226*********4566 李四 (fee 1.00 CNY)`.
fn line(transfer: &serde_json::Value, lang: Lang) -> String {
    let money = |minor: &serde_json::Value| {
        let minor = minor.as_u64().unwrap_or_default();
        format!("{} CNY", Currency::CNY.format_amount(minor))
    };
    let (status, amount, fee) = (
        transfer["status"].as_str().unwrap_or("-"),
        money(&transfer["amount"]),
        money(&transfer["fee"]),
    );
    let (to, name) = (
        transfer["to_card"].as_str().unwrap_or("-"),
        transfer["to_holder_name"].as_str().unwrap_or("-"),
    );
    match lang {
        Lang::Zh => format!("{status} {amount} → {to} {name}（手续费 {fee}）"),
        Lang::En => format!("{status} {amount} → {to} {name} (fee {fee})"),
    }
}

/// Confirms, then sends; None when a code was texted for a second run.
fn send(client: &mut ApiClient, args: &SendArgs) -> Result<Option<Answer>, Failure> {
    let lang = client.lang();
    let amount = Currency::CNY
        .parse_amount(&args.amount)
        .filter(|minor| *minor > 0)
        .ok_or_else(|| {
            Failure::Local(
                lang.pick(
                    "金额无效：请写成 12.34 这样的正数，最多 2 位小数",
                    "the amount is not valid: write a positive number such as 12.34, with at most 2 decimals",
                )
                .to_owned(),
            )
        })?;
    let card_id = client::path_id(&args.card, lang)?.to_owned();
    let number = match &args.to {
        Some(number) => zeroize::Zeroizing::new(number.expose().to_owned()),
        None if client::interactive() => client::prompt_secret(lang.pick(
            "收款卡号（不回显）：",
            "Destination card number (not echoed): ",
        ))?,
        None => {
            return Err(Failure::Local(
                lang.pick(
                    "缺少收款卡号：请用 --to 提供，或在终端中运行以输入",
                    "no destination card number: pass --to, or run on a terminal to type it",
                )
                .to_owned(),
            ));
        }
    };
    login::ensure_session(client)?;
    let ask = serde_json::json!({"purpose": "transfer", "card_id": card_id,
        "amount": amount, "currency": "CNY"});
    let rerun = format!(
        "tessera transfers send --card {card_id} --name {} --amount {} --sms-code CODE",
        args.name, args.amount
    );
    let Some(verification) = confirm(client, ask, args.sms_code.as_deref(), &rerun)? else {
        return Ok(None);
    };
    let key = args
        .idempotency_key
        .clone()
        .unwrap_or_else(|| tessera_server::ids::random_id("cli-", 20));
    let body = SendBody {
        card_id: &card_id,
        to_card_number: &number,
        to_holder_name: &args.name,
        amount,
        currency: "CNY",
        channel: &args.channel,
    };
    let answer = client.post_confirmed("/v1/transfers", &body, &key, &verification)?;
    Ok(Some(answer))
}
