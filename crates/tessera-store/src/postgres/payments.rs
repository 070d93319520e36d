use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::*;
use crate::decisions::{REFUNDS_HELD, TokenCounters, refund_refused};
use crate::listings::{self, Dialect};
use crate::rows::ms;
use crate::rows::*;
use sqlx::postgres::PgRow;

use crate::{Payments, StoreError, StoreResult};

/// A payment's columns and their placeholders, $1 to $21 in the order
/// `bind_payment` binds them.
const PAYMENT_COLUMNS: &str = "id, user_id, card_id, token_ref, merchant_key_id, merchant_id, \
     merchant_name, channel, amount, currency, atc, cryptogram_result, status, error_code, \
     decline_code, authorization_code, trace_id, created_at, consent, risk_score, risk_reasons";
const PAYMENT_VALUES: &str = "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21";

/// A claim that passed the token's checks, in one statement: the ATC's use
/// (its primary key refuses a second), and only when it was new, the
/// token's highest ATC and the payment (pending). $1 to $21 the payment,
/// $22 the ATC. Answers how many uses it recorded: 1, or 0 when the ATC
/// was used. Two round trips fewer than a statement each.
static CLAIM_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH used AS (INSERT INTO atc_uses (token_ref, atc, payment_id, created_at) \
         VALUES ($4, $22, $1, $18) ON CONFLICT (token_ref, atc) DO NOTHING RETURNING atc), \
         raised AS (UPDATE tokens SET atc_high = GREATEST(atc_high, $22) \
         WHERE token_ref = $4 AND EXISTS (SELECT 1 FROM used)), \
         paid AS (INSERT INTO payments ({PAYMENT_COLUMNS}) SELECT {PAYMENT_VALUES} \
         WHERE EXISTS (SELECT 1 FROM used)) \
         SELECT COUNT(*) AS used FROM used"
    )
});

static INSERT_PAYMENT_SQL: LazyLock<String> =
    LazyLock::new(|| format!("INSERT INTO payments ({PAYMENT_COLUMNS}) VALUES ({PAYMENT_VALUES})"));

fn bind_payment<'q>(
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    payment: &'q PaymentRecord,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    query
        .bind(payment.id.as_str())
        .bind(payment.user_id.as_str())
        .bind(payment.card_id.as_str())
        .bind(&payment.token_ref)
        .bind(&payment.merchant_key_id)
        .bind(&payment.merchant_id)
        .bind(&payment.merchant_name)
        .bind(payment.channel.as_str())
        .bind(payment.amount)
        .bind(&payment.currency)
        .bind(payment.atc.map(i64::from))
        .bind(&payment.cryptogram_result)
        .bind(payment.status.as_str())
        .bind(&payment.error_code)
        .bind(&payment.decline_code)
        .bind(&payment.authorization_code)
        .bind(&payment.trace_id)
        .bind(ms(payment.created_at))
        .bind(&payment.consent)
        .bind(payment.risk_score)
        .bind(&payment.risk_reasons)
}

pub(super) async fn insert_payment(
    conn: &mut PgConnection,
    payment: &PaymentRecord,
) -> StoreResult<()> {
    bind_payment(
        sqlx::query(sqlx::AssertSqlSafe(INSERT_PAYMENT_SQL.as_str())),
        payment,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// `Payments::payment_context` in one statement and one row: $1 the token
/// PAN's fingerprint, $2 the ATC, $3 to $5 as in `history_facts_columns`,
/// $6 how many of the latest payments, which come as arrays, newest first.
static PAYMENT_CONTEXT_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH pt AS (SELECT {PAYMENT_TOKEN_COLUMNS} WHERE t.token_pan_fingerprint = $1) \
         SELECT pt.*, {}, \
           latest.token_refs AS recent_token_refs, latest.statuses AS recent_statuses, \
           latest.amounts AS recent_amounts, latest.times AS recent_times, \
           cg.atc IS NOT NULL AS cg_found, cg.amount AS cg_amount, cg.currency AS cg_currency, \
           cg.merchant_id AS cg_merchant_id, cg.transaction_date AS cg_transaction_date, \
           cg.unpredictable_number AS cg_unpredictable_number, cg.expires_at AS cg_expires_at, \
           cg.created_at AS cg_created_at, cg.consent AS cg_consent \
         FROM pt JOIN users u ON u.id = pt.user_id \
         LEFT JOIN consent_limits cl ON cl.user_id = pt.user_id \
         LEFT JOIN cryptograms cg ON cg.token_ref = pt.token_ref AND cg.atc = $2 \
         CROSS JOIN LATERAL (SELECT array_agg(p.token_ref ORDER BY p.created_at DESC) AS token_refs, \
             array_agg(p.status ORDER BY p.created_at DESC) AS statuses, \
             array_agg(p.amount ORDER BY p.created_at DESC) AS amounts, \
             array_agg(p.created_at ORDER BY p.created_at DESC) AS times \
           FROM (SELECT token_ref, status, amount, created_at FROM payments \
             WHERE user_id = pt.user_id ORDER BY created_at DESC LIMIT $6) p) latest",
        history_facts_columns("pt.user_id", "pt.device_id")
    )
});

fn payment_context_from_row(row: &PgRow, atc: u16) -> StoreResult<Option<PaymentContext>> {
    let Some(token) = payment_token_from_row(row)? else {
        return Ok(None);
    };
    let cryptogram = if row.flag("cg_found")? {
        Some(CryptogramRecord {
            token_ref: token.token.token_ref.clone(),
            atc,
            amount: row.col("cg_amount")?,
            currency: row.col("cg_currency")?,
            merchant_id: row.col("cg_merchant_id")?,
            transaction_date: row.col("cg_transaction_date")?,
            unpredictable_number: row.col("cg_unpredictable_number")?,
            expires_at: row.time("cg_expires_at")?,
            created_at: row.time("cg_created_at")?,
            consent: row.col("cg_consent")?,
        })
    } else {
        None
    };
    let mut history = history_facts(row)?;
    let texts = |name: &str| -> StoreResult<Vec<String>> {
        Ok(row
            .try_get::<Option<Vec<String>>, _>(name)?
            .unwrap_or_default())
    };
    let numbers = |name: &str| -> StoreResult<Vec<i64>> {
        Ok(row
            .try_get::<Option<Vec<i64>>, _>(name)?
            .unwrap_or_default())
    };
    let latest = texts("recent_token_refs")?
        .into_iter()
        .zip(texts("recent_statuses")?)
        .zip(numbers("recent_amounts")?)
        .zip(numbers("recent_times")?);
    for (((token_ref, status), amount), at) in latest {
        history.recent.push(RecentPaymentRow {
            token_ref,
            status: PaymentStatus::from_word(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("payments.status: {status:?}")))?,
            amount,
            created_at: stored_time(at)?,
        });
    }
    Ok(Some(PaymentContext {
        token,
        cryptogram,
        history,
    }))
}

#[async_trait]
impl Payments for PgStore {
    async fn payment_token(&self, lookup: TokenLookup<'_>) -> StoreResult<Option<PaymentToken>> {
        let (column, value) = lookup.column();
        let sql = format!("SELECT {PAYMENT_TOKEN_COLUMNS} WHERE {column} = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(value)
            .fetch_optional(&mut *self.lease().await?)
            .await?;
        Ok(row
            .as_ref()
            .map(payment_token_from_row)
            .transpose()?
            .flatten())
    }

    async fn payment_context(
        &self,
        query: &PaymentContextQuery,
    ) -> StoreResult<Option<PaymentContext>> {
        let row = sqlx::query(PAYMENT_CONTEXT_SQL.as_str())
            .bind(&query.token_pan_fingerprint)
            .bind(i64::from(query.atc))
            .bind(ms(query.day_start))
            .bind(i64::from(query.sum_unconfirmed))
            .bind(query.default_per_day)
            .bind(i64::from(query.recent))
            .fetch_optional(&mut *self.lease().await?)
            .await?;
        row.as_ref()
            .map(|row| payment_context_from_row(row, query.atc))
            .transpose()
            .map(Option::flatten)
    }

    async fn reserve_atcs(
        &self,
        token_ref: &str,
        psn: u8,
        count: u16,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<u16>> {
        // One UPDATE: the row lock it takes makes concurrent batches (on any
        // node) take turns, so their ranges never overlap.
        let count = i64::from(count.max(1));
        let last: Option<i64> = sqlx::query_scalar(
            "UPDATE tokens SET atc_issued = atc_issued + $1, updated_at = $2 \
             WHERE token_ref = $3 AND status = 'active' AND psn = $4 \
             AND atc_issued + $1 <= 65535 RETURNING atc_issued",
        )
        .bind(count)
        .bind(ms(now))
        .bind(token_ref)
        .bind(i64::from(psn))
        .fetch_optional(&mut *self.lease().await?)
        .await?;
        last.map(|last| small(last - count + 1)).transpose()
    }

    async fn create_cryptogram(&self, cryptogram: &CryptogramRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO cryptograms (token_ref, atc, amount, currency, merchant_id, \
             transaction_date, unpredictable_number, expires_at, created_at, consent) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&cryptogram.token_ref)
        .bind(i64::from(cryptogram.atc))
        .bind(cryptogram.amount)
        .bind(&cryptogram.currency)
        .bind(&cryptogram.merchant_id)
        .bind(&cryptogram.transaction_date)
        .bind(&cryptogram.unpredictable_number)
        .bind(ms(cryptogram.expires_at))
        .bind(ms(cryptogram.created_at))
        .bind(&cryptogram.consent)
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
            "SELECT status, atc_high, atc_issued, psn FROM tokens WHERE token_ref = $1 FOR UPDATE",
        )
        .bind(&claim.token_ref)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(AtcClaimOutcome::TokenNotActive);
        };
        let counters = TokenCounters::from_row(&row)?;
        let atc = i64::from(claim.atc);
        let outcome = if let Some(refused) = counters.refuses(claim) {
            refused
        } else if counters.behind_window(claim) {
            // Refused either way; a used ATC says so first.
            let inserted = sqlx::query(
                "INSERT INTO atc_uses (token_ref, atc, payment_id, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (token_ref, atc) DO NOTHING",
            )
            .bind(&claim.token_ref)
            .bind(atc)
            .bind(claim.payment.id.as_str())
            .bind(ms(claim.payment.created_at))
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 0 {
                AtcClaimOutcome::Used
            } else {
                AtcClaimOutcome::BehindWindow
            }
        } else {
            let mut payment = claim.payment.clone();
            // The ATC's use and the payment's own column are one ATC.
            payment.atc = Some(claim.atc);
            payment.token_ref.clone_from(&claim.token_ref);
            let used: i64 = bind_payment(
                sqlx::query(sqlx::AssertSqlSafe(CLAIM_SQL.as_str())),
                &payment,
            )
            .bind(atc)
            .fetch_one(&mut *tx)
            .await?
            .try_get("used")?;
            if used == 0 {
                AtcClaimOutcome::Used
            } else {
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
             decline_code = $4, authorization_code = $5, consent = $6, risk_score = $7, \
             risk_reasons = $8 WHERE id = $9",
        )
        .bind(payment.status.as_str())
        .bind(&payment.cryptogram_result)
        .bind(&payment.error_code)
        .bind(&payment.decline_code)
        .bind(&payment.authorization_code)
        .bind(&payment.consent)
        .bind(payment.risk_score)
        .bind(&payment.risk_reasons)
        .bind(payment.id.as_str())
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(())
    }

    async fn release_atc(
        &self,
        token_ref: &str,
        atc: u16,
        payment_id: &PaymentId,
    ) -> StoreResult<()> {
        sqlx::query("DELETE FROM atc_uses WHERE token_ref = $1 AND atc = $2 AND payment_id = $3")
            .bind(token_ref)
            .bind(i64::from(atc))
            .bind(payment_id.as_str())
            .execute(&mut *self.lease().await?)
            .await?;
        Ok(())
    }

    async fn record_payment(&self, payment: &PaymentRecord) -> StoreResult<()> {
        let mut lease = self.lease().await?;
        insert_payment(&mut lease, payment).await
    }

    async fn mark_card_reissued(&self, card_id: &CardId, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "UPDATE cards SET reissued_at = $1, updated_at = $1 \
             WHERE id = $2 AND reissued_at IS NULL",
        )
        .bind(ms(now))
        .bind(card_id.as_str())
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(())
    }

    async fn payments(&self, filter: &PaymentFilter) -> StoreResult<Vec<PaymentRecord>> {
        let listing = listings::payments(Dialect::Postgres, filter);
        let rows = listed(&listing)
            .fetch_all(&mut *self.lease().await?)
            .await?;
        rows.iter().map(payment_from_row).collect()
    }

    async fn payment(&self, id: &PaymentId) -> StoreResult<Option<PaymentRecord>> {
        let row = sqlx::query("SELECT * FROM payments WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&mut *self.lease().await?)
            .await?;
        row.as_ref().map(payment_from_row).transpose()
    }

    async fn payment_by_trace(&self, trace_id: &str) -> StoreResult<Option<PaymentRecord>> {
        let row = sqlx::query("SELECT * FROM payments WHERE trace_id = $1 LIMIT 1")
            .bind(trace_id)
            .fetch_optional(&mut *self.lease().await?)
            .await?;
        row.as_ref().map(payment_from_row).transpose()
    }

    async fn begin_refund(&self, refund: &RefundRecord) -> StoreResult<RefundClaim> {
        let mut lease = self.lease().await?;
        let mut tx = lease.begin().await?;
        // The payment's row lock: refunds of one payment take turns on
        // every node, so the sum below is never stale when the insert lands.
        let payment = sqlx::query("SELECT amount, status FROM payments WHERE id = $1 FOR UPDATE")
            .bind(refund.payment_id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(payment) = payment else {
            tx.rollback().await?;
            return Ok(RefundClaim::NoPayment);
        };
        let (amount, status): (i64, PaymentStatus) =
            (payment.col("amount")?, payment.word("status")?);
        let held: i64 = sqlx::query_scalar(REFUNDS_HELD)
            .bind(refund.payment_id.as_str())
            .fetch_one(&mut *tx)
            .await?;
        if let Some(refused) = refund_refused(status, amount, held, refund.amount) {
            tx.rollback().await?;
            return Ok(refused);
        }
        sqlx::query(
            "INSERT INTO refunds (id, payment_id, merchant_key_id, amount, currency, reason, \
             status, decline_code, reference, trace_id, created_at, updated_at, user_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
             (SELECT user_id FROM payments WHERE id = $2))",
        )
        .bind(refund.id.as_str())
        .bind(refund.payment_id.as_str())
        .bind(&refund.merchant_key_id)
        .bind(refund.amount)
        .bind(&refund.currency)
        .bind(&refund.reason)
        .bind(refund.status.as_str())
        .bind(&refund.decline_code)
        .bind(&refund.reference)
        .bind(&refund.trace_id)
        .bind(ms(refund.created_at))
        .bind(ms(refund.updated_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(RefundClaim::Recorded)
    }

    async fn finish_refund(&self, outcome: &RefundOutcome) -> StoreResult<()> {
        sqlx::query(
            "UPDATE refunds SET status = $1, decline_code = $2, reference = $3, updated_at = $4 \
             WHERE id = $5 AND status = 'pending'",
        )
        .bind(outcome.status.as_str())
        .bind(&outcome.decline_code)
        .bind(&outcome.reference)
        .bind(ms(outcome.updated_at))
        .bind(outcome.id.as_str())
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(())
    }

    async fn refunds(&self, payment_ids: &[PaymentId]) -> StoreResult<Vec<RefundRecord>> {
        if payment_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = payment_ids.iter().map(PaymentId::as_str).collect();
        let rows =
            sqlx::query("SELECT * FROM refunds WHERE payment_id = ANY($1) ORDER BY created_at, id")
                .bind(&ids)
                .fetch_all(&mut *self.lease().await?)
                .await?;
        rows.iter().map(refund_from_row).collect()
    }
}
