//! `Transfers` on SQLite: transfers, and the person's records of every
//! kind, newest first. Each write is one writer job.

use async_trait::async_trait;

use super::*;
use crate::listings::{self, Dialect, REFUND_ENTRIES};
use crate::rows::*;
use crate::{StoreResult, Transfers};

#[async_trait]
impl Transfers for SqliteStore {
    async fn record_transfer(&self, transfer: &TransferRecord) -> StoreResult<()> {
        let t = transfer.clone();
        self.queue
            .write_direct(move |conn| {
                exec(
                    conn,
                    "INSERT INTO transfers (id, user_id, card_id, to_masked, to_fingerprint, \
                     to_issuer_code, to_holder_name, to_key_version, to_ciphertext, amount, \
                     fee, currency, fee_operation, channel, status, decline_code, reference, \
                     trace_id, created_at, updated_at) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    params![
                        t.id.as_str(),
                        t.user_id.as_str(),
                        t.card_id.as_str(),
                        &t.to_masked,
                        &t.to_fingerprint,
                        &t.to_issuer_code,
                        &t.to_holder_name,
                        t.to_key_version.map(i64::from),
                        &t.to_ciphertext,
                        t.amount,
                        t.fee,
                        &t.currency,
                        &t.fee_operation,
                        &t.channel,
                        t.status.as_str(),
                        &t.decline_code,
                        &t.reference,
                        &t.trace_id,
                        ms(t.created_at),
                        ms(t.updated_at),
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn finish_transfer(&self, outcome: &TransferOutcome) -> StoreResult<()> {
        let outcome = outcome.clone();
        self.queue
            .write_direct(move |conn| {
                exec(
                    conn,
                    "UPDATE transfers SET status = ?, decline_code = ?, reference = ?, \
                     updated_at = ?, to_key_version = NULL, to_ciphertext = NULL \
                     WHERE id = ? AND status = 'pending'",
                    params![
                        outcome.status.as_str(),
                        &outcome.decline_code,
                        &outcome.reference,
                        ms(outcome.updated_at),
                        outcome.id.as_str()
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn transfer(
        &self,
        user_id: &UserId,
        id: &TransferId,
    ) -> StoreResult<Option<TransferRecord>> {
        self.readers.read(|conn| {
            query_opt(
                conn,
                "SELECT * FROM transfers WHERE id = ? AND user_id = ?",
                params![id.as_str(), user_id.as_str()],
                |row| transfer_from_row(row),
            )
        })
    }

    async fn transfers(&self, filter: &RecordFilter) -> StoreResult<Vec<TransferRecord>> {
        let listing = listings::records(Dialect::Sqlite, "transfers", filter);
        self.readers
            .read(|conn| listed(conn, &listing, |row| transfer_from_row(row)))
    }

    async fn payment_records(&self, filter: &RecordFilter) -> StoreResult<Vec<PaymentRecord>> {
        let listing = listings::records(Dialect::Sqlite, "payments", filter);
        self.readers
            .read(|conn| listed(conn, &listing, |row| payment_from_row(row)))
    }

    async fn refund_records(&self, filter: &RecordFilter) -> StoreResult<Vec<RefundEntry>> {
        let listing = listings::records(Dialect::Sqlite, REFUND_ENTRIES, filter);
        self.readers
            .read(|conn| listed(conn, &listing, |row| refund_entry_from_row(row)))
    }
}
