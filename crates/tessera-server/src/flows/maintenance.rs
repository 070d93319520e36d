//! Maintenance mode: operators pause binding for a window. It lives in the
//! database so every node sees it at once; reading cards keeps working.

use chrono::{DateTime, Utc};
use tessera_core::error::{DomainError, ErrorCode};

use crate::flows::audit::{self, Actor};
use crate::http::error::{ApiError, rfc3339};
use crate::http::fields::stored_text;
use crate::http::views::{MaintenanceStatus, MaintenanceWindow};
use crate::state::AppState;

pub const SETTING: &str = "maintenance";

/// Pauses binding until the window's `until`, a future RFC 3339 time, with
/// the operator's notice in both languages.
pub async fn start(
    state: &AppState,
    window: &MaintenanceWindow,
    by: Actor<'_>,
    now: DateTime<Utc>,
) -> Result<MaintenanceStatus, ApiError> {
    let until = DateTime::parse_from_rfc3339(&window.until)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .filter(|until| *until > now)
        .ok_or_else(|| DomainError::new(ErrorCode::InvalidRequest).with_param("until"))?;
    let stored = MaintenanceWindow {
        until: rfc3339(until),
        message_zh: stored_text(&window.message_zh),
        message_en: stored_text(&window.message_en),
    };
    let json = serde_json::to_string(&stored).map_err(|_| ErrorCode::InternalError)?;
    state.store.put_setting(SETTING, &json, now).await?;
    tracing::warn!(until = %stored.until, "maintenance window set");
    by.record(
        state,
        audit::MAINTENANCE_STARTED,
        None,
        Some(format!("until:{}", stored.until)),
    )
    .await?;
    Ok(MaintenanceStatus {
        active: true,
        window: Some(stored),
    })
}

/// Ends maintenance now.
pub async fn end(state: &AppState, by: Actor<'_>) -> Result<MaintenanceStatus, ApiError> {
    state.store.delete_setting(SETTING).await?;
    tracing::warn!("maintenance window ended");
    by.record(state, audit::MAINTENANCE_ENDED, None, None)
        .await?;
    Ok(MaintenanceStatus {
        active: false,
        window: None,
    })
}

/// The window in force, if any, as operators read it.
pub async fn status(state: &AppState, now: DateTime<Utc>) -> Result<MaintenanceStatus, ApiError> {
    let current = current(state, now).await?;
    Ok(MaintenanceStatus {
        active: current.is_some(),
        window: current.map(|(_, window)| window),
    })
}

/// The window in force, if any (a window whose end has passed is over).
pub async fn current(
    state: &AppState,
    now: DateTime<Utc>,
) -> Result<Option<(DateTime<Utc>, MaintenanceWindow)>, ApiError> {
    let json = state.store.setting(SETTING).await?;
    in_force(json.as_deref(), now)
}

/// The window a stored setting describes, if in force at `now`.
fn in_force(
    json: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<(DateTime<Utc>, MaintenanceWindow)>, ApiError> {
    let Some(json) = json else {
        return Ok(None);
    };
    let window: MaintenanceWindow =
        serde_json::from_str(json).map_err(|_| DomainError::new(ErrorCode::InternalError))?;
    let until = DateTime::parse_from_rfc3339(&window.until)
        .map_err(|_| DomainError::new(ErrorCode::InternalError))?
        .with_timezone(&Utc);
    Ok((until > now).then_some((until, window)))
}

/// `maintenance` (503, Retry-After, the operator's notice) while a window is
/// on; `stored` is the setting's value, read by the caller (a binding reads
/// it together with its issuer's setting).
pub fn refuse_if_on(
    state: &AppState,
    stored: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if let Some((until, window)) = in_force(stored, now)? {
        let seconds = u64::try_from((until - now).num_seconds().max(1)).unwrap_or(1);
        let local = until.with_timezone(&state.time_zone).format("%H:%M");
        let zh = if window.message_zh.trim().is_empty() {
            format!("系统维护中，暂停绑卡，预计{local}恢复")
        } else {
            window.message_zh.clone()
        };
        let en = if window.message_en.trim().is_empty() {
            format!("Adding cards is paused for maintenance until {local}")
        } else {
            window.message_en.clone()
        };
        return Err(DomainError::new(ErrorCode::Maintenance)
            .with_retry_after(seconds)
            .with_notice(zh, en)
            .into());
    }
    Ok(())
}
