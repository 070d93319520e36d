//! A user's cards once bound: listed, shown, made the default, unbound.
//! Another user's card id is as unknown as a made-up one (404).

use chrono::{DateTime, Utc};
use tessera_core::card::CardStatus;
use tessera_core::error::{DomainError, ErrorCode};
use tessera_store::CardRecord;

use crate::flows::audit::{self, Actor};
use crate::flows::verifications;
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::views::ListQuery;
use crate::state::AppState;
use tessera_core::ids::{CardId, UserId};

/// The user's cards, newest first: live ones (active or waiting for their
/// SMS code), or every one with `status=all`.
pub async fn list(
    state: &AppState,
    user_id: &UserId,
    query: &ListQuery,
) -> Result<Vec<CardRecord>, ApiError> {
    // `live` (the default): what is in the wallet, pending cards included,
    // so that an app reopened mid-binding finds the card waiting for its
    // code; `all`; or one status.
    let (all, only) = match query.status.as_deref() {
        None | Some("live") => (false, None),
        Some("all") => (true, None),
        Some(name) => {
            let status = CardStatus::parse(name)
                .filter(|status| *status != CardStatus::Binding)
                .ok_or_else(|| DomainError::new(ErrorCode::InvalidRequest).with_param("status"))?;
            (false, Some(status))
        }
    };
    let mut cards = state.store.list_cards(user_id).await?;
    cards.retain(|c| match only {
        Some(status) => c.status == status,
        None => {
            all || matches!(
                c.status,
                CardStatus::Active | CardStatus::PendingVerification
            )
        }
    });
    Ok(cards)
}

/// One of the user's cards.
pub async fn get(
    state: &AppState,
    user_id: &UserId,
    card_id: &CardId,
) -> Result<CardRecord, ApiError> {
    Ok(state
        .store
        .card(user_id, card_id)
        .await?
        .ok_or(ErrorCode::NotFound)?)
}

/// Makes an active card the default one; a card still waiting for its SMS
/// code is `otp_required`, any other `card_unbound`.
pub async fn set_default(
    state: &AppState,
    user_id: &UserId,
    card_id: &CardId,
    now: DateTime<Utc>,
) -> Result<CardRecord, ApiError> {
    let card = get(state, user_id, card_id).await?;
    match card.status {
        CardStatus::Active => {}
        CardStatus::PendingVerification => return Err(ErrorCode::OtpRequired.into()),
        CardStatus::Binding | CardStatus::VerificationFailed | CardStatus::VerificationExpired => {
            return Err(tessera_core::token::lifecycle::never_added().into());
        }
        CardStatus::Unbound | CardStatus::Closed => return Err(ErrorCode::CardUnbound.into()),
    }
    state.store.set_default_card(user_id, card_id, now).await?;
    get(state, user_id, card_id).await
}

/// Unbinds a card: its token deleted, its PAN ciphertext erased, the card
/// `unbound` (it can be bound again). Unbinding twice changes nothing.
pub async fn unbind(
    state: &AppState,
    user_id: &UserId,
    card_id: &CardId,
    headers: &axum::http::HeaderMap,
    trace_id: &str,
    now: DateTime<Utc>,
) -> Result<CardRecord, ApiError> {
    let card = get(state, user_id, card_id).await?;
    // A retry after the card is gone answers as the first did, without
    // another confirmation.
    if card.status == CardStatus::Unbound {
        return Ok(card);
    }
    verifications::require(
        state,
        headers,
        user_id,
        verifications::Purpose::UnbindCard,
        card_id.as_str(),
        now,
    )
    .await?;
    if state.store.unbind_card(user_id, card_id, now).await? {
        tracing::info!(trace_id = %trace_id, card_id = %card_id, "card unbound");
        let caller = Caller::User {
            user_id: user_id.clone(),
        };
        Actor::caller(&caller, trace_id)
            .record(
                state,
                audit::CARD_UNBOUND,
                Some(user_id),
                Some(format!("card:{card_id}")),
            )
            .await?;
    }
    get(state, user_id, card_id).await
}
