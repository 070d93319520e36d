//! `Retention` on PostgreSQL: an account closed in one transaction that
//! holds the user's row (`lock_user`), as every change to a user's cards
//! does; the purges one transaction.

use async_trait::async_trait;

use super::*;
use crate::retention_rows::*;
use crate::rows::ms;
use crate::{Retention, StoreResult};

#[async_trait]
impl Retention for PgStore {
    async fn close_account(&self, closure: &AccountClosure) -> StoreResult<bool> {
        let user_id = closure.user_id.as_str();
        let mut lease = self.lease().await?;
        let mut tx = lease.begin().await?;
        lock_user(&mut tx, user_id).await?;
        let closed = sqlx::query(CLOSE_USER)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if closed.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let live: Vec<(String, Option<String>)> = sqlx::query_as(LIVE_CARDS)
            .bind(user_id)
            .fetch_all(&mut *tx)
            .await?;
        for (card_id, token_ref) in live {
            // The card ends as an unbinding ends it: the token deleted,
            // the PAN ciphertext erased.
            end_card(
                &mut tx,
                user_id,
                &card_id,
                CardStatus::Unbound,
                closure.closed_at,
            )
            .await?;
            if let Some(token_ref) = token_ref {
                insert_token_event(
                    &mut tx,
                    &TokenEvent {
                        token_ref,
                        kind: "delete".to_owned(),
                        actor: actor(closure.closed_by).to_owned(),
                        reason: Some("account_closed".to_owned()),
                        status_after: TokenStatus::Deleted.as_str().to_owned(),
                        created_at: closure.closed_at,
                    },
                )
                .await?;
            }
        }
        for delete in CLOSE_DELETES {
            sqlx::query(delete).bind(user_id).execute(&mut *tx).await?;
        }
        sqlx::query(CLOSURE_INSERT)
            .bind(user_id)
            .bind(closure.closed_by.as_str())
            .bind(closure.key_id.as_deref())
            .bind(closure.reason.as_deref())
            .bind(ms(closure.closed_at))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn account_closure(&self, user_id: &UserId) -> StoreResult<Option<AccountClosure>> {
        let row = sqlx::query(CLOSURE_BY_USER)
            .bind(user_id.as_str())
            .fetch_optional(&mut *self.lease().await?)
            .await?;
        row.as_ref().map(closure_from_row).transpose()
    }

    async fn purge_retained(&self, cutoffs: &RetentionCutoffs) -> StoreResult<PurgedRecords> {
        let mut lease = self.lease().await?;
        let mut tx = lease.begin().await?;
        let mut purged = PurgedRecords::default();
        for (sql, before, into) in [
            (
                PURGE_ATTEMPTS,
                cutoffs.attempts_before,
                &mut purged.attempts,
            ),
            (
                PURGE_SESSIONS,
                cutoffs.sessions_before,
                &mut purged.sessions,
            ),
            (
                PURGE_SMS_CODES,
                cutoffs.sms_codes_before,
                &mut purged.sms_codes,
            ),
        ] {
            *into = sqlx::query(sql)
                .bind(ms(before))
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        let closed: Vec<String> = sqlx::query_scalar(CLOSED_TO_PURGE)
            .bind(ms(cutoffs.closed_before))
            .fetch_all(&mut *tx)
            .await?;
        for user_id in closed {
            for delete in PURGE_CLOSED {
                sqlx::query(delete).bind(&user_id).execute(&mut *tx).await?;
            }
            sqlx::query(SCRUB_USER)
                .bind(&user_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(CLOSURE_PURGED)
                .bind(ms(cutoffs.now))
                .bind(&user_id)
                .execute(&mut *tx)
                .await?;
            purged.closed_accounts += 1;
        }
        tx.commit().await?;
        Ok(purged)
    }
}
