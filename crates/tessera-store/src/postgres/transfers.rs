//! `Transfers` on PostgreSQL: transfers, and the person's records of every
//! kind, newest first.

use async_trait::async_trait;

use super::*;
use crate::listings::{self, Dialect, REFUND_ENTRIES};
use crate::rows::*;
use crate::{StoreResult, Transfers};

#[async_trait]
impl Transfers for PgStore {
    async fn record_transfer(&self, transfer: &TransferRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO transfers (id, user_id, card_id, to_masked, to_fingerprint, \
             to_issuer_code, to_holder_name, to_key_version, to_ciphertext, amount, fee, \
             currency, fee_operation, channel, status, decline_code, reference, trace_id, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
             $12, $13, $14, $15, $16, $17, $18, $19, $20)",
        )
        .bind(transfer.id.as_str())
        .bind(transfer.user_id.as_str())
        .bind(transfer.card_id.as_str())
        .bind(&transfer.to_masked)
        .bind(&transfer.to_fingerprint)
        .bind(&transfer.to_issuer_code)
        .bind(&transfer.to_holder_name)
        .bind(transfer.to_key_version.map(i64::from))
        .bind(&transfer.to_ciphertext)
        .bind(transfer.amount)
        .bind(transfer.fee)
        .bind(&transfer.currency)
        .bind(&transfer.fee_operation)
        .bind(&transfer.channel)
        .bind(transfer.status.as_str())
        .bind(&transfer.decline_code)
        .bind(&transfer.reference)
        .bind(&transfer.trace_id)
        .bind(ms(transfer.created_at))
        .bind(ms(transfer.updated_at))
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(())
    }

    async fn finish_transfer(&self, outcome: &TransferOutcome) -> StoreResult<()> {
        sqlx::query(
            "UPDATE transfers SET status = $1, decline_code = $2, reference = $3, \
             updated_at = $4, to_key_version = NULL, to_ciphertext = NULL \
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

    async fn transfer(
        &self,
        user_id: &UserId,
        id: &TransferId,
    ) -> StoreResult<Option<TransferRecord>> {
        let row = sqlx::query("SELECT * FROM transfers WHERE id = $1 AND user_id = $2")
            .bind(id.as_str())
            .bind(user_id.as_str())
            .fetch_optional(&mut *self.lease().await?)
            .await?;
        row.as_ref().map(transfer_from_row).transpose()
    }

    async fn transfers(&self, filter: &RecordFilter) -> StoreResult<Vec<TransferRecord>> {
        let listing = listings::records(Dialect::Postgres, "transfers", filter);
        let rows = listed(&listing)
            .fetch_all(&mut *self.lease().await?)
            .await?;
        rows.iter().map(transfer_from_row).collect()
    }

    async fn payment_records(&self, filter: &RecordFilter) -> StoreResult<Vec<PaymentRecord>> {
        let listing = listings::records(Dialect::Postgres, "payments", filter);
        let rows = listed(&listing)
            .fetch_all(&mut *self.lease().await?)
            .await?;
        rows.iter().map(payment_from_row).collect()
    }

    async fn refund_records(&self, filter: &RecordFilter) -> StoreResult<Vec<RefundEntry>> {
        let listing = listings::records(Dialect::Postgres, REFUND_ENTRIES, filter);
        let rows = listed(&listing)
            .fetch_all(&mut *self.lease().await?)
            .await?;
        rows.iter().map(refund_entry_from_row).collect()
    }
}
