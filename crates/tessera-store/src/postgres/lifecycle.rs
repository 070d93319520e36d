use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::*;
use crate::decisions::IssuerTarget;
use crate::rows::ms;
use crate::rows::*;
use crate::{Lifecycle, StoreError, StoreResult};

pub(super) async fn insert_token_event(
    conn: &mut PgConnection,
    event: &TokenEvent,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO token_events (token_ref, kind, actor, reason, status_after, created_at, \
         user_id) VALUES ($1, $2, $3, $4, $5, $6, (SELECT c.user_id FROM tokens t \
         JOIN cards c ON c.id = t.card_id WHERE t.token_ref = $1))",
    )
    .bind(&event.token_ref)
    .bind(&event.kind)
    .bind(&event.actor)
    .bind(&event.reason)
    .bind(&event.status_after)
    .bind(ms(event.created_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn set_token_expiry(
    conn: &mut PgConnection,
    card_id: &str,
    (month, year): (u8, u16),
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE tokens SET expiry_month = $1, expiry_year = $2, updated_at = $3 \
         WHERE card_id = $4",
    )
    .bind(i64::from(month))
    .bind(i64::from(year))
    .bind(ms(now))
    .bind(card_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[async_trait]
impl Lifecycle for PgStore {
    async fn change_token_state(&self, change: &TokenStateChange) -> StoreResult<bool> {
        let mut lease = self.lease().await?;
        let mut tx = lease.begin().await?;
        // Compare and set: PostgreSQL re-checks the WHERE after waiting on
        // a concurrent change of the row, so a raced change updates nothing.
        let updated = sqlx::query(
            "UPDATE tokens SET status = $1, suspenders = $2, updated_at = $3 \
             WHERE token_ref = $4 AND status = $5 AND suspenders = $6",
        )
        .bind(change.to_status.as_str())
        .bind(suspenders_json(&change.to_suspenders)?)
        .bind(ms(change.event.created_at))
        .bind(&change.token_ref)
        .bind(change.from_status.as_str())
        .bind(suspenders_json(&change.from_suspenders)?)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_token_event(&mut tx, &change.event).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_token(&self, event: &TokenEvent) -> StoreResult<bool> {
        let mut lease = self.lease().await?;
        let mut tx = lease.begin().await?;
        let card_id: Option<String> =
            sqlx::query_scalar("SELECT card_id FROM tokens WHERE token_ref = $1")
                .bind(&event.token_ref)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(card_id) = card_id else {
            tx.rollback().await?;
            return Ok(false);
        };
        let Some(user_id) = lock_card_owner(&mut tx, &card_id).await? else {
            tx.rollback().await?;
            return Ok(false);
        };
        if !end_card(
            &mut tx,
            &user_id,
            &card_id,
            CardStatus::Unbound,
            event.created_at,
        )
        .await?
        {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_token_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn renew_token(&self, renewal: &TokenRenewal) -> StoreResult<bool> {
        let mut lease = self.lease().await?;
        let mut tx = lease.begin().await?;
        // Compare and set on the PSN: of two renewals raced on any nodes,
        // one updates the row, and the other, re-checking the WHERE after
        // the first commits, updates nothing.
        let updated = sqlx::query(
            "UPDATE tokens SET psn = $1, imk_generation = $2, expiry_month = $3, \
             expiry_year = $4, atc_high = 0, atc_issued = 0, updated_at = $5 \
             WHERE token_ref = $6 AND psn = $7 AND status <> 'deleted'",
        )
        .bind(i64::from(renewal.psn))
        .bind(i64::from(renewal.imk_generation))
        .bind(i64::from(renewal.expiry_month))
        .bind(i64::from(renewal.expiry_year))
        .bind(ms(renewal.event.created_at))
        .bind(&renewal.token_ref)
        .bind(i64::from(renewal.from_psn))
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        for forget in [
            "DELETE FROM atc_uses WHERE token_ref = $1",
            "DELETE FROM cryptograms WHERE token_ref = $1",
        ] {
            sqlx::query(forget)
                .bind(&renewal.token_ref)
                .execute(&mut *tx)
                .await?;
        }
        insert_token_event(&mut tx, &renewal.event).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn live_tokens_of_generation(
        &self,
        generation: u8,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<String>> {
        let refs = sqlx::query_scalar(
            "SELECT token_ref FROM tokens WHERE imk_generation = $1 AND status <> 'deleted' \
             AND token_ref > $2 ORDER BY token_ref LIMIT $3",
        )
        .bind(i64::from(generation))
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit.max(1)))
        .fetch_all(&mut *self.lease().await?)
        .await?;
        Ok(refs)
    }

    async fn tokens_by_generation(&self) -> StoreResult<Vec<GenerationTokens>> {
        let rows = sqlx::query(
            "SELECT imk_generation, COUNT(*)::BIGINT AS tokens, \
             COALESCE(SUM(CASE WHEN status <> 'deleted' THEN 1 ELSE 0 END), 0)::BIGINT AS live \
             FROM tokens GROUP BY imk_generation ORDER BY imk_generation",
        )
        .fetch_all(&mut *self.lease().await?)
        .await?;
        rows.iter().map(generation_tokens_from_row).collect()
    }

    async fn token_events(&self, token_ref: &str, limit: u32) -> StoreResult<Vec<TokenEvent>> {
        let rows = sqlx::query(
            "SELECT * FROM token_events WHERE token_ref = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(token_ref)
        .bind(i64::from(limit.max(1)))
        .fetch_all(&mut *self.lease().await?)
        .await?;
        rows.iter().map(token_event_from_row).collect()
    }

    async fn issuer_event_begin(&self, event: &IssuerEventRecord) -> StoreResult<IssuerEventBegin> {
        // A second delivery racing the first waits on the primary key until
        // the first commits, then finds its row.
        let inserted = sqlx::query(
            "INSERT INTO issuer_events (key_id, event_id, kind, occurred_at, body_hash, \
             received_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key_id, event_id) DO NOTHING",
        )
        .bind(&event.key_id)
        .bind(&event.event_id)
        .bind(&event.kind)
        .bind(ms(event.occurred_at))
        .bind(&event.body_hash)
        .bind(ms(event.received_at))
        .execute(&mut *self.lease().await?)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(IssuerEventBegin::Started);
        }
        let row = sqlx::query(
            "SELECT body_hash, outcome FROM issuer_events WHERE key_id = $1 AND event_id = $2",
        )
        .bind(&event.key_id)
        .bind(&event.event_id)
        .fetch_optional(&mut *self.lease().await?)
        .await?;
        let Some(row) = row else {
            // Forgotten between the two statements (a failed first delivery):
            // this one is no duplicate; the issuer retries.
            return Ok(IssuerEventBegin::Duplicate { outcome: None });
        };
        let body_hash: String = row.try_get("body_hash")?;
        Ok(if body_hash == event.body_hash {
            IssuerEventBegin::Duplicate {
                outcome: row.try_get("outcome")?,
            }
        } else {
            IssuerEventBegin::Conflict
        })
    }

    async fn issuer_event_finish(
        &self,
        key_id: &str,
        event_id: &str,
        outcome: Option<&str>,
    ) -> StoreResult<()> {
        let query = match outcome {
            Some(outcome) => sqlx::query(
                "UPDATE issuer_events SET outcome = $3 WHERE key_id = $1 AND event_id = $2",
            )
            .bind(key_id)
            .bind(event_id)
            .bind(outcome),
            None => sqlx::query(
                "DELETE FROM issuer_events WHERE key_id = $1 AND event_id = $2 \
                 AND outcome IS NULL",
            )
            .bind(key_id)
            .bind(event_id),
        };
        query.execute(&mut *self.lease().await?).await?;
        Ok(())
    }

    async fn cards_for_issuer(&self, selector: CardSelector<'_>) -> StoreResult<Vec<CardRecord>> {
        let (column, value) = match selector {
            CardSelector::Par(par) => ("c.par", par),
            CardSelector::PanFingerprint(fingerprint) => ("c.pan_fingerprint", fingerprint),
        };
        let sql = format!(
            "SELECT {CARD_COLUMNS} WHERE {column} = $1 \
             AND c.status IN ('active', 'pending_verification') \
             ORDER BY c.created_at, c.id COLLATE \"C\""
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(value)
            .fetch_all(&mut *self.lease().await?)
            .await?;
        rows.iter().map(card_from_row).collect()
    }

    async fn apply_issuer_change(&self, change: &IssuerChange) -> StoreResult<IssuerApply> {
        let mut lease = self.lease().await?;
        let mut tx = lease.begin().await?;
        // The owner's lock: issuer changes take turns with the user's own
        // changes to their cards, on every node.
        let Some(user_id) = lock_card_owner(&mut tx, &change.card_id).await? else {
            tx.rollback().await?;
            return Ok(IssuerApply::NotLive);
        };
        let row = sqlx::query(
            "SELECT c.status, c.issuer_event_at, t.token_ref, t.status AS t_status \
             FROM cards c LEFT JOIN tokens t ON t.card_id = c.id WHERE c.id = $1",
        )
        .bind(change.card_id.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let target = IssuerTarget::from_row(&row)?;
        if let Some(refused) = target.refuses(change.occurred_at) {
            tx.rollback().await?;
            return Ok(refused);
        }
        let (kind, status_after) = match &change.kind {
            IssuerChangeKind::Replace(new) => {
                let updated = sqlx::query(
                    "UPDATE cards SET pan_fingerprint = $1, pan_key_version = $2, \
                     pan_ciphertext = $3, first6 = $4, last4 = $5, pan_length = $6, \
                     expiry_month = $7, expiry_year = $8, updated_at = $9, reissued_at = NULL \
                     WHERE id = $10",
                )
                .bind(&new.pan_fingerprint)
                .bind(i64::from(new.pan_key_version))
                .bind(&new.pan_ciphertext)
                .bind(&new.first6)
                .bind(&new.last4)
                .bind(i64::from(new.pan_length))
                .bind(new.expiry.map(|e| i64::from(e.0)))
                .bind(new.expiry.map(|e| i64::from(e.1)))
                .bind(ms(change.now))
                .bind(change.card_id.as_str())
                .execute(&mut *tx)
                .await;
                if let Err(error) = updated {
                    tx.rollback().await?;
                    return match StoreError::from(error) {
                        StoreError::Conflict(_) => Ok(IssuerApply::Conflict),
                        other => Err(other),
                    };
                }
                set_token_expiry(&mut tx, &change.card_id, new.token_expiry, change.now).await?;
                (
                    "card_replaced",
                    target.token_status.clone().unwrap_or_default(),
                )
            }
            IssuerChangeKind::Expiry {
                expiry,
                token_expiry,
            } => {
                sqlx::query(
                    "UPDATE cards SET expiry_month = $1, expiry_year = $2, updated_at = $3 \
                     WHERE id = $4",
                )
                .bind(i64::from(expiry.0))
                .bind(i64::from(expiry.1))
                .bind(ms(change.now))
                .bind(change.card_id.as_str())
                .execute(&mut *tx)
                .await?;
                set_token_expiry(&mut tx, &change.card_id, *token_expiry, change.now).await?;
                (
                    "expiry_updated",
                    target.token_status.clone().unwrap_or_default(),
                )
            }
            IssuerChangeKind::Close => {
                end_card(
                    &mut tx,
                    &user_id,
                    &change.card_id,
                    CardStatus::Closed,
                    change.now,
                )
                .await?;
                ("card_closed", TokenStatus::Deleted.as_str().to_owned())
            }
        };
        sqlx::query("UPDATE cards SET issuer_event_at = $1 WHERE id = $2")
            .bind(ms(change.occurred_at))
            .bind(change.card_id.as_str())
            .execute(&mut *tx)
            .await?;
        if let Some(token_ref) = target.token_ref {
            insert_token_event(
                &mut tx,
                &TokenEvent {
                    token_ref,
                    kind: kind.to_owned(),
                    actor: "issuer".to_owned(),
                    reason: change.reason.clone(),
                    status_after,
                    created_at: change.now,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(IssuerApply::Applied)
    }
}
