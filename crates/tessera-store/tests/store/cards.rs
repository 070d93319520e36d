//! Bound cards: the default card, unbinding, the OTP step-up, its resend
//! and its sandbox phone.

use crate::*;
use tessera_store::{CardId, OtpClaim};

async fn set_default(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    let other = user(&*store, "2").await;
    bind(&*store, &user_id, "a", "fa", 1_000).await;
    bind(&*store, &user_id, "b", "fb", 2_000).await;
    bind_pending(&*store, &user_id, "p", "fp", 3_000, 90_000).await;
    bind(&*store, &other, "x", "fx", 1_000).await;
    assert_eq!(defaults(&*store, &user_id).await, ["a"]);

    assert!(
        store
            .set_default_card(&user_id, &"b".into(), at(4_000))
            .await
            .unwrap()
    );
    assert_eq!(defaults(&*store, &user_id).await, ["b"]);
    assert_eq!(
        store
            .card(&user_id, &"a".into())
            .await
            .unwrap()
            .unwrap()
            .updated_at,
        at(4_000)
    );
    assert_eq!(
        store
            .card(&user_id, &"b".into())
            .await
            .unwrap()
            .unwrap()
            .updated_at,
        at(4_000)
    );
    assert!(
        store
            .set_default_card(&user_id, &"b".into(), at(4_500))
            .await
            .unwrap()
    );
    assert_eq!(defaults(&*store, &user_id).await, ["b"]);

    assert!(
        !store
            .set_default_card(&user_id, &"p".into(), at(5_000))
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_default_card(&user_id, &"x".into(), at(5_000))
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_default_card(&user_id, &"nope".into(), at(5_000))
            .await
            .unwrap()
    );
    assert_eq!(defaults(&*store, &user_id).await, ["b"]);
    assert_eq!(defaults(&*store, &other).await, ["x"]);
}

async fn unbind(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    let other = user(&*store, "2").await;
    bind(&*store, &user_id, "a", "fa", 1_000).await;
    bind(&*store, &user_id, "b", "fb", 2_000).await;
    bind(&*store, &user_id, "c", "fc", 3_000).await;
    bind_pending(&*store, &user_id, "p", "fp", 4_000, 90_000).await;
    assert_eq!(defaults(&*store, &user_id).await, ["a"]);

    assert!(
        !store
            .unbind_card(&other, &"a".into(), at(5_000))
            .await
            .unwrap()
    );
    assert!(
        store
            .unbind_card(&user_id, &"a".into(), at(5_000))
            .await
            .unwrap()
    );
    let gone = store.card(&user_id, &"a".into()).await.unwrap().unwrap();
    assert_eq!(gone.status, CardStatus::Unbound);
    assert!(!gone.is_default);
    assert!(!gone.has_pan_ciphertext);
    assert_eq!(gone.updated_at, at(5_000));
    assert_eq!(gone.token.unwrap().status, TokenStatus::Deleted);
    // The default moves to the newest active card.
    assert_eq!(defaults(&*store, &user_id).await, ["c"]);
    assert!(
        !store
            .unbind_card(&user_id, &"a".into(), at(5_001))
            .await
            .unwrap()
    );

    // A pending card can be unbound; its challenge goes with it.
    assert!(
        store
            .unbind_card(&user_id, &"p".into(), at(6_000))
            .await
            .unwrap()
    );
    assert!(store.otp_challenge(&"p".into()).await.unwrap().is_none());
    assert_eq!(
        store
            .card(&user_id, &"p".into())
            .await
            .unwrap()
            .unwrap()
            .status,
        CardStatus::Unbound
    );

    // A reservation cannot be unbound.
    let reserved = new_card("r", &user_id, "fr", 7_000);
    assert_eq!(
        store
            .reserve_card(&reserved, &ReserveLimits::cards(10), at(7_000))
            .await
            .unwrap(),
        Reserve::Reserved
    );
    assert!(
        !store
            .unbind_card(&user_id, &"r".into(), at(7_000))
            .await
            .unwrap()
    );

    // The unbound card may be bound again; unbound cards stay listed.
    bind(&*store, &user_id, "a2", "fa", 8_000).await;
    let listed: Vec<(String, CardStatus)> = store
        .list_cards(&user_id)
        .await
        .unwrap()
        .into_iter()
        .map(|card| (card.id.into_string(), card.status))
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
        assert!(
            store
                .unbind_card(&user_id, &id.into(), at(9_000))
                .await
                .unwrap()
        );
    }
    assert!(defaults(&*store, &user_id).await.is_empty());
}

async fn otp(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    bind_pending(&*store, &user_id, "c1", "fp1", 1_000, 10_000).await;
    let challenge = store.otp_challenge(&"c1".into()).await.unwrap().unwrap();
    assert_eq!(challenge.card_id, "c1");
    assert_eq!(challenge.code_hash, "otp-hash");
    assert_eq!(challenge.sent_to_masked, "138****0000");
    assert_eq!(challenge.expires_at, at(10_000));
    assert_eq!(challenge.failures, 0);
    for expected in 1..=3 {
        assert_eq!(
            store.record_otp_failure(&"c1".into()).await.unwrap(),
            expected
        );
    }
    assert_eq!(
        store
            .otp_challenge(&"c1".into())
            .await
            .unwrap()
            .unwrap()
            .failures,
        3
    );
    assert_eq!(store.record_otp_failure(&"nope".into()).await.unwrap(), 0);
    assert!(store.otp_challenge(&"nope".into()).await.unwrap().is_none());

    assert!(
        store
            .finish_otp(&"c1".into(), OtpOutcome::Verified, at(2_000))
            .await
            .unwrap()
    );
    let verified = store.card(&user_id, &"c1".into()).await.unwrap().unwrap();
    assert_eq!(verified.status, CardStatus::Active);
    assert!(verified.is_default);
    assert!(verified.has_pan_ciphertext);
    assert_eq!(verified.updated_at, at(2_000));
    assert_eq!(verified.token.unwrap().status, TokenStatus::Active);
    assert_eq!(verified.otp_sent_to, None);
    assert!(store.otp_challenge(&"c1".into()).await.unwrap().is_none());
    // Ended once only, whatever the second outcome.
    for outcome in [
        OtpOutcome::Verified,
        OtpOutcome::Failed,
        OtpOutcome::Expired,
    ] {
        assert!(
            !store
                .finish_otp(&"c1".into(), outcome, at(2_001))
                .await
                .unwrap()
        );
    }
    assert!(
        !store
            .finish_otp(&"nope".into(), OtpOutcome::Verified, at(2_001))
            .await
            .unwrap()
    );

    bind_pending(&*store, &user_id, "c2", "fp2", 3_000, 10_000).await;
    assert!(
        store
            .finish_otp(&"c2".into(), OtpOutcome::Failed, at(3_500))
            .await
            .unwrap()
    );
    let failed = store.card(&user_id, &"c2".into()).await.unwrap().unwrap();
    assert_eq!(failed.status, CardStatus::VerificationFailed);
    assert!(!failed.has_pan_ciphertext);
    assert!(!failed.is_default);
    assert_eq!(failed.token.unwrap().status, TokenStatus::Deleted);
    assert!(store.otp_challenge(&"c2".into()).await.unwrap().is_none());
    assert_eq!(store.record_otp_failure(&"c2".into()).await.unwrap(), 0);

    bind_pending(&*store, &user_id, "c3", "fp3", 4_000, 10_000).await;
    assert!(
        store
            .finish_otp(&"c3".into(), OtpOutcome::Expired, at(4_500))
            .await
            .unwrap()
    );
    let expired = store.card(&user_id, &"c3".into()).await.unwrap().unwrap();
    assert_eq!(expired.status, CardStatus::VerificationExpired);
    assert_eq!(expired.token.unwrap().status, TokenStatus::Deleted);

    // A failed or expired card may be bound again.
    bind(&*store, &user_id, "c2b", "fp2", 5_000).await;
    bind(&*store, &user_id, "c3b", "fp3", 5_000).await;
    assert_eq!(defaults(&*store, &user_id).await, ["c1"]);
}

async fn sandbox_sms(store: Arc<dyn Store>) {
    for (time, body) in [(1, "one"), (2, "two"), (3, "验证码 123456")] {
        store
            .push_sandbox_sms("+86-1", body, at(time))
            .await
            .unwrap();
    }
    store
        .push_sandbox_sms("+86-2", "other", at(4))
        .await
        .unwrap();
    let all = store.sandbox_sms("+86-1", 10).await.unwrap();
    let bodies: Vec<&str> = all.iter().map(|sms| sms.body.as_str()).collect();
    assert_eq!(bodies, ["验证码 123456", "two", "one"]);
    assert!(all.iter().all(|sms| sms.phone == "+86-1"));
    assert_eq!(all[0].created_at, at(3));
    let newest = store.sandbox_sms("+86-1", 2).await.unwrap();
    assert_eq!(newest.len(), 2);
    assert_eq!(newest[1].body, "two");
    assert_eq!(store.sandbox_sms("+86-2", 10).await.unwrap().len(), 1);
    assert!(store.sandbox_sms("+86-3", 10).await.unwrap().is_empty());
}

async fn concurrent_otp_outcomes(store: Arc<dyn Store>) {
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
            store
                .finish_otp(&"c1".into(), outcome, at(2_000))
                .await
                .unwrap()
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

/// A resent code replaces the old one, keeps the failures and comparisons
/// counted so far, and renews once however many resends race.
async fn resent_code_keeps_the_count(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    bind_pending(&*store, &user_id, "p1", "fp1", 1_000, 90_000).await;
    let card: CardId = "p1".into();
    assert_eq!(store.record_otp_failure(&card).await.unwrap(), 1);
    assert!(matches!(
        store.claim_otp_comparison(&card, 5).await.unwrap(),
        OtpClaim::Claimed { comparison: 1, .. }
    ));
    let sent = store.otp_challenge(&card).await.unwrap().unwrap();
    assert_eq!(sent.sent_at, at(1_000));
    // Asked before the cooldown has run from 1_000: nothing changes.
    assert!(
        !store
            .renew_otp(&card, "new-hash", at(120_000), at(30_000), at(999))
            .await
            .unwrap()
    );
    assert_eq!(store.otp_challenge(&card).await.unwrap().unwrap(), sent);
    assert!(
        store
            .renew_otp(&card, "new-hash", at(120_000), at(61_000), at(1_000))
            .await
            .unwrap()
    );
    let renewed = store.otp_challenge(&card).await.unwrap().unwrap();
    assert_eq!(renewed.code_hash, "new-hash");
    assert_eq!(renewed.expires_at, at(120_000));
    assert_eq!(renewed.sent_at, at(61_000));
    assert_eq!(renewed.failures, 1);
    assert!(matches!(
        store.claim_otp_comparison(&card, 5).await.unwrap(),
        OtpClaim::Claimed { comparison: 2, .. }
    ));
    // A second resend that read the first code's time loses.
    assert!(
        !store
            .renew_otp(&card, "other", at(120_001), at(61_001), at(1_000))
            .await
            .unwrap()
    );
    assert!(
        !store
            .renew_otp(&"nobody".into(), "x", at(120_000), at(61_000), at(61_000))
            .await
            .unwrap()
    );
}

on_both_backends!(
    set_default,
    unbind,
    otp,
    sandbox_sms,
    concurrent_otp_outcomes,
    resent_code_keeps_the_count
);
