//! Each person's latest payments, kept in memory for the risk rules
//! (`Payments::payment_context`).
//!
//! Read from the `payments_user` index, they were most of the CPU a
//! payment spent in SQLite (BENCHMARKS.md, 2026-12-07). SQLite has one
//! writer in one process and every payment is written by it, so, as
//! `limits.rs` does for the binding limits, the lists live where that
//! writer keeps them current: a person's list is filled on the writer
//! thread, from its own connection, the first time a payment asks for it,
//! and every payment the writer inserts or finishes afterwards updates the
//! list in the same job, after its statements succeeded. A list therefore
//! holds what the writer's connection would read, which may include a
//! payment whose batch is still committing. A batch that fails to commit
//! is answered with its error, and each job's caller then drops the list
//! of the person it wrote for, so that no list keeps a payment the
//! database does not have.
//!
//! Every statement that inserts, deletes or changes a payment's person,
//! token, status, amount or time must go through here.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, params};

use super::statements::query_all;
use crate::rows::{Columns, ms, recent_payment};
use crate::{PaymentRecord, PaymentStatus, RecentPaymentRow, StoreError, StoreResult};

/// How many people's lists are kept; past it, one is dropped for each new
/// one (it is filled again on that person's next payment).
const MOST_PEOPLE: usize = 10_000;

#[derive(Debug, Default)]
pub(super) struct RecentPayments(Mutex<Lists>);

#[derive(Debug, Default)]
struct Lists {
    /// Newest first, by (time, payment id) as the index orders them.
    by_person: HashMap<String, Vec<Listed>>,
    /// How many payments each list holds at most: the most any payment
    /// has asked for since start.
    keep: usize,
}

#[derive(Debug)]
struct Listed {
    payment_id: String,
    created_at: i64,
    row: RecentPaymentRow,
}

impl Listed {
    fn key(&self) -> (i64, &str) {
        (self.created_at, &self.payment_id)
    }
}

fn first(list: &[Listed], count: usize) -> Vec<RecentPaymentRow> {
    list.iter()
        .take(count)
        .map(|listed| listed.row.clone())
        .collect()
}

impl RecentPayments {
    fn lists(&self) -> StoreResult<MutexGuard<'_, Lists>> {
        self.0
            .lock()
            .map_err(|_| StoreError::Other("the recent payments were poisoned".to_owned()))
    }

    /// The person's `count` latest payments, newest first, when their list
    /// is kept and long enough; None means "read them from the database".
    pub(super) fn latest(&self, user_id: &str, count: usize) -> Option<Vec<RecentPaymentRow>> {
        let lists = self.lists().ok()?;
        if count > lists.keep {
            return None;
        }
        lists.by_person.get(user_id).map(|list| first(list, count))
    }

    /// Lists the person's latest payments from the writer's connection,
    /// keeping at least `count`, and answers the `count` latest. Runs on
    /// the writer thread only.
    pub(super) fn fill(
        &self,
        conn: &Connection,
        user_id: &str,
        count: usize,
    ) -> StoreResult<Vec<RecentPaymentRow>> {
        let mut lists = self.lists()?;
        if count > lists.keep {
            // Shorter lists cannot answer for more payments than they hold.
            lists.by_person.clear();
            lists.keep = count;
        }
        if let Some(list) = lists.by_person.get(user_id) {
            return Ok(first(list, count));
        }
        let keep = i64::try_from(lists.keep).unwrap_or(i64::MAX);
        let list = query_all(
            conn,
            "SELECT id, token_ref, status, amount, created_at FROM payments \
             WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
            params![user_id, keep],
            |row| {
                let payment = recent_payment(row)?;
                Ok(Listed {
                    payment_id: row.col("id")?,
                    created_at: row.col("created_at")?,
                    row: payment
                        .ok_or_else(|| StoreError::Other("a payment without a token".to_owned()))?,
                })
            },
        )?;
        if lists.by_person.len() >= MOST_PEOPLE
            && let Some(dropped) = lists.by_person.keys().next().cloned()
        {
            lists.by_person.remove(&dropped);
        }
        let latest = first(&list, count);
        lists.by_person.insert(user_id.to_owned(), list);
        Ok(latest)
    }

    /// A payment the writer has just inserted.
    pub(super) fn inserted(&self, payment: &PaymentRecord) -> StoreResult<()> {
        let mut lists = self.lists()?;
        let keep = lists.keep;
        let Some(list) = lists.by_person.get_mut(payment.user_id.as_str()) else {
            return Ok(());
        };
        let listed = Listed {
            payment_id: payment.id.as_str().to_owned(),
            created_at: ms(payment.created_at),
            row: RecentPaymentRow {
                token_ref: payment.token_ref.clone(),
                status: payment.status,
                amount: payment.amount,
                created_at: payment.created_at,
            },
        };
        let at = list.partition_point(|newer| newer.key() > listed.key());
        if at < keep {
            list.insert(at, listed);
            list.truncate(keep);
        }
        Ok(())
    }

    /// A payment's outcome the writer has just recorded.
    pub(super) fn finished(
        &self,
        user_id: &str,
        payment_id: &str,
        status: PaymentStatus,
    ) -> StoreResult<()> {
        let mut lists = self.lists()?;
        if let Some(listed) = lists
            .by_person
            .get_mut(user_id)
            .and_then(|list| list.iter_mut().find(|l| l.payment_id == payment_id))
        {
            listed.row.status = status;
        }
        Ok(())
    }

    /// Drops the person's list: a write for them failed, perhaps after it
    /// was listed.
    pub(super) fn forget(&self, user_id: &str) {
        if let Ok(mut lists) = self.lists() {
            lists.by_person.remove(user_id);
        }
    }
}
