//! Fee quotes for a signed-in person.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;

use crate::flows::fees;
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::extract::{Ctx, parse_json};
use crate::http::views::{ErrorEnvelope, FeeQuoteRequest, FeeQuoteView};
use crate::state::AppState;

/// What an operation would cost under the fee schedule (`[fees]`): the fee,
/// the total, the rule that produced it in words and how it was rounded
/// (half up to the fen, then held between the rule's minimum and maximum).
/// Name the `operation`, or send the transfer's shape (`source_card_id`,
/// `destination_card_number`: its BIN decides same bank or cross bank; the
/// number is never kept and is answered masked). Nothing is charged or
/// written.
#[utoipa::path(post, path = "/v1/fees/quote", tag = "fees", security(("bearer" = [])),
    request_body = FeeQuoteRequest,
    responses((status = 200, body = FeeQuoteView),
        (status = 400, description = "invalid_request naming the field: amount, currency (CNY only), channel, operation", body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 403, description = "forbidden: an API key (quotes are for a person's session)", body = ErrorEnvelope),
        (status = 404, description = "not_found: source_card_id is not one of the person's active cards", body = ErrorEnvelope),
        (status = 422, description = "invalid_number, incorrect_number: destination_card_number", body = ErrorEnvelope)))]
pub async fn quote(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    raw: Bytes,
) -> Result<Json<FeeQuoteView>, ApiError> {
    let user_id = caller.user()?;
    let request: FeeQuoteRequest = parse_json(&raw)?;
    Ok(Json(
        fees::quote(&state, user_id, &request, ctx.lang).await?,
    ))
}
