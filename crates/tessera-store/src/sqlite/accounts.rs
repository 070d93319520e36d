use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use super::*;
use crate::listings::{self, Dialect};
use crate::operator_rows::*;
use crate::rows::*;
use crate::{Accounts, StoreResult};

/// Counts a sign-in attempt unless the window's count is at the limit
/// (?4); a window over (older than ?2 - ?3) starts afresh at 1.
const CLAIM_LOGIN_ATTEMPT: &str = "INSERT INTO login_failures (phone_hash, failures, window_started_at) \
     VALUES (?1, 1, ?2) \
     ON CONFLICT (phone_hash) DO UPDATE SET \
       failures = CASE WHEN window_started_at < ?2 - ?3 THEN 1 ELSE failures + 1 END, \
       window_started_at = CASE WHEN window_started_at < ?2 - ?3 THEN ?2 \
         ELSE window_started_at END \
     WHERE window_started_at < ?2 - ?3 OR failures < ?4 \
     RETURNING failures, window_started_at";

/// Counts a payment-password check as wrong before it is made (?1 user,
/// ?2 now, ?3 the limit, ?4 the lock's length in ms): a lock past its time
/// starts the count over; the count that reaches the limit sets the lock;
/// no row while locked.
const CLAIM_PAYMENT_PASSWORD_CHECK: &str = "UPDATE payment_passwords SET \
       failures = CASE WHEN locked_until <= ?2 THEN 1 ELSE failures + 1 END, \
       locked_until = CASE \
         WHEN (CASE WHEN locked_until <= ?2 THEN 1 ELSE failures + 1 END) >= ?3 \
           THEN ?2 + ?4 \
         ELSE NULL END \
     WHERE user_id = ?1 AND (locked_until IS NULL OR locked_until <= ?2) \
     RETURNING hash, failures";

#[async_trait]
impl Accounts for SqliteStore {
    async fn create_user(&self, user: &NewUser) -> StoreResult<UserRecord> {
        let user = user.clone();
        self.queue
            .write_direct(move |conn| insert_user(conn, &user).map(|_| user.stored()))
            .await
    }

    async fn user_by_id(&self, id: &UserId) -> StoreResult<Option<UserRecord>> {
        self.readers.read(|conn| {
            query_opt(
                conn,
                "SELECT * FROM users WHERE id = ?",
                params![id.as_str()],
                |row| user_from_row(row),
            )
        })
    }

    async fn user_by_phone(&self, phone: &str) -> StoreResult<Option<UserRecord>> {
        self.readers.read(|conn| {
            query_opt(
                conn,
                "SELECT * FROM users WHERE phone = ?",
                params![phone],
                |row| user_from_row(row),
            )
        })
    }

    async fn find_users(&self, search: &UserSearch, limit: u32) -> StoreResult<Vec<UserRecord>> {
        let listing = listings::users_found(Dialect::Sqlite, search, limit);
        self.readers
            .read(|conn| listed(conn, &listing, |row| user_from_row(row)))
    }

    async fn claim_login_attempt(
        &self,
        phone_hash: &str,
        limit: u32,
        now: DateTime<Utc>,
        window: TimeDelta,
    ) -> StoreResult<AttemptClaim> {
        let phone_hash = phone_hash.to_owned();
        self.queue
            .write_direct(move |conn| {
                // The upsert's WHERE refuses a full window: no row comes back.
                let row = row_opt(
                    conn,
                    CLAIM_LOGIN_ATTEMPT,
                    params![&phone_hash, ms(now), window.num_milliseconds(), limit,],
                )?;
                if let Some(row) = row {
                    return Ok(AttemptClaim::Counted(login_failures_from_row(&row)?));
                }
                let row = row_opt(
                    conn,
                    "SELECT failures, window_started_at FROM login_failures WHERE phone_hash = ?",
                    params![&phone_hash],
                )?;
                let started = row.map(|row| login_failures_from_row(&row)).transpose()?;
                Ok(AttemptClaim::Refused(started.map(|f| f.window_started_at)))
            })
            .await
    }

    async fn give_back_login_attempt(
        &self,
        phone_hash: &str,
        window_started_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let phone_hash = phone_hash.to_owned();
        self.queue
            .write_direct(move |conn| {
                exec(
                    conn,
                    "UPDATE login_failures SET failures = failures - 1 \
                     WHERE phone_hash = ? AND window_started_at = ? AND failures > 0",
                    params![&phone_hash, ms(window_started_at)],
                )?;
                Ok(())
            })
            .await
    }

    async fn login_failures(&self, phone_hash: &str) -> StoreResult<Option<LoginFailures>> {
        let row = self.readers.read(|conn| {
            row_opt(
                conn,
                "SELECT failures, window_started_at FROM login_failures WHERE phone_hash = ?",
                params![phone_hash],
            )
        })?;
        row.map(|row| login_failures_from_row(&row)).transpose()
    }

    async fn birthday_pins(&self, user_id: &UserId) -> StoreResult<Vec<String>> {
        let row = self.readers.read(|conn| {
            row_opt(
                conn,
                "SELECT birthday_pins FROM users WHERE id = ?",
                params![user_id.as_str()],
            )
        })?;
        let stored: Option<String> = match row {
            Some(row) => row.col("birthday_pins")?,
            None => None,
        };
        Ok(birthday_pins_from(stored))
    }

    async fn payment_password_state(
        &self,
        user_id: &UserId,
    ) -> StoreResult<Option<PaymentPasswordState>> {
        let row = self.readers.read(|conn| {
            row_opt(
                conn,
                "SELECT failures, locked_until FROM payment_passwords WHERE user_id = ?",
                params![user_id.as_str()],
            )
        })?;
        row.map(|row| payment_password_state_from_row(&row))
            .transpose()
    }

    async fn set_payment_password(
        &self,
        user_id: &UserId,
        hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (user_id, hash) = (user_id.clone(), hash.to_owned());
        self.queue
            .write_direct(move |conn| {
                exec(
                    conn,
                    "INSERT INTO payment_passwords (user_id, hash, failures, locked_until, updated_at) \
                     VALUES (?1, ?2, 0, NULL, ?3) \
                     ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, failures = 0, \
                       locked_until = NULL, updated_at = excluded.updated_at",
                    params![user_id.as_str(), &hash, ms(now)],
                )?;
                Ok(())
            })
            .await
    }

    async fn claim_payment_password_check(
        &self,
        user_id: &UserId,
        limit: u32,
        now: DateTime<Utc>,
        lock_for: TimeDelta,
    ) -> StoreResult<PaymentPasswordClaim> {
        let user_id = user_id.clone();
        self.queue
            .write_direct(move |conn| {
                let row = row_opt(
                    conn,
                    CLAIM_PAYMENT_PASSWORD_CHECK,
                    params![
                        user_id.as_str(),
                        ms(now),
                        limit,
                        lock_for.num_milliseconds()
                    ],
                )?;
                if let Some(row) = row {
                    return payment_password_claim_from_row(&row);
                }
                let state = row_opt(
                    conn,
                    "SELECT failures, locked_until FROM payment_passwords WHERE user_id = ?",
                    params![user_id.as_str()],
                )?
                .map(|row| payment_password_state_from_row(&row))
                .transpose()?;
                Ok(payment_password_refusal(state, now))
            })
            .await
    }

    async fn payment_password_right(&self, user_id: &UserId) -> StoreResult<()> {
        let user_id = user_id.clone();
        self.queue
            .write_direct(move |conn| {
                exec(
                    conn,
                    "UPDATE payment_passwords SET failures = 0, locked_until = NULL \
                     WHERE user_id = ?",
                    params![user_id.as_str()],
                )?;
                Ok(())
            })
            .await
    }

    async fn create_verification(&self, verification: &VerificationRecord) -> StoreResult<()> {
        let v = verification.clone();
        self.queue
            .write_direct(move |conn| {
                exec(
                    conn,
                    "INSERT INTO verifications (token_hash, user_id, purpose, scope, method, \
                     expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    params![
                        &v.token_hash,
                        v.user_id.as_str(),
                        &v.purpose,
                        &v.scope,
                        &v.method,
                        ms(v.expires_at),
                        ms(v.created_at),
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn use_verification(
        &self,
        token_hash: &str,
        user_id: &UserId,
        purpose: &str,
        scope: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<String>> {
        let (token_hash, user_id) = (token_hash.to_owned(), user_id.clone());
        let (purpose, scope) = (purpose.to_owned(), scope.to_owned());
        self.queue
            .write_direct(move |conn| {
                scalar_opt(
                    conn,
                    "UPDATE verifications SET used_at = ?5 \
                     WHERE token_hash = ?1 AND user_id = ?2 AND purpose = ?3 AND scope = ?4 \
                       AND used_at IS NULL AND expires_at > ?5 RETURNING method",
                    params![&token_hash, user_id.as_str(), &purpose, &scope, ms(now)],
                )
            })
            .await
    }

    async fn give_back_payment_password_check(
        &self,
        user_id: &UserId,
        failures: u32,
    ) -> StoreResult<()> {
        let user_id = user_id.clone();
        self.queue
            .write_direct(move |conn| {
                exec(
                    conn,
                    "UPDATE payment_passwords SET failures = failures - 1, locked_until = NULL \
                     WHERE user_id = ? AND failures = ?",
                    params![user_id.as_str(), failures],
                )?;
                Ok(())
            })
            .await
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
                exec(
                    conn,
                    "INSERT INTO sessions (id, token_hash, user_id, expires_at, created_at, \
                     user_agent) VALUES (?, ?, ?, ?, ?, ?)",
                    params![
                        &session.id,
                        &session.token_hash,
                        session.user_id.as_str(),
                        ms(session.expires_at),
                        ms(session.created_at),
                        &session.user_agent,
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn user_sessions(
        &self,
        user_id: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SessionRecord>> {
        self.readers.read(|conn| {
            query_all(
                conn,
                "SELECT id, token_hash, user_id, expires_at, created_at, user_agent \
                 FROM sessions WHERE user_id = ? AND expires_at > ? \
                 ORDER BY created_at DESC, id DESC",
                params![user_id.as_str(), ms(now)],
                |row| session_from_row(row),
            )
        })
    }

    async fn end_session(&self, token_hash: &str) -> StoreResult<bool> {
        let token_hash = token_hash.to_owned();
        self.queue
            .write_direct(move |conn| {
                let ended = exec(
                    conn,
                    "DELETE FROM sessions WHERE token_hash = ?",
                    params![&token_hash],
                )?;
                Ok(ended > 0)
            })
            .await
    }

    async fn end_user_sessions(&self, user_id: &UserId) -> StoreResult<u64> {
        let user_id = user_id.clone();
        self.queue
            .write_direct(move |conn| {
                let ended = exec(
                    conn,
                    "DELETE FROM sessions WHERE user_id = ?",
                    params![user_id.as_str()],
                )?;
                Ok(u64::try_from(ended).unwrap_or(u64::MAX))
            })
            .await
    }

    async fn session_user_record(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>> {
        // `session_user`'s query answering the whole user: one read where
        // the default takes two.
        self.readers.read(|conn| {
            query_opt(
                conn,
                "SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.token_hash = ? AND s.expires_at > ? AND u.status = 'active'",
                params![token_hash, ms(now)],
                |row| user_from_row(row),
            )
        })
    }

    async fn put_sms_code(&self, code: &SmsCodeRecord) -> StoreResult<()> {
        let code = code.clone();
        self.queue
            .write_direct(move |conn| {
                exec(
                    conn,
                    "INSERT INTO sms_codes (purpose, phone_hash, code_hash, attempts, expires_at, \
                     created_at) VALUES (?1, ?2, ?3, 0, ?4, ?5) \
                     ON CONFLICT (purpose, phone_hash) DO UPDATE SET code_hash = ?3, \
                     attempts = 0, expires_at = ?4, created_at = ?5",
                    params![
                        code.purpose.as_str(),
                        &code.phone_hash,
                        &code.code_hash,
                        ms(code.expires_at),
                        ms(code.created_at),
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn claim_sms_code_attempt(
        &self,
        purpose: SmsCodePurpose,
        phone_hash: &str,
        limit: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<SmsCodeClaim> {
        let phone_hash = phone_hash.to_owned();
        self.queue
            .write_direct(move |conn| {
                let claimed: Option<String> = scalar_opt(
                    conn,
                    "UPDATE sms_codes SET attempts = attempts + 1 \
                     WHERE purpose = ? AND phone_hash = ? AND expires_at > ? AND attempts < ? \
                     RETURNING code_hash",
                    params![purpose.as_str(), &phone_hash, ms(now), limit],
                )?;
                if let Some(code_hash) = claimed {
                    return Ok(SmsCodeClaim::Claimed { code_hash });
                }
                let expires_at: Option<i64> = scalar_opt(
                    conn,
                    "SELECT expires_at FROM sms_codes WHERE purpose = ? AND phone_hash = ?",
                    params![purpose.as_str(), &phone_hash],
                )?;
                Ok(match expires_at {
                    Some(expires_at) if expires_at > ms(now) => SmsCodeClaim::Spent,
                    _ => SmsCodeClaim::Expired,
                })
            })
            .await
    }

    async fn use_sms_code(
        &self,
        purpose: SmsCodePurpose,
        phone_hash: &str,
        code_hash: &str,
    ) -> StoreResult<bool> {
        let (phone_hash, code_hash) = (phone_hash.to_owned(), code_hash.to_owned());
        self.queue
            .write_direct(move |conn| {
                let used = exec(
                    conn,
                    "DELETE FROM sms_codes WHERE purpose = ? AND phone_hash = ? AND code_hash = ?",
                    params![purpose.as_str(), &phone_hash, &code_hash],
                )?;
                Ok(used == 1)
            })
            .await
    }

    async fn reset_password(&self, reset: &PasswordReset) -> StoreResult<Option<u64>> {
        let reset = reset.clone();
        // One writer job: all of it commits, or none.
        self.queue
            .write_direct(move |conn| {
                let used = exec(
                    conn,
                    "DELETE FROM sms_codes WHERE purpose = ? AND phone_hash = ? AND code_hash = ?",
                    params![reset.purpose.as_str(), &reset.phone_hash, &reset.code_hash],
                )?;
                if used == 0 {
                    return Ok(None);
                }
                exec(
                    conn,
                    "UPDATE users SET password_hash = ? WHERE id = ?",
                    params![&reset.password_hash, reset.user_id.as_str()],
                )?;
                let ended = exec(
                    conn,
                    "DELETE FROM sessions WHERE user_id = ?",
                    params![reset.user_id.as_str()],
                )?;
                exec(
                    conn,
                    "DELETE FROM login_failures WHERE phone_hash = ?",
                    params![&reset.sign_in_key],
                )?;
                Ok(Some(u64::try_from(ended).unwrap_or(u64::MAX)))
            })
            .await
    }

    async fn sign_up(&self, sign_up: &SignUp) -> StoreResult<SignUpOutcome> {
        let sign_up = sign_up.clone();
        // One writer job, so nothing runs between the count and the insert;
        // a failed insert (a taken phone) rolls the code back with it.
        self.queue
            .write_direct(move |conn| {
                let user = &sign_up.user;
                let held: i64 = scalar_opt(
                    conn,
                    "SELECT COUNT(*) FROM users WHERE id_number_hash = ?",
                    params![&user.id_number_hash],
                )?
                .unwrap_or(0);
                if held >= i64::from(sign_up.wallets_per_id_number) {
                    return Ok(SignUpOutcome::IdNumberFull);
                }
                let used = exec(
                    conn,
                    "DELETE FROM sms_codes WHERE purpose = ? AND phone_hash = ? AND code_hash = ?",
                    params![
                        SmsCodePurpose::SignUp.as_str(),
                        &sign_up.phone_hash,
                        &sign_up.code_hash
                    ],
                )?;
                if used == 0 {
                    return Ok(SignUpOutcome::CodeUsed);
                }
                insert_user(conn, user)?;
                Ok(SignUpOutcome::Created(Box::new(user.stored())))
            })
            .await
    }

    async fn rehash_password(
        &self,
        user_id: &UserId,
        old_hash: &str,
        new_hash: &str,
    ) -> StoreResult<bool> {
        let (user_id, old_hash, new_hash) =
            (user_id.to_owned(), old_hash.to_owned(), new_hash.to_owned());
        self.queue
            .write_direct(move |conn| {
                let updated = exec(
                    conn,
                    "UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?",
                    params![&new_hash, user_id.as_str(), &old_hash],
                )?;
                Ok(updated == 1)
            })
            .await
    }

    async fn create_api_key(&self, key: &ApiKeyRecord) -> StoreResult<()> {
        let key = key.clone();
        let scope = scope_json(&key.scope)?;
        self.queue
            .write_direct(move |conn| {
                let (version, ciphertext) = match &key.signing_secret {
                    Some((version, blob)) => (Some(i64::from(*version)), Some(blob.as_slice())),
                    None => (None, None),
                };
                exec(
                    conn,
                    "INSERT INTO api_keys (id, key_hash, role, label, holder, scope, \
                     signing_key_version, signing_secret_ciphertext, created_at) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    params![
                        &key.id,
                        &key.key_hash,
                        &key.role,
                        &key.label,
                        &key.holder,
                        &scope,
                        version,
                        ciphertext,
                        ms(key.created_at),
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn api_key(&self, key_hash: &str) -> StoreResult<Option<ApiKeyRecord>> {
        let row = self.readers.read(|conn| {
            row_opt(
                conn,
                &format!("SELECT {API_KEY_COLUMNS} WHERE key_hash = ?"),
                params![key_hash],
            )
        })?;
        row.map(|row| api_key_from_row(&row)).transpose()
    }

    async fn api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>> {
        let rows = self.readers.read(|conn| {
            row_all(
                conn,
                &format!("SELECT {API_KEY_COLUMNS} ORDER BY created_at, id"),
                [],
            )
        })?;
        rows.iter().map(api_key_from_row).collect()
    }

    async fn revoke_api_key(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let id = id.to_owned();
        let revoked: Option<i64> = self
            .queue
            .write_direct(move |conn| {
                scalar_opt(
                    conn,
                    "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? \
                     RETURNING revoked_at",
                    params![ms(now), &id],
                )
            })
            .await?;
        revoked.map(stored_time).transpose()
    }
}

/// Stores a new user (a taken phone is `Conflict(UserPhone)`).
fn insert_user(conn: &rusqlite::Connection, user: &NewUser) -> StoreResult<usize> {
    exec(
        conn,
        "INSERT INTO users (id, phone, real_name, real_name_normalized, \
         id_number_hash, id_number_last4, password_hash, created_at, birthday_pins) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            user.id.as_str(),
            &user.phone,
            &user.real_name,
            &user.real_name_normalized,
            &user.id_number_hash,
            &user.id_number_last4,
            &user.password_hash,
            ms(user.created_at),
            &user.birthday_pins,
        ],
    )
}
