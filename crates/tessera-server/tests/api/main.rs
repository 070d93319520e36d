//! The HTTP integration suite: one test binary (link time is dear on a
//! two-core machine) that starts the real server on a loopback port 0 with a
//! temporary data directory (`tessera_server::test_support`), and drives it
//! over HTTP. Each test runs twice:
//! `sqlite::name` on a real SQLite file and `postgres::name` on a fresh
//! PostgreSQL database (skipped off CI when none is reachable, failed with
//! CI=true or TESSERA_REQUIRE_POSTGRES=1; see `tessera_store::test_support`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// Runs each listed `async fn name(backend: Backend)` of the calling module
/// as `sqlite::name` and `postgres::name`. The functions stay private, so
/// one left off the list is dead code and fails the lint.
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(crate::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    if crate::postgres_available().await.is_some() {
                        super::$test(crate::Backend::Postgres).await;
                    }
                }
            )*
        }
    };
}

mod accounts;
mod audit_chain;
mod binding;
mod binding_rules;
mod bins;
mod connections;
mod console;
mod contract;
mod demo_shop;
mod diagnose;
mod diagnose_next;
mod diagnose_payments;
mod emv_generations;
mod fees;
mod free_text;
mod health;
mod help;
mod hygiene;
mod idempotency;
mod issuer_events;
mod key_rotation;
mod keys;
mod leave;
mod limits;
mod migrated;
mod otp;
mod pages;
mod passkeys;
mod payment_password;
mod payments;
mod rate_limits;
mod readiness;
mod refunds;
mod safety;
mod service;
mod sessions;
mod signup;
mod snapshots;
mod support_users;
mod ticket_conversations;
mod tickets;
mod timeline;
mod timeouts;
mod tls;
mod token_renewal;
mod tokens;
mod trace_ids;
mod transactions;
mod transfers;
mod verifications;
mod wallet;
mod words;

// The test server, users, devices and assert_error are the crate's own
// test support, shared with the CLI suite and the benches.
pub use tessera_server::test_support::{
    Backend, TestDatabase, TestServer, User, assert_error, card, id_number, log_buffer, phone,
    postgres_available, purchase,
};

/// A run without PostgreSQL fails here unless TESSERA_SKIP_POSTGRES=1.
#[tokio::test]
async fn postgres_is_reachable_or_skipped_on_purpose() {
    tessera_store::test_support::assert_postgres_or_skipped().await;
}
