//! A token renewed in place: compare and set on its PSN, its ATCs and
//! cryptograms of the old keys forgotten, its event written with it, and
//! claims and reservations made for the old PSN refused.

use crate::payments::{claim, cryptogram_of};
use crate::*;
use tessera_store::TokenRecord;

fn renewal(from_psn: u8, generation: u8, time: i64) -> TokenRenewal {
    TokenRenewal {
        token_ref: "tok-a".to_owned(),
        from_psn,
        psn: from_psn + 1,
        imk_generation: generation,
        expiry_month: 6,
        expiry_year: 2031,
        event: TokenEvent {
            token_ref: "tok-a".to_owned(),
            kind: "renewed".to_owned(),
            actor: "wallet".to_owned(),
            reason: Some("atc".to_owned()),
            status_after: "active".to_owned(),
            created_at: at(time),
        },
    }
}

async fn token(store: &dyn Store) -> TokenRecord {
    store
        .payment_token(TokenLookup::Ref("tok-a"))
        .await
        .unwrap()
        .unwrap()
        .token
}

async fn a_token_is_renewed_once_and_its_old_keys_stop(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    bind(&*store, &user_id, "a", "fa", 1_000).await;
    assert_eq!(
        store.reserve_atcs("tok-a", 0, 10, at(2_000)).await.unwrap(),
        Some(1)
    );
    assert_eq!(
        store
            .claim_atc(&claim("tok-a", &user_id, 3, "p3"))
            .await
            .unwrap(),
        AtcClaimOutcome::Claimed
    );
    store
        .create_cryptogram(&cryptogram_of("tok-a", 4, at(2_100), None))
        .await
        .unwrap();
    let before = token(&*store).await;

    // A renewal read at another PSN changes nothing.
    assert!(!store.renew_token(&renewal(3, 2, 3_000)).await.unwrap());
    assert_eq!(token(&*store).await.psn, 0);

    assert!(store.renew_token(&renewal(0, 2, 3_000)).await.unwrap());
    let after = token(&*store).await;
    assert_eq!(
        (
            after.psn,
            after.imk_generation,
            after.atc_issued,
            after.atc_high
        ),
        (1, 2, 0, 0)
    );
    assert_eq!((after.expiry_month, after.expiry_year), (6, 2031));
    assert_eq!(after.token_first6, before.token_first6);
    assert_eq!(after.token_last4, before.token_last4);
    assert_eq!(after.card_id, before.card_id);
    // The same renewal again (a second node, a retry): already done.
    assert!(!store.renew_token(&renewal(0, 2, 3_000)).await.unwrap());
    assert_eq!(token(&*store).await.psn, 1);

    let events = store.token_events("tok-a", 10).await.unwrap();
    assert_eq!(events[0].kind, "renewed");
    assert_eq!(events[0].reason.as_deref(), Some("atc"));
    // The old keys' cryptogram is gone, and so is ATC 3's use: under the
    // new keys ATC 3 is a new one.
    assert!(store.cryptogram("tok-a", 4).await.unwrap().is_none());
    // Reserved for the old PSN: refused, the caller's keys would be old.
    assert_eq!(
        store.reserve_atcs("tok-a", 0, 5, at(3_100)).await.unwrap(),
        None
    );
    assert_eq!(
        store.reserve_atcs("tok-a", 1, 5, at(3_100)).await.unwrap(),
        Some(1)
    );
    // A claim verified under the old PSN is refused; under the new one
    // ATC 3 pays again.
    assert_eq!(
        store
            .claim_atc(&claim("tok-a", &user_id, 3, "p3-old"))
            .await
            .unwrap(),
        AtcClaimOutcome::Renewed
    );
    let mut renewed = claim("tok-a", &user_id, 3, "p3-new");
    renewed.psn = 1;
    assert_eq!(
        store.claim_atc(&renewed).await.unwrap(),
        AtcClaimOutcome::Claimed
    );
}

async fn live_tokens_of_a_generation_page_by_reference(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    for (id, time) in [("a", 1_000), ("b", 1_100), ("c", 1_200), ("d", 1_300)] {
        bind(&*store, &user_id, id, &format!("f{id}"), time).await;
    }
    let deleted = TokenEvent {
        token_ref: "tok-c".to_owned(),
        kind: "delete".to_owned(),
        actor: "wallet".to_owned(),
        reason: None,
        status_after: "deleted".to_owned(),
        created_at: at(2_000),
    };
    assert!(store.delete_token(&deleted).await.unwrap());
    assert!(store.renew_token(&renewal(0, 2, 2_100)).await.unwrap());
    let page = |after: Option<&'static str>, generation: u8| {
        let store = store.clone();
        async move {
            store
                .live_tokens_of_generation(generation, after, 2)
                .await
                .unwrap()
        }
    };
    // tok-a moved to generation 2; tok-c is deleted.
    assert_eq!(page(None, 1).await, ["tok-b", "tok-d"]);
    assert_eq!(page(Some("tok-b"), 1).await, ["tok-d"]);
    assert!(page(Some("tok-d"), 1).await.is_empty());
    assert_eq!(page(None, 2).await, ["tok-a"]);
    assert!(page(None, 3).await.is_empty());
}

on_both_backends!(
    a_token_is_renewed_once_and_its_old_keys_stop,
    live_tokens_of_a_generation_page_by_reference
);
