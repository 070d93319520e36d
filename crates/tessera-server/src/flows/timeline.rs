//! A person's timeline for support: what happened to them (sign-ins,
//! bindings, token changes, payments, refunds, transfers, reports,
//! freezes, tickets) in one list, newest first, each told in a sentence in
//! both languages, a failed binding with its diagnosis. The store reads
//! each source through an index on (person, time) and merges them.

use chrono::{DateTime, Utc};
use tessera_core::card::pan::mask;
use tessera_core::diagnosis::{self, Audience, Bilingual, Circumstances};
use tessera_core::error::{DeclineCode, DomainError, ErrorCode};
use tessera_core::ids::UserId;
use tessera_core::money::Currency;
use tessera_store::{AttemptOutcome, TimelineQuery, TimelineRow, TimelineType};

use crate::flows::audit::{self, Reader};
use crate::flows::diagnose;
use crate::http::error::{ApiError, rfc3339};
use crate::http::query;
use crate::http::views::{
    BilingualView, TimelineEntryView, TimelineList, TimelineVerdictView, UserTimelineQuery,
};
use crate::state::AppState;

/// A page's length unless asked otherwise, and the most one may be.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

fn invalid(param: &'static str) -> ApiError {
    DomainError::new(ErrorCode::InvalidRequest)
        .with_param(param)
        .into()
}

/// One page of the person's timeline, its read audited; `not_found` (`id`) for an unknown
/// person, `invalid_request` naming a bad `type`, `since` or `cursor`.
pub async fn page(
    state: &AppState,
    reader: Reader<'_>,
    user_id: &UserId,
    request: &UserTimelineQuery,
    now: DateTime<Utc>,
) -> Result<TimelineList, ApiError> {
    let only = request
        .kind
        .as_deref()
        .map(|kind| TimelineType::parse(kind.trim()).ok_or_else(|| invalid("type")))
        .transpose()?;
    let since = query::since(request.since.as_deref(), now)?;
    let before = query::cursor(request.cursor.as_deref())?;
    if before
        .as_ref()
        .is_some_and(|(_, key)| !tessera_store::timeline_cursor_is_valid(key))
    {
        return Err(invalid("cursor"));
    }
    let limit = query::page_limit(request.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    if state.store.user_by_id(user_id).await?.is_none() {
        return Err(DomainError::new(ErrorCode::NotFound)
            .with_param("id")
            .into());
    }
    reader
        .record(state, audit::USER_TIMELINE, Some(user_id))
        .await?;
    let rows = state
        .store
        .timeline(&TimelineQuery {
            user_id: user_id.clone(),
            before,
            since,
            only,
            limit,
        })
        .await?;
    let keyed: Vec<(DateTime<Utc>, String)> = rows.iter().map(|r| (r.at, r.key())).collect();
    Ok(TimelineList {
        next_cursor: query::next_cursor(&keyed, limit, |(at, key)| (*at, key.as_str())),
        data: rows.iter().map(|row| entry(state, row)).collect(),
    })
}

fn entry(state: &AppState, row: &TimelineRow) -> TimelineEntryView {
    let card = masked_card(row);
    let verdict = row
        .attempt
        .as_deref()
        .filter(|attempt| attempt.outcome == AttemptOutcome::Error)
        .map(|attempt| {
            let facts = diagnose::facts(state, attempt);
            let found =
                diagnosis::diagnose(&[facts], None, Audience::Support, &Circumstances::default());
            (found.verdict, found.headline)
        });
    let summary = summary(state, row, card.as_deref(), verdict.as_ref());
    TimelineEntryView {
        id: row.key(),
        at: rfc3339(row.at),
        kind: row.kind.as_str().to_owned(),
        summary: BilingualView::from(&summary),
        trace_id: row.trace_id.clone(),
        card,
        card_id: row.card_id.clone(),
        token_ref: row.token_ref.clone(),
        payment_id: row.payment_id.clone(),
        transfer_id: row.transfer_id.clone(),
        ticket_id: row.ticket_id.clone(),
        // An account event's word is its type already.
        status: row.word.clone().filter(|_| !row.kind.is_account_event()),
        amount: row.amount,
        currency: row.currency.clone(),
        actor: match row.kind {
            TimelineType::TokenEvent => row.actor.clone(),
            _ => None,
        },
        error_code: row.error_code.clone(),
        decline_code: row.decline_code.clone(),
        verdict: verdict.map(|(kind, headline)| TimelineVerdictView {
            kind: kind.as_str().to_owned(),
            headline: BilingualView::from(&headline),
        }),
    }
}

/// First six and last four digits, the rest starred.
fn masked_card(row: &TimelineRow) -> Option<String> {
    if let Some(masked) = row.attempt.as_deref().and_then(|a| a.masked_pan.clone()) {
        return Some(masked);
    }
    let (first6, last4) = (row.first6.as_deref()?, row.last4.as_deref()?);
    let length = row
        .pan_length
        .and_then(|l| usize::try_from(l).ok())
        .unwrap_or(16);
    let hidden = length.saturating_sub(first6.len() + last4.len());
    Some(mask(&format!("{first6}{}{last4}", "0".repeat(hidden))))
}

fn b(zh: impl Into<String>, en: impl Into<String>) -> Bilingual {
    Bilingual::new(zh, en)
}

/// " (card)" / "（card）" after a sentence, when there is a card.
fn with_card(text: Bilingual, card: Option<&str>) -> Bilingual {
    match card {
        Some(card) => b(
            format!("{}（{card}）", text.zh),
            format!("{} ({card})", text.en),
        ),
        None => text,
    }
}

fn money(row: &TimelineRow) -> String {
    let (Some(amount), Some(code)) = (row.amount, row.currency.as_deref()) else {
        return String::new();
    };
    match (Currency::parse(code), u64::try_from(amount)) {
        (Some(currency), Ok(minor)) => format!("{code} {}", currency.format_amount(minor)),
        _ => format!("{code} {amount}"),
    }
}

fn merchant(row: &TimelineRow) -> Bilingual {
    match row.merchant.as_deref() {
        Some(name) => b(format!("，商户：{name}"), format!(" at {name}")),
        None => b("", ""),
    }
}

/// Why a payment was declined, in words: the bank's decline code's
/// message, else the error's, else the code itself.
fn decline_reason(row: &TimelineRow) -> Bilingual {
    let text = row
        .decline_code
        .as_deref()
        .and_then(DeclineCode::parse)
        .map(DeclineCode::message)
        .or_else(|| {
            row.error_code
                .as_deref()
                .and_then(ErrorCode::parse)
                .map(|code| code.entry().message)
        });
    match text {
        Some(text) => b(
            text.zh.trim_end_matches('。'),
            text.en.trim_end_matches('.'),
        ),
        None => {
            let code = row.word.as_deref().unwrap_or_default();
            b(code, code)
        }
    }
}

fn actor(word: Option<&str>) -> Bilingual {
    match word {
        Some("cardholder") => b("本人", "the person"),
        Some("wallet") => b("钱包", "the wallet"),
        Some("issuer") => b("发卡行", "the bank"),
        Some("risk") => b("风控", "risk control"),
        Some(other) => b(other, other),
        None => b("未知方", "someone"),
    }
}

fn summary(
    state: &AppState,
    row: &TimelineRow,
    card: Option<&str>,
    verdict: Option<&(diagnosis::VerdictKind, Bilingual)>,
) -> Bilingual {
    use TimelineType as T;
    let amount = money(row);
    let status = row.word.as_deref().unwrap_or_default();
    match row.kind {
        T::Signup => b("注册了钱包账户", "Signed up"),
        T::SignIn => b("登录成功", "Signed in"),
        T::SignInFailed => b(
            "登录失败：手机号或密码不正确",
            "Sign-in failed: wrong phone number or password",
        ),
        T::SignInLocked => {
            let until = row
                .detail
                .as_deref()
                .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
                .map(|at| {
                    at.with_timezone(&state.time_zone)
                        .format("%Y-%m-%d %H:%M")
                        .to_string()
                })
                .unwrap_or_default();
            b(
                format!("登录失败次数过多，已锁定至 {until}"),
                format!("Too many failed sign-ins: locked until {until}"),
            )
        }
        T::BindingAttempt => match verdict {
            Some((kind, _)) => {
                let title = kind.title();
                with_card(
                    b(
                        format!("绑卡失败：{}", title.zh),
                        format!("Binding failed: {}", title.en),
                    ),
                    card,
                )
            }
            None => with_card(b("绑卡：已发送短信验证码", "Binding: SMS code sent"), card),
        },
        T::CardBound => with_card(b("绑卡成功", "Card added"), card),
        T::CardUnbound => with_card(b("解绑了卡片", "Card removed"), card),
        T::TokenEvent => {
            let by = actor(row.actor.as_deref());
            let text = match status {
                "suspend" => b(
                    format!("{}暂停了卡片", by.zh),
                    format!("Card paused by {}", by.en),
                ),
                "resume" => b(
                    format!("{}恢复了卡片", by.zh),
                    format!("Card resumed by {}", by.en),
                ),
                "delete" => b(
                    format!("{}删除了卡片", by.zh),
                    format!("Card deleted by {}", by.en),
                ),
                "renewed" => b(
                    "卡片的支付凭证已自动更新，可照常支付",
                    "The card's payment credentials were renewed automatically: it pays as before",
                ),
                "card_replaced" => b("发卡行换发了新卡", "The bank replaced the card"),
                "expiry_updated" => b("发卡行更新了有效期", "The bank updated the expiry date"),
                "card_closed" => b("发卡行注销了卡片", "The bank closed the card"),
                other => b(format!("卡片事件：{other}"), format!("Card event: {other}")),
            };
            with_card(text, card)
        }
        T::Payment => {
            let shop = merchant(row);
            match status {
                "approved" => b(
                    format!("支付成功 {amount}{}", shop.zh),
                    format!("Paid {amount}{}", shop.en),
                ),
                _ => b(
                    format!("支付处理中 {amount}{}", shop.zh),
                    format!("Payment pending: {amount}{}", shop.en),
                ),
            }
        }
        T::PaymentDeclined => {
            let shop = merchant(row);
            let why = decline_reason(row);
            b(
                format!("支付未成功 {amount}{}（{}）", shop.zh, why.zh),
                format!("Payment declined: {amount}{} ({})", shop.en, why.en),
            )
        }
        T::Refund => {
            let (zh, en) = match status {
                "accepted" => ("已退回", "refunded"),
                "declined" => ("被银行拒绝", "declined by the bank"),
                "failed" => ("失败", "failed"),
                _ => ("处理中", "pending"),
            };
            b(
                format!("退款 {amount} {zh}"),
                format!("Refund of {amount} {en}"),
            )
        }
        T::Transfer => {
            let to = row.actor.as_deref().unwrap_or("?");
            let (zh, en) = match status {
                "settled" => ("已到账", "settled"),
                "declined" => ("被银行拒绝", "declined by the bank"),
                "failed" => ("失败", "failed"),
                _ => ("处理中", "pending"),
            };
            b(
                format!("转账 {amount} 至 {to}，{zh}"),
                format!("Transfer of {amount} to {to}: {en}"),
            )
        }
        T::PaymentReport => {
            let shop = merchant(row);
            b(
                format!("举报一笔支付不是本人所为 {amount}{}", shop.zh),
                format!("Reported a payment as not theirs: {amount}{}", shop.en),
            )
        }
        T::WalletFrozen => b("冻结了钱包", "Froze the wallet"),
        T::WalletUnfrozen => b("解冻了钱包", "Unfroze the wallet"),
        T::Ticket => {
            let about = match row.actor.as_deref() {
                Some("binding") | None => b("绑卡问题", "about a binding"),
                Some("wallet_freeze") => b("冻结钱包", "about the wallet freeze"),
                Some("payment_report") => b("支付举报", "about a reported payment"),
                Some(other) => b(other, other),
            };
            b(
                format!("提交了工单：{}", about.zh),
                format!("Opened a ticket {}", about.en),
            )
        }
    }
}
