//! Watching issuers: the anomaly rule run over the shared attempts table,
//! incidents raised and resolved in the database, and the circuit breaker
//! that answers bindings for an unavailable issuer at once. Every node reads
//! and writes the same rows, so a flag raised on one node holds on all.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use tessera_core::bins::index::big_bank;
use tessera_core::card::AttemptOutcome;
use tessera_core::diagnosis::{Bilingual, CIRCUIT_OPEN};
use tessera_core::error::{ErrorCode, Lang};
use tessera_core::issuer_health::{Anomaly, WindowStats, evaluate};
use tessera_store::{
    AttemptRecord, AttemptStatsQuery, AttemptStatsRow, IncidentFilter, IncidentRecord, Store,
};

use crate::http::error::ApiError;
use crate::http::query;
use crate::http::views::{IncidentList, IncidentQuery, IncidentView};
use crate::state::AppState;

/// When this node last evaluated each issuer (`None`: all of them), so
/// that a burst of bindings does not re-run the rule on every one. On the
/// monotonic clock: a throttle must not stall when the wall clock steps
/// back, and it limits this node's work, whatever time the service tells.
#[derive(Debug, Default)]
pub struct EvaluationClock {
    last: Mutex<HashMap<Option<String>, Instant>>,
}

impl EvaluationClock {
    /// True when `issuer` is due for evaluation now (and marks it).
    fn due(&self, issuer: Option<&str>, interval: Duration) -> bool {
        let Ok(mut last) = self.last.lock() else {
            return true;
        };
        let key = issuer.map(str::to_owned);
        let now = Instant::now();
        match last.get(&key) {
            Some(at) if now.duration_since(*at) < interval => false,
            _ => {
                last.insert(key, now);
                true
            }
        }
    }
}

/// How many stretches the baseline window is cut into: 24 hours make
/// stretches of 10 minutes.
const BASELINE_STRETCHES: i64 = 144;

/// At most this many attempts (the newest) are read from one stretch.
const STRETCH_MAX_SAMPLES: u32 = 20_000;

/// The shortest stretch, for short windows (tests, tuning).
const MIN_STRETCH_MS: i64 = 1_000;

/// Stretch key: the issuer (None: all of them) and the stretch's number.
type StretchKey = (Option<String>, i64);

/// Issuers' baselines, a closed stretch at a time. The baseline window
/// ends where the recent window begins, minutes ago, and no attempt is
/// recorded that late, so what a stretch of it adds up to does not change:
/// each node reads a stretch once and keeps its sums, where it used to
/// re-read 24 hours of attempts every few seconds per issuer (a cost that
/// grew with the traffic). The window's ends snap inward to whole
/// stretches.
#[derive(Debug, Default)]
pub struct BaselineCache {
    stretches: Mutex<HashMap<StretchKey, Arc<Vec<AttemptStatsRow>>>>,
}

impl BaselineCache {
    /// The attempts of `issuer` (None: every issuer) in the `window`
    /// before `until`, as stats rows: one set per stretch, not merged
    /// (their counts add up all the same).
    pub async fn rows(
        &self,
        store: &dyn Store,
        issuer: Option<&str>,
        until: DateTime<Utc>,
        window: TimeDelta,
    ) -> Result<Vec<AttemptStatsRow>, ApiError> {
        // Stretches are numbered in whole milliseconds since the epoch.
        let until = until.timestamp_millis();
        let window_ms = window.num_milliseconds();
        let stretch = (window_ms / BASELINE_STRETCHES).max(MIN_STRETCH_MS);
        let from = until.saturating_sub(window_ms);
        let first = from.div_euclid(stretch) + i64::from(from.rem_euclid(stretch) != 0);
        let end = until.div_euclid(stretch);
        let mut rows = Vec::new();
        for number in first..end {
            let key = (issuer.map(str::to_owned), number);
            let cached = self.lock().get(&key).cloned();
            let sums = match cached {
                Some(sums) => sums,
                None => {
                    let sums = Arc::new(
                        store
                            .attempt_stats(&AttemptStatsQuery {
                                since: epoch_ms(number * stretch),
                                until: epoch_ms((number + 1) * stretch),
                                issuer_code: key.0.clone(),
                                latency_buckets_ms: Vec::new(),
                                newest: Some(STRETCH_MAX_SAMPLES),
                            })
                            .await?,
                    );
                    self.lock().insert(key, Arc::clone(&sums));
                    sums
                }
            };
            rows.extend(sums.iter().cloned());
        }
        // Stretches that have left the window are not needed again.
        self.lock().retain(|(_, number), _| *number >= first);
        Ok(rows)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<StretchKey, Arc<Vec<AttemptStatsRow>>>> {
        // The map holds sums only: one a panicking holder left is still
        // right.
        self.stretches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// An attempt that asked the issuer: its answer (or silence) says something
/// about the bank's health. Field errors, the wallet's own refusals,
/// SMS-code checks and the breaker's own answers do not.
pub fn asked_issuer(issuer_response: Option<&str>) -> bool {
    issuer_response.is_some_and(|answer| answer != CIRCUIT_OPEN)
        && !tessera_core::diagnosis::is_otp_check(issuer_response)
}

/// An issuer's names for messages: the big banks by code, else what the
/// attempts recorded.
pub fn issuer_names(code: &str, recorded: Option<&str>) -> Bilingual {
    if let Some((zh, en)) = big_bank(code) {
        return Bilingual::new(zh, en);
    }
    let recorded = recorded.unwrap_or(code);
    let has_han = recorded
        .chars()
        .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    Bilingual::new(recorded, if has_han { code } else { recorded })
}

/// A failure of the bank side: no answer, a timeout, or an answer that
/// could not be read (all recorded as `issuer_unavailable`).
fn bank_side_failure(code: &str) -> bool {
    code == ErrorCode::IssuerUnavailable.as_str()
}

fn window_stats(rows: &[&AttemptStatsRow]) -> WindowStats {
    let mut stats = WindowStats::default();
    let mut codes: BTreeMap<String, u64> = BTreeMap::new();
    for row in rows {
        if !asked_issuer(row.issuer_response.as_deref()) {
            continue;
        }
        let count = u64::try_from(row.count).unwrap_or(0);
        stats.asked += count;
        stats.latency_sum_ms += row.latency_sum_ms;
        // Only what the bank side failed says the bank is unwell: a card it
        // declined, or a name or phone it did not match, is the bank
        // working (two declines in ten bindings once opened an incident).
        let code = row.error_code.as_deref().unwrap_or_default();
        if row.outcome == AttemptOutcome::Error && bank_side_failure(code) {
            stats.failed += count;
            stats.unavailable += count;
            *codes.entry(code.to_owned()).or_default() += count;
        }
    }
    let mut codes: Vec<(String, u64)> = codes.into_iter().collect();
    codes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    stats.failure_codes = codes;
    stats
}

fn by_issuer(rows: &[AttemptStatsRow]) -> BTreeMap<String, Vec<&AttemptStatsRow>> {
    let mut grouped: BTreeMap<String, Vec<&AttemptStatsRow>> = BTreeMap::new();
    for row in rows {
        if let Some(code) = &row.issuer_code {
            grouped.entry(code.clone()).or_default().push(row);
        }
    }
    grouped
}

/// Runs the anomaly rule for one issuer (or every issuer seen lately) and
/// brings the incidents table in line: new flags raised, flags that no
/// longer hold resolved. A breaker's incident is resolved only by its probe:
/// the bank has to answer, not merely fall quiet.
pub async fn evaluate_issuers(
    state: &AppState,
    issuer: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let config = &state.config.health;
    if !state
        .issuer_clock
        .due(issuer, Duration::from_millis(config.evaluate_interval_ms))
    {
        return Ok(());
    }
    let recent_start = now - seconds(config.recent_window_secs);
    let baseline = seconds(config.baseline_window_secs);
    let issuer_code = issuer.map(str::to_owned);
    let known = state
        .store
        .incidents(&IncidentFilter {
            open_only: false,
            issuer_code: issuer_code.clone(),
            since: Some(recent_start),
            limit: 500,
        })
        .await?;
    let recent_rows = state
        .store
        .attempt_stats(&AttemptStatsQuery {
            since: recent_start,
            until: now + TICK,
            issuer_code: issuer_code.clone(),
            latency_buckets_ms: Vec::new(),
            // One issuer is judged on its newest answers. The overview of
            // every issuer (asked for by a support page, not per binding)
            // reads the whole window, so that a quiet bank's failures are
            // not crowded out of a sample by a busy one's successes.
            newest: issuer.map(|_| config.recent_max_samples),
        })
        .await?;
    let baseline_rows = state
        .baselines
        .rows(state.store.as_ref(), issuer, recent_start, baseline)
        .await?;
    let recent = by_issuer(&recent_rows);
    let baseline = by_issuer(&baseline_rows);
    let mut issuers: BTreeSet<String> = recent.keys().cloned().collect();
    issuers.extend(
        known
            .iter()
            .filter(|i| i.resolved_at.is_none())
            .map(|i| i.issuer_code.clone()),
    );
    for code in issuers {
        // After an incident is resolved, only what came after counts: the
        // failures that raised it must not raise it again.
        let resolved_since = known
            .iter()
            .filter(|i| i.issuer_code == code)
            .filter_map(|i| i.resolved_at)
            .max();
        let (window_start, recent_stats) = match resolved_since {
            Some(resolved) if resolved >= recent_start => {
                let rows = state
                    .store
                    .attempt_stats(&AttemptStatsQuery {
                        since: resolved + TICK,
                        until: now + TICK,
                        issuer_code: Some(code.clone()),
                        latency_buckets_ms: Vec::new(),
                        newest: Some(config.recent_max_samples),
                    })
                    .await?;
                (
                    resolved + TICK,
                    window_stats(&rows.iter().collect::<Vec<_>>()),
                )
            }
            _ => (
                recent_start,
                window_stats(recent.get(&code).map_or(&[][..], Vec::as_slice)),
            ),
        };
        let baseline_stats = window_stats(baseline.get(&code).map_or(&[][..], Vec::as_slice));
        let recorded_name = recent
            .get(&code)
            .or_else(|| baseline.get(&code))
            .and_then(|rows| rows.iter().find_map(|r| r.issuer_name.clone()));
        let names = issuer_names(&code, recorded_name.as_deref());
        let anomalies = evaluate(
            &config.anomaly,
            &names,
            (now - window_start).num_milliseconds(),
            &recent_stats,
            &baseline_stats,
        );
        for anomaly in &anomalies {
            raise(state, &code, &names, anomaly, window_start, now).await?;
        }
        for open in known
            .iter()
            .filter(|i| i.issuer_code == code && i.resolved_at.is_none())
        {
            let still = anomalies.iter().any(|a| a.kind.as_str() == open.kind);
            if !still && !open.breaker_open && state.store.resolve_incident(&open.id, now).await? {
                tracing::warn!(issuer = %code, kind = %open.kind, "issuer incident resolved");
            }
        }
    }
    Ok(())
}

async fn raise(
    state: &AppState,
    code: &str,
    names: &Bilingual,
    anomaly: &Anomaly,
    evidence_since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let cool_down = cool_down(state);
    let raised = state
        .store
        .raise_incident(
            &IncidentRecord {
                id: crate::ids::random_id("inc_", 20),
                issuer_code: code.to_owned(),
                issuer_name_zh: names.zh.clone(),
                issuer_name_en: names.en.clone(),
                kind: anomaly.kind.as_str().to_owned(),
                opened_at: now,
                updated_at: now,
                resolved_at: None,
                samples: i64::try_from(anomaly.samples).unwrap_or(i64::MAX),
                failure_rate: anomaly.failure_rate,
                baseline_failure_rate: anomaly.baseline_failure_rate,
                mean_latency_ms: anomaly.mean_latency_ms,
                baseline_latency_ms: anomaly.baseline_latency_ms,
                top_code: anomaly.top_code.clone(),
                message_zh: anomaly.message.zh.clone(),
                message_en: anomaly.message.en.clone(),
                breaker_open: anomaly.trips_breaker,
                retry_at: anomaly.trips_breaker.then_some(now + cool_down),
                probe_until: None,
            },
            evidence_since,
        )
        .await?;
    if raised.is_some_and(|raised| raised.opened) {
        tracing::warn!(
            issuer = %code,
            kind = %anomaly.kind.as_str(),
            breaker = anomaly.trips_breaker,
            message = %anomaly.message.en,
            "issuer incident opened"
        );
    }
    Ok(())
}

/// Evaluates the attempt's issuer in the background, when the attempt asked
/// it: the person's answer does not wait on health bookkeeping.
pub fn after_attempt(state: &AppState, attempt: &AttemptRecord) {
    let Some(code) = attempt.issuer_code.clone() else {
        return;
    };
    if !asked_issuer(attempt.issuer_response.as_deref()) {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(ApiError(error)) = evaluate_issuers(&state, Some(&code), state.now()).await {
            tracing::warn!(issuer = %code, error = %error, "issuer evaluation failed");
        }
    });
}

/// What the breaker says about asking an issuer now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// No breaker: ask the issuer.
    Closed,
    /// This request is the probe of the open breaker `incident id`: ask the
    /// issuer, then report with `after_probe`.
    Probe(String),
    /// Answer `issuer_unavailable` at once; the issuer may be tried again
    /// after this many seconds.
    Open { retry_after_secs: u64 },
}

/// A wait in whole seconds, rounded up, at least one.
fn ceil_secs(wait: TimeDelta) -> u64 {
    u64::try_from((wait.num_milliseconds().max(1) + 999) / 1000)
        .unwrap_or(1)
        .max(1)
}

/// One millisecond: what makes a window's end inclusive, times being kept
/// to the millisecond.
const TICK: TimeDelta = TimeDelta::milliseconds(1);

fn seconds(secs: u64) -> TimeDelta {
    i64::try_from(secs)
        .ok()
        .and_then(TimeDelta::try_seconds)
        .unwrap_or(TimeDelta::MAX)
}

fn epoch_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn cool_down(state: &AppState) -> TimeDelta {
    TimeDelta::milliseconds(
        i64::try_from(state.config.health.breaker_cool_down_ms).unwrap_or(30_000),
    )
}

/// What the breaker says, given the issuer's open breaker as the binding
/// read it (`Store::binding_context`) just before.
pub async fn gate(
    state: &AppState,
    issuer_code: Option<&str>,
    open_breaker: Option<IncidentRecord>,
    now: DateTime<Utc>,
) -> Result<Gate, ApiError> {
    let (Some(code), Some(incident)) = (issuer_code, open_breaker) else {
        return Ok(Gate::Closed);
    };
    let retry_at = incident.retry_at.unwrap_or(now);
    if now < retry_at {
        return Ok(Gate::Open {
            retry_after_secs: ceil_secs(retry_at - now),
        });
    }
    // The probe waits on the issuer as long as any binding may.
    let lease = seconds(state.config.issuer_timeout_secs) + TimeDelta::seconds(5);
    if state
        .store
        .claim_probe(&incident.id, now, now + lease)
        .await?
    {
        tracing::info!(issuer = %code, incident = %incident.id, "breaker half-open: probing the issuer");
        return Ok(Gate::Probe(incident.id));
    }
    // Another request is probing right now.
    let wait = incident.probe_until.map_or(TimeDelta::seconds(1), |until| {
        (until - now).clamp(TimeDelta::seconds(1), lease)
    });
    Ok(Gate::Open {
        retry_after_secs: ceil_secs(wait),
    })
}

/// The probe's result: an answer of any kind closes the breaker (the bank
/// is back), silence keeps it open for another cool-down.
pub async fn after_probe(
    state: &AppState,
    incident_id: &str,
    answered: bool,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if answered {
        if state.store.resolve_incident(incident_id, now).await? {
            tracing::warn!(incident = %incident_id, "breaker closed: the issuer answered the probe");
        }
    } else {
        state
            .store
            .reopen_breaker(incident_id, now + cool_down(state), now)
            .await?;
        tracing::warn!(incident = %incident_id, "breaker stays open: the probe got no answer");
    }
    Ok(())
}

/// The incidents support asks for (`open` by default, or `all` since
/// `since`, 24 hours by default; one issuer or all), after bringing them up
/// to date with the rule.
pub async fn incidents(
    state: &AppState,
    query: &IncidentQuery,
    now: DateTime<Utc>,
    lang: Lang,
) -> Result<IncidentList, ApiError> {
    let open_only = match query.status.as_deref() {
        None | Some("open") => true,
        Some("all") => false,
        Some(_) => return Err(query::bad_choice("status", &["open", "all"]).into()),
    };
    let since = query::since_or(query.since.as_deref(), now, chrono::Duration::hours(24))?;
    let issuer = query
        .issuer
        .as_deref()
        .map(|code| code.trim().to_ascii_uppercase())
        .filter(|code| !code.is_empty());
    evaluate_issuers(state, None, now).await?;
    let incidents = state
        .store
        .incidents(&IncidentFilter {
            open_only,
            issuer_code: issuer,
            since: (!open_only).then_some(since),
            limit: 200,
        })
        .await?;
    Ok(IncidentList {
        data: incidents
            .iter()
            .map(|i| IncidentView::from_record(i, lang, now))
            .collect(),
        next_cursor: None,
    })
}

/// The breaker's state for views: open, half_open (a probe may go) or closed.
pub fn breaker_state(incident: &IncidentRecord, now: DateTime<Utc>) -> &'static str {
    if incident.resolved_at.is_some() || !incident.breaker_open {
        "closed"
    } else if incident.retry_at.is_some_and(|at| now < at) {
        "open"
    } else {
        "half_open"
    }
}

#[cfg(test)]
mod tests {
    use tessera_store::Support;
    use tessera_store::sqlite::{SqliteOptions, SqliteStore};
    use tessera_store::test_support::at;

    use super::*;

    fn answered(trace: &str, issuer: &str, ms: i64, failed: bool) -> AttemptRecord {
        AttemptRecord {
            client_gone: false,
            trace_id: trace.to_owned(),
            user_id: "u1".to_owned().into(),
            issuer_code: Some(issuer.to_owned()),
            outcome: if failed {
                AttemptOutcome::Error
            } else {
                AttemptOutcome::Success
            },
            error_code: failed.then(|| "issuer_unavailable".to_owned()),
            issuer_response: Some(if failed { "unavailable" } else { "approved" }.to_owned()),
            latency_ms: 10,
            created_at: at(ms),
            ..AttemptRecord::default()
        }
    }

    fn counted(rows: &[AttemptStatsRow]) -> (i64, i64) {
        let failed = rows
            .iter()
            .filter(|r| r.outcome == AttemptOutcome::Error)
            .map(|r| r.count);
        (rows.iter().map(|r| r.count).sum(), failed.sum())
    }

    #[tokio::test]
    async fn the_baseline_adds_up_whole_stretches_read_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db"), SqliteOptions::default())
            .await
            .unwrap();
        // A window of 144 s before 200 s: stretches of one second, from
        // 56 s (inclusive) to 200 s (exclusive).
        for (trace, issuer, at, failed) in [
            ("before", "ABC", 55_999, true),
            ("first", "ABC", 56_000, false),
            ("middle", "ABC", 100_500, true),
            ("last", "ABC", 199_999, false),
            ("other", "CCB", 150_000, false),
            ("after", "ABC", 200_000, false),
        ] {
            store
                .record_attempt(&answered(trace, issuer, at, failed))
                .await
                .unwrap();
        }
        let cache = BaselineCache::default();
        let abc = cache
            .rows(
                &store,
                Some("ABC"),
                at(200_000),
                TimeDelta::milliseconds(144_000),
            )
            .await
            .unwrap();
        assert_eq!(counted(&abc), (3, 1));
        let every = cache
            .rows(&store, None, at(200_000), TimeDelta::milliseconds(144_000))
            .await
            .unwrap();
        assert_eq!(counted(&every), (4, 1));

        // A stretch read once is kept: an attempt recorded into it later
        // (which the recent window's minutes rule out in service) is not
        // read again.
        store
            .record_attempt(&answered("late", "ABC", 100_700, true))
            .await
            .unwrap();
        let again = cache
            .rows(
                &store,
                Some("ABC"),
                at(200_000),
                TimeDelta::milliseconds(144_000),
            )
            .await
            .unwrap();
        assert_eq!(counted(&again), (3, 1));

        // The window's ends snap inward: ending at 200.5 s it starts at
        // 56.5 s, so the stretch at 56 s is only half inside and left out.
        // Ending at 201 s it takes in the stretch at 200 s.
        let snapped = cache
            .rows(
                &store,
                Some("ABC"),
                at(200_500),
                TimeDelta::milliseconds(144_000),
            )
            .await
            .unwrap();
        assert_eq!(counted(&snapped), (2, 1));
        let moved = cache
            .rows(
                &store,
                Some("ABC"),
                at(201_000),
                TimeDelta::milliseconds(144_000),
            )
            .await
            .unwrap();
        assert_eq!(counted(&moved), (3, 1));
        assert!(cache.lock().keys().all(|(_, number)| *number >= 57));
        store.close().await;
    }
}
