//! `tessera seed`'s bulk load: a batch of users, active cards, tokens and
//! attempts in one transaction (one fsync), with multi-row INSERTs.

use std::collections::HashSet;

use async_trait::async_trait;
use sqlx::{PgPool, Postgres, QueryBuilder};

use super::*;
use crate::rows::ms;
use crate::{BulkLoad, StoreResult};

/// Rows per INSERT: 25 columns x 400 stays under 65,535 bind parameters.
const ROWS: usize = 400;

/// The given token PAN fingerprints that a stored token has, in one query
/// through the unique index.
pub(super) async fn stored_token_fingerprints(
    pool: &PgPool,
    fingerprints: &[String],
) -> StoreResult<HashSet<String>> {
    let found: Vec<String> = sqlx::query_scalar(
        "SELECT token_pan_fingerprint FROM tokens WHERE token_pan_fingerprint = ANY($1)",
    )
    .bind(fingerprints)
    .fetch_all(pool)
    .await?;
    Ok(found.into_iter().collect())
}

pub(super) async fn insert(pool: &PgPool, batch: &SeedBatch) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    for users in batch.users.chunks(ROWS) {
        let mut query: QueryBuilder<Postgres> = QueryBuilder::new(
            "INSERT INTO users (id, phone, real_name, real_name_normalized, id_number_hash, \
             id_number_last4, password_hash, created_at) ",
        );
        query.push_values(users, |mut row, user| {
            row.push_bind(user.id.as_str())
                .push_bind(&user.phone)
                .push_bind(&user.real_name)
                .push_bind(&user.real_name_normalized)
                .push_bind(&user.id_number_hash)
                .push_bind(&user.id_number_last4)
                .push_bind(&user.password_hash)
                .push_bind(ms(user.created_at));
        });
        query.build().execute(&mut *tx).await?;
    }
    for cards in batch.cards.chunks(ROWS) {
        let mut query: QueryBuilder<Postgres> = QueryBuilder::new(
            "INSERT INTO cards (id, user_id, status, pan_fingerprint, pan_key_version, \
             pan_ciphertext, first6, last4, pan_length, brand, issuer_code, issuer_name_zh, \
             issuer_name_en, card_type, country, expiry_month, expiry_year, holder_name, par, \
             bank_phone_masked, is_default, created_at, updated_at) ",
        );
        query.push_values(cards, |mut row, seeded| {
            let (card, done) = (&seeded.card, &seeded.completion);
            row.push_bind(card.id.as_str())
                .push_bind(card.user_id.as_str())
                .push_bind(done.status.as_str())
                .push_bind(&card.pan_fingerprint)
                .push_bind(i64::from(done.pan_key_version))
                .push_bind(&done.pan_ciphertext)
                .push_bind(&card.first6)
                .push_bind(&card.last4)
                .push_bind(i64::from(card.pan_length))
                .push_bind(card.brand.code())
                .push_bind(&card.issuer_code)
                .push_bind(&card.issuer_name_zh)
                .push_bind(&card.issuer_name_en)
                .push_bind(card.card_type.map(CardType::code))
                .push_bind(&card.country)
                .push_bind(card.expiry_month.map(i64::from))
                .push_bind(card.expiry_year.map(i64::from))
                .push_bind(&card.holder_name)
                .push_bind(&card.par)
                .push_bind(&card.bank_phone_masked)
                .push_bind(seeded.is_default)
                .push_bind(ms(card.created_at))
                .push_bind(ms(done.now));
        });
        query.build().execute(&mut *tx).await?;

        let mut query: QueryBuilder<Postgres> = QueryBuilder::new(
            "INSERT INTO tokens (token_ref, card_id, token_pan_key_version, token_pan_ciphertext, \
             token_first6, token_last4, expiry_month, expiry_year, status, requestor_id, \
             device_id, created_at, updated_at, token_pan_fingerprint, psn, imk_range, \
             imk_generation) ",
        );
        query.push_values(cards, |mut row, seeded| {
            let (done, token) = (&seeded.completion, &seeded.completion.token);
            row.push_bind(&token.token_ref)
                .push_bind(done.card_id.as_str())
                .push_bind(i64::from(token.key_version))
                .push_bind(&token.token_pan_ciphertext)
                .push_bind(&token.token_first6)
                .push_bind(&token.token_last4)
                .push_bind(i64::from(token.expiry_month))
                .push_bind(i64::from(token.expiry_year))
                .push_bind(token.status.as_str())
                .push_bind(&token.requestor_id)
                .push_bind(&token.device_id)
                .push_bind(ms(done.now))
                .push_bind(ms(done.now))
                .push_bind(&token.token_pan_fingerprint)
                .push_bind(i64::from(token.psn))
                .push_bind(&token.imk_range)
                .push_bind(i64::from(token.imk_generation));
        });
        query.build().execute(&mut *tx).await?;

        let mut query: QueryBuilder<Postgres> = QueryBuilder::new(
            "INSERT INTO binding_attempts (trace_id, user_id, card_id, masked_pan, first6, last4, \
             brand, issuer_code, issuer_name, card_type, country, device, outcome, error_code, \
             cause, error_param, error_reason, issuer_response, latency_ms, created_at) ",
        );
        query.push_values(cards, |mut row, seeded| {
            let a = &seeded.attempt;
            row.push_bind(&a.trace_id)
                .push_bind(a.user_id.as_str())
                .push_bind(a.card_id.as_deref())
                .push_bind(&a.masked_pan)
                .push_bind(&a.first6)
                .push_bind(&a.last4)
                .push_bind(a.brand.as_ref().map(Brand::code))
                .push_bind(&a.issuer_code)
                .push_bind(&a.issuer_name)
                .push_bind(a.card_type.map(CardType::code))
                .push_bind(&a.country)
                .push_bind(&a.device)
                .push_bind(a.outcome.as_str())
                .push_bind(&a.error_code)
                .push_bind(&a.cause)
                .push_bind(&a.error_param)
                .push_bind(&a.error_reason)
                .push_bind(&a.issuer_response)
                .push_bind(a.latency_ms)
                .push_bind(ms(a.created_at));
        });
        query.build().execute(&mut *tx).await?;
    }
    // Cards written without a reservation: their owners' counts of live
    // cards (migration 0013) become unknown, so that the next reservation
    // counts the cards rather than trust a count now below the truth.
    let mut owners: Vec<&str> = batch
        .cards
        .iter()
        .map(|c| c.card.user_id.as_str())
        .collect();
    owners.sort_unstable();
    owners.dedup();
    if !owners.is_empty() {
        sqlx::query(
            "UPDATE users SET live_cards = NULL WHERE id = ANY($1) AND live_cards IS NOT NULL",
        )
        .bind(&owners)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

#[async_trait]
impl BulkLoad for PgStore {
    async fn stored_token_fingerprints(
        &self,
        fingerprints: &[String],
    ) -> StoreResult<HashSet<String>> {
        stored_token_fingerprints(&self.pool, fingerprints).await
    }

    async fn seed_batch(&self, batch: &SeedBatch) -> StoreResult<()> {
        // seed.rs takes its connection from the pool itself; the permit
        // stands for it (see lease.rs).
        let _permit = self.warm.permit().await?;
        insert(&self.pool, batch).await
    }
}
