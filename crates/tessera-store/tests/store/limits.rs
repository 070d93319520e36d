//! Limits that hold under parallel requests: SMS code comparisons claimed
//! before they are made, and rolling-window limits claimed all or none.

use std::sync::Arc;

use chrono::TimeDelta;
use tokio::sync::Barrier;

use crate::*;
use tessera_store::{LimitBucket, LimitClaim, OtpClaim, ReserveLimits};

const WINDOW: TimeDelta = TimeDelta::milliseconds(10_000);

fn buckets(list: &[(&str, u32)]) -> Vec<LimitBucket> {
    list.iter()
        .map(|(bucket, limit)| LimitBucket {
            bucket: (*bucket).to_owned(),
            limit: *limit,
        })
        .collect()
}

async fn otp_comparisons_are_claimed_up_to_the_limit(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    bind_pending(&*store, &user_id, "c1", "fp1", 1_000, 90_000).await;
    // Released together, 40 claims on one challenge: 5 win, numbered 1 to 5.
    let barrier = Arc::new(Barrier::new(40));
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let (store, barrier) = (store.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            store.claim_otp_comparison(&"c1".into(), 5).await.unwrap()
        }));
    }
    let mut claimed = Vec::new();
    let mut exhausted = 0;
    for task in tasks {
        match task.await.unwrap() {
            OtpClaim::Claimed {
                challenge,
                comparison,
            } => {
                assert_eq!(challenge.code_hash, "otp-hash");
                claimed.push(comparison);
            }
            OtpClaim::Exhausted => exhausted += 1,
            OtpClaim::Missing => panic!("the challenge is open"),
        }
    }
    claimed.sort_unstable();
    assert_eq!(claimed, [1, 2, 3, 4, 5], "exactly five comparisons");
    assert_eq!(exhausted, 35);
    // A card without a challenge has nothing to claim.
    assert!(matches!(
        store.claim_otp_comparison(&"nope".into(), 5).await.unwrap(),
        OtpClaim::Missing
    ));
    assert!(
        store
            .finish_otp(&"c1".into(), OtpOutcome::Failed, at(2_000))
            .await
            .unwrap()
    );
    assert!(matches!(
        store.claim_otp_comparison(&"c1".into(), 5).await.unwrap(),
        OtpClaim::Missing
    ));
}

async fn limits_count_all_or_none_in_a_rolling_window(store: Arc<dyn Store>) {
    let card_a = buckets(&[("card:a", 2), ("user:u", 3)]);
    let card_b = buckets(&[("card:b", 2), ("user:u", 3)]);
    let claim = |list: Vec<LimitBucket>, now: i64| {
        let store = store.clone();
        async move { store.claim_limits(&list, WINDOW, at(now)).await.unwrap() }
    };
    assert_eq!(claim(card_a.clone(), 1_000).await, LimitClaim::Counted);
    assert_eq!(claim(card_a.clone(), 2_000).await, LimitClaim::Counted);
    // The card is full: it frees a slot when its first hit leaves the window.
    assert_eq!(
        claim(card_a.clone(), 3_000).await,
        LimitClaim::Refused {
            index: 0,
            free_at: at(11_000)
        }
    );
    // The refusal counted nothing: the user has room for one more.
    assert_eq!(claim(card_b.clone(), 4_000).await, LimitClaim::Counted);
    assert_eq!(
        claim(card_b.clone(), 5_000).await,
        LimitClaim::Refused {
            index: 1,
            free_at: at(11_000)
        }
    );
    // Rolling: at 11,000 the hit of 1,000 has left the window (one slot for
    // the user and card a), the hit of 2,000 has not.
    assert_eq!(claim(card_a.clone(), 11_000).await, LimitClaim::Counted);
    assert_eq!(
        claim(card_b.clone(), 11_500).await,
        LimitClaim::Refused {
            index: 1,
            free_at: at(12_000)
        }
    );
    // When two are full, the answer is the one that frees a slot last; a
    // lowered limit waits for enough hits to leave, not just the first.
    assert_eq!(
        claim(buckets(&[("user:u", 3), ("card:a", 1)]), 11_600).await,
        LimitClaim::Refused {
            index: 1,
            free_at: at(21_000)
        }
    );
    assert_eq!(claim(card_b, 30_000).await, LimitClaim::Counted);
}

async fn a_burst_never_passes_a_limit(store: Arc<dyn Store>) {
    // 30 claims released together on buckets they share: 4 are counted.
    let barrier = Arc::new(Barrier::new(30));
    let mut tasks = Vec::new();
    for n in 0..30 {
        let (store, barrier) = (store.clone(), barrier.clone());
        // Two orders of the same buckets: no deadlock either way.
        let list = if n % 2 == 0 {
            buckets(&[("card:x", 4), ("user:y", 100)])
        } else {
            buckets(&[("user:y", 100), ("card:x", 4)])
        };
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            store.claim_limits(&list, WINDOW, at(1_000)).await.unwrap()
        }));
    }
    let mut counted = 0;
    for task in tasks {
        if task.await.unwrap() == LimitClaim::Counted {
            counted += 1;
        }
    }
    assert_eq!(counted, 4, "a burst is counted up to the limit, no further");
    // The user's bucket counted only the accepted ones.
    let user_only = buckets(&[("user:y", 5)]);
    assert_eq!(
        store
            .claim_limits(&user_only, WINDOW, at(1_001))
            .await
            .unwrap(),
        LimitClaim::Counted
    );
    assert!(matches!(
        store
            .claim_limits(&user_only, WINDOW, at(1_002))
            .await
            .unwrap(),
        LimitClaim::Refused { .. }
    ));
}

async fn a_refused_claim_gives_back_every_hit_it_took(store: Arc<dyn Store>) {
    let claim = |list: &[(&str, u32)], now: i64| {
        let (store, list) = (store.clone(), buckets(list));
        async move { store.claim_limits(&list, WINDOW, at(now)).await.unwrap() }
    };
    assert_eq!(claim(&[("user:v", 1)], 1_000).await, LimitClaim::Counted);
    // The new card's bucket comes first and has room; the person's is full.
    assert_eq!(
        claim(&[("card:new", 2), ("user:v", 1)], 2_000).await,
        LimitClaim::Refused {
            index: 1,
            free_at: at(11_000)
        }
    );
    // So the card holds no hit of that refusal: two fit, not one.
    assert_eq!(claim(&[("card:new", 2)], 3_000).await, LimitClaim::Counted);
    assert_eq!(claim(&[("card:new", 2)], 4_000).await, LimitClaim::Counted);
    assert_eq!(
        claim(&[("card:new", 2)], 5_000).await,
        LimitClaim::Refused {
            index: 0,
            free_at: at(13_000)
        }
    );
}

async fn a_limit_past_the_most_hits_counts_but_never_refuses(store: Arc<dyn Store>) {
    let most = LimitBucket::MOST_HITS;
    let past = buckets(&[("user:load", most + 1)]);
    for n in 0..i64::from(most) + 8 {
        let claim = store
            .claim_limits(&past, WINDOW, at(1_000 + n))
            .await
            .unwrap();
        assert_eq!(claim, LimitClaim::Counted, "hit {n}");
    }
    // The newest MOST_HITS were kept: at that limit the bucket is full,
    // and frees when the oldest of them (1,008) leaves.
    assert_eq!(
        store
            .claim_limits(&buckets(&[("user:load", most)]), WINDOW, at(2_000))
            .await
            .unwrap(),
        LimitClaim::Refused {
            index: 0,
            free_at: at(11_008)
        }
    );
}

async fn a_purge_forgets_only_buckets_whose_hits_all_left(store: Arc<dyn Store>) {
    let one = |bucket: &str| buckets(&[(bucket, 1)]);
    for (bucket, now) in [("card:gone", 1_000), ("card:kept", 9_000)] {
        assert_eq!(
            store
                .claim_limits(&one(bucket), WINDOW, at(now))
                .await
                .unwrap(),
            LimitClaim::Counted
        );
    }
    // At 12,000 the window starts at 2,000: only card:gone's hit left it.
    assert_eq!(store.purge_limits(at(2_000)).await.unwrap(), 1);
    assert_eq!(store.purge_limits(at(2_000)).await.unwrap(), 0);
    assert_eq!(
        store
            .claim_limits(&one("card:kept"), WINDOW, at(12_000))
            .await
            .unwrap(),
        LimitClaim::Refused {
            index: 0,
            free_at: at(19_000)
        }
    );
    assert_eq!(
        store
            .claim_limits(&one("card:gone"), WINDOW, at(12_000))
            .await
            .unwrap(),
        LimitClaim::Counted
    );
}

fn counting(live_cards: u32, attempts: &[(&str, u32)]) -> ReserveLimits {
    ReserveLimits {
        live_cards,
        wallets_per_card: u32::MAX,
        attempts: buckets(attempts),
        window: WINDOW,
    }
}

async fn a_reservation_claims_its_attempts_only_when_it_reserves(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    let reserve = |id: &'static str, fingerprint: &'static str, limits: ReserveLimits, now: i64| {
        let (store, user_id) = (store.clone(), user_id.clone());
        async move {
            let card = new_card(id, &user_id, fingerprint, now);
            store.reserve_card(&card, &limits, at(now)).await.unwrap()
        }
    };
    let fp1 = || counting(10, &[("card:fp1", 2), ("user:1", 3)]);
    assert_eq!(reserve("a1", "fp1", fp1(), 1_000).await, Reserve::Reserved);
    store.release_card(&"a1".into()).await.unwrap();
    assert_eq!(reserve("a2", "fp1", fp1(), 1_500).await, Reserve::Reserved);
    store.release_card(&"a2".into()).await.unwrap();
    // The card's two attempts are used: refused until the first leaves the
    // window, and nothing is reserved (the same card reserves at once
    // when nothing is counted).
    assert_eq!(
        reserve("a3", "fp1", fp1(), 2_000).await,
        Reserve::AttemptsRefused {
            index: 0,
            free_at: at(11_000)
        }
    );
    assert_eq!(
        reserve("a4", "fp1", ReserveLimits::cards(10), 2_000).await,
        Reserve::Reserved
    );
    store.release_card(&"a4".into()).await.unwrap();

    // A reservation that does not reserve counts nothing: the user's
    // third hit is b1's, not b2's.
    let fp2 = || counting(10, &[("card:fp2", 2), ("user:1", 3)]);
    assert_eq!(reserve("b1", "fp2", fp2(), 3_000).await, Reserve::Reserved);
    assert_eq!(
        reserve("b2", "fp2", fp2(), 3_100).await,
        Reserve::InProgress
    );
    assert_eq!(
        reserve("b3", "fp3", counting(1, &[("user:1", 3)]), 3_200).await,
        Reserve::LimitReached { live_cards: 1 }
    );
    assert_eq!(
        store
            .claim_limits(&buckets(&[("user:1", 4)]), WINDOW, at(3_500))
            .await
            .unwrap(),
        LimitClaim::Counted
    );
    store.release_card(&"b1".into()).await.unwrap();

    // The person's limit: four hits held against three allowed, so it
    // frees when the second oldest (1 500) leaves.
    assert_eq!(
        reserve(
            "c1",
            "fp3",
            counting(10, &[("card:fp3", 2), ("user:1", 3)]),
            4_000
        )
        .await,
        Reserve::AttemptsRefused {
            index: 1,
            free_at: at(11_500)
        }
    );
    // Past the window the first card's hits are gone.
    assert_eq!(reserve("a5", "fp1", fp1(), 12_000).await, Reserve::Reserved);
}

async fn a_burst_of_reservations_never_passes_an_attempt_limit(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    // 20 different cards of one person, released together: 5 attempts.
    let barrier = Arc::new(Barrier::new(20));
    let mut tasks = Vec::new();
    for n in 0..20 {
        let (store, barrier, user_id) = (store.clone(), barrier.clone(), user_id.clone());
        tasks.push(tokio::spawn(async move {
            let fingerprint = format!("fp{n}");
            let card = new_card(&format!("c{n}"), &user_id, &fingerprint, 1_000);
            let limits = counting(100, &[(&format!("card:{fingerprint}"), 5), ("user:1", 5)]);
            barrier.wait().await;
            store.reserve_card(&card, &limits, at(1_000)).await.unwrap()
        }));
    }
    let (mut reserved, mut refused) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Reserve::Reserved => reserved += 1,
            Reserve::AttemptsRefused { index: 1, .. } => refused += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((reserved, refused), (5, 15));
}

on_both_backends!(
    a_reservation_claims_its_attempts_only_when_it_reserves,
    a_burst_of_reservations_never_passes_an_attempt_limit,
    otp_comparisons_are_claimed_up_to_the_limit,
    limits_count_all_or_none_in_a_rolling_window,
    a_burst_never_passes_a_limit,
    a_refused_claim_gives_back_every_hit_it_took,
    a_limit_past_the_most_hits_counts_but_never_refuses,
    a_purge_forgets_only_buckets_whose_hits_all_left,
);
