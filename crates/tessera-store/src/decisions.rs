//! What both backends decide alike from the rows they read. Each backend
//! reads and writes in its own SQL and transaction (the locking differs),
//! then asks here what follows, so that the rule is written once.

use crate::model::{
    AtcClaim, AtcClaimOutcome, CardStatus, IdempotencyBegin, IssuerApply, PaymentStatus,
    RefundClaim, TokenStatus,
};
use crate::rows::{Columns, small};
use crate::{StoreError, StoreResult};
use chrono::{DateTime, TimeDelta, Utc};

/// The idempotency record already stored under a request's key.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum StoredKey {
    /// The answer to give: a different request, the first one's answer, or
    /// the first one still running.
    Answer(IdempotencyBegin),
    /// The first request died mid-way (its node crashed) and its record is
    /// stale: this one takes the key over (the backend refreshes the
    /// record's time, then answers `Started`).
    TakeOver,
}

/// Reads an `idempotency_keys` row (`request_fingerprint`, `state`,
/// `response_status`, `response_body`, `created_at`).
pub(crate) fn stored_key(
    row: &impl Columns,
    fingerprint: &str,
    now: DateTime<Utc>,
    stale_after: TimeDelta,
) -> StoreResult<StoredKey> {
    let stored: String = row.col("request_fingerprint")?;
    let state: String = row.col("state")?;
    let created_at = row.time("created_at")?;
    Ok(if stored != fingerprint {
        StoredKey::Answer(IdempotencyBegin::Conflict)
    } else if state == "done" {
        let status: Option<i64> = row.col("response_status")?;
        let body: Option<String> = row.col("response_body")?;
        StoredKey::Answer(IdempotencyBegin::Replay {
            status: small(status.unwrap_or(500))?,
            body: body.unwrap_or_default(),
        })
    } else if created_at < now - stale_after {
        StoredKey::TakeOver
    } else {
        StoredKey::Answer(IdempotencyBegin::InProgress { since: created_at })
    })
}

/// A card as an issuer event finds it: `c.status`, `c.issuer_event_at`,
/// `t.token_ref`, `t.status AS t_status`.
#[derive(Debug)]
pub(crate) struct IssuerTarget {
    pub status: CardStatus,
    /// When the newest issuer event applied to the card happened.
    pub newest_event_at: Option<DateTime<Utc>>,
    pub token_ref: Option<String>,
    pub token_status: Option<String>,
}

impl IssuerTarget {
    pub(crate) fn from_row(row: &impl Columns) -> StoreResult<IssuerTarget> {
        Ok(IssuerTarget {
            status: row.word("status")?,
            newest_event_at: row.opt_time("issuer_event_at")?,
            token_ref: row.col("token_ref")?,
            token_status: row.col("t_status")?,
        })
    }

    /// Whether an event that happened at `occurred_at` still applies: None
    /// when it does; otherwise the answer (the card is no longer live, or
    /// the event is older than the newest one applied to it).
    pub(crate) fn refuses(&self, occurred_at: DateTime<Utc>) -> Option<IssuerApply> {
        issuer_change_refused(self.status, self.newest_event_at, occurred_at)
    }
}

fn issuer_change_refused(
    card_status: CardStatus,
    newest_applied_at: Option<DateTime<Utc>>,
    occurred_at: DateTime<Utc>,
) -> Option<IssuerApply> {
    if !matches!(
        card_status,
        CardStatus::Active | CardStatus::PendingVerification
    ) {
        Some(IssuerApply::NotLive)
    } else if newest_applied_at.is_some_and(|at| at > occurred_at) {
        Some(IssuerApply::Stale)
    } else {
        None
    }
}

/// A token's counters as an ATC claim reads them: `status`, `atc_high`,
/// `atc_issued` of `tokens`.
#[derive(Debug)]
pub(crate) struct TokenCounters {
    pub status: TokenStatus,
    /// The highest ATC a payment was accepted with.
    pub atc_high: i64,
    /// The highest ATC handed out.
    pub atc_issued: i64,
    pub psn: i64,
}

impl TokenCounters {
    pub(crate) fn from_row(row: &impl Columns) -> StoreResult<TokenCounters> {
        Ok(TokenCounters {
            status: row.word("status")?,
            atc_high: row.col("atc_high")?,
            atc_issued: row.col("atc_issued")?,
            psn: row.col("psn")?,
        })
    }

    /// Why `claim` cannot take its ATC before the ATC's own use is looked
    /// up: the token does not pay, or the ATC was never handed out.
    pub(crate) fn refuses(&self, claim: &AtcClaim) -> Option<AtcClaimOutcome> {
        let atc = i64::from(claim.atc);
        if self.status != TokenStatus::Active {
            Some(AtcClaimOutcome::TokenNotActive)
        } else if self.psn != i64::from(claim.psn) {
            Some(AtcClaimOutcome::Renewed)
        } else if atc == 0 || atc > self.atc_issued {
            Some(AtcClaimOutcome::NotIssued)
        } else {
            None
        }
    }

    /// An unused ATC still too far behind the highest accepted one: a
    /// cryptogram held back past the window is refused.
    pub(crate) fn behind_window(&self, claim: &AtcClaim) -> bool {
        i64::from(claim.atc) + i64::from(claim.window) < self.atc_high
    }
}

/// What a payment's refunds hold of its amount: the pending ones (the
/// issuer may be carrying them out) and the accepted ones. Both backends
/// run it with the payment's id, inside the refund's write (PostgreSQL sums
/// a BIGINT as NUMERIC: cast back).
pub(crate) const REFUNDS_HELD: &str = "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) \
     FROM refunds WHERE payment_id = $1 AND status IN ('pending', 'accepted')";

/// Whether a refund of `asked` may be recorded against a payment of
/// `amount` in `status` whose refunds already hold `held`: None when it
/// may, else why not.
pub(crate) fn refund_refused(
    status: PaymentStatus,
    amount: i64,
    held: i64,
    asked: i64,
) -> Option<RefundClaim> {
    if status != PaymentStatus::Approved {
        return Some(RefundClaim::NotRefundable(status));
    }
    let refundable = amount.saturating_sub(held).max(0);
    (asked <= 0 || asked > refundable).then_some(RefundClaim::Exceeds { refundable })
}

/// The migrations of `all` (version, SQL) that a database which applied
/// `applied` still lacks, in order; a database with a version this binary
/// does not know is refused rather than guessed at.
pub(crate) fn pending_migrations<'a>(
    all: &'a [(i64, &'a str)],
    applied: &[i64],
) -> StoreResult<Vec<&'a (i64, &'a str)>> {
    if let Some(unknown) = applied
        .iter()
        .find(|version| !all.iter().any(|(known, _)| known == *version))
    {
        let newest = all.last().map_or(0, |(version, _)| *version);
        return Err(StoreError::Corrupt(format!(
            "the database has schema version {unknown}, which this binary (newest {newest}) \
             does not know: run a newer Tessera"
        )));
    }
    Ok(all
        .iter()
        .filter(|(version, _)| !applied.contains(version))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::at;

    /// Numbers taken on parallel branches leave gaps: each missing version
    /// is applied, in order, whichever landed first.
    #[test]
    fn migrations_apply_across_a_gap_in_their_numbers() {
        let with_gap = [(1, "a"), (2, "b"), (4, "d")];
        let pending = pending_migrations(&with_gap, &[1, 2]).unwrap();
        assert_eq!(pending, [&(4, "d")]);
        let filled = [(1, "a"), (2, "b"), (3, "c"), (4, "d")];
        let pending = pending_migrations(&filled, &[1, 2, 4]).unwrap();
        assert_eq!(pending, [&(3, "c")]);
        assert!(pending_migrations(&with_gap, &[1, 2, 3]).is_err());
    }

    #[test]
    fn a_refund_fits_in_what_the_payment_still_holds() {
        let approved = PaymentStatus::Approved;
        assert_eq!(refund_refused(approved, 1000, 0, 1000), None);
        assert_eq!(refund_refused(approved, 1000, 600, 400), None);
        assert_eq!(
            refund_refused(approved, 1000, 600, 401),
            Some(RefundClaim::Exceeds { refundable: 400 })
        );
        assert_eq!(
            refund_refused(approved, 1000, 1000, 1),
            Some(RefundClaim::Exceeds { refundable: 0 })
        );
        for status in [
            PaymentStatus::Declined,
            PaymentStatus::Failed,
            PaymentStatus::Pending,
        ] {
            assert_eq!(
                refund_refused(status, 1000, 0, 1),
                Some(RefundClaim::NotRefundable(status))
            );
        }
    }

    #[test]
    fn an_issuer_change_applies_only_to_a_live_card_and_in_order() {
        assert_eq!(issuer_change_refused(CardStatus::Active, None, at(5)), None);
        assert_eq!(
            issuer_change_refused(CardStatus::PendingVerification, Some(at(5)), at(5)),
            None
        );
        for ended in [CardStatus::Unbound, CardStatus::Closed, CardStatus::Binding] {
            assert_eq!(
                issuer_change_refused(ended, None, at(5)),
                Some(IssuerApply::NotLive)
            );
        }
        assert_eq!(
            issuer_change_refused(CardStatus::Active, Some(at(6)), at(5)),
            Some(IssuerApply::Stale)
        );
    }
}
