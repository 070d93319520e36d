//! What issuers send: signed events about their cards.

use crate::flows::audit::{self, Actor};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;

use crate::flows::lifecycle;
use crate::http::auth::{Caller, Role};
use crate::http::error::ApiError;
use crate::http::extract::Ctx;
use crate::http::views::{ErrorEnvelope, IssuerEventRequest, IssuerEventResult};
use crate::state::AppState;

/// An issuer event: `card.replaced` (tokens move to the new card number;
/// PAR and token unchanged; the old number is destroyed),
/// `card.expiry_updated`, `card.closed` (tokens deleted). Sent with an
/// issuer API key and signed: `Tessera-Signature: t=<unix seconds>,v1=<hex
/// HMAC-SHA256 under the key's signing secret of "<t>.<raw body>">`; a
/// timestamp more than 5 minutes away is refused, and so is an
/// `occurred_at` more than 5 minutes ahead. An issuer key acts only on the
/// cards of its own issuers: another issuer's card answers `no_card`, as an
/// unknown one does; a `new_pan` must be the same issuer's and differ from
/// `pan`. Idempotent by `id`; an event older than the card's newest applied
/// one changes nothing (`stale`).
#[utoipa::path(post, path = "/v1/issuer/events", tag = "issuer", security(("bearer" = [])),
    params(("Tessera-Signature" = String, Header, description = "t=<unix seconds>,v1=<hex HMAC-SHA256>")),
    request_body = IssuerEventRequest,
    responses((status = 200, body = IssuerEventResult),
        (status = 400, description = "invalid_request: a malformed event, an occurred_at in the future, a new_pan equal to pan or of another issuer", body = ErrorEnvelope),
        (status = 401, description = "unauthenticated: a missing, stale or wrong signature", body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 409, description = "idempotency_conflict: the id was used with another body", body = ErrorEnvelope),
        (status = 422, description = "field_too_long, invalid_characters: the id or the reason", body = ErrorEnvelope)))]
pub async fn issuer_events(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<IssuerEventResult>, ApiError> {
    caller.require_role(&[Role::Issuer])?;
    let result = lifecycle::receive_issuer_event(&state, &caller, &headers, &body, ctx.now).await?;
    if !result.duplicate {
        // The issuer's own id is its free text: masked like any other.
        let subject = format!(
            "issuer_event:{} type:{} outcome:{} cards:{}",
            tessera_core::text::mask_card_numbers(&result.id),
            result.event_type,
            result.outcome,
            result.cards
        );
        Actor::caller(&caller, &ctx.trace_id)
            .record(&state, audit::ISSUER_EVENT, None, Some(subject))
            .await?;
    }
    Ok(Json(result))
}
