//! A closed account binds nothing more: neither a card reserved before
//! its closure nor one reserved after it by a request already past its
//! sign-in check completes into a card of a closed account.

use tessera_store::{AccountClosure, ClosedBy};

use crate::*;

async fn close(store: &dyn Store, user_id: &UserId, now: i64) {
    let closure = AccountClosure {
        user_id: user_id.clone(),
        closed_by: ClosedBy::Holder,
        key_id: None,
        reason: None,
        closed_at: at(now),
        purged_at: None,
    };
    assert!(store.close_account(&closure).await.unwrap());
}

async fn no_binding_completes_after_closure(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    let limits = ReserveLimits::cards(5);
    let before = new_card("before", &user_id, "fp-before", 1_000);
    assert_eq!(
        store
            .reserve_card(&before, &limits, at(1_000))
            .await
            .unwrap(),
        Reserve::Reserved
    );
    // A card bound before the closure, to show the closure ran.
    let bound = new_card("bound", &user_id, "fp-bound", 1_000);
    assert_eq!(
        store
            .reserve_card(&bound, &limits, at(1_000))
            .await
            .unwrap(),
        Reserve::Reserved
    );
    assert!(
        store
            .complete_binding(&completion("bound", &user_id, "active", None, 1_500))
            .await
            .unwrap()
    );

    close(&*store, &user_id, 2_000).await;
    assert!(
        !store
            .complete_binding(&completion("before", &user_id, "active", None, 2_500))
            .await
            .unwrap(),
        "a reservation made before the closure completed"
    );

    // A reservation taken after the closure (the store does not refuse
    // it: the request passed its sign-in check before) completes nothing
    // either, with or without an SMS code to wait for.
    let after = new_card("after", &user_id, "fp-after", 3_000);
    assert_eq!(
        store
            .reserve_card(&after, &limits, at(3_000))
            .await
            .unwrap(),
        Reserve::Reserved
    );
    let otp = NewOtpChallenge {
        code_hash: "h".to_owned(),
        sent_to_masked: "138****0000".to_owned(),
        expires_at: at(400_000),
    };
    assert!(
        !store
            .complete_binding(&completion(
                "after",
                &user_id,
                "pending_verification",
                Some(otp),
                3_500
            ))
            .await
            .unwrap(),
        "a reservation made after the closure completed"
    );

    let cards = store.list_cards(&user_id).await.unwrap();
    let statuses: Vec<(&str, &str)> = cards
        .iter()
        .map(|card| (card.id.as_str(), card.status.as_str()))
        .collect();
    assert_eq!(statuses, vec![("bound", "unbound")], "{statuses:?}");
    assert!(
        store
            .payment_token(TokenLookup::Ref("tok-after"))
            .await
            .unwrap()
            .is_none()
    );
}

on_both_backends!(no_binding_completes_after_closure);
