//! What speaks HTTP: who is calling (`auth`), the request's context and
//! bodies (`extract`), the trace id and the client's own request id
//! (`request_id`), the one mapping from domain errors to responses
//! (`error`), the size and characters of every field (`fields`),
//! shared query values (`query`), the budgets of the routes that need
//! no account (`rate_limit`), the request and response
//! bodies documented for OpenAPI (`views`), and the help center's HTML
//! pages (`help`).

pub mod auth;
pub mod detach;
pub mod error;
pub mod extract;
pub mod fields;
pub mod help;
pub mod openapi;
pub mod query;
pub mod rate_limit;
pub mod request_id;
pub mod views;
