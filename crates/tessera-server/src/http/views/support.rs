//! What support reads: binding attempts, diagnoses, incidents and tickets
//! (binding health's report is `flows::binding_stats`'s). Card data appears
//! masked (first 6 and last 4) or not at all.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tessera_core::diagnosis::Bilingual;
use tessera_core::error::Lang;
use tessera_store::{AttemptRecord, IncidentRecord};
use utoipa::{IntoParams, ToSchema};

use crate::http::error::rfc3339;
use crate::http::views::{IssuerView, PaymentView};

/// A text in both languages.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BilingualView {
    pub zh: String,
    pub en: String,
}

impl From<&Bilingual> for BilingualView {
    fn from(text: &Bilingual) -> Self {
        BilingualView {
            zh: text.zh.clone(),
            en: text.en.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerdictView {
    /// input_mistake, card_not_supported, declined_by_issuer,
    /// network_or_issuer, system_or_maintenance, real_name, phone_on_file,
    /// card_limit, duplicate, security_lock, account_state, bound,
    /// awaiting_sms_code, no_attempts; for payments also approved,
    /// payment_pending, token_suspended, card_unbound, token_expired,
    /// card_reissued, cryptogram_invalid, atc_replayed, domain_mismatch,
    /// risk_declined, confirmation_required, account_frozen
    pub kind: String,
    /// The failure's cause: input, card_not_supported, network, system; or the
    /// wallet's own rules: account, security. Absent when nothing failed.
    pub cause: Option<String>,
    /// The error code that decided it.
    pub code: Option<String>,
    /// The attempt the verdict is about.
    pub trace_id: Option<String>,
    /// The payment the verdict is about, for a payment's diagnosis.
    pub payment_id: Option<String>,
    /// The trace id of a later attempt or payment with the same card that
    /// succeeded: the failure is no longer an open problem.
    pub resolved_by: Option<String>,
    /// The verdict's name in the Accept-Language.
    pub title: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NextStepView {
    /// What the person can do.
    pub person: String,
    /// What support can do.
    pub support: String,
}

/// The diagnosis's texts in one language.
#[derive(Debug, Serialize, ToSchema)]
pub struct TextsView {
    pub title: String,
    pub headline: String,
    pub story: String,
    pub device: String,
    pub next_step_person: String,
    pub next_step_support: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DiagnosisTexts {
    #[serde(rename = "zh-CN")]
    pub zh: TextsView,
    pub en: TextsView,
}

/// One attempt as evidence: the record (masked) and what it meant.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceView {
    #[serde(flatten)]
    pub attempt: AttemptView,
    /// The help page of the attempt's error code.
    pub help_url: Option<String>,
    /// What happened, one sentence.
    pub happened: BilingualView,
    /// What the person was told.
    pub message: BilingualView,
    /// What they were told to do.
    pub remedy: BilingualView,
}

/// A verdict, its story and the next steps, with the evidence.
#[derive(Debug, Serialize, ToSchema)]
pub struct DiagnosisView {
    pub user_id: Option<String>,
    /// The attempts read: from `since` to `until`.
    pub since: String,
    pub until: String,
    pub verdict: VerdictView,
    /// The verdict in one line, in the Accept-Language.
    pub headline: String,
    /// What happened, told as a story.
    pub story: String,
    /// The device and network the attempts came from.
    pub device: String,
    pub next_step: NextStepView,
    /// All of the texts in both languages.
    pub texts: DiagnosisTexts,
    /// The attempts, oldest first.
    pub attempts: Vec<EvidenceView>,
    /// For a payment's diagnosis: the same person's payments around it,
    /// oldest first (empty for a binding's).
    pub payments: Vec<PaymentEvidenceView>,
    /// Open incidents of the issuers involved.
    pub incidents: Vec<IncidentView>,
}

/// One payment as evidence: the record, its card masked, and what it meant.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentEvidenceView {
    #[serde(flatten)]
    pub payment: PaymentView,
    pub trace_id: String,
    /// verified, invalid or not_checked.
    pub cryptogram_result: String,
    /// First 6 and last 4 digits of the card.
    pub masked_pan: Option<String>,
    /// The help page of the payment's error code.
    pub help_url: Option<String>,
    /// What happened, one sentence.
    pub happened: BilingualView,
    /// What the payer was told.
    pub message: BilingualView,
    /// What they were told to do.
    pub remedy: BilingualView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BreakerView {
    /// closed, open (bindings are answered at once) or half_open (the next
    /// binding probes the issuer).
    pub state: String,
    /// When a probe may ask the issuer again.
    pub retry_at: Option<String>,
}

/// An issuer flagged by the anomaly rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentView {
    pub id: String,
    pub issuer: IssuerView,
    /// failure_rate or latency
    pub kind: String,
    /// open or resolved
    pub status: String,
    /// In the Accept-Language.
    pub message: String,
    pub messages: BilingualView,
    pub opened_at: String,
    pub updated_at: String,
    pub resolved_at: Option<String>,
    /// Attempts that reached the issuer in the window judged.
    pub samples: i64,
    pub failure_rate: f64,
    pub baseline_failure_rate: Option<f64>,
    pub mean_latency_ms: i64,
    pub baseline_latency_ms: Option<i64>,
    /// The most frequent failure code.
    pub top_code: Option<String>,
    pub breaker: BreakerView,
}

impl IncidentView {
    pub fn from_record(incident: &IncidentRecord, lang: Lang, now: DateTime<Utc>) -> IncidentView {
        let messages = BilingualView {
            zh: incident.message_zh.clone(),
            en: incident.message_en.clone(),
        };
        let state = crate::flows::issuer_health::breaker_state(incident, now);
        IncidentView {
            id: incident.id.clone(),
            issuer: IssuerView {
                code: Some(incident.issuer_code.clone()),
                name_zh: Some(incident.issuer_name_zh.clone()),
                name_en: Some(incident.issuer_name_en.clone()),
            },
            kind: incident.kind.clone(),
            status: if incident.resolved_at.is_some() {
                "resolved"
            } else {
                "open"
            }
            .to_owned(),
            message: match lang {
                Lang::ZhCn => messages.zh.clone(),
                Lang::En => messages.en.clone(),
            },
            messages,
            opened_at: rfc3339(incident.opened_at),
            updated_at: rfc3339(incident.updated_at),
            resolved_at: incident.resolved_at.map(rfc3339),
            samples: incident.samples,
            failure_rate: incident.failure_rate,
            baseline_failure_rate: incident.baseline_failure_rate,
            mean_latency_ms: incident.mean_latency_ms,
            baseline_latency_ms: incident.baseline_latency_ms,
            top_code: incident.top_code.clone(),
            breaker: BreakerView {
                state: state.to_owned(),
                retry_at: incident.retry_at.filter(|_| state != "closed").map(rfc3339),
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentList {
    pub data: Vec<IncidentView>,
    pub next_cursor: Option<String>,
}

/// The card of one of the person's own attempts.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptCardView {
    /// First 6 and last 4 only.
    pub masked_pan: Option<String>,
    pub brand: Option<String>,
    pub issuer_name: Option<String>,
    pub card_type: Option<String>,
}

/// One of the person's own attempts, explained in their language.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyAttemptView {
    pub trace_id: String,
    pub created_at: String,
    /// success, pending_verification, verified or error
    pub outcome: String,
    pub code: Option<String>,
    pub card: AttemptCardView,
    /// What happened, one sentence.
    pub happened: String,
    /// What the app said.
    pub message: Option<String>,
    /// What to do about it.
    pub remedy: Option<String>,
    /// The help page of the error code.
    pub help_url: Option<String>,
}

/// The person's attempts told together.
#[derive(Debug, Serialize, ToSchema)]
pub struct MySummaryView {
    /// The verdict's kind (see `VerdictView`).
    pub verdict: String,
    pub title: String,
    pub headline: String,
    pub story: String,
    pub next_step: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyAttemptList {
    /// Newest first.
    pub data: Vec<MyAttemptView>,
    pub summary: MySummaryView,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    /// The server's trace id of the request.
    pub trace_id: String,
    /// The app's own id for the request (its `X-Request-Id` or
    /// `X-Client-Request-Id`), when it sent a valid one.
    pub client_request_id: Option<String>,
    pub user_id: String,
    pub card_id: Option<String>,
    /// First 6 and last 4 only.
    pub masked_pan: Option<String>,
    pub brand: Option<String>,
    pub issuer_code: Option<String>,
    pub issuer_name: Option<String>,
    pub card_type: Option<String>,
    pub country: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub device: Option<serde_json::Value>,
    /// success, pending_verification, verified or error
    pub outcome: String,
    pub error_code: Option<String>,
    pub cause: Option<String>,
    pub param: Option<String>,
    pub reason: Option<String>,
    pub issuer_response: Option<String>,
    pub latency_ms: i64,
    pub created_at: String,
    /// The app disconnected before the answer (a weak signal, or it gave
    /// up waiting); the server finished the request all the same, so the
    /// person may not know its outcome.
    pub client_gone: bool,
}
impl AttemptView {
    pub fn from_record(attempt: &AttemptRecord) -> AttemptView {
        AttemptView {
            trace_id: attempt.trace_id.clone(),
            client_request_id: attempt.client_request_id.clone(),
            user_id: attempt.user_id.to_string(),
            card_id: attempt.card_id.clone().map(Into::into),
            masked_pan: attempt.masked_pan.clone(),
            brand: attempt.brand.as_ref().map(|b| b.code().to_owned()),
            issuer_code: attempt.issuer_code.clone(),
            issuer_name: attempt.issuer_name.clone(),
            card_type: attempt.card_type.map(|t| t.code().to_owned()),
            country: attempt.country.clone(),
            device: attempt
                .device
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok()),
            outcome: attempt.outcome.as_str().to_owned(),
            error_code: attempt.error_code.clone(),
            cause: attempt.cause.clone(),
            param: attempt.error_param.clone(),
            reason: attempt.error_reason.clone(),
            issuer_response: attempt.issuer_response.clone(),
            latency_ms: attempt.latency_ms,
            created_at: rfc3339(attempt.created_at),
            client_gone: attempt.client_gone,
        }
    }
}
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptList {
    pub data: Vec<AttemptView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AttemptQuery {
    pub user_id: Option<String>,
    pub trace_id: Option<String>,
    /// The app's own request id, as the app sent it.
    pub client_request_id: Option<String>,
    /// RFC 3339 time, or a duration back from now: `30m`, `1h`, `7d`.
    pub since: Option<String>,
    /// At most 200; 50 by default.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DiagnoseQuery {
    /// One attempt or payment: its verdict, told with the same person's
    /// attempts (or payments) in the day before it and what they did next
    /// with the same card.
    pub trace_id: Option<String>,
    /// One payment (`pay_...`), diagnosed like a trace.
    pub payment_id: Option<String>,
    /// Everything one person tried (with `since`).
    pub user_id: Option<String>,
    /// With `user_id`: RFC 3339 time, or a duration back from now (`1h`,
    /// `7d`); 24 hours by default.
    pub since: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct IncidentQuery {
    /// `open` (default) or `all`.
    pub status: Option<String>,
    /// One issuer code (`ICBC`).
    pub issuer: Option<String>,
    /// With `status=all`: RFC 3339 time or a duration back (`24h`, the default).
    pub since: Option<String>,
}
