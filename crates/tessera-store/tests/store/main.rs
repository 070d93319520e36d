//! The store suite, one file per role of the store. Each test listed in
//! a file's `on_both_backends!` runs twice, as `<file>::sqlite::name` on a
//! temporary SQLite file and as `<file>::postgres::name` on a fresh
//! PostgreSQL database (dropped afterwards), so the two backends keep one
//! behaviour and a run shows how many tests ran on PostgreSQL.
//! `backends.rs` holds what only one backend has.
//!
//! PostgreSQL comes from `TESSERA_TEST_DATABASE_URL` through
//! `tessera_store::test_support`: when it is unreachable, the PostgreSQL
//! tests fail with CI=true or TESSERA_REQUIRE_POSTGRES=1, and otherwise say
//! on stderr that they were skipped.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// Runs each listed `async fn name(store: Arc<dyn Store>)` of the calling
/// module as `sqlite::name` and `postgres::name`, each on a fresh store. The
/// functions stay private, so one left off the list is dead code and fails
/// the lint.
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    crate::with_sqlite(super::$test).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    crate::with_postgres(super::$test).await;
                }
            )*
        }
    };
}

mod accounts;
mod attempts;
mod backends;
mod binding;
mod bulk_load;
mod card_wallets;
mod cards;
mod closures;
mod confirmations;
mod console_sessions;
mod data_migrations;
mod lifecycle;
mod limits;
mod live_counts;
mod payments;
mod payments_by_trace;
mod settings;
mod support;
mod support_desk;
mod timeline;
mod token_renewal;
mod transfers;

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use tessera_store::postgres::{PgOptions, PgStore};
use tessera_store::sqlite::{SqliteOptions, SqliteStore};
use tessera_store::test_support::{Proxy, TestDatabase, at, proxied_url, server_address};
use tessera_store::{
    Accounts, ApiKeyRecord, AtcClaim, AtcClaimOutcome, AttemptClaim, AttemptFilter, AttemptOutcome,
    AttemptRecord, BindingCompletion, Brand, CardReplacement, CardSelector, CardStatus, CardType,
    Cards, Channel, Constraint, CryptogramRecord, Database, IdempotencyBegin, Inspect, IssuerApply,
    IssuerChange, IssuerChangeKind, IssuerEventBegin, IssuerEventRecord, NewCard, NewOtpChallenge,
    NewToken, NewUser, OtpOutcome, PasswordReset, PaymentFilter, PaymentRecord, PaymentStatus,
    RefundClaim, RefundOutcome, RefundRecord, RefundStatus, Reserve, ReserveLimits, SeedBatch,
    SeededCard, SessionRecord, Settings, SmsCodeClaim, SmsCodePurpose, SmsCodeRecord, Store,
    StoreError, TokenEvent, TokenLookup, TokenRenewal, TokenStateChange, TokenStatus, UserId,
};

// ---------------------------------------------------------------------------
// Fixtures

fn new_user(n: &str) -> NewUser {
    NewUser {
        id: format!("user-{n}").into(),
        phone: format!("+86-138-{n}"),
        real_name: "张三".to_owned(),
        real_name_normalized: "张三".to_owned(),
        id_number_hash: format!("idh-{n}"),
        id_number_last4: "123X".to_owned(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        birthday_pins: Some("pin-a pin-b".to_owned()),
        created_at: at(1_000),
    }
}

async fn user(store: &dyn Store, n: &str) -> UserId {
    store.create_user(&new_user(n)).await.unwrap().id
}

/// A card reserved at `now`, held for a minute.
fn new_card(id: &str, user_id: &str, fingerprint: &str, now: i64) -> NewCard {
    NewCard {
        id: id.to_owned().into(),
        user_id: user_id.to_owned().into(),
        pan_fingerprint: fingerprint.to_owned(),
        first6: "622202".to_owned(),
        last4: "1234".to_owned(),
        pan_length: 19,
        brand: Brand::UnionPay,
        issuer_code: Some("ICBC".to_owned()),
        issuer_name_zh: Some("中国工商银行".to_owned()),
        issuer_name_en: Some("Industrial and Commercial Bank of China".to_owned()),
        card_type: Some(CardType::Debit),
        country: Some("CN".to_owned()),
        expiry_month: Some(12),
        expiry_year: Some(2031),
        holder_name: "张三".to_owned(),
        par: format!("par-{fingerprint}"),
        bank_phone_masked: Some("138****0000".to_owned()),
        reserved_until: at(now + 60_000),
        created_at: at(now),
    }
}

fn completion(
    card_id: &str,
    user_id: &str,
    status: &str,
    otp: Option<NewOtpChallenge>,
    now: i64,
) -> BindingCompletion {
    BindingCompletion {
        card_id: card_id.to_owned().into(),
        user_id: user_id.to_owned().into(),
        pan_key_version: 1,
        pan_ciphertext: vec![0xA5; 48],
        token: NewToken {
            token_ref: format!("tok-{card_id}"),
            key_version: 1,
            token_pan_ciphertext: vec![0x5A; 48],
            token_first6: "999999".to_owned(),
            token_last4: "4321".to_owned(),
            expiry_month: 6,
            expiry_year: 2029,
            status: if status == "active" {
                TokenStatus::Active
            } else {
                TokenStatus::Inactive
            },
            requestor_id: "40010030273".to_owned(),
            device_id: Some("device-1".to_owned()),
            token_pan_fingerprint: format!("tpf-{card_id}"),
            psn: 0,
            imk_range: "629990".to_owned(),
            imk_generation: 1,
        },
        status: CardStatus::parse(status).unwrap(),
        otp,
        now: at(now),
    }
}

fn otp_challenge_until(expires_at: i64) -> NewOtpChallenge {
    NewOtpChallenge {
        code_hash: "otp-hash".to_owned(),
        sent_to_masked: "138****0000".to_owned(),
        expires_at: at(expires_at),
    }
}

/// Reserves and completes an active card.
async fn bind(store: &dyn Store, user_id: &str, card_id: &str, fingerprint: &str, now: i64) {
    let card = new_card(card_id, user_id, fingerprint, now);
    assert_eq!(
        store
            .reserve_card(&card, &ReserveLimits::cards(10), at(now))
            .await
            .unwrap(),
        Reserve::Reserved
    );
    assert!(
        store
            .complete_binding(&completion(card_id, user_id, "active", None, now))
            .await
            .unwrap()
    );
}

/// Reserves and completes a card waiting for its OTP until `expires_at`.
async fn bind_pending(
    store: &dyn Store,
    user_id: &str,
    card_id: &str,
    fingerprint: &str,
    now: i64,
    expires_at: i64,
) {
    let card = new_card(card_id, user_id, fingerprint, now);
    assert_eq!(
        store
            .reserve_card(&card, &ReserveLimits::cards(10), at(now))
            .await
            .unwrap(),
        Reserve::Reserved
    );
    let done = completion(
        card_id,
        user_id,
        "pending_verification",
        Some(otp_challenge_until(expires_at)),
        now,
    );
    assert!(store.complete_binding(&done).await.unwrap());
}

async fn defaults(store: &dyn Store, user_id: &str) -> Vec<String> {
    store
        .list_cards(&user_id.into())
        .await
        .unwrap()
        .into_iter()
        .filter(|card| card.is_default)
        .map(|card| card.id.into_string())
        .collect()
}

fn attempt(trace_id: &str, user_id: &str, created_at: i64) -> AttemptRecord {
    AttemptRecord {
        client_gone: false,
        trace_id: trace_id.to_owned(),
        user_id: user_id.to_owned().into(),
        outcome: AttemptOutcome::Error,
        error_code: Some("card_declined".to_owned()),
        latency_ms: 12,
        created_at: at(created_at),
        ..AttemptRecord::default()
    }
}

// ---------------------------------------------------------------------------
// Backends

/// Runs one suite test on a fresh SQLite file.
async fn with_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("tessera.db"), SqliteOptions::default())
        .await
        .unwrap();
    test(Arc::new(store.clone())).await;
    store.close().await;
}

// ---------------------------------------------------------------------------
// PostgreSQL: one fresh database per test (tessera_store::test_support).

fn test_pg_options() -> PgOptions {
    PgOptions {
        max_connections: 8,
        acquire_timeout: std::time::Duration::from_secs(30),
        ..PgOptions::default()
    }
}

/// Runs one suite test on a fresh PostgreSQL database.
async fn with_postgres<F, Fut>(test: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    database
        .run(|url| async move {
            let store = PgStore::connect(&url, test_pg_options()).await.unwrap();
            test(Arc::new(store.clone())).await;
            store.close().await;
        })
        .await;
}

/// A run without PostgreSQL fails here unless TESSERA_SKIP_POSTGRES=1.
#[tokio::test]
async fn postgres_is_reachable_or_skipped_on_purpose() {
    tessera_store::test_support::assert_postgres_or_skipped().await;
}
