//! `tessera cards`: bind, verify, list, show, unbind and pick the default card
//! on a running server. Prints cards as the server masks them (first 6 and
//! last 4); the card number and CVC given here are sent, never printed.

use std::fmt;
use std::process::ExitCode;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use zeroize::Zeroizing;

use super::client::{self, Answer, ApiClient, ClientArgs, Failure, Lang};
use super::login;

#[derive(Debug, clap::Args)]
pub struct CardsArgs {
    #[command(subcommand)]
    pub command: CardsCommand,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum CardsCommand {
    /// Bind a card to your wallet (logs in on a terminal when no token is given).
    Bind(Box<BindArgs>),
    /// Finish a binding with the SMS code the bank sent.
    Verify {
        /// Card id, as printed by `bind`.
        id: String,
        /// The code from the SMS.
        #[arg(long)]
        otp: String,
        /// Any unique string: a retry with the same key gets the first answer.
        #[arg(long)]
        idempotency_key: Option<String>,
    },
    /// List your cards.
    List {
        /// Also list unbound cards and failed bindings.
        #[arg(long)]
        all: bool,
    },
    /// Show one card.
    Show { id: String },
    /// Unbind a card: its token is deleted; the card can be bound again later.
    /// It takes a confirmation: the payment password (asked on a terminal,
    /// or TESSERA_PAYMENT_PASSWORD), or, with none set, a texted code: the
    /// first run texts it, a second with `--sms-code` uses it.
    Unbind {
        id: String,
        /// The code texted by the first run.
        #[arg(long)]
        sms_code: Option<String>,
    },
    /// Make a card the default for payments.
    #[command(name = "default")]
    SetDefault { id: String },
}

/// A secret given on the command line: kept out of `Debug`, wiped on drop.
#[derive(Clone)]
pub struct SecretArg(Zeroizing<String>);

impl From<String> for SecretArg {
    fn from(value: String) -> Self {
        SecretArg(Zeroizing::new(value))
    }
}

impl SecretArg {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, clap::Args)]
pub struct BindArgs {
    /// Card number. Leave it out to type it on the terminal without echo,
    /// which keeps it out of shell history and the process list.
    #[arg(long)]
    pub number: Option<SecretArg>,
    /// Name on the card; must match your real-name record.
    #[arg(long)]
    pub holder_name: String,
    /// Expiry as MM/YY (required for credit cards).
    #[arg(long, value_name = "MM/YY")]
    pub expiry: Option<String>,
    /// Card security code (required for credit cards).
    #[arg(long)]
    pub cvc: Option<SecretArg>,
    /// The phone number the bank has on file for this card.
    #[arg(long)]
    pub bank_phone: Option<String>,
    /// Any unique string: retrying with the same key never binds twice.
    #[arg(long)]
    pub idempotency_key: Option<String>,
    #[command(flatten)]
    pub device: DeviceArgs,
}

/// The device the binding is made from, recorded with the attempt for
/// diagnosis. Sent only when one of these is given.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Device (optional)")]
pub struct DeviceArgs {
    /// A stable id of the device.
    #[arg(long)]
    pub device_id: Option<String>,
    /// e.g. "Pixel 8".
    #[arg(long)]
    pub device_model: Option<String>,
    /// e.g. "Android 15".
    #[arg(long)]
    pub device_os: Option<String>,
    /// Version of the app binding the card.
    #[arg(long)]
    pub device_app_version: Option<String>,
    /// e.g. wifi, 4g, 5g.
    #[arg(long)]
    pub device_network: Option<String>,
}

#[derive(Serialize)]
struct BindBody<'a> {
    number: &'a str,
    holder_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiry_month: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiry_year: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cvc: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bank_phone: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<Device<'a>>,
}

#[derive(Serialize)]
struct Device<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    os: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    network_type: Option<&'a str>,
    locale: &'a str,
}

#[derive(Serialize)]
struct VerifyBody<'a> {
    otp: &'a str,
}

/// A card as the API returns it. Every field is optional so that a server a
/// little newer or older than this client still prints.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Card {
    id: String,
    status: String,
    brand: Option<String>,
    issuer: Option<Issuer>,
    card_type: Option<String>,
    country: Option<String>,
    first6: Option<String>,
    last4: Option<String>,
    expiry_month: Option<Value>,
    expiry_year: Option<Value>,
    holder_name: Option<String>,
    token: Option<TokenSummary>,
    is_default: bool,
    created_at: Option<String>,
    next_action: Option<NextAction>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Issuer {
    code: Option<String>,
    name_zh: Option<String>,
    name_en: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TokenSummary {
    #[serde(rename = "ref")]
    reference: Option<String>,
    last4: Option<String>,
    status: Option<String>,
    expiry: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NextAction {
    #[serde(rename = "type")]
    kind: String,
    sent_to: Option<String>,
    expires_at: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CardList {
    data: Vec<Card>,
}

pub fn run(args: CardsArgs) -> anyhow::Result<ExitCode> {
    let (lang, json) = (args.client.lang, args.client.json);
    Ok(match execute(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(lang, json),
    })
}

fn execute(args: &CardsArgs) -> Result<(), Failure> {
    let mut client = ApiClient::new(&args.client)?;
    let lang = client.lang();
    let json = args.client.json;
    // Each arm checks its own input before a login prompt may appear.
    let answer = match &args.command {
        CardsCommand::Bind(bind_args) => bind(&mut client, bind_args)?,
        CardsCommand::List { all } => {
            login::ensure_session(&mut client)?;
            let query: &[(&str, &str)] = if *all { &[("status", "all")] } else { &[] };
            let answer = client.get("/v1/cards", query)?;
            if json {
                answer.print_raw();
            } else {
                print_list(&answer, lang);
            }
            return Ok(());
        }
        CardsCommand::Verify {
            id,
            otp,
            idempotency_key,
        } => {
            let id = client::path_id(id, lang)?;
            login::ensure_session(&mut client)?;
            client.post(
                &format!("/v1/cards/{id}/verify"),
                &VerifyBody { otp },
                idempotency_key.as_deref(),
            )?
        }
        CardsCommand::Show { id } => {
            let id = client::path_id(id, lang)?;
            login::ensure_session(&mut client)?;
            client.get(&format!("/v1/cards/{id}"), &[])?
        }
        CardsCommand::Unbind { id, sms_code } => {
            let id = client::path_id(id, lang)?;
            login::ensure_session(&mut client)?;
            match unbind(&mut client, id, sms_code.as_deref())? {
                Some(answer) => answer,
                None => return Ok(()),
            }
        }
        CardsCommand::SetDefault { id } => {
            let id = client::path_id(id, lang)?;
            login::ensure_session(&mut client)?;
            client.post_empty(&format!("/v1/cards/{id}/default"))?
        }
    };
    print_card_answer(&answer, lang, json);
    Ok(())
}

/// Confirms, then unbinds; None when a code was texted for a second run.
fn unbind(
    client: &mut ApiClient,
    id: &str,
    sms_code: Option<&str>,
) -> Result<Option<Answer>, Failure> {
    let card = client.get(&format!("/v1/cards/{id}"), &[])?;
    // Gone already: nothing to confirm, the answer is the card as it is.
    if card.json["status"] == "unbound" {
        return Ok(Some(card));
    }
    let ask = serde_json::json!({"purpose": "unbind_card", "card_id": id});
    let rerun = format!("tessera cards unbind {id} --sms-code CODE");
    let Some(verification) = confirm(client, ask, sms_code, &rerun)? else {
        return Ok(None);
    };
    client
        .delete_confirmed(&format!("/v1/cards/{id}"), &verification)
        .map(Some)
}

/// A confirmation for the step `ask` names (`POST /v1/me/verifications`):
/// with the payment password (asked on a terminal, or
/// TESSERA_PAYMENT_PASSWORD), or, with none set, a texted code. None when
/// the code was texted now: `rerun` is the command that uses it.
pub fn confirm(
    client: &mut ApiClient,
    mut ask: Value,
    sms_code: Option<&str>,
    rerun: &str,
) -> Result<Option<String>, Failure> {
    let lang = client.lang();
    let set = client.get("/v1/me/payment-password", &[])?.json["set"] == true;
    if set {
        let password = match std::env::var("TESSERA_PAYMENT_PASSWORD") {
            Ok(password) => Zeroizing::new(password),
            Err(_) if client::interactive() => {
                client::prompt_secret(lang.pick("支付密码：", "Payment password: "))?
            }
            Err(_) => {
                return Err(Failure::Local(
                    lang.pick(
                        "这一步需要支付密码：请在终端中运行，或设置 TESSERA_PAYMENT_PASSWORD",
                        "this step takes your payment password: run this on a terminal, or set TESSERA_PAYMENT_PASSWORD",
                    )
                    .to_owned(),
                ));
            }
        };
        ask["payment_password"] = serde_json::json!(password.as_str());
    } else if let Some(code) = sms_code {
        ask["sms_code"] = serde_json::json!(code);
    }
    let confirmed = client.post("/v1/me/verifications", &ask, None)?;
    if confirmed.status == reqwest::StatusCode::ACCEPTED {
        client::emit_lines(&[format!(
            "{} {rerun}",
            lang.pick(
                "验证码已发送到你的手机，收到后运行：",
                "A code was texted to your phone; once it arrives, run:"
            )
        )]);
        return Ok(None);
    }
    Ok(Some(
        confirmed.json["verification"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    ))
}

fn bind(client: &mut ApiClient, args: &BindArgs) -> Result<Answer, Failure> {
    let lang = client.lang();
    let (expiry_month, expiry_year) = match &args.expiry {
        Some(expiry) => {
            let (month, year) = split_expiry(expiry).ok_or_else(|| {
                Failure::Local(
                    lang.pick(
                        "--expiry 的格式是 MM/YY，例如 08/29",
                        "--expiry takes MM/YY, e.g. 08/29",
                    )
                    .to_owned(),
                )
            })?;
            (Some(month), Some(year))
        }
        None => (None, None),
    };
    let number = match &args.number {
        Some(SecretArg(number)) => number.clone(),
        None if client::interactive() => {
            client::prompt_secret(lang.pick("卡号（不回显）：", "Card number (not echoed): "))?
        }
        None => {
            return Err(Failure::Local(
                lang.pick(
                    "缺少卡号：请用 --number 提供，或在终端中运行以输入",
                    "no card number: pass --number, or run on a terminal to type it",
                )
                .to_owned(),
            ));
        }
    };
    login::ensure_session(client)?;
    let device = &args.device;
    let any_device = device.device_id.is_some()
        || device.device_model.is_some()
        || device.device_os.is_some()
        || device.device_app_version.is_some()
        || device.device_network.is_some();
    let body = BindBody {
        number: number.trim(),
        holder_name: &args.holder_name,
        expiry_month,
        expiry_year,
        cvc: args.cvc.as_ref().map(|SecretArg(cvc)| cvc.as_str()),
        bank_phone: args.bank_phone.as_deref(),
        device: any_device.then(|| Device {
            id: device.device_id.as_deref(),
            model: device.device_model.as_deref(),
            os: device.device_os.as_deref(),
            app_version: device.device_app_version.as_deref(),
            network_type: device.device_network.as_deref(),
            locale: lang.accept_language(),
        }),
    };
    client.post("/v1/cards", &body, args.idempotency_key.as_deref())
}

/// "08/29" or "8/2029" into month and year, as typed; the server judges them.
fn split_expiry(expiry: &str) -> Option<(&str, &str)> {
    let (month, year) = expiry.split_once('/')?;
    let (month, year) = (month.trim(), year.trim());
    (!month.is_empty() && !year.is_empty()).then_some((month, year))
}

fn print_card_answer(answer: &Answer, lang: Lang, json: bool) {
    match Card::deserialize(&answer.json) {
        Ok(card) if !json => {
            let mut lines = render_card(&card, lang);
            lines.extend(render_next_action(&card, lang));
            client::emit_lines(&lines);
        }
        // --json, or a shape we cannot read: show what the server said.
        _ => answer.print_raw(),
    }
}

fn render_card(card: &Card, lang: Lang) -> Vec<String> {
    let default_mark = if card.is_default {
        lang.pick("  [默认]", "  [default]")
    } else {
        ""
    };
    let rows = [
        (lang.pick("卡组织", "brand"), brand_and_type(card)),
        (lang.pick("发卡行", "issuer"), issuer_name(card, lang)),
        (lang.pick("卡号", "number"), masked_number(card)),
        (lang.pick("有效期", "expiry"), expiry(card)),
        (
            lang.pick("持卡人", "holder"),
            card.holder_name.clone().unwrap_or_else(|| "-".into()),
        ),
        (
            lang.pick("状态", "status"),
            card_status_words(&card.status, lang),
        ),
        (lang.pick("令牌", "token"), token_line(card, lang)),
        (
            lang.pick("绑定时间", "created"),
            card.created_at.clone().unwrap_or_else(|| "-".into()),
        ),
    ];
    let width = rows
        .iter()
        .map(|(label, _)| display_width(label))
        .max()
        .unwrap_or(0);
    let mut lines = vec![format!(
        "{} {}{default_mark}",
        lang.pick("卡片", "card"),
        card.id
    )];
    lines.extend(
        rows.iter()
            .map(|(label, value)| format!("  {}  {value}", pad(label, width))),
    );
    lines
}

fn render_next_action(card: &Card, lang: Lang) -> Vec<String> {
    let Some(action) = &card.next_action else {
        return Vec::new();
    };
    if action.kind != "otp" {
        return vec![format!(
            "{}{}",
            lang.pick("还需一步：", "one more step: "),
            action.kind
        )];
    }
    let to = action.sent_to.as_deref().unwrap_or("-");
    let until = action
        .expires_at
        .as_deref()
        .map(|at| match lang {
            Lang::Zh => format!("，{at} 前有效"),
            Lang::En => format!(", valid until {at}"),
        })
        .unwrap_or_default();
    match lang {
        Lang::Zh => vec![
            String::new(),
            format!("银行已向 {to} 发送短信验证码{until}。完成绑卡："),
            format!("  tessera cards verify {} --otp 验证码", card.id),
        ],
        Lang::En => vec![
            String::new(),
            format!("The bank sent an SMS code to {to}{until}. To finish binding:"),
            format!("  tessera cards verify {} --otp CODE", card.id),
        ],
    }
}

fn print_list(answer: &Answer, lang: Lang) {
    match CardList::deserialize(&answer.json) {
        Ok(list) => client::emit_lines(&render_list(&list, lang)),
        Err(_) => answer.print_raw(),
    }
}

fn render_list(list: &CardList, lang: Lang) -> Vec<String> {
    if list.data.is_empty() {
        return vec![lang.pick("还没有绑定的卡。", "no cards yet.").to_owned()];
    }
    let header = [
        "",
        "ID",
        lang.pick("卡组织", "BRAND"),
        lang.pick("发卡行", "ISSUER"),
        lang.pick("卡号", "NUMBER"),
        lang.pick("状态", "STATUS"),
        lang.pick("令牌", "TOKEN"),
    ]
    .map(str::to_owned);
    let mut rows = vec![header];
    for card in &list.data {
        let token = card
            .token
            .as_ref()
            .map(|t| {
                let last4 = t.last4.as_deref().map(|l| format!("*{l}"));
                let status = t.status.as_deref().map(|s| token_status_words(s, lang));
                [last4, status]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_else(|| "-".into());
        rows.push([
            if card.is_default {
                "*".into()
            } else {
                String::new()
            },
            card.id.clone(),
            brand_and_type(card),
            issuer_name(card, lang),
            masked_number(card),
            card_status_words(&card.status, lang),
            token,
        ]);
    }
    let mut widths = [0usize; 7];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(display_width(cell));
        }
    }
    let mut lines: Vec<String> = rows
        .iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(cell, width)| pad(cell, width))
                .collect();
            cells.join("  ").trim_end().to_owned()
        })
        .collect();
    if list.data.iter().any(|card| card.is_default) {
        lines.push(lang.pick("（* 默认卡）", "(* default card)").to_owned());
    }
    lines
}

fn brand_and_type(card: &Card) -> String {
    let mut parts = Vec::new();
    parts.extend(card.brand.as_deref());
    parts.extend(card.card_type.as_deref());
    let mut text = if parts.is_empty() {
        "-".to_owned()
    } else {
        parts.join(" ")
    };
    if let Some(country) = &card.country {
        text.push_str(&format!(" ({country})"));
    }
    text
}

fn issuer_name(card: &Card, lang: Lang) -> String {
    let Some(issuer) = &card.issuer else {
        return "-".into();
    };
    let (preferred, other) = match lang {
        Lang::Zh => (&issuer.name_zh, &issuer.name_en),
        Lang::En => (&issuer.name_en, &issuer.name_zh),
    };
    preferred
        .as_ref()
        .or(other.as_ref())
        .or(issuer.code.as_ref())
        .cloned()
        .unwrap_or_else(|| "-".into())
}

/// Only what the server sent: first 6 and last 4. The number given to
/// `bind` is never used here.
fn masked_number(card: &Card) -> String {
    format!(
        "{} ******** {}",
        card.first6.as_deref().unwrap_or("******"),
        card.last4.as_deref().unwrap_or("****")
    )
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn expiry(card: &Card) -> String {
    match (&card.expiry_month, &card.expiry_year) {
        (Some(month), Some(year)) => {
            let month = value_text(month);
            let year = value_text(year);
            let month = if month.len() == 1 {
                format!("0{month}")
            } else {
                month
            };
            let year = year
                .strip_prefix("20")
                .filter(|y| y.len() == 2)
                .unwrap_or(&year);
            format!("{month}/{year}")
        }
        _ => "-".into(),
    }
}

fn token_line(card: &Card, lang: Lang) -> String {
    let Some(token) = &card.token else {
        return lang.pick("（尚未发放）", "(not issued yet)").into();
    };
    let mut parts = vec![token.reference.clone().unwrap_or_else(|| "-".into())];
    if let Some(last4) = &token.last4 {
        parts.push(format!("*{last4}"));
    }
    if let Some(status) = &token.status {
        parts.push(token_status_words(status, lang));
    }
    if let Some(expiry) = &token.expiry {
        parts.push(format!(
            "{} {}",
            lang.pick("有效期", "exp"),
            value_text(expiry)
        ));
    }
    parts.join("  ")
}

/// A card's status in words; a status this client does not know is shown
/// as the server sent it.
fn card_status_words(status: &str, lang: Lang) -> String {
    let words = match status {
        "binding" => lang.pick("正在添加", "being added"),
        "pending_verification" => lang.pick("等待短信验证码", "waiting for its SMS code"),
        "active" => lang.pick("可以使用", "active"),
        "verification_failed" => lang.pick(
            "未添加成功（验证码输错次数过多）",
            "not added (too many wrong codes)",
        ),
        "verification_expired" => {
            lang.pick("未添加成功（验证码已过期）", "not added (the code expired)")
        }
        "unbound" => lang.pick("已解绑", "removed"),
        "closed" => lang.pick("发卡行已注销", "closed by the bank"),
        other => other,
    };
    words.to_owned()
}

/// A payment token's status in words.
fn token_status_words(status: &str, lang: Lang) -> String {
    let words = match status {
        "inactive" => lang.pick("待启用", "not active yet"),
        "active" => lang.pick("可用", "active"),
        "suspended" => lang.pick("已暂停", "suspended"),
        "deleted" => lang.pick("已删除", "deleted"),
        other => other,
    };
    words.to_owned()
}

/// Terminal columns a string takes: CJK and fullwidth characters take two.
fn display_width(text: &str) -> usize {
    text.chars()
        .map(|c| {
            let wide = matches!(c as u32,
                0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF
                | 0x4E00..=0x9FFF | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
                | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD);
            if wide { 2 } else { 1 }
        })
        .sum()
}

fn pad(text: &str, width: usize) -> String {
    let fill = width.saturating_sub(display_width(text));
    format!("{text}{}", " ".repeat(fill))
}
