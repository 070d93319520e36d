//! `POST /v1/fees/quote`: what a transfer would cost under the fee schedule
//! (`[fees]`, `tessera_core::fees`). Every field is checked before anything
//! is read; a quote writes nothing. A destination card number is read for
//! its BIN only: never stored or logged, and answered masked.

use tessera_core::card::CardStatus;
use tessera_core::card::pan::Pan;
use tessera_core::error::{DomainError, ErrorCode, Lang};
use tessera_core::fees::{FeeChannel, FeeOperation, rounding_text};
use tessera_core::ids::{CardId, UserId};
use tessera_core::money::Currency;
use tessera_core::payment::check::check_amount;

use crate::http::error::ApiError;
use crate::http::views::{
    DestinationView, FeeQuoteRequest, FeeQuoteView, FeeRuleView, RoundingView,
};
use crate::state::AppState;

fn invalid(param: &'static str) -> DomainError {
    DomainError::new(ErrorCode::InvalidRequest).with_param(param)
}

/// The request's own fields, checked before any look-up.
struct Checked {
    operation: Option<FeeOperation>,
    /// The source card and the destination's number, when the shape was sent.
    shape: Option<(CardId, Pan)>,
    amount: u64,
    channel: FeeChannel,
}

fn check(request: &FeeQuoteRequest) -> Result<Checked, DomainError> {
    let amount = u64::try_from(request.amount).map_err(|_| invalid("amount"))?;
    let amount = check_amount(amount, "amount", false)?;
    // The schedule is written in fen: another currency has no rule.
    if Currency::parse(&request.currency) != Some(Currency::CNY) {
        return Err(invalid("currency"));
    }
    let channel = FeeChannel::parse_request(request.channel.trim()).ok_or(invalid("channel"))?;
    let operation = request
        .operation
        .as_deref()
        .map(|name| FeeOperation::parse(name.trim()).ok_or(invalid("operation")))
        .transpose()?;
    let shape = match (&request.source_card_id, &request.destination_card_number) {
        (None, None) => None,
        (Some(source), Some(number)) => {
            // Pan's own errors (invalid_number, incorrect_number) name the
            // field as it is called here.
            let pan =
                Pan::parse(number).map_err(|error| error.with_param("destination_card_number"))?;
            Some((CardId::from(source.trim()), pan))
        }
        (Some(_), None) => return Err(invalid("destination_card_number")),
        (None, Some(_)) => return Err(invalid("source_card_id")),
    };
    if operation.is_none() && shape.is_none() {
        return Err(invalid("operation"));
    }
    Ok(Checked {
        operation,
        shape,
        amount,
        channel,
    })
}

/// Which rule a transfer between these issuers is charged by. Same bank
/// only when both issuers are known and equal: a BIN the tables do not
/// place is another bank, the side that costs more. `POST /v1/transfers`
/// decides by this same function, so a quote and its transfer agree.
pub fn transfer_operation(from_issuer: Option<&str>, to_issuer: Option<&str>) -> FeeOperation {
    if from_issuer.is_some() && from_issuer == to_issuer {
        FeeOperation::TransferSameBank
    } else {
        FeeOperation::TransferCrossBank
    }
}

/// The quote for a signed-in person.
pub async fn quote(
    state: &AppState,
    user_id: &UserId,
    request: &FeeQuoteRequest,
    lang: Lang,
) -> Result<FeeQuoteView, ApiError> {
    let checked = check(request)?;
    let mut operation = checked.operation;
    let mut destination = None;
    let mut source_card_id = None;
    if let Some((card_id, pan)) = &checked.shape {
        let source = state
            .store
            .card(user_id, card_id)
            .await?
            .filter(|card| card.status == CardStatus::Active)
            .ok_or_else(|| DomainError::new(ErrorCode::NotFound).with_param("source_card_id"))?;
        let bin = state.bins.lookup_pan(pan);
        let to_issuer = bin.as_ref().and_then(|b| b.issuer_code.clone());
        let shaped = transfer_operation(source.issuer_code.as_deref(), to_issuer.as_deref());
        if operation.is_some_and(|asked| asked != shaped) {
            return Err(invalid("operation").into());
        }
        operation = Some(shaped);
        source_card_id = Some(source.id.to_string());
        destination = Some(DestinationView {
            number: pan.masked(),
            issuer_code: to_issuer,
            issuer_name: bin
                .as_ref()
                .and_then(|b| match lang {
                    Lang::ZhCn => b.issuer_display_zh(),
                    Lang::En => b.issuer_display_en(),
                })
                .map(str::to_owned),
        });
    }
    let operation = operation.ok_or_else(|| invalid("operation"))?;
    let chosen = state.config.fees.rule(operation, checked.channel);
    let quote = chosen.rule.quote(checked.amount);
    Ok(FeeQuoteView {
        operation: operation.as_str().to_owned(),
        channel: checked.channel.as_str().to_owned(),
        amount: checked.amount,
        currency: Currency::CNY.alpha().to_owned(),
        fee: quote.fee,
        total: checked.amount.saturating_add(quote.fee),
        rule: FeeRuleView {
            operation: operation.as_str().to_owned(),
            channel: chosen.channel.as_str().to_owned(),
            rate_bps: chosen.rule.rate_bps,
            fixed: chosen.rule.fixed,
            min: chosen.rule.min,
            max: chosen.rule.max,
            description: chosen.rule.describe(operation, lang),
        },
        rounding: RoundingView {
            method: "half_up".to_owned(),
            exact_percentage: quote.exact_percentage_text(),
            rounded_percentage: quote.rounded_percentage,
            clamped: quote.clamped.map(|c| c.as_str().to_owned()),
            description: rounding_text(lang).to_owned(),
        },
        source_card_id,
        destination,
    })
}
