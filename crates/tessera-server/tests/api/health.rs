//! Binding health across everyone: the windows and their breakdowns, the
//! Prometheus text, the anomaly rule raising and clearing incidents as the
//! sandbox issuer's failure rate and latency are changed at run time, and
//! the circuit breaker opening, probing and closing.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_server::issuer::sandbox::{self, Outcome};

use crate::diagnose::{bind_from, diagnose, xiaomi};
use crate::{Backend, TestServer, assert_error, card};

async fn tune(server: &TestServer, issuer: &str, latency_ms: u64, failure_rate: f64) {
    let (status, _, body) = server
        .call(
            Method::PUT,
            "/v1/sandbox/issuer",
            Some(&server.operator_key),
            Some(&json!({"issuer_code": issuer, "latency_ms": latency_ms, "failure_rate": failure_rate})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn incidents(server: &TestServer, query: &str) -> Vec<Value> {
    let (status, _, body) = server
        .call(
            Method::GET,
            &format!("/v1/support/incidents{query}"),
            Some(&server.support_key),
            None,
            &[("accept-language", "en")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().unwrap().clone()
}

async fn attempt(server: &TestServer, trace: &str) -> Value {
    let (status, body) = server
        .get(
            &format!("/v1/support/attempts?trace_id={trace}"),
            &server.support_key,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    body["data"][0].clone()
}

async fn metrics(server: &TestServer) -> String {
    let response = server
        .client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    response.text().await.unwrap()
}

/// Four attempts that reached a bank are enough to judge it; every attempt
/// is evaluated; room for the cards and attempts a test binds. The breaker
/// keeps its 30 s cool-down: tests move the clock through it.
fn watched(config: &mut tessera_server::Config) {
    config.health.anomaly.min_samples = 4;
    config.health.evaluate_interval_ms = 0;
    config.card_limit = 50;
    config.limits.user_bindings_per_day = 100;
}

/// The breaker's cool-down (`health.breaker_cool_down_ms`, by default).
const COOL_DOWN: Duration = Duration::from_secs(30);

async fn binding_health_adds_up_by_issuer_brand_and_card_type_with_metrics(backend: Backend) {
    let server = TestServer::start_on(backend, watched).await;
    let user = server.user().await;
    // 中国农业银行 (ABC) takes 260 ms to answer, just past the 250 ms
    // bucket; the rest of a binding adds well under the next bucket's 240.
    tune(&server, "ABC", 260, 0.0).await;
    let mut numbers = Vec::new();
    for outcome in [
        Outcome::Approve,
        Outcome::Approve,
        Outcome::DoNotHonor,
        Outcome::Otp,
    ] {
        numbers.push(card(outcome));
    }
    // 436742: 中国建设银行 Visa debit; 620010: 平安银行 prepaid (refused).
    numbers.push(sandbox::card_number("436742", 19, Outcome::Approve).unwrap());
    numbers.push(sandbox::card_number("620010", 16, Outcome::Approve).unwrap());
    numbers.push("4242424242424241".to_owned());
    let mut pending = None;
    for number in &numbers {
        let (status, body, _) = bind_from(&server, &user, number, xiaomi("wifi")).await;
        if status == StatusCode::ACCEPTED {
            pending = body["id"].as_str().map(str::to_owned);
        }
    }
    // The SMS-code check is not a binding attempt of its own.
    let otp = server.latest_otp(&user).await;
    let (status, body) = server
        .post(
            &format!("/v1/cards/{}/verify", pending.unwrap()),
            &user.token,
            json!({"otp": otp}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, health) = server
        .get("/v1/support/health/binding", &server.support_key)
        .await;
    assert_eq!(status, StatusCode::OK, "{health}");
    let windows = health["windows"].as_array().unwrap();
    assert_eq!(
        windows
            .iter()
            .map(|w| w["window"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["5m", "1h", "24h"]
    );
    for window in windows {
        let overall = &window["overall"];
        assert_eq!(overall["attempts"], 7, "{overall}");
        assert_eq!(overall["succeeded"], 4);
        assert_eq!(overall["awaiting_sms"], 1);
        assert_eq!(overall["failed"], 3);
        assert_eq!(
            overall["failures_by_cause"],
            json!({"card_not_supported": 2, "input": 1})
        );
        assert_eq!(
            overall["failures_by_code"],
            json!({"card_declined": 1, "card_not_supported": 1, "incorrect_number": 1})
        );
        let issuers = window["issuers"].as_array().unwrap();
        let abc = issuers.iter().find(|i| i["issuer_code"] == "ABC").unwrap();
        assert_eq!(abc["attempts"], 4);
        assert_eq!(abc["succeeded"], 3);
        assert_eq!(abc["success_rate"], 0.75);
        assert_eq!(abc["issuer_name_zh"], "中国农业银行");
        assert_eq!(abc["issuer_name_en"], "Agricultural Bank of China");
        assert_eq!(abc["breaker"], "closed");
        let latency = &abc["issuer_latency"];
        assert_eq!(latency["samples"], 4);
        let mean = latency["mean_ms"].as_i64().unwrap();
        let max = latency["max_ms"].as_i64().unwrap();
        assert!((260..500).contains(&mean), "{latency}");
        assert!((mean..500).contains(&max), "{latency}");
        let buckets: Vec<(i64, i64)> = latency["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| (b["le_ms"].as_i64().unwrap(), b["count"].as_i64().unwrap()))
            .collect();
        assert_eq!(
            buckets,
            [
                (50, 0),
                (100, 0),
                (250, 0),
                (500, 4),
                (1000, 4),
                (2500, 4),
                (5000, 4),
                (10_000, 4),
                (30_000, 4)
            ],
            "{latency}"
        );
        assert_eq!(latency["p50_at_most_ms"], 500);
        assert_eq!(latency["p95_at_most_ms"], 500);
        // 中国建设银行 (CCB) keeps answering at once.
        let ccb = issuers.iter().find(|i| i["issuer_code"] == "CCB").unwrap();
        assert_eq!(ccb["issuer_latency"]["samples"], 1);
        assert!(ccb["issuer_latency"]["max_ms"].as_i64().unwrap() < 260);
        // The refused prepaid card never reached its bank.
        let spa = issuers
            .iter()
            .find(|i| i["issuer_code"] == "SPABANK")
            .unwrap();
        assert_eq!(spa["issuer_latency"]["samples"], 0);
        assert!(issuers.iter().any(|i| i["issuer_code"] == "unknown"));
        let by_key = |list: &Value, key: &str| {
            list.as_array()
                .unwrap()
                .iter()
                .find(|g| g["key"] == key)
                .map(|g| g["attempts"].clone())
        };
        assert_eq!(by_key(&window["brands"], "unionpay"), Some(json!(5)));
        assert_eq!(by_key(&window["brands"], "visa"), Some(json!(1)));
        assert_eq!(by_key(&window["card_types"], "debit"), Some(json!(5)));
        assert_eq!(by_key(&window["card_types"], "prepaid"), Some(json!(1)));
    }
    let (status, body) = server.get("/v1/support/health/binding", &user.token).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");

    let text = metrics(&server).await;
    for line in [
        "# TYPE tessera_binding_attempts gauge",
        "tessera_binding_attempts{window=\"5m\",issuer=\"ABC\",result=\"succeeded\"} 3",
        "tessera_binding_attempts{window=\"24h\",card_type=\"prepaid\",result=\"failed\"} 1",
        "tessera_binding_failures{window=\"1h\",issuer=\"ABC\",cause=\"card_not_supported\",code=\"card_declined\"} 1",
        "tessera_binding_success_ratio{window=\"5m\",issuer=\"ABC\"} 0.75",
        "tessera_issuer_latency_within_ms{window=\"5m\",issuer=\"ABC\",le=\"250\"} 0",
        "tessera_issuer_latency_within_ms{window=\"5m\",issuer=\"ABC\",le=\"500\"} 4",
        "tessera_issuer_latency_within_ms{window=\"5m\",issuer=\"ABC\",le=\"30000\"} 4",
    ] {
        assert!(text.contains(line), "{line} not in\n{text}");
    }
    // Every sample line is `name{labels} number` or `name number`.
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (series, value) = line.rsplit_once(' ').unwrap();
        let name = series.split_once('{').map_or(series, |(name, _)| name);
        assert!(
            name.starts_with("tessera_")
                && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                && (series == name || series.ends_with('}')),
            "{line}"
        );
        assert!(value.parse::<f64>().is_ok(), "{line}");
    }
    for number in &numbers {
        assert!(!text.contains(number.as_str()));
        assert!(!health.to_string().contains(number.as_str()));
    }
}

async fn a_failing_issuer_is_flagged_its_breaker_answers_at_once_and_recovers(backend: Backend) {
    let server = TestServer::start_on(backend, watched).await;
    let user = server.user().await;
    // A healthy bank first: nothing flagged.
    let (status, _, _) = bind_from(&server, &user, &card(Outcome::Approve), xiaomi("wifi")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(incidents(&server, "").await.is_empty());

    // 中国农业银行 (ABC) stops answering.
    tune(&server, "ABC", 0, 1.0).await;
    for _ in 0..3 {
        let (status, body, _) =
            bind_from(&server, &user, &card(Outcome::Approve), xiaomi("wifi")).await;
        assert_error(
            status,
            &body,
            StatusCode::SERVICE_UNAVAILABLE,
            "issuer_unavailable",
        );
    }
    let open = incidents(&server, "").await;
    assert_eq!(open.len(), 1, "{open:?}");
    let incident = &open[0];
    assert_eq!(incident["issuer"]["code"], "ABC");
    assert_eq!(incident["kind"], "failure_rate");
    assert_eq!(incident["status"], "open");
    assert_eq!(incident["top_code"], "issuer_unavailable");
    assert_eq!(
        incident["message"],
        "Agricultural Bank of China cards: 75% of bindings failed in the last 10 minutes, mostly issuer_unavailable (no baseline yet)"
    );
    assert_eq!(
        incident["messages"]["zh"],
        "中国农业银行的卡：最近10分钟内75%的绑卡失败，主要是issuer_unavailable（暂无基线）"
    );
    assert_eq!(incident["breaker"]["state"], "open");
    let text = metrics(&server).await;
    assert!(text.contains("tessera_issuer_incident_open{issuer=\"ABC\",kind=\"failure_rate\"} 1"));
    assert!(text.contains("tessera_issuer_breaker_open{issuer=\"ABC\",state=\"open\"} 1"));

    // While open, a binding for its cards is answered at once, without
    // asking the bank (which would take 3 s now), with an honest Retry-After:
    // the time left of the breaker's cool-down.
    tune(&server, "ABC", 3000, 1.0).await;
    let started = Instant::now();
    let (status, headers, body) = server
        .call(
            Method::POST,
            "/v1/cards",
            Some(&user.token),
            Some(&json!({"number": card(Outcome::Approve), "holder_name": "张三", "device": xiaomi("wifi")})),
            &[("accept-language", "en")],
        )
        .await;
    let error = assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "issuer_unavailable",
    );
    assert!(started.elapsed() < Duration::from_millis(2000));
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((29..=30).contains(&retry_after), "{retry_after}");
    assert_eq!(error["retry_after"], retry_after);
    let held = error["trace_id"].as_str().unwrap().to_owned();
    assert_eq!(
        attempt(&server, &held).await["issuer_response"],
        "circuit_open"
    );
    // Another bank is not affected: 436742 is 中国建设银行.
    let ccb = sandbox::card_number("436742", 19, Outcome::Approve).unwrap();
    assert_eq!(server.bind(&user, &ccb).await.0, StatusCode::CREATED);

    // Support's diagnosis of the held attempt names the incident.
    let diagnosis = diagnose(&server, &format!("trace_id={held}"), "en").await;
    assert_eq!(diagnosis["verdict"]["kind"], "network_or_issuer");
    assert!(
        diagnosis["story"].as_str().unwrap().contains(
            "the attempt was held back because Agricultural Bank of China was failing for everyone"
        ),
        "{}",
        diagnosis["story"]
    );
    assert!(
        diagnosis["next_step"]["person"]
            .as_str()
            .unwrap()
            .contains("not answering anyone right now")
    );
    assert!(
        diagnosis["next_step"]["support"]
            .as_str()
            .unwrap()
            .contains("open incident")
    );
    assert_eq!(diagnosis["incidents"][0]["issuer"]["code"], "ABC");
    let (_, health) = server
        .get("/v1/support/health/binding", &server.support_key)
        .await;
    let abc = health["windows"][0]["issuers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["issuer_code"] == "ABC")
        .unwrap()
        .clone();
    assert_eq!(abc["held_back_by_breaker"], 1);
    assert_ne!(abc["breaker"], "closed");

    // After the cool-down one binding probes the bank; it still fails, so
    // the breaker stays open for another cool-down.
    tune(&server, "ABC", 0, 1.0).await;
    server.advance(COOL_DOWN);
    assert_eq!(
        incidents(&server, "").await[0]["breaker"]["state"],
        "half_open"
    );
    let retry_before = incidents(&server, "").await[0]["breaker"]["retry_at"].clone();
    let (status, body, probe) =
        bind_from(&server, &user, &card(Outcome::Approve), xiaomi("wifi")).await;
    assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "issuer_unavailable",
    );
    assert_eq!(
        attempt(&server, &probe).await["issuer_response"],
        "unavailable"
    );
    let open = incidents(&server, "").await;
    assert_eq!(open.len(), 1);
    assert_ne!(open[0]["breaker"]["retry_at"], retry_before);

    // The bank recovers: the next probe binds, closes the breaker and
    // resolves the incident.
    tune(&server, "ABC", 0, 0.0).await;
    assert_eq!(incidents(&server, "").await[0]["breaker"]["state"], "open");
    server.advance(COOL_DOWN);
    assert_eq!(
        incidents(&server, "").await[0]["breaker"]["state"],
        "half_open"
    );
    let (status, body, _) =
        bind_from(&server, &user, &card(Outcome::Approve), xiaomi("wifi")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(incidents(&server, "").await.is_empty());
    let all = incidents(&server, "?status=all&issuer=abc").await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["status"], "resolved");
    assert_eq!(all[0]["breaker"]["state"], "closed");
    assert!(all[0]["resolved_at"].is_string());
    // Old failures do not raise it again: only what came after counts.
    let (status, _, _) = bind_from(&server, &user, &card(Outcome::Approve), xiaomi("wifi")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(incidents(&server, "").await.is_empty());
    assert!(
        !metrics(&server)
            .await
            .contains("tessera_issuer_incident_open{")
    );
    let (status, body) = server
        .get("/v1/support/incidents?status=maybe", &server.support_key)
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
}

async fn a_slow_issuer_is_flagged_without_a_breaker_and_clears_when_fast_again(backend: Backend) {
    let server = TestServer::start_on(backend, |config| {
        watched(config);
        config.health.anomaly.latency_floor_ms = 250;
    })
    .await;
    let user = server.user().await;
    tune(&server, "ABC", 400, 0.0).await;
    for _ in 0..4 {
        let (status, _, _) =
            bind_from(&server, &user, &card(Outcome::Approve), xiaomi("wifi")).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let open = incidents(&server, "").await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["kind"], "latency");
    assert_eq!(open[0]["breaker"]["state"], "closed");
    assert!(open[0]["mean_latency_ms"].as_i64().unwrap() >= 400);
    let message = open[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Agricultural Bank of China cards: bindings took ")
            && message.ends_with("s on average in the last 10 minutes (no baseline yet)"),
        "{message}"
    );
    // Slow is not down: bindings still reach the bank.
    let (status, _, _) = bind_from(&server, &user, &card(Outcome::Approve), xiaomi("wifi")).await;
    assert_eq!(status, StatusCode::CREATED);

    tune(&server, "ABC", 0, 0.0).await;
    for _ in 0..6 {
        bind_from(&server, &user, &card(Outcome::Approve), xiaomi("wifi")).await;
    }
    let still = incidents(&server, "").await;
    assert!(still.is_empty(), "{still:?}");
    let all = incidents(&server, "?status=all").await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["status"], "resolved");
}

/// Declines are the bank working: six refusals in ten bindings open no
/// incident and trip no breaker. Only what the bank side failed counts,
/// and four silent answers after them do open one.
async fn declines_open_no_incident_silence_does(backend: Backend) {
    let server = TestServer::start_on(backend, watched).await;
    let user = server.user().await;
    let refusals = [
        Outcome::DoNotHonor,
        Outcome::LostCard,
        Outcome::StolenCard,
        Outcome::IncorrectCvc,
        Outcome::PhoneMismatch,
        Outcome::NotParticipating,
    ];
    for outcome in refusals.into_iter().chain([Outcome::Approve; 4]) {
        let (status, body, _) = bind_from(&server, &user, &card(outcome), xiaomi("wifi")).await;
        assert_eq!(
            status.is_success(),
            outcome == Outcome::Approve,
            "{outcome:?}: {body}"
        );
    }
    let open = incidents(&server, "").await;
    assert!(open.is_empty(), "declines opened {open:?}");
    for _ in 0..4 {
        let (status, body, _) =
            bind_from(&server, &user, &card(Outcome::Unavailable), xiaomi("wifi")).await;
        assert_error(
            status,
            &body,
            StatusCode::SERVICE_UNAVAILABLE,
            "issuer_unavailable",
        );
    }
    let open = incidents(&server, "").await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["top_code"], "issuer_unavailable");
    // Three or four silent of thirteen or fourteen (the incident may be
    // judged before the last): with the declines counted it would be 60%
    // or more.
    let message = open[0]["message"].as_str().unwrap();
    let percent: u32 = message
        .split_once("% of bindings failed")
        .and_then(|(before, _)| before.rsplit_once(' '))
        .map(|(_, number)| number.parse().unwrap())
        .unwrap();
    assert!((20..=29).contains(&percent), "{message}");
}

/// `/metrics` serves the binding-health figures from a snapshot: a
/// binding after it does not show until the next refresh, and sixteen
/// scrapes at once all get it. This node's own counters are live: requests
/// by route pattern and status, their latency, and issuer calls by issuer
/// and outcome, and the database connections in use.
async fn metrics_serve_a_snapshot_and_count_requests_live(backend: Backend) {
    let server = TestServer::start_on(backend, |config| {
        watched(config);
        config.health.metrics_refresh_ms = 600_000;
    })
    .await;
    let user = server.user().await;
    let before = metrics(&server).await;
    let (status, _, _) = bind_from(&server, &user, &card(Outcome::Approve), xiaomi("wifi")).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _, _) =
        bind_from(&server, &user, &card(Outcome::DoNotHonor), xiaomi("wifi")).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);

    let scrapes: Vec<_> = (0..16)
        .map(|_| {
            let (client, base) = (server.client.clone(), server.base.clone());
            tokio::spawn(async move {
                let response = client.get(format!("{base}/metrics")).send().await.unwrap();
                assert_eq!(response.status(), StatusCode::OK);
                response.text().await.unwrap()
            })
        })
        .collect();
    let health_part = |text: &str| -> String {
        text.lines()
            .filter(|line| line.contains("tessera_binding_"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for scrape in scrapes {
        let text = scrape.await.unwrap();
        assert_eq!(
            health_part(&text),
            health_part(&before),
            "the snapshot moved"
        );
        for line in [
            "tessera_http_requests_total{method=\"POST\",route=\"/v1/cards\",status=\"201\"} 1",
            "tessera_http_requests_total{method=\"POST\",route=\"/v1/cards\",status=\"402\"} 1",
            "tessera_issuer_calls_total{issuer=\"ABC\",operation=\"verify_binding\",outcome=\"approved\"} 1",
            "tessera_issuer_calls_total{issuer=\"ABC\",operation=\"verify_binding\",outcome=\"declined:do_not_honor\"} 1",
            "tessera_http_request_duration_seconds_count{method=\"POST\",route=\"/v1/cards\"} 2",
        ] {
            assert!(text.contains(line), "{line} missing:\n{text}");
        }
        // Ids in paths never become labels.
        assert!(!text.contains("route=\"/v1/cards/card_"), "{text}");
        // The database connections: only PostgreSQL's pool has a size.
        for line in [
            "tessera_db_connections{state=\"in_use\"} ",
            "tessera_db_connections{state=\"idle\"} ",
        ] {
            assert!(text.contains(line), "{line} missing:\n{text}");
        }
        assert_eq!(
            text.contains("\ntessera_db_connections_max "),
            backend == Backend::Postgres,
            "{text}"
        );
    }
    assert!(!health_part(&before).contains("issuer=\"ABC\""), "{before}");

    // Refreshed in the background, the figures catch up by themselves.
    let server = TestServer::start_on(backend, |config| {
        watched(config);
        config.health.metrics_refresh_ms = 100;
    })
    .await;
    let user = server.user().await;
    assert!(!metrics(&server).await.contains("issuer=\"ABC\""));
    let (status, _, _) = bind_from(&server, &user, &card(Outcome::Approve), xiaomi("wifi")).await;
    assert_eq!(status, StatusCode::CREATED);
    let waited = Instant::now();
    while !health_part(&metrics(&server).await).contains("issuer=\"ABC\"") {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "never refreshed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

on_both_backends!(
    binding_health_adds_up_by_issuer_brand_and_card_type_with_metrics,
    a_failing_issuer_is_flagged_its_breaker_answers_at_once_and_recovers,
    a_slow_issuer_is_flagged_without_a_breaker_and_clears_when_fast_again,
    declines_open_no_incident_silence_does,
    metrics_serve_a_snapshot_and_count_requests_live,
);
