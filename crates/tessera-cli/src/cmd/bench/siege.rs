//! The slow-headers scenario: up to N connections that send a request's
//! headers a few bytes every few seconds and never finish them (reopened
//! whenever the server closes or refuses one, as an attacker would), while
//! normal clients, each on a keep-alive connection made before the siege,
//! ask `/healthz` at a steady pace and one new connection a second asks it
//! too. It measures what the normal clients got, what became of the slow
//! connections, and the server's resident memory when given its pid.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use hyper::Method;
use serde::Serialize;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use super::conn::{Connection, Target};
use super::report::{Percentiles, Tally, percentiles};

/// Connections being opened at once: past the listen backlog, opening
/// faster only makes the kernel drop SYNs.
const OPENING_AT_ONCE: usize = 256;

/// A normal client's pause between two requests.
const PACE: Duration = Duration::from_millis(50);

/// Bytes each slow connection sends per interval.
const DRIP: usize = 2;

/// What `--scenario slow-headers` is told.
#[derive(Debug, Clone)]
pub struct SiegePlan {
    pub slow_connections: usize,
    pub interval: Duration,
    pub normal_clients: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub server_pid: Option<u32>,
}

/// The figures of a siege, as `--json` prints them.
#[derive(Debug, Serialize)]
pub struct SiegeReport {
    pub scenario: &'static str,
    /// Slow connections aimed for, and the open-file limit this client got.
    pub slow_connections: usize,
    pub client_open_files: u64,
    pub duration_s: f64,
    pub warmup_s: f64,
    /// Slow connections: opened in all (reopened ones included), the most
    /// open at once, closed by the server, refused with 503, failed to
    /// connect.
    pub slow: SlowCounts,
    /// The keep-alive normal clients' `/healthz`, in the measured window.
    pub healthz: HealthzFigures,
    /// One new connection a second asking `/healthz`: answered 200, or not.
    pub fresh_healthz: BTreeMap<String, u64>,
    /// The server's VmRSS in MB: before the siege, the highest seen, at the
    /// end (`--server-pid`).
    pub server_rss_mb: Option<RssFigures>,
}

#[derive(Debug, Default, Serialize)]
pub struct SlowCounts {
    pub opened: u64,
    pub peak_open: u64,
    pub closed_by_server: u64,
    pub refused_503: u64,
    pub connect_errors: u64,
}

#[derive(Debug, Serialize)]
pub struct HealthzFigures {
    pub clients: usize,
    pub requests: u64,
    pub ok: u64,
    pub errors: BTreeMap<String, u64>,
    pub latency_ms: Percentiles,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct RssFigures {
    pub start: f64,
    pub peak: f64,
    pub end: f64,
}

impl SiegeReport {
    /// Too many failed normal requests (or none answered) fails the run.
    pub fn too_many_errors(&self) -> bool {
        let failed = self.healthz.requests - self.healthz.ok;
        self.healthz.ok == 0
            || failed as f64 > self.healthz.requests as f64 * super::report::MAX_ERROR_RATE
    }

    pub fn table(&self) -> String {
        let h = &self.healthz;
        let l = &h.latency_ms;
        let s = &self.slow;
        let mut out = format!(
            "scenario     slow-headers ({} slow connections, {} normal clients, {:.2} s measured \
             after {:.1} s warm-up)\n",
            self.slow_connections, h.clients, self.duration_s, self.warmup_s
        );
        out.push_str(&format!(
            "slow         opened {}  peak open {}  closed by server {}  refused 503 {}  \
             connect errors {}\n",
            s.opened, s.peak_open, s.closed_by_server, s.refused_503, s.connect_errors
        ));
        out.push_str(&format!(
            "healthz      {} requests, {} ok\n",
            h.requests, h.ok
        ));
        out.push_str(&format!(
            "latency ms   p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}\n",
            l.p50, l.p90, l.p99, l.p999, l.max
        ));
        for (code, count) in &h.errors {
            out.push_str(&format!("  {code:<28} {count}\n"));
        }
        let fresh: Vec<String> = self
            .fresh_healthz
            .iter()
            .map(|(key, count)| format!("{key} {count}"))
            .collect();
        out.push_str(&format!("new conns    {}\n", fresh.join("  ")));
        if let Some(rss) = self.server_rss_mb {
            out.push_str(&format!(
                "server RSS   start {:.0} MB  peak {:.0} MB  end {:.0} MB\n",
                rss.start, rss.peak, rss.end
            ));
        }
        out
    }
}

/// Live counts shared by the slow connections.
#[derive(Debug, Default)]
struct Gauges {
    open: AtomicU64,
    peak: AtomicU64,
    opened: AtomicU64,
    closed: AtomicU64,
    refused: AtomicU64,
    connect_errors: AtomicU64,
    over: AtomicBool,
}

/// The server's resident memory in MB, from /proc (Linux).
fn rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub async fn run(
    plan: SiegePlan,
    target: Target,
    client_open_files: u64,
) -> anyhow::Result<SiegeReport> {
    if let Some(pid) = plan.server_pid {
        rss_mb(pid)
            .with_context(|| format!("--server-pid {pid}: cannot read /proc/{pid}/status"))?;
    }
    let rss_start = plan.server_pid.and_then(rss_mb);
    let gauges = Arc::new(Gauges::default());
    // The normal clients connect before the siege, as a service's callers
    // already would be.
    let mut normal = Vec::with_capacity(plan.normal_clients);
    for _ in 0..plan.normal_clients {
        let mut conn = Connection::new(target.clone());
        let answer = conn
            .send(Method::GET, "/healthz", None, None)
            .await
            .map_err(|e| anyhow::anyhow!("the server does not answer ({})", e.key()))?;
        anyhow::ensure!(answer.status == 200, "/healthz answered {}", answer.status);
        normal.push(conn);
    }
    let started = Instant::now();
    let measure_from = started + plan.warmup;
    let end = measure_from + plan.duration;
    let opening = Arc::new(Semaphore::new(OPENING_AT_ONCE));
    let mut slow = Vec::with_capacity(plan.slow_connections);
    for index in 0..plan.slow_connections {
        let (target, gauges, opening) = (target.clone(), gauges.clone(), opening.clone());
        let interval = plan.interval;
        slow.push(tokio::spawn(async move {
            slow_connection(index, target, interval, gauges, opening).await;
        }));
    }
    let mut probes = Vec::with_capacity(normal.len());
    for conn in normal {
        probes.push(tokio::spawn(normal_client(conn, measure_from, end)));
    }
    let fresh = tokio::spawn(fresh_client(target.clone(), measure_from, end));
    let mut rss_peak = rss_start.unwrap_or(0.0);
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if let Some(rss) = plan.server_pid.and_then(rss_mb) {
            rss_peak = rss_peak.max(rss);
        }
    }
    let rss_end = plan.server_pid.and_then(rss_mb);
    gauges.over.store(true, Ordering::Relaxed);
    let mut tally = Tally::default();
    for probe in probes {
        tally.merge(probe.await.context("a normal client stopped")?);
    }
    let fresh = fresh.await.context("the new-connection client stopped")?;
    for task in slow {
        task.abort();
    }
    tally.latencies_us.sort_unstable();
    let g = &gauges;
    Ok(SiegeReport {
        scenario: "slow-headers",
        slow_connections: plan.slow_connections,
        client_open_files,
        duration_s: plan.duration.as_secs_f64(),
        warmup_s: plan.warmup.as_secs_f64(),
        slow: SlowCounts {
            opened: g.opened.load(Ordering::Relaxed),
            peak_open: g.peak.load(Ordering::Relaxed),
            closed_by_server: g.closed.load(Ordering::Relaxed),
            refused_503: g.refused.load(Ordering::Relaxed),
            connect_errors: g.connect_errors.load(Ordering::Relaxed),
        },
        healthz: HealthzFigures {
            clients: plan.normal_clients,
            requests: tally.requests,
            ok: tally.ok,
            errors: tally.errors,
            latency_ms: percentiles(&tally.latencies_us),
        },
        fresh_healthz: fresh,
        server_rss_mb: rss_start.map(|start| RssFigures {
            start: round(start),
            peak: round(rss_peak),
            end: round(rss_end.unwrap_or(0.0)),
        }),
    })
}

fn round(mb: f64) -> f64 {
    (mb * 10.0).round() / 10.0
}

/// One slow connection, reopened until the run is over.
async fn slow_connection(
    index: usize,
    target: Target,
    interval: Duration,
    gauges: Arc<Gauges>,
    opening: Arc<Semaphore>,
) {
    let host = target.host.to_str().unwrap_or("localhost").to_owned();
    let head = format!("GET /healthz HTTP/1.1\r\nhost: {host}\r\nx-slow: ");
    // Spread the drips over the interval, so that they do not all land at
    // once.
    let offset = interval.mul_f64((index % 1000) as f64 / 1000.0);
    while !gauges.over.load(Ordering::Relaxed) {
        let stream = {
            let Ok(_turn) = opening.acquire().await else {
                return;
            };
            let addr = target.addrs[index % target.addrs.len()];
            tokio::time::timeout(target.timeout, TcpStream::connect(addr)).await
        };
        let Ok(Ok(mut stream)) = stream else {
            gauges.connect_errors.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        gauges.opened.fetch_add(1, Ordering::Relaxed);
        let open = gauges.open.fetch_add(1, Ordering::Relaxed) + 1;
        gauges.peak.fetch_max(open, Ordering::Relaxed);
        tokio::time::sleep(offset).await;
        let mut sent = 0usize;
        let mut answer = [0u8; 16];
        let outcome = loop {
            // The header name's value never ends: the headers never do.
            let drip: Vec<u8> = if sent < head.len() {
                head.as_bytes()[sent..(sent + DRIP).min(head.len())].to_vec()
            } else {
                vec![b'a'; DRIP]
            };
            sent += drip.len();
            // Some(refused with 503) when the server ended it, None when
            // the run did.
            if stream.write_all(&drip).await.is_err() {
                break Some(false);
            }
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                read = stream.read(&mut answer) => {
                    break match read {
                        Ok(n) if n > 0 => Some(answer[..n].starts_with(b"HTTP/1.1 503")),
                        _ => Some(false),
                    };
                }
            }
            if gauges.over.load(Ordering::Relaxed) {
                break None;
            }
        };
        gauges.open.fetch_sub(1, Ordering::Relaxed);
        match outcome {
            Some(true) => gauges.refused.fetch_add(1, Ordering::Relaxed),
            Some(false) => gauges.closed.fetch_add(1, Ordering::Relaxed),
            None => return,
        };
        // An attacker comes straight back; a short pause keeps a refused
        // one from spinning this client.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A normal client on its keep-alive connection, at a steady pace.
async fn normal_client(mut conn: Connection, measure_from: Instant, end: Instant) -> Tally {
    let mut tally = Tally::default();
    loop {
        let sent = Instant::now();
        if sent >= end {
            return tally;
        }
        let answer = conn.send(Method::GET, "/healthz", None, None).await;
        let latency = sent.elapsed();
        if sent >= measure_from {
            match answer {
                Ok(answer) if answer.status == 200 => tally.ok(latency),
                Ok(answer) => tally.error(&format!("http_{}", answer.status)),
                Err(error) => tally.error(error.key()),
            }
        }
        tokio::time::sleep(PACE).await;
    }
}

/// One new connection a second, asking `/healthz` once.
async fn fresh_client(
    target: Target,
    measure_from: Instant,
    end: Instant,
) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    tokio::time::sleep_until(measure_from.into()).await;
    while Instant::now() < end {
        let mut conn = Connection::new(target.clone());
        let key = match conn.send(Method::GET, "/healthz", None, None).await {
            Ok(answer) if answer.status == 200 => "ok".to_owned(),
            Ok(answer) => format!("http_{}", answer.status),
            Err(error) => error.key().to_owned(),
        };
        *counts.entry(key).or_insert(0) += 1;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_process_resident_memory() {
        let own = rss_mb(std::process::id()).unwrap();
        assert!(own > 0.0, "{own}");
        assert_eq!(rss_mb(u32::MAX), None);
    }
}
