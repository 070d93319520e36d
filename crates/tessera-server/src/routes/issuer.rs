//! What issuers send: signed events about their cards.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use tessera_core::error::ErrorCode;

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
/// HMAC-SHA256 under the API key of "<t>.<raw body>">`; a timestamp more than
/// 5 minutes away is refused. Idempotent by `id`; an event older than the
/// card's newest applied one changes nothing (`stale`).
#[utoipa::path(post, path = "/v1/issuer/events", tag = "issuer", security(("bearer" = [])),
    params(("Tessera-Signature" = String, Header, description = "t=<unix seconds>,v1=<hex HMAC-SHA256>")),
    request_body = IssuerEventRequest,
    responses((status = 200, body = IssuerEventResult),
        (status = 401, description = "unauthenticated: a missing, stale or wrong signature", body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 409, description = "idempotency_conflict: the id was used with another body", body = ErrorEnvelope)))]
pub async fn issuer_events(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<IssuerEventResult>, ApiError> {
    caller.require_role(&[Role::Issuer])?;
    let Caller::Key { key_id, .. } = &caller else {
        return Err(ErrorCode::Forbidden.into());
    };
    let result = lifecycle::receive_issuer_event(&state, key_id, &headers, &body, ctx.now).await?;
    Ok(Json(result))
}
