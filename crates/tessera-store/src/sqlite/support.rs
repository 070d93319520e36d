//! SQLite's part of support: attempt statistics, issuer incidents with their
//! circuit breaker, tickets. The breaker's rules hold across nodes because
//! they are single statements on shared rows (an upsert on the open-incident
//! index, a conditional update for the probe).

use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

use super::SqliteStore;
use crate::StoreResult;
use crate::model::*;

pub(super) async fn attempt_stats(
    store: &SqliteStore,
    query: &AttemptStatsQuery,
) -> StoreResult<Vec<AttemptStatsRow>> {
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(
        "SELECT issuer_code, issuer_name, brand, card_type, outcome, error_code, cause, \
         issuer_response, COUNT(*) AS n, CAST(SUM(latency_ms) AS INTEGER) AS latency_sum, \
         MAX(latency_ms) AS latency_max",
    );
    for (index, bound) in query.latency_buckets_ms.iter().enumerate() {
        sql.push(", SUM(CASE WHEN latency_ms <= ")
            .push_bind(*bound)
            .push(format!(" THEN 1 ELSE 0 END) AS b{index}"));
    }
    sql.push(" FROM binding_attempts WHERE created_at >= ")
        .push_bind(query.since)
        .push(" AND created_at < ")
        .push_bind(query.until);
    if let Some(issuer) = &query.issuer_code {
        sql.push(" AND issuer_code = ").push_bind(issuer.clone());
    }
    sql.push(
        " GROUP BY issuer_code, issuer_name, brand, card_type, outcome, error_code, cause, \
         issuer_response",
    );
    let rows = sql.build().fetch_all(&store.readers).await?;
    rows.iter()
        .map(|row| {
            let mut buckets = Vec::with_capacity(query.latency_buckets_ms.len());
            for index in 0..query.latency_buckets_ms.len() {
                buckets.push(row.try_get::<i64, _>(format!("b{index}").as_str())?);
            }
            Ok(AttemptStatsRow {
                issuer_code: row.try_get("issuer_code")?,
                issuer_name: row.try_get("issuer_name")?,
                brand: row.try_get("brand")?,
                card_type: row.try_get("card_type")?,
                outcome: row.try_get("outcome")?,
                error_code: row.try_get("error_code")?,
                cause: row.try_get("cause")?,
                issuer_response: row.try_get("issuer_response")?,
                count: row.try_get("n")?,
                latency_sum_ms: row.try_get("latency_sum")?,
                latency_max_ms: row.try_get("latency_max")?,
                latency_buckets: buckets,
            })
        })
        .collect()
}

fn incident_from_row(row: &SqliteRow) -> StoreResult<IncidentRecord> {
    Ok(IncidentRecord {
        id: row.try_get("id")?,
        issuer_code: row.try_get("issuer_code")?,
        issuer_name_zh: row.try_get("issuer_name_zh")?,
        issuer_name_en: row.try_get("issuer_name_en")?,
        kind: row.try_get("kind")?,
        opened_at: row.try_get("opened_at")?,
        updated_at: row.try_get("updated_at")?,
        resolved_at: row.try_get("resolved_at")?,
        samples: row.try_get("samples")?,
        failure_rate: row.try_get("failure_rate")?,
        baseline_failure_rate: row.try_get("baseline_failure_rate")?,
        mean_latency_ms: row.try_get("mean_latency_ms")?,
        baseline_latency_ms: row.try_get("baseline_latency_ms")?,
        top_code: row.try_get("top_code")?,
        message_zh: row.try_get("message_zh")?,
        message_en: row.try_get("message_en")?,
        breaker_open: row.try_get::<i64, _>("breaker_open")? != 0,
        retry_at: row.try_get("retry_at")?,
        probe_until: row.try_get("probe_until")?,
    })
}

pub(super) async fn raise_incident(
    store: &SqliteStore,
    incident: &IncidentRecord,
    evidence_since: i64,
) -> StoreResult<Option<Raised>> {
    // One statement: the check for a newer resolution and the upsert cannot
    // be split by another writer.
    let row = sqlx::query(
        "INSERT INTO issuer_incidents (id, issuer_code, issuer_name_zh, issuer_name_en, kind, \
         opened_at, updated_at, samples, failure_rate, baseline_failure_rate, mean_latency_ms, \
         baseline_latency_ms, top_code, message_zh, message_en, breaker_open, retry_at) \
         SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? \
         WHERE NOT EXISTS (SELECT 1 FROM issuer_incidents WHERE issuer_code = ? AND kind = ? \
         AND resolved_at >= ?) \
         ON CONFLICT (issuer_code, kind) WHERE resolved_at IS NULL DO UPDATE SET \
         updated_at = excluded.updated_at, samples = excluded.samples, \
         failure_rate = excluded.failure_rate, \
         baseline_failure_rate = excluded.baseline_failure_rate, \
         mean_latency_ms = excluded.mean_latency_ms, \
         baseline_latency_ms = excluded.baseline_latency_ms, top_code = excluded.top_code, \
         message_zh = excluded.message_zh, message_en = excluded.message_en, \
         breaker_open = MAX(issuer_incidents.breaker_open, excluded.breaker_open), \
         retry_at = COALESCE(issuer_incidents.retry_at, excluded.retry_at) \
         RETURNING *",
    )
    .bind(&incident.id)
    .bind(&incident.issuer_code)
    .bind(&incident.issuer_name_zh)
    .bind(&incident.issuer_name_en)
    .bind(&incident.kind)
    .bind(incident.opened_at)
    .bind(incident.updated_at)
    .bind(incident.samples)
    .bind(incident.failure_rate)
    .bind(incident.baseline_failure_rate)
    .bind(incident.mean_latency_ms)
    .bind(incident.baseline_latency_ms)
    .bind(&incident.top_code)
    .bind(&incident.message_zh)
    .bind(&incident.message_en)
    .bind(i64::from(incident.breaker_open))
    .bind(incident.retry_at.filter(|_| incident.breaker_open))
    .bind(&incident.issuer_code)
    .bind(&incident.kind)
    .bind(evidence_since)
    .fetch_optional(&store.writer)
    .await?;
    row.map(|row| {
        let stored = incident_from_row(&row)?;
        Ok(Raised {
            opened: stored.id == incident.id,
            incident: stored,
        })
    })
    .transpose()
}

pub(super) async fn incidents(
    store: &SqliteStore,
    filter: &IncidentFilter,
) -> StoreResult<Vec<IncidentRecord>> {
    let mut sql: QueryBuilder<Sqlite> =
        QueryBuilder::new("SELECT * FROM issuer_incidents WHERE 1 = 1");
    if filter.open_only {
        sql.push(" AND resolved_at IS NULL");
    }
    if let Some(issuer) = &filter.issuer_code {
        sql.push(" AND issuer_code = ").push_bind(issuer.clone());
    }
    if let Some(since) = filter.since {
        sql.push(" AND (opened_at >= ")
            .push_bind(since)
            .push(" OR resolved_at IS NULL OR resolved_at >= ")
            .push_bind(since)
            .push(")");
    }
    sql.push(" ORDER BY opened_at DESC, id DESC LIMIT ")
        .push_bind(i64::from(filter.limit.max(1)));
    // Read from the writer: a breaker just opened on this node must be seen
    // by the next binding at once.
    let rows = sql.build().fetch_all(&store.writer).await?;
    rows.iter().map(incident_from_row).collect()
}

pub(super) async fn resolve_incident(store: &SqliteStore, id: &str, now: i64) -> StoreResult<bool> {
    let result = sqlx::query(
        "UPDATE issuer_incidents SET resolved_at = ?, updated_at = ?, breaker_open = 0, \
         probe_until = NULL WHERE id = ? AND resolved_at IS NULL",
    )
    .bind(now)
    .bind(now)
    .bind(id)
    .execute(&store.writer)
    .await?;
    Ok(result.rows_affected() > 0)
}

pub(super) async fn claim_probe(
    store: &SqliteStore,
    id: &str,
    now: i64,
    lease_until: i64,
) -> StoreResult<bool> {
    let result = sqlx::query(
        "UPDATE issuer_incidents SET probe_until = ? WHERE id = ? AND resolved_at IS NULL \
         AND breaker_open = 1 AND (retry_at IS NULL OR retry_at <= ?) \
         AND (probe_until IS NULL OR probe_until <= ?)",
    )
    .bind(lease_until)
    .bind(id)
    .bind(now)
    .bind(now)
    .execute(&store.writer)
    .await?;
    Ok(result.rows_affected() > 0)
}

pub(super) async fn reopen_breaker(
    store: &SqliteStore,
    id: &str,
    retry_at: i64,
    now: i64,
) -> StoreResult<bool> {
    let result = sqlx::query(
        "UPDATE issuer_incidents SET breaker_open = 1, retry_at = ?, probe_until = NULL, \
         updated_at = ? WHERE id = ? AND resolved_at IS NULL",
    )
    .bind(retry_at)
    .bind(now)
    .bind(id)
    .execute(&store.writer)
    .await?;
    Ok(result.rows_affected() > 0)
}

pub(super) async fn create_ticket(store: &SqliteStore, ticket: &TicketRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO support_tickets (id, user_id, trace_id, message, status, details, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&ticket.id)
    .bind(&ticket.user_id)
    .bind(&ticket.trace_id)
    .bind(&ticket.message)
    .bind(&ticket.status)
    .bind(&ticket.details)
    .bind(ticket.created_at)
    .execute(&store.writer)
    .await?;
    Ok(())
}

pub(super) async fn tickets(
    store: &SqliteStore,
    filter: &TicketFilter,
) -> StoreResult<Vec<TicketRecord>> {
    let mut sql: QueryBuilder<Sqlite> =
        QueryBuilder::new("SELECT * FROM support_tickets WHERE 1 = 1");
    if let Some(user) = &filter.user_id {
        sql.push(" AND user_id = ").push_bind(user.clone());
    }
    if let Some(status) = &filter.status {
        sql.push(" AND status = ").push_bind(status.clone());
    }
    if let Some((created_at, id)) = &filter.before {
        sql.push(" AND (created_at < ")
            .push_bind(*created_at)
            .push(" OR (created_at = ")
            .push_bind(*created_at)
            .push(" AND id < ")
            .push_bind(id.clone())
            .push("))");
    }
    sql.push(" ORDER BY created_at DESC, id DESC LIMIT ")
        .push_bind(i64::from(filter.limit.max(1)));
    let rows = sql.build().fetch_all(&store.readers).await?;
    rows.iter()
        .map(|row| {
            Ok(TicketRecord {
                id: row.try_get("id")?,
                user_id: row.try_get("user_id")?,
                trace_id: row.try_get("trace_id")?,
                message: row.try_get("message")?,
                status: row.try_get("status")?,
                details: row.try_get("details")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::sqlite::SqliteOptions;
    use crate::{NewUser, Store};

    async fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db"), SqliteOptions::default())
            .await
            .unwrap();
        (dir, store)
    }

    fn attempt(
        trace: &str,
        issuer: &str,
        at: i64,
        code: Option<&str>,
        latency: i64,
    ) -> AttemptRecord {
        AttemptRecord {
            trace_id: trace.to_owned(),
            user_id: "u1".to_owned(),
            issuer_code: Some(issuer.to_owned()),
            issuer_name: Some("中国农业银行".to_owned()),
            brand: Some("unionpay".to_owned()),
            card_type: Some("debit".to_owned()),
            outcome: if code.is_some() { "error" } else { "success" }.to_owned(),
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
            created_at: at,
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
            opened_at: now,
            updated_at: now,
            samples: 5,
            failure_rate: 1.0,
            mean_latency_ms: 20,
            top_code: Some("issuer_unavailable".to_owned()),
            message_zh: "中国农业银行的卡".to_owned(),
            message_en: "Agricultural Bank of China cards".to_owned(),
            breaker_open: breaker,
            retry_at: breaker.then_some(now + 1000),
            ..IncidentRecord::default()
        }
    }

    #[tokio::test]
    async fn attempt_stats_add_up_by_issuer_outcome_and_latency_bucket() {
        let (_dir, store) = store().await;
        for (i, (issuer, code, latency)) in [
            ("ABC", None, 50),
            ("ABC", None, 300),
            ("ABC", Some("issuer_unavailable"), 10_000),
            ("CCB", None, 80),
        ]
        .into_iter()
        .enumerate()
        {
            let at = 1000 + i64::try_from(i).unwrap();
            store
                .record_attempt(&attempt(&format!("t{i}"), issuer, at, code, latency))
                .await
                .unwrap();
        }
        store
            .record_attempt(&attempt("old", "ABC", 10, None, 1))
            .await
            .unwrap();
        let query = AttemptStatsQuery {
            since: 1000,
            until: 2000,
            issuer_code: None,
            latency_buckets_ms: vec![100, 1000],
        };
        let mut rows = store.attempt_stats(&query).await.unwrap();
        rows.sort_by(|a, b| (&a.issuer_code, &a.outcome).cmp(&(&b.issuer_code, &b.outcome)));
        assert_eq!(rows.len(), 3);
        let abc_ok = &rows[1];
        assert_eq!(abc_ok.issuer_code.as_deref(), Some("ABC"));
        assert_eq!(abc_ok.outcome, "success");
        assert_eq!(
            (abc_ok.count, abc_ok.latency_sum_ms, abc_ok.latency_max_ms),
            (2, 350, 300)
        );
        assert_eq!(abc_ok.latency_buckets, vec![1, 2]);
        assert_eq!(rows[0].error_code.as_deref(), Some("issuer_unavailable"));
        assert_eq!(rows[0].latency_buckets, vec![0, 0]);
        let only_ccb = AttemptStatsQuery {
            issuer_code: Some("CCB".to_owned()),
            ..query
        };
        assert_eq!(store.attempt_stats(&only_ccb).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn one_open_incident_per_issuer_and_kind_and_its_breaker() {
        let (_dir, store) = store().await;
        let first = store
            .raise_incident(&incident("i1", "ABC", "failure_rate", false, 100), 0)
            .await
            .unwrap()
            .unwrap();
        assert!(first.opened);
        assert!(!first.incident.breaker_open);
        // Another node raises the same flag: the open one is refreshed.
        let mut again = incident("i2", "ABC", "failure_rate", true, 200);
        again.samples = 9;
        let second = store.raise_incident(&again, 0).await.unwrap().unwrap();
        assert!(!second.opened);
        assert_eq!(second.incident.id, "i1");
        assert_eq!(second.incident.samples, 9);
        assert!(second.incident.breaker_open);
        assert_eq!(second.incident.retry_at, Some(1200));
        assert_eq!(second.incident.opened_at, 100);
        // A later refresh without the breaker does not close it.
        let third = store
            .raise_incident(&incident("i3", "ABC", "failure_rate", false, 300), 0)
            .await
            .unwrap()
            .unwrap();
        assert!(third.incident.breaker_open);
        assert_eq!(third.incident.retry_at, Some(1200));
        // Another kind or issuer is its own incident.
        assert!(
            store
                .raise_incident(&incident("i4", "ABC", "latency", false, 300), 0)
                .await
                .unwrap()
                .unwrap()
                .opened
        );
        assert!(
            store
                .raise_incident(&incident("i5", "CCB", "failure_rate", false, 300), 0)
                .await
                .unwrap()
                .unwrap()
                .opened
        );

        // The probe: not before retry_at, once at a time, free again after its lease.
        assert!(!store.claim_probe("i1", 1199, 5000).await.unwrap());
        assert!(store.claim_probe("i1", 1200, 5000).await.unwrap());
        assert!(!store.claim_probe("i1", 1300, 5300).await.unwrap());
        assert!(store.claim_probe("i1", 5000, 9000).await.unwrap());
        // A failed probe puts the breaker back to waiting.
        assert!(store.reopen_breaker("i1", 7000, 5100).await.unwrap());
        assert!(!store.claim_probe("i1", 6999, 9000).await.unwrap());
        assert!(store.claim_probe("i1", 7000, 9000).await.unwrap());

        let open = IncidentFilter {
            open_only: true,
            limit: 10,
            ..IncidentFilter::default()
        };
        assert_eq!(store.incidents(&open).await.unwrap().len(), 3);
        assert!(store.resolve_incident("i1", 7100).await.unwrap());
        assert!(!store.resolve_incident("i1", 7200).await.unwrap());
        assert!(!store.claim_probe("i1", 8000, 9000).await.unwrap());
        let abc = IncidentFilter {
            issuer_code: Some("ABC".to_owned()),
            limit: 10,
            ..IncidentFilter::default()
        };
        let listed = store.incidents(&abc).await.unwrap();
        assert_eq!(listed.len(), 2);
        let resolved = listed.iter().find(|i| i.id == "i1").unwrap();
        assert_eq!(resolved.resolved_at, Some(7100));
        assert!(!resolved.breaker_open);
        // Evidence gathered before that resolution raises nothing...
        assert_eq!(
            store
                .raise_incident(&incident("i7", "ABC", "failure_rate", true, 7150), 7000)
                .await
                .unwrap(),
            None
        );
        // ...evidence from after it opens a new incident.
        assert!(
            store
                .raise_incident(&incident("i6", "ABC", "failure_rate", true, 8000), 7101)
                .await
                .unwrap()
                .unwrap()
                .opened
        );
        assert_eq!(store.incidents(&open).await.unwrap().len(), 3);
        let recent = IncidentFilter {
            since: Some(7500),
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
    }

    #[tokio::test]
    async fn tickets_list_newest_first_by_user_and_page() {
        let (_dir, store) = store().await;
        for user in ["u1", "u2"] {
            store
                .create_user(&NewUser {
                    id: user.to_owned(),
                    phone: format!("1380013800{}", &user[1..]),
                    real_name: "张三".to_owned(),
                    real_name_normalized: "张三".to_owned(),
                    id_number_hash: "h".to_owned(),
                    id_number_last4: "002X".to_owned(),
                    password_hash: "p".to_owned(),
                    created_at: 1,
                })
                .await
                .unwrap();
        }
        for (id, user, at) in [("k1", "u1", 10), ("k2", "u2", 20), ("k3", "u1", 30)] {
            store
                .create_ticket(&TicketRecord {
                    id: id.to_owned(),
                    user_id: user.to_owned(),
                    trace_id: format!("trace-{id}"),
                    message: "绑不上".to_owned(),
                    status: "open".to_owned(),
                    details: "{}".to_owned(),
                    created_at: at,
                })
                .await
                .unwrap();
        }
        let ids =
            |tickets: Vec<TicketRecord>| tickets.into_iter().map(|t| t.id).collect::<Vec<_>>();
        let all = TicketFilter {
            limit: 10,
            ..TicketFilter::default()
        };
        assert_eq!(ids(store.tickets(&all).await.unwrap()), ["k3", "k2", "k1"]);
        let mine = TicketFilter {
            user_id: Some("u1".to_owned()),
            limit: 10,
            ..TicketFilter::default()
        };
        assert_eq!(ids(store.tickets(&mine).await.unwrap()), ["k3", "k1"]);
        let page = TicketFilter {
            before: Some((30, "k3".to_owned())),
            limit: 1,
            ..TicketFilter::default()
        };
        assert_eq!(ids(store.tickets(&page).await.unwrap()), ["k2"]);
        // A ticket belongs to a real user.
        let orphan = TicketRecord {
            id: "k9".to_owned(),
            user_id: "nobody".to_owned(),
            ..TicketRecord::default()
        };
        assert!(store.create_ticket(&orphan).await.is_err());
    }
}
