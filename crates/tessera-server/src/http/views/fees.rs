//! Fee quotes: what the person asks, and what a transfer would cost.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What to quote: an `operation`, or a transfer's shape (`source_card_id`
/// and `destination_card_number`, whose BIN alone decides same bank or
/// cross bank). With both, the operation must be the one the shape makes.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeeQuoteRequest {
    /// transfer_cross_bank or transfer_same_bank.
    pub operation: Option<String>,
    /// One of the person's own active cards, the money's source.
    pub source_card_id: Option<String>,
    /// The card the money would go to. Only its BIN is read; it is never
    /// stored or logged, and answered masked.
    pub destination_card_number: Option<String>,
    /// Minor units (fen): 123450 is 1,234.50 CNY.
    pub amount: i64,
    /// CNY: the schedule is written in fen.
    pub currency: String,
    /// in_app or web.
    pub channel: String,
}

impl std::fmt::Debug for FeeQuoteRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeeQuoteRequest")
            .field("operation", &self.operation)
            .field("source_card_id", &self.source_card_id)
            .field(
                "destination_card_number",
                &self
                    .destination_card_number
                    .as_deref()
                    .map(tessera_core::card::pan::mask),
            )
            .field("amount", &self.amount)
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

/// The rule of the schedule a quote used.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeeRuleView {
    pub operation: String,
    /// The rule's channel: the one asked for, or `any`.
    pub channel: String,
    /// Basis points of the amount: 10 is 0.1%.
    pub rate_bps: u32,
    /// Fen added to the percentage part.
    pub fixed: u64,
    /// Fen: the least the fee may be.
    pub min: u64,
    /// Fen: the most the fee may be; absent, no cap.
    pub max: Option<u64>,
    /// The rule in words, in the Accept-Language.
    pub description: String,
}

/// How the fee was rounded and held between the rule's bounds.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoundingView {
    /// half_up: to the fen, 0.5 fen and above going up.
    pub method: String,
    /// The percentage part before rounding, in fen (`123.4500`).
    pub exact_percentage: String,
    /// The percentage part rounded to the fen.
    pub rounded_percentage: u64,
    /// min or max when a bound held the fee.
    pub clamped: Option<String>,
    /// The rounding rule in words, in the Accept-Language.
    pub description: String,
}

/// The card a quoted transfer would go to, masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct DestinationView {
    /// First 6 and last 4 digits.
    pub number: String,
    pub issuer_code: Option<String>,
    /// In the Accept-Language.
    pub issuer_name: Option<String>,
}

/// A fee quote: nothing is charged or kept.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeeQuoteView {
    pub operation: String,
    pub channel: String,
    pub amount: u64,
    pub currency: String,
    /// Fen.
    pub fee: u64,
    /// amount + fee, fen.
    pub total: u64,
    pub rule: FeeRuleView,
    pub rounding: RoundingView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_card_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<DestinationView>,
}
