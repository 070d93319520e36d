//! The console's pages over everyone rather than one person: binding
//! health with incidents and breakers, and, for operators, API keys and the
//! maintenance window. Each calls the flow of its JSON route.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::TimeDelta;
use serde::Deserialize;
use tessera_core::error::{DomainError, ErrorCode, Lang};

use crate::flows::audit::Actor;
use crate::flows::binding_stats::{self, HealthReport};
use crate::flows::{keys, maintenance};
use crate::http::error::{ApiError, rfc3339};
use crate::http::extract::Ctx;
use crate::http::fields::Fields;
use crate::http::views::{
    ApiKeyList, CreateKeyRequest, CreatedKeyView, MaintenanceStatus, MaintenanceWindow,
};
use crate::state::AppState;
use crate::web::console::{failure, message};
use crate::web::session::{self, Console};
use crate::web::{Chrome, PageLang, page, words as w};

/// `0.973` as `97.3%`; a dash without attempts.
fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "–".to_owned(), |rate| format!("{:.1}%", rate * 100.0))
}

#[derive(Template)]
#[template(path = "console/health.html")]
struct HealthPage {
    chrome: Chrome,
    report: HealthReport,
}

impl HealthPage {
    fn percent(&self, rate: &Option<f64>) -> String {
        percent(*rate)
    }
}

/// `GET /support/health`: binding health over 5 minutes, an hour and a
/// day, per issuer with its breaker, and the open incidents.
pub async fn health(
    State(state): State<AppState>,
    console: Console,
    ctx: Ctx,
    PageLang { lang, remember }: PageLang,
) -> Response {
    let chrome = console.chrome(lang, w::HEALTH.get(lang), "/support/health");
    match binding_stats::current(&state, ctx.now, lang).await {
        Ok(report) => page(
            StatusCode::OK,
            lang,
            &HealthPage { chrome, report },
            remember,
        ),
        Err(error) => failure(chrome, &error),
    }
}

/// Operators only: None for an operator, else the refusal to answer.
fn refuse_unless_operator(console: &Console, chrome: &Chrome) -> Option<Response> {
    if console.is_operator() {
        return None;
    }
    Some(message(
        StatusCode::FORBIDDEN,
        chrome.clone(),
        w::REFUSED_TITLE,
        w::NOT_YOURS.get(chrome.lang).to_owned(),
    ))
}

#[derive(Template)]
#[template(path = "console/keys.html")]
struct KeysPage {
    chrome: Chrome,
    keys: ApiKeyList,
    created: Option<CreatedKeyView>,
    problem: Option<String>,
}

async fn keys_page(
    state: &AppState,
    chrome: Chrome,
    status: StatusCode,
    created: Option<CreatedKeyView>,
    problem: Option<String>,
) -> Response {
    let lang = chrome.lang;
    match keys::list(state).await {
        Ok(keys) => page(
            status,
            lang,
            &KeysPage {
                chrome,
                keys,
                created,
                problem,
            },
            false,
        ),
        Err(error) => failure(chrome, &error),
    }
}

/// `GET /support/keys`: every API key, and the form to make one.
pub async fn key_list(
    State(state): State<AppState>,
    console: Console,
    PageLang { lang, .. }: PageLang,
) -> Response {
    let chrome = console.chrome(lang, w::KEYS.get(lang), "/support/keys");
    if let Some(refused) = refuse_unless_operator(&console, &chrome) {
        return refused;
    }
    keys_page(&state, chrome, StatusCode::OK, None, None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct KeyForm {
    csrf: String,
    role: String,
    holder: String,
    label: String,
    scope: String,
}

fn said(error: &ApiError, lang: Lang) -> String {
    format!("{} {}", error.0.message(lang), error.0.remedy(lang))
}

/// `POST /support/keys`: a support, merchant or issuer key, made as
/// `POST /v1/admin/keys` makes it; shown once, on this answer only.
pub async fn create_key(
    State(state): State<AppState>,
    console: Console,
    ctx: Ctx,
    PageLang { lang, .. }: PageLang,
    Form(form): Form<KeyForm>,
) -> Response {
    let chrome = console.chrome(lang, w::KEYS.get(lang), "/support/keys");
    if let Some(refused) = refuse_unless_operator(&console, &chrome) {
        return refused;
    }
    if !console.csrf_matches(&form.csrf) {
        return session::refused(lang, Some(&console));
    }
    let scope: Vec<String> = form
        .scope
        .split([',', '，', ' '])
        .map(str::trim)
        .filter(|owner| !owner.is_empty())
        .map(str::to_owned)
        .collect();
    let role = form.role.trim();
    let request = CreateKeyRequest {
        role: role.to_owned(),
        issuers: if role == "issuer" {
            scope.clone()
        } else {
            Vec::new()
        },
        merchants: if role == "merchant" {
            scope
        } else {
            Vec::new()
        },
        holder: form.holder,
        label: form.label,
    };
    let created = match request.check_fields(&state.config.limits) {
        Ok(()) => {
            keys::create_over_http(
                &state,
                &request,
                Actor::caller(&console.caller, &ctx.trace_id),
            )
            .await
        }
        Err(error) => Err(ApiError::from(error)),
    };
    match created {
        Ok(created) => keys_page(&state, chrome, StatusCode::CREATED, Some(created), None).await,
        Err(error) => {
            let status = crate::http::error::status_of(&error.0);
            keys_page(&state, chrome, status, None, Some(said(&error, lang))).await
        }
    }
}

/// `POST /support/keys/{id}/revoke`: the key stops working at once, its
/// console sessions too.
pub async fn revoke_key(
    State(state): State<AppState>,
    console: Console,
    ctx: Ctx,
    PageLang { lang, .. }: PageLang,
    Path(id): Path<String>,
    Form(form): Form<KeyForm>,
) -> Response {
    let chrome = console.chrome(lang, w::KEYS.get(lang), "/support/keys");
    if let Some(refused) = refuse_unless_operator(&console, &chrome) {
        return refused;
    }
    if !console.csrf_matches(&form.csrf) {
        return session::refused(lang, Some(&console));
    }
    let by = Actor::caller(&console.caller, &ctx.trace_id);
    match keys::revoke(&state, &id, by, ctx.now).await {
        Ok(_) => Redirect::to("/support/keys").into_response(),
        Err(error) => failure(chrome, &error),
    }
}

#[derive(Template)]
#[template(path = "console/maintenance.html")]
struct MaintenancePage {
    chrome: Chrome,
    status: MaintenanceStatus,
    problem: Option<String>,
}

async fn maintenance_page(
    state: &AppState,
    chrome: Chrome,
    status: StatusCode,
    problem: Option<String>,
) -> Response {
    let lang = chrome.lang;
    match maintenance::status(state, state.now()).await {
        Ok(window) => page(
            status,
            lang,
            &MaintenancePage {
                chrome,
                status: window,
                problem,
            },
            false,
        ),
        Err(error) => failure(chrome, &error),
    }
}

/// `GET /support/maintenance`: the window in force, and the switch.
pub async fn maintenance_status(
    State(state): State<AppState>,
    console: Console,
    PageLang { lang, .. }: PageLang,
) -> Response {
    let chrome = console.chrome(lang, w::MAINTENANCE.get(lang), "/support/maintenance");
    if let Some(refused) = refuse_unless_operator(&console, &chrome) {
        return refused;
    }
    maintenance_page(&state, chrome, StatusCode::OK, None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MaintenanceForm {
    csrf: String,
    /// `start` or `end`.
    action: String,
    minutes: String,
    message_zh: String,
    message_en: String,
}

/// `POST /support/maintenance`: starts a window of so many minutes with
/// its notices, or ends the one in force, as `PUT`/`DELETE
/// /v1/admin/maintenance` do.
pub async fn switch_maintenance(
    State(state): State<AppState>,
    console: Console,
    ctx: Ctx,
    PageLang { lang, .. }: PageLang,
    Form(form): Form<MaintenanceForm>,
) -> Response {
    let chrome = console.chrome(lang, w::MAINTENANCE.get(lang), "/support/maintenance");
    if let Some(refused) = refuse_unless_operator(&console, &chrome) {
        return refused;
    }
    if !console.csrf_matches(&form.csrf) {
        return session::refused(lang, Some(&console));
    }
    let switched = if form.action == "end" {
        maintenance::end(&state, Actor::caller(&console.caller, &ctx.trace_id)).await
    } else {
        match form.minutes.trim().parse::<i64>() {
            Ok(minutes @ 1..=10_080) => {
                let window = MaintenanceWindow {
                    until: rfc3339(ctx.now + TimeDelta::minutes(minutes)),
                    message_zh: form.message_zh,
                    message_en: form.message_en,
                };
                match window.check_fields(&state.config.limits) {
                    Ok(()) => {
                        let by = Actor::caller(&console.caller, &ctx.trace_id);
                        maintenance::start(&state, &window, by, ctx.now).await
                    }
                    Err(error) => Err(ApiError::from(error)),
                }
            }
            _ => Err(DomainError::new(ErrorCode::InvalidRequest)
                .with_param("minutes")
                .into()),
        }
    };
    match switched {
        Ok(_) => Redirect::to("/support/maintenance").into_response(),
        Err(error) => {
            let status = crate::http::error::status_of(&error.0);
            maintenance_page(&state, chrome, status, Some(said(&error, lang))).await
        }
    }
}
