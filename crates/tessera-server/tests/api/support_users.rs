//! The support desk over HTTP: a person found by phone, user id, the ID
//! number's last four with the name, or a card's first six and last four,
//! and only that person, masked; every support and admin query read
//! strictly (an unknown parameter or a value not understood is 400 naming
//! it, with a message about it); operators' keys made over HTTP for every
//! role but operator; and reads of a person's data audited and listed.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_server::issuer::sandbox::Outcome;
use tessera_server::test_support::IssuerKey;

use crate::{Backend, TestServer, User, assert_error, card};

/// Binds an approved card whose last four differ from `other`'s, for
/// `user`; returns the number.
async fn bind_card(server: &TestServer, user: &User, other: Option<&str>) -> String {
    let number = loop {
        let number = card(Outcome::Approve);
        if other.is_none_or(|o| o[o.len() - 4..] != number[number.len() - 4..]) {
            break number;
        }
    };
    let (status, body) = server.bind(user, &number).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    number
}

async fn search(server: &TestServer, key: &str, query: &str) -> (StatusCode, Value) {
    server.get(&format!("/v1/support/users?{query}"), key).await
}

/// The user ids a search answered, in order.
fn found(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|u| u["user_id"].as_str().unwrap().to_owned())
        .collect()
}

/// No digits of a phone, ID number or card number beyond what masking
/// shows.
fn assert_masked(body: &Value, user: &User, number: &str) {
    let text = body.to_string();
    for secret in [user.phone.as_str(), user.id_number.as_str(), number] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert!(!text.contains(&user.id_number[..14]), "{text}");
    assert!(!text.contains(&number[6..15]), "{text}");
    assert!(!text.contains(&user.real_name), "{text}");
}

async fn a_phone_finds_its_person_and_nowhere_else_is_ignored(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let (wanted, other) = (server.user().await, server.user().await);
    let number = bind_card(&server, &wanted, None).await;
    bind_card(&server, &other, Some(&number)).await;

    // Not a parameter of the attempts: refused naming it, never ignored.
    let (status, body) = server
        .get(
            &format!("/v1/support/attempts?phone={}", wanted.phone),
            &server.support_key,
        )
        .await;
    let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(error["param"], "phone", "{body}");
    assert!(
        !error["message"].as_str().unwrap().contains("JSON"),
        "{body}"
    );
    assert!(
        !error["remedy"].as_str().unwrap().contains("JSON"),
        "{body}"
    );
    assert!(!body.to_string().contains(&wanted.phone), "{body}");

    // The support desk finds the person, masked.
    let (status, body) = search(
        &server,
        &server.support_key,
        &format!("phone={}", wanted.phone),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(found(&body), [wanted.id.as_str()]);
    let person = &body["data"][0];
    let phone = &wanted.phone;
    assert_eq!(
        person["phone"],
        format!("{}****{}", &phone[..3], &phone[7..])
    );
    assert_eq!(person["name"], "*三");
    assert_eq!(
        person["id_number"],
        format!("**************{}", &wanted.id_number[14..])
    );
    assert_eq!(person["frozen"], false);
    assert_eq!(person["live_cards"], 1);
    let cards = person["cards"].as_array().unwrap();
    assert_eq!(cards.len(), 1, "{body}");
    assert_eq!(cards[0]["first6"], &number[..6]);
    assert_eq!(cards[0]["last4"], &number[number.len() - 4..]);
    assert_eq!(cards[0]["status"], "active");
    assert_eq!(cards[0]["issuer_code"], "ABC");
    assert!(person["created_at"].is_string());
    assert_masked(&body, &wanted, &number);
    // An operator key reads what support reads; a person's session cannot.
    let (status, _) = search(
        &server,
        &server.operator_key,
        &format!("phone={}", wanted.phone),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = search(&server, &wanted.token, &format!("phone={}", other.phone)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
}

async fn each_way_of_searching_finds_only_its_person(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    // Two people of one name: the ID number's last four tells them apart.
    let (wanted, namesake) = (server.user().await, server.user().await);
    let number = bind_card(&server, &wanted, None).await;
    let other_number = bind_card(&server, &namesake, Some(&number)).await;
    let frozen_now = server.post("/v1/me/freeze", &wanted.token, json!({})).await;
    assert_eq!(frozen_now.0, StatusCode::OK, "{}", frozen_now.1);
    let name = urlencoding(&wanted.real_name);
    let last4 = &wanted.id_number[14..];
    for query in [
        format!("phone={}", wanted.phone),
        format!("user_id={}", wanted.id),
        format!("id_last4={}&name={name}", last4.to_ascii_lowercase()),
        format!("card_first6={}&card_last4={}", &number[..6], &number[15..]),
    ] {
        let (status, body) = search(&server, &server.support_key, &query).await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        assert_eq!(found(&body), [wanted.id.as_str()], "{query}");
        assert_eq!(body["data"][0]["frozen"], true, "{query}");
        assert_masked(&body, &wanted, &number);
        assert!(!body.to_string().contains(&other_number[6..]), "{query}");
    }
    // And the namesake by their own.
    let (_, body) = search(
        &server,
        &server.support_key,
        &format!("id_last4={}&name={name}", &namesake.id_number[14..]),
    )
    .await;
    if namesake.id_number[14..] != wanted.id_number[14..] {
        assert_eq!(found(&body), [namesake.id.as_str()]);
    }
    // Nobody: an empty list, not an error.
    for query in [
        "phone=13900000000".to_owned(),
        "user_id=usr_nobody".to_owned(),
        format!("card_first6=436742&card_last4={}", &number[15..]),
    ] {
        let (status, body) = search(&server, &server.support_key, &query).await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        assert!(found(&body).is_empty(), "{query}: {body}");
    }
}

/// Percent-encodes a name for a query string.
fn urlencoding(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

async fn missing_combined_and_bad_search_keys_name_what_is_wrong(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let before = audit_ids(&server).await;
    for (query, param) in [
        ("", "phone"),
        ("id_last4=002X", "name"),
        ("name=%E5%BC%A0%E4%B8%89", "id_last4"),
        ("card_first6=622848", "card_last4"),
        ("phone=13700137007&user_id=usr_x", "user_id"),
        ("id_last4=002X&name=x&card_last4=1234", "card_last4"),
        ("phone=137", "phone"),
        ("user_id=someone", "user_id"),
        ("card_first6=62&card_last4=1234", "card_first6"),
        ("card_first6=622848&card_last4=12a4", "card_last4"),
        ("id_last4=00Y2&name=%E5%BC%A0%E4%B8%89", "id_last4"),
        ("phone=13700137007&email=x", "email"),
    ] {
        for (lang, json_word) in [("zh-CN", "JSON"), ("en", "JSON")] {
            let (status, _, body) = server
                .call(
                    Method::GET,
                    &format!("/v1/support/users?{query}"),
                    Some(&server.support_key),
                    None,
                    &[("accept-language", lang)],
                )
                .await;
            let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
            assert_eq!(error["param"], param, "{query}: {body}");
            let message = error["message"].as_str().unwrap();
            assert!(message.contains(param), "{query} {lang}: {body}");
            assert!(!message.contains(json_word), "{query} {lang}: {body}");
        }
    }
    // Refused searches read nobody: nothing audited.
    assert_eq!(audit_ids(&server).await, before);
}

/// Every support and admin route that reads a query: an unknown parameter
/// and each value not understood answer 400 naming the parameter, with a
/// message about it in the caller's language.
async fn unknown_and_bad_parameters_are_refused_naming_them(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let records = format!("/v1/support/users/{}/transactions", user.id);
    let support = server.support_key.as_str();
    let operator = server.operator_key.as_str();
    let cases: Vec<(String, &str, &str, &str)> = vec![
        (
            "/v1/support/attempts?phone=13700137007".into(),
            "phone",
            support,
            "takes no parameter phone",
        ),
        (
            "/v1/support/attempts?since=3x".into(),
            "since",
            support,
            "RFC 3339",
        ),
        (
            "/v1/support/attempts?limit=abc".into(),
            "limit",
            support,
            "whole number",
        ),
        (
            "/v1/support/attempts?cursor=zz".into(),
            "cursor",
            support,
            "next_cursor",
        ),
        (
            "/v1/support/attempts?limit=1&limit=2".into(),
            "limit",
            support,
            "only once",
        ),
        // A page size out of range is refused, never quietly shortened.
        (
            "/v1/support/attempts?limit=500".into(),
            "limit",
            support,
            "1 to 200",
        ),
        (
            "/v1/support/attempts?limit=0".into(),
            "limit",
            support,
            "1 to 200",
        ),
        (
            "/v1/support/tickets?limit=201".into(),
            "limit",
            support,
            "1 to 200",
        ),
        (
            format!("/v1/support/users/{}/timeline?limit=201", user.id),
            "limit",
            support,
            "1 to 200",
        ),
        (
            "/v1/support/tickets?status=bogus".into(),
            "status",
            support,
            "open, waiting_for_person, resolved",
        ),
        (
            "/v1/support/tickets?limit=abc".into(),
            "limit",
            support,
            "whole number",
        ),
        (
            "/v1/support/tickets?user=x".into(),
            "user",
            support,
            "takes no parameter user",
        ),
        (
            "/v1/support/incidents?status=maybe".into(),
            "status",
            support,
            "open, all",
        ),
        (
            "/v1/support/incidents?since=3x".into(),
            "since",
            support,
            "RFC 3339",
        ),
        (
            "/v1/support/diagnose?user_id=usr_x&since=3x".into(),
            "since",
            support,
            "RFC 3339",
        ),
        (
            "/v1/support/diagnose?trace=x".into(),
            "trace",
            support,
            "takes no parameter trace",
        ),
        (
            "/v1/support/diagnose".into(),
            "trace_id",
            support,
            "trace_id",
        ),
        (
            "/v1/support/users?phone=13700137007&x=1".into(),
            "x",
            support,
            "takes no parameter x",
        ),
        (format!("{records}?limit=abc"), "limit", support, "1 to 100"),
        (
            format!("{records}?cursor=zz"),
            "cursor",
            support,
            "next_cursor",
        ),
        (
            format!("{records}?phone=1"),
            "phone",
            support,
            "takes no parameter phone",
        ),
        (
            "/v1/admin/audit-events?limit=abc".into(),
            "limit",
            operator,
            "whole number",
        ),
        (
            "/v1/admin/audit-events?limit=0".into(),
            "limit",
            operator,
            "1 to 200",
        ),
        (
            "/v1/admin/audit-events?cursor=zz".into(),
            "cursor",
            operator,
            "next_cursor",
        ),
        (
            "/v1/admin/audit-events?user_id=x".into(),
            "user_id",
            operator,
            "takes no parameter user_id",
        ),
    ];
    for (path, param, key, says) in &cases {
        let (status, _, body) = server
            .call(
                Method::GET,
                path,
                Some(key),
                None,
                &[("accept-language", "en")],
            )
            .await;
        let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
        assert_eq!(error["param"], *param, "{path}: {body}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(says), "{path}: {body}");
        assert!(
            !error["remedy"].as_str().unwrap().contains("JSON"),
            "{path}: {body}"
        );
        // And in Chinese, by default.
        let (_, body) = server.get(path, key).await;
        assert_eq!(body["error"]["param"], *param, "{path}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(param), "{path}: {body}");
        assert!(!message.contains("JSON"), "{path}: {body}");
    }
    let (_, body) = server.get("/v1/support/attempts?since=3x", support).await;
    assert_eq!(
        body["error"]["message"],
        "since 的值无法识别：请用 RFC 3339 时间或 30m、1h、7d 这样的时长"
    );
    // Every known parameter still works.
    for path in [
        "/v1/support/attempts?since=1h&limit=5".to_owned(),
        "/v1/support/tickets?status=open&limit=5".to_owned(),
        "/v1/support/incidents?status=all&since=24h".to_owned(),
        format!("{records}?limit=5&type=payment"),
    ] {
        let (status, body) = server.get(&path, support).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    let (status, body) = server.get("/v1/admin/audit-events?limit=5", operator).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// The person's own lists read their parameters as strictly as support's:
/// an unknown one or a page size out of range is refused, naming it.
async fn a_person_s_lists_read_their_parameters_strictly_too(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let cases = [
        ("/v1/payments?limit=101", "limit", "1 to 100"),
        ("/v1/payments?limit=0", "limit", "1 to 100"),
        ("/v1/payments?page=2", "page", "takes no parameter page"),
        ("/v1/transfers?limit=500", "limit", "1 to 100"),
        ("/v1/transactions?limit=101", "limit", "1 to 100"),
        ("/v1/cards?state=all", "state", "takes no parameter state"),
        (
            "/v1/cards/attempts?limit=5",
            "limit",
            "takes no parameter limit",
        ),
        ("/v1/cards/attempts?all=maybe", "all", "all"),
    ];
    for (path, param, says) in cases {
        let (status, _, body) = server
            .call(
                Method::GET,
                path,
                Some(&user.token),
                None,
                &[("accept-language", "en")],
            )
            .await;
        let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
        assert_eq!(error["param"], param, "{path}: {body}");
        assert!(
            error["message"].as_str().unwrap().contains(says),
            "{path}: {body}"
        );
    }
    for path in [
        "/v1/payments?limit=100",
        "/v1/transfers?limit=1",
        "/v1/cards?status=all",
        "/v1/cards/attempts?all=true&since=1h",
    ] {
        let (status, body) = server.get(path, &user.token).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
}

async fn make_key(server: &TestServer, bearer: &str, body: Value) -> (StatusCode, Value) {
    server.post("/v1/admin/keys", bearer, body).await
}

async fn operators_make_keys_for_every_role_but_operator(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let keys_before = server.get("/v1/admin/keys", &server.operator_key).await.1;

    // Refused, each naming what is wrong; nothing made.
    let refusals = [
        (
            json!({"role": "operator", "holder": "王芳"}),
            StatusCode::FORBIDDEN,
            "forbidden",
            "role",
        ),
        (
            json!({"role": "root", "holder": "王芳"}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "role",
        ),
        (
            json!({"role": "issuer", "holder": "王芳"}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "issuers",
        ),
        (
            json!({"role": "issuer", "issuers": ["NOPE"], "holder": "王芳"}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "issuers",
        ),
        (
            json!({"role": "issuer", "issuers": ["ABC"], "merchants": ["M1"], "holder": "王芳"}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "merchants",
        ),
        (
            json!({"role": "merchant", "holder": "王芳"}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "merchants",
        ),
        (
            json!({"role": "merchant", "merchants": ["bad id"], "holder": "王芳"}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "merchants",
        ),
        (
            json!({"role": "support", "issuers": ["ABC"], "holder": "王芳"}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "issuers",
        ),
        (
            json!({"role": "support", "holder": " "}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "holder",
        ),
        (
            json!({"role": "support"}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "holder",
        ),
        (
            json!({"role": "support", "holder": "x", "admin": true}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "admin",
        ),
    ];
    for (body, status_wanted, code, param) in refusals {
        let (status, answer) = make_key(&server, &server.operator_key, body.clone()).await;
        let error = assert_error(status, &answer, status_wanted, code);
        assert_eq!(error["param"], param, "{body}: {answer}");
        assert!(!answer.to_string().contains("tsk_"), "{answer}");
    }
    let (_, answer) = make_key(
        &server,
        &server.operator_key,
        json!({"role": "operator", "holder": "x"}),
    )
    .await;
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tessera admin create-key"),
        "{answer}"
    );
    // Only operators make keys.
    let (status, answer) = make_key(
        &server,
        &server.support_key,
        json!({"role": "support", "holder": "x"}),
    )
    .await;
    assert_error(status, &answer, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(
        server.get("/v1/admin/keys", &server.operator_key).await.1,
        keys_before
    );

    // A support key: it reads what support reads, and no more.
    let (status, support) = make_key(
        &server,
        &server.operator_key,
        json!({"role": "support", "holder": "客服 王芳", "label": "夜班"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{support}");
    assert_eq!(support["holder"], "客服 王芳");
    assert_eq!(support["scope"], json!([]));
    let support_key = support["key"].as_str().unwrap();
    assert!(support_key.starts_with("tsk_support_"), "{support}");
    assert_eq!(
        server.get("/v1/support/tickets", support_key).await.0,
        StatusCode::OK
    );
    assert_eq!(
        server.get("/v1/admin/keys", support_key).await.0,
        StatusCode::FORBIDDEN
    );

    // A merchant key pays as its merchant: a payment it sends is read
    // (its body refused), not its key.
    let (status, merchant) = make_key(
        &server,
        &server.operator_key,
        json!({"role": "merchant", "merchants": ["SHOP-9"], "holder": "收银台"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{merchant}");
    assert_eq!(merchant["scope"], json!(["SHOP-9"]));
    let merchant_key = merchant["key"].as_str().unwrap();
    let (status, body) = server.post("/v1/payments", merchant_key, json!({})).await;
    assert!(
        status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
        "{status}: {body}"
    );
    assert_eq!(
        server.get("/v1/support/tickets", merchant_key).await.0,
        StatusCode::FORBIDDEN
    );

    // An issuer key, with its signing secret: its signed events are taken.
    let (status, issuer) = make_key(
        &server,
        &server.operator_key,
        json!({"role": "issuer", "issuers": ["abc"], "holder": "农行对接组"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{issuer}");
    assert_eq!(issuer["scope"], json!(["ABC"]));
    let issuer_key = IssuerKey {
        id: issuer["id"].as_str().unwrap().to_owned(),
        key: issuer["key"].as_str().unwrap().to_owned(),
        signing_secret: issuer["signing_secret"].as_str().unwrap().to_owned(),
    };
    let event = json!({"id": "evt-http-key", "type": "card.closed",
        "occurred_at": server.now().to_rfc3339(), "pan": card(Outcome::Approve)});
    let (status, body) = server.issuer_event(&issuer_key, &event, 0).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["outcome"], "no_card", "{body}");

    // Listed with their holders, never a secret.
    let (_, list) = server.get("/v1/admin/keys", &server.operator_key).await;
    let listed = |id: &Value| -> Value {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == *id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} not in {list}"))
    };
    assert_eq!(listed(&support["id"])["holder"], "客服 王芳");
    assert_eq!(listed(&support["id"])["label"], "夜班");
    assert_eq!(listed(&merchant["id"])["holder"], "收银台");
    assert_eq!(listed(&issuer["id"])["holder"], "农行对接组");
    for secret in [
        support_key,
        merchant_key,
        &issuer_key.key,
        &issuer_key.signing_secret,
    ] {
        assert!(!list.to_string().contains(secret));
    }
}

/// The audit's reads of people's data, newest first, as ids.
async fn audit_ids(server: &TestServer) -> Vec<String> {
    let (status, body) = server
        .get("/v1/admin/audit-events?limit=200", &server.operator_key)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("support."))
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn support_reads_of_a_person_are_audited_and_listed(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    bind_card(&server, &user, None).await;
    let (_, made) = make_key(
        &server,
        &server.operator_key,
        json!({"role": "support", "holder": "客服 王芳"}),
    )
    .await;
    let key = made["key"].as_str().unwrap().to_owned();
    let key_id = made["id"].as_str().unwrap().to_owned();
    assert!(audit_ids(&server).await.is_empty());

    // Three reads of the person, each with its trace id; and a search that
    // finds nobody.
    let mut traces = Vec::new();
    for path in [
        format!("/v1/support/users?phone={}", user.phone),
        format!("/v1/support/users/{}/transactions", user.id),
        format!("/v1/support/attempts?user_id={}", user.id),
        "/v1/support/users?phone=13900000000".to_owned(),
    ] {
        // Apart in time, so that the audit's order is theirs.
        server.advance(std::time::Duration::from_millis(5));
        let (status, headers, body) = server.call(Method::GET, &path, Some(&key), None, &[]).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        traces.push(headers["x-request-id"].to_str().unwrap().to_owned());
    }
    // Reads of no one person are not audited; refused reads neither.
    assert_eq!(
        server.get("/v1/support/attempts", &key).await.0,
        StatusCode::OK
    );
    assert_eq!(
        server.get("/v1/support/tickets", &key).await.0,
        StatusCode::OK
    );
    let (status, _) = server
        .get(
            &format!("/v1/support/attempts?user_id={}&since=3x", user.id),
            &key,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, page) = server
        .get("/v1/admin/audit-events?limit=3", &server.operator_key)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let (_, rest) = server
        .get(
            &format!(
                "/v1/admin/audit-events?limit=3&cursor={}",
                page["next_cursor"].as_str().unwrap()
            ),
            &server.operator_key,
        )
        .await;
    // The newest six, a page at a time: the four reads, then what came
    // before them (the key made, the sign-ins).
    let mut events: Vec<Value> = page["data"].as_array().unwrap().clone();
    events.extend(rest["data"].as_array().unwrap().iter().cloned());
    assert_eq!(events.len(), 6, "{rest}");
    assert!(
        events[4..]
            .iter()
            .all(|e| !e["action"].as_str().unwrap().starts_with("support.")),
        "{rest}"
    );
    events.truncate(4);
    events.reverse();
    let seen: Vec<(String, Value, String)> = events
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["user_id"].clone(),
                e["trace_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "support.users.search".to_owned(),
                json!(user.id),
                traces[0].clone()
            ),
            (
                "support.user.transactions".to_owned(),
                json!(user.id),
                traces[1].clone()
            ),
            (
                "support.user.attempts".to_owned(),
                json!(user.id),
                traces[2].clone()
            ),
            (
                "support.users.search".to_owned(),
                Value::Null,
                traces[3].clone()
            ),
        ]
    );
    for event in &events {
        assert_eq!(event["key_id"], key_id.as_str());
        assert_eq!(event["key_holder"], "客服 王芳");
        assert_eq!(event["role"], "support");
        assert!(event["at"].is_string() && event["id"].as_str().unwrap().starts_with("aud_"));
    }
    // Only operators list them.
    let (status, body) = server.get("/v1/admin/audit-events", &key).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
}

on_both_backends!(
    a_phone_finds_its_person_and_nowhere_else_is_ignored,
    each_way_of_searching_finds_only_its_person,
    missing_combined_and_bad_search_keys_name_what_is_wrong,
    unknown_and_bad_parameters_are_refused_naming_them,
    a_person_s_lists_read_their_parameters_strictly_too,
    operators_make_keys_for_every_role_but_operator,
    support_reads_of_a_person_are_audited_and_listed,
);
