//! `tessera seed`'s bulk load: a batch of users, active cards, tokens and
//! attempts with multi-row INSERTs, run as one job of the group commit (one
//! savepoint, so a batch is written whole or not at all).

use std::collections::HashSet;

use rusqlite::{Connection, ToSql, params_from_iter};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use crate::StoreResult;
use crate::model::{BindingCompletion, CardRecord, NewCard, SeedBatch, TokenRecord};

/// Rows per INSERT: 25 columns x 400 stays under SQLite's 32,766 variables.
const ROWS: usize = 400;

/// The given token PAN fingerprints that a stored token has, looked up
/// through the unique index `ROWS` at a time.
pub(super) async fn stored_token_fingerprints(
    readers: &SqlitePool,
    fingerprints: &[String],
) -> StoreResult<HashSet<String>> {
    let mut stored = HashSet::new();
    for chunk in fingerprints.chunks(ROWS) {
        let mut query: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT token_pan_fingerprint FROM tokens WHERE token_pan_fingerprint IN (",
        );
        let mut list = query.separated(", ");
        for fingerprint in chunk {
            list.push_bind(fingerprint);
        }
        query.push(")");
        let found: Vec<String> = query.build_query_scalar().fetch_all(readers).await?;
        stored.extend(found);
    }
    Ok(stored)
}

/// The values of one row, in the order of the INSERT's columns.
pub(super) type Row<'a> = Vec<Box<dyn ToSql + 'a>>;

macro_rules! row {
    ($($value:expr),* $(,)?) => {
        vec![$(Box::new($value) as Box<dyn ToSql + '_>),*]
    };
}

/// The columns of a card inserted as it is bound, in the order of
/// `bound_card_row`: a completion (`complete_binding`) and a seeded card
/// write the same row.
macro_rules! bound_card_columns {
    () => {
        "id, user_id, status, pan_fingerprint, pan_key_version, pan_ciphertext, first6, last4, \
         pan_length, brand, issuer_code, issuer_name_zh, issuer_name_en, card_type, country, \
         expiry_month, expiry_year, holder_name, par, bank_phone_masked, is_default, \
         created_at, updated_at"
    };
}
pub(super) use bound_card_columns;

/// A reserved card's values as it is bound (`bound_card_columns`).
pub(super) fn bound_card_row<'a>(
    card: &'a NewCard,
    done: &'a BindingCompletion,
    is_default: bool,
) -> Row<'a> {
    row![
        &card.id,
        &card.user_id,
        &done.status,
        &card.pan_fingerprint,
        i64::from(done.pan_key_version),
        &done.pan_ciphertext,
        &card.first6,
        &card.last4,
        i64::from(card.pan_length),
        &card.brand,
        &card.issuer_code,
        &card.issuer_name_zh,
        &card.issuer_name_en,
        &card.card_type,
        &card.country,
        card.expiry_month.map(i64::from),
        card.expiry_year.map(i64::from),
        &card.holder_name,
        &card.par,
        &card.bank_phone_masked,
        i64::from(is_default),
        card.created_at,
        done.now,
    ]
}

/// A card as `bound_card_row` and `bound_token_row` write it, with the
/// OTP challenge the completion adds: what reading it back (`CARD_COLUMNS`)
/// would return, built without the read. The store suite's
/// `binding_recorded` compares the two.
pub(super) fn bound_card_record(
    card: &NewCard,
    done: &BindingCompletion,
    is_default: bool,
) -> CardRecord {
    let token = &done.token;
    CardRecord {
        id: card.id.clone(),
        user_id: card.user_id.clone(),
        status: done.status.clone(),
        pan_fingerprint: card.pan_fingerprint.clone(),
        first6: card.first6.clone(),
        last4: card.last4.clone(),
        pan_length: card.pan_length,
        brand: card.brand.clone(),
        issuer_code: card.issuer_code.clone(),
        issuer_name_zh: card.issuer_name_zh.clone(),
        issuer_name_en: card.issuer_name_en.clone(),
        card_type: card.card_type.clone(),
        country: card.country.clone(),
        expiry_month: card.expiry_month,
        expiry_year: card.expiry_year,
        holder_name: card.holder_name.clone(),
        par: card.par.clone(),
        is_default,
        created_at: card.created_at,
        updated_at: done.now,
        has_pan_ciphertext: true,
        token: Some(TokenRecord {
            token_ref: token.token_ref.clone(),
            card_id: done.card_id.clone(),
            token_first6: token.token_first6.clone(),
            token_last4: token.token_last4.clone(),
            expiry_month: token.expiry_month,
            expiry_year: token.expiry_year,
            status: token.status.clone(),
            // The columns' defaults: no suspender, no ATC used yet.
            suspenders: Vec::new(),
            requestor_id: token.requestor_id.clone(),
            device_id: token.device_id.clone(),
            created_at: done.now,
            psn: token.psn,
            atc_high: 0,
            atc_issued: 0,
            imk_range: Some(token.imk_range.clone()),
            imk_generation: token.imk_generation,
        }),
        otp_sent_to: done.otp.as_ref().map(|otp| otp.sent_to_masked.clone()),
        otp_expires_at: done.otp.as_ref().map(|otp| otp.expires_at),
    }
}

/// The columns of a bound card's token, in the order of `bound_token_row`.
macro_rules! bound_token_columns {
    () => {
        "token_ref, card_id, token_pan_key_version, token_pan_ciphertext, token_first6, \
         token_last4, expiry_month, expiry_year, status, requestor_id, device_id, created_at, \
         updated_at, token_pan_fingerprint, psn, imk_range, imk_generation"
    };
}
pub(super) use bound_token_columns;

/// A bound card's token values (`bound_token_columns`).
pub(super) fn bound_token_row(done: &BindingCompletion) -> Row<'_> {
    let token = &done.token;
    row![
        &token.token_ref,
        &done.card_id,
        i64::from(token.key_version),
        &token.token_pan_ciphertext,
        &token.token_first6,
        &token.token_last4,
        i64::from(token.expiry_month),
        i64::from(token.expiry_year),
        &token.status,
        &token.requestor_id,
        &token.device_id,
        done.now,
        done.now,
        &token.token_pan_fingerprint,
        i64::from(token.psn),
        &token.imk_range,
        i64::from(token.imk_generation),
    ]
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
                    &user.id,
                    &user.phone,
                    &user.real_name,
                    &user.real_name_normalized,
                    &user.id_number_hash,
                    &user.id_number_last4,
                    &user.password_hash,
                    user.created_at,
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
                    &a.user_id,
                    &a.card_id,
                    &a.masked_pan,
                    &a.first6,
                    &a.last4,
                    &a.brand,
                    &a.issuer_code,
                    &a.issuer_name,
                    &a.card_type,
                    &a.country,
                    &a.device,
                    &a.outcome,
                    &a.error_code,
                    &a.cause,
                    &a.error_param,
                    &a.error_reason,
                    &a.issuer_response,
                    a.latency_ms,
                    a.created_at,
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
