//! The sandbox: its simulated phone's text messages, and the sandbox
//! issuer's latency and failure rate, changed at run time for every node
//! (sandbox mode only: otherwise they are not there, 404).

use chrono::{DateTime, Utc};
use tessera_core::error::{DomainError, ErrorCode};
use tessera_core::identity::PhoneNumber;

use crate::http::auth::{Caller, Role};
use crate::http::error::{ApiError, rfc3339};
use crate::http::views::{SandboxIssuerRequest, SmsList, SmsView};
use crate::issuer::sandbox::{self, SandboxBehaviour, Tuning};
use crate::state::AppState;

/// The sandbox's routes answer in sandbox mode only.
pub fn sandbox_only(state: &AppState) -> Result<(), ApiError> {
    if state.config.sandbox {
        Ok(())
    } else {
        Err(ErrorCode::NotFound.into())
    }
}

/// The newest texts sent to `phone`: readable by the user whose phone it
/// is, and by operators.
pub async fn sms(state: &AppState, caller: &Caller, phone: &str) -> Result<SmsList, ApiError> {
    sandbox_only(state)?;
    let phone = PhoneNumber::parse(phone)?;
    match caller {
        Caller::User { user_id } => {
            let user = state
                .store
                .user_by_id(user_id)
                .await?
                .ok_or(ErrorCode::Unauthenticated)?;
            if user.phone != phone.expose() {
                return Err(ErrorCode::Forbidden.into());
            }
        }
        Caller::Key { .. } => {
            caller.require_role(&[Role::Operator])?;
        }
    }
    let messages = state.store.sandbox_sms(phone.expose(), 20).await?;
    Ok(SmsList {
        data: messages
            .into_iter()
            .map(|m| SmsView {
                phone: m.phone,
                body: m.body,
                created_at: rfc3339(m.created_at),
            })
            .collect(),
        next_cursor: None,
    })
}

/// Sets the sandbox issuer's latency and failure rate, for one issuer code
/// or for all (which clears the per-issuer ones), and returns the whole.
pub async fn tune(
    state: &AppState,
    request: &SandboxIssuerRequest,
    now: DateTime<Utc>,
) -> Result<SandboxBehaviour, ApiError> {
    if !(0.0..=1.0).contains(&request.failure_rate) {
        return Err(DomainError::new(ErrorCode::InvalidRequest)
            .with_param("failure_rate")
            .into());
    }
    if request.latency_ms > 60_000 {
        return Err(DomainError::new(ErrorCode::InvalidRequest)
            .with_param("latency_ms")
            .into());
    }
    let mut behaviour = behaviour(state).await?;
    let tuning = Tuning {
        latency_ms: request.latency_ms,
        failure_rate: request.failure_rate,
    };
    match request.issuer_code.as_deref().map(str::trim) {
        Some(code) if !code.is_empty() => {
            behaviour.issuers.insert(code.to_ascii_uppercase(), tuning);
        }
        _ => {
            behaviour.all = Some(tuning);
            behaviour.issuers.clear();
        }
    }
    let json = serde_json::to_string(&behaviour).map_err(|_| ErrorCode::InternalError)?;
    state
        .store
        .put_setting(sandbox::SETTING, &json, now)
        .await?;
    Ok(behaviour)
}

/// The sandbox issuer's run-time behaviour.
pub async fn behaviour(state: &AppState) -> Result<SandboxBehaviour, ApiError> {
    Ok(match state.store.setting(sandbox::SETTING).await? {
        Some(json) => serde_json::from_str(&json).unwrap_or_default(),
        None => SandboxBehaviour::default(),
    })
}
