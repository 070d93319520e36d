//! Records read from rows, written once for both backends: each backend
//! selects the same columns by the same names, and `Columns` reads one by
//! name from a rusqlite row (SQLite) or an sqlx row (PostgreSQL). The one
//! difference, a flag stored as 0/1 on SQLite and as a boolean on
//! PostgreSQL, is `Columns::flag`.

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::Row as _;
use sqlx::postgres::PgRow;
use std::sync::LazyLock;

use crate::model::*;
use crate::{StoreError, StoreResult};

/// A value a column holds, readable from both drivers' rows.
pub(crate) trait Column:
    rusqlite::types::FromSql + for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>
{
}

impl<T> Column for T where
    T: rusqlite::types::FromSql
        + for<'r> sqlx::Decode<'r, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>
{
}

/// A result row of either backend, read by column name.
pub(crate) trait Columns {
    fn col<T: Column>(&self, name: &str) -> StoreResult<T>;
    /// A yes/no column.
    fn flag(&self, name: &str) -> StoreResult<bool>;

    /// A column holding a record id (`UserId`, `CardId`, `PaymentId`).
    fn id<T: From<String>>(&self, name: &str) -> StoreResult<T> {
        Ok(T::from(self.col::<String>(name)?))
    }

    /// A time, stored as Unix milliseconds.
    fn time(&self, name: &str) -> StoreResult<DateTime<Utc>> {
        stored_time(self.col(name)?)
    }

    fn opt_time(&self, name: &str) -> StoreResult<Option<DateTime<Utc>>> {
        self.col::<Option<i64>>(name)?.map(stored_time).transpose()
    }

    /// A column holding one of a core enum's names, or NULL.
    fn opt_word<T: Word>(&self, name: &str) -> StoreResult<Option<T>> {
        let text: Option<String> = self.col(name)?;
        text.map(|text| {
            T::from_word(&text)
                .ok_or_else(|| StoreError::Corrupt(format!("{name}: unknown value {text:?}")))
        })
        .transpose()
    }

    /// A column holding one of a core enum's names.
    fn word<T: Word>(&self, name: &str) -> StoreResult<T> {
        let text: String = self.col(name)?;
        T::from_word(&text)
            .ok_or_else(|| StoreError::Corrupt(format!("{name}: unknown value {text:?}")))
    }
}

/// A core enum the store keeps as its name.
pub(crate) trait Word: Sized {
    fn from_word(word: &str) -> Option<Self>;
}

impl Word for Brand {
    fn from_word(word: &str) -> Option<Self> {
        Some(Brand::parse(word))
    }
}

impl Word for CardType {
    fn from_word(word: &str) -> Option<Self> {
        CardType::parse(word)
    }
}

impl Word for CardStatus {
    fn from_word(word: &str) -> Option<Self> {
        CardStatus::parse(word)
    }
}

impl Word for TokenStatus {
    fn from_word(word: &str) -> Option<Self> {
        TokenStatus::parse(word)
    }
}

impl Word for PaymentStatus {
    fn from_word(word: &str) -> Option<Self> {
        PaymentStatus::parse(word)
    }
}

impl Word for RefundStatus {
    fn from_word(word: &str) -> Option<Self> {
        RefundStatus::parse(word)
    }
}

impl Word for TransferStatus {
    fn from_word(word: &str) -> Option<Self> {
        TransferStatus::parse(word)
    }
}

impl Word for Channel {
    fn from_word(word: &str) -> Option<Self> {
        Channel::parse(word)
    }
}

impl Word for AttemptOutcome {
    fn from_word(word: &str) -> Option<Self> {
        AttemptOutcome::parse(word)
    }
}

impl Columns for PgRow {
    fn col<T: Column>(&self, name: &str) -> StoreResult<T> {
        Ok(self.try_get(name)?)
    }

    fn flag(&self, name: &str) -> StoreResult<bool> {
        Ok(self.try_get(name)?)
    }
}

pub(crate) const CARD_COLUMNS: &str = "c.id, c.user_id, c.status, c.pan_fingerprint, c.first6, c.last4, \
     c.pan_length, c.brand, c.issuer_code, c.issuer_name_zh, c.issuer_name_en, c.card_type, \
     c.country, c.expiry_month, c.expiry_year, c.holder_name, c.par, c.is_default, c.created_at, \
     c.updated_at, c.pan_ciphertext IS NOT NULL AS has_pan, \
     t.token_ref, t.token_first6, t.token_last4, t.expiry_month AS t_expiry_month, \
     t.expiry_year AS t_expiry_year, t.status AS t_status, t.suspenders, t.requestor_id, \
     t.device_id, t.created_at AS t_created_at, t.psn, t.atc_high, t.atc_issued, t.imk_range, \
     t.imk_generation, o.sent_to_masked, o.expires_at AS otp_expires_at, c.reissued_at \
     FROM cards c LEFT JOIN tokens t ON t.card_id = c.id \
     LEFT JOIN otp_challenges o ON o.card_id = c.id";

/// The token columns of `CARD_COLUMNS` (or of a payment token query), of
/// the card `card_id`. They are read in the order the queries list them:
/// SQLite finds a column by name fastest that way (`sqlite/statements.rs`).
pub(crate) fn token_from_row(
    row: &impl Columns,
    card_id: CardId,
) -> StoreResult<Option<TokenRecord>> {
    let token_ref: Option<String> = row.col("token_ref")?;
    let Some(token_ref) = token_ref else {
        return Ok(None);
    };
    let token_first6 = row.col("token_first6")?;
    let token_last4 = row.col("token_last4")?;
    let expiry_month = small(row.col("t_expiry_month")?)?;
    let expiry_year = small(row.col("t_expiry_year")?)?;
    let status = row.word("t_status")?;
    let suspenders: String = row.col("suspenders")?;
    Ok(Some(TokenRecord {
        token_ref,
        card_id,
        token_first6,
        token_last4,
        expiry_month,
        expiry_year,
        status,
        suspenders: serde_json::from_str(&suspenders)
            .map_err(|e| StoreError::Corrupt(format!("token suspenders: {e}")))?,
        requestor_id: row.col("requestor_id")?,
        device_id: row.col("device_id")?,
        created_at: row.time("t_created_at")?,
        psn: small(row.col("psn")?)?,
        atc_high: small(row.col("atc_high")?)?,
        atc_issued: small(row.col("atc_issued")?)?,
        imk_range: row.col("imk_range")?,
        imk_generation: small(row.col("imk_generation")?)?,
    }))
}

pub(crate) fn card_from_row(row: &impl Columns) -> StoreResult<CardRecord> {
    // Field by field in `CARD_COLUMNS`' order, the token's after the card's.
    let id: CardId = row.id("id")?;
    let user_id = row.id("user_id")?;
    let status = row.word("status")?;
    let pan_fingerprint = row.col("pan_fingerprint")?;
    let first6 = row.col("first6")?;
    let last4 = row.col("last4")?;
    let pan_length = small(row.col("pan_length")?)?;
    let brand = row.word("brand")?;
    let issuer_code = row.col("issuer_code")?;
    let issuer_name_zh = row.col("issuer_name_zh")?;
    let issuer_name_en = row.col("issuer_name_en")?;
    let card_type = row.opt_word("card_type")?;
    let country = row.col("country")?;
    let expiry_month = opt_small(row.col("expiry_month")?)?;
    let expiry_year = opt_small(row.col("expiry_year")?)?;
    let holder_name = row.col("holder_name")?;
    let par = row.col("par")?;
    let is_default = row.flag("is_default")?;
    let created_at = row.time("created_at")?;
    let updated_at = row.time("updated_at")?;
    let has_pan_ciphertext = row.flag("has_pan")?;
    let token = token_from_row(row, id.clone())?;
    Ok(CardRecord {
        id,
        user_id,
        status,
        pan_fingerprint,
        first6,
        last4,
        pan_length,
        brand,
        issuer_code,
        issuer_name_zh,
        issuer_name_en,
        card_type,
        country,
        expiry_month,
        expiry_year,
        holder_name,
        par,
        is_default,
        created_at,
        updated_at,
        has_pan_ciphertext,
        token,
        otp_sent_to: row.col("sent_to_masked")?,
        otp_expires_at: row.opt_time("otp_expires_at")?,
        reissued_at: row.opt_time("reissued_at")?,
    })
}

/// A stored time: Unix milliseconds, as every time column holds.
pub(crate) fn stored_time(ms: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Corrupt(format!("time {ms} out of range")))
}

/// The time `ms` milliseconds after the Unix epoch, for unit tests whose
/// times are small numbers.
#[cfg(test)]
pub(crate) fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// A time as stored: Unix milliseconds.
pub(crate) fn ms(time: DateTime<Utc>) -> i64 {
    time.timestamp_millis()
}

/// Narrows a stored integer that may be NULL, as `small` does.
pub(crate) fn opt_small<T: TryFrom<i64>>(value: Option<i64>) -> StoreResult<Option<T>> {
    value.map(small).transpose()
}

/// Narrows a stored integer to the small type a column holds.
pub(crate) fn small<T: TryFrom<i64>>(value: i64) -> StoreResult<T> {
    T::try_from(value).map_err(|_| StoreError::Corrupt(format!("value {value} out of range")))
}

pub(crate) fn generation_tokens_from_row(row: &impl Columns) -> StoreResult<GenerationTokens> {
    Ok(GenerationTokens {
        generation: small(row.col("imk_generation")?)?,
        tokens: small(row.col("tokens")?)?,
        live: small(row.col("live")?)?,
    })
}

pub(crate) fn user_from_row(row: &impl Columns) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        id: row.id("id")?,
        phone: row.col("phone")?,
        real_name: row.col("real_name")?,
        real_name_normalized: row.col("real_name_normalized")?,
        id_number_hash: row.col("id_number_hash")?,
        id_number_last4: row.col("id_number_last4")?,
        password_hash: row.col("password_hash")?,
        status: row.col("status")?,
        created_at: row.time("created_at")?,
    })
}

pub(crate) fn attempt_from_row(row: &impl Columns) -> StoreResult<AttemptRecord> {
    Ok(AttemptRecord {
        trace_id: row.col("trace_id")?,
        client_request_id: row.col("client_request_id")?,
        user_id: row.id("user_id")?,
        card_id: row.col::<Option<String>>("card_id")?.map(CardId::from),
        masked_pan: row.col("masked_pan")?,
        first6: row.col("first6")?,
        last4: row.col("last4")?,
        brand: row.opt_word("brand")?,
        issuer_code: row.col("issuer_code")?,
        issuer_name: row.col("issuer_name")?,
        card_type: row.opt_word("card_type")?,
        country: row.col("country")?,
        device: row.col("device")?,
        outcome: row.word("outcome")?,
        error_code: row.col("error_code")?,
        cause: row.col("cause")?,
        error_param: row.col("error_param")?,
        error_reason: row.col("error_reason")?,
        issuer_response: row.col("issuer_response")?,
        latency_ms: row.col("latency_ms")?,
        created_at: row.time("created_at")?,
        client_gone: row.flag("client_gone")?,
    })
}

pub(crate) const PAYMENT_TOKEN_COLUMNS: &str = "c.id, c.user_id, c.status AS card_status, c.issuer_code, \
     c.pan_key_version, c.pan_ciphertext, t.token_ref, t.token_first6, t.token_last4, \
     t.expiry_month AS t_expiry_month, t.expiry_year AS t_expiry_year, t.status AS t_status, \
     t.suspenders, t.requestor_id, t.device_id, t.created_at AS t_created_at, t.psn, \
     t.atc_high, t.atc_issued, t.imk_range, t.imk_generation, t.token_pan_key_version, \
     t.token_pan_ciphertext, c.reissued_at FROM tokens t JOIN cards c ON c.id = t.card_id";

pub(crate) fn payment_token_from_row(row: &impl Columns) -> StoreResult<Option<PaymentToken>> {
    // In `PAYMENT_TOKEN_COLUMNS`' order, as `token_from_row` reads.
    let card_id = row.id("id")?;
    let user_id = row.id("user_id")?;
    let card_status = row.word("card_status")?;
    let issuer_code = row.col("issuer_code")?;
    let pan_key_version = opt_small(row.col("pan_key_version")?)?;
    let pan_ciphertext = row.col("pan_ciphertext")?;
    let Some(token) = token_from_row(row, card_id)? else {
        return Ok(None);
    };
    Ok(Some(PaymentToken {
        token,
        user_id,
        card_status,
        issuer_code,
        token_pan_key_version: opt_small(row.col("token_pan_key_version")?)?,
        token_pan_ciphertext: row.col("token_pan_ciphertext")?,
        pan_key_version,
        pan_ciphertext,
        card_reissued_at: row.opt_time("reissued_at")?,
    }))
}

pub(crate) fn cryptogram_from_row(row: &impl Columns) -> StoreResult<CryptogramRecord> {
    Ok(CryptogramRecord {
        token_ref: row.col("token_ref")?,
        atc: small(row.col("atc")?)?,
        amount: row.col("amount")?,
        currency: row.col("currency")?,
        merchant_id: row.col("merchant_id")?,
        transaction_date: row.col("transaction_date")?,
        unpredictable_number: row.col("unpredictable_number")?,
        expires_at: row.time("expires_at")?,
        created_at: row.time("created_at")?,
        consent: row.col("consent")?,
    })
}

pub(crate) fn payment_from_row(row: &impl Columns) -> StoreResult<PaymentRecord> {
    Ok(PaymentRecord {
        id: row.id("id")?,
        user_id: row.id("user_id")?,
        card_id: row.id("card_id")?,
        token_ref: row.col("token_ref")?,
        merchant_key_id: row.col("merchant_key_id")?,
        merchant_id: row.col("merchant_id")?,
        merchant_name: row.col("merchant_name")?,
        channel: row.word("channel")?,
        amount: row.col("amount")?,
        currency: row.col("currency")?,
        atc: opt_small(row.col("atc")?)?,
        cryptogram_result: row.col("cryptogram_result")?,
        status: row.word("status")?,
        error_code: row.col("error_code")?,
        decline_code: row.col("decline_code")?,
        authorization_code: row.col("authorization_code")?,
        consent: row.col("consent")?,
        risk_score: row.col("risk_score")?,
        risk_reasons: row.col("risk_reasons")?,
        trace_id: row.col("trace_id")?,
        created_at: row.time("created_at")?,
        client_gone: row.flag("client_gone")?,
    })
}

pub(crate) fn refund_from_row(row: &impl Columns) -> StoreResult<RefundRecord> {
    Ok(RefundRecord {
        id: row.id("id")?,
        payment_id: row.id("payment_id")?,
        merchant_key_id: row.col("merchant_key_id")?,
        amount: row.col("amount")?,
        currency: row.col("currency")?,
        reason: row.col("reason")?,
        status: row.word("status")?,
        decline_code: row.col("decline_code")?,
        reference: row.col("reference")?,
        trace_id: row.col("trace_id")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

pub(crate) fn refund_entry_from_row(row: &impl Columns) -> StoreResult<RefundEntry> {
    Ok(RefundEntry {
        refund: refund_from_row(row)?,
        card_id: row.id("card_id")?,
        merchant_id: row.col("merchant_id")?,
        merchant_name: row.col("merchant_name")?,
    })
}

pub(crate) fn transfer_from_row(row: &impl Columns) -> StoreResult<TransferRecord> {
    Ok(TransferRecord {
        id: row.id("id")?,
        user_id: row.id("user_id")?,
        card_id: row.id("card_id")?,
        to_masked: row.col("to_masked")?,
        to_fingerprint: row.col("to_fingerprint")?,
        to_issuer_code: row.col("to_issuer_code")?,
        to_holder_name: row.col("to_holder_name")?,
        to_key_version: opt_small(row.col("to_key_version")?)?,
        to_ciphertext: row.col("to_ciphertext")?,
        amount: row.col("amount")?,
        fee: row.col("fee")?,
        currency: row.col("currency")?,
        fee_operation: row.col("fee_operation")?,
        channel: row.col("channel")?,
        status: row.word("status")?,
        decline_code: row.col("decline_code")?,
        reference: row.col("reference")?,
        trace_id: row.col("trace_id")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

pub(crate) fn incident_from_row(row: &impl Columns) -> StoreResult<IncidentRecord> {
    Ok(IncidentRecord {
        id: row.id("id")?,
        issuer_code: row.col("issuer_code")?,
        issuer_name_zh: row.col("issuer_name_zh")?,
        issuer_name_en: row.col("issuer_name_en")?,
        kind: row.col("kind")?,
        opened_at: row.time("opened_at")?,
        updated_at: row.time("updated_at")?,
        resolved_at: row.opt_time("resolved_at")?,
        samples: row.col("samples")?,
        failure_rate: row.col("failure_rate")?,
        baseline_failure_rate: row.col("baseline_failure_rate")?,
        mean_latency_ms: row.col("mean_latency_ms")?,
        baseline_latency_ms: row.col("baseline_latency_ms")?,
        top_code: row.col("top_code")?,
        message_zh: row.col("message_zh")?,
        message_en: row.col("message_en")?,
        breaker_open: row.flag("breaker_open")?,
        retry_at: row.opt_time("retry_at")?,
        probe_until: row.opt_time("probe_until")?,
    })
}

/// One group of `attempt_stats`, with `buckets` latency bucket columns
/// named `b0`, `b1`, ...
pub(crate) fn attempt_stats_from_row(
    row: &impl Columns,
    buckets: usize,
) -> StoreResult<AttemptStatsRow> {
    let mut latency_buckets = Vec::with_capacity(buckets);
    for index in 0..buckets {
        latency_buckets.push(row.col::<i64>(&format!("b{index}"))?);
    }
    Ok(AttemptStatsRow {
        issuer_code: row.col("issuer_code")?,
        issuer_name: row.col("issuer_name")?,
        brand: row.opt_word("brand")?,
        card_type: row.opt_word("card_type")?,
        outcome: row.word("outcome")?,
        error_code: row.col("error_code")?,
        cause: row.col("cause")?,
        issuer_response: row.col("issuer_response")?,
        count: row.col("n")?,
        latency_sum_ms: row.col("latency_sum")?,
        latency_max_ms: row.col("latency_max")?,
        latency_buckets,
    })
}

/// A token's suspenders as stored: a JSON array of who suspended it.
pub(crate) fn suspenders_json(suspenders: &[String]) -> StoreResult<String> {
    serde_json::to_string(suspenders).map_err(|e| StoreError::Other(e.to_string()))
}

pub(crate) fn login_failures_from_row(row: &impl Columns) -> StoreResult<LoginFailures> {
    Ok(LoginFailures {
        failures: small(row.col("failures")?)?,
        window_started_at: row.time("window_started_at")?,
    })
}

pub(crate) fn payment_password_state_from_row(
    row: &impl Columns,
) -> StoreResult<PaymentPasswordState> {
    Ok(PaymentPasswordState {
        failures: small(row.col("failures")?)?,
        locked_until: row.opt_time("locked_until")?,
    })
}

/// A claimed check (`hash`, `failures`), from the claim's RETURNING.
pub(crate) fn payment_password_claim_from_row(
    row: &impl Columns,
) -> StoreResult<PaymentPasswordClaim> {
    Ok(PaymentPasswordClaim::Counted {
        hash: row.col("hash")?,
        failures: small(row.col("failures")?)?,
    })
}

/// A refused claim, from the row as it stands (None: no password set).
pub(crate) fn payment_password_refusal(
    state: Option<PaymentPasswordState>,
    now: DateTime<Utc>,
) -> PaymentPasswordClaim {
    match state {
        None => PaymentPasswordClaim::NotSet,
        // Unlocked between the claim and this read: as good as locked now.
        Some(state) => PaymentPasswordClaim::Locked(state.locked_until.unwrap_or(now)),
    }
}

/// Keyed hashes as `users.birthday_pins` keeps them, space-separated.
pub(crate) fn birthday_pins_from(stored: Option<String>) -> Vec<String> {
    stored
        .map(|pins| pins.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

pub(crate) fn session_from_row(row: &impl Columns) -> StoreResult<SessionRecord> {
    Ok(SessionRecord {
        id: row.col("id")?,
        token_hash: row.col("token_hash")?,
        user_id: row.id("user_id")?,
        expires_at: row.time("expires_at")?,
        created_at: row.time("created_at")?,
        user_agent: row.col("user_agent")?,
    })
}

pub(crate) fn otp_challenge_from_row(row: &impl Columns) -> StoreResult<OtpChallenge> {
    Ok(OtpChallenge {
        card_id: row.id("card_id")?,
        code_hash: row.col("code_hash")?,
        sent_to_masked: row.col("sent_to_masked")?,
        expires_at: row.time("expires_at")?,
        failures: small(row.col("failures")?)?,
        sent_at: row.time("created_at")?,
    })
}

/// What a refused limit claim answers: the full bucket freeing a slot
/// last (1-based, as the PostgreSQL function returns it, 0 for none) and
/// the oldest hit that must leave the window first.
pub(crate) fn limit_claim(
    refused: usize,
    oldest: Option<i64>,
    window: TimeDelta,
    now: DateTime<Utc>,
) -> StoreResult<LimitClaim> {
    if refused == 0 {
        return Ok(LimitClaim::Counted);
    }
    // No hit found (a count that drifted): the whole window from now.
    let free_at = match oldest {
        Some(at) => stored_time(at)? + window,
        None => now + window,
    };
    Ok(LimitClaim::Refused {
        index: refused - 1,
        free_at,
    })
}

pub(crate) fn sandbox_sms_from_row(row: &impl Columns) -> StoreResult<SandboxSms> {
    Ok(SandboxSms {
        phone: row.col("phone")?,
        body: row.col("body")?,
        created_at: row.time("created_at")?,
    })
}

pub(crate) fn token_event_from_row(row: &impl Columns) -> StoreResult<TokenEvent> {
    Ok(TokenEvent {
        token_ref: row.col("token_ref")?,
        kind: row.col("kind")?,
        actor: row.col("actor")?,
        reason: row.col("reason")?,
        status_after: row.col("status_after")?,
        created_at: row.time("created_at")?,
    })
}

/// The facts of a payment's history, as the columns of a SELECT over
/// `users u LEFT JOIN consent_limits cl`: `user` and `device` are SQL for
/// the person's id and the paying card's device, `$3`, `$4` and `$5` the
/// start of the wallet's day, whether to sum the day (1 or 0) and the
/// wallet's daily limit. The day is summed only when a daily limit between
/// 1 and `i64::MAX - 1` applies: 0 asks for every payment to be confirmed,
/// `i64::MAX` sets no daily limit.
pub(crate) fn history_facts_columns(user: &str, device: &str) -> String {
    format!(
        "u.frozen_at, u.credentials_reset_at, cl.per_payment, cl.per_day, \
         CASE WHEN $4 = 1 AND COALESCE(cl.per_day, $5) BETWEEN 1 AND 9223372036854775806 \
           THEN (SELECT CAST(COALESCE(SUM(p.amount), 0) AS BIGINT) FROM payments p \
             WHERE p.user_id = {user} AND p.consent = 'none' AND p.created_at >= $3 \
             AND p.status IN ('approved', 'pending')) \
           ELSE 0 END AS unconfirmed_today, \
         (SELECT MIN(t.created_at) FROM tokens t JOIN cards c ON c.id = t.card_id \
           WHERE c.user_id = {user} AND t.device_id = {device}) AS device_since, \
         (SELECT MIN(t.created_at) FROM tokens t JOIN cards c ON c.id = t.card_id \
           WHERE c.user_id = {user}) AS wallet_since"
    )
}

/// A payment's history in one statement (`Safety::payment_history`), in
/// PostgreSQL's placeholders; SQLite's are the same with `?`. $1 the
/// person, $2 the paying card's device, $3 to $5 as in
/// `history_facts_columns`, $6 how many of the latest payments.
pub(crate) static PAYMENT_HISTORY_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH facts AS (SELECT {} \
           FROM users u LEFT JOIN consent_limits cl ON cl.user_id = u.id WHERE u.id = $1), \
         recent AS (SELECT token_ref, status, amount, created_at FROM payments \
           WHERE user_id = $1 ORDER BY created_at DESC LIMIT CAST($6 AS BIGINT)) \
         SELECT facts.*, recent.token_ref, recent.status, recent.amount, recent.created_at \
         FROM facts LEFT JOIN recent ON 1 = 1",
        history_facts_columns("$1", "$2")
    )
});

/// `PAYMENT_HISTORY_SQL`'s rows: the facts repeat on each; a person with no
/// payments has one row with no payment in it.
pub(crate) fn payment_history_from_rows(rows: &[impl Columns]) -> StoreResult<PaymentHistory> {
    let Some(first) = rows.first() else {
        return Ok(PaymentHistory::default());
    };
    let mut history = history_facts(first)?;
    for row in rows {
        history.recent.extend(recent_payment(row)?);
    }
    Ok(history)
}

/// The facts of `PAYMENT_HISTORY_SQL`'s first row, with no payment yet.
pub(crate) fn history_facts(row: &impl Columns) -> StoreResult<PaymentHistory> {
    let per_payment: Option<i64> = row.col("per_payment")?;
    let per_day: Option<i64> = row.col("per_day")?;
    Ok(PaymentHistory {
        frozen_at: row.opt_time("frozen_at")?,
        credentials_reset_at: row.opt_time("credentials_reset_at")?,
        consent: per_payment
            .zip(per_day)
            .map(|(per_payment, per_day)| ConsentLimits {
                per_payment,
                per_day,
            }),
        unconfirmed_today: row.col("unconfirmed_today")?,
        device_since: row.opt_time("device_since")?,
        wallet_since: row.opt_time("wallet_since")?,
        recent: Vec::new(),
    })
}

/// The payment on one of `PAYMENT_HISTORY_SQL`'s rows, if it has one.
pub(crate) fn recent_payment(row: &impl Columns) -> StoreResult<Option<RecentPaymentRow>> {
    let Some(token_ref) = row.col::<Option<String>>("token_ref")? else {
        return Ok(None);
    };
    Ok(Some(RecentPaymentRow {
        token_ref,
        status: row.word("status")?,
        amount: row.col("amount")?,
        created_at: row.time("created_at")?,
    }))
}

pub(crate) fn payment_report_from_row(row: &impl Columns) -> StoreResult<PaymentReport> {
    Ok(PaymentReport {
        id: row.col("id")?,
        payment_id: row.id("payment_id")?,
        user_id: row.id("user_id")?,
        token_ref: row.col("token_ref")?,
        ticket_id: row.col("ticket_id")?,
        trace_id: row.col("trace_id")?,
        created_at: row.time("created_at")?,
    })
}

pub(crate) fn passkey_from_row(row: &impl Columns) -> StoreResult<PasskeyRecord> {
    Ok(PasskeyRecord {
        id: row.col("id")?,
        user_id: row.id("user_id")?,
        credential_id: row.col("credential_id")?,
        name: row.col("name")?,
        credential: row.col("credential")?,
        created_at: row.time("created_at")?,
        last_used_at: row.opt_time("last_used_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_brand_and_card_type_reads_back_as_stored() {
        let brands = [
            Brand::UnionPay,
            Brand::Visa,
            Brand::Mastercard,
            Brand::Amex,
            Brand::Jcb,
            Brand::Discover,
            Brand::Diners,
            Brand::Maestro,
            Brand::Mir,
            Brand::RuPay,
            Brand::Dankort,
            Brand::CnDomestic,
            Brand::Other("elo".to_owned()),
        ];
        for brand in brands {
            assert_eq!(Brand::from_word(brand.code()), Some(brand.clone()));
        }
        for card_type in [
            CardType::Debit,
            CardType::Credit,
            CardType::SemiCredit,
            CardType::Prepaid,
        ] {
            assert_eq!(CardType::from_word(card_type.code()), Some(card_type));
        }
        assert_eq!(CardType::from_word("gift"), None);
    }

    #[test]
    fn times_are_kept_to_the_millisecond() {
        let time = DateTime::from_timestamp_millis(1_764_151_200_123).unwrap();
        assert_eq!(ms(time), 1_764_151_200_123);
        assert_eq!(stored_time(ms(time)).unwrap(), time);
        assert!(matches!(stored_time(i64::MAX), Err(StoreError::Corrupt(_))));
    }
}
