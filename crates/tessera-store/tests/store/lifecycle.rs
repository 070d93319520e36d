//! The token lifecycle and issuer events.

use crate::*;
use tessera_store::GenerationTokens;

async fn token_lifecycle(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    bind(&*store, &user_id, "a", "fa", 1_000).await;
    bind(&*store, &user_id, "b", "fb", 1_100).await;
    let event = |kind: &str, actor: &str, after: &str, time: i64| TokenEvent {
        token_ref: "tok-a".to_owned(),
        kind: kind.to_owned(),
        actor: actor.to_owned(),
        reason: Some(format!("{kind} by {actor}")),
        status_after: after.to_owned(),
        created_at: at(time),
    };
    let change = |from: (&str, &[&str]), to: (&str, &[&str]), event: TokenEvent| TokenStateChange {
        token_ref: "tok-a".to_owned(),
        from_status: TokenStatus::parse(from.0).unwrap(),
        from_suspenders: from.1.iter().map(|s| (*s).to_owned()).collect(),
        to_status: TokenStatus::parse(to.0).unwrap(),
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
    let card = store.card(&user_id, &"a".into()).await.unwrap().unwrap();
    let token = card.token.unwrap();
    assert_eq!(token.status, TokenStatus::Suspended);
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
    let card = store.card(&user_id, &"a".into()).await.unwrap().unwrap();
    assert_eq!(card.status, CardStatus::Unbound);
    assert!(!card.has_pan_ciphertext);
    let token = card.token.unwrap();
    assert_eq!(token.status, TokenStatus::Deleted);
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
    assert!(
        store
            .unbind_card(&user_id, &"b".into(), at(5_000))
            .await
            .unwrap()
    );
    let events = store.token_events("tok-b", 10).await.unwrap();
    assert_eq!(
        (events[0].kind.as_str(), events[0].actor.as_str()),
        ("delete", "cardholder")
    );
}

async fn issuer_changes(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    bind(&*store, &user_id, "a", "fa", 1_000).await;
    bind(&*store, &user_id, "b", "fb", 1_100).await;
    let record = |id: &str, hash: &str| IssuerEventRecord {
        key_id: "key-i".to_owned(),
        event_id: id.to_owned(),
        kind: "card.replaced".to_owned(),
        occurred_at: at(5_000),
        body_hash: hash.to_owned(),
        received_at: at(6_000),
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

    let replace = |fingerprint: &str, time: i64| IssuerChange {
        card_id: "a".to_owned().into(),
        occurred_at: at(time),
        kind: IssuerChangeKind::Replace(CardReplacement {
            pan_fingerprint: fingerprint.to_owned(),
            pan_key_version: 2,
            pan_ciphertext: vec![0xB6; 48],
            first6: "622202".to_owned(),
            last4: "9999".to_owned(),
            pan_length: 19,
            expiry: Some((9, 2033)),
            token_expiry: (9, 2033),
        }),
        reason: Some("reissued".to_owned()),
        now: at(7_000),
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
    let card = store.card(&user_id, &"a".into()).await.unwrap().unwrap();
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
        card_id: "a".to_owned().into(),
        occurred_at: at(4_000),
        kind: IssuerChangeKind::Expiry {
            expiry: (1, 2030),
            token_expiry: (1, 2030),
        },
        reason: None,
        now: at(8_000),
    };
    assert_eq!(
        store.apply_issuer_change(&older).await.unwrap(),
        IssuerApply::Stale
    );
    let newer = IssuerChange {
        occurred_at: at(6_000),
        ..older.clone()
    };
    assert_eq!(
        store.apply_issuer_change(&newer).await.unwrap(),
        IssuerApply::Applied
    );
    let card = store.card(&user_id, &"a".into()).await.unwrap().unwrap();
    assert_eq!((card.expiry_month, card.expiry_year), (Some(1), Some(2030)));

    let close = IssuerChange {
        card_id: "a".to_owned().into(),
        occurred_at: at(9_000),
        kind: IssuerChangeKind::Close,
        reason: Some("account closed".to_owned()),
        now: at(9_500),
    };
    assert_eq!(
        store.apply_issuer_change(&close).await.unwrap(),
        IssuerApply::Applied
    );
    let card = store.card(&user_id, &"a".into()).await.unwrap().unwrap();
    assert_eq!(card.status, CardStatus::Closed);
    assert!(!card.has_pan_ciphertext);
    assert_eq!(card.token.unwrap().status, TokenStatus::Deleted);
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
}

/// Live tokens per EMV key generation: what decides whether a generation
/// may leave the key ring.
async fn tokens_by_generation(store: Arc<dyn Store>) {
    assert!(store.tokens_by_generation().await.unwrap().is_empty());
    let user_id = user(&*store, "1").await;
    bind(&*store, &user_id, "a", "fa", 1_000).await;
    bind(&*store, &user_id, "b", "fb", 1_100).await;
    let card = new_card("c", &user_id, "fc", 1_200);
    store
        .reserve_card(&card, &ReserveLimits::cards(10), at(1_200))
        .await
        .unwrap();
    let mut done = completion("c", &user_id, "active", None, 1_200);
    done.token.imk_generation = 2;
    assert!(store.complete_binding(&done).await.unwrap());
    let deleted = TokenEvent {
        token_ref: "tok-a".to_owned(),
        kind: "delete".to_owned(),
        actor: "wallet".to_owned(),
        reason: None,
        status_after: "deleted".to_owned(),
        created_at: at(2_000),
    };
    assert!(store.delete_token(&deleted).await.unwrap());
    let counts = store.tokens_by_generation().await.unwrap();
    assert_eq!(
        counts,
        [
            GenerationTokens {
                generation: 1,
                tokens: 2,
                live: 1
            },
            GenerationTokens {
                generation: 2,
                tokens: 1,
                live: 1
            },
        ]
    );
}

on_both_backends!(token_lifecycle, issuer_changes, tokens_by_generation);
