//! Cards being bound, held in the writer's memory rather than in the
//! database.
//!
//! A binding reserves its card before it asks the issuer, so that a double
//! tap or a card over the limit is refused before anything leaves. On
//! PostgreSQL that reservation is a row, because other nodes must see it.
//! SQLite has one writer in one process: only that writer ever reads a
//! reservation, and nobody waits for it to be durable (a reservation lost
//! in a crash belonged to a request that died with it). Writing it as a
//! row cost every binding a second insert into six indexes, then an update
//! of the same row and pages, in two commits. Here the reservation is an
//! entry in this map, read and changed only by jobs on the writer thread
//! (and by a release, which only removes), and the completion inserts the
//! card once, as it is bound.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, TimeDelta, Utc};

use crate::model::NewCard;
use crate::{StoreError, StoreResult};

/// How often, at most, expired reservations of every user are swept (in
/// milliseconds of the callers' clock). A user's own expired reservations
/// go at their next reservation; the sweep bounds what users who never
/// come back leave behind (a request that died between reserve and
/// release).
const SWEEP_EVERY: TimeDelta = TimeDelta::minutes(1);

#[derive(Debug, Default)]
pub(super) struct Reservations(Mutex<Held>);

#[derive(Debug, Default)]
pub(super) struct Held {
    /// By user id: the few cards each user is binding right now.
    by_user: HashMap<String, Vec<NewCard>>,
    swept_at: DateTime<Utc>,
}

impl Reservations {
    pub(super) fn lock(&self) -> StoreResult<MutexGuard<'_, Held>> {
        self.0
            .lock()
            .map_err(|_| StoreError::Other("the reservation table was poisoned".to_owned()))
    }
}

impl Held {
    /// Drops the user's reservations that ran out before `now` (and, once a
    /// minute, everyone's): their slots are free again and their
    /// completion is refused.
    pub(super) fn expire(&mut self, user_id: &str, now: DateTime<Utc>) {
        if now - self.swept_at >= SWEEP_EVERY {
            self.by_user.retain(|_, cards| {
                cards.retain(|card| card.reserved_until >= now);
                !cards.is_empty()
            });
            self.swept_at = now;
        } else if let Some(cards) = self.by_user.get_mut(user_id) {
            cards.retain(|card| card.reserved_until >= now);
            if cards.is_empty() {
                self.by_user.remove(user_id);
            }
        }
    }

    /// The user's reservations, after `expire`.
    pub(super) fn of_user(&self, user_id: &str) -> &[NewCard] {
        self.by_user.get(user_id).map_or(&[], Vec::as_slice)
    }

    /// How many other users are binding this card (by PAN fingerprint)
    /// right now: reservations that have not run out.
    pub(super) fn of_card(
        &self,
        pan_fingerprint: &str,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> usize {
        self.by_user
            .iter()
            .filter(|(user, _)| user.as_str() != user_id)
            .filter(|(_, cards)| {
                cards.iter().any(|card| {
                    card.pan_fingerprint == pan_fingerprint && card.reserved_until >= now
                })
            })
            .count()
    }

    pub(super) fn hold(&mut self, card: NewCard) {
        self.by_user
            .entry(card.user_id.to_string())
            .or_default()
            .push(card);
    }

    /// The reservation of `card_id` by `user_id`, if it is still held.
    pub(super) fn get(&self, user_id: &str, card_id: &str) -> Option<&NewCard> {
        self.of_user(user_id).iter().find(|card| card.id == card_id)
    }

    /// Ends a reservation: bound, released or refused. False when it was
    /// not held.
    pub(super) fn remove(&mut self, user_id: Option<&str>, card_id: &str) -> bool {
        let mut removed = false;
        self.by_user.retain(|user, cards| {
            if user_id.is_none_or(|wanted| wanted == user) {
                let before = cards.len();
                cards.retain(|card| card.id != card_id);
                removed |= cards.len() < before;
            }
            !cards.is_empty()
        });
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Brand;
    use crate::rows::at;

    fn card(id: &str, user_id: &str, reserved_until: i64) -> NewCard {
        NewCard {
            id: id.into(),
            user_id: user_id.into(),
            pan_fingerprint: format!("fp-{id}"),
            first6: "622202".to_owned(),
            last4: "1234".to_owned(),
            pan_length: 16,
            brand: Brand::UnionPay,
            issuer_code: None,
            issuer_name_zh: None,
            issuer_name_en: None,
            card_type: None,
            country: None,
            expiry_month: None,
            expiry_year: None,
            holder_name: "张三".to_owned(),
            par: format!("par-{id}"),
            bank_phone_masked: None,
            reserved_until: at(reserved_until),
            created_at: at(0),
        }
    }

    #[test]
    fn a_reservation_is_held_until_it_runs_out_or_ends() {
        let reservations = Reservations::default();
        let mut held = reservations.lock().unwrap();
        held.hold(card("c1", "u1", 1_000));
        held.hold(card("c2", "u1", 2_000));
        held.hold(card("c3", "u2", 1_000));
        held.expire("u1", at(0));
        assert_eq!(held.of_user("u1").len(), 2);
        assert!(held.get("u1", "c1").is_some());
        assert!(held.get("u2", "c1").is_none(), "another user's card");

        // u1's first card runs out; u2's waits for the sweep.
        held.expire("u1", at(1_001));
        assert!(held.get("u1", "c1").is_none());
        assert!(held.get("u1", "c2").is_some());
        assert!(held.get("u2", "c3").is_some());
        held.expire("u1", at(0) + SWEEP_EVERY + TimeDelta::milliseconds(1));
        assert!(held.get("u2", "c3").is_none(), "the sweep took it");
        assert!(held.by_user.values().all(|cards| !cards.is_empty()));

        held.hold(card("c4", "u2", i64::MAX));
        assert!(!held.remove(Some("u1"), "c4"), "not u1's");
        assert!(held.remove(None, "c4"));
        assert!(!held.remove(None, "c4"), "already gone");
        assert!(held.of_user("u2").is_empty());
    }
}
