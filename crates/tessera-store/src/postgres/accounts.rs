use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use super::*;
use crate::listings::{self, Dialect};
use crate::operator_rows::*;
use crate::rows::ms;
use crate::rows::*;
use crate::{Accounts, StoreResult};

/// Counts a payment-password check as wrong before it is made ($1 user,
/// $2 now, $3 the limit, $4 the lock's length in ms): a lock past its time
/// starts the count over; the count that reaches the limit sets the lock;
/// no row while locked.
const CLAIM_PAYMENT_PASSWORD_CHECK: &str = "UPDATE payment_passwords SET \
       failures = CASE WHEN locked_until <= $2 THEN 1 ELSE failures + 1 END, \
       locked_until = CASE \
         WHEN (CASE WHEN locked_until <= $2 THEN 1 ELSE failures + 1 END) >= $3 \
           THEN $2 + $4 \
         ELSE NULL END \
     WHERE user_id = $1 AND (locked_until IS NULL OR locked_until <= $2) \
     RETURNING hash, failures";

const USE_VERIFICATION_PG: &str = "UPDATE verifications SET used_at = $5 \
     WHERE token_hash = $1 AND user_id = $2 AND purpose = $3 AND scope = $4 \
       AND used_at IS NULL AND expires_at > $5 RETURNING method";

#[async_trait]
impl Accounts for PgStore {
    async fn create_user(&self, user: &NewUser) -> StoreResult<UserRecord> {
        insert_user(&mut *self.lease().await?, user).await?;
        Ok(user.stored())
    }

    async fn user_by_id(&self, id: &UserId) -> StoreResult<Option<UserRecord>> {
        let mut lease = self.lease().await?;
        let row = sqlx::query("SELECT * FROM users WHERE id = $1")
            .bind(id.as_str())
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

    async fn find_users(&self, search: &UserSearch, limit: u32) -> StoreResult<Vec<UserRecord>> {
        let listing = listings::users_found(Dialect::Postgres, search, limit);
        let mut lease = self.lease().await?;
        let rows = listed(&listing).fetch_all(&mut *lease).await?;
        lease.finish();
        rows.iter().map(user_from_row).collect()
    }

    async fn claim_login_attempt(
        &self,
        phone_hash: &str,
        limit: u32,
        now: DateTime<Utc>,
        window: TimeDelta,
    ) -> StoreResult<AttemptClaim> {
        // One statement: the upsert locks the row, and its WHERE is judged
        // on the newest version, so racing claims on any node each see
        // the others' counts, and a full window returns no row.
        let mut lease = self.lease().await?;
        let row = sqlx::query(
            "INSERT INTO login_failures AS f (phone_hash, failures, window_started_at) \
             VALUES ($1, 1, $2) \
             ON CONFLICT (phone_hash) DO UPDATE SET \
               failures = CASE WHEN f.window_started_at < $2 - $3 THEN 1 \
                 ELSE f.failures + 1 END, \
               window_started_at = CASE WHEN f.window_started_at < $2 - $3 THEN $2 \
                 ELSE f.window_started_at END \
             WHERE f.window_started_at < $2 - $3 OR f.failures < $4 \
             RETURNING failures, window_started_at",
        )
        .bind(phone_hash)
        .bind(ms(now))
        .bind(window.num_milliseconds())
        .bind(i64::from(limit))
        .fetch_optional(&mut *lease)
        .await?;
        if let Some(row) = row {
            lease.finish();
            return Ok(AttemptClaim::Counted(login_failures_from_row(&row)?));
        }
        // Refused; when the window started is for the answer only.
        let started: Option<i64> = sqlx::query_scalar(
            "SELECT window_started_at FROM login_failures WHERE phone_hash = $1",
        )
        .bind(phone_hash)
        .fetch_optional(&mut *lease)
        .await?;
        lease.finish();
        Ok(AttemptClaim::Refused(started.map(stored_time).transpose()?))
    }

    async fn give_back_login_attempt(
        &self,
        phone_hash: &str,
        window_started_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE login_failures SET failures = failures - 1 \
             WHERE phone_hash = $1 AND window_started_at = $2 AND failures > 0",
        )
        .bind(phone_hash)
        .bind(ms(window_started_at))
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(())
    }

    async fn login_failures(&self, phone_hash: &str) -> StoreResult<Option<LoginFailures>> {
        let row = sqlx::query(
            "SELECT failures, window_started_at FROM login_failures WHERE phone_hash = $1",
        )
        .bind(phone_hash)
        .fetch_optional(&mut *self.lease().await?)
        .await?;
        row.map(|row| login_failures_from_row(&row)).transpose()
    }

    async fn birthday_pins(&self, user_id: &UserId) -> StoreResult<Vec<String>> {
        let stored: Option<Option<String>> =
            sqlx::query_scalar("SELECT birthday_pins FROM users WHERE id = $1")
                .bind(user_id.as_str())
                .fetch_optional(&mut *self.lease().await?)
                .await?;
        Ok(birthday_pins_from(stored.flatten()))
    }

    async fn payment_password_state(
        &self,
        user_id: &UserId,
    ) -> StoreResult<Option<PaymentPasswordState>> {
        let mut lease = self.lease().await?;
        let row =
            sqlx::query("SELECT failures, locked_until FROM payment_passwords WHERE user_id = $1")
                .bind(user_id.as_str())
                .fetch_optional(&mut *lease)
                .await?;
        lease.finish();
        row.map(|row| payment_password_state_from_row(&row))
            .transpose()
    }

    async fn set_payment_password(
        &self,
        user_id: &UserId,
        hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut lease = self.lease().await?;
        sqlx::query(
            "INSERT INTO payment_passwords (user_id, hash, failures, locked_until, updated_at) \
             VALUES ($1, $2, 0, NULL, $3) \
             ON CONFLICT (user_id) DO UPDATE SET hash = EXCLUDED.hash, failures = 0, \
               locked_until = NULL, updated_at = EXCLUDED.updated_at",
        )
        .bind(user_id.as_str())
        .bind(hash)
        .bind(ms(now))
        .execute(&mut *lease)
        .await?;
        lease.finish();
        Ok(())
    }

    async fn claim_payment_password_check(
        &self,
        user_id: &UserId,
        limit: u32,
        now: DateTime<Utc>,
        lock_for: TimeDelta,
    ) -> StoreResult<PaymentPasswordClaim> {
        // One statement: the update locks the row and its WHERE is judged
        // on the newest version, so racing checks on any node each see the
        // others' counts, and the one that reaches the limit sets the lock.
        let mut lease = self.lease().await?;
        let row = sqlx::query(CLAIM_PAYMENT_PASSWORD_CHECK)
            .bind(user_id.as_str())
            .bind(ms(now))
            .bind(i64::from(limit))
            .bind(lock_for.num_milliseconds())
            .fetch_optional(&mut *lease)
            .await?;
        if let Some(row) = row {
            lease.finish();
            return payment_password_claim_from_row(&row);
        }
        let state =
            sqlx::query("SELECT failures, locked_until FROM payment_passwords WHERE user_id = $1")
                .bind(user_id.as_str())
                .fetch_optional(&mut *lease)
                .await?
                .map(|row| payment_password_state_from_row(&row))
                .transpose()?;
        lease.finish();
        Ok(payment_password_refusal(state, now))
    }

    async fn payment_password_right(&self, user_id: &UserId) -> StoreResult<()> {
        let mut lease = self.lease().await?;
        sqlx::query(
            "UPDATE payment_passwords SET failures = 0, locked_until = NULL WHERE user_id = $1",
        )
        .bind(user_id.as_str())
        .execute(&mut *lease)
        .await?;
        lease.finish();
        Ok(())
    }

    async fn create_verification(&self, verification: &VerificationRecord) -> StoreResult<()> {
        let mut lease = self.lease().await?;
        sqlx::query(
            "INSERT INTO verifications (token_hash, user_id, purpose, scope, method, \
             expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&verification.token_hash)
        .bind(verification.user_id.as_str())
        .bind(&verification.purpose)
        .bind(&verification.scope)
        .bind(&verification.method)
        .bind(ms(verification.expires_at))
        .bind(ms(verification.created_at))
        .execute(&mut *lease)
        .await?;
        lease.finish();
        Ok(())
    }

    async fn use_verification(
        &self,
        token_hash: &str,
        user_id: &UserId,
        purpose: &str,
        scope: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<String>> {
        let mut lease = self.lease().await?;
        let method: Option<String> = sqlx::query_scalar(USE_VERIFICATION_PG)
            .bind(token_hash)
            .bind(user_id.as_str())
            .bind(purpose)
            .bind(scope)
            .bind(ms(now))
            .fetch_optional(&mut *lease)
            .await?;
        lease.finish();
        Ok(method)
    }

    async fn give_back_payment_password_check(
        &self,
        user_id: &UserId,
        failures: u32,
    ) -> StoreResult<()> {
        let mut lease = self.lease().await?;
        sqlx::query(
            "UPDATE payment_passwords SET failures = failures - 1, locked_until = NULL \
             WHERE user_id = $1 AND failures = $2",
        )
        .bind(user_id.as_str())
        .bind(i64::from(failures))
        .execute(&mut *lease)
        .await?;
        lease.finish();
        Ok(())
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
            "INSERT INTO sessions (id, token_hash, user_id, expires_at, created_at, user_agent) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&session.id)
        .bind(&session.token_hash)
        .bind(session.user_id.as_str())
        .bind(ms(session.expires_at))
        .bind(ms(session.created_at))
        .bind(&session.user_agent)
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(())
    }

    async fn user_sessions(
        &self,
        user_id: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SessionRecord>> {
        let mut lease = self.lease().await?;
        let rows = sqlx::query(
            "SELECT id, token_hash, user_id, expires_at, created_at, user_agent \
             FROM sessions WHERE user_id = $1 AND expires_at > $2 \
             ORDER BY created_at DESC, id COLLATE \"C\" DESC",
        )
        .bind(user_id.as_str())
        .bind(ms(now))
        .fetch_all(&mut *lease)
        .await?;
        lease.finish();
        rows.iter().map(session_from_row).collect()
    }

    async fn end_session(&self, token_hash: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *self.lease().await?)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn end_user_sessions(&self, user_id: &UserId) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id.as_str())
            .execute(&mut *self.lease().await?)
            .await?;
        Ok(done.rows_affected())
    }

    async fn session_user_record(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>> {
        // `session_user`'s query, answering the whole user: one round trip
        // where the default takes two.
        let mut lease = self.lease().await?;
        let row = sqlx::query(
            "SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.status = 'active'",
        )
        .bind(token_hash)
        .bind(ms(now))
        .fetch_optional(&mut *lease)
        .await?;
        lease.finish();
        row.as_ref().map(user_from_row).transpose()
    }

    async fn put_sms_code(&self, code: &SmsCodeRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sms_codes (purpose, phone_hash, code_hash, attempts, expires_at, \
             created_at) VALUES ($1, $2, $3, 0, $4, $5) \
             ON CONFLICT (purpose, phone_hash) DO UPDATE SET code_hash = $3, attempts = 0, \
             expires_at = $4, created_at = $5",
        )
        .bind(code.purpose.as_str())
        .bind(&code.phone_hash)
        .bind(&code.code_hash)
        .bind(ms(code.expires_at))
        .bind(ms(code.created_at))
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(())
    }

    async fn claim_sms_code_attempt(
        &self,
        purpose: SmsCodePurpose,
        phone_hash: &str,
        limit: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<SmsCodeClaim> {
        // One statement: the UPDATE locks the row and re-checks the count
        // on its newest version, so racing claims count once each.
        let mut lease = self.lease().await?;
        let claimed: Option<String> = sqlx::query_scalar(
            "UPDATE sms_codes SET attempts = attempts + 1 \
             WHERE purpose = $1 AND phone_hash = $2 AND expires_at > $3 AND attempts < $4 \
             RETURNING code_hash",
        )
        .bind(purpose.as_str())
        .bind(phone_hash)
        .bind(ms(now))
        .bind(i64::from(limit))
        .fetch_optional(&mut *lease)
        .await?;
        if let Some(code_hash) = claimed {
            lease.finish();
            return Ok(SmsCodeClaim::Claimed { code_hash });
        }
        let expires_at: Option<i64> = sqlx::query_scalar(
            "SELECT expires_at FROM sms_codes WHERE purpose = $1 AND phone_hash = $2",
        )
        .bind(purpose.as_str())
        .bind(phone_hash)
        .fetch_optional(&mut *lease)
        .await?;
        lease.finish();
        Ok(match expires_at {
            Some(expires_at) if expires_at > ms(now) => SmsCodeClaim::Spent,
            _ => SmsCodeClaim::Expired,
        })
    }

    async fn use_sms_code(
        &self,
        purpose: SmsCodePurpose,
        phone_hash: &str,
        code_hash: &str,
    ) -> StoreResult<bool> {
        let mut lease = self.lease().await?;
        let used = sqlx::query(
            "DELETE FROM sms_codes WHERE purpose = $1 AND phone_hash = $2 AND code_hash = $3",
        )
        .bind(purpose.as_str())
        .bind(phone_hash)
        .bind(code_hash)
        .execute(&mut *lease)
        .await?;
        lease.finish();
        Ok(used.rows_affected() == 1)
    }

    async fn reset_password(&self, reset: &PasswordReset) -> StoreResult<Option<u64>> {
        let mut lease = self.lease().await?;
        let mut tx = lease.begin().await?;
        // Using the code up first: of two resets with one code, the second
        // finds nothing here and changes nothing.
        let used = sqlx::query(
            "DELETE FROM sms_codes WHERE purpose = $1 AND phone_hash = $2 AND code_hash = $3",
        )
        .bind(reset.purpose.as_str())
        .bind(&reset.phone_hash)
        .bind(&reset.code_hash)
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(&reset.password_hash)
            .bind(reset.user_id.as_str())
            .execute(&mut *tx)
            .await?;
        let ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(reset.user_id.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM login_failures WHERE phone_hash = $1")
            .bind(&reset.sign_in_key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(ended.rows_affected()))
    }

    async fn sign_up(&self, sign_up: &SignUp) -> StoreResult<SignUpOutcome> {
        let user = &sign_up.user;
        let mut lease = self.lease().await?;
        let mut tx = lease.begin().await?;
        // Sign-ups with one ID number take turns (a lock on its hash, held
        // to the commit), so each counts the wallets the one before made.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(&user.id_number_hash)
            .execute(&mut *tx)
            .await?;
        let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE id_number_hash = $1")
            .bind(&user.id_number_hash)
            .fetch_one(&mut *tx)
            .await?;
        if held >= i64::from(sign_up.wallets_per_id_number) {
            tx.rollback().await?;
            return Ok(SignUpOutcome::IdNumberFull);
        }
        let used = sqlx::query(
            "DELETE FROM sms_codes WHERE purpose = $1 AND phone_hash = $2 AND code_hash = $3",
        )
        .bind(SmsCodePurpose::SignUp.as_str())
        .bind(&sign_up.phone_hash)
        .bind(&sign_up.code_hash)
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(SignUpOutcome::CodeUsed);
        }
        insert_user(&mut tx, user).await?;
        tx.commit().await?;
        Ok(SignUpOutcome::Created(Box::new(user.stored())))
    }

    async fn rehash_password(
        &self,
        user_id: &UserId,
        old_hash: &str,
        new_hash: &str,
    ) -> StoreResult<bool> {
        let updated =
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
                .bind(new_hash)
                .bind(user_id.as_str())
                .bind(old_hash)
                .execute(&mut *self.lease().await?)
                .await?;
        Ok(updated.rows_affected() == 1)
    }

    async fn create_api_key(&self, key: &ApiKeyRecord) -> StoreResult<()> {
        let (version, ciphertext) = match &key.signing_secret {
            Some((version, blob)) => (Some(i64::from(*version)), Some(blob.as_slice())),
            None => (None, None),
        };
        sqlx::query(
            "INSERT INTO api_keys (id, key_hash, role, label, holder, scope, \
             signing_key_version, signing_secret_ciphertext, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&key.id)
        .bind(&key.key_hash)
        .bind(&key.role)
        .bind(&key.label)
        .bind(&key.holder)
        .bind(scope_json(&key.scope)?)
        .bind(version)
        .bind(ciphertext)
        .bind(ms(key.created_at))
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(())
    }

    async fn api_key(&self, key_hash: &str) -> StoreResult<Option<ApiKeyRecord>> {
        let mut lease = self.lease().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {API_KEY_COLUMNS} WHERE key_hash = $1"
        )))
        .bind(key_hash)
        .fetch_optional(&mut *lease)
        .await?;
        lease.finish();
        row.map(|row| api_key_from_row(&row)).transpose()
    }

    async fn api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>> {
        let mut lease = self.lease().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {API_KEY_COLUMNS} ORDER BY created_at, id COLLATE \"C\""
        )))
        .fetch_all(&mut *lease)
        .await?;
        lease.finish();
        rows.iter().map(api_key_from_row).collect()
    }

    async fn revoke_api_key(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let mut lease = self.lease().await?;
        let revoked: Option<Option<i64>> = sqlx::query_scalar(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 \
             RETURNING revoked_at",
        )
        .bind(id)
        .bind(ms(now))
        .fetch_optional(&mut *lease)
        .await?;
        lease.finish();
        revoked.flatten().map(stored_time).transpose()
    }
}

/// Stores a new user (a taken phone is `Conflict(UserPhone)`).
async fn insert_user(conn: &mut sqlx::PgConnection, user: &NewUser) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO users (id, phone, real_name, real_name_normalized, id_number_hash, \
         id_number_last4, password_hash, created_at, birthday_pins) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(user.id.as_str())
    .bind(&user.phone)
    .bind(&user.real_name)
    .bind(&user.real_name_normalized)
    .bind(&user.id_number_hash)
    .bind(&user.id_number_last4)
    .bind(&user.password_hash)
    .bind(ms(user.created_at))
    .bind(&user.birthday_pins)
    .execute(conn)
    .await?;
    Ok(())
}
