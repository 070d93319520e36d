//! What a run measured: each worker keeps its own tally (no shared lock on
//! the hot path), merged at the end into exact percentiles from the sorted
//! latencies of the successful requests.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

/// One worker's counts during the measured window.
#[derive(Debug, Default)]
pub struct Tally {
    pub requests: u64,
    pub ok: u64,
    pub errors: BTreeMap<String, u64>,
    /// Microseconds, of the successful requests only.
    pub latencies_us: Vec<u32>,
}

impl Tally {
    pub fn ok(&mut self, latency: Duration) {
        self.requests += 1;
        self.ok += 1;
        self.latencies_us
            .push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
    }

    pub fn error(&mut self, key: &str) {
        self.requests += 1;
        match self.errors.get_mut(key) {
            Some(count) => *count += 1,
            None => {
                self.errors.insert(key.to_owned(), 1);
            }
        }
    }

    pub fn merge(&mut self, other: Tally) {
        self.requests += other.requests;
        self.ok += other.ok;
        for (key, count) in other.errors {
            *self.errors.entry(key).or_insert(0) += count;
        }
        self.latencies_us.extend(other.latencies_us);
    }
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

/// The figures of one run, as `--json` prints them.
#[derive(Debug, Serialize)]
pub struct Report {
    pub scenario: String,
    pub connections: usize,
    /// The measured window: warm-up excluded.
    pub duration_s: f64,
    pub warmup_s: f64,
    /// Requests started in the measured window and answered (or failed).
    pub requests: u64,
    /// Requests that did the work: 201 for bind, 200 for get-card and healthz.
    pub ok: u64,
    /// By the API's `error.code`, `http_<status>` when the body has none,
    /// or `transport_*` when no answer came.
    pub errors: BTreeMap<String, u64>,
    /// ok / duration_s.
    pub rps: f64,
    /// Of the successful requests.
    pub latency_ms: Percentiles,
}

/// Errors above this share of requests fail the run.
pub const MAX_ERROR_RATE: f64 = 0.01;

impl Report {
    pub fn new(
        scenario: &str,
        connections: usize,
        duration: Duration,
        warmup: Duration,
        mut tally: Tally,
    ) -> Report {
        tally.latencies_us.sort_unstable();
        let seconds = duration.as_secs_f64();
        let latency_ms = percentiles(&tally.latencies_us);
        Report {
            scenario: scenario.to_owned(),
            connections,
            duration_s: round(seconds, 3),
            warmup_s: round(warmup.as_secs_f64(), 3),
            requests: tally.requests,
            ok: tally.ok,
            errors: tally.errors,
            rps: if seconds > 0.0 {
                round(tally.ok as f64 / seconds, 1)
            } else {
                0.0
            },
            latency_ms,
        }
    }

    pub fn failed(&self) -> u64 {
        self.requests - self.ok
    }

    pub fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            return 1.0;
        }
        self.failed() as f64 / self.requests as f64
    }

    /// Too many errors (or nothing at all answered) makes the run fail.
    pub fn too_many_errors(&self) -> bool {
        self.ok == 0 || self.error_rate() > MAX_ERROR_RATE
    }

    /// The human table.
    pub fn table(&self) -> String {
        let l = &self.latency_ms;
        let mut out = String::new();
        out.push_str(&format!(
            "scenario     {} ({} connections, {:.2} s measured after {:.1} s warm-up)\n",
            self.scenario, self.connections, self.duration_s, self.warmup_s
        ));
        out.push_str(&format!("requests     {}\n", self.requests));
        out.push_str(&format!("ok           {} ({:.1}/s)\n", self.ok, self.rps));
        out.push_str(&format!(
            "latency ms   p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}\n",
            l.p50, l.p90, l.p99, l.p999, l.max
        ));
        if self.errors.is_empty() {
            out.push_str("errors       none\n");
        } else {
            out.push_str(&format!(
                "errors       {} ({:.2}%)\n",
                self.failed(),
                self.error_rate() * 100.0
            ));
            for (code, count) in &self.errors {
                out.push_str(&format!("  {code:<28} {count}\n"));
            }
        }
        out
    }
}

/// Nearest-rank percentiles of sorted microseconds, in milliseconds.
pub fn percentiles(sorted_us: &[u32]) -> Percentiles {
    let at = |q: f64| -> f64 {
        if sorted_us.is_empty() {
            return 0.0;
        }
        let rank = (q * sorted_us.len() as f64).ceil() as usize;
        let index = rank.clamp(1, sorted_us.len()) - 1;
        round(f64::from(sorted_us[index]) / 1000.0, 3)
    };
    Percentiles {
        p50: at(0.50),
        p90: at(0.90),
        p99: at(0.99),
        p999: at(0.999),
        max: at(1.0),
    }
}

fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<u32> = (1..=1000).map(|ms| ms * 1000).collect();
        let p = percentiles(&samples);
        assert_eq!(p.p50, 500.0);
        assert_eq!(p.p90, 900.0);
        assert_eq!(p.p99, 990.0);
        assert_eq!(p.p999, 999.0);
        assert_eq!(p.max, 1000.0);
        assert_eq!(percentiles(&[]).p50, 0.0);
        assert_eq!(percentiles(&[1500]).p999, 1.5);
    }

    #[test]
    fn one_percent_of_errors_is_the_limit() {
        let mut tally = Tally::default();
        for _ in 0..99 {
            tally.ok(Duration::from_millis(1));
        }
        tally.error("card_limit_reached");
        let report = Report::new("bind", 1, Duration::from_secs(1), Duration::ZERO, tally);
        assert!(!report.too_many_errors());
        assert_eq!(report.rps, 99.0);
        let mut tally = Tally::default();
        tally.ok(Duration::from_millis(1));
        tally.error("transport_io");
        tally.error("transport_io");
        let report = Report::new("bind", 1, Duration::from_secs(1), Duration::ZERO, tally);
        assert!(report.too_many_errors());
        assert_eq!(report.errors["transport_io"], 2);
    }
}
