//! PostgreSQL, for more than one node: any number of stateless servers share
//! one database, so every rule that spans requests is kept by the database.
//! Each transaction that changes a user's cards first locks that user's row
//! (`SELECT ... FOR UPDATE`): reservations, completions, unbinds and OTP
//! outcomes of one user take turns across all nodes, as SQLite's single
//! writer makes them take turns in one process. Ties in `ORDER BY` use
//! `COLLATE "C"` so rows come back in SQLite's (byte) order whatever the
//! database's collation.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, QueryBuilder, Row};

use crate::model::*;
use crate::{Store, StoreError, StoreResult};

mod migrate;
mod seed;
mod support;

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
            // reconnects by itself when the database returns.
            .test_before_acquire(true)
            .connect_with(connect)
            .await?;
        migrate::run(&pool).await?;
        Ok(PgStore { pool })
    }

    /// The pool, for tests and tools.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

const CARD_COLUMNS: &str = "c.id, c.user_id, c.status, c.pan_fingerprint, c.first6, c.last4, \
     c.pan_length, c.brand, c.issuer_code, c.issuer_name_zh, c.issuer_name_en, c.card_type, \
     c.country, c.expiry_month, c.expiry_year, c.holder_name, c.par, c.is_default, c.created_at, \
     c.updated_at, c.pan_ciphertext IS NOT NULL AS has_pan, \
     t.token_ref, t.token_first6, t.token_last4, t.expiry_month AS t_expiry_month, \
     t.expiry_year AS t_expiry_year, t.status AS t_status, t.suspenders, t.requestor_id, \
     t.device_id, t.created_at AS t_created_at, o.sent_to_masked, o.expires_at AS otp_expires_at \
     FROM cards c LEFT JOIN tokens t ON t.card_id = c.id \
     LEFT JOIN otp_challenges o ON o.card_id = c.id";

fn card_from_row(row: &PgRow) -> StoreResult<CardRecord> {
    let token_ref: Option<String> = row.try_get("token_ref")?;
    let token = match token_ref {
        Some(token_ref) => {
            let suspenders: String = row.try_get("suspenders")?;
            Some(TokenRecord {
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
            })
        }
        None => None,
    };
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

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn durability(&self) -> StoreResult<Vec<String>> {
        let value: String = sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(&self.pool)
            .await?;
        Ok(vec![format!("synchronous_commit={value}")])
    }

    async fn has_data(&self) -> StoreResult<bool> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM cards)",
        )
        .fetch_one(&self.pool)
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
        .execute(&self.pool)
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
        let row = sqlx::query("SELECT * FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn user_by_phone(&self, phone: &str) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query("SELECT * FROM users WHERE phone = $1")
            .bind(phone)
            .fetch_optional(&self.pool)
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
        .fetch_one(&self.pool)
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
        .fetch_optional(&self.pool)
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
            .execute(&self.pool)
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
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session_user(&self, token_hash: &str, now: i64) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT s.user_id FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.status = 'active'",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
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
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn api_key(&self, key_hash: &str) -> StoreResult<Option<ApiKeyRecord>> {
        let row = sqlx::query(
            "SELECT id, key_hash, role, label, created_at, revoked_at FROM api_keys \
             WHERE key_hash = $1",
        )
        .bind(key_hash)
        .fetch_optional(&self.pool)
        .await?;
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
        let mut tx = self.pool.begin().await?;
        // Every reservation of this user, on any node, waits here: the
        // duplicate check and the count below see all earlier ones.
        lock_user(&mut tx, &card.user_id).await?;
        // Reservations left by a crashed node free their slot after a while.
        sqlx::query(
            "DELETE FROM cards WHERE user_id = $1 AND status = 'binding' AND reserved_until < $2",
        )
        .bind(&card.user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let expired: Vec<String> = sqlx::query_scalar(
            "SELECT c.id FROM cards c JOIN otp_challenges o ON o.card_id = c.id \
             WHERE c.user_id = $1 AND c.status = 'pending_verification' AND o.expires_at <= $2",
        )
        .bind(&card.user_id)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        for card_id in &expired {
            end_pending_card(&mut tx, card_id, "verification_expired", now).await?;
        }
        let existing = sqlx::query(
            "SELECT id, status FROM cards WHERE user_id = $1 AND pan_fingerprint = $2 \
             AND status IN ('binding', 'pending_verification', 'active')",
        )
        .bind(&card.user_id)
        .bind(&card.pan_fingerprint)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = existing {
            let status: String = row.try_get("status")?;
            let card_id: String = row.try_get("id")?;
            tx.commit().await?;
            if status == "binding" {
                return Ok(Reserve::InProgress);
            }
            return Ok(Reserve::AlreadyBound { card_id, status });
        }
        let live: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM cards WHERE user_id = $1 \
             AND status IN ('binding', 'pending_verification', 'active')",
        )
        .bind(&card.user_id)
        .fetch_one(&mut *tx)
        .await?;
        if live >= i64::from(limit) {
            tx.commit().await?;
            return Ok(Reserve::LimitReached {
                live_cards: small(live)?,
            });
        }
        sqlx::query(
            "INSERT INTO cards (id, user_id, status, reserved_until, pan_fingerprint, first6, \
             last4, pan_length, brand, issuer_code, issuer_name_zh, issuer_name_en, card_type, \
             country, expiry_month, expiry_year, holder_name, par, bank_phone_masked, \
             created_at, updated_at) \
             VALUES ($1, $2, 'binding', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
             $15, $16, $17, $18, $19, $19)",
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
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Reserve::Reserved)
    }

    async fn release_card(&self, card_id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM cards WHERE id = $1 AND status = 'binding'")
            .bind(card_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn complete_binding(&self, completion: &BindingCompletion) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        // The user's lock keeps two completions (on two nodes) from both
        // making their card the default.
        lock_user(&mut tx, &completion.user_id).await?;
        let updated = sqlx::query(
            "UPDATE cards SET status = $1, pan_key_version = $2, pan_ciphertext = $3, \
             reserved_until = NULL, updated_at = $4 WHERE id = $5 AND status = 'binding'",
        )
        .bind(&completion.status)
        .bind(i64::from(completion.pan_key_version))
        .bind(&completion.pan_ciphertext)
        .bind(completion.now)
        .bind(&completion.card_id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let token = &completion.token;
        sqlx::query(
            "INSERT INTO tokens (token_ref, card_id, token_pan_key_version, token_pan_ciphertext, \
             token_first6, token_last4, expiry_month, expiry_year, status, requestor_id, \
             device_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
        )
        .bind(&token.token_ref)
        .bind(&completion.card_id)
        .bind(i64::from(token.key_version))
        .bind(&token.token_pan_ciphertext)
        .bind(&token.token_first6)
        .bind(&token.token_last4)
        .bind(i64::from(token.expiry_month))
        .bind(i64::from(token.expiry_year))
        .bind(&token.status)
        .bind(&token.requestor_id)
        .bind(&token.device_id)
        .bind(completion.now)
        .execute(&mut *tx)
        .await?;
        if let Some(otp) = &completion.otp {
            sqlx::query(
                "INSERT INTO otp_challenges (card_id, code_hash, sent_to_masked, expires_at, \
                 created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&completion.card_id)
            .bind(&otp.code_hash)
            .bind(&otp.sent_to_masked)
            .bind(otp.expires_at)
            .bind(completion.now)
            .execute(&mut *tx)
            .await?;
        }
        ensure_default(&mut tx, &completion.user_id).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn list_cards(&self, user_id: &str) -> StoreResult<Vec<CardRecord>> {
        let sql = format!(
            "SELECT {CARD_COLUMNS} WHERE c.user_id = $1 AND c.status <> 'binding' \
             ORDER BY c.created_at DESC, c.id COLLATE \"C\""
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(card_from_row).collect()
    }

    async fn card(&self, user_id: &str, card_id: &str) -> StoreResult<Option<CardRecord>> {
        let sql = format!(
            "SELECT {CARD_COLUMNS} WHERE c.user_id = $1 AND c.id = $2 AND c.status <> 'binding'"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(card_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(card_from_row).transpose()
    }

    async fn set_default_card(&self, user_id: &str, card_id: &str, now: i64) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
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
        let mut tx = self.pool.begin().await?;
        lock_user(&mut tx, user_id).await?;
        let updated = sqlx::query(
            "UPDATE cards SET status = 'unbound', pan_ciphertext = NULL, pan_key_version = NULL, \
             is_default = FALSE, unbound_at = $1, updated_at = $1 \
             WHERE id = $2 AND user_id = $3 AND status IN ('active', 'pending_verification')",
        )
        .bind(now)
        .bind(card_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "UPDATE tokens SET status = 'deleted', token_pan_ciphertext = NULL, updated_at = $1 \
             WHERE card_id = $2",
        )
        .bind(now)
        .bind(card_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM otp_challenges WHERE card_id = $1")
            .bind(card_id)
            .execute(&mut *tx)
            .await?;
        ensure_default(&mut tx, user_id).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn otp_challenge(&self, card_id: &str) -> StoreResult<Option<OtpChallenge>> {
        let row = sqlx::query(
            "SELECT card_id, code_hash, sent_to_masked, expires_at, failures \
             FROM otp_challenges WHERE card_id = $1",
        )
        .bind(card_id)
        .fetch_optional(&self.pool)
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
        .fetch_optional(&self.pool)
        .await?;
        small(failures.unwrap_or(0))
    }

    async fn finish_otp(&self, card_id: &str, outcome: OtpOutcome, now: i64) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
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
            .execute(&self.pool)
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
        .fetch_all(&self.pool)
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
        sqlx::query(
            "INSERT INTO binding_attempts (trace_id, user_id, card_id, masked_pan, first6, last4, \
             brand, issuer_code, issuer_name, card_type, country, device, outcome, error_code, \
             cause, error_param, error_reason, issuer_response, latency_ms, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18, $19, $20) \
             ON CONFLICT (trace_id) DO NOTHING",
        )
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
        .execute(&self.pool)
        .await?;
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
        let rows = query.build().fetch_all(&self.pool).await?;
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
            let mut tx = self.pool.begin().await?;
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
        .execute(&self.pool)
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
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn idempotency_purge(&self, before: i64) -> StoreResult<u64> {
        let result = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }

    async fn setting(&self, name: &str) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
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
        .execute(&self.pool)
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
        .execute(&self.pool)
        .await?;
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
                .bind(name)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn delete_setting(&self, name: &str) -> StoreResult<bool> {
        let result = sqlx::query("DELETE FROM settings WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() > 0)
    }

    async fn seed_batch(&self, batch: &SeedBatch) -> StoreResult<()> {
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
