//! SQLite's part of support: attempt statistics, issuer incidents with their
//! circuit breaker, tickets. The breaker's rules hold across nodes because
//! they are single statements on shared rows (an upsert on the open-incident
//! index, a conditional update for the probe).

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter};
use sqlx::{QueryBuilder, Row, Sqlite};

use super::SqliteStore;
use super::direct::{Columns, exec, query_all, query_opt};
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
        // Written into the SQL, not bound: see `incidents` on SQLite's
        // re-preparing a statement with a bound LIMIT.
        sql.push(format!(
            " ORDER BY created_at DESC LIMIT {}) AS newest",
            newest.max(1)
        ));
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

fn incident_from_row(row: &impl Columns) -> StoreResult<IncidentRecord> {
    Ok(IncidentRecord {
        id: row.col("id")?,
        issuer_code: row.col("issuer_code")?,
        issuer_name_zh: row.col("issuer_name_zh")?,
        issuer_name_en: row.col("issuer_name_en")?,
        kind: row.col("kind")?,
        opened_at: row.col("opened_at")?,
        updated_at: row.col("updated_at")?,
        resolved_at: row.col("resolved_at")?,
        samples: row.col("samples")?,
        failure_rate: row.col("failure_rate")?,
        baseline_failure_rate: row.col("baseline_failure_rate")?,
        mean_latency_ms: row.col("mean_latency_ms")?,
        baseline_latency_ms: row.col("baseline_latency_ms")?,
        top_code: row.col("top_code")?,
        message_zh: row.col("message_zh")?,
        message_en: row.col("message_en")?,
        breaker_open: row.col::<i64>("breaker_open")? != 0,
        retry_at: row.col("retry_at")?,
        probe_until: row.col("probe_until")?,
    })
}

pub(super) async fn raise_incident(
    store: &SqliteStore,
    incident: &IncidentRecord,
    evidence_since: i64,
) -> StoreResult<Option<Raised>> {
    // One statement: the check for a newer resolution and the upsert cannot
    // be split by another writer.
    let incident = incident.clone();
    store
        .queue
        .write_direct(move |conn| {
            let incident = &incident;
            let row = query_opt(
                conn,
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
                params![
                    &incident.id,
                    &incident.issuer_code,
                    &incident.issuer_name_zh,
                    &incident.issuer_name_en,
                    &incident.kind,
                    incident.opened_at,
                    incident.updated_at,
                    incident.samples,
                    incident.failure_rate,
                    incident.baseline_failure_rate,
                    incident.mean_latency_ms,
                    incident.baseline_latency_ms,
                    &incident.top_code,
                    &incident.message_zh,
                    &incident.message_en,
                    i64::from(incident.breaker_open),
                    incident.retry_at.filter(|_| incident.breaker_open),
                    &incident.issuer_code,
                    &incident.kind,
                    evidence_since,
                ],
                |row| incident_from_row(row),
            )?;
            Ok(row.map(|stored| Raised {
                opened: stored.id == incident.id,
                incident: stored,
            }))
        })
        .await
}

pub(super) async fn incidents(
    store: &SqliteStore,
    filter: &IncidentFilter,
) -> StoreResult<Vec<IncidentRecord>> {
    // Every binding asks for its issuer's open breaker, so this runs on the
    // inline readers; its few shapes stay prepared.
    let mut sql = String::from("SELECT * FROM issuer_incidents WHERE 1 = 1");
    let mut values: Vec<Value> = Vec::new();
    if filter.open_only {
        sql.push_str(" AND resolved_at IS NULL");
    }
    if let Some(issuer) = &filter.issuer_code {
        sql.push_str(" AND issuer_code = ?");
        values.push(Value::Text(issuer.clone()));
    }
    if let Some(since) = filter.since {
        sql.push_str(" AND (opened_at >= ? OR resolved_at IS NULL OR resolved_at >= ?)");
        values.extend([Value::Integer(since), Value::Integer(since)]);
    }
    // The limit is written into the SQL, not bound: SQLite (3.47 on) plans
    // with a bound LIMIT's value and so re-prepares the statement each
    // time it is bound, which cost a fifth of the runtime threads' CPU
    // during bind. A few limits are in use, each a cached statement.
    sql.push_str(&format!(
        " ORDER BY opened_at DESC, id DESC LIMIT {}",
        filter.limit.max(1)
    ));
    // Writes are acknowledged only once committed, so the readers see a
    // breaker as soon as its write has returned.
    store.direct.read(|conn| {
        query_all(conn, &sql, params_from_iter(values), |row| {
            incident_from_row(row)
        })
    })
}

/// Runs one statement through the group-commit writer and returns how many
/// rows it changed.
async fn write_statement(
    store: &SqliteStore,
    sql: &'static str,
    binds: Vec<Value>,
) -> StoreResult<usize> {
    store
        .queue
        .write_direct(move |conn| exec(conn, sql, params_from_iter(binds)))
        .await
}

pub(super) async fn resolve_incident(store: &SqliteStore, id: &str, now: i64) -> StoreResult<bool> {
    let changed = write_statement(
        store,
        "UPDATE issuer_incidents SET resolved_at = ?, updated_at = ?, breaker_open = 0, \
         probe_until = NULL WHERE id = ? AND resolved_at IS NULL",
        vec![
            Value::Integer(now),
            Value::Integer(now),
            Value::Text(id.to_owned()),
        ],
    )
    .await?;
    Ok(changed > 0)
}

pub(super) async fn claim_probe(
    store: &SqliteStore,
    id: &str,
    now: i64,
    lease_until: i64,
) -> StoreResult<bool> {
    let changed = write_statement(
        store,
        "UPDATE issuer_incidents SET probe_until = ? WHERE id = ? AND resolved_at IS NULL \
         AND breaker_open = 1 AND (retry_at IS NULL OR retry_at <= ?) \
         AND (probe_until IS NULL OR probe_until <= ?)",
        vec![
            Value::Integer(lease_until),
            Value::Text(id.to_owned()),
            Value::Integer(now),
            Value::Integer(now),
        ],
    )
    .await?;
    Ok(changed > 0)
}

pub(super) async fn reopen_breaker(
    store: &SqliteStore,
    id: &str,
    retry_at: i64,
    now: i64,
) -> StoreResult<bool> {
    let changed = write_statement(
        store,
        "UPDATE issuer_incidents SET breaker_open = 1, retry_at = ?, probe_until = NULL, \
         updated_at = ? WHERE id = ? AND resolved_at IS NULL",
        vec![
            Value::Integer(retry_at),
            Value::Integer(now),
            Value::Text(id.to_owned()),
        ],
    )
    .await?;
    Ok(changed > 0)
}

pub(super) async fn create_ticket(store: &SqliteStore, ticket: &TicketRecord) -> StoreResult<()> {
    write_statement(
        store,
        "INSERT INTO support_tickets (id, user_id, trace_id, message, status, details, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        vec![
            Value::Text(ticket.id.clone()),
            Value::Text(ticket.user_id.clone()),
            Value::Text(ticket.trace_id.clone()),
            Value::Text(ticket.message.clone()),
            Value::Text(ticket.status.clone()),
            Value::Text(ticket.details.clone()),
            Value::Integer(ticket.created_at),
        ],
    )
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
