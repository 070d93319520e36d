//! SQLite's part of support: attempt statistics, issuer incidents with their
//! circuit breaker, tickets. The breaker's rules hold across nodes because
//! they are single statements on shared rows (an upsert on the open-incident
//! index, a conditional update for the probe).

use chrono::{DateTime, Utc};
use rusqlite::types::Value;

use async_trait::async_trait;

use super::*;
use crate::listings::{self, Dialect};
use crate::operator_rows::*;
use crate::rows::*;
use crate::ticket_rows::*;
use crate::timeline;
use crate::{StoreResult, Support};

pub(super) fn insert_attempt(
    conn: &rusqlite::Connection,
    attempt: &AttemptRecord,
) -> StoreResult<()> {
    exec(
        conn,
        "INSERT INTO binding_attempts (trace_id, user_id, card_id, masked_pan, first6, last4, \
             brand, issuer_code, issuer_name, card_type, country, device, outcome, error_code, \
             cause, error_param, error_reason, issuer_response, latency_ms, created_at, \
             client_request_id) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (trace_id) DO NOTHING",
        params![
            &attempt.trace_id,
            attempt.user_id.as_str(),
            attempt.card_id.as_deref(),
            &attempt.masked_pan,
            &attempt.first6,
            &attempt.last4,
            attempt.brand.as_ref().map(Brand::code),
            &attempt.issuer_code,
            &attempt.issuer_name,
            attempt.card_type.map(CardType::code),
            &attempt.country,
            &attempt.device,
            attempt.outcome.as_str(),
            &attempt.error_code,
            &attempt.cause,
            &attempt.error_param,
            &attempt.error_reason,
            &attempt.issuer_response,
            attempt.latency_ms,
            ms(attempt.created_at),
            &attempt.client_request_id
        ],
    )?;
    Ok(())
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

#[async_trait]
impl Support for SqliteStore {
    async fn record_attempt(&self, attempt: &AttemptRecord) -> StoreResult<()> {
        let attempt = attempt.clone();
        self.queue
            .write_direct(move |conn| insert_attempt(conn, &attempt))
            .await
    }

    async fn mark_client_gone(&self, trace_id: &str) -> StoreResult<bool> {
        // A trace is a binding attempt's or a payment's.
        let mut marked = 0;
        for sql in [
            "UPDATE binding_attempts SET client_gone = 1 WHERE trace_id = ?1",
            "UPDATE payments SET client_gone = 1 WHERE trace_id = ?1",
        ] {
            marked += write_statement(self, sql, vec![Value::Text(trace_id.to_owned())]).await?;
        }
        Ok(marked > 0)
    }

    async fn attempts(&self, filter: &AttemptFilter) -> StoreResult<Vec<AttemptRecord>> {
        let listing = listings::attempts(Dialect::Sqlite, filter);
        self.readers
            .read(|conn| listed(conn, &listing, |row| attempt_from_row(row)))
    }

    async fn attempt_stats(&self, query: &AttemptStatsQuery) -> StoreResult<Vec<AttemptStatsRow>> {
        // A scan of up to a window's attempts: off the runtime's threads.
        let listing = listings::attempt_stats(Dialect::Sqlite, query);
        let buckets = query.latency_buckets_ms.len();
        self.scans
            .scan(move |conn| listed(conn, &listing, |row| attempt_stats_from_row(row, buckets)))
            .await
    }

    async fn raise_incident(
        &self,
        incident: &IncidentRecord,
        evidence_since: DateTime<Utc>,
    ) -> StoreResult<Option<Raised>> {
        // One statement: the check for a newer resolution and the upsert cannot
        // be split by another writer.
        let incident = incident.clone();
        self
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
                    ms(incident.opened_at),
                    ms(incident.updated_at),
                    incident.samples,
                    incident.failure_rate,
                    incident.baseline_failure_rate,
                    incident.mean_latency_ms,
                    incident.baseline_latency_ms,
                    &incident.top_code,
                    &incident.message_zh,
                    &incident.message_en,
                    i64::from(incident.breaker_open),
                    incident.retry_at.filter(|_| incident.breaker_open).map(ms),
                    &incident.issuer_code,
                    &incident.kind,
                    ms(evidence_since),
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

    async fn incidents(&self, filter: &IncidentFilter) -> StoreResult<Vec<IncidentRecord>> {
        // Writes are acknowledged only once committed, so the readers see a
        // breaker as soon as its write has returned.
        let listing = listings::incidents(Dialect::Sqlite, filter);
        self.readers
            .read(|conn| listed(conn, &listing, |row| incident_from_row(row)))
    }

    async fn resolve_incident(&self, id: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let changed = write_statement(
            self,
            "UPDATE issuer_incidents SET resolved_at = ?, updated_at = ?, breaker_open = 0, \
         probe_until = NULL WHERE id = ? AND resolved_at IS NULL",
            vec![
                Value::Integer(ms(now)),
                Value::Integer(ms(now)),
                Value::Text(id.to_owned()),
            ],
        )
        .await?;
        Ok(changed > 0)
    }

    async fn claim_probe(
        &self,
        id: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let changed = write_statement(
            self,
            "UPDATE issuer_incidents SET probe_until = ? WHERE id = ? AND resolved_at IS NULL \
         AND breaker_open = 1 AND (retry_at IS NULL OR retry_at <= ?) \
         AND (probe_until IS NULL OR probe_until <= ?)",
            vec![
                Value::Integer(ms(lease_until)),
                Value::Text(id.to_owned()),
                Value::Integer(ms(now)),
                Value::Integer(ms(now)),
            ],
        )
        .await?;
        Ok(changed > 0)
    }

    async fn reopen_breaker(
        &self,
        id: &str,
        retry_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let changed = write_statement(
            self,
            "UPDATE issuer_incidents SET breaker_open = 1, retry_at = ?, probe_until = NULL, \
         updated_at = ? WHERE id = ? AND resolved_at IS NULL",
            vec![
                Value::Integer(ms(retry_at)),
                Value::Integer(ms(now)),
                Value::Text(id.to_owned()),
            ],
        )
        .await?;
        Ok(changed > 0)
    }

    async fn create_ticket(&self, ticket: &TicketRecord) -> StoreResult<()> {
        let ticket = ticket.clone();
        self.queue
            .write_direct(move |conn| super::safety::insert_ticket(conn, &ticket))
            .await
    }

    async fn tickets(&self, filter: &TicketFilter) -> StoreResult<Vec<TicketRecord>> {
        let listing = listings::tickets(Dialect::Sqlite, filter);
        self.readers
            .read(|conn| listed(conn, &listing, |row| ticket_from_row(row)))
    }

    async fn ticket(&self, id: &str) -> StoreResult<Option<TicketRecord>> {
        self.readers.read(|conn| {
            query_opt(conn, &TICKET_BY_ID.replace('$', "?"), params![id], |row| {
                ticket_from_row(row)
            })
        })
    }

    async fn ticket_entries(&self, ticket_id: &str) -> StoreResult<Vec<TicketEntry>> {
        self.readers.read(|conn| {
            query_all(
                conn,
                &ENTRIES_OF.replace('$', "?"),
                params![ticket_id],
                |row| ticket_entry_from_row(row),
            )
        })
    }

    async fn add_ticket_entry(&self, entry: &TicketEntry) -> StoreResult<Option<TicketRecord>> {
        let entry = entry.clone();
        self.queue
            .write_direct(move |conn| {
                // One writer job: the ticket and its entry land together.
                let seq: Option<i64> = scalar_opt(
                    conn,
                    &TICKET_TOUCH.replace('$', "?"),
                    params![
                        entry.status.as_deref(),
                        ms(entry.created_at),
                        i64::from(entry.message.is_some()),
                        &entry.ticket_id,
                    ],
                )?;
                let Some(seq) = seq else {
                    return Ok(None);
                };
                exec(
                    conn,
                    &ENTRY_INSERT.replace('$', "?"),
                    params![
                        &entry.ticket_id,
                        seq,
                        &entry.author,
                        entry.key_id.as_deref(),
                        entry.message.as_deref(),
                        entry.internal_note.as_deref(),
                        entry.status.as_deref(),
                        ms(entry.created_at),
                    ],
                )?;
                query_opt(
                    conn,
                    &TICKET_BY_ID.replace('$', "?"),
                    params![&entry.ticket_id],
                    |row| ticket_from_row(row),
                )
            })
            .await
    }

    async fn record_audit_event(&self, event: &AuditEvent) -> StoreResult<()> {
        let event = event.clone();
        self.queue
            .write_direct(move |conn| {
                let link = event.link.as_ref();
                exec(
                    conn,
                    &format!("{AUDIT_INSERT} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                    params![
                        &event.id,
                        ms(event.created_at),
                        &event.key_id,
                        &event.key_holder,
                        &event.role,
                        &event.action,
                        event.user_id.as_ref().map(UserId::as_str),
                        &event.trace_id,
                        event.subject.as_deref(),
                        link.map(|l| l.chain_id.as_str()),
                        link.map(|l| l.seq),
                        link.map(|l| l.prev_hash.as_str()),
                        link.map(|l| l.entry_hash.as_str()),
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn record_account_event(&self, event: &AccountEvent) -> StoreResult<()> {
        write_statement(
            self,
            "INSERT INTO account_events (user_id, kind, trace_id, detail, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            vec![
                Value::Text(event.user_id.to_string()),
                Value::Text(event.kind.as_str().to_owned()),
                event.trace_id.clone().map_or(Value::Null, Value::Text),
                event.detail.clone().map_or(Value::Null, Value::Text),
                Value::Integer(ms(event.created_at)),
            ],
        )
        .await?;
        Ok(())
    }

    async fn timeline(&self, query: &TimelineQuery) -> StoreResult<Vec<TimelineRow>> {
        let listings = timeline::listings(Dialect::Sqlite, query)?;
        let pages = self.readers.read(|conn| {
            listings
                .iter()
                .map(|(source, listing)| {
                    Ok((
                        *source,
                        listed(conn, listing, |row| timeline::row_from(*source, row))?,
                    ))
                })
                .collect::<StoreResult<Vec<_>>>()
        })?;
        Ok(timeline::merge(pages, query.limit))
    }

    async fn audit_events(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEvent>> {
        let listing = listings::audit_events(Dialect::Sqlite, filter);
        self.readers
            .read(|conn| listed(conn, &listing, |row| audit_event_from_row(row)))
    }

    async fn audit_chain_head(&self, chain_id: &str) -> StoreResult<Option<AuditLink>> {
        self.readers.read(|conn| {
            let row = row_opt(conn, &AUDIT_HEAD.replace('$', "?"), [chain_id])?;
            Ok(match row {
                Some(row) => audit_link_from_row(&row)?,
                None => None,
            })
        })
    }

    async fn audit_entries_since(&self, since: DateTime<Utc>) -> StoreResult<Vec<AuditEvent>> {
        self.readers.read(|conn| {
            query_all(conn, &AUDIT_SINCE.replace('$', "?"), [ms(since)], |row| {
                audit_event_from_row(row)
            })
        })
    }

    async fn record_audit_checkpoint(&self, checkpoint: &AuditCheckpointRecord) -> StoreResult<()> {
        let checkpoint = checkpoint.clone();
        self.queue
            .write_direct(move |conn| {
                exec(
                    conn,
                    &CHECKPOINT_INSERT.replace('$', "?"),
                    params![
                        &checkpoint.chain_id,
                        checkpoint.seq,
                        &checkpoint.entry_hash,
                        ms(checkpoint.created_at),
                        &checkpoint.signature,
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn audit_checkpoints(&self) -> StoreResult<Vec<AuditCheckpointRecord>> {
        self.readers
            .read(|conn| query_all(conn, CHECKPOINTS, [], |row| audit_checkpoint_from_row(row)))
    }
}
