//! The wallet's own text messages (codes to sign up and to reset a
//! password), sent through `SmsSender`: to an SMS gateway over HTTP when
//! `sms.http_url` is set, else (sandbox mode) to the sandbox phone's outbox
//! (`GET /v1/sandbox/sms`). The text holds a code: it goes to the phone
//! only, never to a log or an error.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_core::identity::PhoneNumber;
use tessera_store::{Store, StoreError};

/// Why a text was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("the sandbox outbox could not be written: {0}")]
    Store(#[from] StoreError),
    /// The gateway did not take the text; the reason never holds it.
    #[error("the SMS gateway did not accept the text: {0}")]
    Gateway(String),
}

/// Sends a text message to a phone.
#[async_trait]
pub trait SmsSender: Send + Sync + std::fmt::Debug {
    async fn send(
        &self,
        phone: &PhoneNumber,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<(), SmsError>;
}

/// The sandbox phone: texts go to its outbox in the database, where every
/// node reads them, and to standard output when `sandbox_print_sms` is on.
#[derive(Debug)]
pub struct SandboxSms {
    pub store: Arc<dyn Store>,
    pub print: bool,
}

#[async_trait]
impl SmsSender for SandboxSms {
    async fn send(
        &self,
        phone: &PhoneNumber,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<(), SmsError> {
        self.store
            .push_sandbox_sms(phone.expose(), text, now)
            .await?;
        if self.print {
            // The simulated phone's screen: standard output, never the log.
            println!("sandbox SMS to {}: {text}", phone.masked());
        }
        Ok(())
    }
}

/// An SMS gateway over HTTP: each text is one `POST` of
/// `{"phone": "13800138000", "text": "..."}` as JSON, accepted by any 2xx.
#[derive(Debug)]
pub struct HttpSms {
    client: reqwest::Client,
    url: String,
}

impl HttpSms {
    pub fn new(url: &str, timeout: Duration) -> Result<HttpSms, String> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| format!("sms.http_url: no HTTP client ({e})"))?;
        Ok(HttpSms {
            client,
            url: url.to_owned(),
        })
    }
}

#[async_trait]
impl SmsSender for HttpSms {
    async fn send(
        &self,
        phone: &PhoneNumber,
        text: &str,
        _: DateTime<Utc>,
    ) -> Result<(), SmsError> {
        let body = serde_json::json!({"phone": phone.expose(), "text": text});
        // reqwest's error names the URL and what failed, never the body.
        let response = self
            .client
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .map_err(|e| SmsError::Gateway(e.without_url().to_string()))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(SmsError::Gateway(format!("it answered {status}")))
        }
    }
}
