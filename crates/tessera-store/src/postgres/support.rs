//! PostgreSQL's part of support: attempt statistics, issuer incidents with
//! their circuit breaker, tickets. Every node shares these rows; the rules
//! hold because each is one statement: an upsert on the open-incident index
//! (guarded against a newer resolution), a conditional update for the probe.

use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use super::PgStore;
use crate::StoreResult;
use crate::model::*;

pub(super) async fn attempt_stats(
    store: &PgStore,
    query: &AttemptStatsQuery,
) -> StoreResult<Vec<AttemptStatsRow>> {
    // SUM over BIGINT is NUMERIC in PostgreSQL: cast back.
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT issuer_code, issuer_name, brand, card_type, outcome, error_code, cause, \
         issuer_response, COUNT(*) AS n, CAST(SUM(latency_ms) AS BIGINT) AS latency_sum, \
         MAX(latency_ms) AS latency_max",
    );
    for (index, bound) in query.latency_buckets_ms.iter().enumerate() {
        sql.push(", CAST(SUM(CASE WHEN latency_ms <= ")
            .push_bind(*bound)
            .push(format!(" THEN 1 ELSE 0 END) AS BIGINT) AS b{index}"));
    }
    // Capped, the newest attempts of the window are picked first through
    // binding_attempts_issuer (or _time) in reverse, and only they are
    // grouped.
    sql.push(if query.newest.is_some() {
        " FROM (SELECT * FROM binding_attempts WHERE created_at >= "
    } else {
        " FROM binding_attempts WHERE created_at >= "
    })
    .push_bind(query.since)
    .push(" AND created_at < ")
    .push_bind(query.until);
    if let Some(issuer) = &query.issuer_code {
        sql.push(" AND issuer_code = ").push_bind(issuer.clone());
    }
    if let Some(newest) = query.newest {
        sql.push(" ORDER BY created_at DESC LIMIT ")
            .push_bind(i64::from(newest.max(1)))
            .push(") AS newest");
    }
    sql.push(
        " GROUP BY issuer_code, issuer_name, brand, card_type, outcome, error_code, cause, \
         issuer_response",
    );
    let rows = sql.build().fetch_all(&mut *store.lease().await?).await?;
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

pub(super) fn incident_from_row(row: &PgRow) -> StoreResult<IncidentRecord> {
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
        breaker_open: row.try_get("breaker_open")?,
        retry_at: row.try_get("retry_at")?,
        probe_until: row.try_get("probe_until")?,
    })
}

pub(super) async fn raise_incident(
    store: &PgStore,
    incident: &IncidentRecord,
    evidence_since: i64,
) -> StoreResult<Option<Raised>> {
    let row = sqlx::query(
        "INSERT INTO issuer_incidents (id, issuer_code, issuer_name_zh, issuer_name_en, kind, \
         opened_at, updated_at, samples, failure_rate, baseline_failure_rate, mean_latency_ms, \
         baseline_latency_ms, top_code, message_zh, message_en, breaker_open, retry_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17 \
         WHERE NOT EXISTS (SELECT 1 FROM issuer_incidents WHERE issuer_code = $2 AND kind = $5 \
         AND resolved_at >= $18) \
         ON CONFLICT (issuer_code, kind) WHERE resolved_at IS NULL DO UPDATE SET \
         updated_at = excluded.updated_at, samples = excluded.samples, \
         failure_rate = excluded.failure_rate, \
         baseline_failure_rate = excluded.baseline_failure_rate, \
         mean_latency_ms = excluded.mean_latency_ms, \
         baseline_latency_ms = excluded.baseline_latency_ms, top_code = excluded.top_code, \
         message_zh = excluded.message_zh, message_en = excluded.message_en, \
         breaker_open = issuer_incidents.breaker_open OR excluded.breaker_open, \
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
    .bind(incident.breaker_open)
    .bind(incident.retry_at.filter(|_| incident.breaker_open))
    .bind(evidence_since)
    .fetch_optional(&mut *store.lease().await?)
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
    store: &PgStore,
    filter: &IncidentFilter,
) -> StoreResult<Vec<IncidentRecord>> {
    let mut sql: QueryBuilder<Postgres> =
        QueryBuilder::new("SELECT * FROM issuer_incidents WHERE TRUE");
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
    sql.push(" ORDER BY opened_at DESC, id COLLATE \"C\" DESC LIMIT ")
        .push_bind(i64::from(filter.limit.max(1)));
    let mut lease = store.lease().await?;
    let rows = sql.build().fetch_all(&mut *lease).await?;
    lease.finish();
    rows.iter().map(incident_from_row).collect()
}

pub(super) async fn resolve_incident(store: &PgStore, id: &str, now: i64) -> StoreResult<bool> {
    let result = sqlx::query(
        "UPDATE issuer_incidents SET resolved_at = $1, updated_at = $1, breaker_open = FALSE, \
         probe_until = NULL WHERE id = $2 AND resolved_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *store.lease().await?)
    .await?;
    Ok(result.rows_affected() > 0)
}

pub(super) async fn claim_probe(
    store: &PgStore,
    id: &str,
    now: i64,
    lease_until: i64,
) -> StoreResult<bool> {
    // The row lock the UPDATE takes makes racing nodes take turns: the
    // second re-checks probe_until after the first commits and finds it taken.
    let result = sqlx::query(
        "UPDATE issuer_incidents SET probe_until = $1 WHERE id = $2 AND resolved_at IS NULL \
         AND breaker_open AND (retry_at IS NULL OR retry_at <= $3) \
         AND (probe_until IS NULL OR probe_until <= $3)",
    )
    .bind(lease_until)
    .bind(id)
    .bind(now)
    .execute(&mut *store.lease().await?)
    .await?;
    Ok(result.rows_affected() > 0)
}

pub(super) async fn reopen_breaker(
    store: &PgStore,
    id: &str,
    retry_at: i64,
    now: i64,
) -> StoreResult<bool> {
    let result = sqlx::query(
        "UPDATE issuer_incidents SET breaker_open = TRUE, retry_at = $1, probe_until = NULL, \
         updated_at = $2 WHERE id = $3 AND resolved_at IS NULL",
    )
    .bind(retry_at)
    .bind(now)
    .bind(id)
    .execute(&mut *store.lease().await?)
    .await?;
    Ok(result.rows_affected() > 0)
}

pub(super) async fn create_ticket(store: &PgStore, ticket: &TicketRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO support_tickets (id, user_id, trace_id, message, status, details, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&ticket.id)
    .bind(&ticket.user_id)
    .bind(&ticket.trace_id)
    .bind(&ticket.message)
    .bind(&ticket.status)
    .bind(&ticket.details)
    .bind(ticket.created_at)
    .execute(&mut *store.lease().await?)
    .await?;
    Ok(())
}

pub(super) async fn tickets(
    store: &PgStore,
    filter: &TicketFilter,
) -> StoreResult<Vec<TicketRecord>> {
    let mut sql: QueryBuilder<Postgres> =
        QueryBuilder::new("SELECT * FROM support_tickets WHERE TRUE");
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
            .push(" AND id COLLATE \"C\" < ")
            .push_bind(id.clone())
            .push("))");
    }
    sql.push(" ORDER BY created_at DESC, id COLLATE \"C\" DESC LIMIT ")
        .push_bind(i64::from(filter.limit.max(1)));
    let rows = sql.build().fetch_all(&mut *store.lease().await?).await?;
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
