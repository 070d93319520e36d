//! A payment's consent and risk (docs/architecture.md, section 4, steps 6
//! and 7): the person's no-confirmation limits (小额免密), the risk rules'
//! score, and whether the payment carries the person's confirmation: a
//! confirmation bound into a single-use cryptogram when it was made, or
//! the phone's own check (fingerprint, face or passcode) reported in the
//! IAD the ARQC covers. Also the limits' own routes.

use chrono::{DateTime, TimeDelta, Utc};
use tessera_core::emv::DeviceCvm;
use tessera_core::error::{DomainError, ErrorCode};
use tessera_core::ids::UserId;
use tessera_core::risk::{Assessment, Decision, PaymentFacts, RecentPayment, RiskRules, assess};
use tessera_store::{
    ConsentLimits, HistoryQuery, PaymentContextQuery, PaymentHistory, PaymentStatus, PaymentToken,
};

use crate::flows::verifications::{self, Purpose};
use crate::http::error::ApiError;
use crate::http::views::{ConsentLimitsRequest, ConsentLimitsView};
use crate::state::AppState;
use axum::http::HeaderMap;

/// How many of a person's latest payments the rules need: one more than
/// the most any count allows (at least 10, for the amounts compared), at
/// most 100.
fn recent_needed(rules: &RiskRules) -> u32 {
    [
        rules.token_velocity.max,
        rules.person_velocity.max,
        rules.repeated_declines.max,
        9,
    ]
    .into_iter()
    .max()
    .unwrap_or(9)
    .saturating_add(1)
    .min(100)
}

/// The start of the wallet's day that `now` falls in.
fn day_start(state: &AppState, now: DateTime<Utc>) -> DateTime<Utc> {
    let local = now.with_timezone(&state.time_zone);
    let midnight = local.date_naive().and_hms_opt(0, 0, 0).unwrap_or_default();
    midnight
        .and_local_timezone(state.time_zone)
        .earliest()
        .map_or(now - TimeDelta::days(1), |start| start.with_timezone(&Utc))
}

/// What a payment reads before its claim: its token (by the token PAN's
/// fingerprint), the cryptogram made for its ATC and everything the risk
/// and consent steps read, in one read. The day is summed only when the
/// phone does not say it verified the person (a claim the ARQC check
/// then holds it to).
pub fn context_query(
    state: &AppState,
    token_pan_fingerprint: String,
    atc: u16,
    device_cvm_claimed: DeviceCvm,
    now: DateTime<Utc>,
) -> PaymentContextQuery {
    PaymentContextQuery {
        token_pan_fingerprint,
        atc,
        day_start: day_start(state, now),
        sum_unconfirmed: device_cvm_claimed == DeviceCvm::None,
        default_per_day: state.config.consent.default_per_day,
        recent: recent_needed(&state.config.risk),
    }
}

/// The wallet's own state (frozen, limits, and the day's unconfirmed sum
/// when asked), without the person's recent payments: for the steps that
/// score nothing (keys, cryptograms, transfers, settings).
pub async fn account(
    state: &AppState,
    user_id: &UserId,
    sum_unconfirmed: bool,
    now: DateTime<Utc>,
) -> Result<PaymentHistory, ApiError> {
    read(state, user_id, None, sum_unconfirmed, 0, now).await
}

async fn read(
    state: &AppState,
    user_id: &UserId,
    device_id: Option<&str>,
    sum_unconfirmed: bool,
    recent: u32,
    now: DateTime<Utc>,
) -> Result<PaymentHistory, ApiError> {
    Ok(state
        .store
        .payment_history(&HistoryQuery {
            user_id: user_id.to_owned(),
            device_id: device_id.map(str::to_owned),
            day_start: day_start(state, now),
            sum_unconfirmed,
            default_per_day: state.config.consent.default_per_day,
            recent,
        })
        .await?)
}

/// A frozen wallet pays nothing.
pub fn check_not_frozen(history: &PaymentHistory) -> Result<(), DomainError> {
    match history.frozen_at {
        Some(_) => Err(DomainError::new(ErrorCode::AccountFrozen)),
        None => Ok(()),
    }
}

/// The person's limits, or the wallet's defaults.
pub fn limits_of(state: &AppState, history: &PaymentHistory) -> ConsentLimits {
    history.consent.unwrap_or(ConsentLimits {
        per_payment: state.config.consent.default_per_payment,
        per_day: state.config.consent.default_per_day,
    })
}

/// Why `amount` needs the person's confirmation, if it does: above the
/// limit for one payment, or above what is left of the day's. A daily
/// limit of `i64::MAX` is none.
pub fn over_limit(
    limits: ConsentLimits,
    amount: i64,
    unconfirmed_today: i64,
) -> Option<&'static str> {
    if amount > limits.per_payment {
        Some("above_payment_limit")
    } else if limits.per_day < i64::MAX && unconfirmed_today.saturating_add(amount) > limits.per_day
    {
        Some("above_daily_limit")
    } else {
        None
    }
}

/// The payment's score from the person's history.
pub fn score(
    state: &AppState,
    token: &PaymentToken,
    history: &PaymentHistory,
    amount: i64,
    now: DateTime<Utc>,
) -> Assessment {
    // A payment the bank never answered charged nothing, and its retry is
    // the same payment: neither counts as one more.
    let recent: Vec<RecentPayment> = history
        .recent
        .iter()
        .filter(|p| p.status != PaymentStatus::Failed)
        .map(|p| RecentPayment {
            same_token: p.token_ref == token.token.token_ref,
            approved: p.status == PaymentStatus::Approved,
            declined: p.status == PaymentStatus::Declined,
            amount: p.amount,
            at: p.created_at,
        })
        .collect();
    assess(
        &state.config.risk,
        &PaymentFacts {
            amount,
            now,
            recent: &recent,
            token_bound_at: token.token.created_at,
            device_since: history.device_since,
            wallet_since: history.wallet_since,
            credentials_reset_at: history.credentials_reset_at,
        },
    )
}

/// How a payment was consented to: the confirmation its single-use
/// cryptogram was made with, or the phone's own check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Given<'a> {
    Confirmation(&'a str),
    Device(DeviceCvm),
}

/// Steps 6 and 7: the risk rules, then consent. A score at the decline
/// threshold stops the payment; above the no-confirmation limits, or at the
/// step-up threshold, a payment without the person's confirmation is
/// declined with `authentication_required`, naming how to confirm. Answers
/// the consent as it is recorded.
pub fn judge(
    assessment: &Assessment,
    limits: ConsentLimits,
    history: &PaymentHistory,
    amount: i64,
    given: Given<'_>,
    confirm_with: &'static str,
) -> Result<String, DomainError> {
    if assessment.decision == Decision::Decline {
        return Err(
            DomainError::new(ErrorCode::RiskDeclined).with_risk_reasons(&assessment.reasons)
        );
    }
    let need = over_limit(limits, amount, history.unconfirmed_today)
        .or((assessment.decision == Decision::StepUp).then_some("risk"));
    match (need, given) {
        (_, Given::Confirmation(method)) => Ok(method.to_owned()),
        (_, Given::Device(DeviceCvm::Passcode | DeviceCvm::Biometric)) => Ok("device".to_owned()),
        (None, Given::Device(DeviceCvm::None)) => Ok("none".to_owned()),
        (Some(reason), Given::Device(DeviceCvm::None)) => {
            let error = DomainError::confirm_first(vec![confirm_with], reason);
            Err(if reason == "risk" {
                error.with_risk_reasons(&assessment.reasons)
            } else {
                error
            })
        }
    }
}

/// `GET /v1/me/payment-limits`.
pub async fn get_limits(
    state: &AppState,
    user_id: &UserId,
    now: DateTime<Utc>,
) -> Result<ConsentLimitsView, ApiError> {
    let history = account(state, user_id, true, now).await?;
    Ok(view(state, &history))
}

fn view(state: &AppState, history: &PaymentHistory) -> ConsentLimitsView {
    let limits = limits_of(state, history);
    let config = &state.config.consent;
    ConsentLimitsView {
        per_payment: limits.per_payment,
        per_day: limits.per_day,
        chosen: history.consent.is_some(),
        max_per_payment: config.max_per_payment,
        max_per_day: config.max_per_day,
        used_today: history.unconfirmed_today,
    }
}

/// `PUT /v1/me/payment-limits`: within the wallet's range. Lowering a limit
/// only makes paying safer and needs nothing; raising one takes a
/// confirmation (`security_settings`).
pub async fn set_limits(
    state: &AppState,
    headers: &HeaderMap,
    user_id: &UserId,
    request: &ConsentLimitsRequest,
    now: DateTime<Utc>,
) -> Result<ConsentLimitsView, ApiError> {
    let config = &state.config.consent;
    let invalid =
        |param: &'static str| DomainError::new(ErrorCode::InvalidRequest).with_param(param);
    let per_payment = i64::try_from(request.per_payment).map_err(|_| invalid("per_payment"))?;
    let per_day = i64::try_from(request.per_day).map_err(|_| invalid("per_day"))?;
    if per_payment > config.max_per_payment {
        return Err(invalid("per_payment").into());
    }
    if per_day > config.max_per_day || per_day < per_payment {
        return Err(invalid("per_day").into());
    }
    let current = limits_of(state, &account(state, user_id, false, now).await?);
    if per_payment > current.per_payment || per_day > current.per_day {
        verifications::require(state, headers, user_id, Purpose::SecuritySettings, "", now).await?;
    }
    state
        .store
        .set_consent_limits(
            user_id,
            ConsentLimits {
                per_payment,
                per_day,
            },
            now,
        )
        .await?;
    tracing::info!(user_id = %user_id, per_payment, per_day, "no-confirmation limits set");
    get_limits(state, user_id, now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_of_zero_confirms_everything_and_max_is_none() {
        let limits = ConsentLimits {
            per_payment: 30_000,
            per_day: 100_000,
        };
        assert_eq!(over_limit(limits, 30_000, 70_000), None);
        assert_eq!(over_limit(limits, 30_001, 0), Some("above_payment_limit"));
        assert_eq!(
            over_limit(limits, 30_000, 70_001),
            Some("above_daily_limit")
        );
        let off = ConsentLimits {
            per_payment: 0,
            per_day: 0,
        };
        assert_eq!(over_limit(off, 1, 0), Some("above_payment_limit"));
        let unlimited = ConsentLimits {
            per_payment: i64::MAX,
            per_day: i64::MAX,
        };
        assert_eq!(over_limit(unlimited, 99_999_999, i64::MAX - 1), None);
    }
}
