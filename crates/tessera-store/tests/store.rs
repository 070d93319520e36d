//! The store suite: every test in `suite` runs against SQLite (a temp file)
//! and PostgreSQL (a fresh database per test, dropped afterwards), so the
//! two backends keep one behaviour. PostgreSQL tests live in `postgres::`
//! so a run shows how many ran there.
//!
//! PostgreSQL comes from `TESSERA_TEST_DATABASE_URL` through
//! `tessera_store::test_support`: when it is unreachable, the PostgreSQL
//! tests fail with CI=true or TESSERA_REQUIRE_POSTGRES=1, and otherwise say
//! on stderr that they were skipped.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::sync::Arc;

use tessera_store::postgres::{PgOptions, PgStore};
use tessera_store::sqlite::{SqliteOptions, SqliteStore};
use tessera_store::test_support::{Proxy, TestDatabase, proxied_url, server_address};
use tessera_store::{
    ApiKeyRecord, AtcClaim, AtcClaimOutcome, AttemptFilter, AttemptRecord, BindingCompletion,
    CardSelector, CryptogramRecord, IdempotencyBegin, IssuerApply, IssuerChange, IssuerChangeKind,
    IssuerEventBegin, IssuerEventRecord, NewCard, NewOtpChallenge, NewToken, NewUser, OtpOutcome,
    PaymentFilter, PaymentRecord, Reserve, SeedBatch, SeededCard, SessionRecord, Store, StoreError,
    TokenEvent, TokenLookup, TokenStateChange,
};

// ---------------------------------------------------------------------------
// Fixtures

fn new_user(n: &str) -> NewUser {
    NewUser {
        id: format!("user-{n}"),
        phone: format!("+86-138-{n}"),
        real_name: "张三".to_owned(),
        real_name_normalized: "张三".to_owned(),
        id_number_hash: format!("idh-{n}"),
        id_number_last4: "123X".to_owned(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        created_at: 1_000,
    }
}

async fn user(store: &dyn Store, n: &str) -> String {
    store.create_user(&new_user(n)).await.unwrap().id
}

/// A card reserved at `now`, held for a minute.
fn new_card(id: &str, user_id: &str, fingerprint: &str, now: i64) -> NewCard {
    NewCard {
        id: id.to_owned(),
        user_id: user_id.to_owned(),
        pan_fingerprint: fingerprint.to_owned(),
        first6: "622202".to_owned(),
        last4: "1234".to_owned(),
        pan_length: 19,
        brand: "unionpay".to_owned(),
        issuer_code: Some("ICBC".to_owned()),
        issuer_name_zh: Some("中国工商银行".to_owned()),
        issuer_name_en: Some("Industrial and Commercial Bank of China".to_owned()),
        card_type: Some("debit".to_owned()),
        country: Some("CN".to_owned()),
        expiry_month: Some(12),
        expiry_year: Some(2031),
        holder_name: "张三".to_owned(),
        par: format!("par-{fingerprint}"),
        bank_phone_masked: Some("138****0000".to_owned()),
        reserved_until: now + 60_000,
        created_at: now,
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
        card_id: card_id.to_owned(),
        user_id: user_id.to_owned(),
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
                "active"
            } else {
                "inactive"
            }
            .to_owned(),
            requestor_id: "40010030273".to_owned(),
            device_id: Some("device-1".to_owned()),
            token_pan_fingerprint: format!("tpf-{card_id}"),
            psn: 0,
            imk_range: "629990".to_owned(),
            imk_generation: 1,
        },
        status: status.to_owned(),
        otp,
        now,
    }
}

fn otp_challenge_until(expires_at: i64) -> NewOtpChallenge {
    NewOtpChallenge {
        code_hash: "otp-hash".to_owned(),
        sent_to_masked: "138****0000".to_owned(),
        expires_at,
    }
}

/// Reserves and completes an active card.
async fn bind(store: &dyn Store, user_id: &str, card_id: &str, fingerprint: &str, now: i64) {
    let card = new_card(card_id, user_id, fingerprint, now);
    assert_eq!(
        store.reserve_card(&card, 10, now).await.unwrap(),
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
        store.reserve_card(&card, 10, now).await.unwrap(),
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
        .list_cards(user_id)
        .await
        .unwrap()
        .into_iter()
        .filter(|card| card.is_default)
        .map(|card| card.id)
        .collect()
}

fn attempt(trace_id: &str, user_id: &str, created_at: i64) -> AttemptRecord {
    AttemptRecord {
        trace_id: trace_id.to_owned(),
        user_id: user_id.to_owned(),
        outcome: "error".to_owned(),
        error_code: Some("card_declined".to_owned()),
        latency_ms: 12,
        created_at,
        ..AttemptRecord::default()
    }
}

// ---------------------------------------------------------------------------
// The suite: each test takes a fresh, migrated, empty store.

#[path = "store/support.rs"]
mod support_suite;

mod suite {
    use super::*;
    pub use crate::support_suite::*;

    pub async fn ping_and_has_data(store: Arc<dyn Store>) {
        store.ping().await.unwrap();
        assert!(["sqlite", "postgres"].contains(&store.backend()));
        assert!(!store.has_data().await.unwrap());
        store.put_setting("maintenance", "on", 1).await.unwrap();
        assert!(!store.has_data().await.unwrap(), "settings are not data");
        user(&*store, "1").await;
        assert!(store.has_data().await.unwrap());
    }

    pub async fn users(store: Arc<dyn Store>) {
        let wanted = new_user("1");
        let created = store.create_user(&wanted).await.unwrap();
        assert_eq!(created.status, "active");
        for found in [
            store.user_by_id(&wanted.id).await.unwrap().unwrap(),
            store.user_by_phone(&wanted.phone).await.unwrap().unwrap(),
        ] {
            assert_eq!(found.id, wanted.id);
            assert_eq!(found.phone, wanted.phone);
            assert_eq!(found.real_name, "张三");
            assert_eq!(found.real_name_normalized, wanted.real_name_normalized);
            assert_eq!(found.id_number_hash, wanted.id_number_hash);
            assert_eq!(found.id_number_last4, "123X");
            assert_eq!(found.password_hash, wanted.password_hash);
            assert_eq!(found.status, "active");
            assert_eq!(found.created_at, 1_000);
        }
        assert!(store.user_by_id("nobody").await.unwrap().is_none());
        assert!(store.user_by_phone("+1").await.unwrap().is_none());

        let same_phone = NewUser {
            id: "user-other".to_owned(),
            ..new_user("1")
        };
        let error = store.create_user(&same_phone).await.unwrap_err();
        assert!(matches!(error, StoreError::Conflict("phone")), "{error:?}");
        assert!(store.user_by_id("user-other").await.unwrap().is_none());
    }

    pub async fn login_failures(store: Arc<dyn Store>) {
        let hash = "phone-hash";
        assert!(store.login_failures(hash).await.unwrap().is_none());
        let first = store
            .record_login_failure(hash, 1_000, 60_000)
            .await
            .unwrap();
        assert_eq!((first.failures, first.window_started_at), (1, 1_000));
        let second = store
            .record_login_failure(hash, 2_000, 60_000)
            .await
            .unwrap();
        assert_eq!((second.failures, second.window_started_at), (2, 1_000));
        // Still in the window at exactly its end...
        let third = store
            .record_login_failure(hash, 61_000, 60_000)
            .await
            .unwrap();
        assert_eq!((third.failures, third.window_started_at), (3, 1_000));
        // ...and a new window after it.
        let fresh = store
            .record_login_failure(hash, 61_001, 60_000)
            .await
            .unwrap();
        assert_eq!((fresh.failures, fresh.window_started_at), (1, 61_001));
        let stored = store.login_failures(hash).await.unwrap().unwrap();
        assert_eq!((stored.failures, stored.window_started_at), (1, 61_001));
        assert!(store.login_failures("other").await.unwrap().is_none());
        store.clear_login_failures(hash).await.unwrap();
        assert!(store.login_failures(hash).await.unwrap().is_none());
        store.clear_login_failures(hash).await.unwrap();
    }

    pub async fn sessions(store: Arc<dyn Store>) {
        let user_id = user(&*store, "1").await;
        let session = SessionRecord {
            token_hash: "session-hash".to_owned(),
            user_id: user_id.clone(),
            expires_at: 10_000,
            created_at: 1_000,
        };
        store.create_session(&session).await.unwrap();
        assert_eq!(
            store.session_user("session-hash", 9_999).await.unwrap(),
            Some(user_id.clone())
        );
        assert_eq!(
            store.session_user("session-hash", 10_000).await.unwrap(),
            None
        );
        assert_eq!(store.session_user("other", 1_000).await.unwrap(), None);
        // The same session answering the whole user, in one read where the
        // backend can.
        let record = store
            .session_user_record("session-hash", 9_999)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.id, user_id);
        assert_eq!(record.phone, new_user("1").phone);
        assert_eq!(record.real_name, "张三");
        assert_eq!(record.status, "active");
        assert!(
            store
                .session_user_record("session-hash", 10_000)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .session_user_record("other", 1_000)
                .await
                .unwrap()
                .is_none()
        );
        let error = store.create_session(&session).await.unwrap_err();
        assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
        let orphan = SessionRecord {
            token_hash: "orphan".to_owned(),
            user_id: "nobody".to_owned(),
            ..session
        };
        assert!(store.create_session(&orphan).await.is_err());
    }

    pub async fn api_keys(store: Arc<dyn Store>) {
        let key = ApiKeyRecord {
            id: "key-1".to_owned(),
            key_hash: "key-hash".to_owned(),
            role: "support".to_owned(),
            label: "客服 desk".to_owned(),
            created_at: 5_000,
            revoked_at: None,
        };
        store.create_api_key(&key).await.unwrap();
        let found = store.api_key("key-hash").await.unwrap().unwrap();
        assert_eq!(found.id, "key-1");
        assert_eq!(found.key_hash, "key-hash");
        assert_eq!(found.role, "support");
        assert_eq!(found.label, "客服 desk");
        assert_eq!(found.created_at, 5_000);
        assert_eq!(found.revoked_at, None);
        assert!(store.api_key("other").await.unwrap().is_none());
        let same_hash = ApiKeyRecord {
            id: "key-2".to_owned(),
            ..key
        };
        let error = store.create_api_key(&same_hash).await.unwrap_err();
        assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    }

    pub async fn reserve_and_complete(store: Arc<dyn Store>) {
        let user_id = user(&*store, "1").await;
        let other = user(&*store, "2").await;
        let card = new_card("c1", &user_id, "fp1", 1_000);
        assert_eq!(
            store.reserve_card(&card, 5, 1_000).await.unwrap(),
            Reserve::Reserved
        );
        // A reservation is invisible to the wallet...
        assert!(store.list_cards(&user_id).await.unwrap().is_empty());
        assert!(store.card(&user_id, "c1").await.unwrap().is_none());
        // ...but holds the card against a second request.
        let again = new_card("c2", &user_id, "fp1", 1_001);
        assert_eq!(
            store.reserve_card(&again, 5, 1_001).await.unwrap(),
            Reserve::InProgress
        );
        // Another user may hold the same card.
        let theirs = new_card("c-other", &other, "fp1", 1_001);
        assert_eq!(
            store.reserve_card(&theirs, 5, 1_001).await.unwrap(),
            Reserve::Reserved
        );

        assert!(
            store
                .complete_binding(&completion("c1", &user_id, "active", None, 2_000))
                .await
                .unwrap()
        );
        let cards = store.list_cards(&user_id).await.unwrap();
        assert_eq!(cards.len(), 1);
        let bound = &cards[0];
        assert_eq!(bound.id, "c1");
        assert_eq!(bound.user_id, user_id);
        assert_eq!(bound.status, "active");
        assert!(bound.is_default, "the first active card is the default");
        assert!(bound.has_pan_ciphertext);
        assert_eq!(bound.pan_fingerprint, "fp1");
        assert_eq!(
            (bound.first6.as_str(), bound.last4.as_str()),
            ("622202", "1234")
        );
        assert_eq!(bound.pan_length, 19);
        assert_eq!(bound.brand, "unionpay");
        assert_eq!(bound.issuer_code.as_deref(), Some("ICBC"));
        assert_eq!(bound.issuer_name_zh.as_deref(), Some("中国工商银行"));
        assert_eq!(
            bound.issuer_name_en.as_deref(),
            Some("Industrial and Commercial Bank of China")
        );
        assert_eq!(bound.card_type.as_deref(), Some("debit"));
        assert_eq!(bound.country.as_deref(), Some("CN"));
        assert_eq!(
            (bound.expiry_month, bound.expiry_year),
            (Some(12), Some(2031))
        );
        assert_eq!(bound.holder_name, "张三");
        assert_eq!(bound.par, "par-fp1");
        assert_eq!((bound.created_at, bound.updated_at), (1_000, 2_000));
        assert_eq!(
            (bound.otp_sent_to.clone(), bound.otp_expires_at),
            (None, None)
        );
        let token = bound.token.clone().unwrap();
        assert_eq!(token.token_ref, "tok-c1");
        assert_eq!(token.card_id, "c1");
        assert_eq!(
            (token.token_first6.as_str(), token.token_last4.as_str()),
            ("999999", "4321")
        );
        assert_eq!((token.expiry_month, token.expiry_year), (6, 2029));
        assert_eq!(token.status, "active");
        assert!(token.suspenders.is_empty());
        assert_eq!(token.requestor_id, "40010030273");
        assert_eq!(token.device_id.as_deref(), Some("device-1"));
        assert_eq!(token.created_at, 2_000);
        let single = store.card(&user_id, "c1").await.unwrap().unwrap();
        assert_eq!(single.id, "c1");
        assert!(single.is_default);
        assert!(store.card(&other, "c1").await.unwrap().is_none());

        let third = new_card("c3", &user_id, "fp1", 3_000);
        assert_eq!(
            store.reserve_card(&third, 5, 3_000).await.unwrap(),
            Reserve::AlreadyBound {
                card_id: "c1".to_owned(),
                status: "active".to_owned()
            }
        );
        // Completing twice, or completing what was never reserved: false.
        assert!(
            !store
                .complete_binding(&completion("c1", &user_id, "active", None, 3_000))
                .await
                .unwrap()
        );
        assert!(
            !store
                .complete_binding(&completion("nope", &user_id, "active", None, 3_000))
                .await
                .unwrap()
        );

        // A released reservation frees the card; its completion is refused.
        let released = new_card("c4", &user_id, "fp2", 4_000);
        assert_eq!(
            store.reserve_card(&released, 5, 4_000).await.unwrap(),
            Reserve::Reserved
        );
        store.release_card("c4").await.unwrap();
        assert!(
            !store
                .complete_binding(&completion("c4", &user_id, "active", None, 4_001))
                .await
                .unwrap()
        );
        // Releasing a bound card does nothing.
        store.release_card("c1").await.unwrap();
        assert_eq!(
            store.card(&user_id, "c1").await.unwrap().unwrap().status,
            "active"
        );

        bind_pending(&*store, &user_id, "c5", "fp2", 5_000, 65_000).await;
        let pending = store.card(&user_id, "c5").await.unwrap().unwrap();
        assert_eq!(pending.status, "pending_verification");
        assert!(!pending.is_default);
        assert_eq!(pending.otp_sent_to.as_deref(), Some("138****0000"));
        assert_eq!(pending.otp_expires_at, Some(65_000));
        assert_eq!(pending.token.unwrap().status, "inactive");
        let dup = new_card("c6", &user_id, "fp2", 6_000);
        assert_eq!(
            store.reserve_card(&dup, 5, 6_000).await.unwrap(),
            Reserve::AlreadyBound {
                card_id: "c5".to_owned(),
                status: "pending_verification".to_owned()
            }
        );

        // A second active card does not take the default.
        bind(&*store, &user_id, "c7", "fp3", 7_000).await;
        assert_eq!(defaults(&*store, &user_id).await, vec!["c1".to_owned()]);
        // Newest first.
        let order: Vec<String> = store
            .list_cards(&user_id)
            .await
            .unwrap()
            .into_iter()
            .map(|card| card.id)
            .collect();
        assert_eq!(order, ["c7", "c5", "c1"]);
    }

    /// A completion with its attempt record answers the card as `card`
    /// reads it; when the reservation is gone it writes nothing, the attempt
    /// neither; a token PAN drawn before fails it whole.
    pub async fn binding_recorded(store: Arc<dyn Store>) {
        let user_id = user(&*store, "1").await;
        let only = |trace_id: &str| AttemptFilter {
            trace_id: Some(trace_id.to_owned()),
            limit: 10,
            ..AttemptFilter::default()
        };
        let recorded = |trace_id: &str, card_id: &str, outcome: &str| AttemptRecord {
            card_id: Some(card_id.to_owned()),
            masked_pan: Some("622202*********1234".to_owned()),
            outcome: outcome.to_owned(),
            error_code: None,
            latency_ms: 7,
            ..attempt(trace_id, &user_id, 2_000)
        };

        // Active: the card comes back as it now reads, the default, its
        // token with it, and the attempt is stored.
        let reserved = new_card("c1", &user_id, "fp1", 1_000);
        assert_eq!(
            store.reserve_card(&reserved, 5, 1_000).await.unwrap(),
            Reserve::Reserved
        );
        let done = completion("c1", &user_id, "active", None, 2_000);
        let attempt_1 = recorded("t-1", "c1", "success");
        let card = store
            .complete_binding_recorded(&done, &attempt_1)
            .await
            .unwrap()
            .expect("the reservation was there");
        assert_eq!(card.status, "active");
        assert!(card.is_default);
        assert!(card.has_pan_ciphertext);
        assert_eq!(card.token.as_ref().unwrap().token_ref, "tok-c1");
        let read = store.card(&user_id, "c1").await.unwrap().unwrap();
        assert_eq!(format!("{card:?}"), format!("{read:?}"));
        assert_eq!(
            store.attempts(&only("t-1")).await.unwrap(),
            vec![attempt_1.clone()]
        );

        // Pending: the card carries its challenge's masked phone and end.
        let reserved = new_card("c2", &user_id, "fp2", 3_000);
        assert_eq!(
            store.reserve_card(&reserved, 5, 3_000).await.unwrap(),
            Reserve::Reserved
        );
        let done = completion(
            "c2",
            &user_id,
            "pending_verification",
            Some(otp_challenge_until(90_000)),
            3_000,
        );
        let card = store
            .complete_binding_recorded(&done, &recorded("t-2", "c2", "pending_verification"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(card.status, "pending_verification");
        assert!(!card.is_default);
        assert_eq!(card.otp_sent_to.as_deref(), Some("138****0000"));
        assert_eq!(card.otp_expires_at, Some(90_000));
        let read = store.card(&user_id, "c2").await.unwrap().unwrap();
        assert_eq!(format!("{card:?}"), format!("{read:?}"));
        assert_eq!(store.attempts(&only("t-2")).await.unwrap().len(), 1);

        // The reservation lost before completion (released here; a crash
        // of the database before its unflushed commit reached the disk
        // leaves the same): None, and nothing is written.
        let reserved = new_card("c3", &user_id, "fp3", 4_000);
        assert_eq!(
            store.reserve_card(&reserved, 5, 4_000).await.unwrap(),
            Reserve::Reserved
        );
        store.release_card("c3").await.unwrap();
        let done = completion("c3", &user_id, "active", None, 5_000);
        assert!(
            store
                .complete_binding_recorded(&done, &recorded("t-3", "c3", "success"))
                .await
                .unwrap()
                .is_none()
        );
        assert!(store.card(&user_id, "c3").await.unwrap().is_none());
        assert!(store.attempts(&only("t-3")).await.unwrap().is_empty());

        // A token PAN already drawn: the conflict the server draws again
        // on, with nothing written, the attempt neither.
        let reserved = new_card("c4", &user_id, "fp4", 6_000);
        assert_eq!(
            store.reserve_card(&reserved, 5, 6_000).await.unwrap(),
            Reserve::Reserved
        );
        let mut done = completion("c4", &user_id, "active", None, 6_000);
        done.token.token_pan_fingerprint = "tpf-c1".to_owned();
        let error = store
            .complete_binding_recorded(&done, &recorded("t-4", "c4", "success"))
            .await
            .unwrap_err();
        assert!(
            matches!(error, StoreError::Conflict("token_pan")),
            "{error:?}"
        );
        assert!(store.attempts(&only("t-4")).await.unwrap().is_empty());
        // Drawn again, it completes: active, but c1 stays the default.
        done.token.token_pan_fingerprint = "tpf-c4".to_owned();
        let card = store
            .complete_binding_recorded(&done, &recorded("t-4", "c4", "success"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(card.status, "active");
        assert!(!card.is_default);
        let read = store.card(&user_id, "c4").await.unwrap().unwrap();
        assert_eq!(format!("{card:?}"), format!("{read:?}"));
        assert_eq!(store.attempts(&only("t-4")).await.unwrap().len(), 1);

        // A trace already recorded does not undo the binding: the first
        // record stands.
        let reserved = new_card("c5", &user_id, "fp5", 7_000);
        assert_eq!(
            store.reserve_card(&reserved, 5, 7_000).await.unwrap(),
            Reserve::Reserved
        );
        let done = completion("c5", &user_id, "active", None, 7_000);
        assert!(
            store
                .complete_binding_recorded(&done, &recorded("t-1", "c5", "success"))
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(store.attempts(&only("t-1")).await.unwrap(), vec![attempt_1]);
    }

    pub async fn card_limit(store: Arc<dyn Store>) {
        let user_id = user(&*store, "1").await;
        for (id, fingerprint) in [("a", "fa"), ("b", "fb"), ("c", "fc")] {
            let card = new_card(id, &user_id, fingerprint, 1_000);
            assert_eq!(
                store.reserve_card(&card, 3, 1_000).await.unwrap(),
                Reserve::Reserved
            );
        }
        // Active, pending and reserved cards all count.
        assert!(
            store
                .complete_binding(&completion("a", &user_id, "active", None, 1_100))
                .await
                .unwrap()
        );
        let pending = completion(
            "b",
            &user_id,
            "pending_verification",
            Some(otp_challenge_until(90_000)),
            1_100,
        );
        assert!(store.complete_binding(&pending).await.unwrap());
        let fourth = new_card("d", &user_id, "fd", 2_000);
        assert_eq!(
            store.reserve_card(&fourth, 3, 2_000).await.unwrap(),
            Reserve::LimitReached { live_cards: 3 }
        );
        // The duplicate answer comes before the limit.
        let dup = new_card("e", &user_id, "fb", 2_000);
        assert_eq!(
            store.reserve_card(&dup, 3, 2_000).await.unwrap(),
            Reserve::AlreadyBound {
                card_id: "b".to_owned(),
                status: "pending_verification".to_owned()
            }
        );
        // A refused reservation leaves nothing behind.
        assert_eq!(
            store.reserve_card(&fourth, 4, 2_000).await.unwrap(),
            Reserve::Reserved
        );
        store.release_card("d").await.unwrap();
        // Unbinding frees a slot.
        assert!(store.unbind_card(&user_id, "a", 3_000).await.unwrap());
        assert_eq!(
            store.reserve_card(&fourth, 3, 3_000).await.unwrap(),
            Reserve::Reserved
        );
        let fifth = new_card("f", &user_id, "ff", 3_000);
        assert_eq!(
            store.reserve_card(&fifth, 3, 3_000).await.unwrap(),
            Reserve::LimitReached { live_cards: 3 }
        );
    }

    pub async fn stale_reservation_freed(store: Arc<dyn Store>) {
        let user_id = user(&*store, "1").await;
        // Held until 61_000 (a crashed node never completes it).
        let first = new_card("c1", &user_id, "fp1", 1_000);
        assert_eq!(
            store.reserve_card(&first, 1, 1_000).await.unwrap(),
            Reserve::Reserved
        );
        let other = new_card("c2", &user_id, "fp2", 61_000);
        assert_eq!(
            store.reserve_card(&other, 1, 61_000).await.unwrap(),
            Reserve::LimitReached { live_cards: 1 }
        );
        let same = new_card("c3", &user_id, "fp1", 61_000);
        assert_eq!(
            store.reserve_card(&same, 1, 61_000).await.unwrap(),
            Reserve::InProgress
        );
        // Past reserved_until the slot and the card are free again.
        assert_eq!(
            store.reserve_card(&same, 1, 61_001).await.unwrap(),
            Reserve::Reserved
        );
        assert!(
            !store
                .complete_binding(&completion("c1", &user_id, "active", None, 61_002))
                .await
                .unwrap()
        );
        assert!(
            store
                .complete_binding(&completion("c3", &user_id, "active", None, 61_002))
                .await
                .unwrap()
        );
        let cards = store.list_cards(&user_id).await.unwrap();
        assert_eq!(cards.len(), 1);
        assert_eq!(cards[0].id, "c3");
    }

    pub async fn expired_otp_frees_slot(store: Arc<dyn Store>) {
        let user_id = user(&*store, "1").await;
        bind_pending(&*store, &user_id, "c1", "fp1", 1_000, 5_000).await;
        let other = new_card("c2", &user_id, "fp2", 4_999);
        assert_eq!(
            store.reserve_card(&other, 1, 4_999).await.unwrap(),
            Reserve::LimitReached { live_cards: 1 }
        );
        let same = new_card("c3", &user_id, "fp1", 4_999);
        assert_eq!(
            store.reserve_card(&same, 1, 4_999).await.unwrap(),
            Reserve::AlreadyBound {
                card_id: "c1".to_owned(),
                status: "pending_verification".to_owned()
            }
        );
        // At expires_at the challenge is over: the card leaves the live set.
        let same = new_card("c3", &user_id, "fp1", 5_000);
        assert_eq!(
            store.reserve_card(&same, 1, 5_000).await.unwrap(),
            Reserve::Reserved
        );
        let ended = store.card(&user_id, "c1").await.unwrap().unwrap();
        assert_eq!(ended.status, "verification_expired");
        assert!(!ended.has_pan_ciphertext);
        assert_eq!(ended.token.unwrap().status, "deleted");
        assert_eq!(ended.otp_sent_to, None);
        assert!(store.otp_challenge("c1").await.unwrap().is_none());
        assert!(
            !store
                .finish_otp("c1", OtpOutcome::Verified, 5_001)
                .await
                .unwrap()
        );
    }

    /// A stale reservation and an expired pending card freed by the same
    /// reservation: both leave the count, whatever else the user holds.
    pub async fn freed_slots_leave_the_count(store: Arc<dyn Store>) {
        let user_id = user(&*store, "1").await;
        bind(&*store, &user_id, "active", "fa", 1_000).await;
        bind_pending(&*store, &user_id, "pending", "fp", 1_000, 5_000).await;
        // Held until 61_000, never completed.
        let stale = new_card("stale", &user_id, "fs", 1_000);
        assert_eq!(
            store.reserve_card(&stale, 3, 1_000).await.unwrap(),
            Reserve::Reserved
        );
        let at = 61_001;
        for (id, fingerprint) in [("n1", "f1"), ("n2", "f2")] {
            let card = new_card(id, &user_id, fingerprint, at);
            assert_eq!(
                store.reserve_card(&card, 3, at).await.unwrap(),
                Reserve::Reserved,
                "{id}"
            );
        }
        let full = new_card("n3", &user_id, "f3", at);
        assert_eq!(
            store.reserve_card(&full, 3, at).await.unwrap(),
            Reserve::LimitReached { live_cards: 3 }
        );
        assert_eq!(
            store
                .card(&user_id, "pending")
                .await
                .unwrap()
                .unwrap()
                .status,
            "verification_expired"
        );
        assert!(
            !store
                .complete_binding(&completion("stale", &user_id, "active", None, at))
                .await
                .unwrap()
        );
    }

    pub async fn set_default(store: Arc<dyn Store>) {
        let user_id = user(&*store, "1").await;
        let other = user(&*store, "2").await;
        bind(&*store, &user_id, "a", "fa", 1_000).await;
        bind(&*store, &user_id, "b", "fb", 2_000).await;
        bind_pending(&*store, &user_id, "p", "fp", 3_000, 90_000).await;
        bind(&*store, &other, "x", "fx", 1_000).await;
        assert_eq!(defaults(&*store, &user_id).await, ["a"]);

        assert!(store.set_default_card(&user_id, "b", 4_000).await.unwrap());
        assert_eq!(defaults(&*store, &user_id).await, ["b"]);
        assert_eq!(
            store.card(&user_id, "a").await.unwrap().unwrap().updated_at,
            4_000
        );
        assert_eq!(
            store.card(&user_id, "b").await.unwrap().unwrap().updated_at,
            4_000
        );
        assert!(store.set_default_card(&user_id, "b", 4_500).await.unwrap());
        assert_eq!(defaults(&*store, &user_id).await, ["b"]);

        assert!(!store.set_default_card(&user_id, "p", 5_000).await.unwrap());
        assert!(!store.set_default_card(&user_id, "x", 5_000).await.unwrap());
        assert!(
            !store
                .set_default_card(&user_id, "nope", 5_000)
                .await
                .unwrap()
        );
        assert_eq!(defaults(&*store, &user_id).await, ["b"]);
        assert_eq!(defaults(&*store, &other).await, ["x"]);
    }

    pub async fn unbind(store: Arc<dyn Store>) {
        let user_id = user(&*store, "1").await;
        let other = user(&*store, "2").await;
        bind(&*store, &user_id, "a", "fa", 1_000).await;
        bind(&*store, &user_id, "b", "fb", 2_000).await;
        bind(&*store, &user_id, "c", "fc", 3_000).await;
        bind_pending(&*store, &user_id, "p", "fp", 4_000, 90_000).await;
        assert_eq!(defaults(&*store, &user_id).await, ["a"]);

        assert!(!store.unbind_card(&other, "a", 5_000).await.unwrap());
        assert!(store.unbind_card(&user_id, "a", 5_000).await.unwrap());
        let gone = store.card(&user_id, "a").await.unwrap().unwrap();
        assert_eq!(gone.status, "unbound");
        assert!(!gone.is_default);
        assert!(!gone.has_pan_ciphertext);
        assert_eq!(gone.updated_at, 5_000);
        assert_eq!(gone.token.unwrap().status, "deleted");
        // The default moves to the newest active card.
        assert_eq!(defaults(&*store, &user_id).await, ["c"]);
        assert!(!store.unbind_card(&user_id, "a", 5_001).await.unwrap());

        // A pending card can be unbound; its challenge goes with it.
        assert!(store.unbind_card(&user_id, "p", 6_000).await.unwrap());
        assert!(store.otp_challenge("p").await.unwrap().is_none());
        assert_eq!(
            store.card(&user_id, "p").await.unwrap().unwrap().status,
            "unbound"
        );

        // A reservation cannot be unbound.
        let reserved = new_card("r", &user_id, "fr", 7_000);
        assert_eq!(
            store.reserve_card(&reserved, 10, 7_000).await.unwrap(),
            Reserve::Reserved
        );
        assert!(!store.unbind_card(&user_id, "r", 7_000).await.unwrap());

        // The unbound card may be bound again; unbound cards stay listed.
        bind(&*store, &user_id, "a2", "fa", 8_000).await;
        let listed: Vec<(String, String)> = store
            .list_cards(&user_id)
            .await
            .unwrap()
            .into_iter()
            .map(|card| (card.id, card.status))
            .collect();
        let listed: Vec<(&str, &str)> = listed
            .iter()
            .map(|(id, status)| (id.as_str(), status.as_str()))
            .collect();
        assert_eq!(
            listed,
            [
                ("a2", "active"),
                ("p", "unbound"),
                ("c", "active"),
                ("b", "active"),
                ("a", "unbound")
            ]
        );

        // Unbinding the last active cards leaves no default.
        for id in ["a2", "b", "c"] {
            assert!(store.unbind_card(&user_id, id, 9_000).await.unwrap());
        }
        assert!(defaults(&*store, &user_id).await.is_empty());
    }

    fn payment(id: &str, token_ref: &str, user_id: &str, atc: u16, at: i64) -> PaymentRecord {
        PaymentRecord {
            id: id.to_owned(),
            user_id: user_id.to_owned(),
            card_id: token_ref.trim_start_matches("tok-").to_owned(),
            token_ref: token_ref.to_owned(),
            merchant_key_id: "key-m".to_owned(),
            merchant_id: "M1".to_owned(),
            merchant_name: Some("便利店".to_owned()),
            channel: "nfc".to_owned(),
            amount: 1234,
            currency: "CNY".to_owned(),
            atc: Some(atc),
            cryptogram_result: "verified".to_owned(),
            status: "pending".to_owned(),
            trace_id: format!("req-{id}"),
            created_at: at,
            ..PaymentRecord::default()
        }
    }

    fn claim(token_ref: &str, user_id: &str, atc: u16, id: &str) -> AtcClaim {
        AtcClaim {
            token_ref: token_ref.to_owned(),
            atc,
            window: 4,
            payment: payment(id, token_ref, user_id, atc, 10_000 + i64::from(atc)),
        }
    }

    pub async fn payment_tokens_and_atcs(store: Arc<dyn Store>) {
        let user_id = user(&*store, "1").await;
        bind(&*store, &user_id, "a", "fa", 1_000).await;
        let by_ref = store
            .payment_token(TokenLookup::Ref("tok-a"))
            .await
            .unwrap()
            .unwrap();
        let by_pan = store
            .payment_token(TokenLookup::PanFingerprint("tpf-a"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(by_ref.token.token_ref, by_pan.token.token_ref);
        assert_eq!(by_ref.user_id, user_id);
        assert_eq!(by_ref.card_status, "active");
        assert_eq!(by_ref.issuer_code.as_deref(), Some("ICBC"));
        assert_eq!(by_ref.pan_ciphertext.as_deref(), Some(&[0xA5; 48][..]));
        assert_eq!(
            by_ref.token_pan_ciphertext.as_deref(),
            Some(&[0x5A; 48][..])
        );
        assert_eq!(by_ref.token.imk_range.as_deref(), Some("629990"));
        assert_eq!((by_ref.token.atc_issued, by_ref.token.atc_high), (0, 0));
        assert!(
            store
                .payment_token(TokenLookup::PanFingerprint("tpf-x"))
                .await
                .unwrap()
                .is_none()
        );
        // A second token with the same PAN fingerprint is refused.
        let mut twin = completion("b", &user_id, "active", None, 1_500);
        twin.token.token_pan_fingerprint = "tpf-a".to_owned();
        store
            .reserve_card(&new_card("b", &user_id, "fb", 1_500), 10, 1_500)
            .await
            .unwrap();
        assert!(matches!(
            store.complete_binding(&twin).await,
            Err(StoreError::Conflict("token_pan"))
        ));

        // ATC ranges follow each other.
        assert_eq!(
            store.reserve_atcs("tok-a", 10, 2_000).await.unwrap(),
            Some(1)
        );
        assert_eq!(
            store.reserve_atcs("tok-a", 3, 2_000).await.unwrap(),
            Some(11)
        );
        assert_eq!(store.reserve_atcs("tok-x", 3, 2_000).await.unwrap(), None);

        // Claims: once each, inside the window, only handed-out ATCs.
        let outcome = |c: AtcClaim| {
            let store = store.clone();
            async move { store.claim_atc(&c).await.unwrap() }
        };
        assert_eq!(
            outcome(claim("tok-a", &user_id, 8, "p8")).await,
            AtcClaimOutcome::Claimed
        );
        assert_eq!(
            outcome(claim("tok-a", &user_id, 8, "p8b")).await,
            AtcClaimOutcome::Used
        );
        assert_eq!(
            outcome(claim("tok-a", &user_id, 3, "p3")).await,
            AtcClaimOutcome::BehindWindow
        );
        assert_eq!(
            outcome(claim("tok-a", &user_id, 4, "p4")).await,
            AtcClaimOutcome::Claimed
        );
        assert_eq!(
            outcome(claim("tok-a", &user_id, 14, "p14")).await,
            AtcClaimOutcome::NotIssued
        );
        assert_eq!(
            outcome(claim("tok-a", &user_id, 0, "p0")).await,
            AtcClaimOutcome::NotIssued
        );
        let token = store
            .payment_token(TokenLookup::Ref("tok-a"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((token.token.atc_issued, token.token.atc_high), (13, 8));
        // A claim recorded its payment as pending; finishing writes the outcome.
        let mut done = payment("p8", "tok-a", &user_id, 8, 10_008);
        done.status = "approved".to_owned();
        done.authorization_code = Some("123456".to_owned());
        store.finish_payment(&done).await.unwrap();
        // Released, an ATC can be claimed again (the issuer never answered).
        store.release_atc("tok-a", 4, "p4").await.unwrap();
        assert_eq!(
            outcome(claim("tok-a", &user_id, 4, "p4-retry")).await,
            AtcClaimOutcome::Claimed
        );
        // A declined payment without a claim is recorded as it is.
        let mut declined = payment("p-declined", "tok-a", &user_id, 9, 20_000);
        declined.status = "declined".to_owned();
        declined.error_code = Some("card_declined".to_owned());
        declined.decline_code = Some("insufficient_funds".to_owned());
        store.record_payment(&declined).await.unwrap();

        let page = |before: Option<(i64, String)>| {
            let (store, user_id) = (store.clone(), user_id.clone());
            async move {
                store
                    .payments(&PaymentFilter {
                        user_id,
                        before,
                        limit: 2,
                    })
                    .await
                    .unwrap()
            }
        };
        let first = page(None).await;
        let ids: Vec<&str> = first.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["p-declined", "p8"]);
        assert_eq!(first[0], declined);
        assert_eq!(first[1], done);
        let last = first.last().unwrap();
        let rest = page(Some((last.created_at, last.id.clone()))).await;
        let ids: Vec<&str> = rest.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["p4-retry", "p4"], "ties in time page by id");
        assert!(rest.iter().all(|p| p.status == "pending"));

        // A token no longer active claims nothing.
        assert!(store.unbind_card(&user_id, "a", 30_000).await.unwrap());
        assert_eq!(
            outcome(claim("tok-a", &user_id, 12, "p12")).await,
            AtcClaimOutcome::TokenNotActive
        );
        assert_eq!(store.reserve_atcs("tok-a", 1, 30_000).await.unwrap(), None);
    }

    pub async fn cryptograms(store: Arc<dyn Store>) {
        let user_id = user(&*store, "1").await;
        bind(&*store, &user_id, "a", "fa", 1_000).await;
        let made = CryptogramRecord {
            token_ref: "tok-a".to_owned(),
            atc: 1,
            amount: 5_000,
            currency: "CNY".to_owned(),
            merchant_id: "SHOP-1".to_owned(),
            transaction_date: "2027-01-02".to_owned(),
            unpredictable_number: "0A0B0C0D".to_owned(),
            expires_at: 301_000,
            created_at: 1_000,
        };
        store.create_cryptogram(&made).await.unwrap();
        assert_eq!(
            store.cryptogram("tok-a", 1).await.unwrap(),
            Some(made.clone())
        );
        assert_eq!(store.cryptogram("tok-a", 2).await.unwrap(), None);
        assert!(matches!(
            store.create_cryptogram(&made).await,
            Err(StoreError::Conflict(_))
        ));
    }

    pub async fn token_lifecycle(store: Arc<dyn Store>) {
        let user_id = user(&*store, "1").await;
        bind(&*store, &user_id, "a", "fa", 1_000).await;
        bind(&*store, &user_id, "b", "fb", 1_100).await;
        let event = |kind: &str, actor: &str, after: &str, at: i64| TokenEvent {
            token_ref: "tok-a".to_owned(),
            kind: kind.to_owned(),
            actor: actor.to_owned(),
            reason: Some(format!("{kind} by {actor}")),
            status_after: after.to_owned(),
            created_at: at,
        };
        let change =
            |from: (&str, &[&str]), to: (&str, &[&str]), event: TokenEvent| TokenStateChange {
                token_ref: "tok-a".to_owned(),
                from_status: from.0.to_owned(),
                from_suspenders: from.1.iter().map(|s| (*s).to_owned()).collect(),
                to_status: to.0.to_owned(),
                to_suspenders: to.1.iter().map(|s| (*s).to_owned()).collect(),
                event,
            };
        let suspend_issuer = change(
            ("active", &[]),
            ("suspended", &["issuer"]),
            event("suspend", "issuer", "suspended", 2_000),
        );
        assert!(store.change_token_state(&suspend_issuer).await.unwrap());
        // The same change again starts from a state that is gone: refused.
        assert!(!store.change_token_state(&suspend_issuer).await.unwrap());
        let both = change(
            ("suspended", &["issuer"]),
            ("suspended", &["issuer", "cardholder"]),
            event("suspend", "cardholder", "suspended", 3_000),
        );
        assert!(store.change_token_state(&both).await.unwrap());
        let card = store.card(&user_id, "a").await.unwrap().unwrap();
        let token = card.token.unwrap();
        assert_eq!(token.status, "suspended");
        assert_eq!(token.suspenders, ["issuer", "cardholder"]);

        assert!(
            store
                .delete_token(&event("delete", "wallet", "deleted", 4_000))
                .await
                .unwrap()
        );
        assert!(
            !store
                .delete_token(&event("delete", "wallet", "deleted", 4_001))
                .await
                .unwrap()
        );
        let card = store.card(&user_id, "a").await.unwrap().unwrap();
        assert_eq!(card.status, "unbound");
        assert!(!card.has_pan_ciphertext);
        let token = card.token.unwrap();
        assert_eq!(token.status, "deleted");
        assert!(token.suspenders.is_empty());
        assert_eq!(defaults(&*store, &user_id).await, ["b"]);
        let kinds: Vec<(String, String)> = store
            .token_events("tok-a", 10)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.kind, e.actor))
            .collect();
        let kinds: Vec<(&str, &str)> = kinds
            .iter()
            .map(|(k, a)| (k.as_str(), a.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("delete", "wallet"),
                ("suspend", "cardholder"),
                ("suspend", "issuer")
            ]
        );
        // Unbinding is recorded as the cardholder's delete.
        assert!(store.unbind_card(&user_id, "b", 5_000).await.unwrap());
        let events = store.token_events("tok-b", 10).await.unwrap();
        assert_eq!(
            (events[0].kind.as_str(), events[0].actor.as_str()),
            ("delete", "cardholder")
        );
    }

    pub async fn issuer_changes(store: Arc<dyn Store>) {
        let user_id = user(&*store, "1").await;
        bind(&*store, &user_id, "a", "fa", 1_000).await;
        bind(&*store, &user_id, "b", "fb", 1_100).await;
        let record = |id: &str, hash: &str| IssuerEventRecord {
            key_id: "key-i".to_owned(),
            event_id: id.to_owned(),
            kind: "card.replaced".to_owned(),
            occurred_at: 5_000,
            body_hash: hash.to_owned(),
            received_at: 6_000,
        };
        assert_eq!(
            store.issuer_event_begin(&record("e1", "h1")).await.unwrap(),
            IssuerEventBegin::Started
        );
        assert_eq!(
            store.issuer_event_begin(&record("e1", "h1")).await.unwrap(),
            IssuerEventBegin::Duplicate { outcome: None }
        );
        assert_eq!(
            store.issuer_event_begin(&record("e1", "h2")).await.unwrap(),
            IssuerEventBegin::Conflict
        );
        store
            .issuer_event_finish("key-i", "e1", Some("applied"))
            .await
            .unwrap();
        assert_eq!(
            store.issuer_event_begin(&record("e1", "h1")).await.unwrap(),
            IssuerEventBegin::Duplicate {
                outcome: Some("applied".to_owned())
            }
        );
        // A failed event is forgotten, so a retry starts again.
        store.issuer_event_begin(&record("e2", "h1")).await.unwrap();
        store
            .issuer_event_finish("key-i", "e2", None)
            .await
            .unwrap();
        assert_eq!(
            store.issuer_event_begin(&record("e2", "h1")).await.unwrap(),
            IssuerEventBegin::Started
        );

        let found = store
            .cards_for_issuer(CardSelector::Par("par-fa"))
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, "a");
        let found = store
            .cards_for_issuer(CardSelector::PanFingerprint("fb"))
            .await
            .unwrap();
        assert_eq!(found[0].id, "b");

        let replace = |fingerprint: &str, at: i64| IssuerChange {
            card_id: "a".to_owned(),
            occurred_at: at,
            kind: IssuerChangeKind::Replace {
                pan_fingerprint: fingerprint.to_owned(),
                pan_key_version: 2,
                pan_ciphertext: vec![0xB6; 48],
                first6: "622202".to_owned(),
                last4: "9999".to_owned(),
                pan_length: 19,
                expiry: Some((9, 2033)),
                token_expiry: (9, 2033),
            },
            reason: Some("reissued".to_owned()),
            now: 7_000,
        };
        // The new number is already the user's other card: refused, unchanged.
        assert_eq!(
            store
                .apply_issuer_change(&replace("fb", 5_000))
                .await
                .unwrap(),
            IssuerApply::Conflict
        );
        assert_eq!(
            store
                .apply_issuer_change(&replace("fa2", 5_000))
                .await
                .unwrap(),
            IssuerApply::Applied
        );
        let card = store.card(&user_id, "a").await.unwrap().unwrap();
        assert_eq!(
            (card.pan_fingerprint.as_str(), card.last4.as_str()),
            ("fa2", "9999")
        );
        assert_eq!((card.expiry_month, card.expiry_year), (Some(9), Some(2033)));
        assert_eq!(card.par, "par-fa", "the PAR stays");
        let token = card.token.unwrap();
        assert_eq!(
            (
                token.token_ref.as_str(),
                token.expiry_month,
                token.expiry_year
            ),
            ("tok-a", 9, 2033)
        );
        let paying = store
            .payment_token(TokenLookup::Ref("tok-a"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(paying.pan_ciphertext.as_deref(), Some(&[0xB6; 48][..]));
        assert_eq!(paying.pan_key_version, Some(2));

        // An older event never overwrites the newer state.
        let older = IssuerChange {
            card_id: "a".to_owned(),
            occurred_at: 4_000,
            kind: IssuerChangeKind::Expiry {
                expiry: (1, 2030),
                token_expiry: (1, 2030),
            },
            reason: None,
            now: 8_000,
        };
        assert_eq!(
            store.apply_issuer_change(&older).await.unwrap(),
            IssuerApply::Stale
        );
        let newer = IssuerChange {
            occurred_at: 6_000,
            ..older.clone()
        };
        assert_eq!(
            store.apply_issuer_change(&newer).await.unwrap(),
            IssuerApply::Applied
        );
        let card = store.card(&user_id, "a").await.unwrap().unwrap();
        assert_eq!((card.expiry_month, card.expiry_year), (Some(1), Some(2030)));

        let close = IssuerChange {
            card_id: "a".to_owned(),
            occurred_at: 9_000,
            kind: IssuerChangeKind::Close,
            reason: Some("account closed".to_owned()),
            now: 9_500,
        };
        assert_eq!(
            store.apply_issuer_change(&close).await.unwrap(),
            IssuerApply::Applied
        );
        let card = store.card(&user_id, "a").await.unwrap().unwrap();
        assert_eq!(card.status, "closed");
        assert!(!card.has_pan_ciphertext);
        assert_eq!(card.token.unwrap().status, "deleted");
        assert_eq!(
            store.apply_issuer_change(&close).await.unwrap(),
            IssuerApply::NotLive
        );
        assert!(
            store
                .cards_for_issuer(CardSelector::Par("par-fa"))
                .await
                .unwrap()
                .is_empty()
        );
        let kinds: Vec<String> = store
            .token_events("tok-a", 10)
            .await
            .unwrap()
            .into_iter()
            .map(|e| format!("{}:{}:{}", e.kind, e.actor, e.status_after))
            .collect();
        assert_eq!(
            kinds,
            [
                "card_closed:issuer:deleted",
                "expiry_updated:issuer:active",
                "card_replaced:issuer:active"
            ]
        );
        assert!(store.unindexed_tokens(10).await.unwrap().is_empty());
    }

    /// One ATC claimed by 16 requests at once (16 connections, as 16 nodes
    /// would): exactly one wins; batches of keys handed out at once never
    /// overlap.
    pub async fn concurrent_atc_claims(store: Arc<dyn Store>) {
        let user_id = user(&*store, "1").await;
        bind(&*store, &user_id, "a", "fa", 1_000).await;
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .reserve_atcs("tok-a", 10, 2_000)
                    .await
                    .unwrap()
                    .unwrap()
            }));
        }
        let mut firsts = Vec::new();
        for task in tasks {
            firsts.push(task.await.unwrap());
        }
        firsts.sort_unstable();
        assert_eq!(firsts, [1, 11, 21, 31, 41, 51, 61, 71]);
        let mut tasks = Vec::new();
        for n in 0..16 {
            let (store, user_id) = (store.clone(), user_id.clone());
            tasks.push(tokio::spawn(async move {
                store
                    .claim_atc(&claim("tok-a", &user_id, 5, &format!("p{n}")))
                    .await
                    .unwrap()
            }));
        }
        let mut claimed = 0;
        for task in tasks {
            match task.await.unwrap() {
                AtcClaimOutcome::Claimed => claimed += 1,
                other => assert_eq!(other, AtcClaimOutcome::Used),
            }
        }
        assert_eq!(claimed, 1);
        let recorded = store
            .payments(&PaymentFilter {
                user_id,
                before: None,
                limit: 50,
            })
            .await
            .unwrap();
        assert_eq!(recorded.len(), 1);
    }

    pub async fn otp(store: Arc<dyn Store>) {
        let user_id = user(&*store, "1").await;
        bind_pending(&*store, &user_id, "c1", "fp1", 1_000, 10_000).await;
        let challenge = store.otp_challenge("c1").await.unwrap().unwrap();
        assert_eq!(challenge.card_id, "c1");
        assert_eq!(challenge.code_hash, "otp-hash");
        assert_eq!(challenge.sent_to_masked, "138****0000");
        assert_eq!(challenge.expires_at, 10_000);
        assert_eq!(challenge.failures, 0);
        for expected in 1..=3 {
            assert_eq!(store.record_otp_failure("c1").await.unwrap(), expected);
        }
        assert_eq!(
            store.otp_challenge("c1").await.unwrap().unwrap().failures,
            3
        );
        assert_eq!(store.record_otp_failure("nope").await.unwrap(), 0);
        assert!(store.otp_challenge("nope").await.unwrap().is_none());

        assert!(
            store
                .finish_otp("c1", OtpOutcome::Verified, 2_000)
                .await
                .unwrap()
        );
        let verified = store.card(&user_id, "c1").await.unwrap().unwrap();
        assert_eq!(verified.status, "active");
        assert!(verified.is_default);
        assert!(verified.has_pan_ciphertext);
        assert_eq!(verified.updated_at, 2_000);
        assert_eq!(verified.token.unwrap().status, "active");
        assert_eq!(verified.otp_sent_to, None);
        assert!(store.otp_challenge("c1").await.unwrap().is_none());
        // Ended once only, whatever the second outcome.
        for outcome in [
            OtpOutcome::Verified,
            OtpOutcome::Failed,
            OtpOutcome::Expired,
        ] {
            assert!(!store.finish_otp("c1", outcome, 2_001).await.unwrap());
        }
        assert!(
            !store
                .finish_otp("nope", OtpOutcome::Verified, 2_001)
                .await
                .unwrap()
        );

        bind_pending(&*store, &user_id, "c2", "fp2", 3_000, 10_000).await;
        assert!(
            store
                .finish_otp("c2", OtpOutcome::Failed, 3_500)
                .await
                .unwrap()
        );
        let failed = store.card(&user_id, "c2").await.unwrap().unwrap();
        assert_eq!(failed.status, "verification_failed");
        assert!(!failed.has_pan_ciphertext);
        assert!(!failed.is_default);
        assert_eq!(failed.token.unwrap().status, "deleted");
        assert!(store.otp_challenge("c2").await.unwrap().is_none());
        assert_eq!(store.record_otp_failure("c2").await.unwrap(), 0);

        bind_pending(&*store, &user_id, "c3", "fp3", 4_000, 10_000).await;
        assert!(
            store
                .finish_otp("c3", OtpOutcome::Expired, 4_500)
                .await
                .unwrap()
        );
        let expired = store.card(&user_id, "c3").await.unwrap().unwrap();
        assert_eq!(expired.status, "verification_expired");
        assert_eq!(expired.token.unwrap().status, "deleted");

        // A failed or expired card may be bound again.
        bind(&*store, &user_id, "c2b", "fp2", 5_000).await;
        bind(&*store, &user_id, "c3b", "fp3", 5_000).await;
        assert_eq!(defaults(&*store, &user_id).await, ["c1"]);
    }

    pub async fn sandbox_sms(store: Arc<dyn Store>) {
        for (at, body) in [(1, "one"), (2, "two"), (3, "验证码 123456")] {
            store.push_sandbox_sms("+86-1", body, at).await.unwrap();
        }
        store.push_sandbox_sms("+86-2", "other", 4).await.unwrap();
        let all = store.sandbox_sms("+86-1", 10).await.unwrap();
        let bodies: Vec<&str> = all.iter().map(|sms| sms.body.as_str()).collect();
        assert_eq!(bodies, ["验证码 123456", "two", "one"]);
        assert!(all.iter().all(|sms| sms.phone == "+86-1"));
        assert_eq!(all[0].created_at, 3);
        let newest = store.sandbox_sms("+86-1", 2).await.unwrap();
        assert_eq!(newest.len(), 2);
        assert_eq!(newest[1].body, "two");
        assert_eq!(store.sandbox_sms("+86-2", 10).await.unwrap().len(), 1);
        assert!(store.sandbox_sms("+86-3", 10).await.unwrap().is_empty());
    }

    pub async fn attempts(store: Arc<dyn Store>) {
        let full = AttemptRecord {
            trace_id: "t-full".to_owned(),
            user_id: "u1".to_owned(),
            card_id: Some("c1".to_owned()),
            masked_pan: Some("622202******1234".to_owned()),
            first6: Some("622202".to_owned()),
            last4: Some("1234".to_owned()),
            brand: Some("unionpay".to_owned()),
            issuer_code: Some("ICBC".to_owned()),
            issuer_name: Some("中国工商银行".to_owned()),
            card_type: Some("debit".to_owned()),
            country: Some("CN".to_owned()),
            device: Some(r#"{"os":"android"}"#.to_owned()),
            outcome: "success".to_owned(),
            error_code: None,
            cause: Some("none".to_owned()),
            error_param: Some("pan".to_owned()),
            error_reason: Some("reason".to_owned()),
            issuer_response: Some("00".to_owned()),
            latency_ms: 321,
            created_at: 600,
        };
        store.record_attempt(&full).await.unwrap();
        for at in [100, 200, 300, 400, 500] {
            store
                .record_attempt(&attempt(&format!("t-{at}"), "u1", at))
                .await
                .unwrap();
        }
        // Ties are ordered by trace id, byte-wise and newest-first ('a' before 'B').
        store
            .record_attempt(&attempt("a-tie", "u2", 300))
            .await
            .unwrap();
        store
            .record_attempt(&attempt("B-tie", "u2", 300))
            .await
            .unwrap();
        // A trace is recorded once; the first record stands.
        store
            .record_attempt(&attempt("t-full", "u9", 1))
            .await
            .unwrap();

        let ids = |records: Vec<AttemptRecord>| -> Vec<String> {
            records.into_iter().map(|record| record.trace_id).collect()
        };
        let filter = |user: Option<&str>, since: Option<i64>, before: Option<i64>, limit: u32| {
            AttemptFilter {
                user_id: user.map(str::to_owned),
                trace_id: None,
                since,
                // A cursor with an empty trace id: strictly older than `before`.
                before: before.map(|at| (at, String::new())),
                limit,
            }
        };
        assert_eq!(
            ids(store
                .attempts(&filter(Some("u1"), None, None, 10))
                .await
                .unwrap()),
            ["t-full", "t-500", "t-400", "t-300", "t-200", "t-100"]
        );
        assert_eq!(
            ids(store
                .attempts(&filter(Some("u1"), None, None, 2))
                .await
                .unwrap()),
            ["t-full", "t-500"]
        );
        // Paging backwards: strictly older than `before`.
        assert_eq!(
            ids(store
                .attempts(&filter(Some("u1"), None, Some(400), 2))
                .await
                .unwrap()),
            ["t-300", "t-200"]
        );
        // `since` is inclusive.
        assert_eq!(
            ids(store
                .attempts(&filter(Some("u1"), Some(300), Some(500), 10))
                .await
                .unwrap()),
            ["t-400", "t-300"]
        );
        assert_eq!(
            ids(store
                .attempts(&filter(None, Some(300), Some(301), 10))
                .await
                .unwrap()),
            ["t-300", "a-tie", "B-tie"]
        );
        // A cursor inside a tie continues after its trace id.
        let after_tie = AttemptFilter {
            user_id: None,
            trace_id: None,
            since: Some(300),
            before: Some((300, "a-tie".to_owned())),
            limit: 10,
        };
        assert_eq!(ids(store.attempts(&after_tie).await.unwrap()), ["B-tie"]);
        // A limit of 0 means 1.
        assert_eq!(
            ids(store.attempts(&filter(None, None, None, 0)).await.unwrap()),
            ["t-full"]
        );
        assert_eq!(
            store
                .attempts(&filter(None, None, None, 100))
                .await
                .unwrap()
                .len(),
            8
        );
        let by_trace = AttemptFilter {
            trace_id: Some("t-full".to_owned()),
            limit: 10,
            ..AttemptFilter::default()
        };
        assert_eq!(store.attempts(&by_trace).await.unwrap(), vec![full]);
        let nobody = filter(Some("u3"), None, None, 10);
        assert!(store.attempts(&nobody).await.unwrap().is_empty());
    }

    pub async fn idempotency(store: Arc<dyn Store>) {
        use IdempotencyBegin::*;
        let stale = 60_000;
        assert_eq!(
            store
                .idempotency_begin("u1", "k", "fp", 1_000, stale)
                .await
                .unwrap(),
            Started
        );
        assert_eq!(
            store
                .idempotency_begin("u1", "k", "fp", 1_001, stale)
                .await
                .unwrap(),
            InProgress
        );
        assert_eq!(
            store
                .idempotency_begin("u1", "k", "other", 1_001, stale)
                .await
                .unwrap(),
            Conflict
        );
        // Keys are per scope.
        assert_eq!(
            store
                .idempotency_begin("u2", "k", "other", 1_000, stale)
                .await
                .unwrap(),
            Started
        );
        store
            .idempotency_finish("u1", "k", 201, r#"{"card":"c1"}"#)
            .await
            .unwrap();
        assert_eq!(
            store
                .idempotency_begin("u1", "k", "fp", 999_999, stale)
                .await
                .unwrap(),
            Replay {
                status: 201,
                body: r#"{"card":"c1"}"#.to_owned()
            }
        );
        assert_eq!(
            store
                .idempotency_begin("u1", "k", "other", 2_000, stale)
                .await
                .unwrap(),
            Conflict
        );
        // Abandoning a finished key changes nothing.
        store.idempotency_abandon("u1", "k").await.unwrap();
        assert!(matches!(
            store
                .idempotency_begin("u1", "k", "fp", 2_000, stale)
                .await
                .unwrap(),
            Replay { status: 201, .. }
        ));

        // An abandoned key can be used again, even with another body.
        assert_eq!(
            store
                .idempotency_begin("u1", "k2", "fp", 1_000, stale)
                .await
                .unwrap(),
            Started
        );
        store.idempotency_abandon("u1", "k2").await.unwrap();
        assert_eq!(
            store
                .idempotency_begin("u1", "k2", "fp2", 1_000, stale)
                .await
                .unwrap(),
            Started
        );

        // A request that died mid-way is taken over once it is stale...
        assert_eq!(
            store
                .idempotency_begin("u1", "k3", "fp", 1_000, stale)
                .await
                .unwrap(),
            Started
        );
        assert_eq!(
            store
                .idempotency_begin("u1", "k3", "fp", 61_000, stale)
                .await
                .unwrap(),
            InProgress
        );
        assert_eq!(
            store
                .idempotency_begin("u1", "k3", "other", 61_001, stale)
                .await
                .unwrap(),
            Conflict
        );
        assert_eq!(
            store
                .idempotency_begin("u1", "k3", "fp", 61_001, stale)
                .await
                .unwrap(),
            Started
        );
        // ...by one request only.
        assert_eq!(
            store
                .idempotency_begin("u1", "k3", "fp", 61_002, stale)
                .await
                .unwrap(),
            InProgress
        );

        // Purge: u1/k, u2/k and u1/k2 began at 1_000; u1/k3 at 61_001.
        assert_eq!(store.idempotency_purge(1_000).await.unwrap(), 0);
        assert_eq!(store.idempotency_purge(61_001).await.unwrap(), 3);
        assert_eq!(store.idempotency_purge(61_001).await.unwrap(), 0);
        assert_eq!(
            store
                .idempotency_begin("u1", "k", "other", 70_000, stale)
                .await
                .unwrap(),
            Started
        );
        assert_eq!(
            store
                .idempotency_begin("u1", "k3", "fp", 70_000, stale)
                .await
                .unwrap(),
            InProgress
        );
        assert_eq!(store.idempotency_purge(i64::MAX).await.unwrap(), 2);
    }

    pub async fn settings(store: Arc<dyn Store>) {
        assert_eq!(store.setting("maintenance").await.unwrap(), None);
        store.put_setting("maintenance", "on", 1).await.unwrap();
        assert_eq!(
            store.setting("maintenance").await.unwrap().as_deref(),
            Some("on")
        );
        let value = r#"{"decline":"05","说明":"维护"}"#;
        store.put_setting("maintenance", value, 2).await.unwrap();
        assert_eq!(
            store.setting("maintenance").await.unwrap().as_deref(),
            Some(value)
        );
        store
            .put_setting("sandbox_issuer", "approve", 3)
            .await
            .unwrap();
        // Several at once, in the order asked, None where unset.
        assert_eq!(
            store
                .settings(&["sandbox_issuer", "nothing", "maintenance"])
                .await
                .unwrap(),
            [Some("approve".to_owned()), None, Some(value.to_owned())]
        );
        assert!(store.settings(&[]).await.unwrap().is_empty());
        assert!(store.delete_setting("maintenance").await.unwrap());
        assert!(!store.delete_setting("maintenance").await.unwrap());
        assert_eq!(store.setting("maintenance").await.unwrap(), None);
        assert_eq!(
            store.setting("sandbox_issuer").await.unwrap().as_deref(),
            Some("approve")
        );
    }

    // Concurrency: the rules hold however requests race (on PostgreSQL each
    // task may run on its own connection, as on its own node).

    pub async fn concurrent_card_limit(store: Arc<dyn Store>) {
        let user_id = user(&*store, "1").await;
        let mut tasks = Vec::new();
        for n in 0..20 {
            let store = store.clone();
            let user_id = user_id.clone();
            tasks.push(tokio::spawn(async move {
                let card = new_card(&format!("c{n:02}"), &user_id, &format!("fp{n}"), 1_000);
                let outcome = store.reserve_card(&card, 5, 1_000).await.unwrap();
                (card.id, outcome)
            }));
        }
        let mut reserved = Vec::new();
        for task in tasks {
            match task.await.unwrap() {
                (id, Reserve::Reserved) => reserved.push(id),
                (_, Reserve::LimitReached { live_cards }) => assert_eq!(live_cards, 5),
                (_, other) => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(reserved.len(), 5);

        // Completing them all at once still leaves exactly one default.
        let mut tasks = Vec::new();
        for id in reserved.clone() {
            let store = store.clone();
            let user_id = user_id.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .complete_binding(&completion(&id, &user_id, "active", None, 2_000))
                    .await
                    .unwrap()
            }));
        }
        for task in tasks {
            assert!(task.await.unwrap());
        }
        assert_eq!(store.list_cards(&user_id).await.unwrap().len(), 5);
        assert_eq!(defaults(&*store, &user_id).await.len(), 1);

        // So does choosing defaults at once.
        let mut tasks = Vec::new();
        for id in reserved {
            let store = store.clone();
            let user_id = user_id.clone();
            tasks.push(tokio::spawn(async move {
                store.set_default_card(&user_id, &id, 3_000).await.unwrap()
            }));
        }
        for task in tasks {
            assert!(task.await.unwrap());
        }
        assert_eq!(defaults(&*store, &user_id).await.len(), 1);
    }

    pub async fn concurrent_same_card(store: Arc<dyn Store>) {
        let user_id = user(&*store, "1").await;
        let mut tasks = Vec::new();
        for n in 0..16 {
            let store = store.clone();
            let user_id = user_id.clone();
            tasks.push(tokio::spawn(async move {
                let card = new_card(&format!("c{n:02}"), &user_id, "same-pan", 1_000);
                store.reserve_card(&card, 5, 1_000).await.unwrap()
            }));
        }
        let mut reserved = 0;
        for task in tasks {
            match task.await.unwrap() {
                Reserve::Reserved => reserved += 1,
                Reserve::InProgress => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(reserved, 1);
    }

    pub async fn concurrent_idempotency(store: Arc<dyn Store>) {
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .idempotency_begin("u1", "one-key", "fp", 1_000, 60_000)
                    .await
                    .unwrap()
            }));
        }
        let mut started = 0;
        for task in tasks {
            match task.await.unwrap() {
                IdempotencyBegin::Started => started += 1,
                IdempotencyBegin::InProgress => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(started, 1);

        // A stale key is taken over by one request only.
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .idempotency_begin("u1", "one-key", "fp", 100_000, 60_000)
                    .await
                    .unwrap()
            }));
        }
        let mut taken = 0;
        for task in tasks {
            match task.await.unwrap() {
                IdempotencyBegin::Started => taken += 1,
                IdempotencyBegin::InProgress => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(taken, 1);
    }

    pub async fn concurrent_counters(store: Arc<dyn Store>) {
        let user_id = user(&*store, "1").await;
        bind_pending(&*store, &user_id, "c1", "fp1", 1_000, 90_000).await;
        let mut otp_tasks = Vec::new();
        let mut login_tasks = Vec::new();
        for _ in 0..20 {
            let store_a = store.clone();
            otp_tasks.push(tokio::spawn(async move {
                store_a.record_otp_failure("c1").await.unwrap()
            }));
            let store_b = store.clone();
            login_tasks.push(tokio::spawn(async move {
                store_b
                    .record_login_failure("phone-hash", 1_000, 60_000)
                    .await
                    .unwrap()
                    .failures
            }));
        }
        let mut otp_counts = Vec::new();
        for task in otp_tasks {
            otp_counts.push(task.await.unwrap());
        }
        let mut login_counts = Vec::new();
        for task in login_tasks {
            login_counts.push(task.await.unwrap());
        }
        otp_counts.sort_unstable();
        login_counts.sort_unstable();
        let expected: Vec<u32> = (1..=20).collect();
        assert_eq!(otp_counts, expected, "every wrong code counts once");
        assert_eq!(login_counts, expected, "every failed sign-in counts once");
    }

    /// `tessera seed`'s bulk load leaves what bindings would: active cards
    /// with tokens, one default per user, an attempt each; a batch with a
    /// rule broken writes nothing.
    pub async fn seed_batch(store: Arc<dyn Store>) {
        let seeded =
            |card_id: &str, user_id: &str, fingerprint: &str, is_default: bool| SeededCard {
                card: new_card(card_id, user_id, fingerprint, 5_000),
                completion: completion(card_id, user_id, "active", None, 5_000),
                attempt: AttemptRecord {
                    card_id: Some(card_id.to_owned()),
                    outcome: "success".to_owned(),
                    error_code: None,
                    ..attempt(&format!("trace-{card_id}"), user_id, 5_000)
                },
                is_default,
            };
        let batch = SeedBatch {
            users: vec![new_user("1"), new_user("2")],
            cards: vec![
                seeded("card-a1", "user-1", "fp-1", true),
                seeded("card-a2", "user-1", "fp-2", false),
                seeded("card-b1", "user-2", "fp-1", true),
            ],
        };
        store.seed_batch(&batch).await.unwrap();
        let cards = store.list_cards("user-1").await.unwrap();
        assert_eq!(cards.len(), 2);
        assert!(
            cards
                .iter()
                .all(|c| c.status == "active" && c.has_pan_ciphertext)
        );
        assert!(
            cards
                .iter()
                .all(|c| c.token.as_ref().unwrap().status == "active")
        );
        assert_eq!(defaults(&*store, "user-1").await, ["card-a1"]);
        assert_eq!(defaults(&*store, "user-2").await, ["card-b1"]);
        let attempts = store
            .attempts(&AttemptFilter {
                user_id: Some("user-1".to_owned()),
                limit: 10,
                ..AttemptFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(attempts.len(), 2);
        // The seed asks which token PANs are taken before it writes a batch.
        let asked = ["tpf-card-a1", "tpf-card-x", "tpf-card-b1"].map(str::to_owned);
        let mut stored: Vec<String> = store
            .stored_token_fingerprints(&asked)
            .await
            .unwrap()
            .into_iter()
            .collect();
        stored.sort();
        assert_eq!(stored, ["tpf-card-a1", "tpf-card-b1"]);
        assert!(
            store
                .stored_token_fingerprints(&[])
                .await
                .unwrap()
                .is_empty()
        );
        // The seeded card counts against the limit like a bound one.
        let again = new_card("card-a3", "user-1", "fp-1", 6_000);
        assert!(matches!(
            store.reserve_card(&again, 10, 6_000).await.unwrap(),
            Reserve::AlreadyBound { .. }
        ));

        // A live duplicate of user-1's card: the whole batch is refused.
        let broken = SeedBatch {
            users: vec![new_user("3")],
            cards: vec![
                seeded("card-c1", "user-3", "fp-9", true),
                seeded("card-a4", "user-1", "fp-2", false),
            ],
        };
        assert!(store.seed_batch(&broken).await.is_err());
        assert!(store.user_by_id("user-3").await.unwrap().is_none());
        assert!(store.card("user-3", "card-c1").await.unwrap().is_none());
    }

    pub async fn concurrent_otp_outcomes(store: Arc<dyn Store>) {
        let user_id = user(&*store, "1").await;
        bind_pending(&*store, &user_id, "c1", "fp1", 1_000, 90_000).await;
        let mut tasks = Vec::new();
        for n in 0..8 {
            let store = store.clone();
            let outcome = if n % 2 == 0 {
                OtpOutcome::Verified
            } else {
                OtpOutcome::Failed
            };
            tasks.push(tokio::spawn(async move {
                store.finish_otp("c1", outcome, 2_000).await.unwrap()
            }));
        }
        let mut ended = 0;
        for task in tasks {
            if task.await.unwrap() {
                ended += 1;
            }
        }
        assert_eq!(ended, 1, "a challenge ends once");
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

/// Instantiates every suite test for one backend's runner.
macro_rules! store_suite {
    ($runner:path) => {
        store_suite!(@each $runner;
            ping_and_has_data, users, login_failures, sessions, api_keys,
            reserve_and_complete, binding_recorded, card_limit, stale_reservation_freed, expired_otp_frees_slot,
            freed_slots_leave_the_count, set_default, unbind, otp, sandbox_sms, attempts, idempotency, settings,
            concurrent_card_limit, concurrent_same_card, concurrent_idempotency,
            concurrent_counters, concurrent_otp_outcomes, seed_batch,
            attempt_stats, incidents_and_breaker, concurrent_incidents_and_probes, tickets,
            payment_tokens_and_atcs, cryptograms, token_lifecycle, issuer_changes,
            concurrent_atc_claims,
        );
    };
    (@each $runner:path; $($test:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $test() {
                $runner(crate::suite::$test).await;
            }
        )*
    };
}

mod sqlite {
    use super::*;

    store_suite!(crate::with_sqlite);

    /// Durability must not depend on which pooled connection ran a write.
    #[tokio::test]
    async fn synchronous_is_full_on_every_connection() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("tessera.db"), SqliteOptions::default())
            .await
            .unwrap();
        let levels = store.synchronous_levels().await.unwrap();
        assert!(!levels.is_empty());
        assert!(levels.iter().all(|level| *level == 2), "{levels:?}");
        store.close().await;
    }

    /// Reopening an existing database keeps its data and migrates nothing.
    #[tokio::test]
    async fn reopen_keeps_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tessera.db");
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        user(&store, "1").await;
        store.close().await;
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        assert!(store.has_data().await.unwrap());
        assert!(store.user_by_id("user-1").await.unwrap().is_some());
        store.close().await;
    }
    /// The writer never checkpoints (a commit must not wait for one): the
    /// checkpointer thread copies committed pages into the database file
    /// by itself, so the file alone, without its WAL, holds them soon after.
    #[tokio::test]
    async fn checkpoints_reach_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tessera.db");
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        user(&store, "1").await;
        let copy = dir.path().join("copy.db");
        let mut found = false;
        for _ in 0..100 {
            // The main file only: what a checkpoint has written there.
            std::fs::copy(&path, &copy).unwrap();
            let conn = rusqlite::Connection::open(&copy).unwrap();
            let users: i64 = conn
                .query_row(
                    "SELECT COUNT(*) FROM users WHERE id = 'user-1'",
                    [],
                    |row| row.get(0),
                )
                .unwrap();
            drop(conn);
            if users == 1 {
                found = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(
            found,
            "no checkpoint copied the user into the database file"
        );
        store.close().await;
    }

    /// A reservation is held by the writer, not written: the database has
    /// no row for it. A reservation row an older Tessera left still holds
    /// its card and its slot until it runs out, and is cleared then.
    #[tokio::test]
    async fn reservations_are_held_in_memory_and_old_rows_still_count() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tessera.db");
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        let user_id = user(&store, "1").await;
        let cards_in_file = |path: &std::path::Path| {
            let conn = rusqlite::Connection::open(path).unwrap();
            conn.query_row("SELECT COUNT(*) FROM cards", [], |row| row.get::<_, i64>(0))
                .unwrap()
        };
        let held = new_card("held", &user_id, "fh", 1_000);
        assert_eq!(
            store.reserve_card(&held, 3, 1_000).await.unwrap(),
            Reserve::Reserved
        );
        assert_eq!(cards_in_file(&path), 0, "a reservation wrote a row");

        // A reservation row as an older Tessera wrote it, until 10_000.
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute(
                "INSERT INTO cards (id, user_id, status, reserved_until, pan_fingerprint, \
                 first6, last4, pan_length, brand, holder_name, par, created_at, updated_at) \
                 VALUES ('old', ?1, 'binding', 10000, 'fo', '622202', '1234', 19, \
                 'unionpay', '张三', 'par-fo', 1000, 1000)",
                [&user_id],
            )
            .unwrap();
        }
        let same_as_old = new_card("again", &user_id, "fo", 5_000);
        assert_eq!(
            store.reserve_card(&same_as_old, 3, 5_000).await.unwrap(),
            Reserve::InProgress
        );
        let same_as_held = new_card("twice", &user_id, "fh", 5_000);
        assert_eq!(
            store.reserve_card(&same_as_held, 3, 5_000).await.unwrap(),
            Reserve::InProgress
        );
        let third = new_card("third", &user_id, "f3", 5_000);
        assert_eq!(
            store.reserve_card(&third, 2, 5_000).await.unwrap(),
            Reserve::LimitReached { live_cards: 2 },
            "the held reservation and the old row"
        );
        // Past 10_000 the old row is stale: cleared, its card free.
        assert_eq!(
            store.reserve_card(&same_as_old, 3, 10_001).await.unwrap(),
            Reserve::Reserved
        );
        assert_eq!(cards_in_file(&path), 0, "the old row was not cleared");

        // Completing writes the card, once, as it is bound.
        assert!(
            store
                .complete_binding(&completion("held", &user_id, "active", None, 11_000))
                .await
                .unwrap()
        );
        assert!(
            !store
                .complete_binding(&completion("held", &user_id, "active", None, 11_001))
                .await
                .unwrap(),
            "completed twice"
        );
        let bound = store.card(&user_id, "held").await.unwrap().unwrap();
        assert_eq!(
            (bound.status.as_str(), bound.created_at, bound.updated_at),
            ("active", 1_000, 11_000)
        );

        // Bound meanwhile by another process on the same file (a second
        // server, against the rule): the unique index refuses the
        // completion, which ends like a lost reservation and writes
        // nothing, and the next reservation hears the card is bound.
        let raced = new_card("raced", &user_id, "fr", 12_000);
        assert_eq!(
            store.reserve_card(&raced, 5, 12_000).await.unwrap(),
            Reserve::Reserved
        );
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute(
                "INSERT INTO cards (id, user_id, status, pan_fingerprint, first6, last4, \
                 pan_length, brand, holder_name, par, created_at, updated_at) \
                 VALUES ('elsewhere', ?1, 'active', 'fr', '622202', '1234', 19, 'unionpay', \
                 '张三', 'par-fr', 12000, 12000)",
                [&user_id],
            )
            .unwrap();
        }
        assert!(
            !store
                .complete_binding(&completion("raced", &user_id, "active", None, 12_001))
                .await
                .unwrap()
        );
        assert!(store.card(&user_id, "raced").await.unwrap().is_none());
        let again = new_card("raced-2", &user_id, "fr", 12_002);
        assert_eq!(
            store.reserve_card(&again, 5, 12_002).await.unwrap(),
            Reserve::AlreadyBound {
                card_id: "elsewhere".to_owned(),
                status: "active".to_owned()
            }
        );
        store.close().await;
    }

    /// After `close`, the writer is gone: a write fails at once with a
    /// clear error instead of waiting, and changes nothing.
    #[tokio::test]
    async fn writes_after_close_fail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tessera.db");
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        store.close().await;
        let error = store.create_user(&new_user("2")).await.unwrap_err();
        assert!(
            matches!(&error, StoreError::Unavailable(message) if message.contains("writer has stopped")),
            "{error:?}"
        );
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        assert!(store.user_by_id("user-2").await.unwrap().is_none());
        store.close().await;
    }
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

mod postgres {
    use super::*;

    store_suite!(crate::with_postgres);

    /// Several nodes starting at once against an empty database: one applies
    /// the migrations, the others wait and find them applied.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn migrations_nodes_start_at_once() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        database
            .run(|url| async move {
                let mut nodes = Vec::new();
                for _ in 0..6 {
                    let url = url.clone();
                    nodes.push(tokio::spawn(async move {
                        PgStore::connect(&url, PgOptions::default()).await
                    }));
                }
                let mut stores = Vec::new();
                for node in nodes {
                    stores.push(node.await.unwrap().unwrap());
                }
                let versions: Vec<i64> =
                    sqlx::query_scalar("SELECT version FROM schema_migrations ORDER BY version")
                        .fetch_all(stores[0].pool())
                        .await
                        .unwrap();
                assert_eq!(versions, tessera_store::postgres::migration_versions());
                // Each node sees the one schema.
                user(&stores[0], "1").await;
                assert!(stores[5].has_data().await.unwrap());
                // And a node started later just works.
                let late = PgStore::connect(&url, PgOptions::default()).await.unwrap();
                assert!(late.user_by_id("user-1").await.unwrap().is_some());
                for store in stores {
                    store.close().await;
                }
                late.close().await;
            })
            .await;
    }

    #[tokio::test]
    async fn migrations_refuse_a_newer_schema() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        database
            .run(|url| async move {
                let store = PgStore::connect(&url, PgOptions::default()).await.unwrap();
                sqlx::query("INSERT INTO schema_migrations (version) VALUES (999)")
                    .execute(store.pool())
                    .await
                    .unwrap();
                store.close().await;
                let error = PgStore::connect(&url, PgOptions::default())
                    .await
                    .unwrap_err();
                assert!(matches!(error, StoreError::Corrupt(_)), "{error:?}");
            })
            .await;
    }

    /// Durability does not hang on the server's defaults: a database set to
    /// synchronous_commit=off still gets "on" on every pooled connection.
    #[tokio::test]
    async fn synchronous_commit_is_on_whatever_the_default() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        let name = database.name().to_owned();
        database
            .run(|url| async move {
                let store = PgStore::connect(&url, PgOptions::default()).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "ALTER DATABASE \"{name}\" SET synchronous_commit = off"
                )))
                .execute(store.pool())
                .await
                .unwrap();
                store.close().await;
                let store = PgStore::connect(&url, PgOptions::default()).await.unwrap();
                let mut held = Vec::new();
                for _ in 0..3 {
                    let mut conn = store.pool().acquire().await.unwrap();
                    let level: String = sqlx::query_scalar("SHOW synchronous_commit")
                        .fetch_one(&mut *conn)
                        .await
                        .unwrap();
                    assert_eq!(level, "on");
                    held.push(conn);
                }
                drop(held);
                assert_eq!(store.durability().await.unwrap(), ["synchronous_commit=on"]);
                store.close().await;
            })
            .await;
    }

    /// A reservation and its release commit without waiting for their WAL
    /// flush, but only their own transaction: the connection that ran them
    /// (the only one here) is back to synchronous_commit=on for the
    /// completion and every later write.
    #[tokio::test]
    async fn unflushed_commits_stay_in_their_transaction() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        database
            .run(|url| async move {
                let options = PgOptions {
                    max_connections: 1,
                    ..PgOptions::default()
                };
                let store = PgStore::connect(&url, options).await.unwrap();
                let user_id = user(&store, "1").await;
                let card = new_card("c1", &user_id, "fp1", 1_000);
                assert_eq!(
                    store.reserve_card(&card, 5, 1_000).await.unwrap(),
                    Reserve::Reserved
                );
                assert_eq!(store.durability().await.unwrap(), ["synchronous_commit=on"]);
                store.release_card("c1").await.unwrap();
                assert_eq!(store.durability().await.unwrap(), ["synchronous_commit=on"]);
                // Released for good: the slot and the card are free again.
                assert_eq!(
                    store.reserve_card(&card, 5, 1_001).await.unwrap(),
                    Reserve::Reserved
                );
                store.close().await;
            })
            .await;
    }

    /// Nothing listening: Unavailable (503), not an internal error.
    #[tokio::test]
    async fn unreachable_database_is_unavailable() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let options = PgOptions {
            acquire_timeout: std::time::Duration::from_secs(2),
            ..PgOptions::default()
        };
        let error = PgStore::connect(&format!("postgres://postgres@127.0.0.1:{port}/x"), options)
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    }

    /// Connections kept warm between operations never starve an operation
    /// waiting for one: far more operations than connections at once, some
    /// keeping their connection warm and some handing it back to the pool,
    /// all get one well within the acquire timeout.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn warm_connections_starve_no_waiter() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        database
            .run(|url| async move {
                let options = PgOptions {
                    max_connections: 2,
                    acquire_timeout: std::time::Duration::from_secs(5),
                    ..PgOptions::default()
                };
                let store = PgStore::connect(&url, options).await.unwrap();
                store.put_setting("maintenance", "off", 1).await.unwrap();
                let mut tasks = Vec::new();
                for n in 0..48 {
                    let store = store.clone();
                    tasks.push(tokio::spawn(async move {
                        for _ in 0..20 {
                            let value = store.setting("maintenance").await.unwrap();
                            assert_eq!(value.as_deref(), Some("off"));
                            if n % 3 == 0 {
                                assert!(store.login_failures("nobody").await.unwrap().is_none());
                            }
                        }
                    }));
                }
                for task in tasks {
                    task.await.unwrap();
                }
                // The pool itself is still there for tools.
                let one: i32 = sqlx::query_scalar("SELECT 1")
                    .fetch_one(store.pool())
                    .await
                    .unwrap();
                assert_eq!(one, 1);
                store.close().await;
            })
            .await;
    }

    /// The database goes away behind a TCP proxy and comes back: requests
    /// meanwhile fail as Unavailable within the acquire timeout, and the
    /// same store serves again afterwards without being reopened.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn recovers_when_the_database_returns() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        database
            .run(|url| async move {
                let proxy = Proxy::start(server_address(&url)).await;
                let proxied = proxied_url(&url, proxy.port);
                let options = PgOptions {
                    max_connections: 2,
                    acquire_timeout: std::time::Duration::from_secs(2),
                    ..PgOptions::default()
                };
                let store = PgStore::connect(&proxied, options).await.unwrap();
                store.put_setting("maintenance", "on", 1).await.unwrap();

                proxy.cut();
                let started = std::time::Instant::now();
                let error = store.setting("maintenance").await.unwrap_err();
                assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
                let error = store.ping().await.unwrap_err();
                assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
                assert!(started.elapsed() < std::time::Duration::from_secs(15));

                proxy.restore();
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
                loop {
                    match store.setting("maintenance").await {
                        Ok(value) => {
                            assert_eq!(value.as_deref(), Some("on"));
                            break;
                        }
                        Err(error) if std::time::Instant::now() < deadline => {
                            assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
                            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        }
                        Err(error) => panic!("not back after the database returned: {error:?}"),
                    }
                }
                store.ping().await.unwrap();
                store.close().await;
            })
            .await;
    }
}
