//! The server-rendered pages: the web wallet (`/`, `wallet`), the support
//! console (`/support`) and the help center (`/help`). Templates are askama's, in `web/templates`
//! (checked when the binary is built, escaped by default); the stylesheet
//! and script are embedded (`assets`). Every page answers with a strict
//! Content-Security-Policy: nothing inline, nothing from elsewhere.

pub mod assets;
pub mod console;
pub mod console_admin;
pub mod session;
pub mod wallet;
pub mod words;

use askama::Template;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tessera_core::error::{Lang, Text};

use crate::http::views::BilingualView;

/// The cookie that remembers a chosen language, for every page.
pub const LANG_COOKIE: &str = "tessera_lang";

/// What every page's layout (`base.html`) shows around its content: the
/// language, the title, the assets, the language switch and, in the
/// console, who is signed in.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub lang: Lang,
    pub title: String,
    pub stylesheet: String,
    pub scripts: Vec<String>,
    /// The page's own address in the other language.
    pub switch_href: String,
    /// The console's menu and sign-out, when signed in.
    pub signed_in: Option<SignedInChrome>,
    /// The help center's own menu instead of the console's.
    pub help: bool,
    /// The wallet's menu instead of the console's.
    pub wallet: Option<WalletChrome>,
}

/// The wallet's layout: its menu, and sign-out when signed in.
#[derive(Debug, Clone)]
pub struct WalletChrome {
    /// The signed-in person's CSRF token; None when nobody is signed in.
    pub csrf: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SignedInChrome {
    pub holder: String,
    pub operator: bool,
    pub csrf: String,
}

impl Chrome {
    pub fn new(lang: Lang, title: &str, path: &str) -> Chrome {
        Chrome {
            lang,
            title: title.to_owned(),
            stylesheet: format!("/assets/{}", assets::STYLESHEET.served_as),
            scripts: Vec::new(),
            wallet: None,
            switch_href: format!("{path}?lang={}", lang_code(other(lang))),
            signed_in: None,
            help: false,
        }
    }

    /// A word of the catalogue in this page's language.
    pub fn t(&self, text: Text) -> &'static str {
        text.get(self.lang)
    }

    /// Text stored in both languages, in this page's.
    pub fn pick<'a>(&self, text: &'a BilingualView) -> &'a str {
        match self.lang {
            Lang::ZhCn => &text.zh,
            Lang::En => &text.en,
        }
    }

    /// A ticket's status in words.
    pub fn ticket_status<'a>(&self, status: &'a str) -> &'a str {
        match status {
            "open" => self.t(words::STATUS_OPEN),
            "waiting_for_person" => self.t(words::STATUS_WAITING),
            "resolved" => self.t(words::STATUS_RESOLVED),
            other => other,
        }
    }

    pub fn lang_tag(&self) -> &'static str {
        self.lang.tag()
    }

    pub fn other_tag(&self) -> &'static str {
        other(self.lang).tag()
    }

    pub fn lang_code(&self) -> &'static str {
        lang_code(self.lang)
    }
}

fn other(lang: Lang) -> Lang {
    match lang {
        Lang::ZhCn => Lang::En,
        Lang::En => Lang::ZhCn,
    }
}

pub fn lang_code(lang: Lang) -> &'static str {
    match lang {
        Lang::ZhCn => "zh",
        Lang::En => "en",
    }
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The page's language: `?lang=`, then the cookie a former choice left,
/// then `Accept-Language`; zh-CN when none says. Answers whether `?lang=`
/// chose it (the choice is then remembered).
pub fn choose_lang(asked: Option<&str>, headers: &HeaderMap) -> (Lang, bool) {
    if let Some(lang) = asked.and_then(Lang::parse) {
        return (lang, true);
    }
    if let Some(lang) = cookie(headers, LANG_COOKIE).and_then(Lang::parse) {
        return (lang, false);
    }
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    (Lang::from_accept_language(accept), false)
}

/// The policy of every page: its own stylesheet and script, forms and
/// scripts' requests sent only to itself, never framed.
const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
                   connect-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A rendered page with the headers every page carries. `remember` sets the
/// language cookie (a `?lang=` choice).
pub fn page(status: StatusCode, lang: Lang, template: &impl Template, remember: bool) -> Response {
    let body = match template.render() {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "a page did not render");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "internal error",
            )
                .into_response();
        }
    };
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
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Cookie"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Ids in addresses (a person's, a ticket's) never leave for another
    // site; `no-referrer` would also make Chromium send `Origin: null` on
    // this site's own forms, which `session::from_this_site` refuses.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if remember
        && let Ok(value) = HeaderValue::from_str(&format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            lang_code(lang)
        ))
    {
        headers.append(header::SET_COOKIE, value);
    }
    response
}

/// A page request's language (`choose_lang`), and whether `?lang=` chose
/// it.
#[derive(Debug, Clone, Copy)]
pub struct PageLang {
    pub lang: Lang,
    pub remember: bool,
}

impl PageLang {
    pub fn of(parts: &axum::http::request::Parts) -> PageLang {
        let asked = parts.uri.query().and_then(|query| {
            form_urlencoded::parse(query.as_bytes())
                .find(|(name, _)| name == "lang")
                .map(|(_, value)| value.into_owned())
        });
        let (lang, remember) = choose_lang(asked.as_deref(), &parts.headers);
        PageLang { lang, remember }
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PageLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(PageLang::of(parts))
    }
}

/// The wallet's and the console's pages and the assets of every page. HTML for people, not
/// API: left out of the OpenAPI document (the route test lists them).
pub fn router() -> axum::Router<crate::state::AppState> {
    use axum::routing::{get, post};
    wallet::router()
        .route("/assets/{name}", get(assets::serve))
        .route("/support", get(console::home))
        .route("/support/sign-in", post(console::sign_in))
        .route("/support/sign-out", post(console::sign_out))
        .route("/support/people", get(console::people))
        .route("/support/people/{id}", get(console::person))
        .route("/support/diagnosis", get(console::diagnosis))
        .route("/support/tickets", get(console::ticket_list))
        .route(
            "/support/tickets/{id}",
            get(console::ticket).post(console::reply),
        )
        .route("/support/health", get(console_admin::health))
        .route(
            "/support/keys",
            get(console_admin::key_list).post(console_admin::create_key),
        )
        .route("/support/keys/{id}/revoke", post(console_admin::revoke_key))
        .route(
            "/support/maintenance",
            get(console_admin::maintenance_status).post(console_admin::switch_maintenance),
        )
}
