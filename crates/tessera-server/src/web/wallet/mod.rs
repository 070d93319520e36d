//! The web wallet at `/`: the person's own pages, server-rendered like the
//! support console, on the JSON API (`api`). Signing in here starts the
//! same session the app's sign-in starts; the browser keeps its token in
//! an `HttpOnly`, `SameSite=Strict` cookie that scripts cannot read, and
//! every form carries a CSRF token derived from it (a keyed hash, so
//! nothing more is stored). A POST must also come from this site
//! (`session::from_this_site`, the console's check).

pub mod account;
pub mod api;
pub mod cards;
pub mod checkout;
pub mod close;
pub mod confirm;
pub mod freeze;
pub mod home;
pub mod passkeys;
pub mod records;
pub mod safety;
pub mod support;
pub mod transfers;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use tessera_core::crypto::constant_time_eq;
use tessera_core::error::Lang;
use tessera_core::vault::LookupPurpose;
use tessera_store::UserRecord;

use crate::http::auth::{SESSION_PREFIX, hash_bearer};
use crate::state::AppState;
use crate::web::{self, Chrome, PageLang, assets, session::from_this_site, words as w};
pub use api::{Answer, Api, Call, Origin, Refusal};

/// The cookie holding the person's session token.
pub const COOKIE: &str = "tessera_wallet";

/// The `Set-Cookie` of a session token, or (`clear`) the one that removes
/// it. No `Max-Age`: the server's session decides when it ends.
pub fn cookie(state: &AppState, token: &str, clear: bool) -> HeaderValue {
    let secure = if state.config.listener.tls_cert.is_some() {
        "; Secure"
    } else {
        ""
    };
    let max_age = if clear { "; Max-Age=0" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}{max_age}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("tessera_wallet=; Path=/; Max-Age=0"))
}

/// The CSRF token of a session: a keyed hash of its token, under a label
/// of its own so that it never equals the stored hash.
fn csrf_of(state: &AppState, token: &str) -> String {
    let mut labelled = String::with_capacity(token.len() + 5);
    labelled.push_str("csrf\0");
    labelled.push_str(token);
    hash_bearer(&state.keys, LookupPurpose::SessionToken, &labelled)[..32].to_owned()
}

/// A signed-in person, from their cookie.
#[derive(Debug, Clone)]
pub struct Person {
    pub token: String,
    pub user: UserRecord,
    pub csrf: String,
}

/// Any wallet page's request: its language, what its API calls carry,
/// the API, and the person if signed in.
#[derive(Debug, Clone)]
pub struct Visit {
    pub lang: Lang,
    /// The language was chosen by `?lang=` (remembered in a cookie).
    pub remember: bool,
    pub origin: Origin,
    pub api: Api,
    pub person: Option<Person>,
    /// A cookie was sent that no longer opens a session.
    pub ended: bool,
    /// The request's path and query, to come back to after signing in.
    pub here: String,
    /// The wallet's time zone: every time a person reads is in it.
    pub time_zone: chrono_tz::Tz,
}

impl Visit {
    /// The layout of a wallet page: the wallet's menu, and sign-out when
    /// signed in.
    pub fn chrome(&self, title: &str) -> Chrome {
        let path = self.here.split('?').next().unwrap_or("/");
        let mut chrome = Chrome::new(self.lang, title, path);
        chrome.scripts = vec![format!("/assets/{}", assets::WALLET_SCRIPT.served_as)];
        chrome.wallet = Some(web::WalletChrome {
            csrf: self.person.as_ref().map(|p| p.csrf.clone()),
        });
        chrome
    }

    /// The person's token, for API calls made for them.
    pub fn token(&self) -> &str {
        self.person.as_ref().map_or("", |p| p.token.as_str())
    }

    /// An API time (RFC 3339) as a person reads it, in the wallet's time
    /// zone: `2026-12-07 21:45`. Anything else is shown as it came.
    pub fn when(&self, rfc3339: &str) -> String {
        chrono::DateTime::parse_from_rfc3339(rfc3339).map_or_else(
            |_| rfc3339.to_owned(),
            |at| {
                at.with_timezone(&self.time_zone)
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            },
        )
    }

    pub fn t(&self, text: tessera_core::error::Text) -> &'static str {
        text.get(self.lang)
    }

    /// Sends an API request (`Api::send`).
    pub async fn send(&self, call: Call<'_>) -> Answer {
        self.api.send(&self.origin, call).await
    }

    /// Sends an API request and reads its answer (`Api::read`).
    pub async fn read<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T, Refusal> {
        self.api.read(&self.origin, call).await
    }

    /// A page of this visit: its headers, and the language cookie when
    /// `?lang=` chose it.
    pub fn page(&self, status: StatusCode, template: &impl askama::Template) -> Response {
        web::page(status, self.lang, template, self.remember)
    }

    /// The sign-in page, to come back here after.
    pub fn to_sign_in(&self) -> Response {
        let next = form_urlencoded::Serializer::new(String::new())
            .append_pair("next", &self.here)
            .finish();
        let ended = if self.ended { "&ended=1" } else { "" };
        let mut response = Redirect::to(&format!("/sign-in?{next}{ended}")).into_response();
        if self.ended {
            response.headers_mut().insert(
                header::SET_COOKIE,
                HeaderValue::from_static("tessera_wallet=; Path=/; Max-Age=0"),
            );
        }
        response
    }
}

/// Only this site's own paths are places to go after signing in.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(next) if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') => {
            next.to_owned()
        }
        _ => "/".to_owned(),
    }
}

impl FromRequestParts<AppState> for Visit {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let PageLang { lang, remember } = PageLang::of(parts);
        let api = parts.extensions.get::<Api>().cloned().ok_or_else(|| {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the wallet is not set up",
            )
                .into_response()
        })?;
        let origin = Origin::of(parts, lang);
        let here = parts
            .uri
            .path_and_query()
            .map_or("/".to_owned(), |pq| pq.as_str().to_owned());
        let token = web::cookie(&parts.headers, COOKIE).filter(|t| t.starts_with(SESSION_PREFIX));
        let mut person = None;
        if let Some(token) = token {
            let hash = hash_bearer(&state.keys, LookupPurpose::SessionToken, token);
            match state.sessions.user(state, &hash, state.now()).await {
                Ok(Some(user)) => {
                    person = Some(Person {
                        token: token.to_owned(),
                        csrf: csrf_of(state, token),
                        user,
                    });
                }
                Ok(None) => {}
                Err(error) => {
                    let refusal = Refusal::local(&error.0, lang, origin.trace_id());
                    let visit = Visit {
                        lang,
                        remember,
                        origin,
                        api,
                        person: None,
                        ended: false,
                        here,
                        time_zone: state.time_zone,
                    };
                    return Err(account::failure_page(&visit, &refusal));
                }
            }
        }
        let ended =
            web::cookie(&parts.headers, COOKIE).is_some_and(|t| !t.is_empty()) && person.is_none();
        Ok(Visit {
            lang,
            remember,
            origin,
            api,
            person,
            ended,
            here,
            time_zone: state.time_zone,
        })
    }
}

/// A signed-in person's page request; anyone else is sent to sign in.
#[derive(Debug, Clone)]
pub struct Wallet {
    pub visit: Visit,
    pub person: Person,
}

impl std::ops::Deref for Wallet {
    type Target = Visit;
    fn deref(&self) -> &Visit {
        &self.visit
    }
}

impl FromRequestParts<AppState> for Wallet {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let visit = Visit::from_request_parts(parts, state).await?;
        match visit.person.clone() {
            Some(person) => Ok(Wallet { visit, person }),
            None => Err(visit.to_sign_in()),
        }
    }
}

/// A form sent to a wallet page: from this site, with the session's CSRF
/// token when signed in (`csrf`), parsed into `T`. Anything else is
/// refused with nothing changed.
#[derive(Debug)]
pub struct Posted<T> {
    pub visit: Visit,
    pub form: T,
}

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Posted<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let visit = Visit::from_request_parts(&mut parts, state).await?;
        let refused = |visit: &Visit| {
            account::message_page(
                visit,
                StatusCode::FORBIDDEN,
                w::REFUSED_TITLE,
                visit.t(w::WALLET_FORM_REFUSED).to_owned(),
            )
        };
        if parts.method != Method::POST || !from_this_site(&parts.headers) {
            return Err(refused(&visit));
        }
        let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
            return Err(refused(&visit));
        };
        if let Some(person) = &visit.person {
            let sent: CsrfField = serde_urlencoded::from_bytes(&bytes).unwrap_or(CsrfField {
                csrf: String::new(),
            });
            if !constant_time_eq(sent.csrf.as_bytes(), person.csrf.as_bytes()) {
                return Err(refused(&visit));
            }
        } else if visit.ended {
            return Err(visit.to_sign_in());
        }
        let Ok(form) = serde_urlencoded::from_bytes::<T>(&bytes) else {
            return Err(refused(&visit));
        };
        Ok(Posted { visit, form })
    }
}

/// A signed-in person's form: `Posted`, and to sign in first otherwise.
#[derive(Debug)]
pub struct WalletForm<T> {
    pub wallet: Wallet,
    pub form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for WalletForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let Posted { visit, form } = Posted::<T>::from_request(request, state).await?;
        match visit.person.clone() {
            Some(person) => Ok(WalletForm {
                wallet: Wallet { visit, person },
                form,
            }),
            None => Err(visit.to_sign_in()),
        }
    }
}

/// A fresh key for a form that changes something: sent back with the
/// form, it makes a retry of the same submission answer as the first.
pub fn form_key() -> String {
    crate::ids::random_id("web_", 24)
}

/// The wallet's pages. HTML for people, not API: left out of the OpenAPI
/// document (the route test lists them).
pub fn router() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/", get(home::home))
        .route(
            "/sign-in",
            get(account::sign_in_page).post(account::sign_in),
        )
        .route("/sign-out", post(account::sign_out))
        .route(
            "/sign-up",
            get(account::sign_up_page).post(account::sign_up),
        )
        .route(
            "/forgot-password",
            get(account::forgot_page).post(account::forgot),
        )
        .route("/attempts", get(support::attempts))
        .route("/tickets", get(support::tickets))
        .route(
            "/tickets/new",
            get(support::contact_page_for).post(support::contact),
        )
        .route("/tickets/{id}", get(support::ticket).post(support::reply))
        .route("/cards/new", get(cards::add_page).post(cards::add))
        .route("/cards/bin/{first6}", get(cards::bin))
        .route("/cards/{id}", get(cards::card_page))
        .route("/cards/{id}/verify", post(cards::verify))
        .route("/cards/{id}/otp", post(cards::resend))
        .route("/cards/{id}/default", post(cards::make_default))
        .route("/cards/{id}/unbind", post(cards::unbind))
        .route("/safety", get(safety::overview))
        .route(
            "/safety/payment-password",
            get(safety::password_form).post(safety::set_password),
        )
        .route(
            "/safety/payment-password/forgot",
            get(safety::forgot_form).post(safety::forgot),
        )
        .route(
            "/safety/limits",
            get(safety::limits_form).post(safety::set_limits),
        )
        .route(
            "/safety/freeze",
            get(freeze::freeze_form).post(freeze::freeze),
        )
        .route("/safety/unfreeze", post(freeze::unfreeze))
        .route("/safety/close", get(close::close_form).post(close::close))
        .route("/safety/passkeys", get(passkeys::list).post(passkeys::add))
        .route(
            "/safety/passkeys/registrations",
            post(passkeys::start_registration),
        )
        .route(
            "/safety/passkeys/assertions",
            post(passkeys::start_assertion),
        )
        .route(
            "/safety/passkeys/{id}/remove",
            get(passkeys::remove_form).post(passkeys::remove),
        )
        .route("/records", get(records::records))
        .route("/records.csv", get(records::records_csv))
        .route(
            "/records/{payment}/report",
            get(records::report_page).post(records::report),
        )
        .route("/transfers", get(transfers::transfers))
        .route(
            "/transfers/new",
            get(transfers::new_page).post(transfers::transfer),
        )
        .route("/transfers/{id}", get(transfers::transfer_page))
        .route("/demo/checkout", get(checkout::shop))
        .route(
            "/demo/checkout/pay",
            get(checkout::pay_form).post(checkout::pay),
        )
        .route("/demo/checkout/paid/{id}", get(checkout::paid))
}
