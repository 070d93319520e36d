//! Transfers: a person sends money from a bound card to a bank card, and
//! reads their transfers (their session).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tessera_core::error::{DomainError, ErrorCode};

use crate::flows::{idempotency, transactions, transfers};
use crate::http::auth::Caller;
use crate::http::detach;
use crate::http::error::ApiError;
use crate::http::extract::{Ctx, QueryParams, parse_json};
use crate::http::fields::Fields;
use crate::http::views::{
    ErrorEnvelope, TransactionList, TransactionQuery, TransferList, TransferQuery, TransferRequest,
    TransferView,
};
use crate::state::AppState;

/// Send money from one of the person's active cards to a bank card. The
/// fee is the fee schedule's, by the rule `POST /v1/fees/quote` answers:
/// free within the same bank (the destination's issuer, from its BIN, is
/// the source card's), charged across banks. Confirmed first (`POST
/// /v1/me/verifications`, purpose `transfer`, with this card, amount and
/// currency), the confirmation in the `Tessera-Verification` header, used
/// up by it; an `Idempotency-Key` is required, and a retry with the same
/// key and body answers as the first did. The destination number is never
/// answered, logged or kept in clear: masked (first six, last four), and
/// sealed only until the transfer settles. Settled: 201. The bank declined:
/// 402 `transfer_declined` with `decline_code`; it could not be reached:
/// 503 `issuer_unavailable` with Retry-After, nothing moved. Both carry the
/// `transfer_id` the attempt was recorded as.
#[utoipa::path(post, path = "/v1/transfers", tag = "transfers", security(("bearer" = [])),
    request_body = TransferRequest,
    params(("Idempotency-Key" = String, Header, description = "Required: retries with the same key and body return the first answer"),
        ("Tessera-Verification" = String, Header, description = "a confirmation for transfer, this card, amount and currency")),
    responses((status = 201, body = TransferView),
        (status = 400, description = "invalid_request naming the field: amount, currency (CNY only), channel, card_id, Idempotency-Key", body = ErrorEnvelope),
        (status = 402, description = "transfer_declined with decline_code: the bank refused; transfer_id names the record", body = ErrorEnvelope),
        (status = 403, description = "verification_required, verification_invalid, forbidden (an API key)", body = ErrorEnvelope),
        (status = 404, description = "not_found: card_id is not one of the person's active cards", body = ErrorEnvelope),
        (status = 409, description = "idempotency_conflict, request_in_progress", body = ErrorEnvelope),
        (status = 422, description = "invalid_number, incorrect_number, card_not_supported (to_card_number), invalid_holder_name, field_too_long, invalid_characters (to_holder_name)", body = ErrorEnvelope),
        (status = 503, description = "issuer_unavailable (Retry-After): nothing moved; transfer_id names the failed record", body = ErrorEnvelope)))]
pub async fn create_transfer(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    headers: HeaderMap,
    raw: Bytes,
) -> Result<Response, ApiError> {
    let user_id = caller.user()?.clone();
    let request: TransferRequest = parse_json(&raw)?;
    request.check_fields(&state.config.limits)?;
    let Some(key) = idempotency::key_of(&headers)? else {
        return Err(DomainError::new(ErrorCode::InvalidRequest)
            .with_param("Idempotency-Key")
            .into());
    };
    let (lang, trace_id, gone) = (ctx.lang, ctx.trace_id.clone(), ctx.client_gone.clone());
    // Runs to its end if the phone drops: the transfer is settled on record.
    let detached = async move {
        let work = async {
            let transfer =
                transfers::send(&state, &user_id, &headers, &request, &ctx.trace_id, ctx.now)
                    .await?;
            let body = serde_json::to_value(TransferView::from_record(&transfer))
                .map_err(|_| ErrorCode::InternalError)?;
            Ok((StatusCode::CREATED, body))
        };
        idempotency::run(
            &state,
            &caller,
            Some(key),
            "POST /v1/transfers",
            &raw,
            &ctx,
            work,
        )
        .await
    };
    Ok(detach::detached(&gone, lang, &trace_id, detached).await)
}

/// The person's transfers, newest first.
#[utoipa::path(get, path = "/v1/transfers", tag = "transfers", security(("bearer" = [])),
    params(TransferQuery),
    responses((status = 200, body = TransferList), (status = 401, body = ErrorEnvelope)))]
pub async fn list_transfers(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<TransferQuery>,
) -> Result<Json<TransferList>, ApiError> {
    Ok(Json(transfers::list(&state, caller.user()?, &query).await?))
}

/// One of the person's transfers; anyone else's, and an unknown id, is 404.
#[utoipa::path(get, path = "/v1/transfers/{id}", tag = "transfers", security(("bearer" = [])),
    params(("id" = String, Path, description = "transfer id (trf_...)")),
    responses((status = 200, body = TransferView), (status = 401, body = ErrorEnvelope),
        (status = 404, description = "not_found: no transfer with this id is the person's", body = ErrorEnvelope)))]
pub async fn get_transfer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<TransferView>, ApiError> {
    Ok(Json(transfers::get(&state, caller.user()?, &id).await?))
}

/// The person's records in one list, newest first: payments (approved, and
/// declined as `decline` with the reason), refunds and transfers, with
/// their fee, card and counterparty, masked. Filter by `card_id`, `type`,
/// `status` and the days `from` and `to` (in the wallet's time zone); any
/// other parameter, or a bad value, is 400 naming it. `format=csv` answers
/// every matching record as a CSV file (UTF-8 with a BOM, the header row
/// in the Accept-Language, amounts as decimals with their currency, times
/// in the wallet's time zone).
#[utoipa::path(get, path = "/v1/transactions", tag = "transfers", security(("bearer" = [])),
    params(TransactionQuery),
    responses((status = 200, body = TransactionList,
            description = "a page of records; with format=csv, text/csv instead"),
        (status = 400, description = "invalid_request naming the parameter", body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 403, description = "forbidden: an API key", body = ErrorEnvelope)))]
pub async fn list_transactions(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    transactions::list(&state, caller.user()?, &pairs, ctx.lang).await
}
