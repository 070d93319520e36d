//! The anomaly rule for issuers: a bank whose failure rate or latency jumps
//! well above its own baseline is flagged, with a message support can read
//! at a glance ("中国工商银行的卡：最近10分钟内42%的绑卡失败，主要是
//! issuer_unavailable"). Pure: the server counts, this judges.

use crate::diagnosis::Bilingual;

/// What one issuer's attempts that reached the bank add up to in a window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowStats {
    /// Attempts that asked the issuer (field errors and refusals by the
    /// wallet's own rules never reach it and say nothing about its health).
    pub asked: u64,
    /// Of those, the ones the bank side failed (no answer, a timeout, an
    /// answer that could not be read). A card the bank declined is the
    /// bank working, and the server does not count it here.
    pub failed: u64,
    /// Of the failures, `issuer_unavailable` (no answer, or a timeout).
    pub unavailable: u64,
    pub latency_sum_ms: i64,
    /// Failure codes with their counts, most frequent first.
    pub failure_codes: Vec<(String, u64)>,
}

impl WindowStats {
    pub fn failure_rate(&self) -> f64 {
        if self.asked == 0 {
            0.0
        } else {
            self.failed as f64 / self.asked as f64
        }
    }

    pub fn mean_latency_ms(&self) -> i64 {
        if self.asked == 0 {
            0
        } else {
            self.latency_sum_ms / i64::try_from(self.asked).unwrap_or(i64::MAX)
        }
    }
}

/// When a jump counts as an anomaly.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnomalyRule {
    /// Attempts that reached the bank in the recent window before anything
    /// is judged; also what a baseline needs to count as one.
    pub min_samples: u64,
    /// The recent failure rate must be at least this many times the baseline...
    pub failure_rate_factor: f64,
    /// ...and at least this much above it (0.2 = 20 points).
    pub failure_rate_min_increase: f64,
    /// The recent mean latency must be at least this many times the baseline...
    pub latency_factor: f64,
    /// ...and at least this many milliseconds above it.
    pub latency_min_increase_ms: i64,
    /// Without a baseline, a mean latency above this is an anomaly.
    pub latency_floor_ms: i64,
    /// A failure-rate anomaly trips the circuit breaker when at least this
    /// share of its failures are `issuer_unavailable`.
    pub unavailable_share: f64,
}

impl Default for AnomalyRule {
    fn default() -> Self {
        AnomalyRule {
            min_samples: 10,
            failure_rate_factor: 2.0,
            failure_rate_min_increase: 0.2,
            latency_factor: 3.0,
            latency_min_increase_ms: 1000,
            latency_floor_ms: 5000,
            unavailable_share: 0.5,
        }
    }
}

/// Which kind of jump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AnomalyKind {
    FailureRate,
    Latency,
}

impl AnomalyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyKind::FailureRate => "failure_rate",
            AnomalyKind::Latency => "latency",
        }
    }

    pub fn parse(name: &str) -> Option<AnomalyKind> {
        match name {
            "failure_rate" => Some(AnomalyKind::FailureRate),
            "latency" => Some(AnomalyKind::Latency),
            _ => None,
        }
    }
}

/// A flag raised for one issuer.
#[derive(Debug, Clone, PartialEq)]
pub struct Anomaly {
    pub kind: AnomalyKind,
    /// Attempts that reached the bank in the recent window.
    pub samples: u64,
    pub failure_rate: f64,
    pub baseline_failure_rate: Option<f64>,
    pub mean_latency_ms: i64,
    pub baseline_latency_ms: Option<i64>,
    /// The most frequent failure code in the recent window.
    pub top_code: Option<String>,
    /// The bank is unavailable: new bindings should not wait on it.
    pub trips_breaker: bool,
    pub message: Bilingual,
}

/// "10 minutes", "30 seconds", "2 hours".
pub fn window_words(ms: i64) -> Bilingual {
    let seconds = ms.max(0) / 1000;
    if seconds < 120 {
        Bilingual::new(format!("{seconds}秒"), format!("{seconds} seconds"))
    } else if seconds < 2 * 3600 {
        let minutes = seconds / 60;
        Bilingual::new(format!("{minutes}分钟"), format!("{minutes} minutes"))
    } else {
        let hours = seconds / 3600;
        Bilingual::new(format!("{hours}小时"), format!("{hours} hours"))
    }
}

fn percent(rate: f64) -> i64 {
    (rate * 100.0).round() as i64
}

fn seconds(ms: i64) -> String {
    let tenths = (ms.max(0) + 50) / 100;
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// Judges one issuer: `recent` is its last `recent_window_ms`, `baseline`
/// the longer stretch before it. Returns the anomalies found, failure rate
/// first.
pub fn evaluate(
    rule: &AnomalyRule,
    issuer: &Bilingual,
    recent_window_ms: i64,
    recent: &WindowStats,
    baseline: &WindowStats,
) -> Vec<Anomaly> {
    let mut found = Vec::new();
    if recent.asked < rule.min_samples.max(1) {
        return found;
    }
    let has_baseline = baseline.asked >= rule.min_samples.max(1);
    let window = window_words(recent_window_ms);
    let top_code = recent.failure_codes.first().map(|(code, _)| code.clone());

    let rate = recent.failure_rate();
    let base_rate = has_baseline.then(|| baseline.failure_rate());
    let floor = base_rate.unwrap_or(0.0);
    let jumped = rate >= floor + rule.failure_rate_min_increase
        && (base_rate.is_none() || rate >= floor * rule.failure_rate_factor);
    if jumped && recent.failed > 0 {
        let trips_breaker =
            recent.unavailable as f64 >= rule.unavailable_share * recent.failed as f64;
        let (usual_zh, usual_en) = match base_rate {
            Some(base) => (
                format!("（平时为{}%）", percent(base)),
                format!(" (usually {}%)", percent(base)),
            ),
            None => ("（暂无基线）".to_owned(), " (no baseline yet)".to_owned()),
        };
        let mostly = top_code.as_deref().unwrap_or("?");
        found.push(Anomaly {
            kind: AnomalyKind::FailureRate,
            samples: recent.asked,
            failure_rate: rate,
            baseline_failure_rate: base_rate,
            mean_latency_ms: recent.mean_latency_ms(),
            baseline_latency_ms: has_baseline.then(|| baseline.mean_latency_ms()),
            top_code: top_code.clone(),
            trips_breaker,
            message: Bilingual::new(
                format!(
                    "{}的卡：最近{}内{}%的绑卡失败，主要是{mostly}{usual_zh}",
                    issuer.zh,
                    window.zh,
                    percent(rate)
                ),
                format!(
                    "{} cards: {}% of bindings failed in the last {}, mostly {mostly}{usual_en}",
                    issuer.en,
                    percent(rate),
                    window.en
                ),
            ),
        });
    }

    let latency = recent.mean_latency_ms();
    let base_latency = has_baseline.then(|| baseline.mean_latency_ms());
    let slow = match base_latency {
        Some(base) => {
            latency as f64 >= base as f64 * rule.latency_factor
                && latency - base >= rule.latency_min_increase_ms
        }
        None => latency >= rule.latency_floor_ms,
    };
    if slow {
        let (usual_zh, usual_en) = match base_latency {
            Some(base) => (
                format!("，平时为{}秒", seconds(base)),
                format!(", against {} s usually", seconds(base)),
            ),
            None => ("，暂无基线".to_owned(), " (no baseline yet)".to_owned()),
        };
        found.push(Anomaly {
            kind: AnomalyKind::Latency,
            samples: recent.asked,
            failure_rate: rate,
            baseline_failure_rate: base_rate,
            mean_latency_ms: latency,
            baseline_latency_ms: base_latency,
            top_code,
            trips_breaker: false,
            message: Bilingual::new(
                format!(
                    "{}的卡：最近{}内绑卡平均耗时{}秒{usual_zh}",
                    issuer.zh,
                    window.zh,
                    seconds(latency)
                ),
                format!(
                    "{} cards: bindings took {} s on average in the last {}{usual_en}",
                    issuer.en,
                    seconds(latency),
                    window.en
                ),
            ),
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn icbc() -> Bilingual {
        Bilingual::new("中国工商银行", "ICBC")
    }

    fn stats(asked: u64, failed: u64, unavailable: u64, latency_ms: i64) -> WindowStats {
        let mut codes = Vec::new();
        if unavailable > 0 {
            codes.push(("issuer_unavailable".to_owned(), unavailable));
        }
        if failed > unavailable {
            codes.push(("card_declined".to_owned(), failed - unavailable));
        }
        codes.sort_by_key(|c| std::cmp::Reverse(c.1));
        WindowStats {
            asked,
            failed,
            unavailable,
            latency_sum_ms: latency_ms * i64::try_from(asked).unwrap(),
            failure_codes: codes,
        }
    }

    const TEN_MINUTES: i64 = 10 * 60 * 1000;

    #[test]
    fn a_jump_above_the_baseline_is_flagged_with_its_words() {
        let rule = AnomalyRule::default();
        let found = evaluate(
            &rule,
            &icbc(),
            TEN_MINUTES,
            &stats(50, 21, 18, 400),
            &stats(2000, 60, 20, 380),
        );
        assert_eq!(found.len(), 1);
        let anomaly = &found[0];
        assert_eq!(anomaly.kind, AnomalyKind::FailureRate);
        assert!(anomaly.trips_breaker);
        assert_eq!(
            anomaly.message.en,
            "ICBC cards: 42% of bindings failed in the last 10 minutes, mostly issuer_unavailable (usually 3%)"
        );
        assert_eq!(
            anomaly.message.zh,
            "中国工商银行的卡：最近10分钟内42%的绑卡失败，主要是issuer_unavailable（平时为3%）"
        );
    }

    #[test]
    fn the_usual_level_and_small_samples_are_not_flagged() {
        let rule = AnomalyRule::default();
        // An issuer that always declines a quarter of cards.
        assert!(
            evaluate(
                &rule,
                &icbc(),
                TEN_MINUTES,
                &stats(40, 10, 0, 300),
                &stats(3000, 750, 0, 300)
            )
            .is_empty()
        );
        // Too few attempts to judge.
        assert!(
            evaluate(
                &rule,
                &icbc(),
                TEN_MINUTES,
                &stats(9, 9, 9, 300),
                &WindowStats::default()
            )
            .is_empty()
        );
        // A jump of less than 20 points above a low baseline.
        assert!(
            evaluate(
                &rule,
                &icbc(),
                TEN_MINUTES,
                &stats(100, 15, 15, 300),
                &stats(1000, 10, 10, 300)
            )
            .is_empty()
        );
    }

    #[test]
    fn declines_flag_without_tripping_the_breaker() {
        let found = evaluate(
            &AnomalyRule::default(),
            &icbc(),
            TEN_MINUTES,
            &stats(20, 12, 1, 300),
            &WindowStats::default(),
        );
        assert_eq!(found.len(), 1);
        assert!(!found[0].trips_breaker);
        assert!(
            found[0]
                .message
                .en
                .contains("mostly card_declined (no baseline yet)")
        );
    }

    #[test]
    fn latency_jumps_are_flagged_against_the_baseline_or_the_floor() {
        let rule = AnomalyRule::default();
        let found = evaluate(
            &rule,
            &icbc(),
            TEN_MINUTES,
            &stats(30, 0, 0, 3200),
            &stats(500, 0, 0, 300),
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, AnomalyKind::Latency);
        assert_eq!(
            found[0].message.en,
            "ICBC cards: bindings took 3.2 s on average in the last 10 minutes, against 0.3 s usually"
        );
        assert!(found[0].message.zh.contains("平均耗时3.2秒"));
        // Without a baseline only the floor counts.
        assert!(
            evaluate(
                &rule,
                &icbc(),
                TEN_MINUTES,
                &stats(30, 0, 0, 3200),
                &WindowStats::default()
            )
            .is_empty()
        );
        let slow = evaluate(
            &rule,
            &icbc(),
            30_000,
            &stats(30, 0, 0, 6000),
            &WindowStats::default(),
        );
        assert_eq!(slow.len(), 1);
        assert!(slow[0].message.en.contains("in the last 30 seconds"));
    }
}
