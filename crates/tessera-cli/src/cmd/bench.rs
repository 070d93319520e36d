//! `tessera bench`: a load generator built into the binary. N simulated
//! clients, each on its own keep-alive connection, send a scenario's
//! requests for a fixed time or count after a warm-up; only answers that did
//! the work count. Loopback targets only unless told otherwise.

use std::io::{IsTerminal as _, Write as _};
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hyper::Method;
use hyper::header::HeaderValue;
use reqwest::Url;

mod conn;
mod report;
mod scenario;
mod siege;

use conn::{Connection, Target};
use report::{Report, Tally};
pub use scenario::Scenario;
use scenario::{Fixture, Kind, UserSource};

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Base URL of the `tessera serve` under test (plain http).
    #[arg(long, default_value = crate::cmd::client::DEFAULT_SERVER)]
    pub server: String,
    #[arg(long, value_enum)]
    pub scenario: Scenario,
    /// Concurrent clients, one connection each.
    #[arg(long, default_value_t = 16)]
    pub connections: usize,
    /// How long to measure, after the warm-up (e.g. 10s, 500ms, 1m).
    #[arg(long, value_parser = parse_duration, conflicts_with = "requests")]
    pub duration: Option<Duration>,
    /// Measure this many requests instead of a duration.
    #[arg(long)]
    pub requests: Option<u64>,
    /// Load before measuring, excluded from the figures.
    #[arg(long, value_parser = parse_duration, default_value = "2s")]
    pub warmup: Duration,
    /// Users to sign up for bind, get-card, mixed and sign-in [default: 2 per connection, at least 4].
    #[arg(long)]
    pub users: Option<usize>,
    /// Sign in as the first N users of `tessera seed` (and use their cards)
    /// instead of signing up new users.
    #[arg(long, conflicts_with = "users")]
    pub seeded_users: Option<usize>,
    /// Print the figures as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Allow a target outside loopback (127.0.0.0/8, ::1, localhost).
    #[arg(long)]
    pub allow_remote: bool,
    /// Threads of the load generator itself.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// A request without an answer after this long counts as transport_timeout.
    #[arg(long, value_parser = parse_duration, default_value = "30s")]
    pub timeout: Duration,
    /// A merchant API key for the merchant BENCH, for pay (`tessera admin
    /// create-key --role merchant --merchant BENCH`).
    #[arg(long, env = "TESSERA_MERCHANT_KEY", hide_env_values = true)]
    pub merchant_key: Option<String>,
    /// An operator API key, to read each new user's sign-up code from the
    /// sandbox phone (`tessera admin create-key --role operator`); servers
    /// without sign-up codes need none.
    #[arg(long, env = "TESSERA_OPERATOR_KEY", hide_env_values = true)]
    pub operator_key: Option<String>,
    /// slow-headers: connections that send their headers slowly (as many
    /// as this client's open-file limit allows); --connections normal
    /// clients ask /healthz meanwhile.
    #[arg(long, default_value_t = 20_000)]
    pub slow_connections: usize,
    /// slow-headers: each slow connection sends 2 bytes this often.
    #[arg(long, value_parser = parse_duration, default_value = "2s")]
    pub slow_interval: Duration,
    /// slow-headers: the server's process id, to read its resident memory
    /// (VmRSS in /proc/PID/status) during the run.
    #[arg(long)]
    pub server_pid: Option<u32>,
}

/// `10s`, `500ms`, `2m`, or plain seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a duration like 10s, 500ms or 2m"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("{text:?}: the unit must be ms, s or m")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}

/// The base URL, checked: plain http, and loopback unless `allow_remote`.
fn check_target(server: &str, allow_remote: bool) -> anyhow::Result<Url> {
    let url = Url::parse(server).with_context(|| format!("--server {server:?} is not a URL"))?;
    if url.scheme() != "http" {
        bail!("--server {server}: only plain http is supported (this client has no TLS)");
    }
    let host = url.host_str().unwrap_or_default();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    };
    if !loopback && !allow_remote {
        bail!(
            "--server {server} is not on this machine: bench only loads loopback targets \
             (127.0.0.0/8, ::1, localhost) unless --allow-remote is given. Load someone \
             else's service only with their consent."
        );
    }
    Ok(url)
}

async fn resolve(url: &Url, timeout: Duration) -> anyhow::Result<Target> {
    let host = url.host_str().context("the URL has no host")?;
    let port = url.port_or_known_default().unwrap_or(80);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((bare, port))
            .await
            .with_context(|| format!("cannot resolve {host}"))?
            .collect(),
    };
    if addrs.is_empty() {
        bail!("{host} resolves to no address");
    }
    let host_header = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    Ok(Target {
        addrs,
        host: HeaderValue::from_str(&host_header).context("the host is not a valid header")?,
        timeout,
    })
}

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let url = check_target(&args.server, args.allow_remote)?;
    args.scenario
        .check_available(args.merchant_key.as_deref(), args.operator_key.as_deref())?;
    if args.connections == 0 {
        bail!("--connections must be at least 1");
    }
    if args.requests == Some(0) {
        bail!("--requests must be at least 1");
    }
    // One thread by default: on a small machine shared with the server,
    // the load generator takes at most one core, and its tasks never wake
    // each other across threads (measured: faster than two threads).
    let runtime = match args.threads {
        0 | 1 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build()?,
    };
    if args.scenario == Scenario::SlowHeaders {
        return slow_headers(&args, &url, &runtime);
    }
    let report = runtime.block_on(bench(&args, &url))?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.table());
    }
    if report.too_many_errors() {
        let hint = report
            .errors
            .keys()
            .map(|code| scenario::limit_hint(code))
            .find(|hint| !hint.is_empty())
            .unwrap_or("");
        eprintln!(
            "error: {} of {} requests failed ({:.2}%, more than {}% allowed){hint}",
            report.failed(),
            report.requests,
            report.error_rate() * 100.0,
            report::MAX_ERROR_RATE * 100.0
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// `--scenario slow-headers`: the siege, with its own figures.
fn slow_headers(
    args: &BenchArgs,
    url: &Url,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<ExitCode> {
    // Every slow connection is a socket of this process too.
    let open_files = tessera_server::listener::raise_open_file_limit()
        .context("cannot read this process's open-file limit")?;
    let room = usize::try_from(open_files.saturating_sub(64 + args.connections as u64 * 2))
        .unwrap_or(usize::MAX);
    let slow_connections = args.slow_connections.min(room);
    if slow_connections < args.slow_connections {
        eprintln!(
            "warning: this client may open {open_files} files: {slow_connections} slow \
             connections instead of {} (raise the hard limit: ulimit -Hn)",
            args.slow_connections
        );
    }
    let plan = siege::SiegePlan {
        slow_connections,
        interval: args.slow_interval,
        normal_clients: args.connections,
        warmup: args.warmup,
        duration: args.duration.unwrap_or(Duration::from_secs(10)),
        server_pid: args.server_pid,
    };
    let report = runtime.block_on(async {
        let target = resolve(url, args.timeout).await?;
        siege::run(plan, target, open_files).await
    })?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.table());
    }
    if report.too_many_errors() {
        eprintln!(
            "error: {} of {} /healthz requests of the normal clients failed (more than {}% \
             allowed)",
            report.healthz.requests - report.healthz.ok,
            report.healthz.requests,
            report::MAX_ERROR_RATE * 100.0
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Counts the workers publish for the progress line.
#[derive(Debug, Default)]
struct Progress {
    ok: AtomicU64,
    errors: AtomicU64,
    done: AtomicBool,
}

/// When the workers stop.
#[derive(Debug)]
struct Plan {
    measure_from: Instant,
    deadline: Option<Instant>,
    tickets: Option<AtomicU64>,
}

impl Plan {
    /// Whether the next request is measured, or None when the run is over.
    fn next(&self, now: Instant) -> Option<bool> {
        if now < self.measure_from {
            return Some(false);
        }
        if let Some(deadline) = self.deadline
            && now >= deadline
        {
            return None;
        }
        if let Some(tickets) = &self.tickets {
            tickets
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                    left.checked_sub(1)
                })
                .ok()?;
        }
        Some(true)
    }
}

async fn bench(args: &BenchArgs, url: &Url) -> anyhow::Result<Report> {
    let target = resolve(url, args.timeout).await?;
    let source = match args.seeded_users {
        Some(n) => UserSource::Seeded(n),
        None => UserSource::Create(args.users.unwrap_or((args.connections * 2).max(4))),
    };
    let interactive = std::io::stderr().is_terminal() && !args.json;
    if interactive {
        eprint!("preparing {} ...", args.scenario.name());
    }
    // The server must answer before users are made or anything is timed.
    let mut probe = Connection::new(target.clone());
    let health = probe
        .send(Method::GET, "/healthz", None, None)
        .await
        .map_err(|e| anyhow::anyhow!("{url} does not answer ({})", e.key()))?;
    if health.status != 200 {
        bail!("{url}healthz answered {}", health.status);
    }
    // Only the clients' own connections stay open during the run.
    drop(probe);
    let fixture = Arc::new(
        scenario::prepare(
            args.scenario,
            &target,
            source,
            args.connections,
            args.operator_key.as_deref(),
        )
        .await?,
    );
    if interactive {
        eprint!("\r\x1b[2K");
    }

    let duration = match (args.duration, args.requests) {
        (Some(d), _) => Some(d),
        (None, Some(_)) => None,
        (None, None) => Some(Duration::from_secs(10)),
    };
    let started = Instant::now();
    let measure_from = started + args.warmup;
    let plan = Arc::new(Plan {
        measure_from,
        deadline: duration.map(|d| measure_from + d),
        tickets: args.requests.map(AtomicU64::new),
    });
    let progress = Arc::new(Progress::default());
    let ticker = interactive.then(|| {
        let progress = progress.clone();
        let name = args.scenario.name();
        let warmup = args.warmup;
        let total = duration;
        let requests = args.requests;
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_millis(200));
            while !progress.done.load(Ordering::Relaxed) {
                interval.tick().await;
                let elapsed = started.elapsed();
                let line = if elapsed < warmup {
                    format!(
                        "{name}: warming up {:.1}/{:.1} s",
                        elapsed.as_secs_f64(),
                        warmup.as_secs_f64()
                    )
                } else {
                    let measured = (elapsed - warmup).as_secs_f64();
                    let ok = progress.ok.load(Ordering::Relaxed);
                    let errors = progress.errors.load(Ordering::Relaxed);
                    let of = match (total, requests) {
                        (Some(total), _) => format!("{measured:.1}/{:.1} s", total.as_secs_f64()),
                        (None, Some(n)) => format!("{}/{n} requests", ok + errors),
                        (None, None) => String::new(),
                    };
                    let rate = if measured > 0.0 {
                        ok as f64 / measured
                    } else {
                        0.0
                    };
                    format!("{name}: {of}  ok {ok}  errors {errors}  {rate:.0}/s")
                };
                let mut stderr = std::io::stderr().lock();
                let _ = write!(stderr, "\r\x1b[2K{line}");
                let _ = stderr.flush();
            }
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K");
            let _ = stderr.flush();
        })
    });

    let mut workers = Vec::with_capacity(args.connections);
    for worker in 0..args.connections {
        let (target, plan, progress, fixture) = (
            target.clone(),
            plan.clone(),
            progress.clone(),
            fixture.clone(),
        );
        let scenario = args.scenario;
        let merchant_key: Arc<str> = Arc::from(args.merchant_key.as_deref().unwrap_or_default());
        let support_key: Arc<str> = Arc::from(args.operator_key.as_deref().unwrap_or_default());
        workers.push(tokio::spawn(async move {
            let clients = Clients {
                fixture: &fixture,
                plan: &plan,
                progress: &progress,
                merchant_key: &merchant_key,
                support_key: &support_key,
            };
            client(worker, scenario, target, clients).await
        }));
    }
    let mut tally = Tally::default();
    let mut last = measure_from;
    for worker in workers {
        let (worker_tally, finished) = worker.await.context("a client task stopped")?;
        tally.merge(worker_tally);
        last = last.max(finished);
    }
    progress.done.store(true, Ordering::Relaxed);
    if let Some(ticker) = ticker {
        let _ = ticker.await;
    }
    Ok(Report::new(
        args.scenario.name(),
        args.connections,
        last.saturating_duration_since(measure_from),
        args.warmup,
        tally,
    ))
}

/// A small xorshift: which card, which request kind. Not for secrets.
#[derive(Debug)]
struct Dice(u64);

impl Dice {
    fn new(worker: usize) -> Dice {
        let mut seed = [0u8; 8];
        let _ = tessera_core::crypto::random_bytes(&mut seed);
        Dice(u64::from_le_bytes(seed) ^ (worker as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// What every client of a run shares.
struct Clients<'a> {
    fixture: &'a Fixture,
    plan: &'a Plan,
    progress: &'a Progress,
    merchant_key: &'a str,
    /// A support or operator key, for timeline.
    support_key: &'a str,
}

/// One simulated client: its own connection, requests back to back.
async fn client(
    worker: usize,
    scenario: Scenario,
    target: Target,
    clients: Clients<'_>,
) -> (Tally, Instant) {
    let Clients {
        fixture,
        plan,
        progress,
        merchant_key,
        support_key,
    } = clients;
    let mut conn = Connection::new(target);
    let mut dice = Dice::new(worker);
    let mut tally = Tally::default();
    let mut finished = plan.measure_from;
    // A payer holds the limited-use keys of a card of its own.
    let mut device = (scenario == Scenario::Pay).then(|| scenario::PayDevice::new(fixture, worker));
    // Where this client is in the timeline: the next page's cursor.
    let mut cursor: Option<String> = None;
    while let Some(measured) = plan.next(Instant::now()) {
        let kind = scenario.pick(dice.next() % 100);
        // Fetching keys is the device's own errand, not the measured request.
        let mut payment = None;
        if let (Kind::Pay, Some(device)) = (kind, device.as_mut()) {
            match device.ensure_keys(&mut conn).await {
                Ok(()) => payment = device.sign(1234),
                Err(key) => {
                    if measured {
                        tally.error(&key);
                        progress.errors.fetch_add(1, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let sent = Instant::now();
        let (answer, expected) = match kind {
            Kind::Healthz => (conn.send(Method::GET, "/healthz", None, None).await, 200),
            Kind::Bind => {
                // Spread the cards over the users, as many wallets would.
                let user = &fixture.users[dice.below(fixture.users.len())];
                (scenario::send_bind(&mut conn, user).await, 201)
            }
            Kind::GetCard => {
                let (user, card) = &fixture.cards[dice.below(fixture.cards.len())];
                let path = format!("/v1/cards/{card}");
                let token = fixture.users[*user].token.as_str();
                (conn.send(Method::GET, &path, Some(token), None).await, 200)
            }
            Kind::Pay => (
                conn.send(Method::POST, "/v1/payments", Some(merchant_key), payment)
                    .await,
                201,
            ),
            Kind::SignIn => (
                conn.send(Method::POST, "/v1/sessions", None, fixture.next_sign_in())
                    .await,
                201,
            ),
            Kind::Timeline => {
                let user = fixture.timeline_user.as_deref().unwrap_or_default();
                let path = scenario::timeline_path(user, cursor.as_deref());
                (
                    conn.send(Method::GET, &path, Some(support_key), None).await,
                    200,
                )
            }
        };
        let latency = sent.elapsed();
        // The page's cursor is read after the clock stopped: the client's
        // own work. An error starts over from the first page.
        if kind == Kind::Timeline {
            cursor = answer.as_ref().ok().and_then(scenario::next_cursor);
        }
        if !measured {
            if let Err(conn::TransportError::Connect) = answer {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            continue;
        }
        finished = Instant::now();
        match answer {
            Ok(answer) if answer.status == expected => {
                tally.ok(latency);
                progress.ok.fetch_add(1, Ordering::Relaxed);
            }
            Ok(answer) => {
                tally.error(&scenario::error_key(&answer));
                progress.errors.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => {
                tally.error(error.key());
                progress.errors.fetch_add(1, Ordering::Relaxed);
                if error == conn::TransportError::Connect {
                    // A server that is down should not spin the client.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }
    (tally, finished)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("10h").is_err());
        assert!(parse_duration("fast").is_err());
    }

    #[test]
    fn only_loopback_without_allow_remote() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.1.2.3:1",
            "http://[::1]:8080",
            "http://localhost:8080",
            "http://LOCALHOST",
        ] {
            assert!(check_target(ok, false).is_ok(), "{ok}");
        }
        for refused in [
            "http://10.0.0.1:8080",
            "http://example.com",
            "http://localhost.example.com",
            "http://[::2]:80",
            "http://0.0.0.0:8080",
        ] {
            let error = check_target(refused, false).unwrap_err().to_string();
            assert!(error.contains("--allow-remote"), "{refused}: {error}");
            assert!(check_target(refused, true).is_ok(), "{refused}");
        }
        assert!(check_target("https://127.0.0.1", false).is_err());
    }
}
