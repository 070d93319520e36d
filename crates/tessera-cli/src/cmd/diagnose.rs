//! `tessera diagnose`: why a binding or a payment failed, asked of a running
//! server with a support (or operator) API key. Prints the verdict, the
//! story, the device, the next steps and the attempts (or payments) as
//! evidence; `--json` prints the server's answer as is. Card numbers appear
//! as the server masks them.

use std::process::ExitCode;

use serde::Deserialize;
use serde_json::Value;

use super::client::{self, ApiClient, ClientArgs, DEFAULT_SERVER, Failure, Lang};

#[derive(Debug, clap::Args)]
pub struct DiagnoseArgs {
    /// The trace id shown with the error (`req_...`), of a binding or a
    /// payment; or a payment id (`pay_...`).
    pub trace_id: Option<String>,
    /// Diagnose this payment (`pay_...`).
    #[arg(
        long = "payment",
        value_name = "PAYMENT_ID",
        conflicts_with = "trace_id"
    )]
    pub payment: Option<String>,
    /// Diagnose everything this user tried instead of one trace.
    #[arg(long = "user", value_name = "USER_ID")]
    pub user: Option<String>,
    /// With --user: from when, as RFC 3339 or a duration back (30m, 1h, 7d).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Base URL of a running `tessera serve` (plain http).
    #[arg(long, env = "TESSERA_SERVER", default_value = DEFAULT_SERVER)]
    pub server: String,
    /// A support or operator API key (`tessera admin create-key --role support`).
    #[arg(long, env = "TESSERA_API_KEY", hide_env_values = true)]
    pub key: Option<String>,
    /// Language of the verdict, the story and the next steps.
    #[arg(long, value_enum, default_value_t = Lang::Zh)]
    pub lang: Lang,
    /// Print the server's JSON answer as is.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Diagnosis {
    user_id: Option<String>,
    since: String,
    until: String,
    verdict: Verdict,
    headline: String,
    story: String,
    device: String,
    next_step: NextStep,
    attempts: Vec<Evidence>,
    payments: Vec<PaymentEvidence>,
    incidents: Vec<Incident>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PaymentEvidence {
    id: String,
    trace_id: String,
    created_at: String,
    status: String,
    amount: i64,
    currency: String,
    merchant_id: String,
    merchant_name: Option<String>,
    channel: String,
    masked_pan: Option<String>,
    cryptogram_result: String,
    decline: Option<Decline>,
    happened: Bilingual,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Decline {
    code: String,
    decline_code: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Verdict {
    kind: String,
    cause: Option<String>,
    code: Option<String>,
    trace_id: Option<String>,
    payment_id: Option<String>,
    resolved_by: Option<String>,
    title: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NextStep {
    person: String,
    support: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Bilingual {
    zh: String,
    en: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Evidence {
    trace_id: String,
    created_at: String,
    outcome: String,
    error_code: Option<String>,
    param: Option<String>,
    reason: Option<String>,
    masked_pan: Option<String>,
    brand: Option<String>,
    issuer_code: Option<String>,
    issuer_name: Option<String>,
    card_type: Option<String>,
    country: Option<String>,
    device: Option<Value>,
    issuer_response: Option<String>,
    latency_ms: i64,
    happened: Bilingual,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Incident {
    message: String,
    breaker: Breaker,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Breaker {
    state: String,
    retry_at: Option<String>,
}

pub fn run(args: DiagnoseArgs) -> anyhow::Result<ExitCode> {
    let (lang, json) = (args.lang, args.json);
    Ok(match execute(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(lang, json),
    })
}

fn execute(args: &DiagnoseArgs) -> Result<(), Failure> {
    let lang = args.lang;
    let key = args
        .key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            Failure::Local(
                lang.pick(
                    "缺少 API 密钥：请用 --key 或 TESSERA_API_KEY 提供客服（support）或运维（operator）密钥",
                    "no API key: pass a support or operator key with --key or TESSERA_API_KEY",
                )
                .to_owned(),
            )
        })?;
    let mut query: Vec<(&str, &str)> = Vec::new();
    let payment = args.payment.as_deref().or(args
        .trace_id
        .as_deref()
        .filter(|id| id.trim().starts_with("pay_")));
    match (args.trace_id.as_deref(), args.user.as_deref()) {
        _ if payment.is_some() => query.push(("payment_id", payment.unwrap_or_default())),
        (Some(trace), _) => query.push(("trace_id", trace)),
        (None, Some(user)) => {
            query.push(("user_id", user));
            query.push(("since", args.since.as_deref().unwrap_or("24h")));
        }
        (None, None) => {
            return Err(Failure::Local(
                lang.pick(
                    "请给出追踪编号或支付编号（tessera diagnose TRACE_ID 或 pay_...），或用 --user USER_ID 诊断一个用户的全部尝试",
                    "give a trace id or a payment id (tessera diagnose TRACE_ID or pay_...), or --user USER_ID for everything a person tried",
                )
                .to_owned(),
            ));
        }
    }
    let client = ApiClient::new(&ClientArgs {
        server: args.server.clone(),
        token: Some(key.to_owned()),
        lang,
        json: args.json,
    })?;
    let answer = client.get("/v1/support/diagnose", &query)?;
    if args.json {
        answer.print_raw();
        return Ok(());
    }
    let diagnosis: Diagnosis = answer.parse()?;
    client::emit_lines(&render(&diagnosis, lang));
    Ok(())
}

fn device_line(device: &Value) -> String {
    let field = |name: &str| device.get(name).and_then(Value::as_str).unwrap_or("?");
    format!(
        "{} / {} / app {} / {}",
        field("model"),
        field("os"),
        field("app_version"),
        field("network_type")
    )
}

fn render(diagnosis: &Diagnosis, lang: Lang) -> Vec<String> {
    let verdict = &diagnosis.verdict;
    let mut lines = Vec::new();
    lines.push(format!(
        "{}{} ({})",
        lang.pick("判定：", "verdict: "),
        verdict.title,
        verdict.kind
    ));
    let mut codes = Vec::new();
    if let Some(cause) = &verdict.cause {
        codes.push(format!("{}{cause}", lang.pick("原因类别：", "cause: ")));
    }
    if let Some(code) = &verdict.code {
        codes.push(format!("{}{code}", lang.pick("错误代码：", "code: ")));
    }
    if !codes.is_empty() {
        lines.push(codes.join("  "));
    }
    lines.push(diagnosis.headline.clone());
    if let Some(user) = &diagnosis.user_id {
        lines.push(format!(
            "{}{user}  {}{} .. {}",
            lang.pick("用户：", "user: "),
            lang.pick("时间：", "window: "),
            diagnosis.since,
            diagnosis.until
        ));
    }
    if let Some(trace) = &verdict.trace_id {
        lines.push(format!("trace id: {trace}"));
    }
    if let Some(payment) = &verdict.payment_id {
        lines.push(format!(
            "{}{payment}",
            lang.pick("支付编号：", "payment id: ")
        ));
    }
    if let Some(resolved) = &verdict.resolved_by {
        lines.push(format!(
            "{}{resolved}",
            lang.pick("已由之后的重试解决：", "solved by a later retry: ")
        ));
    }
    for (heading, text) in [
        (lang.pick("经过：", "what happened:"), &diagnosis.story),
        (lang.pick("设备：", "device:"), &diagnosis.device),
        (
            lang.pick("用户下一步：", "next step for the person:"),
            &diagnosis.next_step.person,
        ),
        (
            lang.pick("客服下一步：", "next step for support:"),
            &diagnosis.next_step.support,
        ),
    ] {
        lines.push(String::new());
        lines.push(heading.to_owned());
        lines.push(format!("  {text}"));
    }
    if !diagnosis.incidents.is_empty() {
        lines.push(String::new());
        lines.push(lang.pick("进行中的故障：", "open incidents:").to_owned());
        for incident in &diagnosis.incidents {
            let retry = incident
                .breaker
                .retry_at
                .as_deref()
                .map(|at| format!(", retry at {at}"))
                .unwrap_or_default();
            lines.push(format!(
                "  {} [breaker {}{retry}]",
                incident.message, incident.breaker.state
            ));
        }
    }
    if !diagnosis.payments.is_empty() {
        render_payments(&mut lines, &diagnosis.payments, lang);
        return lines;
    }
    lines.push(String::new());
    lines.push(format!(
        "{} ({})",
        lang.pick("证据，按时间顺序：", "evidence, oldest first:"),
        diagnosis.attempts.len()
    ));
    for (index, attempt) in diagnosis.attempts.iter().enumerate() {
        let code = attempt.error_code.as_deref().unwrap_or(&attempt.outcome);
        let mut facts = vec![attempt.created_at.clone(), code.to_owned()];
        if let Some(param) = &attempt.param {
            facts.push(format!("param {param}"));
        }
        if let Some(reason) = &attempt.reason {
            facts.push(format!("reason {reason}"));
        }
        lines.push(format!("  {}. {}", index + 1, facts.join("  ")));
        let card: Vec<&str> = [
            attempt.masked_pan.as_deref(),
            attempt.issuer_code.as_deref(),
            attempt.issuer_name.as_deref(),
            attempt.brand.as_deref(),
            attempt.card_type.as_deref(),
            attempt.country.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !card.is_empty() {
            lines.push(format!(
                "     {}{}",
                lang.pick("卡：", "card: "),
                card.join(" ")
            ));
        }
        lines.push(format!(
            "     {}{}  {} {} ms",
            lang.pick("发卡行应答：", "issuer: "),
            attempt.issuer_response.as_deref().unwrap_or("-"),
            lang.pick("耗时", "latency"),
            attempt.latency_ms
        ));
        if let Some(device) = &attempt.device {
            lines.push(format!(
                "     {}{}",
                lang.pick("设备：", "device: "),
                device_line(device)
            ));
        }
        let happened = match lang {
            Lang::Zh => &attempt.happened.zh,
            Lang::En => &attempt.happened.en,
        };
        lines.push(format!("     {happened}"));
        lines.push(format!("     trace id: {}", attempt.trace_id));
    }
    lines
}

fn render_payments(lines: &mut Vec<String>, payments: &[PaymentEvidence], lang: Lang) {
    lines.push(String::new());
    lines.push(format!(
        "{} ({})",
        lang.pick("支付记录，按时间顺序：", "payments, oldest first:"),
        payments.len()
    ));
    for (index, payment) in payments.iter().enumerate() {
        let mut facts = vec![payment.created_at.clone(), payment.status.clone()];
        if let Some(decline) = &payment.decline {
            facts.push(decline.code.clone());
            if let Some(code) = &decline.decline_code {
                facts.push(format!("decline_code {code}"));
            }
        }
        lines.push(format!("  {}. {}", index + 1, facts.join("  ")));
        let amount = match (
            tessera_core::money::Currency::parse(&payment.currency),
            u64::try_from(payment.amount),
        ) {
            (Some(currency), Ok(minor)) => currency.format_amount(minor),
            _ => payment.amount.to_string(),
        };
        lines.push(format!(
            "     {} {} {}  {} {}  {}",
            amount,
            payment.currency,
            payment
                .merchant_name
                .as_deref()
                .unwrap_or(&payment.merchant_id),
            payment.channel,
            payment.masked_pan.as_deref().unwrap_or("-"),
            format_args!("cryptogram {}", payment.cryptogram_result)
        ));
        let happened = match lang {
            Lang::Zh => &payment.happened.zh,
            Lang::En => &payment.happened.en,
        };
        lines.push(format!("     {happened}"));
        lines.push(format!(
            "     {}{}  trace id: {}",
            lang.pick("支付编号：", "payment id: "),
            payment.id,
            payment.trace_id
        ));
    }
}
