//! PostgreSQL's part of support: attempt statistics, issuer incidents with
//! their circuit breaker, tickets. Every node shares these rows; the rules
//! hold because each is one statement: an upsert on the open-incident index
//! (guarded against a newer resolution), a conditional update for the probe.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::*;
use crate::listings::{self, Dialect};
use crate::operator_rows::*;
use crate::rows::ms;
use crate::rows::*;
use crate::ticket_rows::*;
use crate::timeline;
use crate::{StoreResult, Support};

#[async_trait]
impl Support for PgStore {
    async fn record_attempt(&self, attempt: &AttemptRecord) -> StoreResult<()> {
        let mut lease = self.lease().await?;
        bind_attempt(
            sqlx::query(
                "INSERT INTO binding_attempts (trace_id, user_id, card_id, masked_pan, first6, \
                 last4, brand, issuer_code, issuer_name, card_type, country, device, outcome, \
                 error_code, cause, error_param, error_reason, issuer_response, latency_ms, \
                 created_at, client_request_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
                 $17, $18, $19, $20, $21) \
                 ON CONFLICT (trace_id) DO NOTHING",
            ),
            attempt,
        )
        .execute(&mut *lease)
        .await?;
        lease.finish();
        Ok(())
    }

    async fn mark_client_gone(&self, trace_id: &str) -> StoreResult<bool> {
        // A trace is a binding attempt's or a payment's: one statement marks
        // whichever it is.
        let marked: i64 = sqlx::query_scalar(
            "WITH attempt AS (UPDATE binding_attempts SET client_gone = TRUE \
             WHERE trace_id = $1 RETURNING 1), \
             payment AS (UPDATE payments SET client_gone = TRUE \
             WHERE trace_id = $1 RETURNING 1) \
             SELECT (SELECT count(*) FROM attempt) + (SELECT count(*) FROM payment)",
        )
        .bind(trace_id)
        .fetch_one(&mut *self.lease().await?)
        .await?;
        Ok(marked > 0)
    }

    async fn attempts(&self, filter: &AttemptFilter) -> StoreResult<Vec<AttemptRecord>> {
        let listing = listings::attempts(Dialect::Postgres, filter);
        let mut lease = self.lease().await?;
        let rows = listed(&listing).fetch_all(&mut *lease).await?;
        lease.finish();
        rows.iter().map(attempt_from_row).collect()
    }

    async fn attempt_stats(&self, query: &AttemptStatsQuery) -> StoreResult<Vec<AttemptStatsRow>> {
        let listing = listings::attempt_stats(Dialect::Postgres, query);
        let rows = listed(&listing)
            .fetch_all(&mut *self.lease().await?)
            .await?;
        let buckets = query.latency_buckets_ms.len();
        rows.iter()
            .map(|row| attempt_stats_from_row(row, buckets))
            .collect()
    }

    async fn raise_incident(
        &self,
        incident: &IncidentRecord,
        evidence_since: DateTime<Utc>,
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
        .bind(ms(incident.opened_at))
        .bind(ms(incident.updated_at))
        .bind(incident.samples)
        .bind(incident.failure_rate)
        .bind(incident.baseline_failure_rate)
        .bind(incident.mean_latency_ms)
        .bind(incident.baseline_latency_ms)
        .bind(&incident.top_code)
        .bind(&incident.message_zh)
        .bind(&incident.message_en)
        .bind(incident.breaker_open)
        .bind(incident.retry_at.filter(|_| incident.breaker_open).map(ms))
        .bind(ms(evidence_since))
        .fetch_optional(&mut *self.lease().await?)
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

    async fn incidents(&self, filter: &IncidentFilter) -> StoreResult<Vec<IncidentRecord>> {
        let listing = listings::incidents(Dialect::Postgres, filter);
        let mut lease = self.lease().await?;
        let rows = listed(&listing).fetch_all(&mut *lease).await?;
        lease.finish();
        rows.iter().map(incident_from_row).collect()
    }

    async fn resolve_incident(&self, id: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE issuer_incidents SET resolved_at = $1, updated_at = $1, breaker_open = FALSE, \
         probe_until = NULL WHERE id = $2 AND resolved_at IS NULL",
        )
        .bind(ms(now))
        .bind(id)
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    async fn claim_probe(
        &self,
        id: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        // The row lock the UPDATE takes makes racing nodes take turns: the
        // second re-checks probe_until after the first commits and finds it taken.
        let result = sqlx::query(
            "UPDATE issuer_incidents SET probe_until = $1 WHERE id = $2 AND resolved_at IS NULL \
         AND breaker_open AND (retry_at IS NULL OR retry_at <= $3) \
         AND (probe_until IS NULL OR probe_until <= $3)",
        )
        .bind(ms(lease_until))
        .bind(id)
        .bind(ms(now))
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    async fn reopen_breaker(
        &self,
        id: &str,
        retry_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE issuer_incidents SET breaker_open = TRUE, retry_at = $1, probe_until = NULL, \
         updated_at = $2 WHERE id = $3 AND resolved_at IS NULL",
        )
        .bind(ms(retry_at))
        .bind(ms(now))
        .bind(id)
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    async fn create_ticket(&self, ticket: &TicketRecord) -> StoreResult<()> {
        super::safety::insert_ticket(&mut *self.lease().await?, ticket).await
    }

    async fn tickets(&self, filter: &TicketFilter) -> StoreResult<Vec<TicketRecord>> {
        let listing = listings::tickets(Dialect::Postgres, filter);
        let mut lease = self.lease().await?;
        let rows = listed(&listing).fetch_all(&mut *lease).await?;
        lease.finish();
        rows.iter().map(ticket_from_row).collect()
    }

    async fn ticket(&self, id: &str) -> StoreResult<Option<TicketRecord>> {
        let row = sqlx::query(TICKET_BY_ID)
            .bind(id)
            .fetch_optional(&mut *self.lease().await?)
            .await?;
        row.as_ref().map(ticket_from_row).transpose()
    }

    async fn ticket_entries(&self, ticket_id: &str) -> StoreResult<Vec<TicketEntry>> {
        let rows = sqlx::query(ENTRIES_OF)
            .bind(ticket_id)
            .fetch_all(&mut *self.lease().await?)
            .await?;
        rows.iter().map(ticket_entry_from_row).collect()
    }

    async fn add_ticket_entry(&self, entry: &TicketEntry) -> StoreResult<Option<TicketRecord>> {
        let mut lease = self.lease().await?;
        let mut tx = lease.begin().await?;
        let seq: Option<i64> = sqlx::query_scalar(TICKET_TOUCH)
            .bind(entry.status.as_deref())
            .bind(ms(entry.created_at))
            .bind(i64::from(entry.message.is_some()))
            .bind(&entry.ticket_id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(seq) = seq else {
            tx.rollback().await?;
            return Ok(None);
        };
        sqlx::query(ENTRY_INSERT)
            .bind(&entry.ticket_id)
            .bind(seq)
            .bind(&entry.author)
            .bind(entry.key_id.as_deref())
            .bind(entry.message.as_deref())
            .bind(entry.internal_note.as_deref())
            .bind(entry.status.as_deref())
            .bind(ms(entry.created_at))
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query(TICKET_BY_ID)
            .bind(&entry.ticket_id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        ticket_from_row(&row).map(Some)
    }

    async fn record_account_event(&self, event: &AccountEvent) -> StoreResult<()> {
        let mut lease = self.lease().await?;
        sqlx::query(
            "INSERT INTO account_events (user_id, kind, trace_id, detail, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(event.user_id.as_str())
        .bind(event.kind.as_str())
        .bind(event.trace_id.as_deref())
        .bind(event.detail.as_deref())
        .bind(ms(event.created_at))
        .execute(&mut *lease)
        .await?;
        lease.finish();
        Ok(())
    }

    async fn record_audit_event(&self, event: &AuditEvent) -> StoreResult<()> {
        let link = event.link.as_ref();
        let mut lease = self.lease().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{AUDIT_INSERT} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        )))
        .bind(&event.id)
        .bind(ms(event.created_at))
        .bind(&event.key_id)
        .bind(&event.key_holder)
        .bind(&event.role)
        .bind(&event.action)
        .bind(event.user_id.as_ref().map(UserId::as_str))
        .bind(&event.trace_id)
        .bind(event.subject.as_deref())
        .bind(link.map(|l| l.chain_id.as_str()))
        .bind(link.map(|l| l.seq))
        .bind(link.map(|l| l.prev_hash.as_str()))
        .bind(link.map(|l| l.entry_hash.as_str()))
        .execute(&mut *lease)
        .await?;
        lease.finish();
        Ok(())
    }

    async fn timeline(&self, query: &TimelineQuery) -> StoreResult<Vec<TimelineRow>> {
        let listings = timeline::listings(Dialect::Postgres, query)?;
        let mut lease = self.lease().await?;
        let mut pages = Vec::with_capacity(listings.len());
        for (source, listing) in &listings {
            let rows = listed(listing).fetch_all(&mut *lease).await?;
            let rows = rows
                .iter()
                .map(|row| timeline::row_from(*source, row))
                .collect::<StoreResult<Vec<_>>>()?;
            pages.push((*source, rows));
        }
        lease.finish();
        Ok(timeline::merge(pages, query.limit))
    }

    async fn audit_events(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEvent>> {
        let listing = listings::audit_events(Dialect::Postgres, filter);
        let mut lease = self.lease().await?;
        let rows = listed(&listing).fetch_all(&mut *lease).await?;
        lease.finish();
        rows.iter().map(audit_event_from_row).collect()
    }

    async fn audit_chain_head(&self, chain_id: &str) -> StoreResult<Option<AuditLink>> {
        let mut lease = self.lease().await?;
        let row = sqlx::query(AUDIT_HEAD)
            .bind(chain_id)
            .fetch_optional(&mut *lease)
            .await?;
        lease.finish();
        match row {
            Some(row) => audit_link_from_row(&row),
            None => Ok(None),
        }
    }

    async fn audit_entries_since(&self, since: DateTime<Utc>) -> StoreResult<Vec<AuditEvent>> {
        let mut lease = self.lease().await?;
        let rows = sqlx::query(AUDIT_SINCE)
            .bind(ms(since))
            .fetch_all(&mut *lease)
            .await?;
        lease.finish();
        rows.iter().map(audit_event_from_row).collect()
    }

    async fn record_audit_checkpoint(&self, checkpoint: &AuditCheckpointRecord) -> StoreResult<()> {
        let mut lease = self.lease().await?;
        sqlx::query(CHECKPOINT_INSERT)
            .bind(&checkpoint.chain_id)
            .bind(checkpoint.seq)
            .bind(&checkpoint.entry_hash)
            .bind(ms(checkpoint.created_at))
            .bind(&checkpoint.signature)
            .execute(&mut *lease)
            .await?;
        lease.finish();
        Ok(())
    }

    async fn audit_checkpoints(&self) -> StoreResult<Vec<AuditCheckpointRecord>> {
        let mut lease = self.lease().await?;
        let rows = sqlx::query(CHECKPOINTS).fetch_all(&mut *lease).await?;
        lease.finish();
        rows.iter().map(audit_checkpoint_from_row).collect()
    }
}
