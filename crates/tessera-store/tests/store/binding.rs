//! Binding: reservations, completions and the rules they keep (one live
//! card per PAN, the card limit), alone and racing.

use crate::*;

async fn reserve_and_complete(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    let other = user(&*store, "2").await;
    let card = new_card("c1", &user_id, "fp1", 1_000);
    assert_eq!(
        store
            .reserve_card(&card, &ReserveLimits::cards(5), at(1_000))
            .await
            .unwrap(),
        Reserve::Reserved
    );
    // A reservation is invisible to the wallet...
    assert!(store.list_cards(&user_id).await.unwrap().is_empty());
    assert!(store.card(&user_id, &"c1".into()).await.unwrap().is_none());
    // ...but holds the card against a second request.
    let again = new_card("c2", &user_id, "fp1", 1_001);
    assert_eq!(
        store
            .reserve_card(&again, &ReserveLimits::cards(5), at(1_001))
            .await
            .unwrap(),
        Reserve::InProgress
    );
    // Another user may hold the same card.
    let theirs = new_card("c-other", &other, "fp1", 1_001);
    assert_eq!(
        store
            .reserve_card(&theirs, &ReserveLimits::cards(5), at(1_001))
            .await
            .unwrap(),
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
    assert_eq!(bound.status, CardStatus::Active);
    assert!(bound.is_default, "the first active card is the default");
    assert!(bound.has_pan_ciphertext);
    assert_eq!(bound.pan_fingerprint, "fp1");
    assert_eq!(
        (bound.first6.as_str(), bound.last4.as_str()),
        ("622202", "1234")
    );
    assert_eq!(bound.pan_length, 19);
    assert_eq!(bound.brand, Brand::UnionPay);
    assert_eq!(bound.issuer_code.as_deref(), Some("ICBC"));
    assert_eq!(bound.issuer_name_zh.as_deref(), Some("中国工商银行"));
    assert_eq!(
        bound.issuer_name_en.as_deref(),
        Some("Industrial and Commercial Bank of China")
    );
    assert_eq!(bound.card_type, Some(CardType::Debit));
    assert_eq!(bound.country.as_deref(), Some("CN"));
    assert_eq!(
        (bound.expiry_month, bound.expiry_year),
        (Some(12), Some(2031))
    );
    assert_eq!(bound.holder_name, "张三");
    assert_eq!(bound.par, "par-fp1");
    assert_eq!((bound.created_at, bound.updated_at), (at(1_000), at(2_000)));
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
    assert_eq!(token.status, TokenStatus::Active);
    assert!(token.suspenders.is_empty());
    assert_eq!(token.requestor_id, "40010030273");
    assert_eq!(token.device_id.as_deref(), Some("device-1"));
    assert_eq!(token.created_at, at(2_000));
    let single = store.card(&user_id, &"c1".into()).await.unwrap().unwrap();
    assert_eq!(single.id, "c1");
    assert!(single.is_default);
    assert!(store.card(&other, &"c1".into()).await.unwrap().is_none());

    let third = new_card("c3", &user_id, "fp1", 3_000);
    assert_eq!(
        store
            .reserve_card(&third, &ReserveLimits::cards(5), at(3_000))
            .await
            .unwrap(),
        Reserve::AlreadyBound {
            card_id: "c1".to_owned().into(),
            status: CardStatus::Active
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
        store
            .reserve_card(&released, &ReserveLimits::cards(5), at(4_000))
            .await
            .unwrap(),
        Reserve::Reserved
    );
    store.release_card(&"c4".into()).await.unwrap();
    assert!(
        !store
            .complete_binding(&completion("c4", &user_id, "active", None, 4_001))
            .await
            .unwrap()
    );
    // Releasing a bound card does nothing.
    store.release_card(&"c1".into()).await.unwrap();
    assert_eq!(
        store
            .card(&user_id, &"c1".into())
            .await
            .unwrap()
            .unwrap()
            .status,
        CardStatus::Active
    );

    bind_pending(&*store, &user_id, "c5", "fp2", 5_000, 65_000).await;
    let pending = store.card(&user_id, &"c5".into()).await.unwrap().unwrap();
    assert_eq!(pending.status, CardStatus::PendingVerification);
    assert!(!pending.is_default);
    assert_eq!(pending.otp_sent_to.as_deref(), Some("138****0000"));
    assert_eq!(pending.otp_expires_at, Some(at(65_000)));
    assert_eq!(pending.token.unwrap().status, TokenStatus::Inactive);
    let dup = new_card("c6", &user_id, "fp2", 6_000);
    assert_eq!(
        store
            .reserve_card(&dup, &ReserveLimits::cards(5), at(6_000))
            .await
            .unwrap(),
        Reserve::AlreadyBound {
            card_id: "c5".to_owned().into(),
            status: CardStatus::PendingVerification
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
        .map(|card| card.id.into_string())
        .collect();
    assert_eq!(order, ["c7", "c5", "c1"]);
}

/// A completion with its attempt record answers the card as `card`
/// reads it; when the reservation is gone it writes nothing, the attempt
/// neither; a token PAN drawn before fails it whole.
async fn binding_recorded(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    let only = |trace_id: &str| AttemptFilter {
        trace_id: Some(trace_id.to_owned()),
        limit: 10,
        ..AttemptFilter::default()
    };
    let recorded = |trace_id: &str, card_id: &str, outcome: &str| AttemptRecord {
        client_gone: false,
        client_request_id: Some(format!("app-{trace_id}")),
        card_id: Some(card_id.to_owned().into()),
        masked_pan: Some("622202*********1234".to_owned()),
        outcome: AttemptOutcome::parse(outcome).unwrap(),
        error_code: None,
        latency_ms: 7,
        ..attempt(trace_id, &user_id, 2_000)
    };

    // Active: the card comes back as it now reads, the default, its
    // token with it, and the attempt is stored.
    let reserved = new_card("c1", &user_id, "fp1", 1_000);
    assert_eq!(
        store
            .reserve_card(&reserved, &ReserveLimits::cards(5), at(1_000))
            .await
            .unwrap(),
        Reserve::Reserved
    );
    let done = completion("c1", &user_id, "active", None, 2_000);
    let attempt_1 = recorded("t-1", "c1", "success");
    let card = store
        .complete_binding_recorded(&done, &attempt_1)
        .await
        .unwrap()
        .expect("the reservation was there");
    assert_eq!(card.status, CardStatus::Active);
    assert!(card.is_default);
    assert!(card.has_pan_ciphertext);
    assert_eq!(card.token.as_ref().unwrap().token_ref, "tok-c1");
    let read = store.card(&user_id, &"c1".into()).await.unwrap().unwrap();
    assert_eq!(format!("{card:?}"), format!("{read:?}"));
    assert_eq!(
        store.attempts(&only("t-1")).await.unwrap(),
        vec![attempt_1.clone()]
    );

    // Pending: the card carries its challenge's masked phone and end.
    let reserved = new_card("c2", &user_id, "fp2", 3_000);
    assert_eq!(
        store
            .reserve_card(&reserved, &ReserveLimits::cards(5), at(3_000))
            .await
            .unwrap(),
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
    assert_eq!(card.status, CardStatus::PendingVerification);
    assert!(!card.is_default);
    assert_eq!(card.otp_sent_to.as_deref(), Some("138****0000"));
    assert_eq!(card.otp_expires_at, Some(at(90_000)));
    let read = store.card(&user_id, &"c2".into()).await.unwrap().unwrap();
    assert_eq!(format!("{card:?}"), format!("{read:?}"));
    assert_eq!(store.attempts(&only("t-2")).await.unwrap().len(), 1);

    // The reservation lost before completion (released here; a crash
    // of the database before its unflushed commit reached the disk
    // leaves the same): None, and nothing is written.
    let reserved = new_card("c3", &user_id, "fp3", 4_000);
    assert_eq!(
        store
            .reserve_card(&reserved, &ReserveLimits::cards(5), at(4_000))
            .await
            .unwrap(),
        Reserve::Reserved
    );
    store.release_card(&"c3".into()).await.unwrap();
    let done = completion("c3", &user_id, "active", None, 5_000);
    assert!(
        store
            .complete_binding_recorded(&done, &recorded("t-3", "c3", "success"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.card(&user_id, &"c3".into()).await.unwrap().is_none());
    assert!(store.attempts(&only("t-3")).await.unwrap().is_empty());

    // A token PAN already drawn: the conflict the server draws again
    // on, with nothing written, the attempt neither.
    let reserved = new_card("c4", &user_id, "fp4", 6_000);
    assert_eq!(
        store
            .reserve_card(&reserved, &ReserveLimits::cards(5), at(6_000))
            .await
            .unwrap(),
        Reserve::Reserved
    );
    let mut done = completion("c4", &user_id, "active", None, 6_000);
    done.token.token_pan_fingerprint = "tpf-c1".to_owned();
    let error = store
        .complete_binding_recorded(&done, &recorded("t-4", "c4", "success"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::Conflict(Constraint::TokenPan)),
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
    assert_eq!(card.status, CardStatus::Active);
    assert!(!card.is_default);
    let read = store.card(&user_id, &"c4".into()).await.unwrap().unwrap();
    assert_eq!(format!("{card:?}"), format!("{read:?}"));
    assert_eq!(store.attempts(&only("t-4")).await.unwrap().len(), 1);

    // A trace already recorded does not undo the binding: the first
    // record stands.
    let reserved = new_card("c5", &user_id, "fp5", 7_000);
    assert_eq!(
        store
            .reserve_card(&reserved, &ReserveLimits::cards(5), at(7_000))
            .await
            .unwrap(),
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

async fn card_limit(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    for (id, fingerprint) in [("a", "fa"), ("b", "fb"), ("c", "fc")] {
        let card = new_card(id, &user_id, fingerprint, 1_000);
        assert_eq!(
            store
                .reserve_card(&card, &ReserveLimits::cards(3), at(1_000))
                .await
                .unwrap(),
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
        store
            .reserve_card(&fourth, &ReserveLimits::cards(3), at(2_000))
            .await
            .unwrap(),
        Reserve::LimitReached { live_cards: 3 }
    );
    // The duplicate answer comes before the limit.
    let dup = new_card("e", &user_id, "fb", 2_000);
    assert_eq!(
        store
            .reserve_card(&dup, &ReserveLimits::cards(3), at(2_000))
            .await
            .unwrap(),
        Reserve::AlreadyBound {
            card_id: "b".to_owned().into(),
            status: CardStatus::PendingVerification
        }
    );
    // A refused reservation leaves nothing behind.
    assert_eq!(
        store
            .reserve_card(&fourth, &ReserveLimits::cards(4), at(2_000))
            .await
            .unwrap(),
        Reserve::Reserved
    );
    store.release_card(&"d".into()).await.unwrap();
    // Unbinding frees a slot.
    assert!(
        store
            .unbind_card(&user_id, &"a".into(), at(3_000))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .reserve_card(&fourth, &ReserveLimits::cards(3), at(3_000))
            .await
            .unwrap(),
        Reserve::Reserved
    );
    let fifth = new_card("f", &user_id, "ff", 3_000);
    assert_eq!(
        store
            .reserve_card(&fifth, &ReserveLimits::cards(3), at(3_000))
            .await
            .unwrap(),
        Reserve::LimitReached { live_cards: 3 }
    );
}

async fn stale_reservation_freed(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    // Held until 61_000 (a crashed node never completes it).
    let first = new_card("c1", &user_id, "fp1", 1_000);
    assert_eq!(
        store
            .reserve_card(&first, &ReserveLimits::cards(1), at(1_000))
            .await
            .unwrap(),
        Reserve::Reserved
    );
    let other = new_card("c2", &user_id, "fp2", 61_000);
    assert_eq!(
        store
            .reserve_card(&other, &ReserveLimits::cards(1), at(61_000))
            .await
            .unwrap(),
        Reserve::LimitReached { live_cards: 1 }
    );
    let same = new_card("c3", &user_id, "fp1", 61_000);
    assert_eq!(
        store
            .reserve_card(&same, &ReserveLimits::cards(1), at(61_000))
            .await
            .unwrap(),
        Reserve::InProgress
    );
    // Past reserved_until the slot and the card are free again.
    assert_eq!(
        store
            .reserve_card(&same, &ReserveLimits::cards(1), at(61_001))
            .await
            .unwrap(),
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

async fn expired_otp_frees_slot(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    bind_pending(&*store, &user_id, "c1", "fp1", 1_000, 5_000).await;
    let other = new_card("c2", &user_id, "fp2", 4_999);
    assert_eq!(
        store
            .reserve_card(&other, &ReserveLimits::cards(1), at(4_999))
            .await
            .unwrap(),
        Reserve::LimitReached { live_cards: 1 }
    );
    let same = new_card("c3", &user_id, "fp1", 4_999);
    assert_eq!(
        store
            .reserve_card(&same, &ReserveLimits::cards(1), at(4_999))
            .await
            .unwrap(),
        Reserve::AlreadyBound {
            card_id: "c1".to_owned().into(),
            status: CardStatus::PendingVerification
        }
    );
    // At expires_at the challenge is over: the card leaves the live set.
    let same = new_card("c3", &user_id, "fp1", 5_000);
    assert_eq!(
        store
            .reserve_card(&same, &ReserveLimits::cards(1), at(5_000))
            .await
            .unwrap(),
        Reserve::Reserved
    );
    let ended = store.card(&user_id, &"c1".into()).await.unwrap().unwrap();
    assert_eq!(ended.status, CardStatus::VerificationExpired);
    assert!(!ended.has_pan_ciphertext);
    assert_eq!(ended.token.unwrap().status, TokenStatus::Deleted);
    assert_eq!(ended.otp_sent_to, None);
    assert!(store.otp_challenge(&"c1".into()).await.unwrap().is_none());
    assert!(
        !store
            .finish_otp(&"c1".into(), OtpOutcome::Verified, at(5_001))
            .await
            .unwrap()
    );
}

/// A stale reservation and an expired pending card freed by the same
/// reservation: both leave the count, whatever else the user holds.
async fn freed_slots_leave_the_count(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    bind(&*store, &user_id, "active", "fa", 1_000).await;
    bind_pending(&*store, &user_id, "pending", "fp", 1_000, 5_000).await;
    // Held until 61_000, never completed.
    let stale = new_card("stale", &user_id, "fs", 1_000);
    assert_eq!(
        store
            .reserve_card(&stale, &ReserveLimits::cards(3), at(1_000))
            .await
            .unwrap(),
        Reserve::Reserved
    );
    let time = 61_001;
    for (id, fingerprint) in [("n1", "f1"), ("n2", "f2")] {
        let card = new_card(id, &user_id, fingerprint, time);
        assert_eq!(
            store
                .reserve_card(&card, &ReserveLimits::cards(3), at(time))
                .await
                .unwrap(),
            Reserve::Reserved,
            "{id}"
        );
    }
    let full = new_card("n3", &user_id, "f3", time);
    assert_eq!(
        store
            .reserve_card(&full, &ReserveLimits::cards(3), at(time))
            .await
            .unwrap(),
        Reserve::LimitReached { live_cards: 3 }
    );
    assert_eq!(
        store
            .card(&user_id, &"pending".into())
            .await
            .unwrap()
            .unwrap()
            .status,
        CardStatus::VerificationExpired
    );
    assert!(
        !store
            .complete_binding(&completion("stale", &user_id, "active", None, time))
            .await
            .unwrap()
    );
}

/// What ran out leaves the wallet even when the wallet is far from full:
/// the same card can be bound again once its reservation has ended or its
/// SMS code has expired, without waiting for the limit to be reached.
async fn ran_out_cards_leave_a_roomy_wallet(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    let roomy = ReserveLimits::cards(10);
    bind(&*store, &user_id, "a", "fa", 1_000).await;
    // Reserved until 61_000; a crashed node never completes it.
    let stale = new_card("s1", &user_id, "fs", 1_000);
    assert_eq!(
        store.reserve_card(&stale, &roomy, at(1_000)).await.unwrap(),
        Reserve::Reserved
    );
    // Its code runs out at 5_000, long before any reservation does.
    bind_pending(&*store, &user_id, "p1", "fp", 2_000, 5_000).await;
    let again = new_card("p2", &user_id, "fp", 5_000);
    assert_eq!(
        store.reserve_card(&again, &roomy, at(5_000)).await.unwrap(),
        Reserve::Reserved
    );
    assert_eq!(
        store
            .card(&user_id, &"p1".into())
            .await
            .unwrap()
            .unwrap()
            .status,
        CardStatus::VerificationExpired
    );
    let retried = new_card("s2", &user_id, "fs", 60_999);
    assert_eq!(
        store
            .reserve_card(&retried, &roomy, at(60_999))
            .await
            .unwrap(),
        Reserve::InProgress
    );
    let retried = new_card("s2", &user_id, "fs", 61_001);
    assert_eq!(
        store
            .reserve_card(&retried, &roomy, at(61_001))
            .await
            .unwrap(),
        Reserve::Reserved
    );
    // a, p2 and s2 are live: two more fit under a limit of 5, not three.
    let five = ReserveLimits::cards(5);
    for (id, fingerprint) in [("n1", "f1"), ("n2", "f2")] {
        let card = new_card(id, &user_id, fingerprint, 61_002);
        assert_eq!(
            store.reserve_card(&card, &five, at(61_002)).await.unwrap(),
            Reserve::Reserved,
            "{id}"
        );
    }
    let sixth = new_card("n3", &user_id, "f3", 61_002);
    assert_eq!(
        store.reserve_card(&sixth, &five, at(61_002)).await.unwrap(),
        Reserve::LimitReached { live_cards: 5 }
    );
}

/// Reservations released after a refusal from the bank, and cards whose
/// code failed or ran out, never fill the wallet, however many there were.
async fn ended_bindings_never_fill_the_wallet(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    let two = ReserveLimits::cards(2);
    for round in 0..5 {
        let id = format!("r{round}");
        let card = new_card(&id, &user_id, &format!("f{round}"), 1_000 + round);
        assert_eq!(
            store
                .reserve_card(&card, &two, at(1_000 + round))
                .await
                .unwrap(),
            Reserve::Reserved,
            "{id}"
        );
        store.release_card(&id.as_str().into()).await.unwrap();
    }
    bind_pending(&*store, &user_id, "p1", "fp1", 2_000, 90_000).await;
    bind_pending(&*store, &user_id, "p2", "fp2", 2_000, 90_000).await;
    assert!(
        store
            .finish_otp(&"p1".into(), OtpOutcome::Failed, at(2_100))
            .await
            .unwrap()
    );
    assert!(
        store
            .finish_otp(&"p2".into(), OtpOutcome::Expired, at(2_100))
            .await
            .unwrap()
    );
    for (id, fingerprint) in [("a", "fa"), ("b", "fb")] {
        let card = new_card(id, &user_id, fingerprint, 3_000);
        assert_eq!(
            store.reserve_card(&card, &two, at(3_000)).await.unwrap(),
            Reserve::Reserved,
            "{id}"
        );
    }
    let third = new_card("c", &user_id, "fc", 3_000);
    assert_eq!(
        store.reserve_card(&third, &two, at(3_000)).await.unwrap(),
        Reserve::LimitReached { live_cards: 2 }
    );
}

// Concurrency: the rules hold however requests race (on PostgreSQL each
// task may run on its own connection, as on its own node).

async fn concurrent_card_limit(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    let mut tasks = Vec::new();
    for n in 0..20 {
        let store = store.clone();
        let user_id = user_id.clone();
        tasks.push(tokio::spawn(async move {
            let card = new_card(&format!("c{n:02}"), &user_id, &format!("fp{n}"), 1_000);
            let outcome = store
                .reserve_card(&card, &ReserveLimits::cards(5), at(1_000))
                .await
                .unwrap();
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
            store
                .set_default_card(&user_id, &id, at(3_000))
                .await
                .unwrap()
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap());
    }
    assert_eq!(defaults(&*store, &user_id).await.len(), 1);
}

async fn concurrent_same_card(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    let mut tasks = Vec::new();
    for n in 0..16 {
        let store = store.clone();
        let user_id = user_id.clone();
        tasks.push(tokio::spawn(async move {
            let card = new_card(&format!("c{n:02}"), &user_id, "same-pan", 1_000);
            store
                .reserve_card(&card, &ReserveLimits::cards(5), at(1_000))
                .await
                .unwrap()
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

on_both_backends!(
    reserve_and_complete,
    binding_recorded,
    card_limit,
    stale_reservation_freed,
    expired_otp_frees_slot,
    freed_slots_leave_the_count,
    ran_out_cards_leave_a_roomy_wallet,
    ended_bindings_never_fill_the_wallet,
    concurrent_card_limit,
    concurrent_same_card
);
