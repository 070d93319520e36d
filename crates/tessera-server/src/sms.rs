//! The wallet's own text messages (codes for a password reset), sent
//! through `SmsSender`. In sandbox mode they land in the sandbox phone's
//! outbox (`GET /v1/sandbox/sms`); without a provider they are dropped with
//! a warning. A provider's client implements the trait. The text holds a
//! code: it goes to the phone only, never to a log.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_core::identity::PhoneNumber;
use tessera_store::{Store, StoreError};

/// Why a text was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("the sandbox outbox could not be written: {0}")]
    Store(#[from] StoreError),
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

/// No provider configured (outside sandbox mode): nothing is sent.
#[derive(Debug)]
pub struct NoSmsProvider;

#[async_trait]
impl SmsSender for NoSmsProvider {
    async fn send(&self, phone: &PhoneNumber, _: &str, _: DateTime<Utc>) -> Result<(), SmsError> {
        tracing::warn!(
            to = %phone.masked(),
            "no SMS provider is configured outside sandbox mode: a text was not sent"
        );
        Ok(())
    }
}
