use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::*;
use crate::decisions::TokenCounters;
use crate::listings::{self, Dialect};
use crate::rows::ms;
use crate::rows::*;
use crate::{Payments, StoreResult};

pub(super) async fn insert_payment(
    conn: &mut PgConnection,
    payment: &PaymentRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO payments (id, user_id, card_id, token_ref, merchant_key_id, merchant_id, \
         merchant_name, channel, amount, currency, atc, cryptogram_result, status, \
         error_code, decline_code, authorization_code, trace_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
    )
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
    .execute(&mut *conn)
    .await?;
    Ok(())
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

    async fn reserve_atcs(
        &self,
        token_ref: &str,
        count: u16,
        now: DateTime<Utc>,
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
        .bind(ms(now))
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
        .bind(ms(cryptogram.expires_at))
        .bind(ms(cryptogram.created_at))
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
        let counters = TokenCounters::from_row(&row)?;
        let atc = i64::from(claim.atc);
        let outcome = if let Some(refused) = counters.refuses(claim) {
            refused
        } else {
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
            } else if counters.behind_window(claim) {
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
        .bind(payment.status.as_str())
        .bind(&payment.cryptogram_result)
        .bind(&payment.error_code)
        .bind(&payment.decline_code)
        .bind(&payment.authorization_code)
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

    async fn payments(&self, filter: &PaymentFilter) -> StoreResult<Vec<PaymentRecord>> {
        let listing = listings::payments(Dialect::Postgres, filter);
        let rows = listed(&listing)
            .fetch_all(&mut *self.lease().await?)
            .await?;
        rows.iter().map(payment_from_row).collect()
    }
}
