//! Tokens and payments: ATC ranges and claims, cryptograms.

use tessera_store::{ConsentLimits, HistoryQuery, PaymentContextQuery};

use crate::*;

pub(crate) fn payment(
    id: &str,
    token_ref: &str,
    user_id: &str,
    atc: u16,
    time: i64,
) -> PaymentRecord {
    PaymentRecord {
        id: id.to_owned().into(),
        user_id: user_id.to_owned().into(),
        card_id: token_ref.trim_start_matches("tok-").to_owned().into(),
        token_ref: token_ref.to_owned(),
        merchant_key_id: "key-m".to_owned(),
        merchant_id: "M1".to_owned(),
        merchant_name: Some("便利店".to_owned()),
        channel: Channel::Nfc,
        amount: 1234,
        currency: "CNY".to_owned(),
        atc: Some(atc),
        cryptogram_result: "verified".to_owned(),
        status: PaymentStatus::Pending,
        error_code: None,
        decline_code: None,
        authorization_code: None,
        consent: None,
        risk_score: None,
        risk_reasons: None,
        trace_id: format!("req-{id}"),
        created_at: at(time),
        client_gone: false,
    }
}

pub(crate) fn claim(token_ref: &str, user_id: &str, atc: u16, id: &str) -> AtcClaim {
    AtcClaim {
        psn: 0,
        token_ref: token_ref.to_owned(),
        atc,
        window: 4,
        payment: payment(id, token_ref, user_id, atc, 10_000 + i64::from(atc)),
    }
}

async fn payment_tokens_and_atcs(store: Arc<dyn Store>) {
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
    assert_eq!(by_ref.card_status, CardStatus::Active);
    assert_eq!(by_ref.issuer_code.as_deref(), Some("ICBC"));
    assert_eq!(by_ref.pan_ciphertext.as_deref(), Some(&[0xA5; 48][..]));
    assert_eq!(
        by_ref.token_pan_ciphertext.as_deref(),
        Some(&[0x5A; 48][..])
    );
    assert_eq!(by_ref.token.imk_range, "629990");
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
        .reserve_card(
            &new_card("b", &user_id, "fb", 1_500),
            &ReserveLimits::cards(10),
            at(1_500),
        )
        .await
        .unwrap();
    assert!(matches!(
        store.complete_binding(&twin).await,
        Err(StoreError::Conflict(Constraint::TokenPan))
    ));

    // ATC ranges follow each other.
    assert_eq!(
        store.reserve_atcs("tok-a", 0, 10, at(2_000)).await.unwrap(),
        Some(1)
    );
    assert_eq!(
        store.reserve_atcs("tok-a", 0, 3, at(2_000)).await.unwrap(),
        Some(11)
    );
    assert_eq!(
        store.reserve_atcs("tok-x", 0, 3, at(2_000)).await.unwrap(),
        None
    );

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
    done.status = PaymentStatus::Approved;
    done.authorization_code = Some("123456".to_owned());
    store.finish_payment(&done).await.unwrap();
    // Released, an ATC can be claimed again (the issuer never answered).
    store.release_atc("tok-a", 4, &"p4".into()).await.unwrap();
    assert_eq!(
        outcome(claim("tok-a", &user_id, 4, "p4-retry")).await,
        AtcClaimOutcome::Claimed
    );
    // A declined payment without a claim is recorded as it is.
    let mut declined = payment("p-declined", "tok-a", &user_id, 9, 20_000);
    declined.status = PaymentStatus::Declined;
    declined.error_code = Some("card_declined".to_owned());
    declined.decline_code = Some("insufficient_funds".to_owned());
    store.record_payment(&declined).await.unwrap();

    let page = |before: Option<(DateTime<Utc>, String)>| {
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
    let rest = page(Some((last.created_at, last.id.to_string()))).await;
    let ids: Vec<&str> = rest.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["p4-retry", "p4"], "ties in time page by id");
    assert!(rest.iter().all(|p| p.status == PaymentStatus::Pending));

    // A token no longer active claims nothing.
    assert!(
        store
            .unbind_card(&user_id, &"a".into(), at(30_000))
            .await
            .unwrap()
    );
    assert_eq!(
        outcome(claim("tok-a", &user_id, 12, "p12")).await,
        AtcClaimOutcome::TokenNotActive
    );
    assert_eq!(
        store.reserve_atcs("tok-a", 0, 1, at(30_000)).await.unwrap(),
        None
    );
}

/// A single-use cryptogram of 50.00 CNY for SHOP-1, made at `made_at`.
pub(crate) fn cryptogram_of(
    token_ref: &str,
    atc: u16,
    made_at: DateTime<Utc>,
    consent: Option<&str>,
) -> CryptogramRecord {
    CryptogramRecord {
        token_ref: token_ref.to_owned(),
        atc,
        amount: 5_000,
        currency: "CNY".to_owned(),
        merchant_id: "SHOP-1".to_owned(),
        transaction_date: "2027-01-02".to_owned(),
        unpredictable_number: "0A0B0C0D".to_owned(),
        expires_at: made_at + TimeDelta::seconds(300),
        created_at: made_at,
        consent: consent.map(str::to_owned),
    }
}

async fn cryptograms(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    bind(&*store, &user_id, "a", "fa", 1_000).await;
    let made = cryptogram_of("tok-a", 1, at(1_000), Some("payment_password"));
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

/// One ATC claimed by 16 requests at once (16 connections, as 16 nodes
/// would): exactly one wins; batches of keys handed out at once never
/// overlap.
async fn concurrent_atc_claims(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    bind(&*store, &user_id, "a", "fa", 1_000).await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .reserve_atcs("tok-a", 0, 10, at(2_000))
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

/// A payment whose terminal left before its answer is marked by its trace
/// id, as a binding attempt is; other payments stay unmarked.
async fn a_payment_s_client_gone(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    bind(&*store, &user_id, "a", "fa", 1_000).await;
    for (id, time) in [("p1", 2_000), ("p2", 3_000)] {
        store
            .record_payment(&payment(id, "tok-a", &user_id, 0, time))
            .await
            .unwrap();
    }
    assert!(store.mark_client_gone("req-p2").await.unwrap());
    assert!(!store.mark_client_gone("req-none").await.unwrap());
    let filter = PaymentFilter {
        user_id: user_id.clone(),
        before: None,
        limit: 10,
    };
    let marked: Vec<(String, bool)> = store
        .payments(&filter)
        .await
        .unwrap()
        .iter()
        .map(|p| (p.id.to_string(), p.client_gone))
        .collect();
    assert_eq!(marked, [("p2".to_owned(), true), ("p1".to_owned(), false)]);
}

pub(crate) fn refund(id: &str, payment_id: &str, amount: i64, time: i64) -> RefundRecord {
    RefundRecord {
        id: id.to_owned().into(),
        payment_id: payment_id.to_owned().into(),
        merchant_key_id: "key-m".to_owned(),
        amount,
        currency: "CNY".to_owned(),
        reason: None,
        status: RefundStatus::Pending,
        decline_code: None,
        reference: None,
        trace_id: format!("req-{id}"),
        created_at: at(time),
        updated_at: at(time),
    }
}

/// A payment's pending and accepted refunds hold its amount; a settled
/// refund is settled once; a declined one gives its amount back.
async fn refunds_hold_what_they_give_back(store: Arc<dyn Store>) {
    let mut paid = payment("pay-r", "tok-r", "usr-r", 1, 1_000);
    paid.status = PaymentStatus::Approved;
    paid.authorization_code = Some("123456".to_owned());
    store.record_payment(&paid).await.unwrap();
    let mut declined = payment("pay-d", "tok-r", "usr-r", 2, 1_001);
    declined.status = PaymentStatus::Declined;
    store.record_payment(&declined).await.unwrap();

    let begin = |r: RefundRecord| {
        let store = store.clone();
        async move { store.begin_refund(&r).await.unwrap() }
    };
    assert_eq!(
        begin(refund("r1", "pay-r", 1000, 2_000)).await,
        RefundClaim::Recorded
    );
    assert_eq!(
        begin(refund("r2", "pay-r", 235, 2_001)).await,
        RefundClaim::Exceeds { refundable: 234 }
    );
    assert_eq!(
        begin(refund("r3", "pay-d", 1, 2_002)).await,
        RefundClaim::NotRefundable(PaymentStatus::Declined)
    );
    assert_eq!(
        begin(refund("r4", "pay-none", 1, 2_003)).await,
        RefundClaim::NoPayment
    );
    // Declined: r1's amount is free again; settled once only.
    let settle = |id: &str, status: RefundStatus| RefundOutcome {
        id: id.to_owned().into(),
        status,
        decline_code: (status == RefundStatus::Declined).then(|| "do_not_honor".to_owned()),
        reference: (status == RefundStatus::Accepted).then(|| "rfd_bank".to_owned()),
        updated_at: at(3_000),
    };
    store
        .finish_refund(&settle("r1", RefundStatus::Declined))
        .await
        .unwrap();
    store
        .finish_refund(&settle("r1", RefundStatus::Accepted))
        .await
        .unwrap();
    assert_eq!(
        begin(refund("r5", "pay-r", 1234, 3_001)).await,
        RefundClaim::Recorded
    );
    store
        .finish_refund(&settle("r5", RefundStatus::Accepted))
        .await
        .unwrap();
    let refunds = store
        .refunds(&["pay-r".into(), "pay-d".into()])
        .await
        .unwrap();
    let seen: Vec<(&str, RefundStatus)> =
        refunds.iter().map(|r| (r.id.as_str(), r.status)).collect();
    assert_eq!(
        seen,
        [
            ("r1", RefundStatus::Declined),
            ("r5", RefundStatus::Accepted)
        ]
    );
    assert_eq!(refunds[0].decline_code.as_deref(), Some("do_not_honor"));
    assert_eq!(refunds[1].reference.as_deref(), Some("rfd_bank"));
    assert_eq!(refunds[1].updated_at, at(3_000));
    assert_eq!(store.payment(&"pay-r".into()).await.unwrap().unwrap(), paid);
    assert!(store.payment(&"pay-x".into()).await.unwrap().is_none());
}

/// Forty refunds of one payment asked at once, straight at the store: the
/// ones recorded never add up to more than the payment.
async fn concurrent_refunds_never_pass_the_amount(store: Arc<dyn Store>) {
    let mut paid = payment("pay-c", "tok-c", "usr-c", 1, 1_000);
    paid.status = PaymentStatus::Approved;
    store.record_payment(&paid).await.unwrap();
    let barrier = Arc::new(tokio::sync::Barrier::new(40));
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (store, barrier) = (store.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            store
                .begin_refund(&refund(&format!("c{i}"), "pay-c", 100, 2_000 + i))
                .await
                .unwrap()
        }));
    }
    let mut recorded = 0;
    for task in tasks {
        if task.await.unwrap() == RefundClaim::Recorded {
            recorded += 1;
        }
    }
    assert_eq!(recorded, 12, "1234 holds twelve refunds of 100");
}

/// What a payment's risk and consent steps read, in one statement: the
/// frozen flag, the person's limits, the latest payments newest first.
async fn a_payment_s_history(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    bind(&*store, &user_id, "a", "fa", 1_000).await;
    store.reserve_atcs("tok-a", 0, 10, at(2_000)).await.unwrap();
    let query = HistoryQuery {
        user_id: user_id.clone(),
        device_id: None,
        day_start: at(0),
        sum_unconfirmed: true,
        default_per_day: 1_000_000,
        recent: 2,
    };
    let history = store.payment_history(&query).await.unwrap();
    assert!(history.recent.is_empty(), "{history:?}");
    assert_eq!((history.frozen_at, history.consent), (None, None));
    let asked = |fingerprint: &str, atc: u16| PaymentContextQuery {
        token_pan_fingerprint: fingerprint.to_owned(),
        atc,
        day_start: query.day_start,
        sum_unconfirmed: query.sum_unconfirmed,
        default_per_day: query.default_per_day,
        recent: query.recent,
    };
    let fresh = store
        .payment_context(&asked("tpf-a", 1))
        .await
        .unwrap()
        .unwrap();
    assert!(fresh.history.recent.is_empty(), "{fresh:?}");
    assert_eq!(fresh.cryptogram, None);
    assert_eq!(fresh.history.wallet_since, history.wallet_since);
    for atc in 1..=3 {
        let claimed = store
            .claim_atc(&claim("tok-a", &user_id, atc, &format!("p{atc}")))
            .await
            .unwrap();
        assert_eq!(claimed, AtcClaimOutcome::Claimed);
    }
    let limits = ConsentLimits {
        per_payment: 500,
        per_day: 2_000,
    };
    store
        .set_consent_limits(&user_id, limits, at(3_000))
        .await
        .unwrap();
    store
        .set_frozen(&user_id, Some(at(3_000)), None)
        .await
        .unwrap();
    // Read three times: the statement keeps its plan (a debug build fails
    // on one compiled again on every run).
    for _ in 0..3 {
        let history = store.payment_history(&query).await.unwrap();
        assert_eq!(history.frozen_at, Some(at(3_000)));
        assert_eq!(history.consent, Some(limits));
        let times: Vec<_> = history.recent.iter().map(|p| p.created_at).collect();
        assert_eq!(
            times,
            [at(10_003), at(10_002)],
            "the two latest, newest first"
        );
    }
    // What a payment reads before its claim, in one read: the same history
    // for the token's owner, and the cryptogram made for its ATC.
    let made = cryptogram_of("tok-a", 4, at(3_000), None);
    store.create_cryptogram(&made).await.unwrap();
    for _ in 0..3 {
        let context = store
            .payment_context(&asked("tpf-a", 4))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(context.token.token.token_ref, "tok-a");
        assert_eq!(context.token.user_id, user_id);
        assert_eq!(context.cryptogram, Some(made.clone()));
        let alone = store.payment_history(&query).await.unwrap();
        assert_eq!(context.history.frozen_at, alone.frozen_at);
        assert_eq!(context.history.consent, alone.consent);
        assert_eq!(context.history.recent, alone.recent);
        assert_eq!(context.history.unconfirmed_today, alone.unconfirmed_today);
    }
    let other_atc = store
        .payment_context(&asked("tpf-a", 5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(other_atc.cryptogram, None);
    assert_eq!(other_atc.history.recent.len(), 2);
    assert!(
        store
            .payment_context(&asked("tpf-unknown", 4))
            .await
            .unwrap()
            .is_none()
    );
}

/// The latest payments a payment reads before its claim, and the same read
/// on its own, after each kind of write that changes them.
async fn latest_both_ways(
    store: &dyn Store,
    query: &HistoryQuery,
    asked: &PaymentContextQuery,
) -> Vec<(PaymentStatus, i64)> {
    let context = store.payment_context(asked).await.unwrap().unwrap();
    let alone = store.payment_history(query).await.unwrap();
    assert_eq!(context.history.recent, alone.recent);
    alone.recent.iter().map(|p| (p.status, p.amount)).collect()
}

/// SQLite keeps each person's latest payments in memory once a payment
/// has read them: a claim, an outcome and a payment recorded without a
/// claim must each show in the next payment's read as in the table.
async fn the_latest_payments_follow_every_write(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    bind(&*store, &user_id, "a", "fa", 1_000).await;
    store.reserve_atcs("tok-a", 0, 10, at(2_000)).await.unwrap();
    let query = HistoryQuery {
        user_id: user_id.clone(),
        device_id: None,
        day_start: at(0),
        sum_unconfirmed: false,
        default_per_day: i64::MAX,
        recent: 3,
    };
    let asked = PaymentContextQuery {
        token_pan_fingerprint: "tpf-a".to_owned(),
        atc: 1,
        day_start: at(0),
        sum_unconfirmed: false,
        default_per_day: i64::MAX,
        recent: 3,
    };
    let latest = || latest_both_ways(&*store, &query, &asked);
    assert_eq!(latest().await, []);
    let mut first = claim("tok-a", &user_id, 1, "p1");
    first.payment.amount = 100;
    store.claim_atc(&first).await.unwrap();
    assert_eq!(latest().await, [(PaymentStatus::Pending, 100)]);
    first.payment.status = PaymentStatus::Approved;
    store.finish_payment(&first.payment).await.unwrap();
    assert_eq!(latest().await, [(PaymentStatus::Approved, 100)]);
    let mut declined = payment("p-declined", "tok-a", &user_id, 9, 10_005);
    (declined.status, declined.amount, declined.atc) = (PaymentStatus::Declined, 500, None);
    store.record_payment(&declined).await.unwrap();
    assert_eq!(
        latest().await,
        [
            (PaymentStatus::Declined, 500),
            (PaymentStatus::Approved, 100)
        ]
    );
    // Two more, made before the declined one: newest first, three kept.
    for atc in [3, 2] {
        let mut later = claim("tok-a", &user_id, atc, &format!("p{atc}"));
        later.payment.amount = i64::from(atc);
        store.claim_atc(&later).await.unwrap();
    }
    assert_eq!(
        latest().await,
        [
            (PaymentStatus::Declined, 500),
            (PaymentStatus::Pending, 3),
            (PaymentStatus::Pending, 2)
        ]
    );
    // A refused claim writes nothing.
    let replayed = store
        .claim_atc(&claim("tok-a", &user_id, 3, "p3-again"))
        .await;
    assert_eq!(replayed.unwrap(), AtcClaimOutcome::Used);
    assert_eq!(latest().await.len(), 3);
}

on_both_backends!(
    payment_tokens_and_atcs,
    a_payment_s_history,
    the_latest_payments_follow_every_write,
    cryptograms,
    concurrent_atc_claims,
    a_payment_s_client_gone,
    refunds_hold_what_they_give_back,
    concurrent_refunds_never_pass_the_amount
);
