//! Token renewal. A token is renewed in place: the same token PAN (merchants
//! keep it on file) and the same card, so the same PAR; the next PSN, so its
//! card keys are new, derived under the wallet's current EMV key generation;
//! its ATC counters from zero; and a new expiry, the card's capped at the
//! token lifetime. Nothing made with the old keys verifies any more, so the
//! ATCs and cryptograms of the old keys are forgotten with it.
//!
//! When: as its holder's phone asks for keys or a cryptogram, if the ATCs
//! would pass `payments.renew_at_atc`, or the token's expiry is within
//! `payments.renew_days_before_expiry` (or past) while its card runs longer;
//! the answer then carries the new PSN and expiry. And by an operator, for
//! every live token of one generation (`tessera keys emv-generation renew`),
//! so that the generation can be retired.

use chrono::{DateTime, NaiveDate, Utc};
use tessera_core::card::expiry::{Expiry, wallet_today};
use tessera_core::card::status::CardStatus;
use tessera_core::token::lifecycle::TokenStatus;
use tessera_core::token::token_expiry;
use tessera_store::{PaymentToken, TokenEvent, TokenLookup, TokenRenewal};

use crate::flows::audit::{self, Actor};
use crate::http::error::{ApiError, internal};
use crate::state::AppState;

/// The highest PSN: two digits. A token renewed 99 times is not renewed
/// again; its holder binds the card anew.
const LAST_PSN: u8 = 99;

/// Why a token is renewed; its event's reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Its ATCs neared their end.
    Atc,
    /// Its expiry neared, or passed, while its card runs longer.
    Expiry,
    /// An operator moved its EMV key generation's tokens to the current one.
    Generation,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Atc => "atc",
            Reason::Expiry => "expiry",
            Reason::Generation => "generation",
        }
    }
}

/// Why `token` is due for renewal before `count` more ATCs are handed out
/// on `today`, if it is. Only a token that could pay but for this: an
/// active token of an active card its bank has not replaced.
pub fn due(state: &AppState, token: &PaymentToken, count: u16, today: NaiveDate) -> Option<Reason> {
    let record = &token.token;
    if record.status != TokenStatus::Active
        || token.card_status != CardStatus::Active
        || token.card_reissued_at.is_some()
    {
        return None;
    }
    let payments = &state.config.payments;
    if u32::from(record.atc_issued) + u32::from(count) > u32::from(payments.renew_at_atc) {
        return Some(Reason::Atc);
    }
    let expiry = Expiry::new(record.expiry_month, record.expiry_year).ok()?;
    let days_left = (expiry.last_day() - today).num_days();
    (days_left <= i64::from(payments.renew_days_before_expiry)).then_some(Reason::Expiry)
}

/// Renews `token` when it is due (`due`), and answers the token as it is
/// now: renewed, renewed meanwhile by another request, or as it was.
pub async fn renew_if_due(
    state: &AppState,
    token: PaymentToken,
    count: u16,
    now: DateTime<Utc>,
) -> Result<PaymentToken, ApiError> {
    let today = wallet_today(now, state.time_zone);
    let Some(reason) = due(state, &token, count, today) else {
        return Ok(token);
    };
    renew(state, &token, reason, now).await?;
    // Renewed here or by a request beside this one: read what won.
    Ok(state
        .store
        .payment_token(TokenLookup::Ref(&token.token.token_ref))
        .await?
        .unwrap_or(token))
}

/// Renews one token for `reason`. False when it cannot be: its PSNs are
/// used up, or, renewed for its expiry, its card ends no later than the
/// token does now; or it changed meanwhile (deleted, or renewed by another
/// request).
pub async fn renew(
    state: &AppState,
    token: &PaymentToken,
    reason: Reason,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let record = &token.token;
    if record.psn >= LAST_PSN {
        tracing::warn!(
            token_ref = %record.token_ref,
            "token not renewed: its PSN is at 99, the last; its holder must bind the card again"
        );
        return Ok(false);
    }
    let Some(card) = state.store.card(&token.user_id, &record.card_id).await? else {
        return Ok(false);
    };
    // A debit card bound without its expiry has the longest token life,
    // as at binding.
    let (card_month, card_year) = match (card.expiry_month, card.expiry_year) {
        (Some(month), Some(year)) => (u32::from(month), i32::from(year)),
        _ => (12, 2099),
    };
    let today = wallet_today(now, state.time_zone);
    let (month, year) = token_expiry(card_month, card_year, today);
    let (expiry_month, expiry_year) = (
        u8::try_from(month).unwrap_or(12),
        u16::try_from(year).unwrap_or(2099),
    );
    let later = (expiry_year, expiry_month) > (record.expiry_year, record.expiry_month);
    if reason == Reason::Expiry && !later {
        // The card itself ends: the token ends with it, and the bank's
        // new card is bound (or sent as `card.expiry_updated`).
        return Ok(false);
    }
    let renewal = TokenRenewal {
        token_ref: record.token_ref.clone(),
        from_psn: record.psn,
        psn: record.psn + 1,
        imk_generation: state.config.payments.imk_generation,
        expiry_month,
        expiry_year,
        event: TokenEvent {
            token_ref: record.token_ref.clone(),
            kind: "renewed".to_owned(),
            actor: "wallet".to_owned(),
            reason: Some(reason.as_str().to_owned()),
            status_after: record.status.as_str().to_owned(),
            created_at: now,
        },
    };
    let renewed = state.store.renew_token(&renewal).await?;
    if renewed {
        tracing::info!(
            token_ref = %record.token_ref,
            reason = reason.as_str(),
            psn = renewal.psn,
            generation = renewal.imk_generation,
            expiry = %format!("{expiry_month:02}/{}", expiry_year % 100),
            "token renewed"
        );
    }
    Ok(renewed)
}

/// What moving a generation's tokens did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GenerationMove {
    pub renewed: u64,
    /// Live tokens left under the old generation: their PSNs used up, or
    /// changed while the move ran (run it again).
    pub left: u64,
}

/// Renews every live token of `generation` under the wallet's current
/// generation (`payments.imk_generation`), `batch` tokens a read, calling
/// `progress` after each batch. Their phones get new keys at their next
/// request; keys they hold from before no longer pay.
pub async fn move_generation(
    state: &AppState,
    generation: u8,
    batch: u32,
    actor: Actor<'_>,
    mut progress: impl FnMut(GenerationMove),
) -> Result<GenerationMove, ApiError> {
    let mut done = GenerationMove::default();
    let to = state.config.payments.imk_generation;
    if generation == to {
        return Ok(done);
    }
    if !state.keys.has_emv_generation(to) {
        // A node does not start so (`emv_generations::check_issuing_generation`);
        // a command's state might: renewed under it, no token would pay.
        tracing::error!(
            generation = to,
            "tokens not renewed: EMV key generation {to} is not in this key ring"
        );
        return Err(internal(to).into());
    }
    let mut after: Option<String> = None;
    loop {
        let refs = state
            .store
            .live_tokens_of_generation(generation, after.as_deref(), batch)
            .await?;
        let Some(last) = refs.last().cloned() else {
            break;
        };
        for token_ref in &refs {
            let token = state
                .store
                .payment_token(TokenLookup::Ref(token_ref))
                .await?;
            let renewed = match token {
                Some(token) => renew(state, &token, Reason::Generation, state.now()).await?,
                None => false,
            };
            if renewed {
                done.renewed += 1;
            } else {
                done.left += 1;
            }
        }
        progress(done);
        after = Some(last);
    }
    if done.renewed > 0 {
        actor
            .record(
                state,
                audit::EMV_GENERATION_RENEWED,
                None,
                Some(format!("emv_generation:{generation}")),
            )
            .await?;
    }
    Ok(done)
}
