//! Binding health across everyone: success rate, failures by cause and code,
//! issuer latency, per issuer, brand and card type, over sliding windows.
//! Added up in the database, where every node's attempts are, and shown as
//! JSON (`/v1/support/health/binding`) and Prometheus text (`/metrics`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Duration, TimeDelta, Utc};
use serde::Serialize;
use tessera_core::card::AttemptOutcome;
use tessera_core::error::Lang;
use tessera_store::{AttemptStatsQuery, AttemptStatsRow, Brand, CardType, IncidentFilter};
use utoipa::ToSchema;

use crate::flows::issuer_health::{asked_issuer, breaker_state, issuer_names};
use crate::http::error::{ApiError, rfc3339};
use crate::http::views::IncidentView;
use crate::state::AppState;

/// The sliding windows, by name.
pub const WINDOWS: [(&str, i64); 3] = [("5m", 5 * 60), ("1h", 3600), ("24h", 24 * 3600)];

/// Upper bounds of the latency buckets, in milliseconds.
pub const LATENCY_BUCKETS_MS: [i64; 9] = [50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000];

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LatencyBucket {
    /// Attempts that took at most this long.
    pub le_ms: i64,
    pub count: i64,
}

/// How long the issuer took, over attempts that asked it.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct LatencyStats {
    pub samples: i64,
    pub mean_ms: Option<i64>,
    pub max_ms: Option<i64>,
    /// The upper bound of the bucket holding the median.
    pub p50_at_most_ms: Option<i64>,
    /// The upper bound of the bucket holding the 95th percentile.
    pub p95_at_most_ms: Option<i64>,
    pub buckets: Vec<LatencyBucket>,
}

/// Binding attempts of one group in one window.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct GroupStats {
    pub attempts: i64,
    /// Bound at once, or sent their SMS code.
    pub succeeded: i64,
    /// Of the succeeded, those that went on to an SMS code.
    pub awaiting_sms: i64,
    pub failed: i64,
    /// succeeded / attempts; absent without attempts.
    pub success_rate: Option<f64>,
    /// Failures by cause: a failed binding's (input, card_not_supported,
    /// network, system) and the wallet's rules (account, security).
    pub failures_by_cause: BTreeMap<String, i64>,
    pub failures_by_code: BTreeMap<String, i64>,
    /// Bindings the circuit breaker answered without asking the issuer.
    pub held_back_by_breaker: i64,
    pub issuer_latency: LatencyStats,
    #[serde(skip)]
    latency_sum_ms: i64,
}

impl GroupStats {
    fn add(&mut self, row: &AttemptStatsRow) {
        self.attempts += row.count;
        match row.outcome {
            AttemptOutcome::Success => self.succeeded += row.count,
            AttemptOutcome::PendingVerification => {
                self.succeeded += row.count;
                self.awaiting_sms += row.count;
            }
            AttemptOutcome::Verified | AttemptOutcome::Error => {
                self.failed += row.count;
                let cause = row.cause.clone().unwrap_or_else(|| "unknown".to_owned());
                *self.failures_by_cause.entry(cause).or_default() += row.count;
                let code = row
                    .error_code
                    .clone()
                    .unwrap_or_else(|| "unknown".to_owned());
                *self.failures_by_code.entry(code).or_default() += row.count;
            }
        }
        if row.issuer_response.as_deref() == Some(tessera_core::diagnosis::CIRCUIT_OPEN) {
            self.held_back_by_breaker += row.count;
        }
        if asked_issuer(row.issuer_response.as_deref()) {
            let latency = &mut self.issuer_latency;
            latency.samples += row.count;
            self.latency_sum_ms += row.latency_sum_ms;
            latency.max_ms = Some(latency.max_ms.unwrap_or(0).max(row.latency_max_ms));
            if latency.buckets.is_empty() {
                latency.buckets = LATENCY_BUCKETS_MS
                    .iter()
                    .map(|le| LatencyBucket {
                        le_ms: *le,
                        count: 0,
                    })
                    .collect();
            }
            for (bucket, count) in latency.buckets.iter_mut().zip(&row.latency_buckets) {
                bucket.count += count;
            }
        }
    }

    fn finish(&mut self) {
        if self.attempts > 0 {
            self.success_rate = Some(self.succeeded as f64 / self.attempts as f64);
        }
        let latency = &mut self.issuer_latency;
        if latency.samples > 0 {
            latency.mean_ms = Some(self.latency_sum_ms / latency.samples);
            let quantile = |q: f64| {
                let needed = (q * latency.samples as f64).ceil() as i64;
                latency
                    .buckets
                    .iter()
                    .find(|b| b.count >= needed)
                    .map(|b| b.le_ms)
                    .or(latency.max_ms)
            };
            latency.p50_at_most_ms = quantile(0.5);
            latency.p95_at_most_ms = quantile(0.95);
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssuerStats {
    pub issuer_code: String,
    pub issuer_name_zh: String,
    pub issuer_name_en: String,
    /// The issuer's circuit breaker: closed, open or half_open.
    pub breaker: String,
    #[serde(flatten)]
    pub stats: GroupStats,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyedStats {
    /// The brand or card type code (`unknown` when the BIN did not say).
    pub key: String,
    #[serde(flatten)]
    pub stats: GroupStats,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WindowReport {
    /// 5m, 1h or 24h.
    pub window: String,
    pub since: String,
    pub overall: GroupStats,
    pub issuers: Vec<IssuerStats>,
    pub brands: Vec<KeyedStats>,
    pub card_types: Vec<KeyedStats>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthReport {
    pub generated_at: String,
    pub windows: Vec<WindowReport>,
    /// Open incidents, newest first.
    pub incidents: Vec<IncidentView>,
}

/// A binding attempt (not an SMS-code check).
fn is_binding(row: &AttemptStatsRow) -> bool {
    !tessera_core::diagnosis::is_otp_check(row.issuer_response.as_deref())
        && row.outcome != AttemptOutcome::Verified
}

/// Binding health now, after bringing the issuers' incidents up to date
/// with the anomaly rule.
pub async fn current(
    state: &AppState,
    now: DateTime<Utc>,
    lang: Lang,
) -> Result<HealthReport, ApiError> {
    crate::flows::issuer_health::evaluate_issuers(state, None, now).await?;
    report(state, now, lang).await
}

/// Adds up every window.
pub async fn report(
    state: &AppState,
    now: DateTime<Utc>,
    lang: Lang,
) -> Result<HealthReport, ApiError> {
    let open = state
        .store
        .incidents(&IncidentFilter {
            open_only: true,
            limit: 200,
            ..IncidentFilter::default()
        })
        .await?;
    let mut windows = Vec::new();
    for (name, seconds) in WINDOWS {
        let since = now - Duration::seconds(seconds);
        let rows = state
            .store
            .attempt_stats(&AttemptStatsQuery {
                since,
                until: now + TimeDelta::milliseconds(1),
                issuer_code: None,
                latency_buckets_ms: LATENCY_BUCKETS_MS.to_vec(),
                newest: None,
            })
            .await?;
        let mut overall = GroupStats::default();
        let mut issuers: BTreeMap<String, (Option<String>, GroupStats)> = BTreeMap::new();
        let mut brands: BTreeMap<String, GroupStats> = BTreeMap::new();
        let mut card_types: BTreeMap<String, GroupStats> = BTreeMap::new();
        for row in rows.iter().filter(|r| is_binding(r)) {
            overall.add(row);
            let issuer = row
                .issuer_code
                .clone()
                .unwrap_or_else(|| "unknown".to_owned());
            let slot = issuers.entry(issuer).or_default();
            if slot.0.is_none() {
                slot.0 = row.issuer_name.clone();
            }
            slot.1.add(row);
            let brand = row.brand.as_ref().map_or("unknown", Brand::code).to_owned();
            brands.entry(brand).or_default().add(row);
            let card_type = row.card_type.map_or("unknown", CardType::code).to_owned();
            card_types.entry(card_type).or_default().add(row);
        }
        overall.finish();
        let keyed = |map: BTreeMap<String, GroupStats>| {
            map.into_iter()
                .map(|(key, mut stats)| {
                    stats.finish();
                    KeyedStats { key, stats }
                })
                .collect::<Vec<_>>()
        };
        windows.push(WindowReport {
            window: name.to_owned(),
            since: rfc3339(since),
            overall,
            issuers: issuers
                .into_iter()
                .map(|(code, (recorded, mut stats))| {
                    stats.finish();
                    let names = issuer_names(&code, recorded.as_deref());
                    let breaker = open
                        .iter()
                        .find(|i| i.issuer_code == code && i.breaker_open)
                        .map_or("closed", |i| breaker_state(i, now));
                    IssuerStats {
                        issuer_code: code,
                        issuer_name_zh: names.zh,
                        issuer_name_en: names.en,
                        breaker: breaker.to_owned(),
                        stats,
                    }
                })
                .collect(),
            brands: keyed(brands),
            card_types: keyed(card_types),
        });
    }
    Ok(HealthReport {
        generated_at: rfc3339(now),
        windows,
        incidents: open
            .iter()
            .map(|i| IncidentView::from_record(i, lang, now))
            .collect(),
    })
}

/// A Prometheus label value: backslash, quote and newline escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn gauge(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
}

/// The report in Prometheus's text format. Every node reads the shared
/// database, so each reports the whole cluster's numbers: scrape one node,
/// or aggregate with max().
pub fn prometheus(report: &HealthReport) -> String {
    let mut out = String::new();
    gauge(
        &mut out,
        "tessera_binding_attempts",
        "Binding attempts in the sliding window, by issuer, brand, card type and result.",
    );
    for window in &report.windows {
        for issuer in &window.issuers {
            for (result, value) in [
                ("succeeded", issuer.stats.succeeded),
                ("failed", issuer.stats.failed),
            ] {
                let _ = writeln!(
                    out,
                    "tessera_binding_attempts{{window=\"{}\",issuer=\"{}\",result=\"{result}\"}} {value}",
                    window.window,
                    label(&issuer.issuer_code)
                );
            }
        }
        for (dimension, groups) in [("brand", &window.brands), ("card_type", &window.card_types)] {
            for group in groups {
                for (result, value) in [
                    ("succeeded", group.stats.succeeded),
                    ("failed", group.stats.failed),
                ] {
                    let _ = writeln!(
                        out,
                        "tessera_binding_attempts{{window=\"{}\",{dimension}=\"{}\",result=\"{result}\"}} {value}",
                        window.window,
                        label(&group.key)
                    );
                }
            }
        }
    }
    gauge(
        &mut out,
        "tessera_binding_success_ratio",
        "Share of binding attempts that bound or sent their SMS code, in the sliding window.",
    );
    for window in &report.windows {
        if let Some(rate) = window.overall.success_rate {
            let _ = writeln!(
                out,
                "tessera_binding_success_ratio{{window=\"{}\"}} {rate}",
                window.window
            );
        }
        for issuer in &window.issuers {
            if let Some(rate) = issuer.stats.success_rate {
                let _ = writeln!(
                    out,
                    "tessera_binding_success_ratio{{window=\"{}\",issuer=\"{}\"}} {rate}",
                    window.window,
                    label(&issuer.issuer_code)
                );
            }
        }
    }
    gauge(
        &mut out,
        "tessera_binding_failures",
        "Failed binding attempts in the sliding window, by issuer, cause and code.",
    );
    for window in &report.windows {
        for issuer in &window.issuers {
            for (code, count) in &issuer.stats.failures_by_code {
                let cause = tessera_core::error::ErrorCode::parse(code)
                    .map_or("unknown", |c| c.cause().as_str());
                let _ = writeln!(
                    out,
                    "tessera_binding_failures{{window=\"{}\",issuer=\"{}\",cause=\"{cause}\",code=\"{}\"}} {count}",
                    window.window,
                    label(&issuer.issuer_code),
                    label(code)
                );
            }
        }
    }
    gauge(
        &mut out,
        "tessera_issuer_latency_mean_ms",
        "Mean time of binding attempts that asked the issuer, in the sliding window.",
    );
    for window in &report.windows {
        for issuer in &window.issuers {
            if let Some(mean) = issuer.stats.issuer_latency.mean_ms {
                let _ = writeln!(
                    out,
                    "tessera_issuer_latency_mean_ms{{window=\"{}\",issuer=\"{}\"}} {mean}",
                    window.window,
                    label(&issuer.issuer_code)
                );
            }
        }
    }
    gauge(
        &mut out,
        "tessera_issuer_latency_within_ms",
        "Binding attempts that asked the issuer and took at most `le` milliseconds, in the sliding window.",
    );
    for window in &report.windows {
        for issuer in &window.issuers {
            for bucket in &issuer.stats.issuer_latency.buckets {
                let _ = writeln!(
                    out,
                    "tessera_issuer_latency_within_ms{{window=\"{}\",issuer=\"{}\",le=\"{}\"}} {}",
                    window.window,
                    label(&issuer.issuer_code),
                    bucket.le_ms,
                    bucket.count
                );
            }
        }
    }
    gauge(
        &mut out,
        "tessera_issuer_incident_open",
        "1 while the anomaly rule flags the issuer (kind failure_rate or latency).",
    );
    for incident in &report.incidents {
        let _ = writeln!(
            out,
            "tessera_issuer_incident_open{{issuer=\"{}\",kind=\"{}\"}} 1",
            label(incident.issuer.code.as_deref().unwrap_or("")),
            label(&incident.kind)
        );
    }
    gauge(
        &mut out,
        "tessera_issuer_breaker_open",
        "1 while bindings for the issuer are answered without asking it (open or half_open).",
    );
    for incident in &report.incidents {
        if incident.breaker.state != "closed" {
            let _ = writeln!(
                out,
                "tessera_issuer_breaker_open{{issuer=\"{}\",state=\"{}\"}} 1",
                label(incident.issuer.code.as_deref().unwrap_or("")),
                label(&incident.breaker.state)
            );
        }
    }
    out
}
