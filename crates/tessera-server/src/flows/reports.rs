//! "This payment was not me", and a frozen wallet. A report pauses the
//! card's token as its cardholder and opens a ticket with the payment
//! attached; a freeze pauses every token and every payment answers
//! `account_frozen` until the person unfreezes with a confirmation. Both
//! are tickets support reads (`GET /v1/support/tickets`).

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use serde_json::json;
use tessera_core::error::{DomainError, ErrorCode, Lang};
use tessera_core::ids::{PaymentId, UserId};
use tessera_core::payment::report;
use tessera_core::risk::RiskReason;
use tessera_core::text::mask_card_numbers;
use tessera_core::token::lifecycle::TokenStatus;
use tessera_store::{
    AccountEvent, PaymentReport, ReportOutcome, TicketRecord, TimelineType, TokenLookup,
};

use crate::flows::audit::{self, Actor};
use crate::flows::lifecycle::{self, Change};
use crate::flows::verifications::{self, Purpose};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, rfc3339};
use crate::http::views::{PaymentReportRequest, PaymentReportView, WalletFreezeView};
use crate::state::AppState;

/// The reason kept with a token a report or a freeze paused.
const REPORTED: &str = "reported: payment not made by the cardholder";
const FROZEN: &str = "wallet frozen by the cardholder";

/// A token that can pay, or could again.
fn pausable(status: TokenStatus) -> bool {
    matches!(status, TokenStatus::Active | TokenStatus::Suspended)
}

fn ticket(
    user_id: &UserId,
    trace_id: &str,
    kind: &str,
    message: String,
    details: String,
    now: DateTime<Utc>,
) -> TicketRecord {
    TicketRecord {
        id: crate::ids::random_id("tkt_", 20),
        user_id: user_id.to_owned(),
        trace_id: trace_id.to_owned(),
        message,
        status: "open".to_owned(),
        details,
        kind: kind.to_owned(),
        created_at: now,
        ..TicketRecord::default()
    }
}

/// `POST /v1/payments/{id}/report`: the person's own payment, reported
/// once; a second report answers the first.
pub async fn report_payment(
    state: &AppState,
    user_id: &UserId,
    payment_id: &str,
    request: &PaymentReportRequest,
    trace_id: &str,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<(bool, PaymentReportView), ApiError> {
    let payment = state
        .store
        .payment(&PaymentId::from(payment_id))
        .await?
        .filter(|p| p.user_id == *user_id)
        .ok_or_else(|| DomainError::new(ErrorCode::NotFound).with_param("id"))?;
    let message = request
        .message
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(|m| mask_card_numbers(m).into_owned())
        .unwrap_or_default();
    // The card first: whatever else fails, it pays no more. A card that
    // left the wallet pays no more anyway.
    let token = state
        .store
        .payment_token(TokenLookup::Ref(&payment.token_ref))
        .await?;
    if token.is_some_and(|t| pausable(t.token.status)) {
        let caller = Caller::User {
            user_id: user_id.to_owned(),
        };
        lifecycle::suspend_or_resume(
            state,
            &caller,
            trace_id,
            &payment.token_ref,
            Change::Suspend,
            Some(REPORTED),
            now,
        )
        .await?;
    }
    let reasons: Vec<serde_json::Value> = payment
        .risk_reason_names()
        .filter_map(RiskReason::parse)
        .map(|r| json!({"code": r.as_str(), "zh": r.message().zh, "en": r.message().en}))
        .collect();
    let details = json!({
        "payment": {
            "id": payment.id.as_str(),
            "status": payment.status.as_str(),
            "amount": payment.amount,
            "currency": payment.currency,
            "merchant_id": payment.merchant_id,
            "merchant_name": payment.merchant_name,
            "channel": payment.channel.as_str(),
            "card_id": payment.card_id.as_str(),
            "token_ref": payment.token_ref,
            "consent": payment.consent,
            "risk_score": payment.risk_score,
            "risk_reasons": reasons,
            "trace_id": payment.trace_id,
            "created_at": rfc3339(payment.created_at),
        },
    });
    let mut opened = ticket(
        user_id,
        &payment.trace_id,
        "payment_report",
        message,
        details.to_string(),
        now,
    );
    opened.payment_id = Some(payment.id.clone());
    let record = PaymentReport {
        id: crate::ids::random_id("rpt_", 20),
        payment_id: payment.id.clone(),
        user_id: user_id.to_owned(),
        token_ref: payment.token_ref.clone(),
        ticket_id: opened.id.clone(),
        trace_id: trace_id.to_owned(),
        created_at: now,
    };
    let (created, kept) = match state.store.report_payment(&record, &opened).await? {
        ReportOutcome::Recorded => (true, record),
        ReportOutcome::AlreadyReported(first) => (false, first),
    };
    if created {
        tracing::info!(trace_id, payment_id = %payment.id, report = %kept.id, "payment reported");
    }
    Ok((
        created,
        PaymentReportView {
            id: kept.id,
            payment_id: kept.payment_id.to_string(),
            ticket_id: kept.ticket_id,
            card_id: payment.card_id.to_string(),
            card_paused: true,
            next_steps: report::reported().get(lang).to_owned(),
            created_at: rfc3339(kept.created_at),
        },
    ))
}

/// Every live token of the person, paused or resumed as the cardholder.
/// On resuming, a token paused by a report stays paused.
async fn change_every_token(
    state: &AppState,
    user_id: &UserId,
    trace_id: &str,
    change: Change,
    now: DateTime<Utc>,
) -> Result<u32, ApiError> {
    let reported: Vec<String> = state
        .store
        .payment_reports(user_id)
        .await?
        .into_iter()
        .map(|r| r.token_ref)
        .collect();
    let caller = Caller::User {
        user_id: user_id.to_owned(),
    };
    let mut changed = 0;
    for card in state.store.list_cards(user_id).await? {
        let Some(token) = card.token else { continue };
        if !pausable(token.status)
            || (change == Change::Resume && reported.contains(&token.token_ref))
        {
            continue;
        }
        let before = token.suspenders.contains(&"cardholder".to_owned());
        lifecycle::suspend_or_resume(
            state,
            &caller,
            trace_id,
            &token.token_ref,
            change,
            Some(FROZEN),
            now,
        )
        .await?;
        if before == (change == Change::Resume) {
            changed += 1;
        }
    }
    Ok(changed)
}

/// `GET /v1/me/freeze`.
pub async fn freeze_state(
    state: &AppState,
    user_id: &UserId,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<WalletFreezeView, ApiError> {
    let history = crate::flows::consent::account(state, user_id, false, now).await?;
    Ok(WalletFreezeView {
        frozen: history.frozen_at.is_some(),
        frozen_at: history.frozen_at.map(rfc3339),
        cards_changed: 0,
        message: match history.frozen_at {
            Some(_) => report::frozen().get(lang).to_owned(),
            None => String::new(),
        },
    })
}

/// `POST /v1/me/freeze`: every card paused, a ticket for support.
pub async fn freeze(
    state: &AppState,
    user_id: &UserId,
    trace_id: &str,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<WalletFreezeView, ApiError> {
    let opened = ticket(
        user_id,
        trace_id,
        "wallet_freeze",
        String::new(),
        "{}".to_owned(),
        now,
    );
    let newly = state
        .store
        .set_frozen(user_id, Some(now), Some(&opened))
        .await?;
    // Paused again even when it already was: a card bound since is paused too.
    let cards_changed = change_every_token(state, user_id, trace_id, Change::Suspend, now).await?;
    if newly {
        tracing::info!(trace_id, user_id = %user_id, cards_changed, "wallet frozen");
        note_freeze(state, user_id, TimelineType::WalletFrozen, trace_id, now).await?;
    }
    let mut view = freeze_state(state, user_id, lang, now).await?;
    view.cards_changed = cards_changed;
    Ok(view)
}

/// `DELETE /v1/me/freeze`: with a confirmation (`unfreeze`); cards a report
/// paused stay paused.
pub async fn unfreeze(
    state: &AppState,
    headers: &HeaderMap,
    user_id: &UserId,
    trace_id: &str,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<WalletFreezeView, ApiError> {
    let history = crate::flows::consent::account(state, user_id, false, now).await?;
    if history.frozen_at.is_none() {
        return freeze_state(state, user_id, lang, now).await;
    }
    verifications::require(state, headers, user_id, Purpose::Unfreeze, "", now).await?;
    if state.store.set_frozen(user_id, None, None).await? {
        note_freeze(state, user_id, TimelineType::WalletUnfrozen, trace_id, now).await?;
    }
    let cards_changed = change_every_token(state, user_id, trace_id, Change::Resume, now).await?;
    tracing::info!(user_id = %user_id, cards_changed, "wallet unfrozen");
    Ok(WalletFreezeView {
        frozen: false,
        frozen_at: None,
        cards_changed,
        message: report::unfrozen().get(lang).to_owned(),
    })
}

/// A freeze or unfreeze, on the person's timeline and in the audit.
async fn note_freeze(
    state: &AppState,
    user_id: &UserId,
    kind: TimelineType,
    trace_id: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let event = AccountEvent {
        user_id: user_id.clone(),
        kind,
        trace_id: Some(trace_id.to_owned()),
        detail: None,
        created_at: now,
    };
    crate::flows::users::record(state, event).await;
    let action = if kind == TimelineType::WalletFrozen {
        audit::WALLET_FROZEN
    } else {
        audit::WALLET_UNFROZEN
    };
    let caller = Caller::User {
        user_id: user_id.clone(),
    };
    Actor::caller(&caller, trace_id)
        .record(state, action, Some(user_id), None)
        .await
}
