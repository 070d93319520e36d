//! Turning away a connection past the cap: a fixed `503 overloaded` answer
//! written without reading the request, and a log line at most once per
//! interval however many are turned away.

use std::sync::Mutex;
use std::sync::PoisonError;
use std::time::{Duration, Instant};

use tessera_core::error::{DomainError, ErrorCode, Lang};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;

use crate::http::error::error_body;

/// Seconds a refused client is told to wait (`Retry-After`).
const RETRY_AFTER_SECS: u64 = 1;

/// How long a refusal may take, answer and lingering included.
const REFUSAL_TIME: Duration = Duration::from_secs(2);

/// Counts events and says when one should be logged: the first, then at
/// most one per interval, carrying how many happened since the last.
#[derive(Debug)]
pub struct LogEvery {
    interval: Duration,
    state: Mutex<(Option<Instant>, u64)>,
}

impl LogEvery {
    pub fn new(interval: Duration) -> LogEvery {
        LogEvery {
            interval,
            state: Mutex::new((None, 0)),
        }
    }

    /// Counts one event; `Some(count since the last line)` when it is time
    /// to log.
    pub fn note(&self) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.1 += 1;
        let now = Instant::now();
        match state.0 {
            Some(last) if now.duration_since(last) < self.interval => None,
            _ => {
                let count = state.1;
                *state = (Some(now), 0);
                Some(count)
            }
        }
    }
}

/// The answer past the cap, in the default language: the request (and so
/// its `Accept-Language`) is never read.
fn overloaded_answer() -> Vec<u8> {
    let error = DomainError::new(ErrorCode::Overloaded).with_retry_after(RETRY_AFTER_SECS);
    let lang = Lang::default();
    let trace_id = crate::ids::request_id();
    let body = error_body(&error, lang, &trace_id).to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-language: {}\r\nretry-after: {RETRY_AFTER_SECS}\r\nx-request-id: {trace_id}\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        lang.tag(),
        body.len()
    )
    .into_bytes()
}

/// Answers `503 overloaded` on a plain connection (a TLS one is closed: a
/// handshake is the very work being refused), then lingers briefly so that
/// the answer is not lost to a reset while the client is still sending.
pub async fn refuse(mut stream: TcpStream, plain: bool, _permit: OwnedSemaphorePermit) {
    if !plain {
        return;
    }
    let _ = tokio::time::timeout(REFUSAL_TIME, async {
        stream.write_all(&overloaded_answer()).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 1024];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<(), std::io::Error>(())
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_the_first_then_once_per_interval_with_the_count() {
        let log = LogEvery::new(Duration::from_secs(3600));
        assert_eq!(log.note(), Some(1));
        for _ in 0..500 {
            assert_eq!(log.note(), None);
        }
        let log = LogEvery::new(Duration::ZERO);
        assert_eq!(log.note(), Some(1));
        assert_eq!(log.note(), Some(1));
    }

    #[test]
    fn the_answer_is_a_complete_catalogue_error() {
        let answer = String::from_utf8(overloaded_answer()).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 "), "{head}");
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["error"]["code"], "overloaded");
        assert_eq!(body["error"]["retryable"], true);
        assert_eq!(body["error"]["retry_after"], 1);
    }
}
