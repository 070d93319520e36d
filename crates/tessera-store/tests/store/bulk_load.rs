//! `tessera seed`'s bulk load.

use crate::*;

/// `tessera seed`'s bulk load leaves what bindings would: active cards
/// with tokens, one default per user, an attempt each; a batch with a
/// rule broken writes nothing.
async fn seed_batch(store: Arc<dyn Store>) {
    let seeded = |card_id: &str, user_id: &str, fingerprint: &str, is_default: bool| SeededCard {
        card: new_card(card_id, user_id, fingerprint, 5_000),
        completion: completion(card_id, user_id, "active", None, 5_000),
        attempt: AttemptRecord {
            client_gone: false,
            card_id: Some(card_id.to_owned().into()),
            outcome: AttemptOutcome::Success,
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
    let cards = store.list_cards(&"user-1".into()).await.unwrap();
    assert_eq!(cards.len(), 2);
    assert!(
        cards
            .iter()
            .all(|c| c.status == CardStatus::Active && c.has_pan_ciphertext)
    );
    assert!(
        cards
            .iter()
            .all(|c| c.token.as_ref().unwrap().status == TokenStatus::Active)
    );
    assert_eq!(defaults(&*store, "user-1").await, ["card-a1"]);
    assert_eq!(defaults(&*store, "user-2").await, ["card-b1"]);
    let attempts = store
        .attempts(&AttemptFilter {
            user_id: Some("user-1".to_owned().into()),
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
        store
            .reserve_card(&again, &ReserveLimits::cards(10), at(6_000))
            .await
            .unwrap(),
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
    assert!(store.user_by_id(&"user-3".into()).await.unwrap().is_none());
    assert!(
        store
            .card(&"user-3".into(), &"card-c1".into())
            .await
            .unwrap()
            .is_none()
    );
}

on_both_backends!(seed_batch);
