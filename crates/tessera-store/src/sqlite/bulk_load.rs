//! `tessera seed`'s bulk load: a batch of users, active cards, tokens and
//! attempts with multi-row INSERTs, run as one job of the group commit (one
//! savepoint, so a batch is written whole or not at all).

use std::collections::HashSet;

use rusqlite::{Connection, params_from_iter};

use super::bound::*;
use async_trait::async_trait;

use super::*;
use crate::rows::ms;
use crate::{BulkLoad, StoreResult};

/// Rows per INSERT: 25 columns x 400 stays under SQLite's 32,766 variables.
const ROWS: usize = 400;

/// The given token PAN fingerprints that a stored token has, looked up
/// through the unique index `ROWS` at a time.
pub(super) fn stored_token_fingerprints(
    conn: &Connection,
    fingerprints: &[String],
) -> StoreResult<HashSet<String>> {
    let mut stored = HashSet::new();
    for chunk in fingerprints.chunks(ROWS) {
        let sql = format!(
            "SELECT token_pan_fingerprint FROM tokens WHERE token_pan_fingerprint IN ({})",
            vec!["?"; chunk.len()].join(", ")
        );
        // Not a cached statement: its shape varies with the chunk.
        let mut statement = conn.prepare(&sql)?;
        let found = statement.query_map(params_from_iter(chunk), |row| row.get::<_, String>(0))?;
        for fingerprint in found {
            stored.insert(fingerprint?);
        }
    }
    Ok(stored)
}

pub(super) fn insert(conn: &Connection, batch: &SeedBatch) -> StoreResult<()> {
    for users in batch.users.chunks(ROWS) {
        insert_rows(
            conn,
            "INSERT INTO users (id, phone, real_name, real_name_normalized, id_number_hash, \
             id_number_last4, password_hash, created_at) ",
            users,
            |user| {
                row![
                    user.id.as_str(),
                    &user.phone,
                    &user.real_name,
                    &user.real_name_normalized,
                    &user.id_number_hash,
                    &user.id_number_last4,
                    &user.password_hash,
                    ms(user.created_at),
                ]
            },
        )?;
    }
    for cards in batch.cards.chunks(ROWS) {
        insert_rows(
            conn,
            concat!("INSERT INTO cards (", bound_card_columns!(), ") "),
            cards,
            |seeded| bound_card_row(&seeded.card, &seeded.completion, seeded.is_default),
        )?;
        insert_rows(
            conn,
            concat!("INSERT INTO tokens (", bound_token_columns!(), ") "),
            cards,
            |seeded| bound_token_row(&seeded.completion),
        )?;
        insert_rows(
            conn,
            "INSERT INTO binding_attempts (trace_id, user_id, card_id, masked_pan, first6, last4, \
             brand, issuer_code, issuer_name, card_type, country, device, outcome, error_code, \
             cause, error_param, error_reason, issuer_response, latency_ms, created_at) ",
            cards,
            |seeded| {
                let a = &seeded.attempt;
                row![
                    &a.trace_id,
                    a.user_id.as_str(),
                    a.card_id.as_deref(),
                    &a.masked_pan,
                    &a.first6,
                    &a.last4,
                    a.brand.as_ref().map(Brand::code),
                    &a.issuer_code,
                    &a.issuer_name,
                    a.card_type.map(CardType::code),
                    &a.country,
                    &a.device,
                    a.outcome.as_str(),
                    &a.error_code,
                    &a.cause,
                    &a.error_param,
                    &a.error_reason,
                    &a.issuer_response,
                    a.latency_ms,
                    ms(a.created_at),
                ]
            },
        )?;
    }
    Ok(())
}

/// One multi-row INSERT of `rows` (`head` names the table and columns).
/// Not a cached statement: it is large and its shape varies with the
/// chunk.
fn insert_rows<'a, T>(
    conn: &Connection,
    head: &str,
    rows: &'a [T],
    values: impl Fn(&'a T) -> Row<'a>,
) -> StoreResult<()> {
    let mut sql = String::with_capacity(head.len() + rows.len() * 64);
    sql.push_str(head);
    sql.push_str("VALUES ");
    let mut all: Row<'a> = Vec::new();
    for (n, row) in rows.iter().enumerate() {
        let row = values(row);
        if n > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        sql.push_str(&vec!["?"; row.len()].join(", "));
        sql.push(')');
        all.extend(row);
    }
    conn.execute(&sql, params_from_iter(all))?;
    Ok(())
}

#[async_trait]
impl BulkLoad for SqliteStore {
    async fn stored_token_fingerprints(
        &self,
        fingerprints: &[String],
    ) -> StoreResult<HashSet<String>> {
        let fingerprints = fingerprints.to_vec();
        self.scans
            .scan(move |conn| stored_token_fingerprints(conn, &fingerprints))
            .await
    }

    async fn seed_batch(&self, batch: &SeedBatch) -> StoreResult<()> {
        let batch = batch.clone();
        self.queue
            .write_direct(move |conn| insert(conn, &batch))
            .await
    }
}
