//! What a wallet app and a merchant's terminal do against this service, for
//! the programs that play them: `tessera bench`, the test suites and the
//! benches. Signing up and in (`account`) runs over any HTTP client that
//! implements `Http`; the device (`device`) holds a token's limited-use keys
//! and makes the ARQC of each payment. Compiled always: `tessera bench` is a
//! production command, and only the test server lives behind the
//! `test-support` feature.

use std::future::Future;

use serde_json::Value;

pub mod account;
pub mod device;

pub use account::{
    AccountError, NewUser, User, code_in, fresh_id_number, fresh_phone, sign_in, sign_up,
    sign_up_code,
};
pub use device::{Device, DeviceError, Purchase, Signed};

/// An HTTP client the account sequence can run over. The callers bring their
/// own: reqwest in the tests, one raw hyper connection in `tessera bench`.
pub trait Http {
    /// Why a request got no HTTP answer.
    type Error: std::fmt::Display;

    /// POSTs `body` as JSON to `path` (absolute, e.g. `/v1/users`).
    fn post(
        &mut self,
        path: &str,
        bearer: Option<&str>,
        body: &Value,
    ) -> impl Future<Output = Result<Reply, Self::Error>> + Send;

    /// GETs `path` (absolute, with its query).
    fn get(
        &mut self,
        path: &str,
        bearer: Option<&str>,
    ) -> impl Future<Output = Result<Reply, Self::Error>> + Send;
}

/// An HTTP answer: its status and its body as JSON (`Null` when the body is
/// not JSON).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    /// The API's error code, or `http_<status>` when the body has none.
    pub fn error_code(&self) -> String {
        error_code(self.status, &self.body)
    }
}

/// The API's error code in `body`, or `http_<status>` when it has none.
pub fn error_code(status: u16, body: &Value) -> String {
    body["error"]["code"]
        .as_str()
        .map_or_else(|| format!("http_{status}"), str::to_owned)
}
