use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::*;
use crate::decisions::IssuerTarget;
use crate::rows::*;
use crate::{Lifecycle, StoreError, StoreResult};

pub(super) fn insert_token_event(
    conn: &rusqlite::Connection,
    event: &TokenEvent,
) -> StoreResult<()> {
    exec(
        conn,
        "INSERT INTO token_events (token_ref, kind, actor, reason, status_after, created_at, \
         user_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, (SELECT c.user_id FROM tokens t \
         JOIN cards c ON c.id = t.card_id WHERE t.token_ref = ?1))",
        params![
            &event.token_ref,
            &event.kind,
            &event.actor,
            &event.reason,
            &event.status_after,
            ms(event.created_at)
        ],
    )?;
    Ok(())
}

pub(super) fn set_token_expiry(
    conn: &rusqlite::Connection,
    card_id: &str,
    (month, year): (u8, u16),
    now: DateTime<Utc>,
) -> StoreResult<()> {
    exec(
        conn,
        "UPDATE tokens SET expiry_month = ?, expiry_year = ?, updated_at = ? WHERE card_id = ?",
        params![i64::from(month), i64::from(year), ms(now), card_id],
    )?;
    Ok(())
}

/// An issuer's change to one card, in the caller's transaction. Every check
/// runs before anything is written; a refused change leaves nothing behind.
pub(super) fn apply_issuer_change(
    conn: &rusqlite::Connection,
    change: &IssuerChange,
) -> StoreResult<IssuerApply> {
    let row = row_opt(
        conn,
        "SELECT c.user_id, c.status, c.issuer_event_at, t.token_ref, t.status AS t_status \
         FROM cards c LEFT JOIN tokens t ON t.card_id = c.id WHERE c.id = ?",
        params![change.card_id.as_str()],
    )?;
    let Some(row) = row else {
        return Ok(IssuerApply::NotLive);
    };
    let user_id: String = row.col("user_id")?;
    let target = IssuerTarget::from_row(&row)?;
    if let Some(refused) = target.refuses(change.occurred_at) {
        return Ok(refused);
    }
    let (kind, status_after) = match &change.kind {
        IssuerChangeKind::Replace(new) => {
            let updated = exec(
                conn,
                "UPDATE cards SET pan_fingerprint = ?, pan_key_version = ?, \
                 pan_ciphertext = ?, first6 = ?, last4 = ?, pan_length = ?, \
                 expiry_month = ?, expiry_year = ?, updated_at = ?, reissued_at = NULL \
                 WHERE id = ?",
                params![
                    &new.pan_fingerprint,
                    i64::from(new.pan_key_version),
                    &new.pan_ciphertext,
                    &new.first6,
                    &new.last4,
                    i64::from(new.pan_length),
                    new.expiry.map(|e| i64::from(e.0)),
                    new.expiry.map(|e| i64::from(e.1)),
                    ms(change.now),
                    change.card_id.as_str()
                ],
            );
            match updated {
                Ok(_) => {}
                Err(error) => {
                    return match error {
                        StoreError::Conflict(_) => Ok(IssuerApply::Conflict),
                        other => Err(other),
                    };
                }
            }
            set_token_expiry(conn, &change.card_id, new.token_expiry, change.now)?;
            (
                "card_replaced",
                target.token_status.clone().unwrap_or_default(),
            )
        }
        IssuerChangeKind::Expiry {
            expiry,
            token_expiry,
        } => {
            exec(
                conn,
                "UPDATE cards SET expiry_month = ?, expiry_year = ?, updated_at = ? \
                 WHERE id = ?",
                params![
                    i64::from(expiry.0),
                    i64::from(expiry.1),
                    ms(change.now),
                    change.card_id.as_str()
                ],
            )?;
            set_token_expiry(conn, &change.card_id, *token_expiry, change.now)?;
            (
                "expiry_updated",
                target.token_status.clone().unwrap_or_default(),
            )
        }
        IssuerChangeKind::Close => {
            end_card(
                conn,
                &user_id,
                &change.card_id,
                CardStatus::Closed,
                change.now,
            )?;
            ("card_closed", TokenStatus::Deleted.as_str().to_owned())
        }
    };
    exec(
        conn,
        "UPDATE cards SET issuer_event_at = ? WHERE id = ?",
        params![ms(change.occurred_at), change.card_id.as_str()],
    )?;
    if let Some(token_ref) = target.token_ref {
        insert_token_event(
            conn,
            &TokenEvent {
                token_ref,
                kind: kind.to_owned(),
                actor: "issuer".to_owned(),
                reason: change.reason.clone(),
                status_after,
                created_at: change.now,
            },
        )?;
    }
    Ok(IssuerApply::Applied)
}

#[async_trait]
impl Lifecycle for SqliteStore {
    async fn change_token_state(&self, change: &TokenStateChange) -> StoreResult<bool> {
        let change = change.clone();
        let from = suspenders_json(&change.from_suspenders)?;
        let to = suspenders_json(&change.to_suspenders)?;
        self.queue
            .write_direct(move |conn| {
                // Compare and set: a token changed since it was read is
                // left alone, and the caller reads it again.
                let updated = exec(
                    conn,
                    "UPDATE tokens SET status = ?, suspenders = ?, updated_at = ? \
                         WHERE token_ref = ? AND status = ? AND suspenders = ?",
                    params![
                        change.to_status.as_str(),
                        &to,
                        ms(change.event.created_at),
                        &change.token_ref,
                        change.from_status.as_str(),
                        &from
                    ],
                )?;
                if updated == 0 {
                    return Ok(false);
                }
                insert_token_event(conn, &change.event)?;
                Ok(true)
            })
            .await
    }

    async fn delete_token(&self, event: &TokenEvent) -> StoreResult<bool> {
        let event = event.clone();
        self.queue
            .write_direct(move |conn| {
                let row = row_opt(
                    conn,
                    "SELECT c.id, c.user_id FROM tokens t JOIN cards c ON c.id = t.card_id \
                         WHERE t.token_ref = ? AND t.status <> 'deleted'",
                    params![&event.token_ref],
                )?;
                let Some(row) = row else {
                    return Ok(false);
                };
                let card_id: String = row.col("id")?;
                let user_id: String = row.col("user_id")?;
                if !end_card(
                    conn,
                    &user_id,
                    &card_id,
                    CardStatus::Unbound,
                    event.created_at,
                )? {
                    return Ok(false);
                }
                insert_token_event(conn, &event)?;
                Ok(true)
            })
            .await
    }

    async fn renew_token(&self, renewal: &TokenRenewal) -> StoreResult<bool> {
        let renewal = renewal.clone();
        self.queue
            .write_direct(move |conn| {
                let updated = exec(
                    conn,
                    "UPDATE tokens SET psn = ?, imk_generation = ?, expiry_month = ?, \
                         expiry_year = ?, atc_high = 0, atc_issued = 0, updated_at = ? \
                         WHERE token_ref = ? AND psn = ? AND status <> 'deleted'",
                    params![
                        i64::from(renewal.psn),
                        i64::from(renewal.imk_generation),
                        i64::from(renewal.expiry_month),
                        i64::from(renewal.expiry_year),
                        ms(renewal.event.created_at),
                        &renewal.token_ref,
                        i64::from(renewal.from_psn)
                    ],
                )?;
                if updated == 0 {
                    return Ok(false);
                }
                for forget in [
                    "DELETE FROM atc_uses WHERE token_ref = ?",
                    "DELETE FROM cryptograms WHERE token_ref = ?",
                ] {
                    exec(conn, forget, params![&renewal.token_ref])?;
                }
                insert_token_event(conn, &renewal.event)?;
                Ok(true)
            })
            .await
    }

    async fn live_tokens_of_generation(
        &self,
        generation: u8,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<String>> {
        let rows = self.readers.read(|conn| {
            row_all(
                conn,
                "SELECT token_ref FROM tokens WHERE imk_generation = ? AND status <> 'deleted' \
                 AND token_ref > ? ORDER BY token_ref LIMIT CAST(? AS BIGINT)",
                params![
                    i64::from(generation),
                    after.unwrap_or(""),
                    i64::from(limit.max(1))
                ],
            )
        })?;
        rows.iter().map(|row| row.col("token_ref")).collect()
    }

    async fn tokens_by_generation(&self) -> StoreResult<Vec<GenerationTokens>> {
        let rows = self.readers.read(|conn| {
            row_all(
                conn,
                "SELECT imk_generation, COUNT(*) AS tokens, \
             COALESCE(SUM(CASE WHEN status <> 'deleted' THEN 1 ELSE 0 END), 0) AS live \
             FROM tokens GROUP BY imk_generation ORDER BY imk_generation",
                params![],
            )
        })?;
        rows.iter().map(generation_tokens_from_row).collect()
    }

    async fn token_events(&self, token_ref: &str, limit: u32) -> StoreResult<Vec<TokenEvent>> {
        let rows = self.readers.read(|conn| {
            row_all(
                conn,
                "SELECT * FROM token_events WHERE token_ref = ? ORDER BY id DESC LIMIT CAST(? AS BIGINT)",
                params![token_ref, i64::from(limit.max(1))],
            )
        })?;
        rows.iter().map(token_event_from_row).collect()
    }

    async fn issuer_event_begin(&self, event: &IssuerEventRecord) -> StoreResult<IssuerEventBegin> {
        let event = event.clone();
        self.queue
            .write_direct(move |conn| {
                let inserted = exec(
                    conn,
                    "INSERT INTO issuer_events (key_id, event_id, kind, occurred_at, \
                         body_hash, received_at) VALUES (?, ?, ?, ?, ?, ?) \
                         ON CONFLICT (key_id, event_id) DO NOTHING",
                    params![
                        &event.key_id,
                        &event.event_id,
                        &event.kind,
                        ms(event.occurred_at),
                        &event.body_hash,
                        ms(event.received_at)
                    ],
                )?;
                if inserted == 1 {
                    return Ok(IssuerEventBegin::Started);
                }
                let row = row_one(
                    conn,
                    "SELECT body_hash, outcome FROM issuer_events \
                         WHERE key_id = ? AND event_id = ?",
                    params![&event.key_id, &event.event_id],
                )?;
                let body_hash: String = row.col("body_hash")?;
                Ok(if body_hash == event.body_hash {
                    IssuerEventBegin::Duplicate {
                        outcome: row.col("outcome")?,
                    }
                } else {
                    IssuerEventBegin::Conflict
                })
            })
            .await
    }

    async fn issuer_event_finish(
        &self,
        key_id: &str,
        event_id: &str,
        outcome: Option<&str>,
    ) -> StoreResult<()> {
        let (key_id, event_id) = (key_id.to_owned(), event_id.to_owned());
        let outcome = outcome.map(str::to_owned);
        self.queue
            .write_direct(move |conn| {
                match &outcome {
                    Some(outcome) => exec(
                        conn,
                        "UPDATE issuer_events SET outcome = ? \
                             WHERE key_id = ? AND event_id = ?",
                        params![outcome, key_id, event_id],
                    )?,
                    None => exec(
                        conn,
                        "DELETE FROM issuer_events WHERE key_id = ? AND event_id = ? \
                             AND outcome IS NULL",
                        params![key_id, event_id],
                    )?,
                };
                Ok(())
            })
            .await
    }

    async fn cards_for_issuer(&self, selector: CardSelector<'_>) -> StoreResult<Vec<CardRecord>> {
        // By PAN, the live cards are found through cards_live_pan
        // (pan_fingerprint, user_id), the only index on the fingerprint:
        // its condition is repeated for the planner (SQLite takes a partial
        // index only for a query that states its condition).
        let (column, value, live) = match selector {
            CardSelector::Par(par) => ("c.par", par, ""),
            CardSelector::PanFingerprint(fingerprint) => (
                "c.pan_fingerprint",
                fingerprint,
                " AND c.status IN ('binding', 'pending_verification', 'active')",
            ),
        };
        let sql = format!(
            "SELECT {CARD_COLUMNS} WHERE {column} = ?{live} \
             AND c.status IN ('active', 'pending_verification') ORDER BY c.created_at, c.id"
        );
        self.readers
            .read(|conn| query_all(conn, &sql, params![value], |row| card_from_row(row)))
    }

    async fn apply_issuer_change(&self, change: &IssuerChange) -> StoreResult<IssuerApply> {
        let change = change.clone();
        self.queue
            .write_direct(move |conn| apply_issuer_change(conn, &change))
            .await
    }
}
