//! A payment's diagnosis over HTTP: the payment, the same person's payments
//! in the day around it, its card (masked) and its token's history become
//! the core's facts; the verdict, story and next steps come back in the
//! shape of a binding's diagnosis.

use chrono::{DateTime, Duration, Utc};
use tessera_core::diagnosis::{
    self, Audience, CardFacts, PaymentFacts, PaymentState, TokenEventFacts, TokenFacts,
};
use tessera_core::error::{DeclineCode, ErrorCode, Lang};
use tessera_core::money::Currency;
use tessera_core::risk::RiskReason;
use tessera_store::{
    CardRecord, IncidentFilter, PaymentFilter, PaymentRecord, PaymentStatus, TokenEvent,
};

use crate::flows::diagnose::{STORY_HOURS, diagnosis_view};
use crate::http::error::ApiError;
use crate::http::views::{
    BilingualView, DiagnosisView, IncidentView, PaymentEvidenceView, PaymentView,
};
use crate::state::AppState;

/// Payments read around the one diagnosed, at most.
const MAX_PAYMENTS: u32 = 200;

fn masked(card: &CardRecord) -> String {
    format!(
        "{}{}{}",
        card.first6,
        "*".repeat(usize::from(card.pan_length).saturating_sub(10)),
        card.last4
    )
}

fn card_facts(card: Option<&CardRecord>) -> CardFacts {
    let Some(card) = card else {
        return CardFacts::default();
    };
    CardFacts {
        masked_pan: Some(masked(card)),
        last4: Some(card.last4.clone()),
        brand: Some(card.brand.clone()),
        issuer_code: card.issuer_code.clone(),
        issuer_name_zh: card.issuer_name_zh.clone(),
        issuer_name_en: card.issuer_name_en.clone(),
        card_type: card.card_type,
        country: card.country.clone(),
    }
}

fn amount_text(payment: &PaymentRecord) -> String {
    match (
        Currency::parse(&payment.currency),
        u64::try_from(payment.amount),
    ) {
        (Some(currency), Ok(minor)) => {
            format!("{} {}", currency.format_amount(minor), payment.currency)
        }
        _ => format!("{} {}", payment.amount, payment.currency),
    }
}

/// The core's facts for one stored payment. `mismatch` says which domain a
/// `domain_mismatch` broke, when known.
fn facts(
    payment: &PaymentRecord,
    card: Option<&CardRecord>,
    mismatch: Option<String>,
) -> PaymentFacts {
    let card = card.filter(|c| c.id == payment.card_id);
    PaymentFacts {
        payment_id: payment.id.to_string(),
        trace_id: payment.trace_id.clone(),
        at_ms: payment.created_at.timestamp_millis(),
        state: match payment.status {
            PaymentStatus::Approved => PaymentState::Approved,
            PaymentStatus::Declined => PaymentState::Declined,
            PaymentStatus::Failed => PaymentState::Failed,
            PaymentStatus::Pending => PaymentState::Pending,
        },
        code: payment.error_code.as_deref().and_then(ErrorCode::parse),
        decline_code: payment.decline_code.as_deref().and_then(DeclineCode::parse),
        cryptogram_result: payment.cryptogram_result.clone(),
        risk_score: payment.risk_score,
        risk_reasons: payment
            .risk_reason_names()
            .filter_map(RiskReason::parse)
            .collect(),
        consent: payment.consent.clone(),
        atc: payment.atc,
        amount: amount_text(payment),
        merchant: payment
            .merchant_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| payment.merchant_id.clone()),
        channel: payment.channel.as_str().to_owned(),
        token_ref: payment.token_ref.clone(),
        mismatch,
        card: card_facts(card),
    }
}

/// Which domain a `domain_mismatch` broke: a cryptogram made here for
/// another merchant says `merchant_id`; otherwise it was the channel.
async fn mismatch_of(
    state: &AppState,
    payment: &PaymentRecord,
) -> Result<Option<String>, ApiError> {
    if payment.error_code.as_deref() != Some(ErrorCode::DomainMismatch.as_str()) {
        return Ok(None);
    }
    let Some(atc) = payment.atc else {
        return Ok(Some("channel".to_owned()));
    };
    let made = state.store.cryptogram(&payment.token_ref, atc).await?;
    Ok(Some(
        match made {
            Some(made) if made.merchant_id != payment.merchant_id => "merchant_id",
            _ => "channel",
        }
        .to_owned(),
    ))
}

fn token_facts(card: Option<&CardRecord>, events: &[TokenEvent]) -> TokenFacts {
    let token = card.and_then(|c| c.token.as_ref());
    TokenFacts {
        status: token.map_or_else(String::new, |t| t.status.as_str().to_owned()),
        suspended_by: token.map_or_else(Vec::new, |t| t.suspenders.clone()),
        events: events
            .iter()
            .map(|e| TokenEventFacts {
                kind: e.kind.clone(),
                actor: e.actor.clone(),
                reason: e.reason.clone(),
                at_ms: e.created_at.timestamp_millis(),
            })
            .collect(),
        card_status: card.map(|c| c.status.as_str().to_owned()),
        card_reissued_at_ms: card.and_then(|c| c.reissued_at.map(|at| at.timestamp_millis())),
    }
}

/// Support's diagnosis of one payment, told with the same person's
/// payments with the same card in the day before it and after it.
pub async fn for_payment(
    state: &AppState,
    focus: PaymentRecord,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<DiagnosisView, ApiError> {
    let since = focus.created_at - Duration::hours(STORY_HOURS);
    let until = focus.created_at + Duration::hours(STORY_HOURS);
    let mut around: Vec<PaymentRecord> = state
        .store
        .payments(&PaymentFilter {
            user_id: focus.user_id.clone(),
            before: Some((until, String::new())),
            limit: MAX_PAYMENTS,
        })
        .await?
        .into_iter()
        .filter(|p| p.created_at >= since)
        .collect();
    if !around.iter().any(|p| p.id == focus.id) {
        around.push(focus.clone());
    }
    around.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    let card = state.store.card(&focus.user_id, &focus.card_id).await?;
    let events = state.store.token_events(&focus.token_ref, 200).await?;
    let mut payments = Vec::with_capacity(around.len());
    for payment in &around {
        let mismatch = if payment.id == focus.id {
            mismatch_of(state, payment).await?
        } else {
            None
        };
        payments.push(facts(payment, card.as_ref(), mismatch));
    }
    let token = token_facts(card.as_ref(), &events);
    let diagnosis = diagnosis::diagnose_payment(
        &payments,
        focus.id.as_str(),
        Some(&token),
        Audience::Support,
    )
    .ok_or_else(|| ApiError::from(ErrorCode::InternalError))?;
    let incidents = match card.as_ref().and_then(|c| c.issuer_code.clone()) {
        Some(issuer) => state
            .store
            .incidents(&IncidentFilter {
                open_only: true,
                issuer_code: Some(issuer),
                limit: 20,
                ..IncidentFilter::default()
            })
            .await?
            .iter()
            .map(|i| IncidentView::from_record(i, lang, now))
            .collect(),
        None => Vec::new(),
    };
    let evidence = around
        .iter()
        .zip(&diagnosis.attempts)
        .map(|(payment, explained)| PaymentEvidenceView {
            payment: PaymentView::from_record(payment, lang),
            trace_id: payment.trace_id.clone(),
            cryptogram_result: payment.cryptogram_result.clone(),
            masked_pan: card
                .as_ref()
                .filter(|c| c.id == payment.card_id)
                .map(masked),
            help_url: payment
                .error_code
                .as_ref()
                .map(|code| format!("/help/errors/{code}")),
            happened: BilingualView::from(&explained.happened),
            message: BilingualView::from(&explained.message),
            remedy: BilingualView::from(&explained.remedy),
        })
        .collect();
    let (first, last) = (
        around.first().map_or(focus.created_at, |p| p.created_at),
        around.last().map_or(focus.created_at, |p| p.created_at),
    );
    Ok(diagnosis_view(
        Some(focus.user_id.to_string()),
        (first, last),
        &diagnosis,
        lang,
        (Vec::new(), evidence),
        incidents,
    ))
}
