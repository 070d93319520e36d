//! A person's timeline, written once for both backends: one newest-first
//! query per source (each read through an index on the person and the
//! time, `LIMIT` the page's length), merged here in time order. A page so
//! reads at most its length from each source, however long the history.
//!
//! Entries at the same millisecond are ordered by source, then by id; a
//! cursor names the last entry's source and id (`<source>:<id>`), so each
//! source knows whether its rows at that millisecond come before or after.

use std::cmp::Ordering;

use crate::listings::{Dialect, Listing};
use crate::model::*;
use crate::rows::{Columns, attempt_from_row};
use crate::{StoreError, StoreResult};

/// The tables a timeline reads, in their order among entries of the same
/// millisecond (last first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Source {
    Users,
    AccountEvents,
    Attempts,
    Cards,
    TokenEvents,
    Payments,
    Refunds,
    Transfers,
    Reports,
    Tickets,
}

impl Source {
    const ALL: [Source; 10] = [
        Source::Users,
        Source::AccountEvents,
        Source::Attempts,
        Source::Cards,
        Source::TokenEvents,
        Source::Payments,
        Source::Refunds,
        Source::Transfers,
        Source::Reports,
        Source::Tickets,
    ];

    /// The name a cursor carries.
    fn name(self) -> &'static str {
        match self {
            Source::Users => "user",
            Source::AccountEvents => "account",
            Source::Attempts => "attempt",
            Source::Cards => "card",
            Source::TokenEvents => "token",
            Source::Payments => "payment",
            Source::Refunds => "refund",
            Source::Transfers => "transfer",
            Source::Reports => "report",
            Source::Tickets => "ticket",
        }
    }

    fn named(name: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Numbered rows (an identity id) rather than text ids.
    fn numbered(self) -> bool {
        matches!(self, Source::AccountEvents | Source::TokenEvents)
    }

    /// The source holding entries of this type.
    fn of(kind: TimelineType) -> Source {
        use TimelineType as T;
        match kind {
            T::Signup => Source::Users,
            T::SignIn | T::SignInFailed | T::SignInLocked | T::WalletFrozen | T::WalletUnfrozen => {
                Source::AccountEvents
            }
            T::BindingAttempt | T::CardBound => Source::Attempts,
            T::CardUnbound => Source::Cards,
            T::TokenEvent => Source::TokenEvents,
            T::Payment | T::PaymentDeclined => Source::Payments,
            T::Refund => Source::Refunds,
            T::Transfer => Source::Transfers,
            T::PaymentReport => Source::Reports,
            T::Ticket => Source::Tickets,
        }
    }

    /// `SELECT ... FROM ... WHERE <person> = ` (the person bound next),
    /// with the columns `row_from` reads; then the row's time and id.
    fn shape(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Source::Users => (
                "SELECT u.id AS id, u.created_at AS created_at FROM users u WHERE u.id = ",
                "u.created_at",
                "u.id",
            ),
            Source::AccountEvents => (
                "SELECT e.id AS seq, e.created_at, e.kind AS word, e.trace_id, e.detail \
                 FROM account_events e WHERE e.user_id = ",
                "e.created_at",
                "e.id",
            ),
            Source::Attempts => (
                "SELECT * FROM binding_attempts a WHERE a.user_id = ",
                "a.created_at",
                "a.trace_id",
            ),
            Source::Cards => (
                "SELECT c.id, c.unbound_at AS created_at, c.first6, c.last4, c.pan_length, \
                 (SELECT t.token_ref FROM tokens t WHERE t.card_id = c.id) AS token_ref \
                 FROM cards c WHERE c.unbound_at IS NOT NULL AND c.user_id = ",
                "c.unbound_at",
                "c.id",
            ),
            Source::TokenEvents => (
                "SELECT e.id AS seq, e.created_at, e.kind AS word, e.actor, e.reason AS detail, \
                 e.token_ref, c.id AS card_id, c.first6, c.last4, c.pan_length \
                 FROM token_events e LEFT JOIN tokens t ON t.token_ref = e.token_ref \
                 LEFT JOIN cards c ON c.id = t.card_id WHERE e.user_id = ",
                "e.created_at",
                "e.id",
            ),
            Source::Payments => (
                "SELECT p.id, p.created_at, p.status AS word, p.trace_id, p.card_id, p.token_ref, \
                 p.amount, p.currency, COALESCE(p.merchant_name, p.merchant_id) AS merchant, \
                 p.error_code, p.decline_code, c.first6, c.last4, c.pan_length \
                 FROM payments p LEFT JOIN cards c ON c.id = p.card_id WHERE p.user_id = ",
                "p.created_at",
                "p.id",
            ),
            Source::Refunds => (
                "SELECT r.id, r.created_at, r.status AS word, r.trace_id, r.payment_id, \
                 p.card_id, p.token_ref, r.amount, r.currency, \
                 COALESCE(p.merchant_name, p.merchant_id) AS merchant, r.decline_code, \
                 c.first6, c.last4, c.pan_length \
                 FROM refunds r JOIN payments p ON p.id = r.payment_id \
                 LEFT JOIN cards c ON c.id = p.card_id WHERE r.user_id = ",
                "r.created_at",
                "r.id",
            ),
            Source::Transfers => (
                "SELECT x.id, x.created_at, x.status AS word, x.trace_id, x.card_id, x.amount, \
                 x.currency, x.decline_code, x.to_masked AS actor, c.first6, c.last4, \
                 c.pan_length FROM transfers x LEFT JOIN cards c ON c.id = x.card_id \
                 WHERE x.user_id = ",
                "x.created_at",
                "x.id",
            ),
            Source::Reports => (
                "SELECT r.id, r.created_at, r.trace_id, r.payment_id, r.token_ref, r.ticket_id, \
                 p.card_id, p.amount, p.currency, \
                 COALESCE(p.merchant_name, p.merchant_id) AS merchant, c.first6, c.last4, \
                 c.pan_length FROM payment_reports r LEFT JOIN payments p ON p.id = r.payment_id \
                 LEFT JOIN cards c ON c.id = p.card_id WHERE r.user_id = ",
                "r.created_at",
                "r.id",
            ),
            Source::Tickets => (
                "SELECT s.id, s.created_at, s.status AS word, s.trace_id, s.payment_id, \
                 s.kind AS actor FROM support_tickets s WHERE s.user_id = ",
                "s.created_at",
                "s.id",
            ),
        }
    }

    /// What narrows this source to one type, beyond the person.
    fn only(self, kind: TimelineType, listing: &mut Listing) {
        const SUCCEEDED: &str = "('success', 'verified')";
        const DECLINED: &str = "('declined', 'failed')";
        match (self, kind) {
            (Source::AccountEvents, kind) => {
                listing.push(" AND e.kind = ").text(kind.as_str());
            }
            (Source::Attempts, TimelineType::CardBound) => {
                listing.push(&format!(" AND a.outcome IN {SUCCEEDED}"));
            }
            (Source::Attempts, _) => {
                listing.push(&format!(" AND a.outcome NOT IN {SUCCEEDED}"));
            }
            (Source::Payments, TimelineType::PaymentDeclined) => {
                listing.push(&format!(" AND p.status IN {DECLINED}"));
            }
            (Source::Payments, _) => {
                listing.push(&format!(" AND p.status NOT IN {DECLINED}"));
            }
            _ => {}
        }
    }
}

/// The cursor's entry: its time, source and id.
struct After {
    at: i64,
    source: Source,
    id: String,
}

fn after(query: &TimelineQuery) -> StoreResult<Option<After>> {
    let Some((at, key)) = &query.before else {
        return Ok(None);
    };
    let bad = || StoreError::Other("a timeline cursor names no entry".to_owned());
    let (source, id) = key.split_once(':').ok_or_else(bad)?;
    let source = Source::named(source).ok_or_else(bad)?;
    if source.numbered() && id.parse::<i64>().is_err() {
        return Err(bad());
    }
    Ok(Some(After {
        at: at.timestamp_millis(),
        source,
        id: id.to_owned(),
    }))
}

/// Whether a cursor names an entry a timeline could have listed: the
/// server answers `invalid_request` for one that does not.
pub fn timeline_cursor_is_valid(key: &str) -> bool {
    key.split_once(':')
        .and_then(|(source, id)| {
            let source = Source::named(source)?;
            (!source.numbered() || id.parse::<i64>().is_ok()).then_some(())
        })
        .is_some()
}

/// The queries of one page: each source the type filter leaves, newest
/// first, at most `limit` rows each.
pub(crate) fn listings(
    dialect: Dialect,
    query: &TimelineQuery,
) -> StoreResult<Vec<(Source, Listing)>> {
    let after = after(query)?;
    let sources: Vec<Source> = match query.only {
        Some(kind) => vec![Source::of(kind)],
        None => Source::ALL.to_vec(),
    };
    Ok(sources
        .into_iter()
        .map(|source| {
            let (head, time, tie) = source.shape();
            let mut listing = Listing::new(dialect, head);
            listing.text(query.user_id.as_str());
            if let Some(kind) = query.only {
                source.only(kind, &mut listing);
            }
            if let Some(since) = query.since {
                listing.push(&format!(" AND {time} >= ")).time(since);
            }
            if let Some(after) = &after {
                page_after(&mut listing, source, after, time, tie);
            }
            listing.push(&format!(" ORDER BY {time} DESC, "));
            if source.numbered() {
                listing.push(tie);
            } else {
                listing.bytewise(tie);
            }
            listing.push(&format!(" DESC LIMIT {}", query.limit.max(1)));
            (source, listing)
        })
        .collect())
}

/// The rows after the cursor's entry: older ones, and at its millisecond
/// those of a source listed later, or of its own source with a lower id.
fn page_after(listing: &mut Listing, source: Source, after: &After, time: &str, tie: &str) {
    match source.cmp(&after.source) {
        Ordering::Less => {
            listing.push(&format!(" AND {time} <= ")).int(after.at);
        }
        Ordering::Greater => {
            listing.push(&format!(" AND {time} < ")).int(after.at);
        }
        Ordering::Equal => {
            // `t <= at AND (t < at OR id < after)`: the first term bounds
            // the index range, where an OR alone would read the person's
            // every row.
            listing
                .push(&format!(" AND {time} <= "))
                .int(after.at)
                .push(&format!(" AND ({time} < "))
                .int(after.at)
                .push(" OR ");
            if source.numbered() {
                let id = after.id.parse::<i64>().unwrap_or(i64::MIN);
                listing.push(&format!("{tie} < ")).int(id);
            } else {
                listing.bytewise(tie).push(" < ").text(&after.id);
            }
            listing.push(")");
        }
    }
}

fn opt<T: crate::rows::Column>(
    row: &impl Columns,
    name: &str,
    has: bool,
) -> StoreResult<Option<T>> {
    if has { row.col(name) } else { Ok(None) }
}

/// One row of `source`'s query.
pub(crate) fn row_from(source: Source, row: &impl Columns) -> StoreResult<TimelineRow> {
    use Source as S;
    if source == S::Attempts {
        let attempt = attempt_from_row(row)?;
        let bound = matches!(
            attempt.outcome,
            AttemptOutcome::Success | AttemptOutcome::Verified
        );
        return Ok(TimelineRow {
            source: source.name(),
            id: attempt.trace_id.clone(),
            at: attempt.created_at,
            kind: if bound {
                TimelineType::CardBound
            } else {
                TimelineType::BindingAttempt
            },
            word: Some(attempt.outcome.as_str().to_owned()),
            trace_id: Some(attempt.trace_id.clone()),
            card_id: attempt.card_id.as_ref().map(|id| id.to_string()),
            first6: attempt.first6.clone(),
            last4: attempt.last4.clone(),
            error_code: attempt.error_code.clone(),
            attempt: Some(Box::new(attempt)),
            ..TimelineRow::default()
        });
    }
    let numbered = source.numbered();
    let seq: i64 = if numbered { row.col("seq")? } else { 0 };
    let id = if numbered {
        seq.to_string()
    } else {
        row.col("id")?
    };
    let word: Option<String> = opt(
        row,
        "word",
        source != S::Users && source != S::Cards && source != S::Reports,
    )?;
    let has_card = !matches!(source, S::Users | S::AccountEvents | S::Tickets);
    let has_money = matches!(source, S::Payments | S::Refunds | S::Transfers | S::Reports);
    let kind = match source {
        S::Users => TimelineType::Signup,
        S::AccountEvents => {
            let word = word.as_deref().unwrap_or_default();
            TimelineType::parse(word)
                .filter(|kind| kind.is_account_event())
                .ok_or_else(|| StoreError::Corrupt(format!("account event kind {word:?}")))?
        }
        S::Cards => TimelineType::CardUnbound,
        S::TokenEvents => TimelineType::TokenEvent,
        S::Payments if matches!(word.as_deref(), Some("declined" | "failed")) => {
            TimelineType::PaymentDeclined
        }
        S::Payments => TimelineType::Payment,
        S::Refunds => TimelineType::Refund,
        S::Transfers => TimelineType::Transfer,
        S::Reports => TimelineType::PaymentReport,
        S::Attempts | S::Tickets => TimelineType::Ticket,
    };
    Ok(TimelineRow {
        source: source.name(),
        id: id.clone(),
        seq,
        at: row.time("created_at")?,
        kind,
        word,
        trace_id: opt(
            row,
            "trace_id",
            !matches!(source, S::Users | S::Cards | S::TokenEvents),
        )?,
        card_id: match source {
            S::Cards => Some(id),
            _ => opt(row, "card_id", has_card)?,
        },
        token_ref: opt(
            row,
            "token_ref",
            matches!(
                source,
                S::Cards | S::TokenEvents | S::Payments | S::Refunds | S::Reports
            ),
        )?,
        payment_id: match source {
            S::Payments => Some(row.col("id")?),
            S::Refunds | S::Reports | S::Tickets => row.col("payment_id")?,
            _ => None,
        },
        transfer_id: match source {
            S::Transfers => Some(row.col("id")?),
            _ => None,
        },
        ticket_id: match source {
            S::Tickets => Some(row.col("id")?),
            S::Reports => row.col("ticket_id")?,
            _ => None,
        },
        first6: opt(row, "first6", has_card)?,
        last4: opt(row, "last4", has_card)?,
        pan_length: opt(row, "pan_length", has_card)?,
        amount: opt(row, "amount", has_money)?,
        currency: opt(row, "currency", has_money)?,
        merchant: opt(
            row,
            "merchant",
            matches!(source, S::Payments | S::Refunds | S::Reports),
        )?,
        error_code: opt(row, "error_code", source == S::Payments)?,
        decline_code: opt(
            row,
            "decline_code",
            matches!(source, S::Payments | S::Refunds | S::Transfers),
        )?,
        actor: opt(
            row,
            "actor",
            matches!(source, S::TokenEvents | S::Transfers | S::Tickets),
        )?,
        detail: opt(
            row,
            "detail",
            matches!(source, S::AccountEvents | S::TokenEvents),
        )?,
        attempt: None,
    })
}

/// Every source's rows merged newest first (ties by source, then id, as
/// the queries list them), cut at the page's length.
pub(crate) fn merge(pages: Vec<(Source, Vec<TimelineRow>)>, limit: u32) -> Vec<TimelineRow> {
    let mut all: Vec<(Source, TimelineRow)> = pages
        .into_iter()
        .flat_map(|(source, rows)| rows.into_iter().map(move |row| (source, row)))
        .collect();
    all.sort_by(|(a_source, a), (b_source, b)| {
        b.at.cmp(&a.at)
            .then(b_source.cmp(a_source))
            .then(b.seq.cmp(&a.seq))
            .then(b.id.as_bytes().cmp(a.id.as_bytes()))
    });
    all.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    all.into_iter().map(|(_, row)| row).collect()
}
