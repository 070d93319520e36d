//! The service around binding: sign-up and sign-in, roles, maintenance, the
//! sandbox controls, API-level errors, OpenAPI, durability settings.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::json;
use tessera_server::issuer::sandbox::Outcome;

use crate::{Backend, TestServer, assert_error, card, id_number, phone};

async fn sign_up_validates_every_field_and_stores_no_secret(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let phone = phone();
    let code = server.sign_up_code(&phone).await;
    let good = json!({"phone": phone, "real_name": "张三", "id_number": id_number(),
        "password": "letters-and-1", "sms_code": code});
    let mut cases = Vec::new();
    for (field, value, code) in [
        ("phone", json!("12345"), "invalid_phone"),
        (
            "id_number",
            json!("110105194912310021"),
            "invalid_id_number",
        ),
        ("id_number", json!("110105491231002"), "invalid_id_number"),
        ("password", json!("short1"), "weak_password"),
        ("password", json!("onlyletters"), "weak_password"),
    ] {
        let mut body = good.clone();
        body[field] = value;
        cases.push((body, code, field));
    }
    for (body, code, field) in cases {
        let (status, _, response) = server
            .call(Method::POST, "/v1/users", None, Some(&body), &[])
            .await;
        let error = assert_error(status, &response, StatusCode::UNPROCESSABLE_ENTITY, code);
        assert_eq!(error["param"], field);
    }
    let phone = good["phone"].as_str().unwrap();
    let store = &server.state().store;
    assert!(
        store.user_by_phone(phone).await.unwrap().is_none(),
        "a refused sign-up stored a user"
    );
    let (status, _, created) = server
        .call(Method::POST, "/v1/users", None, Some(&good), &[])
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["phone"],
        format!("{}****{}", &phone[..3], &phone[7..])
    );
    // What is stored: the ID number as a keyed hash and its last 4
    // characters, the password as a peppered Argon2id hash; neither in
    // clear, in the answer or in any stored field.
    let (id_number, password) = (
        good["id_number"].as_str().unwrap(),
        good["password"].as_str().unwrap(),
    );
    let stored = store.user_by_phone(phone).await.unwrap().unwrap();
    assert_eq!(stored.id, created["id"].as_str().unwrap());
    assert_eq!(stored.id_number_last4, id_number[14..]);
    assert_eq!(
        stored.id_number_hash,
        server.state().keys.id_number_hash(id_number).as_str()
    );
    assert!(
        stored.password_hash.starts_with("$argon2id$v=19$"),
        "{}",
        stored.password_hash
    );
    assert!(tessera_server::passwords::verify_password(
        &server.state().keys,
        password,
        &stored.password_hash
    ));
    let shown = format!("{stored:?} {created}");
    assert!(!shown.contains(id_number) && !shown.contains(password));
    // The code is used up; a new one proves the phone, which is taken.
    let (status, _, again) = server
        .call(Method::POST, "/v1/users", None, Some(&good), &[])
        .await;
    assert_error(
        status,
        &again,
        StatusCode::UNPROCESSABLE_ENTITY,
        "sms_code_expired",
    );
    let mut again = good.clone();
    again["sms_code"] = json!(server.sign_up_code(phone).await);
    let (status, _, again) = server
        .call(Method::POST, "/v1/users", None, Some(&again), &[])
        .await;
    assert_error(status, &again, StatusCode::CONFLICT, "phone_taken");
}

async fn sign_in_failures_say_nothing_and_lock_the_phone(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let wrong_password = json!({"phone": user.phone, "password": "not-the-password-1"});
    let unknown_phone = json!({"phone": phone(), "password": user.password});
    let (s1, _, b1) = server
        .call(
            Method::POST,
            "/v1/sessions",
            None,
            Some(&wrong_password),
            &[],
        )
        .await;
    let (s2, _, b2) = server
        .call(
            Method::POST,
            "/v1/sessions",
            None,
            Some(&unknown_phone),
            &[],
        )
        .await;
    let e1 = assert_error(s1, &b1, StatusCode::UNAUTHORIZED, "invalid_credentials");
    let e2 = assert_error(s2, &b2, StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(e1["message"], "手机号或密码不正确");
    assert_eq!(
        e1["message"], e2["message"],
        "no hint of which part was wrong"
    );
    assert!(e1.get("param").is_none());
    for _ in 0..4 {
        server
            .call(
                Method::POST,
                "/v1/sessions",
                None,
                Some(&wrong_password),
                &[],
            )
            .await;
    }
    // Five failures: even the right password waits now, until the time
    // the answer gives.
    let right = json!({"phone": user.phone, "password": user.password});
    let (status, headers, body) = server
        .call(
            Method::POST,
            "/v1/sessions",
            None,
            Some(&right),
            &[("accept-language", "en")],
        )
        .await;
    let error = assert_error(
        status,
        &body,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
    );
    // The window (900 s) started at the first failure, a moment ago.
    let retry: i64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((800..=900).contains(&retry), "{retry}");
    assert_eq!(error["retry_after"], retry);
    let until =
        chrono::DateTime::parse_from_rfc3339(error["locked_until"].as_str().unwrap()).unwrap();
    let left = (until.to_utc() - server.now()).num_seconds();
    assert!((retry - 2..=retry).contains(&left), "{left} {retry}");
    // How long the lock lasts, from the seconds it has left.
    assert_eq!(
        error["message"],
        format!(
            "Too many failed sign-ins: this phone number is locked for now. It unlocks in {} minutes",
            (retry + 59) / 60
        )
    );
    // The window over, the right password signs in.
    server.advance(std::time::Duration::from_secs(901));
    let (status, _, body) = server
        .call(Method::POST, "/v1/sessions", None, Some(&right), &[])
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn credentials_and_roles_are_enforced(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let (status, _, body) = server.call(Method::GET, "/v1/cards", None, None, &[]).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    let (status, body) = server.get("/v1/cards", "tss_not-a-session").await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    let (status, body) = server.get("/v1/cards", "tsk_support_forged").await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    // A support key reads attempts but cannot bind, unbind or switch maintenance.
    let (status, body) = server
        .post(
            "/v1/cards",
            &server.support_key,
            json!({"number": card(Outcome::Approve), "holder_name": "张三"}),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = server.delete("/v1/cards/card_x", &server.support_key).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, _, body) = server
        .call(
            Method::PUT,
            "/v1/admin/maintenance",
            Some(&server.support_key),
            Some(&json!({"until": "2099-01-01T00:00:00Z"})),
            &[],
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    // A user cannot read support data.
    let (status, body) = server.get("/v1/support/attempts", &user.token).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, _) = server
        .get("/v1/support/attempts", &server.support_key)
        .await;
    assert_eq!(status, StatusCode::OK);
    // Nor another person's sandbox phone.
    let (status, body) = server
        .get(&format!("/v1/sandbox/sms?phone={}", phone()), &user.token)
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
}

async fn maintenance_pauses_binding_but_not_reading(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let (_, bound) = server.bind(&user, &card(Outcome::Approve)).await;
    let until = (server.now() + chrono::Duration::minutes(30)).to_rfc3339();
    let (status, _, body) = server
        .call(
            Method::PUT,
            "/v1/admin/maintenance",
            Some(&server.operator_key),
            Some(&json!({"until": until, "message_zh": "银行系统升级，请稍后再试", "message_en": "The bank is upgrading"})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, headers, body) = server
        .call(
            Method::POST,
            "/v1/cards",
            Some(&user.token),
            Some(&json!({"number": card(Outcome::Approve), "holder_name": "张三"})),
            &[],
        )
        .await;
    let error = assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "maintenance",
    );
    assert_eq!(error["message"], "银行系统升级，请稍后再试");
    assert_eq!(error["cause"], "system");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1700..=1800).contains(&retry), "{retry}");
    // Bad input is still reported first, as the order says.
    let (status, body) = server
        .post(
            "/v1/cards",
            &user.token,
            json!({"number": "4242424242424241", "holder_name": "张三"}),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "incorrect_number",
    );
    assert_eq!(server.cards(&user).await.len(), 1);
    let (status, _) = server
        .get(
            &format!("/v1/cards/{}", bound["id"].as_str().unwrap()),
            &user.token,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = server
        .delete("/v1/admin/maintenance", &server.operator_key)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["active"], false);
    assert_eq!(
        server.bind(&user, &card(Outcome::Approve)).await.0,
        StatusCode::CREATED
    );
    // A window in the past is refused and changes nothing.
    let (status, _, body) = server
        .call(
            Method::PUT,
            "/v1/admin/maintenance",
            Some(&server.operator_key),
            Some(&json!({"until": "2001-01-01T00:00:00Z"})),
            &[],
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    let (_, body) = server
        .get("/v1/admin/maintenance", &server.operator_key)
        .await;
    assert_eq!(body["active"], false);
}

async fn the_sandbox_issuer_failure_rate_is_changed_at_run_time(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let (status, _, body) = server
        .call(
            Method::PUT,
            "/v1/sandbox/issuer",
            Some(&server.operator_key),
            Some(&json!({"issuer_code": "ABC", "latency_ms": 0, "failure_rate": 1.0})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = server.bind(&user, &card(Outcome::Approve)).await;
    assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "issuer_unavailable",
    );
    // Another issuer is not affected: 436742 is 中国建设银行.
    let ccb = tessera_server::issuer::sandbox::card_number("436742", 19, Outcome::Approve).unwrap();
    assert_eq!(server.bind(&user, &ccb).await.0, StatusCode::CREATED);
    let (status, _, body) = server
        .call(
            Method::PUT,
            "/v1/sandbox/issuer",
            Some(&server.operator_key),
            Some(&json!({"latency_ms": 0, "failure_rate": 1.5})),
            &[],
        )
        .await;
    let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(error["param"], "failure_rate");
    server
        .call(
            Method::PUT,
            "/v1/sandbox/issuer",
            Some(&server.operator_key),
            Some(&json!({"latency_ms": 0, "failure_rate": 0.0})),
            &[],
        )
        .await;
    assert_eq!(
        server.bind(&user, &card(Outcome::Approve)).await.0,
        StatusCode::CREATED
    );
}

async fn api_level_errors_use_the_catalogue(backend: Backend) {
    let server = TestServer::start_on(backend, |config| config.max_body_bytes = 1024).await;
    let user = server.user().await;
    let (status, headers, body) = server
        .call(Method::GET, "/v1/nothing-here", None, None, &[])
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    assert!(headers.contains_key("x-request-id"));
    let (status, _, body) = server
        .call(Method::PATCH, "/v1/cards", Some(&user.token), None, &[])
        .await;
    assert_error(
        status,
        &body,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
    let huge = json!({"number": "4".repeat(4000), "holder_name": "张三"});
    let (status, _, body) = server
        .call(
            Method::POST,
            "/v1/cards",
            Some(&user.token),
            Some(&huge),
            &[],
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
    let (status, body) = server.get("/v1/cards/card_unknown", &user.token).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

async fn every_route_is_in_the_openapi_document_and_answers(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let (status, _, spec) = server
        .call(Method::GET, "/openapi.json", None, None, &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut documented = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "delete", "patch"] {
            if item.get(method).is_some() {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    // What the router serves, by probing each documented operation. A path
    // the router knows answers another method (PATCH: no operation uses
    // it) with 405; only an unrouted one reaches the fallback's 404, the
    // same body a handler gives for an unknown id. So every documented path,
    // parameters filled in, must answer PATCH with 405...
    let unrouted = "/v1/cards/card_probe/nowhere";
    let (status, _, body) = server.call(Method::PATCH, unrouted, None, None, &[]).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    for (method, path) in &documented {
        let concrete = path
            .replace("{id}", "card_probe")
            .replace("{ref}", "tok_probe")
            .replace("{first6}", "622848");
        let (status, _, body) = server.call(Method::PATCH, &concrete, None, None, &[]).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (StatusCode::METHOD_NOT_ALLOWED, &json!("method_not_allowed")),
            "{path} is documented but not served: {body}"
        );
        // ...and its documented method must reach the handler: a secured
        // operation asks for credentials before anything else (the
        // fallback would not), an open one answers without them.
        let operation = &spec["paths"][path][method.to_lowercase()];
        let secured = operation["security"]
            .as_array()
            .is_some_and(|s| !s.is_empty());
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let (status, _, body) = server
            .call(method.clone(), &concrete, None, None, &[])
            .await;
        if secured {
            assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
        } else {
            assert!(
                ![StatusCode::NOT_FOUND, StatusCode::METHOD_NOT_ALLOWED].contains(&status),
                "{method} {path}: {status} {body}"
            );
        }
    }
    // And the list the router was built from, checked the other way round.
    let expected: BTreeSet<(String, String)> = [
        ("POST", "/v1/users"),
        ("POST", "/v1/sessions"),
        ("GET", "/v1/sessions"),
        ("DELETE", "/v1/sessions"),
        ("DELETE", "/v1/sessions/current"),
        ("POST", "/v1/sms-codes"),
        ("POST", "/v1/password-resets"),
        ("GET", "/v1/me"),
        ("DELETE", "/v1/me"),
        ("GET", "/v1/me/payment-password"),
        ("PUT", "/v1/me/payment-password"),
        ("POST", "/v1/me/verifications"),
        ("GET", "/v1/me/payment-limits"),
        ("PUT", "/v1/me/payment-limits"),
        ("GET", "/v1/me/freeze"),
        ("POST", "/v1/me/freeze"),
        ("DELETE", "/v1/me/freeze"),
        ("POST", "/v1/me/passkeys/registrations"),
        ("POST", "/v1/me/passkeys"),
        ("GET", "/v1/me/passkeys"),
        ("DELETE", "/v1/me/passkeys/{id}"),
        ("POST", "/v1/me/passkeys/assertions"),
        ("POST", "/v1/cards"),
        ("GET", "/v1/cards"),
        ("GET", "/v1/cards/{id}"),
        ("DELETE", "/v1/cards/{id}"),
        ("POST", "/v1/cards/{id}/verify"),
        ("GET", "/v1/bins/{first6}"),
        ("POST", "/v1/cards/{id}/otp"),
        ("POST", "/v1/cards/{id}/default"),
        ("POST", "/v1/tokens/{ref}/keys"),
        ("POST", "/v1/tokens/{ref}/cryptograms"),
        ("POST", "/v1/tokens/{ref}/suspend"),
        ("POST", "/v1/tokens/{ref}/resume"),
        ("DELETE", "/v1/tokens/{ref}"),
        ("POST", "/v1/payments"),
        ("GET", "/v1/payments"),
        ("GET", "/v1/payments/{id}"),
        ("POST", "/v1/payments/{id}/refunds"),
        ("POST", "/v1/payments/{id}/report"),
        ("POST", "/v1/fees/quote"),
        ("POST", "/v1/transfers"),
        ("GET", "/v1/transfers"),
        ("GET", "/v1/transfers/{id}"),
        ("GET", "/v1/transactions"),
        ("GET", "/v1/support/users/{id}/transactions"),
        ("GET", "/v1/support/users/{id}/timeline"),
        ("POST", "/v1/issuer/events"),
        ("PUT", "/v1/admin/maintenance"),
        ("DELETE", "/v1/admin/maintenance"),
        ("GET", "/v1/admin/maintenance"),
        ("GET", "/v1/admin/keys"),
        ("POST", "/v1/admin/keys"),
        ("DELETE", "/v1/admin/keys/{id}"),
        ("POST", "/v1/admin/keys/rotate"),
        ("GET", "/v1/admin/keys/rotation"),
        ("POST", "/v1/admin/keys/retire"),
        ("GET", "/v1/admin/audit-events"),
        ("POST", "/v1/admin/users/{id}/close"),
        ("GET", "/v1/cards/attempts"),
        ("GET", "/v1/support/attempts"),
        ("GET", "/v1/support/tokens/{ref}/events"),
        ("GET", "/v1/support/diagnose"),
        ("GET", "/v1/support/health/binding"),
        ("GET", "/v1/support/incidents"),
        ("GET", "/v1/support/tickets"),
        ("GET", "/v1/support/tickets/{id}"),
        ("POST", "/v1/support/tickets/{id}/replies"),
        ("GET", "/v1/support/users"),
        ("POST", "/v1/tickets"),
        ("GET", "/v1/tickets"),
        ("GET", "/v1/tickets/{id}"),
        ("POST", "/v1/tickets/{id}/replies"),
        ("GET", "/v1/sandbox/sms"),
        ("PUT", "/v1/sandbox/issuer"),
        ("GET", "/v1/sandbox/issuer"),
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/openapi.json"),
        ("GET", "/metrics"),
    ]
    .into_iter()
    .map(|(m, p)| (m.to_owned(), p.to_owned()))
    .collect();
    assert_eq!(documented, expected);
    // The help center's and the support console's pages are HTML for
    // people, not API: they are served but deliberately left out of the
    // document.
    for page in [
        "/help",
        "/help/errors",
        "/help/developers",
        "/help/errors/incorrect_number",
        "/support",
    ] {
        assert!(spec["paths"].get(page).is_none(), "{page} is documented");
        let (status, headers, _) = server.call(Method::GET, page, None, None, &[]).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{page}"
        );
    }
    assert!(spec["components"]["schemas"]["CardView"].is_object());
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
}

async fn health_and_readiness(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let (status, _, body) = server.call(Method::GET, "/healthz", None, None, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    let (status, _, body) = server.call(Method::GET, "/readyz", None, None, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["database"], backend.name());
}

/// An acknowledged write is on disk whichever pooled connection made it:
/// SQLite's synchronous=FULL on every connection, PostgreSQL's
/// synchronous_commit=on (set by the store on each connection it opens).
async fn every_pooled_connection_is_durable(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let state = &server.server.as_ref().unwrap().state;
    let levels = state.store.durability().await.unwrap();
    match backend {
        Backend::Sqlite => {
            assert!(levels.len() >= 2, "{levels:?}");
            assert!(levels.iter().all(|l| l == "synchronous=2"), "{levels:?}");
        }
        Backend::Postgres => assert_eq!(levels, ["synchronous_commit=on"]),
    }
}

async fn sixty_four_concurrent_clients_never_see_database_is_locked(backend: Backend) {
    // 24 bindings per person: the per-person limit is not what this tests.
    let server = std::sync::Arc::new(
        TestServer::start_on(backend, |c| {
            c.card_limit = 100;
            c.limits.user_bindings_per_day = 100;
        })
        .await,
    );
    let mut users = Vec::new();
    for _ in 0..8 {
        users.push(server.user().await);
    }
    let mut tasks = Vec::new();
    for i in 0..64 {
        let server = server.clone();
        let user = users[i % users.len()].clone();
        tasks.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            for _ in 0..3 {
                let (status, body) = server.bind(&user, &card(Outcome::Approve)).await;
                answers.push((status, body));
                let (status, body) = server.get("/v1/cards", &user.token).await;
                answers.push((status, body));
            }
            answers
        }));
    }
    let mut bound = 0;
    for task in tasks {
        for (status, body) in task.await.unwrap() {
            assert!(status.is_success(), "{status}: {body}");
            if body.get("par").is_some() {
                bound += 1;
            }
        }
    }
    assert_eq!(bound, 192);
    let total: usize = {
        let mut total = 0;
        for user in &users {
            total += server.cards(user).await.len();
        }
        total
    };
    assert_eq!(total, 192);
}

on_both_backends!(
    sign_up_validates_every_field_and_stores_no_secret,
    sign_in_failures_say_nothing_and_lock_the_phone,
    credentials_and_roles_are_enforced,
    maintenance_pauses_binding_but_not_reading,
    the_sandbox_issuer_failure_rate_is_changed_at_run_time,
    api_level_errors_use_the_catalogue,
    every_route_is_in_the_openapi_document_and_answers,
    health_and_readiness,
    every_pooled_connection_is_durable,
    sixty_four_concurrent_clients_never_see_database_is_locked,
);
