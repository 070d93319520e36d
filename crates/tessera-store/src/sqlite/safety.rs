//! `Safety` on SQLite: consent limits, the history a payment is judged by,
//! freezes and reports. Each write is one writer job, so a freeze and its
//! ticket, or a report and its ticket, land together.

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::*;
use crate::rows::*;
use crate::ticket_rows::TICKET_INSERT;
use crate::{Passkeys, Safety};

/// `PAYMENT_HISTORY_SQL` with SQLite's numbered placeholders.
static HISTORY_SQL: LazyLock<String> = LazyLock::new(|| PAYMENT_HISTORY_SQL.replace('$', "?"));

/// `Safety::payment_history` on `conn`. Each row is read in place: every
/// payment of the history would otherwise be copied out with its column
/// names first.
pub(super) fn read_history(conn: &Connection, query: &HistoryQuery) -> StoreResult<PaymentHistory> {
    let mut history: Option<PaymentHistory> = None;
    query_all(
        conn,
        &HISTORY_SQL,
        params![
            query.user_id.as_str(),
            query.device_id.as_deref(),
            ms(query.day_start),
            i64::from(query.sum_unconfirmed),
            query.default_per_day,
            i64::from(query.recent),
        ],
        |row| {
            let facts = match &mut history {
                Some(facts) => facts,
                None => history.insert(history_facts(row)?),
            };
            facts.recent.extend(recent_payment(row)?);
            Ok(())
        },
    )?;
    Ok(history.unwrap_or_default())
}

/// The facts of `read_history` without the latest payments.
static FACTS_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM users u LEFT JOIN consent_limits cl ON cl.user_id = u.id WHERE u.id = $1",
        history_facts_columns("$1", "$2")
    )
    .replace('$', "?")
});

/// `read_history` without the latest payments, for a person whose list the
/// writer keeps (`recent.rs`).
pub(super) fn read_history_facts(
    conn: &Connection,
    query: &HistoryQuery,
) -> StoreResult<PaymentHistory> {
    let facts = query_opt(
        conn,
        &FACTS_SQL,
        params![
            query.user_id.as_str(),
            query.device_id.as_deref(),
            ms(query.day_start),
            i64::from(query.sum_unconfirmed),
            query.default_per_day,
        ],
        |row| history_facts(row),
    )?;
    Ok(facts.unwrap_or_default())
}

pub(super) fn insert_ticket(conn: &Connection, ticket: &TicketRecord) -> StoreResult<()> {
    exec(
        conn,
        &TICKET_INSERT.replace('$', "?"),
        params![
            &ticket.id,
            ticket.user_id.as_str(),
            &ticket.trace_id,
            &ticket.message,
            &ticket.status,
            &ticket.details,
            &ticket.kind,
            ticket.payment_id.as_ref().map(|p| p.as_str()),
            ticket.transfer_id.as_ref().map(|t| t.as_str()),
            ms(ticket.created_at),
        ],
    )?;
    Ok(())
}

#[async_trait]
impl Safety for SqliteStore {
    async fn consent_limits(&self, user_id: &UserId) -> StoreResult<Option<ConsentLimits>> {
        let row = self.readers.read(|conn| {
            row_opt(
                conn,
                "SELECT per_payment, per_day FROM consent_limits WHERE user_id = ?",
                params![user_id.as_str()],
            )
        })?;
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
        let user_id = user_id.clone();
        self.queue
            .write_direct(move |conn| {
                exec(
                    conn,
                    "INSERT INTO consent_limits (user_id, per_payment, per_day, updated_at) \
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (user_id) DO UPDATE SET \
                     per_payment = excluded.per_payment, per_day = excluded.per_day, \
                     updated_at = excluded.updated_at",
                    params![
                        user_id.as_str(),
                        limits.per_payment,
                        limits.per_day,
                        ms(now)
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn payment_history(&self, query: &HistoryQuery) -> StoreResult<PaymentHistory> {
        self.readers.read(|conn| read_history(conn, query))
    }

    async fn set_frozen(
        &self,
        user_id: &UserId,
        frozen_at: Option<DateTime<Utc>>,
        ticket: Option<&TicketRecord>,
    ) -> StoreResult<bool> {
        let (user_id, ticket) = (user_id.clone(), ticket.cloned());
        self.queue
            .write_direct(move |conn| {
                let at = frozen_at.map(ms);
                let changed = exec(
                    conn,
                    "UPDATE users SET frozen_at = ?1 WHERE id = ?2 \
                     AND (frozen_at IS NULL) = (?1 IS NOT NULL)",
                    params![at, user_id.as_str()],
                )? == 1;
                if changed && let Some(ticket) = &ticket {
                    insert_ticket(conn, ticket)?;
                }
                Ok(changed)
            })
            .await
    }

    async fn note_credentials_reset(&self, user_id: &UserId, at: DateTime<Utc>) -> StoreResult<()> {
        let user_id = user_id.clone();
        self.queue
            .write_direct(move |conn| {
                exec(
                    conn,
                    "UPDATE users SET credentials_reset_at = ? WHERE id = ?",
                    params![ms(at), user_id.as_str()],
                )?;
                Ok(())
            })
            .await
    }

    async fn report_payment(
        &self,
        report: &PaymentReport,
        ticket: &TicketRecord,
    ) -> StoreResult<ReportOutcome> {
        let (report, ticket) = (report.clone(), ticket.clone());
        self.queue
            .write_direct(move |conn| {
                let inserted = exec(
                    conn,
                    "INSERT INTO payment_reports (id, payment_id, user_id, token_ref, ticket_id, \
                     trace_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) \
                     ON CONFLICT (payment_id) DO NOTHING",
                    params![
                        &report.id,
                        report.payment_id.as_str(),
                        report.user_id.as_str(),
                        &report.token_ref,
                        &report.ticket_id,
                        &report.trace_id,
                        ms(report.created_at),
                    ],
                )?;
                if inserted == 0 {
                    let row = row_one(
                        conn,
                        "SELECT * FROM payment_reports WHERE payment_id = ?",
                        params![report.payment_id.as_str()],
                    )?;
                    return Ok(ReportOutcome::AlreadyReported(payment_report_from_row(
                        &row,
                    )?));
                }
                insert_ticket(conn, &ticket)?;
                Ok(ReportOutcome::Recorded)
            })
            .await
    }

    async fn payment_reports(&self, user_id: &UserId) -> StoreResult<Vec<PaymentReport>> {
        self.readers.read(|conn| {
            query_all(
                conn,
                "SELECT * FROM payment_reports WHERE user_id = ? \
                 ORDER BY created_at DESC, id DESC",
                params![user_id.as_str()],
                |row| payment_report_from_row(row),
            )
        })
    }
}

#[async_trait]
impl Passkeys for SqliteStore {
    async fn create_webauthn_challenge(&self, challenge: &WebauthnChallenge) -> StoreResult<()> {
        let c = challenge.clone();
        self.queue
            .write_direct(move |conn| {
                exec(
                    conn,
                    "INSERT INTO webauthn_challenges (id, user_id, kind, state, expires_at) \
                     VALUES (?, ?, ?, ?, ?)",
                    params![
                        &c.id,
                        c.user_id.as_str(),
                        &c.kind,
                        &c.state,
                        ms(c.expires_at)
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn take_webauthn_challenge(
        &self,
        id: &str,
        user_id: &UserId,
        kind: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<String>> {
        let (id, user_id, kind) = (id.to_owned(), user_id.clone(), kind.to_owned());
        self.queue
            .write_direct(move |conn| {
                scalar_opt(
                    conn,
                    "UPDATE webauthn_challenges SET used_at = ?4 WHERE id = ?1 AND user_id = ?2 \
                     AND kind = ?3 AND used_at IS NULL AND expires_at > ?4 RETURNING state",
                    params![&id, user_id.as_str(), &kind, ms(now)],
                )
            })
            .await
    }

    async fn add_passkey(&self, passkey: &PasskeyRecord) -> StoreResult<bool> {
        let p = passkey.clone();
        self.queue
            .write_direct(move |conn| {
                Ok(exec(
                    conn,
                    "INSERT INTO passkeys (id, user_id, credential_id, name, credential, \
                     created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (credential_id) DO NOTHING",
                    params![
                        &p.id,
                        p.user_id.as_str(),
                        &p.credential_id,
                        &p.name,
                        &p.credential,
                        ms(p.created_at)
                    ],
                )? == 1)
            })
            .await
    }

    async fn passkeys(&self, user_id: &UserId) -> StoreResult<Vec<PasskeyRecord>> {
        self.readers.read(|conn| {
            query_all(
                conn,
                "SELECT * FROM passkeys WHERE user_id = ? ORDER BY created_at, id",
                params![user_id.as_str()],
                |row| passkey_from_row(row),
            )
        })
    }

    async fn passkey_used(&self, id: &str, credential: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let (id, credential) = (id.to_owned(), credential.to_owned());
        self.queue
            .write_direct(move |conn| {
                exec(
                    conn,
                    "UPDATE passkeys SET credential = ?, last_used_at = ? WHERE id = ?",
                    params![&credential, ms(at), &id],
                )?;
                Ok(())
            })
            .await
    }

    async fn purge_confirmations(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.queue
            .write_direct(move |conn| {
                let verifications = exec(
                    conn,
                    "DELETE FROM verifications WHERE expires_at < ?",
                    params![ms(before)],
                )?;
                let challenges = exec(
                    conn,
                    "DELETE FROM webauthn_challenges WHERE expires_at < ?",
                    params![ms(before)],
                )?;
                Ok(u64::try_from(verifications + challenges).unwrap_or(u64::MAX))
            })
            .await
    }

    async fn remove_passkey(&self, user_id: &UserId, id: &str) -> StoreResult<bool> {
        let (id, user_id) = (id.to_owned(), user_id.clone());
        self.queue
            .write_direct(move |conn| {
                Ok(exec(
                    conn,
                    "DELETE FROM passkeys WHERE id = ? AND user_id = ?",
                    params![&id, user_id.as_str()],
                )? == 1)
            })
            .await
    }
}
