//! The help center's pages. They are HTML for people, not API: they stay out
//! of the OpenAPI document, and the route test lists them on their own.
//! Language by `?lang=zh|en`, else `Accept-Language`, else zh-CN.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use tessera_core::error::{ErrorCode, Lang};

use crate::http::help;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct HelpQuery {
    pub lang: Option<String>,
}

fn lang_of(query: &HelpQuery, headers: &HeaderMap) -> Lang {
    query
        .lang
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or_else(|| {
            Lang::from_accept_language(
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok()),
            )
        })
}

fn html(status: StatusCode, lang: Lang, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.tag()),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    response
}

/// `/help`: the FAQ and the list of error codes.
pub async fn index(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HelpQuery>,
) -> Response {
    let lang = lang_of(&query, &headers);
    html(
        StatusCode::OK,
        lang,
        help::index_page(
            lang,
            state.config.card_limit,
            state.config.limits.max_wallets_per_card,
        ),
    )
}

/// `/help/errors/{code}`: one error code explained.
pub async fn error_code(
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(query): Query<HelpQuery>,
) -> Response {
    let lang = lang_of(&query, &headers);
    match ErrorCode::parse(&code) {
        Some(code) => html(StatusCode::OK, lang, help::error_page(code.entry(), lang)),
        None => html(StatusCode::NOT_FOUND, lang, help::unknown_code_page(lang)),
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/help", get(index))
        .route("/help/errors", get(index))
        .route("/help/errors/{code}", get(error_code))
}
