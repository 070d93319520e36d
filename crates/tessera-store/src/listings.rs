//! The listings whose filters depend on the request (attempts, payments,
//! tickets, incidents, attempt statistics), written once for both
//! backends. Each builds its SQL and parameters for a `Dialect`; the
//! backend binds the parameters and maps the rows (`rows.rs`).
//!
//! Limits are written into the SQL, not bound: SQLite (3.47 on) plans with
//! a bound LIMIT's value and so re-prepares the statement each time it is
//! bound, which cost a fifth of the runtime threads' CPU during bind. A few
//! limits are in use, each a cached statement.

use chrono::{DateTime, Utc};

use crate::model::*;
use crate::rows::ms;

/// Which backend's SQL to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A value bound to a listing's query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    Int(i64),
    Text(String),
}

/// A query and its parameters, in placeholder order.
#[derive(Debug)]
pub(crate) struct Listing {
    dialect: Dialect,
    pub sql: String,
    pub params: Vec<Param>,
}

impl Listing {
    pub(crate) fn new(dialect: Dialect, head: &str) -> Listing {
        Listing {
            dialect,
            sql: head.to_owned(),
            params: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, text: &str) -> &mut Listing {
        self.sql.push_str(text);
        self
    }

    /// Appends the next placeholder (`?` or `$n`) and its value.
    fn bind(&mut self, param: Param) -> &mut Listing {
        self.params.push(param);
        match self.dialect {
            Dialect::Sqlite => self.sql.push('?'),
            Dialect::Postgres => self.sql.push_str(&format!("${}", self.params.len())),
        }
        self
    }

    pub(crate) fn int(&mut self, value: i64) -> &mut Listing {
        self.bind(Param::Int(value))
    }

    /// A time, compared as the Unix milliseconds it is stored as.
    pub(crate) fn time(&mut self, value: DateTime<Utc>) -> &mut Listing {
        self.int(ms(value))
    }

    pub(crate) fn text(&mut self, value: &str) -> &mut Listing {
        self.bind(Param::Text(value.to_owned()))
    }

    /// A text column compared or ordered byte by byte: SQLite's default,
    /// `COLLATE "C"` on PostgreSQL whatever the database's collation, so
    /// that both backends list ties in one order.
    pub(crate) fn bytewise(&mut self, column: &str) -> &mut Listing {
        self.sql.push_str(column);
        if self.dialect == Dialect::Postgres {
            self.sql.push_str(" COLLATE \"C\"");
        }
        self
    }

    /// `AND (created_at < t OR (created_at = t AND <tie> < id))`: the page
    /// after the row `(t, id)` of a newest-first listing.
    fn before(&mut self, before: Option<&(DateTime<Utc>, String)>, tie: &str) -> &mut Listing {
        if let Some((created_at, id)) = before {
            self.push(" AND (created_at < ")
                .time(*created_at)
                .push(" OR (created_at = ")
                .time(*created_at)
                .push(" AND ")
                .bytewise(tie)
                .push(" < ")
                .text(id)
                .push("))");
        }
        self
    }

    /// `ORDER BY <time> DESC, <tie> DESC LIMIT n`.
    fn newest_first(&mut self, time: &str, tie: &str, limit: u32) -> &mut Listing {
        self.push(&format!(" ORDER BY {time} DESC, "))
            .bytewise(tie)
            .push(&format!(" DESC LIMIT {}", limit.max(1)))
    }

    /// `WHERE TRUE` reads the same on both backends from SQLite 3.23 on.
    fn select_all(dialect: Dialect, table: &str) -> Listing {
        Listing::new(dialect, &format!("SELECT * FROM {table} WHERE TRUE"))
    }
}

/// A user's (or everyone's) binding attempts, newest first.
pub(crate) fn attempts(dialect: Dialect, filter: &AttemptFilter) -> Listing {
    let mut listing = Listing::select_all(dialect, "binding_attempts");
    if let Some(user_id) = &filter.user_id {
        listing.push(" AND user_id = ").text(user_id);
    }
    if let Some(trace_id) = &filter.trace_id {
        listing.push(" AND trace_id = ").text(trace_id);
    }
    if let Some(client_request_id) = &filter.client_request_id {
        listing
            .push(" AND client_request_id = ")
            .text(client_request_id);
    }
    if let Some(since) = filter.since {
        listing.push(" AND created_at >= ").time(since);
    }
    listing
        .before(filter.before.as_ref(), "trace_id")
        .newest_first("created_at", "trace_id", filter.limit);
    listing
}

/// A user's payments, newest first.
pub(crate) fn payments(dialect: Dialect, filter: &PaymentFilter) -> Listing {
    let mut listing = Listing::new(dialect, "SELECT * FROM payments WHERE user_id = ");
    listing
        .text(&filter.user_id)
        .before(filter.before.as_ref(), "id")
        .newest_first("created_at", "id", filter.limit);
    listing
}

/// The person's refunds, each with the card paid with and the merchant:
/// the columns `rows::refund_entry_from_row` reads. A refund names its
/// person itself (`r.user_id`, the payment's).
pub(crate) const REFUND_ENTRIES: &str = "(SELECT r.*, p.card_id, p.merchant_id, \
     p.merchant_name FROM refunds r JOIN payments p ON p.id = r.payment_id) AS entries";

/// One kind of the person's records (`payments`, `transfers`, or
/// `REFUND_ENTRIES`), filtered, newest first.
pub(crate) fn records(dialect: Dialect, source: &str, filter: &RecordFilter) -> Listing {
    let mut listing = Listing::new(dialect, &format!("SELECT * FROM {source} WHERE user_id = "));
    listing.text(&filter.user_id);
    if let Some(card_id) = &filter.card_id {
        listing.push(" AND card_id = ").text(card_id);
    }
    if !filter.statuses.is_empty() {
        listing.push(" AND status IN (");
        for (index, status) in filter.statuses.iter().enumerate() {
            if index > 0 {
                listing.push(", ");
            }
            listing.text(status);
        }
        listing.push(")");
    }
    if let Some(since) = filter.since {
        listing.push(" AND created_at >= ").time(since);
    }
    if let Some(until) = filter.until {
        listing.push(" AND created_at < ").time(until);
    }
    listing
        .before(filter.before.as_ref(), "id")
        .newest_first("created_at", "id", filter.limit);
    listing
}

/// Support tickets, newest first; or the longest waiting first, by last
/// activity (`support_tickets_queue` with a status).
pub(crate) fn tickets(dialect: Dialect, filter: &TicketFilter) -> Listing {
    let mut listing = Listing::select_all(dialect, "support_tickets");
    if let Some(user) = &filter.user_id {
        listing.push(" AND user_id = ").text(user);
    }
    if let Some(status) = &filter.status {
        listing.push(" AND status = ").text(status);
    }
    if let Some(idle_since) = filter.idle_since {
        listing.push(" AND last_activity_at < ").time(idle_since);
    }
    if !filter.oldest_first {
        listing
            .before(filter.before.as_ref(), "id")
            .newest_first("created_at", "id", filter.limit);
        return listing;
    }
    if let Some((at, id)) = &filter.after {
        listing
            .push(" AND (last_activity_at > ")
            .time(*at)
            .push(" OR (last_activity_at = ")
            .time(*at)
            .push(" AND ")
            .bytewise("id")
            .push(" > ")
            .text(id)
            .push("))");
    }
    listing
        .push(" ORDER BY last_activity_at, ")
        .bytewise("id")
        .push(&format!(" LIMIT {}", filter.limit.max(1)));
    listing
}

/// People support looks up (`UserSearch`), oldest account first, each
/// search by its index (migration `support_desk`).
pub(crate) fn users_found(dialect: Dialect, search: &UserSearch, limit: u32) -> Listing {
    let mut listing = Listing::new(dialect, "SELECT * FROM users WHERE ");
    match search {
        UserSearch::NameAndIdLast4 {
            name_normalized,
            id_last4,
        } => {
            listing
                .push("real_name_normalized = ")
                .text(name_normalized)
                .push(" AND id_number_last4 = ")
                .text(id_last4);
        }
        // PostgreSQL's `binding` rows are reservations, not cards.
        UserSearch::Card { first6, last4 } => {
            listing
                .push("id IN (SELECT user_id FROM cards WHERE last4 = ")
                .text(last4)
                .push(" AND first6 = ")
                .text(first6)
                .push(" AND status <> 'binding')");
        }
    }
    listing
        .push(" ORDER BY created_at, ")
        .bytewise("id")
        .push(&format!(" LIMIT {}", limit.max(1)));
    listing
}

/// Reads of people's data, newest first.
pub(crate) fn audit_events(dialect: Dialect, filter: &AuditFilter) -> Listing {
    let mut listing = Listing::select_all(dialect, "audit_events");
    listing
        .before(filter.before.as_ref(), "id")
        .newest_first("created_at", "id", filter.limit);
    listing
}

/// Issuer incidents, newest first. Every binding asks for its issuer's
/// open breaker, so the few shapes of this query stay prepared.
pub(crate) fn incidents(dialect: Dialect, filter: &IncidentFilter) -> Listing {
    let mut listing = Listing::select_all(dialect, "issuer_incidents");
    if filter.open_only {
        listing.push(" AND resolved_at IS NULL");
    }
    if let Some(issuer) = &filter.issuer_code {
        listing.push(" AND issuer_code = ").text(issuer);
    }
    if let Some(since) = filter.since {
        listing
            .push(" AND (opened_at >= ")
            .time(since)
            .push(" OR resolved_at IS NULL OR resolved_at >= ")
            .time(since)
            .push(")");
    }
    listing.newest_first("opened_at", "id", filter.limit);
    listing
}

/// Binding attempts in a window, added up by issuer, brand, card type,
/// outcome, code and issuer answer, with latency buckets `b0`, `b1`, ...
/// (`rows::attempt_stats_from_row`).
pub(crate) fn attempt_stats(dialect: Dialect, query: &AttemptStatsQuery) -> Listing {
    // Sums are cast back to integers: over BIGINT, PostgreSQL's SUM is
    // NUMERIC.
    let integer = match dialect {
        Dialect::Sqlite => "INTEGER",
        Dialect::Postgres => "BIGINT",
    };
    let mut listing = Listing::new(
        dialect,
        &format!(
            "SELECT issuer_code, issuer_name, brand, card_type, outcome, error_code, cause, \
             issuer_response, COUNT(*) AS n, CAST(SUM(latency_ms) AS {integer}) AS latency_sum, \
             MAX(latency_ms) AS latency_max"
        ),
    );
    for (index, bound) in query.latency_buckets_ms.iter().enumerate() {
        listing
            .push(", CAST(SUM(CASE WHEN latency_ms <= ")
            .int(*bound)
            .push(&format!(" THEN 1 ELSE 0 END) AS {integer}) AS b{index}"));
    }
    // Capped, the newest attempts of the window are picked first through
    // binding_attempts_issuer (or _time) in reverse, and only they are
    // grouped.
    listing
        .push(if query.newest.is_some() {
            " FROM (SELECT * FROM binding_attempts WHERE created_at >= "
        } else {
            " FROM binding_attempts WHERE created_at >= "
        })
        .time(query.since)
        .push(" AND created_at < ")
        .time(query.until);
    if let Some(issuer) = &query.issuer_code {
        listing.push(" AND issuer_code = ").text(issuer);
    }
    if let Some(newest) = query.newest {
        listing.push(&format!(
            " ORDER BY created_at DESC LIMIT {}) AS newest",
            newest.max(1)
        ));
    }
    listing.push(
        " GROUP BY issuer_code, issuer_name, brand, card_type, outcome, error_code, cause, \
         issuer_response",
    );
    listing
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::at;

    #[test]
    fn placeholders_follow_the_dialect() {
        let filter = PaymentFilter {
            user_id: "usr_1".into(),
            before: Some((at(5), "pay_9".into())),
            limit: 20,
        };
        let sqlite = payments(Dialect::Sqlite, &filter);
        assert_eq!(
            sqlite.sql,
            "SELECT * FROM payments WHERE user_id = ? AND (created_at < ? OR (created_at = ? \
             AND id < ?)) ORDER BY created_at DESC, id DESC LIMIT 20"
        );
        let postgres = payments(Dialect::Postgres, &filter);
        assert_eq!(
            postgres.sql,
            "SELECT * FROM payments WHERE user_id = $1 AND (created_at < $2 OR (created_at = $3 \
             AND id COLLATE \"C\" < $4)) ORDER BY created_at DESC, id COLLATE \"C\" DESC LIMIT 20"
        );
        assert_eq!(
            postgres.params,
            [
                Param::Text("usr_1".into()),
                Param::Int(5),
                Param::Int(5),
                Param::Text("pay_9".into())
            ]
        );
    }

    #[test]
    fn records_are_filtered_by_card_status_and_dates() {
        let filter = RecordFilter {
            user_id: "usr_1".into(),
            card_id: Some("card_1".into()),
            statuses: vec!["settled".into(), "failed".into()],
            since: Some(at(1)),
            until: Some(at(9)),
            before: None,
            limit: 5,
        };
        let listing = records(Dialect::Postgres, "transfers", &filter);
        assert_eq!(
            listing.sql,
            "SELECT * FROM transfers WHERE user_id = $1 AND card_id = $2 AND status IN ($3, $4) \
             AND created_at >= $5 AND created_at < $6 ORDER BY created_at DESC, \
             id COLLATE \"C\" DESC LIMIT 5"
        );
        assert_eq!(listing.params.len(), 6);
    }

    #[test]
    fn a_zero_limit_lists_one() {
        let filter = TicketFilter {
            limit: 0,
            ..TicketFilter::default()
        };
        assert!(tickets(Dialect::Sqlite, &filter).sql.ends_with("LIMIT 1"));
    }

    #[test]
    fn the_queue_lists_the_longest_waiting_first() {
        let filter = TicketFilter {
            status: Some("open".into()),
            idle_since: Some(at(7)),
            oldest_first: true,
            after: Some((at(3), "tkt_1".into())),
            limit: 10,
            ..TicketFilter::default()
        };
        let listing = tickets(Dialect::Postgres, &filter);
        assert_eq!(
            listing.sql,
            "SELECT * FROM support_tickets WHERE TRUE AND status = $1 AND last_activity_at < $2 \
             AND (last_activity_at > $3 OR (last_activity_at = $4 AND id COLLATE \"C\" > $5)) \
             ORDER BY last_activity_at, id COLLATE \"C\" LIMIT 10"
        );
        assert_eq!(listing.params.len(), 5);
    }
}
