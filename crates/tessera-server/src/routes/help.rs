//! The help center's pages. They are HTML for people, not API: they stay out
//! of the OpenAPI document, and the route test lists them on their own.
//! Language by `?lang=zh|en`, else a former choice's cookie, else
//! `Accept-Language`, else zh-CN (`web::PageLang`).

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use tessera_core::error::ErrorCode;

use crate::http::help;
use crate::state::AppState;
use crate::web::PageLang;

/// `/help`: the FAQ and the list of error codes.
pub async fn index(
    State(state): State<AppState>,
    PageLang { lang, remember }: PageLang,
) -> Response {
    help::index_response(
        lang,
        remember,
        state.config.card_limit,
        state.config.limits.max_wallets_per_card,
    )
}

/// `/help/errors/{code}`: one error code explained.
pub async fn error_code(
    PageLang { lang, remember }: PageLang,
    Path(code): Path<String>,
) -> Response {
    match ErrorCode::parse(&code) {
        Some(code) => help::error_response(code.entry(), lang, remember),
        None => help::unknown_code_response(lang, remember),
    }
}

/// `/help/developers`: codes, statuses and the error body, for integrators.
pub async fn developers(PageLang { lang, remember }: PageLang) -> Response {
    help::developers_response(lang, remember)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/help", get(index))
        .route("/help/developers", get(developers))
        .route("/help/errors", get(index))
        .route("/help/errors/{code}", get(error_code))
}
