//! A person's timeline as support reads it (`GET /v1/support/users/{id}/timeline`):
//! every entry with its time, type, a short summary in both languages, its
//! trace id and the ids it concerns. Card data appears masked (first 6 and
//! last 4) or not at all.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::views::BilingualView;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserTimelineQuery {
    /// Only entries of this type: signup, sign_in, sign_in_failed,
    /// sign_in_locked, binding_attempt, card_bound, card_unbound,
    /// token_event, payment, payment_declined, refund, transfer,
    /// payment_report, wallet_frozen, wallet_unfrozen, ticket.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// Only entries since: an RFC 3339 time or a duration back (`7d`).
    pub since: Option<String>,
    /// At most 200; 50 by default.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// A binding failure's diagnosis, as `GET /v1/support/diagnose` gives it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineVerdictView {
    /// The verdict's name: input_mistake, card_not_supported,
    /// declined_by_issuer, network_or_issuer, ...
    pub kind: String,
    pub headline: BilingualView,
}

/// One thing that happened to the person.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntryView {
    /// Unique across the timeline: `<source>:<id>`.
    pub id: String,
    pub at: String,
    /// One of the `type` filter's values.
    #[serde(rename = "type")]
    pub kind: String,
    /// What happened, as support would say it.
    pub summary: BilingualView,
    pub trace_id: Option<String>,
    /// The card, masked (first 6 and last 4).
    pub card: Option<String>,
    pub card_id: Option<String>,
    pub token_ref: Option<String>,
    pub payment_id: Option<String>,
    pub transfer_id: Option<String>,
    pub ticket_id: Option<String>,
    /// The status or outcome the source recorded (a token event's kind).
    pub status: Option<String>,
    /// In minor units.
    pub amount: Option<i64>,
    pub currency: Option<String>,
    /// Who made a token event: cardholder, wallet, issuer, risk.
    pub actor: Option<String>,
    /// A failure's error code (binding attempts, payments).
    pub error_code: Option<String>,
    /// The bank's decline code (payments, refunds, transfers).
    pub decline_code: Option<String>,
    /// A failed binding attempt's diagnosis.
    pub verdict: Option<TimelineVerdictView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineList {
    pub data: Vec<TimelineEntryView>,
    pub next_cursor: Option<String>,
}
