//! Whether a real name and an ID number belong together, asked of an
//! identity-verification provider at sign-up through `IdentityVerifier`:
//! a provider over HTTP when `identity.http_url` is set, else (sandbox
//! mode) the sandbox provider, which reads its answer from the ID number's
//! sequence digits. The ID number goes to the provider only, never to a
//! log or an error.

use std::time::Duration;

use async_trait::async_trait;
use tessera_core::identity::IdNumber;

/// What the provider says of a name and an ID number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityVerdict {
    /// The name is the one on file for the ID number.
    Match,
    /// The ID number exists, with another name.
    Mismatch,
    /// No such ID number.
    NotFound,
}

/// The provider gave no verdict.
#[derive(Debug, thiserror::Error)]
#[error("the identity provider gave no verdict: {0}")]
pub struct IdentityUnavailable(pub String);

#[async_trait]
pub trait IdentityVerifier: Send + Sync + std::fmt::Debug {
    async fn verify(
        &self,
        real_name: &str,
        id_number: &IdNumber,
    ) -> Result<IdentityVerdict, IdentityUnavailable>;
}

/// The sandbox provider: the ID number's sequence digits (15th to 17th
/// characters) choose the answer, as a card number's digits choose the
/// sandbox issuer's.
#[derive(Debug, Default)]
pub struct SandboxIdentity;

/// The sandbox provider's outcomes: (sequence digits, what happens).
pub const SANDBOX_OUTCOMES: [(&str, &str); 3] = [
    ("990", "the name differs: identity_mismatch (422)"),
    ("991", "no such ID number: identity_not_found (422)"),
    (
        "992",
        "the provider is unavailable: identity_unavailable (503)",
    ),
];

#[async_trait]
impl IdentityVerifier for SandboxIdentity {
    async fn verify(
        &self,
        _: &str,
        id_number: &IdNumber,
    ) -> Result<IdentityVerdict, IdentityUnavailable> {
        match id_number.sequence() {
            "990" => Ok(IdentityVerdict::Mismatch),
            "991" => Ok(IdentityVerdict::NotFound),
            "992" => Err(IdentityUnavailable(
                "the sandbox provider is unavailable for sequence 992".to_owned(),
            )),
            _ => Ok(IdentityVerdict::Match),
        }
    }
}

/// A provider over HTTP: `POST {"real_name": ..., "id_number": ...}`,
/// answered 200 `{"result": "match" | "mismatch" | "not_found"}`; anything
/// else is no verdict.
#[derive(Debug)]
pub struct HttpIdentity {
    client: reqwest::Client,
    url: String,
}

impl HttpIdentity {
    pub fn new(url: &str, timeout: Duration) -> Result<HttpIdentity, String> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| format!("identity.http_url: no HTTP client ({e})"))?;
        Ok(HttpIdentity {
            client,
            url: url.to_owned(),
        })
    }
}

#[async_trait]
impl IdentityVerifier for HttpIdentity {
    async fn verify(
        &self,
        real_name: &str,
        id_number: &IdNumber,
    ) -> Result<IdentityVerdict, IdentityUnavailable> {
        let body = serde_json::json!({"real_name": real_name, "id_number": id_number.expose()});
        let unavailable = |e: reqwest::Error| IdentityUnavailable(e.without_url().to_string());
        let response = self
            .client
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .map_err(unavailable)?;
        let status = response.status();
        if !status.is_success() {
            return Err(IdentityUnavailable(format!("it answered {status}")));
        }
        let answer: serde_json::Value = response.json().await.map_err(unavailable)?;
        match answer["result"].as_str() {
            Some("match") => Ok(IdentityVerdict::Match),
            Some("mismatch") => Ok(IdentityVerdict::Mismatch),
            Some("not_found") => Ok(IdentityVerdict::NotFound),
            _ => Err(IdentityUnavailable(
                "its answer had no result of match, mismatch or not_found".to_owned(),
            )),
        }
    }
}
