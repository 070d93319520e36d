//! The wallet's pages are a client of the JSON API, in the same process:
//! each form becomes the API request the app would send, with the person's
//! bearer token, their language and, for anything that changes money or
//! cards, the form's own `Idempotency-Key`. Every rule, limit, idempotent
//! replay and error is then the API's by construction; the pages only
//! render its answers.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use axum::response::Response;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tessera_core::error::Lang;
use tower::ServiceExt;
use tower_http::request_id::RequestId;

/// The API's routes, without the layers a request from outside crosses
/// (the page's own request has crossed them already).
#[derive(Clone)]
pub struct Api {
    router: Router,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Api")
    }
}

impl Api {
    pub fn new(router: Router) -> Api {
        Api { router }
    }
}

/// What a page request hands on to its API calls: who sent it, in which
/// language, under which trace id.
#[derive(Debug, Clone)]
pub struct Origin {
    pub lang: Lang,
    request_id: Option<RequestId>,
    peer: Option<ConnectInfo<std::net::SocketAddr>>,
    user_agent: Option<HeaderValue>,
    forwarded_for: Option<HeaderValue>,
}

impl Origin {
    pub fn of(parts: &Parts, lang: Lang) -> Origin {
        Origin {
            lang,
            request_id: parts.extensions.get::<RequestId>().cloned(),
            peer: parts
                .extensions
                .get::<ConnectInfo<std::net::SocketAddr>>()
                .cloned(),
            user_agent: parts.headers.get(header::USER_AGENT).cloned(),
            forwarded_for: parts.headers.get("x-forwarded-for").cloned(),
        }
    }

    /// The page request's trace id: the one its API calls record.
    pub fn trace_id(&self) -> &str {
        self.request_id
            .as_ref()
            .and_then(|id| id.header_value().to_str().ok())
            .unwrap_or("")
    }
}

/// The API's refusal, as its error envelope says it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Refusal {
    #[serde(skip)]
    pub status: u16,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub remedy: String,
    /// The field it concerns, when one does.
    #[serde(default)]
    pub param: Option<String>,
    #[serde(default)]
    pub trace_id: String,
    /// The help center's page about it.
    #[serde(default)]
    pub doc_url: String,
    #[serde(default)]
    pub retryable: bool,
    #[serde(default)]
    pub attempts_left: Option<u32>,
    #[serde(default)]
    pub retry_after: Option<u64>,
    #[serde(default)]
    pub locked_until: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub decline_code: Option<String>,
    /// The whole envelope, for what a page needs beyond the above
    /// (`next_action`, `suspended_by`).
    #[serde(skip)]
    pub body: Value,
}

impl Refusal {
    /// Whether it concerns the form field `name`.
    pub fn is_about(&self, name: &str) -> bool {
        self.param.as_deref() == Some(name)
    }

    /// The help page's address in the page's language.
    pub fn help_href(&self, chrome: &crate::web::Chrome) -> String {
        format!("{}?lang={}", self.doc_url, chrome.lang_code())
    }

    /// A refusal the page makes itself, before asking the API (a field the
    /// form left empty), worded by the API's catalogue entry for `code`.
    pub fn local(error: &tessera_core::error::DomainError, lang: Lang, trace_id: &str) -> Refusal {
        let body = crate::http::error::error_body(error, lang, trace_id)
            .get("error")
            .cloned()
            .unwrap_or(Value::Null);
        let mut refusal: Refusal = serde_json::from_value(body.clone()).unwrap_or_default();
        refusal.status = crate::http::error::status_of(error).as_u16();
        refusal.body = body;
        refusal
    }
}

/// One API request a page sends.
#[derive(Debug)]
pub struct Call<'a> {
    method: Method,
    path: String,
    token: Option<&'a str>,
    body: Option<Vec<u8>>,
    idempotency_key: Option<&'a str>,
    headers: Vec<(&'static str, String)>,
}

impl<'a> Call<'a> {
    pub fn new(method: Method, path: impl Into<String>) -> Call<'a> {
        Call {
            method,
            path: path.into(),
            token: None,
            body: None,
            idempotency_key: None,
            headers: Vec::new(),
        }
    }

    pub fn get(path: impl Into<String>) -> Call<'a> {
        Call::new(Method::GET, path)
    }

    pub fn post(path: impl Into<String>) -> Call<'a> {
        Call::new(Method::POST, path)
    }

    /// As the signed-in person.
    pub fn token(mut self, token: &'a str) -> Call<'a> {
        self.token = Some(token);
        self
    }

    pub fn json(mut self, body: &impl Serialize) -> Call<'a> {
        self.body = serde_json::to_vec(body).ok();
        self
    }

    /// The form's own key: a retry of the same submission is answered with
    /// the first answer, never done twice.
    pub fn idempotency_key(mut self, key: &'a str) -> Call<'a> {
        self.idempotency_key = Some(key).filter(|key| !key.is_empty());
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Call<'a> {
        self.headers.push((name, value.into()));
        self
    }
}

/// What the API answered: its status and JSON body, or its refusal.
pub type Answer = Result<(StatusCode, Value), Refusal>;

impl Api {
    /// The request `call` makes, as the page's own request hands it on.
    fn request(origin: &Origin, call: Call<'_>) -> Option<Request<Body>> {
        let mut request = Request::builder().method(call.method).uri(&call.path);
        let lang = origin.lang.tag();
        request = request.header(header::ACCEPT_LANGUAGE, lang);
        if let Some(token) = call.token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(key) = call.idempotency_key {
            request = request.header("idempotency-key", key);
        }
        if let Some(agent) = &origin.user_agent {
            request = request.header(header::USER_AGENT, agent.clone());
        }
        if let Some(forwarded) = &origin.forwarded_for {
            request = request.header("x-forwarded-for", forwarded.clone());
        }
        for (name, value) in &call.headers {
            request = request.header(*name, value.as_str());
        }
        let body = match call.body {
            Some(body) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(body)
            }
            None => Body::empty(),
        };
        let mut request = request.body(body).ok()?;
        if let Some(id) = &origin.request_id {
            request.extensions_mut().insert(id.clone());
        }
        if let Some(peer) = origin.peer {
            request.extensions_mut().insert(peer);
        }
        Some(request)
    }

    /// Sends `call` and hands back the API's response as it is, its body
    /// streamed (a file to download).
    pub async fn pass(&self, origin: &Origin, call: Call<'_>) -> Result<Response, Refusal> {
        let request = Api::request(origin, call).ok_or_else(|| internal(origin))?;
        let Ok(response) = self.router.clone().oneshot(request).await;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024)
            .await
            .map_err(|_| internal(origin))?;
        let error = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|value| value.get("error").cloned())
            .unwrap_or(Value::Null);
        let mut refusal: Refusal = serde_json::from_value(error.clone()).unwrap_or_default();
        refusal.status = status.as_u16();
        refusal.body = error;
        if refusal.code.is_empty() {
            return Err(internal(origin));
        }
        Err(refusal)
    }

    /// Sends `call` through the API's router.
    pub async fn send(&self, origin: &Origin, call: Call<'_>) -> Answer {
        let call_path = call.path.clone();
        let Some(request) = Api::request(origin, call) else {
            return Err(internal(origin));
        };
        let Ok(response) = self.router.clone().oneshot(request).await;
        let status = response.status();
        let Ok(bytes) = axum::body::to_bytes(response.into_body(), usize::MAX).await else {
            return Err(internal(origin));
        };
        let value: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        if status.is_success() {
            return Ok((status, value));
        }
        let error = value.get("error").cloned().unwrap_or(Value::Null);
        let mut refusal: Refusal = serde_json::from_value(error.clone()).unwrap_or_default();
        refusal.status = status.as_u16();
        refusal.body = error;
        if refusal.code.is_empty() {
            tracing::error!(status = status.as_u16(), path = %call_path, "the API answered a page without its error envelope");
            return Err(internal(origin));
        }
        Err(refusal)
    }

    /// Sends `call` and reads a successful answer as `T`.
    pub async fn read<T: DeserializeOwned>(
        &self,
        origin: &Origin,
        call: Call<'_>,
    ) -> Result<T, Refusal> {
        let (_, value) = self.send(origin, call).await?;
        serde_json::from_value(value).map_err(|_| internal(origin))
    }
}

/// An answer the API never gives: it is reported as the catalogue's
/// internal error, with the trace id support can open.
fn internal(origin: &Origin) -> Refusal {
    Refusal::local(
        &tessera_core::error::DomainError::new(tessera_core::error::ErrorCode::InternalError),
        origin.lang,
        origin.trace_id(),
    )
}
