//! The support console's sign-in: a support or operator API key, typed
//! once into the sign-in form, starts a server-side session. The browser
//! holds only the session's random id, in an `HttpOnly`, `SameSite=Strict`
//! cookie scoped to `/support`; the store keeps its keyed hash. Every
//! request re-reads the session and its key, so a revoked key ends its
//! sessions at once. Every form carries the session's CSRF secret, and a
//! POST must come from this console (`Origin`, `Sec-Fetch-Site`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, TimeDelta, Utc};
use tessera_core::crypto::constant_time_eq;
use tessera_core::vault::LookupPurpose;
use tessera_store::ConsoleSessionRecord;

use crate::flows::audit::{self, Actor};
use crate::http::auth::{Caller, Role, hash_bearer, live_key_caller};
use crate::http::error::ApiError;
use crate::ids;
use crate::state::AppState;
use crate::web::{self, Chrome, SignedInChrome, words as w};

/// The cookie holding the session's id.
pub const COOKIE: &str = "tessera_console";
/// A session unused this long has ended.
pub const IDLE: TimeDelta = TimeDelta::minutes(30);
/// However busy, a session ends this long after its sign-in.
pub const LIFETIME: TimeDelta = TimeDelta::hours(12);

/// The roles that may use the console.
const CONSOLE_ROLES: [Role; 2] = [Role::Support, Role::Operator];

/// A request of a signed-in console user.
#[derive(Debug, Clone)]
pub struct Console {
    pub caller: Caller,
    pub role: Role,
    pub key_id: String,
    pub holder: String,
    csrf: String,
    id_hash: String,
}

impl Console {
    pub fn is_operator(&self) -> bool {
        self.role == Role::Operator
    }

    /// The layout of a console page, with the menu and the sign-out form.
    pub fn chrome(&self, lang: tessera_core::error::Lang, title: &str, path: &str) -> Chrome {
        let mut chrome = Chrome::new(lang, title, path);
        chrome.scripts = vec![format!("/assets/{}", web::assets::SCRIPT.served_as)];
        chrome.signed_in = Some(SignedInChrome {
            holder: if self.holder.is_empty() {
                self.key_id.clone()
            } else {
                self.holder.clone()
            },
            operator: self.is_operator(),
            csrf: self.csrf.clone(),
        });
        chrome
    }

    /// Whether a form's CSRF token is the one issued at this sign-in.
    pub fn csrf_matches(&self, sent: &str) -> bool {
        constant_time_eq(sent.as_bytes(), self.csrf.as_bytes())
    }

    /// Ends this console sign-in (sign-out): its cookie opens nothing more.
    pub async fn end(&self, state: &AppState) -> Result<(), ApiError> {
        state.store.end_console_session(&self.id_hash).await?;
        Ok(())
    }
}

fn id_hash(state: &AppState, id: &str) -> String {
    hash_bearer(&state.keys, LookupPurpose::SessionToken, id)
}

/// Signs in with `key`: a new session and the cookie that carries it, or
/// None when the key is unknown, revoked, or neither support's nor an
/// operator's.
pub async fn sign_in(
    state: &AppState,
    key: &str,
    trace_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<HeaderValue>, ApiError> {
    let key_hash = hash_bearer(&state.keys, LookupPurpose::ApiKey, key.trim());
    let Some(caller) = live_key_caller(state, &key_hash).await? else {
        return Ok(None);
    };
    let Caller::Key { key_id, .. } = &caller else {
        return Ok(None);
    };
    if caller.require_role(&CONSOLE_ROLES).is_err() {
        return Ok(None);
    }
    let id = ids::bearer_secret("tcs_");
    state
        .store
        .create_console_session(&ConsoleSessionRecord {
            id_hash: id_hash(state, &id),
            key_id: key_id.clone(),
            key_hash,
            csrf_secret: ids::random_id("", 32),
            created_at: now,
            last_seen_at: now,
            expires_at: now + LIFETIME,
        })
        .await?;
    tracing::info!(key_id = %key_id, "signed in to the support console");
    Actor::caller(&caller, trace_id)
        .record(state, audit::CONSOLE_SIGNED_IN, None, None)
        .await?;
    Ok(Some(cookie(state, &id, false)))
}

/// The `Set-Cookie` of a session id, or (`clear`) the one that removes it.
pub fn cookie(state: &AppState, id: &str, clear: bool) -> HeaderValue {
    let secure = if state.config.listener.tls_cert.is_some() {
        "; Secure"
    } else {
        ""
    };
    let max_age = if clear { "; Max-Age=0" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={id}; Path=/support; HttpOnly; SameSite=Strict{secure}{max_age}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("tessera_console=; Path=/support; Max-Age=0"))
}

/// The session of a request's cookie, if it is live: not idle too long,
/// not past its end, its key not revoked. An ended session is deleted.
pub async fn current(
    state: &AppState,
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> Result<Option<Console>, ApiError> {
    let Some(id) = web::cookie(headers, COOKIE).filter(|id| !id.is_empty()) else {
        return Ok(None);
    };
    let hash = id_hash(state, id);
    let Some(session) = state.store.console_session(&hash).await? else {
        return Ok(None);
    };
    let live = if now >= session.expires_at || now - session.last_seen_at >= IDLE {
        None
    } else {
        live_key_caller(state, &session.key_hash).await?
    };
    let key = live.as_ref().and_then(|caller| match caller {
        Caller::Key {
            key_id,
            role,
            holder,
            ..
        } if CONSOLE_ROLES.contains(role) => Some((key_id.clone(), *role, holder.clone())),
        _ => None,
    });
    let (Some(caller), Some((key_id, role, holder))) = (live, key) else {
        state.store.end_console_session(&hash).await?;
        return Ok(None);
    };
    state.store.touch_console_session(&hash, now).await?;
    Ok(Some(Console {
        caller,
        role,
        key_id,
        holder,
        csrf: session.csrf_secret,
        id_hash: hash,
    }))
}

/// Whether a POST comes from a page of this console: a browser says so
/// with `Sec-Fetch-Site` and `Origin`; a request from another site (or a
/// sandboxed frame's `null` origin) is refused. Clients that send neither
/// still need the form's CSRF token.
pub fn from_this_site(headers: &HeaderMap) -> bool {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if fetch_site.is_some_and(|site| site != "same-origin" && site != "none") {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|origin| origin.split_once("://"))
        .map(|(_, host)| host);
    matches!((origin_host, host), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b))
}

/// The page that refuses a form: 403, nothing changed.
pub fn refused(lang: tessera_core::error::Lang, console: Option<&Console>) -> Response {
    let chrome = match console {
        Some(console) => console.chrome(lang, w::REFUSED_TITLE.get(lang), "/support"),
        None => Chrome::new(lang, w::REFUSED_TITLE.get(lang), "/support"),
    };
    web::console::message(
        StatusCode::FORBIDDEN,
        chrome,
        w::REFUSED_TITLE,
        w::REFUSED_FORM.get(lang).to_owned(),
    )
}

/// Why a console request was turned away before its handler ran.
#[derive(Debug)]
pub struct NotSignedIn(Response);

impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        self.0
    }
}

impl FromRequestParts<AppState> for Console {
    type Rejection = NotSignedIn;

    /// A live session, else the sign-in page (saying the session ended when
    /// a cookie was sent); a POST from elsewhere is refused first.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let lang = web::PageLang::of(parts).lang;
        if parts.method == Method::POST && !from_this_site(&parts.headers) {
            return Err(NotSignedIn(refused(lang, None)));
        }
        match current(state, &parts.headers, state.now()).await {
            Ok(Some(console)) => Ok(console),
            Ok(None) => {
                let had_cookie = web::cookie(&parts.headers, COOKIE).is_some();
                let to = if had_cookie {
                    "/support?ended=1"
                } else {
                    "/support"
                };
                let mut response = Redirect::to(to).into_response();
                if had_cookie {
                    response
                        .headers_mut()
                        .insert(header::SET_COOKIE, cookie(state, "", true));
                }
                Err(NotSignedIn(response))
            }
            Err(error) => Err(NotSignedIn(web::console::failure(
                Chrome::new(lang, w::SOMETHING_WRONG.get(lang), "/support"),
                &error,
            ))),
        }
    }
}
