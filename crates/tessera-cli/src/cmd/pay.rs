//! `tessera pay`: a device and a terminal in one command, to try Token 2.0
//! payments end to end. As the wallet user it fetches a limited-use key for
//! the card's token, builds the CDOL1 data and computes the ARQC the way a
//! phone does; as the merchant it submits the payment; then it checks the
//! ARPC the issuer side sent back, as the phone would. The master keys never
//! leave the server; the session key stays in this process.

use std::process::ExitCode;

use serde::{Deserialize, Serialize};

use serde_json::Value;
use tessera_core::emv::{Arpc, DeviceCvm, profile};
use tessera_core::money::Currency;
use tessera_server::client::{Device, DeviceError, Purchase};

use super::cards::SecretArg;
use super::client::{self, ApiClient, ClientArgs, Failure, Lang};
use super::login;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Sandbox outcomes by the amount's last two digits (minor units): \
    05 do_not_honor, 41 lost_card, 43 stolen_card, 51 insufficient_funds, 61 exceeds_limit, \
    91 issuer_unavailable; every other amount is approved. Exit status: 0 approved, \
    1 declined or refused by the server, 2 bad usage or no connection."
)]
pub struct PayArgs {
    /// The merchant's API key (`tessera admin create-key --role merchant`).
    #[arg(long, env = "TESSERA_MERCHANT_KEY", hide_env_values = true)]
    merchant_key: SecretArg,
    /// The card to pay with (its id, from `tessera cards list`).
    #[arg(long)]
    card: String,
    /// The amount as printed on a receipt: 12.34.
    // A negative amount reaches the amount check and its message, rather
    // than clap's "unexpected argument".
    #[arg(long, allow_hyphen_values = true)]
    amount: String,
    /// ISO 4217 currency.
    #[arg(long, default_value = "CNY")]
    currency: String,
    /// The merchant's id.
    #[arg(long)]
    merchant: String,
    /// The merchant's name, for the payment record.
    #[arg(long)]
    merchant_name: Option<String>,
    /// The device id the card was bound from, when it was bound with one:
    /// limited-use keys go to that device only.
    #[arg(long)]
    device_id: Option<String>,
    /// How the payment is made: a tap (nfc) or inside an app (in_app).
    #[arg(long, value_parser = ["nfc", "in_app"], default_value = "nfc")]
    channel: String,
    /// How the phone checked its holder before paying: none (within the
    /// no-confirmation limits), passcode, or biometric (fingerprint or
    /// face). Reported in the IAD the cryptogram covers.
    #[arg(long, value_parser = ["none", "passcode", "biometric"], default_value = "none")]
    device_cvm: String,
    #[command(flatten)]
    client: ClientArgs,
}

#[derive(Debug, Deserialize)]
struct Card {
    token: Option<TokenSummary>,
    last4: String,
}

#[derive(Debug, Deserialize)]
struct TokenSummary {
    #[serde(rename = "ref")]
    token_ref: String,
}

#[derive(Serialize)]
struct KeysBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    device_id: Option<&'a str>,
    count: u16,
}

#[derive(Debug, Deserialize)]
struct Payment {
    id: String,
    status: String,
    amount: u64,
    currency: String,
    atc: Option<String>,
    authorization_code: Option<String>,
    arpc: Option<String>,
}

pub fn run(args: PayArgs) -> anyhow::Result<ExitCode> {
    let (lang, json) = (args.client.lang, args.client.json);
    Ok(match execute(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(lang, json),
    })
}

fn local(lang: Lang, zh: &str, en: &str) -> Failure {
    Failure::Local(lang.pick(zh, en).to_owned())
}

fn execute(args: &PayArgs) -> Result<(), Failure> {
    let mut wallet = ApiClient::new(&args.client)?;
    let lang = wallet.lang();
    let currency = Currency::parse(&args.currency).ok_or_else(|| {
        local(
            lang,
            "不认识的币种；请用 ISO 4217 代码，如 CNY",
            "unknown currency: use an ISO 4217 code such as CNY",
        )
    })?;
    let amount = currency
        .parse_amount(&args.amount)
        .filter(|minor| *minor > 0)
        .ok_or_else(|| {
            Failure::Local(match lang {
                Lang::Zh => format!(
                    "金额 {:?} 无效：请写成 12.34 这样的正数，最多 {} 位小数",
                    args.amount,
                    currency.exponent()
                ),
                Lang::En => format!(
                    "amount {:?} is not valid: write a positive number such as 12.34, with at most {} decimals",
                    args.amount,
                    currency.exponent()
                ),
            })
        })?;
    let card_id = client::path_id(&args.card, lang)?;
    let mut merchant_args = args.client.clone();
    merchant_args.token = Some(args.merchant_key.expose().to_owned());
    let merchant = ApiClient::new(&merchant_args)?;

    // The device: its card's token, one limited-use key.
    login::ensure_session(&mut wallet)?;
    let card: Card = wallet.get(&format!("/v1/cards/{card_id}"), &[])?.parse()?;
    let token = card.token.ok_or_else(|| {
        local(
            lang,
            "这张卡没有支付凭证（token），无法支付",
            "this card has no payment token and cannot pay",
        )
    })?;
    let keys: Value = wallet
        .post(
            &format!(
                "/v1/tokens/{}/keys",
                client::path_id(&token.token_ref, lang)?
            ),
            &KeysBody {
                device_id: args.device_id.as_deref(),
                // The simulator keeps no keys between runs: one per payment.
                count: 1,
            },
            None,
        )?
        .parse()?;
    let bad_keys = || Failure::BadAnswer {
        status: reqwest::StatusCode::OK,
        detail: "the limited-use keys are not what a device expects".to_owned(),
    };
    let mut device = Device::from_keys(&keys).map_err(|_| bad_keys())?;

    // The terminal's data and the device's cryptogram over it.
    let purchase = Purchase {
        currency,
        merchant_name: args.merchant_name.as_deref(),
        channel: &args.channel,
        device_cvm: match args.device_cvm.as_str() {
            "passcode" => DeviceCvm::Passcode,
            "biometric" => DeviceCvm::Biometric,
            _ => DeviceCvm::None,
        },
        ..Purchase::new(amount, &args.merchant)
    };
    let signed = device.sign(&purchase).map_err(|error| match error {
        DeviceError::Random(error) => Failure::Local(error.to_string()),
        DeviceError::Emv(error) => Failure::Local(error.to_string()),
        DeviceError::Unreadable(_) | DeviceError::OutOfKeys => bad_keys(),
    })?;

    // The merchant submits it.
    let answer = merchant.post("/v1/payments", &signed.body, None)?;
    if args.client.json {
        answer.print_raw();
        return Ok(());
    }
    let payment: Payment = answer.parse()?;
    // The phone checks the issuer's answer: ARPC method 1 over the ARQC.
    let expected = Arpc::method1(&signed.key, &signed.arqc, profile::ARC_APPROVED).to_string();
    let arpc_ok = payment.arpc.as_deref() == Some(expected.as_str());
    client::emit_lines(&render(&payment, &card.last4, arpc_ok, currency, lang));
    Ok(())
}

fn render(
    payment: &Payment,
    last4: &str,
    arpc_ok: bool,
    currency: Currency,
    lang: Lang,
) -> Vec<String> {
    let amount = format!(
        "{} {}",
        currency.format_amount(payment.amount),
        payment.currency
    );
    let approved = payment.status == "approved";
    let value = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    match lang {
        Lang::Zh => vec![
            format!(
                "{} {amount}（尾号 {last4} 的卡）",
                if approved {
                    "支付成功"
                } else {
                    "支付未完成"
                }
            ),
            format!("授权码：{}", value(&payment.authorization_code)),
            format!("支付单号：{}", payment.id),
            format!("ATC：{}", value(&payment.atc)),
            format!(
                "ARPC：{}（{}）",
                value(&payment.arpc),
                if arpc_ok {
                    "设备校验通过"
                } else {
                    "设备校验未通过"
                }
            ),
        ],
        Lang::En => vec![
            format!(
                "{} {amount} (card ending {last4})",
                if approved { "Approved" } else { "Not approved" }
            ),
            format!("authorization code: {}", value(&payment.authorization_code)),
            format!("payment: {}", payment.id),
            format!("ATC: {}", value(&payment.atc)),
            format!(
                "ARPC: {} ({})",
                value(&payment.arpc),
                if arpc_ok {
                    "verified by the device"
                } else {
                    "does NOT verify"
                }
            ),
        ],
    }
}
