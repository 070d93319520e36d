use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::*;
use crate::decisions::{REFUNDS_HELD, TokenCounters, refund_refused};
use crate::listings::{self, Dialect};
use crate::rows::*;
use crate::sqlite::safety::read_history_facts;
use crate::{Payments, StoreResult};

fn read_payment_token(
    conn: &rusqlite::Connection,
    lookup: TokenLookup<'_>,
) -> StoreResult<Option<PaymentToken>> {
    let (column, value) = lookup.column();
    let sql = format!("SELECT {PAYMENT_TOKEN_COLUMNS} WHERE {column} = ?");
    let row = row_opt(conn, &sql, params![value])?;
    Ok(row
        .as_ref()
        .map(payment_token_from_row)
        .transpose()?
        .flatten())
}

fn read_cryptogram(
    conn: &rusqlite::Connection,
    token_ref: &str,
    atc: u16,
) -> StoreResult<Option<CryptogramRecord>> {
    query_opt(
        conn,
        "SELECT * FROM cryptograms WHERE token_ref = ? AND atc = ?",
        params![token_ref, i64::from(atc)],
        |row| cryptogram_from_row(row),
    )
}

pub(super) fn insert_payment(
    conn: &rusqlite::Connection,
    payment: &PaymentRecord,
) -> StoreResult<()> {
    exec(
        conn,
        "INSERT INTO payments (id, user_id, card_id, token_ref, merchant_key_id, merchant_id, \
         merchant_name, channel, amount, currency, atc, cryptogram_result, status, \
         error_code, decline_code, authorization_code, trace_id, created_at, consent, \
         risk_score, risk_reasons) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            payment.id.as_str(),
            payment.user_id.as_str(),
            payment.card_id.as_str(),
            &payment.token_ref,
            &payment.merchant_key_id,
            &payment.merchant_id,
            &payment.merchant_name,
            payment.channel.as_str(),
            payment.amount,
            &payment.currency,
            payment.atc.map(i64::from),
            &payment.cryptogram_result,
            payment.status.as_str(),
            &payment.error_code,
            &payment.decline_code,
            &payment.authorization_code,
            &payment.trace_id,
            ms(payment.created_at),
            &payment.consent,
            payment.risk_score,
            &payment.risk_reasons,
        ],
    )?;
    Ok(())
}

impl SqliteStore {
    /// Lists the person's latest payments on the writer thread
    /// (`recent.rs`) and answers the `count` latest.
    async fn list_recent(
        &self,
        user_id: &UserId,
        count: usize,
    ) -> StoreResult<Vec<RecentPaymentRow>> {
        let (recent, person) = (Arc::clone(&self.recent), user_id.clone());
        let listed = self
            .queue
            .write_direct(move |conn| recent.fill(conn, person.as_str(), count))
            .await;
        if listed.is_err() {
            self.recent.forget(user_id.as_str());
        }
        listed
    }
}

#[async_trait]
impl Payments for SqliteStore {
    async fn payment_token(&self, lookup: TokenLookup<'_>) -> StoreResult<Option<PaymentToken>> {
        self.readers.read(|conn| read_payment_token(conn, lookup))
    }

    async fn payment_context(
        &self,
        query: &PaymentContextQuery,
    ) -> StoreResult<Option<PaymentContext>> {
        let count = query.recent as usize;
        let read = self.readers.read(|conn| {
            // One read transaction for the reads: each one begun on its own
            // after a commit would drop the connection's pages and its map
            // of the file, and read them back (see
            // `Payments::payment_context`). Dropped, it ends; a read-only
            // transaction has nothing to roll back.
            let _snapshot = conn.unchecked_transaction()?;
            let lookup = TokenLookup::PanFingerprint(&query.token_pan_fingerprint);
            let Some(token) = read_payment_token(conn, lookup)? else {
                return Ok(None);
            };
            let cryptogram = read_cryptogram(conn, &token.token.token_ref, query.atc)?;
            // The latest payments come from the writer's lists
            // (`recent.rs`); a person not listed yet is listed below.
            let mut history = read_history_facts(conn, &query.history_of(&token))?;
            let listed = match self.recent.latest(token.user_id.as_str(), count) {
                Some(recent) => {
                    history.recent = recent;
                    true
                }
                None => false,
            };
            let context = PaymentContext {
                token,
                cryptogram,
                history,
            };
            Ok(Some((context, listed)))
        })?;
        let Some((mut context, listed)) = read else {
            return Ok(None);
        };
        if !listed {
            context.history.recent = self.list_recent(&context.token.user_id, count).await?;
        }
        Ok(Some(context))
    }

    async fn reserve_atcs(
        &self,
        token_ref: &str,
        psn: u8,
        count: u16,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<u16>> {
        let token_ref = token_ref.to_owned();
        let count = i64::from(count.max(1));
        let last: Option<i64> = self
            .queue
            .write_direct(move |conn| {
                scalar_opt(
                    conn,
                    "UPDATE tokens SET atc_issued = atc_issued + ?1, updated_at = ?2 \
                         WHERE token_ref = ?3 AND status = 'active' AND psn = ?4 \
                         AND atc_issued + ?1 <= 65535 RETURNING atc_issued",
                    params![count, ms(now), &token_ref, i64::from(psn)],
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
                         transaction_date, unpredictable_number, expires_at, created_at, \
                         consent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    params![
                        &cryptogram.token_ref,
                        i64::from(cryptogram.atc),
                        cryptogram.amount,
                        &cryptogram.currency,
                        &cryptogram.merchant_id,
                        &cryptogram.transaction_date,
                        &cryptogram.unpredictable_number,
                        ms(cryptogram.expires_at),
                        ms(cryptogram.created_at),
                        &cryptogram.consent,
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn cryptogram(&self, token_ref: &str, atc: u16) -> StoreResult<Option<CryptogramRecord>> {
        self.readers
            .read(|conn| read_cryptogram(conn, token_ref, atc))
    }

    async fn claim_atc(&self, claim: &AtcClaim) -> StoreResult<AtcClaimOutcome> {
        // Jobs on the one writer connection run one after another, so the
        // checks below and the insert cannot interleave with another claim;
        // each check runs before anything is written, so a refused claim
        // leaves nothing behind.
        let claim = claim.clone();
        let user_id = claim.payment.user_id.clone();
        let recent = Arc::clone(&self.recent);
        let claimed = self
            .queue
            .write_direct(move |conn| {
                let row = row_opt(
                    conn,
                    "SELECT status, atc_high, atc_issued, psn FROM tokens WHERE token_ref = ?",
                    params![&claim.token_ref],
                )?;
                let Some(row) = row else {
                    return Ok(AtcClaimOutcome::TokenNotActive);
                };
                let counters = TokenCounters::from_row(&row)?;
                if let Some(refused) = counters.refuses(&claim) {
                    return Ok(refused);
                }
                let atc = i64::from(claim.atc);
                let used: bool = scalar_one(
                    conn,
                    "SELECT EXISTS (SELECT 1 FROM atc_uses WHERE token_ref = ? AND atc = ?)",
                    params![&claim.token_ref, atc],
                )?;
                if used {
                    return Ok(AtcClaimOutcome::Used);
                }
                if counters.behind_window(&claim) {
                    return Ok(AtcClaimOutcome::BehindWindow);
                }
                exec(
                    conn,
                    "INSERT INTO atc_uses (token_ref, atc, payment_id, created_at) \
                         VALUES (?, ?, ?, ?)",
                    params![
                        &claim.token_ref,
                        atc,
                        claim.payment.id.as_str(),
                        ms(claim.payment.created_at)
                    ],
                )?;
                exec(
                    conn,
                    "UPDATE tokens SET atc_high = MAX(atc_high, ?) WHERE token_ref = ?",
                    params![atc, &claim.token_ref],
                )?;
                insert_payment(conn, &claim.payment)?;
                recent.inserted(&claim.payment)?;
                Ok(AtcClaimOutcome::Claimed)
            })
            .await;
        if claimed.is_err() {
            self.recent.forget(user_id.as_str());
        }
        claimed
    }

    async fn finish_payment(&self, payment: &PaymentRecord) -> StoreResult<()> {
        let payment = payment.clone();
        let user_id = payment.user_id.clone();
        let recent = Arc::clone(&self.recent);
        let finished = self
            .queue
            .write_direct(move |conn| {
                exec(
                    conn,
                    "UPDATE payments SET status = ?, cryptogram_result = ?, error_code = ?, \
                         decline_code = ?, authorization_code = ?, consent = ?, risk_score = ?, \
                         risk_reasons = ? WHERE id = ?",
                    params![
                        payment.status.as_str(),
                        &payment.cryptogram_result,
                        &payment.error_code,
                        &payment.decline_code,
                        &payment.authorization_code,
                        &payment.consent,
                        payment.risk_score,
                        &payment.risk_reasons,
                        payment.id.as_str()
                    ],
                )?;
                recent.finished(
                    payment.user_id.as_str(),
                    payment.id.as_str(),
                    payment.status,
                )
            })
            .await;
        if finished.is_err() {
            self.recent.forget(user_id.as_str());
        }
        finished
    }

    async fn release_atc(
        &self,
        token_ref: &str,
        atc: u16,
        payment_id: &PaymentId,
    ) -> StoreResult<()> {
        let (token_ref, payment_id) = (token_ref.to_owned(), payment_id.to_owned());
        self.queue
            .write_direct(move |conn| {
                exec(
                    conn,
                    "DELETE FROM atc_uses WHERE token_ref = ? AND atc = ? AND payment_id = ?",
                    params![&token_ref, i64::from(atc), payment_id.as_str()],
                )?;
                Ok(())
            })
            .await
    }

    async fn record_payment(&self, payment: &PaymentRecord) -> StoreResult<()> {
        let payment = payment.clone();
        let user_id = payment.user_id.clone();
        let recent = Arc::clone(&self.recent);
        let recorded = self
            .queue
            .write_direct(move |conn| {
                insert_payment(conn, &payment)?;
                recent.inserted(&payment)
            })
            .await;
        if recorded.is_err() {
            self.recent.forget(user_id.as_str());
        }
        recorded
    }

    async fn mark_card_reissued(&self, card_id: &CardId, now: DateTime<Utc>) -> StoreResult<()> {
        let card_id = card_id.to_owned();
        self.queue
            .write_direct(move |conn| {
                exec(
                    conn,
                    "UPDATE cards SET reissued_at = ?, updated_at = ? \
                     WHERE id = ? AND reissued_at IS NULL",
                    params![ms(now), ms(now), card_id.as_str()],
                )?;
                Ok(())
            })
            .await
    }

    async fn payments(&self, filter: &PaymentFilter) -> StoreResult<Vec<PaymentRecord>> {
        let listing = listings::payments(Dialect::Sqlite, filter);
        self.readers
            .read(|conn| listed(conn, &listing, |row| payment_from_row(row)))
    }

    async fn payment(&self, id: &PaymentId) -> StoreResult<Option<PaymentRecord>> {
        self.readers.read(|conn| {
            query_opt(
                conn,
                "SELECT * FROM payments WHERE id = ?",
                params![id.as_str()],
                |row| payment_from_row(row),
            )
        })
    }

    async fn payment_by_trace(&self, trace_id: &str) -> StoreResult<Option<PaymentRecord>> {
        self.readers.read(|conn| {
            query_opt(
                conn,
                "SELECT * FROM payments WHERE trace_id = ? LIMIT 1",
                params![trace_id],
                |row| payment_from_row(row),
            )
        })
    }

    async fn begin_refund(&self, refund: &RefundRecord) -> StoreResult<RefundClaim> {
        // One writer job: no other refund of any payment runs between the
        // sum and the insert, so the refunds held never pass the amount.
        let refund = refund.clone();
        self.queue
            .write_direct(move |conn| {
                let payment = row_opt(
                    conn,
                    "SELECT amount, status FROM payments WHERE id = ?",
                    params![refund.payment_id.as_str()],
                )?;
                let Some(payment) = payment else {
                    return Ok(RefundClaim::NoPayment);
                };
                let (amount, status): (i64, PaymentStatus) =
                    (payment.col("amount")?, payment.word("status")?);
                let held: i64 =
                    scalar_one(conn, REFUNDS_HELD, params![refund.payment_id.as_str()])?;
                if let Some(refused) = refund_refused(status, amount, held, refund.amount) {
                    return Ok(refused);
                }
                insert_refund(conn, &refund)?;
                Ok(RefundClaim::Recorded)
            })
            .await
    }

    async fn finish_refund(&self, outcome: &RefundOutcome) -> StoreResult<()> {
        let outcome = outcome.clone();
        self.queue
            .write_direct(move |conn| {
                exec(
                    conn,
                    "UPDATE refunds SET status = ?, decline_code = ?, reference = ?, \
                     updated_at = ? WHERE id = ? AND status = 'pending'",
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

    async fn refunds(&self, payment_ids: &[PaymentId]) -> StoreResult<Vec<RefundRecord>> {
        // One indexed query per payment (a page holds at most 100), each
        // statement prepared once.
        self.readers.read(|conn| {
            let mut all = Vec::new();
            for id in payment_ids {
                all.extend(query_all(
                    conn,
                    "SELECT * FROM refunds WHERE payment_id = ? ORDER BY created_at, id",
                    params![id.as_str()],
                    |row| refund_from_row(row),
                )?);
            }
            Ok(all)
        })
    }
}

fn insert_refund(conn: &rusqlite::Connection, refund: &RefundRecord) -> StoreResult<()> {
    exec(
        conn,
        "INSERT INTO refunds (id, payment_id, merchant_key_id, amount, currency, reason, \
         status, decline_code, reference, trace_id, created_at, updated_at, user_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, \
         (SELECT user_id FROM payments WHERE id = ?2))",
        params![
            refund.id.as_str(),
            refund.payment_id.as_str(),
            &refund.merchant_key_id,
            refund.amount,
            &refund.currency,
            &refund.reason,
            refund.status.as_str(),
            &refund.decline_code,
            &refund.reference,
            &refund.trace_id,
            ms(refund.created_at),
            ms(refund.updated_at)
        ],
    )?;
    Ok(())
}
