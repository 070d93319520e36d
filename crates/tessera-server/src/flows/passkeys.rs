//! Passkeys: a fingerprint or face on the person's device confirms in place
//! of the payment password (WebAuthn through `webauthn-rs`, user
//! verification required). Registering and removing one are security
//! settings, confirmed first. Each ceremony's state waits in the database
//! between its two requests (so any node finishes it), is taken once, and
//! expires after `webauthn.challenge_ttl_secs`.

use chrono::{DateTime, TimeDelta, Utc};
use tessera_core::error::{DomainError, ErrorCode};
use tessera_core::identity::PhoneNumber;
use tessera_core::ids::UserId;
use tessera_core::vault::LookupPurpose;
use tessera_store::{PasskeyRecord, UserRecord, WebauthnChallenge};
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::config::WebauthnConfig;
use crate::flows::verifications::{self, Purpose};
use crate::http::error::{ApiError, internal, rfc3339};
use crate::http::views::{
    PasskeyChallengeView, PasskeyList, PasskeyRequest, PasskeyView, WebauthnAssertion,
};
use crate::state::AppState;
use axum::http::HeaderMap;

const REGISTRATION: &str = "registration";
const AUTHENTICATION: &str = "authentication";

/// The relying party from configuration; an origin not on `rp_id` is refused
/// at start.
pub fn relying_party(config: &WebauthnConfig) -> Result<Webauthn, String> {
    let origin = Url::parse(&config.rp_origin)
        .map_err(|e| format!("webauthn.rp_origin {:?}: {e}", config.rp_origin))?;
    WebauthnBuilder::new(&config.rp_id, &origin)
        .map(|builder| builder.rp_name(&config.rp_name))
        .and_then(WebauthnBuilder::build)
        .map_err(|e| {
            format!(
                "webauthn: rp_id {:?} and rp_origin {:?} do not fit together: {e}",
                config.rp_id, config.rp_origin
            )
        })
}

/// The person as passkeys know them: an opaque handle derived with a
/// keyed hash, never their id or phone.
fn user_handle(state: &AppState, user_id: &UserId) -> Uuid {
    let hash = state.keys.keyed_hash(
        LookupPurpose::SessionToken,
        format!("passkey-user:{user_id}").as_bytes(),
    );
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash[..16]);
    Uuid::from_bytes(bytes)
}

fn refused(param: &'static str) -> ApiError {
    DomainError::new(ErrorCode::VerificationInvalid)
        .with_param(param)
        .into()
}

async fn challenge(
    state: &AppState,
    user_id: &UserId,
    kind: &str,
    ceremony: &impl serde::Serialize,
    options: &impl serde::Serialize,
    now: DateTime<Utc>,
) -> Result<PasskeyChallengeView, ApiError> {
    let ttl = i64::try_from(state.config.webauthn.challenge_ttl_secs).unwrap_or(300);
    let record = WebauthnChallenge {
        id: crate::ids::random_id("wch_", 24),
        user_id: user_id.to_owned(),
        kind: kind.to_owned(),
        state: serde_json::to_string(ceremony).map_err(internal)?,
        expires_at: now + TimeDelta::seconds(ttl),
    };
    state.store.create_webauthn_challenge(&record).await?;
    Ok(PasskeyChallengeView {
        challenge_id: record.id,
        options: serde_json::to_value(options).map_err(internal)?,
        expires_at: rfc3339(record.expires_at),
    })
}

/// The state a challenge left, taken once.
async fn take<T: serde::de::DeserializeOwned>(
    state: &AppState,
    user_id: &UserId,
    id: &str,
    kind: &str,
    now: DateTime<Utc>,
) -> Result<T, ApiError> {
    let kept = state
        .store
        .take_webauthn_challenge(id, user_id, kind, now)
        .await?
        .ok_or_else(|| refused("challenge_id"))?;
    serde_json::from_str(&kept).map_err(|e| internal(e).into())
}

fn stored_passkeys(records: &[PasskeyRecord]) -> Result<Vec<(String, Passkey)>, ApiError> {
    records
        .iter()
        .map(|r| {
            serde_json::from_str::<Passkey>(&r.credential)
                .map(|p| (r.id.clone(), p))
                .map_err(|e| internal(e).into())
        })
        .collect()
}

/// `POST /v1/me/passkeys/registrations`: confirmed first (a security
/// setting); the options for `navigator.credentials.create`.
pub async fn start_registration(
    state: &AppState,
    headers: &HeaderMap,
    user: &UserRecord,
    now: DateTime<Utc>,
) -> Result<PasskeyChallengeView, ApiError> {
    verifications::require(state, headers, &user.id, Purpose::SecuritySettings, "", now).await?;
    let held = stored_passkeys(&state.store.passkeys(&user.id).await?)?;
    let exclude = held.iter().map(|(_, p)| p.cred_id().clone()).collect();
    let shown = PhoneNumber::parse(&user.phone)
        .map(|p| p.masked())
        .unwrap_or_default();
    let (options, ceremony) = state
        .webauthn
        .start_passkey_registration(user_handle(state, &user.id), &shown, &shown, Some(exclude))
        .map_err(internal)?;
    challenge(state, &user.id, REGISTRATION, &ceremony, &options, now).await
}

/// `POST /v1/me/passkeys`: the authenticator's answer to a registration
/// challenge, kept as the person's passkey.
pub async fn finish_registration(
    state: &AppState,
    user_id: &UserId,
    request: &PasskeyRequest,
    now: DateTime<Utc>,
) -> Result<PasskeyView, ApiError> {
    let credential: RegisterPublicKeyCredential =
        serde_json::from_value(request.credential.clone()).map_err(|_| refused("credential"))?;
    let ceremony: PasskeyRegistration =
        take(state, user_id, &request.challenge_id, REGISTRATION, now).await?;
    let passkey = state
        .webauthn
        .finish_passkey_registration(&credential, &ceremony)
        .map_err(|error| {
            tracing::info!(user_id = %user_id, %error, "passkey registration refused");
            refused("credential")
        })?;
    let name = request
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or("passkey")
        .to_owned();
    let record = PasskeyRecord {
        id: crate::ids::random_id("pk_", 20),
        user_id: user_id.to_owned(),
        // base64url, as the authenticator names it.
        credential_id: serde_json::to_value(passkey.cred_id())
            .ok()
            .and_then(|id| id.as_str().map(str::to_owned))
            .ok_or_else(|| refused("credential"))?,
        name,
        credential: serde_json::to_string(&passkey).map_err(internal)?,
        created_at: now,
        last_used_at: None,
    };
    if !state.store.add_passkey(&record).await? {
        return Err(refused("credential"));
    }
    tracing::info!(user_id = %user_id, passkey = %record.id, "passkey registered");
    Ok(PasskeyView::from_record(&record))
}

/// `GET /v1/me/passkeys`.
pub async fn list(state: &AppState, user_id: &UserId) -> Result<PasskeyList, ApiError> {
    Ok(PasskeyList {
        data: state
            .store
            .passkeys(user_id)
            .await?
            .iter()
            .map(PasskeyView::from_record)
            .collect(),
    })
}

/// `DELETE /v1/me/passkeys/{id}`: confirmed first.
pub async fn remove(
    state: &AppState,
    headers: &HeaderMap,
    user_id: &UserId,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if !state
        .store
        .passkeys(user_id)
        .await?
        .iter()
        .any(|p| p.id == id)
    {
        return Err(DomainError::new(ErrorCode::NotFound)
            .with_param("id")
            .into());
    }
    verifications::require(state, headers, user_id, Purpose::SecuritySettings, "", now).await?;
    state.store.remove_passkey(user_id, id).await?;
    tracing::info!(user_id = %user_id, passkey = id, "passkey removed");
    Ok(())
}

/// `POST /v1/me/passkeys/assertions`: the options for
/// `navigator.credentials.get`, over the person's passkeys.
pub async fn start_assertion(
    state: &AppState,
    user_id: &UserId,
    now: DateTime<Utc>,
) -> Result<PasskeyChallengeView, ApiError> {
    let held: Vec<Passkey> = stored_passkeys(&state.store.passkeys(user_id).await?)?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    if held.is_empty() {
        return Err(DomainError::new(ErrorCode::NotFound)
            .with_param("passkey")
            .into());
    }
    let (options, ceremony) = state
        .webauthn
        .start_passkey_authentication(&held)
        .map_err(internal)?;
    challenge(state, user_id, AUTHENTICATION, &ceremony, &options, now).await
}

/// An assertion answering one of the person's challenges, with the person
/// verified on the device: their passkey's counter moves on.
pub async fn confirm(
    state: &AppState,
    user_id: &UserId,
    assertion: &WebauthnAssertion,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let credential: PublicKeyCredential = serde_json::from_value(assertion.credential.clone())
        .map_err(|_| refused("webauthn.credential"))?;
    let ceremony: PasskeyAuthentication =
        take(state, user_id, &assertion.challenge_id, AUTHENTICATION, now).await?;
    let result = state
        .webauthn
        .finish_passkey_authentication(&credential, &ceremony)
        .map_err(|error| {
            tracing::info!(user_id = %user_id, %error, "passkey assertion refused");
            refused("webauthn.credential")
        })?;
    if !result.user_verified() {
        return Err(refused("webauthn.credential"));
    }
    for (id, mut passkey) in stored_passkeys(&state.store.passkeys(user_id).await?)? {
        if passkey.cred_id() == result.cred_id() {
            passkey.update_credential(&result);
            let kept = serde_json::to_string(&passkey).map_err(internal)?;
            state.store.passkey_used(&id, &kept, now).await?;
        }
    }
    Ok(())
}
