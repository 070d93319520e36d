use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use super::*;
use crate::rows::ms;
use crate::rows::*;
use crate::{Cards, Constraint, StoreError, StoreResult};

/// `reserve_card`'s look at the user's row (?1 user): the count of their
/// live cards and when one may run out (migration 0026), which the
/// triggers keep. No row (an unknown user, whose card the foreign key
/// refuses at completion) reads as an empty wallet.
pub(super) const RESERVE_LIVE: &str = "SELECT live_cards, live_due FROM users WHERE id = ?1";

/// `reserve_card`'s count of the user's cards (?1 user, ?2 now), when
/// their row cannot tell (`RESERVE_LIVE`): the wallet looks full, or a
/// code may have run out. A live card holds its slot: bound, or waiting
/// for a code that has not expired; `stale` counts pending cards whose
/// code has expired, which only look live and must be ended before a new
/// card can take the slot; `due` is when the next code runs out.
/// Reservations are not rows (`reservations.rs`): the caller adds its own.
/// Each status is its own range of `cards_user`, so bound cards are
/// counted from the index alone, without reading a card row (pending
/// cards, whose code must be looked up, are few and short-lived).
pub(super) const RESERVE_COUNTS: &str = "SELECT \
       (SELECT COUNT(*) FROM cards WHERE user_id = ?1 AND status = 'active') \
     + (SELECT COUNT(*) FROM cards c WHERE c.user_id = ?1 AND c.status = 'pending_verification' \
          AND NOT EXISTS (SELECT 1 FROM otp_challenges o \
              WHERE o.card_id = c.id AND o.expires_at <= ?2)) AS live, \
       (SELECT COUNT(*) FROM cards c WHERE c.user_id = ?1 AND c.status = 'pending_verification' \
          AND EXISTS (SELECT 1 FROM otp_challenges o \
              WHERE o.card_id = c.id AND o.expires_at <= ?2)) AS stale, \
       (SELECT MIN(o.expires_at) FROM cards c JOIN otp_challenges o ON o.card_id = c.id \
          WHERE c.user_id = ?1 AND c.status = 'pending_verification' \
            AND o.expires_at > ?2) AS due";

/// `reserve_card`'s duplicate check (?1 user, ?2 PAN fingerprint, ?3 now):
/// the user's live card with this PAN, if any. The `status IN` repeats the
/// partial index's condition so that the planner takes `cards_live_pan`.
pub(super) const RESERVE_DUPLICATE: &str = "SELECT c.id, c.status FROM cards c \
     WHERE c.user_id = ?1 AND c.pan_fingerprint = ?2 \
       AND c.status IN ('binding', 'pending_verification', 'active') \
       AND (c.status = 'active' \
         OR (c.status = 'pending_verification' AND NOT EXISTS (SELECT 1 FROM otp_challenges o \
             WHERE o.card_id = c.id AND o.expires_at <= ?3))) \
     LIMIT 1";

/// `reserve_card`'s count of the other wallets a card is in (?1 PAN
/// fingerprint, ?2 user, ?3 now): their live cards with this PAN, through
/// `cards_live_pan`, whose leading column is the fingerprint. Reservations
/// are not rows: the caller adds those of other users.
pub(super) const RESERVE_WALLETS: &str = "SELECT COUNT(*) FROM cards c \
     WHERE c.pan_fingerprint = ?1 AND c.user_id <> ?2 \
       AND c.status IN ('binding', 'pending_verification', 'active') \
       AND (c.status = 'active' \
         OR (c.status = 'pending_verification' AND NOT EXISTS (SELECT 1 FROM otp_challenges o \
             WHERE o.card_id = c.id AND o.expires_at <= ?3)))";

/// `reserve_card`'s count of the user's live cards, when their row cannot
/// tell: the cards themselves counted, the pending ones whose code ran out
/// ended, and the user's due time (`due`, as read) moved to the next code
/// to run out. With those ended the triggers have made the row's count
/// exact. Settles once durable only when cards were ended, which readers
/// see; the due time is the writer's alone.
fn count_live_cards(
    conn: &rusqlite::Connection,
    user_id: &str,
    due: Option<i64>,
    now: DateTime<Utc>,
) -> StoreResult<(i64, Settle)> {
    let row = row_one(conn, RESERVE_COUNTS, params![user_id, ms(now)])?;
    let stale: i64 = row.col("stale")?;
    let next: Option<i64> = row.col("due")?;
    if stale > 0 {
        let expired: Vec<String> = scalar_all(
            conn,
            "SELECT c.id FROM cards c JOIN otp_challenges o ON o.card_id = c.id \
             WHERE c.user_id = ? AND c.status = 'pending_verification' \
             AND o.expires_at <= ?",
            params![user_id, ms(now)],
        )?;
        for card_id in &expired {
            end_pending_card(conn, card_id, "verification_expired", now)?;
        }
    }
    if next != due {
        exec(
            conn,
            "UPDATE users SET live_due = ? WHERE id = ?",
            params![next, user_id],
        )?;
    }
    let settle = if stale > 0 {
        Settle::Durable
    } else {
        Settle::Early
    };
    Ok((row.col("live")?, settle))
}

/// Ends a pending card whose OTP challenge has run out, or failed: the card
/// leaves the live set, its token and ciphertexts are destroyed.
pub(super) fn end_pending_card(
    conn: &rusqlite::Connection,
    card_id: &str,
    status: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    exec(
        conn,
        "UPDATE cards SET status = ?, pan_ciphertext = NULL, pan_key_version = NULL, \
         updated_at = ? WHERE id = ?",
        params![status, ms(now), card_id],
    )?;
    exec(
        conn,
        "UPDATE tokens SET status = 'deleted', token_pan_ciphertext = NULL, updated_at = ? \
         WHERE card_id = ?",
        params![ms(now), card_id],
    )?;
    exec(
        conn,
        "DELETE FROM otp_challenges WHERE card_id = ?",
        params![card_id],
    )?;
    Ok(())
}

/// Gives the user a default card when they have active cards but none is
/// the default (the first card bound, or after the default was unbound),
/// and says which card it made the default, if any.
pub(super) fn ensure_default(
    conn: &rusqlite::Connection,
    user_id: &str,
) -> StoreResult<Option<String>> {
    // Nearly always the user has a default: one key in cards_user_default
    // says so (SQLite's planner, without statistics, would rather walk the
    // user's active cards through cards_user). Writes run one at a time on
    // the writer, so nothing changes between the reads and the update.
    let has_default: bool = scalar_one(
        conn,
        "SELECT EXISTS (SELECT 1 FROM cards INDEXED BY cards_user_default \
         WHERE user_id = ? AND status = 'active' AND is_default = 1)",
        params![user_id],
    )?;
    if has_default {
        return Ok(None);
    }
    let newest: Option<String> = scalar_opt(
        conn,
        "SELECT id FROM cards WHERE user_id = ? AND status = 'active' \
         ORDER BY created_at DESC, id LIMIT 1",
        params![user_id],
    )?;
    if let Some(card_id) = &newest {
        exec(
            conn,
            "UPDATE cards SET is_default = 1 WHERE id = ?",
            params![card_id.as_str()],
        )?;
    }
    Ok(newest)
}

/// Takes a live card out of the wallet: its status (`unbound`, `closed`),
/// its PAN ciphertext erased, its token deleted, its OTP challenge dropped,
/// and the user's default moved. False when the card was not live.
pub(super) fn end_card(
    conn: &rusqlite::Connection,
    user_id: &str,
    card_id: &str,
    status: CardStatus,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let updated = exec(
        conn,
        "UPDATE cards SET status = ?, pan_ciphertext = NULL, pan_key_version = NULL, \
         is_default = 0, unbound_at = ?, updated_at = ? \
         WHERE id = ? AND user_id = ? AND status IN ('active', 'pending_verification')",
        params![status.as_str(), ms(now), ms(now), card_id, user_id],
    )?;
    if updated == 0 {
        return Ok(false);
    }
    exec(
        conn,
        "UPDATE tokens SET status = 'deleted', suspenders = '[]', token_pan_ciphertext = NULL, \
         updated_at = ? WHERE card_id = ?",
        params![ms(now), card_id],
    )?;
    exec(
        conn,
        "DELETE FROM otp_challenges WHERE card_id = ?",
        params![card_id],
    )?;
    ensure_default(conn, user_id)?;
    Ok(true)
}

/// Binds a reserved card: its row, as it is bound, with its token and
/// challenge; the reservation ends. False when the card is not reserved
/// (released, run out, or completed already).
/// Binds a reserved card; None when it is no longer reserved. The card
/// comes back as a read would find it (`bound::bound_card_record`), without
/// reading it.
pub(super) fn complete_binding(
    conn: &rusqlite::Connection,
    reservations: &Reservations,
    completion: &BindingCompletion,
) -> StoreResult<Option<CardRecord>> {
    let mut held = reservations.lock()?;
    // The account's closure let go of the reservations it found; one made
    // after it, by a request already past its sign-in check, ends here.
    let closed: bool = scalar_one(
        conn,
        "SELECT EXISTS (SELECT 1 FROM users WHERE id = ? AND status = 'closed')",
        params![completion.user_id.as_str()],
    )?;
    if closed {
        held.remove(Some(&completion.user_id), &completion.card_id);
        return Ok(None);
    }
    let Some(card) = held.get(&completion.user_id, &completion.card_id) else {
        return Ok(None);
    };
    let inserted = exec(
        conn,
        concat!(
            "INSERT INTO cards (",
            bound::bound_card_columns!(),
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        // Not the default yet: `ensure_default` below decides.
        params_from_iter(bound::bound_card_row(card, completion, false)),
    );
    match inserted {
        Ok(_) => {}
        // The same card went live for this user without passing through
        // this map: another process on the same file (one server per
        // SQLite file is the rule, README "Running several nodes"). The
        // unique index refuses it; the binding ends like a lost
        // reservation, and a retry hears that the card is bound.
        Err(StoreError::Conflict(Constraint::LiveCard)) => {
            held.remove(Some(&completion.user_id), &completion.card_id);
            return Ok(None);
        }
        Err(error) => return Err(error),
    }
    // A token PAN drawn before breaks `Constraint::TokenPan`: the caller
    // draws another (this job's savepoint is rolled back, so the card stays
    // reserved).
    exec(
        conn,
        concat!(
            "INSERT INTO tokens (",
            bound::bound_token_columns!(),
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        params_from_iter(bound::bound_token_row(completion)),
    )?;
    if let Some(otp) = &completion.otp {
        exec(
            conn,
            "INSERT INTO otp_challenges (card_id, code_hash, sent_to_masked, expires_at, \
                 created_at) VALUES (?, ?, ?, ?, ?)",
            params![
                completion.card_id.as_str(),
                &otp.code_hash,
                &otp.sent_to_masked,
                ms(otp.expires_at),
                ms(completion.now)
            ],
        )?;
    }
    let made_default = ensure_default(conn, &completion.user_id)?;
    let is_default = made_default.as_deref() == Some(completion.card_id.as_str());
    let bound = bound::bound_card_record(card, completion, is_default);
    // Last, so that a failed step above (a token PAN drawn before) leaves
    // the card reserved for the caller's next try.
    held.remove(Some(&completion.user_id), &completion.card_id);
    Ok(Some(bound))
}

#[async_trait]
impl Cards for SqliteStore {
    async fn binding_context(
        &self,
        names: &[&str],
        issuer_code: Option<&str>,
    ) -> StoreResult<BindingContext> {
        self.readers.read(|conn| {
            let settings = setting_values(conn, names)?;
            let open_breaker = match issuer_code {
                Some(code) => query_opt(
                    conn,
                    "SELECT * FROM issuer_incidents WHERE issuer_code = ? \
                     AND resolved_at IS NULL AND breaker_open = 1 \
                     ORDER BY opened_at DESC, id DESC LIMIT 1",
                    params![code],
                    |row| incident_from_row(row),
                )?,
                None => None,
            };
            Ok(BindingContext {
                settings,
                open_breaker,
            })
        })
    }

    async fn reserve_card(
        &self,
        card: &NewCard,
        limits: &ReserveLimits,
        now: DateTime<Utc>,
    ) -> StoreResult<Reserve> {
        let card = card.clone();
        let limits = limits.clone();
        let reservations = Arc::clone(&self.reservations);
        let counts = Arc::clone(&self.limits);
        self.queue
            .write_direct_settling(move |conn| {
                // The map and the cards table change only on this thread:
                // what this job reads cannot change under it.
                let mut held = reservations.lock()?;
                held.expire(&card.user_id, now);
                let holding = held.of_user(&card.user_id);
                let holds = i64::try_from(holding.len()).unwrap_or(i64::MAX);

                // How many live cards the user holds, from their row: never
                // fewer than the truth, so a wallet it says has room has
                // room, and the cards are counted only when it says the
                // wallet is full or a code may have run out.
                let (counted, due): (i64, Option<i64>) =
                    query_opt(conn, RESERVE_LIVE, params![card.user_id.as_str()], |row| {
                        Ok((row.col("live_cards")?, row.col("live_due")?))
                    })?
                    .unwrap_or((0, None));
                let (live, settle) = if counted.saturating_add(holds) < i64::from(limits.live_cards)
                    && due.is_none_or(|due| due > ms(now))
                {
                    // A reservation writes nothing, so nothing waits for
                    // a commit.
                    (counted, Settle::Early)
                } else {
                    count_live_cards(conn, &card.user_id, due, now)?
                };
                if holding
                    .iter()
                    .any(|held| held.pan_fingerprint == card.pan_fingerprint)
                {
                    return Ok((Reserve::InProgress, settle));
                }
                let duplicate: Option<(CardId, CardStatus)> = query_opt(
                    conn,
                    RESERVE_DUPLICATE,
                    params![card.user_id.as_str(), &card.pan_fingerprint, ms(now)],
                    |row| Ok((row.id("id")?, row.word("status")?)),
                )?;
                if let Some((card_id, status)) = duplicate {
                    return Ok((Reserve::AlreadyBound { card_id, status }, settle));
                }
                let live = live.saturating_add(holds);
                if live >= i64::from(limits.live_cards) {
                    return Ok((
                        Reserve::LimitReached {
                            live_cards: small(live)?,
                        },
                        settle,
                    ));
                }
                // The other wallets this card is in: their bound and
                // pending cards, and their reservations. Nothing else
                // writes cards meanwhile (this is the writer).
                let elsewhere: i64 = scalar_one(
                    conn,
                    RESERVE_WALLETS,
                    params![&card.pan_fingerprint, card.user_id.as_str(), ms(now)],
                )?;
                let wallets = elsewhere
                    + i64::try_from(held.of_card(&card.pan_fingerprint, &card.user_id, now))
                        .unwrap_or(i64::MAX);
                if wallets >= i64::from(limits.wallets_per_card) {
                    return Ok((
                        Reserve::WalletsFull {
                            wallets: small(wallets)?,
                        },
                        settle,
                    ));
                }
                // The attempt's hits, in this job: one writer job a
                // binding, not two. Their rows need no commit to be
                // waited for either (see `Cards::claim_limits`).
                if !limits.attempts.is_empty()
                    && let LimitClaim::Refused { index, free_at } =
                        counts.claim(conn, &limits.attempts, limits.window, now)?
                {
                    return Ok((Reserve::AttemptsRefused { index, free_at }, settle));
                }
                held.hold(card);
                Ok((Reserve::Reserved, settle))
            })
            .await
    }

    async fn release_card(&self, card_id: &CardId) -> StoreResult<()> {
        // Nobody waits on a reservation but the writer, which reads the
        // map under the same lock: no job needed.
        self.reservations.lock()?.remove(None, card_id);
        Ok(())
    }

    async fn complete_binding_recorded(
        &self,
        completion: &BindingCompletion,
        attempt: &AttemptRecord,
    ) -> StoreResult<Option<CardRecord>> {
        let completion = completion.clone();
        let attempt = attempt.clone();
        let reservations = Arc::clone(&self.reservations);
        self.queue
            .write_direct(move |conn| {
                let Some(bound) = complete_binding(conn, &reservations, &completion)? else {
                    return Ok(None);
                };
                // SQLite undoes a failed statement by itself: the binding
                // stands even if its record could not be written.
                if let Err(error) = insert_attempt(conn, &attempt) {
                    tracing::error!(trace_id = %attempt.trace_id, error = %error, "could not record the binding attempt");
                }
                Ok(Some(bound))
            })
            .await
    }

    async fn list_cards(&self, user_id: &UserId) -> StoreResult<Vec<CardRecord>> {
        // Every row is a card: reservations are not rows here (on
        // PostgreSQL they are, and these reads pass them over).
        let sql =
            format!("SELECT {CARD_COLUMNS} WHERE c.user_id = ? ORDER BY c.created_at DESC, c.id");
        self.readers.read(|conn| {
            query_all(conn, &sql, params![user_id.as_str()], |row| {
                card_from_row(row)
            })
        })
    }

    async fn card(&self, user_id: &UserId, card_id: &CardId) -> StoreResult<Option<CardRecord>> {
        let sql = format!("SELECT {CARD_COLUMNS} WHERE c.user_id = ? AND c.id = ?");
        self.readers.read(|conn| {
            query_opt(
                conn,
                &sql,
                params![user_id.as_str(), card_id.as_str()],
                |row| card_from_row(row),
            )
        })
    }

    async fn set_default_card(
        &self,
        user_id: &UserId,
        card_id: &CardId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let user_id = user_id.to_owned();
        let card_id = card_id.to_owned();
        self.queue
            .write_direct(move |conn| {
                let user_id = user_id.as_str();
                let card_id = card_id.as_str();

                let exists: Option<String> = scalar_opt(
                    conn,
                    "SELECT id FROM cards WHERE id = ? AND user_id = ? AND status = 'active'",
                    params![card_id, user_id],
                )?;
                if exists.is_none() {
                    return Ok(false);
                }
                exec(
                    conn,
                    "UPDATE cards SET is_default = (id = ?), updated_at = ? WHERE user_id = ? \
             AND (is_default = 1 OR id = ?)",
                    params![card_id, ms(now), user_id, card_id],
                )?;
                Ok(true)
            })
            .await
    }

    async fn unbind_card(
        &self,
        user_id: &UserId,
        card_id: &CardId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let user_id = user_id.to_owned();
        let card_id = card_id.to_owned();
        self.queue
            .write_direct(move |conn| {
                let token_ref: Option<String> = scalar_opt(
                    conn,
                    "SELECT token_ref FROM tokens WHERE card_id = ?",
                    params![card_id.as_str()],
                )?;
                if !end_card(conn, &user_id, &card_id, CardStatus::Unbound, now)? {
                    return Ok(false);
                }
                if let Some(token_ref) = token_ref {
                    let event = TokenEvent {
                        token_ref,
                        kind: "delete".to_owned(),
                        actor: "cardholder".to_owned(),
                        reason: Some("unbound".to_owned()),
                        status_after: TokenStatus::Deleted.as_str().to_owned(),
                        created_at: now,
                    };
                    insert_token_event(conn, &event)?;
                }
                Ok(true)
            })
            .await
    }

    async fn otp_challenge(&self, card_id: &CardId) -> StoreResult<Option<OtpChallenge>> {
        let row = self.readers.read(|conn| {
            row_opt(
                conn,
                "SELECT card_id, code_hash, sent_to_masked, expires_at, failures, created_at \
             FROM otp_challenges WHERE card_id = ?",
                params![card_id.as_str()],
            )
        })?;
        row.map(|row| otp_challenge_from_row(&row)).transpose()
    }

    async fn claim_otp_comparison(&self, card_id: &CardId, max: u32) -> StoreResult<OtpClaim> {
        let card_id = card_id.to_owned();
        self.queue
            .write_direct(move |conn| {
                let card_id = card_id.as_str();
                // The claim is this one statement: at the limit it changes
                // no row, and the writer runs one job at a time.
                let row = row_opt(
                    conn,
                    "UPDATE otp_challenges SET comparisons = comparisons + 1 \
                     WHERE card_id = ? AND comparisons < ? \
                     RETURNING card_id, code_hash, sent_to_masked, expires_at, failures, \
                     comparisons, created_at",
                    params![card_id, i64::from(max)],
                )?;
                if let Some(row) = row {
                    return Ok(OtpClaim::Claimed {
                        challenge: otp_challenge_from_row(&row)?,
                        comparison: small(row.col("comparisons")?)?,
                    });
                }
                let open: Option<i64> = scalar_opt(
                    conn,
                    "SELECT 1 FROM otp_challenges WHERE card_id = ?",
                    params![card_id],
                )?;
                Ok(if open.is_some() {
                    OtpClaim::Exhausted
                } else {
                    OtpClaim::Missing
                })
            })
            .await
    }

    async fn claim_limits(
        &self,
        buckets: &[LimitBucket],
        window: TimeDelta,
        now: DateTime<Utc>,
    ) -> StoreResult<LimitClaim> {
        let buckets = buckets.to_vec();
        let limits = Arc::clone(&self.limits);
        // Answered as soon as it has run, like `reserve_card`: the writer
        // runs claims one after another, so the count holds under any
        // burst, and a claim need not wait for its row to be durable
        // (`limits.rs`).
        self.queue
            .write_direct_settling(move |conn| {
                limits
                    .claim(conn, &buckets, window, now)
                    .map(|claim| (claim, Settle::Early))
            })
            .await
    }

    async fn purge_limits(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let limits = Arc::clone(&self.limits);
        self.queue
            .write_direct(move |conn| limits.purge(conn, ms(before)))
            .await
    }

    async fn renew_otp(
        &self,
        card_id: &CardId,
        code_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
        sent_before: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (card_id, code_hash) = (card_id.to_owned(), code_hash.to_owned());
        self.queue
            .write_direct(move |conn| {
                let renewed = conn.execute(
                    "UPDATE otp_challenges SET code_hash = ?, expires_at = ?, created_at = ? \
                     WHERE card_id = ? AND created_at <= ?",
                    params![
                        code_hash,
                        ms(expires_at),
                        ms(now),
                        card_id.as_str(),
                        ms(sent_before)
                    ],
                )?;
                Ok(renewed == 1)
            })
            .await
    }

    async fn record_otp_failure(&self, card_id: &CardId) -> StoreResult<u32> {
        let card_id = card_id.to_owned();
        self.queue
            .write_direct(move |conn| {
                let card_id = card_id.as_str();

                let failures: Option<i64> = scalar_opt(
                    conn,
                    "UPDATE otp_challenges SET failures = failures + 1 WHERE card_id = ? \
             RETURNING failures",
                    params![card_id],
                )?;
                small(failures.unwrap_or(0))
            })
            .await
    }

    async fn finish_otp(
        &self,
        card_id: &CardId,
        outcome: OtpOutcome,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let card_id = card_id.to_owned();
        self.queue
            .write_direct(move |conn| {
                let card_id = card_id.as_str();

                let user_id: Option<String> = scalar_opt(
                    conn,
                    "SELECT user_id FROM cards WHERE id = ? AND status = 'pending_verification'",
                    params![card_id],
                )?;
                let Some(user_id) = user_id else {
                    return Ok(false);
                };
                match outcome {
                    OtpOutcome::Verified => {
                        exec(
                            conn,
                            "UPDATE cards SET status = 'active', updated_at = ? WHERE id = ?",
                            params![ms(now), card_id],
                        )?;
                        exec(
                            conn,
                            "UPDATE tokens SET status = 'active', updated_at = ? WHERE card_id = ?",
                            params![ms(now), card_id],
                        )?;
                        exec(
                            conn,
                            "DELETE FROM otp_challenges WHERE card_id = ?",
                            params![card_id],
                        )?;
                        ensure_default(conn, &user_id)?;
                    }
                    OtpOutcome::Failed => {
                        end_pending_card(conn, card_id, "verification_failed", now)?;
                    }
                    OtpOutcome::Expired => {
                        end_pending_card(conn, card_id, "verification_expired", now)?;
                    }
                }
                Ok(true)
            })
            .await
    }

    async fn push_sandbox_sms(
        &self,
        phone: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let phone = phone.to_owned();
        let body = body.to_owned();
        self.queue
            .write_direct(move |conn| {
                let phone = phone.as_str();
                let body = body.as_str();

                exec(
                    conn,
                    "INSERT INTO sandbox_sms (phone, body, created_at) VALUES (?, ?, ?)",
                    params![phone, body, ms(now)],
                )?;
                Ok(())
            })
            .await
    }

    async fn sandbox_sms(&self, phone: &str, limit: u32) -> StoreResult<Vec<SandboxSms>> {
        let rows = self.readers.read(|conn| {
            row_all(
                conn,
                "SELECT phone, body, created_at FROM sandbox_sms WHERE phone = ? \
             ORDER BY id DESC LIMIT CAST(? AS BIGINT)",
                params![phone, i64::from(limit)],
            )
        })?;
        rows.iter().map(sandbox_sms_from_row).collect()
    }
}
