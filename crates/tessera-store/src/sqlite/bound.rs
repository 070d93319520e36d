//! A card and its token as they are bound: the column lists and row
//! values that a completion (`cards.rs`) and a seeded card (`bulk_load.rs`)
//! both write, and the card a completion answers without reading it back.

use rusqlite::ToSql;

use crate::model::{BindingCompletion, CardRecord, CardType, NewCard, TokenRecord};
use crate::rows::ms;

/// The values of one row, in the order of the INSERT's columns.
pub(super) type Row<'a> = Vec<Box<dyn ToSql + 'a>>;

macro_rules! row {
    ($($value:expr),* $(,)?) => {
        vec![$(Box::new($value) as Box<dyn rusqlite::ToSql + '_>),*]
    };
}
pub(super) use row;

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
        card.id.as_str(),
        card.user_id.as_str(),
        done.status.as_str(),
        &card.pan_fingerprint,
        i64::from(done.pan_key_version),
        &done.pan_ciphertext,
        &card.first6,
        &card.last4,
        i64::from(card.pan_length),
        card.brand.code(),
        &card.issuer_code,
        &card.issuer_name_zh,
        &card.issuer_name_en,
        card.card_type.map(CardType::code),
        &card.country,
        card.expiry_month.map(i64::from),
        card.expiry_year.map(i64::from),
        &card.holder_name,
        &card.par,
        &card.bank_phone_masked,
        i64::from(is_default),
        ms(card.created_at),
        ms(done.now),
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
        status: done.status,
        pan_fingerprint: card.pan_fingerprint.clone(),
        first6: card.first6.clone(),
        last4: card.last4.clone(),
        pan_length: card.pan_length,
        brand: card.brand.clone(),
        issuer_code: card.issuer_code.clone(),
        issuer_name_zh: card.issuer_name_zh.clone(),
        issuer_name_en: card.issuer_name_en.clone(),
        card_type: card.card_type,
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
            status: token.status,
            // The columns' defaults: no suspender, no ATC used yet.
            suspenders: Vec::new(),
            requestor_id: token.requestor_id.clone(),
            device_id: token.device_id.clone(),
            created_at: done.now,
            psn: token.psn,
            atc_high: 0,
            atc_issued: 0,
            imk_range: token.imk_range.clone(),
            imk_generation: token.imk_generation,
        }),
        otp_sent_to: done.otp.as_ref().map(|otp| otp.sent_to_masked.clone()),
        otp_expires_at: done.otp.as_ref().map(|otp| otp.expires_at),
        reissued_at: None,
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
        done.card_id.as_str(),
        i64::from(token.key_version),
        &token.token_pan_ciphertext,
        &token.token_first6,
        &token.token_last4,
        i64::from(token.expiry_month),
        i64::from(token.expiry_year),
        token.status.as_str(),
        &token.requestor_id,
        &token.device_id,
        ms(done.now),
        ms(done.now),
        &token.token_pan_fingerprint,
        i64::from(token.psn),
        &token.imk_range,
        i64::from(token.imk_generation),
    ]
}
