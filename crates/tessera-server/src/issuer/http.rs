//! The HTTP issuer connector: a bank reached over the issuer protocol
//! (docs/issuer-protocol.md), configured per issuer code in `[issuers]`.
//! Every request is signed with the issuer's secret and carries one request
//! id for all its tries, so the bank answers a repeat with its first answer.
//! Whatever goes wrong on the way (no connection, a reset, a timeout, a
//! 5xx, a body that is not the protocol's JSON or is cut short) is the
//! same answer: the issuer is unavailable, which the binding records as
//! `issuer_unavailable` and the breaker counts.

use std::time::Duration;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::protocol::{
    AUTHORIZATION_PATH, AuthorizationRequest, AuthorizationResponse, BINDING_PATH, BindingRequest,
    BindingResponse, CREDIT_PATH, CreditRequest, ISSUER_HEADER, REFUND_PATH, REQUEST_ID_HEADER,
    RefundRequest, TransferResponse,
};
use super::signature::{SIGNATURE_HEADER, signature_header};
use super::{
    AuthorizationAnswer, BindingVerification, Issuer, IssuerAnswer, PaymentAuthorization,
    RefundOrder, TransferAnswer, TransferOrder,
};

/// A secret that never shows in logs or `Debug` output.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct SigningSecret(pub String);

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(..)")
    }
}

/// `[issuers.<CODE>]`: one bank reached over the issuer protocol. Cards of
/// the issuer codes listed here go to their bank; every other card keeps
/// the sandbox.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct IssuerEndpoint {
    /// `http://host:port`, the protocol's paths (`/v1/...`) follow it.
    pub base_url: String,
    /// The HMAC-SHA256 key both sides sign with (at least 16 characters).
    pub signing_secret: SigningSecret,
    pub connect_timeout_ms: u64,
    /// One try's whole time, connection included. The binding and the
    /// payment still end by `issuer_timeout_secs`, retries included.
    pub request_timeout_ms: u64,
    /// Further tries after a connection error or a 5xx answer.
    pub retries: u32,
    /// The wait before the first retry; doubled for each next one.
    pub retry_backoff_ms: u64,
}

impl Default for IssuerEndpoint {
    fn default() -> Self {
        IssuerEndpoint {
            base_url: String::new(),
            signing_secret: SigningSecret::default(),
            connect_timeout_ms: 1_000,
            request_timeout_ms: 5_000,
            retries: 2,
            retry_backoff_ms: 100,
        }
    }
}

impl IssuerEndpoint {
    /// Checks one `[issuers.<code>]` table; the error names it.
    pub fn validate(&self, code: &str) -> Result<(), String> {
        if code.is_empty()
            || code.len() > 16
            || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(format!(
                "issuers.{code}: an issuer code is 1 to 16 letters, digits or _"
            ));
        }
        let url = &self.base_url;
        if !url.starts_with("http://") || url.len() <= "http://".len() {
            return Err(format!(
                "issuers.{code}.base_url: {url:?} is not an http:// URL (this build speaks \
                 plain HTTP: point it at a gateway on your own network)"
            ));
        }
        if self.signing_secret.0.len() < 16 {
            return Err(format!(
                "issuers.{code}.signing_secret must be at least 16 characters"
            ));
        }
        let ms = 1..=120_000;
        if !ms.contains(&self.connect_timeout_ms) || !ms.contains(&self.request_timeout_ms) {
            return Err(format!(
                "issuers.{code}: connect_timeout_ms and request_timeout_ms must be 1 to 120000"
            ));
        }
        if self.retries > 5 || self.retry_backoff_ms > 10_000 {
            return Err(format!(
                "issuers.{code}: retries must be at most 5, retry_backoff_ms at most 10000"
            ));
        }
        Ok(())
    }
}

/// One bank over HTTP.
#[derive(Debug)]
pub struct HttpIssuer {
    code: String,
    base_url: String,
    signing_secret: SigningSecret,
    client: reqwest::Client,
    retries: u32,
    backoff: Duration,
}

impl HttpIssuer {
    pub fn new(code: &str, endpoint: &IssuerEndpoint) -> Result<HttpIssuer, String> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(endpoint.connect_timeout_ms))
            .timeout(Duration::from_millis(endpoint.request_timeout_ms))
            .build()
            .map_err(|e| format!("issuers.{code}: no HTTP client ({e})"))?;
        Ok(HttpIssuer {
            code: code.to_ascii_uppercase(),
            base_url: endpoint.base_url.trim_end_matches('/').to_owned(),
            signing_secret: endpoint.signing_secret.clone(),
            client,
            retries: endpoint.retries,
            backoff: Duration::from_millis(endpoint.retry_backoff_ms),
        })
    }

    /// Posts `body` to `path` and reads the bank's answer; None when there
    /// is none that counts. The body holds the card number: it is never
    /// logged, and neither is the answer (reqwest's errors name the URL and
    /// what failed, never a body).
    async fn call<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> Option<T> {
        let body = Zeroizing::new(serde_json::to_vec(body).ok()?);
        let request_id = crate::ids::random_id("isr_", 24);
        let url = format!("{}{path}", self.base_url);
        let mut wait = self.backoff;
        for try_number in 0..=self.retries {
            if try_number > 0 {
                tokio::time::sleep(wait).await;
                wait = wait.saturating_mul(2);
            }
            let last = try_number == self.retries;
            // The bank checks the timestamp against its own clock, a real
            // one: signed with the system's time, never a test's clock.
            let signature = signature_header(
                self.signing_secret.0.as_bytes(),
                chrono::Utc::now().timestamp(),
                &body,
            )?;
            let sent = self
                .client
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(REQUEST_ID_HEADER, &request_id)
                .header(ISSUER_HEADER, &self.code)
                .header(SIGNATURE_HEADER, signature)
                .body(body.to_vec())
                .send()
                .await;
            let response = match sent {
                Ok(response) => response,
                Err(error) => {
                    // Connection refused or reset before an answer began:
                    // the same request id makes a second try safe. A
                    // timeout is not tried again: the bank may be working.
                    let again = !last
                        && (error.is_connect() || (error.is_request() && !error.is_timeout()));
                    tracing::warn!(issuer = %self.code, %request_id, path, try_number, again,
                        error = %error.without_url(), "the issuer did not answer");
                    if again {
                        continue;
                    }
                    return None;
                }
            };
            let status = response.status();
            if status.is_server_error() {
                tracing::warn!(issuer = %self.code, %request_id, path, try_number, %status,
                    again = !last, "the issuer answered with a server error");
                if last {
                    return None;
                }
                continue;
            }
            if !status.is_success() {
                tracing::warn!(issuer = %self.code, %request_id, path, %status,
                    "the issuer refused the request");
                return None;
            }
            let bytes = match response.bytes().await {
                Ok(bytes) => bytes,
                Err(error) => {
                    tracing::warn!(issuer = %self.code, %request_id, path,
                        error = %error.without_url(), "the issuer's answer was cut short");
                    return None;
                }
            };
            return match serde_json::from_slice(&bytes) {
                Ok(answer) => Some(answer),
                Err(error) => {
                    // serde_json's message names a line and column, never
                    // the text it read.
                    tracing::warn!(issuer = %self.code, %request_id, path, %error,
                        "the issuer's answer is not the protocol's JSON");
                    None
                }
            };
        }
        None
    }
}

#[async_trait]
impl Issuer for HttpIssuer {
    fn name(&self) -> &'static str {
        "http"
    }

    async fn verify_binding(&self, request: &BindingVerification<'_>) -> IssuerAnswer {
        self.call::<BindingResponse>(BINDING_PATH, &BindingRequest::of(request))
            .await
            .map_or(IssuerAnswer::Unavailable, BindingResponse::answer)
    }

    async fn authorize_payment(&self, request: &PaymentAuthorization<'_>) -> AuthorizationAnswer {
        self.call::<AuthorizationResponse>(AUTHORIZATION_PATH, &AuthorizationRequest::of(request))
            .await
            .map_or(
                AuthorizationAnswer::Unavailable,
                AuthorizationResponse::answer,
            )
    }

    async fn refund_payment(&self, order: &RefundOrder<'_>) -> TransferAnswer {
        self.call::<TransferResponse>(REFUND_PATH, &RefundRequest::of(order))
            .await
            .map_or(TransferAnswer::Unavailable, TransferResponse::answer)
    }

    async fn transfer(&self, order: &TransferOrder<'_>) -> TransferAnswer {
        self.call::<TransferResponse>(CREDIT_PATH, &CreditRequest::of(order))
            .await
            .map_or(TransferAnswer::Unavailable, TransferResponse::answer)
    }
}

#[cfg(test)]
mod tests {
    use crate::Config;

    const TABLE: &str = "[issuers.ABC]\nbase_url = \"http://127.0.0.1:9100\"\n\
                         signing_secret = \"0123456789abcdef\"\nretries = 1\n";

    #[test]
    fn an_issuers_table_is_read_with_defaults_and_its_secret_never_shown() {
        let config = Config::from_toml(TABLE).unwrap();
        let abc = &config.issuers["ABC"];
        assert_eq!(abc.base_url, "http://127.0.0.1:9100");
        assert_eq!((abc.retries, abc.retry_backoff_ms), (1, 100));
        assert_eq!(
            (abc.connect_timeout_ms, abc.request_timeout_ms),
            (1_000, 5_000)
        );
        assert!(!format!("{config:?}").contains("0123456789abcdef"));
        assert!(Config::default().issuers.is_empty());
    }

    #[test]
    fn a_bad_issuers_table_is_refused_naming_it() {
        for (bad, named) in [
            (
                TABLE.replace("http://127", "https://127"),
                "issuers.ABC.base_url",
            ),
            (
                TABLE.replace("0123456789abcdef", "short"),
                "issuers.ABC.signing_secret",
            ),
            (
                TABLE.replace("retries = 1", "retries = 9"),
                "retries must be at most 5",
            ),
            (
                TABLE.replace("retries = 1", "request_timeout_ms = 0"),
                "request_timeout_ms must be 1 to 120000",
            ),
            (
                TABLE.replace("[issuers.ABC]", "[issuers.\"A-B\"]"),
                "issuer code",
            ),
            (TABLE.replace("retries = 1", "retry = 1"), "retry"),
        ] {
            let error = Config::from_toml(&bad).unwrap_err();
            assert!(error.contains(named), "{bad}: {error}");
        }
    }
}
