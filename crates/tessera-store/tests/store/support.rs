//! What support and issuer health read: attempt statistics, issuer
//! incidents and their circuit breaker, tickets.

use std::sync::Arc;

use tessera_store::test_support::at;

use tessera_store::{
    AttemptOutcome, AttemptRecord, AttemptStatsQuery, Brand, CardType, IncidentFilter,
    IncidentRecord, Store, TicketEntry, TicketFilter, TicketRecord,
};

fn attempt(
    trace: &str,
    issuer: &str,
    time: i64,
    code: Option<&str>,
    latency: i64,
) -> AttemptRecord {
    AttemptRecord {
        client_gone: false,
        trace_id: trace.to_owned(),
        user_id: "u1".to_owned().into(),
        issuer_code: Some(issuer.to_owned()),
        issuer_name: Some("中国农业银行".to_owned()),
        brand: Some(Brand::UnionPay),
        card_type: Some(CardType::Debit),
        outcome: if code.is_some() {
            AttemptOutcome::Error
        } else {
            AttemptOutcome::Success
        },
        error_code: code.map(str::to_owned),
        cause: code.map(|_| "network".to_owned()),
        issuer_response: Some(
            if code.is_some() {
                "unavailable"
            } else {
                "approved"
            }
            .to_owned(),
        ),
        latency_ms: latency,
        created_at: at(time),
        ..AttemptRecord::default()
    }
}

fn incident(id: &str, issuer: &str, kind: &str, breaker: bool, now: i64) -> IncidentRecord {
    IncidentRecord {
        id: id.to_owned(),
        issuer_code: issuer.to_owned(),
        issuer_name_zh: "中国农业银行".to_owned(),
        issuer_name_en: "Agricultural Bank of China".to_owned(),
        kind: kind.to_owned(),
        opened_at: at(now),
        updated_at: at(now),
        samples: 5,
        failure_rate: 1.0,
        mean_latency_ms: 20,
        top_code: Some("issuer_unavailable".to_owned()),
        message_zh: "中国农业银行的卡".to_owned(),
        message_en: "Agricultural Bank of China cards".to_owned(),
        breaker_open: breaker,
        retry_at: breaker.then_some(at(now + 1000)),
        ..IncidentRecord::default()
    }
}

async fn raise(store: &dyn Store, incident: &IncidentRecord, since: i64) -> (String, bool) {
    let raised = store
        .raise_incident(incident, at(since))
        .await
        .unwrap()
        .unwrap();
    (raised.incident.id, raised.opened)
}

async fn attempt_stats(store: Arc<dyn Store>) {
    for (i, (issuer, code, latency)) in [
        ("ABC", None, 50),
        ("ABC", None, 300),
        ("ABC", Some("issuer_unavailable"), 10_000),
        ("CCB", None, 80),
    ]
    .into_iter()
    .enumerate()
    {
        let time = 1000 + i64::try_from(i).unwrap();
        store
            .record_attempt(&attempt(&format!("t{i}"), issuer, time, code, latency))
            .await
            .unwrap();
    }
    store
        .record_attempt(&attempt("old", "ABC", 10, None, 1))
        .await
        .unwrap();
    let query = AttemptStatsQuery {
        since: at(1000),
        until: at(2000),
        issuer_code: None,
        latency_buckets_ms: vec![100, 1000],
        newest: None,
    };
    let mut rows = store.attempt_stats(&query).await.unwrap();
    rows.sort_by(|a, b| {
        (&a.issuer_code, a.outcome.as_str()).cmp(&(&b.issuer_code, b.outcome.as_str()))
    });
    assert_eq!(rows.len(), 3, "{rows:?}");
    let abc_ok = &rows[1];
    assert_eq!(abc_ok.issuer_code.as_deref(), Some("ABC"));
    assert_eq!(abc_ok.outcome, AttemptOutcome::Success);
    assert_eq!(abc_ok.issuer_name.as_deref(), Some("中国农业银行"));
    assert_eq!(
        (abc_ok.count, abc_ok.latency_sum_ms, abc_ok.latency_max_ms),
        (2, 350, 300)
    );
    assert_eq!(abc_ok.latency_buckets, vec![1, 2]);
    assert_eq!(rows[0].error_code.as_deref(), Some("issuer_unavailable"));
    assert_eq!(rows[0].issuer_response.as_deref(), Some("unavailable"));
    assert_eq!(rows[0].latency_buckets, vec![0, 0]);
    let only_ccb = AttemptStatsQuery {
        issuer_code: Some("CCB".to_owned()),
        latency_buckets_ms: Vec::new(),
        ..query
    };
    let ccb = store.attempt_stats(&only_ccb).await.unwrap();
    assert_eq!(ccb.len(), 1);
    assert!(ccb[0].latency_buckets.is_empty());
    let empty = AttemptStatsQuery {
        since: at(5000),
        until: at(6000),
        ..AttemptStatsQuery::default()
    };
    assert!(store.attempt_stats(&empty).await.unwrap().is_empty());
    // Capped: only ABC's newest two attempts (t2 failed, t1 took 300 ms).
    let newest = AttemptStatsQuery {
        since: at(1000),
        until: at(2000),
        issuer_code: Some("ABC".to_owned()),
        newest: Some(2),
        ..AttemptStatsQuery::default()
    };
    let mut rows = store.attempt_stats(&newest).await.unwrap();
    rows.sort_by_key(|row| row.outcome.as_str());
    let counted: Vec<_> = rows
        .iter()
        .map(|r| (r.outcome.as_str(), r.count, r.latency_sum_ms))
        .collect();
    assert_eq!(counted, [("error", 1, 10_000), ("success", 1, 300)]);
    // A cap above the window's size changes nothing.
    let all = AttemptStatsQuery {
        newest: Some(10),
        ..newest
    };
    let total: i64 = store
        .attempt_stats(&all)
        .await
        .unwrap()
        .iter()
        .map(|r| r.count)
        .sum();
    assert_eq!(total, 3);
}

async fn incidents_and_breaker(store: Arc<dyn Store>) {
    let store = &*store;
    let first = store
        .raise_incident(&incident("i1", "ABC", "failure_rate", false, 100), at(0))
        .await
        .unwrap()
        .unwrap();
    assert!(first.opened);
    assert!(!first.incident.breaker_open);
    // Another node raises the same flag: the open one is refreshed.
    let mut again = incident("i2", "ABC", "failure_rate", true, 200);
    again.samples = 9;
    let second = store.raise_incident(&again, at(0)).await.unwrap().unwrap();
    assert!(!second.opened);
    assert_eq!(second.incident.id, "i1");
    assert_eq!(second.incident.samples, 9);
    assert!(second.incident.breaker_open);
    assert_eq!(second.incident.retry_at, Some(at(1200)));
    assert_eq!(second.incident.opened_at, at(100));
    // A later refresh without the breaker does not close it.
    let third = store
        .raise_incident(&incident("i3", "ABC", "failure_rate", false, 300), at(0))
        .await
        .unwrap()
        .unwrap();
    assert!(third.incident.breaker_open);
    assert_eq!(third.incident.retry_at, Some(at(1200)));
    // What a binding reads before it reserves: its settings, in the order
    // asked, and its issuer's open breaker.
    store
        .put_setting("sandbox_issuer", "approve", at(1))
        .await
        .unwrap();
    let context = store
        .binding_context(&["maintenance", "sandbox_issuer"], Some("ABC"))
        .await
        .unwrap();
    assert_eq!(context.settings, [None, Some("approve".to_owned())]);
    assert_eq!(context.open_breaker.map(|i| i.id), Some("i1".to_owned()));
    // Another kind or issuer is its own incident.
    assert!(
        raise(store, &incident("i4", "ABC", "latency", false, 300), 0)
            .await
            .1
    );
    assert!(
        raise(store, &incident("i5", "CCB", "failure_rate", false, 300), 0)
            .await
            .1
    );

    // An incident without a breaker, another issuer's breaker or no issuer
    // at all lets the binding through.
    let context = store.binding_context(&[], Some("CCB")).await.unwrap();
    assert!(context.settings.is_empty());
    assert_eq!(context.open_breaker, None);
    let context = store
        .binding_context(&["sandbox_issuer"], None)
        .await
        .unwrap();
    assert_eq!(context.settings, [Some("approve".to_owned())]);
    assert_eq!(context.open_breaker, None);

    // The probe: not before retry_at, once at a time, free again after its lease.
    assert!(!store.claim_probe("i1", at(1199), at(5000)).await.unwrap());
    assert!(store.claim_probe("i1", at(1200), at(5000)).await.unwrap());
    assert!(!store.claim_probe("i1", at(1300), at(5300)).await.unwrap());
    assert!(store.claim_probe("i1", at(5000), at(9000)).await.unwrap());
    // A failed probe puts the breaker back to waiting.
    assert!(
        store
            .reopen_breaker("i1", at(7000), at(5100))
            .await
            .unwrap()
    );
    assert!(!store.claim_probe("i1", at(6999), at(9000)).await.unwrap());
    assert!(store.claim_probe("i1", at(7000), at(9000)).await.unwrap());
    // A breaker-less incident has no probe.
    assert!(!store.claim_probe("i4", at(9000), at(9500)).await.unwrap());

    let open = IncidentFilter {
        open_only: true,
        limit: 10,
        ..IncidentFilter::default()
    };
    assert_eq!(store.incidents(&open).await.unwrap().len(), 3);
    assert!(store.resolve_incident("i1", at(7100)).await.unwrap());
    assert!(!store.resolve_incident("i1", at(7200)).await.unwrap());
    assert!(!store.claim_probe("i1", at(8000), at(9000)).await.unwrap());
    assert!(
        !store
            .reopen_breaker("i1", at(9000), at(8000))
            .await
            .unwrap()
    );
    // Resolved, the breaker no longer stops a binding; i4 (no breaker) is
    // still open.
    let context = store.binding_context(&[], Some("ABC")).await.unwrap();
    assert_eq!(context.open_breaker, None);
    let abc = IncidentFilter {
        issuer_code: Some("ABC".to_owned()),
        limit: 10,
        ..IncidentFilter::default()
    };
    let listed = store.incidents(&abc).await.unwrap();
    assert_eq!(listed.len(), 2);
    let resolved = listed.iter().find(|i| i.id == "i1").unwrap();
    assert_eq!(resolved.resolved_at, Some(at(7100)));
    assert!(!resolved.breaker_open);
    assert_eq!(resolved.probe_until, None);
    // Evidence gathered before that resolution raises nothing...
    assert_eq!(
        store
            .raise_incident(&incident("i7", "ABC", "failure_rate", true, 7150), at(7000))
            .await
            .unwrap(),
        None
    );
    // ...evidence from after it opens a new incident.
    assert_eq!(
        raise(
            store,
            &incident("i6", "ABC", "failure_rate", true, 8000),
            7101
        )
        .await,
        ("i6".to_owned(), true)
    );
    let context = store.binding_context(&[], Some("ABC")).await.unwrap();
    assert_eq!(context.open_breaker.map(|i| i.id), Some("i6".to_owned()));
    assert_eq!(store.incidents(&open).await.unwrap().len(), 3);
    let recent = IncidentFilter {
        since: Some(at(7500)),
        limit: 10,
        ..IncidentFilter::default()
    };
    let ids: Vec<String> = store
        .incidents(&recent)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(ids, ["i6", "i5", "i4"]);
    let stored = store
        .incidents(&IncidentFilter {
            issuer_code: Some("CCB".to_owned()),
            limit: 1,
            ..IncidentFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(stored[0].message_zh, "中国农业银行的卡");
    assert_eq!(stored[0].top_code.as_deref(), Some("issuer_unavailable"));
    assert_eq!(stored[0].baseline_failure_rate, None);
    assert!((stored[0].failure_rate - 1.0).abs() < f64::EPSILON);
}

/// Many nodes see the same failures at once: one incident opens, and once
/// its breaker is half-open exactly one of them probes.
async fn concurrent_incidents_and_probes(store: Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for n in 0..16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .raise_incident(
                    &incident(&format!("r{n}"), "ICBC", "failure_rate", true, 1000),
                    at(0),
                )
                .await
                .unwrap()
                .unwrap()
        }));
    }
    let mut opened = 0;
    let mut ids = Vec::new();
    for task in tasks {
        let raised = task.await.unwrap();
        opened += usize::from(raised.opened);
        ids.push(raised.incident.id);
    }
    assert_eq!(opened, 1);
    ids.dedup();
    assert_eq!(ids.len(), 1, "every node sees the one incident");
    let id = ids.remove(0);
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let store = store.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            store.claim_probe(&id, at(2000), at(9000)).await.unwrap()
        }));
    }
    let mut probes = 0;
    for task in tasks {
        probes += usize::from(task.await.unwrap());
    }
    assert_eq!(probes, 1, "one probe at a time");
}

async fn tickets(store: Arc<dyn Store>) {
    let u1 = crate::user(&*store, "1").await;
    let u2 = crate::user(&*store, "2").await;
    for (id, user, time) in [
        ("k1", &u1, 10),
        ("k2", &u2, 20),
        ("k3", &u1, 30),
        ("k4", &u1, 30),
    ] {
        store
            .create_ticket(&TicketRecord {
                id: id.to_owned(),
                user_id: user.clone(),
                trace_id: format!("trace-{id}"),
                message: "绑不上".to_owned(),
                status: "open".to_owned(),
                details: r#"{"attempt":{}}"#.to_owned(),
                kind: "binding".to_owned(),
                created_at: at(time),
                ..TicketRecord::default()
            })
            .await
            .unwrap();
    }
    let ids = |tickets: Vec<TicketRecord>| tickets.into_iter().map(|t| t.id).collect::<Vec<_>>();
    let all = TicketFilter {
        limit: 10,
        ..TicketFilter::default()
    };
    let listed = store.tickets(&all).await.unwrap();
    assert_eq!(listed[0].details, r#"{"attempt":{}}"#);
    assert_eq!(listed[0].message, "绑不上");
    assert_eq!(ids(listed), ["k4", "k3", "k2", "k1"]);
    let mine = TicketFilter {
        user_id: Some(u1.clone()),
        limit: 10,
        ..TicketFilter::default()
    };
    assert_eq!(ids(store.tickets(&mine).await.unwrap()), ["k4", "k3", "k1"]);
    // Pages continue inside a tie on created_at.
    let page = TicketFilter {
        before: Some((at(30), "k4".to_owned())),
        limit: 2,
        ..TicketFilter::default()
    };
    assert_eq!(ids(store.tickets(&page).await.unwrap()), ["k3", "k2"]);
    let resolved = TicketFilter {
        status: Some("resolved".to_owned()),
        limit: 10,
        ..TicketFilter::default()
    };
    assert!(store.tickets(&resolved).await.unwrap().is_empty());
    // A ticket belongs to a real user; a duplicate id is refused.
    let orphan = TicketRecord {
        id: "k9".to_owned(),
        user_id: "nobody".to_owned().into(),
        details: "{}".to_owned(),
        ..TicketRecord::default()
    };
    assert!(store.create_ticket(&orphan).await.is_err());
    let duplicate = TicketRecord {
        id: "k1".to_owned(),
        user_id: u2,
        details: "{}".to_owned(),
        ..TicketRecord::default()
    };
    assert!(store.create_ticket(&duplicate).await.is_err());
    assert_eq!(store.tickets(&all).await.unwrap().len(), 4);
}

/// Entries land in order with the ticket's status, last activity and
/// reply count; the queue lists the longest waiting first.
async fn ticket_conversations(store: Arc<dyn Store>) {
    let user = crate::user(&*store, "1").await;
    for (id, time) in [("k1", 10), ("k2", 20), ("k3", 30)] {
        store
            .create_ticket(&TicketRecord {
                id: id.to_owned(),
                user_id: user.clone(),
                status: "open".to_owned(),
                details: "{}".to_owned(),
                kind: "transfer".to_owned(),
                transfer_id: Some("trf_1".into()),
                created_at: at(time),
                ..TicketRecord::default()
            })
            .await
            .unwrap();
    }
    let opened = store.ticket("k1").await.unwrap().unwrap();
    assert_eq!(opened.last_activity_at, at(10));
    assert_eq!(opened.reply_count, 0);
    assert_eq!(
        opened.transfer_id.as_ref().map(|t| t.as_str()),
        Some("trf_1")
    );
    let reply = TicketEntry {
        ticket_id: "k1".to_owned(),
        author: "support".to_owned(),
        key_id: Some("key_1".to_owned()),
        message: Some("请提供截图以外的信息".to_owned()),
        internal_note: Some("issuer asked".to_owned()),
        status: Some("waiting_for_person".to_owned()),
        created_at: at(40),
        ..TicketEntry::default()
    };
    let after = store.add_ticket_entry(&reply).await.unwrap().unwrap();
    assert_eq!(after.status, "waiting_for_person");
    assert_eq!(after.last_activity_at, at(40));
    assert_eq!(after.reply_count, 1);
    // A note alone counts as activity, not as a reply, and keeps the status.
    let note = TicketEntry {
        ticket_id: "k1".to_owned(),
        author: "support".to_owned(),
        internal_note: Some("called the issuer".to_owned()),
        created_at: at(50),
        ..TicketEntry::default()
    };
    let after = store.add_ticket_entry(&note).await.unwrap().unwrap();
    assert_eq!(
        (after.status.as_str(), after.reply_count),
        ("waiting_for_person", 1)
    );
    let entries = store.ticket_entries("k1").await.unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!((entries[0].seq, entries[1].seq), (1, 2));
    assert_eq!(entries[0], TicketEntry { seq: 1, ..reply });
    assert_eq!(
        entries[1].internal_note.as_deref(),
        Some("called the issuer")
    );
    // An unknown ticket gets nothing written.
    let stray = TicketEntry {
        ticket_id: "nope".to_owned(),
        ..note
    };
    assert_eq!(store.add_ticket_entry(&stray).await.unwrap(), None);
    assert!(store.ticket_entries("nope").await.unwrap().is_empty());
    assert_eq!(store.ticket("nope").await.unwrap(), None);

    // Open tickets, the longest waiting first; k1 waits for the person.
    let ids = |tickets: Vec<TicketRecord>| tickets.into_iter().map(|t| t.id).collect::<Vec<_>>();
    let queue = TicketFilter {
        status: Some("open".to_owned()),
        oldest_first: true,
        limit: 10,
        ..TicketFilter::default()
    };
    assert_eq!(ids(store.tickets(&queue).await.unwrap()), ["k2", "k3"]);
    let idle = TicketFilter {
        idle_since: Some(at(25)),
        ..queue.clone()
    };
    assert_eq!(ids(store.tickets(&idle).await.unwrap()), ["k2"]);
    let next = TicketFilter {
        after: Some((at(20), "k2".to_owned())),
        ..queue
    };
    assert_eq!(ids(store.tickets(&next).await.unwrap()), ["k3"]);
}

on_both_backends!(
    attempt_stats,
    incidents_and_breaker,
    concurrent_incidents_and_probes,
    tickets,
    ticket_conversations
);
