//! Binding attempts as support reads them.

use crate::*;

async fn attempts(store: Arc<dyn Store>) {
    let full = AttemptRecord {
        client_gone: false,
        trace_id: "t-full".to_owned(),
        client_request_id: Some("app-req.1".to_owned()),
        user_id: "u1".to_owned().into(),
        card_id: Some("c1".to_owned().into()),
        masked_pan: Some("622202******1234".to_owned()),
        first6: Some("622202".to_owned()),
        last4: Some("1234".to_owned()),
        brand: Some(Brand::UnionPay),
        issuer_code: Some("ICBC".to_owned()),
        issuer_name: Some("中国工商银行".to_owned()),
        card_type: Some(CardType::Debit),
        country: Some("CN".to_owned()),
        device: Some(r#"{"os":"android"}"#.to_owned()),
        outcome: AttemptOutcome::Success,
        error_code: None,
        cause: Some("none".to_owned()),
        error_param: Some("pan".to_owned()),
        error_reason: Some("reason".to_owned()),
        issuer_response: Some("00".to_owned()),
        latency_ms: 321,
        created_at: at(600),
    };
    store.record_attempt(&full).await.unwrap();
    for time in [100, 200, 300, 400, 500] {
        store
            .record_attempt(&attempt(&format!("t-{time}"), "u1", time))
            .await
            .unwrap();
    }
    // Ties are ordered by trace id, byte-wise and newest-first ('a' before 'B').
    store
        .record_attempt(&attempt("a-tie", "u2", 300))
        .await
        .unwrap();
    store
        .record_attempt(&attempt("B-tie", "u2", 300))
        .await
        .unwrap();
    // A trace is recorded once; the first record stands.
    store
        .record_attempt(&attempt("t-full", "u9", 1))
        .await
        .unwrap();

    let ids = |records: Vec<AttemptRecord>| -> Vec<String> {
        records.into_iter().map(|record| record.trace_id).collect()
    };
    let filter = |user: Option<&str>, since: Option<i64>, before: Option<i64>, limit: u32| {
        AttemptFilter {
            user_id: user.map(str::to_owned).map(Into::into),
            trace_id: None,
            client_request_id: None,
            since: since.map(at),
            // A cursor with an empty trace id: strictly older than `before`.
            before: before.map(|time| (at(time), String::new())),
            limit,
        }
    };
    assert_eq!(
        ids(store
            .attempts(&filter(Some("u1"), None, None, 10))
            .await
            .unwrap()),
        ["t-full", "t-500", "t-400", "t-300", "t-200", "t-100"]
    );
    assert_eq!(
        ids(store
            .attempts(&filter(Some("u1"), None, None, 2))
            .await
            .unwrap()),
        ["t-full", "t-500"]
    );
    // Paging backwards: strictly older than `before`.
    assert_eq!(
        ids(store
            .attempts(&filter(Some("u1"), None, Some(400), 2))
            .await
            .unwrap()),
        ["t-300", "t-200"]
    );
    // `since` is inclusive.
    assert_eq!(
        ids(store
            .attempts(&filter(Some("u1"), Some(300), Some(500), 10))
            .await
            .unwrap()),
        ["t-400", "t-300"]
    );
    assert_eq!(
        ids(store
            .attempts(&filter(None, Some(300), Some(301), 10))
            .await
            .unwrap()),
        ["t-300", "a-tie", "B-tie"]
    );
    // A cursor inside a tie continues after its trace id.
    let after_tie = AttemptFilter {
        user_id: None,
        trace_id: None,
        client_request_id: None,
        since: Some(at(300)),
        before: Some((at(300), "a-tie".to_owned())),
        limit: 10,
    };
    assert_eq!(ids(store.attempts(&after_tie).await.unwrap()), ["B-tie"]);
    // A limit of 0 means 1.
    assert_eq!(
        ids(store.attempts(&filter(None, None, None, 0)).await.unwrap()),
        ["t-full"]
    );
    assert_eq!(
        store
            .attempts(&filter(None, None, None, 100))
            .await
            .unwrap()
            .len(),
        8
    );
    let by_trace = AttemptFilter {
        trace_id: Some("t-full".to_owned()),
        limit: 10,
        ..AttemptFilter::default()
    };
    assert_eq!(store.attempts(&by_trace).await.unwrap(), vec![full.clone()]);
    // Support finds an attempt by the id the app sent.
    let by_client_id = AttemptFilter {
        client_request_id: Some("app-req.1".to_owned()),
        limit: 10,
        ..AttemptFilter::default()
    };
    assert_eq!(store.attempts(&by_client_id).await.unwrap(), vec![full]);
    let nobody = filter(Some("u3"), None, None, 10);
    assert!(store.attempts(&nobody).await.unwrap().is_empty());
}

/// An attempt whose client left is marked after its record, once found.
async fn client_gone(store: Arc<dyn Store>) {
    store
        .record_attempt(&attempt("t-gone", "u1", 100))
        .await
        .unwrap();
    store
        .record_attempt(&attempt("t-stayed", "u1", 200))
        .await
        .unwrap();
    assert!(store.mark_client_gone("t-gone").await.unwrap());
    assert!(!store.mark_client_gone("t-unknown").await.unwrap());
    let listed = store
        .attempts(&AttemptFilter {
            user_id: Some("u1".to_owned().into()),
            limit: 10,
            ..AttemptFilter::default()
        })
        .await
        .unwrap();
    let gone: Vec<(&str, bool)> = listed
        .iter()
        .map(|a| (a.trace_id.as_str(), a.client_gone))
        .collect();
    assert_eq!(gone, [("t-stayed", false), ("t-gone", true)]);
}

on_both_backends!(attempts, client_gone);
