//! The token lifecycle as the service runs it (docs/architecture.md,
//! section 4): suspend and resume by each suspender, delete, and the
//! issuer's signed events (card replaced, expiry updated, card closed). The
//! state machine itself is pure, in `tessera_core::token::lifecycle`; every
//! change is stored with who made it and why.

use axum::http::HeaderMap;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use tessera_core::card::expiry::{Expiry, wallet_today};
use tessera_core::card::pan::Pan;
use tessera_core::error::{DomainError, ErrorCode};
use tessera_core::token::lifecycle::{Suspender, TokenState, payability};
use tessera_core::token::token_expiry;
use tessera_core::vault::{LookupPurpose, Sealed};
use tessera_store::{
    CardReplacement, CardSelector, IssuerApply, IssuerChange, IssuerChangeKind, IssuerEventBegin,
    IssuerEventRecord, PaymentToken, TokenEvent, TokenLookup, TokenStateChange,
};

use crate::flows::audit::{self, Actor};
use crate::flows::keys;
use crate::http::auth::{Caller, Role};
use crate::http::error::{ApiError, rfc3339};
use crate::http::extract::parse_json;
use crate::http::fields::{self, Fields};
use crate::http::views::{
    IssuerEventRequest, IssuerEventResult, TokenEventList, TokenEventView, TokenStateView,
};
use crate::issuer::signature::verify_signature_header;
use crate::state::AppState;

// The signature is the one the HTTP connector signs its requests with.
pub use crate::issuer::signature::{SIGNATURE_HEADER, issuer_signature};

/// A suspend or resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Suspend,
    Resume,
}

impl Change {
    fn kind(self) -> &'static str {
        match self {
            Change::Suspend => "suspend",
            Change::Resume => "resume",
        }
    }
}

/// The suspender a caller speaks for: a user session is the cardholder, an
/// operator key the wallet, an issuer key the issuer. Risk is reserved for
/// the risk rules.
fn suspender_of(caller: &Caller) -> Result<Suspender, ApiError> {
    match caller {
        Caller::User { .. } => Ok(Suspender::Cardholder),
        Caller::Key {
            role: Role::Operator,
            ..
        } => Ok(Suspender::Wallet),
        Caller::Key {
            role: Role::Issuer, ..
        } => Ok(Suspender::Issuer),
        Caller::Key { .. } => Err(ErrorCode::Forbidden.into()),
    }
}

/// A change's reason as it is kept: within `limits.reason_chars`, one line,
/// card numbers masked.
fn reason_text(state: &AppState, reason: Option<&str>) -> Result<Option<String>, DomainError> {
    fields::check_reason(reason, &state.config.limits)?;
    Ok(reason
        .filter(|r| !r.trim().is_empty())
        .map(fields::stored_text))
}

/// The token, if this caller may change it: a user only their own, an
/// issuer key only its issuers' cards (another's is as unknown as a token
/// that does not exist).
async fn token_for(
    state: &AppState,
    caller: &Caller,
    token_ref: &str,
) -> Result<PaymentToken, ApiError> {
    let token = state
        .store
        .payment_token(TokenLookup::Ref(token_ref))
        .await?
        .ok_or(ErrorCode::NotFound)?;
    let theirs = match caller {
        Caller::User { user_id } => token.user_id == *user_id,
        Caller::Key {
            role: Role::Issuer, ..
        } => token
            .issuer_code
            .as_deref()
            .is_some_and(|code| caller.acts_for(code)),
        Caller::Key { .. } => true,
    };
    if !theirs {
        return Err(ErrorCode::NotFound.into());
    }
    Ok(token)
}

fn state_view(state: &AppState, token: &PaymentToken, now: DateTime<Utc>) -> TokenStateView {
    let token_state = TokenState::from_stored(token.token.status, &token.token.suspenders).ok();
    let expiry = Expiry::new(token.token.expiry_month, token.token.expiry_year).ok();
    TokenStateView {
        token_ref: token.token.token_ref.clone(),
        card_id: token.token.card_id.clone().into(),
        status: token.token.status.as_str().to_owned(),
        suspended_by: token.token.suspenders.clone(),
        payable: payability(
            token.card_status,
            token.card_reissued_at.is_some(),
            token_state.as_ref(),
            expiry,
            wallet_today(now, state.time_zone),
        )
        .is_ok(),
    }
}

/// `POST /v1/tokens/{ref}/suspend` and `/resume`.
pub async fn suspend_or_resume(
    state: &AppState,
    caller: &Caller,
    trace_id: &str,
    token_ref: &str,
    change: Change,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<TokenStateView, ApiError> {
    let by = suspender_of(caller)?;
    let reason = reason_text(state, reason)?;
    // Compare and set: a change that raced another is read again and
    // reapplied, so two suspenders acting at once both count.
    for _ in 0..8 {
        let token = token_for(state, caller, token_ref).await?;
        let current = TokenState::from_stored(token.token.status, &token.token.suspenders)
            .map_err(DomainError::from)?;
        let next = match change {
            Change::Suspend => current.suspend(by),
            Change::Resume => current.resume(by),
        }
        .map_err(DomainError::from)?;
        if next == current {
            return Ok(state_view(state, &token, now));
        }
        let stored = state
            .store
            .change_token_state(&TokenStateChange {
                token_ref: token_ref.to_owned(),
                from_status: current.status(),
                from_suspenders: current.suspender_names(),
                to_status: next.status(),
                to_suspenders: next.suspender_names(),
                event: TokenEvent {
                    token_ref: token_ref.to_owned(),
                    kind: change.kind().to_owned(),
                    actor: by.as_str().to_owned(),
                    reason: reason.clone(),
                    status_after: next.status().as_str().to_owned(),
                    created_at: now,
                },
            })
            .await?;
        if stored {
            tracing::info!(token_ref, by = %by, change = change.kind(), status = next.status().as_str(), "token lifecycle");
            let action = match change {
                Change::Suspend => audit::TOKEN_SUSPENDED,
                Change::Resume => audit::TOKEN_RESUMED,
            };
            Actor::caller(caller, trace_id)
                .record(
                    state,
                    action,
                    Some(&token.user_id),
                    Some(format!("token:{token_ref}")),
                )
                .await?;
            let token = token_for(state, caller, token_ref).await?;
            return Ok(state_view(state, &token, now));
        }
    }
    Err(DomainError::new(ErrorCode::RequestInProgress)
        .with_retry_after(1)
        .into())
}

/// `DELETE /v1/tokens/{ref}`: final. The card leaves the wallet with it (its
/// PAN erased); it can be bound again later.
pub async fn delete(
    state: &AppState,
    caller: &Caller,
    trace_id: &str,
    token_ref: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<TokenStateView, ApiError> {
    let by = suspender_of(caller)?;
    let reason = reason_text(state, reason)?;
    let token = token_for(state, caller, token_ref).await?;
    let deleted = state
        .store
        .delete_token(&TokenEvent {
            token_ref: token_ref.to_owned(),
            kind: "delete".to_owned(),
            actor: by.as_str().to_owned(),
            reason,
            status_after: "deleted".to_owned(),
            created_at: now,
        })
        .await?;
    if deleted {
        tracing::info!(token_ref, by = %by, "token deleted");
        Actor::caller(caller, trace_id)
            .record(
                state,
                audit::TOKEN_DELETED,
                Some(&token.user_id),
                Some(format!("token:{token_ref}")),
            )
            .await?;
    }
    let token = token_for(state, caller, token_ref).await?;
    Ok(state_view(state, &token, now))
}

/// A token's history for support, newest first: every suspend, resume,
/// delete and issuer change (at most 200).
pub async fn history(state: &AppState, token_ref: &str) -> Result<TokenEventList, ApiError> {
    let events = state.store.token_events(token_ref, 200).await?;
    Ok(TokenEventList {
        data: events
            .into_iter()
            .map(|event| TokenEventView {
                kind: event.kind,
                actor: event.actor,
                reason: event.reason,
                status_after: event.status_after,
                created_at: rfc3339(event.created_at),
            })
            .collect(),
        next_cursor: None,
    })
}

/// Checks an issuer event's signature: the signing secret of the issuer
/// key `key_id` (sealed as `signing_secret`) over the timestamp and the raw
/// body, the timestamp no further than `issuer_event_max_age_secs` from now
/// either way. A key without a signing secret signs nothing.
pub fn verify_signature(
    state: &AppState,
    key_id: &str,
    signing_secret: Option<&Sealed>,
    headers: &HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let refused = || -> ApiError {
        DomainError::new(ErrorCode::Unauthenticated)
            .with_param("Tessera-Signature")
            .into()
    };
    let header = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(refused)?;
    let secret = keys::signing_secret(state, key_id, signing_secret).ok_or_else(refused)?;
    let max_age = state.config.payments.issuer_event_max_age_secs;
    if verify_signature_header(header, &secret, body, now.timestamp(), max_age) {
        Ok(())
    } else {
        Err(refused())
    }
}

/// An issuer event, checked.
#[derive(Debug)]
pub enum EventKind {
    Replaced {
        new_pan: Pan,
        expiry: Option<Expiry>,
    },
    ExpiryUpdated(Expiry),
    Closed,
}

impl EventKind {
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Replaced { .. } => "card.replaced",
            EventKind::ExpiryUpdated(_) => "card.expiry_updated",
            EventKind::Closed => "card.closed",
        }
    }
}

/// The expiry an event carries, read as a binding reads one: a future month
/// and a two- or four-digit year.
fn event_expiry(
    request: &IssuerEventRequest,
    required: bool,
    today: NaiveDate,
) -> Result<Option<Expiry>, DomainError> {
    match (&request.expiry_month, &request.expiry_year) {
        (Some(month), Some(year)) => {
            Expiry::parse_parts(&month.as_text(), &year.as_text(), today).map(Some)
        }
        (None, None) if !required => Ok(None),
        (None, _) => {
            Err(DomainError::new(ErrorCode::InvalidExpiryMonth).with_param("expiry_month"))
        }
        (Some(_), None) => {
            Err(DomainError::new(ErrorCode::InvalidExpiryYear).with_param("expiry_year"))
        }
    }
}

/// An event checked before anything is looked up: its kind, when it
/// happened (never in the future beyond the clock skew allowed for
/// signatures) and the card number naming the card, if that names it
/// (public for `fuzz/fuzz_targets/issuer_event.rs`).
#[derive(Debug)]
pub struct CheckedEvent {
    pub kind: EventKind,
    pub occurred_at: DateTime<Utc>,
    pub pan: Option<Pan>,
}

pub fn check_event(
    request: &IssuerEventRequest,
    now: DateTime<Utc>,
    skew_secs: u64,
    today: NaiveDate,
) -> Result<CheckedEvent, DomainError> {
    let invalid =
        |param: &'static str| DomainError::new(ErrorCode::InvalidRequest).with_param(param);
    let id = request.id.trim();
    if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid("id"));
    }
    let occurred_at = DateTime::parse_from_rfc3339(request.occurred_at.trim())
        .map_err(|_| invalid("occurred_at"))?
        .with_timezone(&Utc);
    // An event from the future would make every real later one stale.
    let skew = TimeDelta::seconds(i64::try_from(skew_secs).unwrap_or(i64::MAX / 1_000));
    if now
        .checked_add_signed(skew)
        .is_none_or(|latest| occurred_at > latest)
    {
        return Err(invalid("occurred_at"));
    }
    if request.par.is_some() == request.pan.is_some() {
        return Err(invalid("par"));
    }
    let pan = request
        .pan
        .as_deref()
        .map(|p| Pan::parse(p).map_err(|e| e.with_param("pan")))
        .transpose()?;
    let kind = match request.event_type.as_str() {
        "card.replaced" => {
            let new_pan = request
                .new_pan
                .as_deref()
                .ok_or_else(|| invalid("new_pan"))
                .and_then(|p| Pan::parse(p).map_err(|e| e.with_param("new_pan")))?;
            // A card is not replaced by itself: refused before any look-up,
            // so that the answer says nothing about which numbers are bound.
            if pan
                .as_ref()
                .is_some_and(|pan| pan.expose_digits() == new_pan.expose_digits())
            {
                return Err(invalid("new_pan"));
            }
            EventKind::Replaced {
                new_pan,
                expiry: event_expiry(request, false, today)?,
            }
        }
        "card.expiry_updated" => EventKind::ExpiryUpdated(
            event_expiry(request, true, today)?.ok_or_else(|| invalid("expiry_month"))?,
        ),
        "card.closed" => EventKind::Closed,
        _ => return Err(invalid("type")),
    };
    Ok(CheckedEvent {
        kind,
        occurred_at,
        pan,
    })
}

/// `POST /v1/issuer/events` from an issuer key: the signature first, then
/// the event's fields, then the event applied (once per id) to the cards
/// of the key's issuers.
pub async fn receive_issuer_event(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<IssuerEventResult, ApiError> {
    let Caller::Key {
        key_id,
        role: Role::Issuer,
        signing_secret,
        ..
    } = caller
    else {
        return Err(ErrorCode::Forbidden.into());
    };
    verify_signature(state, key_id, signing_secret.as_ref(), headers, body, now)?;
    let request: IssuerEventRequest = parse_json(body)?;
    issuer_event(state, caller, key_id, &request, body, now).await
}

/// An issuer event whose signature checked out.
async fn issuer_event(
    state: &AppState,
    caller: &Caller,
    key_id: &str,
    request: &IssuerEventRequest,
    raw: &[u8],
    now: DateTime<Utc>,
) -> Result<IssuerEventResult, ApiError> {
    request.check_fields(&state.config.limits)?;
    let CheckedEvent {
        kind,
        occurred_at,
        pan,
    } = check_event(
        request,
        now,
        state.config.payments.issuer_event_max_age_secs,
        wallet_today(now, state.time_zone),
    )?;
    // The new number must be the same issuer's, one this key acts for:
    // decided by its BIN, before any card is looked up.
    let new_issuer = match &kind {
        EventKind::Replaced { new_pan, .. } => {
            let code = state
                .bins
                .lookup_pan(new_pan)
                .and_then(|record| record.issuer_code)
                .filter(|code| caller.acts_for(code))
                .ok_or_else(|| DomainError::new(ErrorCode::InvalidRequest).with_param("new_pan"))?;
            Some(code)
        }
        _ => None,
    };
    let event_id = request.id.trim().to_owned();
    let result = |outcome: &str, cards: u32, duplicate: bool| IssuerEventResult {
        id: event_id.clone(),
        event_type: kind.name().to_owned(),
        outcome: outcome.to_owned(),
        cards,
        duplicate,
    };
    let begin = state
        .store
        .issuer_event_begin(&IssuerEventRecord {
            key_id: key_id.to_owned(),
            event_id: event_id.clone(),
            kind: kind.name().to_owned(),
            occurred_at,
            body_hash: hex::encode(state.keys.keyed_hash(LookupPurpose::IdempotencyBody, raw)),
            received_at: now,
        })
        .await?;
    match begin {
        IssuerEventBegin::Started => {}
        IssuerEventBegin::Duplicate { outcome } => {
            return Ok(result(outcome.as_deref().unwrap_or("processing"), 0, true));
        }
        IssuerEventBegin::Conflict => {
            return Err(DomainError::new(ErrorCode::IdempotencyConflict)
                .with_param("id")
                .into());
        }
    }
    let target = Target {
        caller,
        new_issuer: new_issuer.as_deref(),
    };
    match apply_event(
        state,
        request,
        &kind,
        pan.as_ref(),
        target,
        occurred_at,
        now,
    )
    .await
    {
        Ok((outcome, cards)) => {
            state
                .store
                .issuer_event_finish(key_id, &event_id, Some(outcome))
                .await?;
            tracing::info!(event_id, kind = kind.name(), outcome, cards, "issuer event");
            Ok(result(outcome, cards, false))
        }
        Err(error) => {
            // Forget it, so the issuer's retry applies it again.
            if let Err(store_error) = state
                .store
                .issuer_event_finish(key_id, &event_id, None)
                .await
            {
                tracing::error!(event_id, error = %store_error, "could not forget a failed issuer event");
            }
            Err(error)
        }
    }
}

/// Whose cards an event may change: the issuer key's issuers', and for a
/// replacement only those of the new number's issuer.
#[derive(Clone, Copy)]
struct Target<'a> {
    caller: &'a Caller,
    new_issuer: Option<&'a str>,
}

async fn apply_event(
    state: &AppState,
    request: &IssuerEventRequest,
    kind: &EventKind,
    pan: Option<&Pan>,
    target: Target<'_>,
    occurred_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(&'static str, u32), ApiError> {
    let fingerprint = pan.map(|p| state.keys.fingerprint(p));
    let selector = match (&request.par, &fingerprint) {
        (Some(par), _) => CardSelector::Par(par.trim()),
        (None, Some(fingerprint)) => CardSelector::PanFingerprint(fingerprint.as_str()),
        (None, None) => return Err(ErrorCode::InvalidRequest.into()),
    };
    let mut cards = state.store.cards_for_issuer(selector).await?;
    // Another issuer's card is answered exactly as an unknown one.
    cards.retain(|card| {
        card.issuer_code
            .as_deref()
            .is_some_and(|code| target.caller.acts_for(code))
    });
    if cards.is_empty() {
        return Ok(("no_card", 0));
    }
    if let Some(new_issuer) = target.new_issuer
        && cards
            .iter()
            .any(|card| card.issuer_code.as_deref() != Some(new_issuer))
    {
        return Err(DomainError::new(ErrorCode::InvalidRequest)
            .with_param("new_pan")
            .into());
    }
    let today = wallet_today(now, state.time_zone);
    let token_expiry_for = |expiry: Option<Expiry>| {
        let (month, year) =
            expiry.map_or((12, 2099), |e| (u32::from(e.month()), i32::from(e.year())));
        let (month, year) = token_expiry(month, year, today);
        (
            u8::try_from(month).unwrap_or(12),
            u16::try_from(year).unwrap_or(2099),
        )
    };
    let (mut applied, mut stale, mut conflict) = (0u32, 0u32, 0u32);
    for card in &cards {
        let change = match kind {
            EventKind::Replaced { new_pan, expiry } => {
                let sealed = state
                    .keys
                    .seal(&card.id, new_pan)
                    .map_err(|_| DomainError::new(ErrorCode::InternalError))?;
                IssuerChangeKind::Replace(CardReplacement {
                    pan_fingerprint: state.keys.fingerprint(new_pan).as_str().to_owned(),
                    pan_key_version: sealed.key_version,
                    pan_ciphertext: sealed.blob,
                    first6: new_pan.first6().to_owned(),
                    last4: new_pan.last4().to_owned(),
                    pan_length: u8::try_from(new_pan.len()).unwrap_or(u8::MAX),
                    expiry: expiry.map(|e| (e.month(), e.year())),
                    token_expiry: token_expiry_for(
                        expiry.or_else(|| card_expiry(card.expiry_month, card.expiry_year)),
                    ),
                })
            }
            EventKind::ExpiryUpdated(expiry) => IssuerChangeKind::Expiry {
                expiry: (expiry.month(), expiry.year()),
                token_expiry: token_expiry_for(Some(*expiry)),
            },
            EventKind::Closed => IssuerChangeKind::Close,
        };
        let outcome = state
            .store
            .apply_issuer_change(&IssuerChange {
                card_id: card.id.clone(),
                occurred_at,
                kind: change,
                reason: request.reason.as_deref().map(fields::stored_text),
                now,
            })
            .await?;
        match outcome {
            IssuerApply::Applied => applied += 1,
            IssuerApply::Stale => stale += 1,
            IssuerApply::Conflict => conflict += 1,
            IssuerApply::NotLive => {}
        }
    }
    let outcome = if applied > 0 {
        "applied"
    } else if stale > 0 {
        "stale"
    } else if conflict > 0 {
        "conflict"
    } else {
        "ignored"
    };
    Ok((outcome, applied))
}

fn card_expiry(month: Option<u8>, year: Option<u16>) -> Option<Expiry> {
    Expiry::new(month?, year?).ok()
}
