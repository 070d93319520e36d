//! One card in at most so many wallets (`ReserveLimits::wallets_per_card`),
//! counted across people by the PAN fingerprint, alone and racing; and the
//! mark on a card its bank replaced.

use crate::*;

fn three_wallets() -> ReserveLimits {
    ReserveLimits {
        wallets_per_card: 3,
        ..ReserveLimits::cards(5)
    }
}

async fn reserve(store: &dyn Store, card: &NewCard, now: i64) -> Reserve {
    store
        .reserve_card(card, &three_wallets(), at(now))
        .await
        .unwrap()
}

async fn a_card_is_in_at_most_so_many_wallets(store: Arc<dyn Store>) {
    let mut users = Vec::new();
    for n in 1..=5 {
        users.push(user(&*store, &n.to_string()).await);
    }
    // Bound, waiting for its code, or being bound: each holds a place.
    let bound = new_card("c1", &users[0], "fp", 1_000);
    assert_eq!(reserve(&*store, &bound, 1_000).await, Reserve::Reserved);
    assert!(
        store
            .complete_binding(&completion("c1", &users[0], "active", None, 1_500))
            .await
            .unwrap()
    );
    let pending = new_card("c2", &users[1], "fp", 1_000);
    assert_eq!(reserve(&*store, &pending, 1_000).await, Reserve::Reserved);
    let otp = NewOtpChallenge {
        code_hash: "h".to_owned(),
        sent_to_masked: "138****0000".to_owned(),
        expires_at: at(400_000),
    };
    assert!(
        store
            .complete_binding(&completion(
                "c2",
                &users[1],
                "pending_verification",
                Some(otp),
                1_500
            ))
            .await
            .unwrap()
    );
    let in_flight = new_card("c3", &users[2], "fp", 2_000);
    assert_eq!(reserve(&*store, &in_flight, 2_000).await, Reserve::Reserved);

    // A fourth person is refused, and nothing of theirs is held.
    let fourth = new_card("c4", &users[3], "fp", 3_000);
    assert_eq!(
        reserve(&*store, &fourth, 3_000).await,
        Reserve::WalletsFull { wallets: 3 }
    );
    assert!(store.list_cards(&users[3]).await.unwrap().is_empty());
    // Another card is not this one's business.
    let other_card = new_card("c5", &users[3], "fp-other", 3_000);
    assert_eq!(
        reserve(&*store, &other_card, 3_000).await,
        Reserve::Reserved
    );
    // The holder's own second try is a duplicate, not a fourth wallet.
    let again = new_card("c6", &users[0], "fp", 3_000);
    assert!(matches!(
        reserve(&*store, &again, 3_000).await,
        Reserve::AlreadyBound { .. }
    ));

    // A released reservation frees its place.
    store.release_card(&"c3".into()).await.unwrap();
    let fourth = new_card("c7", &users[3], "fp", 4_000);
    assert_eq!(reserve(&*store, &fourth, 4_000).await, Reserve::Reserved);
    let fifth = new_card("c8", &users[4], "fp", 4_000);
    assert_eq!(
        reserve(&*store, &fifth, 4_000).await,
        Reserve::WalletsFull { wallets: 3 }
    );
    // A reservation that ran out (a node died mid-binding) frees it too.
    let later = 4_000 + 60_001;
    let fifth = new_card("c9", &users[4], "fp", later);
    assert_eq!(reserve(&*store, &fifth, later).await, Reserve::Reserved);
    // At 300_000 c7's and c9's reservations have run out; c1 and c2 hold.
    let user_6 = user(&*store, "6").await;
    let sixth = new_card("c10", &user_6, "fp", 300_000);
    assert_eq!(reserve(&*store, &sixth, 300_000).await, Reserve::Reserved);
    let user_7 = user(&*store, "7").await;
    let seventh = new_card("c11", &user_7, "fp", 300_000);
    assert_eq!(
        reserve(&*store, &seventh, 300_000).await,
        Reserve::WalletsFull { wallets: 3 }
    );
    // At 400_001 c2's code has expired and c10's reservation has run out:
    // only c1 holds a place.
    let seventh = new_card("c12", &user_7, "fp", 400_001);
    assert_eq!(reserve(&*store, &seventh, 400_001).await, Reserve::Reserved);
}

async fn wallets_of_one_card_racing(store: Arc<dyn Store>) {
    let mut users = Vec::new();
    for n in 0..10 {
        users.push(user(&*store, &n.to_string()).await);
    }
    let mut tasks = Vec::new();
    for (n, user_id) in users.into_iter().enumerate() {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let card = new_card(&format!("c{n:02}"), &user_id, "same-pan", 1_000);
            reserve(&*store, &card, 1_000).await
        }));
    }
    let (mut reserved, mut full) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Reserve::Reserved => reserved += 1,
            Reserve::WalletsFull { wallets } => {
                assert_eq!(wallets, 3);
                full += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((reserved, full), (3, 7));
}

async fn a_replaced_card_is_marked_once(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    let card = new_card("c1", &user_id, "fp", 1_000);
    assert_eq!(reserve(&*store, &card, 1_000).await, Reserve::Reserved);
    assert!(
        store
            .complete_binding(&completion("c1", &user_id, "active", None, 1_500))
            .await
            .unwrap()
    );
    let read = store.card(&user_id, &"c1".into()).await.unwrap().unwrap();
    assert_eq!(read.reissued_at, None);

    store
        .mark_card_reissued(&"c1".into(), at(5_000))
        .await
        .unwrap();
    // The first time stays.
    store
        .mark_card_reissued(&"c1".into(), at(6_000))
        .await
        .unwrap();
    let read = store.card(&user_id, &"c1".into()).await.unwrap().unwrap();
    assert_eq!(read.reissued_at, Some(at(5_000)));
    let listed = store.list_cards(&user_id).await.unwrap();
    assert_eq!(listed[0].reissued_at, Some(at(5_000)));
    let token = store
        .payment_token(TokenLookup::Ref("tok-c1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(token.card_reissued_at, Some(at(5_000)));
}

on_both_backends!(
    a_card_is_in_at_most_so_many_wallets,
    wallets_of_one_card_racing,
    a_replaced_card_is_marked_once,
);
