//! The embedded default: one SQLite file in WAL mode with synchronous=FULL,
//! so an acknowledged write survives `kill -9` and power loss. All writes go
//! through one writer connection on a thread of its own, which commits
//! whatever is waiting together (SQLite allows one writer at a time; a
//! queue beats "database is locked" errors; see `group_commit.rs`), reads
//! through small pools of readers that WAL lets run beside it.

use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Sqlite};

use crate::model::*;
use crate::{Store, StoreError, StoreResult};

mod direct;
mod group_commit;
mod migrate;
mod reservations;
mod seed;
mod support;

use direct::{
    Columns, Readers, exec, query_all, query_opt, row_all, row_one, row_opt, scalar_all,
    scalar_one, scalar_opt,
};
use group_commit::{Settle, WriteQueue, WriterSettings};
use reservations::Reservations;
use rusqlite::{params, params_from_iter};

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "tessera.db";

#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// The one writer connection, on its own thread (group commit).
    queue: WriteQueue,
    readers: SqlitePool,
    /// Read-only connections for the hot reads, used inline.
    direct: Arc<Readers>,
    /// Cards being bound (`reservations.rs`).
    reservations: Arc<Reservations>,
}

/// Pool sizes and timeouts for the embedded store.
#[derive(Debug, Clone, Copy)]
pub struct SqliteOptions {
    pub readers: u32,
    pub acquire_timeout: Duration,
    pub busy_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            readers: 4,
            acquire_timeout: Duration::from_secs(30),
            busy_timeout: Duration::from_secs(10),
        }
    }
}

/// The writer's page cache, in KiB. Every binding inserts into a handful
/// of indexes keyed by random values (fingerprints, PAR, token PAN): at a
/// million cards, SQLite's default 2 MiB cache misses on nearly each.
const WRITER_CACHE_KIB: i64 = 32 << 10;

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies the
    /// embedded migrations.
    pub async fn open(path: &Path, options: SqliteOptions) -> StoreResult<SqliteStore> {
        let connect = SqliteConnectOptions::from_str("sqlite://")
            .map_err(StoreError::from)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(options.busy_timeout)
            // Deleted PAN ciphertexts are overwritten with zeros, not left
            // in free pages.
            .pragma("secure_delete", "ON");
        // sqlx creates the file and applies the migrations; then the
        // writer thread takes over every write (see `group_commit.rs`).
        let migrator = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect.clone())
            .await?;
        let migrated = migrate::run(&migrator).await;
        migrator.close().await;
        migrated?;
        let readers = SqlitePoolOptions::new()
            .max_connections(options.readers.max(1))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect.read_only(true))
            .await?;
        let direct = Arc::new(Readers::open(
            path,
            options.busy_timeout,
            options.readers as usize,
        )?);
        let queue = WriteQueue::start(
            path,
            WriterSettings {
                busy_timeout: options.busy_timeout,
                cache_kib: WRITER_CACHE_KIB,
            },
        )?;
        Ok(SqliteStore {
            queue,
            readers,
            direct,
            reservations: Arc::default(),
        })
    }

    /// The writer's and every pooled reader's `PRAGMA synchronous` (2 =
    /// FULL), for tests and `/readyz`: durability must not depend on which
    /// connection ran.
    pub async fn synchronous_levels(&self) -> StoreResult<Vec<i64>> {
        let writer = self
            .queue
            .write_direct(|conn| scalar_one::<i64>(conn, "PRAGMA synchronous", []))
            .await?;
        let mut levels = vec![writer];
        let mut held = Vec::new();
        for _ in 0..self.readers.options().get_max_connections() {
            let mut conn = self.readers.acquire().await?;
            let level: i64 = sqlx::query_scalar("PRAGMA synchronous")
                .fetch_one(&mut *conn)
                .await?;
            levels.push(level);
            held.push(conn);
        }
        Ok(levels)
    }

    pub async fn close(&self) {
        self.queue.stop().await;
        self.readers.close().await;
    }
}

/// `reserve_card`'s count of the user's cards (?1 user, ?2 now).
/// A live card holds its slot: bound, or waiting for a code that has not
/// expired; `stale` counts rows that only look live and must be cleared
/// before a new card can take the slot. Reservations are not rows
/// (`reservations.rs`) except those an older Tessera left, which count
/// until they run out. Each status is its own range of `cards_user`, so
/// bound cards are counted from the index alone, without reading a card
/// row: a wallet of many cards costs a few index pages (pending cards,
/// whose code must be looked up, are few and short-lived).
const RESERVE_COUNTS: &str = "SELECT \
       (SELECT COUNT(*) FROM cards WHERE user_id = ?1 AND status = 'active') \
     + (SELECT COUNT(*) FROM cards WHERE user_id = ?1 AND status = 'binding' \
          AND reserved_until >= ?2) \
     + (SELECT COUNT(*) FROM cards c WHERE c.user_id = ?1 AND c.status = 'pending_verification' \
          AND NOT EXISTS (SELECT 1 FROM otp_challenges o \
              WHERE o.card_id = c.id AND o.expires_at <= ?2)) AS live, \
       (SELECT COUNT(*) FROM cards WHERE user_id = ?1 AND status = 'binding' \
          AND reserved_until < ?2) \
     + (SELECT COUNT(*) FROM cards c WHERE c.user_id = ?1 AND c.status = 'pending_verification' \
          AND EXISTS (SELECT 1 FROM otp_challenges o \
              WHERE o.card_id = c.id AND o.expires_at <= ?2)) AS stale";

/// `reserve_card`'s duplicate check (?1 user, ?2 PAN fingerprint, ?3 now):
/// the user's live card with this PAN, if any. The `status IN` repeats the
/// partial index's condition so that the planner takes `cards_live_pan`.
const RESERVE_DUPLICATE: &str = "SELECT c.id, c.status FROM cards c \
     WHERE c.user_id = ?1 AND c.pan_fingerprint = ?2 \
       AND c.status IN ('binding', 'pending_verification', 'active') \
       AND (c.status = 'active' OR (c.status = 'binding' AND c.reserved_until >= ?3) \
         OR (c.status = 'pending_verification' AND NOT EXISTS (SELECT 1 FROM otp_challenges o \
             WHERE o.card_id = c.id AND o.expires_at <= ?3))) \
     LIMIT 1";

const CARD_COLUMNS: &str = "c.id, c.user_id, c.status, c.pan_fingerprint, c.first6, c.last4, \
     c.pan_length, c.brand, c.issuer_code, c.issuer_name_zh, c.issuer_name_en, c.card_type, \
     c.country, c.expiry_month, c.expiry_year, c.holder_name, c.par, c.is_default, c.created_at, \
     c.updated_at, c.pan_ciphertext IS NOT NULL AS has_pan, \
     t.token_ref, t.token_first6, t.token_last4, t.expiry_month AS t_expiry_month, \
     t.expiry_year AS t_expiry_year, t.status AS t_status, t.suspenders, t.requestor_id, \
     t.device_id, t.created_at AS t_created_at, t.psn, t.atc_high, t.atc_issued, t.imk_range, \
     t.imk_generation, o.sent_to_masked, o.expires_at AS otp_expires_at \
     FROM cards c LEFT JOIN tokens t ON t.card_id = c.id \
     LEFT JOIN otp_challenges o ON o.card_id = c.id";

/// The token columns of `CARD_COLUMNS` (or of a payment token query).
fn token_from_row(row: &impl Columns) -> StoreResult<Option<TokenRecord>> {
    let token_ref: Option<String> = row.col("token_ref")?;
    let Some(token_ref) = token_ref else {
        return Ok(None);
    };
    let suspenders: String = row.col("suspenders")?;
    Ok(Some(TokenRecord {
        token_ref,
        card_id: row.col("id")?,
        token_first6: row.col("token_first6")?,
        token_last4: row.col("token_last4")?,
        expiry_month: small(row.col("t_expiry_month")?)?,
        expiry_year: small(row.col("t_expiry_year")?)?,
        status: row.col("t_status")?,
        suspenders: serde_json::from_str(&suspenders)
            .map_err(|e| StoreError::Corrupt(format!("token suspenders: {e}")))?,
        requestor_id: row.col("requestor_id")?,
        device_id: row.col("device_id")?,
        created_at: row.col("t_created_at")?,
        psn: small(row.col("psn")?)?,
        atc_high: small(row.col("atc_high")?)?,
        atc_issued: small(row.col("atc_issued")?)?,
        imk_range: row.col("imk_range")?,
        imk_generation: small(row.col("imk_generation")?)?,
    }))
}

fn card_from_row(row: &impl Columns) -> StoreResult<CardRecord> {
    let token = token_from_row(row)?;
    Ok(CardRecord {
        id: row.col("id")?,
        user_id: row.col("user_id")?,
        status: row.col("status")?,
        pan_fingerprint: row.col("pan_fingerprint")?,
        first6: row.col("first6")?,
        last4: row.col("last4")?,
        pan_length: small(row.col("pan_length")?)?,
        brand: row.col("brand")?,
        issuer_code: row.col("issuer_code")?,
        issuer_name_zh: row.col("issuer_name_zh")?,
        issuer_name_en: row.col("issuer_name_en")?,
        card_type: row.col("card_type")?,
        country: row.col("country")?,
        expiry_month: row
            .col::<Option<i64>>("expiry_month")?
            .map(small)
            .transpose()?,
        expiry_year: row
            .col::<Option<i64>>("expiry_year")?
            .map(small)
            .transpose()?,
        holder_name: row.col("holder_name")?,
        par: row.col("par")?,
        is_default: row.col::<i64>("is_default")? != 0,
        created_at: row.col("created_at")?,
        updated_at: row.col("updated_at")?,
        has_pan_ciphertext: row.col::<i64>("has_pan")? != 0,
        token,
        otp_sent_to: row.col("sent_to_masked")?,
        otp_expires_at: row.col("otp_expires_at")?,
    })
}

/// Narrows a stored integer to the small type a column holds.
fn small<T: TryFrom<i64>>(value: i64) -> StoreResult<T> {
    T::try_from(value).map_err(|_| StoreError::Corrupt(format!("value {value} out of range")))
}

fn user_from_row(row: &impl Columns) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        id: row.col("id")?,
        phone: row.col("phone")?,
        real_name: row.col("real_name")?,
        real_name_normalized: row.col("real_name_normalized")?,
        id_number_hash: row.col("id_number_hash")?,
        id_number_last4: row.col("id_number_last4")?,
        password_hash: row.col("password_hash")?,
        status: row.col("status")?,
        created_at: row.col("created_at")?,
    })
}

fn attempt_from_row(row: &impl Columns) -> StoreResult<AttemptRecord> {
    Ok(AttemptRecord {
        trace_id: row.col("trace_id")?,
        user_id: row.col("user_id")?,
        card_id: row.col("card_id")?,
        masked_pan: row.col("masked_pan")?,
        first6: row.col("first6")?,
        last4: row.col("last4")?,
        brand: row.col("brand")?,
        issuer_code: row.col("issuer_code")?,
        issuer_name: row.col("issuer_name")?,
        card_type: row.col("card_type")?,
        country: row.col("country")?,
        device: row.col("device")?,
        outcome: row.col("outcome")?,
        error_code: row.col("error_code")?,
        cause: row.col("cause")?,
        error_param: row.col("error_param")?,
        error_reason: row.col("error_reason")?,
        issuer_response: row.col("issuer_response")?,
        latency_ms: row.col("latency_ms")?,
        created_at: row.col("created_at")?,
    })
}

/// Ends a pending card whose OTP challenge has run out, or failed: the card
/// leaves the live set, its token and ciphertexts are destroyed.
fn end_pending_card(
    conn: &rusqlite::Connection,
    card_id: &str,
    status: &str,
    now: i64,
) -> StoreResult<()> {
    exec(
        conn,
        "UPDATE cards SET status = ?, pan_ciphertext = NULL, pan_key_version = NULL, \
         updated_at = ? WHERE id = ?",
        params![status, now, card_id],
    )?;
    exec(
        conn,
        "UPDATE tokens SET status = 'deleted', token_pan_ciphertext = NULL, updated_at = ? \
         WHERE card_id = ?",
        params![now, card_id],
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
fn ensure_default(conn: &rusqlite::Connection, user_id: &str) -> StoreResult<Option<String>> {
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
            params![card_id],
        )?;
    }
    Ok(newest)
}

/// Takes a live card out of the wallet: its status (`unbound`, `closed`),
/// its PAN ciphertext erased, its token deleted, its OTP challenge dropped,
/// and the user's default moved. False when the card was not live.
fn end_card(
    conn: &rusqlite::Connection,
    user_id: &str,
    card_id: &str,
    status: &str,
    now: i64,
) -> StoreResult<bool> {
    let updated = exec(
        conn,
        "UPDATE cards SET status = ?, pan_ciphertext = NULL, pan_key_version = NULL, \
         is_default = 0, unbound_at = ?, updated_at = ? \
         WHERE id = ? AND user_id = ? AND status IN ('active', 'pending_verification')",
        params![status, now, now, card_id, user_id],
    )?;
    if updated == 0 {
        return Ok(false);
    }
    exec(
        conn,
        "UPDATE tokens SET status = 'deleted', suspenders = '[]', token_pan_ciphertext = NULL, \
         updated_at = ? WHERE card_id = ?",
        params![now, card_id],
    )?;
    exec(
        conn,
        "DELETE FROM otp_challenges WHERE card_id = ?",
        params![card_id],
    )?;
    ensure_default(conn, user_id)?;
    Ok(true)
}

fn insert_token_event(conn: &rusqlite::Connection, event: &TokenEvent) -> StoreResult<()> {
    exec(
        conn,
        "INSERT INTO token_events (token_ref, kind, actor, reason, status_after, created_at) \
         VALUES (?, ?, ?, ?, ?, ?)",
        params![
            &event.token_ref,
            &event.kind,
            &event.actor,
            &event.reason,
            &event.status_after,
            event.created_at
        ],
    )?;
    Ok(())
}

fn set_token_expiry(
    conn: &rusqlite::Connection,
    card_id: &str,
    (month, year): (u8, u16),
    now: i64,
) -> StoreResult<()> {
    exec(
        conn,
        "UPDATE tokens SET expiry_month = ?, expiry_year = ?, updated_at = ? WHERE card_id = ?",
        params![i64::from(month), i64::from(year), now, card_id],
    )?;
    Ok(())
}

const PAYMENT_TOKEN_COLUMNS: &str = "c.id, c.user_id, c.status AS card_status, c.issuer_code, \
     c.pan_key_version, c.pan_ciphertext, t.token_ref, t.token_first6, t.token_last4, \
     t.expiry_month AS t_expiry_month, t.expiry_year AS t_expiry_year, t.status AS t_status, \
     t.suspenders, t.requestor_id, t.device_id, t.created_at AS t_created_at, t.psn, \
     t.atc_high, t.atc_issued, t.imk_range, t.imk_generation, t.token_pan_key_version, \
     t.token_pan_ciphertext FROM tokens t JOIN cards c ON c.id = t.card_id";

fn payment_token_from_row(row: &impl Columns) -> StoreResult<Option<PaymentToken>> {
    let Some(token) = token_from_row(row)? else {
        return Ok(None);
    };
    Ok(Some(PaymentToken {
        token,
        user_id: row.col("user_id")?,
        card_status: row.col("card_status")?,
        issuer_code: row.col("issuer_code")?,
        token_pan_key_version: row
            .col::<Option<i64>>("token_pan_key_version")?
            .map(small)
            .transpose()?,
        token_pan_ciphertext: row.col("token_pan_ciphertext")?,
        pan_key_version: row
            .col::<Option<i64>>("pan_key_version")?
            .map(small)
            .transpose()?,
        pan_ciphertext: row.col("pan_ciphertext")?,
    }))
}

fn cryptogram_from_row(row: &impl Columns) -> StoreResult<CryptogramRecord> {
    Ok(CryptogramRecord {
        token_ref: row.col("token_ref")?,
        atc: small(row.col("atc")?)?,
        amount: row.col("amount")?,
        currency: row.col("currency")?,
        merchant_id: row.col("merchant_id")?,
        transaction_date: row.col("transaction_date")?,
        unpredictable_number: row.col("unpredictable_number")?,
        expires_at: row.col("expires_at")?,
        created_at: row.col("created_at")?,
    })
}

fn payment_from_row(row: &impl Columns) -> StoreResult<PaymentRecord> {
    Ok(PaymentRecord {
        id: row.col("id")?,
        user_id: row.col("user_id")?,
        card_id: row.col("card_id")?,
        token_ref: row.col("token_ref")?,
        merchant_key_id: row.col("merchant_key_id")?,
        merchant_id: row.col("merchant_id")?,
        merchant_name: row.col("merchant_name")?,
        channel: row.col("channel")?,
        amount: row.col("amount")?,
        currency: row.col("currency")?,
        atc: row.col::<Option<i64>>("atc")?.map(small).transpose()?,
        cryptogram_result: row.col("cryptogram_result")?,
        status: row.col("status")?,
        error_code: row.col("error_code")?,
        decline_code: row.col("decline_code")?,
        authorization_code: row.col("authorization_code")?,
        trace_id: row.col("trace_id")?,
        created_at: row.col("created_at")?,
    })
}

fn insert_payment(conn: &rusqlite::Connection, payment: &PaymentRecord) -> StoreResult<()> {
    exec(
        conn,
        "INSERT INTO payments (id, user_id, card_id, token_ref, merchant_key_id, merchant_id, \
         merchant_name, channel, amount, currency, atc, cryptogram_result, status, \
         error_code, decline_code, authorization_code, trace_id, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            &payment.id,
            &payment.user_id,
            &payment.card_id,
            &payment.token_ref,
            &payment.merchant_key_id,
            &payment.merchant_id,
            &payment.merchant_name,
            &payment.channel,
            payment.amount,
            &payment.currency,
            payment.atc.map(i64::from),
            &payment.cryptogram_result,
            &payment.status,
            &payment.error_code,
            &payment.decline_code,
            &payment.authorization_code,
            &payment.trace_id,
            payment.created_at
        ],
    )?;
    Ok(())
}

fn suspenders_json(suspenders: &[String]) -> StoreResult<String> {
    serde_json::to_string(suspenders).map_err(|e| StoreError::Other(e.to_string()))
}

/// An issuer's change to one card, in the caller's transaction. Every check
/// runs before anything is written; a refused change leaves nothing behind.
fn apply_issuer_change(
    conn: &rusqlite::Connection,
    change: &IssuerChange,
) -> StoreResult<IssuerApply> {
    let row = row_opt(
        conn,
        "SELECT c.user_id, c.status, c.issuer_event_at, t.token_ref, t.status AS t_status \
         FROM cards c LEFT JOIN tokens t ON t.card_id = c.id WHERE c.id = ?",
        params![&change.card_id],
    )?;
    let Some(row) = row else {
        return Ok(IssuerApply::NotLive);
    };
    let user_id: String = row.col("user_id")?;
    let status: String = row.col("status")?;
    let watermark: Option<i64> = row.col("issuer_event_at")?;
    let token_ref: Option<String> = row.col("token_ref")?;
    let token_status: Option<String> = row.col("t_status")?;
    if !matches!(status.as_str(), "active" | "pending_verification") {
        return Ok(IssuerApply::NotLive);
    }
    if watermark.is_some_and(|at| at > change.occurred_at) {
        return Ok(IssuerApply::Stale);
    }
    let (kind, status_after) = match &change.kind {
        IssuerChangeKind::Replace {
            pan_fingerprint,
            pan_key_version,
            pan_ciphertext,
            first6,
            last4,
            pan_length,
            expiry,
            token_expiry,
        } => {
            let updated = exec(
                conn,
                "UPDATE cards SET pan_fingerprint = ?, pan_key_version = ?, \
                 pan_ciphertext = ?, first6 = ?, last4 = ?, pan_length = ?, \
                 expiry_month = ?, expiry_year = ?, updated_at = ? WHERE id = ?",
                params![
                    pan_fingerprint,
                    i64::from(*pan_key_version),
                    pan_ciphertext,
                    first6,
                    last4,
                    i64::from(*pan_length),
                    expiry.map(|e| i64::from(e.0)),
                    expiry.map(|e| i64::from(e.1)),
                    change.now,
                    &change.card_id
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
            set_token_expiry(conn, &change.card_id, *token_expiry, change.now)?;
            ("card_replaced", token_status.unwrap_or_default())
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
                    change.now,
                    &change.card_id
                ],
            )?;
            set_token_expiry(conn, &change.card_id, *token_expiry, change.now)?;
            ("expiry_updated", token_status.unwrap_or_default())
        }
        IssuerChangeKind::Close => {
            end_card(conn, &user_id, &change.card_id, "closed", change.now)?;
            ("card_closed", "deleted".to_owned())
        }
    };
    exec(
        conn,
        "UPDATE cards SET issuer_event_at = ? WHERE id = ?",
        params![change.occurred_at, &change.card_id],
    )?;
    if let Some(token_ref) = token_ref {
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

fn insert_attempt(conn: &rusqlite::Connection, attempt: &AttemptRecord) -> StoreResult<()> {
    exec(
        conn,
        "INSERT INTO binding_attempts (trace_id, user_id, card_id, masked_pan, first6, last4, \
             brand, issuer_code, issuer_name, card_type, country, device, outcome, error_code, \
             cause, error_param, error_reason, issuer_response, latency_ms, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (trace_id) DO NOTHING",
        params![
            &attempt.trace_id,
            &attempt.user_id,
            &attempt.card_id,
            &attempt.masked_pan,
            &attempt.first6,
            &attempt.last4,
            &attempt.brand,
            &attempt.issuer_code,
            &attempt.issuer_name,
            &attempt.card_type,
            &attempt.country,
            &attempt.device,
            &attempt.outcome,
            &attempt.error_code,
            &attempt.cause,
            &attempt.error_param,
            &attempt.error_reason,
            &attempt.issuer_response,
            attempt.latency_ms,
            attempt.created_at
        ],
    )?;
    Ok(())
}

/// Binds a reserved card: its row, as it is bound, with its token and
/// challenge; the reservation ends. False when the card is not reserved
/// (released, run out, or completed already).
/// Binds a reserved card; None when it is no longer reserved. The card
/// comes back as a read would find it (`seed::bound_card_record`), without
/// reading it.
fn complete_binding(
    conn: &rusqlite::Connection,
    reservations: &Reservations,
    completion: &BindingCompletion,
) -> StoreResult<Option<CardRecord>> {
    let mut held = reservations.lock()?;
    let Some(card) = held.get(&completion.user_id, &completion.card_id) else {
        return Ok(None);
    };
    let inserted = exec(
        conn,
        concat!(
            "INSERT INTO cards (",
            seed::bound_card_columns!(),
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        // Not the default yet: `ensure_default` below decides.
        params_from_iter(seed::bound_card_row(card, completion, false)),
    );
    match inserted {
        Ok(_) => {}
        // The same card went live for this user without passing through
        // this map: another process on the same file (one server per
        // SQLite file is the rule, README "Running several nodes"). The
        // unique index refuses it; the binding ends like a lost
        // reservation, and a retry hears that the card is bound.
        Err(StoreError::Conflict(_)) => {
            held.remove(Some(&completion.user_id), &completion.card_id);
            return Ok(None);
        }
        Err(error) => return Err(error),
    }
    exec(
        conn,
        concat!(
            "INSERT INTO tokens (",
            seed::bound_token_columns!(),
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        params_from_iter(seed::bound_token_row(completion)),
    )
    .map_err(|error| match error {
        // The only unique rule a fresh token can break: its PAN was
        // drawn before. The caller draws another (this job's savepoint
        // is rolled back, so the card stays reserved).
        StoreError::Conflict(_) => StoreError::Conflict("token_pan"),
        other => other,
    })?;
    if let Some(otp) = &completion.otp {
        exec(
            conn,
            "INSERT INTO otp_challenges (card_id, code_hash, sent_to_masked, expires_at, \
                 created_at) VALUES (?, ?, ?, ?, ?)",
            params![
                &completion.card_id,
                &otp.code_hash,
                &otp.sent_to_masked,
                otp.expires_at,
                completion.now
            ],
        )?;
    }
    let made_default = ensure_default(conn, &completion.user_id)?;
    let is_default = made_default.as_deref() == Some(completion.card_id.as_str());
    let bound = seed::bound_card_record(card, completion, is_default);
    // Last, so that a failed step above (a token PAN drawn before) leaves
    // the card reserved for the caller's next try.
    held.remove(Some(&completion.user_id), &completion.card_id);
    Ok(Some(bound))
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StoreResult<()> {
        self.direct
            .read(|conn| scalar_one::<i64>(conn, "SELECT 1", []))?;
        Ok(())
    }

    async fn durability(&self) -> StoreResult<Vec<String>> {
        Ok(self
            .synchronous_levels()
            .await?
            .into_iter()
            .map(|level| format!("synchronous={level}"))
            .collect())
    }

    async fn has_data(&self) -> StoreResult<bool> {
        let found: i64 = self.direct.read(|conn| {
            scalar_one(
                conn,
                "SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM cards)",
                [],
            )
        })?;
        Ok(found != 0)
    }

    async fn create_user(&self, user: &NewUser) -> StoreResult<UserRecord> {
        let user = user.clone();
        self.queue
            .write_direct(move |conn| {
                    let user = &user;

                    let result = exec(conn, "INSERT INTO users (id, phone, real_name, real_name_normalized, id_number_hash, \
             id_number_last4, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
             params![
                 &user.id,
                 &user.phone,
                 &user.real_name,
                 &user.real_name_normalized,
                 &user.id_number_hash,
                 &user.id_number_last4,
                 &user.password_hash,
                 user.created_at,
             ]);
                    match result {
                        Ok(_) => Ok(UserRecord {
                            id: user.id.clone(),
                            phone: user.phone.clone(),
                            real_name: user.real_name.clone(),
                            real_name_normalized: user.real_name_normalized.clone(),
                            id_number_hash: user.id_number_hash.clone(),
                            id_number_last4: user.id_number_last4.clone(),
                            password_hash: user.password_hash.clone(),
                            status: "active".to_owned(),
                            created_at: user.created_at,
                        }),
                        Err(error) => match error {
                            StoreError::Conflict(_) => Err(StoreError::Conflict("phone")),
                            other => Err(other),
                        },
                    }
            })
            .await
    }

    async fn user_by_id(&self, id: &str) -> StoreResult<Option<UserRecord>> {
        self.direct.read(|conn| {
            query_opt(
                conn,
                "SELECT * FROM users WHERE id = ?",
                params![id],
                |row| user_from_row(row),
            )
        })
    }

    async fn user_by_phone(&self, phone: &str) -> StoreResult<Option<UserRecord>> {
        self.direct.read(|conn| {
            query_opt(
                conn,
                "SELECT * FROM users WHERE phone = ?",
                params![phone],
                |row| user_from_row(row),
            )
        })
    }

    async fn record_login_failure(
        &self,
        phone_hash: &str,
        now: i64,
        window_ms: i64,
    ) -> StoreResult<LoginFailures> {
        let phone_hash = phone_hash.to_owned();
        self.queue
            .write_direct(move |conn| {
                    let phone_hash = phone_hash.as_str();

        let row = row_one(conn, "INSERT INTO login_failures (phone_hash, failures, window_started_at) VALUES (?1, 1, ?2) \
             ON CONFLICT (phone_hash) DO UPDATE SET \
               failures = CASE WHEN window_started_at < ?2 - ?3 THEN 1 ELSE failures + 1 END, \
               window_started_at = CASE WHEN window_started_at < ?2 - ?3 THEN ?2 \
                 ELSE window_started_at END \
             RETURNING failures, window_started_at", params![phone_hash, now, window_ms])?;
        Ok(LoginFailures {
            failures: small(row.col("failures")?)?,
            window_started_at: row.col("window_started_at")?,
        })

            })
            .await
    }

    async fn login_failures(&self, phone_hash: &str) -> StoreResult<Option<LoginFailures>> {
        let row = self.direct.read(|conn| {
            row_opt(
                conn,
                "SELECT failures, window_started_at FROM login_failures WHERE phone_hash = ?",
                params![phone_hash],
            )
        })?;
        row.map(|row| {
            Ok(LoginFailures {
                failures: small(row.col("failures")?)?,
                window_started_at: row.col("window_started_at")?,
            })
        })
        .transpose()
    }

    async fn clear_login_failures(&self, phone_hash: &str) -> StoreResult<()> {
        let phone_hash = phone_hash.to_owned();
        self.queue
            .write_direct(move |conn| {
                let phone_hash = phone_hash.as_str();

                exec(
                    conn,
                    "DELETE FROM login_failures WHERE phone_hash = ?",
                    params![phone_hash],
                )?;
                Ok(())
            })
            .await
    }

    async fn create_session(&self, session: &SessionRecord) -> StoreResult<()> {
        let session = session.clone();
        self.queue
            .write_direct(move |conn| {
                    let session = &session;

        exec(conn, "INSERT INTO sessions (token_hash, user_id, expires_at, created_at) VALUES (?, ?, ?, ?)",
        params![
            &session.token_hash,
            &session.user_id,
            session.expires_at,
            session.created_at,
        ])?;
        Ok(())

            })
            .await
    }

    async fn session_user(&self, token_hash: &str, now: i64) -> StoreResult<Option<String>> {
        Ok(self.direct.read(|conn| {
            scalar_opt(
                conn,
                "SELECT s.user_id FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = ? AND s.expires_at > ? AND u.status = 'active'",
                params![token_hash, now],
            )
        })?)
    }

    async fn session_user_record(
        &self,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<Option<UserRecord>> {
        // `session_user`'s query answering the whole user: one read where
        // the default takes two.
        self.direct.read(|conn| {
            query_opt(
                conn,
                "SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.token_hash = ? AND s.expires_at > ? AND u.status = 'active'",
                params![token_hash, now],
                |row| user_from_row(row),
            )
        })
    }

    async fn create_api_key(&self, key: &ApiKeyRecord) -> StoreResult<()> {
        let key = key.clone();
        self.queue
            .write_direct(move |conn| {
                    let key = &key;

                    exec(conn, "INSERT INTO api_keys (id, key_hash, role, label, created_at) VALUES (?, ?, ?, ?, ?)",
                    params![
                        &key.id,
                        &key.key_hash,
                        &key.role,
                        &key.label,
                        key.created_at,
                    ])?;
                    Ok(())
            })
            .await
    }

    async fn api_key(&self, key_hash: &str) -> StoreResult<Option<ApiKeyRecord>> {
        let row = self.direct.read(|conn| {
            row_opt(
                conn,
                "SELECT id, key_hash, role, label, created_at, revoked_at FROM api_keys \
             WHERE key_hash = ?",
                params![key_hash],
            )
        })?;
        row.map(|row| {
            Ok(ApiKeyRecord {
                id: row.col("id")?,
                key_hash: row.col("key_hash")?,
                role: row.col("role")?,
                label: row.col("label")?,
                created_at: row.col("created_at")?,
                revoked_at: row.col("revoked_at")?,
            })
        })
        .transpose()
    }

    async fn reserve_card(&self, card: &NewCard, limit: u32, now: i64) -> StoreResult<Reserve> {
        let card = card.clone();
        let reservations = Arc::clone(&self.reservations);
        self.queue
            .write_direct_settling(move |conn| {
                // The map and the cards table change only on this thread:
                // what this job reads cannot change under it.
                let mut held = reservations.lock()?;
                held.expire(&card.user_id, now);
                let holding = held.of_user(&card.user_id);

                // How many live cards the user holds, and whether any row
                // only looks live: a card whose SMS code has expired, or a
                // reservation row an older Tessera wrote before it stopped.
                let row = row_one(conn, RESERVE_COUNTS, params![&card.user_id, now])?;
                let stale: i64 = row.col("stale")?;
                // A reservation writes nothing, so nothing waits for a
                // commit, unless it cleared stale rows, which changes what
                // readers see.
                let settle = if stale > 0 {
                    Settle::Durable
                } else {
                    Settle::Early
                };
                if stale > 0 {
                    exec(
                        conn,
                        "DELETE FROM cards WHERE user_id = ? AND status = 'binding' \
                         AND reserved_until < ?",
                        params![&card.user_id, now],
                    )?;
                    let expired: Vec<String> = scalar_all(
                        conn,
                        "SELECT c.id FROM cards c JOIN otp_challenges o ON o.card_id = c.id \
                         WHERE c.user_id = ? AND c.status = 'pending_verification' \
                         AND o.expires_at <= ?",
                        params![&card.user_id, now],
                    )?;
                    for card_id in &expired {
                        end_pending_card(conn, card_id, "verification_expired", now)?;
                    }
                }
                if holding
                    .iter()
                    .any(|held| held.pan_fingerprint == card.pan_fingerprint)
                {
                    return Ok((Reserve::InProgress, settle));
                }
                let duplicate: Option<(String, String)> = query_opt(
                    conn,
                    RESERVE_DUPLICATE,
                    params![&card.user_id, &card.pan_fingerprint, now],
                    |row| Ok((row.col("id")?, row.col("status")?)),
                )?;
                if let Some((card_id, status)) = duplicate {
                    if status == "binding" {
                        return Ok((Reserve::InProgress, settle));
                    }
                    return Ok((Reserve::AlreadyBound { card_id, status }, settle));
                }
                let live =
                    row.col::<i64>("live")? + i64::try_from(holding.len()).unwrap_or(i64::MAX);
                if live >= i64::from(limit) {
                    return Ok((
                        Reserve::LimitReached {
                            live_cards: small(live)?,
                        },
                        settle,
                    ));
                }
                held.hold(card);
                Ok((Reserve::Reserved, settle))
            })
            .await
    }

    async fn release_card(&self, card_id: &str) -> StoreResult<()> {
        // Nobody waits on a reservation but the writer, which reads the
        // map under the same lock: no job needed.
        self.reservations.lock()?.remove(None, card_id);
        Ok(())
    }

    async fn complete_binding(&self, completion: &BindingCompletion) -> StoreResult<bool> {
        let completion = completion.clone();
        let reservations = Arc::clone(&self.reservations);
        self.queue
            .write_direct(move |conn| {
                complete_binding(conn, &reservations, &completion).map(|bound| bound.is_some())
            })
            .await
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

    async fn list_cards(&self, user_id: &str) -> StoreResult<Vec<CardRecord>> {
        let sql = format!(
            "SELECT {CARD_COLUMNS} WHERE c.user_id = ? AND c.status <> 'binding' \
             ORDER BY c.created_at DESC, c.id"
        );
        self.direct
            .read(|conn| query_all(conn, &sql, params![user_id], |row| card_from_row(row)))
    }

    async fn card(&self, user_id: &str, card_id: &str) -> StoreResult<Option<CardRecord>> {
        let sql = format!(
            "SELECT {CARD_COLUMNS} WHERE c.user_id = ? AND c.id = ? AND c.status <> 'binding'"
        );
        self.direct.read(|conn| {
            query_opt(conn, &sql, params![user_id, card_id], |row| {
                card_from_row(row)
            })
        })
    }

    async fn set_default_card(&self, user_id: &str, card_id: &str, now: i64) -> StoreResult<bool> {
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
                    params![card_id, now, user_id, card_id],
                )?;
                Ok(true)
            })
            .await
    }

    async fn unbind_card(&self, user_id: &str, card_id: &str, now: i64) -> StoreResult<bool> {
        let user_id = user_id.to_owned();
        let card_id = card_id.to_owned();
        self.queue
            .write_direct(move |conn| {
                let token_ref: Option<String> = scalar_opt(
                    conn,
                    "SELECT token_ref FROM tokens WHERE card_id = ?",
                    params![&card_id],
                )?;
                if !end_card(conn, &user_id, &card_id, "unbound", now)? {
                    return Ok(false);
                }
                if let Some(token_ref) = token_ref {
                    let event = TokenEvent {
                        token_ref,
                        kind: "delete".to_owned(),
                        actor: "cardholder".to_owned(),
                        reason: Some("unbound".to_owned()),
                        status_after: "deleted".to_owned(),
                        created_at: now,
                    };
                    insert_token_event(conn, &event)?;
                }
                Ok(true)
            })
            .await
    }

    async fn otp_challenge(&self, card_id: &str) -> StoreResult<Option<OtpChallenge>> {
        let row = self.direct.read(|conn| {
            row_opt(
                conn,
                "SELECT card_id, code_hash, sent_to_masked, expires_at, failures \
             FROM otp_challenges WHERE card_id = ?",
                params![card_id],
            )
        })?;
        row.map(|row| {
            Ok(OtpChallenge {
                card_id: row.col("card_id")?,
                code_hash: row.col("code_hash")?,
                sent_to_masked: row.col("sent_to_masked")?,
                expires_at: row.col("expires_at")?,
                failures: small(row.col("failures")?)?,
            })
        })
        .transpose()
    }

    async fn record_otp_failure(&self, card_id: &str) -> StoreResult<u32> {
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

    async fn finish_otp(&self, card_id: &str, outcome: OtpOutcome, now: i64) -> StoreResult<bool> {
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
                            params![now, card_id],
                        )?;
                        exec(
                            conn,
                            "UPDATE tokens SET status = 'active', updated_at = ? WHERE card_id = ?",
                            params![now, card_id],
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

    async fn push_sandbox_sms(&self, phone: &str, body: &str, now: i64) -> StoreResult<()> {
        let phone = phone.to_owned();
        let body = body.to_owned();
        self.queue
            .write_direct(move |conn| {
                let phone = phone.as_str();
                let body = body.as_str();

                exec(
                    conn,
                    "INSERT INTO sandbox_sms (phone, body, created_at) VALUES (?, ?, ?)",
                    params![phone, body, now],
                )?;
                Ok(())
            })
            .await
    }

    async fn sandbox_sms(&self, phone: &str, limit: u32) -> StoreResult<Vec<SandboxSms>> {
        let rows = self.direct.read(|conn| {
            row_all(
                conn,
                "SELECT phone, body, created_at FROM sandbox_sms WHERE phone = ? \
             ORDER BY id DESC LIMIT ?",
                params![phone, i64::from(limit)],
            )
        })?;
        rows.iter()
            .map(|row| {
                Ok(SandboxSms {
                    phone: row.col("phone")?,
                    body: row.col("body")?,
                    created_at: row.col("created_at")?,
                })
            })
            .collect()
    }

    async fn record_attempt(&self, attempt: &AttemptRecord) -> StoreResult<()> {
        let attempt = attempt.clone();
        self.queue
            .write_direct(move |conn| insert_attempt(conn, &attempt))
            .await
    }

    async fn attempts(&self, filter: &AttemptFilter) -> StoreResult<Vec<AttemptRecord>> {
        let mut query: QueryBuilder<Sqlite> =
            QueryBuilder::new("SELECT * FROM binding_attempts WHERE 1 = 1");
        if let Some(user_id) = &filter.user_id {
            query.push(" AND user_id = ").push_bind(user_id.clone());
        }
        if let Some(trace_id) = &filter.trace_id {
            query.push(" AND trace_id = ").push_bind(trace_id.clone());
        }
        if let Some(since) = filter.since {
            query.push(" AND created_at >= ").push_bind(since);
        }
        if let Some((created_at, trace_id)) = &filter.before {
            query
                .push(" AND (created_at < ")
                .push_bind(*created_at)
                .push(" OR (created_at = ")
                .push_bind(*created_at)
                .push(" AND trace_id < ")
                .push_bind(trace_id.clone())
                .push("))");
        }
        query
            .push(" ORDER BY created_at DESC, trace_id DESC LIMIT ")
            .push_bind(i64::from(filter.limit.max(1)));
        let rows = query.build().fetch_all(&self.readers).await?;
        rows.iter().map(attempt_from_row).collect()
    }

    async fn attempt_stats(&self, query: &AttemptStatsQuery) -> StoreResult<Vec<AttemptStatsRow>> {
        support::attempt_stats(self, query).await
    }

    async fn raise_incident(
        &self,
        incident: &IncidentRecord,
        evidence_since: i64,
    ) -> StoreResult<Option<Raised>> {
        support::raise_incident(self, incident, evidence_since).await
    }

    async fn incidents(&self, filter: &IncidentFilter) -> StoreResult<Vec<IncidentRecord>> {
        support::incidents(self, filter).await
    }

    async fn resolve_incident(&self, id: &str, now: i64) -> StoreResult<bool> {
        support::resolve_incident(self, id, now).await
    }

    async fn claim_probe(&self, id: &str, now: i64, lease_until: i64) -> StoreResult<bool> {
        support::claim_probe(self, id, now, lease_until).await
    }

    async fn reopen_breaker(&self, id: &str, retry_at: i64, now: i64) -> StoreResult<bool> {
        support::reopen_breaker(self, id, retry_at, now).await
    }

    async fn create_ticket(&self, ticket: &TicketRecord) -> StoreResult<()> {
        support::create_ticket(self, ticket).await
    }

    async fn tickets(&self, filter: &TicketFilter) -> StoreResult<Vec<TicketRecord>> {
        support::tickets(self, filter).await
    }

    async fn idempotency_begin(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: i64,
        stale_after_ms: i64,
    ) -> StoreResult<IdempotencyBegin> {
        let scope = scope.to_owned();
        let key = key.to_owned();
        let fingerprint = fingerprint.to_owned();
        self.queue
            .write_direct(move |conn| {
                    let scope = scope.as_str();
                    let key = key.as_str();
                    let fingerprint = fingerprint.as_str();

        let row = row_opt(conn, "SELECT request_fingerprint, state, response_status, response_body, created_at \
             FROM idempotency_keys WHERE scope = ? AND idem_key = ?", params![scope, key])?;
        let outcome = match row {
            None => {
                exec(conn, "INSERT INTO idempotency_keys (scope, idem_key, request_fingerprint, state, \
                     created_at) VALUES (?, ?, ?, 'in_progress', ?)",
                     params![
                         scope,
                         key,
                         fingerprint,
                         now,
                     ])?;
                IdempotencyBegin::Started
            }
            Some(row) => {
                let stored: String = row.col("request_fingerprint")?;
                let state: String = row.col("state")?;
                let created_at: i64 = row.col("created_at")?;
                if stored != fingerprint {
                    IdempotencyBegin::Conflict
                } else if state == "done" {
                    let status: Option<i64> = row.col("response_status")?;
                    let body: Option<String> = row.col("response_body")?;
                    IdempotencyBegin::Replay {
                        status: small(status.unwrap_or(500))?,
                        body: body.unwrap_or_default(),
                    }
                } else if created_at < now - stale_after_ms {
                    // The first request died mid-way (its node crashed):
                    // this one takes the key over.
                    exec(conn, "UPDATE idempotency_keys SET created_at = ? WHERE scope = ? AND idem_key = ?",
                    params![
                        now,
                        scope,
                        key,
                    ])?;
                    IdempotencyBegin::Started
                } else {
                    IdempotencyBegin::InProgress
                }
            }
        };
        Ok(outcome)

            })
            .await
    }

    async fn idempotency_finish(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> StoreResult<()> {
        let scope = scope.to_owned();
        let key = key.to_owned();
        let body = body.to_owned();
        self.queue
            .write_direct(move |conn| {
                    let scope = scope.as_str();
                    let key = key.as_str();
                    let body = body.as_str();

                    exec(conn, "UPDATE idempotency_keys SET state = 'done', response_status = ?, response_body = ? \
             WHERE scope = ? AND idem_key = ?", params![i64::from(status), body, scope, key])?;
                    Ok(())
            })
            .await
    }

    async fn idempotency_abandon(&self, scope: &str, key: &str) -> StoreResult<()> {
        let scope = scope.to_owned();
        let key = key.to_owned();
        self.queue
            .write_direct(move |conn| {
                    let scope = scope.as_str();
                    let key = key.as_str();

        exec(conn, "DELETE FROM idempotency_keys WHERE scope = ? AND idem_key = ? AND state = 'in_progress'",
        params![
            scope,
            key,
        ])?;
        Ok(())

            })
            .await
    }

    async fn idempotency_purge(&self, before: i64) -> StoreResult<u64> {
        self.queue
            .write_direct(move |conn| {
                let purged = exec(
                    conn,
                    "DELETE FROM idempotency_keys WHERE created_at < ?",
                    params![before],
                )?;
                Ok(purged as u64)
            })
            .await
    }

    async fn payment_token(&self, lookup: TokenLookup<'_>) -> StoreResult<Option<PaymentToken>> {
        let (column, value) = match lookup {
            TokenLookup::Ref(token_ref) => ("t.token_ref", token_ref),
            TokenLookup::PanFingerprint(fingerprint) => ("t.token_pan_fingerprint", fingerprint),
        };
        let sql = format!("SELECT {PAYMENT_TOKEN_COLUMNS} WHERE {column} = ?");
        let row = self
            .direct
            .read(|conn| row_opt(conn, &sql, params![value]))?;
        Ok(match row {
            Some(row) => payment_token_from_row(&row)?,
            None => None,
        })
    }

    async fn reserve_atcs(
        &self,
        token_ref: &str,
        count: u16,
        now: i64,
    ) -> StoreResult<Option<u16>> {
        let token_ref = token_ref.to_owned();
        let count = i64::from(count.max(1));
        let last: Option<i64> = self
            .queue
            .write_direct(move |conn| {
                scalar_opt(
                    conn,
                    "UPDATE tokens SET atc_issued = atc_issued + ?1, updated_at = ?2 \
                         WHERE token_ref = ?3 AND status = 'active' AND atc_issued + ?1 <= 65535 \
                         RETURNING atc_issued",
                    params![count, now, &token_ref],
                )
            })
            .await?;
        last.map(|last| small(last - count + 1)).transpose()
    }

    async fn create_cryptogram(&self, cryptogram: &CryptogramRecord) -> StoreResult<()> {
        let cryptogram = cryptogram.clone();
        self.queue
            .write_direct(move |conn| {
                exec(
                    conn,
                    "INSERT INTO cryptograms (token_ref, atc, amount, currency, merchant_id, \
                         transaction_date, unpredictable_number, expires_at, created_at) \
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    params![
                        &cryptogram.token_ref,
                        i64::from(cryptogram.atc),
                        cryptogram.amount,
                        &cryptogram.currency,
                        &cryptogram.merchant_id,
                        &cryptogram.transaction_date,
                        &cryptogram.unpredictable_number,
                        cryptogram.expires_at,
                        cryptogram.created_at
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn cryptogram(&self, token_ref: &str, atc: u16) -> StoreResult<Option<CryptogramRecord>> {
        self.direct.read(|conn| {
            query_opt(
                conn,
                "SELECT * FROM cryptograms WHERE token_ref = ? AND atc = ?",
                params![token_ref, i64::from(atc)],
                |row| cryptogram_from_row(row),
            )
        })
    }

    async fn claim_atc(&self, claim: &AtcClaim) -> StoreResult<AtcClaimOutcome> {
        // Jobs on the one writer connection run one after another, so the
        // checks below and the insert cannot interleave with another claim;
        // each check runs before anything is written, so a refused claim
        // leaves nothing behind.
        let claim = claim.clone();
        self.queue
            .write_direct(move |conn| {
                let row = row_opt(
                    conn,
                    "SELECT status, atc_high, atc_issued FROM tokens WHERE token_ref = ?",
                    params![&claim.token_ref],
                )?;
                let Some(row) = row else {
                    return Ok(AtcClaimOutcome::TokenNotActive);
                };
                let status: String = row.col("status")?;
                let atc_high: i64 = row.col("atc_high")?;
                let atc_issued: i64 = row.col("atc_issued")?;
                let atc = i64::from(claim.atc);
                if status != "active" {
                    return Ok(AtcClaimOutcome::TokenNotActive);
                }
                if atc == 0 || atc > atc_issued {
                    return Ok(AtcClaimOutcome::NotIssued);
                }
                let used: bool = scalar_one(
                    conn,
                    "SELECT EXISTS (SELECT 1 FROM atc_uses WHERE token_ref = ? AND atc = ?)",
                    params![&claim.token_ref, atc],
                )?;
                if used {
                    return Ok(AtcClaimOutcome::Used);
                }
                if atc + i64::from(claim.window) < atc_high {
                    return Ok(AtcClaimOutcome::BehindWindow);
                }
                exec(
                    conn,
                    "INSERT INTO atc_uses (token_ref, atc, payment_id, created_at) \
                         VALUES (?, ?, ?, ?)",
                    params![
                        &claim.token_ref,
                        atc,
                        &claim.payment.id,
                        claim.payment.created_at
                    ],
                )?;
                exec(
                    conn,
                    "UPDATE tokens SET atc_high = MAX(atc_high, ?) WHERE token_ref = ?",
                    params![atc, &claim.token_ref],
                )?;
                insert_payment(conn, &claim.payment)?;
                Ok(AtcClaimOutcome::Claimed)
            })
            .await
    }

    async fn finish_payment(&self, payment: &PaymentRecord) -> StoreResult<()> {
        let payment = payment.clone();
        self.queue
            .write_direct(move |conn| {
                exec(
                    conn,
                    "UPDATE payments SET status = ?, cryptogram_result = ?, error_code = ?, \
                         decline_code = ?, authorization_code = ? WHERE id = ?",
                    params![
                        &payment.status,
                        &payment.cryptogram_result,
                        &payment.error_code,
                        &payment.decline_code,
                        &payment.authorization_code,
                        &payment.id
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn release_atc(&self, token_ref: &str, atc: u16, payment_id: &str) -> StoreResult<()> {
        let (token_ref, payment_id) = (token_ref.to_owned(), payment_id.to_owned());
        self.queue
            .write_direct(move |conn| {
                exec(
                    conn,
                    "DELETE FROM atc_uses WHERE token_ref = ? AND atc = ? AND payment_id = ?",
                    params![&token_ref, i64::from(atc), &payment_id],
                )?;
                Ok(())
            })
            .await
    }

    async fn record_payment(&self, payment: &PaymentRecord) -> StoreResult<()> {
        let payment = payment.clone();
        self.queue
            .write_direct(move |conn| insert_payment(conn, &payment))
            .await
    }

    async fn payments(&self, filter: &PaymentFilter) -> StoreResult<Vec<PaymentRecord>> {
        let mut query: QueryBuilder<Sqlite> =
            QueryBuilder::new("SELECT * FROM payments WHERE user_id = ");
        query.push_bind(filter.user_id.clone());
        if let Some((created_at, id)) = &filter.before {
            query
                .push(" AND (created_at < ")
                .push_bind(*created_at)
                .push(" OR (created_at = ")
                .push_bind(*created_at)
                .push(" AND id < ")
                .push_bind(id.clone())
                .push("))");
        }
        query
            .push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(filter.limit.max(1)));
        let rows = query.build().fetch_all(&self.readers).await?;
        rows.iter().map(payment_from_row).collect()
    }

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
                        &change.to_status,
                        &to,
                        change.event.created_at,
                        &change.token_ref,
                        &change.from_status,
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
                if !end_card(conn, &user_id, &card_id, "unbound", event.created_at)? {
                    return Ok(false);
                }
                insert_token_event(conn, &event)?;
                Ok(true)
            })
            .await
    }

    async fn token_events(&self, token_ref: &str, limit: u32) -> StoreResult<Vec<TokenEvent>> {
        let rows = self.direct.read(|conn| {
            row_all(
                conn,
                "SELECT * FROM token_events WHERE token_ref = ? ORDER BY id DESC LIMIT ?",
                params![token_ref, i64::from(limit.max(1))],
            )
        })?;
        rows.iter()
            .map(|row| {
                Ok(TokenEvent {
                    token_ref: row.col("token_ref")?,
                    kind: row.col("kind")?,
                    actor: row.col("actor")?,
                    reason: row.col("reason")?,
                    status_after: row.col("status_after")?,
                    created_at: row.col("created_at")?,
                })
            })
            .collect()
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
                        event.occurred_at,
                        &event.body_hash,
                        event.received_at
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
        self.direct
            .read(|conn| query_all(conn, &sql, params![value], |row| card_from_row(row)))
    }

    async fn apply_issuer_change(&self, change: &IssuerChange) -> StoreResult<IssuerApply> {
        let change = change.clone();
        self.queue
            .write_direct(move |conn| apply_issuer_change(conn, &change))
            .await
    }

    async fn unindexed_tokens(&self, limit: u32) -> StoreResult<Vec<UnindexedToken>> {
        // A scan of the whole tokens table (a one-off backfill at start):
        // through sqlx's readers, which copy pages through a small cache,
        // not the mapped readers, where every page it passed would stay
        // resident.
        let rows = sqlx::query(
            "SELECT token_ref, token_pan_key_version, token_pan_ciphertext FROM tokens \
             WHERE (token_pan_fingerprint IS NULL OR imk_range IS NULL) \
             AND token_pan_ciphertext IS NOT NULL LIMIT ?",
        )
        .bind(i64::from(limit.max(1)))
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(UnindexedToken {
                    token_ref: row.col("token_ref")?,
                    key_version: small(row.col("token_pan_key_version")?)?,
                    ciphertext: row.col("token_pan_ciphertext")?,
                })
            })
            .collect()
    }

    async fn index_token(
        &self,
        token_ref: &str,
        fingerprint: &str,
        imk_range: &str,
    ) -> StoreResult<()> {
        let (token_ref, fingerprint, imk_range) = (
            token_ref.to_owned(),
            fingerprint.to_owned(),
            imk_range.to_owned(),
        );
        self.queue
            .write_direct(move |conn| {
                exec(
                    conn,
                    "UPDATE tokens SET token_pan_fingerprint = ?, imk_range = ? \
                         WHERE token_ref = ?",
                    params![&fingerprint, &imk_range, &token_ref],
                )?;
                Ok(())
            })
            .await
    }

    async fn setting(&self, name: &str) -> StoreResult<Option<String>> {
        Ok(self.direct.read(|conn| {
            scalar_opt(
                conn,
                "SELECT value FROM settings WHERE name = ?",
                params![name],
            )
        })?)
    }

    async fn put_setting(&self, name: &str, value: &str, now: i64) -> StoreResult<()> {
        let name = name.to_owned();
        let value = value.to_owned();
        self.queue
            .write_direct(move |conn| {
                    let name = name.as_str();
                    let value = value.as_str();

        exec(conn, "INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
             params![
                 name,
                 value,
                 now,
             ])?;
        Ok(())

            })
            .await
    }

    async fn claim_setting(&self, name: &str, value: &str, now: i64) -> StoreResult<String> {
        let name = name.to_owned();
        let value = value.to_owned();
        self.queue
            .write_direct(move |conn| {
                let name = name.as_str();
                let value = value.as_str();

                exec(
                    conn,
                    "INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?) \
             ON CONFLICT (name) DO NOTHING",
                    params![name, value, now],
                )?;
                scalar_one(
                    conn,
                    "SELECT value FROM settings WHERE name = ?",
                    params![name],
                )
            })
            .await
    }

    async fn delete_setting(&self, name: &str) -> StoreResult<bool> {
        let name = name.to_owned();
        self.queue
            .write_direct(move |conn| {
                let name = name.as_str();

                let result = exec(conn, "DELETE FROM settings WHERE name = ?", params![name])?;
                Ok(result > 0)
            })
            .await
    }

    async fn stored_token_fingerprints(
        &self,
        fingerprints: &[String],
    ) -> StoreResult<HashSet<String>> {
        seed::stored_token_fingerprints(&self.readers, fingerprints).await
    }

    async fn seed_batch(&self, batch: &SeedBatch) -> StoreResult<()> {
        let batch = batch.clone();
        self.queue
            .write_direct(move |conn| seed::insert(conn, &batch))
            .await
    }
}
