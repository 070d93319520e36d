use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use super::*;
use crate::rows::ms;
use crate::rows::*;
use crate::{Cards, StoreError, StoreResult};

/// Locks the user's row for the rest of the transaction, so that changes to
/// one user's cards take turns across every node. A user that does not
/// exist locks nothing (the foreign key refuses their cards).
pub(super) async fn lock_user(conn: &mut PgConnection, user_id: &str) -> StoreResult<()> {
    sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(())
}

/// Locks the row of the user owning a card; returns that user.
pub(super) async fn lock_card_owner(
    conn: &mut PgConnection,
    card_id: &str,
) -> StoreResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT u.id FROM users u JOIN cards c ON c.user_id = u.id WHERE c.id = $1 \
         FOR UPDATE OF u",
    )
    .bind(card_id)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Ends a pending card whose OTP challenge has run out, or failed: the card
/// leaves the live set, its token and ciphertexts are destroyed.
pub(super) async fn end_pending_card(
    conn: &mut PgConnection,
    card_id: &str,
    status: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    // The card leaves its owner's count of live cards (migration 0013).
    sqlx::query(
        "WITH ended AS (UPDATE cards SET status = $1, pan_ciphertext = NULL, \
         pan_key_version = NULL, updated_at = $2 WHERE id = $3 RETURNING user_id) \
         UPDATE users SET live_cards = live_cards - 1 FROM ended WHERE users.id = ended.user_id",
    )
    .bind(status)
    .bind(ms(now))
    .bind(card_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE tokens SET status = 'deleted', token_pan_ciphertext = NULL, updated_at = $1 \
         WHERE card_id = $2",
    )
    .bind(ms(now))
    .bind(card_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM otp_challenges WHERE card_id = $1")
        .bind(card_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Gives the user a default card when they have active cards but none is
/// the default (the first card bound, or after the default was unbound).
/// Callers hold the user's lock, so two nodes cannot both pick one.
pub(super) async fn ensure_default(conn: &mut PgConnection, user_id: &str) -> StoreResult<()> {
    sqlx::query(
        "UPDATE cards SET is_default = TRUE WHERE id = ( \
           SELECT id FROM cards WHERE user_id = $1 AND status = 'active' \
           ORDER BY created_at DESC, id COLLATE \"C\" LIMIT 1) \
         AND NOT EXISTS (SELECT 1 FROM cards WHERE user_id = $1 AND status = 'active' \
           AND is_default)",
    )
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Takes a live card out of the wallet: its status (`unbound`, `closed`),
/// its PAN ciphertext erased, its token deleted, its OTP challenge dropped,
/// and the user's default moved. The caller holds the user's lock. False
/// when the card was not live.
pub(super) async fn end_card(
    conn: &mut PgConnection,
    user_id: &str,
    card_id: &str,
    status: CardStatus,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    // The card leaves its owner's count of live cards (migration 0013):
    // a row updated is the user's, so only when the card was live.
    let updated = sqlx::query(
        "WITH ended AS (UPDATE cards SET status = $1, pan_ciphertext = NULL, \
         pan_key_version = NULL, is_default = FALSE, unbound_at = $2, updated_at = $2 \
         WHERE id = $3 AND user_id = $4 AND status IN ('active', 'pending_verification') \
         RETURNING user_id) \
         UPDATE users SET live_cards = live_cards - 1 FROM ended WHERE users.id = ended.user_id",
    )
    .bind(status.as_str())
    .bind(ms(now))
    .bind(card_id)
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE tokens SET status = 'deleted', suspenders = '[]', token_pan_ciphertext = NULL, \
         updated_at = $1 WHERE card_id = $2",
    )
    .bind(ms(now))
    .bind(card_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM otp_challenges WHERE card_id = $1")
        .bind(card_id)
        .execute(&mut *conn)
        .await?;
    ensure_default(conn, user_id).await?;
    Ok(true)
}

pub(super) type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

/// Binds a completion as `tessera_complete_binding`'s 23 arguments take it
/// (the first arguments of `tessera_complete_binding_recorded` too).
pub(super) fn bind_completion<'q>(
    query: PgQuery<'q>,
    completion: &BindingCompletion,
) -> PgQuery<'q> {
    let token = &completion.token;
    let otp = completion.otp.as_ref();
    query
        .bind(completion.card_id.as_str())
        .bind(completion.user_id.as_str())
        .bind(completion.status.as_str())
        .bind(i64::from(completion.pan_key_version))
        .bind(&completion.pan_ciphertext)
        .bind(ms(completion.now))
        .bind(&token.token_ref)
        .bind(i64::from(token.key_version))
        .bind(&token.token_pan_ciphertext)
        .bind(&token.token_first6)
        .bind(&token.token_last4)
        .bind(i64::from(token.expiry_month))
        .bind(i64::from(token.expiry_year))
        .bind(token.status.as_str())
        .bind(&token.requestor_id)
        .bind(&token.device_id)
        .bind(&token.token_pan_fingerprint)
        .bind(i64::from(token.psn))
        .bind(&token.imk_range)
        .bind(i64::from(token.imk_generation))
        .bind(otp.map(|otp| otp.code_hash.as_str()))
        .bind(otp.map(|otp| otp.sent_to_masked.as_str()))
        .bind(otp.map(|otp| ms(otp.expires_at)))
}

/// Binds an attempt record's 21 columns, in `binding_attempts`' order.
pub(super) fn bind_attempt<'q>(query: PgQuery<'q>, attempt: &AttemptRecord) -> PgQuery<'q> {
    query
        .bind(&attempt.trace_id)
        .bind(attempt.user_id.as_str())
        .bind(attempt.card_id.as_deref())
        .bind(&attempt.masked_pan)
        .bind(&attempt.first6)
        .bind(&attempt.last4)
        .bind(attempt.brand.as_ref().map(Brand::code))
        .bind(&attempt.issuer_code)
        .bind(&attempt.issuer_name)
        .bind(attempt.card_type.map(CardType::code))
        .bind(&attempt.country)
        .bind(&attempt.device)
        .bind(attempt.outcome.as_str())
        .bind(&attempt.error_code)
        .bind(&attempt.cause)
        .bind(&attempt.error_param)
        .bind(&attempt.error_reason)
        .bind(&attempt.issuer_response)
        .bind(attempt.latency_ms)
        .bind(ms(attempt.created_at))
        .bind(&attempt.client_request_id)
}

#[async_trait]
impl Cards for PgStore {
    async fn binding_context(
        &self,
        names: &[&str],
        issuer_code: Option<&str>,
    ) -> StoreResult<BindingContext> {
        // Two reads in one round trip: the settings as two arrays, beside
        // the breaker's incident row (all NULL when there is none).
        let mut lease = self.lease().await?;
        let row = sqlx::query(
            "SELECT s.setting_names, s.setting_values, i.* FROM \
             (SELECT array_agg(name) AS setting_names, array_agg(value) AS setting_values \
              FROM settings WHERE name = ANY($1)) s \
             LEFT JOIN LATERAL (SELECT * FROM issuer_incidents \
              WHERE issuer_code = $2 AND resolved_at IS NULL AND breaker_open \
              ORDER BY opened_at DESC, id COLLATE \"C\" DESC LIMIT 1) i ON TRUE",
        )
        .bind(names)
        .bind(issuer_code)
        .fetch_one(&mut *lease)
        .await?;
        lease.finish();
        let stored_names: Vec<String> = row
            .try_get::<Option<_>, _>("setting_names")?
            .unwrap_or_default();
        let stored_values: Vec<String> = row
            .try_get::<Option<_>, _>("setting_values")?
            .unwrap_or_default();
        let settings = names
            .iter()
            .map(|name| {
                stored_names
                    .iter()
                    .position(|stored| stored == name)
                    .and_then(|at| stored_values.get(at).cloned())
            })
            .collect();
        let open_breaker = match row.try_get::<Option<String>, _>("id")? {
            Some(_) => Some(incident_from_row(&row)?),
            None => None,
        };
        Ok(BindingContext {
            settings,
            open_breaker,
        })
    }

    async fn reserve_card(
        &self,
        card: &NewCard,
        limits: &ReserveLimits,
        now: DateTime<Utc>,
    ) -> StoreResult<Reserve> {
        // One round trip and one transaction: `tessera_reserve_card_v3`
        // locks the user's row, frees stale slots, then checks for the
        // duplicate, the limit and the wallets the card is in, claims the attempt limits as
        // `tessera_claim_limits` does, and reserves, where a client-side
        // transaction would take seven statements.
        //
        // It commits without waiting for its WAL flush: see "Unflushed
        // commits" above `impl Store for PgStore`.
        let names: Vec<&str> = limits.attempts.iter().map(|b| b.bucket.as_str()).collect();
        let bucket_limits: Vec<i64> = limits.attempts.iter().map(|b| i64::from(b.limit)).collect();
        let mut lease = self.lease().await?;
        let row = sqlx::query(
            "SELECT set_config('synchronous_commit', 'off', true), \
             r_outcome, r_card_id, r_status, r_live_cards, r_refused, r_free_at, r_wallets \
             FROM tessera_reserve_card_v3(\
             $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
             $19, $20, $21, $22, $23, $24, $25)",
        )
        .bind(card.id.as_str())
        .bind(card.user_id.as_str())
        .bind(ms(card.reserved_until))
        .bind(&card.pan_fingerprint)
        .bind(&card.first6)
        .bind(&card.last4)
        .bind(i64::from(card.pan_length))
        .bind(card.brand.code())
        .bind(&card.issuer_code)
        .bind(&card.issuer_name_zh)
        .bind(&card.issuer_name_en)
        .bind(card.card_type.map(CardType::code))
        .bind(&card.country)
        .bind(card.expiry_month.map(i64::from))
        .bind(card.expiry_year.map(i64::from))
        .bind(&card.holder_name)
        .bind(&card.par)
        .bind(&card.bank_phone_masked)
        .bind(ms(card.created_at))
        .bind(i64::from(limits.live_cards))
        .bind(ms(now))
        .bind(&names)
        .bind(&bucket_limits)
        .bind(ms(now) - limits.window.num_milliseconds())
        .bind(i64::from(limits.wallets_per_card))
        .fetch_one(&mut *lease)
        .await?;
        lease.finish();
        let outcome: String = row.try_get("r_outcome")?;
        Ok(match outcome.as_str() {
            "reserved" => Reserve::Reserved,
            "in_progress" => Reserve::InProgress,
            "already_bound" => Reserve::AlreadyBound {
                card_id: CardId::from(row.try_get::<String, _>("r_card_id")?),
                status: row.word("r_status")?,
            },
            "limit_reached" => Reserve::LimitReached {
                live_cards: small(row.try_get("r_live_cards")?)?,
            },
            "wallets_full" => Reserve::WalletsFull {
                wallets: small(row.try_get("r_wallets")?)?,
            },
            "limits_refused" => {
                let refused: i32 = row.col("r_refused")?;
                let free_at: Option<i64> = row.col("r_free_at")?;
                match limit_claim(small(i64::from(refused))?, free_at, limits.window, now)? {
                    LimitClaim::Refused { index, free_at } => {
                        Reserve::AttemptsRefused { index, free_at }
                    }
                    LimitClaim::Counted => {
                        return Err(StoreError::Corrupt(
                            "tessera_reserve_card_v3 refused no limit".to_owned(),
                        ));
                    }
                }
            }
            other => {
                return Err(StoreError::Corrupt(format!(
                    "tessera_reserve_card_v3 answered {other:?}"
                )));
            }
        })
    }

    async fn release_card(&self, card_id: &CardId) -> StoreResult<()> {
        // Without waiting for the WAL flush ("Unflushed commits" above
        // `impl Store for PgStore`). A data-modifying WITH runs whether or
        // not the query reads it.
        let mut lease = self.lease().await?;
        sqlx::query(
            "WITH released AS (DELETE FROM cards WHERE id = $1 AND status = 'binding') \
             SELECT set_config('synchronous_commit', 'off', true)",
        )
        .bind(card_id.as_str())
        .execute(&mut *lease)
        .await?;
        lease.finish();
        Ok(())
    }

    async fn complete_binding_recorded(
        &self,
        completion: &BindingCompletion,
        attempt: &AttemptRecord,
    ) -> StoreResult<Option<CardRecord>> {
        // One round trip and one transaction, so one WAL flush:
        // `tessera_complete_binding_recorded` completes as
        // `complete_binding` does, records the attempt (a failed record is
        // logged and leaves the binding standing) and reads the card back
        // after its writes.
        let mut lease = self.lease().await?;
        let query = bind_completion(
            sqlx::query(
                "SELECT * FROM tessera_complete_binding_recorded($1, $2, $3, $4, $5, $6, $7, \
                 $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, \
                 $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38, \
                 $39, $40, $41, $42, $43, $44)",
            ),
            completion,
        );
        let row = bind_attempt(query, attempt)
            .fetch_optional(&mut *lease)
            .await?;
        lease.finish();
        row.as_ref().map(card_from_row).transpose()
    }

    async fn list_cards(&self, user_id: &UserId) -> StoreResult<Vec<CardRecord>> {
        let sql = format!(
            "SELECT {CARD_COLUMNS} WHERE c.user_id = $1 AND c.status <> 'binding' \
             ORDER BY c.created_at DESC, c.id COLLATE \"C\""
        );
        let mut lease = self.lease().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id.as_str())
            .fetch_all(&mut *lease)
            .await?;
        lease.finish();
        rows.iter().map(card_from_row).collect()
    }

    async fn card(&self, user_id: &UserId, card_id: &CardId) -> StoreResult<Option<CardRecord>> {
        let sql = format!(
            "SELECT {CARD_COLUMNS} WHERE c.user_id = $1 AND c.id = $2 AND c.status <> 'binding'"
        );
        let mut lease = self.lease().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id.as_str())
            .bind(card_id.as_str())
            .fetch_optional(&mut *lease)
            .await?;
        lease.finish();
        row.as_ref().map(card_from_row).transpose()
    }

    async fn set_default_card(
        &self,
        user_id: &UserId,
        card_id: &CardId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut lease = self.lease().await?;
        let mut tx = lease.begin().await?;
        lock_user(&mut tx, user_id).await?;
        let exists: Option<String> = sqlx::query_scalar(
            "SELECT id FROM cards WHERE id = $1 AND user_id = $2 AND status = 'active'",
        )
        .bind(card_id.as_str())
        .bind(user_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_none() {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "UPDATE cards SET is_default = (id = $1), updated_at = $2 WHERE user_id = $3 \
             AND (is_default OR id = $1)",
        )
        .bind(card_id.as_str())
        .bind(ms(now))
        .bind(user_id.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn unbind_card(
        &self,
        user_id: &UserId,
        card_id: &CardId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut lease = self.lease().await?;
        let mut tx = lease.begin().await?;
        lock_user(&mut tx, user_id).await?;
        let token_ref: Option<String> =
            sqlx::query_scalar("SELECT token_ref FROM tokens WHERE card_id = $1")
                .bind(card_id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        if !end_card(&mut tx, user_id, card_id, CardStatus::Unbound, now).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        if let Some(token_ref) = token_ref {
            insert_token_event(
                &mut tx,
                &TokenEvent {
                    token_ref,
                    kind: "delete".to_owned(),
                    actor: "cardholder".to_owned(),
                    reason: Some("unbound".to_owned()),
                    status_after: TokenStatus::Deleted.as_str().to_owned(),
                    created_at: now,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn otp_challenge(&self, card_id: &CardId) -> StoreResult<Option<OtpChallenge>> {
        let row = sqlx::query(
            "SELECT card_id, code_hash, sent_to_masked, expires_at, failures, created_at \
             FROM otp_challenges WHERE card_id = $1",
        )
        .bind(card_id.as_str())
        .fetch_optional(&mut *self.lease().await?)
        .await?;
        row.map(|row| otp_challenge_from_row(&row)).transpose()
    }

    async fn claim_otp_comparison(&self, card_id: &CardId, max: u32) -> StoreResult<OtpClaim> {
        let mut lease = self.lease().await?;
        // The claim is this one statement: at the limit it changes no row,
        // and racing requests on any node queue on the row's lock.
        let row = sqlx::query(
            "UPDATE otp_challenges SET comparisons = comparisons + 1 \
             WHERE card_id = $1 AND comparisons < $2 \
             RETURNING card_id, code_hash, sent_to_masked, expires_at, failures, comparisons, \
             created_at",
        )
        .bind(card_id.as_str())
        .bind(i64::from(max))
        .fetch_optional(&mut *lease)
        .await?;
        if let Some(row) = row {
            return Ok(OtpClaim::Claimed {
                challenge: otp_challenge_from_row(&row)?,
                comparison: small(row.col("comparisons")?)?,
            });
        }
        let open: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM otp_challenges WHERE card_id = $1")
                .bind(card_id.as_str())
                .fetch_optional(&mut *lease)
                .await?;
        Ok(if open.is_some() {
            OtpClaim::Exhausted
        } else {
            OtpClaim::Missing
        })
    }

    async fn claim_limits(
        &self,
        buckets: &[LimitBucket],
        window: TimeDelta,
        now: DateTime<Utc>,
    ) -> StoreResult<LimitClaim> {
        let names: Vec<&str> = buckets.iter().map(|b| b.bucket.as_str()).collect();
        let limits: Vec<i64> = buckets.iter().map(|b| i64::from(b.limit)).collect();
        // One round trip: tessera_claim_limits (migration 0012) takes a
        // hit in every bucket that is not full, in one statement holding
        // their rows' locks, and gives them back if one is. Its commit
        // does not wait for the WAL flush (`set_config` local to the
        // statement's transaction): the row locks keep the count exact
        // under any burst, and only a database crash can forget the last
        // hits, after which the person is counted afresh.
        let row = sqlx::query(
            "SELECT set_config('synchronous_commit', 'off', true), r_refused, r_free_at \
             FROM tessera_claim_limits($1, $2, $3, $4)",
        )
        .bind(&names)
        .bind(&limits)
        .bind(ms(now) - window.num_milliseconds())
        .bind(ms(now))
        .fetch_one(&mut *self.lease().await?)
        .await?;
        let refused: i32 = row.col("r_refused")?;
        let free_at: Option<i64> = row.col("r_free_at")?;
        limit_claim(small(i64::from(refused))?, free_at, window, now)
    }

    async fn purge_limits(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        // `hits[1]` is a bucket's newest hit. A claim that adds one first
        // makes this DELETE re-check the row it waited for, and keeps it;
        // one that comes after inserts the bucket afresh.
        let purged = sqlx::query("DELETE FROM limit_buckets WHERE coalesce(hits[1], 0) <= $1")
            .bind(ms(before))
            .execute(&mut *self.lease().await?)
            .await?;
        Ok(purged.rows_affected())
    }

    async fn renew_otp(
        &self,
        card_id: &CardId,
        code_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
        sent_before: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let renewed = sqlx::query(
            "UPDATE otp_challenges SET code_hash = $1, expires_at = $2, created_at = $3 \
             WHERE card_id = $4 AND created_at <= $5",
        )
        .bind(code_hash)
        .bind(ms(expires_at))
        .bind(ms(now))
        .bind(card_id.as_str())
        .bind(ms(sent_before))
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(renewed.rows_affected() == 1)
    }

    async fn record_otp_failure(&self, card_id: &CardId) -> StoreResult<u32> {
        // One atomic statement: wrong codes sent to two nodes at once both
        // count.
        let failures: Option<i64> = sqlx::query_scalar(
            "UPDATE otp_challenges SET failures = failures + 1 WHERE card_id = $1 \
             RETURNING failures",
        )
        .bind(card_id.as_str())
        .fetch_optional(&mut *self.lease().await?)
        .await?;
        small(failures.unwrap_or(0))
    }

    async fn finish_otp(
        &self,
        card_id: &CardId,
        outcome: OtpOutcome,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut lease = self.lease().await?;
        let mut tx = lease.begin().await?;
        if lock_card_owner(&mut tx, card_id).await?.is_none() {
            tx.rollback().await?;
            return Ok(false);
        }
        // Read after the lock: a challenge another node just ended is seen
        // as ended.
        let user_id: Option<String> = sqlx::query_scalar(
            "SELECT user_id FROM cards WHERE id = $1 AND status = 'pending_verification'",
        )
        .bind(card_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(user_id) = user_id else {
            tx.rollback().await?;
            return Ok(false);
        };
        match outcome {
            OtpOutcome::Verified => {
                sqlx::query("UPDATE cards SET status = 'active', updated_at = $1 WHERE id = $2")
                    .bind(ms(now))
                    .bind(card_id.as_str())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "UPDATE tokens SET status = 'active', updated_at = $1 WHERE card_id = $2",
                )
                .bind(ms(now))
                .bind(card_id.as_str())
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM otp_challenges WHERE card_id = $1")
                    .bind(card_id.as_str())
                    .execute(&mut *tx)
                    .await?;
                ensure_default(&mut tx, &user_id).await?;
            }
            OtpOutcome::Failed => {
                end_pending_card(&mut tx, card_id, "verification_failed", now).await?;
            }
            OtpOutcome::Expired => {
                end_pending_card(&mut tx, card_id, "verification_expired", now).await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn push_sandbox_sms(
        &self,
        phone: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query("INSERT INTO sandbox_sms (phone, body, created_at) VALUES ($1, $2, $3)")
            .bind(phone)
            .bind(body)
            .bind(ms(now))
            .execute(&mut *self.lease().await?)
            .await?;
        Ok(())
    }

    async fn sandbox_sms(&self, phone: &str, limit: u32) -> StoreResult<Vec<SandboxSms>> {
        let rows = sqlx::query(
            "SELECT phone, body, created_at FROM sandbox_sms WHERE phone = $1 \
             ORDER BY id DESC LIMIT $2",
        )
        .bind(phone)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.lease().await?)
        .await?;
        rows.iter().map(sandbox_sms_from_row).collect()
    }
}
