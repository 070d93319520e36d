//! PostgreSQL, for more than one node: any number of stateless servers share
//! one database, so every rule that spans requests is kept by the database.
//! Each transaction that changes a user's cards first locks that user's row
//! (`SELECT ... FOR UPDATE`): reservations, completions, unbinds and OTP
//! outcomes of one user take turns across all nodes, as SQLite's single
//! writer makes them take turns in one process. Ties in `ORDER BY` use
//! `COLLATE "C"` so rows come back in SQLite's (byte) order whatever the
//! database's collation.
//!
//! Round trips and WAL flushes are what a binding pays for most: reserving
//! and completing one are PL/pgSQL functions (migrations 4 and 5), one
//! statement each; the completion records the attempt and reads the card
//! back in the same statement, and the reservation does not wait for its
//! flush ("Unflushed commits" below), so a binding waits for one flush. A
//! store call that ends cleanly keeps its connection warm for the next
//! rather than handing it back to the pool (`lease`).

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Postgres, QueryBuilder, Row};

use crate::model::*;
use crate::{Store, StoreError, StoreResult};

mod lease;
mod migrate;
mod seed;
mod support;

use lease::{Lease, PING_IF_IDLE_FOR, Warm};

/// Pool size and timeouts for PostgreSQL.
#[derive(Debug, Clone, Copy)]
pub struct PgOptions {
    /// Connections this node may hold; every node holds its own pool, so
    /// nodes x this must stay under the server's `max_connections`.
    pub max_connections: u32,
    /// How long a request waits for a connection (including connecting)
    /// before it is answered "database unavailable".
    pub acquire_timeout: Duration,
    /// Idle connections are closed after this.
    pub idle_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    warm: Arc<Warm>,
}

/// Whether a database URL names PostgreSQL.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The URL without its password, for logs and error messages.
pub fn describe_url(url: &str) -> String {
    match PgConnectOptions::from_str(url) {
        Ok(options) => format!(
            "postgres://{}@{}:{}/{}",
            options.get_username(),
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or_default()
        ),
        Err(_) => "an unreadable PostgreSQL URL".to_owned(),
    }
}

/// The schema versions this binary applies, in order.
pub fn migration_versions() -> Vec<i64> {
    migrate::versions()
}

impl PgStore {
    /// Connects to `url` and applies the embedded migrations (safely when
    /// several nodes start at once).
    pub async fn connect(url: &str, options: PgOptions) -> StoreResult<PgStore> {
        let connect = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Other(format!("the database URL: {e}")))?
            .application_name("tessera")
            // An acknowledged binding must survive a crash whatever the
            // server's or role's default: the client's setting wins.
            .options([("synchronous_commit", "on")]);
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .min_connections(0)
            .acquire_timeout(options.acquire_timeout)
            .idle_timeout(options.idle_timeout)
            // A connection broken while the database was away is found
            // and replaced here rather than failing a request: the pool
            // reconnects by itself when the database returns. sqlx already
            // pings every connection as it comes back to the pool, so only
            // one that has sat idle since can have broken unseen: pinging
            // every acquire as well cost a round trip per statement (a
            // binding makes nine acquires).
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_IF_IDLE_FOR {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(connect)
            .await?;
        migrate::run(&pool).await?;
        let warm = Warm::new(
            options.max_connections,
            options.acquire_timeout,
            options.idle_timeout,
        );
        Ok(PgStore { pool, warm })
    }

    /// The pool, for tests and tools: the connections this store keeps
    /// warm go back to it first.
    pub fn pool(&self) -> &PgPool {
        self.warm.release_idle();
        &self.pool
    }

    pub async fn close(&self) {
        self.warm.close();
        self.pool.close().await;
    }

    /// A connection for one operation (see `lease`).
    async fn lease(&self) -> StoreResult<Lease> {
        self.warm.lease(&self.pool).await
    }
}

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
fn token_from_row(row: &PgRow) -> StoreResult<Option<TokenRecord>> {
    let token_ref: Option<String> = row.try_get("token_ref")?;
    let Some(token_ref) = token_ref else {
        return Ok(None);
    };
    let suspenders: String = row.try_get("suspenders")?;
    Ok(Some(TokenRecord {
        token_ref,
        card_id: row.try_get("id")?,
        token_first6: row.try_get("token_first6")?,
        token_last4: row.try_get("token_last4")?,
        expiry_month: small(row.try_get("t_expiry_month")?)?,
        expiry_year: small(row.try_get("t_expiry_year")?)?,
        status: row.try_get("t_status")?,
        suspenders: serde_json::from_str(&suspenders)
            .map_err(|e| StoreError::Corrupt(format!("token suspenders: {e}")))?,
        requestor_id: row.try_get("requestor_id")?,
        device_id: row.try_get("device_id")?,
        created_at: row.try_get("t_created_at")?,
        psn: small(row.try_get("psn")?)?,
        atc_high: small(row.try_get("atc_high")?)?,
        atc_issued: small(row.try_get("atc_issued")?)?,
        imk_range: row.try_get("imk_range")?,
        imk_generation: small(row.try_get("imk_generation")?)?,
    }))
}

fn card_from_row(row: &PgRow) -> StoreResult<CardRecord> {
    let token = token_from_row(row)?;
    Ok(CardRecord {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        status: row.try_get("status")?,
        pan_fingerprint: row.try_get("pan_fingerprint")?,
        first6: row.try_get("first6")?,
        last4: row.try_get("last4")?,
        pan_length: small(row.try_get("pan_length")?)?,
        brand: row.try_get("brand")?,
        issuer_code: row.try_get("issuer_code")?,
        issuer_name_zh: row.try_get("issuer_name_zh")?,
        issuer_name_en: row.try_get("issuer_name_en")?,
        card_type: row.try_get("card_type")?,
        country: row.try_get("country")?,
        expiry_month: row
            .try_get::<Option<i64>, _>("expiry_month")?
            .map(small)
            .transpose()?,
        expiry_year: row
            .try_get::<Option<i64>, _>("expiry_year")?
            .map(small)
            .transpose()?,
        holder_name: row.try_get("holder_name")?,
        par: row.try_get("par")?,
        is_default: row.try_get("is_default")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        has_pan_ciphertext: row.try_get("has_pan")?,
        token,
        otp_sent_to: row.try_get("sent_to_masked")?,
        otp_expires_at: row.try_get("otp_expires_at")?,
    })
}

/// Narrows a stored integer to the small type a column holds.
fn small<T: TryFrom<i64>>(value: i64) -> StoreResult<T> {
    T::try_from(value).map_err(|_| StoreError::Corrupt(format!("value {value} out of range")))
}

fn user_from_row(row: &PgRow) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        id: row.try_get("id")?,
        phone: row.try_get("phone")?,
        real_name: row.try_get("real_name")?,
        real_name_normalized: row.try_get("real_name_normalized")?,
        id_number_hash: row.try_get("id_number_hash")?,
        id_number_last4: row.try_get("id_number_last4")?,
        password_hash: row.try_get("password_hash")?,
        status: row.try_get("status")?,
        created_at: row.try_get("created_at")?,
    })
}

fn attempt_from_row(row: &PgRow) -> StoreResult<AttemptRecord> {
    Ok(AttemptRecord {
        trace_id: row.try_get("trace_id")?,
        user_id: row.try_get("user_id")?,
        card_id: row.try_get("card_id")?,
        masked_pan: row.try_get("masked_pan")?,
        first6: row.try_get("first6")?,
        last4: row.try_get("last4")?,
        brand: row.try_get("brand")?,
        issuer_code: row.try_get("issuer_code")?,
        issuer_name: row.try_get("issuer_name")?,
        card_type: row.try_get("card_type")?,
        country: row.try_get("country")?,
        device: row.try_get("device")?,
        outcome: row.try_get("outcome")?,
        error_code: row.try_get("error_code")?,
        cause: row.try_get("cause")?,
        error_param: row.try_get("error_param")?,
        error_reason: row.try_get("error_reason")?,
        issuer_response: row.try_get("issuer_response")?,
        latency_ms: row.try_get("latency_ms")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Locks the user's row for the rest of the transaction, so that changes to
/// one user's cards take turns across every node. A user that does not
/// exist locks nothing (the foreign key refuses their cards).
async fn lock_user(conn: &mut PgConnection, user_id: &str) -> StoreResult<()> {
    sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(())
}

/// Locks the row of the user owning a card; returns that user.
async fn lock_card_owner(conn: &mut PgConnection, card_id: &str) -> StoreResult<Option<String>> {
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
async fn end_pending_card(
    conn: &mut PgConnection,
    card_id: &str,
    status: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE cards SET status = $1, pan_ciphertext = NULL, pan_key_version = NULL, \
         updated_at = $2 WHERE id = $3",
    )
    .bind(status)
    .bind(now)
    .bind(card_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE tokens SET status = 'deleted', token_pan_ciphertext = NULL, updated_at = $1 \
         WHERE card_id = $2",
    )
    .bind(now)
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
async fn ensure_default(conn: &mut PgConnection, user_id: &str) -> StoreResult<()> {
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
async fn end_card(
    conn: &mut PgConnection,
    user_id: &str,
    card_id: &str,
    status: &str,
    now: i64,
) -> StoreResult<bool> {
    let updated = sqlx::query(
        "UPDATE cards SET status = $1, pan_ciphertext = NULL, pan_key_version = NULL, \
         is_default = FALSE, unbound_at = $2, updated_at = $2 \
         WHERE id = $3 AND user_id = $4 AND status IN ('active', 'pending_verification')",
    )
    .bind(status)
    .bind(now)
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
    .bind(now)
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

async fn insert_token_event(conn: &mut PgConnection, event: &TokenEvent) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO token_events (token_ref, kind, actor, reason, status_after, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&event.token_ref)
    .bind(&event.kind)
    .bind(&event.actor)
    .bind(&event.reason)
    .bind(&event.status_after)
    .bind(event.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn set_token_expiry(
    conn: &mut PgConnection,
    card_id: &str,
    (month, year): (u8, u16),
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE tokens SET expiry_month = $1, expiry_year = $2, updated_at = $3 \
         WHERE card_id = $4",
    )
    .bind(i64::from(month))
    .bind(i64::from(year))
    .bind(now)
    .bind(card_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn insert_payment(conn: &mut PgConnection, payment: &PaymentRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO payments (id, user_id, card_id, token_ref, merchant_key_id, merchant_id, \
         merchant_name, channel, amount, currency, atc, cryptogram_result, status, \
         error_code, decline_code, authorization_code, trace_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
    )
    .bind(&payment.id)
    .bind(&payment.user_id)
    .bind(&payment.card_id)
    .bind(&payment.token_ref)
    .bind(&payment.merchant_key_id)
    .bind(&payment.merchant_id)
    .bind(&payment.merchant_name)
    .bind(&payment.channel)
    .bind(payment.amount)
    .bind(&payment.currency)
    .bind(payment.atc.map(i64::from))
    .bind(&payment.cryptogram_result)
    .bind(&payment.status)
    .bind(&payment.error_code)
    .bind(&payment.decline_code)
    .bind(&payment.authorization_code)
    .bind(&payment.trace_id)
    .bind(payment.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

const PAYMENT_TOKEN_COLUMNS: &str = "c.id, c.user_id, c.status AS card_status, c.issuer_code, \
     c.pan_key_version, c.pan_ciphertext, t.token_ref, t.token_first6, t.token_last4, \
     t.expiry_month AS t_expiry_month, t.expiry_year AS t_expiry_year, t.status AS t_status, \
     t.suspenders, t.requestor_id, t.device_id, t.created_at AS t_created_at, t.psn, \
     t.atc_high, t.atc_issued, t.imk_range, t.imk_generation, t.token_pan_key_version, \
     t.token_pan_ciphertext FROM tokens t JOIN cards c ON c.id = t.card_id";

fn payment_token_from_row(row: &PgRow) -> StoreResult<Option<PaymentToken>> {
    let Some(token) = token_from_row(row)? else {
        return Ok(None);
    };
    Ok(Some(PaymentToken {
        token,
        user_id: row.try_get("user_id")?,
        card_status: row.try_get("card_status")?,
        issuer_code: row.try_get("issuer_code")?,
        token_pan_key_version: row
            .try_get::<Option<i64>, _>("token_pan_key_version")?
            .map(small)
            .transpose()?,
        token_pan_ciphertext: row.try_get("token_pan_ciphertext")?,
        pan_key_version: row
            .try_get::<Option<i64>, _>("pan_key_version")?
            .map(small)
            .transpose()?,
        pan_ciphertext: row.try_get("pan_ciphertext")?,
    }))
}

fn cryptogram_from_row(row: &PgRow) -> StoreResult<CryptogramRecord> {
    Ok(CryptogramRecord {
        token_ref: row.try_get("token_ref")?,
        atc: small(row.try_get("atc")?)?,
        amount: row.try_get("amount")?,
        currency: row.try_get("currency")?,
        merchant_id: row.try_get("merchant_id")?,
        transaction_date: row.try_get("transaction_date")?,
        unpredictable_number: row.try_get("unpredictable_number")?,
        expires_at: row.try_get("expires_at")?,
        created_at: row.try_get("created_at")?,
    })
}

fn payment_from_row(row: &PgRow) -> StoreResult<PaymentRecord> {
    Ok(PaymentRecord {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        card_id: row.try_get("card_id")?,
        token_ref: row.try_get("token_ref")?,
        merchant_key_id: row.try_get("merchant_key_id")?,
        merchant_id: row.try_get("merchant_id")?,
        merchant_name: row.try_get("merchant_name")?,
        channel: row.try_get("channel")?,
        amount: row.try_get("amount")?,
        currency: row.try_get("currency")?,
        atc: row
            .try_get::<Option<i64>, _>("atc")?
            .map(small)
            .transpose()?,
        cryptogram_result: row.try_get("cryptogram_result")?,
        status: row.try_get("status")?,
        error_code: row.try_get("error_code")?,
        decline_code: row.try_get("decline_code")?,
        authorization_code: row.try_get("authorization_code")?,
        trace_id: row.try_get("trace_id")?,
        created_at: row.try_get("created_at")?,
    })
}

fn suspenders_json(suspenders: &[String]) -> StoreResult<String> {
    serde_json::to_string(suspenders).map_err(|e| StoreError::Other(e.to_string()))
}

type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

/// Binds a completion as `tessera_complete_binding`'s 23 arguments take it
/// (the first arguments of `tessera_complete_binding_recorded` too).
fn bind_completion<'q>(query: PgQuery<'q>, completion: &BindingCompletion) -> PgQuery<'q> {
    let token = &completion.token;
    let otp = completion.otp.as_ref();
    query
        .bind(&completion.card_id)
        .bind(&completion.user_id)
        .bind(&completion.status)
        .bind(i64::from(completion.pan_key_version))
        .bind(&completion.pan_ciphertext)
        .bind(completion.now)
        .bind(&token.token_ref)
        .bind(i64::from(token.key_version))
        .bind(&token.token_pan_ciphertext)
        .bind(&token.token_first6)
        .bind(&token.token_last4)
        .bind(i64::from(token.expiry_month))
        .bind(i64::from(token.expiry_year))
        .bind(&token.status)
        .bind(&token.requestor_id)
        .bind(&token.device_id)
        .bind(&token.token_pan_fingerprint)
        .bind(i64::from(token.psn))
        .bind(&token.imk_range)
        .bind(i64::from(token.imk_generation))
        .bind(otp.map(|otp| otp.code_hash.as_str()))
        .bind(otp.map(|otp| otp.sent_to_masked.as_str()))
        .bind(otp.map(|otp| otp.expires_at))
}

/// Binds an attempt record's 20 columns, in `binding_attempts`' order.
fn bind_attempt<'q>(query: PgQuery<'q>, attempt: &AttemptRecord) -> PgQuery<'q> {
    query
        .bind(&attempt.trace_id)
        .bind(&attempt.user_id)
        .bind(&attempt.card_id)
        .bind(&attempt.masked_pan)
        .bind(&attempt.first6)
        .bind(&attempt.last4)
        .bind(&attempt.brand)
        .bind(&attempt.issuer_code)
        .bind(&attempt.issuer_name)
        .bind(&attempt.card_type)
        .bind(&attempt.country)
        .bind(&attempt.device)
        .bind(&attempt.outcome)
        .bind(&attempt.error_code)
        .bind(&attempt.cause)
        .bind(&attempt.error_param)
        .bind(&attempt.error_reason)
        .bind(&attempt.issuer_response)
        .bind(attempt.latency_ms)
        .bind(attempt.created_at)
}

/// The only unique rule a fresh binding's completion can break: its token
/// PAN was drawn before. The caller draws another.
fn completion_error(error: sqlx::Error) -> StoreError {
    match StoreError::from(error) {
        StoreError::Conflict(_) => StoreError::Conflict("token_pan"),
        other => other,
    }
}

// Unflushed commits. A binding's reservation (`reserve_card`) and its
// release (`release_card`) commit with `synchronous_commit` off for their own
// transaction only (`set_config(..., true)`: the connection is back to "on"
// after the commit), so they do not wait for their WAL to reach the disk.
// This is safe because neither is ever acknowledged to a client: a
// reservation is an internal lock held while the issuer is asked. PostgreSQL
// makes such a commit visible to every other session at once. If the server
// crashes before its WAL is flushed, the reservation is lost, and the
// binding's completion finds no reserved card and writes nothing
// (`complete_binding*` answer false / None, which the server reports as
// `issuer_unavailable`, retryable); a lost release leaves a reservation that
// frees its slot when it runs out, as a node that crashed mid-binding leaves
// one. (An answer another binding got because of
// a reservation, in progress or card limit reached, is the one it would have
// got had that binding failed.) A completion commits synchronously, and
// its flush carries the WAL up to its own commit record, past the
// reservation's, which came first: every binding acknowledged to a client
// is durable together with the reservation it completed. What reserving did
// along the way (freeing stale reservations, ending expired SMS challenges)
// is redone by the next reservation if a crash loses it. Never use this for
// a write that is acknowledged to a client.
#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> StoreResult<()> {
        let mut lease = self.lease().await?;
        sqlx::query("SELECT 1").execute(&mut *lease).await?;
        lease.finish();
        Ok(())
    }

    async fn durability(&self) -> StoreResult<Vec<String>> {
        let value: String = sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(&mut *self.lease().await?)
            .await?;
        Ok(vec![format!("synchronous_commit={value}")])
    }

    async fn has_data(&self) -> StoreResult<bool> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM cards)",
        )
        .fetch_one(&mut *self.lease().await?)
        .await?)
    }

    async fn create_user(&self, user: &NewUser) -> StoreResult<UserRecord> {
        let result = sqlx::query(
            "INSERT INTO users (id, phone, real_name, real_name_normalized, id_number_hash, \
             id_number_last4, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&user.id)
        .bind(&user.phone)
        .bind(&user.real_name)
        .bind(&user.real_name_normalized)
        .bind(&user.id_number_hash)
        .bind(&user.id_number_last4)
        .bind(&user.password_hash)
        .bind(user.created_at)
        .execute(&mut *self.lease().await?)
        .await;
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
            Err(error) => match StoreError::from(error) {
                StoreError::Conflict(_) => Err(StoreError::Conflict("phone")),
                other => Err(other),
            },
        }
    }

    async fn user_by_id(&self, id: &str) -> StoreResult<Option<UserRecord>> {
        let mut lease = self.lease().await?;
        let row = sqlx::query("SELECT * FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *lease)
            .await?;
        lease.finish();
        row.as_ref().map(user_from_row).transpose()
    }

    async fn user_by_phone(&self, phone: &str) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query("SELECT * FROM users WHERE phone = $1")
            .bind(phone)
            .fetch_optional(&mut *self.lease().await?)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn record_login_failure(
        &self,
        phone_hash: &str,
        now: i64,
        window_ms: i64,
    ) -> StoreResult<LoginFailures> {
        // One statement: concurrent failures on any node each count once.
        let row = sqlx::query(
            "INSERT INTO login_failures AS f (phone_hash, failures, window_started_at) \
             VALUES ($1, 1, $2) \
             ON CONFLICT (phone_hash) DO UPDATE SET \
               failures = CASE WHEN f.window_started_at < $2 - $3 THEN 1 \
                 ELSE f.failures + 1 END, \
               window_started_at = CASE WHEN f.window_started_at < $2 - $3 THEN $2 \
                 ELSE f.window_started_at END \
             RETURNING failures, window_started_at",
        )
        .bind(phone_hash)
        .bind(now)
        .bind(window_ms)
        .fetch_one(&mut *self.lease().await?)
        .await?;
        Ok(LoginFailures {
            failures: small(row.try_get("failures")?)?,
            window_started_at: row.try_get("window_started_at")?,
        })
    }

    async fn login_failures(&self, phone_hash: &str) -> StoreResult<Option<LoginFailures>> {
        let row = sqlx::query(
            "SELECT failures, window_started_at FROM login_failures WHERE phone_hash = $1",
        )
        .bind(phone_hash)
        .fetch_optional(&mut *self.lease().await?)
        .await?;
        row.map(|row| {
            Ok(LoginFailures {
                failures: small(row.try_get("failures")?)?,
                window_started_at: row.try_get("window_started_at")?,
            })
        })
        .transpose()
    }

    async fn clear_login_failures(&self, phone_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_failures WHERE phone_hash = $1")
            .bind(phone_hash)
            .execute(&mut *self.lease().await?)
            .await?;
        Ok(())
    }

    async fn create_session(&self, session: &SessionRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, expires_at, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&session.token_hash)
        .bind(&session.user_id)
        .bind(session.expires_at)
        .bind(session.created_at)
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(())
    }

    async fn session_user(&self, token_hash: &str, now: i64) -> StoreResult<Option<String>> {
        let mut lease = self.lease().await?;
        let user_id = sqlx::query_scalar(
            "SELECT s.user_id FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.status = 'active'",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *lease)
        .await?;
        lease.finish();
        Ok(user_id)
    }

    async fn session_user_record(
        &self,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<Option<UserRecord>> {
        // `session_user`'s query, answering the whole user: one round trip
        // where the default takes two.
        let mut lease = self.lease().await?;
        let row = sqlx::query(
            "SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.status = 'active'",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *lease)
        .await?;
        lease.finish();
        row.as_ref().map(user_from_row).transpose()
    }

    async fn create_api_key(&self, key: &ApiKeyRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO api_keys (id, key_hash, role, label, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&key.id)
        .bind(&key.key_hash)
        .bind(&key.role)
        .bind(&key.label)
        .bind(key.created_at)
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(())
    }

    async fn api_key(&self, key_hash: &str) -> StoreResult<Option<ApiKeyRecord>> {
        let mut lease = self.lease().await?;
        let row = sqlx::query(
            "SELECT id, key_hash, role, label, created_at, revoked_at FROM api_keys \
             WHERE key_hash = $1",
        )
        .bind(key_hash)
        .fetch_optional(&mut *lease)
        .await?;
        lease.finish();
        row.map(|row| {
            Ok(ApiKeyRecord {
                id: row.try_get("id")?,
                key_hash: row.try_get("key_hash")?,
                role: row.try_get("role")?,
                label: row.try_get("label")?,
                created_at: row.try_get("created_at")?,
                revoked_at: row.try_get("revoked_at")?,
            })
        })
        .transpose()
    }

    async fn reserve_card(&self, card: &NewCard, limit: u32, now: i64) -> StoreResult<Reserve> {
        // One round trip and one transaction: the function (migration 4)
        // locks the user's row, frees stale slots, then checks for the
        // duplicate and the limit and reserves, as a client-side
        // transaction of seven statements did.
        //
        // It commits without waiting for its WAL flush: see "Unflushed
        // commits" above `impl Store for PgStore`.
        let mut lease = self.lease().await?;
        let row = sqlx::query(
            "SELECT set_config('synchronous_commit', 'off', true), \
             r_outcome, r_card_id, r_status, r_live_cards FROM tessera_reserve_card(\
             $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
             $19, $20, $21)",
        )
        .bind(&card.id)
        .bind(&card.user_id)
        .bind(card.reserved_until)
        .bind(&card.pan_fingerprint)
        .bind(&card.first6)
        .bind(&card.last4)
        .bind(i64::from(card.pan_length))
        .bind(&card.brand)
        .bind(&card.issuer_code)
        .bind(&card.issuer_name_zh)
        .bind(&card.issuer_name_en)
        .bind(&card.card_type)
        .bind(&card.country)
        .bind(card.expiry_month.map(i64::from))
        .bind(card.expiry_year.map(i64::from))
        .bind(&card.holder_name)
        .bind(&card.par)
        .bind(&card.bank_phone_masked)
        .bind(card.created_at)
        .bind(i64::from(limit))
        .bind(now)
        .fetch_one(&mut *lease)
        .await?;
        lease.finish();
        let outcome: String = row.try_get("r_outcome")?;
        Ok(match outcome.as_str() {
            "reserved" => Reserve::Reserved,
            "in_progress" => Reserve::InProgress,
            "already_bound" => Reserve::AlreadyBound {
                card_id: row.try_get("r_card_id")?,
                status: row.try_get("r_status")?,
            },
            "limit_reached" => Reserve::LimitReached {
                live_cards: small(row.try_get("r_live_cards")?)?,
            },
            other => {
                return Err(StoreError::Corrupt(format!(
                    "tessera_reserve_card answered {other:?}"
                )));
            }
        })
    }

    async fn release_card(&self, card_id: &str) -> StoreResult<()> {
        // Without waiting for the WAL flush ("Unflushed commits" above
        // `impl Store for PgStore`). A data-modifying WITH runs whether or
        // not the query reads it.
        let mut lease = self.lease().await?;
        sqlx::query(
            "WITH released AS (DELETE FROM cards WHERE id = $1 AND status = 'binding') \
             SELECT set_config('synchronous_commit', 'off', true)",
        )
        .bind(card_id)
        .execute(&mut *lease)
        .await?;
        lease.finish();
        Ok(())
    }

    async fn complete_binding(&self, completion: &BindingCompletion) -> StoreResult<bool> {
        // One round trip and one transaction: the function (migration 4)
        // locks the user's row (two completions on two nodes must not both
        // make their card the default), completes the card, stores its
        // token and OTP challenge, and gives the user a default.
        let mut lease = self.lease().await?;
        let row = bind_completion(
            sqlx::query(
                "SELECT tessera_complete_binding($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
                 $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)",
            ),
            completion,
        )
        .fetch_one(&mut *lease)
        .await
        .map_err(completion_error)?;
        lease.finish();
        Ok(row.try_get(0)?)
    }

    async fn complete_binding_recorded(
        &self,
        completion: &BindingCompletion,
        attempt: &AttemptRecord,
    ) -> StoreResult<Option<CardRecord>> {
        // One round trip and one transaction, so one WAL flush: the
        // function (migration 5) completes as `complete_binding` does,
        // records the attempt (a failed record is logged and leaves the
        // binding standing) and reads the card back after its writes.
        let mut lease = self.lease().await?;
        let query = bind_completion(
            sqlx::query(
                "SELECT * FROM tessera_complete_binding_recorded($1, $2, $3, $4, $5, $6, $7, \
                 $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, \
                 $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38, \
                 $39, $40, $41, $42, $43)",
            ),
            completion,
        );
        let row = bind_attempt(query, attempt)
            .fetch_optional(&mut *lease)
            .await
            .map_err(completion_error)?;
        lease.finish();
        row.as_ref().map(card_from_row).transpose()
    }

    async fn list_cards(&self, user_id: &str) -> StoreResult<Vec<CardRecord>> {
        let sql = format!(
            "SELECT {CARD_COLUMNS} WHERE c.user_id = $1 AND c.status <> 'binding' \
             ORDER BY c.created_at DESC, c.id COLLATE \"C\""
        );
        let mut lease = self.lease().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .fetch_all(&mut *lease)
            .await?;
        lease.finish();
        rows.iter().map(card_from_row).collect()
    }

    async fn card(&self, user_id: &str, card_id: &str) -> StoreResult<Option<CardRecord>> {
        let sql = format!(
            "SELECT {CARD_COLUMNS} WHERE c.user_id = $1 AND c.id = $2 AND c.status <> 'binding'"
        );
        let mut lease = self.lease().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(card_id)
            .fetch_optional(&mut *lease)
            .await?;
        lease.finish();
        row.as_ref().map(card_from_row).transpose()
    }

    async fn set_default_card(&self, user_id: &str, card_id: &str, now: i64) -> StoreResult<bool> {
        let mut lease = self.lease().await?;
        let mut tx = lease.begin().await?;
        lock_user(&mut tx, user_id).await?;
        let exists: Option<String> = sqlx::query_scalar(
            "SELECT id FROM cards WHERE id = $1 AND user_id = $2 AND status = 'active'",
        )
        .bind(card_id)
        .bind(user_id)
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
        .bind(card_id)
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn unbind_card(&self, user_id: &str, card_id: &str, now: i64) -> StoreResult<bool> {
        let mut lease = self.lease().await?;
        let mut tx = lease.begin().await?;
        lock_user(&mut tx, user_id).await?;
        let token_ref: Option<String> =
            sqlx::query_scalar("SELECT token_ref FROM tokens WHERE card_id = $1")
                .bind(card_id)
                .fetch_optional(&mut *tx)
                .await?;
        if !end_card(&mut tx, user_id, card_id, "unbound", now).await? {
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
                    status_after: "deleted".to_owned(),
                    created_at: now,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn otp_challenge(&self, card_id: &str) -> StoreResult<Option<OtpChallenge>> {
        let row = sqlx::query(
            "SELECT card_id, code_hash, sent_to_masked, expires_at, failures \
             FROM otp_challenges WHERE card_id = $1",
        )
        .bind(card_id)
        .fetch_optional(&mut *self.lease().await?)
        .await?;
        row.map(|row| {
            Ok(OtpChallenge {
                card_id: row.try_get("card_id")?,
                code_hash: row.try_get("code_hash")?,
                sent_to_masked: row.try_get("sent_to_masked")?,
                expires_at: row.try_get("expires_at")?,
                failures: small(row.try_get("failures")?)?,
            })
        })
        .transpose()
    }

    async fn record_otp_failure(&self, card_id: &str) -> StoreResult<u32> {
        // One atomic statement: wrong codes sent to two nodes at once both
        // count.
        let failures: Option<i64> = sqlx::query_scalar(
            "UPDATE otp_challenges SET failures = failures + 1 WHERE card_id = $1 \
             RETURNING failures",
        )
        .bind(card_id)
        .fetch_optional(&mut *self.lease().await?)
        .await?;
        small(failures.unwrap_or(0))
    }

    async fn finish_otp(&self, card_id: &str, outcome: OtpOutcome, now: i64) -> StoreResult<bool> {
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
        .bind(card_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(user_id) = user_id else {
            tx.rollback().await?;
            return Ok(false);
        };
        match outcome {
            OtpOutcome::Verified => {
                sqlx::query("UPDATE cards SET status = 'active', updated_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(card_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "UPDATE tokens SET status = 'active', updated_at = $1 WHERE card_id = $2",
                )
                .bind(now)
                .bind(card_id)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM otp_challenges WHERE card_id = $1")
                    .bind(card_id)
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

    async fn push_sandbox_sms(&self, phone: &str, body: &str, now: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO sandbox_sms (phone, body, created_at) VALUES ($1, $2, $3)")
            .bind(phone)
            .bind(body)
            .bind(now)
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
        rows.iter()
            .map(|row| {
                Ok(SandboxSms {
                    phone: row.try_get("phone")?,
                    body: row.try_get("body")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    async fn record_attempt(&self, attempt: &AttemptRecord) -> StoreResult<()> {
        let mut lease = self.lease().await?;
        bind_attempt(
            sqlx::query(
                "INSERT INTO binding_attempts (trace_id, user_id, card_id, masked_pan, first6, \
                 last4, brand, issuer_code, issuer_name, card_type, country, device, outcome, \
                 error_code, cause, error_param, error_reason, issuer_response, latency_ms, \
                 created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
                 $17, $18, $19, $20) \
                 ON CONFLICT (trace_id) DO NOTHING",
            ),
            attempt,
        )
        .execute(&mut *lease)
        .await?;
        lease.finish();
        Ok(())
    }

    async fn attempts(&self, filter: &AttemptFilter) -> StoreResult<Vec<AttemptRecord>> {
        let mut query: QueryBuilder<Postgres> =
            QueryBuilder::new("SELECT * FROM binding_attempts WHERE TRUE");
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
                .push(" AND trace_id COLLATE \"C\" < ")
                .push_bind(trace_id.clone())
                .push("))");
        }
        query
            .push(" ORDER BY created_at DESC, trace_id COLLATE \"C\" DESC LIMIT ")
            .push_bind(i64::from(filter.limit.max(1)));
        let rows = query.build().fetch_all(&mut *self.lease().await?).await?;
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
        // The row may vanish between the insert and the select (abandoned
        // or purged by another node): then try again, a few times.
        for _ in 0..3 {
            let mut lease = self.lease().await?;
            let mut tx = lease.begin().await?;
            // Claims the key, or waits for whoever is claiming it right now
            // and then finds their row.
            let inserted = sqlx::query(
                "INSERT INTO idempotency_keys (scope, idem_key, request_fingerprint, state, \
                 created_at) VALUES ($1, $2, $3, 'in_progress', $4) \
                 ON CONFLICT (scope, idem_key) DO NOTHING",
            )
            .bind(scope)
            .bind(key)
            .bind(fingerprint)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 1 {
                tx.commit().await?;
                return Ok(IdempotencyBegin::Started);
            }
            let row = sqlx::query(
                "SELECT request_fingerprint, state, response_status, response_body, created_at \
                 FROM idempotency_keys WHERE scope = $1 AND idem_key = $2 FOR UPDATE",
            )
            .bind(scope)
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                tx.rollback().await?;
                continue;
            };
            let stored: String = row.try_get("request_fingerprint")?;
            let state: String = row.try_get("state")?;
            let created_at: i64 = row.try_get("created_at")?;
            let outcome = if stored != fingerprint {
                IdempotencyBegin::Conflict
            } else if state == "done" {
                let status: Option<i64> = row.try_get("response_status")?;
                let body: Option<String> = row.try_get("response_body")?;
                IdempotencyBegin::Replay {
                    status: small(status.unwrap_or(500))?,
                    body: body.unwrap_or_default(),
                }
            } else if created_at < now - stale_after_ms {
                // The first request died mid-way (its node crashed): this
                // one takes the key over. The row lock lets only one taker
                // through; the next sees the fresh created_at.
                sqlx::query(
                    "UPDATE idempotency_keys SET created_at = $1 WHERE scope = $2 AND idem_key = $3",
                )
                .bind(now)
                .bind(scope)
                .bind(key)
                .execute(&mut *tx)
                .await?;
                IdempotencyBegin::Started
            } else {
                IdempotencyBegin::InProgress
            };
            tx.commit().await?;
            return Ok(outcome);
        }
        // The key keeps being created and dropped under us: someone else is
        // working on it.
        Ok(IdempotencyBegin::InProgress)
    }

    async fn idempotency_finish(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE idempotency_keys SET state = 'done', response_status = $1, \
             response_body = $2 WHERE scope = $3 AND idem_key = $4",
        )
        .bind(i64::from(status))
        .bind(body)
        .bind(scope)
        .bind(key)
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(())
    }

    async fn idempotency_abandon(&self, scope: &str, key: &str) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE scope = $1 AND idem_key = $2 \
             AND state = 'in_progress'",
        )
        .bind(scope)
        .bind(key)
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(())
    }

    async fn idempotency_purge(&self, before: i64) -> StoreResult<u64> {
        let result = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(before)
            .execute(&mut *self.lease().await?)
            .await?;
        Ok(result.rows_affected())
    }

    async fn payment_token(&self, lookup: TokenLookup<'_>) -> StoreResult<Option<PaymentToken>> {
        let (column, value) = match lookup {
            TokenLookup::Ref(token_ref) => ("t.token_ref", token_ref),
            TokenLookup::PanFingerprint(fingerprint) => ("t.token_pan_fingerprint", fingerprint),
        };
        let sql = format!("SELECT {PAYMENT_TOKEN_COLUMNS} WHERE {column} = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(value)
            .fetch_optional(&mut *self.lease().await?)
            .await?;
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
        // One UPDATE: the row lock it takes makes concurrent batches (on any
        // node) take turns, so their ranges never overlap.
        let count = i64::from(count.max(1));
        let last: Option<i64> = sqlx::query_scalar(
            "UPDATE tokens SET atc_issued = atc_issued + $1, updated_at = $2 \
             WHERE token_ref = $3 AND status = 'active' AND atc_issued + $1 <= 65535 \
             RETURNING atc_issued",
        )
        .bind(count)
        .bind(now)
        .bind(token_ref)
        .fetch_optional(&mut *self.lease().await?)
        .await?;
        last.map(|last| small(last - count + 1)).transpose()
    }

    async fn create_cryptogram(&self, cryptogram: &CryptogramRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO cryptograms (token_ref, atc, amount, currency, merchant_id, \
             transaction_date, unpredictable_number, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&cryptogram.token_ref)
        .bind(i64::from(cryptogram.atc))
        .bind(cryptogram.amount)
        .bind(&cryptogram.currency)
        .bind(&cryptogram.merchant_id)
        .bind(&cryptogram.transaction_date)
        .bind(&cryptogram.unpredictable_number)
        .bind(cryptogram.expires_at)
        .bind(cryptogram.created_at)
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(())
    }

    async fn cryptogram(&self, token_ref: &str, atc: u16) -> StoreResult<Option<CryptogramRecord>> {
        let row = sqlx::query("SELECT * FROM cryptograms WHERE token_ref = $1 AND atc = $2")
            .bind(token_ref)
            .bind(i64::from(atc))
            .fetch_optional(&mut *self.lease().await?)
            .await?;
        row.as_ref().map(cryptogram_from_row).transpose()
    }

    async fn claim_atc(&self, claim: &AtcClaim) -> StoreResult<AtcClaimOutcome> {
        let mut lease = self.lease().await?;
        let mut tx = lease.begin().await?;
        // The token's row lock: claims of one token take turns on every
        // node; the primary key of atc_uses is the rule itself.
        let row = sqlx::query(
            "SELECT status, atc_high, atc_issued FROM tokens WHERE token_ref = $1 FOR UPDATE",
        )
        .bind(&claim.token_ref)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(AtcClaimOutcome::TokenNotActive);
        };
        let status: String = row.try_get("status")?;
        let atc_high: i64 = row.try_get("atc_high")?;
        let atc_issued: i64 = row.try_get("atc_issued")?;
        let atc = i64::from(claim.atc);
        let outcome = if status != "active" {
            AtcClaimOutcome::TokenNotActive
        } else if atc == 0 || atc > atc_issued {
            AtcClaimOutcome::NotIssued
        } else {
            let inserted = sqlx::query(
                "INSERT INTO atc_uses (token_ref, atc, payment_id, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (token_ref, atc) DO NOTHING",
            )
            .bind(&claim.token_ref)
            .bind(atc)
            .bind(&claim.payment.id)
            .bind(claim.payment.created_at)
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 0 {
                AtcClaimOutcome::Used
            } else if atc + i64::from(claim.window) < atc_high {
                AtcClaimOutcome::BehindWindow
            } else {
                sqlx::query(
                    "UPDATE tokens SET atc_high = GREATEST(atc_high, $1) WHERE token_ref = $2",
                )
                .bind(atc)
                .bind(&claim.token_ref)
                .execute(&mut *tx)
                .await?;
                insert_payment(&mut tx, &claim.payment).await?;
                AtcClaimOutcome::Claimed
            }
        };
        if outcome == AtcClaimOutcome::Claimed {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(outcome)
    }

    async fn finish_payment(&self, payment: &PaymentRecord) -> StoreResult<()> {
        sqlx::query(
            "UPDATE payments SET status = $1, cryptogram_result = $2, error_code = $3, \
             decline_code = $4, authorization_code = $5 WHERE id = $6",
        )
        .bind(&payment.status)
        .bind(&payment.cryptogram_result)
        .bind(&payment.error_code)
        .bind(&payment.decline_code)
        .bind(&payment.authorization_code)
        .bind(&payment.id)
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(())
    }

    async fn release_atc(&self, token_ref: &str, atc: u16, payment_id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM atc_uses WHERE token_ref = $1 AND atc = $2 AND payment_id = $3")
            .bind(token_ref)
            .bind(i64::from(atc))
            .bind(payment_id)
            .execute(&mut *self.lease().await?)
            .await?;
        Ok(())
    }

    async fn record_payment(&self, payment: &PaymentRecord) -> StoreResult<()> {
        let mut lease = self.lease().await?;
        insert_payment(&mut lease, payment).await
    }

    async fn payments(&self, filter: &PaymentFilter) -> StoreResult<Vec<PaymentRecord>> {
        let mut query: QueryBuilder<Postgres> =
            QueryBuilder::new("SELECT * FROM payments WHERE user_id = ");
        query.push_bind(filter.user_id.clone());
        if let Some((created_at, id)) = &filter.before {
            query
                .push(" AND (created_at < ")
                .push_bind(*created_at)
                .push(" OR (created_at = ")
                .push_bind(*created_at)
                .push(" AND id COLLATE \"C\" < ")
                .push_bind(id.clone())
                .push("))");
        }
        query
            .push(" ORDER BY created_at DESC, id COLLATE \"C\" DESC LIMIT ")
            .push_bind(i64::from(filter.limit.max(1)));
        let rows = query.build().fetch_all(&mut *self.lease().await?).await?;
        rows.iter().map(payment_from_row).collect()
    }

    async fn change_token_state(&self, change: &TokenStateChange) -> StoreResult<bool> {
        let mut lease = self.lease().await?;
        let mut tx = lease.begin().await?;
        // Compare and set: PostgreSQL re-checks the WHERE after waiting on
        // a concurrent change of the row, so a raced change updates nothing.
        let updated = sqlx::query(
            "UPDATE tokens SET status = $1, suspenders = $2, updated_at = $3 \
             WHERE token_ref = $4 AND status = $5 AND suspenders = $6",
        )
        .bind(&change.to_status)
        .bind(suspenders_json(&change.to_suspenders)?)
        .bind(change.event.created_at)
        .bind(&change.token_ref)
        .bind(&change.from_status)
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
        if !end_card(&mut tx, &user_id, &card_id, "unbound", event.created_at).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_token_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn token_events(&self, token_ref: &str, limit: u32) -> StoreResult<Vec<TokenEvent>> {
        let rows = sqlx::query(
            "SELECT * FROM token_events WHERE token_ref = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(token_ref)
        .bind(i64::from(limit.max(1)))
        .fetch_all(&mut *self.lease().await?)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(TokenEvent {
                    token_ref: row.try_get("token_ref")?,
                    kind: row.try_get("kind")?,
                    actor: row.try_get("actor")?,
                    reason: row.try_get("reason")?,
                    status_after: row.try_get("status_after")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
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
        .bind(event.occurred_at)
        .bind(&event.body_hash)
        .bind(event.received_at)
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
        .bind(&change.card_id)
        .fetch_one(&mut *tx)
        .await?;
        let status: String = row.try_get("status")?;
        let watermark: Option<i64> = row.try_get("issuer_event_at")?;
        let token_ref: Option<String> = row.try_get("token_ref")?;
        let token_status: Option<String> = row.try_get("t_status")?;
        if !matches!(status.as_str(), "active" | "pending_verification") {
            tx.rollback().await?;
            return Ok(IssuerApply::NotLive);
        }
        if watermark.is_some_and(|at| at > change.occurred_at) {
            tx.rollback().await?;
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
                let updated = sqlx::query(
                    "UPDATE cards SET pan_fingerprint = $1, pan_key_version = $2, \
                     pan_ciphertext = $3, first6 = $4, last4 = $5, pan_length = $6, \
                     expiry_month = $7, expiry_year = $8, updated_at = $9 WHERE id = $10",
                )
                .bind(pan_fingerprint)
                .bind(i64::from(*pan_key_version))
                .bind(pan_ciphertext)
                .bind(first6)
                .bind(last4)
                .bind(i64::from(*pan_length))
                .bind(expiry.map(|e| i64::from(e.0)))
                .bind(expiry.map(|e| i64::from(e.1)))
                .bind(change.now)
                .bind(&change.card_id)
                .execute(&mut *tx)
                .await;
                if let Err(error) = updated {
                    tx.rollback().await?;
                    return match StoreError::from(error) {
                        StoreError::Conflict(_) => Ok(IssuerApply::Conflict),
                        other => Err(other),
                    };
                }
                set_token_expiry(&mut tx, &change.card_id, *token_expiry, change.now).await?;
                ("card_replaced", token_status.unwrap_or_default())
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
                .bind(change.now)
                .bind(&change.card_id)
                .execute(&mut *tx)
                .await?;
                set_token_expiry(&mut tx, &change.card_id, *token_expiry, change.now).await?;
                ("expiry_updated", token_status.unwrap_or_default())
            }
            IssuerChangeKind::Close => {
                end_card(&mut tx, &user_id, &change.card_id, "closed", change.now).await?;
                ("card_closed", "deleted".to_owned())
            }
        };
        sqlx::query("UPDATE cards SET issuer_event_at = $1 WHERE id = $2")
            .bind(change.occurred_at)
            .bind(&change.card_id)
            .execute(&mut *tx)
            .await?;
        if let Some(token_ref) = token_ref {
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

    async fn unindexed_tokens(&self, limit: u32) -> StoreResult<Vec<UnindexedToken>> {
        let rows = sqlx::query(
            "SELECT token_ref, token_pan_key_version, token_pan_ciphertext FROM tokens \
             WHERE (token_pan_fingerprint IS NULL OR imk_range IS NULL) \
             AND token_pan_ciphertext IS NOT NULL LIMIT $1",
        )
        .bind(i64::from(limit.max(1)))
        .fetch_all(&mut *self.lease().await?)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(UnindexedToken {
                    token_ref: row.try_get("token_ref")?,
                    key_version: small(row.try_get("token_pan_key_version")?)?,
                    ciphertext: row.try_get("token_pan_ciphertext")?,
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
        sqlx::query(
            "UPDATE tokens SET token_pan_fingerprint = $1, imk_range = $2 WHERE token_ref = $3",
        )
        .bind(fingerprint)
        .bind(imk_range)
        .bind(token_ref)
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(())
    }

    async fn setting(&self, name: &str) -> StoreResult<Option<String>> {
        let mut lease = self.lease().await?;
        let value = sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *lease)
            .await?;
        lease.finish();
        Ok(value)
    }

    async fn settings(&self, names: &[&str]) -> StoreResult<Vec<Option<String>>> {
        let mut lease = self.lease().await?;
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT name, value FROM settings WHERE name = ANY($1)")
                .bind(names)
                .fetch_all(&mut *lease)
                .await?;
        lease.finish();
        Ok(names
            .iter()
            .map(|name| {
                rows.iter()
                    .find(|(stored, _)| stored == name)
                    .map(|(_, value)| value.clone())
            })
            .collect())
    }

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
            Some(_) => Some(support::incident_from_row(&row)?),
            None => None,
        };
        Ok(BindingContext {
            settings,
            open_breaker,
        })
    }

    async fn put_setting(&self, name: &str, value: &str, now: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, \
             updated_at = EXCLUDED.updated_at",
        )
        .bind(name)
        .bind(value)
        .bind(now)
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(())
    }

    async fn claim_setting(&self, name: &str, value: &str, now: i64) -> StoreResult<String> {
        sqlx::query(
            "INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(value)
        .bind(now)
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
                .bind(name)
                .fetch_one(&mut *self.lease().await?)
                .await?,
        )
    }

    async fn delete_setting(&self, name: &str) -> StoreResult<bool> {
        let result = sqlx::query("DELETE FROM settings WHERE name = $1")
            .bind(name)
            .execute(&mut *self.lease().await?)
            .await?;
        Ok(result.rows_affected() > 0)
    }

    async fn stored_token_fingerprints(
        &self,
        fingerprints: &[String],
    ) -> StoreResult<HashSet<String>> {
        seed::stored_token_fingerprints(&self.pool, fingerprints).await
    }

    async fn seed_batch(&self, batch: &SeedBatch) -> StoreResult<()> {
        // seed.rs takes its connection from the pool itself; the permit
        // stands for it (see lease.rs).
        let _permit = self.warm.permit().await?;
        seed::insert(&self.pool, batch).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(is_postgres_url("postgres://db/x"));
        assert!(is_postgres_url("postgresql://db/x"));
        assert!(!is_postgres_url("sqlite://x.db"));
        assert_eq!(
            describe_url("postgres://tessera:s3cret@db.internal:6432/wallet?sslmode=require"),
            "postgres://tessera@db.internal:6432/wallet"
        );
        assert!(!describe_url("postgres://u:s3cret@h/d").contains("s3cret"));
    }
}
