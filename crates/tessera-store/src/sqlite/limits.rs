//! Rolling-window limits (binding attempts, SMS codes), counted in the
//! writer's memory and logged to the database.
//!
//! SQLite has one writer in one process, and every claim runs on it, so
//! the count can live where only that writer reads it, as the reservations
//! of `reservations.rs` do. Kept in tables, a claim cost every binding
//! eight statements and random pages of two indexes; here it costs one
//! appended row per bucket in `limit_hits` (no index), which only a start
//! reads back, so that a restart forgets no hit that was committed. Hits
//! of a batch that failed to commit stay counted until the next start:
//! the error is on the side of the limit.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::{Connection, params};

use super::statements::exec;
use crate::rows::{limit_claim, ms};
use crate::{LimitBucket, LimitClaim, StoreError, StoreResult};

/// How often, at most, buckets whose hits have all left the window are
/// dropped and their rows deleted (in milliseconds of the callers' clock).
const SWEEP_EVERY: i64 = 60_000;

const MOST_HITS: usize = LimitBucket::MOST_HITS as usize;

#[derive(Debug, Default)]
pub(super) struct Limits(Mutex<Counted>);

#[derive(Debug, Default)]
struct Counted {
    /// Each bucket's hits (Unix milliseconds) still inside the window,
    /// oldest first.
    by_bucket: HashMap<String, VecDeque<i64>>,
    /// (time, row id) of each logged hit, in the order of their rows, so
    /// that a sweep deletes the rows that left the window by row id.
    logged: VecDeque<(i64, i64)>,
    /// The widest window claimed with so far: a sweep keeps what it holds.
    widest: i64,
    swept_at: i64,
}

impl Limits {
    fn counted(&self) -> StoreResult<std::sync::MutexGuard<'_, Counted>> {
        self.0
            .lock()
            .map_err(|_| StoreError::Other("the limit counts were poisoned".to_owned()))
    }

    /// The hits logged by earlier runs, read once at start.
    pub(super) fn load(conn: &Connection) -> StoreResult<Limits> {
        let mut counted = Counted::default();
        let mut statement =
            conn.prepare("SELECT rowid, bucket, at FROM limit_hits ORDER BY rowid")?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let (rowid, bucket, at): (i64, String, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
            counted.count(bucket, at);
            counted.logged.push_back((at, rowid));
        }
        Ok(Limits(Mutex::new(counted)))
    }

    /// Counts one hit in every bucket, or none when any already holds its
    /// limit of hits newer than `now - window`. Runs on the writer thread
    /// only, so claims are counted one at a time.
    pub(super) fn claim(
        &self,
        conn: &Connection,
        buckets: &[LimitBucket],
        window: TimeDelta,
        now: DateTime<Utc>,
    ) -> StoreResult<LimitClaim> {
        let mut counted = self.counted()?;
        let now_ms = ms(now);
        let window_ms = window.num_milliseconds();
        counted.widest = counted.widest.max(window_ms);
        let window_start = now_ms - window_ms;
        let mut refused = 0;
        let mut free_at: Option<i64> = None;
        for (i, bucket) in buckets.iter().enumerate() {
            let held = counted.in_window(&bucket.bucket, window_start);
            let limit = usize::try_from(bucket.limit).unwrap_or(usize::MAX);
            if held.len() >= limit {
                // The slot frees when enough of the oldest hits have left.
                let oldest = held.get(held.len() - limit).copied();
                if refused == 0 || oldest.zip(free_at).is_some_and(|(o, f)| o > f) {
                    free_at = oldest;
                    refused = i + 1;
                }
            }
        }
        if refused > 0 {
            return limit_claim(refused, free_at, window, now);
        }
        // The rows first: a hit counted in memory is one the log holds.
        for bucket in buckets {
            exec(
                conn,
                "INSERT INTO limit_hits (bucket, at) VALUES (?, ?)",
                params![bucket.bucket.as_str(), now_ms],
            )?;
            counted.logged.push_back((now_ms, conn.last_insert_rowid()));
        }
        for bucket in buckets {
            counted.count(bucket.bucket.clone(), now_ms);
        }
        if now_ms - counted.swept_at >= SWEEP_EVERY {
            let window_start = now_ms - counted.widest;
            counted.forget(conn, window_start)?;
            counted.swept_at = now_ms;
        }
        Ok(LimitClaim::Counted)
    }

    /// Forgets every hit at or before `before`, in memory and in the log;
    /// the number of buckets left with none.
    pub(super) fn purge(&self, conn: &Connection, before: i64) -> StoreResult<u64> {
        let mut counted = self.counted()?;
        counted.forget(conn, before)
    }
}

impl Counted {
    /// The bucket's hits after those at or before `window_start` left.
    fn in_window(&mut self, bucket: &str, window_start: i64) -> &[i64] {
        let Some(hits) = self.by_bucket.get_mut(bucket) else {
            return &[];
        };
        drop_until(hits, window_start);
        hits.make_contiguous()
    }

    /// Adds a hit, in time order (callers' clocks may step back a little),
    /// and keeps the newest `LimitBucket::MOST_HITS`: no limit counted
    /// exactly needs more.
    fn count(&mut self, bucket: String, at: i64) {
        let hits = self.by_bucket.entry(bucket).or_default();
        let position = hits.partition_point(|&held| held <= at);
        hits.insert(position, at);
        if hits.len() > MOST_HITS {
            hits.pop_front();
        }
    }

    /// Drops the hits at or before `window_start`, the buckets left empty
    /// and the rows of those hits; the number of buckets dropped.
    fn forget(&mut self, conn: &Connection, window_start: i64) -> StoreResult<u64> {
        let before = self.by_bucket.len();
        self.by_bucket.retain(|_, hits| {
            drop_until(hits, window_start);
            !hits.is_empty()
        });
        let dropped = before - self.by_bucket.len();
        let mut last_gone = None;
        while let Some(&(at, rowid)) = self.logged.front()
            && at <= window_start
        {
            last_gone = Some(rowid);
            self.logged.pop_front();
        }
        if let Some(rowid) = last_gone {
            exec(
                conn,
                "DELETE FROM limit_hits WHERE rowid <= ?",
                params![rowid],
            )?;
        }
        Ok(u64::try_from(dropped).unwrap_or(u64::MAX))
    }
}

/// Drops a bucket's hits at or before `window_start` (they are in time
/// order).
fn drop_until(hits: &mut VecDeque<i64>, window_start: i64) {
    while hits.front().is_some_and(|&at| at <= window_start) {
        hits.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::at;

    fn database() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE limit_hits (bucket TEXT NOT NULL, at INTEGER NOT NULL)")
            .unwrap();
        conn
    }

    fn bucket(name: &str, limit: u32) -> LimitBucket {
        LimitBucket {
            bucket: name.to_owned(),
            limit,
        }
    }

    fn rows(conn: &Connection) -> i64 {
        conn.query_row("SELECT COUNT(*) FROM limit_hits", [], |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn a_restart_counts_the_logged_hits() {
        let conn = database();
        let window = TimeDelta::seconds(10);
        let limits = Limits::load(&conn).unwrap();
        let card = [bucket("card:a", 2)];
        for now in [1_000, 2_000] {
            assert_eq!(
                limits.claim(&conn, &card, window, at(now)).unwrap(),
                LimitClaim::Counted
            );
        }
        assert_eq!(rows(&conn), 2);
        // A new run reads them back: the card is still full.
        let restarted = Limits::load(&conn).unwrap();
        assert_eq!(
            restarted.claim(&conn, &card, window, at(3_000)).unwrap(),
            LimitClaim::Refused {
                index: 0,
                free_at: at(11_000)
            }
        );
    }

    #[test]
    fn a_sweep_deletes_the_rows_that_left_the_window() {
        let conn = database();
        let window = TimeDelta::seconds(10);
        let limits = Limits::load(&conn).unwrap();
        for (n, now) in [1_000, 2_000, 70_000].into_iter().enumerate() {
            let buckets = [bucket(&format!("card:{n}"), 5), bucket("user:u", 5)];
            limits.claim(&conn, &buckets, window, at(now)).unwrap();
        }
        // The claim at 70 s swept the four rows of 1 s and 2 s.
        assert_eq!(rows(&conn), 2);
        let counted = limits.0.lock().unwrap();
        assert_eq!(counted.by_bucket.len(), 2, "card:2 and user:u");
        assert_eq!(counted.by_bucket["user:u"], [70_000]);
        assert_eq!(counted.logged.len(), 2);
    }

    #[test]
    fn hits_stay_in_time_order_when_a_clock_steps_back() {
        let mut counted = Counted::default();
        for at in [5_000, 3_000, 4_000, 6_000] {
            counted.count("user:u".to_owned(), at);
        }
        assert_eq!(counted.in_window("user:u", 3_000), [4_000, 5_000, 6_000]);
    }
}
