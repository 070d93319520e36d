//! `Retention` on SQLite: an account closed in one writer job, so that its
//! cards, sessions and status change together; the purges one job each.

use async_trait::async_trait;

use super::*;
use crate::retention_rows::*;
use crate::{Retention, StoreResult};

fn sql(text: &str) -> String {
    text.replace('$', "?")
}

fn count(rows: usize) -> u64 {
    u64::try_from(rows).unwrap_or(u64::MAX)
}

#[async_trait]
impl Retention for SqliteStore {
    async fn close_account(&self, closure: &AccountClosure) -> StoreResult<bool> {
        let closure = closure.clone();
        let reservations = self.reservations.clone();
        self.queue
            .write_direct(move |conn| {
                let user_id = closure.user_id.as_str();
                if exec(conn, &sql(CLOSE_USER), params![user_id])? == 0 {
                    return Ok(false);
                }
                // A card still being bound is let go: its completion finds
                // no reservation and binds nothing.
                let mut held = reservations.lock()?;
                let binding: Vec<CardId> = held
                    .of_user(user_id)
                    .iter()
                    .map(|card| card.id.clone())
                    .collect();
                for card_id in binding {
                    held.remove(Some(user_id), card_id.as_str());
                }
                drop(held);
                let live: Vec<(String, Option<String>)> =
                    query_all(conn, &sql(LIVE_CARDS), params![user_id], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    })?;
                for (card_id, token_ref) in live {
                    // The card ends as an unbinding ends it: the token
                    // deleted, the PAN ciphertext erased.
                    end_card(
                        conn,
                        user_id,
                        &card_id,
                        CardStatus::Unbound,
                        closure.closed_at,
                    )?;
                    if let Some(token_ref) = token_ref {
                        insert_token_event(
                            conn,
                            &TokenEvent {
                                token_ref,
                                kind: "delete".to_owned(),
                                actor: actor(closure.closed_by).to_owned(),
                                reason: Some("account_closed".to_owned()),
                                status_after: TokenStatus::Deleted.as_str().to_owned(),
                                created_at: closure.closed_at,
                            },
                        )?;
                    }
                }
                for delete in CLOSE_DELETES {
                    exec(conn, &sql(delete), params![user_id])?;
                }
                exec(
                    conn,
                    &sql(CLOSURE_INSERT),
                    params![
                        user_id,
                        closure.closed_by.as_str(),
                        closure.key_id.as_deref(),
                        closure.reason.as_deref(),
                        ms(closure.closed_at)
                    ],
                )?;
                Ok(true)
            })
            .await
    }

    async fn account_closure(&self, user_id: &UserId) -> StoreResult<Option<AccountClosure>> {
        let row = self
            .readers
            .read(|conn| row_opt(conn, &sql(CLOSURE_BY_USER), params![user_id.as_str()]))?;
        row.map(|row| closure_from_row(&row)).transpose()
    }

    async fn purge_retained(&self, cutoffs: &RetentionCutoffs) -> StoreResult<PurgedRecords> {
        let cutoffs = *cutoffs;
        let recent = Arc::clone(&self.recent);
        self.queue
            .write_direct(move |conn| {
                let mut purged = PurgedRecords {
                    attempts: count(exec(
                        conn,
                        &sql(PURGE_ATTEMPTS),
                        params![ms(cutoffs.attempts_before)],
                    )?),
                    sessions: count(exec(
                        conn,
                        &sql(PURGE_SESSIONS),
                        params![ms(cutoffs.sessions_before)],
                    )?),
                    sms_codes: count(exec(
                        conn,
                        &sql(PURGE_SMS_CODES),
                        params![ms(cutoffs.sms_codes_before)],
                    )?),
                    closed_accounts: 0,
                };
                let closed: Vec<String> = scalar_all(
                    conn,
                    &sql(CLOSED_TO_PURGE),
                    params![ms(cutoffs.closed_before)],
                )?;
                for user_id in closed {
                    for delete in PURGE_CLOSED {
                        exec(conn, &sql(delete), params![&user_id])?;
                    }
                    // Their payments are gone: so is the list kept of them.
                    recent.forget(&user_id);
                    exec(conn, &sql(SCRUB_USER), params![&user_id])?;
                    exec(
                        conn,
                        &sql(CLOSURE_PURGED),
                        params![ms(cutoffs.now), &user_id],
                    )?;
                    purged.closed_accounts += 1;
                }
                Ok(purged)
            })
            .await
    }
}
