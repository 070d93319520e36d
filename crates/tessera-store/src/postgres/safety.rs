//! `Safety` on PostgreSQL: consent limits, the history a payment is judged
//! by, freezes and reports.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::*;
use crate::rows::*;
use crate::ticket_rows::TICKET_INSERT;
use crate::{Passkeys, Safety};

/// `Safety::payment_history` on a connection already leased.
async fn read_history(
    conn: &mut PgConnection,
    query: &HistoryQuery,
) -> StoreResult<PaymentHistory> {
    let rows = sqlx::query(PAYMENT_HISTORY_SQL.as_str())
        .bind(query.user_id.as_str())
        .bind(query.device_id.as_deref())
        .bind(ms(query.day_start))
        .bind(i64::from(query.sum_unconfirmed))
        .bind(query.default_per_day)
        .bind(i64::from(query.recent))
        .fetch_all(conn)
        .await?;
    payment_history_from_rows(&rows)
}

pub(super) async fn insert_ticket(
    conn: &mut PgConnection,
    ticket: &TicketRecord,
) -> StoreResult<()> {
    sqlx::query(TICKET_INSERT)
        .bind(&ticket.id)
        .bind(ticket.user_id.as_str())
        .bind(&ticket.trace_id)
        .bind(&ticket.message)
        .bind(&ticket.status)
        .bind(&ticket.details)
        .bind(&ticket.kind)
        .bind(ticket.payment_id.as_ref().map(|p| p.as_str()))
        .bind(ticket.transfer_id.as_ref().map(|t| t.as_str()))
        .bind(ms(ticket.created_at))
        .execute(conn)
        .await?;
    Ok(())
}

#[async_trait]
impl Safety for PgStore {
    async fn consent_limits(&self, user_id: &UserId) -> StoreResult<Option<ConsentLimits>> {
        let row = sqlx::query("SELECT per_payment, per_day FROM consent_limits WHERE user_id = $1")
            .bind(user_id.as_str())
            .fetch_optional(&mut *self.lease().await?)
            .await?;
        row.map(|row| {
            Ok(ConsentLimits {
                per_payment: row.col("per_payment")?,
                per_day: row.col("per_day")?,
            })
        })
        .transpose()
    }

    async fn set_consent_limits(
        &self,
        user_id: &UserId,
        limits: ConsentLimits,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO consent_limits (user_id, per_payment, per_day, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE SET \
             per_payment = EXCLUDED.per_payment, per_day = EXCLUDED.per_day, \
             updated_at = EXCLUDED.updated_at",
        )
        .bind(user_id.as_str())
        .bind(limits.per_payment)
        .bind(limits.per_day)
        .bind(ms(now))
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(())
    }

    async fn payment_history(&self, query: &HistoryQuery) -> StoreResult<PaymentHistory> {
        read_history(&mut *self.lease().await?, query).await
    }

    async fn set_frozen(
        &self,
        user_id: &UserId,
        frozen_at: Option<DateTime<Utc>>,
        ticket: Option<&TicketRecord>,
    ) -> StoreResult<bool> {
        let mut lease = self.lease().await?;
        let mut tx = lease.begin().await?;
        let changed = sqlx::query(
            "UPDATE users SET frozen_at = $1 WHERE id = $2 AND (frozen_at IS NULL) = ($1 IS NOT NULL)",
        )
        .bind(frozen_at.map(ms))
        .bind(user_id.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if changed && let Some(ticket) = ticket {
            insert_ticket(&mut tx, ticket).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    async fn note_credentials_reset(&self, user_id: &UserId, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE users SET credentials_reset_at = $1 WHERE id = $2")
            .bind(ms(at))
            .bind(user_id.as_str())
            .execute(&mut *self.lease().await?)
            .await?;
        Ok(())
    }

    async fn report_payment(
        &self,
        report: &PaymentReport,
        ticket: &TicketRecord,
    ) -> StoreResult<ReportOutcome> {
        let mut lease = self.lease().await?;
        let mut tx = lease.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO payment_reports (id, payment_id, user_id, token_ref, ticket_id, \
             trace_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (payment_id) DO NOTHING",
        )
        .bind(&report.id)
        .bind(report.payment_id.as_str())
        .bind(report.user_id.as_str())
        .bind(&report.token_ref)
        .bind(&report.ticket_id)
        .bind(&report.trace_id)
        .bind(ms(report.created_at))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            let row = sqlx::query("SELECT * FROM payment_reports WHERE payment_id = $1")
                .bind(report.payment_id.as_str())
                .fetch_one(&mut *tx)
                .await?;
            tx.rollback().await?;
            return Ok(ReportOutcome::AlreadyReported(payment_report_from_row(
                &row,
            )?));
        }
        insert_ticket(&mut tx, ticket).await?;
        tx.commit().await?;
        Ok(ReportOutcome::Recorded)
    }

    async fn payment_reports(&self, user_id: &UserId) -> StoreResult<Vec<PaymentReport>> {
        let rows = sqlx::query(
            "SELECT * FROM payment_reports WHERE user_id = $1 ORDER BY created_at DESC, id DESC",
        )
        .bind(user_id.as_str())
        .fetch_all(&mut *self.lease().await?)
        .await?;
        rows.iter().map(payment_report_from_row).collect()
    }
}

#[async_trait]
impl Passkeys for PgStore {
    async fn create_webauthn_challenge(&self, challenge: &WebauthnChallenge) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO webauthn_challenges (id, user_id, kind, state, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&challenge.id)
        .bind(challenge.user_id.as_str())
        .bind(&challenge.kind)
        .bind(&challenge.state)
        .bind(ms(challenge.expires_at))
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(())
    }

    async fn take_webauthn_challenge(
        &self,
        id: &str,
        user_id: &UserId,
        kind: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "UPDATE webauthn_challenges SET used_at = $4 WHERE id = $1 AND user_id = $2 \
             AND kind = $3 AND used_at IS NULL AND expires_at > $4 RETURNING state",
        )
        .bind(id)
        .bind(user_id.as_str())
        .bind(kind)
        .bind(ms(now))
        .fetch_optional(&mut *self.lease().await?)
        .await?)
    }

    async fn add_passkey(&self, passkey: &PasskeyRecord) -> StoreResult<bool> {
        let added = sqlx::query(
            "INSERT INTO passkeys (id, user_id, credential_id, name, credential, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (credential_id) DO NOTHING",
        )
        .bind(&passkey.id)
        .bind(passkey.user_id.as_str())
        .bind(&passkey.credential_id)
        .bind(&passkey.name)
        .bind(&passkey.credential)
        .bind(ms(passkey.created_at))
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(added.rows_affected() == 1)
    }

    async fn passkeys(&self, user_id: &UserId) -> StoreResult<Vec<PasskeyRecord>> {
        let rows = sqlx::query("SELECT * FROM passkeys WHERE user_id = $1 ORDER BY created_at, id")
            .bind(user_id.as_str())
            .fetch_all(&mut *self.lease().await?)
            .await?;
        rows.iter().map(passkey_from_row).collect()
    }

    async fn passkey_used(&self, id: &str, credential: &str, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE passkeys SET credential = $2, last_used_at = $3 WHERE id = $1")
            .bind(id)
            .bind(credential)
            .bind(ms(at))
            .execute(&mut *self.lease().await?)
            .await?;
        Ok(())
    }

    async fn purge_confirmations(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let mut lease = self.lease().await?;
        let verifications = sqlx::query("DELETE FROM verifications WHERE expires_at < $1")
            .bind(ms(before))
            .execute(&mut *lease)
            .await?
            .rows_affected();
        let challenges = sqlx::query("DELETE FROM webauthn_challenges WHERE expires_at < $1")
            .bind(ms(before))
            .execute(&mut *lease)
            .await?
            .rows_affected();
        Ok(verifications + challenges)
    }

    async fn remove_passkey(&self, user_id: &UserId, id: &str) -> StoreResult<bool> {
        let removed = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id.as_str())
            .execute(&mut *self.lease().await?)
            .await?;
        Ok(removed.rows_affected() == 1)
    }
}
