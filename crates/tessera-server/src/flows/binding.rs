//! Binding a card, each step failing with its own code, in this order (the
//! one docs/architecture.md walks through in section 3): fields ->
//! maintenance -> BIN and support policy -> real name -> duplicate -> card
//! limit -> issuer -> vault and token -> record. Every attempt, bound or
//! refused, is recorded with its trace id, masked PAN, BIN data, device,
//! outcome, cause and latency, so that no failure is ever a mystery.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use tessera_core::bins::BinRecord;
use tessera_core::card::check::{CardFields, CheckedCard, check_fields};
use tessera_core::card::expiry::wallet_today;
use tessera_core::card::holder_name::{HolderName, names_match};
use tessera_core::card::pan::typed_ends;
use tessera_core::diagnosis::{CIRCUIT_OPEN, ISSUER_TIMEOUT, PHONE_OF_ACCOUNT, PHONE_TYPED};
use tessera_core::error::{AttemptLimit, DomainError, ErrorCode, LIMIT_WINDOW_SECS};
use tessera_core::identity::phone::PhoneNumber;
use tessera_core::token::{BinControllerId, Par, TokenRef, issue_token_pan, token_expiry};
use tessera_core::vault::SealedPan;
use tessera_store::{
    AttemptOutcome, AttemptRecord, BindingCompletion, CardRecord, CardStatus, CardToReserve,
    Constraint, IncidentRecord, LimitBucket, LimitClaim, NewCard, NewOtpChallenge, NewToken,
    Reserve, ReserveLimits, StoreError, TokenStatus, UserRecord,
};

use crate::flows::issuer_health::{self, Gate};
use crate::flows::later;
use crate::flows::maintenance;
use crate::flows::otp;
use crate::http::detach;
use crate::http::error::{ApiError, internal};
use crate::http::extract::Ctx;
use crate::http::fields;
use crate::http::views::{BindCardRequest, StringOrNumber};
use crate::issuer::{BindingVerification, IssuerAnswer};
use crate::state::AppState;
use tessera_core::ids::{CardId, UserId};

/// A reservation outlives a slow issuer by this much before another request
/// may take its slot (a node that crashed mid-binding leaves one behind).
const RESERVATION: TimeDelta = TimeDelta::minutes(2);

/// The result of a binding: bound (201) or waiting for its SMS code (202).
#[derive(Debug)]
pub enum Bound {
    Active(CardRecord),
    PendingOtp(CardRecord),
}

/// What a binding learned along the way, for its attempt record.
#[derive(Debug, Default)]
struct Evidence {
    card_id: Option<CardId>,
    masked_pan: Option<String>,
    first6: Option<String>,
    last4: Option<String>,
    bin: Option<BinRecord>,
    issuer_response: Option<String>,
}

pub async fn bind_card(
    state: &AppState,
    user: &UserRecord,
    request: &BindCardRequest,
    ctx: &Ctx,
) -> Result<Bound, ApiError> {
    let now = ctx.now;
    // Latency is the time the person really waited: the monotonic clock,
    // not the service's (which tests move forward).
    let started = Instant::now();
    let mut evidence = Evidence::default();
    let ready = bind_steps(state, user, request, now, &mut evidence).await;
    let mut attempt = AttemptRecord {
        trace_id: ctx.trace_id.clone(),
        client_request_id: ctx.client_request_id.clone(),
        user_id: user.id.clone(),
        card_id: evidence.card_id.clone(),
        masked_pan: evidence.masked_pan.clone(),
        first6: evidence.first6.clone(),
        last4: evidence.last4.clone(),
        // The device's details are free text: card numbers masked.
        device: request
            .device
            .as_ref()
            .and_then(|d| serde_json::to_string(&fields::stored_device(d)).ok()),
        issuer_response: evidence.issuer_response.clone(),
        created_at: now,
        ..AttemptRecord::default()
    };
    if let Some(bin) = &evidence.bin {
        attempt.brand = Some(bin.brand.clone());
        attempt.issuer_code = bin.issuer_code.clone();
        attempt.issuer_name = bin
            .issuer_name_zh
            .clone()
            .or_else(|| bin.issuer_name_en.clone());
        attempt.card_type = bin.card_type;
        attempt.country = bin.country.clone();
    }
    // A binding that got this far is written together with its attempt
    // record: one durable write, not two.
    let mut recorded = false;
    let result = match ready {
        Ok(ready) => {
            attempt.outcome = if ready.step_up {
                AttemptOutcome::PendingVerification
            } else {
                AttemptOutcome::Success
            };
            attempt.latency_ms = elapsed_ms(started);
            let card_id = ready.card_id.clone();
            let completed = complete(state, request, ready, &attempt, now).await;
            if completed.is_ok() {
                recorded = true;
            } else {
                release_reservation(state, &card_id).await;
            }
            completed
        }
        Err(error) => Err(error),
    };
    if let Err(ApiError(error)) = &result {
        attempt.outcome = AttemptOutcome::Error;
        if error.code == ErrorCode::PhoneMismatch {
            // Which number the bank compared: the one typed, or the
            // account's own when none was.
            let typed = request
                .bank_phone
                .as_deref()
                .is_some_and(|p| !p.trim().is_empty());
            attempt.error_reason =
                Some(if typed { PHONE_TYPED } else { PHONE_OF_ACCOUNT }.to_owned());
        }
        attempt.error_code = Some(error.code.as_str().to_owned());
        attempt.cause = Some(error.code.cause().as_str().to_owned());
        attempt.error_param = error.param.as_ref().map(|p| p.to_string());
        attempt.error_reason = error
            .not_supported
            .as_ref()
            .map(|n| n.reason.as_str().to_owned())
            .or_else(|| error.decline_code.map(|d| d.as_str().to_owned()))
            .or_else(|| {
                error
                    .limit
                    .as_ref()
                    .map(|hit| hit.limit.as_str().to_owned())
            })
            .or(attempt.error_reason.take());
    }
    if !recorded {
        attempt.latency_ms = elapsed_ms(started);
        if let Err(error) = state.store.record_attempt(&attempt).await {
            // The answer to the person matters more than the record: it
            // is written once the database is back, or the log keeps the
            // trace id so the gap can be found.
            later::record_attempt_when_back(state, error, &attempt);
        }
    }
    crate::http::detach::note_client_gone(state, ctx).await;
    issuer_health::after_attempt(state, &attempt);
    tracing::info!(
        trace_id = %ctx.trace_id,
        outcome = %attempt.outcome,
        code = attempt.error_code.as_deref().unwrap_or(""),
        card = attempt.masked_pan.as_deref().unwrap_or(""),
        latency_ms = attempt.latency_ms,
        "card binding"
    );
    result
}

fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

/// The card fields of a request, as the core's checks take them.
fn card_fields(request: &BindCardRequest) -> CardFields {
    CardFields {
        number: request.number.clone(),
        expiry_month: request.expiry_month.as_ref().map(StringOrNumber::as_text),
        expiry_year: request.expiry_year.as_ref().map(StringOrNumber::as_text),
        cvc: request.cvc.clone(),
        holder_name: Some(request.holder_name.clone()),
    }
}

async fn bind_steps(
    state: &AppState,
    user: &UserRecord,
    request: &BindCardRequest,
    now: DateTime<Utc>,
    evidence: &mut Evidence,
) -> Result<Ready, ApiError> {
    // 1. The card's own fields.
    let today = wallet_today(now, state.time_zone);
    let fields = match check_fields(&card_fields(request), &state.bins, today) {
        Ok(fields) => fields,
        Err(error) => {
            // A number that failed its check still tells support which card
            // it was meant to be: its first 6 and last 4, never more.
            if error.param.as_deref() == Some("number")
                && let Some((masked, first6, last4)) = typed_ends(&request.number)
            {
                evidence.masked_pan = Some(masked);
                evidence.first6 = Some(first6);
                evidence.last4 = Some(last4);
            }
            return Err(error.into());
        }
    };
    evidence.masked_pan = Some(fields.pan.masked());
    evidence.first6 = Some(fields.pan.first6().to_owned());
    evidence.last4 = Some(fields.pan.last4().to_owned());
    evidence.bin = fields.bin.clone();
    let holder_name = fields
        .holder_name
        .clone()
        .ok_or_else(|| DomainError::new(ErrorCode::InvalidHolderName).with_param("holder_name"))?;
    let bank_phone = match request.bank_phone.as_deref() {
        Some(phone) if !phone.trim().is_empty() => {
            PhoneNumber::parse(phone).map_err(|e| e.with_param("bank_phone"))?
        }
        _ => PhoneNumber::parse(&user.phone)?,
    };

    // 2. Maintenance. The issuer's own setting (the sandbox's latency and
    // failure rate) and its open breaker, if any, come in the same read:
    // one round trip to PostgreSQL, not three.
    let mut names = vec![maintenance::SETTING];
    names.extend(state.issuer.binding_setting());
    let context = state
        .store
        .binding_context(
            &names,
            fields
                .bin
                .as_ref()
                .and_then(|bin| bin.issuer_code.as_deref()),
        )
        .await?;
    let open_breaker = context.open_breaker;
    let mut stored = context.settings.into_iter();
    let maintenance_window = stored.next().flatten();
    let issuer_setting = stored.next().flatten();
    maintenance::refuse_if_on(state, maintenance_window.as_deref(), now)?;

    // 3. BIN and support policy; expiry and CVC are required for credit cards.
    let fields = fields.check_support(&state.config.policy)?;

    // 4. The holder must be the wallet's verified real name.
    let real_name = HolderName::parse(&user.real_name)?;
    if !names_match(&holder_name, &real_name) {
        return Err(DomainError::new(ErrorCode::NameMismatch)
            .with_param("holder_name")
            .into());
    }

    // 5. Duplicate, card limit and the wallets the card is in, enforced by
    //    the store in one transaction.
    let fingerprint = state.keys.fingerprint(&fields.pan);
    let bin_controller = BinControllerId::new(&state.config.par_bin_controller_id)
        .map_err(|_| DomainError::new(ErrorCode::InternalError))?;
    let par = Par::derive(&state.keys, &bin_controller, &fields.pan);
    let card_id = crate::ids::card_id();
    let new_card = NewCard::new(
        card_id.clone(),
        user.id.clone(),
        CardToReserve {
            card: &fields,
            holder_name: &holder_name,
            fingerprint: &fingerprint,
            par: &par,
            bank_phone: &bank_phone,
        },
        now + RESERVATION,
        now,
    );
    // Attempts that reach the issuer are limited per card and per person,
    // counted by the reservation itself. A breaker that answers at once
    // keeps the attempt from the issuer, so it is not counted.
    let breaker_waits = open_breaker
        .as_ref()
        .and_then(|incident| incident.retry_at)
        .is_some_and(|retry_at| now < retry_at);
    let attempt_limits = if breaker_waits {
        Vec::new()
    } else {
        let limits = &state.config.limits;
        vec![
            (
                AttemptLimit::CardBindings,
                format!("card:{}", fingerprint.as_str()),
                limits.card_bindings_per_day,
            ),
            (
                AttemptLimit::UserBindings,
                format!("user:{}", user.id),
                limits.user_bindings_per_day,
            ),
        ]
    };
    let reserve_limits = ReserveLimits {
        live_cards: state.config.card_limit,
        wallets_per_card: state.config.limits.max_wallets_per_card,
        attempts: limit_buckets(&attempt_limits),
        window: limit_window(),
    };
    match reserve_after_any_in_flight(state, &new_card, &reserve_limits, now).await? {
        Reserve::Reserved => {}
        Reserve::AlreadyBound { card_id, status } => {
            let code = if status == CardStatus::PendingVerification {
                ErrorCode::OtpRequired
            } else {
                ErrorCode::CardAlreadyBound
            };
            let error = DomainError::new(code)
                .with_param("number")
                .with_card_id(card_id.as_str());
            evidence.card_id = Some(card_id);
            return Err(error.into());
        }
        Reserve::InProgress => {
            return Err(DomainError::new(ErrorCode::RequestInProgress)
                .with_retry_after(2)
                .into());
        }
        Reserve::LimitReached { .. } => {
            return Err(DomainError::new(ErrorCode::CardLimitReached).into());
        }
        Reserve::WalletsFull { .. } => {
            return Err(DomainError::new(ErrorCode::CardWalletLimitReached)
                .with_param("number")
                .into());
        }
        Reserve::AttemptsRefused { index, free_at } => {
            return Err(limit_refused(&attempt_limits, index, free_at, now));
        }
    }
    evidence.card_id = Some(card_id.clone());

    // 6. The issuer. Whatever happens from here, a failure frees the slot.
    let outcome = issue(
        state,
        user,
        &fields,
        &holder_name,
        &bank_phone,
        &card_id,
        issuer_setting.as_deref(),
        open_breaker,
        now,
        evidence,
    )
    .await;
    if outcome.is_err() {
        release_reservation(state, &card_id).await;
    }
    outcome
}

/// Gives a reservation back; when the database is away, once it is back,
/// so that a retry of the same card is not held until the reservation
/// expires.
async fn release_reservation(state: &AppState, card_id: &CardId) {
    if let Err(error) = state.store.release_card(card_id).await {
        let (state, card_id) = (state.clone(), card_id.clone());
        let within = RESERVATION.to_std().unwrap_or_default();
        later::retry_when_back(error, "release a card reservation", within, move || {
            let (state, card_id) = (state.clone(), card_id.clone());
            async move { state.store.release_card(&card_id).await }
        });
    }
}

/// Reserves the card; when the same card is being bound by another request
/// (a phone that dropped a slow binding and sent it again without a key),
/// waits for that one to end, up to the issuer timeout, and answers as it
/// left things: the card bound, or free to bind again.
async fn reserve_after_any_in_flight(
    state: &AppState,
    card: &NewCard,
    limits: &ReserveLimits,
    now: DateTime<Utc>,
) -> Result<Reserve, ApiError> {
    let limit = Duration::from_secs(state.config.issuer_timeout_secs);
    let reserved = detach::wait_out_in_flight(
        limit,
        || state.store.reserve_card(card, limits, now),
        |reserved| matches!(reserved, Ok(Reserve::InProgress)),
    )
    .await;
    Ok(reserved?)
}

/// A binding the issuer approved (or stepped up), sealed and ready to be
/// written.
#[derive(Debug)]
struct Ready {
    card_id: CardId,
    user_id: UserId,
    fields: CheckedCard,
    sealed_pan: SealedPan,
    otp: Option<NewOtpChallenge>,
    step_up: bool,
}

#[allow(clippy::too_many_arguments)]
async fn issue(
    state: &AppState,
    user: &UserRecord,
    fields: &CheckedCard,
    holder_name: &HolderName,
    bank_phone: &PhoneNumber,
    card_id: &CardId,
    issuer_setting: Option<&str>,
    open_breaker: Option<IncidentRecord>,
    now: DateTime<Utc>,
    evidence: &mut Evidence,
) -> Result<Ready, ApiError> {
    let user_phone = PhoneNumber::parse(&user.phone)?;
    let bin = &fields.bin;
    let verification = BindingVerification {
        pan: &fields.pan,
        holder_name: holder_name.as_str(),
        id_number_hash: &user.id_number_hash,
        bank_phone,
        user_phone: &user_phone,
        expiry: fields.expiry.as_ref(),
        cvc: fields.cvc.as_ref(),
        issuer_code: bin.issuer_code.as_deref(),
        setting: issuer_setting,
    };
    // An issuer flagged as unavailable is not asked: the person hears so at
    // once, with the time its breaker lets a probe through.
    let probe =
        match issuer_health::gate(state, bin.issuer_code.as_deref(), open_breaker, now).await? {
            Gate::Open { retry_after_secs } => {
                evidence.issuer_response = Some(CIRCUIT_OPEN.to_owned());
                return Err(DomainError::new(ErrorCode::IssuerUnavailable)
                    .with_retry_after(retry_after_secs)
                    .into());
            }
            Gate::Probe(incident) => Some(incident),
            Gate::Closed => None,
        };
    let timeout = Duration::from_secs(state.config.issuer_timeout_secs);
    let asked = std::time::Instant::now();
    let answered = tokio::time::timeout(timeout, state.issuer.verify_binding(&verification)).await;
    // A request sent that had no answer in time is told apart from a bank
    // that answered it cannot serve (or refused the connection).
    let timed_out = answered.is_err();
    let answer = answered.unwrap_or(IssuerAnswer::Unavailable);
    let label = if timed_out {
        ISSUER_TIMEOUT.to_owned()
    } else {
        answer.label()
    };
    state.metrics.issuer_call(
        bin.issuer_code.as_deref().unwrap_or("unknown"),
        "verify_binding",
        &label,
        asked.elapsed(),
    );
    evidence.issuer_response = Some(label);
    if let Some(incident) = probe {
        let answered = !matches!(answer, IssuerAnswer::Unavailable);
        if let Err(ApiError(error)) =
            issuer_health::after_probe(state, &incident, answered, state.now()).await
        {
            tracing::error!(incident, error = %error, "could not record the breaker probe");
        }
    }
    let step_up = match answer {
        IssuerAnswer::Approved => false,
        IssuerAnswer::StepUp => true,
        IssuerAnswer::Refused(error) => return Err(error.into()),
        IssuerAnswer::Unavailable => {
            return Err(DomainError::new(ErrorCode::IssuerUnavailable)
                .with_retry_after(state.config.issuer_retry_after_secs)
                .into());
        }
    };

    // 7. Vault and token.
    let sealed_pan = state
        .keys
        .seal(card_id, &fields.pan)
        .map_err(|_| DomainError::new(ErrorCode::InternalError))?;
    let otp = if step_up {
        Some(otp::send_otp(state, card_id, bank_phone, fields.pan.last4(), now).await?)
    } else {
        None
    };
    Ok(Ready {
        card_id: card_id.to_owned(),
        user_id: user.id.clone(),
        fields: fields.clone(),
        sealed_pan,
        otp,
        step_up,
    })
}

/// Counts one hit against each limit, all or none, in the store (so that
/// a burst on any number of nodes cannot pass them); a full one refuses
/// with `too_many_attempts`, naming it and the time it lifts.
pub(crate) async fn claim_limits(
    state: &AppState,
    limits: &[(AttemptLimit, String, u32)],
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    match state
        .store
        .claim_limits(&limit_buckets(limits), limit_window(), now)
        .await?
    {
        LimitClaim::Counted => Ok(()),
        LimitClaim::Refused { index, free_at } => Err(limit_refused(limits, index, free_at, now)),
    }
}

pub(crate) fn limit_buckets(limits: &[(AttemptLimit, String, u32)]) -> Vec<LimitBucket> {
    limits
        .iter()
        .map(|(_, bucket, limit)| LimitBucket {
            bucket: bucket.clone(),
            limit: *limit,
        })
        .collect()
}

pub(crate) fn limit_window() -> TimeDelta {
    TimeDelta::seconds(i64::try_from(LIMIT_WINDOW_SECS).unwrap_or(i64::MAX))
}

/// `too_many_attempts` for `limits[index]`, full until `free_at`.
pub(crate) fn limit_refused(
    limits: &[(AttemptLimit, String, u32)],
    index: usize,
    free_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiError {
    match limits.get(index) {
        Some((limit, _, max)) => DomainError::limit_hit(*limit, *max, Some((free_at, now))).into(),
        None => DomainError::new(ErrorCode::InternalError).into(),
    }
}

/// Writes a ready binding with its attempt record, and reads the card as
/// it now stands.
async fn complete(
    state: &AppState,
    request: &BindCardRequest,
    ready: Ready,
    attempt: &AttemptRecord,
    now: DateTime<Utc>,
) -> Result<Bound, ApiError> {
    let fields = &ready.fields;
    // Two tokens never share a PAN (a unique index on its fingerprint): on
    // the rare collision, draw another.
    let mut draws = 0;
    let card = loop {
        draws += 1;
        let completion = BindingCompletion {
            card_id: ready.card_id.clone(),
            user_id: ready.user_id.clone(),
            pan_key_version: ready.sealed_pan.key_version,
            pan_ciphertext: ready.sealed_pan.blob.clone(),
            token: new_token(state, request, fields, &fields.bin, ready.step_up, now)?,
            status: if ready.step_up {
                CardStatus::PendingVerification
            } else {
                CardStatus::Active
            },
            otp: ready.otp.clone(),
            now,
        };
        match state
            .store
            .complete_binding_recorded(&completion, attempt)
            .await
        {
            Ok(Some(card)) => break card,
            // The account was closed meanwhile (read only on this rare
            // path), or the reservation expired while the issuer took its
            // time.
            Ok(None) => {
                if state.store.account_closure(&ready.user_id).await?.is_some() {
                    return Err(ErrorCode::AccountClosed.into());
                }
                return Err(DomainError::new(ErrorCode::IssuerUnavailable)
                    .with_retry_after(state.config.issuer_retry_after_secs)
                    .into());
            }
            Err(StoreError::Conflict(Constraint::TokenPan)) if draws < 4 => {
                tracing::warn!(
                    card_id = %ready.card_id,
                    "token PAN collision: drawing another"
                );
            }
            Err(error) => return Err(error.into()),
        }
    };
    Ok(if ready.step_up {
        Bound::PendingOtp(card)
    } else {
        Bound::Active(card)
    })
}

/// Draws a token for the card: its PAN from the brand's token BIN range,
/// sealed under the token's reference, its keyed fingerprint, its expiry,
/// and the IMK-AC (range and generation) its cryptogram keys come from.
fn new_token(
    state: &AppState,
    request: &BindCardRequest,
    fields: &CheckedCard,
    bin: &BinRecord,
    step_up: bool,
    now: DateTime<Utc>,
) -> Result<NewToken, DomainError> {
    let bins = state.bins.clone();
    let ranges = &state.config.token_bin_ranges;
    let token_pan = issue_token_pan(&fields.pan, &bin.brand, ranges, |prefix| {
        bins.is_issued_prefix(prefix)
    })
    .map_err(internal)?;
    let token_ref = TokenRef::generate().map_err(internal)?;
    let sealed_token = state
        .keys
        .seal_token_pan(token_ref.as_str(), &token_pan)
        .map_err(internal)?;
    // A debit card bound without its expiry gets the longest token life.
    let (card_month, card_year) = fields
        .expiry
        .map_or((12, 2099), |e| (u32::from(e.month()), i32::from(e.year())));
    let (token_month, token_year) =
        token_expiry(card_month, card_year, wallet_today(now, state.time_zone));
    Ok(NewToken {
        token_ref: token_ref.as_str().to_owned(),
        key_version: sealed_token.key_version,
        token_pan_ciphertext: sealed_token.blob,
        token_first6: token_pan.first6().to_owned(),
        token_last4: token_pan.last4().to_owned(),
        expiry_month: u8::try_from(token_month).unwrap_or(12),
        expiry_year: u16::try_from(token_year).unwrap_or(2099),
        status: if step_up {
            TokenStatus::Inactive
        } else {
            TokenStatus::Active
        },
        requestor_id: state.config.token_requestor_id.clone(),
        device_id: request.device.as_ref().and_then(|d| d.id.clone()),
        token_pan_fingerprint: state.keys.token_fingerprint(&token_pan),
        // Token PANs are unique, so every token is the first card of its
        // PAN: PSN 00.
        psn: 0,
        imk_range: ranges.for_brand(&bin.brand).prefix().to_owned(),
        imk_generation: state.config.payments.imk_generation,
    })
}

pub(crate) async fn load_card(
    state: &AppState,
    user_id: &UserId,
    card_id: &CardId,
) -> Result<CardRecord, ApiError> {
    state
        .store
        .card(user_id, card_id)
        .await?
        .ok_or_else(|| DomainError::new(ErrorCode::InternalError).into())
}
