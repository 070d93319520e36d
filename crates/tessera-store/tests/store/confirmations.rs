//! What a person confirms with: the payment password's counted checks and
//! lock, the birthday PINs kept at sign-up, and single-use confirmations.

use tessera_store::{PaymentPasswordClaim, VerificationRecord, WebauthnChallenge};

use crate::*;

async fn payment_password_checks_are_counted_and_lock(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    let lock = TimeDelta::minutes(180);
    assert_eq!(
        store
            .claim_payment_password_check(&user_id, 3, at(1_000), lock)
            .await
            .unwrap(),
        PaymentPasswordClaim::NotSet
    );
    assert!(
        store
            .payment_password_state(&user_id)
            .await
            .unwrap()
            .is_none()
    );
    store
        .set_payment_password(&user_id, "$argon2id$h1", at(1_000))
        .await
        .unwrap();
    for n in 1..=2 {
        assert_eq!(
            store
                .claim_payment_password_check(&user_id, 3, at(2_000), lock)
                .await
                .unwrap(),
            PaymentPasswordClaim::Counted {
                hash: "$argon2id$h1".to_owned(),
                failures: n
            }
        );
    }
    // A right one clears the count.
    store.payment_password_right(&user_id).await.unwrap();
    let state = store
        .payment_password_state(&user_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((state.failures, state.locked_until), (0, None));
    // The third claim in a row sets the lock before its own check.
    for n in 1..=3 {
        let claim = store
            .claim_payment_password_check(&user_id, 3, at(3_000), lock)
            .await
            .unwrap();
        assert!(matches!(claim, PaymentPasswordClaim::Counted { failures, .. } if failures == n));
    }
    let until = at(3_000) + lock;
    assert_eq!(
        store
            .payment_password_state(&user_id)
            .await
            .unwrap()
            .unwrap()
            .locked_until,
        Some(until)
    );
    assert_eq!(
        store
            .claim_payment_password_check(&user_id, 3, at(4_000), lock)
            .await
            .unwrap(),
        PaymentPasswordClaim::Locked(until)
    );
    // A claim the node never checked gives its count and lock back, but
    // only while no other claim came since.
    store
        .give_back_payment_password_check(&user_id, 2)
        .await
        .unwrap();
    assert_eq!(
        store
            .payment_password_state(&user_id)
            .await
            .unwrap()
            .unwrap()
            .failures,
        3
    );
    store
        .give_back_payment_password_check(&user_id, 3)
        .await
        .unwrap();
    let state = store
        .payment_password_state(&user_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((state.failures, state.locked_until), (2, None));
    // The next wrong one locks again; a lock past its time starts the
    // count over.
    store
        .claim_payment_password_check(&user_id, 3, at(5_000), lock)
        .await
        .unwrap();
    let later = at(5_000) + lock + TimeDelta::seconds(1);
    assert_eq!(
        store
            .claim_payment_password_check(&user_id, 3, later, lock)
            .await
            .unwrap(),
        PaymentPasswordClaim::Counted {
            hash: "$argon2id$h1".to_owned(),
            failures: 1
        }
    );
    // A new password starts clean.
    store
        .set_payment_password(&user_id, "$argon2id$h2", later)
        .await
        .unwrap();
    let state = store
        .payment_password_state(&user_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((state.failures, state.locked_until), (0, None));
}

/// 50 checks at once with a limit of 5: 5 counted, 45 refused as locked.
async fn payment_password_checks_race_to_the_limit(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    store
        .set_payment_password(&user_id, "$argon2id$h", at(1_000))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (store, user_id) = (store.clone(), user_id.clone());
            tokio::spawn(async move {
                store
                    .claim_payment_password_check(&user_id, 5, at(2_000), TimeDelta::hours(3))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let (mut counted, mut locked) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            PaymentPasswordClaim::Counted { .. } => counted += 1,
            PaymentPasswordClaim::Locked(_) => locked += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((counted, locked), (5, 45));
}

async fn birthday_pins_are_kept_as_given(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    assert_eq!(
        store.birthday_pins(&user_id).await.unwrap(),
        ["pin-a", "pin-b"]
    );
    assert!(
        store
            .birthday_pins(&"user-none".into())
            .await
            .unwrap()
            .is_empty()
    );
}

/// A confirmation is used once, for its user, purpose and scope, before it
/// expires, however many requests present it at once.
async fn a_verification_is_used_once(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    let other = user(&*store, "2").await;
    let record = |hash: &str, expires: i64| VerificationRecord {
        token_hash: hash.to_owned(),
        user_id: user_id.clone(),
        purpose: "unbind_card".to_owned(),
        scope: "card-1".to_owned(),
        method: "sms_code".to_owned(),
        expires_at: at(expires),
        created_at: at(1_000),
    };
    store
        .create_verification(&record("v1", 10_000))
        .await
        .unwrap();
    let used =
        |hash: &'static str, user: UserId, purpose: &'static str, scope: &'static str, now: i64| {
            let store = store.clone();
            async move {
                store
                    .use_verification(hash, &user, purpose, scope, at(now))
                    .await
                    .unwrap()
                    .is_some()
            }
        };
    assert!(!used("v1", other.clone(), "unbind_card", "card-1", 2_000).await);
    assert!(!used("v1", user_id.clone(), "transfer", "card-1", 2_000).await);
    assert!(!used("v1", user_id.clone(), "unbind_card", "card-2", 2_000).await);
    assert!(
        !used("v1", user_id.clone(), "unbind_card", "card-1", 10_000).await,
        "expired"
    );
    let tasks: Vec<_> = (0..50)
        .map(|_| tokio::spawn(used("v1", user_id.clone(), "unbind_card", "card-1", 2_000)))
        .collect();
    let mut uses = 0;
    for task in tasks {
        uses += usize::from(task.await.unwrap());
    }
    assert_eq!(uses, 1);
    assert!(!used("v1", user_id.clone(), "unbind_card", "card-1", 2_001).await);
}

/// A passkey challenge is taken once, by its person, for its kind, in
/// time; what expired is purged, and only that.
async fn challenges_are_taken_once_and_expired_ones_purged(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    let other = user(&*store, "2").await;
    for (id, expires) in [("c1", 10_000), ("c2", 30_000)] {
        store
            .create_webauthn_challenge(&WebauthnChallenge {
                id: id.to_owned(),
                user_id: user_id.clone(),
                kind: "authentication".to_owned(),
                state: format!("state-{id}"),
                expires_at: at(expires),
            })
            .await
            .unwrap();
    }
    let take = |id: &'static str, user: UserId, kind: &'static str, now: i64| {
        let store = store.clone();
        async move {
            store
                .take_webauthn_challenge(id, &user, kind, at(now))
                .await
                .unwrap()
        }
    };
    assert_eq!(
        take("c1", other.clone(), "authentication", 2_000).await,
        None
    );
    assert_eq!(
        take("c1", user_id.clone(), "registration", 2_000).await,
        None
    );
    assert_eq!(
        take("c1", user_id.clone(), "authentication", 10_000).await,
        None
    );
    let tasks: Vec<_> = (0..20)
        .map(|_| tokio::spawn(take("c2", user_id.clone(), "authentication", 2_000)))
        .collect();
    let mut taken = Vec::new();
    for task in tasks {
        taken.extend(task.await.unwrap());
    }
    assert_eq!(taken, ["state-c2"]);
    store
        .create_verification(&VerificationRecord {
            token_hash: "v-old".to_owned(),
            user_id: user_id.clone(),
            purpose: "unfreeze".to_owned(),
            scope: String::new(),
            method: "sms_code".to_owned(),
            expires_at: at(10_000),
            created_at: at(1_000),
        })
        .await
        .unwrap();
    // c1 and v-old expired before 20 000; c2 (used) expires later.
    assert_eq!(store.purge_confirmations(at(20_000)).await.unwrap(), 2);
    assert_eq!(store.purge_confirmations(at(20_000)).await.unwrap(), 0);
    assert_eq!(store.purge_confirmations(at(40_000)).await.unwrap(), 1);
}

on_both_backends!(
    challenges_are_taken_once_and_expired_ones_purged,
    payment_password_checks_are_counted_and_lock,
    payment_password_checks_race_to_the_limit,
    birthday_pins_are_kept_as_given,
    a_verification_is_used_once,
);
