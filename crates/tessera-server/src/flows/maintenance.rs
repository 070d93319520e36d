//! Maintenance mode: operators pause binding for a window. It lives in the
//! database so every node sees it at once; reading cards keeps working.

use chrono::{DateTime, Utc};
use tessera_core::error::{DomainError, ErrorCode};

use crate::http::error::ApiError;
use crate::http::views::MaintenanceWindow;
use crate::state::AppState;

pub const SETTING: &str = "maintenance";

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
            format!("系统维护中,暂停绑卡,预计{local}恢复")
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
